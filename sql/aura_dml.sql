--
-- aura_dml: INSERT / UPDATE / DELETE on aura tables, transactions and
-- savepoints, COPY, ON CONFLICT, unique checks, cursors, triggers,
-- foreign keys and two-phase commit.
--

CREATE TABLE dml_t (id int, k int, v text, n numeric) USING aura;
CREATE UNIQUE INDEX dml_t_id ON dml_t (id);
CREATE INDEX dml_t_k ON dml_t (k);

-- INSERT ... RETURNING
INSERT INTO dml_t VALUES (1, 10, 'one', 1.5) RETURNING *;
WITH ins AS (
  INSERT INTO dml_t SELECT g, g * 10, 'v' || g, g / 4.0 FROM generate_series(2, 1000) g
  RETURNING id)
SELECT count(*), min(id), max(id) FROM ins;
SELECT count(*), sum(id), sum(k), sum(n) FROM dml_t;

-- UPDATE of a non-indexed column, then of an indexed column
WITH upd AS (UPDATE dml_t SET v = v || '-u1' WHERE id % 10 = 0 RETURNING v)
SELECT count(*), min(v), max(v) FROM upd;
WITH upd AS (UPDATE dml_t SET n = n * 2, v = upper(v) WHERE id BETWEEN 1 AND 3 RETURNING id, k, v, n)
SELECT * FROM upd ORDER BY id;
UPDATE dml_t SET k = k + 1 WHERE id % 7 = 0;
UPDATE dml_t SET id = id + 10000 WHERE id % 50 = 0;
-- seq scan, index scans on both indexes and a bitmap scan must agree
CREATE TEMP TABLE dml_seq AS SELECT * FROM dml_t;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM dml_t WHERE id > 0;
SELECT count(*) AS diff FROM (
  (SELECT * FROM dml_t WHERE id > 0 EXCEPT ALL SELECT * FROM dml_seq)
  UNION ALL (SELECT * FROM dml_seq EXCEPT ALL SELECT * FROM dml_t WHERE id > 0)) x;
EXPLAIN (COSTS OFF) SELECT * FROM dml_t WHERE k > 0;
SELECT count(*) AS diff FROM (
  (SELECT * FROM dml_t WHERE k > 0 EXCEPT ALL SELECT * FROM dml_seq)
  UNION ALL (SELECT * FROM dml_seq EXCEPT ALL SELECT * FROM dml_t WHERE k > 0)) x;
SELECT id, k, v FROM dml_t WHERE k IN (70, 71, 500, 501) ORDER BY id;
SELECT id, k, v FROM dml_t WHERE id IN (50, 10050) ORDER BY id;
RESET enable_bitmapscan;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM dml_t WHERE k > 0;
SELECT count(*) AS diff FROM (
  (SELECT * FROM dml_t WHERE k > 0 EXCEPT ALL SELECT * FROM dml_seq)
  UNION ALL (SELECT * FROM dml_seq EXCEPT ALL SELECT * FROM dml_t WHERE k > 0)) x;
RESET enable_indexscan;
RESET enable_seqscan;

-- the same row updated many times in one transaction and across
-- transactions keeps exactly one visible version
BEGIN;
UPDATE dml_t SET n = n + 1 WHERE id = 5;
UPDATE dml_t SET n = n + 1 WHERE id = 5;
UPDATE dml_t SET k = k + 1000 WHERE id = 5;
UPDATE dml_t SET n = n + 1 WHERE id = 5;
SELECT id, k, n FROM dml_t WHERE id = 5;
COMMIT;
UPDATE dml_t SET n = n + 1 WHERE id = 5;
SELECT count(*) FROM dml_t WHERE id = 5;
SELECT id, k, n FROM dml_t WHERE id = 5;
SET enable_seqscan = off;
SELECT id, k, n FROM dml_t WHERE k = 1050;
SELECT count(*) FROM dml_t WHERE k = 50;
RESET enable_seqscan;

