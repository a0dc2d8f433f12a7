--
-- aura_autocompact: writers count the hot pages they start; each time the
-- count since the last VACUUM pass reaches a multiple of
-- aura.compaction_trigger times the table's pages (at least 64 pages), a
-- background worker runs a VACUUM pass of the table.  It follows
-- autovacuum's switches: off with autovacuum_enabled = false, off for
-- temporary tables, off with aura.compaction_trigger = 0.
--
-- Autovacuum itself is kept away from these tables by huge thresholds, so
-- every pass counted here is a compaction worker's (pg_stat_user_tables
-- counts it as a VACUUM, not an autovacuum).
--

-- wait up to 60 s for a pass after the given count of passes
CREATE FUNCTION wait_for_pass(rel regclass, after bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..600 LOOP
		IF (SELECT vacuum_passes > after FROM aura_stats(rel)) THEN
			RETURN true;
		END IF;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN false;
END $$;

-- 100 committed UPDATEs of 1% of the rows each: about 300 hot pages
CREATE PROCEDURE update_in_steps(rel regclass)
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 0..99 LOOP
		EXECUTE format('UPDATE %s SET v = v + 1 WHERE id %% 100 = $1', rel)
			USING i;
		COMMIT;
	END LOOP;
END $$;

CREATE TABLE ac (id int PRIMARY KEY, v int, pad text) USING aura
	WITH (autovacuum_vacuum_threshold = 2000000000,
		  autovacuum_vacuum_insert_threshold = 2000000000,
		  autovacuum_analyze_threshold = 2000000000);
CREATE TABLE acoff (LIKE ac INCLUDING ALL) USING aura
	WITH (autovacuum_enabled = false);
CREATE TEMP TABLE actemp (LIKE ac INCLUDING ALL) USING aura;

-- the loads start many hot pages, but ask for nothing
SET aura.compaction_trigger = 0;
INSERT INTO ac SELECT g, 0, repeat('p', 100) FROM generate_series(1, 10000) g;
INSERT INTO acoff SELECT * FROM ac;
INSERT INTO actemp SELECT * FROM ac;
VACUUM ac;
VACUUM acoff;
VACUUM actemp;
SELECT hot_pages, cold_rows, vacuum_passes FROM aura_stats('ac');

-- trigger 0: no pass
CALL update_in_steps('ac');
SELECT pg_sleep(2);
SELECT vacuum_passes FROM aura_stats('ac');

-- with the trigger (64 pages for a table this small) a worker compacts ac
SET aura.compaction_trigger = 0.02;
SELECT vacuum_passes AS passes_before FROM aura_stats('ac') \gset
CALL update_in_steps('ac');
SELECT wait_for_pass('ac', :passes_before);
SELECT autovacuum_count, vacuum_count >= 2 AS worker_vacuumed
FROM pg_stat_user_tables WHERE relid = 'ac'::regclass;
SELECT count(*), sum(v), sum(length(pad)) FROM ac;
SELECT aura_check('ac') IS NOT NULL AS checked;

-- nothing for a table with autovacuum_enabled = false, or a temporary one
CALL update_in_steps('acoff');
CALL update_in_steps('actemp');
SELECT pg_sleep(2);
SELECT vacuum_passes FROM aura_stats('acoff');
SELECT vacuum_passes FROM aura_stats('actemp');
SELECT count(*), sum(v) FROM acoff;
SELECT count(*), sum(v) FROM actemp;

-- the trigger's range
SET aura.compaction_trigger = 1.5;
SET aura.compaction_trigger = -0.1;
RESET aura.compaction_trigger;
SHOW aura.compaction_trigger;

DROP TABLE ac, acoff, actemp;
DROP PROCEDURE update_in_steps(regclass);
DROP FUNCTION wait_for_pass(regclass, bigint);
