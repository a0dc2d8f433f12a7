--
-- aura_indexes: btree, hash, GiST, GIN, SP-GiST, expression, partial and
-- concurrently built indexes on aura tables give the same answers as on
-- heap, through index scans, bitmap scans and index-only scans.  BRIN is
-- refused.
--

CREATE TABLE idx_h (id int, k int, t text, p point, b box, a int[], tsv tsvector,
  r int4range, f float8) USING heap;
INSERT INTO idx_h
SELECT g, g % 97, 'word' || (g % 300) || ' ' || md5(g::text),
       point(g % 100, g / 100), box(point(g % 50, g % 70), point(g % 50 + 3, g % 70 + 2)),
       ARRAY[g % 10, g % 13, g % 17],
       to_tsvector('simple', 'alpha' || (g % 7) || ' beta' || (g % 11) || ' gamma'),
       int4range(g % 100, g % 100 + g % 7 + 1), (g * 37 % 1000) / 10.0
  FROM generate_series(1, 5000) g;
-- some NULLs and duplicates
INSERT INTO idx_h VALUES (5001, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                         (5002, 1, 'word1 dup', point(1, 1), box(point(0,0), point(1,1)), '{1}', 'alpha1', '[1,2)', 1.5);
CREATE TABLE idx_a (LIKE idx_h) USING aura;
INSERT INTO idx_a SELECT * FROM idx_h;
-- change some rows after loading, including indexed columns
UPDATE idx_h SET k = k + 1000, t = t || ' upd' WHERE id % 20 = 0;
UPDATE idx_a SET k = k + 1000, t = t || ' upd' WHERE id % 20 = 0;
UPDATE idx_h SET f = f + 0.05 WHERE id % 30 = 0;
UPDATE idx_a SET f = f + 0.05 WHERE id % 30 = 0;
DELETE FROM idx_h WHERE id % 50 = 7;
DELETE FROM idx_a WHERE id % 50 = 7;

CREATE INDEX idx_h_k ON idx_h (k);
CREATE INDEX idx_a_k ON idx_a (k);
CREATE UNIQUE INDEX idx_h_id ON idx_h (id);
CREATE UNIQUE INDEX idx_a_id ON idx_a (id);
CREATE INDEX idx_h_t_hash ON idx_h USING hash (t);
CREATE INDEX idx_a_t_hash ON idx_a USING hash (t);
CREATE INDEX idx_h_p ON idx_h USING gist (p);
CREATE INDEX idx_a_p ON idx_a USING gist (p);
CREATE INDEX idx_h_b ON idx_h USING gist (b);
CREATE INDEX idx_a_b ON idx_a USING gist (b);
CREATE INDEX idx_h_a ON idx_h USING gin (a);
CREATE INDEX idx_a_a ON idx_a USING gin (a);
CREATE INDEX idx_h_tsv ON idx_h USING gin (tsv);
CREATE INDEX idx_a_tsv ON idx_a USING gin (tsv);
CREATE INDEX idx_h_sp ON idx_h USING spgist (p);
CREATE INDEX idx_a_sp ON idx_a USING spgist (p);
CREATE INDEX idx_h_spt ON idx_h USING spgist (t);
CREATE INDEX idx_a_spt ON idx_a USING spgist (t);
CREATE INDEX idx_h_r ON idx_h USING gist (r);
CREATE INDEX idx_a_r ON idx_a USING gist (r);
-- expression and partial indexes
CREATE INDEX idx_h_expr ON idx_h (lower(substr(t, 1, 6)));
CREATE INDEX idx_a_expr ON idx_a (lower(substr(t, 1, 6)));
CREATE INDEX idx_h_part ON idx_h (f) WHERE k > 1000;
CREATE INDEX idx_a_part ON idx_a (f) WHERE k > 1000;
-- a covering index for index-only scans
CREATE INDEX idx_h_cover ON idx_h (k, id) INCLUDE (f);
CREATE INDEX idx_a_cover ON idx_a (k, id) INCLUDE (f);
ANALYZE idx_h;
ANALYZE idx_a;

-- more changes after the indexes exist
UPDATE idx_h SET t = 'word7 changed', a = a || 99, p = point(p[0] + 0.5, p[1]) WHERE id % 40 = 1;
UPDATE idx_a SET t = 'word7 changed', a = a || 99, p = point(p[0] + 0.5, p[1]) WHERE id % 40 = 1;
UPDATE idx_h SET f = f * 2 WHERE id % 25 = 3;
UPDATE idx_a SET f = f * 2 WHERE id % 25 = 3;
DELETE FROM idx_h WHERE id % 50 = 9;
DELETE FROM idx_a WHERE id % 50 = 9;
INSERT INTO idx_h SELECT id + 10000, k, t, p, b, a, tsv, r, f FROM idx_h WHERE id % 100 = 5;
INSERT INTO idx_a SELECT id + 10000, k, t, p, b, a, tsv, r, f FROM idx_a WHERE id % 100 = 5;

-- The queries, each run on heap and on aura with the same plan shape.
-- cmp(q) runs q on both tables and reports the EXCEPT ALL counts both ways.
CREATE FUNCTION idx_cmp(q text, OUT rows_h bigint, OUT h_minus_a bigint, OUT a_minus_h bigint)
LANGUAGE plpgsql AS $$
DECLARE
  qh text := replace(q, '$T', 'idx_h');
  qa text := replace(q, '$T', 'idx_a');
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) x', qh) INTO rows_h;
  EXECUTE format('SELECT count(*) FROM (%s EXCEPT ALL %s) x', qh, qa) INTO h_minus_a;
  EXECUTE format('SELECT count(*) FROM (%s EXCEPT ALL %s) x', qa, qh) INTO a_minus_h;
