/*-------------------------------------------------------------------------
 *
 * chain.c
 *	  Walking the version chain of a rowid and choosing the version a
 *	  caller sees.
 *
 * The map entry of a rowid points at its newest version; each version's
 * prev pointer leads to the next older one.  Every version carries a real
 * HeapTupleHeaderData, so PostgreSQL's own visibility routines decide what a
 * snapshot sees: the first version (newest first) that satisfies the
 * snapshot is the row as the snapshot sees it.  At most one version of a
 * chain satisfies an MVCC snapshot, because each version's xmax is its
 * successor's xmin.
 *
 * Locking: a cursor holds a pin and a lock (share or exclusive) on the page
 * of the version it is at, and drops both when it moves to another page.
 * It never holds two buffer locks.  A version found visible stays usable
 * after the lock is released while its page stays pinned, because versions
 * never move on a hot page.
 *
 * A map entry may name a cold row instead (cold.h): the chain is that one
 * frozen row.  Its tuple lives in the decompression cache, so whoever keeps
 * it beyond the next read copies it (aura_store_tuple does).  A chain may
 * also end in a cold row: the oldest hot version's prev names it
 * (AURA_VF_PREV_COLD) when an update chained the new version straight to
 * the cold row.  Such a row is read as a copy that carries its implicit
 * xmax, the successor's xmin (chain_cold_implicit_xmax), so the visibility
 * routines and the writers' conflict checks see it as they would see a
 * materialised copy whose xmax the update set.  Nobody writes a cold row:
 * modify_acquire decides what a writer does instead (dml.c).  Cold pages
 * are only ever share-locked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/xact.h"
#include "access/transam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/cold.h"
#include "storage/predicate.h"
#include "storage/procarray.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "tableam/aura_tableam.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/*
 * Copies of cold rows below a successor, with their implicit xmax.  Like
 * the decompression cache they hold what cursors hand out, so the same rule
 * applies: whoever keeps such a tuple beyond the next few reads copies it
 * (aura_store_tuple does).  A ring of a few is enough, as for that cache.
 */
#define COLD_COPY_SLOTS		4
static char *cold_copies[COLD_COPY_SLOTS];
static int	cold_copy_next;

/*
 * Give the copy t of a cold row the xmax it has as the predecessor of
 * `successor': the successor's inserter, as a NO KEY UPDATE that kept the
 * rowid, exactly what writing it into a materialised copy would have left
 * (modify_write_xmax), hint bits taken from the successor's xmin.  The
 * cold row itself is frozen and has no xmax, so nothing else changes.
 */
void
chain_cold_implicit_xmax(HeapTupleHeader t, uint32 t_len,
						 HeapTupleHeader successor, ItemPointer self)
{
	TransactionId updater = HeapTupleHeaderGetRawXmin(successor);

	AURA_CHECK(t_len >= SizeofHeapTupleHeader);
	t->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_COMBOCID);
	t->t_infomask2 &= ~(HEAP_KEYS_UPDATED | HEAP_HOT_UPDATED);
	if (HeapTupleHeaderXminCommitted(successor))
		t->t_infomask |= HEAP_XMAX_COMMITTED;	/* also when frozen */
	else if (HeapTupleHeaderXminInvalid(successor))
		t->t_infomask |= HEAP_XMAX_INVALID;
	HeapTupleHeaderSetXmax(t, updater);

	/*
	 * Our own update: the cold row's cmax is the successor's cmin, which
	 * only the updating backend can resolve (combo command ids).
	 */
	if (!(successor->t_infomask & HEAP_XMIN_COMMITTED) &&
		TransactionIdIsCurrentTransactionId(updater))
		t->t_choice.t_heap.t_field3.t_cid = HeapTupleHeaderGetCmin(successor);
	else
		t->t_choice.t_heap.t_field3.t_cid = FirstCommandId;
	t->t_ctid = *self;
}

/*
 * Read the version the cursor is at.  successor: the header of the
 * version whose AURA_VF_PREV_COLD prev pointer led here, or NULL.
 */
