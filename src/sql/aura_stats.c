/*-------------------------------------------------------------------------
 *
 * aura_stats.c
 *	  aura_stats(regclass): storage breakdown of an aura table.
 *
 * Reads every page once (share lock, one at a time), classifying it by
 * the kind in its special area, counting items on hot pages and blobs by
 * their first pages; then walks every rowid's chain to count the versions
 * still linked, and those the current snapshot sees (live rows).  Items on
 * hot pages that no chain reaches any more are unlinked versions: VACUUM
 * removed them, and their pages are freed once no version on them is
 * linked.  The meta page adds the free rowids and VACUUM's counters.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/blob.h"
#include "storage/bufmgr.h"
#include "storage/cold.h"
#include "storage/meta.h"
#include "storage/procarray.h"
#include "tableam/aura_tableam.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(aura_stats);

#define AURA_STATS_COLS 25

/* Column numbers of aura_stats' result */
enum
{
	ST_TOTAL_PAGES,
	ST_META_PAGES,
	ST_MAP_PAGES,
	ST_HOT_PAGES,
	ST_BLOB_PAGES,
	ST_FREE_PAGES,
	ST_ROWIDS_ALLOCATED,
	ST_ROWIDS_FREE,
	ST_VERSIONS,
	ST_LIVE_ROWS,
	ST_DEAD_VERSIONS,
	ST_UNLINKED_VERSIONS,
	ST_BLOBS,
	ST_BLOB_BYTES,
	ST_BLOB_RAW_BYTES,
	ST_VACUUM_PASSES,
	ST_VERSIONS_REMOVED,
	ST_VERSIONS_FROZEN,
	ST_ROWIDS_RECYCLED,
	ST_PAGES_FREED,
	ST_COLD_PAGES,
	ST_COLD_ROWS,
	ST_COLD_RAW_BYTES,
	ST_COLD_BYTES,
	ST_ROWS_MADE_COLD
};

/* Raise an error unless rel is an aura table */
void
aura_require_aura_table(Relation rel)
{
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
	if (rel->rd_tableam == NULL ||
		rel->rd_rel->relam != get_table_am_oid("aura", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an aura table",
						RelationGetRelationName(rel)),
				 errhint("Use ALTER TABLE ... SET ACCESS METHOD aura.")));
}

Datum
aura_stats(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	TupleDesc	tupdesc;
	Datum		values[AURA_STATS_COLS];
	bool		nulls[AURA_STATS_COLS];
	int64		counts[AURA_STATS_COLS];
	int64		items = 0;
	BlockNumber nblocks;
	BlockNumber blkno;
	uint64		nrowids;
	uint64		rowid;
	Snapshot	snapshot = GetActiveSnapshot();
	Buffer		keep = InvalidBuffer;
	Buffer		metabuf;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	rel = relation_open(relid, AccessShareLock);
	aura_require_aura_table(rel);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE,
					   RelationGetRelationName(rel));

	memset(counts, 0, sizeof(counts));
	nblocks = RelationGetNumberOfBlocks(rel);
	counts[ST_TOTAL_PAGES] = nblocks;
	for (blkno = 0; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(rel, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		switch (AuraPageGetKind(page))
		{
			case AURA_PAGE_META:
				counts[ST_META_PAGES]++;
				break;
			case AURA_PAGE_MAPDIR:
			case AURA_PAGE_MAP:
				counts[ST_MAP_PAGES]++;
				break;
			case AURA_PAGE_HOT:
				counts[ST_HOT_PAGES]++;
				items += PageGetMaxOffsetNumber(page);
				break;
			case AURA_PAGE_BLOB:
				{
					AuraBlobHeader *hdr = (AuraBlobHeader *) AuraPageGetContents(page);

					counts[ST_BLOB_PAGES]++;
					if (AuraPageGetOpaque(page)->aux2 == 0)
					{
						counts[ST_BLOBS]++;
						counts[ST_BLOB_BYTES] += hdr->stored_size;
						counts[ST_BLOB_RAW_BYTES] += hdr->raw_size - VARHDRSZ;
					}
					break;
				}
			case AURA_PAGE_COLD:
				{
					AuraColdPageHeader *hdr = AuraPageGetColdHeader(page);
					int			b;

					counts[ST_COLD_PAGES]++;
					for (b = 0; b < hdr->nblocks &&
						 b < (int) ((BLCKSZ - sizeof(AuraColdPageHeader)) / sizeof(AuraColdBlock)); b++)
					{
						counts[ST_COLD_RAW_BYTES] += hdr->blocks[b].raw_size;
						counts[ST_COLD_BYTES] += hdr->blocks[b].comp_size;
					}
					break;
				}
			default:
				/* freed pages, and never-initialised pages left by a crash */
				counts[ST_FREE_PAGES]++;
				break;
		}
		UnlockReleaseBuffer(buf);
	}

	metabuf = aura_meta_read(rel, BUFFER_LOCK_SHARE);
	if (BufferIsValid(metabuf))
	{
		AuraMetaData *meta = AuraPageGetMeta(BufferGetPage(metabuf));

		nrowids = meta->next_rowid;
		counts[ST_ROWIDS_FREE] = meta->nfree;
		counts[ST_VACUUM_PASSES] = meta->vacuum_passes;
		counts[ST_VERSIONS_REMOVED] = meta->versions_removed;
		counts[ST_VERSIONS_FROZEN] = meta->versions_frozen;
		counts[ST_ROWIDS_RECYCLED] = meta->rowids_recycled;
		counts[ST_PAGES_FREED] = meta->pages_freed;
		counts[ST_ROWS_MADE_COLD] = meta->rows_made_cold;
		UnlockReleaseBuffer(metabuf);
	}
	else
		nrowids = 0;
	counts[ST_ROWIDS_ALLOCATED] = nrowids;

	for (rowid = 0; rowid < nrowids; rowid++)
	{
		HeapTupleData tuple;
		AuraChainCursor cur;

		CHECK_FOR_INTERRUPTS();
		if (chain_find_visible(rel, rowid, NULL, snapshot, &keep, &tuple,
							   NULL))
			counts[ST_LIVE_ROWS]++;
		if (chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, NULL))
		{
			/* rows whose map entry names a cold item (not the unreferenced ones) */
			if (cur.cold)
				counts[ST_COLD_ROWS]++;
			do
				counts[ST_VERSIONS]++;
			while (chain_next(&cur));
			chain_end(&cur, NULL);
		}
	}
	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
	counts[ST_DEAD_VERSIONS] = counts[ST_VERSIONS] - counts[ST_LIVE_ROWS];
	counts[ST_UNLINKED_VERSIONS] = Max(items - counts[ST_VERSIONS], 0);

	relation_close(rel, AccessShareLock);

	for (i = 0; i < AURA_STATS_COLS; i++)
	{
		values[i] = Int64GetDatum(counts[i]);
		nulls[i] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
