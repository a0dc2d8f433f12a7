--
-- Updates of cold rows.  The first update of a cold row that keeps its
-- rowid (no indexed column changes) appends only the new version and
-- chains it to the cold row, whose xmax is implicit: the new version's
-- xmin.  Deletes, row locks and updates that take a new rowid materialise
-- a hot copy of the cold row first.  Every result is compared with a heap
-- twin; aura_check runs after each step.
--
SET client_min_messages = warning;
CREATE TABLE cu (id int PRIMARY KEY, v int, pad text) USING aura
  WITH (autovacuum_enabled = off);
CREATE TABLE cuh (id int PRIMARY KEY, v int, pad text) USING heap
  WITH (autovacuum_enabled = off);
INSERT INTO cu SELECT g, 0, repeat('p', 30) FROM generate_series(1, 3000) g;
INSERT INTO cuh SELECT * FROM cu;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cu;
SELECT hot_pages, cold_rows FROM aura_stats('cu');

CREATE FUNCTION same_cu() RETURNS boolean
LANGUAGE sql AS $$
  SELECT NOT EXISTS ((TABLE cu EXCEPT ALL TABLE cuh)
                     UNION ALL (TABLE cuh EXCEPT ALL TABLE cu))
$$;
CREATE FUNCTION check_cu() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM * FROM aura_check('cu');
	RETURN true;
END $$;
-- the chain of the row with primary key k, newest first: the flags of each
-- version (1 updated, 4 materialised copy, 8 chained to a cold row) and
-- whether its xmax is the xmin of the version in front of it
CREATE FUNCTION chain_cu(k int)
RETURNS TABLE (depth int, aura_flags int, xmax_is_successor boolean)
LANGUAGE sql AS $$
  SELECT depth, aura_flags,
         xmax::text = (lag(xmin) OVER (ORDER BY depth))::text
    FROM aura_row_versions('cu',
           (SELECT (ctid::text::point)[0]::bigint * 291 +
                   (ctid::text::point)[1]::bigint - 1 FROM cu WHERE id = k))
   ORDER BY depth
$$;

-- the first update of a cold row: one new hot version chained to it
SELECT * FROM chain_cu(1);
UPDATE cu SET v = 1 WHERE id <= 10;
UPDATE cuh SET v = 1 WHERE id <= 10;
SELECT * FROM chain_cu(1);
SELECT hot_pages, cold_rows, versions FROM aura_stats('cu');
SELECT same_cu(), check_cu();
-- a second update chains in front as usual
UPDATE cu SET v = v + 1 WHERE id = 1;
UPDATE cuh SET v = v + 1 WHERE id = 1;
SELECT * FROM chain_cu(1);
SELECT same_cu(), check_cu();

