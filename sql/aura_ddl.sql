--
-- aura_ddl: DDL on aura tables -- creation, access method changes,
-- truncation, temporary/unlogged tables, CREATE TABLE AS, partitioning,
-- tablespaces, CLUSTER / VACUUM FULL.
--

-- CREATE TABLE ... USING aura, visible in pg_class / pg_am
CREATE TABLE ddl_t1 (id int PRIMARY KEY, v text) USING aura;
INSERT INTO ddl_t1 SELECT g, 'v' || g FROM generate_series(1, 100) g;
SELECT c.relname, a.amname, a.amtype
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname = 'ddl_t1';
SELECT count(*), sum(id), min(v), max(v) FROM ddl_t1;
\d ddl_t1

-- default_table_access_method
SET default_table_access_method = aura;
CREATE TABLE ddl_t2 (a int, b text);
RESET default_table_access_method;
CREATE TABLE ddl_t3 (a int, b text);
SELECT c.relname, a.amname
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('ddl_t2', 'ddl_t3') ORDER BY 1;

-- ALTER TABLE SET ACCESS METHOD, heap -> aura -> heap, with small values,
-- values > 8 kB and > 1 MB (compressible and incompressible)
CREATE TABLE ddl_conv (id int PRIMARY KEY, v text, b bytea);
INSERT INTO ddl_conv
SELECT g, 'small ' || g, decode(md5(g::text), 'hex')
  FROM generate_series(1, 500) g;
INSERT INTO ddl_conv VALUES
  (1001, repeat('abcdefgh', 2000), NULL),               -- 16 kB compressible
  (1002, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i), NULL),    -- 12.8 kB incompressible
  (1003, repeat('z', 3000000), NULL),                   -- 3 MB compressible
  (1004, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 50000) i),
         (SELECT string_agg(decode(md5(i::text), 'hex'), '') FROM generate_series(1, 80000) i));
CREATE TEMP TABLE ddl_conv_sig AS
  SELECT id, length(v) AS lv, md5(v) AS mv, length(b) AS lb, md5(b) AS mb FROM ddl_conv;
ALTER TABLE ddl_conv SET ACCESS METHOD aura;
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'ddl_conv';
SELECT count(*) AS mismatches FROM (
  (SELECT id, length(v), md5(v), length(b), md5(b) FROM ddl_conv
   EXCEPT ALL SELECT * FROM ddl_conv_sig)
  UNION ALL
  (SELECT * FROM ddl_conv_sig
   EXCEPT ALL SELECT id, length(v), md5(v), length(b), md5(b) FROM ddl_conv)) x;
SELECT id, length(v), length(b) FROM ddl_conv WHERE id > 1000 ORDER BY id;
-- the index still works after the rewrite
SET enable_seqscan = off;
SELECT id, length(v) FROM ddl_conv WHERE id = 1003;
RESET enable_seqscan;
ALTER TABLE ddl_conv SET ACCESS METHOD heap;
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'ddl_conv';
SELECT count(*) AS mismatches FROM (
  (SELECT id, length(v), md5(v), length(b), md5(b) FROM ddl_conv
   EXCEPT ALL SELECT * FROM ddl_conv_sig)
  UNION ALL
  (SELECT * FROM ddl_conv_sig
   EXCEPT ALL SELECT id, length(v), md5(v), length(b), md5(b) FROM ddl_conv)) x;
-- and back to aura once more, now from a heap with TOAST data
ALTER TABLE ddl_conv SET ACCESS METHOD aura;
SELECT count(*) AS mismatches FROM (
  SELECT id, length(v), md5(v), length(b), md5(b) FROM ddl_conv
  EXCEPT ALL SELECT * FROM ddl_conv_sig) x;
DROP TABLE ddl_conv;

