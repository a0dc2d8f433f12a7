/*-------------------------------------------------------------------------
 *
 * cold.h
 *	  Cold pages: settled rows, sorted by rowid, in LZ4-compressed blocks.
 *
 * A settled row -- frozen xmin, no xmax, no older version, no blob
 * reference -- needs nothing of its version header but its rowid, so
 * compaction (VACUUM) and frozen bulk loads (COPY FREEZE) store such rows
 * in cold pages instead: a page holds a few independently LZ4-compressed
 * blocks, each of up to AURA_COLD_RAW_BLOCK bytes of rows, and the rows of
 * a page are numbered 1..nitems in rowid order.  A row's map entry then
 * says (cold page, item number) and carries AURA_MAP_COLD.
 *
 * Cold pages are immutable once any map entry points into them (the one
 * exception is the open page of a frozen bulk load, which only its own
 * transaction can see and which only grows: see cold.c).  Nothing on them
 * is ever updated in place.  An update that keeps the rowid appends the new
 * version only, its prev naming the cold item (AURA_VF_PREV_COLD; the cold
 * row's xmax is implicit, the successor's xmin: chain.c); a delete, a row
 * lock or an update that takes a new rowid first materialises a hot copy
 * (cold_materialise), exactly the same row, and then works on that.
 * Readers decompress a block into a small backend-local cache and copy the
 * row out.
 *
 * Layout, after the standard page header (docs/architecture.md, 3.5):
 *	 AuraColdPageHeader, then the block directory growing upwards
 *	 (pd_lower is its end), the compressed blocks growing downwards from the
 *	 special area (pd_upper is the start of the lowest one), the hole
 *	 between them.
 *
 * Raw block: its rows one after the other, each an AuraColdItem followed at
 * the next MAXALIGN boundary by the row's HeapTupleHeaderData and data,
 * padded to MAXALIGN.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_COLD_H
#define AURA_COLD_H

#include "access/htup_details.h"
#include "storage/aura_page.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#define AURA_COLD_MAGIC			0x434f4c44	/* "COLD" */

/* Largest raw (uncompressed) block: what a point read decompresses */
#define AURA_COLD_RAW_BLOCK		8192

/*
 * The largest row (item header + tuple) a cold page takes: its block
 * always compresses (LZ4's worst case, LZ4_COMPRESSBOUND) into an empty
 * cold page.  Larger rows stay hot.
 */
#define AURA_COLD_MAX_ROW		7000

/* Most rows on one cold page (item numbers are OffsetNumbers) */
#define AURA_COLD_MAX_ITEMS		2048

typedef struct AuraColdBlock
{
	uint16		data_off;		/* compressed bytes: offset from page start */
	uint16		comp_size;		/* their length */
	uint16		first_item;		/* item number of the block's first row */
	uint16		nitems;			/* rows in the block */
	uint32		raw_size;		/* decompressed length */
} AuraColdBlock;

typedef struct AuraColdPageHeader
{
	uint32		magic;			/* AURA_COLD_MAGIC */
	uint16		nblocks;		/* blocks in the directory */
	uint16		nitems;			/* rows on the page: items 1..nitems */
	uint64		stamp;			/* differs between page images with different
								 * blocks: the decompression cache's key */
	AuraColdBlock blocks[FLEXIBLE_ARRAY_MEMBER];
} AuraColdPageHeader;

#define AuraPageGetColdHeader(page) \
	((AuraColdPageHeader *) AuraPageGetContents(page))

/* Header of one row in a raw block */
typedef struct AuraColdItem
{
	uint64		rowid;
	uint32		t_len;			/* length of the heap tuple that follows */
	uint32		reserved;		/* zero */
} AuraColdItem;

#define AURA_COLD_ITEM_HDRSZ	MAXALIGN(sizeof(AuraColdItem))

/* A row of a cold page, as a reader gets it */
typedef struct AuraColdRow
{
	uint64		rowid;
	HeapTupleHeader t_data;		/* in the decompression cache: copy it */
	uint32		t_len;
} AuraColdRow;

/* Can this row's bytes go to a cold page?  (no blob, no token, not too big) */
static inline bool
cold_row_fits(HeapTupleHeader t, uint32 t_len)
{
	return !(t->t_infomask & HEAP_HASEXTERNAL) &&
		!HeapTupleHeaderIsSpeculative(t) &&
		AURA_COLD_ITEM_HDRSZ + MAXALIGN(t_len) <= AURA_COLD_MAX_ROW;
}

/* May this version go to a cold page as it is?  (frozen, no xmax, fits) */
static inline bool
cold_row_eligible(HeapTupleHeader t, uint32 t_len)
{
	return HeapTupleHeaderXminFrozen(t) &&
		(t->t_infomask & HEAP_XMAX_INVALID) &&
		cold_row_fits(t, t_len);
}

/* Reading */
extern bool cold_page_is_cold(Page page);
extern void cold_read_row(Relation rel, Buffer buf, OffsetNumber item,
						  AuraColdRow *row);
extern int	cold_page_rows(Relation rel, Buffer buf, uint64 *rowids,
						   char **problem);

/* Writing: the builder packs rows into cold pages */
typedef struct AuraColdSource
{
	uint64		rowid;
	BlockNumber block;			/* where the row is now (caller's meaning) */
	OffsetNumber offset;
	uint16		flags;			/* the map entry's flags there */
	BlockNumber succ_block;		/* a cold row below a successor: that
								 * version (whose prev names the row);
								 * else InvalidBlockNumber */
	OffsetNumber succ_offset;
} AuraColdSource;

struct AuraColdBuilder;

/*
 * Called once the rows sources[0..n) are on cold page `block', as items
 * first_item, first_item + 1, ...  No buffer lock is held.
 */
typedef void (*AuraColdPlaced) (void *arg, BlockNumber block,
								const AuraColdSource *sources,
								OffsetNumber first_item, int n);

/*
 * Gives the builder the page a new image goes to, exclusively locked, to
 * be initialised with a full page image: a reusable free page or a new one
 * (vlog_new_page, the default).
 */
typedef Buffer (*AuraColdNewPage) (void *arg);

typedef struct AuraColdBuilder AuraColdBuilder;

extern AuraColdBuilder *cold_builder_begin(Relation rel, AuraColdPlaced placed,
										   AuraColdNewPage new_page,
										   void *arg);
extern bool cold_builder_add(AuraColdBuilder *b, const AuraColdSource *source,
							 HeapTupleHeader t_data, uint32 t_len);
extern void cold_builder_rebind(AuraColdBuilder *b, Relation rel, void *arg);
extern void cold_builder_flush(AuraColdBuilder *b, bool keep_open);
extern void cold_builder_end(AuraColdBuilder *b);
extern void cold_builder_counts(AuraColdBuilder *b, double *pages,
								double *rows);

/* Turning a cold row back into a hot version */
extern void cold_materialise(Relation rel, uint64 rowid,
							 const AuraMapEntry *entry);

/* Compression switches: the GUC aura.compression, aura_set_compression() */
extern bool aura_compression;
extern void cold_define_options(void);
extern bool cold_enabled(Relation rel);

#endif							/* AURA_COLD_H */
