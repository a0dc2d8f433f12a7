#!/usr/bin/env bash
#
# bench/bench.sh -- compare the aura table access method against heap.
#
# Starts a private scratch PostgreSQL 15 cluster (as the unprivileged user
# "auradb" when run as root), creates two databases that differ only in
# default_table_access_method, and runs the same pgbench / COPY workloads on
# both, interleaved round by round.  Prints medians, aura/heap ratios, table
# sizes and a TPC-B consistency check.  See bench/README.md.
#
# Usage: bench/bench.sh [--short] [--reuse] [--out FILE]
#
#   --short      CI mode: scale 1, 2 rounds of 5 s, 100k-row COPY (~2 min).
#                Never fails on performance ratios.
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
#   PGBENCH_OPTS       extra options for every measured pgbench run
#
# Exit status: 0 when every workload completed and the consistency checks
# held; 1 otherwise; 2 on usage/setup errors.  Performance ratios never
# change the exit status.

set -u -o pipefail

# ---------------------------------------------------------------- options --

MODE=full
REUSE=0
OUT=
usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; }
while [ $# -gt 0 ]; do
	case "$1" in
		--short) MODE=short ;;
		--full) MODE=full ;;
		--reuse) REUSE=1 ;;
		--out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a file" >&2; exit 2; }
		       OUT=$2; shift ;;
		--out=*) OUT=${1#--out=} ;;
		-h|--help) usage; exit 0 ;;
		*) echo "bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

AURA_AM=${AURA_AM:-aura}
if ! [[ $AURA_AM =~ ^[a-z_][a-z0-9_]*$ ]]; then
	echo "bench.sh: AURA_AM must be a plain lower-case identifier, got '$AURA_AM'" >&2
	exit 2
fi

if [ "$MODE" = short ]; then
	SCALE=1 ROUNDS=2 T=5 COPY_ROWS=100000 SHARED_BUFFERS=128MB
else
	SCALE=10 ROUNDS=5 T=30 COPY_ROWS=1000000 SHARED_BUFFERS=512MB
fi
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
for v in SCALE ROUNDS T COPY_ROWS CLIENTS JOBS PORT; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench.sh: $v must be a positive integer, got '${!v}'" >&2
		exit 2
	fi
done

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

declare -A INIT_SECS
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

nok=$(awk -F'\t' '$4 != "FAIL"' "$RESULTS" | wc -l)
nall=$((4 * ROUNDS * 2))
if [ "$nok" = "$nall" ]; then
	add_check "workloads completed" OK "$nok of $nall runs (4 workloads x $ROUNDS rounds x 2 databases)"
else
	add_check "workloads completed" FAIL "$nok of $nall runs (4 workloads x $ROUNDS rounds x 2 databases)"
fi

AURA_STATS=
if [ "$AURA_AM" = aura ]; then
	AURA_STATS=$(sql bench_aura "SELECT row_to_json(s) FROM aura_stats('pgbench_accounts') s" 2>&1 | head -n 3)
fi

# -------------------------------------------------------------- report --

SETTINGS=$(sql postgres "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
                         FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout',
                         'fsync', 'synchronous_commit', 'full_page_writes', 'autovacuum', 'wal_level')" 2>/dev/null)

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

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
ELAPSED=$((SECONDS - START_SECONDS))

REPORT=$TMPD/report.md
{
	echo "# auradb benchmark: heap vs $AURA_AM"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: $(hostname 2>/dev/null || echo '?'), nproc=$(nproc), memory=$MEM, cpu=${CPU:-?}, $(uname -srm)"
	echo "- server: PostgreSQL $SERVER_VERSION ($( [ "$REUSE" = 1 ] && echo reused server || echo "scratch cluster, port $PORT")); $SETTINGS"
	echo "- mode: $MODE; scale=$SCALE, rounds=$ROUNDS (interleaved heap, aura), duration=${T}s, clients=$CLIENTS, threads=$JOBS, COPY rows=$COPY_ROWS${PGBENCH_OPTS:+, PGBENCH_OPTS=$PGBENCH_OPTS}"
	echo "- databases: bench_heap (default_table_access_method=heap), bench_aura (default_table_access_method=$AURA_AM)"
	echo "- pgbench -i time: heap ${INIT_SECS[heap]} s, aura ${INIT_SECS[aura]} s; total run time ${ELAPSED} s"
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
	echo
	echo "## Checks"
	echo
	{
		printf 'check\tresult\tdetail\n'
		cat "$CHECKS"
	} | mdtable lll
	if [ -n "$AURA_STATS" ]; then
		echo
		echo "aura_stats('pgbench_accounts') in bench_aura: \`$AURA_STATS\`"
	fi
	echo
	if [ "$FAILS" = 0 ]; then
		echo "**Result: OK** (all workloads completed, consistency checks held$( [ "$MODE" = short ] && echo '; ratios are informational in --short mode'))"
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
