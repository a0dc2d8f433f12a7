/*-------------------------------------------------------------------------
 *
 * scan.c
 *	  Reading aura tables: sequential, parallel, TID-range, bitmap, sample
 *	  and ANALYZE scans; index fetches and single-row fetches.
 *
 * Every scan goes by rowid through the row map, so a row is returned at
 * most once however its versions are spread over pages, and rowid ranges
 * give parallel scans (one map page per chunk), TID ranges, bitmap pages
 * (logical block b = rowids [b * 291, (b + 1) * 291)) and sampling.
 * Sequential scans with an MVCC snapshot copy a whole map page at a time
 * (see chain_start_at for why a stale copy is harmless).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heapam_xlog.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/tsmapi.h"
#include "access/xact.h"
#include "commands/vacuum.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "nodes/tidbitmap.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/meta.h"
#include "storage/predicate.h"
#include "storage/procarray.h"
#include "storage/rowmap.h"
#include "tableam/aura_tableam.h"
#include "utils/snapmgr.h"

typedef struct AuraParallelScanDescData
{
	ParallelTableScanDescData base;
	uint64		nrowids;		/* rowids [0, nrowids) are scanned */
	pg_atomic_uint64 next_mapno;	/* next map page to hand out */
} AuraParallelScanDescData;

typedef AuraParallelScanDescData *AuraParallelScanDesc;

typedef struct AuraScanDescData
{
	TableScanDescData base;
	uint64		nrowids;		/* rowids that existed at scan start */
	uint64		start_rowid;	/* current range [start, end) */
	uint64		end_rowid;
	int64		cur_rowid;		/* last rowid examined */
	bool		started;
	bool		tidrange;		/* range set by scan_set_tidrange */

	/* copy of the map page covering cur_rowid (MVCC scans) */
	AuraMapEntry *entries;
	uint64		entries_mapno;
	bool		entries_valid;

	Buffer		buf;			/* pin on the last page looked at */

	/* bitmap scans */
	BlockNumber bm_block;
	int			bm_index;

	/* sample scans */
	BlockNumber sample_block;

	/* ANALYZE */
	BlockNumber an_nblocks;
	uint64		an_next;
	uint64		an_end;
	double		an_rate;		/* share of the rows handed to the sample */
	uint32		an_seed;		/* of the choice of cold rows */
} AuraScanDescData;

typedef AuraScanDescData *AuraScanDesc;

#define AURA_NO_MAPNO	PG_UINT64_MAX

static void
scan_reset(AuraScanDesc scan)
{
	ParallelTableScanDesc pscan = scan->base.rs_parallel;

	if (pscan)
		scan->nrowids = ((AuraParallelScanDesc) pscan)->nrowids;
	else
		scan->nrowids = aura_meta_next_rowid(scan->base.rs_rd);
	scan->start_rowid = 0;
	scan->end_rowid = pscan ? 0 : scan->nrowids;
	scan->cur_rowid = -1;
	scan->started = false;
	scan->tidrange = false;
	scan->entries_mapno = AURA_NO_MAPNO;
	scan->entries_valid = false;
	scan->sample_block = InvalidBlockNumber;
	scan->an_nblocks = InvalidBlockNumber;
}

TableScanDesc
aura_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
				struct ScanKeyData *key, ParallelTableScanDesc pscan,
				uint32 flags)
{
	AuraScanDesc scan = palloc0(sizeof(AuraScanDescData));

	scan->base.rs_rd = rel;
	scan->base.rs_snapshot = snapshot;
	scan->base.rs_nkeys = nkeys;
	scan->base.rs_key = key;
	scan->base.rs_flags = flags;
	scan->base.rs_parallel = pscan;
	scan->entries = palloc(AURA_MAP_ENTRIES_PER_PAGE * sizeof(AuraMapEntry));
	scan->buf = InvalidBuffer;
	RelationIncrementReferenceCount(rel);
	scan_reset(scan);

	if (flags & (SO_TYPE_SEQSCAN | SO_TYPE_SAMPLESCAN))
		PredicateLockRelation(rel, snapshot);
	if (flags & SO_TYPE_SEQSCAN)
		pgstat_count_heap_scan(rel);
	return (TableScanDesc) scan;
}