-- DELETE ... RETURNING, DELETE + re-insert of the same key
WITH del AS (DELETE FROM dml_t WHERE id IN (6, 7, 8) RETURNING id, k, v)
SELECT * FROM del ORDER BY id;
SELECT count(*) FROM dml_t WHERE id IN (6, 7, 8);
INSERT INTO dml_t VALUES (6, 60, 'six again', 6);
BEGIN;
DELETE FROM dml_t WHERE id = 6;
INSERT INTO dml_t VALUES (6, 66, 'six, third time', 6);
DELETE FROM dml_t WHERE id = 6;
INSERT INTO dml_t VALUES (6, 666, 'six, fourth time', 6);
COMMIT;
SELECT * FROM dml_t WHERE id = 6;
SET enable_seqscan = off;
SELECT * FROM dml_t WHERE id = 6;
SELECT * FROM dml_t WHERE k IN (60, 66, 666);
RESET enable_seqscan;

-- savepoints and ROLLBACK TO
BEGIN;
UPDATE dml_t SET v = 'sp0' WHERE id = 9;
SAVEPOINT s1;
UPDATE dml_t SET v = 'sp1' WHERE id = 9;
INSERT INTO dml_t VALUES (20001, 1, 'in s1', 0);
SAVEPOINT s2;
UPDATE dml_t SET v = 'sp2', k = -9 WHERE id = 9;
DELETE FROM dml_t WHERE id = 10;
SELECT id, k, v FROM dml_t WHERE id IN (9, 10, 20001) ORDER BY id;
ROLLBACK TO s2;
SELECT id, k, v FROM dml_t WHERE id IN (9, 10, 20001) ORDER BY id;
UPDATE dml_t SET v = 'after rollback to s2' WHERE id = 9;
ROLLBACK TO s1;
SELECT id, k, v FROM dml_t WHERE id IN (9, 10, 20001) ORDER BY id;
SAVEPOINT s3;
UPDATE dml_t SET v = 'kept', k = k + 1 WHERE id = 9;
RELEASE s3;
COMMIT;
SELECT id, k, v FROM dml_t WHERE id IN (9, 10, 20001) ORDER BY id;
SET enable_seqscan = off;
SELECT id, k, v FROM dml_t WHERE k IN (90, 91, -9) ORDER BY id;
SELECT id, k, v FROM dml_t WHERE id IN (9, 10, 20001) ORDER BY id;
RESET enable_seqscan;
-- an error inside a subtransaction (PL/pgSQL exception block)
DO $$
BEGIN
  UPDATE dml_t SET v = 'doomed' WHERE id = 11;
  INSERT INTO dml_t VALUES (11, 0, 'duplicate', 0);
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'caught % (%)', SQLSTATE, SQLERRM;
END $$;
SELECT id, v FROM dml_t WHERE id = 11;

-- aborted transactions leave no rows and no changes
BEGIN;
INSERT INTO dml_t SELECT g, 0, 'aborted', 0 FROM generate_series(30001, 30100) g;
UPDATE dml_t SET v = 'aborted update' WHERE id BETWEEN 100 AND 200;
UPDATE dml_t SET k = -k WHERE id BETWEEN 300 AND 310;
DELETE FROM dml_t WHERE id BETWEEN 400 AND 500;
ROLLBACK;
SELECT count(*) FROM dml_t WHERE id > 30000 OR v LIKE 'aborted%' OR k < 0;
SELECT count(*) FROM dml_t WHERE id BETWEEN 400 AND 500;
SELECT count(*) AS diff FROM (
  (SELECT * FROM dml_t EXCEPT ALL SELECT * FROM dml_seq)
  UNION ALL (SELECT * FROM dml_seq EXCEPT ALL SELECT * FROM dml_t)) x;
-- (the rows changed since dml_seq was taken)
SELECT id FROM (SELECT * FROM dml_t EXCEPT ALL SELECT * FROM dml_seq) x ORDER BY id;
-- a failing statement is rolled back as a whole
INSERT INTO dml_t SELECT g, 0, 'partial', 0 FROM generate_series(40001, 40010) g
  UNION ALL SELECT 1, 0, 'dup', 0;
SELECT count(*) FROM dml_t WHERE id > 40000;
UPDATE dml_t SET v = 'x' || (1 / (id - 500))::text WHERE id BETWEEN 490 AND 510;
SELECT count(*) FROM dml_t WHERE v LIKE 'x%';

