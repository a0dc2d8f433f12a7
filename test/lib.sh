# shellcheck shell=bash
# test/lib.sh - shared helpers for auradb's test, demo and CI scripts.
#
# Source it from bash (it does not change shell options by itself):
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Environment knobs (all optional):
#   AURA_SKIP_APT=1        do not run apt-get (packages already installed)
#   AURA_SKIP_BUILD=1      do not build/install; use the auradb already installed
#   AURA_DEBUG=1           passed to make (default 1: AURA_CHECK invariants on;
#                          0 or empty builds without it)
#   AURA_TEST_USER=auradb  unprivileged OS user that owns clusters and test trees
#   AURA_TEST_PORT=54329   port of the scratch cluster (unix socket only)
#   AURA_KEEP_TMP=1        keep the scratch directory (cluster is still stopped)
#   PG_BIN=/usr/lib/postgresql/15/bin
#
# Everything a run creates lives in one directory, $AURA_TMP (mktemp -d):
#   $AURA_TMP/src      copy of the source tree, owned by the test user
#   $AURA_TMP/data     scratch cluster data directory
#   $AURA_TMP/sock     unix socket directory of the scratch cluster
#   $AURA_TMP/server.log
# aura_cleanup stops every postmaster whose data directory is below $AURA_TMP
# (the scratch cluster and nodes left behind by TAP tests) and removes it.

# Repository root: the parent of the directory holding this file.
AURA_ROOT="${AURA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_CONFIG="${PG_CONFIG:-$PG_BIN/pg_config}"
AURA_TEST_USER="${AURA_TEST_USER:-auradb}"
AURA_TEST_PORT="${AURA_TEST_PORT:-54329}"
AURA_TMP="${AURA_TMP:-}"
AURA_PGDATA="${AURA_PGDATA:-}"
export PG_BIN PG_CONFIG AURA_ROOT AURA_TEST_USER

# Debian packages needed to build and test auradb.
AURA_DEB_PACKAGES=(
	postgresql-15
	postgresql-server-dev-15
	liblz4-dev
	libipc-run-perl
	build-essential
	make
	gcc
	perl
	util-linux
	coreutils
	findutils
	tar
)

case ":$PATH:" in
	*":$PG_BIN:"*) ;;
	*) PATH="$PG_BIN:$PATH" ;;
esac
export PATH

log() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
err() { printf 'ERROR: %s\n' "$*" >&2; }

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		err "$(basename "$0") must run as root (try: sudo bash $0); it installs" \
			"packages and the extension and creates the user '$AURA_TEST_USER'."
		return 1
	fi
}

# install_deps: apt-get update + install of AURA_DEB_PACKAGES.
# Skipped with AURA_SKIP_APT=1.
install_deps() {
	if [ "${AURA_SKIP_APT:-0}" = 1 ]; then
		log "skipping package installation (AURA_SKIP_APT=1)"
		return 0
	fi
	log "installing Debian packages: ${AURA_DEB_PACKAGES[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update || { err "apt-get update failed"; return 1; }
	apt-get install -y --no-install-recommends --no-upgrade "${AURA_DEB_PACKAGES[@]}" ||
		{ err "apt-get install failed"; return 1; }
	if [ ! -x "$PG_CONFIG" ]; then
		err "$PG_CONFIG not found after installing packages"
		return 1
	fi
}

# run_as_user CMD...: run CMD as $AURA_TEST_USER from /, keeping the caller's
# environment (PATH is passed explicitly, runuser may reset it).
run_as_user() {
	(cd / && runuser -u "$AURA_TEST_USER" -- env "PATH=$PATH" "$@")
}

# ensure_test_user: create the unprivileged OS user if missing (idempotent).
ensure_test_user() {
	if id -u "$AURA_TEST_USER" >/dev/null 2>&1; then
		return 0
	fi
	log "creating unprivileged user '$AURA_TEST_USER'"
	useradd --system --create-home --home-dir "/var/lib/$AURA_TEST_USER" \
		--shell /bin/bash "$AURA_TEST_USER" ||
		{ err "could not create user $AURA_TEST_USER"; return 1; }
}

# make_scratch_dir: create $AURA_TMP (once per run), owned by the test user.
make_scratch_dir() {
	if [ -n "$AURA_TMP" ] && [ -d "$AURA_TMP" ]; then
		return 0
	fi
	AURA_TMP="$(mktemp -d "${TMPDIR:-/tmp}/auradb-test.XXXXXX")" || return 1
	chown "$AURA_TEST_USER": "$AURA_TMP" || return 1
	chmod 0755 "$AURA_TMP"
	export AURA_TMP
}

# copy_tree: copy the repository (without .git) to $AURA_TMP/src, owned by the
# test user.  pg_regress and the TAP harness write results into the source
# tree; doing that in a copy keeps the repository clean and root-free.
copy_tree() {
	make_scratch_dir || return 1
	AURA_WORK="$AURA_TMP/src"
	rm -rf "$AURA_WORK"
	mkdir -p "$AURA_WORK"
	tar -C "$AURA_ROOT" --exclude=./.git -cf - . | tar -C "$AURA_WORK" -xf - ||
		{ err "could not copy $AURA_ROOT to $AURA_WORK"; return 1; }
	chown -R "$AURA_TEST_USER": "$AURA_WORK" || return 1
	export AURA_WORK
}

# aura_make_args: common make arguments (PG_CONFIG, AURA_DEBUG).
aura_make_args() {
	AURA_MAKE_ARGS=("PG_CONFIG=$PG_CONFIG")
	case "${AURA_DEBUG:-1}" in
		0 | no | false | off) ;;
		*) AURA_MAKE_ARGS+=("AURA_DEBUG=${AURA_DEBUG:-1}") ;;
	esac
}

