/*-------------------------------------------------------------------------
 *
 * vacuum.c
 *	  VACUUM of aura tables: removing dead versions, freezing, recycling
 *	  rowids and freeing pages.
 *
 * One pass visits every rowid's chain (newest to oldest) and decides for
 * each version whether it stays linked:
 *	- a version whose inserter aborted is dropped;
 *	- the first version whose inserter committed before every running
 *	  snapshot (xmin older than OldestXmin, or frozen) is the oldest one
 *	  anybody can need: every snapshot sees its xmin committed, so it sees
 *	  that version or a newer one.  Everything older is dropped.
 * Dropped versions are unlinked by rewriting the prev pointer of the kept
 * version before them, or the map entry when they are at the head.  Kept
 * versions with xids older than the freeze limit are frozen with heap's
 * heap_prepare_freeze_tuple / heap_execute_freeze_tuple, which also tell
 * the oldest xid and multixact left, so relfrozenxid and relminmxid advance
 * as far as heap's would.
 *
 * A chain may end in a cold row (AURA_VF_PREV_COLD, chain.c): it is
 * dropped like any older version once its successor is settled, and a
 * cold row left at the head by an aborted update gets its map entry back.
 *
 * A rowid whose only kept version is dead to everyone (deleted, or updated
 * into another rowid, before OldestXmin), or that has no kept version at
 * all, is a dead rowid: its TID is removed from every index
 * (index_bulk_delete), and only then its map entry is marked free, so the
 * allocator can hand the rowid out again (meta.c).
 *
 * Then hot pages where fewer than half of the versions were kept have
 * their settled rows moved to a page of the pass's own (relocation, see
 * vac_move_versions), so that they empty.  Every hot page that holds no
 * kept version and was not written since the pass began becomes a FREE
 * page (pagefree.c), reused after no transaction that could still read it
 * is left; so do the pages of every blob no kept version references (each
 * blob belongs to one version).  Free pages at the end of the relation are
 * truncated away.
 *
 * Lock order: one hot page at a time (relocation: the source page, then
 * the private destination page), then the meta page, then a map page, as
 * everywhere (docs/architecture.md, section 6).  WAL: each change is one
 * record (a kept version's page; the map page; meta and map page for
 * recycling; source, destination and map page for relocation).  A crash
 * between records leaves versions unlinked but their pages not yet freed
 * (a later pass counts nothing kept there and frees them), or a rowid
 * whose index entries are gone but whose map entry still points at its
 * dead version (the next pass finds it dead and recycles it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/heapam_xlog.h"
#include "access/detoast.h"
#include "access/multixact.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "commands/dbcommands.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "storage/blob.h"
#include "storage/cold.h"
#include "storage/freespace.h"
#include "storage/latch.h"
#include "storage/meta.h"
#include "storage/pagefree.h"
#include "storage/proc.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "tableam/aura_tableam.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_rusage.h"
#include "utils/timestamp.h"

/* A version of the chain being vacuumed */
typedef struct VacVersion
{
	BlockNumber block;
	OffsetNumber offset;
	BlockNumber prev_block;		/* its prev pointer when read */
	OffsetNumber prev_offset;
	bool		prev_cold;		/* ... and it names a cold row */
	bool		keep;
	bool		freeze;			/* has xids to freeze */
	bool		cold;			/* a cold row below a successor */
	bool		lockers;		/* dropped, with running lockers */
} VacVersion;

/* A dead rowid waiting for index cleanup */
typedef struct VacDeadRowid
{
	uint64		rowid;
	BlockNumber block;			/* its map entry when found dead */
	OffsetNumber offset;
} VacDeadRowid;

typedef struct AuraVacuum
{
	Relation	rel;
	BufferAccessStrategy bstrategy;
	int			elevel;
	bool		index_cleanup;
	bool		truncate;

	TransactionId OldestXmin;
	MultiXactId OldestMxact;
	TransactionId FreezeLimit;
	MultiXactId MultiXactCutoff;
	TransactionId NewRelfrozenXid;
	MultiXactId NewRelminMxid;

	XLogRecPtr	start_lsn;		/* pages with a newer LSN changed meanwhile */
	uint64		hot_pages_at_start; /* the meta page's hot_pages_new */
	BlockNumber nblocks;		/* pages at the start of the pass */
	XLogRecPtr *own_lsn;		/* per page: LSN of the pass's own last change */
	uint16	   *kept;			/* kept versions per page */
	uint8	   *kept_bits;		/* bit per (block, line pointer) kept */
	uint8	   *blob_refs;		/* bit per block: a kept version's blob */
	uint8	   *cold_bits;		/* bit per block: a cold page rows point to */
	Buffer		dest;			/* private page relocated versions go to */
	BlockNumber *freed;			/* pages this pass freed, in that order */
	int			nfreed;
	int			maxfreed;
	int			reuse_next;		/* freed[] before this are reused or gone */
	int			reuse_waited;	/* ms waited for freed[] to become reusable */
	double		moved;
	double		blob_pages_freed;

	VacVersion *chain;			/* the chain at hand */
	int			chain_max;

	/* cold pages (cold.h) */
	bool		cold;			/* may settled rows go to cold pages? */
	AuraColdBuilder *builder;
	uint64	   *cand;			/* rowids of this map page to make cold */
	int			ncand;
	double		made_cold;		/* hot rows copied to cold pages */
	double		cold_rewritten; /* cold rows of rebuilt pages */

	VacDeadRowid *dead;			/* sorted by rowid */
	int			ndead;
	int			maxdead;

	Relation   *indrels;
	int			nindexes;
	IndexBulkDeleteResult **indstats;

	/* what was found and done */
	double		live_rows;
	double		recently_dead;
	double		removed;
	double		frozen;
	double		recycled;
	double		pages_freed;
	int			index_passes;
	bool		conflict_logged;
} AuraVacuum;

/*
 * Before the first change that removes versions a standby snapshot might
 * still see (heap's prune records carry the same conflict): every removed
 * version was dead before OldestXmin.
 */
static void
vac_standby_conflict(AuraVacuum *vac)
{
	TransactionId latest = vac->OldestXmin;

	if (vac->conflict_logged)
		return;
	TransactionIdRetreat(latest);
	aura_log_standby_conflict(vac->rel, AURA_META_BLOCK, latest);
	vac->conflict_logged = true;
}

#define KEPT_BIT(blk, off) \
	((uint64) (blk) * MaxHeapTuplesPerPage + ((off) - 1))

/* Remember the blobs a kept version references */
/*
 * Was this page written since the pass began by somebody else?  A page
 * written meanwhile may hold versions the pass did not see, so it is not
 * freed.  The pass's own changes (old copies flagged as moved, prev
 * pointers, freezing) add no version: a page whose newest change is the
 * pass's own, made while nobody else had written it since the pass began,
 * counts as not written (vac_page_changed remembers such changes).
 */
static bool
vac_written_meanwhile(AuraVacuum *vac, BlockNumber blkno, Page page)
{
	XLogRecPtr	lsn = PageGetLSN(page);

	if (lsn < vac->start_lsn)
		return false;
	return !(blkno < vac->nblocks && vac->own_lsn[blkno] == lsn);
}

/*
 * After the pass changed a page it holds exclusively: written_before is
 * vac_written_meanwhile() as of just before the change.
 */
static void
vac_page_changed(AuraVacuum *vac, BlockNumber blkno, Page page,
				 bool written_before)
{
	if (!written_before && blkno < vac->nblocks)
		vac->own_lsn[blkno] = PageGetLSN(page);
}

/*
 * Free a page the pass holds exclusively (pagefree.c), count it, and
 * remember it for the pass's own new pages (vac_take_new_page)
 */
static void
vac_mark_free(AuraVacuum *vac, Buffer buf)
{
	aura_page_mark_free(vac->rel, buf);
	vac->pages_freed += 1;
	if (vac->nfreed == vac->maxfreed)
	{
		vac->maxfreed = Max(256, vac->maxfreed * 2);
		vac->freed = vac->freed ?
			repalloc_huge(vac->freed, vac->maxfreed * sizeof(BlockNumber)) :
			palloc(vac->maxfreed * sizeof(BlockNumber));
	}
	vac->freed[vac->nfreed++] = BufferGetBlockNumber(buf);
}

/* How many pinned pages vac_take_new_page passes over before it gives up */
#define VAC_REUSE_TRIES		4

/*
 * How long, in all, a pass waits for the pages it freed to become reusable
 * (the transactions running when it freed them to end), and how often it
 * looks
 */
#define VAC_REUSE_WAIT_MS	200
#define VAC_REUSE_POLL_MS	1

/*
 * A page for the pass's own writes (relocated versions, cold pages),
 * exclusively locked, to be initialised with a full page image: the
 * oldest page this pass has freed, once it may be reused (pagefree.c),
 * else what a writer would get (vlog_new_page).  The freed pages are in
 * the FSM, but its upper levels learn of them only at the end of the pass
 * (vac_free_pages): when the FSM had nothing left as the pass began, a
 * search from its root does not find them, and the pass would extend the
 * table by all it rewrites while the pages it freed lay unused.
 *
 * A page becomes reusable once the transactions running when it was freed
 * have ended -- under an OLTP load a few milliseconds later, while the
 * rebuild of cold pages starts right after the hot pages are freed.  So
 * with may_wait (the caller holds no buffer lock) the pass waits for the
 * oldest one, VAC_REUSE_WAIT_MS at most in all: a long transaction reading
 * the table must not hold the pass up for long.  Pages are freed in the
 * order of their free xids, so once one is not reusable yet, none after it
 * is.
 */
