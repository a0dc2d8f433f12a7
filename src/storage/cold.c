/*-------------------------------------------------------------------------
 *
 * cold.c
 *	  Cold pages: reading them through a small decompression cache,
 *	  building them, and materialising a cold row as a hot version.
 *
 * See cold.h for what a cold page is.  The invariants:
 *	- A map entry flagged AURA_MAP_COLD names (cold page, item); the item's
 *	  AuraColdItem carries that rowid, and the row is frozen, has no xmax,
 *	  no older version and no blob reference.  Every snapshot therefore
 *	  sees it, and the visibility routines never want to set a hint bit on
 *	  it.
 *	- The items of a page are sorted by rowid, strictly increasing.
 *	- A cold page never changes once a committed map entry points into it.
 *	  The only page that changes is the open page of a frozen bulk load
 *	  (COPY FREEZE into a table created or truncated in the same
 *	  subtransaction, so nobody else can read it), and it only gains
 *	  blocks: the blocks already there stay byte for byte the same.
 * So a decompressed block is valid as long as the page's stamp (and block
 * number and relfilenode) is the same: the cache needs no invalidation.
 *
 * Writers never change a cold row.  An update that keeps the rowid chains
 * its new version to the cold item (vlog.c, VLOG_CHAIN_COLD); a delete, a
 * lock or a rowid-changing update first has cold_materialise copy the row
 * to a hot page as the row's only version and point the map there (one
 * record of the hot page and the map page), checking under the map page's
 * lock that the entry still names the cold row.  A reader that copied the old
 * entry reads the cold row, which is the same row: whatever changes the hot
 * copy later is newer than the reader's snapshot (chain_start_at).
 *
 * Lock order: a cold page is locked like a hot page -- before the meta and
 * map pages, never together with another data page.  The builder locks the
 * page it writes alone; the callers' callbacks run with no lock held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/cold.h"
#include "storage/meta.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* The GUC aura.compression */
bool		aura_compression = true;

/* Most rows in one block: the smallest row is a header and a tuple header */
#define COLD_MAX_BLOCK_ITEMS \
	(AURA_COLD_RAW_BLOCK / (AURA_COLD_ITEM_HDRSZ + MAXALIGN(SizeofHeapTupleHeader)))

StaticAssertDecl(AURA_COLD_MAX_ROW <= AURA_COLD_RAW_BLOCK &&
				 LZ4_COMPRESSBOUND(AURA_COLD_MAX_ROW) + sizeof(AuraColdBlock) +
				 offsetof(AuraColdPageHeader, blocks) <= AURA_PAGE_CONTENT_SIZE,
				 "a cold row of the largest size must fit an empty cold page");

/* ---------------------------------------------------------------------
 * The decompression cache
 * ---------------------------------------------------------------------
 */
#define COLD_CACHE_ENTRIES		32

typedef struct ColdCacheEntry
{
	bool		valid;
	RelFileNode node;
	BlockNumber blkno;
	uint64		stamp;
	uint16		first_item;
	uint16		nitems;
	uint64		last_used;
	char	   *raw;			/* AURA_COLD_RAW_BLOCK bytes, MAXALIGNed */
	uint32		offs[COLD_MAX_BLOCK_ITEMS];
} ColdCacheEntry;

static ColdCacheEntry *cold_cache = NULL;
static uint64 cold_cache_clock = 0;

static void
cold_corrupt(Relation rel, BlockNumber blkno, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("cold page %u of aura table \"%s\" is corrupted: %s",
					blkno, RelationGetRelationName(rel), what)));
}

/* A cold page, or a freed one whose old contents are a cold page */
bool
cold_page_is_cold(Page page)
{
	uint16		kind = AuraPageGetKind(page);

	return kind == AURA_PAGE_COLD ||
		(kind == AURA_PAGE_FREE && AuraPageGetOpaque(page)->aux2 == AURA_PAGE_COLD);
}

/*
 * Check a cold page's header and directory.  Returns NULL if they are
 * sane, else what is wrong.
 */