void
aura_scan_end(TableScanDesc sscan)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;

	if (BufferIsValid(scan->buf))
		ReleaseBuffer(scan->buf);
	RelationDecrementReferenceCount(sscan->rs_rd);
	if (sscan->rs_flags & SO_TEMP_SNAPSHOT)
		UnregisterSnapshot(sscan->rs_snapshot);
	pfree(scan->entries);
	pfree(scan);
}

void
aura_scan_rescan(TableScanDesc sscan, struct ScanKeyData *key,
				 bool set_params, bool allow_strat, bool allow_sync,
				 bool allow_pagemode)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	bool		tidrange = scan->tidrange;
	uint64		start = scan->start_rowid;
	uint64		end = scan->end_rowid;

	if (set_params)
	{
		if (allow_strat)
			sscan->rs_flags |= SO_ALLOW_STRAT;
		else
			sscan->rs_flags &= ~SO_ALLOW_STRAT;
		if (allow_sync)
			sscan->rs_flags |= SO_ALLOW_SYNC;
		else
			sscan->rs_flags &= ~SO_ALLOW_SYNC;
		if (allow_pagemode)
			sscan->rs_flags |= SO_ALLOW_PAGEMODE;
		else
			sscan->rs_flags &= ~SO_ALLOW_PAGEMODE;
	}
	if (key && sscan->rs_nkeys > 0)
		memcpy(sscan->rs_key, key, sscan->rs_nkeys * sizeof(ScanKeyData));
	scan_reset(scan);
	if (tidrange)
	{
		scan->tidrange = true;
		scan->start_rowid = start;
		scan->end_rowid = Min(end, scan->nrowids);
	}
}

/* Claim the next map page of a parallel scan; false when none is left */
static bool
scan_claim_chunk(AuraScanDesc scan)
{
	AuraParallelScanDesc pscan = (AuraParallelScanDesc) scan->base.rs_parallel;
	uint64		mapno = pg_atomic_fetch_add_u64(&pscan->next_mapno, 1);
	uint64		start = mapno * AURA_MAP_ENTRIES_PER_PAGE;

	if (start >= scan->nrowids)
		return false;
	scan->start_rowid = start;
	scan->end_rowid = Min(start + AURA_MAP_ENTRIES_PER_PAGE, scan->nrowids);
	scan->cur_rowid = (int64) start;
	return true;
}

/* Step cur_rowid in the scan direction; false at the end of the range */
static bool
scan_advance(AuraScanDesc scan, ScanDirection dir)
{
	if (ScanDirectionIsBackward(dir))
	{
		if (!scan->started)
		{
			scan->started = true;
			scan->cur_rowid = (int64) scan->end_rowid - 1;
		}
		else
			scan->cur_rowid--;
		return scan->cur_rowid >= (int64) scan->start_rowid;
	}

	if (!scan->started)
	{
		scan->started = true;
		if (scan->base.rs_parallel)
			return scan_claim_chunk(scan);
		scan->cur_rowid = (int64) scan->start_rowid;
	}
	else
		scan->cur_rowid++;
	if (scan->cur_rowid < (int64) scan->end_rowid)
		return true;
	if (scan->base.rs_parallel)
		return scan_claim_chunk(scan);
	return false;
}

/*
 * Map entry of cur_rowid from the scan's copy of its map page, or NULL if
 * the rowid has none.
 */
static const AuraMapEntry *
scan_entry(AuraScanDesc scan)
{
	uint64		rowid = (uint64) scan->cur_rowid;
	uint64		mapno = RowidGetMapPageNo(rowid);
	const AuraMapEntry *e;

	if (mapno != scan->entries_mapno)
	{
		scan->entries_mapno = mapno;
		scan->entries_valid =
			rowmap_read_page(scan->base.rs_rd, mapno, scan->entries) > 0;
	}
	if (!scan->entries_valid)
		return NULL;
	e = &scan->entries[RowidGetMapSlot(rowid)];
	return AuraMapEntryIsUsed(e) ? e : NULL;
}