END $$;
CREATE TABLE idx_queries (n int, q text);
INSERT INTO idx_queries VALUES
  (1, 'SELECT id, k, t FROM $T WHERE k = 5'),
  (2, 'SELECT id, k FROM $T WHERE k BETWEEN 1010 AND 1030'),
  (3, 'SELECT id FROM $T WHERE id < 100 OR id > 10000'),
  (4, 'SELECT id, t FROM $T WHERE t = ''word7 changed'''),
  (5, 'SELECT id, t FROM $T WHERE t = ''word1 dup'''),
  (6, 'SELECT id, p::text FROM $T WHERE p <@ box ''((10,10),(20,20))'''),
  (7, 'SELECT id FROM $T WHERE b && box ''((5,5),(6,6))'''),
  (8, 'SELECT id, a FROM $T WHERE a @> ''{3,99}'''),
  (9, 'SELECT id FROM $T WHERE a && ''{7}'''),
  (10, 'SELECT id FROM $T WHERE tsv @@ to_tsquery(''simple'', ''alpha3 & beta4'')'),
  (11, 'SELECT id FROM $T WHERE t LIKE ''word12%'' AND t >= ''word12'' AND t < ''word13'''),
  (12, 'SELECT id FROM $T WHERE r && int4range(10, 12)'),
  (13, 'SELECT id FROM $T WHERE lower(substr(t, 1, 6)) = ''word42'''),
  (14, 'SELECT id, f FROM $T WHERE k > 1000 AND f < 20'),
  (15, 'SELECT k, id FROM $T WHERE k < 3'),
  (16, 'SELECT id FROM $T WHERE k IS NULL'),
  (17, 'SELECT id FROM $T WHERE p ~= point ''(1,1)''');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- index scans (plain or index-only)
SELECT n, (idx_cmp(q)).* FROM idx_queries ORDER BY n;
-- bitmap scans
SET enable_indexscan = off;
SET enable_bitmapscan = on;
SELECT n, (idx_cmp(q)).* FROM idx_queries ORDER BY n;
RESET enable_indexscan;

-- the intended plans are used on the aura table
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id, k, t FROM idx_a WHERE k = 5;
EXPLAIN (COSTS OFF) SELECT id, t FROM idx_a WHERE t = 'word7 changed';
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE p <@ box '((10,10),(20,20))';
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE b && box '((5,5),(6,6))';
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE r && int4range(10, 12);
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE t LIKE 'word12%' AND t >= 'word12' AND t < 'word13';
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE lower(substr(t, 1, 6)) = 'word42';
EXPLAIN (COSTS OFF) SELECT id, f FROM idx_a WHERE k > 1000 AND f < 20;
EXPLAIN (COSTS OFF) SELECT k, id FROM idx_a WHERE k < 3;
SET enable_indexscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT id, a FROM idx_a WHERE a @> '{3,99}';
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE tsv @@ to_tsquery('simple', 'alpha3 & beta4');
EXPLAIN (COSTS OFF) SELECT id, k FROM idx_a WHERE k BETWEEN 1010 AND 1030;
RESET enable_indexscan;
SET enable_bitmapscan = off;

