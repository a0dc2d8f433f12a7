--
-- aura_vacuum: VACUUM and aura_compact() remove dead versions, recycle the
-- rowids of dead rows (after removing them from every index), free and
-- reuse empty pages, truncate free pages at the end, and freeze, so that
-- relfrozenxid advances as heap's does.  aura_check() verifies the table
-- after every step, and a heap twin of each table gets the same changes:
-- both must always hold the same rows.
--
-- Exact counts are only asserted after compact_clean(), which compacts
-- until nothing dead is left: a concurrent snapshot (autovacuum's ANALYZE
-- of another table, say) may hold the horizon back for a moment.
--

-- this test counts its own passes: no compaction workers (aura_autocompact)
SET aura.compaction_trigger = 0;
CREATE FUNCTION compact_clean(rel regclass) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..50 LOOP
		PERFORM aura_compact(rel);
		IF (SELECT versions = live_rows FROM aura_stats(rel)) THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN false;
END $$;

-- same rows in the aura table and its heap twin?
CREATE FUNCTION same_rows(a regclass, h regclass) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) UNION ALL (TABLE %s EXCEPT ALL TABLE %s)) d',
				   a, h, h, a) INTO n;
	RETURN n = 0;
END $$;

CREATE TABLE va (id int PRIMARY KEY, k int, v text) USING aura
  WITH (autovacuum_enabled = off);
CREATE INDEX va_k ON va (k);
CREATE TABLE vh (id int PRIMARY KEY, k int, v text) USING heap
  WITH (autovacuum_enabled = off);
CREATE INDEX vh_k ON vh (k);

INSERT INTO va SELECT g, g % 100, 'row ' || g FROM generate_series(1, 5000) g;
INSERT INTO vh SELECT g, g % 100, 'row ' || g FROM generate_series(1, 5000) g;

-- 1. update chains: versions that keep the rowid and ones that move
UPDATE va SET v = v || '+' WHERE id % 2 = 0;
UPDATE vh SET v = v || '+' WHERE id % 2 = 0;
UPDATE va SET v = v || '+' WHERE id % 4 = 0;
UPDATE vh SET v = v || '+' WHERE id % 4 = 0;
UPDATE va SET k = k + 1000 WHERE id % 10 = 0;     -- indexed column: new rowids
UPDATE vh SET k = k + 1000 WHERE id % 10 = 0;
SELECT versions - live_rows AS dead_before, rowids_free FROM aura_stats('va');
VACUUM va;
SELECT versions_removed > 0 AS removed, rowids_recycled > 0 AS recycled,
       vacuum_passes FROM aura_stats('va');
SELECT compact_clean('va');
SELECT versions, live_rows, rowids_free FROM aura_stats('va');
SELECT rowids, versions, free_rowids FROM aura_check('va');
SELECT same_rows('va', 'vh');

-- the recycled rowids are gone from the indexes too
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM va WHERE k < 1000;
SELECT count(*) FROM va WHERE k >= 1000;
SELECT count(*) FROM va WHERE id > 0;
SELECT id, k, v FROM va WHERE k = 1010 ORDER BY id LIMIT 3;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) FROM va WHERE k >= 1000;

-- 2. deleted rows: their rowids are handed out again, and index lookups
-- of the old keys find nothing, of the new keys the new rows
SELECT rowids_allocated AS alloc0 FROM aura_stats('va') \gset
DELETE FROM va WHERE id > 2500;
DELETE FROM vh WHERE id > 2500;
SELECT compact_clean('va');
SELECT rowids_free >= 2500 AS freed, live_rows FROM aura_stats('va');
SELECT * FROM aura_check('va') \gset chk_
INSERT INTO va SELECT g, g % 7, 'new ' || g FROM generate_series(10001, 12000) g;
INSERT INTO vh SELECT g, g % 7, 'new ' || g FROM generate_series(10001, 12000) g;
SELECT rowids_allocated = :alloc0 AS no_new_rowids, live_rows FROM aura_stats('va');
SELECT max(ctid) < '(20,0)'::tid AS low_rowids_reused FROM va;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM va WHERE id BETWEEN 2501 AND 5000;
SELECT count(*) FROM va WHERE id BETWEEN 10001 AND 12000;
SELECT id, k, v FROM va WHERE id = 11999;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT same_rows('va', 'vh');
SELECT rowids, versions FROM aura_check('va');

