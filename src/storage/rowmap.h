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
#include "storage/bufmgr.h"
#include "utils/rel.h"

#define RowidGetMapPageNo(rowid)	((rowid) / AURA_MAP_ENTRIES_PER_PAGE)
#define RowidGetMapSlot(rowid)		((uint32) ((rowid) % AURA_MAP_ENTRIES_PER_PAGE))

static inline AuraMapEntry *
rowmap_page_entry(Page page, uint64 rowid)
{
	return ((AuraMapEntry *) AuraPageGetContents(page)) + RowidGetMapSlot(rowid);
}

extern BlockNumber rowmap_page_block(Relation rel, uint64 mapno, bool create);
extern Buffer rowmap_lock_page(Relation rel, uint64 rowid, int lockmode,
							   bool create);
extern bool rowmap_lookup(Relation rel, uint64 rowid, AuraMapEntry *entry);
extern uint32 rowmap_read_page(Relation rel, uint64 mapno,
							   AuraMapEntry *entries);

#endif							/* AURA_ROWMAP_H */
