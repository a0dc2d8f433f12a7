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
	OUT versions bigint,
	OUT live_rows bigint,
	OUT dead_versions bigint,
	OUT blobs bigint,
	OUT blob_bytes bigint,
	OUT blob_raw_bytes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'aura_stats'
LANGUAGE C STRICT;

COMMENT ON FUNCTION aura_stats(regclass) IS
'storage breakdown of an aura table: pages by kind, versions, rowids, blobs';

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
