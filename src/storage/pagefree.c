/*-------------------------------------------------------------------------
 *
 * pagefree.c
 *	  Freeing and reusing pages of aura tables.
 *
 * VACUUM frees a hot (or cold, or blob) page none of whose contents is
 * reachable any more by turning it into a FREE page (only its special area
 * changes, one Generic WAL record) and records it in the standard free
 * space map at once; writers taking pages from the FSM skip the ones that
 * are not reusable yet (below) and leave them there.  The old
 * contents stay: a backend that read a pointer into the page before the
 * versions were unlinked -- a sequential scan's copy of a map page, a chain
 * walk in progress, a slot still pointing into the buffer -- belongs to a
 * transaction that was running when the page was freed, and may read on.
 *
 * The page is reused (initialised as a new hot page by a writer) only when
 * no such transaction can be left, and the writer must get a cleanup lock
 * (no pin left).  No such transaction is left when the page's free xid, the
 * next xid at the time of freeing, is removable for every snapshot
 * (GlobalVisTest, the nbtree page-recycling rule) -- or, when that horizon
 * is held back, when no backend that holds a lock on the table has a
 * snapshot from before the freeing (oldest_reader_xmin).
 *
 * The FSM knows free pages in two classes: a page known to be reusable is
 * recorded with AURA_FREE_SPACE_READY, a page freed so recently that it
 * may not be reusable yet with the smaller AURA_FREE_SPACE_FRESH.  VACUUM
 * frees pages as fresh and records every free page it meets in the class
 * it is in by then.  Writers look for ready pages first: right after a
 * pass has freed its pages, the transactions running at that moment still
 * keep them from being reused, and the FSM's round-robin search would
 * otherwise hand out those fresh pages over and over while a few ready
 * pages behind them went unused -- and the writer extended the table.
 * The FSM's upper levels learn of the pages a pass frees only at its end,
 * so the pass takes the pages it has freed itself by block number
 * (aura_take_free_block, from vacuum.c's list), with the same tests.
 *
 * Hot standbys replay without such handshakes, so before a page is reused
 * or truncated away a conflict record resolves standby queries whose
 * snapshots could still see the old contents: nbtree's
 * XLOG_BTREE_REUSE_PAGE, whose redo touches no page and only calls
 * ResolveRecoveryConflictWithSnapshotFullXid for the relation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtxlog.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "catalog/storage.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "storage/pagefree.h"
#include "storage/aura_wal.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "storage/smgr.h"
#include "utils/rel.h"

/*
 * Free space recorded in the FSM for a free page: ready pages are reusable,
 * fresh ones may not be yet.  A search for fresh pages finds both.  No hot
 * page is ever in the FSM (writers fill their own target pages).
 */
#define AURA_FREE_SPACE_READY	(BLCKSZ / 2)
#define AURA_FREE_SPACE_FRESH	(BLCKSZ / 4)

/* How many pages of one class a writer looks at before it gives up */
#define AURA_FREE_PAGE_TRIES	8

/*
 * Turn an exclusively locked hot page into a FREE page and record it in the
 * free space map.  The caller has made sure that no version on it is
 * reachable.
 */
void
aura_page_mark_free(Relation rel, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	AuraPageOpaque opaque = AuraPageGetOpaque(page);
	AuraWal		wal;

	aura_wal_start(&wal, rel);
	(void) aura_wal_register(&wal, buf, false);
	aura_wal_begin_changes(&wal);
	opaque->aux2 = opaque->kind;	/* what the old contents are */
	opaque->kind = AURA_PAGE_FREE;
	opaque->aux = XidFromFullTransactionId(ReadNextFullTransactionId());
	aura_wal_changed(&wal, page, opaque, sizeof(AuraPageOpaqueData));
	aura_wal_finish(&wal);

	/*
	 * Into the free space map now, as a fresh page, although it cannot be
	 * reused before the transactions running now end: writers check
	 * (aura_take_free_page) and pass over it until then, so the page is
	 * reused as soon as it can be rather than a VACUUM pass later.  (The
	 * map's upper levels learn of it from the FreeSpaceMapVacuum at the end
	 * of the pass.  Propagating each page at once, so that writers find it
	 * before that, measured worse: TPC-B growth +16.7% against +9.1%, the
	 * writers taking the pages the pass's cold rebuild was to reuse.)
	 */
	RecordPageWithFreeSpace(rel, BufferGetBlockNumber(buf),
							AURA_FREE_SPACE_FRESH);
}

