/*-------------------------------------------------------------------------
 *
 * aura_stats.c
 *	  aura_stats(regclass): storage breakdown of an aura table.
 *
 * Reads every page once (share lock, one at a time), classifying it by
 * the kind in its special area, counting versions on hot pages and blobs
 * by their first pages; then walks every rowid's chain with the current
 * snapshot to count live rows and dead versions.
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
#include "storage/meta.h"
#include "storage/procarray.h"
#include "tableam/aura_tableam.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(aura_stats);

#define AURA_STATS_COLS 13

static void
check_aura_table(Relation rel)
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
	BlockNumber nblocks;
	BlockNumber blkno;
	uint64		nrowids;
	uint64		rowid;
	Snapshot	snapshot = GetActiveSnapshot();
	Buffer		keep = InvalidBuffer;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	rel = relation_open(relid, AccessShareLock);
	check_aura_table(rel);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE,
					   RelationGetRelationName(rel));

	memset(counts, 0, sizeof(counts));
	nblocks = RelationGetNumberOfBlocks(rel);
	counts[0] = nblocks;
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
				counts[1]++;
				break;
			case AURA_PAGE_MAPDIR:
			case AURA_PAGE_MAP:
				counts[2]++;
				break;
			case AURA_PAGE_HOT:
				counts[3]++;
				counts[7] += PageGetMaxOffsetNumber(page);
				break;
			case AURA_PAGE_BLOB:
				{
					AuraBlobHeader *hdr = (AuraBlobHeader *) AuraPageGetContents(page);

					counts[4]++;
					if (AuraPageGetOpaque(page)->aux2 == 0)
					{
						counts[10]++;
						counts[11] += hdr->stored_size;
						counts[12] += hdr->raw_size - VARHDRSZ;
					}
					break;
				}
			default:
				/* never-initialised pages left by a crash, or freed pages */
				counts[5]++;
				break;
		}
		UnlockReleaseBuffer(buf);
	}

	nrowids = aura_meta_next_rowid(rel);
	counts[6] = nrowids;
	for (rowid = 0; rowid < nrowids; rowid++)
	{
		HeapTupleData tuple;

		CHECK_FOR_INTERRUPTS();
		if (chain_find_visible(rel, rowid, NULL, snapshot, &keep, &tuple,
							   NULL))
			counts[8]++;
	}
	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
	counts[9] = counts[7] - counts[8];

	relation_close(rel, AccessShareLock);

	for (i = 0; i < AURA_STATS_COLS; i++)
	{
		values[i] = Int64GetDatum(counts[i]);
		nulls[i] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
