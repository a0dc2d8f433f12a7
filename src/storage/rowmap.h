/*-------------------------------------------------------------------------
 *
 * rowmap.h
 *	  The row map: rowid -> location of the newest version.
 *
 * A two-level radix structure: the meta page lists directory pages, a
 * directory page lists map pages, a map page is an array of AuraMapEntry.
 * Map page number n covers rowids [n * AURA_MAP_ENTRIES_PER_PAGE, ...).
 * Map and directory pages never move once published, so their block
 * numbers are cached per backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_ROWMAP_H
#define AURA_ROWMAP_H

#include "storage/aura_page.h"
#include "storage/aura_wal.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#define RowidGetMapPageNo(rowid)	((rowid) / AURA_MAP_ENTRIES_PER_PAGE)
#define RowidGetMapSlot(rowid)		((uint32) ((rowid) % AURA_MAP_ENTRIES_PER_PAGE))

static inline AuraMapEntry *
rowmap_page_entry(Page page, uint64 rowid)
{
	return ((AuraMapEntry *) AuraPageGetContents(page)) + RowidGetMapSlot(rowid);
}

/*
 * Point the entry of rowid at (block, offset) on a map page registered in
 * wal (inside its critical section), growing the page's used part to cover
 * it.
 */
static inline void
rowmap_set_entry_flags(AuraWal *wal, Page page, uint64 rowid,
					   BlockNumber block, OffsetNumber offset, uint16 flags)
{
	AuraMapEntry *entry = rowmap_page_entry(page, rowid);
	LocationIndex end = (LocationIndex) ((char *) (entry + 1) - (char *) page);

	entry->block = block;
	entry->offset = offset;
	entry->flags = flags;
	aura_wal_changed(wal, page, entry, sizeof(AuraMapEntry));
	if (((PageHeader) page)->pd_lower < end)
	{
		((PageHeader) page)->pd_lower = end;
		aura_wal_changed(wal, page, page, SizeOfPageHeaderData);
	}
}

/* Point the entry at a hot version */
static inline void
rowmap_set_entry(AuraWal *wal, Page page, uint64 rowid, BlockNumber block,
				 OffsetNumber offset)
{
	rowmap_set_entry_flags(wal, page, rowid, block, offset, 0);
}

extern BlockNumber rowmap_page_block(Relation rel, uint64 mapno, bool create);
extern Buffer rowmap_lock_page(Relation rel, uint64 rowid, int lockmode,
							   bool create);
extern Buffer rowmap_lock_block(Relation rel, BlockNumber blkno,
								uint64 mapno, int lockmode);
extern bool rowmap_lookup(Relation rel, uint64 rowid, AuraMapEntry *entry);
extern uint32 rowmap_read_page(Relation rel, uint64 mapno,
							   AuraMapEntry *entries);

#endif							/* AURA_ROWMAP_H */