static void
chain_load(AuraChainCursor *cur, HeapTupleHeader successor)
{
	Page		page = BufferGetPage(cur->buf);
	ItemId		lp;

	if (cur->cold)
	{
		AuraColdRow row;

		cold_read_row(cur->rel, cur->buf, cur->offset, &row);
		if (row.rowid != cur->rowid)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("cold row %u of page %u of aura table \"%s\" belongs to rowid %llu, not %llu",
							cur->offset, cur->block,
							RelationGetRelationName(cur->rel),
							(unsigned long long) row.rowid,
							(unsigned long long) cur->rowid)));
		cur->cold_vh.rowid = cur->rowid;
		cur->cold_vh.prev_block = InvalidBlockNumber;
		cur->cold_vh.prev_offset = InvalidOffsetNumber;
		cur->cold_vh.flags = successor ? AURA_VF_UPDATED : 0;
		cur->vh = &cur->cold_vh;
		cur->tuple.t_data = row.t_data;
		cur->tuple.t_len = row.t_len;
		aura_rowid_to_tid(cur->rowid, &cur->tuple.t_self);
		cur->tuple.t_tableOid = RelationGetRelid(cur->rel);
		if (successor)
		{
			char	   *copy = cold_copies[cold_copy_next];

			if (copy == NULL)
				copy = cold_copies[cold_copy_next] =
					MemoryContextAlloc(TopMemoryContext, AURA_COLD_MAX_ROW);
			cold_copy_next = (cold_copy_next + 1) % COLD_COPY_SLOTS;
			AURA_CHECK(row.t_len <= AURA_COLD_MAX_ROW);
			memcpy(copy, row.t_data, row.t_len);
			cur->tuple.t_data = (HeapTupleHeader) copy;
			chain_cold_implicit_xmax(cur->tuple.t_data, row.t_len, successor,
									 &cur->tuple.t_self);
		}
		return;
	}

	/*
	 * A FREE page keeps its old versions until it is reused, which waits
	 * for every transaction that could still be walking to one of them.
	 */
	if (AuraPageGetKind(page) != AURA_PAGE_FREE ||
		AuraPageGetOpaque(page)->aux2 != AURA_PAGE_HOT)
		aura_page_check_kind(cur->rel, cur->block, page, AURA_PAGE_HOT);
	cur->vh = vlog_get_version(page, cur->offset);
	if (cur->vh->rowid != cur->rowid)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version at (%u,%u) of aura table \"%s\" belongs to rowid %llu, not %llu",
						cur->block, cur->offset,
						RelationGetRelationName(cur->rel),
						(unsigned long long) cur->vh->rowid,
						(unsigned long long) cur->rowid)));
	lp = PageGetItemId(page, cur->offset);
	cur->tuple.t_data = AuraVersionGetTuple(cur->vh);
	cur->tuple.t_len = ItemIdGetLength(lp) - AURA_VERSION_HDRSZ;
	aura_rowid_to_tid(cur->rowid, &cur->tuple.t_self);
	cur->tuple.t_tableOid = RelationGetRelid(cur->rel);
}

/* Cold pages never change: they are only ever share-locked */
static inline int
chain_page_lockmode(AuraChainCursor *cur)
{
	return cur->cold ? BUFFER_LOCK_SHARE : cur->lockmode;
}

/*
 * Position the cursor at the newest version of rowid.  If *keep is a pinned
 * buffer of the right page its pin is taken over (and *keep cleared).
 * Returns false, holding nothing, if the rowid has no version.  A cold row
 * at the head stays cold (cur->cold, share-locked whatever lockmode says):
 * writers decide themselves what to do with it (modify_acquire).
 */
bool
chain_first(AuraChainCursor *cur, Relation rel, uint64 rowid, int lockmode,
			Buffer *keep)
{
	AuraMapEntry entry;

	for (;;)
	{
		if (!rowmap_lookup(rel, rowid, &entry))
			return false;
		chain_start_at(cur, rel, rowid, &entry, lockmode, keep);
		if (!(cur->vh->flags & AURA_VF_MOVED))
			return true;
		/* VACUUM moved the version after we read the map: look again */
		chain_end(cur, NULL);
		keep = NULL;
	}
}

