/*-------------------------------------------------------------------------
 *
 * vlog.c
 *	  The value log: appending row versions to hot pages.
 *
 * Each backend appends to its own target page (remembered with
 * RelationSetTargetBlock, like heap's insertion target); when it is full the
 * backend takes a free page that VACUUM returned (pagefree.c) or extends the
 * relation by a fresh hot page.  Concurrent writers
 * therefore rarely contend for one page.  A new page is initialised in the
 * same Generic WAL record that stores its first version (full page image),
 * so a crash never leaves a referenced page uninitialised; an extended but
 * never logged page is all zeroes and unreferenced.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lmgr.h"
#include "storage/meta.h"
#include "storage/pagefree.h"
#include "storage/vlog.h"

/*
 * Extend the relation by one page and return it exclusively locked but not
 * initialised: the caller initialises it inside a Generic WAL record with a
 * full page image.
 */
Buffer
vlog_extend(Relation rel)
{
	Buffer		buf;

	aura_meta_ensure(rel);		/* block 0 is always the meta page */
	LockRelationForExtension(rel, ExclusiveLock);
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(rel, ExclusiveLock);
	return buf;
}

/*
 * Return an exclusively locked hot page with at least `needed' bytes free.
 * If the page is new (PageIsNew) the caller must initialise it with
 * aura_page_init(..., AURA_PAGE_HOT, ...) in its WAL record, registering it
 * with GENERIC_XLOG_FULL_IMAGE.
 */
Buffer
vlog_target_page(Relation rel, Size needed, BulkInsertState bistate)
{
	BlockNumber blkno = RelationGetTargetBlock(rel);
	Buffer		buf;

	if (needed > AURA_MAX_VERSION_SIZE)
		elog(ERROR, "aura version of %zu bytes does not fit on a page", needed);

	/* the target block exists: RelationTruncate forgets it */
	if (blkno != InvalidBlockNumber)
	{
		Page		page;

		buf = ReadBuffer(rel, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (AuraPageGetKind(page) == AURA_PAGE_HOT &&
			PageGetFreeSpace(page) >= needed)
			return buf;
		UnlockReleaseBuffer(buf);
	}

	buf = vlog_new_page(rel);
	RelationSetTargetBlock(rel, BufferGetBlockNumber(buf));
	return buf;
}

/*
 * A page to become a new hot page, exclusively locked: a reusable free page
 * (pagefree.c) or a new one at the end of the relation.  Either way the
 * caller initialises it in a record with a full page image
 * (AuraPageIsFresh).
 */
Buffer
vlog_new_page(Relation rel)
{
	Buffer		buf = aura_take_free_page(rel);

	if (BufferIsValid(buf))
		return buf;
	return vlog_extend(rel);
}

/*
 * Append a version of rowid to a hot page registered in wal (inside its
 * critical section; the caller made sure it fits).  tuple->t_data is copied
 * after the aura version header.
 */
OffsetNumber
vlog_add_version(AuraWal *wal, Page page, uint64 rowid,
				 BlockNumber prev_block, OffsetNumber prev_offset,
				 HeapTuple tuple)
{
	Size		size = AURA_VERSION_HDRSZ + tuple->t_len;
	union
	{
		AuraVersionHeader hdr;
		char		data[BLCKSZ];
		double		align;		/* MAXALIGN the buffer */
	}			item;

	AURA_CHECK(size <= AURA_MAX_VERSION_SIZE);
	memset(&item.hdr, 0, AURA_VERSION_HDRSZ);
	item.hdr.rowid = rowid;
	item.hdr.prev_block = prev_block;
	item.hdr.prev_offset = prev_offset;
	item.hdr.flags = 0;
	memcpy(item.data + AURA_VERSION_HDRSZ, tuple->t_data, tuple->t_len);

	return aura_wal_add_item(wal, page, (Item) item.data, size);
}

/* The version at offnum of a hot page */
AuraVersionHeader *
vlog_get_version(Page page, OffsetNumber offnum)
{
	ItemId		lp;

	if (offnum < FirstOffsetNumber || offnum > PageGetMaxOffsetNumber(page))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aura version pointer to offset %u is past the end of its page",
						offnum)));
	lp = PageGetItemId(page, offnum);
	if (!ItemIdIsNormal(lp))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aura version pointer to offset %u points to an unused item",
						offnum)));
	return (AuraVersionHeader *) PageGetItem(page, lp);
}
