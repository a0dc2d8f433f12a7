--
-- aura_limits: wide rows, very large values, blobs, many columns,
-- NULL-heavy rows, dropped/added columns, and rows too big for a page.
--

-- rows wider than a page: several 5 kB columns (compressible and not)
CREATE TABLE lim_wide (id int, a text, b text, c text, d bytea) USING aura;
INSERT INTO lim_wide
SELECT g, repeat(chr(65 + g), 5000),
       (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 160) i),
       repeat('c', 5000 + g),
       (SELECT string_agg(decode(md5(g::text || 'b' || i::text), 'hex'), '') FROM generate_series(1, 320) i)
  FROM generate_series(1, 20) g;
SELECT id, length(a), length(b), length(c), length(d),
       md5(a) = md5(repeat(chr(65 + id), 5000)) AS a_ok,
       md5(b) = md5((SELECT string_agg(md5(id::text || i::text), '') FROM generate_series(1, 160) i)) AS b_ok,
       c = repeat('c', 5000 + id) AS c_ok,
       d = (SELECT string_agg(decode(md5(id::text || 'b' || i::text), 'hex'), '') FROM generate_series(1, 320) i) AS d_ok
  FROM lim_wide WHERE id IN (1, 2, 20) ORDER BY id;
SELECT count(*) AS bad FROM lim_wide
 WHERE a <> repeat(chr(65 + id), 5000) OR c <> repeat('c', 5000 + id)
    OR b <> (SELECT string_agg(md5(id::text || i::text), '') FROM generate_series(1, 160) i);
-- update a small column of such rows, and one of the large ones
UPDATE lim_wide SET c = c || 'tail' WHERE id > 10;
UPDATE lim_wide SET id = id + 100 WHERE id <= 10;
SELECT count(*) AS bad FROM lim_wide
 WHERE a <> repeat(chr(65 + id % 100), 5000)
    OR c <> repeat('c', 5000 + id % 100) || CASE WHEN id > 100 THEN '' ELSE 'tail' END
    OR d <> (SELECT string_agg(decode(md5((id % 100)::text || 'b' || i::text), 'hex'), '') FROM generate_series(1, 320) i);
SELECT count(*), min(id), max(id) FROM lim_wide;
DROP TABLE lim_wide;

-- a single value of ~100 MB (compressible)
CREATE TABLE lim_big (id int, v text) USING aura;
INSERT INTO lim_big VALUES (1, repeat('x', 100000000));
SELECT id, length(v), md5(v), md5(v) = md5(repeat('x', 100000000)) AS md5_ok FROM lim_big;
-- slices of it (substr fetches only a prefix of the compressed blob)
SELECT substr(v, 1, 5), substr(v, 99999998, 10), length(substr(v, 50000000, 1000)) FROM lim_big;
-- an update of another column keeps the value
UPDATE lim_big SET id = 2;
SELECT id, length(v), md5(v), md5(v) = md5(repeat('x', 100000000)) AS md5_ok FROM lim_big;
DROP TABLE lim_big;

-- large incompressible values (~16 MB of hex digits) and binary data
CREATE TABLE lim_rand (id int, t text, b bytea) USING aura;
INSERT INTO lim_rand
SELECT 1, string_agg(md5(i::text), ''), NULL FROM generate_series(1, 500000) i;
INSERT INTO lim_rand
SELECT 2, NULL, string_agg(decode(md5('b' || i::text), 'hex'), '') FROM generate_series(1, 500000) i;
SELECT id, length(t), length(b) FROM lim_rand ORDER BY id;
SELECT id, md5(t) = (SELECT md5(string_agg(md5(i::text), '')) FROM generate_series(1, 500000) i) AS md5_ok
  FROM lim_rand WHERE id = 1;
SELECT id, md5(b) = (SELECT md5(string_agg(decode(md5('b' || i::text), 'hex'), '')) FROM generate_series(1, 500000) i) AS md5_ok
  FROM lim_rand WHERE id = 2;
-- slices of uncompressed blobs: start, chunk boundaries, end
SELECT substr(t, 1, 32) = md5('1') AS first_ok,
       substr(t, 32 * 250000 + 1, 32) = md5('250001') AS middle_ok,
       substr(t, 32 * 499999 + 1, 100) = md5('500000') AS last_ok,
       substr(t, 16000000, 10) = right(md5('500000'), 1) AS past_end_ok
  FROM lim_rand WHERE id = 1;