/*
 * Like chain_first, starting from a map entry the caller copied.  Only
 * valid for readers with an MVCC snapshot: every version such a snapshot
 * can see was appended before the snapshot was taken, hence before the
 * copy, so a copy that has gone stale since only misses versions the
 * snapshot could not see anyway.
 */
void
chain_start_at(AuraChainCursor *cur, Relation rel, uint64 rowid,
			   const AuraMapEntry *e, int lockmode, Buffer *keep)
{
	AuraMapEntry entry = *e;

	cur->rel = rel;
	cur->rowid = rowid;
	cur->lockmode = lockmode;
	cur->block = entry.block;
	cur->offset = entry.offset;
	cur->cold = (entry.flags & AURA_MAP_COLD) != 0;
	cur->succ_block = InvalidBlockNumber;
	cur->succ_offset = InvalidOffsetNumber;
	if (keep && BufferIsValid(*keep) &&
		BufferGetBlockNumber(*keep) == entry.block)
	{
		cur->buf = *keep;
		*keep = InvalidBuffer;
	}
	else
		cur->buf = ReadBuffer(rel, entry.block);
	LockBuffer(cur->buf, chain_page_lockmode(cur));
	chain_load(cur, NULL);
}

/*
 * Move to the next older version.  Returns false at the end of the chain,
 * leaving the cursor where it was (still locked).
 */
bool
chain_next(AuraChainCursor *cur)
{
	BlockNumber prev_block = cur->vh->prev_block;
	OffsetNumber prev_offset = cur->vh->prev_offset;
	bool		prev_cold = (cur->vh->flags & AURA_VF_PREV_COLD) != 0;
	HeapTupleHeaderData successor;

	if (prev_block == InvalidBlockNumber)
		return false;
	AURA_CHECK(!cur->cold);
	if (prev_cold)
	{
		/* the successor's xmin is the cold row's xmax */
		memcpy(&successor, cur->tuple.t_data, SizeofHeapTupleHeader);
		cur->succ_block = cur->block;
		cur->succ_offset = cur->offset;
	}
	cur->cold = prev_cold;
	if (prev_block != cur->block)
	{
		UnlockReleaseBuffer(cur->buf);
		cur->buf = ReadBuffer(cur->rel, prev_block);
		LockBuffer(cur->buf, chain_page_lockmode(cur));
	}
	AURA_CHECK(!prev_cold || prev_block != cur->block);
	cur->block = prev_block;
	cur->offset = prev_offset;
	chain_load(cur, prev_cold ? &successor : NULL);
	return true;
}

/*
 * Release the cursor's lock.  With keep, the pin moves to *keep (replacing
 * whatever pin *keep held); otherwise it is dropped too.
 */
void
chain_end(AuraChainCursor *cur, Buffer *keep)
{
	LockBuffer(cur->buf, BUFFER_LOCK_UNLOCK);
	if (keep)
	{
		if (BufferIsValid(*keep))
			ReleaseBuffer(*keep);
		*keep = cur->buf;
	}
	else
		ReleaseBuffer(cur->buf);
	cur->buf = InvalidBuffer;
}

/*
 * Does rowid have a version inserted by xid?  Whoever follows an update
 * into another rowid (t_ctid) checks this first, as heap checks xmin against
 * the prior xmax: the rowid may have been recycled meanwhile, after every
 * version of it died, and now hold an unrelated row.
 */
bool
chain_has_xmin(Relation rel, uint64 rowid, TransactionId xid)
{
	AuraChainCursor cur;
	bool		found = false;

	if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, NULL))
		return false;
	do
	{
		if (TransactionIdEquals(HeapTupleHeaderGetXmin(cur.tuple.t_data), xid))
			found = true;
	} while (!found && chain_next(&cur));
	chain_end(&cur, NULL);
	return found;
}

