#!/usr/bin/env bash
#
# bench/bench.sh -- compare the aura table access method against heap.
#
# Starts a private scratch PostgreSQL 15 cluster (as the unprivileged user
# "auradb" when run as root), creates two databases that differ only in
# default_table_access_method, and runs the same pgbench / COPY workloads on
# both, interleaved round by round.  Prints medians, aura/heap ratios, table
# sizes and a TPC-B consistency check.  Then the compaction benchmarks: table
# size after a load, growth under TPC-B with autovacuum, and TPC-B throughput
# while a compaction (VACUUM) loop runs.  See bench/README.md.
#
# Usage: bench/bench.sh [--short] [--only PARTS] [--reuse] [--out FILE]
#
#   --short      CI mode: small scales, 2 rounds of 5 s (3 s under compaction),
#                100k-row COPY, 20k transactions for bloat (~2-2.5 min).
#                Never fails on performance ratios.
#   --only PARTS run only these parts (comma-separated): workloads (TPC-B,
#                select-only, simple-update, COPY), size, bloat, compact-tps;
#                compaction = size,bloat,compact-tps; all (the default).
#   --reuse      benchmark the server PGHOST/PGPORT point to instead of
#                starting a scratch cluster (drops and re-creates the
#                databases bench_heap and bench_aura there).
#   --out FILE   also write the report (markdown) to FILE.
#
# Environment:
#   AURA_AM            table AM of bench_aura (default aura; heap = heap vs heap,
#                      no CREATE EXTENSION)
#   PG_CONFIG / PGBIN  which PostgreSQL to use (default /usr/lib/postgresql/15/bin)
#   BENCH_PORT         port of the scratch cluster (default 54339)
#   BENCH_TMPDIR       parent of the scratch directory (default /tmp)
#   BENCH_KEEP=1       keep the scratch directory (data, logs) at exit
#   BENCH_EXTRA_CONF   extra postgresql.conf lines for the scratch cluster
#   BENCH_SCALE, BENCH_ROUNDS, BENCH_TIME, BENCH_COPY_ROWS,
#   BENCH_CLIENTS, BENCH_JOBS  override the mode's defaults
#   BENCH_SIZE_SCALE, BENCH_BLOAT_SCALE, BENCH_BLOAT_TX, BENCH_CTPS_ROUNDS,
#   BENCH_CTPS_TIME  the same for the compaction benchmarks
#   BENCH_CTPS_COST_DELAY  vacuum_cost_delay of the throttled compaction loop
#                    (default 2ms, autovacuum's own autovacuum_vacuum_cost_delay)
#   PGBENCH_OPTS       extra options for every measured pgbench run
#
# Exit status: 0 when every workload completed and the consistency checks
# held; 1 otherwise; 2 on usage/setup errors.  Performance ratios and size
# targets never change the exit status.

set -u -o pipefail

# ---------------------------------------------------------------- options --

MODE=full
REUSE=0
OUT=
ONLY=all
usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; }
while [ $# -gt 0 ]; do
	case "$1" in
		--short) MODE=short ;;
		--full) MODE=full ;;
		--reuse) REUSE=1 ;;
		--out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a file" >&2; exit 2; }
		       OUT=$2; shift ;;
		--out=*) OUT=${1#--out=} ;;
		--only) [ $# -ge 2 ] || { echo "bench.sh: --only needs a list of parts" >&2; exit 2; }
		        ONLY=$2; shift ;;
		--only=*) ONLY=${1#--only=} ;;
		-h|--help) usage; exit 0 ;;
		*) echo "bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

# parts to run: PARTS holds ",workloads,size,bloat,compact-tps," or a subset
PARTS=,
IFS=, read -r -a only_list <<<"$ONLY"
[ ${#only_list[@]} -gt 0 ] || { echo "bench.sh: --only needs a list of parts" >&2; exit 2; }
for p in "${only_list[@]}"; do
	case "$p" in
		all) PARTS+="workloads,size,bloat,compact-tps," ;;
		compaction) PARTS+="size,bloat,compact-tps," ;;
		workloads|size|bloat|compact-tps) PARTS+="$p," ;;
		*) echo "bench.sh: --only: unknown part '$p' (workloads, size, bloat, compact-tps, compaction, all)" >&2
		   exit 2 ;;
	esac
done
want() { [[ $PARTS == *",$1,"* ]]; }

AURA_AM=${AURA_AM:-aura}
if ! [[ $AURA_AM =~ ^[a-z_][a-z0-9_]*$ ]]; then
	echo "bench.sh: AURA_AM must be a plain lower-case identifier, got '$AURA_AM'" >&2
	exit 2
fi

if [ "$MODE" = short ]; then
	SCALE=1 ROUNDS=2 T=5 COPY_ROWS=100000 SHARED_BUFFERS=128MB
	SIZE_SCALE=5 BLOAT_SCALE=2 BLOAT_TX=20000 CTPS_ROUNDS=2 CTPS_T=3 SAMPLE_EVERY=2
else
	SCALE=10 ROUNDS=5 T=30 COPY_ROWS=1000000 SHARED_BUFFERS=512MB
	SIZE_SCALE=50 BLOAT_SCALE=10 BLOAT_TX=200000 CTPS_ROUNDS=5 CTPS_T=20 SAMPLE_EVERY=10
fi
SIZE_SCALE=${BENCH_SIZE_SCALE:-$SIZE_SCALE}
BLOAT_SCALE=${BENCH_BLOAT_SCALE:-$BLOAT_SCALE}
BLOAT_TX=${BENCH_BLOAT_TX:-$BLOAT_TX}
CTPS_ROUNDS=${BENCH_CTPS_ROUNDS:-$CTPS_ROUNDS}
CTPS_T=${BENCH_CTPS_TIME:-$CTPS_T}
CTPS_COST_DELAY=${BENCH_CTPS_COST_DELAY:-2ms}
SCALE=${BENCH_SCALE:-$SCALE}
ROUNDS=${BENCH_ROUNDS:-$ROUNDS}
T=${BENCH_TIME:-$T}
COPY_ROWS=${BENCH_COPY_ROWS:-$COPY_ROWS}
CLIENTS=${BENCH_CLIENTS:-8}
JOBS=${BENCH_JOBS:-2}
PORT=${BENCH_PORT:-54339}
PGBENCH_OPTS=${PGBENCH_OPTS:-}
TARGET_TPCB=0.7
TARGET_COPY=0.7
TARGET_SIZE=0.5     # aura/heap size of pgbench_accounts after load + VACUUM
TARGET_BLOAT=10     # % growth of aura's pgbench_accounts under TPC-B + autovacuum
TARGET_CTPS=0.8     # aura TPC-B tps with / without a throttled compaction loop
for v in SCALE ROUNDS T COPY_ROWS CLIENTS JOBS PORT SIZE_SCALE BLOAT_SCALE BLOAT_TX CTPS_ROUNDS CTPS_T; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench.sh: $v must be a positive integer, got '${!v}'" >&2
		exit 2
	fi
done
if ! [[ $CTPS_COST_DELAY =~ ^[0-9]+(\.[0-9]+)?(ms|us|s)?$ ]]; then
	echo "bench.sh: BENCH_CTPS_COST_DELAY must be a time such as 2ms, got '$CTPS_COST_DELAY'" >&2
	exit 2
fi

START_SECONDS=$SECONDS
log()  { printf '[bench %4ds] %s\n' $((SECONDS - START_SECONDS)) "$*" >&2; }
warn() { log "WARNING: $*"; }
die()  { log "ERROR: $*"; exit "${DIE_STATUS:-2}"; }

# ------------------------------------------------------------ binaries --

if [ -n "${PGBIN:-}" ]; then
	:
elif [ -n "${PG_CONFIG:-}" ]; then
	PGBIN=$("$PG_CONFIG" --bindir) || die "PG_CONFIG=$PG_CONFIG does not work"
