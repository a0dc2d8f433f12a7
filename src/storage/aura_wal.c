/*-------------------------------------------------------------------------
 *
 * aura_wal.c
 *	  Generic WAL records with caller-supplied deltas (see aura_wal.h).
 *
 * The block data format is generic_xlog.c's: a sequence of fragments, each
 * a uint16 offset, a uint16 length and that many bytes, applied in order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/aura_page.h"
#include "storage/aura_wal.h"
#include "utils/memutils.h"

void
aura_wal_start(AuraWal *wal, Relation rel)
{
	wal->rel = rel;
	wal->needs_wal = RelationNeedsWAL(rel);
	wal->in_changes = false;
	wal->npages = 0;
}

/*
 * Register an exclusively locked buffer.  Returns its page, to be changed
 * in place once aura_wal_begin_changes has been called.
 */
Page
aura_wal_register(AuraWal *wal, Buffer buffer, bool full_image)
{
	AuraWalPage *p;
	int			i;

	AURA_CHECK(!wal->in_changes);
	for (i = 0; i < wal->npages; i++)
		if (wal->pages[i].buffer == buffer)
			return wal->pages[i].page;
	if (wal->npages >= MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "too many pages in one aura WAL record");

	p = &wal->pages[wal->npages++];
	p->buffer = buffer;
	p->page = BufferGetPage(buffer);
	p->full_image = full_image;
	p->whole_page = false;
	p->nranges = 0;
	p->preimage = NULL;
#ifdef AURA_DEBUG
	if (wal->needs_wal && !full_image)
	{
		p->preimage = palloc(BLCKSZ);
		memcpy(p->preimage, p->page, BLCKSZ);
	}
#endif
	return p->page;
}

/* From here on page changes must not fail: a critical section */
void
aura_wal_begin_changes(AuraWal *wal)
{
	AURA_CHECK(!wal->in_changes);
	wal->in_changes = true;
	START_CRIT_SECTION();
}

static AuraWalPage *
wal_page(AuraWal *wal, Page page)
{
	int			i;

	for (i = 0; i < wal->npages; i++)
		if (wal->pages[i].page == page)
			return &wal->pages[i];
	elog(PANIC, "page not registered in aura WAL record");
	return NULL;				/* keep compiler quiet */
}

/* Report that len bytes at start (within page) have changed */
void
aura_wal_changed(AuraWal *wal, Page page, const void *start, Size len)
{
	AuraWalPage *p = wal_page(wal, page);
	uint16		s = (uint16) ((const char *) start - (const char *) page);
	uint16		e = (uint16) (s + len);
	int			i;

	AURA_CHECK(wal->in_changes);
	AURA_CHECK((const char *) start >= (const char *) page &&
			   (Size) s + len <= BLCKSZ);
	if (p->full_image || p->whole_page || len == 0)
		return;

	/* merge with an overlapping or adjacent range */
	for (i = 0; i < p->nranges; i++)
	{
		if (s <= p->range_end[i] && e >= p->range_start[i])
		{
			p->range_start[i] = Min(p->range_start[i], s);
			p->range_end[i] = Max(p->range_end[i], e);
			return;
		}
	}
	if (p->nranges == AURA_WAL_MAX_RANGES)
	{
		p->whole_page = true;
		return;
	}
	p->range_start[p->nranges] = s;
	p->range_end[p->nranges] = e;
	p->nranges++;
}

/*
 * PageAddItem that reports what it changed: the page header, the new line
 * pointer and the item's bytes.
 */
OffsetNumber
aura_wal_add_item(AuraWal *wal, Page page, Item item, Size size)
{
	PageHeader	ph = (PageHeader) page;
	LocationIndex lower = ph->pd_lower;
	LocationIndex upper = ph->pd_upper;
	OffsetNumber offnum;

	offnum = PageAddItem(page, item, size, InvalidOffsetNumber, false, false);
	if (offnum == InvalidOffsetNumber)
		elog(PANIC, "failed to add item to aura page");
	aura_wal_changed(wal, page, page, SizeOfPageHeaderData);
	aura_wal_changed(wal, page, (char *) page + lower, ph->pd_lower - lower);
	aura_wal_changed(wal, page, (char *) page + ph->pd_upper,
					 upper - ph->pd_upper);
	return offnum;
}