static Buffer
vac_take_new_page(AuraVacuum *vac, bool may_wait)
{
	int			i = vac->reuse_next;
	int			pinned = 0;

	while (i < vac->nfreed && pinned < VAC_REUSE_TRIES)
	{
		Buffer		buf;
		AuraTakeResult r = aura_take_free_block(vac->rel, vac->freed[i], &buf);

		if (r == AURA_TAKE_NOT_YET)
		{
			if (!may_wait || vac->reuse_waited >= VAC_REUSE_WAIT_MS)
				break;
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 VAC_REUSE_POLL_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			vac->reuse_waited += VAC_REUSE_POLL_MS;
			continue;
		}
		if (r == AURA_TAKE_PINNED)
		{
			pinned++;
			i++;
			continue;
		}
		/* taken or gone: drop it from the list */
		vac->freed[i] = vac->freed[vac->reuse_next++];
		if (r == AURA_TAKE_OK)
			return buf;
		i++;
	}
	return vlog_new_page(vac->rel);
}

/*
 * The cold builder's pages: it holds no buffer lock, so it may wait --
 * unless the pass is no VACUUM (aura_compact), whose own snapshot keeps
 * the pages it frees from reuse until its transaction ends
 */
static Buffer
vac_new_page(void *arg)
{
	return vac_take_new_page((AuraVacuum *) arg,
							 (MyProc->statusFlags & PROC_IN_VACUUM) != 0);
}

static void
vac_mark_blobs(AuraVacuum *vac, HeapTuple tuple)
{
	BlockNumber *firsts = palloc(RelationGetDescr(vac->rel)->natts * sizeof(BlockNumber));
	int			n = blob_references(vac->rel, tuple, firsts);
	int			i;

	for (i = 0; i < n; i++)
		if (firsts[i] < vac->nblocks)
			vac->blob_refs[firsts[i] / 8] |= 1 << (firsts[i] % 8);
	pfree(firsts);
}

static void
vac_count_kept(AuraVacuum *vac, BlockNumber block, OffsetNumber offset)
{
	if (block < vac->nblocks)
	{
		uint64		bit = KEPT_BIT(block, offset);

		if (vac->kept[block] < PG_UINT16_MAX)
			vac->kept[block]++;
		/* (cold items are counted, not marked: relocation is for hot pages) */
		if (offset <= MaxHeapTuplesPerPage)
			vac->kept_bits[bit / 8] |= 1 << (bit % 8);
	}
}

/* Let a version we leave linked hold back relfrozenxid / relminmxid */
static void
vac_account_version(AuraVacuum *vac, BlockNumber block, OffsetNumber offset)
{
	Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, block,
										 RBM_NORMAL, vac->bstrategy);

	ItemId		lp;
	HeapTupleData tuple;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tuple.t_data = AuraVersionGetTuple(vlog_get_version(BufferGetPage(buf),
														offset));
	lp = PageGetItemId(BufferGetPage(buf), offset);
	tuple.t_len = ItemIdGetLength(lp) - AURA_VERSION_HDRSZ;
	(void) heap_tuple_would_freeze(tuple.t_data,
								   vac->FreezeLimit, vac->MultiXactCutoff,
								   &vac->NewRelfrozenXid, &vac->NewRelminMxid);
	if (HeapTupleHasExternal(&tuple))
		vac_mark_blobs(vac, &tuple);
	UnlockReleaseBuffer(buf);
	vac_count_kept(vac, block, offset);
}

/*
 * Rewrite a kept version: freeze it if it has old xids, and point its prev
 * at `prev' (the next kept version, or nothing; prev_cold: a cold row).
 * One record.
 */
static void
vac_rewrite_version(AuraVacuum *vac, uint64 rowid, const VacVersion *v,
					BlockNumber prev_block, OffsetNumber prev_offset,
					bool prev_cold)
{
	Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, v->block,
										 RBM_NORMAL, vac->bstrategy);
	Page		page;
	AuraVersionHeader *vh;
	HeapTupleHeader t;
	xl_heap_freeze_tuple frz;
	bool		totally_frozen;
	bool		do_freeze = false;
	AuraWal		wal;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	aura_page_check_kind(vac->rel, v->block, page, AURA_PAGE_HOT);
	vh = vlog_get_version(page, v->offset);
	AURA_CHECK(vh->rowid == rowid);
	AURA_CHECK(!v->cold);
	t = AuraVersionGetTuple(vh);

	/*
	 * May create a MultiXact or raise an error: before the critical
	 * section.  (Versions with nothing to freeze were counted towards
	 * relfrozenxid by the chain walk already.)
	 */
	if (v->freeze)
		do_freeze = heap_prepare_freeze_tuple(t, vac->rel->rd_rel->relfrozenxid,
											  vac->rel->rd_rel->relminmxid,
											  vac->FreezeLimit,
											  vac->MultiXactCutoff, &frz,
											  &totally_frozen,
											  &vac->NewRelfrozenXid,
											  &vac->NewRelminMxid);

	if (do_freeze || vh->prev_block != prev_block ||
		vh->prev_offset != prev_offset ||
		((vh->flags & AURA_VF_PREV_COLD) != 0) != prev_cold)
	{
		bool		written = vac_written_meanwhile(vac, v->block, page);

		/* unlinking, like freezing, must not surprise a standby snapshot */
		vac_standby_conflict(vac);
		aura_wal_start(&wal, vac->rel);
		(void) aura_wal_register(&wal, buf, false);
		aura_wal_begin_changes(&wal);
		if (do_freeze)
			heap_execute_freeze_tuple(t, &frz);
		vh->prev_block = prev_block;
		vh->prev_offset = prev_offset;
		if (prev_cold)
			vh->flags |= AURA_VF_PREV_COLD;
		else
			vh->flags &= ~AURA_VF_PREV_COLD;
		aura_wal_changed(&wal, page, vh,
						 AURA_VERSION_HDRSZ + SizeofHeapTupleHeader);
		aura_wal_finish(&wal);
		vac_page_changed(vac, v->block, page, written);
		if (do_freeze)
			vac->frozen += 1;
	}
	UnlockReleaseBuffer(buf);
}

/*
 * Point rowid's map entry at the version new_head (a cold row once more,
 * if an update chained to it aborted) if it still points at the old head.
 * Returns false if a writer prepended a version meanwhile.
 */
static bool
vac_repoint_map(AuraVacuum *vac, uint64 rowid, const VacVersion *old_head,
				const VacVersion *new_head)
{
	Buffer		buf = rowmap_lock_page(vac->rel, rowid, BUFFER_LOCK_EXCLUSIVE,
									   false);
	Page		page = BufferGetPage(buf);
	AuraMapEntry *entry = rowmap_page_entry(page, rowid);
	bool		same = entry->block == old_head->block &&
		entry->offset == old_head->offset;

	if (same)
	{
		AuraWal		wal;

		aura_wal_start(&wal, vac->rel);
		(void) aura_wal_register(&wal, buf, false);
		aura_wal_begin_changes(&wal);
		rowmap_set_entry_flags(&wal, page, rowid, new_head->block,
							   new_head->offset,
							   new_head->cold ? AURA_MAP_COLD : 0);
		aura_wal_finish(&wal);
	}
	UnlockReleaseBuffer(buf);
	return same;
}

static void
vac_remember_dead(AuraVacuum *vac, uint64 rowid, const VacVersion *head);

/*
 * Count the cold rows of a copy of one map page (n entries): each is live,
 * and keeps its cold page (kept counts per page, taken in runs of entries
 * naming the same page; cold items are counted, not marked in kept_bits,
 * which are for hot pages).
 */
static void
vac_count_cold(AuraVacuum *vac, const AuraMapEntry *entries, int n)
{
	BlockNumber run_block = InvalidBlockNumber;
	uint32		run = 0;
	uint32		ncold = 0;
	int			i;

	for (i = 0; i <= n; i++)
	{
		if (i < n && !(entries[i].flags & AURA_MAP_COLD))
			continue;
		if (i == n || entries[i].block != run_block)
		{
			if (run > 0 && run_block < vac->nblocks)
			{
				vac->kept[run_block] = Min((uint32) vac->kept[run_block] + run,
										   PG_UINT16_MAX);
				vac->cold_bits[run_block / 8] |= 1 << (run_block % 8);
			}
			if (i == n)
				break;
			run_block = entries[i].block;
			run = 0;
		}
		run++;
		ncold++;
	}
	vac->live_rows += ncold;
}

/* Does a locker other than us still hold a lock in this version's xmax? */
static bool
vac_has_running_lockers(HeapTupleHeader t)
{
	MultiXactMember *lockers;
	int			n = aura_xmax_running_lockers(t, &lockers);

	if (n > 0)
		pfree(lockers);
	return n > 0;
}