-- unique violations (23505), on insert and on update
INSERT INTO dml_t VALUES (1, 0, 'dup', 0);
UPDATE dml_t SET id = 2 WHERE id = 3;
DO $$
BEGIN
  INSERT INTO dml_t VALUES (2, 0, 'dup', 0);
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'insert: SQLSTATE %', SQLSTATE;
END $$;
DO $$
BEGIN
  UPDATE dml_t SET id = 4 WHERE id = 12;
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'update: SQLSTATE %', SQLSTATE;
END $$;
-- a deferrable unique constraint allows swapping keys
CREATE TABLE dml_swap (k int UNIQUE DEFERRABLE INITIALLY IMMEDIATE, v text) USING aura;
INSERT INTO dml_swap VALUES (1, 'a'), (2, 'b'), (3, 'c');
UPDATE dml_swap SET k = 3 - k WHERE k IN (1, 2);
SELECT * FROM dml_swap ORDER BY k;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE dml_swap SET k = 3 WHERE k = 1;
UPDATE dml_swap SET k = 1 WHERE v = 'c';
COMMIT;
SELECT * FROM dml_swap ORDER BY k;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE dml_swap SET k = 1 WHERE k = 2;
COMMIT;
SELECT * FROM dml_swap ORDER BY k;
DROP TABLE dml_swap;

-- generated columns, CHECK and NOT NULL constraints, identity columns
CREATE TABLE dml_gen (id int GENERATED ALWAYS AS IDENTITY, a int NOT NULL CHECK (a >= 0),
  b int GENERATED ALWAYS AS (a * 2) STORED, c text) USING aura;
CREATE INDEX ON dml_gen (b);
INSERT INTO dml_gen (a, c) SELECT g, 'g' || g FROM generate_series(1, 100) g;
UPDATE dml_gen SET a = a + 1000 WHERE a % 10 = 0;
UPDATE dml_gen SET c = c || '!' WHERE a % 10 = 1;
INSERT INTO dml_gen (a) VALUES (-1);
INSERT INTO dml_gen (a) VALUES (NULL);
UPDATE dml_gen SET a = -5 WHERE id = 1;
INSERT INTO dml_gen (id, a) VALUES (500, 1);
SELECT count(*), sum(a), sum(b), count(*) FILTER (WHERE b = 2 * a) FROM dml_gen;
SET enable_seqscan = off;
SELECT id, a, b, c FROM dml_gen WHERE b IN (2020, 22, 20) ORDER BY id;
RESET enable_seqscan;
DROP TABLE dml_gen;

-- COPY FROM STDIN / TO STDOUT
CREATE TABLE dml_copy (id int, t text, d date, a int[]) USING aura;
COPY dml_copy FROM STDIN;
1	first	2024-01-01	{1,2,3}
2	\N	2024-02-29	{}
3	tab\there	1999-12-31	\N
4	back\\slash	2000-01-01	{4}
\.
COPY dml_copy (id, t) FROM STDIN WITH (FORMAT csv, HEADER true);
id,t
5,"csv, with comma"
6,"quote "" inside"
\.
COPY dml_copy TO STDOUT;
COPY (SELECT * FROM dml_copy ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true);
-- COPY of many rows (multi-insert path), then TO STDOUT of a query
INSERT INTO dml_copy SELECT g, 'bulk ' || g, '2020-01-01'::date + g, ARRAY[g, g + 1] FROM generate_series(100, 5099) g;
CREATE TEMP TABLE dml_copy_h (LIKE dml_copy);
INSERT INTO dml_copy_h SELECT * FROM dml_copy;
TRUNCATE dml_copy;
-- round trip through a server-side-independent path: COPY TO a heap table
-- via INSERT ... SELECT is already done above; now COPY the rows back in
-- with psql's \copy through a file
\copy dml_copy_h TO '/tmp/aura_dml_copy.data'
\copy dml_copy FROM '/tmp/aura_dml_copy.data'
\! rm -f /tmp/aura_dml_copy.data
SELECT count(*) AS diff FROM (
  (SELECT * FROM dml_copy EXCEPT ALL SELECT * FROM dml_copy_h)
  UNION ALL (SELECT * FROM dml_copy_h EXCEPT ALL SELECT * FROM dml_copy)) x;