/* Fate of a version's inserting transaction, from hint bits or the clog */
AuraXminState
aura_xmin_state(HeapTupleHeader tup)
{
	TransactionId xmin;

	if (HeapTupleHeaderXminCommitted(tup))
		return AURA_XMIN_COMMITTED;
	if (HeapTupleHeaderXminInvalid(tup))
		return AURA_XMIN_ABORTED;
	xmin = HeapTupleHeaderGetRawXmin(tup);
	if (!TransactionIdIsValid(xmin))
		return AURA_XMIN_ABORTED;	/* super-deleted speculative insertion */
	if (!TransactionIdIsNormal(xmin))
		return AURA_XMIN_COMMITTED; /* bootstrap or frozen */
	if (TransactionIdIsCurrentTransactionId(xmin))
		return AURA_XMIN_MINE;
	if (TransactionIdIsInProgress(xmin))
		return AURA_XMIN_IN_PROGRESS;
	if (TransactionIdDidCommit(xmin))
		return AURA_XMIN_COMMITTED;
	return AURA_XMIN_ABORTED;
}

/* Has the newest version of rowid moved away from (block, offset)? */
static bool
chain_head_moved(Relation rel, uint64 rowid, BlockNumber block,
				 OffsetNumber offset)
{
	AuraMapEntry entry;

	return rowmap_lookup(rel, rowid, &entry) &&
		(entry.block != block || entry.offset != offset);
}

/*
 * Find the version of rowid that satisfies snapshot, starting from a copied
 * map entry if given (MVCC snapshots only, see chain_start_at) or from the
 * row map.  On success *result points into a page that stays pinned in
 * *keep.  If all_dead is given it is set to whether every version of the
 * row is dead to every transaction (the index entry pointing here can be
 * killed).
 *
 * The newest version read from the map may be superseded before its page
 * is locked.  For an MVCC snapshot that does not matter (the newer version
 * did not exist when the snapshot was taken), but a non-MVCC snapshot
 * (dirty, self, any: unique checks, ON CONFLICT) must not answer from the
 * older versions alone: when nothing qualified and the map moved on
 * meanwhile, the walk starts again.
 *
 * Like heap, this registers serializable conflicts for every version looked
 * at and a predicate lock on the one returned.
 */