/* Vacuum the chain of one rowid */
static void
vac_rowid(AuraVacuum *vac, uint64 rowid)
{
	AuraChainCursor cur;
	int			n = 0;
	int			nkept = 0;
	int			first_kept = -1;
	bool		settled = false;
	bool		dead = false;
	int			i;

	if (!chain_first(&cur, vac->rel, rowid, BUFFER_LOCK_SHARE, NULL))
		return;
	do
	{
		VacVersion *v;
		HeapTupleHeader t = cur.tuple.t_data;
		HTSV_Result st;
		AuraXminState xmin_state;

		if (n == vac->chain_max)
		{
			vac->chain_max *= 2;
			vac->chain = repalloc(vac->chain, vac->chain_max * sizeof(VacVersion));
		}
		v = &vac->chain[n++];
		v->block = cur.block;
		v->offset = cur.offset;
		v->prev_block = cur.vh->prev_block;
		v->prev_offset = cur.vh->prev_offset;
		v->prev_cold = (cur.vh->flags & AURA_VF_PREV_COLD) != 0;
		v->keep = false;
		v->freeze = false;
		v->cold = cur.cold;
		v->lockers = false;

		if (settled)
			continue;			/* older than what every snapshot sees */
		st = HeapTupleSatisfiesVacuum(&cur.tuple, vac->OldestXmin, cur.buf);
		xmin_state = aura_xmin_state(t);
		if (xmin_state == AURA_XMIN_ABORTED)
		{
			/*
			 * An aborted update of a cold row may carry locks that lockers
			 * could not write into the cold row (dml.c): see below.
			 */
			v->lockers = vac_has_running_lockers(t);
			continue;
		}

		v->keep = true;
		if (first_kept < 0)
			first_kept = n - 1;
		nkept++;

		/*
		 * (From the clog, not the hint bit: HeapTupleSatisfiesVacuum does
		 * not set it while the commit record may still be unflushed and
		 * the page is older than it.)
		 */
		if (xmin_state == AURA_XMIN_COMMITTED &&
			(HeapTupleHeaderXminFrozen(t) ||
			 TransactionIdPrecedes(HeapTupleHeaderGetXmin(t), vac->OldestXmin)))
			settled = true;

		switch (st)
		{
			case HEAPTUPLE_DEAD:
				/* only the newest kept version can be dead to everyone */
				dead = nkept == 1 && settled;
				break;
			case HEAPTUPLE_LIVE:
			case HEAPTUPLE_DELETE_IN_PROGRESS:
				vac->live_rows += 1;
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				vac->recently_dead += 1;
				break;
			case HEAPTUPLE_INSERT_IN_PROGRESS:
				break;
		}
		if (!dead && HeapTupleHasExternal(&cur.tuple))
			vac_mark_blobs(vac, &cur.tuple);

		/*
		 * A cold row below a successor is frozen and has no xmax of its
		 * own (the implicit one is the successor's xmin, counted there):
		 * nothing in it holds back relfrozenxid, and nothing is frozen.
		 */
		if (!dead && !v->cold)
		{
			/*
			 * heap_tuple_would_freeze counts the xids as staying; only if
			 * none is to be frozen do they (otherwise freezing counts
			 * what stays).
			 */
			TransactionId relfrozenxid = vac->NewRelfrozenXid;
			MultiXactId relminmxid = vac->NewRelminMxid;

			v->freeze = heap_tuple_would_freeze(t, vac->FreezeLimit,
												vac->MultiXactCutoff,
												&relfrozenxid, &relminmxid) &&
				st != HEAPTUPLE_DEAD;
			if (!v->freeze)
			{
				vac->NewRelfrozenXid = relfrozenxid;
				vac->NewRelminMxid = relminmxid;
			}
		}
	} while (chain_next(&cur));
	chain_end(&cur, NULL);

	/* no live version at all: the whole rowid goes */
	if (nkept == 0 || dead)
	{
		for (i = 0; i < n; i++)
			if (!vac->chain[i].keep || dead)
				vac->removed += 1;
		vac_remember_dead(vac, rowid, &vac->chain[0]);
		return;
	}

	/* unlink what is dropped behind each kept version, freeze kept ones */
	for (i = first_kept; i < n; i++)
	{
		VacVersion *v = &vac->chain[i];
		int			next;
		BlockNumber pb = InvalidBlockNumber;
		OffsetNumber po = InvalidOffsetNumber;

		if (!v->keep)
		{
			vac->removed += 1;
			continue;
		}
		for (next = i + 1; next < n && !vac->chain[next].keep; next++)
			;
		if (next < n)
		{
			pb = vac->chain[next].block;
			po = vac->chain[next].offset;
		}
		if (!v->cold &&
			(v->freeze || v->prev_block != pb || v->prev_offset != po ||
			 (next < n && vac->chain[next].cold) != v->prev_cold))
			vac_rewrite_version(vac, rowid, v, pb, po,
								next < n && vac->chain[next].cold);
		vac_count_kept(vac, v->block, v->offset);
	}

	/* a settled hot row alone in its chain may go to a cold page */
	if (vac->cold && nkept == 1 && settled && !vac->chain[first_kept].cold)
		vac->cand[vac->ncand++] = rowid;

	/*
	 * Dropped versions at the head: the map entry skips them.  Not if the
	 * row they leave at the head is cold and one of them may hold a running
	 * locker's lock: the cold row cannot take it over, so they stay linked
	 * until the lockers have ended (a writer materialises the row
	 * meanwhile, carrying the locks: cold_rematerialise).
	 */
	for (i = 0; i < first_kept && vac->chain[first_kept].cold; i++)
		if (vac->chain[i].lockers)
			break;
	if (first_kept > 0)
	{
		vac->removed += first_kept;
		if ((vac->chain[first_kept].cold && i < first_kept) ||
			!vac_repoint_map(vac, rowid, &vac->chain[0],
							 &vac->chain[first_kept]))
		{
			/* a writer chained a version in front (or lockers): they stay */
			vac->removed -= first_kept;
			for (i = 0; i < first_kept; i++)
				vac_account_version(vac, vac->chain[i].block,
									vac->chain[i].offset);
		}
	}
}

/* index_bulk_delete callback: is this TID a dead rowid? */
static bool
vac_tid_reaped(ItemPointer itemptr, void *state)
{
	AuraVacuum *vac = (AuraVacuum *) state;
	uint64		rowid;
	int			lo = 0;
	int			hi = vac->ndead - 1;

	if (!aura_tid_to_rowid(itemptr, &rowid))
		return false;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (vac->dead[mid].rowid == rowid)
			return true;
		if (vac->dead[mid].rowid < rowid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

static IndexVacuumInfo
vac_index_info(AuraVacuum *vac, Relation indrel)
{
	IndexVacuumInfo ivinfo;

	ivinfo.index = indrel;
	ivinfo.analyze_only = false;
	ivinfo.report_progress = false;
	ivinfo.estimated_count = true;
	ivinfo.message_level = vac->elevel;
	ivinfo.num_heap_tuples = vac->live_rows;
	ivinfo.strategy = vac->bstrategy;
	return ivinfo;
}

/*
 * Mark the map entries of the dead rowids on one map page free, if they
 * still point where they pointed when found dead.  Meta page, then map
 * page, one record.
 */
static void
vac_recycle_map_page(AuraVacuum *vac, int from, int to)
{
	uint64		mapno = RowidGetMapPageNo(vac->dead[from].rowid);
	/* look the map page up before locking the meta page (rowmap_lock_block) */
	BlockNumber mapblk = rowmap_page_block(vac->rel, mapno, false);
	Buffer		metabuf = aura_meta_read(vac->rel, BUFFER_LOCK_EXCLUSIVE);
	Buffer		mapbuf = rowmap_lock_block(vac->rel, mapblk, mapno,
										   BUFFER_LOCK_EXCLUSIVE);
	Page		metapage = BufferGetPage(metabuf);
	Page		mappage;
	AuraMetaData *meta = AuraPageGetMeta(metapage);
	AuraWal		wal;
	int			i;
	uint64		nfreed = 0;
	bool	   *stale = palloc0((to - from) * sizeof(bool));

	if (!BufferIsValid(mapbuf))
		elog(ERROR, "could not find row map page %llu of aura table \"%s\"",
			 (unsigned long long) mapno, RelationGetRelationName(vac->rel));
	mappage = BufferGetPage(mapbuf);
	vac_standby_conflict(vac);

	aura_wal_start(&wal, vac->rel);
	(void) aura_wal_register(&wal, metabuf, false);
	(void) aura_wal_register(&wal, mapbuf, false);
	aura_wal_begin_changes(&wal);
	for (i = from; i < to; i++)
	{
		AuraMapEntry *entry = rowmap_page_entry(mappage, vac->dead[i].rowid);

		if (entry->block != vac->dead[i].block ||
			entry->offset != vac->dead[i].offset)
		{
			stale[i - from] = true;
			continue;
		}
		entry->block = 0;
		entry->offset = 0;
		entry->flags = AURA_MAP_FREE;
		aura_wal_changed(&wal, mappage, entry, sizeof(AuraMapEntry));
		nfreed++;
	}
	meta->nfree += nfreed;
	if (nfreed > 0 && (meta->nfree == nfreed || mapno < meta->free_hint))
		meta->free_hint = mapno;
	aura_meta_cover(&wal, metapage);
	aura_wal_changed(&wal, metapage, &meta->nfree,
					 sizeof(meta->nfree) + sizeof(meta->free_hint));
	aura_wal_finish(&wal);
	UnlockReleaseBuffer(mapbuf);
	UnlockReleaseBuffer(metabuf);

	vac->recycled += nfreed;
	for (i = from; i < to; i++)
		if (stale[i - from])
			vac_account_version(vac, vac->dead[i].block, vac->dead[i].offset);
	pfree(stale);
}

/*
 * Remove the dead rowids from every index, then recycle them.  Without
 * index cleanup (VACUUM (INDEX_CLEANUP OFF)) they stay as they are.
 */
static void
vac_dead_rowids(AuraVacuum *vac)
{
	int			i;
	int			from;

	if (vac->ndead == 0)
		return;

	if (!vac->index_cleanup)
	{
		for (i = 0; i < vac->ndead; i++)
			vac_account_version(vac, vac->dead[i].block, vac->dead[i].offset);
		vac->ndead = 0;
		return;
	}

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_INDEX);
	for (i = 0; i < vac->nindexes; i++)
	{
		IndexVacuumInfo ivinfo = vac_index_info(vac, vac->indrels[i]);

		vac->indstats[i] = index_bulk_delete(&ivinfo, vac->indstats[i],
											 vac_tid_reaped, vac);
	}
	vac->index_passes++;
	pgstat_progress_update_param(PROGRESS_VACUUM_NUM_INDEX_VACUUMS,
								 vac->index_passes);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_HEAP);
	for (from = 0; from < vac->ndead; from = i)
	{
		uint64		mapno = RowidGetMapPageNo(vac->dead[from].rowid);

		for (i = from; i < vac->ndead &&
			 RowidGetMapPageNo(vac->dead[i].rowid) == mapno; i++)
			;
		vac_recycle_map_page(vac, from, i);
	}
	vac->ndead = 0;
	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_SCAN_HEAP);
}

