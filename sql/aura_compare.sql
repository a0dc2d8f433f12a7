--
-- aura_compare: the same queries and the same modifications on a heap
-- table h and an aura table a must keep them identical, and every query
-- must return the same answer on both.
--

CREATE TABLE cmp_h (id int PRIMARY KEY, grp int, cat text, amount numeric(12,2),
  qty int, flag bool, created date, note text, tags text[], payload jsonb) USING heap;
CREATE TABLE cmp_a (LIKE cmp_h INCLUDING ALL) USING aura;
CREATE INDEX ON cmp_h (grp);
CREATE INDEX ON cmp_a (grp);
CREATE INDEX ON cmp_h (cat, created);
CREATE INDEX ON cmp_a (cat, created);
-- a dimension table kept in heap, joined with both
CREATE TABLE cmp_dim (grp int PRIMARY KEY, region text, weight int) USING heap;
INSERT INTO cmp_dim SELECT g, (ARRAY['north', 'south', 'east', 'west'])[g % 4 + 1], g % 7 + 1
  FROM generate_series(0, 199) g;

INSERT INTO cmp_h
SELECT g, g % 200, 'cat' || (g % 13), round((g * 7919 % 100000) / 100.0, 2), g % 50 - 10,
       g % 3 = 0, date '2020-01-01' + (g % 1500),
       CASE WHEN g % 17 = 0 THEN NULL WHEN g % 101 = 0 THEN repeat(md5(g::text), 100) ELSE 'n' || g END,
       ARRAY['t' || (g % 5), 't' || (g % 7)],
       jsonb_build_object('k', g % 10, 'v', g)
  FROM generate_series(1, 20000) g;
INSERT INTO cmp_a SELECT * FROM cmp_h;

-- is_same(): both directions of EXCEPT ALL are empty
CREATE FUNCTION cmp_is_same() RETURNS TABLE (h_minus_a bigint, a_minus_h bigint, rows_h bigint, rows_a bigint)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM (TABLE cmp_h EXCEPT ALL TABLE cmp_a) x),
         (SELECT count(*) FROM (TABLE cmp_a EXCEPT ALL TABLE cmp_h) x),
         (SELECT count(*) FROM cmp_h), (SELECT count(*) FROM cmp_a)
$$;
-- same_result(q): q, run with $T = cmp_h and $T = cmp_a, gives the same rows
CREATE FUNCTION cmp_same_result(q text, OUT rows bigint, OUT same bool) LANGUAGE plpgsql AS $$
DECLARE d1 bigint; d2 bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) x', replace(q, '$T', 'cmp_h')) INTO rows;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x',
                 replace(q, '$T', 'cmp_h'), replace(q, '$T', 'cmp_a')) INTO d1;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x',
                 replace(q, '$T', 'cmp_a'), replace(q, '$T', 'cmp_h')) INTO d2;
  same := d1 = 0 AND d2 = 0;
END $$;
SELECT * FROM cmp_is_same();

-- read-only queries
CREATE TABLE cmp_queries (n int PRIMARY KEY, q text);
INSERT INTO cmp_queries VALUES
  (1, 'SELECT count(*), sum(amount), avg(qty), min(created), max(created), count(note), count(DISTINCT cat) FROM $T'),
  (2, 'SELECT grp, count(*), sum(amount), string_agg(id::text, '','' ORDER BY id) FROM $T GROUP BY grp'),
  (3, 'SELECT cat, flag, count(*), sum(qty) FROM $T GROUP BY ROLLUP (cat, flag)'),
  (4, 'SELECT DISTINCT cat, created FROM $T WHERE created < date ''2020-03-01'''),
  (5, 'SELECT d.region, count(*), sum(t.amount * d.weight) FROM $T t JOIN cmp_dim d USING (grp) GROUP BY d.region'),
  (6, 'SELECT id, amount, rank() OVER (PARTITION BY grp ORDER BY amount DESC, id) AS r, sum(qty) OVER (PARTITION BY cat ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM $T'),
  (7, 'SELECT id FROM $T t WHERE id % 50 = 0 AND amount > (SELECT avg(amount) FROM $T t2 WHERE t2.grp = t.grp)'),
  (8, 'SELECT id, note FROM $T WHERE id IN (SELECT id FROM $T WHERE note IS NULL) OR EXISTS (SELECT 1 FROM cmp_dim d WHERE d.grp = $T.grp AND d.weight = 7 AND $T.qty = 39)'),
  (9, 'SELECT t.id, t2.id FROM $T t JOIN $T t2 ON t2.id = t.id + 1000 AND t2.grp = t.grp WHERE t.id % 10 = 0'),
  (10, 'SELECT payload->>''k'' AS k, count(*), sum((payload->>''v'')::int) FROM $T GROUP BY 1'),
  (11, 'SELECT unnest(tags) AS tag, count(*) FROM $T GROUP BY 1'),
  (12, 'SELECT id, length(note), md5(note) FROM $T WHERE length(note) > 100'),
  (13, 'WITH RECURSIVE r(id, depth) AS (SELECT id, 0 FROM $T WHERE id = 1 UNION ALL SELECT t.id, r.depth + 1 FROM r JOIN $T t ON t.id = r.id * 2 WHERE r.depth < 20) SELECT * FROM r'),
  (14, 'SELECT a.cat, b.cat, count(*) FROM $T a LEFT JOIN $T b ON a.id = b.id - 1 AND a.cat = b.cat GROUP BY 1, 2'),
  (15, 'SELECT id, ntile(4) OVER (ORDER BY amount, id), lag(amount) OVER (ORDER BY id), first_value(id) OVER (PARTITION BY cat ORDER BY created, id) FROM $T WHERE flag'),
  (16, 'SELECT grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount), mode() WITHIN GROUP (ORDER BY qty) FROM $T GROUP BY grp'),
  (17, 'SELECT * FROM $T ORDER BY amount DESC, id LIMIT 50 OFFSET 100'),
  (18, 'SELECT cat, array_agg(DISTINCT qty ORDER BY qty) FROM $T WHERE qty < 0 GROUP BY cat HAVING count(*) > 10'),
  (19, 'SELECT x.region, x.n FROM (SELECT d.region, count(*) AS n FROM cmp_dim d WHERE d.grp IN (SELECT grp FROM $T WHERE flag AND qty > 30) GROUP BY 1) x'),
  (20, 'SELECT id, grp, cat FROM $T WHERE (grp, cat) IN (SELECT grp, cat FROM $T GROUP BY 1, 2 HAVING count(*) > 8)');