elif [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
	PGBIN=/usr/lib/postgresql/15/bin
elif command -v pg_config >/dev/null 2>&1; then
	PGBIN=$(pg_config --bindir)
else
	die "cannot find PostgreSQL binaries; set PGBIN or PG_CONFIG"
fi
for b in psql pgbench pg_isready; do
	[ -x "$PGBIN/$b" ] || die "$PGBIN/$b not found"
done
if [ "$REUSE" = 0 ]; then
	for b in initdb pg_ctl postgres; do
		[ -x "$PGBIN/$b" ] || die "$PGBIN/$b not found"
	done
fi
command -v timeout >/dev/null 2>&1 || die "timeout(1) (coreutils) is required"

# The extension must be installed into this server (own cluster only; a
# reused server may live elsewhere and CREATE EXTENSION will tell).
if [ "$AURA_AM" != heap ] && [ "$REUSE" = 0 ]; then
	PGCFG=$PGBIN/pg_config
	if [ -x "$PGCFG" ]; then
		share=$("$PGCFG" --sharedir) pkglib=$("$PGCFG" --pkglibdir)
		if [ ! -f "$share/extension/auradb.control" ] || [ ! -f "$pkglib/auradb.so" ]; then
			die "auradb is not installed into $("$PGCFG" --version): run 'make install PG_CONFIG=$PGCFG' first (or AURA_AM=heap to test the benchmark itself)"
		fi
	fi
fi

# -------------------------------------------------------- scratch dir --

TMPD=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/auradb-bench.XXXXXX") || die "mktemp failed"
chmod 700 "$TMPD"
LOGD=$TMPD/logs
mkdir -p "$LOGD"
RESULTS=$TMPD/results.tsv     # workload  side  round  value|FAIL
SIZES=$TMPD/sizes.tsv         # relation  side  total  main  rows
CHECKS=$TMPD/checks.tsv       # check  result(OK|FAIL)  detail
: >"$RESULTS"; : >"$SIZES"; : >"$CHECKS"
FAILS=0
STARTED=0
DBS_CREATED=0
BG_PIDS=()    # background helpers (size samplers, compaction loops) to stop at exit

# Server-side commands run as an unprivileged user: PostgreSQL refuses root.
SRV_USER=$(id -un)
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	SRV_USER=auradb
	if ! id -u "$SRV_USER" >/dev/null 2>&1; then
		if [ "$REUSE" = 0 ]; then
			log "creating system user $SRV_USER"
			useradd --system --no-create-home --shell /usr/sbin/nologin \
				--user-group "$SRV_USER" || die "useradd $SRV_USER failed"
		fi
	fi
	RUNAS=(runuser -u "$SRV_USER" --)
	[ "$REUSE" = 1 ] || chown "$SRV_USER": "$TMPD" "$LOGD"
fi
# cd: the server user may not be able to read the caller's cwd.
as_srv() { (cd "$TMPD" && "${RUNAS[@]}" "$@"); }

# shellcheck disable=SC2317  # invoked by trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
	for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	if [ "$DBS_CREATED" = 1 ] && [ "$REUSE" = 1 ]; then
		for db in bench_heap bench_aura; do
			"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
		done
	fi
	if [ "$STARTED" = 1 ]; then
		log "stopping scratch cluster"
		as_srv "$PGBIN/pg_ctl" -D "$TMPD/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_srv "$PGBIN/pg_ctl" -D "$TMPD/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "keeping $TMPD (BENCH_KEEP=1)"
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Errors, crashes and PANICs from the server log (not the checkpoint chatter).
server_log_tail() {
	[ -f "$TMPD/server.log" ] || return 0
	local lines
	lines=$(grep -E 'ERROR|FATAL|PANIC|TRAP|WARNING|terminated by signal|was terminated|server process' \
		"$TMPD/server.log" | tail -n "${1:-30}")
	if [ -n "$lines" ]; then
		log "server log (errors, last ${1:-30}):"
		# shellcheck disable=SC2001
		sed 's/^/    /' <<<"$lines" >&2
	fi
}
# first error-looking line of a client log, for the Checks table
first_error() { grep -m1 -iE 'error|fatal|abort|could not|invalid|timed out|terminated' "$1" | cut -c1-160; }

# ------------------------------------------------------------- server --

if [ "$REUSE" = 1 ]; then
	[ -n "${PGHOST:-}${PGPORT:-}" ] || die "--reuse needs PGHOST and/or PGPORT pointing to a running server"
	"$PGBIN/pg_isready" -q -d postgres ||
		die "--reuse: no server answers at PGHOST=${PGHOST:-<default>} PGPORT=${PGPORT:-<default>}"
	log "reusing the server at PGHOST=${PGHOST:-<default>} PGPORT=${PGPORT:-<default>}"
	export PGDATABASE=postgres
	SERVER_SIDE_COPY=0
else
	if [ -n "${PGHOST:-}${PGPORT:-}" ] && "$PGBIN/pg_isready" -q -d postgres 2>/dev/null; then
		log "note: a server answers at PGHOST=${PGHOST:-} PGPORT=${PGPORT:-}; ignoring it (use --reuse to benchmark it)"
	fi
	# Nothing from the caller's libpq environment may leak into our clients.
	while read -r v; do unset "$v"; done < <(compgen -e | grep '^PG' | grep -v '^PGBENCH_OPTS$' | grep -v '^PGBIN$')
	log "initdb in $TMPD/data (server user $SRV_USER, port $PORT)"
	as_srv "$PGBIN/initdb" -D "$TMPD/data" -U auradb --auth=trust -E UTF8 --locale=C \
		>"$LOGD/initdb.log" 2>&1 || { cat "$LOGD/initdb.log" >&2; die "initdb failed"; }
	cat >>"$TMPD/data/postgresql.conf" <<-EOF

	# ---- bench/bench.sh scratch cluster ----
	listen_addresses = ''
	port = $PORT
	unix_socket_directories = '$TMPD'
	shared_buffers = $SHARED_BUFFERS
	max_wal_size = 4GB
	checkpoint_timeout = 30min
	autovacuum = on
	# durability stays at the defaults, spelled out:
	fsync = on
	synchronous_commit = on
	full_page_writes = on
	EOF
	if [ -n "${BENCH_EXTRA_CONF:-}" ]; then
		printf '%s\n' "# BENCH_EXTRA_CONF" "$BENCH_EXTRA_CONF" >>"$TMPD/data/postgresql.conf"
	fi
	as_srv touch "$TMPD/server.log"
	log "starting scratch cluster (shared_buffers=$SHARED_BUFFERS)"
	if ! as_srv "$PGBIN/pg_ctl" -D "$TMPD/data" -l "$TMPD/server.log" -w -t 120 start >"$LOGD/pg_ctl.log" 2>&1; then
		cat "$LOGD/pg_ctl.log" >&2; server_log_tail 40
		die "the scratch cluster did not start"
	fi
	STARTED=1
	export PGHOST=$TMPD PGPORT=$PORT PGUSER=auradb PGDATABASE=postgres
	SERVER_SIDE_COPY=1
fi

PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At)
# sql DB SQL... : run statements, print tuples-only output
sql() { local db=$1 stmt args=(); shift; for stmt in "$@"; do args+=(-c "$stmt"); done; "${PSQL[@]}" -d "$db" "${args[@]}"; }

CAN_CHECKPOINT=1
checkpoint() {
	[ "$CAN_CHECKPOINT" = 1 ] || return 0
	if ! sql "$1" "CHECKPOINT" >/dev/null 2>"$LOGD/checkpoint.err"; then
		warn "CHECKPOINT failed ($(head -n1 "$LOGD/checkpoint.err")); running without checkpoints between runs"
		CAN_CHECKPOINT=0
	fi
}

# A run that timed out may leave backends busy; clear them before going on.
kill_bench_backends() {
	sql postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	              WHERE datname IN ('bench_heap','bench_aura') AND pid <> pg_backend_pid()" \
		>/dev/null 2>&1 || true
}

add_check() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$CHECKS"; [ "$2" = OK ] || FAILS=$((FAILS + 1)); }

# ---------------------------------------------------------- databases --

DIE_STATUS=1
SERVER_VERSION=$(sql postgres "SHOW server_version") || die "cannot connect to the server"
log "server: PostgreSQL $SERVER_VERSION"

for db in bench_heap bench_aura; do
	sql postgres "SET client_min_messages = warning" "DROP DATABASE IF EXISTS $db" \
		"CREATE DATABASE $db TEMPLATE template0" >/dev/null ||
		die "cannot create database $db"
done
DBS_CREATED=1
sql bench_heap "ALTER DATABASE bench_heap SET default_table_access_method = heap" >/dev/null ||
	die "ALTER DATABASE bench_heap failed"
if [ "$AURA_AM" != heap ]; then
	log "CREATE EXTENSION auradb in bench_aura"
	sql bench_aura "CREATE EXTENSION auradb" >/dev/null 2>"$LOGD/create_extension.err" || {
		cat "$LOGD/create_extension.err" >&2; server_log_tail 20
		die "CREATE EXTENSION auradb failed (is it built and installed? make install)"; }
else
	log "AURA_AM=heap: skipping CREATE EXTENSION (benchmarking heap against heap)"
fi
[ "$(sql bench_aura "SELECT count(*) FROM pg_am WHERE amname = '$AURA_AM' AND amtype = 't'")" = 1 ] ||
	die "table access method '$AURA_AM' does not exist in bench_aura"
# run inside bench_aura: the GUC check looks the AM up in the current database
sql bench_aura "ALTER DATABASE bench_aura SET default_table_access_method = $AURA_AM" >/dev/null ||
	die "ALTER DATABASE bench_aura failed"

declare -A AM_OF=([heap]=heap [aura]=$AURA_AM)
declare -A DB_OF=([heap]=bench_heap [aura]=bench_aura)
SIDES=(heap aura)

for side in "${SIDES[@]}"; do
	got=$(sql "${DB_OF[$side]}" "SHOW default_table_access_method")
	[ "$got" = "${AM_OF[$side]}" ] || die "${DB_OF[$side]}: default_table_access_method is '$got', expected '${AM_OF[$side]}'"