SELECT count(*) AS bad_slices FROM lim_rand r, generate_series(1, 16000000, 1234567) s
 WHERE r.id = 1 AND substr(r.t, s, 64) <>
   substr((SELECT string_agg(md5(i::text), '') FROM generate_series((s - 1) / 32 + 1, (s - 1) / 32 + 3) i),
          (s - 1) % 32 + 1, 64);
SELECT substring(b FROM 1 FOR 16) = decode(md5('b1'), 'hex') AS bfirst_ok,
       substring(b FROM 16 * 123456 + 1 FOR 16) = decode(md5('b123457'), 'hex') AS bmiddle_ok
  FROM lim_rand WHERE id = 2;
-- EXTERNAL storage (no compression) works the same
ALTER TABLE lim_rand ALTER COLUMN t SET STORAGE EXTERNAL;
INSERT INTO lim_rand VALUES (3, repeat('ext', 1000000), NULL);
SELECT id, length(t), md5(t) = md5(repeat('ext', 1000000)) AS md5_ok, substr(t, 2000000, 6)
  FROM lim_rand WHERE id = 3;
DROP TABLE lim_rand;

-- copying toasted values from heap into aura and back
CREATE TABLE lim_heap (id int, v text, b bytea) USING heap;
INSERT INTO lim_heap VALUES
  (1, repeat('heap toast ', 200000), NULL),
  (2, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 60000) i),
      (SELECT string_agg(decode(md5(i::text), 'hex'), '') FROM generate_series(1, 100000) i)),
  (3, 'small', '\x00');
CREATE TABLE lim_from_heap (id int, v text, b bytea) USING aura;
INSERT INTO lim_from_heap SELECT * FROM lim_heap;
SELECT count(*) AS mismatches FROM (
  (SELECT id, md5(v), md5(b) FROM lim_heap EXCEPT ALL SELECT id, md5(v), md5(b) FROM lim_from_heap)
  UNION ALL
  (SELECT id, md5(v), md5(b) FROM lim_from_heap EXCEPT ALL SELECT id, md5(v), md5(b) FROM lim_heap)) x;
SELECT id, length(v), length(b) FROM lim_from_heap ORDER BY id;
-- UPDATE ... FROM a heap table with toasted values
UPDATE lim_from_heap a SET v = h.v || '!' FROM lim_heap h WHERE h.id = a.id AND a.id = 2;
SELECT md5(v) = (SELECT md5(v || '!') FROM lim_heap WHERE id = 2) AS updated_ok
  FROM lim_from_heap WHERE id = 2;
