# auradb — PGXS build.
#
# make                 build auradb.so (warnings are errors)
# make install         install into the server found by pg_config
# make installcheck    run pg_regress, isolation and TAP tests against it
#
# AURA_DEBUG=1 builds with auradb's own invariant checks (AURA_CHECK) on.

MODULE_big = auradb
EXTENSION = auradb
DATA = sql/auradb--0.1.sql
PGFILEDESC = "auradb - log-structured table and index access methods"

OBJS = \
	src/auradb.o \
	src/storage/aura_page.o \
	src/storage/aura_wal.o \
	src/storage/meta.o \
	src/storage/rowmap.o \
	src/storage/vlog.o \
	src/storage/blob.o \
	src/storage/pagefree.o \
	src/storage/cold.o \
	src/tableam/autocompact.o \
	src/tableam/chain.o \
	src/tableam/xmax.o \
	src/tableam/aura_handler.o \
	src/tableam/scan.o \
	src/tableam/dml.o \
	src/tableam/cold_load.o \
	src/tableam/ddl.o \
	src/tableam/index_build.o \
	src/tableam/vacuum.o \
	src/sql/aura_stats.o \
	src/sql/aura_inspect.o \
	src/sql/aura_check.o

REGRESS_TESTS = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/auradb--%.sql,$(wildcard sql/*.sql))))
ISOLATION_TESTS = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ifneq ($(REGRESS_TESTS),)
REGRESS = $(REGRESS_TESTS)
REGRESS_OPTS = --inputdir=. --load-extension=auradb
endif
ifneq ($(ISOLATION_TESTS),)
ISOLATION = $(ISOLATION_TESTS)
ISOLATION_OPTS = --inputdir=test --load-extension=auradb
endif
ifneq ($(wildcard test/t/*.pl),)
TAP_TESTS = 1
PROVE_TESTS = $(wildcard test/t/*.pl)
endif

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Werror
ifneq ($(filter-out 0,$(AURA_DEBUG)),)
PG_CPPFLAGS += -DAURA_DEBUG
endif
SHLIB_LINK = -llz4

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild everything when a header
# changes (struct layouts are shared between files).
$(OBJS): $(wildcard src/*.h src/*/*.h)