/* Return in slot the version of rowid the scan's snapshot sees */
static bool
scan_fetch_rowid(AuraScanDesc scan, uint64 rowid, const AuraMapEntry *entry,
				 TupleTableSlot *slot)
{
	HeapTupleData tuple;

	if (!chain_find_visible(scan->base.rs_rd, rowid, entry,
							scan->base.rs_snapshot, &scan->buf, &tuple, NULL))
		return false;
	aura_store_tuple(scan->base.rs_rd, &tuple, scan->buf, slot);
	return true;
}

bool
aura_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
					  TupleTableSlot *slot)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	bool		mvcc = IsMVCCSnapshot(sscan->rs_snapshot);

	while (scan_advance(scan, direction))
	{
		uint64		rowid = (uint64) scan->cur_rowid;
		const AuraMapEntry *entry = NULL;

		CHECK_FOR_INTERRUPTS();
		if (mvcc)
		{
			entry = scan_entry(scan);
			if (entry == NULL)
				continue;
		}
		if (scan_fetch_rowid(scan, rowid, entry, slot))
		{
			pgstat_count_heap_getnext(sscan->rs_rd);
			return true;
		}
	}
	ExecClearTuple(slot);
	return false;
}

/* Next rowid of a forward scan (index builds walk chains themselves) */
bool
aura_scan_next_rowid(TableScanDesc sscan, uint64 *rowid)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;

	if (!scan_advance(scan, ForwardScanDirection))
		return false;
	*rowid = (uint64) scan->cur_rowid;
	return true;
}

/* TID bounds to a rowid range [start, end) */
void
aura_scan_set_tidrange(TableScanDesc sscan, ItemPointer mintid,
					   ItemPointer maxtid)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	uint64		start;
	uint64		end;
	OffsetNumber off;

	off = ItemPointerGetOffsetNumberNoCheck(mintid);
	start = (uint64) ItemPointerGetBlockNumberNoCheck(mintid) * AURA_TIDS_PER_BLOCK;
	if (off > AURA_TIDS_PER_BLOCK)
		start += AURA_TIDS_PER_BLOCK;
	else if (off > 0)
		start += off - 1;

	off = ItemPointerGetOffsetNumberNoCheck(maxtid);
	end = (uint64) ItemPointerGetBlockNumberNoCheck(maxtid) * AURA_TIDS_PER_BLOCK;
	if (off > AURA_TIDS_PER_BLOCK)
		end += AURA_TIDS_PER_BLOCK;
	else
		end += off;				/* offset 0 excludes the whole block */

	scan_reset(scan);
	scan->tidrange = true;
	scan->start_rowid = start;
	scan->end_rowid = Min(end, scan->nrowids);
	if (scan->start_rowid > scan->end_rowid)
		scan->start_rowid = scan->end_rowid;
}

bool
aura_scan_getnextslot_tidrange(TableScanDesc sscan, ScanDirection direction,
							   TupleTableSlot *slot)
{
	return aura_scan_getnextslot(sscan, direction, slot);
}

Size
aura_parallelscan_estimate(Relation rel)
{
	return sizeof(AuraParallelScanDescData);
}

Size
aura_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	AuraParallelScanDesc apscan = (AuraParallelScanDesc) pscan;

	apscan->base.phs_relid = RelationGetRelid(rel);
	apscan->base.phs_syncscan = false;
	apscan->nrowids = aura_meta_next_rowid(rel);
	pg_atomic_init_u64(&apscan->next_mapno, 0);
	return sizeof(AuraParallelScanDescData);
}

void
aura_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	AuraParallelScanDesc apscan = (AuraParallelScanDesc) pscan;

	pg_atomic_write_u64(&apscan->next_mapno, 0);
}

/* ---------------- index fetches ---------------- */

typedef struct AuraIndexFetchData
{
	IndexFetchTableData base;
	Buffer		buf;
} AuraIndexFetchData;

struct IndexFetchTableData *
aura_index_fetch_begin(Relation rel)
{
	AuraIndexFetchData *scan = palloc0(sizeof(AuraIndexFetchData));

	scan->base.rel = rel;
	scan->buf = InvalidBuffer;
	return &scan->base;
}

void
aura_index_fetch_reset(struct IndexFetchTableData *sscan)
{
	AuraIndexFetchData *scan = (AuraIndexFetchData *) sscan;

	if (BufferIsValid(scan->buf))
	{
		ReleaseBuffer(scan->buf);
		scan->buf = InvalidBuffer;
	}
}