static const char *
cold_check_header(Page page)
{
	AuraColdPageHeader *hdr = AuraPageGetColdHeader(page);
	PageHeader	ph = (PageHeader) page;
	uint32		expect_item = 1;
	int			i;

	if (hdr->magic != AURA_COLD_MAGIC)
		return "bad magic";
	if (ph->pd_lower != (char *) &hdr->blocks[hdr->nblocks] - (char *) page ||
		ph->pd_upper < ph->pd_lower || ph->pd_upper > ph->pd_special)
		return "directory does not match pd_lower/pd_upper";
	if (hdr->nitems > AURA_COLD_MAX_ITEMS)
		return "too many items";
	for (i = 0; i < hdr->nblocks; i++)
	{
		AuraColdBlock *blk = &hdr->blocks[i];

		if (blk->first_item != expect_item || blk->nitems == 0 ||
			blk->nitems > COLD_MAX_BLOCK_ITEMS)
			return "block items are not consecutive";
		if (blk->data_off < ph->pd_upper ||
			(uint32) blk->data_off + blk->comp_size > ph->pd_special ||
			blk->raw_size > AURA_COLD_RAW_BLOCK)
			return "block lies outside the page's data area";
		expect_item += blk->nitems;
	}
	if (expect_item != (uint32) hdr->nitems + 1)
		return "directory does not cover every item";
	return NULL;
}

/*
 * Decompress block i of page into raw (AURA_COLD_RAW_BLOCK bytes) and
 * note where each row starts.  Returns NULL or what is wrong.
 */
static const char *
cold_decompress(Page page, int i, char *raw, uint32 *offs)
{
	AuraColdBlock *blk = &AuraPageGetColdHeader(page)->blocks[i];
	int			got;
	uint32		pos = 0;
	int			n;

	got = LZ4_decompress_safe((char *) page + blk->data_off, raw,
							  blk->comp_size, AURA_COLD_RAW_BLOCK);
	if (got < 0 || (uint32) got != blk->raw_size)
		return "a block does not decompress";
	for (n = 0; n < blk->nitems; n++)
	{
		AuraColdItem *item = (AuraColdItem *) (raw + pos);

		if (pos + AURA_COLD_ITEM_HDRSZ + SizeofHeapTupleHeader > (uint32) got ||
			item->t_len < SizeofHeapTupleHeader ||
			pos + AURA_COLD_ITEM_HDRSZ + item->t_len > (uint32) got)
			return "a row runs past the end of its block";
		offs[n] = pos;
		/* t_ctid is not stored (cold_builder_add): the row's own TID */
		aura_rowid_to_tid(item->rowid,
						  &((HeapTupleHeader) ((char *) item + AURA_COLD_ITEM_HDRSZ))->t_ctid);
		pos += AURA_COLD_ITEM_HDRSZ + MAXALIGN(item->t_len);
	}
	if (pos != (uint32) got)
		return "a block has bytes after its last row";
	return NULL;
}

/*
 * Read item `item' of the cold page in buf (pinned and locked by the
 * caller).  row->t_data points into the decompression cache: it stays
 * valid until this backend reads COLD_CACHE_ENTRIES other blocks, so
 * callers copy it before reading on.
 */
