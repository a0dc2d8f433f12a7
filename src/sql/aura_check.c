/*-------------------------------------------------------------------------
 *
 * aura_check.c
 *	  aura_check(regclass): verify every invariant of an aura table (the
 *	  amcheck of aura).
 *
 * Checked, under a ShareLock (no writer runs meanwhile; readers may; on a
 * hot standby, where only replay writes, an AccessShareLock):
 *	- the meta page: magic, format version, the directory pages it names,
 *	  the free-rowid count and hint;
 *	- every map page: reachable through the directory, of kind MAP, with
 *	  the right map page number;
 *	- every rowid's chain: each version on a hot page (never on a free or
 *	  other page), belonging to that rowid, no version reached twice (no
 *	  cycle, no two chains sharing a version), at most one version visible
 *	  to a fresh MVCC snapshot, no version marked as moved, a successor
 *	  rowid of an updated version
 *	  inside the allocated rowid space, the blobs a version references
 *	  starting with a first blob page that names itself;
 *	- every version on a hot page that no chain reaches is not needed by
 *	  any snapshot (dead, or inserted by an aborted transaction): no live
 *	  row is unreachable;
 *	- free map entries are counted by the meta page and none lies before
 *	  its hint;
 *	- every cold page: header and block directory consistent, every block
 *	  decompresses to whole rows, items strictly increasing by rowid, every
 *	  row settled (frozen, no xmax, no blob); every map entry flagged cold
 *	  names an item of a cold page that carries its rowid.
 * Each violation is reported as a WARNING; if there was any, an ERROR with
 * SQLSTATE XX001 (data_corrupted) ends the check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "access/table.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/blob.h"
#include "storage/bufmgr.h"
#include "storage/cold.h"
#include "storage/meta.h"
#include "storage/procarray.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "tableam/aura_tableam.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(aura_check);

#define AURA_CHECK_COLS 5

typedef struct AuraChecker
{
	Relation	rel;
	BlockNumber nblocks;
	uint64		nrowids;
	uint8	   *reached;		/* bit per (block, line pointer) */
	int64		problems;
	int64		versions;
	int64		free_entries;
	Snapshot	snapshot;
	TransactionId oldest_xmin;
	XLogRecPtr	replayed;		/* on a standby: replay position at start */
	int64		cold_rows;
	/* the rowids of the last cold page a map entry led to */
	BlockNumber cold_block;
	int			cold_nitems;	/* -1: that page is damaged */
	uint64	   *cold_rowids;
} AuraChecker;

#define REACHED_BIT(blk, off) \
	((uint64) (blk) * MaxHeapTuplesPerPage + ((off) - 1))

static void
check_problem(AuraChecker *ck, const char *fmt, uint64 a, uint64 b, uint64 c)
{
	char		buf[256];

	ck->problems++;
	snprintf(buf, sizeof(buf), fmt, (unsigned long long) a,
			 (unsigned long long) b, (unsigned long long) c);
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("aura table \"%s\": %s", RelationGetRelationName(ck->rel),
					buf)));
}

/* Read a page and return its kind; *buf is pinned and share-locked */
static uint16
check_read(AuraChecker *ck, BlockNumber blkno, Buffer *buf)
{
	Page		page;

	*buf = ReadBuffer(ck->rel, blkno);
	LockBuffer(*buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(*buf);
	if (PageIsNew(page))
		return 0;
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(AuraPageOpaqueData)) ||
		AuraPageGetOpaque(page)->page_id != AURA_PAGE_ID)
		return 0xFFFF;
	return AuraPageGetOpaque(page)->kind;
}

static void
check_problem_str(AuraChecker *ck, BlockNumber blkno, const char *what)
{
	ck->problems++;
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("aura table \"%s\": cold page %u: %s",
					RelationGetRelationName(ck->rel), blkno, what)));
}

/*
 * A pointer to a cold row (a map entry, or the prev pointer of a version
 * chained to it, `what'): the item exists and carries the rowid.  Returns
 * whether it does (a damaged page is reported once, by the page loop).
 */
