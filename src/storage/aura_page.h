/*-------------------------------------------------------------------------
 *
 * aura_page.h
 *	  On-disk page formats of an aura table.
 *
 * Every page of an aura relation is a standard PostgreSQL page (PageInit):
 * page header, line pointers where the kind uses them, and a special area
 * of type AuraPageOpaqueData saying what kind of page it is.  Standard pages
 * give us data checksums, full-page-image hole compression and compact
 * Generic WAL deltas.  docs/architecture.md describes every format byte by
 * byte; this header is the code's side of that description.
 *
 * Rows are addressed by a logical rowid.  The executor and every index see
 * a rowid as an ItemPointer: block = rowid / AURA_TIDS_PER_BLOCK and offset
 * = rowid % AURA_TIDS_PER_BLOCK + 1.  AURA_TIDS_PER_BLOCK is
 * MaxHeapTuplesPerPage because TID bitmaps and GIN reject larger offsets.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_PAGE_H
#define AURA_PAGE_H

#include "access/htup_details.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

/*
 * AURA_CHECK is an invariant check that stays alive in debug builds
 * (make AURA_DEBUG=1, which CI uses).  Debian's server is built without
 * assertions, so Assert() would check nothing in our code.
 */
#ifdef AURA_DEBUG
#define AURA_CHECK(cond) \
	do { \
		if (unlikely(!(cond))) \
			elog(PANIC, "auradb invariant violated: %s (%s:%d)", \
				 #cond, __FILE__, __LINE__); \
	} while (0)
#else
#define AURA_CHECK(cond) ((void) 0)
#endif

/* Page kinds, stored in AuraPageOpaqueData.kind */
#define AURA_PAGE_META		1	/* block 0 */
#define AURA_PAGE_MAPDIR	2	/* array of map page block numbers */
#define AURA_PAGE_MAP		3	/* array of AuraMapEntry */
#define AURA_PAGE_HOT		4	/* slotted page of row versions */
#define AURA_PAGE_BLOB		5	/* one chunk of a large value */
#define AURA_PAGE_FREE		6	/* no reachable version; reusable later */
#define AURA_PAGE_COLD		7	/* settled rows in LZ4 blocks (cold.h) */

#define AURA_PAGE_ID		0xA0DB	/* identifies aura pages in dumps */

typedef struct AuraPageOpaqueData
{
	uint16		kind;			/* AURA_PAGE_* */
	uint16		page_id;		/* AURA_PAGE_ID */
	uint32		aux;			/* kind-specific, see below */
	uint32		aux2;			/* kind-specific, see below */
	uint32		xid;			/* BLOB: the writing transaction; else 0 */
} AuraPageOpaqueData;

/*
 * aux / aux2 by kind:
 *	 MAPDIR: aux = index of the directory page (0, 1, ...)
 *	 MAP:	 aux = map page number (first rowid / AURA_MAP_ENTRIES_PER_PAGE)
 *	 BLOB:	 aux = block of the blob's first page, aux2 = chunk number
 *	 FREE:	 aux = the next xid when VACUUM freed the page, aux2 = its kind
 *			 before (HOT or BLOB: what the old contents are).  The page keeps
 *			 its old contents (a reader that was walking a chain when the
 *			 page was unlinked may still read it), and is reused only when
 *			 no snapshot older than aux is left (pagefree.c).
 *	 COLD:	 none (the cold page header follows the page header, cold.h)
 */

typedef AuraPageOpaqueData *AuraPageOpaque;

#define AuraPageGetOpaque(page) \
	((AuraPageOpaque) PageGetSpecialPointer(page))

#define AuraPageGetKind(page) \
	(PageIsNew(page) ? 0 : AuraPageGetOpaque(page)->kind)

/* Usable bytes between the page header and the special area */
#define AURA_PAGE_CONTENT_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(AuraPageOpaqueData)))

#define AuraPageGetContents(page) \
	((char *) (page) + MAXALIGN(SizeOfPageHeaderData))

/*
 * Row map entry: where the newest version of a rowid is.  A map page is an
 * array of these.  An unused entry is all zeroes (block 0 is the meta page,
 * never a hot page): a map page keeps pd_lower just past its last used
 * entry, so the unused tail is the page's hole, which full-page images and
 * Generic WAL deltas skip and which PostgreSQL keeps zeroed.
 */
typedef struct AuraMapEntry
{
	BlockNumber block;			/* hot (or cold) page of the newest version */
	OffsetNumber offset;		/* line pointer (cold: item) on that page */
	uint16		flags;			/* AURA_MAP_* */
} AuraMapEntry;

/*
 * AURA_MAP_FREE: the rowid was recycled by VACUUM (every version dead to
 * everyone, every index entry removed); block and offset are zero.  The
 * rowid allocator hands such rowids out again (meta.c).
 */
#define AURA_MAP_FREE		0x0001

/*
 * AURA_MAP_COLD: the row is on a cold page (cold.h): block is that page,
 * offset the row's item number there.
 */
#define AURA_MAP_COLD		0x0002

#define AuraMapEntryIsUsed(e)	((e)->block != 0)
#define AuraMapEntryIsFree(e)	((e)->block == 0 && ((e)->flags & AURA_MAP_FREE))

#define AURA_MAP_ENTRIES_PER_PAGE \
	((uint32) (AURA_PAGE_CONTENT_SIZE / sizeof(AuraMapEntry)))

/* A directory page is an array of map page block numbers */
#define AURA_DIR_ENTRIES_PER_PAGE \
	((uint32) (AURA_PAGE_CONTENT_SIZE / sizeof(BlockNumber)))

/*
 * Header of every row version stored on a hot page.  The version's
 * HeapTupleHeaderData follows at the next MAXALIGN boundary.
 *
 * Versions of one rowid form a chain newest -> oldest: the map entry points
 * at the newest, each version's prev at the next older one.
 */
typedef struct AuraVersionHeader
{
	uint64		rowid;			/* the row this version belongs to */
	BlockNumber prev_block;		/* older version, or InvalidBlockNumber */
	OffsetNumber prev_offset;
	uint16		flags;			/* AURA_VF_* */
} AuraVersionHeader;

/*
 * AURA_VF_UPDATED: an UPDATE replaced this version (its xmax is the
 * updater).  If t_ctid equals the version's own TID the successor has the
 * same rowid, otherwise t_ctid is the successor's rowid.  Without the flag a
 * non-lock-only xmax means the row was deleted.
 */
#define AURA_VF_UPDATED		0x0001

/*
 * AURA_VF_MOVED: VACUUM copied this version to another page and pointed
 * the map there (in the same record).  The copy here is no longer linked;
 * it stays readable for a backend that found it through an old pointer.
 */
#define AURA_VF_MOVED		0x0002

/*
 * AURA_VF_MATERIALISED: a hot copy of a cold row (cold_materialise).  It
 * carries the cold row's old, frozen xmin, so VACUUM cannot tell from the
 * xmin that it was written after the pass began (vac_compact_page).
 */
#define AURA_VF_MATERIALISED	0x0004

/*
 * AURA_VF_PREV_COLD: prev names an item of a cold page (cold.h), the row
 * this version updated in place of a materialised copy: the first NO KEY
 * UPDATE of a cold row that keeps its rowid appends only the new version.
 * The cold row's xmax is implicit, this version's xmin (chain.c builds the
 * header it would have).  VACUUM drops the link once this version's xmin
 * is older than every snapshot.
 */
#define AURA_VF_PREV_COLD		0x0008

#define AURA_VERSION_HDRSZ	MAXALIGN(sizeof(AuraVersionHeader))

/* A page a writer may initialise as a new hot page */
#define AuraPageIsFresh(page) \
	(PageIsNew(page) || AuraPageGetOpaque(page)->kind == AURA_PAGE_FREE)

#define AuraVersionGetTuple(vh) \
	((HeapTupleHeader) ((char *) (vh) + AURA_VERSION_HDRSZ))

/* Logical TIDs */
#define AURA_TIDS_PER_BLOCK		MaxHeapTuplesPerPage
#define AURA_MAX_ROWID			((uint64) MaxBlockNumber * AURA_TIDS_PER_BLOCK)

static inline void
aura_rowid_to_tid(uint64 rowid, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (rowid / AURA_TIDS_PER_BLOCK),
				   (OffsetNumber) (rowid % AURA_TIDS_PER_BLOCK + 1));
}

/* Returns false when the TID cannot be an aura rowid */
static inline bool
aura_tid_to_rowid(ItemPointer tid, uint64 *rowid)
{
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (off < 1 || off > AURA_TIDS_PER_BLOCK ||
		ItemPointerGetBlockNumberNoCheck(tid) == InvalidBlockNumber)
		return false;
	*rowid = (uint64) ItemPointerGetBlockNumberNoCheck(tid) * AURA_TIDS_PER_BLOCK
		+ (off - 1);
	return true;
}

extern void aura_page_init(Page page, uint16 kind, uint32 aux, uint32 aux2);
extern void aura_page_check_kind(Relation rel, BlockNumber blkno, Page page,
								 uint16 kind);

#endif							/* AURA_PAGE_H */