void
cold_read_row(Relation rel, Buffer buf, OffsetNumber item, AuraColdRow *row)
{
	Page		page = BufferGetPage(buf);
	BlockNumber blkno = BufferGetBlockNumber(buf);
	AuraColdPageHeader *hdr = AuraPageGetColdHeader(page);
	ColdCacheEntry *e = NULL;
	ColdCacheEntry *victim = NULL;
	const char *problem;
	int			i;
	int			b;

	if (!cold_page_is_cold(page))
		aura_page_check_kind(rel, blkno, page, AURA_PAGE_COLD);

	if (cold_cache == NULL)
	{
		cold_cache = MemoryContextAllocZero(TopMemoryContext,
											COLD_CACHE_ENTRIES * sizeof(ColdCacheEntry));
		for (i = 0; i < COLD_CACHE_ENTRIES; i++)
			cold_cache[i].raw = MemoryContextAlloc(TopMemoryContext,
												   AURA_COLD_RAW_BLOCK);
	}

	/*
	 * A cached block of the same page image (stamp) holding the item: that
	 * image's header was checked when the block was decompressed, and a
	 * cold page image never changes.
	 */
	for (i = 0; i < COLD_CACHE_ENTRIES; i++)
	{
		ColdCacheEntry *c = &cold_cache[i];

		if (c->valid && c->blkno == blkno && c->stamp == hdr->stamp &&
			item >= c->first_item && item < c->first_item + c->nitems &&
			RelFileNodeEquals(c->node, rel->rd_node))
		{
			e = c;
			break;
		}
		if (victim == NULL || !c->valid ||
			(victim->valid && c->last_used < victim->last_used))
			victim = c;
	}
	if (e == NULL)
	{
		if ((problem = cold_check_header(page)) != NULL)
			cold_corrupt(rel, blkno, problem);
		if (item < 1 || item > hdr->nitems)
			cold_corrupt(rel, blkno, "a map entry names an item past the end");
		for (b = 0; b < hdr->nblocks; b++)
			if (item < hdr->blocks[b].first_item + hdr->blocks[b].nitems)
				break;
		e = victim;
		e->valid = false;
		if ((problem = cold_decompress(page, b, e->raw, e->offs)) != NULL)
			cold_corrupt(rel, blkno, problem);
		e->node = rel->rd_node;
		e->blkno = blkno;
		e->stamp = hdr->stamp;
		e->first_item = hdr->blocks[b].first_item;
		e->nitems = hdr->blocks[b].nitems;
		e->valid = true;
	}
	e->last_used = ++cold_cache_clock;

	{
		AuraColdItem *ci = (AuraColdItem *) (e->raw + e->offs[item - e->first_item]);

		row->rowid = ci->rowid;
		row->t_len = ci->t_len;
		row->t_data = (HeapTupleHeader) ((char *) ci + AURA_COLD_ITEM_HDRSZ);
	}
}

/*
 * The rowids of every item of a cold page (rowids[item - 1]), decompressing
 * every block; for aura_check and VACUUM.  Returns the number of items, or
 * -1 with *problem set if the page is damaged (items out of rowid order
 * included).
 */
int
cold_page_rows(Relation rel, Buffer buf, uint64 *rowids, char **problem)
{
	Page		page = BufferGetPage(buf);
	AuraColdPageHeader *hdr = AuraPageGetColdHeader(page);
	char	   *raw = palloc(AURA_COLD_RAW_BLOCK);
	uint32		offs[COLD_MAX_BLOCK_ITEMS];
	const char *p;
	int			n = 0;
	int			b;

	*problem = NULL;
	if ((p = cold_check_header(page)) != NULL)
	{
		*problem = pstrdup(p);
		pfree(raw);
		return -1;
	}
	for (b = 0; b < hdr->nblocks; b++)
	{
		int			i;

		if ((p = cold_decompress(page, b, raw, offs)) != NULL)
		{
			*problem = pstrdup(p);
			n = -1;
			break;
		}
		for (i = 0; i < hdr->blocks[b].nitems; i++)
		{
			AuraColdItem *ci = (AuraColdItem *) (raw + offs[i]);
			HeapTupleHeader t = (HeapTupleHeader) ((char *) ci + AURA_COLD_ITEM_HDRSZ);

			if (n > 0 && ci->rowid <= rowids[n - 1])
			{
				*problem = psprintf("item %d (rowid %llu) is not after rowid %llu",
									n + 1, (unsigned long long) ci->rowid,
									(unsigned long long) rowids[n - 1]);
				pfree(raw);
				return -1;
			}
			if (!cold_row_eligible(t, ci->t_len) ||
				HeapTupleHeaderGetRawXmax(t) != InvalidTransactionId)
			{
				*problem = psprintf("item %d (rowid %llu) is not a settled row",
									n + 1, (unsigned long long) ci->rowid);
				pfree(raw);
				return -1;
			}
			rowids[n++] = ci->rowid;
		}
	}
	pfree(raw);
	return n;
}

