#!/usr/bin/env bash
# test/pgbench-demo.sh - run pgbench (TPC-B like) on aura tables and verify
# the TPC-B balance invariant.
#
#     sudo bash test/pgbench-demo.sh
#     sudo SCALE=1 DURATION=5 bash test/pgbench-demo.sh        # quick run
#
# Steps: install Debian packages (skip with AURA_SKIP_APT=1), build and install
# auradb (skip with AURA_SKIP_BUILD=1), start a scratch cluster as an
# unprivileged user, CREATE EXTENSION auradb, make $AURA_TEST_AM the database's
# default_table_access_method, pgbench -i -s $SCALE, pgbench -c $CLIENTS
# -j $JOBS -T $DURATION, then check
#     sum(abalance) = sum(bbalance) = sum(tbalance) = sum(pgbench_history.delta)
# plus row counts, an index-scan cross-check and that all four pgbench tables
# really use the table access method.  Exit status is non-zero on any failure.
#
# Knobs: AURA_TEST_AM (default aura; e.g. heap to try the script without the
# extension), SCALE (10), DURATION (30 s), CLIENTS (4), JOBS (2), plus those of
# test/lib.sh.
set -euo pipefail

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AM="${AURA_TEST_AM:-aura}"
SCALE="${SCALE:-10}"
DURATION="${DURATION:-30}"
CLIENTS="${CLIENTS:-4}"
JOBS="${JOBS:-2}"
DB="${AURA_DEMO_DB:-pgbench_demo}"
PROBLEMS=()

# shellcheck disable=SC2317  # invoked by the EXIT trap
on_exit() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ "$rc" -ne 0 ] && [ "${#PROBLEMS[@]}" -eq 0 ]; then
		PROBLEMS+=("stopped early (exit code $rc)")
	fi
	if [ "${#PROBLEMS[@]}" -gt 0 ] && [ -n "${AURA_SERVER_LOG:-}" ] && [ -f "$AURA_SERVER_LOG" ]; then
		echo "---- tail of the scratch server log ----"
		tail -n 60 "$AURA_SERVER_LOG"
		echo "---- end of server log ----"
	fi
	aura_cleanup
	echo
	if [ "${#PROBLEMS[@]}" -gt 0 ]; then
		printf 'pgbench demo FAILED (access method %s, scale %s):\n' "$AM" "$SCALE"
		printf '  - %s\n' "${PROBLEMS[@]}"
		exit 1
	fi
	printf 'pgbench demo PASSED (access method %s, scale %s, %ss): TPC-B invariant holds\n' \
		"$AM" "$SCALE" "$DURATION"
	exit 0
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	PROBLEMS+=("$*")
	err "$*"
}

# step NAME CMD...: run a mandatory step, stop the demo if it fails.
step() {
	local name="$1"
	shift
	if ! "$@"; then
		fail "$name failed"
		exit 1
	fi
}

for v in SCALE DURATION CLIENTS JOBS; do
	case "${!v}" in
		'' | *[!0-9]*) err "$v must be a positive integer (got '${!v}')"; exit 2 ;;
	esac
done

step "root check" require_root
step "package installation" install_deps
step "test user creation" ensure_test_user
step "source copy" copy_tree
step "build/install" build_and_install "$AURA_WORK"
step "scratch cluster start" start_scratch_cluster

log "creating database $DB"
step "createdb" "$PG_BIN/createdb" "$DB"
export PGDATABASE="$DB"

available="$(aura_psql -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'auradb'")"
if [ "$AM" = aura ] || [ "$available" = 1 ]; then
	log "CREATE EXTENSION auradb"
	step "CREATE EXTENSION auradb" aura_psql -c "CREATE EXTENSION auradb"
else
	warn "auradb is not installed; continuing with AURA_TEST_AM=$AM and no extension"
fi

log "ALTER DATABASE $DB SET default_table_access_method = $AM"
step "setting default_table_access_method" aura_psql -v am="$AM" -v db="$DB" <<'SQL'
ALTER DATABASE :"db" SET default_table_access_method = :'am';
SQL

log "pgbench -i -s $SCALE"
step "pgbench -i" "$PG_BIN/pgbench" -i -s "$SCALE" "$DB"

