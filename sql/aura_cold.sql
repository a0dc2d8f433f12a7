--
-- aura_cold: cold pages.  Settled rows (frozen xmin, no xmax, no older
-- version, no blob reference) are stored in LZ4-compressed, immutable cold
-- pages, written by COPY ... (FREEZE) into a table created or truncated in
-- the same transaction and by VACUUM (FREEZE) / aura_compact(), which also
-- rebuilds cold pages most of whose rows are gone.  Updating, deleting or
-- locking a cold row first copies it back to a hot page.  The GUC
-- aura.compression and aura_set_compression() switch cold pages off.
--
-- Every aura table has a heap twin that gets the same statements: both
-- must always hold the same rows, and every scan of the aura table must
-- return what the same scan of the heap twin does.  aura_check() verifies
-- the aura table after every step.  Page counts and byte sizes vary, so
-- they are only ever compared, never printed.  cold_rows counts the rows
-- whose newest version is on a cold page.
--

-- same rows in the aura table and its heap twin?
-- this test counts its own passes: no compaction workers (aura_autocompact)
SET aura.compaction_trigger = 0;
CREATE FUNCTION same_rows(a regclass, h regclass) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) UNION ALL (TABLE %s EXCEPT ALL TABLE %s)) d',
				   a, h, h, a) INTO n;
	RETURN n = 0;
END $$;

-- aura_check() without its counts (for steps after which they depend on
-- what VACUUM got to): true, or an error
CREATE FUNCTION check_ok(rel regclass) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM * FROM aura_check(rel);
	RETURN true;
END $$;

-- the query q (%s: the table) on the aura table and on its heap twin: how
-- many rows it returns on the aura table, and whether both give the same
-- rows (each side is planned on its own, with the scans the current
-- settings allow)
CREATE FUNCTION twin(q text, a regclass, h regclass,
					 OUT nrows bigint, OUT same boolean)
LANGUAGE plpgsql AS $$
DECLARE
	qa text := format(q, a);
	qh text := format(q, h);
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM (%s) s', qa) INTO nrows;
	EXECUTE format('SELECT count(*) FROM (((%s) EXCEPT ALL (%s)) UNION ALL ((%s) EXCEPT ALL (%s))) d',
				   qa, qh, qh, qa) INTO n;
	same := n = 0;
END $$;

-- the data of the frozen loads: a file written by COPY TO (pg_regress
-- runs as a superuser), rows in id order, some NULLs
COPY (SELECT g, g % 97,
             CASE WHEN g % 13 = 0 THEN NULL
                  ELSE 'value ' || g || ' ' || repeat(chr(97 + g % 26), g % 40) END,
             CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.5 END
        FROM generate_series(1, 20000) g)
  TO '/tmp/aura_cold_data.csv' WITH (FORMAT csv);

--
-- 1. COPY FREEZE into a table truncated in the same transaction: every row
-- goes to cold pages directly, none to hot pages, and every kind of scan
-- finds them
--
CREATE TABLE ca (id int PRIMARY KEY, k int, v text, n numeric) USING aura
  WITH (autovacuum_enabled = off);
CREATE INDEX ca_k ON ca (k);
CREATE TABLE ch (id int PRIMARY KEY, k int, v text, n numeric) USING heap
  WITH (autovacuum_enabled = off);
CREATE INDEX ch_k ON ch (k);
BEGIN;
TRUNCATE ca;
COPY ca FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
BEGIN;
TRUNCATE ch;
COPY ch FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
SELECT cold_pages > 0 AS has_cold_pages, cold_rows, hot_pages, live_rows,
       versions, cold_bytes < cold_raw_bytes AS compressed
  FROM aura_stats('ca');
SELECT rowids, versions, free_rowids FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
SELECT cold_pages AS ca_pages0, cold_raw_bytes AS ca_raw0, cold_bytes AS ca_bytes0
  FROM aura_stats('ca') \gset
-- the compression ratio in the aura_tables view (a heap table is not there)
SELECT relation, cold_compression_ratio > 1 AS ratio_above_1
  FROM aura_tables WHERE relation IN ('ca'::regclass, 'ch'::regclass);