static void
vac_remember_dead(AuraVacuum *vac, uint64 rowid, const VacVersion *head)
{
	if (vac->ndead == vac->maxdead)
		vac_dead_rowids(vac);
	vac->dead[vac->ndead].rowid = rowid;
	vac->dead[vac->ndead].block = head->block;
	vac->dead[vac->ndead].offset = head->offset;
	vac->ndead++;
	pgstat_progress_update_param(PROGRESS_VACUUM_NUM_DEAD_TUPLES, vac->ndead);
}

/*
 * Relocation: a hot page with few kept versions is emptied by copying its
 * settled rows -- a single version, the map's head, inserted before
 * OldestXmin, no xmax -- to a page of this pass's own, so that the page
 * can be freed.  Each move is one record of three pages: the old copy gets
 * AURA_VF_MOVED, the new copy is added, the map entry points at it.  We
 * hold the old page exclusively throughout, so no writer can change the
 * version meanwhile; a writer that read the map before the move finds the
 * flag under its lock and looks again (chain_first).  Readers holding an
 * old pointer read the old copy, identical to the new one as of the move:
 * what changes the new copy later is newer than their snapshots.
 *
 * Lock order: the old page, then the private destination page (nobody else
 * knows it: it is neither in the FSM nor anyone's target), then the map
 * page -- see docs/architecture.md, section 6.
 */
#define AURA_COMPACT_KEPT_PERCENT	50

/* A page for relocated versions with room for `needed' bytes, locked */
static Buffer
vac_dest_page(AuraVacuum *vac, Size needed, BlockNumber avoid)
{
	if (BufferIsValid(vac->dest))
	{
		LockBuffer(vac->dest, BUFFER_LOCK_EXCLUSIVE);
		if (PageGetFreeSpace(BufferGetPage(vac->dest)) >= needed)
			return vac->dest;
		UnlockReleaseBuffer(vac->dest);
		vac->dest = InvalidBuffer;
	}
	for (;;)
	{
		/* (the source page is locked: no waiting) */
		Buffer		buf = vac_take_new_page(vac, false);

		if (BufferGetBlockNumber(buf) != avoid)
		{
			vac->dest = buf;
			return buf;
		}
		UnlockReleaseBuffer(buf);	/* our own page, freed just now */
	}
}

/*
 * Move settled versions at offs[0..n) of the page in buf, all of rowids on
 * one map page, to the destination page: one record of three pages (the
 * old copies get AURA_VF_MOVED, the copies are added, the map entries move).
 * Returns how many were moved (as many as fit; the caller goes on with the
 * rest).
 */
static int
vac_move_versions(AuraVacuum *vac, Buffer buf, OffsetNumber *offs, int n)
{
	BlockNumber blkno = BufferGetBlockNumber(buf);
	Page		page = BufferGetPage(buf);
	uint64		mapno = RowidGetMapPageNo(vlog_get_version(page, offs[0])->rowid);
	BlockNumber mapblk = rowmap_page_block(vac->rel, mapno, false);
	Size		first_len = MAXALIGN(ItemIdGetLength(PageGetItemId(page, offs[0])));
	Buffer		dest;
	Buffer		mapbuf;
	Page		destpage;
	Page		mappage;
	Size		room;
	bool		fresh;
	bool		written;
	AuraWal		wal;
	int			i;
	int			moved = 0;

	dest = vac_dest_page(vac, first_len + sizeof(ItemIdData), blkno);
	destpage = BufferGetPage(dest);
	fresh = AuraPageIsFresh(destpage);
	room = fresh ? AURA_PAGE_CONTENT_SIZE : PageGetExactFreeSpace(destpage);
	mapbuf = rowmap_lock_block(vac->rel, mapblk, mapno, BUFFER_LOCK_EXCLUSIVE);
	if (!BufferIsValid(mapbuf))
	{
		LockBuffer(dest, BUFFER_LOCK_UNLOCK);
		return n;				/* cannot happen: skip them */
	}
	mappage = BufferGetPage(mapbuf);
	written = vac_written_meanwhile(vac, blkno, page);

	aura_wal_start(&wal, vac->rel);
	(void) aura_wal_register(&wal, buf, false);
	(void) aura_wal_register(&wal, dest, fresh);
	(void) aura_wal_register(&wal, mapbuf, false);
	aura_wal_begin_changes(&wal);
	if (fresh)
		aura_page_init(destpage, AURA_PAGE_HOT, 0, 0);
	for (i = 0; i < n; i++)
	{
		ItemId		lp = PageGetItemId(page, offs[i]);
		AuraVersionHeader *vh = (AuraVersionHeader *) PageGetItem(page, lp);
		Size		len = ItemIdGetLength(lp);
		AuraMapEntry *entry = rowmap_page_entry(mappage, vh->rowid);
		OffsetNumber newoff;

		if (MAXALIGN(len) + sizeof(ItemIdData) > room ||
			PageGetMaxOffsetNumber(destpage) >= MaxHeapTuplesPerPage)
			break;
		moved++;
		/* the map's head cannot change while we hold the page; be sure */
		if (entry->block != blkno || entry->offset != offs[i])
			continue;
		newoff = aura_wal_add_item(&wal, destpage, (Item) vh, len);
		room -= MAXALIGN(len) + sizeof(ItemIdData);
		vh->flags |= AURA_VF_MOVED;
		aura_wal_changed(&wal, page, &vh->flags, sizeof(vh->flags));
		rowmap_set_entry(&wal, mappage, vh->rowid, BufferGetBlockNumber(dest),
						 newoff);
		vac->moved += 1;
	}
	aura_wal_finish(&wal);
	vac_page_changed(vac, blkno, page, written);

	/*
	 * The destination holds kept versions now: a reused page below nblocks
	 * must not be freed by this pass (a temporary table's pages carry no
	 * LSN that would tell it was written since the pass began).
	 */
	if (BufferGetBlockNumber(dest) < vac->nblocks)
		vac->kept[BufferGetBlockNumber(dest)] =
			Min((int) vac->kept[BufferGetBlockNumber(dest)] + moved, PG_UINT16_MAX);

	UnlockReleaseBuffer(mapbuf);
	LockBuffer(dest, BUFFER_LOCK_UNLOCK);
	if (moved == 0)
	{
		/* the destination is full: the next call takes a new one */
		ReleaseBuffer(vac->dest);
		vac->dest = InvalidBuffer;
	}
	return moved;
}

/* May relocation move this kept version? */
static bool
vac_movable(AuraVacuum *vac, AuraVersionHeader *vh)
{
	HeapTupleHeader t = AuraVersionGetTuple(vh);

	/*
	 * (AURA_VF_UPDATED without an xmax is what an aborted update leaves:
	 * the row is its own newest version again.)
	 */
	return vh->prev_block == InvalidBlockNumber &&
		!(vh->flags & AURA_VF_MOVED) &&
		(t->t_infomask & HEAP_XMAX_INVALID) &&
		aura_xmin_state(t) == AURA_XMIN_COMMITTED &&
		(HeapTupleHeaderXminFrozen(t) ||
		 TransactionIdPrecedes(HeapTupleHeaderGetXmin(t), vac->OldestXmin));
}

/*
 * May this kept version go to a cold page?  A movable (settled) row
 * without blob references and small enough; its copy is frozen: every
 * snapshot sees it anyway (its inserter committed before OldestXmin).
 */
static bool
vac_cold_candidate(AuraVacuum *vac, AuraVersionHeader *vh, uint32 t_len)
{
	return vac_movable(vac, vh) &&
		cold_row_fits(AuraVersionGetTuple(vh), t_len);
}

static void
vac_compact_page(AuraVacuum *vac, BlockNumber blkno, bool move_rows)
{
	Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno,
										 RBM_NORMAL, vac->bstrategy);
	Page		page;
	OffsetNumber off;
	OffsetNumber maxoff;
	OffsetNumber movable[MaxHeapTuplesPerPage];
	int			nmovable = 0;
	int			i;
	bool		still_linked = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (AuraPageGetKind(page) != AURA_PAGE_HOT)
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	maxoff = PageGetMaxOffsetNumber(page);
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		uint64		bit = KEPT_BIT(blkno, off);
		AuraVersionHeader *vh;
		TransactionId xmin;

		if (!ItemIdIsNormal(lp))
			continue;
		vh = (AuraVersionHeader *) PageGetItem(page, lp);
		if (vh->flags & AURA_VF_MOVED)
			continue;
		if (vac->kept_bits[bit / 8] & (1 << (bit % 8)))
		{
			if (move_rows && vac_movable(vac, vh) &&
				nmovable < MaxHeapTuplesPerPage)
				movable[nmovable++] = off;
			else
				still_linked = true;
			continue;
		}

		/*
		 * Not kept by the pass: unlinked, if it existed when the pass
		 * began.  A version written since is by a transaction not older
		 * than OldestXmin (or a killed speculative insertion): keep it.
		 * The exception is a materialised cold row, which keeps the cold
		 * row's old xmin: on a page written since the pass began it may be
		 * one the pass did not see, so it stays.
		 */
		if ((vh->flags & AURA_VF_MATERIALISED) &&
			vac_written_meanwhile(vac, blkno, page))
		{
			still_linked = true;
			continue;
		}
		xmin = HeapTupleHeaderGetRawXmin(AuraVersionGetTuple(vh));
		if (!TransactionIdIsValid(xmin) ||
			(TransactionIdIsNormal(xmin) &&
			 !TransactionIdPrecedes(xmin, vac->OldestXmin)))
			still_linked = true;
	}

	/* move them in runs of rowids on one map page */
	for (i = 0; i < nmovable;)
	{
		uint64		mapno = RowidGetMapPageNo(vlog_get_version(page, movable[i])->rowid);
		int			j;

		for (j = i + 1; j < nmovable &&
			 RowidGetMapPageNo(vlog_get_version(page, movable[j])->rowid) == mapno; j++)
			;
		while (i < j)
			i += vac_move_versions(vac, buf, movable + i, j - i);
	}
	for (i = 0; i < nmovable; i++)
		if (!(vlog_get_version(page, movable[i])->flags & AURA_VF_MOVED))
			still_linked = true;

	if (!still_linked)
	{
		vac_mark_free(vac, buf);
	}
	vac->kept[blkno] = still_linked ? Max(vac->kept[blkno], 1) : 0;
	UnlockReleaseBuffer(buf);
}