static char *
append_fragment(char *ptr, Page page, uint16 start, uint16 end)
{
	OffsetNumber offset = start;
	OffsetNumber length = end - start;

	memcpy(ptr, &offset, sizeof(offset));
	ptr += sizeof(offset);
	memcpy(ptr, &length, sizeof(length));
	ptr += sizeof(length);
	memcpy(ptr, (char *) page + start, length);
	return ptr + length;
}

/* Build the block data of one page: its fragments, in generic WAL format */
static Size
build_delta(AuraWalPage *p, char *delta)
{
	char	   *ptr = delta;
	PageHeader	ph = (PageHeader) p->page;
	int			i;

	if (p->whole_page)
	{
		ptr = append_fragment(ptr, p->page, 0, ph->pd_lower);
		ptr = append_fragment(ptr, p->page, ph->pd_upper, BLCKSZ);
	}
	else
		for (i = 0; i < p->nranges; i++)
			ptr = append_fragment(ptr, p->page, p->range_start[i],
								  p->range_end[i]);
	return ptr - delta;
}

#ifdef AURA_DEBUG
/* Replay the delta on the preimage as generic_redo would; must match */
static void
verify_delta(AuraWalPage *p, const char *delta, Size len)
{
	const char *ptr = delta;
	PageHeader	ph;

	while (ptr < delta + len)
	{
		OffsetNumber offset;
		OffsetNumber length;

		memcpy(&offset, ptr, sizeof(offset));
		ptr += sizeof(offset);
		memcpy(&length, ptr, sizeof(length));
		ptr += sizeof(length);
		memcpy(p->preimage + offset, ptr, length);
		ptr += length;
	}
	ph = (PageHeader) p->preimage;
	memset(p->preimage + ph->pd_lower, 0, ph->pd_upper - ph->pd_lower);
	/* the LSN is set by replay itself */
	if (memcmp(p->preimage + sizeof(PageXLogRecPtr),
			   (char *) p->page + sizeof(PageXLogRecPtr),
			   BLCKSZ - sizeof(PageXLogRecPtr)) != 0)
		elog(PANIC, "aura WAL record would not reproduce block %u",
			 BufferGetBlockNumber(p->buffer));
}
#endif

void
aura_wal_finish(AuraWal *wal)
{
	/* fragments of all pages; at most a page's bytes plus headers each */
	static char deltas[MAX_GENERIC_XLOG_PAGES][BLCKSZ + 4 * (AURA_WAL_MAX_RANGES + 2)];
	XLogRecPtr	lsn;
	int			i;

	AURA_CHECK(wal->in_changes);
	for (i = 0; i < wal->npages; i++)
		MarkBufferDirty(wal->pages[i].buffer);

	if (wal->needs_wal)
	{
		XLogBeginInsert();
		for (i = 0; i < wal->npages; i++)
		{
			AuraWalPage *p = &wal->pages[i];

			if (p->full_image)
				XLogRegisterBuffer(i, p->buffer,
								   REGBUF_FORCE_IMAGE | REGBUF_STANDARD);
			else
			{
				Size		len = build_delta(p, deltas[i]);

#ifdef AURA_DEBUG
				verify_delta(p, deltas[i], len);
#endif
				XLogRegisterBuffer(i, p->buffer, REGBUF_STANDARD);
				XLogRegisterBufData(i, deltas[i], len);
			}
		}
		lsn = XLogInsert(RM_GENERIC_ID, 0);
		for (i = 0; i < wal->npages; i++)
			PageSetLSN(wal->pages[i].page, lsn);
	}
	else if (wal->rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
	{
		/* VACUUM tells pages changed during its pass by their LSN */
		lsn = GetFakeLSNForUnloggedRel();
		for (i = 0; i < wal->npages; i++)
			PageSetLSN(wal->pages[i].page, lsn);
	}
	END_CRIT_SECTION();
	wal->in_changes = false;

#ifdef AURA_DEBUG
	for (i = 0; i < wal->npages; i++)
		if (wal->pages[i].preimage)
			pfree(wal->pages[i].preimage);
#endif
}