static bool
check_cold_item(AuraChecker *ck, uint64 rowid, BlockNumber block,
				OffsetNumber offset, const char *what)
{
	char		msg[200];

	if (block >= ck->nblocks)
	{
		snprintf(msg, sizeof(msg), "rowid %%llu: %s to block %%llu past the end%%s", what);
		check_problem(ck, msg, rowid, block, (uint64) 0);
		return false;
	}
	if (ck->cold_block != block)
	{
		Buffer		buf;
		uint16		kind = check_read(ck, block, &buf);
		char	   *problem = NULL;

		ck->cold_block = block;
		if (kind != AURA_PAGE_COLD)
			ck->cold_nitems = -2;
		else
			ck->cold_nitems = cold_page_rows(ck->rel, buf, ck->cold_rowids,
											 &problem);
		UnlockReleaseBuffer(buf);
	}
	if (ck->cold_nitems == -2)
	{
		snprintf(msg, sizeof(msg), "rowid %%llu: %s to block %%llu, which is not a cold page%%s", what);
		check_problem(ck, msg, rowid, block, (uint64) 0);
		return false;
	}
	if (ck->cold_nitems >= 0 &&
		(offset < 1 || offset > ck->cold_nitems ||
		 ck->cold_rowids[offset - 1] != rowid))
	{
		snprintf(msg, sizeof(msg), "rowid %%llu: %s to (%%llu,%%llu), an item of another rowid or none", what);
		check_problem(ck, msg, rowid, block, offset);
		return false;
	}
	ck->versions++;
	return ck->cold_nitems >= 0;
}

/* A map entry naming a cold row */
static void
check_cold_entry(AuraChecker *ck, uint64 rowid, const AuraMapEntry *entry)
{
	(void) check_cold_item(ck, rowid, entry->block, entry->offset,
						   "cold row pointer");
	ck->cold_rows++;
}

/*
 * A version chained to a cold row (AURA_VF_PREV_COLD): the row exists, and
 * is it visible to our snapshot with its implicit xmax?
 */
static bool
check_cold_predecessor(AuraChecker *ck, uint64 rowid, HeapTupleHeader successor,
					   BlockNumber block, OffsetNumber offset)
{
	Buffer		buf;
	AuraColdRow row;
	HeapTupleData tuple;
	bool		visible;

	if (!check_cold_item(ck, rowid, block, offset, "pointer to the cold row it updated"))
		return false;
	buf = ReadBuffer(ck->rel, block);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	cold_read_row(ck->rel, buf, offset, &row);
	tuple.t_len = row.t_len;
	tuple.t_data = palloc(row.t_len);
	memcpy(tuple.t_data, row.t_data, row.t_len);
	aura_rowid_to_tid(rowid, &tuple.t_self);
	tuple.t_tableOid = RelationGetRelid(ck->rel);
	chain_cold_implicit_xmax(tuple.t_data, tuple.t_len, successor,
							 &tuple.t_self);
	visible = HeapTupleSatisfiesVisibility(&tuple, ck->snapshot, buf);
	UnlockReleaseBuffer(buf);
	pfree(tuple.t_data);
	return visible;
}

/* Check the blobs a version references */
static void
check_blobs(AuraChecker *ck, uint64 rowid, HeapTuple tuple)
{
	BlockNumber *firsts = palloc(RelationGetDescr(ck->rel)->natts * sizeof(BlockNumber));
	int			n = blob_references(ck->rel, tuple, firsts);
	int			i;

	for (i = 0; i < n; i++)
	{
		BlockNumber first = firsts[i];
		Buffer		buf;
		uint16		kind;

		if (first == AURA_META_BLOCK || first >= ck->nblocks)
		{
			check_problem(ck, "rowid %llu references a blob at block %llu, outside the table%s",
						  rowid, first, (uint64) 0);
			continue;
		}
		kind = check_read(ck, first, &buf);
		if (kind != AURA_PAGE_BLOB ||
			AuraPageGetOpaque(BufferGetPage(buf))->aux != first ||
			AuraPageGetOpaque(BufferGetPage(buf))->aux2 != 0)
			check_problem(ck, "rowid %llu references a blob at block %llu, which is not a blob's first page (kind %llu)",
						  rowid, first, kind);
		UnlockReleaseBuffer(buf);
	}
	pfree(firsts);
}