-- 3. aborted inserts and updates leave nothing behind
BEGIN;
INSERT INTO va SELECT g, 0, 'aborted' FROM generate_series(20001, 21000) g;
UPDATE va SET v = 'aborted too' WHERE id <= 100;
ROLLBACK;
SELECT compact_clean('va');
SELECT count(*) FILTER (WHERE v LIKE 'aborted%') AS aborted, count(*) FROM va;
SELECT same_rows('va', 'vh');
SELECT rowids, versions FROM aura_check('va');

-- 4. empty pages are freed, reused, and truncated away at the end
SELECT total_pages AS pages_full FROM aura_stats('va') \gset
DELETE FROM va;
DELETE FROM vh;
SELECT compact_clean('va');
SELECT free_pages > 0 AS has_free_pages, pages_freed > 0 AS freed,
       live_rows FROM aura_stats('va');
-- free pages are reused once no older snapshot is left
SELECT txid_current() IS NOT NULL AS new_xid;
INSERT INTO va SELECT g, 1, 'again ' || g FROM generate_series(1, 3000) g;
INSERT INTO vh SELECT g, 1, 'again ' || g FROM generate_series(1, 3000) g;
SELECT total_pages <= :pages_full AS no_growth FROM aura_stats('va');
SELECT same_rows('va', 'vh');
-- the free space map lists free pages in two classes: freed by the pass
-- that just ran (2048 bytes: the transactions running then may still read
-- them) and known to be reusable (4096, what a later pass finds); every
-- free page is listed, and writers take the reusable ones first
CREATE EXTENSION pg_freespacemap;
CREATE FUNCTION fsm_classes(rel regclass, OUT fresh bigint, OUT ready bigint,
                            OUT unlisted bigint)
LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE avail = 2048), count(*) FILTER (WHERE avail = 4096),
         (SELECT free_pages FROM aura_stats(rel)) - count(*) FILTER (WHERE avail > 0)
    FROM pg_freespace(rel) $$;
DELETE FROM va WHERE id <= 1500;
DELETE FROM vh WHERE id <= 1500;
SELECT compact_clean('va');
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM va;
SELECT fresh = 0 AS none_fresh, ready > 0 AS has_ready, unlisted FROM fsm_classes('va');
DELETE FROM va WHERE id > 1500;
DELETE FROM vh WHERE id > 1500;
VACUUM va;
SELECT fresh > 0 AS has_fresh, ready > 0 AS has_ready, unlisted FROM fsm_classes('va');
SELECT fresh AS fresh0, ready AS ready0 FROM fsm_classes('va') \gset
INSERT INTO va SELECT g, 2, repeat('x', 100) FROM generate_series(1, 300) g;
INSERT INTO vh SELECT g, 2, repeat('x', 100) FROM generate_series(1, 300) g;
SELECT fresh = :fresh0 AS fresh_kept, ready < :ready0 AS ready_taken FROM fsm_classes('va');
SELECT same_rows('va', 'vh');
SELECT rowids, versions FROM aura_check('va');
-- free pages at the end are truncated away (a map page, which stays,
-- ends the table above; this one has only the first map page)
CREATE TABLE vt (id int, v text) USING aura WITH (autovacuum_enabled = off);
INSERT INTO vt SELECT g, repeat('t', 500) FROM generate_series(1, 900) g;
SELECT total_pages > 50 AS big, map_pages FROM aura_stats('vt');
DELETE FROM vt;
SELECT compact_clean('vt');
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM vt;
SELECT total_pages, hot_pages, live_rows FROM aura_stats('vt');
SELECT pg_relation_size('vt') = total_pages * 8192 AS size_ok FROM aura_stats('vt');
SELECT rowids, versions FROM aura_check('vt');
INSERT INTO vt VALUES (1, 'after truncation');
SELECT * FROM vt;
DROP TABLE vt;
DELETE FROM va;
DELETE FROM vh;