SELECT n, (cmp_same_result(q)).* FROM cmp_queries ORDER BY n;
-- the same with index scans forced where possible
SET enable_seqscan = off;
SELECT n, (cmp_same_result(q)).* FROM cmp_queries WHERE n IN (4, 7, 9, 13, 14, 17, 20) ORDER BY n;
RESET enable_seqscan;

-- the same modifications, step by step
-- 1. UPDATE of non-indexed and indexed columns
UPDATE cmp_h SET amount = amount * 1.1, note = coalesce(note, '') || '+' WHERE id % 7 = 0;
UPDATE cmp_a SET amount = amount * 1.1, note = coalesce(note, '') || '+' WHERE id % 7 = 0;
UPDATE cmp_h SET grp = (grp + 1) % 200, cat = 'moved' WHERE id % 11 = 0;
UPDATE cmp_a SET grp = (grp + 1) % 200, cat = 'moved' WHERE id % 11 = 0;
SELECT * FROM cmp_is_same();
-- 2. UPDATE ... FROM
UPDATE cmp_h t SET qty = t.qty + d.weight FROM cmp_dim d WHERE d.grp = t.grp AND d.region = 'east';
UPDATE cmp_a t SET qty = t.qty + d.weight FROM cmp_dim d WHERE d.grp = t.grp AND d.region = 'east';
SELECT * FROM cmp_is_same();
-- 3. DELETE USING
DELETE FROM cmp_h t USING cmp_dim d WHERE d.grp = t.grp AND d.weight = 3 AND t.flag;
DELETE FROM cmp_a t USING cmp_dim d WHERE d.grp = t.grp AND d.weight = 3 AND t.flag;
SELECT * FROM cmp_is_same();
-- 4. INSERT ... SELECT (from itself)
INSERT INTO cmp_h SELECT id + 100000, grp, cat, amount, qty, NOT flag, created + 1, note, tags, payload FROM cmp_h WHERE id % 9 = 0;
INSERT INTO cmp_a SELECT id + 100000, grp, cat, amount, qty, NOT flag, created + 1, note, tags, payload FROM cmp_a WHERE id % 9 = 0;
SELECT * FROM cmp_is_same();
-- 5. data-modifying CTEs: move rows, log what was deleted
CREATE TABLE cmp_log_h (id int, amount numeric) USING heap;
CREATE TABLE cmp_log_a (id int, amount numeric) USING aura;
WITH del AS (DELETE FROM cmp_h WHERE qty < -5 RETURNING id, amount),
     ins AS (INSERT INTO cmp_log_h SELECT id, amount FROM del RETURNING id)
UPDATE cmp_h SET note = 'neighbour deleted' WHERE id IN (SELECT id + 1 FROM ins);
WITH del AS (DELETE FROM cmp_a WHERE qty < -5 RETURNING id, amount),
     ins AS (INSERT INTO cmp_log_a SELECT id, amount FROM del RETURNING id)
