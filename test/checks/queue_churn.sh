#!/usr/bin/env bash
# A queue on an aura table: rows are inserted at the tail and deleted at the
# head, AURA_QUEUE_ROWS in all (default 10 million), VACUUM running now and
# then as autovacuum would.  The table, its row map and its rowid space must
# stay bounded: after the run the table may be at most a small multiple of
# what it was after the first rounds, the rowid space at most 10% larger.  aura_check must be clean and the queue
# must hold exactly the rows of the last round.
#
# Run by test/run-tests.sh (as root, cluster environment exported).
set -euo pipefail

rows="${AURA_QUEUE_ROWS:-10000000}"
batch="${AURA_QUEUE_BATCH:-20000}"
rounds=$((rows / batch))
db=aura_queue_check
as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }
psql_db() { as_user psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

as_user psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql_db -c "CREATE EXTENSION auradb" \
	-c "CREATE TABLE q (id bigserial PRIMARY KEY, payload text) USING aura WITH (autovacuum_enabled = off)"

# one round: BATCH rows in, the oldest BATCH rows out; VACUUM every 5 rounds
round_sql() {
	local from=$1 to=$2 i
	for ((i = from; i <= to; i++)); do
		echo "INSERT INTO q (payload) SELECT 'item ' || g FROM generate_series(1, $batch) g;"
		echo "DELETE FROM q WHERE id <= (SELECT min(id) FROM q) + $batch - 1 AND id < (SELECT max(id) FROM q) - $batch + 1;"
		if ((i % 5 == 0)); then echo "VACUUM q;"; fi
	done
}

warm=10
start=$SECONDS
round_sql 1 "$warm" | psql_db >/dev/null
read -r pages0 rowids0 < <(psql_db -At -F ' ' -c "SELECT total_pages, rowids_allocated FROM aura_stats('q')")
round_sql $((warm + 1)) "$rounds" | psql_db >/dev/null
psql_db -c "VACUUM q" >/dev/null
read -r pages1 rowids1 live < <(psql_db -At -F ' ' -c "SELECT total_pages, rowids_allocated, live_rows FROM aura_stats('q')")
echo "queue: $rounds rounds of $batch rows ($((rounds * batch)) rows in and out) in $((SECONDS - start)) s"
echo "after $warm rounds: $pages0 pages, $rowids0 rowids; at the end: $pages1 pages, $rowids1 rowids, $live live rows"

fail=0
if [ "$live" -ne "$batch" ]; then
	echo "FAIL: $live rows left in the queue, expected $batch"
	fail=1
fi
if [ "$pages1" -gt $((pages0 * 3 + 20)) ]; then
	echo "FAIL: the table grew from $pages0 to $pages1 pages"
	fail=1
fi
# (rowids lost per VACUUM or per fresh batch would add ~60000 over the run)
if [ "$rowids1" -gt $((rowids0 * 11 / 10 + 1000)) ]; then
	echo "FAIL: the rowid space grew from $rowids0 to $rowids1"
	fail=1
fi
if ! psql_db -c "SELECT * FROM aura_check('q')"; then
	echo "FAIL: aura_check"
	fail=1
fi
n=$(psql_db -At -c "SET enable_seqscan = off; SELECT count(*) FROM q WHERE id > 0")
if [ "$n" -ne "$batch" ]; then
	echo "FAIL: the index finds $n rows, expected $batch"
	fail=1
fi
as_user psql -X -q -d postgres -c "DROP DATABASE $db"
exit "$fail"
