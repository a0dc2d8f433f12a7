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
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "tableam/aura_tableam.h"

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

	aura_autocompact_count_page(rel);
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

/*
 * Store a prepared version of rowid and point the map at it: one record of
 * a hot page and the map page.  t_ctid and t_self must already be set.
 * How the version relates to what the map held:
 *	 VLOG_NEW_ROWID: the rowid has no version yet;
 *	 VLOG_CHAIN:	 it is chained in front of the newest version;
 *	 VLOG_REPLACE:	 it is the rowid's only version and replaces the entry
 *					 *expect (a cold row being materialised), only if the
 *					 entry still is *expect under the map page's lock;
 *	 VLOG_CHAIN_COLD: the entry *expect names a cold row, and the version
 *					 is chained in front of it (AURA_VF_PREV_COLD), only if
 *					 the entry still is *expect.
 * vflags (AURA_VF_*) are set on the new version.  Returns false, having
 * written nothing, if a VLOG_REPLACE or VLOG_CHAIN_COLD found the entry
 * changed.  If stored is given, it receives the version's place.
 */
bool
vlog_store_version(Relation rel, uint64 rowid, HeapTuple tuple,
				   VlogStoreMode mode, const AuraMapEntry *expect,
				   uint16 vflags, AuraMapEntry *stored)
{
	Size		needed = MAXALIGN(AURA_VERSION_HDRSZ + tuple->t_len);
	Buffer		hotbuf;
	Buffer		mapbuf;
	bool		isnew;
	AuraWal		wal;
	Page		hotpage;
	Page		mappage;
	AuraMapEntry *entry;
	BlockNumber prev_block = InvalidBlockNumber;
	OffsetNumber prev_offset = InvalidOffsetNumber;
	OffsetNumber offnum;

	AURA_CHECK((mode == VLOG_REPLACE || mode == VLOG_CHAIN_COLD) ==
			   (expect != NULL));
	AURA_CHECK(mode != VLOG_CHAIN_COLD || (expect->flags & AURA_MAP_COLD));

	/* make sure the map page exists before any page is locked */
	(void) rowmap_page_block(rel, RowidGetMapPageNo(rowid), true);

	hotbuf = vlog_target_page(rel, needed, NULL);
	isnew = AuraPageIsFresh(BufferGetPage(hotbuf));
	mapbuf = rowmap_lock_page(rel, rowid, BUFFER_LOCK_EXCLUSIVE, true);
	entry = rowmap_page_entry(BufferGetPage(mapbuf), rowid);
	if ((mode == VLOG_REPLACE || mode == VLOG_CHAIN_COLD) &&
		(entry->block != expect->block || entry->offset != expect->offset ||
		 entry->flags != expect->flags))
	{
		UnlockReleaseBuffer(mapbuf);
		UnlockReleaseBuffer(hotbuf);
		return false;
	}
	AURA_CHECK((mode == VLOG_NEW_ROWID) == !AuraMapEntryIsUsed(entry));
	if (mode == VLOG_CHAIN || mode == VLOG_CHAIN_COLD)
	{
		prev_block = entry->block;
		prev_offset = entry->offset;
	}
	AURA_CHECK(mode == VLOG_CHAIN_COLD || !(entry->flags & AURA_MAP_COLD) ||
			   mode == VLOG_REPLACE);
	if (mode == VLOG_CHAIN_COLD)
		vflags |= AURA_VF_PREV_COLD;

	aura_wal_start(&wal, rel);
	hotpage = aura_wal_register(&wal, hotbuf, isnew);
	mappage = aura_wal_register(&wal, mapbuf, false);
	aura_wal_begin_changes(&wal);
	if (isnew)
		aura_page_init(hotpage, AURA_PAGE_HOT, 0, 0);
	offnum = vlog_add_version(&wal, hotpage, rowid, prev_block, prev_offset,
							  tuple);
	if (vflags != 0)
	{
		AuraVersionHeader *vh = vlog_get_version(hotpage, offnum);

		vh->flags |= vflags;
		aura_wal_changed(&wal, hotpage, &vh->flags, sizeof(vh->flags));
	}
	rowmap_set_entry(&wal, mappage, rowid, BufferGetBlockNumber(hotbuf),
					 offnum);
	aura_wal_finish(&wal);
	if (stored)
	{
		stored->block = BufferGetBlockNumber(hotbuf);
		stored->offset = offnum;
		stored->flags = 0;
	}

	UnlockReleaseBuffer(mapbuf);
	UnlockReleaseBuffer(hotbuf);
	return true;
}