void
aura_index_fetch_end(struct IndexFetchTableData *sscan)
{
	aura_index_fetch_reset(sscan);
	pfree(sscan);
}

/*
 * A rowid has at most one version visible to any snapshot type an index
 * scan uses, so call_again is always false.  all_dead is true when every
 * version of the row is dead to everyone.
 */
bool
aura_index_fetch_tuple(struct IndexFetchTableData *sscan, ItemPointer tid,
					   Snapshot snapshot, TupleTableSlot *slot,
					   bool *call_again, bool *all_dead)
{
	AuraIndexFetchData *scan = (AuraIndexFetchData *) sscan;
	HeapTupleData tuple;
	uint64		rowid;

	*call_again = false;
	if (!aura_tid_to_rowid(tid, &rowid))
	{
		if (all_dead)
			*all_dead = false;
		return false;
	}
	if (!chain_find_visible(sscan->rel, rowid, NULL, snapshot, &scan->buf,
							&tuple, all_dead))
		return false;
	aura_store_tuple(sscan->rel, &tuple, scan->buf, slot);
	return true;
}

/* ---------------- single-row access ---------------- */

/*
 * With SnapshotAny the executor wants "the row as it is now" (e.g. to build
 * the new row of an UPDATE, or for AFTER triggers): the newest version of a
 * committed or our own transaction, which is what heap's TID would name.
 */
bool
aura_tuple_fetch_row_version(Relation rel, ItemPointer tid, Snapshot snapshot,
							 TupleTableSlot *slot)
{
	Buffer		keep = InvalidBuffer;
	HeapTupleData tuple;
	uint64		rowid;
	bool		found;

	if (!aura_tid_to_rowid(tid, &rowid))
		return false;
	if (snapshot->snapshot_type == SNAPSHOT_ANY)
		found = chain_find_latest(rel, rowid, &keep, &tuple) ||
			chain_find_visible(rel, rowid, NULL, snapshot, &keep, &tuple, NULL);
	else
		found = chain_find_visible(rel, rowid, NULL, snapshot, &keep, &tuple,
								   NULL);
	if (found)
		aura_store_tuple(rel, &tuple, keep, slot);
	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
	return found;
}

bool
aura_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	uint64		rowid;

	return aura_tid_to_rowid(tid, &rowid) &&
		rowid < aura_meta_next_rowid(scan->rs_rd);
}

/*
 * Follow updates that moved the row to new rowids; *tid ends at the last
 * one the scan's snapshot sees (unchanged if it sees none).
 */
void
aura_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid)
{
	Relation	rel = sscan->rs_rd;
	Buffer		keep = InvalidBuffer;
	ItemPointerData cur = *tid;
	TransactionId prior_xmax = InvalidTransactionId;
	int			hops;

	for (hops = 0; hops < 1000; hops++)
	{
		HeapTupleData tuple;
		HeapTupleHeader t;
		uint64		rowid;

		if (!aura_tid_to_rowid(&cur, &rowid))
			break;
		if (TransactionIdIsValid(prior_xmax) &&
			!chain_has_xmin(rel, rowid, prior_xmax))
			break;				/* the rowid was recycled: the chain ends */
		if (chain_find_visible(rel, rowid, NULL, sscan->rs_snapshot, &keep,
							   &tuple, NULL))
			*tid = cur;
		else if (!chain_find_latest(rel, rowid, &keep, &tuple))
			break;
		/* like heap, follow the link also through invisible versions */
		t = tuple.t_data;
		if ((t->t_infomask & HEAP_XMAX_INVALID) ||
			HEAP_XMAX_IS_LOCKED_ONLY(t->t_infomask) ||
			ItemPointerIndicatesMovedPartitions(&t->t_ctid) ||
			ItemPointerEquals(&t->t_ctid, &cur))
			break;
		prior_xmax = HeapTupleHeaderGetUpdateXid(t);
		cur = t->t_ctid;
	}
	if (BufferIsValid(keep))
		ReleaseBuffer(keep);
}