-- ordered index scans and KNN searches print the same rows in the same order
SELECT id, k FROM idx_a WHERE k BETWEEN 40 AND 41 ORDER BY k, id LIMIT 10;
SELECT id, k FROM idx_h WHERE k BETWEEN 40 AND 41 ORDER BY k, id LIMIT 10;
SELECT id, k FROM idx_a WHERE k BETWEEN 40 AND 41 ORDER BY k DESC, id DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id, p <-> point '(25,25)' FROM idx_a ORDER BY p <-> point '(25,25)' LIMIT 5;
SELECT array_agg(id ORDER BY d, id) FROM (
  SELECT id, p <-> point '(25.2,25.1)' AS d FROM idx_a ORDER BY p <-> point '(25.2,25.1)' LIMIT 8) x;
SELECT array_agg(id ORDER BY d, id) FROM (
  SELECT id, p <-> point '(25.2,25.1)' AS d FROM idx_h ORDER BY p <-> point '(25.2,25.1)' LIMIT 8) x;

-- index-only scans (on a table whose only index covers the query)
CREATE TABLE idx_ios_h (k int, id int, f float8) USING heap;
CREATE TABLE idx_ios_a (k int, id int, f float8) USING aura;
INSERT INTO idx_ios_h SELECT k, id, f FROM idx_h;
INSERT INTO idx_ios_a SELECT k, id, f FROM idx_a;
CREATE INDEX idx_ios_h_cover ON idx_ios_h (k, id) INCLUDE (f);
CREATE INDEX idx_ios_a_cover ON idx_ios_a (k, id) INCLUDE (f);
UPDATE idx_ios_h SET f = f + 1 WHERE id % 3 = 0;
UPDATE idx_ios_a SET f = f + 1 WHERE id % 3 = 0;
UPDATE idx_ios_h SET k = k + 1 WHERE id % 7 = 0;
UPDATE idx_ios_a SET k = k + 1 WHERE id % 7 = 0;
DELETE FROM idx_ios_h WHERE id % 11 = 0;
DELETE FROM idx_ios_a WHERE id % 11 = 0;
VACUUM ANALYZE idx_ios_h;
VACUUM ANALYZE idx_ios_a;
EXPLAIN (COSTS OFF) SELECT k, id, f FROM idx_ios_a WHERE k = 17;
SELECT k, id, f FROM idx_ios_a WHERE k = 17 ORDER BY id;
SELECT count(*) AS diff FROM (
  (SELECT k, id, f FROM idx_ios_a WHERE k = 17 EXCEPT ALL SELECT k, id, f FROM idx_ios_h WHERE k = 17)
  UNION ALL (SELECT k, id, f FROM idx_ios_h WHERE k = 17 EXCEPT ALL SELECT k, id, f FROM idx_ios_a WHERE k = 17)) x;
SELECT count(*) AS diff FROM (
  (SELECT k, id, f FROM idx_ios_a WHERE k < 50 EXCEPT ALL SELECT k, id, f FROM idx_ios_h WHERE k < 50)
  UNION ALL (SELECT k, id, f FROM idx_ios_h WHERE k < 50 EXCEPT ALL SELECT k, id, f FROM idx_ios_a WHERE k < 50)) x;