SELECT count(*) FROM dml_copy;
-- COPY FREEZE into a table created in the same transaction
BEGIN;
CREATE TABLE dml_freeze (id int, v text) USING aura;
COPY dml_freeze FROM STDIN WITH (FREEZE);
1	frozen one
2	frozen two
3	frozen three
\.
COMMIT;
SELECT * FROM dml_freeze ORDER BY id;
-- COPY FREEZE is refused for a table not created/truncated in this
-- transaction
COPY dml_freeze FROM STDIN WITH (FREEZE);
4	never
\.
-- ... and accepted after TRUNCATE in the same transaction
BEGIN;
TRUNCATE dml_freeze;
COPY dml_freeze FROM STDIN WITH (FREEZE);
10	after truncate
\.
COMMIT;
SELECT * FROM dml_freeze;
UPDATE dml_freeze SET v = 'updated frozen' WHERE id = 10;
SELECT * FROM dml_freeze;
DROP TABLE dml_copy, dml_freeze;

-- INSERT ... ON CONFLICT
CREATE TABLE dml_upsert (k int PRIMARY KEY, v text, hits int DEFAULT 1) USING aura;
INSERT INTO dml_upsert (k, v) SELECT g, 'v' || g FROM generate_series(1, 10) g;
INSERT INTO dml_upsert (k, v) VALUES (1, 'ignored'), (11, 'new eleven')
  ON CONFLICT DO NOTHING RETURNING *;
INSERT INTO dml_upsert (k, v) VALUES (2, 'ignored') ON CONFLICT (k) DO NOTHING;
INSERT INTO dml_upsert (k, v) VALUES (3, 'updated three'), (12, 'new twelve')
  ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, hits = dml_upsert.hits + 1
  RETURNING k, v, hits;
INSERT INTO dml_upsert (k, v) VALUES (3, 'again')
  ON CONFLICT (k) DO UPDATE SET hits = dml_upsert.hits + 1 WHERE dml_upsert.hits < 2;
INSERT INTO dml_upsert (k, v) VALUES (3, 'again')
  ON CONFLICT (k) DO UPDATE SET hits = dml_upsert.hits + 1 WHERE dml_upsert.hits < 2;
-- the same key twice in one command is an error (21000), as for heap:
-- for an existing key and for a key the command inserts itself
INSERT INTO dml_upsert (k, v) VALUES (4, 'a'), (4, 'b')
  ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
INSERT INTO dml_upsert (k, v) VALUES (40, 'a'), (40, 'b')
  ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
-- upsert many rows at once, half of them existing
INSERT INTO dml_upsert (k, v) SELECT g, 'bulk' FROM generate_series(5, 30) g
  ON CONFLICT (k) DO UPDATE SET hits = dml_upsert.hits + 10;
-- upsert changing the key column itself
INSERT INTO dml_upsert (k, v) VALUES (30, 'move')
  ON CONFLICT (k) DO UPDATE SET k = 31, v = 'moved from 30';
SELECT * FROM dml_upsert ORDER BY k;
SET enable_seqscan = off;
SELECT * FROM dml_upsert WHERE k IN (3, 30, 31) ORDER BY k;
RESET enable_seqscan;
-- ON CONFLICT inside a rolled-back savepoint
BEGIN;
SAVEPOINT a;
INSERT INTO dml_upsert (k, v) VALUES (1, 'x'), (100, 'y')
  ON CONFLICT (k) DO UPDATE SET v = 'in savepoint';
ROLLBACK TO a;
INSERT INTO dml_upsert (k, v) VALUES (1, 'x') ON CONFLICT (k) DO UPDATE SET v = 'after savepoint';
COMMIT;
SELECT * FROM dml_upsert WHERE k IN (1, 100) ORDER BY k;