/*
 * (Re-)record a locked free page in the free space map, in the class it is
 * in now: VACUUM does it for every free page it meets, so a map lost in a
 * crash (the FSM is not WAL-logged) comes back, and the pages that have
 * become reusable since they were freed are found first.
 */
void
aura_page_record_free(Relation rel, Buffer buf)
{
	RecordPageWithFreeSpace(rel, BufferGetBlockNumber(buf),
							aura_free_page_reusable(rel, BufferGetPage(buf)) ?
							AURA_FREE_SPACE_READY : AURA_FREE_SPACE_FRESH);
}

/*
 * Has every transaction that could read a free page's old contents ended,
 * by the cheap global test?  (Classing pages in the FSM and truncation use
 * it alone; writers taking a page also try oldest_reader_xmin.)
 */
bool
aura_free_page_reusable(Relation rel, Page page)
{
	TransactionId freed = AuraPageGetOpaque(page)->aux;

	return AuraPageGetKind(page) == AURA_PAGE_FREE &&
		(!TransactionIdIsNormal(freed) ||
		 GlobalVisCheckRemovableXid(rel, freed));
}

/*
 * The oldest xmin among the backends that could still read the old
 * contents of a free page of one table, computed when first needed.
 */
typedef struct AuraReaders
{
	bool		known;
	TransactionId oldest_xmin;	/* InvalidTransactionId: no such backend */
} AuraReaders;

/* The older of two xmins; an invalid one does not count */
static inline TransactionId
older_xmin(TransactionId oldest, TransactionId xmin)
{
	if (TransactionIdIsNormal(xmin) &&
		(!TransactionIdIsValid(oldest) || TransactionIdPrecedes(xmin, oldest)))
		return xmin;
	return oldest;
}

/*
 * Who could read a free page's old contents?  Only a backend that read a
 * pointer into it before it was freed and still holds it: a scan of the
 * table, which holds a lock on the table until its transaction ends and
 * whose snapshot keeps its backend's xmin at or before the free xid.  So
 * the page may be reused once every backend holding a lock on the table,
 * and this one, has an xmin after the free xid or none (and the xmin
 * standbys send back, below).  VACUUM passes are left out, as the
 * removability horizon leaves them out: a pass follows no pointer it read
 * before another pass freed the page.
 *
 * GlobalVisCheckRemovableXid gives the same answer cheaply as long as no
 * snapshot anywhere is older; but an ANALYZE of another table, or any
 * long transaction elsewhere, holds that horizon back, and a VACUUM pass
 * (like any statement) sees it move only when it takes a new snapshot.
 */
static TransactionId
oldest_reader_xmin(Relation rel)
{
	LOCKTAG		tag;
	VirtualTransactionId *lockers;
	VirtualTransactionId *v;
	TransactionId oldest = InvalidTransactionId;
	TransactionId slot_xmin;
	uint32		i;

	SET_LOCKTAG_RELATION(tag, rel->rd_lockInfo.lockRelId.dbId,
						 rel->rd_lockInfo.lockRelId.relId);
	lockers = GetLockConflicts(&tag, AccessExclusiveLock, NULL);
	for (v = lockers; VirtualTransactionIdIsValid(*v); v++)
	{
		PGPROC	   *proc = BackendIdGetProc(v->backendId);

		/* (a prepared transaction has no backend and scans nothing) */
		if (proc == NULL || (proc->statusFlags & PROC_IN_VACUUM))
			continue;
		oldest = older_xmin(oldest, *((volatile TransactionId *) &proc->xmin));
	}
	pfree(lockers);
	if (!(MyProc->statusFlags & PROC_IN_VACUUM))
		oldest = older_xmin(oldest, MyProc->xmin);

	/*
	 * Standby queries read their own copies of the pages, and the page's
	 * reuse record cancels those that could read the old contents.  With
	 * hot_standby_feedback they must not be cancelled: the primary keeps
	 * the pages for them as it keeps versions, through the xmin that a
	 * walsender advertises for all databases or a replication slot holds.
	 */
	ProcArrayGetReplicationSlotXmin(&slot_xmin, NULL);
	oldest = older_xmin(oldest, slot_xmin);
	for (i = 0; i < ProcGlobal->allProcCount; i++)
	{
		PGPROC	   *proc = &ProcGlobal->allProcs[i];

		if (proc->statusFlags & PROC_AFFECTS_ALL_HORIZONS)
			oldest = older_xmin(oldest, *((volatile TransactionId *) &proc->xmin));
	}
	return oldest;
}