bool
aura_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
							  Snapshot snapshot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTupleHeader want;
	AuraChainCursor cur;
	uint64		rowid;
	bool		res = false;

	if (BufferIsValid(bslot->buffer))
	{
		LockBuffer(bslot->buffer, BUFFER_LOCK_SHARE);
		res = HeapTupleSatisfiesVisibility(bslot->base.tuple, snapshot,
										   bslot->buffer);
		LockBuffer(bslot->buffer, BUFFER_LOCK_UNLOCK);
		return res;
	}

	/* a copied row (it has blobs): find its version by xmin and cid */
	if (bslot->base.tuple == NULL ||
		!aura_tid_to_rowid(&slot->tts_tid, &rowid) ||
		!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, NULL))
		return false;
	want = bslot->base.tuple->t_data;
	do
	{
		HeapTupleHeader t = cur.tuple.t_data;

		if (HeapTupleHeaderGetRawXmin(t) == HeapTupleHeaderGetRawXmin(want) &&
			HeapTupleHeaderGetRawCommandId(t) == HeapTupleHeaderGetRawCommandId(want))
		{
			res = HeapTupleSatisfiesVisibility(&cur.tuple, snapshot, cur.buf);
			break;
		}
	} while (chain_next(&cur));
	chain_end(&cur, NULL);
	return res;
}

/*
 * Which index entries can go?  An entry is deletable when no version of
 * its row is visible to anyone (SnapshotNonVacuumable).  Returns the
 * newest xid removed, for recovery conflicts on standbys.
 */
TransactionId
aura_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	TransactionId latestRemovedXid = InvalidTransactionId;
	SnapshotData SnapshotNonVacuumable;
	int			i;

	InitNonVacuumableSnapshot(SnapshotNonVacuumable, GlobalVisTestFor(rel));

	for (i = 0; i < delstate->ndeltids; i++)
	{
		TM_IndexDelete *ideltid = &delstate->deltids[i];
		TM_IndexStatus *istatus = &delstate->status[ideltid->id];
		AuraChainCursor cur;
		uint64		rowid;
		bool		live = false;

		if (!aura_tid_to_rowid(&ideltid->tid, &rowid))
			continue;
		if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, NULL))
		{
			istatus->knowndeletable = true;
			continue;
		}
		if (!istatus->knowndeletable)
		{
			do
			{
				if (HeapTupleSatisfiesVisibility(&cur.tuple,
												 &SnapshotNonVacuumable,
												 cur.buf))
				{
					live = true;
					break;
				}
			} while (chain_next(&cur));
			chain_end(&cur, NULL);
			if (live)
				continue;
			istatus->knowndeletable = true;
			if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, NULL))
				continue;
		}
		do
		{
			HeapTupleHeaderAdvanceLatestRemovedXid(cur.tuple.t_data,
												   &latestRemovedXid);
		} while (chain_next(&cur));
		chain_end(&cur, NULL);
	}
	return latestRemovedXid;
}

/* ---------------- bitmap scans ---------------- */

bool
aura_scan_bitmap_next_block(TableScanDesc sscan, struct TBMIterateResult *tbmres)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;

	scan->bm_block = tbmres->blockno;
	scan->bm_index = 0;
	return (uint64) tbmres->blockno * AURA_TIDS_PER_BLOCK < scan->nrowids;
}

bool
aura_scan_bitmap_next_tuple(TableScanDesc sscan,
							struct TBMIterateResult *tbmres,
							TupleTableSlot *slot)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	uint64		base = (uint64) scan->bm_block * AURA_TIDS_PER_BLOCK;

	for (;;)
	{
		OffsetNumber off;
		uint64		rowid;

		if (tbmres->ntuples >= 0)
		{
			if (scan->bm_index >= tbmres->ntuples)
				return false;
			off = tbmres->offsets[scan->bm_index++];
		}
		else
		{
			if (scan->bm_index >= AURA_TIDS_PER_BLOCK)
				return false;
			off = ++scan->bm_index;
		}
		if (off < 1 || off > AURA_TIDS_PER_BLOCK)
			continue;
		rowid = base + off - 1;
		if (rowid >= scan->nrowids)
		{
			if (tbmres->ntuples < 0)
				return false;
			continue;
		}
		if (scan_fetch_rowid(scan, rowid, NULL, slot))
		{
			pgstat_count_heap_fetch(sscan->rs_rd);
			return true;
		}
	}
}

/* ---------------- TABLESAMPLE ---------------- */