/* ---------------------------------------------------------------------
 * The builder
 * ---------------------------------------------------------------------
 */
struct AuraColdBuilder
{
	Relation	rel;
	AuraColdPlaced placed;
	AuraColdNewPage new_page;	/* NULL: vlog_new_page */
	void	   *arg;			/* of placed and new_page */

	/* rows not yet in a block */
	char	   *raw;			/* AURA_COLD_RAW_BLOCK bytes */
	uint32		raw_len;
	int			npend;
	uint32		pend_off[COLD_MAX_BLOCK_ITEMS + 1];
	AuraColdSource pend[COLD_MAX_BLOCK_ITEMS];

	/* the page being filled */
	bool		image_valid;
	PGAlignedBlock image;
	BlockNumber image_block;	/* on disk already (open page), or invalid */
	int			nplaced;		/* items of the image reported placed */
	AuraColdSource *img_src;	/* sources of the image's items */

	char	   *comp;			/* LZ4_compressBound(AURA_COLD_RAW_BLOCK) */
	int			comp_cap;

	uint64		last_rowid;		/* of the last row added to the image */
	bool		have_last;

	double		pages;
	double		rows;
};

static uint64 cold_stamp_counter = 0;

AuraColdBuilder *
cold_builder_begin(Relation rel, AuraColdPlaced placed,
				   AuraColdNewPage new_page, void *arg)
{
	AuraColdBuilder *b = palloc0(sizeof(AuraColdBuilder));

	b->rel = rel;
	b->placed = placed;
	b->new_page = new_page;
	b->arg = arg;
	b->raw = palloc(AURA_COLD_RAW_BLOCK);
	b->img_src = palloc(AURA_COLD_MAX_ITEMS * sizeof(AuraColdSource));
	b->comp_cap = LZ4_compressBound(AURA_COLD_RAW_BLOCK);
	b->comp = palloc(b->comp_cap);
	b->image_block = InvalidBlockNumber;
	return b;
}

static void
cold_image_init(AuraColdBuilder *b)
{
	Page		page = b->image.data;
	AuraColdPageHeader *hdr;

	aura_page_init(page, AURA_PAGE_COLD, 0, 0);
	hdr = AuraPageGetColdHeader(page);
	hdr->magic = AURA_COLD_MAGIC;
	hdr->nblocks = 0;
	hdr->nitems = 0;
	hdr->stamp = ((uint64) GetCurrentTimestamp() << 16) ^
		((uint64) MyProcPid << 40) ^ (++cold_stamp_counter);
	((PageHeader) page)->pd_lower = (char *) &hdr->blocks[0] - (char *) page;
	b->image_valid = true;
	b->image_block = InvalidBlockNumber;
	b->nplaced = 0;
}

/* The relation descriptor to use from now on (a new statement's) */
void
cold_builder_rebind(AuraColdBuilder *b, Relation rel, void *arg)
{
	b->rel = rel;
	b->arg = arg;
}

/* Room for one more block's compressed bytes on the image */
static int
cold_image_room(AuraColdBuilder *b)
{
	PageHeader	ph = (PageHeader) b->image.data;
	int			room = (int) ph->pd_upper - (int) ph->pd_lower -
		(int) sizeof(AuraColdBlock);

	return Max(room, 0);
}

/*
 * Write the image to its page -- a new page (a reusable free page or a new
 * one at the end) unless the image is an open page already on disk -- in
 * one record with a full page image, then report the new items placed.
 * With keep_open the image stays open for more blocks.
 */