done

# Table AMs actually used by the relations (catches a silently ignored
# default); prints the problem and fails on a mismatch.
check_am() { # side rel...
	local side=$1; shift; local db=${DB_OF[$side]} want=${AM_OF[$side]} rel got
	for rel in "$@"; do
		got=$(sql "$db" "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
		                  WHERE c.oid = 'public.$rel'::regclass" 2>/dev/null)
		if [ "$got" != "$want" ]; then
			echo "bench.sh: invalid table AM: $db.$rel uses '${got:-?}', expected '$want'"
			return 1
		fi
	done
	return 0
}

# ---------------------------------------------------------- pgbench -i --

declare -A INIT_SECS=([heap]=NA [aura]=NA)
if want workloads; then
	for side in "${SIDES[@]}"; do
		db=${DB_OF[$side]}
		log "pgbench -i -s $SCALE $db"
		t0=$(date +%s%N)
		if ! timeout -k 10 3600 "$PGBIN/pgbench" -i -s "$SCALE" "$db" >"$LOGD/init_$side.log" 2>&1; then
			tail -n 20 "$LOGD/init_$side.log" | sed 's/^/    /' >&2; server_log_tail 20
			die "pgbench -i failed in $db"
		fi
		t1=$(date +%s%N)
		INIT_SECS[$side]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
		if ! msg=$(check_am "$side" pgbench_accounts pgbench_branches pgbench_tellers pgbench_history); then
			die "$msg"
		fi
	done
	add_check "table AM of pgbench tables" OK "bench_heap: heap, bench_aura: $AURA_AM"
fi

# ------------------------------------------------------------- helpers --

# median of the values on stdin (insertion sort in awk; mawk has no asort)
median() {
	awk '{ v[++n] = $1 + 0 }
	     END {
	       if (n == 0) { print "NA"; exit }
	       for (i = 2; i <= n; i++) { x = v[i]; j = i - 1
	         while (j > 0 && v[j] > x) { v[j + 1] = v[j]; j-- }
	         v[j + 1] = x }
	       if (n % 2) m = v[(n + 1) / 2]; else m = (v[n / 2] + v[n / 2 + 1]) / 2
	       printf "%.6f\n", m }'
}
# median of workload/side, or FAIL if any round failed or none ran
med_of() {
	local vals
	vals=$(awk -F'\t' -v w="$1" -v s="$2" '$1 == w && $2 == s { print $4 }' "$RESULTS")
	if [ -z "$vals" ] || grep -q FAIL <<<"$vals"; then echo FAIL; else median <<<"$vals"; fi
}
runs_of() { awk -F'\t' -v w="$1" -v s="$2" -v f="$3" '$1 == w && $2 == s { printf "%s%s", sep, ($4 == "FAIL" ? "FAIL" : sprintf(f, $4)); sep = " " }' "$RESULTS"; }
ratio() { awk -v a="$1" -v h="$2" 'BEGIN { if (a == "FAIL" || h == "FAIL" || a == "NA" || h == "NA" || h + 0 == 0) print "NA"; else printf "%.3f", a / h }'; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "FAIL" || v == "NA") print v; else printf f, v }'; }
mib() { awk -v v="$1" 'BEGIN { if (v == "NA" || v == "") print "NA"; else printf "%.2f MiB", v / 1048576 }'; }

# aligned markdown table from TSV on stdin (first line = header)
mdtable() { # [alignment per column, l or r; default lrrr...]
	awk -F'\t' -v spec="${1:-l}" '
	function al(i) { return i <= length(spec) ? substr(spec, i, 1) : "r" }
	{ n = NR; if (NF > nf) nf = NF
	  for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
	END {
	  for (i = 1; i <= nf; i++) if (w[i] < 3) w[i] = 3
	  for (r = 1; r <= n; r++) {
	    line = "|"
	    for (i = 1; i <= nf; i++) {
	      if (al(i) == "l") line = line sprintf(" %-" w[i] "s |", c[r, i])
	      else        line = line sprintf(" %" w[i] "s |", c[r, i])
	    }
	    print line
	    if (r == 1) {
	      line = "|"
	      for (i = 1; i <= nf; i++) {
	        d = ""; for (k = 0; k < w[i]; k++) d = d "-"
	        if (al(i) == "l") line = line " " d " |"; else line = line " " substr(d, 2) ": |"
	      }
	      print line
	    }
	  }
	}'
}

# ------------------------------------------------------------ workloads --

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; }

run_pgbench() { # workload side round pgbench-args...
	local wl=$1 side=$2 r=$3; shift 3
	local db=${DB_OF[$side]} lf="$LOGD/${wl}_${side}_r$r.log" tps
	checkpoint "$db"
	local rc=0
	# shellcheck disable=SC2086
	timeout -k 10 $((T + 300)) "$PGBIN/pgbench" -n -c "$CLIENTS" -j "$JOBS" -T "$T" \
		$PGBENCH_OPTS "$@" "$db" >"$lf" 2>&1 || rc=$?
	[ "$rc" = 124 ] && echo "bench.sh: pgbench timed out after $((T + 300)) s" >>"$lf"
	tps=
	if [ "$rc" = 0 ]; then
		tps=$(awk '/^tps = .*without initial connection time/ { print $3; exit }' "$lf")
		[ -n "$tps" ] || echo "bench.sh: could not parse 'tps = N (without initial connection time)'" >>"$lf"
	fi
	if [ -n "$tps" ]; then
		record "$wl" "$side" "$r" "$tps"
		log "  $wl round $r $side: $tps tps"
	else
		record "$wl" "$side" "$r" FAIL
		add_check "$wl round $r on $db" FAIL "pgbench: $(first_error "$lf")"
		log "  $wl round $r $side: FAILED"; tail -n 15 "$lf" | sed 's/^/    /' >&2
		server_log_tail 15; kill_bench_backends
	fi
}

COPY_FILE=$TMPD/copy_data.tsv
copy_sql() { # the COPY ... FROM statement (server-side or psql \copy)
	if [ "$SERVER_SIDE_COPY" = 1 ]; then echo "COPY copy_target FROM '$COPY_FILE'"
	else echo "\\copy copy_target FROM '$COPY_FILE'"; fi
}