/*
 * Cold pages.  A settled row alone in its chain -- inserted before every
 * snapshot, frozen (by this pass or before), no xmax, no blob reference --
 * is copied to a cold page the pass builds (cold.h), in rowid order.  Once
 * a cold page is written, the rows' map entries move there: one record per
 * old hot page and map page, in which the old copies get AURA_VF_MOVED as
 * in relocation, after checking under both locks that each row is still
 * the map's head and still settled (a writer may have locked or updated it
 * meanwhile: then it stays, and its cold copy is never referenced).
 * Readers holding an old pointer read the old copy, which is the same row.
 *
 * Sparse cold pages (fewer than half of the items still referenced, or
 * less than half a page of referenced rows) are rebuilt the same way:
 * their referenced rows are copied to new cold pages and the map entries
 * move (one record per map page); the old page then has nothing
 * referenced and is freed.
 *
 * The cold copy is frozen whatever vacuum_freeze_min_age says (the hot
 * original keeps its xmin but is no longer linked): its inserter committed
 * before every snapshot, so every snapshot sees it either way, and a
 * standby conflict record for OldestXmin precedes the first move, as heap's
 * freeze records carry one.  So every VACUUM turns the settled rows cold.
 * (The tuple's xmin is lost for such rows, as with VACUUM FREEZE.)
 */

/*
 * A cold page whose last referenced row a rebuild has just moved is freed
 * at once, not in vac_free_pages (which applies the same test): the
 * rebuild's later pages can then reuse it as soon as the transactions
 * running now have ended, so the table needs room for a few rebuilt pages
 * rather than for all of a pass's.
 */
static void
vac_free_emptied_cold_page(AuraVacuum *vac, BlockNumber blkno)
{
	Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno,
										 RBM_NORMAL, vac->bstrategy);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (AuraPageGetKind(page) == AURA_PAGE_COLD &&
		!vac_written_meanwhile(vac, blkno, page))
		vac_mark_free(vac, buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Is the cold row (blkno, item) of rowid, whose map entry names a hot
 * version, the end of rowid's chain (the prev of its oldest hot version,
 * AURA_VF_PREV_COLD)?  Then *succ_block / *succ_offset are that version.
 */
static bool
vac_cold_link(AuraVacuum *vac, uint64 rowid, BlockNumber blkno,
			  OffsetNumber item, BlockNumber *succ_block,
			  OffsetNumber *succ_offset)
{
	AuraChainCursor cur;
	bool		linked = false;

	if (!chain_first(&cur, vac->rel, rowid, BUFFER_LOCK_SHARE, NULL))
		return false;
	while (!cur.cold && chain_next(&cur))
		;
	if (ChainAtColdPredecessor(&cur) && cur.block == blkno &&
		cur.offset == item)
	{
		linked = true;
		*succ_block = cur.succ_block;
		*succ_offset = cur.succ_offset;
	}
	chain_end(&cur, NULL);
	return linked;
}

/*
 * A rebuild placed a cold row below a successor as item `item' of cold
 * page `block': point the successor's prev at the copy, if it still names
 * the old row.  One record of the successor's page.  Readers that read
 * the old pointer read the old row, the same row; the old page is freed
 * only once nothing references it, and reused only after them.
 */
static bool
vac_move_cold_link(AuraVacuum *vac, const AuraColdSource *src,
				   BlockNumber block, OffsetNumber item)
{
	Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM,
										 src->succ_block, RBM_NORMAL,
										 vac->bstrategy);
	Page		page;
	AuraVersionHeader *vh;
	bool		ok = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (AuraPageGetKind(page) == AURA_PAGE_HOT &&
		src->succ_offset <= PageGetMaxOffsetNumber(page) &&
		ItemIdIsNormal(PageGetItemId(page, src->succ_offset)))
	{
		vh = vlog_get_version(page, src->succ_offset);
		ok = vh->rowid == src->rowid && (vh->flags & AURA_VF_PREV_COLD) &&
			vh->prev_block == src->block && vh->prev_offset == src->offset;
		if (ok)
		{
			bool		written = vac_written_meanwhile(vac, src->succ_block,
														page);
			AuraWal		wal;

			aura_wal_start(&wal, vac->rel);
			(void) aura_wal_register(&wal, buf, false);
			aura_wal_begin_changes(&wal);
			vh->prev_block = block;
			vh->prev_offset = item;
			aura_wal_changed(&wal, page, vh, AURA_VERSION_HDRSZ);
			aura_wal_finish(&wal);
			vac_page_changed(vac, src->succ_block, page, written);
		}
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * n rows moved from srcblk to the new cold page block (no buffer lock
 * held): the reference counts follow them.  The new page is referenced now
 * (it may be a reused page below nblocks; a temporary table's pages carry
 * no LSN to tell).  A hot page keeps a count of at least one, so
 * relocation looks at it (and frees it if nothing linked is left); a cold
 * page whose count reaches zero is freed at once.
 */
static void
vac_count_moved(AuraVacuum *vac, BlockNumber block, BlockNumber srcblk,
				int n, bool from_cold)
{
	if (block < vac->nblocks)
		vac->kept[block] = Min((int) vac->kept[block] + n, PG_UINT16_MAX);
	if (srcblk < vac->nblocks)
	{
		int			before = vac->kept[srcblk];

		vac->kept[srcblk] = Max(before - n, from_cold ? 0 : 1);
		if (from_cold && before > 0 && vac->kept[srcblk] == 0)
			vac_free_emptied_cold_page(vac, srcblk);
	}
}

/* Builder callback: move the map entries of the rows placed */
static void
vac_cold_placed(void *arg, BlockNumber block, const AuraColdSource *src,
				OffsetNumber first_item, int n)
{
	AuraVacuum *vac = (AuraVacuum *) arg;
	bool	   *ok = palloc(n * sizeof(bool));
	int			i = 0;

	while (i < n)
	{
		uint64		mapno = RowidGetMapPageNo(src[i].rowid);
		BlockNumber mapblk = rowmap_page_block(vac->rel, mapno, false);
		bool		from_cold = (src[i].flags & AURA_MAP_COLD) != 0;
		BlockNumber srcblk = src[i].block;
		Buffer		buf = InvalidBuffer;
		Buffer		mapbuf;
		Page		page = NULL;
		Page		mappage;
		AuraWal		wal;
		int			nok = 0;
		int			end;
		int			j;

		if (src[i].succ_block != InvalidBlockNumber)
		{
			/* a cold row below a successor: its prev pointer moves */
			if (vac_move_cold_link(vac, &src[i], block, first_item + i))
			{
				vac->cold_rewritten += 1;
				vac_count_moved(vac, block, srcblk, 1, true);
			}
			i++;
			continue;
		}
		for (end = i + 1; end < n &&
			 RowidGetMapPageNo(src[end].rowid) == mapno &&
			 src[end].block == srcblk && src[end].flags == src[i].flags &&
			 src[end].succ_block == InvalidBlockNumber; end++)
			;
		if (!from_cold)
		{
			buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, srcblk,
									 RBM_NORMAL, vac->bstrategy);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			page = BufferGetPage(buf);
			if (AuraPageGetKind(page) != AURA_PAGE_HOT)
			{
				UnlockReleaseBuffer(buf);
				i = end;
				continue;
			}
		}
		mapbuf = rowmap_lock_block(vac->rel, mapblk, mapno,
								   BUFFER_LOCK_EXCLUSIVE);
		if (!BufferIsValid(mapbuf))
		{
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			i = end;
			continue;
		}
		mappage = BufferGetPage(mapbuf);

		/* decide first: nothing may fail once the pages are being changed */
		for (j = i; j < end; j++)
		{
			AuraMapEntry *entry = rowmap_page_entry(mappage, src[j].rowid);

			ok[j - i] = entry->block == srcblk &&
				entry->offset == src[j].offset &&
				entry->flags == src[j].flags;
			if (ok[j - i] && !from_cold)
			{
				AuraVersionHeader *vh = vlog_get_version(page, src[j].offset);
				ItemId		lp = PageGetItemId(page, src[j].offset);

				ok[j - i] = vh->rowid == src[j].rowid &&
					vac_cold_candidate(vac, vh,
									   ItemIdGetLength(lp) - AURA_VERSION_HDRSZ);
			}
			nok += ok[j - i];
		}
		if (nok > 0)
		{
			bool		written = !from_cold &&
				vac_written_meanwhile(vac, srcblk, page);

			/* the cold copies are frozen: standby snapshots must allow it */
			if (!from_cold)
				vac_standby_conflict(vac);
			aura_wal_start(&wal, vac->rel);
			if (!from_cold)
				(void) aura_wal_register(&wal, buf, false);
			(void) aura_wal_register(&wal, mapbuf, false);
			aura_wal_begin_changes(&wal);
			for (j = i; j < end; j++)
			{
				if (!ok[j - i])
					continue;
				if (!from_cold)
				{
					AuraVersionHeader *vh = vlog_get_version(page, src[j].offset);

					vh->flags |= AURA_VF_MOVED;
					aura_wal_changed(&wal, page, &vh->flags, sizeof(vh->flags));
				}
				rowmap_set_entry_flags(&wal, mappage, src[j].rowid, block,
									   first_item + j, AURA_MAP_COLD);
			}
			aura_wal_finish(&wal);
			if (!from_cold)
				vac_page_changed(vac, srcblk, page, written);
			if (from_cold)
				vac->cold_rewritten += nok;
			else
				vac->made_cold += nok;
		}
		UnlockReleaseBuffer(mapbuf);
		if (BufferIsValid(buf))
			UnlockReleaseBuffer(buf);
		if (nok > 0)
			vac_count_moved(vac, block, srcblk, nok, from_cold);
		i = end;
	}
	pfree(ok);
}

