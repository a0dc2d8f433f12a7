#!/usr/bin/env bash
# pgbench -i and a 4-client TPC-B-like run with default_table_access_method
# = aura complete, every pgbench table is an aura table, and the TPC-B
# invariant holds: sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta).
set -euo pipefail
db=aura_pgbench_check
as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }
as_user psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
as_user psql -X -q -d "$db" -c "CREATE EXTENSION auradb" \
	-c "ALTER DATABASE $db SET default_table_access_method = aura"
as_user pgbench -q -i -s 2 "$db"
as_user pgbench -n -c 4 -j 2 -T "${AURA_PGBENCH_SECONDS:-15}" "$db" | grep -E "tps|failed"
non_aura=$(as_user psql -X -At -d "$db" -c "SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname LIKE 'pgbench_%' AND c.relkind = 'r' AND a.amname <> 'aura'")
sums=$(as_user psql -X -At -d "$db" -c "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(delta) FROM pgbench_history), (SELECT count(*) FROM pgbench_history)")
echo "non-aura pgbench tables: $non_aura; sums abalance|bbalance|tbalance|delta|transactions: $sums"
IFS='|' read -r a b t d n <<<"$sums"
as_user psql -X -q -d postgres -c "DROP DATABASE $db"
[ "$non_aura" = 0 ] && [ "$n" -gt 0 ] && [ "$a" = "$b" ] && [ "$b" = "$t" ] && [ "$t" = "$d" ]
