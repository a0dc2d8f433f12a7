#!/usr/bin/env bash
# Concurrent writers on a few hot rows of aura tables, as pgbench clients:
#  - UPDATE ... SET n = n + 1 on one row: no update may be lost;
#  - INSERT ... ON CONFLICT DO UPDATE on four keys, two of which existed
#    before: never a duplicate key, every increment counted.
# Regressions this catches: same-rowid updates reported as deletes (lost
# updates), unique checks answering from a superseded newest version
# (duplicate keys).
set -euo pipefail
db=aura_concurrency_check
clients=4
tx=400
as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
echo "UPDATE counter SET n = n + 1 WHERE id = 1;" >"$work/inc.sql"
echo "INSERT INTO up VALUES (1 + (random() * 3)::int, 1) ON CONFLICT (k) DO UPDATE SET v = up.v + excluded.v;" >"$work/upsert.sql"
chmod 644 "$work"/*.sql

as_user psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
as_user psql -X -q -d "$db" -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION auradb;
CREATE TABLE counter (id int PRIMARY KEY, n int) USING aura;
INSERT INTO counter VALUES (1, 0), (2, 0);
CREATE TABLE up (k int PRIMARY KEY, v int) USING aura;
INSERT INTO up VALUES (1, 1);
INSERT INTO up VALUES (2, 1) ON CONFLICT (k) DO NOTHING;
SQL
as_user pgbench -n -c "$clients" -j 2 -t "$tx" -f "$work/inc.sql" "$db" | grep -E "failed"
as_user pgbench -n -c "$clients" -j 2 -t "$tx" -f "$work/upsert.sql" "$db" | grep -E "failed"
got=$(as_user psql -X -At -d "$db" -c "SELECT (SELECT n FROM counter WHERE id = 1), (SELECT count(*) - count(DISTINCT k) FROM up), (SELECT sum(v) FROM up)")
want="$((clients * tx))|0|$((clients * tx + 2))"
echo "counter|duplicate keys|upsert sum: got $got, want $want"
as_user psql -X -q -d postgres -c "DROP DATABASE $db"
[ "$got" = "$want" ]
