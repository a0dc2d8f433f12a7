/*-------------------------------------------------------------------------
 *
 * meta.c
 *	  The meta page of an aura table: creation, rowid allocation, and the
 *	  backend-local relation cache.
 *
 * Rowids are handed out in batches: a backend takes AURA_ROWID_BATCH rowids
 * from the meta page at a time (one Generic WAL record) and uses them for
 * its next inserts.  Rowids of a batch that are never used stay holes in the
 * rowid space: their map entries remain unused, which every reader treats as
 * "no row".  So the meta page is written once per batch, not once per row.
 *
 * Lock order: the meta page is locked alone, or first (before directory and
 * map pages while the row map grows).  No hot page is ever locked while the
 * meta page is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/aura_wal.h"
#include "storage/meta.h"
#include "storage/rowmap.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#define AURA_ROWID_BATCH	64

/*
 * The rowids a backend has taken from the meta page and not used yet, per
 * relation file.  Kept outside rd_amcache: a relcache flush (every VACUUM
 * causes one) must not lose them, or each flush would leak up to two
 * batches of rowids.
 */
typedef struct AuraRowidBatch
{
	RelFileNode node;			/* hash key */
	uint64		batch_next;		/* next rowid of the fresh batch */
	uint64		batch_end;		/* end (exclusive) of the batch */
	uint32		nrecycled;		/* recycled rowids taken, not yet used */
	uint64		recycled[AURA_ROWID_BATCH];
} AuraRowidBatch;

static HTAB *rowid_batches = NULL;

static AuraRowidBatch *
rowid_batch(Relation rel)
{
	AuraRowidBatch *batch;
	bool		found;

	if (rowid_batches != NULL)
	{
		batch = hash_search(rowid_batches, &rel->rd_node, HASH_FIND, NULL);
		if (batch)
			return batch;
	}
	if (rowid_batches == NULL || hash_get_num_entries(rowid_batches) > 4096)
	{
		HASHCTL		ctl;

		/* (a session that truncated thousands of tables starts afresh) */
		if (rowid_batches)
			hash_destroy(rowid_batches);
		ctl.keysize = sizeof(RelFileNode);
		ctl.entrysize = sizeof(AuraRowidBatch);
		ctl.hcxt = TopMemoryContext;
		rowid_batches = hash_create("aura rowid batches", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	batch = hash_search(rowid_batches, &rel->rd_node, HASH_ENTER, &found);
	if (!found)
	{
		batch->batch_next = batch->batch_end = 0;
		batch->nrecycled = 0;
	}
	return batch;
}

AuraRelCache *
aura_relcache(Relation rel)
{
	AuraRelCache *cache = (AuraRelCache *) rel->rd_amcache;

	if (cache == NULL || !RelFileNodeEquals(cache->node, rel->rd_node))
	{
		uint32		nmap = 64;

		if (cache)
			pfree(cache);
		cache = MemoryContextAlloc(CacheMemoryContext,
								   offsetof(AuraRelCache, map) +
								   nmap * sizeof(BlockNumber));
		cache->node = rel->rd_node;
		cache->meta_exists = false;
		cache->nmap = nmap;
		memset(cache->map, 0xFF, nmap * sizeof(BlockNumber));
		rel->rd_amcache = cache;
	}
	return cache;
}

void
aura_relcache_reset(Relation rel)
{
	/* rowids taken from a meta page that is being thrown away */
	if (rowid_batches != NULL)
		(void) hash_search(rowid_batches, &rel->rd_node, HASH_REMOVE, NULL);

	if (rel->rd_amcache)
		pfree(rel->rd_amcache);
	rel->rd_amcache = NULL;
}

/*
 * Create the meta page if the relation has no blocks yet.
 */
void
aura_meta_ensure(Relation rel)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	AuraMetaData *meta;

	if (aura_relcache(rel)->meta_exists || RelationGetNumberOfBlocks(rel) > 0)
		return;

	LockRelationForExtension(rel, ExclusiveLock);
	if (RelationGetNumberOfBlocks(rel) > 0)
	{
		UnlockRelationForExtension(rel, ExclusiveLock);
		return;
	}
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(rel, ExclusiveLock);

	if (BufferGetBlockNumber(buf) != AURA_META_BLOCK)
		elog(ERROR, "aura meta page of \"%s\" created at block %u",
			 RelationGetRelationName(rel), BufferGetBlockNumber(buf));

	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	aura_page_init(page, AURA_PAGE_META, 0, 0);
	meta = AuraPageGetMeta(page);
	memset(meta, 0, sizeof(AuraMetaData));
	meta->magic = AURA_MAGIC;
	meta->version = AURA_FORMAT_VERSION;
	meta->next_rowid = 0;
	meta->ndirs = 0;
	((PageHeader) page)->pd_lower =
		(char *) meta + sizeof(AuraMetaData) - (char *) page;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Return the meta page, locked in the given mode, or InvalidBuffer if the
 * relation is still empty (no meta page yet).
 */
Buffer
aura_meta_read(Relation rel, int lockmode)
{
	Buffer		buf;
	Page		page;
	AuraMetaData *meta;

	if (!aura_relcache(rel)->meta_exists)
	{
		if (RelationGetNumberOfBlocks(rel) == 0)
			return InvalidBuffer;
	}

	buf = ReadBuffer(rel, AURA_META_BLOCK);
	LockBuffer(buf, lockmode);
	page = BufferGetPage(buf);
	aura_page_check_kind(rel, AURA_META_BLOCK, page, AURA_PAGE_META);
	meta = AuraPageGetMeta(page);
	if (meta->magic != AURA_MAGIC || meta->version != AURA_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aura table \"%s\" has an unknown format (magic %08x, version %u)",
						RelationGetRelationName(rel), meta->magic,
						meta->version)));
	aura_relcache(rel)->meta_exists = true;
	return buf;
}