/* May this free page be reused now?  (see oldest_reader_xmin) */
static bool
free_page_reusable_now(Relation rel, Page page, AuraReaders *readers)
{
	TransactionId freed = AuraPageGetOpaque(page)->aux;

	if (aura_free_page_reusable(rel, page))
		return true;
	if (AuraPageGetKind(page) != AURA_PAGE_FREE)
		return false;
	if (!readers->known)
	{
		readers->oldest_xmin = oldest_reader_xmin(rel);
		readers->known = true;
	}
	return !TransactionIdIsValid(readers->oldest_xmin) ||
		TransactionIdPrecedes(freed, readers->oldest_xmin);
}

/* A recent xid (not older than 2^31 xids) made full */
static FullTransactionId
full_xid_of(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next) && epoch > 0)
		epoch--;
	return FullTransactionIdFromEpochAndXid(epoch, xid);
}

/*
 * Make hot standby queries whose snapshots could still see versions removed
 * up to latest_removed give way before their pages are reused: nbtree's
 * page-reuse record carries exactly that conflict and nothing else.
 */
void
aura_log_standby_conflict(Relation rel, BlockNumber blkno,
						  TransactionId latest_removed)
{
	xl_btree_reuse_page xlrec;

	if (!RelationNeedsWAL(rel) || !XLogStandbyInfoActive() ||
		!TransactionIdIsNormal(latest_removed))
		return;
	xlrec.node = rel->rd_node;
	xlrec.block = blkno;
	xlrec.latestRemovedFullXid = full_xid_of(latest_removed);
	XLogBeginInsert();
	XLogRegisterData((char *) &xlrec, SizeOfBtreeReusePage);
	XLogInsert(RM_BTREE_ID, XLOG_BTREE_REUSE_PAGE);
}

/*
 * Try to take the free page blkno for reuse.  AURA_TAKE_OK: the page is
 * returned in *buf with a cleanup lock held exclusively, its FSM entry
 * cleared and the standby conflict logged (the caller initialises it,
 * logging a full page image).  AURA_TAKE_NOT_YET: it is free but may not
 * be reused yet.  AURA_TAKE_PINNED: someone still pins it.  AURA_TAKE_GONE:
 * it is no longer a free page.
 */