/* Walk and check the chain of one rowid */
static void
check_chain(AuraChecker *ck, uint64 rowid, const AuraMapEntry *entry)
{
	BlockNumber block = entry->block;
	OffsetNumber offset = entry->offset;
	int			visible = 0;
	int64		depth = 0;

	if (entry->flags & AURA_MAP_COLD)
	{
		check_cold_entry(ck, rowid, entry);
		return;
	}
	while (block != InvalidBlockNumber)
	{
		Buffer		buf;
		Page		page;
		uint16		kind;
		ItemId		lp;
		AuraVersionHeader *vh;
		HeapTupleData tuple;
		uint64		bit;

		if (block >= ck->nblocks)
		{
			check_problem(ck, "rowid %llu: version pointer to block %llu past the end (depth %llu)",
						  rowid, block, depth);
			return;
		}
		kind = check_read(ck, block, &buf);
		page = BufferGetPage(buf);
		if (kind != AURA_PAGE_HOT)
		{
			check_problem(ck, "rowid %llu: version pointer to block %llu, a page of kind %llu, not a hot page",
						  rowid, block, kind);
			UnlockReleaseBuffer(buf);
			return;
		}
		if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page) ||
			!ItemIdIsNormal(lp = PageGetItemId(page, offset)) ||
			ItemIdGetLength(lp) < AURA_VERSION_HDRSZ + SizeofHeapTupleHeader)
		{
			check_problem(ck, "rowid %llu: version pointer to (%llu,%llu), which holds no version",
						  rowid, block, offset);
			UnlockReleaseBuffer(buf);
			return;
		}
		bit = REACHED_BIT(block, offset);
		if (ck->reached[bit / 8] & (1 << (bit % 8)))
		{
			check_problem(ck, "rowid %llu: version (%llu,%llu) is reached twice (a cycle or a shared version)",
						  rowid, block, offset);
			UnlockReleaseBuffer(buf);
			return;
		}
		ck->reached[bit / 8] |= 1 << (bit % 8);
		ck->versions++;
		depth++;

		vh = (AuraVersionHeader *) PageGetItem(page, lp);
		/* (on a standby, replay may move it between our reads) */
		if ((vh->flags & AURA_VF_MOVED) && XLogRecPtrIsInvalid(ck->replayed))
			check_problem(ck, "rowid %llu: its chain reaches the moved-away copy at (%llu,%llu)",
						  rowid, block, offset);
		if (vh->rowid != rowid)
			check_problem(ck, "version at block %llu belongs to rowid %llu, but is in the chain of rowid %llu",
						  block, vh->rowid, rowid);
		tuple.t_data = AuraVersionGetTuple(vh);
		tuple.t_len = ItemIdGetLength(lp) - AURA_VERSION_HDRSZ;
		aura_rowid_to_tid(rowid, &tuple.t_self);
		tuple.t_tableOid = RelationGetRelid(ck->rel);

		if (HeapTupleSatisfiesVisibility(&tuple, ck->snapshot, buf))
			visible++;
		if (vh->flags & AURA_VF_UPDATED)
		{
			uint64		next = 0;

			if (!aura_tid_to_rowid(&tuple.t_data->t_ctid, &next) ||
				next >= ck->nrowids)
				check_problem(ck, "rowid %llu: updated version at block %llu names successor rowid %llu, outside the rowid space",
							  rowid, block, next);
		}
		if (HeapTupleHasExternal(&tuple))
			check_blobs(ck, rowid, &tuple);

		block = vh->prev_block;
		offset = vh->prev_offset;
		if ((vh->flags & AURA_VF_PREV_COLD) && block != InvalidBlockNumber)
		{
			HeapTupleHeaderData successor;

			memcpy(&successor, tuple.t_data, SizeofHeapTupleHeader);
			UnlockReleaseBuffer(buf);
			if (check_cold_predecessor(ck, rowid, &successor, block, offset))
				visible++;
			break;
		}
		UnlockReleaseBuffer(buf);
	}
	if (visible > 1)
		check_problem(ck, "rowid %llu has %llu versions visible to one snapshot%s",
					  rowid, (uint64) visible, (uint64) 0);
}