-- TRUNCATE
CREATE TABLE ddl_tr (id int, v text) USING aura;
INSERT INTO ddl_tr SELECT g, repeat('x', g) FROM generate_series(1, 3000, 7) g;
SELECT count(*) FROM ddl_tr;
TRUNCATE ddl_tr;
SELECT count(*) FROM ddl_tr;
INSERT INTO ddl_tr VALUES (1, 'after truncate');
SELECT * FROM ddl_tr;
-- a rolled-back TRUNCATE keeps the data
BEGIN;
TRUNCATE ddl_tr;
SELECT count(*) FROM ddl_tr;
INSERT INTO ddl_tr VALUES (2, 'inside rolled back truncate');
ROLLBACK;
SELECT * FROM ddl_tr ORDER BY id;
-- TRUNCATE in the transaction that created the table (non-transactional
-- truncation of the new relfilenode)
BEGIN;
CREATE TABLE ddl_tr2 (id int, v text) USING aura;
INSERT INTO ddl_tr2 SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
TRUNCATE ddl_tr2;
SELECT count(*) FROM ddl_tr2;
INSERT INTO ddl_tr2 SELECT g, 'again ' || g FROM generate_series(1, 10) g;
COMMIT;
SELECT count(*), min(v), max(v) FROM ddl_tr2;
-- rolled back creation + truncate leaves nothing behind
BEGIN;
CREATE TABLE ddl_tr3 (id int) USING aura;
INSERT INTO ddl_tr3 VALUES (1);
TRUNCATE ddl_tr3;
ROLLBACK;
SELECT count(*) FROM pg_class WHERE relname = 'ddl_tr3';
-- TRUNCATE ... RESTART IDENTITY with a serial column, then reuse
CREATE TABLE ddl_tr4 (id serial, v text) USING aura;
INSERT INTO ddl_tr4 (v) VALUES ('a'), ('b');
TRUNCATE ddl_tr4 RESTART IDENTITY;
INSERT INTO ddl_tr4 (v) VALUES ('c');
SELECT * FROM ddl_tr4;

-- DROP
DROP TABLE ddl_tr, ddl_tr2, ddl_tr4;
SELECT count(*) FROM pg_class WHERE relname IN ('ddl_tr', 'ddl_tr2', 'ddl_tr4');

-- temporary aura tables (local buffers)
CREATE TEMP TABLE ddl_temp (id int PRIMARY KEY, v text) USING aura;
INSERT INTO ddl_temp SELECT g, repeat(chr(65 + g % 26), 10 + g % 5000) FROM generate_series(1, 2000) g;
UPDATE ddl_temp SET v = 'updated' WHERE id % 10 = 0;
DELETE FROM ddl_temp WHERE id % 10 = 1;
SELECT count(*), sum(length(v)), count(*) FILTER (WHERE v = 'updated') FROM ddl_temp;
SELECT c.relpersistence, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname = 'ddl_temp';
SET enable_seqscan = off;
SELECT id, v FROM ddl_temp WHERE id IN (10, 11, 12) ORDER BY id;
RESET enable_seqscan;
TRUNCATE ddl_temp;
SELECT count(*) FROM ddl_temp;
DROP TABLE ddl_temp;
-- ON COMMIT DELETE ROWS / DROP
BEGIN;
CREATE TEMP TABLE ddl_temp2 (id int) USING aura ON COMMIT DELETE ROWS;
INSERT INTO ddl_temp2 SELECT generate_series(1, 100);
SELECT count(*) FROM ddl_temp2;
COMMIT;
SELECT count(*) FROM ddl_temp2;
BEGIN;
CREATE TEMP TABLE ddl_temp3 (id int) USING aura ON COMMIT DROP;
INSERT INTO ddl_temp3 VALUES (1);
COMMIT;
SELECT count(*) FROM pg_class WHERE relname = 'ddl_temp3';