static void
cold_image_write(AuraColdBuilder *b, bool keep_open)
{
	Buffer		buf;
	AuraWal		wal;
	Page		page;
	AuraColdPageHeader *hdr = AuraPageGetColdHeader(b->image.data);
	BlockNumber blkno;
	int			first = b->nplaced;

	if (hdr->nitems > b->nplaced)
	{
		if (b->image_block == InvalidBlockNumber)
		{
			buf = b->new_page ? b->new_page(b->arg) : vlog_new_page(b->rel);
			b->pages += 1;
		}
		else
		{
			buf = ReadBuffer(b->rel, b->image_block);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			/* nobody else writes the open page of our own new relfilenode */
			AURA_CHECK(AuraPageGetKind(BufferGetPage(buf)) == AURA_PAGE_COLD &&
					   AuraPageGetColdHeader(BufferGetPage(buf))->stamp == hdr->stamp);
		}
		blkno = BufferGetBlockNumber(buf);

		aura_wal_start(&wal, b->rel);
		page = aura_wal_register(&wal, buf, true);
		aura_wal_begin_changes(&wal);
		memcpy(page, b->image.data, BLCKSZ);
		aura_wal_finish(&wal);
		UnlockReleaseBuffer(buf);

		b->image_block = blkno;
		b->nplaced = hdr->nitems;
		b->rows += hdr->nitems - first;
		b->placed(b->arg, blkno, b->img_src + first, first + 1,
				  hdr->nitems - first);
	}
	if (!keep_open)
	{
		b->image_valid = false;
		b->image_block = InvalidBlockNumber;
	}
}

/* Compress the first k pending rows; returns the compressed length */
static int
cold_compress(AuraColdBuilder *b, int k)
{
	int			len = LZ4_compress_default(b->raw, b->comp, b->pend_off[k],
										   b->comp_cap);

	if (len <= 0)
		elog(ERROR, "LZ4 compression of a cold block failed");
	return len;
}

/* Put the pending rows into blocks on images, writing full images */
static void
cold_seal_pending(AuraColdBuilder *b)
{
	while (b->npend > 0)
	{
		Page		page;
		PageHeader	ph;
		AuraColdPageHeader *hdr;
		AuraColdBlock *blk;
		int			room;
		int			k;
		int			len;

		if (!b->image_valid)
			cold_image_init(b);
		page = b->image.data;
		ph = (PageHeader) page;
		hdr = AuraPageGetColdHeader(page);
		room = cold_image_room(b);
		k = Min(b->npend, AURA_COLD_MAX_ITEMS - hdr->nitems);
		if (room < 64 || k == 0)
		{
			cold_image_write(b, false);
			continue;
		}

		len = cold_compress(b, k);
		if (len > room)
		{
			/* as many whole rows as fit: LZ4 says how much input fits */
			int			srcsize = (int) b->pend_off[k];
			int			j;

			(void) LZ4_compress_destSize(b->raw, b->comp, &srcsize, room);
			for (j = 0; j < k && b->pend_off[j + 1] <= (uint32) srcsize; j++)
				;
			k = j;
			while (k > 0 && (len = cold_compress(b, k)) > room)
				k--;
			if (k == 0)
			{
				/* nothing fits: the image is as full as it gets */
				AURA_CHECK(hdr->nitems > 0);
				cold_image_write(b, false);
				continue;
			}
		}

		/* append the block */
		blk = &hdr->blocks[hdr->nblocks];
		blk->data_off = ph->pd_upper - len;
		blk->comp_size = len;
		blk->first_item = hdr->nitems + 1;
		blk->nitems = k;
		blk->raw_size = b->pend_off[k];
		memcpy(page + blk->data_off, b->comp, len);
		memcpy(b->img_src + hdr->nitems, b->pend, k * sizeof(AuraColdSource));
		hdr->nblocks++;
		hdr->nitems += k;
		ph->pd_upper = blk->data_off;
		ph->pd_lower += sizeof(AuraColdBlock);

		/* the rest of the pending rows move to the front */
		{
			uint32		shift = b->pend_off[k];
			int			j;

			memmove(b->raw, b->raw + shift, b->raw_len - shift);
			b->raw_len -= shift;
			for (j = k; j < b->npend; j++)
			{
				b->pend[j - k] = b->pend[j];
				b->pend_off[j - k] = b->pend_off[j] - shift;
			}
			b->npend -= k;
			b->pend_off[b->npend] = b->raw_len;
		}
	}
}