-- 5. freezing: relfrozenxid and relminmxid advance like heap's
INSERT INTO va SELECT g, g, 'frozen ' || g FROM generate_series(1, 1000) g;
INSERT INTO vh SELECT g, g, 'frozen ' || g FROM generate_series(1, 1000) g;
-- a MultiXact on some rows: two subtransactions lock them
BEGIN;
SELECT count(*) FROM (SELECT id FROM va WHERE id <= 10 FOR SHARE) s;
SAVEPOINT s;
SELECT count(*) FROM (SELECT id FROM va WHERE id <= 10 FOR UPDATE) s;
RELEASE s;
SELECT count(*) FROM (SELECT id FROM vh WHERE id <= 10 FOR SHARE) s;
SAVEPOINT s;
SELECT count(*) FROM (SELECT id FROM vh WHERE id <= 10 FOR UPDATE) s;
RELEASE s;
COMMIT;
SELECT txid_current() IS NOT NULL AS new_xid;
SELECT age(relfrozenxid) > 2 AS old_before FROM pg_class WHERE relname = 'va';
VACUUM (FREEZE) va;
VACUUM (FREEZE) vh;
SELECT c.relname, age(c.relfrozenxid) <= h.age + 1 AS frozen_like_heap,
       mxid_age(c.relminmxid) <= h.mxage AS mxid_like_heap
  FROM pg_class c,
       (SELECT age(relfrozenxid) AS age, mxid_age(relminmxid) AS mxage
          FROM pg_class WHERE relname = 'vh') h
 WHERE c.relname = 'va';
SELECT versions_frozen >= 1000 AS frozen FROM aura_stats('va');
SELECT same_rows('va', 'vh');
SELECT rowids, versions FROM aura_check('va');
-- frozen rows can still be updated, deleted and locked
UPDATE va SET v = v || '!' WHERE id <= 5;
UPDATE vh SET v = v || '!' WHERE id <= 5;
DELETE FROM va WHERE id BETWEEN 6 AND 10;
DELETE FROM vh WHERE id BETWEEN 6 AND 10;
SELECT count(*) FROM (SELECT id FROM va WHERE id <= 20 FOR UPDATE) s;
SELECT same_rows('va', 'vh');

-- 6. VACUUM options: INDEX_CLEANUP OFF keeps dead rowids, TRUNCATE OFF
-- keeps free tail pages
DELETE FROM va WHERE id > 500;
DELETE FROM vh WHERE id > 500;
SELECT rowids_free AS free0 FROM aura_stats('va') \gset
VACUUM (INDEX_CLEANUP OFF) va;
SELECT rowids_free = :free0 AS none_recycled FROM aura_stats('va');
SELECT rowids, versions FROM aura_check('va');
SET enable_seqscan = off;
SELECT count(*) FROM va WHERE id > 500;
RESET enable_seqscan;
VACUUM (TRUNCATE OFF) va;
SELECT rowids_free > :free0 AS recycled_now FROM aura_stats('va');
SELECT same_rows('va', 'vh');

-- 7. VACUUM ANALYZE, statistics, the aura_tables view
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE va;
SELECT reltuples FROM pg_class WHERE relname = 'va';
SELECT pg_stat_force_next_flush();
SELECT n_live_tup, n_dead_tup, vacuum_count >= 3 AS vacuumed,
       last_vacuum IS NOT NULL AS has_last_vacuum
  FROM pg_stat_user_tables WHERE relname = 'va';
SELECT relation, live_rows, vacuum_passes > 0 AS vacuumed
  FROM aura_tables WHERE relation = 'va'::regclass;

-- 8. a queue: rows inserted and deleted over and over keep the table, the
-- row map and the rowid space bounded
CREATE TABLE vq (id bigserial PRIMARY KEY, payload text) USING aura
  WITH (autovacuum_enabled = off);
INSERT INTO vq (payload) SELECT repeat('q', 50) FROM generate_series(1, 2000);
SELECT compact_clean('vq');
SELECT txid_current() IS NOT NULL AS new_xid;
SELECT total_pages AS q_pages0, rowids_allocated AS q_rowids0 FROM aura_stats('vq') \gset
-- (one transaction per statement: \gexec runs each generated command)
SELECT cmd FROM generate_series(1, 20) i,
       LATERAL (VALUES
         ('INSERT INTO vq (payload) SELECT repeat(''q'', 50) FROM generate_series(1, 2000)'),
         ('DELETE FROM vq WHERE id IN (SELECT id FROM vq ORDER BY id LIMIT 2000)'),
         ('VACUUM vq')) AS c(cmd) \gexec