-- UNLOGGED aura tables
CREATE UNLOGGED TABLE ddl_unl (id int PRIMARY KEY, v text) USING aura;
INSERT INTO ddl_unl SELECT g, 'u' || g FROM generate_series(1, 1000) g;
UPDATE ddl_unl SET v = v || '!' WHERE id <= 10;
SELECT count(*), count(*) FILTER (WHERE v LIKE '%!') FROM ddl_unl;
SELECT c.relpersistence, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname = 'ddl_unl';
-- the unlogged table has an init fork
SELECT pg_relation_size('ddl_unl', 'init') = 0 AS empty_init_fork;
ALTER TABLE ddl_unl SET LOGGED;
SELECT relpersistence FROM pg_class WHERE relname = 'ddl_unl';
SELECT count(*), count(*) FILTER (WHERE v LIKE '%!') FROM ddl_unl;
ALTER TABLE ddl_unl SET UNLOGGED;
SELECT relpersistence FROM pg_class WHERE relname = 'ddl_unl';
SELECT count(*), count(*) FILTER (WHERE v LIKE '%!') FROM ddl_unl;
-- with large values (blobs) through both rewrites
INSERT INTO ddl_unl VALUES (5000, repeat('blob', 50000)),
  (5001, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 2000) i));
ALTER TABLE ddl_unl SET LOGGED;
ALTER TABLE ddl_unl SET UNLOGGED;
SELECT id, length(v), md5(v) = md5(repeat('blob', 50000)) AS same FROM ddl_unl WHERE id = 5000;
SELECT id, length(v), md5(v) = (SELECT md5(string_agg(md5(i::text), '')) FROM generate_series(1, 2000) i) AS same
  FROM ddl_unl WHERE id = 5001;
DROP TABLE ddl_unl;

-- CREATE TABLE AS / SELECT INTO / materialized views with aura as default
SET default_table_access_method = aura;
CREATE TABLE ddl_ctas AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 500) g;
SELECT g AS id, g * 2 AS dbl INTO ddl_selinto FROM generate_series(1, 300) g;
CREATE MATERIALIZED VIEW ddl_mv AS SELECT id % 10 AS k, count(*) AS n FROM ddl_ctas GROUP BY 1;
RESET default_table_access_method;
CREATE TABLE ddl_ctas_explicit USING aura AS SELECT * FROM ddl_ctas WHERE id <= 100;
CREATE TABLE ddl_ctas_nodata USING aura AS SELECT * FROM ddl_ctas WITH NO DATA;
SELECT c.relname, a.amname
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname LIKE 'ddl\_ctas%' OR c.relname IN ('ddl_selinto', 'ddl_mv')
 ORDER BY 1;
SELECT count(*), sum(id), count(DISTINCT h) FROM ddl_ctas;
SELECT count(*) AS bad FROM ddl_ctas WHERE h <> md5(id::text);
SELECT count(*), sum(dbl) FROM ddl_selinto;
SELECT count(*), sum(id) FROM ddl_ctas_explicit;
SELECT count(*) FROM ddl_ctas_nodata;
SELECT * FROM ddl_mv ORDER BY k;
INSERT INTO ddl_ctas SELECT g, md5(g::text) FROM generate_series(501, 1000) g;
REFRESH MATERIALIZED VIEW ddl_mv;
SELECT * FROM ddl_mv ORDER BY k;
CREATE UNIQUE INDEX ON ddl_mv (k);
REFRESH MATERIALIZED VIEW CONCURRENTLY ddl_mv;
SELECT * FROM ddl_mv ORDER BY k;
DROP MATERIALIZED VIEW ddl_mv;
DROP TABLE ddl_ctas, ddl_selinto, ddl_ctas_explicit, ddl_ctas_nodata;

-- partitioned table mixing aura and heap partitions
CREATE TABLE ddl_part (id int, k int, v text) PARTITION BY RANGE (k);
CREATE TABLE ddl_part_a1 PARTITION OF ddl_part FOR VALUES FROM (0) TO (100) USING aura;
CREATE TABLE ddl_part_h PARTITION OF ddl_part FOR VALUES FROM (100) TO (200) USING heap;
CREATE TABLE ddl_part_a2 PARTITION OF ddl_part FOR VALUES FROM (200) TO (300) USING aura;
CREATE INDEX ON ddl_part (id);
INSERT INTO ddl_part SELECT g, g % 300, 'p' || g FROM generate_series(1, 3000) g;
SELECT c.relname, a.amname, count(*) AS rows
  FROM ddl_part p
  JOIN pg_class c ON c.oid = p.tableoid JOIN pg_am a ON a.oid = c.relam
 GROUP BY 1, 2 ORDER BY 1;
