#!/usr/bin/env bash
# Concurrency stress test: 8 pgbench clients for ~25 s on a small hot key set
# of aura tables, mixing
#   - transfers between two random hot accounts: SELECT ... FOR UPDATE (in id
#     order) first; plain UPDATEs in random order (deadlocks); REPEATABLE READ
#     read-then-write (serialization failures).  accounts.balance is indexed,
#     so every transfer is an update of an indexed column;
#   - audits: sum(balance) in one statement (seq scan, index scan) and
#     REPEATABLE READ with FOR SHARE on every account;
#   - a queue: INSERT, and DELETE ... RETURNING of the oldest item picked with
#     FOR UPDATE SKIP LOCKED;
#   - delete and re-insert of the same key in one transaction (one variant
#     after a SELECT ... FOR UPDATE of the row);
#   - INSERT ... ON CONFLICT DO UPDATE counters on 8 keys (4 exist before),
#     INSERT ... ON CONFLICT DO NOTHING on 300 keys;
#   - foreign keys: child rows inserted for 10 hot parents whose non-key
#     columns are updated all the time, children deleted; 5 more parents are
#     deleted (refused by the FK while they have children) and re-inserted,
#     children added to them (refused while they are gone), in plpgsql
#     subtransactions that catch foreign_key_violation.
# Every transaction records what it did in the table xlog, in the same
# transaction, so after the run every committed change is accounted for:
# no duplicate keys (seq scan, index scan, bitmap scan), every table has the
# same content whatever the scan, balances sum to the initial total and match
# the logged transfers, every audit saw the total, upsert counters equal the
# logged upserts, queue items produced = remaining + consumed with none
# consumed twice, delete/re-insert keys present exactly once, FK integrity,
# parent existence matches the logged deletes/inserts, amcheck on every index,
# aura_check on every aura table.  A VACUUM (FREEZE) loop runs alongside, so
# that aura's rows keep going cold under the workload.
# pgbench must finish with exit status 0, no aborted client, and every failed
# transaction must be a serialization or deadlock failure (retried with
# --max-tries first).
#
# Knobs: AURA_STRESS_AM=aura (heap: validate the test itself),
# AURA_STRESS_SECONDS=25, AURA_STRESS_CLIENTS=8, AURA_STRESS_JOBS=4,
# AURA_STRESS_KEEP=1 (keep the database; it is always kept on failure).
set -euo pipefail

am="${AURA_STRESS_AM:-aura}"
seconds="${AURA_STRESS_SECONDS:-25}"
clients="${AURA_STRESS_CLIENTS:-8}"
jobs="${AURA_STRESS_JOBS:-4}"
db=aura_stress_check
naccts=20
initial_balance=1000
total=$((naccts * initial_balance))
nitems=30
nhot=10    # parents 1..10 are never deleted
nvol=5     # parents 101..105 are deleted and re-inserted
case "$am" in *[!a-z0-9_]* | "") echo "invalid AURA_STRESS_AM '$am'" >&2; exit 2 ;; esac