/*
 * Rowids [0, result) may exist.  With hot_pages_new, also the meta page's
 * count of new hot pages (read together at the start of a VACUUM pass).
 */
uint64
aura_meta_next_rowid_counted(Relation rel, uint64 *hot_pages_new)
{
	Buffer		buf = aura_meta_read(rel, BUFFER_LOCK_SHARE);
	AuraMetaData *meta;
	uint64		next;

	if (hot_pages_new)
		*hot_pages_new = 0;
	if (!BufferIsValid(buf))
		return 0;
	meta = AuraPageGetMeta(BufferGetPage(buf));
	next = meta->next_rowid;
	if (hot_pages_new)
		*hot_pages_new = meta->hot_pages_new;
	UnlockReleaseBuffer(buf);
	return next;
}

uint64
aura_meta_next_rowid(Relation rel)
{
	return aura_meta_next_rowid_counted(rel, NULL);
}

/*
 * Make sure the meta page's pd_lower covers all of AuraMetaData (pages
 * written by an older layout of the struct end earlier; bytes in the hole
 * would not survive a full page image).  Call inside the WAL record.
 */
void
aura_meta_cover(AuraWal *wal, Page metapage)
{
	LocationIndex end = (LocationIndex)
	((char *) AuraPageGetMeta(metapage) + sizeof(AuraMetaData) - (char *) metapage);

	if (((PageHeader) metapage)->pd_lower < end)
	{
		((PageHeader) metapage)->pd_lower = end;
		aura_wal_changed(wal, metapage, metapage, SizeOfPageHeaderData);
	}
}

/*
 * Count npages more hot pages started by writers (one record of the meta
 * page; lock order: the meta page alone, or after a hot page).  Returns the
 * new count of hot pages started since the last VACUUM pass began.
 */
uint64
aura_meta_count_hot_pages(Relation rel, uint32 npages)
{
	Buffer		buf = aura_meta_read(rel, BUFFER_LOCK_EXCLUSIVE);
	Page		page;
	AuraMetaData *meta;
	AuraWal		wal;
	uint64		count;

	if (!BufferIsValid(buf))
		return 0;
	page = BufferGetPage(buf);
	meta = AuraPageGetMeta(page);
	aura_wal_start(&wal, rel);
	(void) aura_wal_register(&wal, buf, false);
	aura_wal_begin_changes(&wal);
	meta->hot_pages_new += npages;
	count = meta->hot_pages_new;
	aura_meta_cover(&wal, page);
	aura_wal_changed(&wal, page, &meta->hot_pages_new, sizeof(uint64));
	aura_wal_finish(&wal);
	UnlockReleaseBuffer(buf);
	return count;
}

/*
 * Take up to AURA_ROWID_BATCH recycled rowids of one map page into the
 * backend's cache, if the meta page counts any, looking at up to 16 map
 * pages from the free hint on (lock order: meta page, then map page; one
 * record per map page looked at).  The entries
 * taken become unused (all zero): the rowids are ours now.  Rowids a
 * backend takes and never uses (it exits first) are lost until a rewrite,
 * as unused rows of a new batch are -- a bounded loss per session.
 */