-- move rows between partitions: aura -> heap, heap -> aura, aura -> aura
UPDATE ddl_part SET k = k + 100 WHERE k < 10;            -- a1 -> h
UPDATE ddl_part SET k = k + 100 WHERE k BETWEEN 190 AND 199;  -- h -> a2
UPDATE ddl_part SET k = k - 200 WHERE k BETWEEN 280 AND 289;  -- a2 -> a1
SELECT c.relname, count(*) AS rows, min(k), max(k)
  FROM ddl_part p JOIN pg_class c ON c.oid = p.tableoid
 GROUP BY 1 ORDER BY 1;
SELECT count(*), sum(id), sum(k) FROM ddl_part;
ANALYZE ddl_part;
SELECT c.relname, c.reltuples FROM pg_class c
 WHERE c.relname LIKE 'ddl\_part%' AND c.relkind IN ('r', 'p') ORDER BY 1;
-- every row is found once, in the right partition, by an index scan too
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM ddl_part WHERE id BETWEEN 1 AND 3000;
SELECT tableoid::regclass, id, k, v FROM ddl_part WHERE id IN (5, 195, 285, 1000) ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- routing errors are still detected
INSERT INTO ddl_part VALUES (1, 300, 'out of range');
-- attach / detach an aura table
CREATE TABLE ddl_part_a3 (id int, k int, v text) USING aura;
INSERT INTO ddl_part_a3 VALUES (9001, 350, 'attached');
ALTER TABLE ddl_part ATTACH PARTITION ddl_part_a3 FOR VALUES FROM (300) TO (400);
SELECT * FROM ddl_part WHERE k >= 300;
ALTER TABLE ddl_part DETACH PARTITION ddl_part_a1;
SELECT count(*) FROM ddl_part;
SELECT count(*) FROM ddl_part_a1;
DROP TABLE ddl_part, ddl_part_a1;

-- ALTER TABLE SET TABLESPACE (copies the relation's blocks)
SET allow_in_place_tablespaces = true;
CREATE TABLESPACE regress_aura_ts LOCATION '';
RESET allow_in_place_tablespaces;
CREATE TABLE ddl_ts (id int PRIMARY KEY, v text) USING aura;
INSERT INTO ddl_ts SELECT g, 'ts' || g FROM generate_series(1, 2000) g;
INSERT INTO ddl_ts VALUES (0, repeat('big', 100000));
UPDATE ddl_ts SET v = v || '+' WHERE id % 100 = 0;
CREATE TEMP TABLE ddl_ts_sig AS SELECT id, md5(v) AS m FROM ddl_ts;
ALTER TABLE ddl_ts SET TABLESPACE regress_aura_ts;
SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
 WHERE c.relname = 'ddl_ts';
SELECT count(*) AS mismatches FROM (SELECT id, md5(v) FROM ddl_ts EXCEPT ALL SELECT * FROM ddl_ts_sig) x;
SELECT count(*) FROM ddl_ts;
INSERT INTO ddl_ts VALUES (5000, 'after move');
UPDATE ddl_ts SET v = 'moved and updated' WHERE id = 1;
SELECT id, v FROM ddl_ts WHERE id IN (1, 5000) ORDER BY id;
ALTER TABLE ddl_ts SET TABLESPACE pg_default;
SELECT reltablespace FROM pg_class WHERE relname = 'ddl_ts';
SELECT count(*) AS mismatches FROM (
  SELECT id, md5(v) FROM ddl_ts WHERE id NOT IN (1, 5000)
  EXCEPT ALL SELECT * FROM ddl_ts_sig WHERE id <> 1) x;
SELECT id, v FROM ddl_ts WHERE id IN (1, 5000) ORDER BY id;
-- an unlogged table keeps its init fork when moved
CREATE UNLOGGED TABLE ddl_ts_unl (id int) USING aura TABLESPACE regress_aura_ts;
INSERT INTO ddl_ts_unl SELECT generate_series(1, 100);
ALTER TABLE ddl_ts_unl SET TABLESPACE pg_default;
SELECT count(*), sum(id) FROM ddl_ts_unl;
SELECT pg_relation_size('ddl_ts_unl', 'init') = 0 AS empty_init_fork;
DROP TABLE ddl_ts_unl;
DROP TABLE ddl_ts;
DROP TABLESPACE regress_aura_ts;

-- CLUSTER and VACUUM FULL keep the contents (including updated, deleted
-- and large rows)
CREATE TABLE ddl_cl (id int, k int, v text) USING aura;
INSERT INTO ddl_cl SELECT g, (g * 7919) % 1000, 'c' || g FROM generate_series(1, 3000) g;
INSERT INTO ddl_cl VALUES (-1, -1, repeat('q', 500000)),
  (-2, -2, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 1000) i));