/*
 * Add a row.  Rows must come in increasing rowid order (per page; a flush
 * starts a new order).  Returns false, taking nothing, if the row cannot go
 * to a cold page (cold_row_eligible, or too large to be sure to fit): the
 * caller keeps it where it is.
 */
bool
cold_builder_add(AuraColdBuilder *b, const AuraColdSource *source,
				 HeapTupleHeader t_data, uint32 t_len)
{
	uint32		size = AURA_COLD_ITEM_HDRSZ + MAXALIGN(t_len);
	AuraColdItem *item;
	HeapTupleHeader copy;

	if (!cold_row_eligible(t_data, t_len))
		return false;
	/* items of a page are in rowid order: out of order starts a new page */
	if (b->have_last && source->rowid <= b->last_rowid)
		cold_builder_flush(b, false);
	b->last_rowid = source->rowid;
	b->have_last = true;
	if (b->npend == COLD_MAX_BLOCK_ITEMS || b->raw_len + size > AURA_COLD_RAW_BLOCK)
		cold_seal_pending(b);

	item = (AuraColdItem *) (b->raw + b->raw_len);
	memset(item, 0, size);
	item->rowid = source->rowid;
	item->t_len = t_len;
	copy = (HeapTupleHeader) ((char *) item + AURA_COLD_ITEM_HDRSZ);
	memcpy(copy, t_data, t_len);

	/*
	 * No xmax at all: an aborted updater or an ended locker may have left
	 * its xid behind the HEAP_XMAX_INVALID hint, which would hold back
	 * relfrozenxid (and make VACUUM want to freeze an immutable row).  The
	 * row is its own newest version, and frozen: its command id is never
	 * looked at again, so no combo cid either.
	 */
	copy->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_COMBOCID);
	copy->t_infomask |= HEAP_XMAX_INVALID;
	copy->t_infomask2 &= ~(HEAP_KEYS_UPDATED | HEAP_HOT_UPDATED);
	HeapTupleHeaderSetXmax(copy, InvalidTransactionId);

	/*
	 * Nothing that only tells rows apart without meaning anything for a
	 * frozen row: its raw xmin (HeapTupleHeaderGetXmin says
	 * FrozenTransactionId anyway), its command id, and its t_ctid (its own
	 * TID, which readers derive from the rowid when they decompress).  Rows
	 * written back after updates are scattered over the rowid space and
	 * come from many transactions; these bytes would not compress.
	 */
	HeapTupleHeaderSetXmin(copy, FrozenTransactionId);
	HeapTupleHeaderSetCmin(copy, FirstCommandId);
	memset(&copy->t_ctid, 0, sizeof(ItemPointerData));
	b->pend[b->npend] = *source;
	b->npend++;
	b->raw_len += size;
	b->pend_off[b->npend] = b->raw_len;
	return true;
}

/*
 * Write out every row added so far.  With keep_open the last page stays
 * open for the rows of later calls (frozen bulk loads only: see the file
 * header); otherwise it is final.
 */
void
cold_builder_flush(AuraColdBuilder *b, bool keep_open)
{
	cold_seal_pending(b);
	if (b->image_valid)
		cold_image_write(b, keep_open);
	if (!keep_open)
		b->have_last = false;
}

void
cold_builder_end(AuraColdBuilder *b)
{
	cold_builder_flush(b, false);
	pfree(b->raw);
	pfree(b->img_src);
	pfree(b->comp);
	pfree(b);
}

void
cold_builder_counts(AuraColdBuilder *b, double *pages, double *rows)
{
	*pages = b->pages;
	*rows = b->rows;
}

/* ---------------------------------------------------------------------
 * Materialising
 * ---------------------------------------------------------------------
 */