/* Copy the candidate rows of the map page just vacuumed to the builder */
static void
vac_convert_candidates(AuraVacuum *vac)
{
	char	   *copy = palloc(BLCKSZ);
	int			i;

	for (i = 0; i < vac->ncand; i++)
	{
		uint64		rowid = vac->cand[i];
		AuraMapEntry e;
		Buffer		buf;
		Page		page;
		AuraVersionHeader *vh;
		ItemId		lp;
		uint32		len = 0;
		AuraColdSource src;

		if (!rowmap_lookup(vac->rel, rowid, &e) || e.flags != 0)
			continue;
		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, e.block, RBM_NORMAL,
								 vac->bstrategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (AuraPageGetKind(page) == AURA_PAGE_HOT &&
			e.offset <= PageGetMaxOffsetNumber(page) &&
			ItemIdIsNormal(lp = PageGetItemId(page, e.offset)))
		{
			vh = (AuraVersionHeader *) PageGetItem(page, lp);
			len = ItemIdGetLength(lp) - AURA_VERSION_HDRSZ;
			if (vh->rowid == rowid && vac_cold_candidate(vac, vh, len))
			{
				memcpy(copy, AuraVersionGetTuple(vh), len);
				HeapTupleHeaderSetXminFrozen((HeapTupleHeader) copy);
			}
			else
				len = 0;
		}
		UnlockReleaseBuffer(buf);
		if (len == 0)
			continue;
		src.rowid = rowid;
		src.block = e.block;
		src.offset = e.offset;
		src.flags = 0;
		src.succ_block = InvalidBlockNumber;
		src.succ_offset = InvalidOffsetNumber;
		(void) cold_builder_add(vac->builder, &src, (HeapTupleHeader) copy, len);
	}
	vac->ncand = 0;
	pfree(copy);
}

static int
vac_cold_source_cmp(const void *a, const void *b)
{
	uint64		ra = ((const AuraColdSource *) a)->rowid;
	uint64		rb = ((const AuraColdSource *) b)->rowid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * Is this cold page worth rebuilding?  Its rows move to full pages and it
 * is freed when
 *	- fewer than half of its items are referenced (COLD_SPARSE_ITEMS), or
 *	- what is referenced takes less than half a page (COLD_SPARSE_SIZE: the
 *	  last, part-filled page of a pass or of a COPY), or
 *	- at least AURA_COLD_REBUILD_DEAD_PERCENT of its items are dead
 *	  (COLD_SPARSE_DEAD): updates of cold rows leave dead items behind, and
 *	  uniform updates would take long to bring a page below half.
 * Pages written by this pass are left for the next one.
 */
#define AURA_COLD_REBUILD_DEAD_PERCENT	5

/*
 * Pages only COLD_SPARSE_DEAD are rebuilt most dead first, at most
 * max(AURA_COLD_REBUILD_MIN_PAGES, cold pages / AURA_COLD_REBUILD_SHARE) of
 * them per pass: their replacements are written before they are freed, so
 * the budget bounds the room a pass needs on top of the table.
 */
#define AURA_COLD_REBUILD_MIN_PAGES		32
#define AURA_COLD_REBUILD_SHARE			16

typedef enum VacColdSparse
{
	COLD_NOT_SPARSE,
	COLD_SPARSE_ITEMS,
	COLD_SPARSE_SIZE,
	COLD_SPARSE_DEAD
} VacColdSparse;

typedef struct VacColdCandidate
{
	BlockNumber blkno;
	uint32		dead;			/* items no map entry references */
	VacColdSparse sparse;
} VacColdCandidate;

static VacColdSparse
vac_cold_page_sparse(AuraVacuum *vac, BlockNumber blkno, Page page)
{
	AuraColdPageHeader *hdr = AuraPageGetColdHeader(page);
	PageHeader	ph = (PageHeader) page;
	uint32		kept = vac->kept[blkno];
	uint32		used;

	if (hdr->nitems == 0 ||
		kept * 100 < (uint32) hdr->nitems * AURA_COMPACT_KEPT_PERCENT)
		return COLD_SPARSE_ITEMS;
	used = (ph->pd_special - ph->pd_upper) + (ph->pd_lower - MAXALIGN(SizeOfPageHeaderData));
	if ((uint64) used * kept * 100 <
		(uint64) AURA_PAGE_CONTENT_SIZE * hdr->nitems * AURA_COMPACT_KEPT_PERCENT)
		return COLD_SPARSE_SIZE;
	if (kept < hdr->nitems &&
		(hdr->nitems - kept) * 100 >= (uint32) hdr->nitems * AURA_COLD_REBUILD_DEAD_PERCENT)
		return COLD_SPARSE_DEAD;
	return COLD_NOT_SPARSE;
}

/* most dead items first, then by block */
static int
vac_cold_candidate_cmp(const void *a, const void *b)
{
	const VacColdCandidate *ca = a;
	const VacColdCandidate *cb = b;

	if (ca->dead != cb->dead)
		return ca->dead > cb->dead ? -1 : 1;
	return ca->blkno < cb->blkno ? -1 : ca->blkno > cb->blkno ? 1 : 0;
}

static int
vac_cold_candidate_block_cmp(const void *a, const void *b)
{
	BlockNumber ba = ((const VacColdCandidate *) a)->blkno;
	BlockNumber bb = ((const VacColdCandidate *) b)->blkno;

	return ba < bb ? -1 : ba > bb ? 1 : 0;
}

/*
 * Choose the cold pages to rebuild (vac_cold_page_sparse): every page
 * sparse by items or size, and the most dead of those sparse by dead items
 * within the budget, if together they free at least one page.  Returns how
 * many of cand[] (sorted by block then) to rebuild.  Rebuilding only
 * pages that merge with nothing would write them again as they are: a
 * single page sparse only by size, or dead pages whose dead items do not
 * add up to a page, wait for company.
 */
static int
vac_choose_cold_pages(VacColdCandidate *cand, int ncand, double cold_pages,
					  double cold_items)
{
	int			nmust = 0;
	int			nsize = 0;
	int			ndead;
	int			budget;
	double		dead = 0;
	double		items_per_page = cold_pages > 0 ? cold_items / cold_pages : 0;
	int			i;

	if (ncand == 0)
		return 0;
	/* the pages that must go first, then the dead ones, most dead first */
	for (i = 0; i < ncand; i++)
	{
		if (cand[i].sparse != COLD_SPARSE_DEAD)
		{
			VacColdCandidate tmp = cand[nmust];

			nsize += cand[i].sparse == COLD_SPARSE_SIZE;
			cand[nmust++] = cand[i];
			cand[i] = tmp;
		}
	}
	ndead = ncand - nmust;
	qsort(cand + nmust, ndead, sizeof(VacColdCandidate), vac_cold_candidate_cmp);
	budget = Max(AURA_COLD_REBUILD_MIN_PAGES,
				 (int) (cold_pages / AURA_COLD_REBUILD_SHARE));
	ndead = Min(ndead, budget);
	for (i = 0; i < ndead; i++)
		dead += cand[nmust + i].dead;
	if (dead < items_per_page)
		ndead = 0;
	if (ndead == 0 && nmust == 1 && nsize == 1)
		nmust = 0;
	qsort(cand, nmust + ndead, sizeof(VacColdCandidate), vac_cold_candidate_block_cmp);
	return nmust + ndead;
}

/*
 * Rebuild the cold pages that vac_choose_cold_pages picks: their
 * referenced rows go to new pages in rowid order (vac_cold_placed repoints
 * the map entries), and vac_free_pages frees them once none is left.
 */
static void
vac_rebuild_cold_pages(AuraVacuum *vac)
{
	uint64	   *rowids = palloc(AURA_COLD_MAX_ITEMS * sizeof(uint64));
	VacColdCandidate *cand = NULL;
	int			ncand = 0;
	int			maxcand = 0;
	double		cold_pages = 0;
	double		cold_items = 0;
	AuraColdSource *live = NULL;
	int			nlive = 0;
	int			maxlive = 0;
	char	   *copy = palloc(BLCKSZ);
	BlockNumber blkno;
	int			c;
	int			i;
	uint32		nrefs;

	for (blkno = AURA_META_BLOCK + 1; blkno < vac->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		VacColdSparse sparse = COLD_NOT_SPARSE;
		uint32		nitems = 0;

		CHECK_FOR_INTERRUPTS();
		if (vac->kept[blkno] == 0 ||
			!(vac->cold_bits[blkno / 8] & (1 << (blkno % 8))))
			continue;
		vacuum_delay_point();
		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 vac->bstrategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (AuraPageGetKind(page) == AURA_PAGE_COLD &&
			PageGetLSN(page) < vac->start_lsn)
		{
			nitems = AuraPageGetColdHeader(page)->nitems;
			sparse = vac_cold_page_sparse(vac, blkno, page);
			cold_pages += 1;
			cold_items += nitems;
		}
		UnlockReleaseBuffer(buf);
		if (sparse == COLD_NOT_SPARSE)
			continue;
		if (ncand == maxcand)
		{
			maxcand = Max(256, maxcand * 2);
			cand = cand ? repalloc_huge(cand, maxcand * sizeof(VacColdCandidate)) :
				palloc(maxcand * sizeof(VacColdCandidate));
		}
		cand[ncand].blkno = blkno;
		cand[ncand].dead = nitems - Min(nitems, (uint32) vac->kept[blkno]);
		cand[ncand].sparse = sparse;
		ncand++;
	}
	ncand = vac_choose_cold_pages(cand, ncand, cold_pages, cold_items);

	for (c = 0; c < ncand; c++)
	{
		Buffer		buf;
		Page		page;
		int			n;
		char	   *problem;

		CHECK_FOR_INTERRUPTS();
		vacuum_delay_point();
		blkno = cand[c].blkno;
		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 vac->bstrategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		n = AuraPageGetKind(page) == AURA_PAGE_COLD ?
			cold_page_rows(vac->rel, buf, rowids, &problem) : 0;
		UnlockReleaseBuffer(buf);
		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("cold page %u of aura table \"%s\" is corrupted: %s",
							blkno, RelationGetRelationName(vac->rel), problem)));
		nrefs = 0;
		for (i = 0; i < n; i++)
		{
			AuraMapEntry e;
			BlockNumber succ_block = InvalidBlockNumber;
			OffsetNumber succ_offset = InvalidOffsetNumber;

			if (!rowmap_lookup(vac->rel, rowids[i], &e))
				continue;
			if (e.flags == 0 &&
				!vac_cold_link(vac, rowids[i], blkno, i + 1, &succ_block,
							   &succ_offset))
				continue;
			if (e.flags != 0 &&
				(e.block != blkno || e.offset != i + 1 ||
				 e.flags != AURA_MAP_COLD))
				continue;
			if (nlive == maxlive)
			{
				maxlive = Max(1024, maxlive * 2);
				live = live ? repalloc_huge(live, maxlive * sizeof(AuraColdSource)) :
					palloc(maxlive * sizeof(AuraColdSource));
			}
			live[nlive].rowid = rowids[i];
			live[nlive].block = blkno;
			live[nlive].offset = i + 1;
			live[nlive].flags = AURA_MAP_COLD;
			live[nlive].succ_block = succ_block;
			live[nlive].succ_offset = succ_offset;
			nlive++;
			nrefs++;
		}

		/*
		 * What references the page now is exactly what moves: nothing can
		 * start referencing it later but by a writer chaining to a row the
		 * map names here, whose move then fails (vac_cold_placed).  So the
		 * page is freed once all of these have moved.
		 */
		if (n > 0)
			vac->kept[blkno] = Min(nrefs, PG_UINT16_MAX);
		if (n > 0 && nrefs == 0)
			vac_free_emptied_cold_page(vac, blkno);
	}
	if (nlive > 0)
	{
		qsort(live, nlive, sizeof(AuraColdSource), vac_cold_source_cmp);
		for (i = 0; i < nlive; i++)
		{
			Buffer		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM,
												 live[i].block, RBM_NORMAL,
												 vac->bstrategy);
			AuraColdRow row;

			CHECK_FOR_INTERRUPTS();
			vacuum_delay_point();
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			cold_read_row(vac->rel, buf, live[i].offset, &row);
			memcpy(copy, row.t_data, row.t_len);
			UnlockReleaseBuffer(buf);
			(void) cold_builder_add(vac->builder, &live[i],
									(HeapTupleHeader) copy, row.t_len);
		}
	}
	if (live)
		pfree(live);
	if (cand)
		pfree(cand);
	pfree(rowids);
	pfree(copy);
}

