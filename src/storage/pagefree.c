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
 * no such transaction can be left: its free xid, the next xid at the time
 * of freeing, must be removable for every snapshot (GlobalVisTest, the
 * nbtree page-recycling rule), and the writer must get a cleanup lock (no
 * pin left).  Hot standbys replay without such handshakes, so before a page
 * is reused or truncated away a conflict record resolves standby queries
 * whose snapshots could still see the old contents: nbtree's
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
#include "storage/procarray.h"
#include "storage/smgr.h"
#include "utils/rel.h"

/* Free space recorded in the FSM for a free page */
#define AURA_FREE_PAGE_SPACE	(BLCKSZ / 2)

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
	 * Into the free space map now, although it cannot be reused before the
	 * transactions running now end: writers check (aura_take_free_page)
	 * and pass over it until then, so the page is reused as soon as it can
	 * be rather than a VACUUM pass later.
	 */
	aura_page_record_free(rel, BufferGetBlockNumber(buf));
}

/*
 * (Re-)record a free page in the free space map: VACUUM does it for every
 * free page it meets, so a map lost in a crash (the FSM is not WAL-logged)
 * comes back.
 */
void
aura_page_record_free(Relation rel, BlockNumber blkno)
{
	RecordPageWithFreeSpace(rel, blkno, AURA_FREE_PAGE_SPACE);
}

/* Has every transaction that could read a free page's old contents ended? */
bool
aura_free_page_reusable(Relation rel, Page page)
{
	TransactionId freed = AuraPageGetOpaque(page)->aux;

	return AuraPageGetKind(page) == AURA_PAGE_FREE &&
		(!TransactionIdIsNormal(freed) ||
		 GlobalVisCheckRemovableXid(rel, freed));
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
 * Find a reusable free page in the free space map.  Returns it exclusively
 * locked (the caller initialises it, logging a full page image), or
 * InvalidBuffer.  Pages that are no longer free are set to zero free space
 * in the FSM; free pages that are not reusable yet, or still pinned, stay
 * there for a later try (the FSM search moves on to the next page each
 * time, so they do not block the ones behind them).
 */
Buffer
aura_take_free_page(Relation rel)
{
	BlockNumber blkno = GetPageWithFreeSpace(rel, AURA_FREE_PAGE_SPACE);
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	int			tries;

	for (tries = 0; tries < 8 && blkno != InvalidBlockNumber; tries++)
	{
		Buffer		buf;
		Page		page;
		bool		gone = false;

		if (blkno >= nblocks)
		{
			blkno = RecordAndGetPageWithFreeSpace(rel, blkno, 0,
												  AURA_FREE_PAGE_SPACE);
			continue;
		}
		buf = ReadBuffer(rel, blkno);
		if (ConditionalLockBufferForCleanup(buf))
		{
			page = BufferGetPage(buf);
			if (aura_free_page_reusable(rel, page))
			{
				aura_log_standby_conflict(rel, blkno,
										  AuraPageGetOpaque(page)->aux);
				RecordPageWithFreeSpace(rel, blkno, 0);
				return buf;
			}
			gone = AuraPageGetKind(page) != AURA_PAGE_FREE;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
		if (gone)
			blkno = RecordAndGetPageWithFreeSpace(rel, blkno, 0,
												  AURA_FREE_PAGE_SPACE);
		else
		{
			BlockNumber next = GetPageWithFreeSpace(rel, AURA_FREE_PAGE_SPACE);

			if (next == blkno)
				break;			/* the only one: not yet */
			blkno = next;
		}
	}
	return InvalidBuffer;
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
