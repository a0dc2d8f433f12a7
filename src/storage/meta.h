/*-------------------------------------------------------------------------
 *
 * meta.h
 *	  The meta page (block 0) of an aura table and per-backend state derived
 *	  from it.
 *
 * The meta page holds the rowid allocation state and the root of the row
 * map (the block numbers of the map directory pages).  A relation with zero
 * blocks is an empty aura table: the meta page is created by the first
 * writer (aura_meta_ensure), so set_new_filenode, TRUNCATE and the init fork
 * of unlogged tables need not write any page.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_META_H
#define AURA_META_H

#include "storage/aura_page.h"
#include "storage/aura_wal.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#define AURA_META_BLOCK		0
#define AURA_MAGIC			0x41555241	/* "AURA" */
#define AURA_FORMAT_VERSION	1

/* Enough directory pages for ~2 billion rowids */
#define AURA_META_MAX_DIRS	1000

typedef struct AuraMetaData
{
	uint32		magic;			/* AURA_MAGIC */
	uint32		version;		/* AURA_FORMAT_VERSION */
	uint64		next_rowid;		/* rowids [0, next_rowid) are allocated */
	uint32		ndirs;			/* directory pages in use */
	BlockNumber dirs[AURA_META_MAX_DIRS];	/* directory page blocks */

	/* recycled rowids: map entries marked AURA_MAP_FREE (vacuum.c) */
	uint64		nfree;			/* how many map entries are free */
	uint64		free_hint;		/* no free entry on map pages before this */

	/* what VACUUM did over the table's life, for aura_stats */
	uint64		vacuum_passes;
	uint64		versions_removed;
	uint64		versions_frozen;
	uint64		rowids_recycled;
	uint64		pages_freed;
	uint64		rows_made_cold; /* rows VACUUM wrote to cold pages */

	/*
	 * Hot pages that writers' ended transactions started since the last
	 * VACUUM pass began (a pass subtracts what it found at its start): what
	 * asks for a compaction (autocompact.c).
	 */
	uint64		hot_pages_new;
} AuraMetaData;

StaticAssertDecl(sizeof(AuraMetaData) <= AURA_PAGE_CONTENT_SIZE,
				 "AuraMetaData must fit on the meta page");

#define AuraPageGetMeta(page) ((AuraMetaData *) AuraPageGetContents(page))

/*
 * Backend-local cache of an aura relation, kept in rel->rd_amcache (one
 * palloc chunk in CacheMemoryContext, freed by every relcache flush).
 * Everything in it can be recomputed from the pages; a stale entry is
 * detected (map page kind/number checked on use) or harmless (an unused
 * rowid batch leaves a hole in the rowid space).
 */
typedef struct AuraRelCache
{
	RelFileNode node;			/* relfilenode the cache belongs to */
	bool		meta_exists;	/* block 0 is known to be the meta page */
	uint32		nmap;			/* allocated length of map[] */
	BlockNumber map[FLEXIBLE_ARRAY_MEMBER]; /* map page number -> block */
} AuraRelCache;

extern AuraRelCache *aura_relcache(Relation rel);
extern void aura_relcache_reset(Relation rel);

extern void aura_meta_ensure(Relation rel);
extern Buffer aura_meta_read(Relation rel, int lockmode);
extern uint64 aura_meta_next_rowid(Relation rel);
extern uint64 aura_meta_next_rowid_counted(Relation rel, uint64 *hot_pages_new);
extern uint64 aura_allocate_rowids(Relation rel, uint32 nwanted, uint32 *ngot);
extern void aura_meta_cover(AuraWal *wal, Page metapage);
extern uint64 aura_meta_count_hot_pages(Relation rel, uint32 npages);

#endif							/* AURA_META_H */