-- row locks taken and upgraded by one transaction
BEGIN;
SELECT k, v FROM dml_upsert WHERE k IN (1, 2) ORDER BY k FOR KEY SHARE;
SELECT k, v FROM dml_upsert WHERE k IN (1, 2) ORDER BY k FOR SHARE;
UPDATE dml_upsert SET v = 'locked then updated' WHERE k = 1;
SELECT k, v FROM dml_upsert WHERE k IN (1, 2) ORDER BY k FOR NO KEY UPDATE;
SELECT k, v FROM dml_upsert WHERE k IN (1, 2) ORDER BY k FOR UPDATE;
DELETE FROM dml_upsert WHERE k = 2;
COMMIT;
SELECT * FROM dml_upsert WHERE k IN (1, 2) ORDER BY k;
-- a row lock, then an update in a rolled-back savepoint (the xmax becomes
-- a MultiXact of a running locker and an aborted updater), then more
-- locks and updates of the same row
BEGIN;
SELECT k FROM dml_upsert WHERE k = 3 FOR SHARE;
SAVEPOINT s;
UPDATE dml_upsert SET v = 'updated in savepoint' WHERE k = 3;
ROLLBACK TO s;
SELECT k, v FROM dml_upsert WHERE k = 3 FOR UPDATE;
UPDATE dml_upsert SET v = 'updated after rollback to' WHERE k = 3;
COMMIT;
SELECT * FROM dml_upsert WHERE k = 3;
DROP TABLE dml_upsert;

-- cursors
CREATE TABLE dml_cur (id int PRIMARY KEY, v text) USING aura;
INSERT INTO dml_cur SELECT g, 'c' || g FROM generate_series(1, 20) g;
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT * FROM dml_cur;
FETCH FORWARD 3 FROM c;
FETCH BACKWARD 2 FROM c;
FETCH ABSOLUTE 10 FROM c;
FETCH ABSOLUTE -1 FROM c;
FETCH RELATIVE -5 FROM c;
FETCH LAST FROM c;
FETCH NEXT FROM c;
FETCH PRIOR FROM c;
FETCH FIRST FROM c;
MOVE FORWARD ALL IN c;
FETCH BACKWARD 3 FROM c;
CLOSE c;
-- a scrollable cursor over an index scan
SET enable_seqscan = off;
DECLARE ci SCROLL CURSOR FOR SELECT * FROM dml_cur WHERE id > 15 ORDER BY id;
FETCH ALL FROM ci;
FETCH BACKWARD 2 FROM ci;
FETCH ABSOLUTE 1 FROM ci;
CLOSE ci;
RESET enable_seqscan;
-- WHERE CURRENT OF
DECLARE cu CURSOR FOR SELECT * FROM dml_cur WHERE id % 5 = 0 FOR UPDATE;
FETCH NEXT FROM cu;
UPDATE dml_cur SET v = 'updated via cursor' WHERE CURRENT OF cu;
FETCH NEXT FROM cu;
DELETE FROM dml_cur WHERE CURRENT OF cu;
FETCH NEXT FROM cu;
UPDATE dml_cur SET id = 1500 WHERE CURRENT OF cu;
CLOSE cu;
-- a cursor keeps its snapshot while the table changes
DECLARE cs CURSOR FOR SELECT id, v FROM dml_cur WHERE id BETWEEN 1 AND 4 ORDER BY id;
FETCH 1 FROM cs;
UPDATE dml_cur SET v = 'changed after declare' WHERE id BETWEEN 1 AND 4;
FETCH ALL FROM cs;
CLOSE cs;
COMMIT;
SELECT * FROM dml_cur WHERE id % 5 = 0 OR id < 5 ORDER BY id;

-- triggers
CREATE TABLE dml_trig (id int, v text, n int) USING aura;
CREATE TABLE dml_trig_log (seq serial, op text, info text);
CREATE FUNCTION dml_trig_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.v := NEW.v || ' [bi]';
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    NEW.n := coalesce(NEW.n, 0) + 100;
    RETURN NEW;
  ELSE
    IF OLD.v LIKE 'keep%' THEN
      RAISE NOTICE 'before delete: skipping id %', OLD.id;
      RETURN NULL;
    END IF;
    RETURN OLD;
  END IF;
END $$;
CREATE FUNCTION dml_trig_after() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE NOTICE 'after insert: NEW=%', NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    RAISE NOTICE 'after update: OLD=% NEW=%', OLD, NEW;
  ELSE
    RAISE NOTICE 'after delete: OLD=%', OLD;
  END IF;
  INSERT INTO dml_trig_log (op, info) VALUES (TG_OP, coalesce(OLD::text, '') || ' -> ' || coalesce(NEW::text, ''));
  RETURN NULL;
END $$;
CREATE TRIGGER t_before BEFORE INSERT OR UPDATE OR DELETE ON dml_trig
  FOR EACH ROW EXECUTE FUNCTION dml_trig_before();