UPDATE ddl_cl SET v = v || 'u' WHERE id % 3 = 0;
DELETE FROM ddl_cl WHERE id % 5 = 0;
CREATE INDEX ddl_cl_k ON ddl_cl (k);
CREATE TEMP TABLE ddl_cl_sig AS SELECT id, k, md5(v) AS m FROM ddl_cl;
CLUSTER ddl_cl USING ddl_cl_k;
SELECT count(*) AS mismatches FROM (
  (SELECT id, k, md5(v) FROM ddl_cl EXCEPT ALL SELECT * FROM ddl_cl_sig)
  UNION ALL (SELECT * FROM ddl_cl_sig EXCEPT ALL SELECT id, k, md5(v) FROM ddl_cl)) x;
-- rows now come back in k order
SELECT bool_and(k >= prev_k) AS in_k_order FROM (
  SELECT k, lag(k, 1, -1000) OVER () AS prev_k FROM ddl_cl) x;
SET enable_seqscan = off;
SELECT id, k, length(v) FROM ddl_cl WHERE k IN (-2, -1, 7) ORDER BY id;
RESET enable_seqscan;
VACUUM FULL ddl_cl;
SELECT count(*) AS mismatches FROM (
  (SELECT id, k, md5(v) FROM ddl_cl EXCEPT ALL SELECT * FROM ddl_cl_sig)
  UNION ALL (SELECT * FROM ddl_cl_sig EXCEPT ALL SELECT id, k, md5(v) FROM ddl_cl)) x;
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'ddl_cl';
-- the table stays writable after the rewrite
UPDATE ddl_cl SET v = 'after vacuum full' WHERE id = 1;
DELETE FROM ddl_cl WHERE id = 2;
INSERT INTO ddl_cl VALUES (99999, 1, 'new');
SELECT id, k, v FROM ddl_cl WHERE id IN (1, 2, 99999) ORDER BY id;
DROP TABLE ddl_cl;

-- publications: logical decoding cannot decode aura's generic WAL, so
-- published aura tables refuse changes (and become writable again when
-- they leave the publication)
CREATE TABLE ddl_pub (id int PRIMARY KEY, v text) USING aura;
INSERT INTO ddl_pub VALUES (1, 'before');
SET client_min_messages = error;   -- wal_level may be too low for publications
CREATE PUBLICATION regress_aura_pub FOR TABLE ddl_pub;
RESET client_min_messages;
INSERT INTO ddl_pub VALUES (2, 'refused');
UPDATE ddl_pub SET v = 'refused' WHERE id = 1;
DELETE FROM ddl_pub WHERE id = 1;
SELECT * FROM ddl_pub;
ALTER PUBLICATION regress_aura_pub DROP TABLE ddl_pub;
INSERT INTO ddl_pub VALUES (2, 'accepted');
UPDATE ddl_pub SET v = 'after' WHERE id = 1;
SELECT * FROM ddl_pub ORDER BY id;
DROP PUBLICATION regress_aura_pub;
DROP TABLE ddl_pub;

-- aura_stats on something that is not an aura table
SELECT * FROM aura_stats('ddl_t3');
CREATE VIEW ddl_view AS SELECT 1 AS x;
SELECT * FROM aura_stats('ddl_view');
DROP VIEW ddl_view;

DROP TABLE ddl_t1, ddl_t2, ddl_t3;