/* Sampling works on logical blocks of AURA_TIDS_PER_BLOCK rowids */
bool
aura_scan_sample_next_block(TableScanDesc sscan,
							struct SampleScanState *scanstate)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber nblocks = (BlockNumber)
	((scan->nrowids + AURA_TIDS_PER_BLOCK - 1) / AURA_TIDS_PER_BLOCK);
	BlockNumber blockno;

	if (tsm->NextSampleBlock)
		blockno = tsm->NextSampleBlock(scanstate, nblocks);
	else if (scan->sample_block == InvalidBlockNumber)
		blockno = nblocks > 0 ? 0 : InvalidBlockNumber;
	else if (scan->sample_block + 1 < nblocks)
		blockno = scan->sample_block + 1;
	else
		blockno = InvalidBlockNumber;

	scan->sample_block = blockno;
	return BlockNumberIsValid(blockno);
}

bool
aura_scan_sample_next_tuple(TableScanDesc sscan,
							struct SampleScanState *scanstate,
							TupleTableSlot *slot)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	uint64		base = (uint64) scan->sample_block * AURA_TIDS_PER_BLOCK;

	for (;;)
	{
		OffsetNumber off;
		uint64		rowid;

		CHECK_FOR_INTERRUPTS();
		off = tsm->NextSampleTuple(scanstate, scan->sample_block,
								   AURA_TIDS_PER_BLOCK);
		if (!OffsetNumberIsValid(off))
		{
			ExecClearTuple(slot);
			return false;
		}
		rowid = base + off - 1;
		if (rowid < scan->nrowids && scan_fetch_rowid(scan, rowid, NULL, slot))
		{
			pgstat_count_heap_getnext(sscan->rs_rd);
			return true;
		}
	}
}

/* ---------------- ANALYZE ---------------- */

/*
 * ANALYZE samples physical blocks [0, RelationGetNumberOfBlocks) and
 * scales what it finds by that number.  Physical block b is mapped to an
 * equal share of the rowid space, so the scaled counts estimate rows, not
 * versions or pages.
 *
 * ANALYZE reads every row of the sampled shares, and on a table of more
 * than a few targrows rows its reservoir keeps only targrows of them.
 * Counting a row is cheap (a cold row's map entry says it is live), but
 * handing it over means decompressing its block and copying the row.  So
 * aura hands over a random share of the rows (an_rate), large enough that
 * the reservoir still chooses among about AURA_ANALYZE_OVERSAMPLE times
 * the rows it keeps: cold rows in runs of neighbouring items (so that most
 * compressed blocks are not decompressed at all; heap's ANALYZE takes whole
 * pages too), hot rows one by one, each row with the same probability, so
 * the sample stays uniform.  Every row is still counted: the row and dead
 * row estimates do not change.  A shorter ANALYZE also holds its snapshot
 * -- and with it VACUUM's horizon and the reuse of free pages -- for less
 * time.
 */
#define AURA_ANALYZE_OVERSAMPLE		4
#define AURA_ANALYZE_ROWS_PER_TARGET 300	/* std_typanalyze's minrows */

/*
 * The share of the rows to hand to ANALYZE: its target rows come from the
 * largest statistics target of the table's columns (or the default, which
 * also stands for index expressions), and it samples min(targrows,
 * nblocks) blocks.
 */
static double
analyze_sample_rate(Relation rel, uint64 nrowids, BlockNumber nblocks)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			target = default_statistics_target;
	double		targrows;
	double		visited;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && att->attstattarget > target)
			target = att->attstattarget;
	}
	targrows = (double) AURA_ANALYZE_ROWS_PER_TARGET * target;
	visited = (double) nrowids * Min(1.0, targrows / nblocks);
	if (visited <= AURA_ANALYZE_OVERSAMPLE * targrows)
		return 1.0;
	return AURA_ANALYZE_OVERSAMPLE * targrows / visited;
}

/*
 * Is the cold row of entry handed to the sample?  Cold rows are chosen in
 * runs of AURA_ANALYZE_COLD_RUN items of one cold page, by a hash of (page,
 * run) and the scan's seed: no page is read to decide, and a compressed
 * block (about as many rows) is decompressed only if one of the at most
 * two runs it overlaps is chosen.
 */