-- and from aura blobs back into a heap table (heap's toaster reads them)
CREATE TABLE lim_back USING heap AS SELECT * FROM lim_from_heap;
SELECT count(*) AS mismatches FROM (
  SELECT id, md5(v), md5(b) FROM lim_back EXCEPT ALL SELECT id, md5(v), md5(b) FROM lim_from_heap) x;
DROP TABLE lim_heap, lim_from_heap, lim_back;

-- a table with 1600 int columns
DO $$
BEGIN
  EXECUTE format('CREATE TABLE lim_cols (%s) USING aura',
    (SELECT string_agg(format('c%s int', g), ', ') FROM generate_series(1, 1600) g));
  EXECUTE format('INSERT INTO lim_cols VALUES (%s)',
    (SELECT string_agg(g::text, ', ') FROM generate_series(1, 1600) g));
  EXECUTE format('INSERT INTO lim_cols (c1, c800, c1600) VALUES (-1, -800, -1600)');
END $$;
SELECT count(*) FROM pg_attribute WHERE attrelid = 'lim_cols'::regclass AND attnum > 0;
SELECT c1, c2, c799, c800, c1599, c1600 FROM lim_cols ORDER BY c1;
SELECT c1, sum(value::int) AS sum_all, count(value) AS non_null
  FROM lim_cols l, LATERAL jsonb_each_text(to_jsonb(l)) j GROUP BY c1 ORDER BY c1;
UPDATE lim_cols SET c1000 = c1000 * 10 WHERE c1 = 1;
SELECT c999, c1000, c1001 FROM lim_cols WHERE c1 = 1;
-- adding a 1601st column is refused, as for any table
ALTER TABLE lim_cols ADD COLUMN c1601 int;
DROP TABLE lim_cols;

-- NULL-heavy rows
DO $$
BEGIN
  EXECUTE format('CREATE TABLE lim_nulls (id int, %s) USING aura',
    (SELECT string_agg(format('n%s text', g), ', ') FROM generate_series(1, 300) g));
END $$;
INSERT INTO lim_nulls (id) SELECT generate_series(1, 100);
INSERT INTO lim_nulls (id, n1, n150, n300) VALUES (101, 'first', 'middle', 'last');
INSERT INTO lim_nulls (id, n299) VALUES (102, repeat('w', 10000));
SELECT count(*), count(n1), count(n150), count(n299), count(n300) FROM lim_nulls;
SELECT id, n1, n150, length(n299), n300 FROM lim_nulls WHERE id > 100 ORDER BY id;
SELECT count(*) AS all_null_rows FROM lim_nulls l
 WHERE (SELECT count(*) FROM jsonb_each(to_jsonb(l)) WHERE value <> 'null') = 1;
UPDATE lim_nulls SET n2 = 'two' WHERE id = 1;
SELECT id, n1, n2, n3 FROM lim_nulls WHERE id IN (1, 2) ORDER BY id;
DROP TABLE lim_nulls;

-- dropped columns
CREATE TABLE lim_drop (a int, b text, c int, d text) USING aura;
INSERT INTO lim_drop VALUES (1, 'b1', 10, 'd1'), (2, repeat('b', 9000), 20, 'd2');
ALTER TABLE lim_drop DROP COLUMN b;
INSERT INTO lim_drop VALUES (3, 30, 'd3');
SELECT * FROM lim_drop ORDER BY a;
UPDATE lim_drop SET d = d || '+' WHERE a = 2;
ALTER TABLE lim_drop DROP COLUMN c;
INSERT INTO lim_drop VALUES (4, 'd4');
SELECT * FROM lim_drop ORDER BY a;
ALTER TABLE lim_drop ADD COLUMN b text DEFAULT 'new b';
SELECT * FROM lim_drop ORDER BY a;
DROP TABLE lim_drop;

-- ADD COLUMN with a constant default (missing attribute, no rewrite) and
-- with a volatile default (rewrite)
CREATE TABLE lim_add (id int, v text) USING aura;
INSERT INTO lim_add SELECT g, 'v' || g FROM generate_series(1, 1000) g;
SELECT relfilenode AS before_filenode FROM pg_class WHERE relname = 'lim_add' \gset
ALTER TABLE lim_add ADD COLUMN n int DEFAULT 42;
ALTER TABLE lim_add ADD COLUMN t text DEFAULT 'default text';
SELECT relfilenode = :before_filenode AS not_rewritten FROM pg_class WHERE relname = 'lim_add';
SELECT attname, atthasmissing FROM pg_attribute
 WHERE attrelid = 'lim_add'::regclass AND attname IN ('n', 't') ORDER BY attname;
INSERT INTO lim_add (id, v) VALUES (1001, 'new row');
INSERT INTO lim_add VALUES (1002, 'explicit', 7, 'given');
SELECT count(*), count(*) FILTER (WHERE n = 42), count(*) FILTER (WHERE t = 'default text') FROM lim_add;
SELECT * FROM lim_add WHERE id IN (1, 1000, 1001, 1002) ORDER BY id;
-- the missing value is used by index builds and index scans as well
CREATE INDEX ON lim_add (n);
SET enable_seqscan = off;
SELECT count(*) FROM lim_add WHERE n = 42;
RESET enable_seqscan;
UPDATE lim_add SET n = n + 1 WHERE id <= 10;
SELECT n, count(*) FROM lim_add GROUP BY n ORDER BY n;
-- a volatile default rewrites the table
ALTER TABLE lim_add ADD COLUMN r float8 DEFAULT random();
SELECT relfilenode <> :before_filenode AS rewritten FROM pg_class WHERE relname = 'lim_add';
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'lim_add';
SELECT count(*), count(r), bool_and(r >= 0 AND r < 1), count(DISTINCT r) > 900 AS distinct_values
  FROM lim_add;
SELECT count(*), count(*) FILTER (WHERE n = 42) FROM lim_add;
-- ALTER COLUMN TYPE also rewrites
ALTER TABLE lim_add ALTER COLUMN n TYPE bigint;
SELECT pg_typeof(n), sum(n) FROM lim_add GROUP BY 1;
DROP TABLE lim_add;

-- rows too big for a page.  Fixed-width columns cannot be moved out of
-- line: 1500 bigint columns are 12 kB; heap and aura both refuse the row
-- with a clean error (aura's page has a little less room than heap's).
\set VERBOSITY terse
DO $$
BEGIN
  EXECUTE format('CREATE TABLE lim_toobig_h (%s) USING heap',
    (SELECT string_agg(format('c%s bigint', g), ', ') FROM generate_series(1, 1500) g));
  EXECUTE format('CREATE TABLE lim_toobig_a (%s) USING aura',
    (SELECT string_agg(format('c%s bigint', g), ', ') FROM generate_series(1, 1500) g));
END $$;
DO $$
BEGIN
  EXECUTE format('INSERT INTO lim_toobig_h VALUES (%s)',
    (SELECT string_agg(g::text, ', ') FROM generate_series(1, 1500) g));
END $$;
DO $$
BEGIN
  EXECUTE format('INSERT INTO lim_toobig_a VALUES (%s)',
    (SELECT string_agg(g::text, ', ') FROM generate_series(1, 1500) g));
END $$;
-- a row with few values fits
INSERT INTO lim_toobig_h (c1, c1500) VALUES (1, 1500);
INSERT INTO lim_toobig_a (c1, c1500) VALUES (1, 1500);
SELECT c1, c2, c1500 FROM lim_toobig_a;
-- the table stays usable after the error
INSERT INTO lim_toobig_a (c1) VALUES (2);
SELECT count(*) FROM lim_toobig_a;
DROP TABLE lim_toobig_h, lim_toobig_a;
-- a PLAIN-storage varlena column cannot be moved to a blob either
CREATE TABLE lim_plain_h (id int, v text) USING heap;
CREATE TABLE lim_plain_a (id int, v text) USING aura;
ALTER TABLE lim_plain_h ALTER COLUMN v SET STORAGE PLAIN;
ALTER TABLE lim_plain_a ALTER COLUMN v SET STORAGE PLAIN;
INSERT INTO lim_plain_h VALUES (1, repeat('p', 7000));
INSERT INTO lim_plain_a VALUES (1, repeat('p', 7000));
INSERT INTO lim_plain_h VALUES (2, repeat('p', 9000));
INSERT INTO lim_plain_a VALUES (2, repeat('p', 9000));
SELECT id, length(v) FROM lim_plain_a ORDER BY id;
DROP TABLE lim_plain_h, lim_plain_a;

-- many medium-sized values (100 columns of 96 bytes, 9.7 kB in all):
-- heap moves them to its TOAST table, aura must store the row as well
DO $$
BEGIN
  EXECUTE format('CREATE TABLE lim_medium_h (%s) USING heap',
    (SELECT string_agg(format('c%s text', g), ', ') FROM generate_series(1, 100) g));
  EXECUTE format('CREATE TABLE lim_medium_a (%s) USING aura',
    (SELECT string_agg(format('c%s text', g), ', ') FROM generate_series(1, 100) g));
END $$;
DO $$
BEGIN
  EXECUTE format('INSERT INTO lim_medium_h VALUES (%s)',
    (SELECT string_agg(format('md5(%L) || md5(%L) || md5(%L)', g, 'x' || g, 'y' || g), ', ')
       FROM generate_series(1, 100) g));
END $$;
DO $$
BEGIN
  EXECUTE format('INSERT INTO lim_medium_a VALUES (%s)',
    (SELECT string_agg(format('md5(%L) || md5(%L) || md5(%L)', g, 'x' || g, 'y' || g), ', ')
       FROM generate_series(1, 100) g));
END $$;
SELECT (SELECT count(*) FROM lim_medium_h) AS heap_rows, (SELECT count(*) FROM lim_medium_a) AS aura_rows;
SELECT count(*) AS mismatches FROM (
  (SELECT * FROM lim_medium_h EXCEPT ALL SELECT * FROM lim_medium_a)
  UNION ALL (SELECT * FROM lim_medium_a EXCEPT ALL SELECT * FROM lim_medium_h)) x;
DROP TABLE lim_medium_h, lim_medium_a;
\set VERBOSITY default