/*
 * Empty the hot pages that hold few kept versions.  Without move_rows only
 * the pages with nothing linked left are freed: the pass does that before
 * it rebuilds cold pages, so that the rebuild can reuse them (pagefree.c),
 * while rows still waiting in the cold builder stay where they are.
 */
static void
vac_compact_pages(AuraVacuum *vac, bool move_rows)
{
	BlockNumber blkno;

	for (blkno = AURA_META_BLOCK + 1; blkno < vac->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		bool		sparse;

		CHECK_FOR_INTERRUPTS();
		vacuum_delay_point();
		/* (a cold page is never a hot page: rows pointed into it) */
		if (vac->kept[blkno] == 0 ||
			(vac->cold_bits[blkno / 8] & (1 << (blkno % 8))))
			continue;
		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 vac->bstrategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		sparse = AuraPageGetKind(page) == AURA_PAGE_HOT &&
			(uint32) vac->kept[blkno] * 100 <
			(uint32) PageGetMaxOffsetNumber(page) * AURA_COMPACT_KEPT_PERCENT;
		UnlockReleaseBuffer(buf);
		if (sparse)
			vac_compact_page(vac, blkno, move_rows);
	}
	if (BufferIsValid(vac->dest))
	{
		ReleaseBuffer(vac->dest);
		vac->dest = InvalidBuffer;
	}
}

/*
 * Free the hot and cold pages that hold no kept version (no referenced
 * item) and were not written since the pass began (a page written meanwhile may hold a version the pass did
 * not see), and record the free pages in the free space map.
 */
