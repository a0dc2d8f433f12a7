/*-------------------------------------------------------------------------
 *
 * index_build.c
 *	  CREATE INDEX and CREATE INDEX CONCURRENTLY on aura tables.
 *
 * An index gets one entry per rowid: all versions of a rowid agree on the
 * columns of every index that existed when they were written (an update
 * changing an indexed column takes a new rowid).  A new index may see a
 * rowid whose surviving versions differ in its columns -- heap's broken
 * HOT chain.  As heap does, we index the newest surviving version and set
 * ii_BrokenHotChain, so transactions older than the index do not use it.
 * We set it whenever a rowid has more than one surviving version, which is
 * conservative.
 *
 * BRIN summarises ranges of physical blocks; aura's TIDs are logical, so
 * BRIN indexes are refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "tableam/aura_tableam.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"



static void
refuse_brin(Relation table_rel, Relation index_rel)
{
	if (index_rel->rd_rel->relam == BRIN_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("BRIN indexes are not supported on aura table \"%s\"",
						RelationGetRelationName(table_rel)),
				 errdetail("aura tables address rows by logical row ids, not by physical block ranges."),
				 errhint("Use a btree index instead.")));
}

/* Executor state for computing index values of table rows */
typedef struct IndexValuesState
{
	EState	   *estate;
	ExprContext *econtext;
	ExprState  *predicate;
	TupleTableSlot *slot;
} IndexValuesState;

static void
index_values_begin(IndexValuesState *ivs, Relation table_rel,
				   IndexInfo *index_info)
{
	ivs->estate = CreateExecutorState();
	ivs->econtext = GetPerTupleExprContext(ivs->estate);
	ivs->slot = table_slot_create(table_rel, NULL);
	ivs->econtext->ecxt_scantuple = ivs->slot;
	ivs->predicate = ExecPrepareQual(index_info->ii_Predicate, ivs->estate);
}

static void
index_values_end(IndexValuesState *ivs, IndexInfo *index_info)
{
	ExecDropSingleTupleTableSlot(ivs->slot);
	FreeExecutorState(ivs->estate);
	index_info->ii_ExpressionsState = NIL;
	index_info->ii_PredicateState = NULL;
}

/*
 * Compute the index values of a version (pinned in buf); false if the
 * index's predicate excludes it.
 */
static bool
index_values_form(IndexValuesState *ivs, Relation table_rel,
				  IndexInfo *index_info, HeapTuple tuple, Buffer buf,
				  Datum *values, bool *isnull)
{
	MemoryContextReset(ivs->econtext->ecxt_per_tuple_memory);
	aura_store_tuple(table_rel, tuple, buf, ivs->slot);
	if (ivs->predicate != NULL && !ExecQual(ivs->predicate, ivs->econtext))
		return false;
	FormIndexDatum(index_info, ivs->slot, ivs->estate, values, isnull);
	return true;
}

/* Hand one version to the index AM's build callback */
static void
build_one(IndexValuesState *ivs, Relation table_rel, Relation index_rel,
		  IndexInfo *index_info, HeapTuple tuple, Buffer buf, bool alive,
		  IndexBuildCallback callback, void *callback_state)
{
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	ItemPointerData tid = tuple->t_self;

	if (index_values_form(ivs, table_rel, index_info, tuple, buf, values,
						  isnull))
		callback(index_rel, &tid, values, isnull, alive, callback_state);
}