SELECT compact_clean('vq');
SELECT count(*), min(id) > 40000 AS old_rows_gone FROM vq;
SELECT total_pages <= 4 * :q_pages0 + 10 AS pages_bounded,
       rowids_allocated <= 2 * :q_rowids0 + 200 AS rowids_bounded,
       live_rows
  FROM aura_stats('vq');
SELECT rowids, versions FROM aura_check('vq') \gset q_
SELECT :q_versions AS versions;

-- 9. large values survive compaction of the rows around them, and the
-- blobs of removed versions are freed
CREATE TABLE vb (id int PRIMARY KEY, b text) USING aura;
INSERT INTO vb SELECT g, repeat(md5(g::text), 2000) FROM generate_series(1, 20) g;
SELECT blobs AS blobs0 FROM aura_stats('vb') \gset
UPDATE vb SET id = id + 100 WHERE id <= 10;
DELETE FROM vb WHERE id > 15 AND id < 100;
SELECT compact_clean('vb');
SELECT blobs, :blobs0 AS blobs_before FROM aura_stats('vb');
-- blob churn: the table stays bounded, free pages take the new blobs
CREATE TABLE vbc (id int PRIMARY KEY, b text) USING aura
  WITH (autovacuum_enabled = off);
INSERT INTO vbc SELECT g, (SELECT string_agg(md5((g * 1000 + i)::text), '')
                             FROM generate_series(1, 100) i)
  FROM generate_series(1, 50) g;
SELECT total_pages AS vbc_pages0 FROM aura_stats('vbc') \gset
SELECT cmd FROM generate_series(1, 10) i,
       LATERAL (VALUES ('UPDATE vbc SET b = md5(b) || substr(b, 33)'),
                       ('VACUUM vbc')) AS c(cmd) \gexec
SELECT total_pages <= 3 * :vbc_pages0 AS bounded, blobs, live_rows FROM aura_stats('vbc');
SELECT count(*), sum(length(b)) FROM vbc;
SELECT rowids, versions FROM aura_check('vbc');
DROP TABLE vbc;
SELECT id, length(b), md5(b) = md5(repeat(md5((id % 100)::text), 2000)) AS intact
  FROM vb ORDER BY id;
SELECT rowids, versions FROM aura_check('vb');

-- 10. cost-based delay: with vacuum_cost_delay set, VACUUM and
-- aura_compact() sleep as heap's VACUUM does, once the buffer accesses they
-- are charged reach vacuum_cost_limit.  With a limit of 1 nearly every
-- access sleeps at least 10 ms, so a pass over 60 hot rows (one access
-- each) takes at least 0.3 s.  (A lower bound: sleeps are never shorter.)
CREATE TABLE vdelay (id int) USING aura WITH (autovacuum_enabled = off);
SELECT aura_set_compression('vdelay', false);
INSERT INTO vdelay SELECT generate_series(1, 60);
SET vacuum_cost_limit = 1;
SET vacuum_cost_delay = '10ms';
SELECT clock_timestamp() AS t0 \gset
VACUUM vdelay;
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '300 ms' AS vacuum_slept;
SELECT clock_timestamp() AS t0 \gset
SELECT aura_compact('vdelay');
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '300 ms' AS compact_slept;
RESET vacuum_cost_limit;
RESET vacuum_cost_delay;
SELECT count(*), sum(id) FROM vdelay;
SELECT rowids, versions FROM aura_check('vdelay');
DROP TABLE vdelay;

-- 11. errors
CREATE TABLE vheap (id int);
SELECT * FROM aura_check('vheap');
SELECT aura_compact('vheap');
SELECT * FROM aura_check(0);
BEGIN;
SELECT aura_compact('va');      -- allowed inside a transaction
ROLLBACK;

DROP TABLE va, vh, vq, vb, vheap;
DROP FUNCTION compact_clean(regclass);
DROP FUNCTION same_rows(regclass, regclass);
