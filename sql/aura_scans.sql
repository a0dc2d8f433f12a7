--
-- aura_scans: sequential, TID, TID range, sample, parallel and bitmap
-- scans on aura tables, and ANALYZE estimates.
--

-- rows of a fresh table get logical TIDs in insertion order: rowid r is
-- (r / 291, r % 291 + 1)
CREATE TABLE scan_t (id int, k int, v text) USING aura;
INSERT INTO scan_t SELECT g, g % 100, 'row ' || g FROM generate_series(1, 20000) g;

-- sequential scan
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_t;
SELECT count(*), sum(id), min(id), max(id), count(DISTINCT k) FROM scan_t;
-- rows come back in rowid (insertion) order
SELECT bool_and(id = prev + 1) AS in_insertion_order FROM (
  SELECT id, lag(id, 1, 0) OVER () AS prev FROM scan_t) x;
-- TID scans
EXPLAIN (COSTS OFF) SELECT * FROM scan_t WHERE ctid = '(0,1)';
SELECT ctid, * FROM scan_t WHERE ctid = '(0,1)';
SELECT ctid, * FROM scan_t WHERE ctid = '(0,291)';
SELECT ctid, * FROM scan_t WHERE ctid = '(1,1)';
SELECT ctid, * FROM scan_t WHERE ctid = '(68,212)';
SELECT ctid, * FROM scan_t WHERE ctid IN ('(2,5)', '(3,7)', '(10,100)') ORDER BY id;
-- offsets beyond 291 and blocks beyond the end name no row
SELECT count(*) FROM scan_t WHERE ctid = '(0,292)';
SELECT count(*) FROM scan_t WHERE ctid = '(0,0)';
SELECT count(*) FROM scan_t WHERE ctid = '(100000,1)';
-- ctid matches the formula for every row
SELECT count(*) AS bad_tids FROM scan_t
 WHERE ctid <> format('(%s,%s)', (id - 1) / 291, (id - 1) % 291 + 1)::tid;
-- an update that keeps the rowid keeps the TID; a deleted row is gone
UPDATE scan_t SET v = 'updated' WHERE id = 2;
SELECT ctid, * FROM scan_t WHERE ctid = '(0,2)';
DELETE FROM scan_t WHERE id = 3;
SELECT count(*) FROM scan_t WHERE ctid = '(0,3)';

-- TID range scans
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_t WHERE ctid >= '(0,5)' AND ctid < '(1,3)';
-- rowids 4 .. 292: 289 rows
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid >= '(0,5)' AND ctid < '(1,3)';
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid > '(0,290)' AND ctid <= '(1,1)';
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid < '(0,3)';
-- block 1 only, whatever the offsets say
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid >= '(1,0)' AND ctid < '(2,0)';
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid >= '(1,1)' AND ctid <= '(1,65535)';
-- the end of the table, and an empty range
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid >= '(68,0)';
SELECT count(*), min(id), max(id) FROM scan_t WHERE ctid >= '(68,200)' AND ctid < '(1000,1)';
SELECT count(*) FROM scan_t WHERE ctid >= '(5,1)' AND ctid < '(4,1)';
-- the deleted row 3 is skipped
SELECT count(*) FROM scan_t WHERE ctid >= '(0,1)' AND ctid <= '(0,10)';
-- a TID range scan inside a cursor, backwards
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id FROM scan_t WHERE ctid >= '(2,1)' AND ctid < '(2,6)';
FETCH ALL FROM c;
FETCH BACKWARD 3 FROM c;
COMMIT;

-- TABLESAMPLE
SELECT count(*) FROM scan_t TABLESAMPLE BERNOULLI (100);
SELECT count(*) FROM scan_t TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM scan_t TABLESAMPLE BERNOULLI (0);
SELECT count(*) FROM scan_t TABLESAMPLE SYSTEM (0);
SELECT count(*) BETWEEN 1400 AND 2800 AS plausible FROM scan_t TABLESAMPLE BERNOULLI (10) REPEATABLE (42);
SELECT count(*) BETWEEN 3000 AND 18000 AS plausible FROM scan_t TABLESAMPLE SYSTEM (50) REPEATABLE (7);
-- REPEATABLE gives the same sample twice; a sample has no duplicates
SELECT (SELECT array_agg(id ORDER BY id) FROM scan_t TABLESAMPLE BERNOULLI (5) REPEATABLE (3)) =
       (SELECT array_agg(id ORDER BY id) FROM scan_t TABLESAMPLE BERNOULLI (5) REPEATABLE (3)) AS same_sample;
SELECT (SELECT array_agg(id ORDER BY id) FROM scan_t TABLESAMPLE SYSTEM (20) REPEATABLE (3)) =
       (SELECT array_agg(id ORDER BY id) FROM scan_t TABLESAMPLE SYSTEM (20) REPEATABLE (3)) AS same_sample;