bool
chain_find_visible(Relation rel, uint64 rowid, const AuraMapEntry *entry,
				   Snapshot snapshot, Buffer *keep, HeapTuple result,
				   bool *all_dead)
{
	AuraChainCursor cur;
	GlobalVisState *vistest = NULL;
	bool		mvcc = IsMVCCSnapshot(snapshot);

	AURA_CHECK(keep != NULL);
	AURA_CHECK(entry == NULL || mvcc);
	if (all_dead)
		vistest = GlobalVisTestFor(rel);

	for (;;)
	{
		BlockNumber head_block;
		OffsetNumber head_offset;
		bool		dead = true;

		if (entry)
			chain_start_at(&cur, rel, rowid, entry, BUFFER_LOCK_SHARE, keep);
		else if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, keep))
		{
			if (all_dead)
				*all_dead = true;
			return false;
		}
		head_block = cur.block;
		head_offset = cur.offset;
		do
		{
			bool		valid;

			valid = HeapTupleSatisfiesVisibility(&cur.tuple, snapshot, cur.buf);
			HeapCheckForSerializableConflictOut(valid, rel, &cur.tuple,
												cur.buf, snapshot);
			/*
			 * A cold row read through an entry that has moved on since
			 * (materialised, then changed) is stale for a non-MVCC
			 * snapshot, which must see the current state: look again.
			 */
			if (valid && cur.cold && !mvcc &&
				chain_head_moved(rel, rowid, head_block, head_offset))
				break;
			if (valid)
			{
				PredicateLockTID(rel, &cur.tuple.t_self, snapshot,
								 HeapTupleHeaderGetXmin(cur.tuple.t_data));
				*result = cur.tuple;
				chain_end(&cur, keep);
				if (all_dead)
					*all_dead = false;
				return true;
			}
			if (all_dead && dead &&
				!HeapTupleIsSurelyDead(&cur.tuple, vistest))
				dead = false;
		} while (chain_next(&cur));
		chain_end(&cur, keep);

		if (mvcc || !chain_head_moved(rel, rowid, head_block, head_offset))
		{
			if (all_dead)
				*all_dead = dead;
			return false;
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Find the newest version of rowid whose inserter committed or is the
 * current transaction: the row as a writer would find it, ignoring versions
 * of aborted or still running updates.  *result stays pinned in *keep.
 * As in chain_find_visible, a head superseded while we looked means
 * looking again.
 */
bool
chain_find_latest(Relation rel, uint64 rowid, Buffer *keep, HeapTuple result)
{
	AuraChainCursor cur;

	for (;;)
	{
		BlockNumber head_block;
		OffsetNumber head_offset;
		bool		found = false;
		bool		superseded = false;

		if (!chain_first(&cur, rel, rowid, BUFFER_LOCK_SHARE, keep))
			return false;
		head_block = cur.block;
		head_offset = cur.offset;
		do
		{
			HeapTupleHeader t = cur.tuple.t_data;
			AuraXminState st = aura_xmin_state(t);

			if (st == AURA_XMIN_COMMITTED || st == AURA_XMIN_MINE)
			{
				*result = cur.tuple;
				found = true;
				/*
				 * Only an updater's xmax can have a newer version behind
				 * it; a cold row may have been materialised and changed.
				 */
				superseded = cur.cold ||
					(!(t->t_infomask & HEAP_XMAX_INVALID) &&
					 !HEAP_XMAX_IS_LOCKED_ONLY(t->t_infomask));
				break;
			}
		} while (chain_next(&cur));
		chain_end(&cur, keep);

		/*
		 * A version found with no updater was the newest one when its page
		 * was locked: no need to look at the map again.
		 */
		if ((found && !superseded) ||
			!chain_head_moved(rel, rowid, head_block, head_offset))
			return found;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Point every blob reference of a (copied) tuple at the table itself: the
 * TOAST pointers stored in versions may carry the OID the table had when
 * the row was written (rewrites create new OIDs).
 */
void
aura_patch_toast_pointers(Relation rel, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = Min(HeapTupleHeaderGetNatts(tuple->t_data), desc->natts);
	Datum	   *values = palloc(natts * sizeof(Datum));
	bool	   *isnull = palloc(natts * sizeof(bool));
	Oid			relid = RelationGetRelid(rel);
	int			i;

	heap_deform_tuple(tuple, desc, values, isnull);
	for (i = 0; i < natts; i++)
	{
		struct varlena *v;
		varatt_external ptr;

		if (isnull[i] || TupleDescAttr(desc, i)->attlen != -1)
			continue;
		v = (struct varlena *) DatumGetPointer(values[i]);
		if (!VARATT_IS_EXTERNAL_ONDISK(v))
			continue;
		memcpy(&ptr, VARDATA_EXTERNAL(v), sizeof(ptr));
		ptr.va_toastrelid = relid;
		memcpy(VARDATA_EXTERNAL(v), &ptr, sizeof(ptr));
	}
	pfree(values);
	pfree(isnull);
}

/*
 * Put a version into a slot.  Rows without blob references are handed over
 * in place (the slot pins the page); rows with blob references are copied
 * so their TOAST pointers can be patched.
 */
void
aura_store_tuple(Relation rel, HeapTuple tuple, Buffer buf,
				 TupleTableSlot *slot)
{
	char	   *page = BufferGetPage(buf);

	if ((char *) tuple->t_data < page || (char *) tuple->t_data >= page + BLCKSZ)
	{
		/* a cold row, in the decompression cache: the slot gets a copy */
		ExecForceStoreHeapTuple(heap_copytuple(tuple), slot, true);
		slot->tts_tid = tuple->t_self;
	}
	else if (HeapTupleHasExternal(tuple))
	{
		HeapTuple	copy = heap_copytuple(tuple);

		aura_patch_toast_pointers(rel, copy);
		ExecForceStoreHeapTuple(copy, slot, true);
		slot->tts_tid = tuple->t_self;
	}
	else
	{
		/* the slot must own the HeapTupleData, ours may be on the stack */
		BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;

		AURA_CHECK(TTS_IS_BUFFERTUPLE(slot));
		bslot->base.tupdata = *tuple;
		ExecStoreBufferHeapTuple(&bslot->base.tupdata, slot, buf);
	}
	slot->tts_tableOid = RelationGetRelid(rel);
}