/*
 * Copy the cold row the map entry `entry' of rowid names to a hot page as
 * the rowid's only version and point the map there.  If the map entry no
 * longer names that row (somebody else materialised it, or VACUUM moved
 * it), nothing is done: the caller reads the map again either way.
 */
void
cold_materialise(Relation rel, uint64 rowid, const AuraMapEntry *entry)
{
	Buffer		buf;
	AuraColdRow row;
	HeapTupleData tuple;

	AURA_CHECK(entry->flags & AURA_MAP_COLD);

	buf = ReadBuffer(rel, entry->block);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	cold_read_row(rel, buf, entry->offset, &row);
	if (row.rowid != rowid)
		cold_corrupt(rel, entry->block, "a map entry names a row of another rowid");
	tuple.t_len = row.t_len;
	tuple.t_data = palloc(row.t_len);
	memcpy(tuple.t_data, row.t_data, row.t_len);
	UnlockReleaseBuffer(buf);

	(void) vlog_store_version(rel, rowid, &tuple, VLOG_REPLACE, entry,
							  AURA_VF_MATERIALISED, NULL);
	pfree(tuple.t_data);

	/*
	 * Materialising leaves one more dead version than heap's UPDATE or
	 * DELETE would, whatever the writer's transaction does: the cold item if
	 * it commits, the hot copy if not.  Autovacuum counts dead tuples to
	 * decide when to run, so it is told (pgstat's delta is "tuples removed",
	 * hence the negative count).
	 */
	pgstat_update_heap_dead_tuples(rel, -1);
}

/* ---------------------------------------------------------------------
 * The switches
 *
 * Per cluster (or session): the GUC aura.compression.  Per table: a row in
 * the extension's table aura_table_settings (relid regclass, compression
 * boolean), written by aura_set_compression(regclass, bool).  A table keeps
 * its OID through TRUNCATE and rewrites, the row is transactional, and
 * pg_dump dumps it (an extension configuration table; relid restores by
 * name).  A reloption cannot be used: PostgreSQL 15 parses the storage
 * parameters of every table, heap or not, with heap's fixed parse table
 * and rejects any option added to RELOPT_KIND_HEAP, so adding one would
 * break every CREATE TABLE.
 * ---------------------------------------------------------------------
 */
void
cold_define_options(void)
{
	DefineCustomBoolVariable("aura.compression",
							 "Lets VACUUM and COPY FREEZE store settled rows of aura tables in LZ4-compressed cold pages.",
							 "aura_set_compression(table, false) switches it off for one table.",
							 &aura_compression,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * The table's own setting, if aura_table_settings has one.  The settings
 * table lives in the schema of the access method's handler function (the
 * extension's schema).
 */
static bool
cold_table_setting(Relation rel, bool *enabled)
{
	Oid			nsp = get_func_namespace(rel->rd_amhandler);
	Oid			tabid;
	Oid			idxid;
	Relation	srel;
	ScanKeyData key;
	Snapshot	snapshot;
	SysScanDesc sd;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(nsp))
		return false;
	tabid = get_relname_relid("aura_table_settings", nsp);
	idxid = get_relname_relid("aura_table_settings_pkey", nsp);
	if (!OidIsValid(tabid) || !OidIsValid(idxid))
		return false;

	srel = table_open(tabid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(rel)));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	sd = systable_beginscan(srel, idxid, true, snapshot, 1, &key);
	tup = systable_getnext(sd);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 2, RelationGetDescr(srel), &isnull);

		*enabled = isnull || DatumGetBool(d);
		found = true;
	}
	systable_endscan(sd);
	UnregisterSnapshot(snapshot);
	table_close(srel, AccessShareLock);
	return found;
}

/* Should settled rows of rel go to cold pages? */
bool
cold_enabled(Relation rel)
{
	bool		enabled = true;

	if (!aura_compression)
		return false;
	(void) cold_table_setting(rel, &enabled);
	return enabled;
}