double
aura_index_build_range_scan(Relation table_rel, Relation index_rel,
							IndexInfo *index_info, bool allow_sync,
							bool anyvisible, bool progress,
							BlockNumber start_blockno, BlockNumber numblocks,
							IndexBuildCallback callback, void *callback_state,
							TableScanDesc scan)
{
	IndexValuesState ivs;
	Snapshot	snapshot;
	bool		need_unregister = false;
	TransactionId OldestXmin = InvalidTransactionId;
	Buffer		keep = InvalidBuffer;
	double		reltuples = 0;
	uint64		rowid;

	refuse_brin(table_rel, index_rel);
	index_values_begin(&ivs, table_rel, index_info);

	if (scan == NULL)
	{
		if (IsBootstrapProcessingMode() || index_info->ii_Concurrent)
		{
			snapshot = RegisterSnapshot(GetTransactionSnapshot());
			need_unregister = true;
		}
		else
			snapshot = SnapshotAny;
		scan = table_beginscan_strat(table_rel, snapshot, 0, NULL, true,
									 allow_sync);
	}
	else
		snapshot = scan->rs_snapshot;

	if (!IsMVCCSnapshot(snapshot))
		OldestXmin = GetOldestNonRemovableTransactionId(table_rel);

	while (aura_scan_next_rowid(scan, &rowid))
	{
		HeapTupleData tuple;

		CHECK_FOR_INTERRUPTS();
		if (IsMVCCSnapshot(snapshot))
		{
			if (chain_find_visible(table_rel, rowid, NULL, snapshot, &keep,
								   &tuple, NULL))
			{
				reltuples += 1;
				build_one(&ivs, table_rel, index_rel, index_info, &tuple, keep,
						  true, callback, callback_state);
			}
		}
		else
		{
			AuraChainCursor cur;
			bool		found = false;
			bool		alive = false;
			int			survivors = 0;

			if (!chain_first(&cur, table_rel, rowid, BUFFER_LOCK_SHARE, NULL))
				continue;
			do
			{
				bool		index_it = false;
				bool		is_alive = false;

				switch (HeapTupleSatisfiesVacuum(&cur.tuple, OldestXmin,
												 cur.buf))
				{
					case HEAPTUPLE_DEAD:
						break;
					case HEAPTUPLE_LIVE:
					case HEAPTUPLE_INSERT_IN_PROGRESS:
						index_it = true;
						is_alive = true;
						break;
					case HEAPTUPLE_RECENTLY_DEAD:
					case HEAPTUPLE_DELETE_IN_PROGRESS:
						index_it = true;
						is_alive = anyvisible;
						break;
				}
				if (!index_it)
					continue;
				survivors++;
				if (!found)
				{
					found = true;
					alive = is_alive;
					tuple = cur.tuple;
					/* keep the page pinned for the callback below */
					IncrBufferRefCount(cur.buf);
					if (BufferIsValid(keep))
						ReleaseBuffer(keep);
					keep = cur.buf;
				}
			} while (chain_next(&cur));
			chain_end(&cur, NULL);

			if (survivors > 1)
				index_info->ii_BrokenHotChain = true;
			if (found)
			{
				if (alive)
					reltuples += 1;
				build_one(&ivs, table_rel, index_rel, index_info, &tuple, keep,
						  alive, callback, callback_state);
			}
		}
	}

	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
	/* like heap, end the scan even when the caller began it */
	table_endscan(scan);
	if (need_unregister)
		UnregisterSnapshot(snapshot);
	index_values_end(&ivs, index_info);
	return reltuples;
}

/*
 * Phase 3 of CREATE INDEX CONCURRENTLY: insert the rows visible to
 * snapshot that the index lacks.  state->tuplesort holds the TIDs already
 * in the index, sorted; rowid order is TID order, so one merge pass does.
 */
void
aura_index_validate_scan(Relation table_rel, Relation index_rel,
						 IndexInfo *index_info, Snapshot snapshot,
						 ValidateIndexState *state)
{
	IndexValuesState ivs;
	TableScanDesc scan;
	Buffer		keep = InvalidBuffer;
	ItemPointerData indexcursor;
	bool		tuplesort_empty = false;
	uint64		rowid;

	refuse_brin(table_rel, index_rel);
	index_values_begin(&ivs, table_rel, index_info);
	ItemPointerSetInvalid(&indexcursor);

	scan = table_beginscan_strat(table_rel, snapshot, 0, NULL, true, false);
	while (aura_scan_next_rowid(scan, &rowid))
	{
		HeapTupleData tuple;
		ItemPointerData tid;
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		CHECK_FOR_INTERRUPTS();
		if (!chain_find_visible(table_rel, rowid, NULL, snapshot, &keep,
								&tuple, NULL))
			continue;
		state->htups += 1;
		aura_rowid_to_tid(rowid, &tid);

		while (!tuplesort_empty &&
			   (!ItemPointerIsValid(&indexcursor) ||
				ItemPointerCompare(&indexcursor, &tid) < 0))
		{
			Datum		ts_val;
			bool		ts_isnull;

			tuplesort_empty = !tuplesort_getdatum(state->tuplesort, true,
												  &ts_val, &ts_isnull, NULL);
			if (!tuplesort_empty)
				itemptr_decode(&indexcursor, DatumGetInt64(ts_val));
		}
		if (!tuplesort_empty && ItemPointerEquals(&indexcursor, &tid))
			continue;

		if (!index_values_form(&ivs, table_rel, index_info, &tuple, keep,
							   values, isnull))
			continue;
		index_insert(index_rel, values, isnull, &tid, table_rel,
					 index_info->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, index_info);
		state->tups_inserted += 1;
	}
	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
	table_endscan(scan);
	index_values_end(&ivs, index_info);
}