#define AURA_ANALYZE_COLD_RUN	64

static bool
analyze_cold_row_chosen(AuraScanDesc scan, const AuraMapEntry *entry)
{
	uint32		h = hash_combine(scan->an_seed, murmurhash32(entry->block));

	h = murmurhash32(hash_combine(h, (uint32) entry->offset / AURA_ANALYZE_COLD_RUN));
	return h < scan->an_rate * 4294967296.0;
}

bool
aura_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
							 BufferAccessStrategy bstrategy)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;

	if (scan->an_nblocks == InvalidBlockNumber)
	{
		scan->an_nblocks = Max(RelationGetNumberOfBlocks(sscan->rs_rd), 1);
		scan->an_rate = analyze_sample_rate(sscan->rs_rd, scan->nrowids,
											scan->an_nblocks);
		scan->an_seed = pg_prng_uint32(&pg_global_prng_state);
		ereport(DEBUG1,
				(errmsg_internal("ANALYZE of aura table \"%s\" hands over %.1f%% of the rows it counts",
								 RelationGetRelationName(sscan->rs_rd),
								 scan->an_rate * 100)));
	}
	scan->an_next = (uint64) ((double) blockno * scan->nrowids / scan->an_nblocks);
	scan->an_end = (uint64) ((double) (blockno + 1) * scan->nrowids / scan->an_nblocks);
	if (blockno + 1 >= scan->an_nblocks)
		scan->an_end = scan->nrowids;
	return true;
}

bool
aura_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
							 double *liverows, double *deadrows,
							 TupleTableSlot *slot)
{
	AuraScanDesc scan = (AuraScanDesc) sscan;
	Relation	rel = sscan->rs_rd;

	while (scan->an_next < scan->an_end)
	{
		uint64		rowid = scan->an_next++;
		const AuraMapEntry *entry;
		AuraChainCursor cur;
		bool		hand = true;
		bool		counted = false;

		/*
		 * The chain starts at the entry of a copy of its map page (one map
		 * page read per 1019 rows instead of one per row), and the pin of
		 * the page of the last row is kept for the next one.  A copy gone
		 * stale since only misses versions appended after it; a page it
		 * names cannot be reused before this transaction ends, whose
		 * snapshot is older than the copy (pagefree.c).  A version VACUUM
		 * moved since is looked up again.
		 */
		scan->cur_rowid = (int64) rowid;
		entry = scan_entry(scan);
		if (entry == NULL)
			continue;
		if (scan->an_rate < 1.0)
		{
			if (!(entry->flags & AURA_MAP_COLD))
				hand = pg_prng_double(&pg_global_prng_state) < scan->an_rate;
			else if (!analyze_cold_row_chosen(scan, entry))
			{
				/* a cold row is live for everyone: no need to read it */
				*liverows += 1;
				continue;
			}
		}
		chain_start_at(&cur, rel, rowid, entry, BUFFER_LOCK_SHARE, &scan->buf);
		if (cur.vh->flags & AURA_VF_MOVED)
		{
			chain_end(&cur, &scan->buf);
			if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, &scan->buf))
				continue;
		}
		do
		{
			bool		live = false;

			switch (HeapTupleSatisfiesVacuum(&cur.tuple, OldestXmin, cur.buf))
			{
				case HEAPTUPLE_LIVE:
					live = true;
					break;
				case HEAPTUPLE_DEAD:
				case HEAPTUPLE_RECENTLY_DEAD:
					*deadrows += 1;
					break;
				case HEAPTUPLE_INSERT_IN_PROGRESS:
					live = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(cur.tuple.t_data));
					break;
				case HEAPTUPLE_DELETE_IN_PROGRESS:
					if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(cur.tuple.t_data)))
						*deadrows += 1;
					else
						live = true;
					break;
			}
			if (live)
			{
				*liverows += 1;
				counted = true;
				break;
			}
		} while (chain_next(&cur));
		if (counted && hand)
		{
			HeapTupleData tuple = cur.tuple;

			chain_end(&cur, &scan->buf);
			aura_store_tuple(rel, &tuple, scan->buf, slot);
			return true;
		}
		chain_end(&cur, &scan->buf);
	}
	ExecClearTuple(slot);
	return false;
}