-- an index-only scan must not return deleted, uncommitted or old versions
BEGIN;
DELETE FROM idx_ios_a WHERE k = 17 AND id < 1000;
UPDATE idx_ios_a SET f = -1 WHERE k = 17 AND id BETWEEN 1000 AND 3000;
SELECT k, id, f FROM idx_ios_a WHERE k = 17 ORDER BY id;
ROLLBACK;
SELECT count(*), sum(f::numeric) FROM idx_ios_a WHERE k = 17;
SELECT count(*), sum(f::numeric) FROM idx_ios_h WHERE k = 17;
SELECT count(*) FROM idx_ios_a WHERE k BETWEEN 10 AND 20;
SELECT count(*) FROM idx_ios_h WHERE k BETWEEN 10 AND 20;
DROP TABLE idx_ios_h, idx_ios_a;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- unique indexes built on existing data detect duplicates (which
-- duplicate is reported depends on the build order: terse errors)
\set VERBOSITY terse
CREATE UNIQUE INDEX idx_a_k_uniq ON idx_a (k);
\set VERBOSITY default
SELECT count(*) FROM pg_class WHERE relname = 'idx_a_k_uniq';

-- exclusion constraint with GiST
CREATE TABLE idx_excl (id int, during int4range, room int,
  EXCLUDE USING gist (during WITH &&)) USING aura;
INSERT INTO idx_excl VALUES (1, '[1,5)', 1), (2, '[5,10)', 1);
INSERT INTO idx_excl VALUES (3, '[4,6)', 2);
UPDATE idx_excl SET during = '[3,7)' WHERE id = 2;
UPDATE idx_excl SET during = '[6,10)' WHERE id = 2;
DELETE FROM idx_excl WHERE id = 1;
INSERT INTO idx_excl VALUES (3, '[4,6)', 2);
SELECT * FROM idx_excl ORDER BY id;
DROP TABLE idx_excl;

-- CREATE INDEX CONCURRENTLY
CREATE INDEX CONCURRENTLY idx_a_conc ON idx_a (f);
CREATE INDEX CONCURRENTLY idx_a_conc_gin ON idx_a USING gin (a);
CREATE UNIQUE INDEX CONCURRENTLY idx_a_conc_uniq ON idx_a (id, k);
SELECT c.relname, i.indisvalid, i.indisready, i.indislive
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname LIKE 'idx_a_conc%' ORDER BY 1;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM idx_a WHERE f = 25.5;
SELECT count(*) AS diff FROM (
  (SELECT id FROM idx_a WHERE f BETWEEN 20 AND 30 EXCEPT ALL SELECT id FROM idx_h WHERE f BETWEEN 20 AND 30)
  UNION ALL
  (SELECT id FROM idx_h WHERE f BETWEEN 20 AND 30 EXCEPT ALL SELECT id FROM idx_a WHERE f BETWEEN 20 AND 30)) x;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- a concurrent unique build that fails leaves an invalid index behind
\set VERBOSITY terse
CREATE UNIQUE INDEX CONCURRENTLY idx_a_conc_bad ON idx_a (k);
\set VERBOSITY default
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = 'idx_a_conc_bad';
DROP INDEX idx_a_conc_bad;

-- REINDEX
REINDEX INDEX idx_a_k;
REINDEX TABLE idx_a;
REINDEX INDEX CONCURRENTLY idx_a_p;
REINDEX TABLE CONCURRENTLY idx_a;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT n, (idx_cmp(q)).* FROM idx_queries ORDER BY n;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS invalid_indexes FROM pg_index WHERE indrelid = 'idx_a'::regclass AND NOT indisvalid;

-- BRIN is refused on aura tables
CREATE INDEX idx_a_brin ON idx_a USING brin (id);
-- (a failed CREATE INDEX CONCURRENTLY leaves an invalid index, as always)
CREATE INDEX CONCURRENTLY idx_a_brin ON idx_a USING brin (id);
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = 'idx_a_brin';
DROP INDEX idx_a_brin;
-- converting a heap table with a BRIN index to aura fails and changes nothing
CREATE TABLE idx_brin_heap (id int) USING heap;
INSERT INTO idx_brin_heap SELECT generate_series(1, 1000);
CREATE INDEX idx_brin_heap_id ON idx_brin_heap USING brin (id);
ALTER TABLE idx_brin_heap SET ACCESS METHOD aura;
SELECT a.amname, (SELECT count(*) FROM idx_brin_heap) AS rows
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'idx_brin_heap';
DROP TABLE idx_brin_heap;

DROP FUNCTION idx_cmp(text);
DROP TABLE idx_queries, idx_h, idx_a;