CREATE TRIGGER t_after AFTER INSERT OR UPDATE OR DELETE ON dml_trig
  FOR EACH ROW EXECUTE FUNCTION dml_trig_after();
INSERT INTO dml_trig VALUES (1, 'one', 1), (2, 'keep two', 2), (3, 'three', 3);
-- no index on the table: the updated column is not indexed
UPDATE dml_trig SET v = 'ONE' WHERE id = 1;
UPDATE dml_trig SET n = n + 1 WHERE id IN (2, 3);
-- several updates of one row in a transaction: each trigger sees its own OLD
BEGIN;
UPDATE dml_trig SET v = 'one v2' WHERE id = 1;
UPDATE dml_trig SET v = 'one v3' WHERE id = 1;
COMMIT;
DELETE FROM dml_trig;
SELECT * FROM dml_trig ORDER BY id;
SELECT op, info FROM dml_trig_log ORDER BY seq;
-- AFTER UPDATE trigger with a WHEN clause comparing OLD and NEW
TRUNCATE dml_trig_log;
DROP TRIGGER t_after ON dml_trig;
DROP TRIGGER t_before ON dml_trig;
CREATE TRIGGER t_when AFTER UPDATE ON dml_trig
  FOR EACH ROW WHEN (OLD.v IS DISTINCT FROM NEW.v) EXECUTE FUNCTION dml_trig_after();
INSERT INTO dml_trig VALUES (10, 'ten', 10), (11, 'eleven', 11);
UPDATE dml_trig SET n = n + 1;             -- v unchanged: no trigger
UPDATE dml_trig SET v = v || '!' WHERE id = 10;
SELECT op, info FROM dml_trig_log ORDER BY seq;
DROP TRIGGER t_when ON dml_trig;
-- statement-level AFTER triggers with transition tables
CREATE FUNCTION dml_trig_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    FOR r IN SELECT * FROM old_rows ORDER BY id LOOP
      RAISE NOTICE '% old row: %', TG_OP, r;
    END LOOP;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    FOR r IN SELECT * FROM new_rows ORDER BY id LOOP
      RAISE NOTICE '% new row: %', TG_OP, r;
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER t_tr_upd AFTER UPDATE ON dml_trig
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION dml_trig_transition();
CREATE TRIGGER t_tr_del AFTER DELETE ON dml_trig
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION dml_trig_transition();
CREATE TRIGGER t_tr_ins AFTER INSERT ON dml_trig
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION dml_trig_transition();
UPDATE dml_trig SET v = 'transition', n = n * 2;
INSERT INTO dml_trig VALUES (12, 'twelve', 12);
DELETE FROM dml_trig WHERE id = 12;
DROP TRIGGER t_tr_upd ON dml_trig;
DROP TRIGGER t_tr_del ON dml_trig;
DROP TRIGGER t_tr_ins ON dml_trig;
-- deferred constraint triggers see the row as it was at the event
CREATE FUNCTION dml_trig_deferred() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE NOTICE 'deferred after insert: NEW=%', NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    RAISE NOTICE 'deferred after update: OLD=% NEW=%', OLD, NEW;
  ELSE
    RAISE NOTICE 'deferred after delete: OLD=%', OLD;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER t_deferred AFTER INSERT OR DELETE ON dml_trig
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION dml_trig_deferred();
BEGIN;
INSERT INTO dml_trig VALUES (20, 'inserted', 20);
UPDATE dml_trig SET v = 'updated later', n = 21 WHERE id = 20;
DELETE FROM dml_trig WHERE id = 11;
SELECT 'before commit' AS step;
COMMIT;
DROP TRIGGER t_deferred ON dml_trig;
DROP TABLE dml_trig, dml_trig_log;
DROP FUNCTION dml_trig_before(), dml_trig_after(), dml_trig_transition(), dml_trig_deferred();

-- foreign keys between aura tables
CREATE TABLE dml_parent (id int PRIMARY KEY, name text) USING aura;
CREATE TABLE dml_child (id int PRIMARY KEY, pid int REFERENCES dml_parent (id), note text) USING aura;
CREATE TABLE dml_child_cascade (id int PRIMARY KEY,
  pid int REFERENCES dml_parent (id) ON DELETE CASCADE ON UPDATE CASCADE, note text) USING aura;