SELECT count(*) = count(DISTINCT id) AS no_duplicates FROM scan_t TABLESAMPLE SYSTEM (30) REPEATABLE (5);
-- SYSTEM samples whole logical blocks of 291 rowids
SELECT bool_and(n = 291) AS whole_blocks, count(*) > 5 AS several_blocks FROM (
  SELECT (ctid::text::point)[0] AS blk, count(*) AS n
    FROM scan_t TABLESAMPLE SYSTEM (30) REPEATABLE (5)
   WHERE id > 291 AND id <= 68 * 291 GROUP BY 1) x;

-- a scan does not see rows its own statement inserts
INSERT INTO scan_t SELECT id + 20000, k, v FROM scan_t WHERE id <= 1000;
SELECT count(*) FROM scan_t;

-- parallel sequential scans
SELECT count(*) AS serial_count, sum(id) AS serial_sum, sum(k) AS serial_k FROM scan_t \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum(id), sum(k) FROM scan_t;
SELECT count(*) = :serial_count AS same_count, sum(id) = :serial_sum AS same_sum,
       sum(k) = :serial_k AS same_k FROM scan_t;
EXPLAIN (COSTS OFF) SELECT k, count(*) FROM scan_t WHERE v LIKE 'row 1%' GROUP BY k;
SELECT sum(n), count(*) FROM (SELECT k, count(*) AS n FROM scan_t WHERE v LIKE 'row 1%' GROUP BY k) x;
SET max_parallel_workers_per_gather = 0;
SELECT sum(n), count(*) FROM (SELECT k, count(*) AS n FROM scan_t WHERE v LIKE 'row 1%' GROUP BY k) x;
SET max_parallel_workers_per_gather = 2;
-- a parallel join of the table with itself
SET enable_nestloop = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_t a JOIN scan_t b ON a.id = b.id + 1;
SELECT count(*) FROM scan_t a JOIN scan_t b ON a.id = b.id + 1;
RESET enable_nestloop;
RESET enable_mergejoin;
-- every row exactly once, whatever worker read it
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM scan_t WHERE k >= 0) x;
-- parallel scan of a table whose rows have holes and old versions
CREATE TABLE scan_par (id int, v text) USING aura;
INSERT INTO scan_par SELECT g, 'x' FROM generate_series(1, 30000) g;
DELETE FROM scan_par WHERE id % 3 = 0;
UPDATE scan_par SET v = 'y' WHERE id % 5 = 0;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_par;
SELECT count(*), sum(id), count(*) FILTER (WHERE v = 'y') FROM scan_par;
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum(id), count(*) FILTER (WHERE v = 'y') FROM scan_par;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- ANALYZE: reltuples close to the true number of rows
ANALYZE scan_par;
SELECT abs(reltuples - (SELECT count(*) FROM scan_par)) <= 0.05 * (SELECT count(*) FROM scan_par) AS close
  FROM pg_class WHERE relname = 'scan_par';
-- after deleting half the rows
DELETE FROM scan_par WHERE id % 2 = 0;
ANALYZE scan_par;
SELECT abs(reltuples - (SELECT count(*) FROM scan_par)) <= 0.05 * (SELECT count(*) FROM scan_par) AS close
  FROM pg_class WHERE relname = 'scan_par';
-- also for a table much larger than the ANALYZE sample, and one with blobs
CREATE TABLE scan_big (id int, pad text) USING aura;
INSERT INTO scan_big SELECT g, repeat('p', 40) FROM generate_series(1, 150000) g;
INSERT INTO scan_big SELECT -g, repeat(md5(g::text), 200) FROM generate_series(1, 200) g;
ANALYZE scan_big;
SELECT abs(reltuples - 150200) <= 0.05 * 150200 AS close FROM pg_class WHERE relname = 'scan_big';
DELETE FROM scan_big WHERE id % 2 = 1;
ANALYZE scan_big;
SELECT abs(reltuples - (SELECT count(*) FROM scan_big)) <= 0.05 * (SELECT count(*) FROM scan_big) AS close
  FROM pg_class WHERE relname = 'scan_big';
-- column statistics come from live rows only
SELECT null_frac, n_distinct > 0 OR n_distinct < 0 AS has_ndistinct FROM pg_stats
 WHERE tablename = 'scan_big' AND attname = 'pad';
