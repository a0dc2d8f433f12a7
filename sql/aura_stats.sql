--
-- aura_stats: the storage breakdown of aura_stats() and the cumulative
-- statistics of pg_stat_user_tables follow what was done to a table.
-- VACUUM removes dead versions and recycles dead rowids (see also
-- aura_vacuum).
--

-- this test counts its own passes: no compaction workers (aura_autocompact)
SET aura.compaction_trigger = 0;
CREATE TABLE st_t (id int, v text) USING aura WITH (autovacuum_enabled = off);
-- an empty table has no pages at all
SELECT * FROM aura_stats('st_t');
INSERT INTO st_t SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
SELECT total_pages = meta_pages + map_pages + hot_pages + blob_pages + free_pages AS pages_add_up,
       meta_pages, map_pages >= 1 AS has_map, hot_pages > 0 AS has_hot, blob_pages, free_pages,
       rowids_allocated >= 1000 AS rowids_ok, versions, live_rows, dead_versions,
       blobs, blob_bytes, blob_raw_bytes
  FROM aura_stats('st_t');
-- aura_stats takes a regclass: names and OIDs both work
SELECT live_rows FROM aura_stats('public.st_t');
SELECT live_rows FROM aura_stats('st_t'::regclass::oid);

-- updates add versions; the old ones are dead once the updater commits
UPDATE st_t SET v = v || '!' WHERE id <= 100;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_t');
UPDATE st_t SET v = v || '!' WHERE id <= 100;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_t');
DELETE FROM st_t WHERE id > 900;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_t');
-- the current transaction's view: uncommitted changes count for it
BEGIN;
INSERT INTO st_t SELECT g, 'uncommitted' FROM generate_series(2001, 2010) g;
DELETE FROM st_t WHERE id <= 5;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_t');
ROLLBACK;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_t');

-- blobs: compressible data is stored compressed, random data is not
CREATE TABLE st_blob (id int, v text, b bytea) USING aura;
INSERT INTO st_blob VALUES (1, repeat('compressible ', 100000), NULL);
SELECT blobs, blob_pages > 0 AS has_blob_pages, blob_raw_bytes = 1300000 AS raw_size_ok,
       blob_bytes < blob_raw_bytes / 10 AS compressed
  FROM aura_stats('st_blob');
INSERT INTO st_blob
SELECT 2, NULL, string_agg(decode(md5(i::text), 'hex'), '') FROM generate_series(1, 20000) i;
SELECT blobs, blob_raw_bytes = 1300000 + 320000 AS raw_size_ok,
       blob_bytes >= 320000 AS random_stored_raw,
       blob_bytes <= blob_raw_bytes AS never_bigger
  FROM aura_stats('st_blob');
-- a row with two large values has two blobs; small values stay inline
INSERT INTO st_blob VALUES (3, repeat('a', 10000), decode(repeat('ab', 10000), 'hex')),
                           (4, 'small', '\x01');
SELECT blobs, live_rows FROM aura_stats('st_blob');
-- EXTERNAL storage: not compressed
ALTER TABLE st_blob ALTER COLUMN v SET STORAGE EXTERNAL;
SELECT blobs AS b0, blob_bytes AS bb0, blob_raw_bytes AS br0 FROM aura_stats('st_blob') \gset
INSERT INTO st_blob VALUES (5, repeat('e', 50000), NULL);
SELECT blobs - :b0 AS new_blobs, blob_bytes - :bb0 AS new_bytes, blob_raw_bytes - :br0 AS new_raw_bytes
  FROM aura_stats('st_blob');
-- an update rewrites the blobs of the new version (blobs are not shared)
UPDATE st_blob SET id = id + 10 WHERE id = 1;
SELECT blobs, live_rows, dead_versions FROM aura_stats('st_blob');
SELECT id, length(v), length(b) FROM st_blob ORDER BY id;
-- TRUNCATE empties everything
TRUNCATE st_blob;
SELECT * FROM aura_stats('st_blob');
DROP TABLE st_blob;

-- cumulative statistics
CREATE TABLE st_cnt (id int PRIMARY KEY, v text) USING aura WITH (autovacuum_enabled = off);
INSERT INTO st_cnt SELECT g, 'x' FROM generate_series(1, 500) g;
UPDATE st_cnt SET v = 'y' WHERE id <= 50;          -- keeps the rowids (HOT-like)
UPDATE st_cnt SET id = id + 1000 WHERE id > 490;   -- new rowids, index updated
DELETE FROM st_cnt WHERE id BETWEEN 100 AND 129;
SELECT count(*) FROM st_cnt;
SELECT count(*) FROM st_cnt;
SET enable_seqscan = off;
SELECT count(*) FROM st_cnt WHERE id = 200;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup,
       seq_scan >= 2 AS seq_scans, idx_scan >= 1 AS idx_scans
  FROM pg_stat_user_tables WHERE relname = 'st_cnt';
-- rolled-back changes are counted too (n_tup_*), but not as live rows
BEGIN;
INSERT INTO st_cnt SELECT g, 'gone' FROM generate_series(5001, 5010) g;
ROLLBACK;
SELECT pg_stat_force_next_flush();
SELECT n_tup_ins, n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'st_cnt';

-- VACUUM unlinks dead versions (the chains keep the live ones) and
-- recycles the rowids of deleted rows and of rows moved to a new rowid
SELECT versions, live_rows, dead_versions, rowids_free FROM aura_stats('st_cnt');
VACUUM st_cnt;
SELECT versions, live_rows, dead_versions, rowids_free, unlinked_versions,
       vacuum_passes, versions_removed, rowids_recycled
  FROM aura_stats('st_cnt');
SELECT * FROM aura_check('st_cnt');
SELECT reltuples FROM pg_class WHERE relname = 'st_cnt';
SELECT pg_stat_force_next_flush();
SELECT n_live_tup, n_dead_tup, vacuum_count FROM pg_stat_user_tables WHERE relname = 'st_cnt';
-- (PROCESS_TOAST false: the empty TOAST table's report has varying numbers;
-- terse: the details name transaction ids)
\set VERBOSITY terse
VACUUM (VERBOSE, PROCESS_TOAST false) st_cnt;
VACUUM (VERBOSE, ANALYZE, PROCESS_TOAST false) st_t;
\set VERBOSITY default
VACUUM (FREEZE) st_cnt;
VACUUM (DISABLE_PAGE_SKIPPING, INDEX_CLEANUP ON) st_cnt;
VACUUM ANALYZE st_cnt, st_t;
SELECT versions, live_rows FROM aura_stats('st_cnt');
-- VACUUM FULL does remove dead versions (it rewrites the table)
VACUUM FULL st_cnt;
SELECT versions, live_rows, dead_versions FROM aura_stats('st_cnt');
SELECT count(*) FROM st_cnt;

-- aura_stats on other relation kinds
CREATE INDEX st_t_idx ON st_t (id);
SELECT * FROM aura_stats('st_t_idx');
CREATE SEQUENCE st_seq;
SELECT * FROM aura_stats('st_seq');
SELECT * FROM aura_stats(0);
SELECT * FROM aura_stats(NULL);
DROP SEQUENCE st_seq;

DROP TABLE st_t, st_cnt;
