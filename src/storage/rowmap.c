/*-------------------------------------------------------------------------
 *
 * rowmap.c
 *	  The row map: rowid -> location of the newest version of the row.
 *
 * Growth protocol.  A map page (and, when needed, a new directory page) is
 * created by one Generic WAL record that holds the new map page (full
 * image), the directory page that publishes it, and the meta page if a new
 * directory page is published there.  The record is atomic, so after a
 * crash the new page either exists and is reachable or its block is an
 * unreferenced page that nothing reads.  The growth is serialised by the
 * exclusive lock on the meta page; lock order: meta -> extension lock ->
 * new pages.
 *
 * Readers lock a map page in share mode only long enough to copy entries.
 * Writers lock a map page exclusively after the hot page that receives the
 * version (lock order: hot page -> map page), so a version and the map
 * entry pointing at it change in the same WAL record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/lmgr.h"
#include "storage/meta.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "utils/memutils.h"

static void
rowmap_cache_set(Relation rel, uint64 mapno, BlockNumber blkno)
{
	AuraRelCache *cache = aura_relcache(rel);

	if (mapno >= cache->nmap)
	{
		uint32		newn = cache->nmap;

		while (newn <= mapno)
			newn *= 2;
		cache = repalloc(cache, offsetof(AuraRelCache, map) +
						 newn * sizeof(BlockNumber));
		memset(cache->map + cache->nmap, 0xFF,
			   (newn - cache->nmap) * sizeof(BlockNumber));
		cache->nmap = newn;
		rel->rd_amcache = cache;
	}
	cache->map[mapno] = blkno;
}

/* Look the map page up through the meta and directory pages */
static BlockNumber
rowmap_find_page(Relation rel, uint64 mapno)
{
	uint64		dirno = mapno / AURA_DIR_ENTRIES_PER_PAGE;
	Buffer		metabuf;
	Buffer		dirbuf;
	BlockNumber dirblk = InvalidBlockNumber;
	BlockNumber mapblk;
	AuraMetaData *meta;

	metabuf = aura_meta_read(rel, BUFFER_LOCK_SHARE);
	if (!BufferIsValid(metabuf))
		return InvalidBlockNumber;
	meta = AuraPageGetMeta(BufferGetPage(metabuf));
	if (dirno < meta->ndirs)
		dirblk = meta->dirs[dirno];
	UnlockReleaseBuffer(metabuf);
	if (dirblk == InvalidBlockNumber)
		return InvalidBlockNumber;

	dirbuf = ReadBuffer(rel, dirblk);
	LockBuffer(dirbuf, BUFFER_LOCK_SHARE);
	aura_page_check_kind(rel, dirblk, BufferGetPage(dirbuf), AURA_PAGE_MAPDIR);
	mapblk = ((BlockNumber *) AuraPageGetContents(BufferGetPage(dirbuf)))
		[mapno % AURA_DIR_ENTRIES_PER_PAGE];
	UnlockReleaseBuffer(dirbuf);
	return mapblk;
}

/* Create map page mapno (and its directory page if needed) */
static BlockNumber
rowmap_create_page(Relation rel, uint64 mapno)
{
	uint64		dirno = mapno / AURA_DIR_ENTRIES_PER_PAGE;
	Buffer		metabuf;
	Buffer		dirbuf;
	Buffer		mapbuf;
	bool		newdir = false;
	BlockNumber mapblk;
	GenericXLogState *state;
	AuraMetaData *meta;
	Page		dirpage;
	Page		mappage;
	BlockNumber *dir;

	if (dirno >= AURA_META_MAX_DIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row map of aura table \"%s\" is full",
						RelationGetRelationName(rel))));

	aura_meta_ensure(rel);
	metabuf = aura_meta_read(rel, BUFFER_LOCK_EXCLUSIVE);
	meta = AuraPageGetMeta(BufferGetPage(metabuf));

	/* Someone may have created it while we waited for the lock */
	if (dirno < meta->ndirs)
	{
		dirbuf = ReadBuffer(rel, meta->dirs[dirno]);
		LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
		aura_page_check_kind(rel, meta->dirs[dirno], BufferGetPage(dirbuf),
							 AURA_PAGE_MAPDIR);
		mapblk = ((BlockNumber *) AuraPageGetContents(BufferGetPage(dirbuf)))
			[mapno % AURA_DIR_ENTRIES_PER_PAGE];
		if (mapblk != InvalidBlockNumber)
		{
			UnlockReleaseBuffer(dirbuf);
			UnlockReleaseBuffer(metabuf);
			return mapblk;
		}
	}
	else
	{
		/* directories are created in order, one at a time */
		if (dirno != meta->ndirs)
			elog(ERROR, "aura row map of \"%s\" skips directory %u",
				 RelationGetRelationName(rel), (unsigned) meta->ndirs);
		dirbuf = vlog_extend(rel);
		newdir = true;
	}

	mapbuf = vlog_extend(rel);
	mapblk = BufferGetBlockNumber(mapbuf);

	state = GenericXLogStart(rel);
	mappage = GenericXLogRegisterBuffer(state, mapbuf, GENERIC_XLOG_FULL_IMAGE);
	/* all entries unused: they are the (zeroed) hole of the page */
	aura_page_init(mappage, AURA_PAGE_MAP, (uint32) mapno, 0);

	dirpage = GenericXLogRegisterBuffer(state, dirbuf,
										newdir ? GENERIC_XLOG_FULL_IMAGE : 0);
	if (newdir)
	{
		aura_page_init(dirpage, AURA_PAGE_MAPDIR, (uint32) dirno, 0);
		memset(AuraPageGetContents(dirpage), 0xFF,
			   AURA_DIR_ENTRIES_PER_PAGE * sizeof(BlockNumber));
		((PageHeader) dirpage)->pd_lower = ((PageHeader) dirpage)->pd_upper;
	}
	dir = (BlockNumber *) AuraPageGetContents(dirpage);
	dir[mapno % AURA_DIR_ENTRIES_PER_PAGE] = mapblk;

	if (newdir)
	{
		meta = AuraPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
		meta->dirs[dirno] = BufferGetBlockNumber(dirbuf);
		meta->ndirs = (uint32) dirno + 1;
	}
	GenericXLogFinish(state);

	UnlockReleaseBuffer(mapbuf);
	UnlockReleaseBuffer(dirbuf);
	UnlockReleaseBuffer(metabuf);
	return mapblk;
}