INSERT INTO dml_parent SELECT g, 'p' || g FROM generate_series(1, 10) g;
INSERT INTO dml_child SELECT g, g % 5 + 1, 'c' || g FROM generate_series(1, 20) g;
INSERT INTO dml_child_cascade SELECT g, g % 10 + 1, 'cc' || g FROM generate_series(1, 30) g;
-- violation on insert into the child
INSERT INTO dml_child VALUES (100, 99, 'no parent');
-- violation on update of the child's FK column (not indexed)
UPDATE dml_child SET pid = 99 WHERE id = 1;
-- ... also when the row was updated before in the same transaction
BEGIN;
UPDATE dml_child SET note = 'touched' WHERE id = 2;
UPDATE dml_child SET pid = 98 WHERE id = 2;
COMMIT;
-- a valid FK change works
UPDATE dml_child SET pid = 10 WHERE id = 3;
-- violation on delete / key update of a referenced parent
DELETE FROM dml_parent WHERE id = 2;
UPDATE dml_parent SET id = 200 WHERE id = 2;
-- non-key update of a referenced parent is fine
UPDATE dml_parent SET name = 'renamed' WHERE id = 2;
-- deleting a parent once its children are gone is fine
DELETE FROM dml_child_cascade WHERE pid = 7;
DELETE FROM dml_parent WHERE id = 7;
-- ON DELETE CASCADE / ON UPDATE CASCADE
DELETE FROM dml_child WHERE pid = 6;
DELETE FROM dml_parent WHERE id = 6;
SELECT count(*) FROM dml_child_cascade WHERE pid = 6;
UPDATE dml_parent SET id = 80 WHERE id = 8;
SELECT id, pid, note FROM dml_child_cascade WHERE pid IN (8, 80) ORDER BY id;
SELECT p.id, count(c.id) FROM dml_parent p LEFT JOIN dml_child_cascade c ON c.pid = p.id
 GROUP BY p.id ORDER BY p.id;
SELECT * FROM dml_child ORDER BY id;
-- deferred FK: a temporary violation fixed before commit is fine
ALTER TABLE dml_child DROP CONSTRAINT dml_child_pid_fkey;
ALTER TABLE dml_child ADD FOREIGN KEY (pid) REFERENCES dml_parent (id) DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO dml_child VALUES (50, 500, 'parent comes later');
INSERT INTO dml_parent VALUES (500, 'late parent');
COMMIT;
BEGIN;
INSERT INTO dml_child VALUES (51, 501, 'parent never comes');
UPDATE dml_child SET note = 'still no parent' WHERE id = 51;
COMMIT;
SELECT * FROM dml_child WHERE id >= 50 ORDER BY id;
-- adding a FK constraint validates existing rows
INSERT INTO dml_child_cascade VALUES (1000, NULL, 'null fk');
ALTER TABLE dml_child_cascade DROP CONSTRAINT dml_child_cascade_pid_fkey;
INSERT INTO dml_child_cascade VALUES (1001, 12345, 'dangling');
ALTER TABLE dml_child_cascade ADD FOREIGN KEY (pid) REFERENCES dml_parent (id);
DELETE FROM dml_child_cascade WHERE id = 1001;
ALTER TABLE dml_child_cascade ADD FOREIGN KEY (pid) REFERENCES dml_parent (id);
-- TRUNCATE of a referenced table needs CASCADE
TRUNCATE dml_parent;
TRUNCATE dml_parent CASCADE;
SELECT (SELECT count(*) FROM dml_parent) AS parents, (SELECT count(*) FROM dml_child) AS children,
       (SELECT count(*) FROM dml_child_cascade) AS cascade_children;
DROP TABLE dml_child, dml_child_cascade, dml_parent;