-- sequential scan
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE n > 1000;
SELECT * FROM twin('SELECT * FROM %s WHERE n > 1000', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE v IS NULL OR n IS NULL', 'ca', 'ch');
SELECT count(*), sum(id), count(v), count(n), sum(n), count(DISTINCT k) FROM ca;
-- rows come back in rowid (load) order
SELECT bool_and(id = prev + 1) AS in_load_order FROM (
  SELECT id, lag(id, 1, 0) OVER () AS prev FROM ca) x;
-- a backward scan in a cursor
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM ca;
FETCH LAST FROM c;
FETCH BACKWARD 2 FROM c;
FETCH ABSOLUTE 12345 FROM c;
COMMIT;

-- index scans: the primary key and a secondary index
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE id BETWEEN 5000 AND 9000;
SELECT * FROM twin('SELECT * FROM %s WHERE id BETWEEN 5000 AND 9000', 'ca', 'ch');
SELECT * FROM ca WHERE id = 12345;
SELECT * FROM ca WHERE id IN (1, 13, 14, 19999, 20000) ORDER BY id;
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE k = 42;
SELECT * FROM twin('SELECT * FROM %s WHERE k = 42', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE k IN (0, 96) ORDER BY id DESC LIMIT 50', 'ca', 'ch');
-- an index built over the cold rows
CREATE INDEX ca_v ON ca (v);
CREATE INDEX ch_v ON ch (v);
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE v = 'value 777 ' || repeat('x', 17);
SELECT * FROM ca WHERE v = 'value 777 ' || repeat('x', 17);
SELECT * FROM twin('SELECT * FROM %s WHERE v > ''value 5'' AND v < ''value 6''', 'ca', 'ch');
-- an index-only scan still fetches the rows (no visibility map)
EXPLAIN (COSTS OFF) SELECT id FROM ca WHERE id < 300;
SELECT * FROM twin('SELECT id FROM %s WHERE id < 300', 'ca', 'ch');
-- bitmap scans
SET enable_indexscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE k IN (1, 2, 3);
SELECT * FROM twin('SELECT * FROM %s WHERE k IN (1, 2, 3)', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE k = 5 OR id BETWEEN 100 AND 1100', 'ca', 'ch');
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- TID scans: a frozen load gives rowids in load order too, rowid r is at
-- (r / 291, r % 291 + 1)
EXPLAIN (COSTS OFF) SELECT * FROM ca WHERE ctid = '(68,212)';
SELECT ctid, * FROM ca WHERE ctid IN ('(0,1)', '(0,13)', '(42,123)', '(68,212)') ORDER BY id;
SELECT count(*) FROM ca WHERE ctid = '(68,213)';
SELECT count(*) AS bad_tids FROM ca
 WHERE ctid <> format('(%s,%s)', (id - 1) / 291, (id - 1) % 291 + 1)::tid;
SELECT count(*), min(id), max(id) FROM ca WHERE ctid >= '(10,0)' AND ctid < '(12,5)';

-- parallel sequential scan
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum(hashtext(v)) FROM ca;
SELECT (SELECT count(*) || ' ' || sum(hashtext(v)) FROM ca) =
       (SELECT count(*) || ' ' || sum(hashtext(v)) FROM ch) AS same_parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- sample scans
SELECT count(*) FROM ca TABLESAMPLE BERNOULLI (100);
SELECT count(*) FROM ca TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM ca TABLESAMPLE SYSTEM (0);
SELECT count(*) BETWEEN 1400 AND 2600 AS plausible FROM ca TABLESAMPLE BERNOULLI (10) REPEATABLE (42);
SELECT count(*) BETWEEN 3000 AND 17000 AS plausible FROM ca TABLESAMPLE SYSTEM (50) REPEATABLE (7);
-- every sampled row is a row of the table
SELECT count(*) AS not_in_heap FROM ca a TABLESAMPLE SYSTEM (30) REPEATABLE (1)
 WHERE NOT EXISTS (SELECT FROM ch h WHERE h.id = a.id AND h::text = a::text);

-- ANALYZE samples the whole table (fewer rows than the sample size):
-- the same statistics as heap's (it hands every row over)
SET client_min_messages = debug1;
ANALYZE ca;
RESET client_min_messages;
ANALYZE ch;
SELECT reltuples FROM pg_class WHERE relname = 'ca';
SELECT a.attname, a.null_frac = h.null_frac AS null_frac,
       a.n_distinct = h.n_distinct AS n_distinct,
       a.avg_width = h.avg_width AS avg_width,
       a.most_common_vals::text IS NOT DISTINCT FROM h.most_common_vals::text AS mcv,
       a.histogram_bounds::text IS NOT DISTINCT FROM h.histogram_bounds::text AS histogram
  FROM pg_stats a JOIN pg_stats h USING (attname)
 WHERE a.tablename = 'ca' AND h.tablename = 'ch'
 ORDER BY a.attname;
-- a table many times the sample (300 rows at statistics target 1): ANALYZE
-- hands over only a random share of the rows -- whole cold blocks, hot rows
-- one by one -- and still counts every row
CREATE TABLE cz (id int PRIMARY KEY, k int, v text, n numeric) USING aura
  WITH (autovacuum_enabled = off);
BEGIN;
TRUNCATE cz;
COPY cz FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
UPDATE cz SET v = v WHERE id % 50 = 0;
SELECT cold_rows, live_rows FROM aura_stats('cz');
SET default_statistics_target = 1;
SET client_min_messages = debug1;
ANALYZE cz;
RESET client_min_messages;
RESET default_statistics_target;
SELECT reltuples, relpages < 300 AS every_page_sampled
  FROM pg_class WHERE relname = 'cz';
SELECT attname,
       CASE attname WHEN 'v' THEN abs(null_frac - 1 / 13.0) < 0.06
                    WHEN 'n' THEN abs(null_frac - 1 / 7.0) < 0.08
                    ELSE null_frac = 0 END AS null_frac,
       CASE attname WHEN 'id' THEN n_distinct = -1
                    WHEN 'k' THEN n_distinct BETWEEN 50 AND 200
                    ELSE n_distinct <> 0 END AS n_distinct
  FROM pg_stats WHERE tablename = 'cz' ORDER BY attname;
-- the sample comes from all over the table
SELECT (histogram_bounds::text::int[])[1] < 10000 AS low,
       (histogram_bounds::text::int[])[2] > 10000 AS high
  FROM pg_stats WHERE tablename = 'cz' AND attname = 'id';
SELECT rowids, versions FROM aura_check('cz');
DROP TABLE cz;

-- COPY FREEZE into a table created in the same transaction; an aborted
-- one leaves nothing; plain COPY writes no cold pages
BEGIN;
CREATE TABLE cc (id int PRIMARY KEY, k int, v text, n numeric) USING aura;
COPY cc FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
SELECT count(*) FROM cc WHERE id % 100 = 0;
COMMIT;
SELECT cold_pages > 0 AS has_cold_pages, cold_rows, hot_pages FROM aura_stats('cc');
SELECT rowids, versions FROM aura_check('cc');
SELECT same_rows('cc', 'ch');
BEGIN;
TRUNCATE cc;
COPY cc FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
ROLLBACK;
SELECT same_rows('cc', 'ch');
SELECT rowids, versions FROM aura_check('cc');
TRUNCATE cc;
COPY cc FROM '/tmp/aura_cold_data.csv' WITH (FORMAT csv);
SELECT cold_pages, cold_rows, hot_pages > 0 AS has_hot_pages FROM aura_stats('cc');
SELECT same_rows('cc', 'ch');
-- frozen loads that fail on a duplicate key: the unique checks find the
-- cold rows loaded before them (in an earlier batch, in the same batch,
-- many batches earlier), and the table is left as it was
\set VERBOSITY terse
BEGIN;
TRUNCATE cc;
COPY cc FROM PROGRAM 'cat /tmp/aura_cold_data.csv /tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
ROLLBACK;
BEGIN;
TRUNCATE cc;
COPY cc FROM PROGRAM 'awk ''{ print; print }'' /tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
ROLLBACK;
BEGIN;
TRUNCATE cc;
COPY cc FROM PROGRAM 'awk ''{ print } NR == 15000 { print "17,0,dup,0" }'' /tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
ROLLBACK;
\set VERBOSITY default
SELECT same_rows('cc', 'ch');
SELECT rowids, versions FROM aura_check('cc');
-- in subtransactions: a rolled back load, then one that stays
BEGIN;
SAVEPOINT s;
TRUNCATE cc;
COPY cc FROM PROGRAM 'head -n 5000 /tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
SELECT count(*) FROM cc;
ROLLBACK TO s;
SELECT count(*) FROM cc;
TRUNCATE cc;
COPY cc FROM PROGRAM 'head -n 15000 /tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
RELEASE s;
COMMIT;
SELECT cold_rows, hot_pages, live_rows FROM aura_stats('cc');
SELECT rowids, versions FROM aura_check('cc');
SELECT * FROM twin('SELECT * FROM %s WHERE id <= 15000', 'cc', 'ch');
-- writes to the loaded rows in the loading transaction; a second load in
-- the same transaction
BEGIN;
TRUNCATE cc;
COPY cc FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
UPDATE cc SET v = 'same transaction' WHERE id % 1000 = 0;
DELETE FROM cc WHERE id % 1000 = 1;
SELECT count(*) FROM (SELECT * FROM cc WHERE id % 1000 = 2 FOR UPDATE) s;
UPDATE cc SET id = id + 100000;
COPY cc FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
SELECT count(*), count(*) FILTER (WHERE id > 100000) AS moved,
       count(*) FILTER (WHERE v = 'same transaction') AS updated FROM cc;
SELECT cold_rows FROM aura_stats('cc');
SELECT rowids, versions FROM aura_check('cc');
SELECT * FROM twin('SELECT * FROM %s WHERE id <= 20000', 'cc', 'ch');
DROP TABLE cc;

--
-- 2. rows with a large value (a blob reference) stay hot in a frozen load,
-- the others go cold; VACUUM (FREEZE) leaves them hot too
--
COPY (SELECT g, CASE WHEN g % 10 = 0
                     THEN (SELECT string_agg(md5((g * 1000 + i)::text), '')
                             FROM generate_series(1, 100) i)
                     ELSE 'small ' || g END
        FROM generate_series(1, 2000) g)
  TO '/tmp/aura_cold_blob.csv' WITH (FORMAT csv);
CREATE TABLE cba (id int PRIMARY KEY, b text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE cbh (id int PRIMARY KEY, b text) USING heap WITH (autovacuum_enabled = off);
BEGIN;
TRUNCATE cba;
COPY cba FROM '/tmp/aura_cold_blob.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
BEGIN;
TRUNCATE cbh;
COPY cbh FROM '/tmp/aura_cold_blob.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
SELECT live_rows, cold_rows < live_rows AS some_hot, cold_rows, blobs,
       hot_pages > 0 AS has_hot_pages
  FROM aura_stats('cba');
SELECT rowids, versions FROM aura_check('cba');
SELECT same_rows('cba', 'cbh');
SELECT count(*), sum(length(b)) FROM cba WHERE id % 10 = 0;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cba;
SELECT cold_rows, blobs FROM aura_stats('cba');
SELECT rowids, versions FROM aura_check('cba');
SELECT same_rows('cba', 'cbh');
-- a cold row updated to a large value, a large one updated to a small one
UPDATE cba SET b = (SELECT b FROM cba WHERE id = 10) WHERE id = 11;
UPDATE cbh SET b = (SELECT b FROM cbh WHERE id = 10) WHERE id = 11;
UPDATE cba SET b = 'small again' WHERE id = 20;
UPDATE cbh SET b = 'small again' WHERE id = 20;
SELECT rowids, versions FROM aura_check('cba');
SELECT same_rows('cba', 'cbh');
DROP TABLE cba, cbh;

--
-- 3. writes to cold rows: each first copies the row back to a hot page;
-- the cold pages themselves never change
--
-- updates: of an unindexed column (keeps the rowid), of indexed ones, of
-- the primary key
UPDATE ca SET n = n + 1 WHERE id % 10 = 0;
UPDATE ch SET n = n + 1 WHERE id % 10 = 0;
UPDATE ca SET v = v || ' upd' WHERE id % 10 = 1;
UPDATE ch SET v = v || ' upd' WHERE id % 10 = 1;
UPDATE ca SET k = k + 1000 WHERE id % 10 = 2;
UPDATE ch SET k = k + 1000 WHERE id % 10 = 2;
UPDATE ca SET id = id + 100000 WHERE id % 100 = 3;
UPDATE ch SET id = id + 100000 WHERE id % 100 = 3;
SELECT cold_rows, hot_pages > 0 AS has_hot_pages,
       cold_pages = :ca_pages0 AND cold_raw_bytes = :ca_raw0 AND
       cold_bytes = :ca_bytes0 AS cold_pages_unchanged
  FROM aura_stats('ca');
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- an update that keeps the rowid keeps the TID
SELECT ctid, * FROM ca WHERE id IN (10, 20000) ORDER BY id;
-- deletes
DELETE FROM ca WHERE id % 10 = 4;
DELETE FROM ch WHERE id % 10 = 4;
SELECT count(*) FROM ca WHERE id % 10 = 4;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- row locks of every strength
SELECT count(*) FROM (SELECT id FROM ca WHERE id % 10 = 5 FOR UPDATE) s;
SELECT count(*) FROM (SELECT id FROM ca WHERE id % 10 = 6 FOR NO KEY UPDATE) s;
SELECT count(*) FROM (SELECT id FROM ca WHERE id % 10 = 7 FOR SHARE) s;
SELECT count(*) FROM (SELECT id FROM ca WHERE id % 10 = 8 FOR KEY SHARE) s;
SELECT count(*), sum(hashtext(s::text)) = (SELECT sum(hashtext(h::text)) FROM ch h WHERE id % 20 = 9) AS same
  FROM (SELECT * FROM ca WHERE id % 20 = 9 FOR UPDATE SKIP LOCKED) s;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- a locked row, then updated in the same transaction
BEGIN;
SELECT * FROM ca WHERE id = 15 FOR SHARE;
UPDATE ca SET v = 'locked then updated' WHERE id = 15;
COMMIT;
UPDATE ch SET v = 'locked then updated' WHERE id = 15;
SELECT * FROM ca WHERE id = 15;
SELECT same_rows('ca', 'ch');
-- upserts hitting cold rows (and a few new keys)
INSERT INTO ca SELECT g, -1, 'upserted', g FROM generate_series(19895, 20100, 10) g
  ON CONFLICT (id) DO UPDATE SET v = excluded.v || ' ' || ca.k, n = ca.n + 1;
INSERT INTO ch SELECT g, -1, 'upserted', g FROM generate_series(19895, 20100, 10) g
  ON CONFLICT (id) DO UPDATE SET v = excluded.v || ' ' || ch.k, n = ch.n + 1;
INSERT INTO ca SELECT g, -2, 'not inserted', g FROM generate_series(18000, 18100) g
  ON CONFLICT DO NOTHING;
INSERT INTO ch SELECT g, -2, 'not inserted', g FROM generate_series(18000, 18100) g
  ON CONFLICT DO NOTHING;
SELECT count(*) FILTER (WHERE k = -1) AS new_keys,
       count(*) FILTER (WHERE v LIKE 'upserted %') AS upserted,
       count(*) FILTER (WHERE k = -2) AS not_inserted FROM ca;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- unique violations against rows that are still cold (id % 20 = 19)
\set VERBOSITY terse
INSERT INTO ca VALUES (39, 0, 'duplicate', 0);
INSERT INTO ca SELECT 17990 + g, 0, 'duplicates', 0 FROM generate_series(0, 50) g;
UPDATE ca SET id = 59 WHERE id = 57;
COPY ca FROM PROGRAM 'echo 79,0,dup,0' WITH (FORMAT csv);
\set VERBOSITY default
DO $$
BEGIN
	INSERT INTO ca VALUES (99, 0, 'duplicate', 0);
	RAISE NOTICE 'no error';
EXCEPTION WHEN unique_violation THEN
	RAISE NOTICE 'caught %', SQLSTATE;
END $$;
SELECT * FROM ca WHERE id IN (39, 57, 59, 79, 99) ORDER BY id;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- rolled back writes (a transaction, a subtransaction) leave the rows as
-- they were; the same rows can be written again afterwards
BEGIN;
UPDATE ca SET v = 'rolled back' WHERE id BETWEEN 15000 AND 16000;
DELETE FROM ca WHERE id BETWEEN 16001 AND 16100;
SELECT count(*) FROM (SELECT * FROM ca WHERE id BETWEEN 16101 AND 16200 FOR UPDATE) s;
SELECT count(*) FROM ca WHERE v = 'rolled back';
ROLLBACK;
SELECT count(*) FILTER (WHERE v = 'rolled back') AS rolled_back,
       count(*) FILTER (WHERE id BETWEEN 16001 AND 16100) AS not_deleted FROM ca;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
BEGIN;
SAVEPOINT s;
UPDATE ca SET v = 'rolled back' WHERE id BETWEEN 17000 AND 17100;
ROLLBACK TO s;
UPDATE ca SET v = 'second try' WHERE id BETWEEN 17050 AND 17150;
COMMIT;
UPDATE ch SET v = 'second try' WHERE id BETWEEN 17050 AND 17150;
UPDATE ca SET n = -n WHERE id BETWEEN 15000 AND 15010;
UPDATE ch SET n = -n WHERE id BETWEEN 15000 AND 15010;
SELECT count(*) FILTER (WHERE v = 'rolled back') AS rolled_back,
       count(*) FILTER (WHERE v = 'second try') AS second_try FROM ca;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- the indexes agree with the rows
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM twin('SELECT * FROM %s WHERE k >= 1000', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE id > 100000', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE id BETWEEN 14990 AND 17200', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE v LIKE ''value 1%%''', 'ca', 'ch');
RESET enable_seqscan;
RESET enable_bitmapscan;
-- none of that changed the cold pages; the rows never written to are
-- still cold
SELECT cold_rows, cold_pages = :ca_pages0 AND cold_raw_bytes = :ca_raw0 AND
       cold_bytes = :ca_bytes0 AS cold_pages_unchanged
  FROM aura_stats('ca');

--
-- 4. snapshots taken before a write to cold rows still see the old rows:
-- a cursor opened before an update and a delete in the same transaction,
-- in a read committed and in a repeatable read transaction (pg_regress
-- has one session; isolation tests cover other sessions)
--
BEGIN;
DECLARE c CURSOR FOR SELECT id, k, v FROM ca WHERE id BETWEEN 12000 AND 12006 ORDER BY id;
UPDATE ca SET v = 'after the cursor' WHERE id BETWEEN 12000 AND 12006;
DELETE FROM ca WHERE id = 12002;
FETCH ALL FROM c;
SELECT id, k, v FROM ca WHERE id BETWEEN 12000 AND 12006 ORDER BY id;
COMMIT;
UPDATE ch SET v = 'after the cursor' WHERE id BETWEEN 12000 AND 12006;
DELETE FROM ch WHERE id = 12002;
SELECT same_rows('ca', 'ch');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*), sum(n) FROM ca WHERE id BETWEEN 13000 AND 13099;
DECLARE c CURSOR FOR SELECT count(*), sum(n) FROM ca WHERE id BETWEEN 13000 AND 13099;
DELETE FROM ca WHERE id BETWEEN 13000 AND 13049;
UPDATE ca SET n = 0 WHERE id BETWEEN 13050 AND 13099;
FETCH ALL FROM c;
SELECT count(*), sum(n) FROM ca WHERE id BETWEEN 13000 AND 13099;
ROLLBACK;
SELECT count(*), sum(n) FROM ca WHERE id BETWEEN 13000 AND 13099;
SELECT rowids, versions FROM aura_check('ca');
SELECT same_rows('ca', 'ch');
-- VACUUM (FREEZE) makes every row written above cold again: the updated,
-- deleted-and-rolled-back, locked and upserted rows, and also the rows
-- whose update was rolled back (their hot copies are settled again once
-- VACUUM has removed the aborted xmax).  (A single VACUUM may leave an
-- old version linked behind a version it moved, and such a row hot: so
-- twice.)
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) ca;
VACUUM (FREEZE) ca;
SELECT rows_made_cold > 0 AS made_cold, cold_rows = live_rows AS all_cold,
       versions = live_rows AS no_dead, hot_pages = 0 AS no_hot_pages
  FROM aura_stats('ca');
SELECT check_ok('ca');
SELECT same_rows('ca', 'ch');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM twin('SELECT * FROM %s WHERE k >= 1000', 'ca', 'ch');
SELECT * FROM twin('SELECT * FROM %s WHERE id BETWEEN 14990 AND 17200', 'ca', 'ch');
RESET enable_seqscan;
RESET enable_bitmapscan;

--
-- 5. VACUUM (FREEZE) makes the frozen, settled rows of a table filled by
-- plain INSERT cold, and rebuilds cold pages most of whose rows are gone
--
CREATE TABLE cv (id int PRIMARY KEY, k int, v text) USING aura
  WITH (autovacuum_enabled = off);
CREATE INDEX cv_k ON cv (k);
CREATE TABLE cvh (id int PRIMARY KEY, k int, v text) USING heap
  WITH (autovacuum_enabled = off);
CREATE INDEX cvh_k ON cvh (k);
INSERT INTO cv SELECT g, g % 50, 'row ' || g || repeat(' pad', g % 10) FROM generate_series(1, 20000) g;
INSERT INTO cvh SELECT g, g % 50, 'row ' || g || repeat(' pad', g % 10) FROM generate_series(1, 20000) g;
SELECT cold_pages, cold_rows, rows_made_cold FROM aura_stats('cv');
SELECT hot_pages AS hot0 FROM aura_stats('cv') \gset
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cvh;
SELECT rows_made_cold = 20000 AS made_cold, cold_rows = live_rows AS all_cold,
       hot_pages = 0 AS no_hot_pages, hot_pages < :hot0 AS fewer_hot_pages,
       cold_pages > 0 AS has_cold_pages, cold_bytes < cold_raw_bytes AS compressed
  FROM aura_stats('cv');
SELECT cold_pages AS cv_pages0, cold_raw_bytes AS cv_raw0 FROM aura_stats('cv') \gset
SELECT rowids, versions FROM aura_check('cv');
SELECT same_rows('cv', 'cvh');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM twin('SELECT * FROM %s WHERE k = 7', 'cv', 'cvh');
SELECT * FROM twin('SELECT * FROM %s WHERE id BETWEEN 100 AND 5000', 'cv', 'cvh');
RESET enable_seqscan;
RESET enable_bitmapscan;
-- a second VACUUM (FREEZE) finds nothing to do
VACUUM (FREEZE) cv;
SELECT rows_made_cold = 20000 AS nothing_new, cold_rows = live_rows AS all_cold,
       cold_pages = :cv_pages0 AND cold_raw_bytes = :cv_raw0 AS same_cold_pages
  FROM aura_stats('cv');
-- update 2/3 of the rows: they go hot, their cold copies stay behind
UPDATE cv SET v = v || '*' WHERE id % 3 <> 0;
UPDATE cvh SET v = v || '*' WHERE id % 3 <> 0;
SELECT cold_rows, live_rows, cold_pages = :cv_pages0 AND cold_raw_bytes = :cv_raw0 AS same_cold_pages
  FROM aura_stats('cv');
SELECT rowids, versions FROM aura_check('cv');
SELECT same_rows('cv', 'cvh');
-- VACUUM (FREEZE) twice: the updated rows go cold again, and the cold
-- pages, only a third of whose rows are still referenced, are rebuilt:
-- the cold pages hold about what they held before the update (without
-- the rebuild: 5/3 of it)
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cvh;
SELECT cold_raw_bytes < 1.3 * :cv_raw0 AS rebuilt_bytes,
       cold_pages < 1.3 * :cv_pages0 AS rebuilt_pages,
       cold_rows = live_rows AS all_cold, rows_made_cold > 20000 AS made_cold_again,
       live_rows, versions
  FROM aura_stats('cv');
SELECT rowids, versions FROM aura_check('cv');
SELECT same_rows('cv', 'cvh');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM twin('SELECT * FROM %s WHERE k = 7', 'cv', 'cvh');
SELECT * FROM twin('SELECT * FROM %s WHERE v LIKE ''%%*''', 'cv', 'cvh');
RESET enable_seqscan;
RESET enable_bitmapscan;
-- delete a few rows from every cold page (5%, fewer than the tenth of dead
-- items that makes a page worth rebuilding): the cold pages stay as they
-- are, still holding the deleted rows' items (only a part-filled last page
-- may be merged into others), and the rowids are recycled
SELECT cold_pages AS cv_pages1, cold_raw_bytes AS cv_raw1 FROM aura_stats('cv') \gset
DELETE FROM cv WHERE id % 20 = 5;
DELETE FROM cvh WHERE id % 20 = 5;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cvh;
SELECT rowids_free, cold_rows = live_rows AS all_cold,
       cold_pages >= :cv_pages1 - 1 AND cold_raw_bytes >= 0.95 * :cv_raw1 AS not_rebuilt
  FROM aura_stats('cv');
SELECT rowids, versions FROM aura_check('cv');
-- another 10%: more than a tenth of every page's items is dead now, and
-- VACUUM rebuilds the pages (at least 32 a pass, most dead first); the
-- rowids are recycled and handed to new rows
DELETE FROM cv WHERE id % 20 IN (15, 16);
DELETE FROM cvh WHERE id % 20 IN (15, 16);
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cvh;
SELECT rowids_free, cold_rows = live_rows AS all_cold,
       cold_pages < :cv_pages1 AS fewer_pages,
       cold_raw_bytes < 0.92 * :cv_raw1 AS rebuilt
  FROM aura_stats('cv');
SELECT rowids_allocated AS alloc0 FROM aura_stats('cv') \gset
INSERT INTO cv SELECT g, g % 50, 'new ' || g FROM generate_series(30001, 31000) g;
INSERT INTO cvh SELECT g, g % 50, 'new ' || g FROM generate_series(30001, 31000) g;
SELECT rowids_allocated = :alloc0 AS rowids_reused FROM aura_stats('cv');
SELECT rowids, versions FROM aura_check('cv');
SELECT same_rows('cv', 'cvh');
SELECT * FROM twin('SELECT * FROM %s WHERE id %% 10 = 5', 'cv', 'cvh');
-- a TID range scan reads the rows now at the recycled rowids
SELECT count(*), count(*) FILTER (WHERE id > 30000) AS new_rows,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM cvh h WHERE h.id = a.id AND h::text = a::text)) AS not_in_heap
  FROM cv a WHERE ctid < '(30,0)';
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM twin('SELECT * FROM %s WHERE id BETWEEN 1 AND 31000', 'cv', 'cvh');
RESET enable_seqscan;
RESET enable_bitmapscan;
-- the new rows at recycled rowids go cold too
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
SELECT cold_rows = live_rows AS all_cold, live_rows FROM aura_stats('cv');
SELECT check_ok('cv');
SELECT same_rows('cv', 'cvh');
-- aura_compact() makes rows cold too, inside a transaction; a cursor open
-- across it still reads its rows
UPDATE cv SET k = k + 100 WHERE id % 2 = 0;
UPDATE cvh SET k = k + 100 WHERE id % 2 = 0;
SELECT rows_made_cold AS made0, cold_rows AS cold0 FROM aura_stats('cv') \gset
BEGIN;
DECLARE c CURSOR FOR SELECT id, k, v FROM cv WHERE id <= 20 ORDER BY id;
FETCH 3 FROM c;
SELECT aura_compact('cv');
FETCH ALL FROM c;
COMMIT;
SELECT aura_compact('cv');
SELECT rows_made_cold > :made0 AS made_cold, cold_rows > :cold0 AS more_cold,
       cold_rows = live_rows AS all_cold
  FROM aura_stats('cv');
SELECT check_ok('cv');
SELECT same_rows('cv', 'cvh');
-- delete most rows: the cold pages are rebuilt with the few left
SELECT cold_raw_bytes AS cv_raw2 FROM aura_stats('cv') \gset
DELETE FROM cv WHERE id % 10 NOT IN (0, 3);
DELETE FROM cvh WHERE id % 10 NOT IN (0, 3);
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cv;
VACUUM (FREEZE) cv;
SELECT cold_raw_bytes < :cv_raw2 / 2 AS rebuilt, cold_rows = live_rows AS all_cold,
       live_rows, versions FROM aura_stats('cv');
SELECT rowids, versions FROM aura_check('cv');
SELECT same_rows('cv', 'cvh');
-- VACUUM FULL rewrites the table with its cold rows
VACUUM FULL cv;
SELECT live_rows, versions FROM aura_stats('cv');
SELECT check_ok('cv');
SELECT same_rows('cv', 'cvh');
SELECT * FROM twin('SELECT * FROM %s WHERE k = 110', 'cv', 'cvh');
-- rows whose update was rolled back are settled again once VACUUM has
-- removed the aborted xmax: they go cold as well
CREATE TABLE cr (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE crh (id int PRIMARY KEY, v text) USING heap WITH (autovacuum_enabled = off);
INSERT INTO cr SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
INSERT INTO crh SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
VACUUM (FREEZE) cr;
SELECT cold_rows, live_rows FROM aura_stats('cr');
BEGIN;
UPDATE cr SET v = 'rolled back' WHERE id <= 100;
ROLLBACK;
BEGIN;
DELETE FROM cr WHERE id BETWEEN 101 AND 200;
ROLLBACK;
SELECT count(*) FROM (SELECT * FROM cr WHERE id BETWEEN 201 AND 300 FOR UPDATE) s;
SELECT cold_rows, live_rows FROM aura_stats('cr');
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cr;
VACUUM (FREEZE) cr;
SELECT cold_rows, live_rows, versions, hot_pages FROM aura_stats('cr');
SELECT rowids, versions FROM aura_check('cr');
SELECT same_rows('cr', 'crh');
-- the hot pages whose rows all go cold are freed by that same pass: its
-- own changes to them (the old copies flagged as moved) do not count as
-- writes that could have added versions it did not see
CREATE TABLE cg (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE cgh (id int PRIMARY KEY, v text) USING heap WITH (autovacuum_enabled = off);
INSERT INTO cg SELECT g, repeat('v', 100) FROM generate_series(1, 5000) g;
INSERT INTO cgh SELECT g, repeat('v', 100) FROM generate_series(1, 5000) g;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cg;
SELECT hot_pages, free_pages, cold_rows = live_rows AS all_cold FROM aura_stats('cg');
UPDATE cg SET v = v || 'x' WHERE id % 2 = 0;
UPDATE cgh SET v = v || 'x' WHERE id % 2 = 0;
SELECT hot_pages > 0 AS hot, cold_rows FROM aura_stats('cg');
-- an update of a cold row chains its new version to the cold row itself:
-- one dead version per update, as on heap
SELECT pg_stat_force_next_flush();
SELECT h.n_dead_tup AS heap_dead, a.n_dead_tup = h.n_dead_tup AS aura_same
  FROM pg_stat_user_tables a, pg_stat_user_tables h
 WHERE a.relid = 'cg'::regclass AND h.relid = 'cgh'::regclass;
-- a delete materialises the cold row first, and autovacuum is told of the
-- dead version that leaves (the cold item) besides the deleted one
DELETE FROM cg WHERE id % 10 = 1;
DELETE FROM cgh WHERE id % 10 = 1;
SELECT pg_stat_force_next_flush();
SELECT h.n_dead_tup - 2500 AS heap_deleted,
       a.n_dead_tup - 2500 = 2 * (h.n_dead_tup - 2500) AS aura_twice
  FROM pg_stat_user_tables a, pg_stat_user_tables h
 WHERE a.relid = 'cg'::regclass AND h.relid = 'cgh'::regclass;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM cg;
SELECT hot_pages, free_pages > 0 AS freed, cold_rows = live_rows AS all_cold
  FROM aura_stats('cg');
SELECT rowids, versions FROM aura_check('cg');
SELECT same_rows('cg', 'cgh');
DROP TABLE cg, cgh;
-- cold pages a tenth of whose items are dead are rebuilt most dead first,
-- at most max(32, cold pages / 16) of them a pass: with 12.5% dead in the
-- lower half of the table and 30% in the upper half, one pass rebuilds
-- 32 pages of the upper half (and part-filled pages, which are rebuilt
-- whatever the budget), none of the lower half; later passes
-- rebuild the rest (12.5% dead is over the tenth too).  Where each row is
-- comes from aura_row_versions.
CREATE TABLE cb (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
INSERT INTO cb SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 40000) g;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cb;
-- (again if a concurrent autoanalyze held OldestXmin back; not echoed)
\set ECHO none
SELECT 'VACUUM (FREEZE) cb' FROM aura_stats('cb') WHERE cold_rows < live_rows \gexec
SELECT 'VACUUM (FREEZE) cb' FROM aura_stats('cb') WHERE cold_rows < live_rows \gexec
\set ECHO all
SELECT cold_rows = live_rows AS all_cold FROM aura_stats('cb');
CREATE FUNCTION cold_block_of(tid) RETURNS bigint LANGUAGE sql AS $$
	SELECT block FROM aura_row_versions('cb', ($1::text::point)[0]::bigint * 291 +
											  ($1::text::point)[1]::bigint - 1)
	 WHERE depth = 0
$$;
CREATE TEMP TABLE cb_at AS SELECT id, cold_block_of(ctid) AS blk FROM cb;
SELECT count(DISTINCT blk) > 300 AS many_pages FROM cb_at;
-- a cold row is stored without its TID, raw xmin and cid (they would not
-- compress): it reads back with t_ctid = its own TID and xmin frozen
SELECT count(*) AS rows, count(*) FILTER (WHERE v.t_ctid = c.ctid::text) AS own_tid,
       count(*) FILTER (WHERE v.xmin = '2'::xid) AS frozen_xmin
  FROM cb c, aura_row_versions('cb', (c.ctid::text::point)[0]::bigint * 291 +
                                     (c.ctid::text::point)[1]::bigint - 1) v
 WHERE v.depth = 0;
DELETE FROM cb WHERE id <= 20000 AND id % 8 = 0;
DELETE FROM cb WHERE id > 20000 AND id % 10 IN (1, 4, 7);
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cb;
SELECT count(*) FILTER (WHERE a.id <= 20000 AND cold_block_of(c.ctid) <> a.blk) AS lower_rows_moved,
       count(DISTINCT a.blk) FILTER (WHERE a.id > 20000 AND cold_block_of(c.ctid) <> a.blk)
         BETWEEN 32 AND 34 AS upper_pages_rebuilt_32_and_last
  FROM cb_at a JOIN cb c USING (id);
SELECT 'VACUUM cb' FROM generate_series(1, 15) \gexec
SELECT count(*) FILTER (WHERE cold_block_of(c.ctid) = a.blk) AS rows_not_moved,
       count(*) AS rows_left
  FROM cb_at a JOIN cb c USING (id);
SELECT cold_rows = live_rows AS all_cold, live_rows FROM aura_stats('cb');
SELECT rowids, versions FROM aura_check('cb');
DROP TABLE cb, cb_at;
DROP FUNCTION cold_block_of(tid);
-- a pass writes its rebuilt cold pages to pages it has freed itself: after
-- a frozen load and deletes (whose materialised copies went to new pages)
-- the free space map holds nothing, and the FSM's upper levels learn of
-- the pages a pass frees only at its end, so the rebuild finds them only
-- through the pass's own list.  The table grows by one page at most: the
-- rebuild's first, written before any page it replaces is free (the
-- deleted rows' copies are freed after the rebuild, with their rowids)
CREATE TABLE crb (id int PRIMARY KEY, k int, v text, n numeric) USING aura
  WITH (autovacuum_enabled = off);
BEGIN;
TRUNCATE crb;
COPY crb FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
DELETE FROM crb WHERE id % 10 = 3;
SELECT pg_relation_size('crb') / 8192 AS crb_pages0, cold_pages AS crb_cold0
  FROM aura_stats('crb') \gset
SELECT hot_pages > 0 AS has_hot_pages, free_pages FROM aura_stats('crb');
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) crb;
SELECT pg_relation_size('crb') / 8192 <= :crb_pages0 + 1 AS at_most_one_page_more,
       cold_pages < :crb_cold0 AS rebuilt, hot_pages, cold_rows = live_rows AS all_cold,
       live_rows
  FROM aura_stats('crb');
SELECT rowids, versions FROM aura_check('crb');
DROP TABLE crb;

--
-- 6. the switches: aura.compression = off and aura_set_compression(t,
-- false) keep settled rows hot; switched back on, VACUUM (FREEZE) makes
-- them cold
--
CREATE TABLE cn (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE cnh (id int PRIMARY KEY, v text) USING heap WITH (autovacuum_enabled = off);
INSERT INTO cn SELECT g, 'row ' || g FROM generate_series(1, 5000) g;
INSERT INTO cnh SELECT g, 'row ' || g FROM generate_series(1, 5000) g;
SHOW aura.compression;
SET aura.compression = off;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cn;
SELECT cold_pages, cold_rows, rows_made_cold, versions_frozen >= 5000 AS frozen
  FROM aura_stats('cn');
SELECT rowids, versions FROM aura_check('cn');
SELECT same_rows('cn', 'cnh');
-- nor does a frozen load write cold pages
BEGIN;
TRUNCATE cn;
COPY cn FROM PROGRAM 'seq 1 5000 | awk ''{ print $1 ",row " $1 }''' WITH (FREEZE, FORMAT csv);
COMMIT;
SELECT cold_pages, cold_rows, live_rows, hot_pages > 0 AS has_hot_pages FROM aura_stats('cn');
SELECT rowids, versions FROM aura_check('cn');
SELECT same_rows('cn', 'cnh');
RESET aura.compression;
SHOW aura.compression;
VACUUM (FREEZE) cn;
SELECT cold_rows, rows_made_cold, hot_pages FROM aura_stats('cn');
SELECT cold_pages AS cn_pages0, cold_raw_bytes AS cn_raw0 FROM aura_stats('cn') \gset
SELECT rowids, versions FROM aura_check('cn');
SELECT same_rows('cn', 'cnh');
-- switched off, VACUUM (FREEZE) does not rebuild sparse cold pages either,
-- and the updated rows stay hot; switched on again, it does both
UPDATE cn SET v = v || '!' WHERE id % 3 <> 0;
UPDATE cnh SET v = v || '!' WHERE id % 3 <> 0;
SET aura.compression = off;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cn;
VACUUM (FREEZE) cn;
SELECT cold_rows, rows_made_cold, live_rows, versions,
       cold_pages = :cn_pages0 AND cold_raw_bytes = :cn_raw0 AS same_cold_pages
  FROM aura_stats('cn');
SELECT rowids, versions FROM aura_check('cn');
SELECT same_rows('cn', 'cnh');
RESET aura.compression;
VACUUM (FREEZE) cn;
SELECT cold_rows, rows_made_cold > 5000 AS made_cold, live_rows,
       cold_raw_bytes < 1.3 * :cn_raw0 AS rebuilt
  FROM aura_stats('cn');
SELECT rowids, versions FROM aura_check('cn');
SELECT same_rows('cn', 'cnh');
-- per table
CREATE TABLE cs (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE csh (id int PRIMARY KEY, v text) USING heap WITH (autovacuum_enabled = off);
SELECT aura_set_compression('cs', false);
INSERT INTO cs SELECT g, 'row ' || g FROM generate_series(1, 5000) g;
INSERT INTO csh SELECT g, 'row ' || g FROM generate_series(1, 5000) g;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cs;
SELECT aura_compact('cs');
SELECT cold_pages, cold_rows, versions_frozen >= 5000 AS frozen FROM aura_stats('cs');
SELECT rowids, versions FROM aura_check('cs');
SELECT same_rows('cs', 'csh');
-- other tables are not affected
UPDATE cn SET v = v || '?' WHERE id <= 100;
UPDATE cnh SET v = v || '?' WHERE id <= 100;
SELECT rows_made_cold AS cn_made0 FROM aura_stats('cn') \gset
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cn;
VACUUM (FREEZE) cn;
-- (the 100 updated rows, and the rows of a part-filled page merged)
SELECT rows_made_cold - :cn_made0 >= 100 AS made_cold, cold_rows = live_rows AS all_cold
  FROM aura_stats('cn');
SELECT same_rows('cn', 'cnh');
-- the switch belongs to the table: a VACUUM FULL rewrite keeps it
VACUUM FULL cs;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cs;
SELECT cold_pages, cold_rows FROM aura_stats('cs');
SELECT check_ok('cs');
SELECT same_rows('cs', 'csh');
-- switched back on
SELECT aura_set_compression('cs', true);
VACUUM (FREEZE) cs;
SELECT cold_pages > 0 AS has_cold_pages, cold_rows, hot_pages FROM aura_stats('cs');
SELECT check_ok('cs');
SELECT same_rows('cs', 'csh');
-- and so does a TRUNCATE: a table switched off and reloaded by TRUNCATE
-- and COPY FREEZE keeps its rows hot
CREATE TABLE cf (id int PRIMARY KEY, k int, v text, n numeric) USING aura;
CREATE TABLE cfh (id int PRIMARY KEY, k int, v text, n numeric) USING heap;
SELECT aura_set_compression('cf', false);
BEGIN;
TRUNCATE cf;
COPY cf FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
BEGIN;
TRUNCATE cfh;
COPY cfh FROM '/tmp/aura_cold_data.csv' WITH (FREEZE, FORMAT csv);
COMMIT;
SELECT cold_pages, cold_rows, live_rows FROM aura_stats('cf');
SELECT rowids, versions FROM aura_check('cf');
SELECT same_rows('cf', 'cfh');
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cf;
SELECT cold_pages, cold_rows FROM aura_stats('cf');

--
-- 7. temporary and unlogged tables: cold pages in local buffers and
-- without WAL (no page LSN tells VACUUM what it wrote itself: the pages it
-- reuses for cold rows and relocated versions must still not be freed)
--
CREATE TEMP TABLE ct (id int PRIMARY KEY, v text) USING aura;
CREATE TEMP TABLE cth (id int PRIMARY KEY, v text) USING heap;
CREATE UNLOGGED TABLE cu (id int PRIMARY KEY, v text) USING aura
  WITH (autovacuum_enabled = off);
CREATE UNLOGGED TABLE cuh (id int PRIMARY KEY, v text) USING heap
  WITH (autovacuum_enabled = off);   -- (an autoanalyze holds back OldestXmin)
INSERT INTO ct SELECT g, 'row ' || g FROM generate_series(1, 6000) g;
INSERT INTO cth SELECT g, 'row ' || g FROM generate_series(1, 6000) g;
INSERT INTO cu SELECT g, 'row ' || g FROM generate_series(1, 6000) g;
INSERT INTO cuh SELECT g, 'row ' || g FROM generate_series(1, 6000) g;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) ct;
VACUUM (FREEZE) cu;
SELECT 'ct' AS t, cold_rows = live_rows AS all_cold FROM aura_stats('ct')
UNION ALL
SELECT 'cu', cold_rows = live_rows FROM aura_stats('cu');
-- rounds of updates, deletes and inserts into the pages the first pass
-- freed, then two passes, which reuse freed pages for cold pages and
-- relocated rows
DO $$
BEGIN
	FOR r IN 1..4 LOOP
		UPDATE ct SET v = v || '+' WHERE id % 3 = r % 3;
		UPDATE cth SET v = v || '+' WHERE id % 3 = r % 3;
		UPDATE cu SET v = v || '+' WHERE id % 3 = r % 3;
		UPDATE cuh SET v = v || '+' WHERE id % 3 = r % 3;
		DELETE FROM ct WHERE id % 50 = r;
		DELETE FROM cth WHERE id % 50 = r;
		DELETE FROM cu WHERE id % 50 = r;
		DELETE FROM cuh WHERE id % 50 = r;
		INSERT INTO ct SELECT g, 'new ' || g FROM generate_series(r * 10000, r * 10000 + 99) g;
		INSERT INTO cth SELECT g, 'new ' || g FROM generate_series(r * 10000, r * 10000 + 99) g;
		INSERT INTO cu SELECT g, 'new ' || g FROM generate_series(r * 10000, r * 10000 + 99) g;
		INSERT INTO cuh SELECT g, 'new ' || g FROM generate_series(r * 10000, r * 10000 + 99) g;
	END LOOP;
END $$;
SELECT txid_current() IS NOT NULL AS new_xid;
SELECT aura_compact('ct');
SELECT aura_compact('ct');
SELECT aura_compact('cu');
SELECT aura_compact('cu');
SELECT same_rows('ct', 'cth') AS temp_same, same_rows('cu', 'cuh') AS unlogged_same;
SELECT check_ok('ct') AS temp_ok, check_ok('cu') AS unlogged_ok;
SELECT 'ct' AS t, cold_rows = live_rows AS all_cold, live_rows FROM aura_stats('ct')
UNION ALL
SELECT 'cu', cold_rows = live_rows, live_rows FROM aura_stats('cu');
SET enable_seqscan = off;
SELECT count(*), sum(length(v)) FROM ct WHERE id > 0;
SELECT count(*), sum(length(v)) FROM cth WHERE id > 0;
SELECT count(*), sum(length(v)) FROM cu WHERE id > 0;
RESET enable_seqscan;
DROP TABLE ct, cth, cu, cuh;

--
-- 8. errors
--
CREATE TABLE cheap (id int);
\set VERBOSITY terse
SELECT aura_set_compression('cheap', false);
SELECT aura_set_compression('ca_pkey', false);
-- only a table's owner may switch it, through the function or directly
-- (row-level security on aura_table_settings)
CREATE ROLE regress_aura_cold_other;
SET ROLE regress_aura_cold_other;
SELECT aura_set_compression('ca', false);
INSERT INTO aura_table_settings VALUES ('ca', false);
UPDATE aura_table_settings SET compression = false;
RESET ROLE;
\set VERBOSITY default
SELECT count(*) AS settings_of_ca FROM aura_table_settings WHERE relid = 'ca'::regclass;
DROP ROLE regress_aura_cold_other;
SELECT aura_set_compression(NULL, false) IS NULL AS strict;
-- a dropped table's row goes with it (an event trigger), also when its
-- owner drops it and with DROP SCHEMA ... CASCADE; other rows stay
CREATE ROLE regress_aura_cold_owner;
CREATE SCHEMA cold_drop AUTHORIZATION regress_aura_cold_owner;
SET ROLE regress_aura_cold_owner;
CREATE TABLE cold_drop.d1 (id int) USING aura;
CREATE TABLE cold_drop.d2 (id int) USING aura;
SELECT aura_set_compression('cold_drop.d1', false), aura_set_compression('cold_drop.d2', false);
SELECT count(*) AS own_rows FROM aura_table_settings;
DROP TABLE cold_drop.d1;
SELECT count(*) AS own_rows FROM aura_table_settings;
RESET ROLE;
SELECT count(*) AS all_rows FROM aura_table_settings \gset
DROP SCHEMA cold_drop CASCADE;
SELECT :all_rows - count(*) AS rows_removed, count(*) > 0 AS others_stay
  FROM aura_table_settings;
DROP ROLE regress_aura_cold_owner;

DROP TABLE ca, ch, cv, cvh, cr, crh, cn, cnh, cs, csh, cf, cfh, cheap;
DROP FUNCTION same_rows(regclass, regclass);
DROP FUNCTION twin(text, regclass, regclass);
DROP FUNCTION check_ok(regclass);
-- (no row: rm reads no input, so nothing may be written to the pipe)
COPY (SELECT WHERE false) TO PROGRAM 'rm -f /tmp/aura_cold_data.csv /tmp/aura_cold_blob.csv';