/*
 * Block of map page mapno, or InvalidBlockNumber if it does not exist and
 * create is false.
 */
BlockNumber
rowmap_page_block(Relation rel, uint64 mapno, bool create)
{
	AuraRelCache *cache = aura_relcache(rel);
	BlockNumber blkno;

	if (mapno < cache->nmap && cache->map[mapno] != InvalidBlockNumber)
		return cache->map[mapno];

	blkno = rowmap_find_page(rel, mapno);
	if (blkno == InvalidBlockNumber && create)
		blkno = rowmap_create_page(rel, mapno);
	if (blkno != InvalidBlockNumber)
		rowmap_cache_set(rel, mapno, blkno);
	return blkno;
}

/*
 * Lock the map page covering rowid.  Returns InvalidBuffer when the page
 * does not exist and create is false.  A cached block that turns out not to
 * be that map page (the relation was truncated and rebuilt under us) is
 * forgotten and looked up again.
 */
Buffer
rowmap_lock_page(Relation rel, uint64 rowid, int lockmode, bool create)
{
	uint64		mapno = RowidGetMapPageNo(rowid);
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		BlockNumber blkno = rowmap_page_block(rel, mapno, create);
		Buffer		buf;

		if (blkno == InvalidBlockNumber)
			return InvalidBuffer;

		/*
		 * The cached block exists: map pages never move and the relation
		 * shrinks only by TRUNCATE, which resets or invalidates the cache
		 * (VACUUM's truncation stops at the last map page).
		 */
		buf = rowmap_lock_block(rel, blkno, mapno, lockmode);
		if (BufferIsValid(buf))
			return buf;
		rowmap_cache_set(rel, mapno, InvalidBlockNumber);
	}
	elog(ERROR, "could not find row map page %llu of aura table \"%s\"",
		 (unsigned long long) mapno, RelationGetRelationName(rel));
	return InvalidBuffer;		/* keep compiler quiet */
}

/*
 * Lock map page mapno, known to be at blkno, without consulting the meta
 * page (for callers that hold it: the map page cache may be empty and
 * looking the page up would lock the meta page again).  Returns
 * InvalidBuffer if blkno is not that map page.
 */
Buffer
rowmap_lock_block(Relation rel, BlockNumber blkno, uint64 mapno, int lockmode)
{
	Buffer		buf;
	Page		page;

	if (blkno == InvalidBlockNumber)
		return InvalidBuffer;
	buf = ReadBuffer(rel, blkno);
	LockBuffer(buf, lockmode);
	page = BufferGetPage(buf);
	if (AuraPageGetKind(page) == AURA_PAGE_MAP &&
		AuraPageGetOpaque(page)->aux == (uint32) mapno)
		return buf;
	UnlockReleaseBuffer(buf);
	return InvalidBuffer;
}

/* Copy the map entry of rowid; false if the rowid has none */
bool
rowmap_lookup(Relation rel, uint64 rowid, AuraMapEntry *entry)
{
	Buffer		buf = rowmap_lock_page(rel, rowid, BUFFER_LOCK_SHARE, false);

	if (!BufferIsValid(buf))
		return false;
	*entry = *rowmap_page_entry(BufferGetPage(buf), rowid);
	UnlockReleaseBuffer(buf);
	return AuraMapEntryIsUsed(entry);
}

/*
 * Copy all entries of map page mapno into entries[] (room for
 * AURA_MAP_ENTRIES_PER_PAGE).  Returns the number copied, 0 if the page
 * does not exist.
 */
uint32
rowmap_read_page(Relation rel, uint64 mapno, AuraMapEntry *entries)
{
	Buffer		buf = rowmap_lock_page(rel, mapno * AURA_MAP_ENTRIES_PER_PAGE,
									   BUFFER_LOCK_SHARE, false);

	if (!BufferIsValid(buf))
		return 0;
	memcpy(entries, AuraPageGetContents(BufferGetPage(buf)),
		   AURA_MAP_ENTRIES_PER_PAGE * sizeof(AuraMapEntry));
	UnlockReleaseBuffer(buf);
	return AURA_MAP_ENTRIES_PER_PAGE;
}