# build_and_install [DIR]: make clean; make AURA_DEBUG=..; make install.
# DIR defaults to the copy made by copy_tree.  Compiling runs as the test user,
# make install as root.  Returns non-zero if any step fails.
build_and_install() {
	local dir="${1:-${AURA_WORK:-}}"
	if [ -z "$dir" ]; then
		copy_tree || return 1
		dir="$AURA_WORK"
	fi
	if [ "${AURA_SKIP_BUILD:-0}" = 1 ]; then
		log "skipping build and install (AURA_SKIP_BUILD=1): using the installed auradb, if any"
		return 0
	fi
	aura_make_args
	log "building auradb in $dir (make ${AURA_MAKE_ARGS[*]})"
	run_as_user make -C "$dir" "${AURA_MAKE_ARGS[@]}" clean ||
		{ err "make clean failed"; return 1; }
	run_as_user make -C "$dir" -j"$(nproc)" "${AURA_MAKE_ARGS[@]}" ||
		{ err "build failed (make ${AURA_MAKE_ARGS[*]})"; return 1; }
	log "installing auradb (make install)"
	make -C "$dir" "${AURA_MAKE_ARGS[@]}" install ||
		{ err "make install failed"; return 1; }
}

# start_scratch_cluster: initdb + start a private cluster as the test user.
# Exports PGHOST (socket dir), PGPORT, PGUSER, PGDATABASE=postgres.
start_scratch_cluster() {
	make_scratch_dir || return 1
	AURA_PGDATA="$AURA_TMP/data"
	AURA_SOCKDIR="$AURA_TMP/sock"
	AURA_SERVER_LOG="$AURA_TMP/server.log"
	export AURA_PGDATA AURA_SOCKDIR AURA_SERVER_LOG
	rm -rf "$AURA_PGDATA" "$AURA_SOCKDIR"
	install -d -o "$AURA_TEST_USER" -m 0700 "$AURA_SOCKDIR" || return 1

	log "initdb scratch cluster in $AURA_PGDATA"
	run_as_user "$PG_BIN/initdb" -D "$AURA_PGDATA" -U "$AURA_TEST_USER" \
		--auth=trust --encoding=UTF8 --locale=C --no-sync >"$AURA_TMP/initdb.log" 2>&1 || {
		err "initdb failed:"
		cat "$AURA_TMP/initdb.log"
		return 1
	}
	run_as_user tee -a "$AURA_PGDATA/postgresql.conf" >/dev/null <<EOF

# --- auradb scratch test cluster ---
port = $AURA_TEST_PORT
listen_addresses = ''
unix_socket_directories = '$AURA_SOCKDIR'
fsync = off
shared_buffers = 256MB
max_prepared_transactions = 10
wal_level = replica
max_connections = 100
log_line_prefix = '%m [%p] %q%a '
log_min_messages = warning
EOF

	log "starting scratch cluster (port $AURA_TEST_PORT, socket dir $AURA_SOCKDIR)"
	if ! run_as_user "$PG_BIN/pg_ctl" -D "$AURA_PGDATA" -l "$AURA_SERVER_LOG" \
		-w -t 120 start >/dev/null; then
		err "could not start the scratch cluster; server log:"
		tail -n 50 "$AURA_SERVER_LOG" 2>/dev/null || true
		return 1
	fi
	export PGHOST="$AURA_SOCKDIR" PGPORT="$AURA_TEST_PORT" PGUSER="$AURA_TEST_USER"
	export PGDATABASE=postgres
}

# stop_scratch_cluster: stop the scratch cluster and any postmaster left under
# $AURA_TMP (e.g. TAP test nodes after a timeout).  Idempotent.
stop_scratch_cluster() {
	[ -n "$AURA_TMP" ] && [ -d "$AURA_TMP" ] || return 0
	local pidfile datadir
	if [ -n "$AURA_PGDATA" ] && [ -f "$AURA_PGDATA/postmaster.pid" ]; then
		log "stopping scratch cluster"
		run_as_user "$PG_BIN/pg_ctl" -D "$AURA_PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			run_as_user "$PG_BIN/pg_ctl" -D "$AURA_PGDATA" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
			warn "could not stop the scratch cluster in $AURA_PGDATA"
	fi
	while IFS= read -r pidfile; do
		datadir="$(dirname "$pidfile")"
		log "stopping leftover postmaster in $datadir"
		run_as_user "$PG_BIN/pg_ctl" -D "$datadir" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
			warn "could not stop postmaster in $datadir"
	done < <(find "$AURA_TMP" -name postmaster.pid -type f 2>/dev/null)
}

# aura_cleanup: stop clusters and remove $AURA_TMP (unless AURA_KEEP_TMP=1).
# Meant for an EXIT trap; safe to call more than once.
aura_cleanup() {
	stop_scratch_cluster || true
	if [ -n "$AURA_TMP" ] && [ -d "$AURA_TMP" ]; then
		if [ "${AURA_KEEP_TMP:-0}" = 1 ]; then
			log "keeping $AURA_TMP (AURA_KEEP_TMP=1)"
		else
			rm -rf "$AURA_TMP"
		fi
	fi
	AURA_TMP=""
}

# aura_psql ARGS...: psql against the scratch cluster, no psqlrc, stop on error.
aura_psql() {
	"$PG_BIN/psql" -X -v ON_ERROR_STOP=1 "$@"
}