UPDATE cmp_a SET note = 'neighbour deleted' WHERE id IN (SELECT id + 1 FROM ins);
SELECT * FROM cmp_is_same();
SELECT (SELECT count(*) FROM (TABLE cmp_log_h EXCEPT ALL TABLE cmp_log_a) x) AS log_diff,
       (SELECT count(*) FROM cmp_log_a) AS logged;
-- 6. UPDATE with a correlated subquery and RETURNING through a CTE
WITH u AS (UPDATE cmp_h t SET amount = (SELECT max(amount) FROM cmp_h t2 WHERE t2.grp = t.grp)
           WHERE t.id % 97 = 0 RETURNING t.id, t.amount)
SELECT count(*), sum(amount) FROM u;
WITH u AS (UPDATE cmp_a t SET amount = (SELECT max(amount) FROM cmp_a t2 WHERE t2.grp = t.grp)
           WHERE t.id % 97 = 0 RETURNING t.id, t.amount)
SELECT count(*), sum(amount) FROM u;
SELECT * FROM cmp_is_same();
-- 7. INSERT ... ON CONFLICT against the primary key
INSERT INTO cmp_h (id, grp, cat, amount, qty, flag, created, note)
SELECT g, 1, 'upsert', 1, 1, true, date '2024-01-01', 'new' FROM generate_series(19900, 20100) g
ON CONFLICT (id) DO UPDATE SET note = 'conflict ' || EXCLUDED.note, qty = cmp_h.qty + 1;
INSERT INTO cmp_a (id, grp, cat, amount, qty, flag, created, note)
SELECT g, 1, 'upsert', 1, 1, true, date '2024-01-01', 'new' FROM generate_series(19900, 20100) g
ON CONFLICT (id) DO UPDATE SET note = 'conflict ' || EXCLUDED.note, qty = cmp_a.qty + 1;
SELECT * FROM cmp_is_same();
-- 8. a transaction with savepoints, partly rolled back
BEGIN;
UPDATE cmp_h SET qty = qty * 2 WHERE grp = 5;
SAVEPOINT s;
DELETE FROM cmp_h WHERE grp = 6;
ROLLBACK TO s;
UPDATE cmp_h SET cat = 'sp' WHERE grp = 7;
COMMIT;
BEGIN;
UPDATE cmp_a SET qty = qty * 2 WHERE grp = 5;
SAVEPOINT s;
DELETE FROM cmp_a WHERE grp = 6;
ROLLBACK TO s;
UPDATE cmp_a SET cat = 'sp' WHERE grp = 7;
COMMIT;
SELECT * FROM cmp_is_same();
-- 9. MERGE-like sequence with a temp table and TRUNCATE of the log
UPDATE cmp_h SET tags = tags || 'x'::text, payload = payload || '{"u": true}' WHERE id % 13 = 1;
UPDATE cmp_a SET tags = tags || 'x'::text, payload = payload || '{"u": true}' WHERE id % 13 = 1;
DELETE FROM cmp_h WHERE id IN (SELECT id FROM cmp_log_h WHERE amount > 900);
DELETE FROM cmp_a WHERE id IN (SELECT id FROM cmp_log_a WHERE amount > 900);
SELECT * FROM cmp_is_same();
-- 10. MERGE (PostgreSQL 15)
MERGE INTO cmp_h t USING (SELECT g AS id FROM generate_series(1, 300) g) s ON t.id = s.id
  WHEN MATCHED AND t.flag THEN DELETE
  WHEN MATCHED THEN UPDATE SET note = 'merged'
  WHEN NOT MATCHED THEN INSERT (id, grp, cat, note) VALUES (s.id, 0, 'merge', 'inserted');
MERGE INTO cmp_a t USING (SELECT g AS id FROM generate_series(1, 300) g) s ON t.id = s.id
  WHEN MATCHED AND t.flag THEN DELETE
  WHEN MATCHED THEN UPDATE SET note = 'merged'
  WHEN NOT MATCHED THEN INSERT (id, grp, cat, note) VALUES (s.id, 0, 'merge', 'inserted');
SELECT * FROM cmp_is_same();

-- the read-only queries again on the modified tables
SELECT n, (cmp_same_result(q)).* FROM cmp_queries ORDER BY n;
SET enable_seqscan = off;
SELECT n, (cmp_same_result(q)).* FROM cmp_queries WHERE n IN (4, 7, 9, 13, 14, 17, 20) ORDER BY n;
RESET enable_seqscan;
-- and a join between the two
SELECT count(*) AS joined, count(*) FILTER (WHERE h IS DISTINCT FROM a) AS different
  FROM cmp_h h FULL JOIN cmp_a a USING (id);

DROP FUNCTION cmp_is_same(), cmp_same_result(text);
DROP TABLE cmp_queries, cmp_log_h, cmp_log_a, cmp_h, cmp_a, cmp_dim;