static AuraTakeResult
take_if_reusable(Relation rel, BlockNumber blkno, AuraReaders *readers,
				 Buffer *bufp)
{
	Buffer		buf = ReadBuffer(rel, blkno);
	AuraTakeResult result = AURA_TAKE_PINNED;

	*bufp = InvalidBuffer;
	if (ConditionalLockBufferForCleanup(buf))
	{
		Page		page = BufferGetPage(buf);

		if (free_page_reusable_now(rel, page, readers))
		{
			aura_log_standby_conflict(rel, blkno,
									  AuraPageGetOpaque(page)->aux);
			RecordPageWithFreeSpace(rel, blkno, 0);
			*bufp = buf;
			return AURA_TAKE_OK;
		}
		result = AuraPageGetKind(page) == AURA_PAGE_FREE ?
			AURA_TAKE_NOT_YET : AURA_TAKE_GONE;
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	ReleaseBuffer(buf);
	return result;
}

/*
 * Look at up to AURA_FREE_PAGE_TRIES pages the FSM lists with at least
 * `space' free.  Returns a reusable one exclusively locked, or
 * InvalidBuffer.  Pages that are no longer free are set to zero free space
 * in the FSM, ready pages found not reusable after all go back to fresh;
 * free pages that are not reusable yet, or still pinned, stay there for a
 * later try (the FSM search moves on to the next page each time, so they
 * do not block the ones behind them).
 */
static Buffer
take_free_page_of_class(Relation rel, Size space, BlockNumber nblocks)
{
	BlockNumber blkno = GetPageWithFreeSpace(rel, space);
	AuraReaders readers = {false, InvalidTransactionId};
	int			tries;

	for (tries = 0;
		 tries < AURA_FREE_PAGE_TRIES && blkno != InvalidBlockNumber;
		 tries++)
	{
		Buffer		buf;
		Size		now = space;

		if (blkno >= nblocks)
		{
			blkno = RecordAndGetPageWithFreeSpace(rel, blkno, 0, space);
			continue;
		}
		switch (take_if_reusable(rel, blkno, &readers, &buf))
		{
			case AURA_TAKE_OK:
				return buf;
			case AURA_TAKE_GONE:
				now = 0;
				break;
			case AURA_TAKE_NOT_YET:
				if (space > AURA_FREE_SPACE_FRESH)
					now = AURA_FREE_SPACE_FRESH;
				break;
			case AURA_TAKE_PINNED:
				break;
		}
		if (now < space)
			blkno = RecordAndGetPageWithFreeSpace(rel, blkno, now, space);
		else
		{
			BlockNumber next = GetPageWithFreeSpace(rel, space);

			if (next == blkno)
				break;			/* the only one: not yet */
			blkno = next;
		}
	}
	return InvalidBuffer;
}

/*
 * Take one given free page if it may be reused now, as aura_take_free_page
 * would (see take_if_reusable).  VACUUM reuses the pages it has freed
 * itself this way: the FSM's upper levels learn of them only at the end of
 * the pass, so a search from the FSM's root may not find them.
 */
AuraTakeResult
aura_take_free_block(Relation rel, BlockNumber blkno, Buffer *buf)
{
	AuraReaders readers = {false, InvalidTransactionId};

	*buf = InvalidBuffer;
	if (blkno >= RelationGetNumberOfBlocks(rel))
		return AURA_TAKE_GONE;
	return take_if_reusable(rel, blkno, &readers, buf);
}

/*
 * Find a reusable free page in the free space map, a ready one if there is
 * one, else a fresh one that has become reusable.  Returns it exclusively
 * locked (the caller initialises it, logging a full page image), or
 * InvalidBuffer.
 */
Buffer
aura_take_free_page(Relation rel)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	Buffer		buf;

	buf = take_free_page_of_class(rel, AURA_FREE_SPACE_READY, nblocks);
	if (!BufferIsValid(buf))
		buf = take_free_page_of_class(rel, AURA_FREE_SPACE_FRESH, nblocks);
	return buf;
}

/*
 * Truncate away the reusable free pages at the end of the relation, if the
 * AccessExclusiveLock that truncation needs can be had without waiting (as
 * heap's VACUUM does).  Returns the new number of blocks.
 */
BlockNumber
aura_truncate_free_tail(Relation rel)
{
	BlockNumber nblocks;
	BlockNumber newblocks;
	TransactionId latest = InvalidTransactionId;

	if (!ConditionalLockRelation(rel, AccessExclusiveLock))
		return RelationGetNumberOfBlocks(rel);

	/* with that lock nobody is writing: no page can be taken meanwhile */
	nblocks = RelationGetNumberOfBlocks(rel);
	newblocks = nblocks;
	while (newblocks > 1)
	{
		Buffer		buf = ReadBuffer(rel, newblocks - 1);
		Page		page;
		TransactionId freed;
		bool		reusable;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		reusable = aura_free_page_reusable(rel, page);
		freed = AuraPageGetOpaque(page)->aux;
		UnlockReleaseBuffer(buf);
		if (!reusable)
			break;
		if (TransactionIdIsNormal(freed) &&
			(!TransactionIdIsValid(latest) ||
			 TransactionIdFollows(freed, latest)))
			latest = freed;
		newblocks--;
	}
	if (newblocks < nblocks)
	{
		aura_log_standby_conflict(rel, newblocks, latest);
		RelationTruncate(rel, newblocks);
	}
	UnlockRelation(rel, AccessExclusiveLock);
	return newblocks;
}