-- the planner's row estimate follows
CREATE FUNCTION scan_estimate(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN ' || q LOOP
    RETURN (regexp_match(l, 'rows=(\d+)'))[1]::int;
  END LOOP;
END $$;
SELECT scan_estimate('SELECT * FROM scan_big') BETWEEN 71000 AND 79000 AS estimate_ok;
DROP FUNCTION scan_estimate(text);
DROP TABLE scan_big;
DROP TABLE scan_par;

-- bitmap heap scans: exact and lossy bitmaps, BitmapAnd / BitmapOr
CREATE TABLE scan_bm_h (id int, a int, b int, v text) USING heap;
CREATE TABLE scan_bm_a (id int, a int, b int, v text) USING aura;
INSERT INTO scan_bm_h SELECT g, g % 37, g % 53, 'v' || g FROM generate_series(1, 30000) g;
INSERT INTO scan_bm_a SELECT * FROM scan_bm_h;
UPDATE scan_bm_h SET a = a + 100 WHERE id % 11 = 0;
UPDATE scan_bm_a SET a = a + 100 WHERE id % 11 = 0;
DELETE FROM scan_bm_h WHERE id % 13 = 0;
DELETE FROM scan_bm_a WHERE id % 13 = 0;
CREATE INDEX ON scan_bm_h (a);
CREATE INDEX ON scan_bm_h (b);
CREATE INDEX ON scan_bm_a (a);
CREATE INDEX ON scan_bm_a (b);
ANALYZE scan_bm_h;
ANALYZE scan_bm_a;
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM scan_bm_a WHERE a = 5;
EXPLAIN (COSTS OFF) SELECT * FROM scan_bm_a WHERE a = 5 AND b < 10;
EXPLAIN (COSTS OFF) SELECT * FROM scan_bm_a WHERE a = 5 OR b = 7;
CREATE FUNCTION scan_bm_cmp(cond text) RETURNS TABLE (rows_a bigint, a_minus_h bigint, h_minus_a bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT (SELECT count(*) FROM scan_bm_a WHERE %1$s),
            (SELECT count(*) FROM (SELECT * FROM scan_bm_a WHERE %1$s EXCEPT ALL SELECT * FROM scan_bm_h WHERE %1$s) x),
            (SELECT count(*) FROM (SELECT * FROM scan_bm_h WHERE %1$s EXCEPT ALL SELECT * FROM scan_bm_a WHERE %1$s) x)',
    cond);
END $$;
SELECT * FROM scan_bm_cmp('a = 5');
SELECT * FROM scan_bm_cmp('a = 5 AND b < 10');
SELECT * FROM scan_bm_cmp('a = 5 OR b = 7');
SELECT * FROM scan_bm_cmp('a > 100');
-- a parallel bitmap heap scan
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_bm_a WHERE a < 30 OR b < 40;
SELECT * FROM scan_bm_cmp('a < 30 OR b < 40');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET enable_seqscan;
RESET enable_indexscan;
DROP FUNCTION scan_bm_cmp(text);
DROP TABLE scan_bm_h, scan_bm_a;
-- lossy bitmaps: with a tiny work_mem a bitmap over more than ~1000
-- logical blocks (291 rowids each) keeps whole blocks only
CREATE TABLE scan_lossy_h (a int) USING heap;
CREATE TABLE scan_lossy_a (a int) USING aura;
COPY scan_lossy_a FROM PROGRAM 'seq 1 320000';
INSERT INTO scan_lossy_h SELECT * FROM scan_lossy_a;
DELETE FROM scan_lossy_h WHERE a % 1000 = 1;
DELETE FROM scan_lossy_a WHERE a % 1000 = 1;
CREATE INDEX ON scan_lossy_h (a);
CREATE INDEX ON scan_lossy_a (a);
SET enable_seqscan = off;
SET enable_indexscan = off;
SET max_parallel_workers_per_gather = 0;
SET work_mem = '64kB';
CREATE FUNCTION scan_explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q;
END $$;
SELECT bool_or(l ~ 'Bitmap Heap Scan') AS bitmap_scan, bool_or(l ~ 'lossy=[0-9]+') AS lossy_blocks
  FROM scan_explain_analyze('SELECT count(*) FROM scan_lossy_a WHERE a > 1000 AND a % 3 = 0') l;
DROP FUNCTION scan_explain_analyze(text);
SELECT count(*), sum(a) FROM scan_lossy_a WHERE a > 1000 AND a % 3 = 0;
SELECT count(*), sum(a) FROM scan_lossy_h WHERE a > 1000 AND a % 3 = 0;
SELECT count(*), sum(a) FROM scan_lossy_a WHERE a BETWEEN 50000 AND 250000;
SELECT count(*), sum(a) FROM scan_lossy_h WHERE a BETWEEN 50000 AND 250000;
RESET work_mem;
RESET max_parallel_workers_per_gather;
RESET enable_seqscan;
RESET enable_indexscan;
DROP TABLE scan_lossy_h, scan_lossy_a;

DROP TABLE scan_t;

-- the latest TID of a row moved to new rowids by key updates, as heap finds it
CREATE TABLE scan_latest_a (id int PRIMARY KEY, v int) USING aura;
CREATE TABLE scan_latest_h (id int PRIMARY KEY, v int) USING heap;
INSERT INTO scan_latest_a VALUES (1, 1);
INSERT INTO scan_latest_h VALUES (1, 1);
UPDATE scan_latest_a SET id = 2 WHERE id = 1;
UPDATE scan_latest_h SET id = 2 WHERE id = 1;
UPDATE scan_latest_a SET id = 3 WHERE id = 2;
UPDATE scan_latest_h SET id = 3 WHERE id = 2;
SELECT currtid2('scan_latest_a', '(0,1)') AS aura, currtid2('scan_latest_h', '(0,1)') AS heap;
DELETE FROM scan_latest_a;
DELETE FROM scan_latest_h;
SELECT currtid2('scan_latest_a', '(0,1)') AS aura, currtid2('scan_latest_h', '(0,1)') AS heap;
DROP TABLE scan_latest_a, scan_latest_h;