-- a cursor opened before the update, in the same transaction, still sees
-- the cold row (its implicit cmax is the update's command id)
BEGIN;
DECLARE c CURSOR FOR SELECT id, v FROM cu WHERE id BETWEEN 11 AND 13 ORDER BY id;
UPDATE cu SET v = 7 WHERE id BETWEEN 11 AND 13;
FETCH ALL FROM c;
SELECT id, v FROM cu WHERE id BETWEEN 11 AND 13 ORDER BY id;
COMMIT;
UPDATE cuh SET v = 7 WHERE id BETWEEN 11 AND 13;

-- one command meeting the row twice updates it once, as on heap
UPDATE cu SET v = cu.v + x.d FROM (VALUES (20, 1), (20, 2)) x(k, d) WHERE id = x.k;
UPDATE cuh SET v = cuh.v + x.d FROM (VALUES (20, 1), (20, 2)) x(k, d) WHERE id = x.k;
SELECT (SELECT v FROM cu WHERE id = 20) = (SELECT v FROM cuh WHERE id = 20) AS same_once;
-- a later command of the same transaction updates the new version
BEGIN;
UPDATE cu SET v = 5 WHERE id = 21;
UPDATE cu SET v = v * 10 WHERE id = 21;
SELECT v FROM cu WHERE id = 21;
COMMIT;
UPDATE cuh SET v = 50 WHERE id = 21;
SELECT same_cu(), check_cu();

-- a rolled-back update: the cold row is the row again; the next update
-- gives it a hot copy (replacing the aborted version), then updates that
BEGIN;
UPDATE cu SET v = -1 WHERE id BETWEEN 30 AND 34;
ROLLBACK;
SELECT * FROM chain_cu(30);
SELECT count(*), sum(v) FROM cu WHERE id BETWEEN 30 AND 34;
UPDATE cu SET v = 3 WHERE id = 30;
UPDATE cuh SET v = 3 WHERE id = 30;
SELECT * FROM chain_cu(30);
DELETE FROM cu WHERE id = 31;
DELETE FROM cuh WHERE id = 31;
SELECT same_cu(), check_cu();
-- the same with a savepoint
BEGIN;
SAVEPOINT a;
UPDATE cu SET v = -2 WHERE id = 35;
ROLLBACK TO a;
UPDATE cu SET v = 35 WHERE id = 35;
COMMIT;
UPDATE cuh SET v = 35 WHERE id = 35;
SELECT v FROM cu WHERE id = 35;
SELECT same_cu(), check_cu();

-- an update then a delete, or a row lock, in one transaction
BEGIN;
UPDATE cu SET v = 40 WHERE id IN (40, 41);
DELETE FROM cu WHERE id = 40;
SELECT id, v FROM cu WHERE id = 41 FOR UPDATE;
COMMIT;
DELETE FROM cuh WHERE id = 40;
UPDATE cuh SET v = 40 WHERE id = 41;
SELECT * FROM chain_cu(41);
SELECT same_cu(), check_cu();

-- deletes, row locks and key updates materialise first
DELETE FROM cu WHERE id = 50;
DELETE FROM cuh WHERE id = 50;
SELECT id FROM cu WHERE id = 51 FOR SHARE;
SELECT * FROM chain_cu(51);
UPDATE cu SET id = 10052 WHERE id = 52;
UPDATE cuh SET id = 10052 WHERE id = 52;
SELECT * FROM chain_cu(10052);
SELECT same_cu(), check_cu();

-- VACUUM drops the link once the update is older than every snapshot, and
-- the next pass makes the rows cold again; an aborted chained update is
-- dropped and the map names the cold row again
BEGIN;
UPDATE cu SET v = -3 WHERE id BETWEEN 60 AND 69;
ROLLBACK;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM cu;
SELECT * FROM chain_cu(1);
SELECT * FROM chain_cu(60);
-- (every row is cold: 60..69 again, and the pass that dropped the links
-- made the updated rows cold, as it does with any settled row)
SELECT live_rows - cold_rows AS hot_rows FROM aura_stats('cu');
SELECT same_cu(), check_cu();
VACUUM cu;
SELECT cold_rows = live_rows AS all_cold, hot_pages FROM aura_stats('cu');
SELECT * FROM chain_cu(1);
SELECT same_cu(), check_cu();

-- many first updates, with index scans, bitmap scans and sequential scans
-- reading through the chains
UPDATE cu SET v = v + id WHERE id % 3 = 0;
UPDATE cuh SET v = v + id WHERE id % 3 = 0;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT sum(v), count(*) FROM cu WHERE id BETWEEN 100 AND 2000;
SET enable_indexscan = off;
SET enable_bitmapscan = on;
SELECT sum(v), count(*) FROM cu WHERE id BETWEEN 100 AND 2000;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_indexscan;
SELECT sum(v), count(*) FROM cuh WHERE id BETWEEN 100 AND 2000;
SELECT same_cu(), check_cu();

-- a cold page rebuilt while an update chained to one of its rows is still
-- running (prepared here): the rebuild copies that row too and points the
-- update's version at the copy, so the old page is freed in the same pass
-- (aura_check, which takes a share lock, runs once the prepared transaction
-- has ended, with the links still in place)
CREATE TABLE cl (id int PRIMARY KEY, v int, pad text) USING aura
  WITH (autovacuum_enabled = off);
INSERT INTO cl SELECT g, 0, repeat('q', 30) FROM generate_series(1, 3000) g;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM (FREEZE) cl;
SELECT cold_pages AS cold_pages_before FROM aura_stats('cl') \gset
DELETE FROM cl WHERE id % 5 IN (1, 2, 3);
BEGIN;
UPDATE cl SET v = 1 WHERE id % 100 = 0;
PREPARE TRANSACTION 'aura_cold_link';
CREATE TEMP TABLE linked_before AS
  SELECT id, (SELECT block FROM aura_row_versions('cl',
                (ctid::text::point)[0]::bigint * 291 +
                (ctid::text::point)[1]::bigint - 1) WHERE depth = 1) AS block
    FROM cl WHERE id % 100 = 0;
SELECT txid_current() IS NOT NULL AS new_xid;
VACUUM cl;
-- every linked row moved to another page, the old pages are free, and the
-- chains still end in the cold rows
SELECT count(*) AS linked, count(*) FILTER (WHERE b.block <> a.block) AS moved
  FROM linked_before b,
       LATERAL (SELECT block FROM aura_row_versions('cl',
                  (SELECT (ctid::text::point)[0]::bigint * 291 +
                          (ctid::text::point)[1]::bigint - 1 FROM cl c WHERE c.id = b.id))
                 WHERE depth = 1) a;
SELECT cold_pages < :cold_pages_before AS fewer_cold_pages, free_pages > 0 AS freed
  FROM aura_stats('cl');
SELECT count(*), sum(v) FROM cl;
COMMIT PREPARED 'aura_cold_link';
SELECT count(*), sum(v) FROM cl;
SELECT rowids, versions FROM aura_check('cl');
SELECT count(*) AS still_linked FROM cl c,
       LATERAL aura_row_versions('cl', (c.ctid::text::point)[0]::bigint * 291 +
                                       (c.ctid::text::point)[1]::bigint - 1) r
 WHERE c.id % 100 = 0 AND r.depth = 0 AND r.aura_flags & 8 <> 0;
DROP TABLE cl, linked_before;

DROP TABLE cu, cuh;
DROP FUNCTION same_cu();
DROP FUNCTION check_cu();
DROP FUNCTION chain_cu(int);