as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }
psql_db() { as_user psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "concurrency_stress ($am): FAILED: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
log_offset=0
if [ -n "${AURA_SERVER_LOG:-}" ] && [ -f "$AURA_SERVER_LOG" ]; then
	log_offset=$(stat -c %s "$AURA_SERVER_LOG")
fi
t_start=$(date +%s)

echo "concurrency_stress: access method $am, $clients clients, ${seconds}s"
as_user psql -X -q -d postgres -v ON_ERROR_STOP=1 \
	-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Short deadlock_timeout: the workload deadlocks on purpose.  statement_timeout
# turns a hang into a failure instead of a stuck check.
as_user psql -X -q -d postgres -v ON_ERROR_STOP=1 \
	-c "ALTER DATABASE $db SET deadlock_timeout = '50ms'" \
	-c "ALTER DATABASE $db SET statement_timeout = '15s'"

psql_db <<SQL
$(if [ "$am" = aura ]; then echo "CREATE EXTENSION auradb;"; fi)
SET default_table_access_method = $am;

CREATE TABLE xlog (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    a bigint, b bigint, amount bigint,
    client int,
    at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE INDEX xlog_kind_a_idx ON xlog (kind, a);

CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL,
                       ops int NOT NULL DEFAULT 0, note text);
CREATE INDEX accounts_balance_idx ON accounts (balance);
INSERT INTO accounts (id, balance, note)
SELECT i, $initial_balance, 'account ' || i FROM generate_series(1, $naccts) i;

CREATE TABLE queue (id bigserial PRIMARY KEY, item bigint NOT NULL UNIQUE,
                    payload text);
CREATE SEQUENCE item_seq;
CREATE TABLE consumed (item bigint NOT NULL, client int);   -- no unique key on purpose
CREATE INDEX consumed_item_idx ON consumed (item);

CREATE TABLE items (k int PRIMARY KEY, v int NOT NULL, payload text);
INSERT INTO items SELECT i, 0, repeat(md5(i::text), 3) FROM generate_series(1, $nitems) i;

CREATE TABLE counters (k int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO counters SELECT i, 0 FROM generate_series(1, 4) i;   -- keys 5..8 appear later

CREATE TABLE seen (k int PRIMARY KEY, client int);

CREATE TABLE parents (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, info text);
INSERT INTO parents (id, info) SELECT i, 'hot parent' FROM generate_series(1, $nhot) i;
INSERT INTO parents (id, info) SELECT i, 'volatile parent' FROM generate_series(101, 100 + $nvol) i;
CREATE TABLE children (id bigserial PRIMARY KEY,
                       parent_id int NOT NULL REFERENCES parents (id),
                       note text);
CREATE INDEX children_parent_idx ON children (parent_id);

-- One step on a volatile parent p, in subtransactions that catch the FK
-- violations the concurrency makes legitimate.
CREATE FUNCTION fk_step(p int, op int, who int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    cid bigint;
BEGIN
    IF op = 1 THEN          -- adopt: a child for p (refused while p is gone)
        BEGIN
            INSERT INTO children (parent_id, note) VALUES (p, 'adopted') RETURNING id INTO cid;
            INSERT INTO xlog (kind, a, b, client) VALUES ('child', cid, p, who);
        EXCEPTION WHEN foreign_key_violation THEN
            INSERT INTO xlog (kind, b, client) VALUES ('adopt_refused', p, who);
        END;
    ELSIF op = 2 THEN       -- remove p's children, then try to delete p
        WITH d AS (DELETE FROM children WHERE parent_id = p RETURNING id)
        INSERT INTO xlog (kind, a, b, client) SELECT 'child_del', id, p, who FROM d;
        BEGIN
            DELETE FROM parents WHERE id = p;
            IF FOUND THEN
                INSERT INTO xlog (kind, a, client) VALUES ('pdel', p, who);
            END IF;
        EXCEPTION WHEN foreign_key_violation THEN
            INSERT INTO xlog (kind, a, client) VALUES ('pdel_refused', p, who);
        END;
    ELSE                    -- bring p back if it is gone
        WITH i AS (INSERT INTO parents (id, info) VALUES (p, 'revived by ' || who)
                   ON CONFLICT (id) DO NOTHING RETURNING id)
        INSERT INTO xlog (kind, a, client) SELECT 'pins', id, who FROM i;
    END IF;
END
\$\$;
ANALYZE;
SQL

# ---------------------------------------------------------------------------
# pgbench scripts
pick_two="\\set a random(1, $naccts)
\\set b random(1, $((naccts - 1)))
\\if :b >= :a
\\set b :b + 1
\\endif
\\set amt random(1, 100)"

cat >"$work/transfer_lock.sql" <<EOF
$pick_two
BEGIN;
SELECT id, balance FROM accounts WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;
UPDATE accounts SET balance = balance - :amt, ops = ops + 1 WHERE id = :a;
UPDATE accounts SET balance = balance + :amt, ops = ops + 1 WHERE id = :b;
INSERT INTO xlog (kind, a, b, amount, client) VALUES ('transfer', :a, :b, :amt, :client_id);
END;
EOF
cat >"$work/transfer_plain.sql" <<EOF
$pick_two
BEGIN;
UPDATE accounts SET balance = balance - :amt, ops = ops + 1 WHERE id = :a;
UPDATE accounts SET balance = balance + :amt, ops = ops + 1 WHERE id = :b;
INSERT INTO xlog (kind, a, b, amount, client) VALUES ('transfer', :a, :b, :amt, :client_id);
END;
EOF
# Read, then write the value read: correct only because REPEATABLE READ
# refuses to update a row changed since the snapshot.
cat >"$work/transfer_rr.sql" <<EOF
$pick_two
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT balance AS bal_a FROM accounts WHERE id = :a \\gset
SELECT balance AS bal_b FROM accounts WHERE id = :b \\gset
UPDATE accounts SET balance = :bal_a - :amt, ops = ops + 1 WHERE id = :a;
UPDATE accounts SET balance = :bal_b + :amt, ops = ops + 1 WHERE id = :b;
INSERT INTO xlog (kind, a, b, amount, client) VALUES ('transfer', :a, :b, :amt, :client_id);
END;
EOF
cat >"$work/audit.sql" <<EOF
INSERT INTO xlog (kind, amount, client) SELECT 'audit', sum(balance), :client_id FROM accounts;
BEGIN;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
INSERT INTO xlog (kind, amount, client) SELECT 'audit_idx', sum(balance), :client_id FROM accounts WHERE id > 0;
INSERT INTO xlog (kind, amount, client) SELECT 'audit_balidx', sum(balance), :client_id FROM accounts WHERE balance > -1000000000;
COMMIT;
EOF
cat >"$work/audit_share.sql" <<EOF
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO xlog (kind, amount, client)
SELECT 'audit_share', sum(balance), :client_id FROM (SELECT balance FROM accounts FOR SHARE) s;
END;
EOF
cat >"$work/produce.sql" <<EOF
WITH p AS (INSERT INTO queue (item, payload) VALUES (nextval('item_seq'), 'from ' || :client_id) RETURNING item)
INSERT INTO xlog (kind, a, client) SELECT 'produce', item, :client_id FROM p;
EOF
cat >"$work/consume.sql" <<EOF
BEGIN;
WITH c AS (DELETE FROM queue
            WHERE id = (SELECT id FROM queue ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING item),
     i AS (INSERT INTO consumed (item, client) SELECT item, :client_id FROM c RETURNING item)
INSERT INTO xlog (kind, a, client) SELECT 'consume', item, :client_id FROM i;
END;
EOF
readd_stmt="WITH d AS (DELETE FROM items WHERE k = :k RETURNING k, v, payload),
     i AS (INSERT INTO items (k, v, payload) SELECT k, v + 1, payload FROM d RETURNING k)
INSERT INTO xlog (kind, a, client) SELECT 'readd', k, :client_id FROM i;"
cat >"$work/readd.sql" <<EOF
\\set k random(1, $nitems)
$readd_stmt
EOF
cat >"$work/readd_lock.sql" <<EOF
\\set k random(1, $nitems)
BEGIN;
SELECT k, v FROM items WHERE k = :k FOR UPDATE;
$readd_stmt
END;
EOF
cat >"$work/upsert.sql" <<EOF
\\set k random(1, 8)
BEGIN;
INSERT INTO counters (k, n) VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET n = counters.n + 1;
INSERT INTO xlog (kind, a, client) VALUES ('upsert', :k, :client_id);
END;
EOF
cat >"$work/seen.sql" <<EOF
\\set k random(1, 300)
WITH i AS (INSERT INTO seen (k, client) VALUES (:k, :client_id) ON CONFLICT DO NOTHING RETURNING k)
INSERT INTO xlog (kind, a, client) SELECT 'seen', k, :client_id FROM i;
EOF
cat >"$work/fk_hot.sql" <<EOF
\\set p random(1, $nhot)
\\set q random(1, $nhot)
\\set r random(1, $nhot)
BEGIN;
WITH c AS (INSERT INTO children (parent_id, note) VALUES (:p, 'child of hot ' || :p) RETURNING id, parent_id)
INSERT INTO xlog (kind, a, b, client) SELECT 'child', id, parent_id, :client_id FROM c;
UPDATE parents SET n = n + 1, info = 'updated by ' || :client_id WHERE id = :q;
INSERT INTO xlog (kind, a, client) VALUES ('pupd', :q, :client_id);
WITH d AS (DELETE FROM children WHERE id = (SELECT min(id) FROM children WHERE parent_id = :r) RETURNING id, parent_id)
INSERT INTO xlog (kind, a, b, client) SELECT 'child_del', id, parent_id, :client_id FROM d;
END;
EOF
cat >"$work/fk_lock.sql" <<EOF
\\set p random(1, $nhot)
BEGIN;
SELECT id FROM parents WHERE id = :p FOR KEY SHARE;
SELECT id, n FROM parents WHERE id = :p FOR SHARE;
UPDATE parents SET n = n + 1 WHERE id = :p;
INSERT INTO xlog (kind, a, client) VALUES ('pupd', :p, :client_id);
END;
EOF
cat >"$work/fk_volatile.sql" <<EOF
\\set p random(101, $((100 + nvol)))
\\set op random(1, 3)
SELECT fk_step(:p, :op, :client_id);
EOF
chmod 644 "$work"/*.sql

bench=(
	-f "$work/transfer_lock.sql@10"
	-f "$work/transfer_plain.sql@6"
	-f "$work/transfer_rr.sql@5"
	-f "$work/audit.sql@3"
	-f "$work/audit_share.sql@1"
	-f "$work/produce.sql@6"
	-f "$work/consume.sql@5"
	-f "$work/readd.sql@3"
	-f "$work/readd_lock.sql@3"
	-f "$work/upsert.sql@8"
	-f "$work/seen.sql@4"
	-f "$work/fk_hot.sql@8"
	-f "$work/fk_lock.sql@2"
	-f "$work/fk_volatile.sql@6"
)

echo "running pgbench -c $clients -j $jobs -T $seconds --max-tries=0 (14 scripts)"
# Meanwhile VACUUM (FREEZE) runs every half second, so that on aura the
# settled rows keep going cold and the workload keeps meeting cold rows:
# updates chained to them, row locks and FK checks on them, rolled-back
# (deadlocked, serialization-failed) updates of them.
touch "$work/vacuuming"
(
	while [ -e "$work/vacuuming" ]; do
		psql_db -c "VACUUM (FREEZE) parents, accounts, items, counters, seen" \
			>/dev/null 2>>"$work/vacuum.err" || echo "VACUUM failed" >>"$work/vacuum.err"
		sleep 0.5
	done
) &
vacuum_pid=$!
bench_rc=0
(cd "$work" && timeout -k 10 $((seconds + 60)) runuser -u "$PGUSER" -- env PATH="$PATH" \
	PGHOST="$PGHOST" PGPORT="$PGPORT" pgbench -n -c "$clients" -j "$jobs" -T "$seconds" \
	--max-tries=0 --failures-detailed "${bench[@]}" "$db") \
	>"$work/pgbench.out" 2>"$work/pgbench.err" || bench_rc=$?
rm -f "$work/vacuuming"
wait "$vacuum_pid" || true
t_bench=$(date +%s)
if [ -s "$work/vacuum.err" ]; then
	echo "---- VACUUM loop errors (first 10 lines) ----"
	head -n 10 "$work/vacuum.err"
	fail "the VACUUM loop failed"
fi
if [ "$bench_rc" -eq 124 ] || [ "$bench_rc" -eq 137 ]; then
	# Clients still stuck after the run and statement_timeout: the server hangs.
	echo "---- pg_stat_activity ----"
	timeout 10 runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" \
		psql -X -d postgres -c "SELECT pid, state, wait_event_type, wait_event, now() - query_start AS running,
		  left(query, 80) AS query FROM pg_stat_activity WHERE datname = '$db'" || true
	tail -n 20 "$work/pgbench.err" >&2 || true
	fail "pgbench did not finish within $((seconds + 60)) s (clients hang)"
fi
sed -n '/^transaction type/,/^SQL script 1/p' "$work/pgbench.out" | sed '$d'
if [ -s "$work/pgbench.err" ]; then
	echo "---- pgbench stderr (first 30 lines) ----"
	head -n 30 "$work/pgbench.err"
	echo "----"
fi

# ---------------------------------------------------------------------------
# pgbench verdict
problems=()
[ "$bench_rc" -eq 0 ] || problems+=("pgbench exited with status $bench_rc")
if grep -qiE 'aborted|error' "$work/pgbench.err"; then
	problems+=("pgbench reported errors or aborted clients (stderr above)")
fi
pb_num() { sed -n "s/^$1: \([0-9][0-9]*\).*/\1/p" "$work/pgbench.out" | head -n 1; }
processed=$(pb_num 'number of transactions actually processed')
failed=$(pb_num 'number of failed transactions')
ser=$(pb_num 'number of serialization failures')
dl=$(pb_num 'number of deadlock failures')
retried=$(pb_num 'number of transactions retried')
retries=$(pb_num 'total number of retries')
if [ -z "$processed" ] || [ -z "$failed" ] || [ -z "$ser" ] || [ -z "$dl" ]; then
	problems+=("could not parse the pgbench summary")
else
	[ "$processed" -gt 0 ] || problems+=("pgbench processed no transaction")
	[ "$failed" -eq $((ser + dl)) ] ||
		problems+=("pgbench: $failed failed transactions, only $ser serialization + $dl deadlock failures")
fi
echo "pgbench: exit $bench_rc, processed ${processed:-?}, failed ${failed:-?}" \
	"(serialization ${ser:-?}, deadlock ${dl:-?}), retried ${retried:-?}, retries ${retries:-?}"

# ---------------------------------------------------------------------------
# Verification.  Every check prints "name|t|detail" or "name|f|detail".
tables_am=$(psql_db -c "SELECT string_agg(c.relname || '=' || a.amname, ' ' ORDER BY c.relname)
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')")
echo "tables: $tables_am"
non_am=$(psql_db -c "SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND a.amname <> '$am'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')")
[ "$non_am" = 0 ] || problems+=("$non_am table(s) do not use access method $am")

# Scan modes, forced through planner settings.
declare -A mode_set=(
	[seq]="SET enable_seqscan = on; SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;"
	[index]="SET enable_seqscan = off; SET enable_indexscan = on; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;"
	[bitmap]="SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = on;"
)
declare -A mode_plan=([seq]="Seq Scan on" [index]="Index Scan using" [bitmap]="Bitmap Index Scan on")

# Fingerprints: table|key|index|predicate.  The predicate is true for every
# row, and lets the planner use the index.
fingerprints=(
	"accounts|id|accounts_pkey|id > -1000000"
	"accounts|id|accounts_balance_idx|balance > -1000000000"
	"xlog|id|xlog_pkey|id > 0"
	"xlog|id|xlog_kind_a_idx|kind > ''"
	"queue|id|queue_pkey|id > 0"
	"queue|item|queue_item_key|item > 0"
	"consumed|item|consumed_item_idx|item > 0"
	"items|k|items_pkey|k > -1000000"
	"counters|k|counters_pkey|k > -1000000"
	"seen|k|seen_pkey|k > -1000000"
	"parents|id|parents_pkey|id > -1000000"
	"children|id|children_pkey|id > 0"
	"children|id|children_parent_idx|parent_id > -1000000"
)
declare -A seq_fp=()
for fp in "${fingerprints[@]}"; do
	IFS='|' read -r tab key idx pred <<<"$fp"
	# count(*) and count(DISTINCT key): duplicates; md5 of the content.
	q="SELECT count(*), count(DISTINCT $key), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM $tab x WHERE $pred"
	for mode in seq index bitmap; do
		if [ "$mode" = seq ]; then node="${mode_plan[$mode]} $tab"; else node="${mode_plan[$mode]} $idx"; fi
		plan=$(psql_db -c "${mode_set[$mode]} EXPLAIN (COSTS OFF) $q")
		if ! grep -qF "$node" <<<"$plan"; then
			problems+=("$tab ($mode scan via $idx): plan has no '$node': $(tr '\n' ' ' <<<"$plan")")
			continue
		fi
		res=$(psql_db -c "${mode_set[$mode]} $q")
		IFS='|' read -r cnt dcnt _ <<<"$res"
		if [ "$tab" != consumed ] && [ "$cnt" != "$dcnt" ]; then
			problems+=("$tab ($mode scan via $idx): duplicate keys: count(*) = $cnt, count(DISTINCT $key) = $dcnt")
		fi
		if [ -z "${seq_fp[$tab]:-}" ]; then
			seq_fp[$tab]="$res"
		elif [ "${seq_fp[$tab]}" != "$res" ]; then
			problems+=("$tab: $mode scan via $idx gives count|distinct|md5 $res, seq scan ${seq_fp[$tab]}")
		fi
	done
	printf '  %-9s via %-22s %s\n' "$tab" "$idx" "${seq_fp[$tab]:-}"
done

read -r -d '' checks_sql <<SQL || true
-- accounts: conservation, per-account balance and ops from the log
SELECT 'accounts: $naccts rows, sum(balance) = $total', count(*) = $naccts AND sum(balance) = $total,
       'rows ' || count(*) || ', sum ' || sum(balance) FROM accounts;
WITH t AS (SELECT id, sum(d) AS d, count(*) AS c FROM (
             SELECT a AS id, -amount AS d FROM xlog WHERE kind = 'transfer'
             UNION ALL SELECT b, amount FROM xlog WHERE kind = 'transfer') s GROUP BY id),
     bad AS (SELECT x.id, x.balance, x.ops, $initial_balance + coalesce(t.d, 0) AS want_balance,
                    coalesce(t.c, 0) AS want_ops
               FROM accounts x LEFT JOIN t USING (id)
              WHERE x.balance <> $initial_balance + coalesce(t.d, 0) OR x.ops <> coalesce(t.c, 0))
SELECT 'accounts: balance and ops match the logged transfers', count(*) = 0,
       coalesce(string_agg(format('id %s: balance %s (want %s), ops %s (want %s)',
                id, balance, want_balance, ops, want_ops), '; '), '') FROM bad;
SELECT 'audits saw the total $total', count(*) FILTER (WHERE amount IS DISTINCT FROM $total) = 0,
       count(*) || ' audits, wrong: ' || coalesce(string_agg(DISTINCT kind || '=' || amount, ' ')
                                      FILTER (WHERE amount IS DISTINCT FROM $total), 'none')
  FROM xlog WHERE kind LIKE 'audit%';
-- upsert counters
WITH l AS (SELECT a::int AS k, count(*) AS c FROM xlog WHERE kind = 'upsert' GROUP BY a),
     bad AS (SELECT coalesce(c.k, l.k) AS k, c.n, l.c FROM counters c FULL JOIN l USING (k)
              WHERE c.n IS DISTINCT FROM l.c AND NOT (c.k <= 4 AND c.n = 0 AND l.c IS NULL))
SELECT 'counters: n = number of logged upserts', count(*) = 0,
       coalesce(string_agg(format('k %s: n %s, logged %s', k, n, c), '; '), '') FROM bad;
-- ON CONFLICT DO NOTHING
WITH l AS (SELECT a::int AS k, count(*) AS c FROM xlog WHERE kind = 'seen' GROUP BY a),
     bad AS (SELECT coalesce(s.k, l.k) AS k, s.client, l.c FROM seen s FULL JOIN l USING (k)
              WHERE s.k IS NULL OR l.k IS NULL OR l.c <> 1)
SELECT 'seen: one logged insert per row', count(*) = 0,
       coalesce(string_agg(format('k %s: row %s, logged %s', k, client, c), '; '), '') FROM bad;
-- queue
SELECT 'queue: no item produced twice', count(*) = count(DISTINCT a),
       count(*) || ' produced' FROM xlog WHERE kind = 'produce';
SELECT 'queue: no item consumed twice', count(*) = count(DISTINCT item),
       count(*) || ' consumed, ' || count(DISTINCT item) || ' distinct' FROM consumed;
SELECT 'queue: consumed rows = logged consumes',
       (SELECT array_agg(item ORDER BY item) FROM consumed)
         IS NOT DISTINCT FROM (SELECT array_agg(a ORDER BY a) FROM xlog WHERE kind = 'consume'), '';
SELECT 'queue: nothing both consumed and still queued', count(*) = 0,
       coalesce(string_agg(item::text, ' '), '') FROM queue JOIN consumed USING (item);
WITH have AS (SELECT item FROM queue UNION ALL SELECT item FROM consumed),
     p AS (SELECT a AS item FROM xlog WHERE kind = 'produce'),
     bad AS ((SELECT item FROM have EXCEPT ALL SELECT item FROM p)
             UNION ALL (SELECT item FROM p EXCEPT ALL SELECT item FROM have))
SELECT 'queue: produced = queued + consumed', count(*) = 0,
       (SELECT count(*) FROM queue) || ' queued; mismatched: ' || coalesce(string_agg(item::text, ' '), 'none') FROM bad;
-- delete + re-insert
WITH l AS (SELECT a::int AS k, count(*) AS c FROM xlog WHERE kind = 'readd' GROUP BY a),
     bad AS (SELECT g.k, i.cnt, i.v, coalesce(l.c, 0) AS c
               FROM generate_series(1, $nitems) g(k)
               LEFT JOIN (SELECT k, count(*) AS cnt, max(v) AS v FROM items GROUP BY k) i USING (k)
               LEFT JOIN l USING (k)
              WHERE i.cnt IS DISTINCT FROM 1 OR i.v <> coalesce(l.c, 0))
SELECT 'items: each key once, v = number of logged re-inserts',
       count(*) = 0 AND (SELECT count(*) FROM items) = $nitems,
       coalesce(string_agg(format('k %s: %s rows, v %s, logged %s', k, cnt, v, c), '; '), '') FROM bad;
-- parents and children
WITH l AS (SELECT a::int AS id, count(*) AS c FROM xlog WHERE kind = 'pupd' GROUP BY a),
     bad AS (SELECT g.id, p.n, coalesce(l.c, 0) AS c FROM generate_series(1, $nhot) g(id)
               LEFT JOIN parents p USING (id) LEFT JOIN l USING (id)
              WHERE p.n IS DISTINCT FROM coalesce(l.c, 0))
SELECT 'parents 1..$nhot: present, n = number of logged updates', count(*) = 0,
       coalesce(string_agg(format('id %s: n %s, logged %s', id, n, c), '; '), '') FROM bad;
WITH ev AS (SELECT a::int AS id, count(*) FILTER (WHERE kind = 'pins') AS ins,
                   count(*) FILTER (WHERE kind = 'pdel') AS del
              FROM xlog WHERE kind IN ('pins', 'pdel') GROUP BY a),
     bad AS (SELECT g.id, p.id IS NOT NULL AS present, coalesce(ins, 0) AS ins, coalesce(del, 0) AS del
               FROM generate_series(101, 100 + $nvol) g(id)
               LEFT JOIN parents p USING (id) LEFT JOIN ev USING (id)
              WHERE (p.id IS NOT NULL)::int <> 1 + coalesce(ins, 0) - coalesce(del, 0))
SELECT 'parents 101..$((100 + nvol)): present iff 1 + inserts - deletes = 1', count(*) = 0,
       coalesce(string_agg(format('id %s: present %s, %s inserts, %s deletes', id, present, ins, del), '; '), '') FROM bad;
SELECT 'parents: no unexpected rows', count(*) = 0, coalesce(string_agg(id::text, ' '), '')
  FROM parents WHERE NOT (id BETWEEN 1 AND $nhot OR id BETWEEN 101 AND 100 + $nvol);
SELECT 'children: FK integrity (no child without parent)', count(*) = 0,
       coalesce(string_agg(format('child %s -> parent %s', c.id, c.parent_id), '; '), '')
  FROM children c WHERE NOT EXISTS (SELECT 1 FROM parents p WHERE p.id = c.parent_id);
SELECT 'children: no child deleted twice', count(*) = count(DISTINCT a), count(*) || ' deleted'
  FROM xlog WHERE kind = 'child_del';
WITH ins AS (SELECT a AS id, b AS parent_id FROM xlog WHERE kind = 'child'),
     del AS (SELECT a AS id FROM xlog WHERE kind = 'child_del'),
     want AS (SELECT id, parent_id FROM ins WHERE id NOT IN (SELECT id FROM del)),
     bad AS ((SELECT id, parent_id FROM children EXCEPT ALL SELECT id, parent_id FROM want)
             UNION ALL (SELECT id, parent_id FROM want EXCEPT ALL SELECT id, parent_id FROM children)
             UNION ALL (SELECT id, NULL::int FROM del EXCEPT SELECT id, NULL::int FROM ins))
SELECT 'children: rows = logged inserts - logged deletes', count(*) = 0,
       (SELECT count(*) FROM children) || ' children; mismatched: '
         || coalesce(string_agg(format('%s->%s', id, parent_id), ' '), 'none') FROM bad;
-- the workload did something of every kind
WITH k(kind) AS (VALUES ('transfer'), ('audit'), ('audit_idx'), ('audit_balidx'), ('audit_share'),
                        ('produce'), ('consume'), ('readd'), ('upsert'), ('seen'), ('child'),
                        ('child_del'), ('pupd'), ('pdel'), ('pins')),
     c AS (SELECT kind, count(x.kind) AS n FROM k LEFT JOIN xlog x USING (kind) GROUP BY kind)
SELECT 'every kind of transaction committed', bool_and(n > 0),
       string_agg(kind || '=' || n, ' ' ORDER BY kind) FROM c;
SQL

for mode in seq index; do
	out=$(psql_db -c "${mode_set[$mode]}" -f - <<<"$checks_sql") || {
		problems+=("verification queries failed ($mode)")
		continue
	}
	while IFS='|' read -r name ok detail; do
		[ -n "$name" ] || continue
		[ "${#detail}" -le 300 ] || detail="${detail:0:300}..."
		if [ "$ok" = t ]; then
			[ "$mode" = seq ] && printf '  ok    %s  %s\n' "$name" "$detail"
		else
			printf '  FAIL  %s (%s scans): %s\n' "$name" "$mode" "$detail"
			problems+=("$name ($mode scans): $detail")
		fi
	done <<<"$out"
done

# amcheck: every btree index agrees with its table.
if [ "$(psql_db -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")" = 1 ]; then
	psql_db -c "CREATE EXTENSION IF NOT EXISTS amcheck"
	idxs=$(psql_db -c "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = 'public'::regnamespace ORDER BY 1")
	for idx in $idxs; do
		if ! err=$(psql_db -c "SELECT bt_index_check('$idx'::regclass, true)" 2>&1 >/dev/null); then
			problems+=("amcheck bt_index_check('$idx', heapallindexed): $err")
		fi
	done
	echo "  amcheck: $(wc -w <<<"$idxs") indexes checked"
fi

# aura_check: every aura table's structure is sound, cold rows included.
if [ "$am" = aura ]; then
	tabs=$(psql_db -c "SELECT c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	  WHERE a.amname = 'aura' AND c.relnamespace = 'public'::regnamespace ORDER BY 1")
	for tab in $tabs; do
		if ! err=$(psql_db -c "SELECT aura_check('$tab'::regclass)" 2>&1 >/dev/null) ||
			[ -n "$err" ]; then
			problems+=("aura_check('$tab'): $err")
		fi
	done
	echo "  aura_check: $(wc -w <<<"$tabs") tables checked; cold rows: $(psql_db -c \
		"SELECT string_agg(relation || '=' || cold_rows, ' ' ORDER BY relation::text) FROM aura_tables")"
fi

# The server must not have crashed meanwhile.
if [ -n "${AURA_SERVER_LOG:-}" ] && [ -f "$AURA_SERVER_LOG" ]; then
	crashes=$(tail -c +$((log_offset + 1)) "$AURA_SERVER_LOG" |
		grep -E 'terminated by signal|PANIC:|TRAP:|was terminated by exception' | head -n 5 || true)
	[ -z "$crashes" ] || problems+=("server log: $crashes")
fi

t_end=$(date +%s)
echo "timing: setup+pgbench $((t_bench - t_start)) s, verification $((t_end - t_bench)) s"
if [ "${#problems[@]}" -gt 0 ]; then
	printf 'PROBLEM: %s\n' "${problems[@]}" >&2
	echo "keeping database $db for inspection" >&2
	fail "${#problems[@]} problem(s), see above"
fi
if [ "${AURA_STRESS_KEEP:-0}" != 1 ]; then
	as_user psql -X -q -d postgres -c "DROP DATABASE $db"
fi
echo "concurrency_stress ($am): all checks passed"
