/* auradb--0.1.sql: objects of the auradb extension */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION auradb" to load this file. \quit

CREATE FUNCTION aura_tableam_handler(internal)
RETURNS table_am_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_tableam_handler(internal) IS
'handler of the aura table access method';

CREATE ACCESS METHOD aura TYPE TABLE HANDLER aura_tableam_handler;

COMMENT ON ACCESS METHOD aura IS
'log-structured row store: row map, value log of row versions, blobs';

-- Storage breakdown of one aura table.
CREATE FUNCTION aura_stats(rel regclass,
	OUT total_pages bigint,
	OUT meta_pages bigint,
	OUT map_pages bigint,
	OUT hot_pages bigint,
	OUT blob_pages bigint,
	OUT free_pages bigint,
	OUT rowids_allocated bigint,
	OUT rowids_free bigint,
	OUT versions bigint,
	OUT live_rows bigint,
	OUT dead_versions bigint,
	OUT unlinked_versions bigint,
	OUT blobs bigint,
	OUT blob_bytes bigint,
	OUT blob_raw_bytes bigint,
	OUT vacuum_passes bigint,
	OUT versions_removed bigint,
	OUT versions_frozen bigint,
	OUT rowids_recycled bigint,
	OUT pages_freed bigint,
	OUT cold_pages bigint,
	OUT cold_rows bigint,
	OUT cold_raw_bytes bigint,
	OUT cold_bytes bigint,
	OUT rows_made_cold bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'aura_stats'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_stats(regclass) IS
'storage breakdown of an aura table: pages by kind, versions, rowids, blobs, cold pages, what VACUUM did';

-- Every aura table the current user may read, with its storage breakdown.
CREATE VIEW aura_tables AS
SELECT c.oid::regclass AS relation,
       s.*,
       CASE WHEN s.blob_bytes > 0
            THEN round(s.blob_raw_bytes::numeric / s.blob_bytes, 2)
       END AS blob_compression_ratio,
       CASE WHEN s.cold_bytes > 0
            THEN round(s.cold_raw_bytes::numeric / s.cold_bytes, 2)
       END AS cold_compression_ratio
  FROM pg_class c
  JOIN pg_am a ON a.oid = c.relam AND a.amname = 'aura'
  CROSS JOIN LATERAL aura_stats(c.oid) s
 WHERE c.relkind IN ('r', 'm')
   AND has_table_privilege(c.oid, 'SELECT');

COMMENT ON VIEW aura_tables IS
'aura_stats() of every aura table the current user may read';

-- Verify every invariant of an aura table (the amcheck of aura).
CREATE FUNCTION aura_check(rel regclass,
	OUT rowids bigint,
	OUT versions bigint,
	OUT free_rowids bigint,
	OUT pages bigint,
	OUT pages_checked bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'aura_check'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_check(regclass) IS
'verify an aura table: map, version chains, unreachable versions, free rowids; raises XX001 on corruption';

-- Compact an aura table now (VACUUM FREEZE of it, in this transaction).
CREATE FUNCTION aura_compact(rel regclass, verbose boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'aura_compact'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_compact(regclass, boolean) IS
'compact an aura table now: remove dead versions, recycle rowids, free pages, freeze';

-- Per-table switch for cold pages (the GUC aura.compression is the global
-- one).  A table's row here survives TRUNCATE and rewrites (the OID stays),
-- is transactional, and is dumped by pg_dump (relid restores by name).
CREATE TABLE aura_table_settings (
	relid regclass PRIMARY KEY,
	compression boolean NOT NULL
) USING heap;

SELECT pg_catalog.pg_extension_config_dump('aura_table_settings', '');

COMMENT ON TABLE aura_table_settings IS
'per-table settings of aura tables: compression = may VACUUM and COPY FREEZE write cold pages';

-- Owners of a table may set its row (directly or with aura_set_compression).
ALTER TABLE aura_table_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY aura_table_settings_owner ON aura_table_settings
	USING (pg_catalog.pg_has_role(current_user,
		(SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = relid), 'USAGE'));
GRANT SELECT, INSERT, UPDATE ON aura_table_settings TO PUBLIC;

CREATE FUNCTION aura_set_compression(rel regclass, enabled boolean)
RETURNS void
LANGUAGE plpgsql STRICT
AS $$
DECLARE
	owner oid;
BEGIN
	SELECT c.relowner INTO owner
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_am a ON a.oid = c.relam
	 WHERE c.oid = rel AND a.amname = 'aura' AND c.relkind IN ('r', 'm');
	IF NOT FOUND THEN
		RAISE EXCEPTION '"%" is not an aura table', rel
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Use ALTER TABLE ... SET ACCESS METHOD aura.';
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', rel
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO @extschema@.aura_table_settings AS s (relid, compression)
	VALUES (rel, enabled)
	ON CONFLICT (relid) DO UPDATE SET compression = EXCLUDED.compression;
END
$$;

COMMENT ON FUNCTION aura_set_compression(regclass, boolean) IS
'whether VACUUM and COPY FREEZE may store settled rows of an aura table in LZ4-compressed cold pages';

-- A dropped table's row goes with it, so that a later table that gets the
-- same OID does not inherit it.  SECURITY DEFINER: once the table is gone
-- the row-level security policy cannot tell its owner any more.  (A
-- temporary table dropped at the end of its session fires no event
-- trigger: its row stays until a table with its OID is dropped.)
CREATE FUNCTION aura_forget_dropped_tables()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM @extschema@.aura_table_settings s
	 USING pg_catalog.pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
	   AND d.objsubid = 0
	   AND d.objid = s.relid::pg_catalog.oid;
END
$$;

CREATE EVENT TRIGGER aura_forget_dropped_tables ON sql_drop
	EXECUTE FUNCTION aura_forget_dropped_tables();

-- The version chain of one row, newest first (debugging; superuser only).
CREATE FUNCTION aura_row_versions(rel regclass, rowid bigint,
	OUT depth int,
	OUT block bigint,
	OUT line_pointer int,
	OUT xmin xid,
	OUT xmax xid,
	OUT infomask int,
	OUT infomask2 int,
	OUT t_ctid text,
	OUT aura_flags int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'aura_row_versions'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_row_versions(regclass, bigint) IS
'version chain of one row of an aura table, newest first';