run_copy() { # side round last(0|1)
	local side=$1 r=$2 last=$3 db=${DB_OF[$1]} lf="$LOGD/copy_${1}_r$2.log"
	local t0=0 t1=0 ms rc=0 got expect
	if ! sql "$db" "DROP TABLE IF EXISTS copy_target" "CREATE TABLE copy_target (LIKE pgbench_accounts)" \
			>"$lf" 2>&1; then
		rc=1
	else
		check_am "$side" copy_target >>"$lf" || rc=1
		checkpoint "$db"
		t0=$(date +%s%N)
		timeout -k 10 1800 "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -d "$db" \
			-c '\timing on' -c "$(copy_sql)" >>"$lf" 2>&1 || rc=$?
		[ "$rc" = 124 ] && echo "bench.sh: COPY timed out after 1800 s" >>"$lf"
		t1=$(date +%s%N)
	fi
	if [ "$rc" = 0 ]; then
		# psql's \timing; fall back to the wall clock around psql
		ms=$(awk '/^Time: [0-9.]+ ms/ { print $2; exit }' "$lf")
		[ -n "$ms" ] || ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
		expect="$COPY_ROWS|$(awk -v n="$COPY_ROWS" 'BEGIN { printf "%.0f", n * (n + 1) / 2 }')"
		got=$(sql "$db" "SELECT count(*) || '|' || coalesce(sum(aid::bigint), 0) FROM copy_target" 2>>"$lf")
		if [ "$got" != "$expect" ]; then
			echo "bench.sh: invalid copy_target contents: count|sum(aid) is '$got', expected '$expect'" >>"$lf"
			rc=1
		fi
	fi
	if [ "$rc" = 0 ]; then
		local rps
		rps=$(awk -v n="$COPY_ROWS" -v ms="$ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
		record copy "$side" "$r" "$rps"
		log "  copy round $r $side: $COPY_ROWS rows in $ms ms = $rps rows/s"
		[ "$last" = 1 ] && measure_size "$side" copy_target
	else
		record copy "$side" "$r" FAIL
		add_check "COPY round $r into $db" FAIL "$(first_error "$lf")"
		log "  copy round $r $side: FAILED"; tail -n 15 "$lf" | sed 's/^/    /' >&2
		server_log_tail 15; kill_bench_backends
	fi
	sql "$db" "DROP TABLE IF EXISTS copy_target" >/dev/null 2>&1 || true
}

measure_size() { # side rel
	local side=$1 rel=$2 db=${DB_OF[$1]} row
	row=$(sql "$db" "SELECT pg_total_relation_size('public.$rel') || E'\t' ||
	                        pg_relation_size('public.$rel') || E'\t' ||
	                        (SELECT count(*) FROM public.$rel)" 2>/dev/null) || row=$'NA\tNA\tNA'
	printf '%s\t%s\t%s\n' "$rel" "$side" "$row" >>"$SIZES"
}

# TPC-B invariant: every transaction adds the same delta to one account, one
# teller, one branch and logs it in history.
balances() { # db -> "a b t d"
	sql "$1" "SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) || ' ' ||
	                 (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches) || ' ' ||
	                 (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers) || ' ' ||
	                 (SELECT coalesce(sum(delta), 0) FROM pgbench_history)" 2>/dev/null
}
declare -A TPCB_DELTA
check_tpcb_invariant() { # side
	local side=$1 db=${DB_OF[$1]} a='' b='' t='' d=''
	read -r a b t d < <(balances "$db")
	if [ -n "${d:-}" ] && [ "$a" = "$b" ] && [ "$b" = "$t" ] && [ "$t" = "$d" ]; then
		add_check "TPC-B invariant in $db after TPC-B runs" OK "sum(abalance)=sum(bbalance)=sum(tbalance)=sum(delta)=$d"
		TPCB_DELTA[$side]=$d
	else
		add_check "TPC-B invariant in $db after TPC-B runs" FAIL "abalance=${a:-?} bbalance=${b:-?} tbalance=${t:-?} delta=${d:-?}"
	fi
}
# simple-update (-N) changes accounts and history only, so at the end
# sum(abalance) = sum(delta) and sum(bbalance) = sum(tbalance) = the history
# total recorded right after the TPC-B runs.
check_final_invariant() { # side
	local side=$1 db=${DB_OF[$1]} a='' b='' t='' d='' ok=1 n
	read -r a b t d < <(balances "$db")
	{ [ -n "${d:-}" ] && [ "$a" = "$d" ] && [ "$b" = "$t" ] && [ "$b" = "${TPCB_DELTA[$side]:-x}" ]; } || ok=0
	if [ "$ok" = 1 ]; then
		add_check "balance invariant in $db after all runs" OK "sum(abalance)=sum(delta)=$d, sum(bbalance)=sum(tbalance)=$b"
	else
		add_check "balance invariant in $db after all runs" FAIL "abalance=${a:-?} delta=${d:-?} bbalance=${b:-?} tbalance=${t:-?} (TPC-B total ${TPCB_DELTA[$side]:-?})"
	fi
	n=$(sql "$db" "SELECT (SELECT count(*) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM pgbench_branches)
	               || ' ' || (SELECT count(*) FROM pgbench_tellers)" 2>/dev/null)
	if [ "$n" = "$((SCALE * 100000)) $SCALE $((SCALE * 10))" ]; then
		add_check "row counts in $db after all runs" OK "accounts/branches/tellers = $n"
	else
		add_check "row counts in $db after all runs" FAIL "accounts/branches/tellers = '${n:-?}', expected $((SCALE * 100000)) $SCALE $((SCALE * 10))"
	fi
}

AURA_STATS=
PARTS_RUN=
if want workloads; then
	PARTS_RUN=workloads
	log "mode=$MODE AURA_AM=$AURA_AM scale=$SCALE rounds=$ROUNDS T=${T}s clients=$CLIENTS jobs=$JOBS copy_rows=$COPY_ROWS"

	log "workload 1/4: TPC-B-like"
	for r in $(seq 1 "$ROUNDS"); do
		for side in "${SIDES[@]}"; do run_pgbench tpcb "$side" "$r"; done
	done
	for side in "${SIDES[@]}"; do check_tpcb_invariant "$side"; done

	log "workload 2/4: select-only (-S)"
	for r in $(seq 1 "$ROUNDS"); do
		for side in "${SIDES[@]}"; do run_pgbench select "$side" "$r" -S; done
	done

	log "workload 3/4: simple-update (-N)"
	for r in $(seq 1 "$ROUNDS"); do
		for side in "${SIDES[@]}"; do run_pgbench update "$side" "$r" -N; done
	done

	log "workload 4/4: COPY of $COPY_ROWS rows into a fresh table"
	GEN="SELECT g AS aid, (g - 1) / 100000 + 1 AS bid, g % 10000 - 5000 AS abalance,
	            md5(g::text) || left(md5((g * 7)::text), 20) AS filler
	       FROM generate_series(1, $COPY_ROWS) AS g"
	if [ "$SERVER_SIDE_COPY" = 1 ]; then
		sql bench_heap "COPY ($GEN) TO '$COPY_FILE'" >/dev/null || die "cannot generate the COPY file"
	else
		sql bench_heap "\\copy ($(echo "$GEN" | tr '\n' ' ')) TO '$COPY_FILE'" >/dev/null || die "cannot generate the COPY file"
	fi
	log "  generated $COPY_FILE ($(du -h "$COPY_FILE" | cut -f1))"
	for r in $(seq 1 "$ROUNDS"); do
		last=0; [ "$r" = "$ROUNDS" ] && last=1
		for side in "${SIDES[@]}"; do run_copy "$side" "$r" "$last"; done
	done

	log "measuring table sizes and checking consistency"
	for side in "${SIDES[@]}"; do
		measure_size "$side" pgbench_accounts
		measure_size "$side" pgbench_history
	done
	for side in "${SIDES[@]}"; do check_final_invariant "$side"; done

	nok=$(awk -F'\t' '$1 ~ /^(tpcb|select|update|copy)$/ && $4 != "FAIL"' "$RESULTS" | wc -l)
	nall=$((4 * ROUNDS * 2))
	if [ "$nok" = "$nall" ]; then
		add_check "workloads completed" OK "$nok of $nall runs (4 workloads x $ROUNDS rounds x 2 databases)"
	else
		add_check "workloads completed" FAIL "$nok of $nall runs (4 workloads x $ROUNDS rounds x 2 databases)"
	fi

	if [ "$AURA_AM" = aura ]; then
		AURA_STATS=$(sql bench_aura "SELECT row_to_json(s) FROM aura_stats('pgbench_accounts') s" 2>&1 | head -n 3)
	fi
fi

# ------------------------------------------------ compaction benchmarks --
#
# What VACUUM / aura_compact() buys, aura vs heap in the same cluster.  Each
# part loads its own pgbench tables into bench_heap and bench_aura (pgbench -i
# drops the previous part's tables), so each can run alone (--only).
#   size:        pgbench -i -s SIZE_SCALE, VACUUM, size of pgbench_accounts
#   bloat:       pgbench -i -s BLOAT_SCALE, BLOAT_TX TPC-B transactions with
#                an aggressive autovacuum, growth of pgbench_accounts
#   compact-tps: TPC-B tps with autovacuum off, without and with a loop of
#                compactions of pgbench_accounts in another session

PGB_TABLES=(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history)
# the compaction loop: aura_compact() (= VACUUM FREEZE of the table) on aura,
# the same VACUUM (FREEZE) on heap (and on any other AM given as AURA_AM)
if [ "$AURA_AM" = aura ]; then CMP_LOOP_AURA="SELECT aura_compact('pgbench_accounts')"
else CMP_LOOP_AURA="VACUUM (FREEZE) pgbench_accounts"; fi
declare -A CMP_LOOP=([heap]="VACUUM (FREEZE) pgbench_accounts" [aura]=$CMP_LOOP_AURA)
# autovacuum settings of the bloat part, the same on every pgbench table of both databases
BLOAT_RELOPTS="autovacuum_enabled = on, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
               autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05,
               autovacuum_vacuum_cost_delay = 0"
BLOAT_NAPTIME=
BLOAT_AUTOVACUUM=
NAPTIME_SET=0
declare -A LOAD_SECS   # [part,side]
declare -A CMP         # [measurement,side]
SIZE_AURA_STATS='' BLOAT_AURA_STATS='' CTPS_AURA_STATS=''

secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "NA" || b == "NA" || a + 0 == 0) print "NA"; else printf "%+.1f%%", (b - a) * 100 / a }'; }
pct_num() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "NA" || b == "NA" || a + 0 == 0) print "NA"; else printf "%.2f", (b - a) * 100 / a }'; }
# verdict VALUE <=|>= TARGET
target_verdict() {
	local v=$1 op=$2 t=$3 res
	case "$v" in ''|NA|FAIL) echo "NA (no value)"; return ;; esac
	if awk -v v="$v" -v t="$t" -v op="$op" 'BEGIN { exit !(op == "<=" ? v + 0 <= t + 0 : v + 0 >= t + 0) }'; then
		res="target met"
	else
		res="target not met"
	fi
	[ "$MODE" = short ] && res="$res (short mode)"
	echo "$res"
}
tps_of() { awk '/^tps = .*without initial connection time/ { print $3; exit }' "$1"; }
processed_of() { awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1] + 0; exit }' "$1"; }
acc_sizes() { sql "$1" "SELECT pg_relation_size('pgbench_accounts') || ' ' || pg_total_relation_size('pgbench_accounts')"; }
# VACUUM passes of pgbench_accounts: autovacuum's, and (aura) those of compaction
# workers, which count as plain VACUUMs (the bloat part runs no VACUUM itself)
autovac_count() { sql "$1" "SELECT autovacuum_count + vacuum_count FROM pg_stat_user_tables WHERE relid = 'public.pgbench_accounts'::regclass" 2>/dev/null || echo NA; }
aura_stats_json() { [ "$AURA_AM" = aura ] || return 0; sql bench_aura "SELECT row_to_json(s) FROM aura_stats('pgbench_accounts') s" 2>&1 | head -n 3; }
set_reloptions() { # side options: ALTER TABLE ... SET (options) on every pgbench table
	local t stmts=()
	for t in "${PGB_TABLES[@]}"; do stmts+=("ALTER TABLE $t SET ($2)"); done
	sql "${DB_OF[$1]}" "${stmts[@]}" >/dev/null 2>"$LOGD/reloptions_$1.err"
}