echo
echo "==== pgbench result: pgbench -c $CLIENTS -j $JOBS -T $DURATION ===="
pgbench_out="$AURA_TMP/pgbench.out"
rc=0
"$PG_BIN/pgbench" -c "$CLIENTS" -j "$JOBS" -T "$DURATION" -P 5 "$DB" 2>&1 |
	tee "$pgbench_out" || rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	fail "pgbench run exited with code $rc"
fi
processed="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$pgbench_out")"
if [ -z "$processed" ] || [ "$processed" -eq 0 ]; then
	fail "pgbench processed no transactions"
fi

echo
echo "==== tables and their access method ===="
aura_psql -c '\dt+ pgbench_*'
aura_psql <<'SQL'
SELECT c.relname AS table_name, am.amname AS access_method,
       pg_size_pretty(pg_table_size(c.oid)) AS size
FROM pg_class c JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind = 'r' AND c.relname LIKE 'pgbench\_%'
ORDER BY 1;
SQL
am_counts="$(aura_psql -At -F ' ' -v am="$AM" <<'SQL'
SELECT count(*), count(*) FILTER (WHERE am.amname <> :'am')
FROM pg_class c JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind = 'r'
  AND c.relname IN ('pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history');
SQL
)" || { fail "could not query the access methods of the pgbench tables"; exit 1; }
read -r ntables nwrong <<<"$am_counts"
if [ "$ntables" != 4 ]; then
	fail "expected 4 pgbench tables, found $ntables"
fi
if [ "$nwrong" != 0 ]; then
	fail "$nwrong pgbench table(s) do not use access method $AM"
fi

echo
echo "==== TPC-B invariant: sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta) ===="
invariant_sql="
SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) AS sum_abalance,
       (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches) AS sum_bbalance,
       (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers)  AS sum_tbalance,
       (SELECT coalesce(sum(delta), 0)    FROM pgbench_history)  AS sum_delta,
       (SELECT count(*) FROM pgbench_history)  AS history_rows,
       (SELECT count(*) FROM pgbench_accounts) AS accounts,
       (SELECT count(*) FROM pgbench_branches) AS branches,
       (SELECT count(*) FROM pgbench_tellers)  AS tellers"
aura_psql -c "$invariant_sql"
sums="$(aura_psql -At -F ' ' -c "$invariant_sql")" ||
	{ fail "could not compute the TPC-B sums"; exit 1; }
read -r sa sb st sd nh na nb nt <<<"$sums"
if [ "$sa" = "$sb" ] && [ "$sb" = "$st" ] && [ "$st" = "$sd" ]; then
	log "invariant holds: all four sums are $sa"
else
	fail "TPC-B invariant violated: sum(abalance)=$sa sum(bbalance)=$sb sum(tbalance)=$st sum(delta)=$sd"
fi
[ "$na" = $((100000 * SCALE)) ] || fail "pgbench_accounts has $na rows, expected $((100000 * SCALE))"
[ "$nb" = "$SCALE" ] || fail "pgbench_branches has $nb rows, expected $SCALE"
[ "$nt" = $((10 * SCALE)) ] || fail "pgbench_tellers has $nt rows, expected $((10 * SCALE))"
log "pgbench_history has $nh rows; pgbench reported ${processed:-?} processed transactions"

# The same sum through the primary key index (index scan -> TID -> row fetch).
idx_sum="$(aura_psql -q -At <<'SQL'
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts WHERE aid >= 1;
SQL
)" || idx_sum="(query failed)"
if [ "$idx_sum" = "$sa" ]; then
	log "index scan agrees: sum(abalance) via pgbench_accounts_pkey = $idx_sum"
else
	fail "index scan sum(abalance)=$idx_sum differs from sequential scan sum $sa"
fi

if [ "$AM" = aura ]; then
	echo
	echo "==== aura_stats('pgbench_accounts') ===="
	aura_psql -x -c "SELECT * FROM aura_stats('pgbench_accounts')" ||
		warn "aura_stats('pgbench_accounts') failed (not counted as a demo failure)"
fi

if [ "${#PROBLEMS[@]}" -gt 0 ]; then
	exit 1
fi
exit 0