/* Versions no chain reaches must be ones nobody needs */
static void
check_unreached(AuraChecker *ck, BlockNumber blkno, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber off;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	TransactionId relfrozenxid = ck->rel->rd_rel->relfrozenxid;

	/* on a standby, a page replayed since we began is not comparable */
	if (!XLogRecPtrIsInvalid(ck->replayed) && PageGetLSN(page) > ck->replayed)
		return;

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		uint64		bit = REACHED_BIT(blkno, off);
		HeapTupleData tuple;
		AuraVersionHeader *vh;
		TransactionId xmin;

		if (!ItemIdIsNormal(lp) || (ck->reached[bit / 8] & (1 << (bit % 8))))
			continue;
		vh = (AuraVersionHeader *) PageGetItem(page, lp);
		if (vh->flags & AURA_VF_MOVED)
			continue;			/* VACUUM linked a copy of it elsewhere */
		tuple.t_data = AuraVersionGetTuple(vh);
		tuple.t_len = ItemIdGetLength(lp) - AURA_VERSION_HDRSZ;
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = RelationGetRelid(ck->rel);

		/*
		 * Unlinked versions keep their old xids; those older than
		 * relfrozenxid may no longer be in the commit log and were dead
		 * when unlinked.
		 */
		xmin = HeapTupleHeaderGetRawXmin(tuple.t_data);
		if (HeapTupleHeaderXminInvalid(tuple.t_data) ||
			!TransactionIdIsNormal(xmin) ||
			TransactionIdPrecedes(xmin, relfrozenxid))
			continue;
		switch (HeapTupleSatisfiesVacuum(&tuple, ck->oldest_xmin, buf))
		{
			case HEAPTUPLE_DEAD:
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				/* unlinked versions were dead before VACUUM's horizon */
				if (!HeapTupleHeaderXminCommitted(tuple.t_data))
					break;
				/* FALLTHROUGH */
			default:
				if (HeapTupleSatisfiesVisibility(&tuple, ck->snapshot, buf))
					check_problem(ck, "version (%llu,%llu) of rowid %llu is visible but no chain reaches it",
								  blkno, off, vh->rowid);
				break;
		}
	}
}