# load_pgbench part side scale: pgbench -i into the side's database
load_pgbench() {
	local part=$1 side=$2 scale=$3 db=${DB_OF[$2]} lf="$LOGD/init_${1}_$2.log" t0 msg
	log "  pgbench -i -s $scale $db"
	t0=$(date +%s%N)
	if ! timeout -k 10 3600 "$PGBIN/pgbench" -i -s "$scale" "$db" >"$lf" 2>&1; then
		tail -n 20 "$lf" | sed 's/^/    /' >&2; server_log_tail 20
		add_check "$part: pgbench -i -s $scale in $db" FAIL "$(first_error "$lf")"
		kill_bench_backends
		return 1
	fi
	LOAD_SECS[$part,$side]=$(secs_since "$t0")
	if ! msg=$(check_am "$side" "${PGB_TABLES[@]}"); then
		add_check "$part: table AM in $db" FAIL "$msg"
		return 1
	fi
}

# check_pgbench_state part side scale: TPC-B invariant, row counts, the
# primary key finds what a sequential scan finds, aura_check() of the tables
check_pgbench_state() {
	local part=$1 side=$2 scale=$3 db=${DB_OF[$2]} a='' b='' t='' d='' n seq idx rel out acc='' bad=''
	read -r a b t d < <(balances "$db")
	if [ -n "${d:-}" ] && [ "$a" = "$b" ] && [ "$b" = "$t" ] && [ "$t" = "$d" ]; then
		add_check "$part: TPC-B invariant in $db" OK "sum(abalance)=sum(bbalance)=sum(tbalance)=sum(delta)=$d"
	else
		add_check "$part: TPC-B invariant in $db" FAIL "abalance=${a:-?} bbalance=${b:-?} tbalance=${t:-?} delta=${d:-?}"
	fi
	n=$(sql "$db" "SELECT (SELECT count(*) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM pgbench_branches)
	               || ' ' || (SELECT count(*) FROM pgbench_tellers)" 2>/dev/null)
	if [ "$n" = "$((scale * 100000)) $scale $((scale * 10))" ]; then
		add_check "$part: row counts in $db" OK "accounts/branches/tellers = $n"
	else
		add_check "$part: row counts in $db" FAIL "accounts/branches/tellers = '${n:-?}', expected $((scale * 100000)) $scale $((scale * 10))"
	fi
	seq=$(sql "$db" "SET enable_indexscan = off" "SET enable_bitmapscan = off" "SET enable_indexonlyscan = off" \
		"SELECT count(*) || ' ' || sum(aid) || ' ' || sum(abalance) FROM pgbench_accounts" 2>&1)
	idx=$(sql "$db" "SET enable_seqscan = off" "SET enable_bitmapscan = off" "SET enable_indexonlyscan = off" \
		"SELECT count(*) || ' ' || sum(aid) || ' ' || sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN 1 AND $((scale * 100000))" 2>&1)
	if [ "$seq" = "$idx" ] && [[ $seq =~ ^[0-9]+\ [0-9]+\ -?[0-9]+$ ]]; then
		add_check "$part: index scan = seq scan of pgbench_accounts in $db" OK "count, sum(aid), sum(abalance) = $seq"
	else
		add_check "$part: index scan = seq scan of pgbench_accounts in $db" FAIL "seq scan: '$(head -c 120 <<<"$seq")', index scan: '$(head -c 120 <<<"$idx")'"
	fi
	if [ "$AURA_AM" = aura ] && [ "$side" = aura ]; then
		for rel in "${PGB_TABLES[@]}"; do
			out=$(sql "$db" "SELECT row_to_json(c) FROM aura_check('$rel') c" 2>&1) || bad+="$rel: $(head -n1 <<<"$out" | cut -c1-120); "
			[ "$rel" = pgbench_accounts ] && acc=$out
		done
		if [ -z "$bad" ]; then
			add_check "$part: aura_check() of the pgbench tables in $db" OK "pgbench_accounts: $acc"
		else
			add_check "$part: aura_check() of the pgbench tables in $db" FAIL "$bad"
		fi
	fi
}

# ------------------------------------------------------ part: size --

part_size() {
	local side db row main table total
	log "compaction 1/3 (size): pgbench -i -s $SIZE_SCALE, VACUUM pgbench_accounts, measure it"
	for side in "${SIDES[@]}"; do
		db=${DB_OF[$side]}
		load_pgbench size "$side" "$SIZE_SCALE" || return 1
		if ! row=$(sql "$db" "VACUUM pgbench_accounts" \
				"SELECT pg_relation_size('pgbench_accounts') || ' ' || pg_table_size('pgbench_accounts') || ' ' ||
				        pg_total_relation_size('pgbench_accounts')" 2>"$LOGD/size_$side.err"); then
			add_check "size: VACUUM and measure pgbench_accounts in $db" FAIL "$(head -n1 "$LOGD/size_$side.err")"
			return 1
		fi
		read -r main table total <<<"$row"
		CMP[size_main,$side]=$main CMP[size_table,$side]=$table CMP[size_total,$side]=$total
		log "  $side: pgbench_accounts $(mib "$main") (main fork), $(mib "$total") with indexes; pgbench -i took ${LOAD_SECS[size,$side]} s"
	done
	SIZE_AURA_STATS=$(aura_stats_json)
	CMP[size_ratio,x]=$(ratio "${CMP[size_main,aura]}" "${CMP[size_main,heap]}")
	log "  size aura/heap = ${CMP[size_ratio,x]} (target <= $TARGET_SIZE): $(target_verdict "${CMP[size_ratio,x]}" '<=' "$TARGET_SIZE")"
	add_check "size: pgbench -i -s $SIZE_SCALE + VACUUM in both databases" OK \
		"pgbench_accounts main fork: heap ${CMP[size_main,heap]} B, aura ${CMP[size_main,aura]} B"
}

# ----------------------------------------------------- part: bloat --

set_naptime() { # 1s for the bloat part (scratch cluster only), back to the default afterwards
	if [ "$1" = on ]; then
		BLOAT_AUTOVACUUM=$(sql postgres "SHOW autovacuum" 2>/dev/null)
		[ "$BLOAT_AUTOVACUUM" = on ] || warn "autovacuum is '${BLOAT_AUTOVACUUM:-?}' on this server: the bloat part runs without it"
	fi
	if [ "$REUSE" = 1 ]; then
		[ "$1" = on ] && BLOAT_NAPTIME="$(sql postgres "SHOW autovacuum_naptime" 2>/dev/null) (the reused server's own; not changed)"
		return 0
	fi
	if [ "$1" = on ]; then
		if sql postgres "ALTER SYSTEM SET autovacuum_naptime = '1s'" "SELECT pg_reload_conf()" >/dev/null 2>"$LOGD/naptime.err"; then
			NAPTIME_SET=1
			sleep 1
		else
			warn "cannot set autovacuum_naptime: $(head -n1 "$LOGD/naptime.err")"
		fi
		BLOAT_NAPTIME=$(sql postgres "SHOW autovacuum_naptime" 2>/dev/null)
	elif [ "$NAPTIME_SET" = 1 ]; then
		sql postgres "ALTER SYSTEM RESET autovacuum_naptime" "SELECT pg_reload_conf()" >/dev/null 2>&1 ||
			warn "cannot reset autovacuum_naptime"
		NAPTIME_SET=0
	fi
}

run_bloat() { # side
	local side=$1 db=${DB_OF[$1]} lf="$LOGD/bloat_$1.log" sf="$LOGD/bloat_samples_$1.txt"
	local per=$(((BLOAT_TX + CLIENTS - 1) / CLIENTS)) guard=$((120 + BLOAT_TX / 50))
	local m0 t0 m1 t1 m2 av0 av1 pid rc=0 tps n err
	read -r m0 t0 < <(acc_sizes "$db")
	av0=$(autovac_count "$db")
	checkpoint "$db"
	# sample the size of pgbench_accounts while the run goes
	: >"$sf"
	(
		while [ -e "$sf" ]; do
			sql "$db" "SELECT pg_relation_size('pgbench_accounts')" >>"$sf" 2>/dev/null || break
			sleep "$SAMPLE_EVERY"
		done
	) &
	pid=$!; BG_PIDS+=("$pid")
	log "  $side: $((per * CLIENTS)) TPC-B transactions ($CLIENTS clients x $per), autovacuum on"
	# shellcheck disable=SC2086
	timeout -k 10 "$guard" "$PGBIN/pgbench" -n -c "$CLIENTS" -j "$JOBS" -t "$per" $PGBENCH_OPTS "$db" >"$lf" 2>&1 || rc=$?
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	BG_PIDS=()   # reaped: its pid must not be signalled again
	[ "$rc" = 124 ] && echo "bench.sh: pgbench timed out after $guard s" >>"$lf"
	tps=$(tps_of "$lf") n=$(processed_of "$lf")
	if [ "$rc" != 0 ] || [ -z "$tps" ]; then
		add_check "bloat: TPC-B run in $db" FAIL "pgbench: $(first_error "$lf")"
		log "  bloat $side: FAILED"; tail -n 15 "$lf" | sed 's/^/    /' >&2
		server_log_tail 15; kill_bench_backends
		return 1
	fi
	read -r m1 t1 < <(acc_sizes "$db")
	av1=$(autovac_count "$db")
	[ "$side" = aura ] && BLOAT_AURA_STATS=$(aura_stats_json)
	if ! sql "$db" "VACUUM pgbench_accounts" >/dev/null 2>"$LOGD/bloat_vacuum_$side.err"; then
		err=$(head -n1 "$LOGD/bloat_vacuum_$side.err")
		add_check "bloat: VACUUM pgbench_accounts in $db after the run" FAIL "$err"
	fi
	read -r m2 _ < <(acc_sizes "$db")
	CMP[bloat_m0,$side]=$m0 CMP[bloat_m1,$side]=$m1 CMP[bloat_m2,$side]=$m2
	CMP[bloat_t0,$side]=$t0 CMP[bloat_t1,$side]=$t1
	CMP[bloat_tps,$side]=$tps CMP[bloat_n,$side]=$n
	CMP[bloat_growth,$side]=$(pct_num "$m0" "$m1")
	CMP[bloat_max,$side]=$(sort -n "$sf" | tail -n 1)
	CMP[bloat_samples,$side]=$(awk '{ printf "%s%.1f", sep, $1 / 1048576; sep = " " }' "$sf")
	if [[ $av0 =~ ^[0-9]+$ ]] && [[ $av1 =~ ^[0-9]+$ ]]; then CMP[bloat_av,$side]=$((av1 - av0)); else CMP[bloat_av,$side]=NA; fi
	log "  $side: $n transactions, $tps tps; pgbench_accounts $(mib "$m0") -> $(mib "$m1") ($(pct "$m0" "$m1")), $(mib "$m2") after VACUUM; ${CMP[bloat_av,$side]} VACUUM passes of it (autovacuum, compaction workers)"
}

part_bloat() {
	local side
	log "compaction 2/3 (bloat): pgbench -i -s $BLOAT_SCALE, $BLOAT_TX TPC-B transactions with autovacuum, growth of pgbench_accounts"
	for side in "${SIDES[@]}"; do load_pgbench bloat "$side" "$BLOAT_SCALE" || return 1; done
	for side in "${SIDES[@]}"; do
		if ! set_reloptions "$side" "$BLOAT_RELOPTS"; then
			add_check "bloat: autovacuum settings of the pgbench tables in ${DB_OF[$side]}" FAIL "$(head -n1 "$LOGD/reloptions_$side.err")"
			return 1
		fi
	done
	set_naptime on
	for side in "${SIDES[@]}"; do
		if ! run_bloat "$side"; then set_naptime off; return 1; fi
	done
	set_naptime off
	CMP[bloat_ratio,x]=$(ratio "${CMP[bloat_m1,aura]}" "${CMP[bloat_m1,heap]}")
	log "  growth: heap ${CMP[bloat_growth,heap]}%, aura ${CMP[bloat_growth,aura]}% (target aura <= $TARGET_BLOAT%): $(target_verdict "${CMP[bloat_growth,aura]}" '<=' "$TARGET_BLOAT")"
	for side in "${SIDES[@]}"; do check_pgbench_state bloat "$side" "$BLOAT_SCALE"; done
}

# ----------------------------------------------- part: compact-tps --

# the compaction loop's vacuum_cost_delay per variant: 'on' is throttled as
# autovacuum is by default, 'full' runs at full speed
declare -A CTPS_DELAY_OF=([on]=$CTPS_COST_DELAY [full]=0)
run_ctps() { # side round variant(off|on|full)
	local side=$1 r=$2 v=$3 db=${DB_OF[$1]}
	local lf="$LOGD/ctps_$3_$1_r$2.log" clf="$LOGD/ctps_loop_$1_r$2.log" rc=0 crc=0 cpid='' tps='' passes=''
	# every run starts from compacted tables and a checkpoint
	if ! sql "$db" "VACUUM (FREEZE) pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history" \
			>"$lf" 2>&1; then
		record "ctps_$v" "$side" "$r" FAIL
		add_check "compact-tps: VACUUM (FREEZE) before round $r ($v) in $db" FAIL "$(first_error "$lf")"
		return
	fi
	checkpoint "$db"
	if [ "$v" != off ]; then
		clf="$LOGD/ctps_loop_$3_$1_r$2.log"
		PGOPTIONS="${PGOPTIONS:-} -c vacuum_cost_delay=${CTPS_DELAY_OF[$v]}" \
			timeout -k 10 $((CTPS_T + 900)) "$PGBIN/pgbench" -n -c 1 -f "$TMPD/ctps_loop_$side.sql" -T $((CTPS_T + 1)) "$db" \
			>"$clf" 2>&1 &
		cpid=$!; BG_PIDS+=("$cpid")
		sleep 0.5   # the loop is running before the measured run starts and until after it ended
	fi
	# shellcheck disable=SC2086
	timeout -k 10 $((CTPS_T + 300)) "$PGBIN/pgbench" -n -c "$CLIENTS" -j "$JOBS" -T "$CTPS_T" \
		$PGBENCH_OPTS "$db" >>"$lf" 2>&1 || rc=$?
	[ "$rc" = 124 ] && echo "bench.sh: pgbench timed out after $((CTPS_T + 300)) s" >>"$lf"
	if [ -n "$cpid" ]; then
		wait "$cpid" || crc=$?
		BG_PIDS=()
		[ "$crc" = 124 ] && echo "bench.sh: the compaction loop timed out" >>"$clf"
		passes=$(processed_of "$clf")
		if [ "$crc" = 0 ] && [ -n "$passes" ]; then
			record "ctps_passes_$v" "$side" "$r" "$passes"
		else
			record "ctps_passes_$v" "$side" "$r" FAIL
			add_check "compact-tps: compaction loop ($(head -n1 "$TMPD/ctps_loop_$side.sql")) round $r in $db" FAIL \
				"pgbench: $(first_error "$clf")"
			log "  compaction loop round $r $side: FAILED"; tail -n 15 "$clf" | sed 's/^/    /' >&2
			server_log_tail 15
		fi
	fi
	tps=
	[ "$rc" = 0 ] && tps=$(tps_of "$lf")
	if [ -n "$tps" ]; then
		record "ctps_$v" "$side" "$r" "$tps"
		log "  round $r $side, compaction loop $v: $tps tps${passes:+ ($passes compaction passes)}"
	else
		record "ctps_$v" "$side" "$r" FAIL
		add_check "compact-tps: TPC-B round $r (compaction loop $v) in $db" FAIL "pgbench: $(first_error "$lf")"
		log "  round $r $side, compaction loop $v: FAILED"; tail -n 15 "$lf" | sed 's/^/    /' >&2
		server_log_tail 15; kill_bench_backends
	fi
}

part_ctps() {
	local side r v order nok nall
	log "compaction 3/3 (compact-tps): TPC-B at scale $BLOAT_SCALE, autovacuum off, without / with a compaction loop, $CTPS_ROUNDS rounds of $CTPS_T s"
	for side in "${SIDES[@]}"; do load_pgbench ctps "$side" "$BLOAT_SCALE" || return 1; done
	for side in "${SIDES[@]}"; do
		if ! set_reloptions "$side" "autovacuum_enabled = off"; then
			add_check "compact-tps: autovacuum_enabled = off in ${DB_OF[$side]}" FAIL "$(head -n1 "$LOGD/reloptions_$side.err")"
			return 1
		fi
		printf '%s;\n' "${CMP_LOOP[$side]}" >"$TMPD/ctps_loop_$side.sql"
	done
	for r in $(seq 1 "$CTPS_ROUNDS"); do
		# alternate which variant goes first, so that neither always follows the other
		if [ $((r % 2)) = 1 ]; then order="off on full"; else order="full on off"; fi
		for side in "${SIDES[@]}"; do
			for v in $order; do run_ctps "$side" "$r" "$v"; done
		done
	done
	CTPS_AURA_STATS=$(aura_stats_json)
	for side in "${SIDES[@]}"; do
		CMP[ctps_off,$side]=$(med_of ctps_off "$side")
		CMP[ctps_on,$side]=$(med_of ctps_on "$side")
		CMP[ctps_full,$side]=$(med_of ctps_full "$side")
		CMP[ctps_ratio,$side]=$(ratio "${CMP[ctps_on,$side]}" "${CMP[ctps_off,$side]}")
		CMP[ctps_ratio_full,$side]=$(ratio "${CMP[ctps_full,$side]}" "${CMP[ctps_off,$side]}")
		CMP[ctps_passes_on,$side]=$(med_of ctps_passes_on "$side")
		CMP[ctps_passes_full,$side]=$(med_of ctps_passes_full "$side")
	done
	log "  with/without a throttled compaction loop: heap ${CMP[ctps_ratio,heap]}, aura ${CMP[ctps_ratio,aura]} (target aura >= $TARGET_CTPS): $(target_verdict "${CMP[ctps_ratio,aura]}" '>=' "$TARGET_CTPS")"
	log "  with/without a full-speed compaction loop: heap ${CMP[ctps_ratio_full,heap]}, aura ${CMP[ctps_ratio_full,aura]}"
	nok=$(awk -F'\t' '$1 ~ /^ctps_(on|off|full)$/ && $4 != "FAIL"' "$RESULTS" | wc -l)
	nall=$((CTPS_ROUNDS * 6))
	if [ "$nok" = "$nall" ]; then
		add_check "compact-tps: runs completed" OK "$nok of $nall runs ($CTPS_ROUNDS rounds x 3 variants x 2 databases)"
	else
		add_check "compact-tps: runs completed" FAIL "$nok of $nall runs ($CTPS_ROUNDS rounds x 3 variants x 2 databases)"
	fi
	for side in "${SIDES[@]}"; do check_pgbench_state compact-tps "$side" "$BLOAT_SCALE"; done
}

log "parts: ${PARTS:1:${#PARTS}-2}"
if want size; then part_size || warn "size part aborted"; PARTS_RUN+="${PARTS_RUN:+, }size"; fi
if want bloat; then part_bloat || warn "bloat part aborted"; PARTS_RUN+="${PARTS_RUN:+, }bloat"; fi
if want compact-tps; then part_ctps || warn "compact-tps part aborted"; PARTS_RUN+="${PARTS_RUN:+, }compact-tps"; fi

# -------------------------------------------------------------- report --

SETTINGS=$(sql postgres "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
                         FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout',
                         'fsync', 'synchronous_commit', 'full_page_writes', 'autovacuum', 'wal_level')" 2>/dev/null)

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
ELAPSED=$((SECONDS - START_SECONDS))

# the compaction sections of the report
compaction_report() {
	local side q t
	if want size; then
		echo
		echo "## Compaction 1/3: table size after load (pgbench -i -s $SIZE_SCALE, then VACUUM pgbench_accounts; ratio < 1 means aura is smaller)"
		echo
		{
			printf 'pgbench_accounts\theap\taura\taura/heap\ttarget\tverdict\n'
			printf 'main fork (pg_relation_size)\t%s\t%s\t%s\t<= %s\t%s\n' "$(mib "${CMP[size_main,heap]:-NA}")" \
				"$(mib "${CMP[size_main,aura]:-NA}")" "${CMP[size_ratio,x]:-NA}" "$TARGET_SIZE" \
				"$(target_verdict "${CMP[size_ratio,x]:-NA}" '<=' "$TARGET_SIZE")"
			printf 'table (pg_table_size, all forks)\t%s\t%s\t%s\t-\t-\n' "$(mib "${CMP[size_table,heap]:-NA}")" \
				"$(mib "${CMP[size_table,aura]:-NA}")" "$(ratio "${CMP[size_table,aura]:-NA}" "${CMP[size_table,heap]:-NA}")"
			printf 'with indexes (pg_total_relation_size)\t%s\t%s\t%s\t-\t-\n' "$(mib "${CMP[size_total,heap]:-NA}")" \
				"$(mib "${CMP[size_total,aura]:-NA}")" "$(ratio "${CMP[size_total,aura]:-NA}" "${CMP[size_total,heap]:-NA}")"
			printf 'pgbench -i time (s)\t%s\t%s\t%s\t-\t-\n' "${LOAD_SECS[size,heap]:-NA}" "${LOAD_SECS[size,aura]:-NA}" \
				"$(ratio "${LOAD_SECS[size,aura]:-NA}" "${LOAD_SECS[size,heap]:-NA}")"
		} | mdtable lrrrll
		[ -n "$SIZE_AURA_STATS" ] && { echo; echo "aura_stats('pgbench_accounts') after the VACUUM: \`$SIZE_AURA_STATS\`"; }
	fi
	if want bloat; then
		echo
		echo "## Compaction 2/3: growth of pgbench_accounts under TPC-B with autovacuum (scale $BLOAT_SCALE, $BLOAT_TX transactions)"
		echo
		echo "autovacuum=${BLOAT_AUTOVACUUM:-?}; autovacuum_naptime=${BLOAT_NAPTIME:-?}; on every pgbench table of both databases: $(tr -s ' \n' ' ' <<<"$BLOAT_RELOPTS" | sed 's/ *$//')."
		echo "Growth = main fork of pgbench_accounts right after the run over its size right after pgbench -i (which VACUUMs); heap first, then aura."
		echo
		{
			printf 'pgbench_accounts\theap\taura\taura/heap\n'
			printf 'after pgbench -i (main fork)\t%s\t%s\t%s\n' "$(mib "${CMP[bloat_m0,heap]:-NA}")" "$(mib "${CMP[bloat_m0,aura]:-NA}")" \
				"$(ratio "${CMP[bloat_m0,aura]:-NA}" "${CMP[bloat_m0,heap]:-NA}")"
			printf 'after the run (main fork)\t%s\t%s\t%s\n' "$(mib "${CMP[bloat_m1,heap]:-NA}")" "$(mib "${CMP[bloat_m1,aura]:-NA}")" \
				"${CMP[bloat_ratio,x]:-NA}"
			printf '**growth**\t%s\t%s\t-\n' "$(pct "${CMP[bloat_m0,heap]:-NA}" "${CMP[bloat_m1,heap]:-NA}")" \
				"$(pct "${CMP[bloat_m0,aura]:-NA}" "${CMP[bloat_m1,aura]:-NA}")"
			printf 'largest size sampled during the run\t%s\t%s\t-\n' "$(mib "${CMP[bloat_max,heap]:-NA}")" "$(mib "${CMP[bloat_max,aura]:-NA}")"
			printf 'after a final VACUUM (main fork)\t%s\t%s\t%s\n' "$(mib "${CMP[bloat_m2,heap]:-NA}")" "$(mib "${CMP[bloat_m2,aura]:-NA}")" \
				"$(ratio "${CMP[bloat_m2,aura]:-NA}" "${CMP[bloat_m2,heap]:-NA}")"
			printf 'growth with indexes (pg_total_relation_size)\t%s\t%s\t-\n' "$(pct "${CMP[bloat_t0,heap]:-NA}" "${CMP[bloat_t1,heap]:-NA}")" \
				"$(pct "${CMP[bloat_t0,aura]:-NA}" "${CMP[bloat_t1,aura]:-NA}")"
			printf 'VACUUM passes of pgbench_accounts during the run (autovacuum, aura compaction workers)\t%s\t%s\t-\n' "${CMP[bloat_av,heap]:-NA}" "${CMP[bloat_av,aura]:-NA}"
			printf 'transactions / tps\t%s / %s\t%s / %s\t%s\n' "${CMP[bloat_n,heap]:-NA}" "$(fmt "${CMP[bloat_tps,heap]:-NA}" '%.1f')" \
				"${CMP[bloat_n,aura]:-NA}" "$(fmt "${CMP[bloat_tps,aura]:-NA}" '%.1f')" \
				"$(ratio "${CMP[bloat_tps,aura]:-NA}" "${CMP[bloat_tps,heap]:-NA}")"
		} | mdtable lrrr
		echo
		echo "Target: aura growth <= $TARGET_BLOAT%: **$(target_verdict "${CMP[bloat_growth,aura]:-NA}" '<=' "$TARGET_BLOAT")** (aura ${CMP[bloat_growth,aura]:-NA}%, heap ${CMP[bloat_growth,heap]:-NA}%)."
		echo
		for side in "${SIDES[@]}"; do
			echo "- size samples of pgbench_accounts every ${SAMPLE_EVERY}s during the run, $side (MiB): ${CMP[bloat_samples,$side]:-none}"
		done
		[ -n "$BLOAT_AURA_STATS" ] && { echo; echo "aura_stats('pgbench_accounts') right after the run: \`$BLOAT_AURA_STATS\`"; }
	fi
	if want compact-tps; then
		echo
		echo "## Compaction 3/3: TPC-B throughput under a continuous compaction loop (scale $BLOAT_SCALE, autovacuum off, median of $CTPS_ROUNDS rounds of ${CTPS_T}s)"
		echo
		echo "The loop runs its statement back to back in one extra session (pgbench -c 1) during the whole measured run, throttled as autovacuum is by default (vacuum_cost_delay = $CTPS_COST_DELAY, vacuum_cost_limit = $(sql postgres "SHOW vacuum_cost_limit" 2>/dev/null); the target) or at full speed (vacuum_cost_delay = 0); each run starts after a VACUUM (FREEZE) of the pgbench tables and a CHECKPOINT; rounds interleave heap/aura and alternate the order of the variants."
		echo
		{
			printf 'side\tcompaction loop\tno loop (tps)\tthrottled loop (tps)\twith/without\tpasses per run\ttarget\tverdict\tfull-speed loop (tps)\twith/without\tpasses per run\n'
			for side in "${SIDES[@]}"; do
				if [ "$side" = aura ]; then
					q="$(target_verdict "${CMP[ctps_ratio,aura]:-NA}" '>=' "$TARGET_CTPS")"; t=">= $TARGET_CTPS"
				else
					q="reference"; t="-"
				fi
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "${CMP_LOOP[$side]}" "$(fmt "${CMP[ctps_off,$side]:-NA}" '%.1f')" \
					"$(fmt "${CMP[ctps_on,$side]:-NA}" '%.1f')" "${CMP[ctps_ratio,$side]:-NA}" \
					"$(fmt "${CMP[ctps_passes_on,$side]:-NA}" '%.0f')" "$t" "$q" \
					"$(fmt "${CMP[ctps_full,$side]:-NA}" '%.1f')" "${CMP[ctps_ratio_full,$side]:-NA}" \
					"$(fmt "${CMP[ctps_passes_full,$side]:-NA}" '%.0f')"
			done
			printf 'aura/heap\t-\t%s\t%s\t-\t-\t-\t-\t%s\t-\t-\n' "$(ratio "${CMP[ctps_off,aura]:-NA}" "${CMP[ctps_off,heap]:-NA}")" \
				"$(ratio "${CMP[ctps_on,aura]:-NA}" "${CMP[ctps_on,heap]:-NA}")" \
				"$(ratio "${CMP[ctps_full,aura]:-NA}" "${CMP[ctps_full,heap]:-NA}")"
		} | mdtable llrrrrllrrr
		echo
		{
			printf 'rounds\theap\taura\n'
			printf 'no loop (tps)\t%s\t%s\n' "$(runs_of ctps_off heap '%.1f')" "$(runs_of ctps_off aura '%.1f')"
			printf 'throttled loop (tps)\t%s\t%s\n' "$(runs_of ctps_on heap '%.1f')" "$(runs_of ctps_on aura '%.1f')"
			printf 'throttled loop passes\t%s\t%s\n' "$(runs_of ctps_passes_on heap '%.0f')" "$(runs_of ctps_passes_on aura '%.0f')"
			printf 'full-speed loop (tps)\t%s\t%s\n' "$(runs_of ctps_full heap '%.1f')" "$(runs_of ctps_full aura '%.1f')"
			printf 'full-speed loop passes\t%s\t%s\n' "$(runs_of ctps_passes_full heap '%.0f')" "$(runs_of ctps_passes_full aura '%.0f')"
		} | mdtable
		[ -n "$CTPS_AURA_STATS" ] && { echo; echo "aura_stats('pgbench_accounts') after the last run: \`$CTPS_AURA_STATS\`"; }
	fi
	return 0
}

REPORT=$TMPD/report.md
{
	echo "# auradb benchmark: heap vs $AURA_AM"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: $(hostname 2>/dev/null || echo '?'), nproc=$(nproc), memory=$MEM, cpu=${CPU:-?}, $(uname -srm)"
	echo "- server: PostgreSQL $SERVER_VERSION ($( [ "$REUSE" = 1 ] && echo reused server || echo "scratch cluster, port $PORT")); $SETTINGS"
	echo "- mode: $MODE; parts: ${PARTS_RUN:-none}${PGBENCH_OPTS:+; PGBENCH_OPTS=$PGBENCH_OPTS}; clients=$CLIENTS, threads=$JOBS; total run time ${ELAPSED} s"
	if want workloads; then
		echo "- workloads: scale=$SCALE, rounds=$ROUNDS (interleaved heap, aura), duration=${T}s, COPY rows=$COPY_ROWS; pgbench -i time: heap ${INIT_SECS[heap]} s, aura ${INIT_SECS[aura]} s"
	fi
	if want size || want bloat || want compact-tps; then
		echo "- compaction: size at scale $SIZE_SCALE; bloat at scale $BLOAT_SCALE, $BLOAT_TX transactions; throughput under compaction at scale $BLOAT_SCALE, $CTPS_ROUNDS rounds of ${CTPS_T}s"
	fi
	echo "- databases: bench_heap (default_table_access_method=heap), bench_aura (default_table_access_method=$AURA_AM)"
	if want workloads; then
		echo
		echo "## Throughput (median of $ROUNDS rounds; ratio > 1 means aura is faster)"
		echo
		{
			printf 'workload\theap median\taura median\taura/heap\ttarget\tverdict\n'
			for wl in tpcb select update copy; do
				case $wl in
					tpcb)   name="TPC-B-like (tps)";    target=$TARGET_TPCB ;;
					select) name="select-only -S (tps)"; target= ;;
					update) name="simple-update -N (tps)"; target= ;;
					copy)   name="COPY bulk load (rows/s)"; target=$TARGET_COPY ;;
				esac
				h=$(med_of "$wl" heap); a=$(med_of "$wl" aura); q=$(ratio "$a" "$h")
				f='%.1f'; [ "$wl" = copy ] && f='%.0f'
				if [ -z "$target" ]; then verdict=-; tcol=-
				else
					tcol=">= $target"
					if [ "$q" = NA ]; then verdict=FAIL
					elif [ "$MODE" = short ]; then verdict="info (short)"
					elif awk -v q="$q" -v t="$target" 'BEGIN { exit !(q + 0 >= t + 0) }'; then verdict=PASS
					else verdict="BELOW TARGET"; fi
				fi
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(fmt "$h" "$f")" "$(fmt "$a" "$f")" "$q" "$tcol" "$verdict"
			done
		} | mdtable lrrrll
		echo
		echo "## Table sizes (after the runs; copy_target after the last COPY; ratio < 1 means aura is smaller)"
		echo
		{
			printf 'relation\theap total\taura total\ttotal aura/heap\theap main fork\taura main fork\tmain aura/heap\theap rows\taura rows\n'
			for rel in pgbench_accounts pgbench_history copy_target; do
				read -r ht hm hr < <(awk -F'\t' -v r="$rel" '$1 == r && $2 == "heap" { print $3, $4, $5 }' "$SIZES")
				read -r at am ar < <(awk -F'\t' -v r="$rel" '$1 == r && $2 == "aura" { print $3, $4, $5 }' "$SIZES")
				ht=${ht:-NA} hm=${hm:-NA} hr=${hr:-NA} at=${at:-NA} am=${am:-NA} ar=${ar:-NA}
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rel" "$(mib "$ht")" "$(mib "$at")" "$(ratio "$at" "$ht")" \
					"$(mib "$hm")" "$(mib "$am")" "$(ratio "$am" "$hm")" "$hr" "$ar"
			done
		} | mdtable
		if [ -n "$AURA_STATS" ]; then
			echo
			echo "aura_stats('pgbench_accounts') in bench_aura after the workloads: \`$AURA_STATS\`"
		fi
		echo
		echo "## Individual rounds"
		echo
		{
			printf 'workload\theap rounds\taura rounds\n'
			for wl in tpcb select update copy; do
				f='%.1f'; [ "$wl" = copy ] && f='%.0f'
				printf '%s\t%s\t%s\n' "$wl" "$(runs_of "$wl" heap "$f")" "$(runs_of "$wl" aura "$f")"
			done
		} | mdtable
	fi
	compaction_report
	echo
	echo "## Checks"
	echo
	{
		printf 'check\tresult\tdetail\n'
		cat "$CHECKS"
	} | mdtable lll
	echo
	if [ "$FAILS" = 0 ]; then
		echo "**Result: OK** (all workloads completed, consistency checks held; performance ratios and size targets never fail the run$( [ "$MODE" = short ] && echo ', and are informational in --short mode'))"
	else
		echo "**Result: FAILED** ($FAILS problem(s), see Checks)"
	fi
} >"$REPORT"

echo
cat "$REPORT"
if [ -n "$OUT" ]; then
	if cp "$REPORT" "$OUT"; then log "report written to $OUT"; else warn "cannot write $OUT"; fi
fi

if [ "$FAILS" != 0 ]; then
	server_log_tail 20
	exit 1
fi
exit 0