static void
vac_free_pages(AuraVacuum *vac)
{
	BlockNumber blkno;
	BlockNumber freeing_blob = InvalidBlockNumber;

	for (blkno = AURA_META_BLOCK + 1; blkno < vac->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		uint16		kind;

		CHECK_FOR_INTERRUPTS();
		if (vac->kept[blkno] > 0)
			continue;
		vacuum_delay_point();
		buf = ReadBufferExtended(vac->rel, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 vac->bstrategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		kind = AuraPageGetKind(page);
		if (kind == AURA_PAGE_BLOB)
		{
			AuraPageOpaque opaque = AuraPageGetOpaque(page);

			/*
			 * A blob no kept version references, written by a transaction
			 * that ended before OldestXmin (so any version of it that is
			 * linked was seen by the pass), is garbage: all its pages go.
			 */
			if (opaque->aux2 == 0)
				freeing_blob =
					!(vac->blob_refs[blkno / 8] & (1 << (blkno % 8))) &&
					TransactionIdIsNormal(opaque->xid) &&
					TransactionIdPrecedes(opaque->xid, vac->OldestXmin) &&
					!vac_written_meanwhile(vac, blkno, page) ?
					blkno : InvalidBlockNumber;
			if (opaque->aux == freeing_blob && freeing_blob != InvalidBlockNumber)
			{
				vac_standby_conflict(vac);
				vac_mark_free(vac, buf);
				vac->blob_pages_freed += 1;
			}
		}
		else if ((kind == AURA_PAGE_HOT || kind == AURA_PAGE_COLD) &&
				 !vac_written_meanwhile(vac, blkno, page))
			vac_mark_free(vac, buf);
		else if (kind == AURA_PAGE_FREE)
			aura_page_record_free(vac->rel, buf);
		UnlockReleaseBuffer(buf);
	}

	/* (every page freed went into the FSM; its upper levels learn it now) */
	FreeSpaceMapVacuum(vac->rel);
}

/* Add what this pass did to the meta page's counters */
static void
vac_update_meta(AuraVacuum *vac)
{
	Buffer		buf = aura_meta_read(vac->rel, BUFFER_LOCK_EXCLUSIVE);
	Page		page = BufferGetPage(buf);
	AuraMetaData *meta = AuraPageGetMeta(page);
	AuraWal		wal;

	aura_wal_start(&wal, vac->rel);
	(void) aura_wal_register(&wal, buf, false);
	aura_wal_begin_changes(&wal);
	meta->vacuum_passes++;
	meta->versions_removed += (uint64) vac->removed;
	meta->versions_frozen += (uint64) vac->frozen;
	meta->rowids_recycled += (uint64) vac->recycled;
	meta->pages_freed += (uint64) vac->pages_freed;
	meta->rows_made_cold += (uint64) vac->made_cold;
	/* the hot pages started before the pass began were its work */
	meta->hot_pages_new -= Min(meta->hot_pages_new, vac->hot_pages_at_start);
	aura_meta_cover(&wal, page);
	aura_wal_changed(&wal, page, &meta->vacuum_passes, 7 * sizeof(uint64));
	aura_wal_finish(&wal);
	UnlockReleaseBuffer(buf);
}

/*
 * The table AM's relation_vacuum (VACUUM, autovacuum) and aura_compact.
 */
void
aura_relation_vacuum(Relation rel, struct VacuumParams *params,
					 BufferAccessStrategy bstrategy)
{
	AuraVacuum	vac;
	uint64		nrowids;
	uint64		rowid;
	BlockNumber new_nblocks;
	bool		frozenxid_updated = false;
	bool		minmulti_updated = false;
	double		cold_pages = 0;
	double		cold_rows = 0;
	AuraMapEntry *mapcopy;
	uint64		mapno;
	PGRUsage	ru0;
	TimestampTz starttime = GetCurrentTimestamp();
	bool		autovacuum = IsAutoVacuumWorkerProcess() ||
		aura_in_compaction_worker;
	int			i;

	pg_rusage_init(&ru0);
	memset(&vac, 0, sizeof(vac));
	vac.rel = rel;
	vac.bstrategy = bstrategy;
	vac.elevel = (params->options & VACOPT_VERBOSE) ? INFO : DEBUG2;
	vac.index_cleanup = params->index_cleanup != VACOPTVALUE_DISABLED;
	vac.truncate = params->truncate != VACOPTVALUE_DISABLED;

	pgstat_progress_start_command(PROGRESS_COMMAND_VACUUM,
								  RelationGetRelid(rel));

	(void) vacuum_set_xid_limits(rel, params->freeze_min_age,
								 params->freeze_table_age,
								 params->multixact_freeze_min_age,
								 params->multixact_freeze_table_age,
								 &vac.OldestXmin, &vac.OldestMxact,
								 &vac.FreezeLimit, &vac.MultiXactCutoff);
	vac.NewRelfrozenXid = vac.OldestXmin;
	vac.NewRelminMxid = vac.OldestMxact;

	if (RelationNeedsWAL(rel))
		vac.start_lsn = GetXLogInsertRecPtr();
	else if (rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
		vac.start_lsn = GetFakeLSNForUnloggedRel();
	else
		vac.start_lsn = 1;		/* temporary: nobody else writes */

	nrowids = aura_meta_next_rowid_counted(rel, &vac.hot_pages_at_start);
	vac.nblocks = RelationGetNumberOfBlocks(rel);
	vac.kept = palloc_extended(Max(vac.nblocks, 1) * sizeof(uint16),
							   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	vac.kept_bits = palloc_extended((Size) Max(vac.nblocks, 1) * MaxHeapTuplesPerPage / 8 + 1,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	vac.blob_refs = palloc_extended((Size) vac.nblocks / 8 + 1,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	vac.cold_bits = palloc_extended((Size) vac.nblocks / 8 + 1,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	vac.own_lsn = palloc_extended(Max(vac.nblocks, 1) * sizeof(XLogRecPtr),
								  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	vac.dest = InvalidBuffer;
	vac.chain_max = 16;
	vac.chain = palloc(vac.chain_max * sizeof(VacVersion));
	vac.maxdead = (int) Min((Size) maintenance_work_mem * 1024 / sizeof(VacDeadRowid),
							MaxAllocSize / sizeof(VacDeadRowid));
	vac.maxdead = Max(vac.maxdead, 1024);
	vac.dead = palloc(vac.maxdead * sizeof(VacDeadRowid));
	vac.cold = cold_enabled(rel);
	if (vac.cold)
	{
		vac.builder = cold_builder_begin(rel, vac_cold_placed, vac_new_page, &vac);
		vac.cand = palloc(AURA_MAP_ENTRIES_PER_PAGE * sizeof(uint64));
	}
	mapcopy = palloc(AURA_MAP_ENTRIES_PER_PAGE * sizeof(AuraMapEntry));
	vac_open_indexes(rel, RowExclusiveLock, &vac.nindexes, &vac.indrels);
	vac.indstats = palloc0(Max(vac.nindexes, 1) * sizeof(IndexBulkDeleteResult *));

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_SCAN_HEAP);
	pgstat_progress_update_param(PROGRESS_VACUUM_TOTAL_HEAP_BLKS, vac.nblocks);
	pgstat_progress_update_param(PROGRESS_VACUUM_MAX_DEAD_TUPLES, vac.maxdead);

	for (mapno = 0; mapno * AURA_MAP_ENTRIES_PER_PAGE < nrowids; mapno++)
	{
		uint64		first = mapno * AURA_MAP_ENTRIES_PER_PAGE;
		uint64		end = Min(first + AURA_MAP_ENTRIES_PER_PAGE, nrowids);
		bool		have_copy;

		CHECK_FOR_INTERRUPTS();
		vacuum_delay_point();

		/*
		 * A cold row is settled, live and frozen by construction: it is
		 * counted from a copy of its map page without reading it.  (If it
		 * is materialised after the copy, the count only keeps its cold
		 * page for this pass; the hot copy is newer than the pass.)
		 */
		have_copy = rowmap_read_page(rel, mapno, mapcopy) > 0;
		if (have_copy)
			vac_count_cold(&vac, mapcopy, (int) (end - first));
		for (rowid = first; rowid < end; rowid++)
		{
			if (have_copy && (mapcopy[rowid - first].flags & AURA_MAP_COLD))
				continue;
			CHECK_FOR_INTERRUPTS();
			vacuum_delay_point();
			vac_rowid(&vac, rowid);
		}
		if (vac.ncand > 0)
			vac_convert_candidates(&vac);
		pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
									 (int64) ((double) end / nrowids * vac.nblocks));
	}
	pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED, vac.nblocks);
	if (vac.cold)
	{
		vac_convert_candidates(&vac);
		cold_builder_flush(vac.builder, false);
	}
	vac_dead_rowids(&vac);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_INDEX_CLEANUP);
	for (i = 0; i < vac.nindexes; i++)
	{
		IndexVacuumInfo ivinfo = vac_index_info(&vac, vac.indrels[i]);

		vac.indstats[i] = index_vacuum_cleanup(&ivinfo, vac.indstats[i]);
		if (vac.indstats[i] && !vac.indstats[i]->estimated_count)
			vac_update_relstats(vac.indrels[i], vac.indstats[i]->num_pages,
								vac.indstats[i]->num_index_tuples, 0, false,
								InvalidTransactionId, InvalidMultiXactId,
								NULL, NULL, false);
	}

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_HEAP);
	if (vac.cold)
	{
		if (vac.nblocks > 0)
			vac_compact_pages(&vac, false);
		vac_rebuild_cold_pages(&vac);
		cold_builder_flush(vac.builder, false);
		cold_builder_counts(vac.builder, &cold_pages, &cold_rows);
		cold_builder_end(vac.builder);
		pfree(vac.cand);
	}
	if (vac.nblocks > 0)
	{
		vac_compact_pages(&vac, true);
		vac_free_pages(&vac);
	}

	new_nblocks = RelationGetNumberOfBlocks(rel);
	if (vac.truncate && new_nblocks > 1)
	{
		pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
									 PROGRESS_VACUUM_PHASE_TRUNCATE);
		new_nblocks = aura_truncate_free_tail(rel);
	}

	if (vac.nblocks > 0)
		vac_update_meta(&vac);

	vac_update_relstats(rel, new_nblocks, vac.live_rows, 0,
						vac.nindexes > 0, vac.NewRelfrozenXid,
						vac.NewRelminMxid, &frozenxid_updated,
						&minmulti_updated, false);
	pgstat_report_vacuum(RelationGetRelid(rel), rel->rd_rel->relisshared,
						 (PgStat_Counter) vac.live_rows,
						 (PgStat_Counter) vac.recently_dead);

	/*
	 * The report: at INFO for VERBOSE; for autovacuum and compaction workers
	 * (autocompact.c) at LOG when the pass took at least
	 * log_autovacuum_min_duration, as heap's lazy vacuum reports it.
	 */
	if (autovacuum && params->log_min_duration >= 0 &&
		TimestampDifferenceExceeds(starttime, GetCurrentTimestamp(),
								   params->log_min_duration))
		vac.elevel = LOG;
	ereport(vac.elevel,
			(errmsg(aura_in_compaction_worker ?
					"automatic compaction of table \"%s.%s.%s\"" :
					autovacuum ? "automatic vacuum of table \"%s.%s.%s\"" :
					"vacuuming \"%s.%s.%s\"",
					get_database_name(MyDatabaseId),
					get_namespace_name(RelationGetNamespace(rel)),
					RelationGetRelationName(rel)),
			 errdetail("rows: %.0f live, %.0f recently dead versions kept; "
					   "versions: %.0f removed, %.0f frozen; "
					   "rowids recycled: %.0f; index scans: %d; "
					   "versions moved out of sparse pages: %.0f; "
					   "rows made cold: %.0f, cold rows rewritten: %.0f (%.0f cold pages written); "
					   "pages: %u at start, %.0f freed (%.0f of blobs), %u after truncation; "
					   "new relfrozenxid: %u%s, new relminmxid: %u%s\n%s",
					   vac.live_rows, vac.recently_dead, vac.removed,
					   vac.frozen, vac.recycled, vac.index_passes,
					   vac.moved, vac.made_cold, vac.cold_rewritten, cold_pages,
					   vac.nblocks, vac.pages_freed, vac.blob_pages_freed,
					   new_nblocks,
					   vac.NewRelfrozenXid,
					   frozenxid_updated ? " (advanced)" : "",
					   vac.NewRelminMxid,
					   minmulti_updated ? " (advanced)" : "",
					   pg_rusage_show(&ru0))));

	vac_close_indexes(vac.nindexes, vac.indrels, NoLock);
	pgstat_progress_end_command();
	pfree(vac.kept);
	pfree(vac.kept_bits);
	pfree(vac.blob_refs);
	pfree(vac.cold_bits);
	pfree(vac.own_lsn);
	pfree(vac.chain);
	pfree(vac.dead);
	pfree(vac.indstats);
	if (vac.freed)
		pfree(vac.freed);
}

PG_FUNCTION_INFO_V1(aura_compact);

/*
 * aura_compact(regclass, verbose): a full compaction now -- VACUUM FREEZE
 * of one aura table, in the current transaction.
 */
Datum
aura_compact(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		verbose = PG_GETARG_BOOL(1);
	Relation	rel;
	VacuumParams params;

	rel = table_open(relid, ShareUpdateExclusiveLock);
	aura_require_aura_table(rel);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE,
					   RelationGetRelationName(rel));

	memset(&params, 0, sizeof(params));
	params.options = VACOPT_VACUUM | VACOPT_FREEZE |
		(verbose ? VACOPT_VERBOSE : 0);
	params.freeze_min_age = 0;
	params.freeze_table_age = 0;
	params.multixact_freeze_min_age = 0;
	params.multixact_freeze_table_age = 0;
	params.is_wraparound = false;
	params.log_min_duration = -1;
	params.index_cleanup = VACOPTVALUE_ENABLED;
	params.truncate = VACOPTVALUE_ENABLED;
	params.nworkers = -1;

	/*
	 * Cost-based delay as VACUUM has it (vacuum() sets it up the same way):
	 * with vacuum_cost_delay > 0, the pass sleeps whenever the buffer
	 * accesses it charged reach vacuum_cost_limit.
	 */
	PG_TRY();
	{
		VacuumCostActive = (VacuumCostDelay > 0);
		VacuumCostBalance = 0;
		VacuumPageHit = 0;
		VacuumPageMiss = 0;
		VacuumPageDirty = 0;
		VacuumCostBalanceLocal = 0;
		VacuumSharedCostBalance = NULL;
		VacuumActiveNWorkers = NULL;
		aura_relation_vacuum(rel, &params, GetAccessStrategy(BAS_VACUUM));
	}
	PG_FINALLY();
	{
		VacuumCostActive = false;
	}
	PG_END_TRY();
	table_close(rel, ShareUpdateExclusiveLock);
	PG_RETURN_VOID();
}