static void
take_recycled_rowids(Relation rel)
{
#define TAKE_MAX_MAP_PAGES 16
	Buffer		metabuf;
	Page		metapage;
	AuraMetaData *meta;
	uint64		nmap;
	uint64		hint;
	BlockNumber mapblks[TAKE_MAX_MAP_PAGES];
	int			npages;
	int			i;
	uint64		recycled[AURA_ROWID_BATCH];
	uint32		n = 0;
	bool		any;
	AuraWal		wal;

	/* find the map pages to take from first: that may read the meta page */
	metabuf = aura_meta_read(rel, BUFFER_LOCK_SHARE);
	meta = AuraPageGetMeta(BufferGetPage(metabuf));
	hint = meta->free_hint;
	nmap = (meta->next_rowid + AURA_MAP_ENTRIES_PER_PAGE - 1) /
		AURA_MAP_ENTRIES_PER_PAGE;
	any = meta->nfree > 0;
	UnlockReleaseBuffer(metabuf);
	if (!any)
		return;
	npages = (int) Min((uint64) TAKE_MAX_MAP_PAGES, nmap > hint ? nmap - hint : 0);
	for (i = 0; i < npages; i++)
		mapblks[i] = rowmap_page_block(rel, hint + i, false);

	metabuf = aura_meta_read(rel, BUFFER_LOCK_EXCLUSIVE);
	metapage = BufferGetPage(metabuf);
	meta = AuraPageGetMeta(metapage);
	if (meta->nfree == 0 || meta->free_hint != hint)
	{
		/* someone else took or freed rowids meanwhile: next time */
		UnlockReleaseBuffer(metabuf);
		return;
	}

	for (i = 0; i < npages && n == 0; i++)
	{
		uint64		mapno = hint + i;
		Buffer		mapbuf = rowmap_lock_block(rel, mapblks[i], mapno,
											   BUFFER_LOCK_EXCLUSIVE);
		AuraMapEntry *entries;
		uint32		slot;
		bool		exhausted = true;

		aura_wal_start(&wal, rel);
		(void) aura_wal_register(&wal, metabuf, false);
		if (BufferIsValid(mapbuf))
			(void) aura_wal_register(&wal, mapbuf, false);
		aura_wal_begin_changes(&wal);
		if (BufferIsValid(mapbuf))
		{
			entries = (AuraMapEntry *) AuraPageGetContents(BufferGetPage(mapbuf));
			for (slot = 0; slot < AURA_MAP_ENTRIES_PER_PAGE; slot++)
			{
				if (!AuraMapEntryIsFree(&entries[slot]))
					continue;
				if (n == AURA_ROWID_BATCH)
				{
					exhausted = false;
					break;
				}
				recycled[n++] = mapno * AURA_MAP_ENTRIES_PER_PAGE + slot;
				memset(&entries[slot], 0, sizeof(AuraMapEntry));
				aura_wal_changed(&wal, BufferGetPage(mapbuf), &entries[slot],
								 sizeof(AuraMapEntry));
			}
		}
		meta->nfree = meta->nfree > n ? meta->nfree - n : 0;
		if (exhausted)
			meta->free_hint = mapno + 1;
		if (meta->free_hint >= nmap)
			meta->nfree = 0;	/* a count gone wrong must not make us loop */
		aura_meta_cover(&wal, metapage);
		aura_wal_changed(&wal, metapage, &meta->nfree,
						 sizeof(meta->nfree) + sizeof(meta->free_hint));
		aura_wal_finish(&wal);
		if (BufferIsValid(mapbuf))
			UnlockReleaseBuffer(mapbuf);
		if (meta->nfree == 0)
			break;
	}
	UnlockReleaseBuffer(metabuf);

	if (n > 0)
	{
		AuraRowidBatch *batch = rowid_batch(rel);

		memcpy(batch->recycled, recycled, n * sizeof(uint64));
		batch->nrecycled = n;
	}
}

/*
 * Allocate up to nwanted consecutive rowids; returns the first and sets
 * *ngot (>= 1).  Serves from the backend's batch, refilling it from the
 * meta page when empty.
 */
uint64
aura_allocate_rowids(Relation rel, uint32 nwanted, uint32 *ngot)
{
	AuraRowidBatch *cache = rowid_batch(rel);
	uint64		first;

	if (cache->nrecycled == 0 && cache->batch_next >= cache->batch_end)
	{
		aura_meta_ensure(rel);
		take_recycled_rowids(rel);
		cache = rowid_batch(rel);
	}
	if (cache->nrecycled > 0)
	{
		*ngot = 1;
		return cache->recycled[--cache->nrecycled];
	}

	if (cache->batch_next >= cache->batch_end)
	{
		uint32		batch = Max(nwanted, AURA_ROWID_BATCH);
		Buffer		buf;
		AuraWal		wal;
		AuraMetaData *meta;

		aura_meta_ensure(rel);
		buf = aura_meta_read(rel, BUFFER_LOCK_EXCLUSIVE);
		meta = AuraPageGetMeta(BufferGetPage(buf));
		if (meta->next_rowid + batch > AURA_MAX_ROWID)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("aura table \"%s\" has no rowids left",
							RelationGetRelationName(rel)),
					 errhint("Rewrite the table with VACUUM FULL.")));
		aura_wal_start(&wal, rel);
		(void) aura_wal_register(&wal, buf, false);
		aura_wal_begin_changes(&wal);
		first = meta->next_rowid;
		meta->next_rowid += batch;
		aura_wal_changed(&wal, BufferGetPage(buf), &meta->next_rowid,
						 sizeof(meta->next_rowid));
		aura_wal_finish(&wal);
		UnlockReleaseBuffer(buf);

		cache->batch_next = first;
		cache->batch_end = first + batch;
	}

	first = cache->batch_next;
	*ngot = (uint32) Min((uint64) nwanted, cache->batch_end - first);
	cache->batch_next += *ngot;
	return first;
}