-- two-phase commit
CREATE TABLE dml_2pc (id int PRIMARY KEY, v text) USING aura;
INSERT INTO dml_2pc VALUES (1, 'one'), (2, 'two'), (3, 'three');
BEGIN;
INSERT INTO dml_2pc VALUES (4, 'four');
UPDATE dml_2pc SET v = 'ONE' WHERE id = 1;
DELETE FROM dml_2pc WHERE id = 2;
PREPARE TRANSACTION 'aura_dml_commit';
-- not visible yet
SELECT * FROM dml_2pc ORDER BY id;
COMMIT PREPARED 'aura_dml_commit';
SELECT * FROM dml_2pc ORDER BY id;
BEGIN;
INSERT INTO dml_2pc VALUES (5, 'five');
UPDATE dml_2pc SET v = 'THREE', id = 30 WHERE id = 3;
DELETE FROM dml_2pc WHERE id = 4;
PREPARE TRANSACTION 'aura_dml_rollback';
SELECT * FROM dml_2pc ORDER BY id;
ROLLBACK PREPARED 'aura_dml_rollback';
SELECT * FROM dml_2pc ORDER BY id;
SET enable_seqscan = off;
SELECT * FROM dml_2pc WHERE id IN (3, 4, 5, 30) ORDER BY id;
RESET enable_seqscan;
-- a prepared transaction keeps its row locks
BEGIN;
UPDATE dml_2pc SET v = 'locked by 2pc' WHERE id = 1;
SELECT id FROM dml_2pc WHERE id = 3 FOR SHARE;
PREPARE TRANSACTION 'aura_dml_locks';
SELECT * FROM dml_2pc WHERE id = 1 FOR UPDATE NOWAIT;
SELECT * FROM dml_2pc ORDER BY id FOR UPDATE SKIP LOCKED;
SELECT * FROM dml_2pc WHERE id = 3 FOR SHARE NOWAIT;
SELECT * FROM dml_2pc WHERE id = 3 FOR UPDATE NOWAIT;
COMMIT PREPARED 'aura_dml_locks';
SELECT * FROM dml_2pc ORDER BY id FOR UPDATE NOWAIT;
-- a foreign key check's KEY SHARE lock held by a prepared transaction
-- still protects the parent row after another locker joined it (the
-- xmax became a MultiXact) and committed
CREATE TABLE dml_2pc_parent (id int PRIMARY KEY) USING aura;
CREATE TABLE dml_2pc_child (id int, pid int REFERENCES dml_2pc_parent) USING aura;
INSERT INTO dml_2pc_parent VALUES (1), (2);
BEGIN;
INSERT INTO dml_2pc_child VALUES (1, 1);
PREPARE TRANSACTION 'aura_dml_fk';
INSERT INTO dml_2pc_child VALUES (2, 1);
DELETE FROM dml_2pc_child WHERE id = 2;
SET lock_timeout = '100ms';
\set VERBOSITY terse
DELETE FROM dml_2pc_parent WHERE id = 1;
UPDATE dml_2pc_parent SET id = 10 WHERE id = 1;
\set VERBOSITY default
RESET lock_timeout;
DELETE FROM dml_2pc_parent WHERE id = 2;
COMMIT PREPARED 'aura_dml_fk';
SELECT c.id, c.pid, p.id AS parent FROM dml_2pc_child c LEFT JOIN dml_2pc_parent p ON p.id = c.pid;
DELETE FROM dml_2pc_parent WHERE id = 1;
DROP TABLE dml_2pc_child, dml_2pc_parent;
-- serializable isolation: a prepared transaction and this session form a
-- read/write cycle, which is detected as for heap (seq scan, index scan)
CREATE TABLE dml_ssi (id int PRIMARY KEY, v int) USING aura;
INSERT INTO dml_ssi VALUES (1, 10), (2, 20);
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT v FROM dml_ssi WHERE id = 1;
UPDATE dml_ssi SET v = v + 1 WHERE id = 2;
PREPARE TRANSACTION 'aura_dml_ssi1';
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT v FROM dml_ssi WHERE id = 2;
UPDATE dml_ssi SET v = v + 1 WHERE id = 1;
COMMIT;
COMMIT PREPARED 'aura_dml_ssi1';
SET enable_seqscan = off;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT v FROM dml_ssi WHERE id = 1;
UPDATE dml_ssi SET v = v + 1 WHERE id = 2;
PREPARE TRANSACTION 'aura_dml_ssi2';
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT v FROM dml_ssi WHERE id = 2;
UPDATE dml_ssi SET v = v + 1 WHERE id = 1;
COMMIT;
COMMIT PREPARED 'aura_dml_ssi2';
RESET enable_seqscan;
SELECT * FROM dml_ssi ORDER BY id;
DROP TABLE dml_ssi;
SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'aura_dml%';
DROP TABLE dml_2pc;

DROP TABLE dml_t;