Datum
aura_check(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	AuraChecker ck;
	TupleDesc	tupdesc;
	Datum		values[AURA_CHECK_COLS];
	bool		nulls[AURA_CHECK_COLS] = {false};
	Buffer		metabuf;
	AuraMetaData meta;
	uint64		mapno;
	uint64		nmap;
	BlockNumber blkno;
	int64		pages_checked = 0;
	LOCKMODE	lockmode;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&ck, 0, sizeof(ck));
	ck.replayed = InvalidXLogRecPtr;
	/* a standby allows no ShareLock; replay is the only writer there */
	lockmode = RecoveryInProgress() ? AccessShareLock : ShareLock;
	ck.replayed = RecoveryInProgress() ? GetXLogReplayRecPtr(NULL) :
		InvalidXLogRecPtr;
	ck.rel = relation_open(relid, lockmode);
	aura_require_aura_table(ck.rel);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE,
					   RelationGetRelationName(ck.rel));
	ck.snapshot = GetTransactionSnapshot();
	ck.oldest_xmin = GetOldestNonRemovableTransactionId(ck.rel);
	ck.nblocks = RelationGetNumberOfBlocks(ck.rel);

	metabuf = aura_meta_read(ck.rel, BUFFER_LOCK_SHARE);
	if (!BufferIsValid(metabuf))
	{
		relation_close(ck.rel, lockmode);
		memset(values, 0, sizeof(values));
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	memcpy(&meta, AuraPageGetMeta(BufferGetPage(metabuf)), sizeof(meta));
	UnlockReleaseBuffer(metabuf);
	ck.nrowids = meta.next_rowid;
	if (meta.ndirs > AURA_META_MAX_DIRS)
		check_problem(&ck, "meta page names %llu directory pages, more than %llu%s",
					  meta.ndirs, AURA_META_MAX_DIRS, (uint64) 0);

	ck.cold_block = InvalidBlockNumber;
	ck.cold_rowids = palloc(AURA_COLD_MAX_ITEMS * sizeof(uint64));
	ck.reached = palloc_extended((Size) ck.nblocks * MaxHeapTuplesPerPage / 8 + 1,
								 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	/* the map: directory pages, map pages, then every rowid's chain */
	nmap = (ck.nrowids + AURA_MAP_ENTRIES_PER_PAGE - 1) / AURA_MAP_ENTRIES_PER_PAGE;
	for (mapno = 0; mapno < nmap; mapno++)
	{
		uint64		dirno = mapno / AURA_DIR_ENTRIES_PER_PAGE;
		Buffer		buf;
		uint16		kind;
		BlockNumber mapblk;
		AuraMapEntry entries[AURA_MAP_ENTRIES_PER_PAGE];
		uint32		slot;

		CHECK_FOR_INTERRUPTS();
		if (dirno >= Min(meta.ndirs, AURA_META_MAX_DIRS))
			break;				/* rowids allocated, map page never created */
		if (meta.dirs[dirno] == AURA_META_BLOCK || meta.dirs[dirno] >= ck.nblocks)
		{
			check_problem(&ck, "directory page %llu is at block %llu, outside the table%s",
						  dirno, meta.dirs[dirno], (uint64) 0);
			break;
		}
		kind = check_read(&ck, meta.dirs[dirno], &buf);
		if (kind != AURA_PAGE_MAPDIR ||
			AuraPageGetOpaque(BufferGetPage(buf))->aux != dirno)
		{
			check_problem(&ck, "block %llu should be directory page %llu but is of kind %llu",
						  meta.dirs[dirno], dirno, kind);
			UnlockReleaseBuffer(buf);
			break;
		}
		mapblk = ((BlockNumber *) AuraPageGetContents(BufferGetPage(buf)))[mapno % AURA_DIR_ENTRIES_PER_PAGE];
		UnlockReleaseBuffer(buf);
		if (mapblk == 0 || mapblk == InvalidBlockNumber)
			continue;			/* no rowid of this map page was ever used */
		if (mapblk >= ck.nblocks)
		{
			check_problem(&ck, "map page %llu is at block %llu, outside the table%s",
						  mapno, mapblk, (uint64) 0);
			continue;
		}
		kind = check_read(&ck, mapblk, &buf);
		pages_checked++;
		if (kind != AURA_PAGE_MAP ||
			AuraPageGetOpaque(BufferGetPage(buf))->aux != (uint32) mapno)
		{
			check_problem(&ck, "block %llu should be map page %llu but is of kind %llu",
						  mapblk, mapno, kind);
			UnlockReleaseBuffer(buf);
			continue;
		}
		memcpy(entries, AuraPageGetContents(BufferGetPage(buf)), sizeof(entries));
		UnlockReleaseBuffer(buf);

		for (slot = 0; slot < AURA_MAP_ENTRIES_PER_PAGE; slot++)
		{
			uint64		rowid = mapno * AURA_MAP_ENTRIES_PER_PAGE + slot;

			if (AuraMapEntryIsFree(&entries[slot]))
			{
				ck.free_entries++;
				if (mapno < meta.free_hint)
					check_problem(&ck, "rowid %llu is free, but the free hint says map pages before %llu have none%s",
								  rowid, meta.free_hint, (uint64) 0);
				continue;
			}
			if (!AuraMapEntryIsUsed(&entries[slot]))
				continue;
			if (rowid >= ck.nrowids)
			{
				check_problem(&ck, "rowid %llu has a map entry but only %llu rowids are allocated%s",
							  rowid, ck.nrowids, (uint64) 0);
				continue;
			}
			check_chain(&ck, rowid, &entries[slot]);
		}
	}
	if ((uint64) ck.free_entries != meta.nfree)
		check_problem(&ck, "%llu map entries are free, the meta page counts %llu%s",
					  (uint64) ck.free_entries, meta.nfree, (uint64) 0);

	/* every page: kinds are known; unreached versions are not needed */
	for (blkno = AURA_META_BLOCK + 1; blkno < ck.nblocks; blkno++)
	{
		Buffer		buf;
		uint16		kind;

		CHECK_FOR_INTERRUPTS();
		kind = check_read(&ck, blkno, &buf);
		pages_checked++;
		switch (kind)
		{
			case 0:				/* extended, never written (a crash) */
			case AURA_PAGE_MAPDIR:
			case AURA_PAGE_MAP:
			case AURA_PAGE_BLOB:
				break;
			case AURA_PAGE_FREE:
				/* a freed hot page still holds its old versions */
				if (AuraPageGetOpaque(BufferGetPage(buf))->aux2 == AURA_PAGE_HOT)
					check_unreached(&ck, blkno, buf);
				break;
			case AURA_PAGE_HOT:
				check_unreached(&ck, blkno, buf);
				break;
			case AURA_PAGE_COLD:
				{
					char	   *problem;

					if (cold_page_rows(ck.rel, buf, ck.cold_rowids, &problem) < 0)
						check_problem_str(&ck, blkno, problem);
					ck.cold_block = InvalidBlockNumber;
				}
				break;
			default:
				check_problem(&ck, "block %llu has unknown page kind %llu%s",
							  blkno, kind, (uint64) 0);
				break;
		}
		UnlockReleaseBuffer(buf);
	}

	pfree(ck.reached);

	if (ck.problems > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aura table \"%s\" failed %lld check(s)",
						RelationGetRelationName(ck.rel),
						(long long) ck.problems),
				 errhint("The warnings above name each violated invariant.")));

	relation_close(ck.rel, lockmode);
	values[0] = Int64GetDatum((int64) ck.nrowids);
	values[1] = Int64GetDatum(ck.versions);
	values[2] = Int64GetDatum(ck.free_entries);
	values[3] = Int64GetDatum((int64) ck.nblocks);
	values[4] = Int64GetDatum(pages_checked);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
