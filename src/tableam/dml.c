/*-------------------------------------------------------------------------
 *
 * dml.c
 *	  INSERT, UPDATE, DELETE, row locks and speculative insertion on aura
 *	  tables.
 *
 * Insert: a version is appended to the backend's target hot page and the
 * rowid's map entry is pointed at it in the same Generic WAL record (hot
 * page and map page), so a crash leaves either both or neither.
 *
 * Update/delete/lock: the version to act on is found (see
 * modify_find_target), its page locked exclusively, HeapTupleSatisfiesUpdate
 * consulted, conflicting transactions waited for (holding the heavyweight
 * tuple lock meanwhile, as heap does, so waiters queue fairly), and the new
 * xmax written (one record).  An update then appends the new version:
 *	- with the same rowid (prev = the old newest version, map repointed,
 *	  update_indexes = false) when no indexed column changed, or
 *	- under a new rowid (old version's t_ctid = new rowid's TID,
 *	  update_indexes = true) otherwise.
 * The two records need not be atomic together: until the updating
 * transaction commits its xmax is "in progress" or, after a crash,
 * "aborted", and either way the old version is what others see.
 *
 * Lock order: one hot page, then map page (insert); a hot page may be held
 * while the meta page is locked to allocate a rowid (update with index
 * changes) -- nothing that holds the meta page ever waits for a hot page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/generic_xlog.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/multixact.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "nodes/bitmapset.h"
#include "pgstat.h"
#include "storage/blob.h"
#include "storage/cold.h"
#include "storage/lmgr.h"
#include "storage/meta.h"
#include "storage/predicate.h"
#include "storage/procarray.h"
#include "storage/rowmap.h"
#include "storage/vlog.h"
#include "tableam/aura_tableam.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/relcache.h"

typedef enum AuraModifyOp
{
	AURA_OP_LOCK,
	AURA_OP_DELETE,
	AURA_OP_UPDATE
} AuraModifyOp;

/* What an update changes, decided against the version it replaces */
static void modify_write_xmax(Relation rel, AuraChainCursor *cur,
							  CommandId cid, LockTupleMode mode,
							  AuraModifyOp op, ItemPointer new_ctid,
							  bool changing_part);

/*
 * Give a tuple header a new xmax with the infomask bits aura_compute_new_xmax
 * computed for it (in place; the caller logs the change).
 */
static void
set_xmax(HeapTupleHeader t, TransactionId xmax, uint16 infomask,
		 uint16 infomask2)
{
	t->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
	t->t_infomask2 &= ~HEAP_KEYS_UPDATED;
	t->t_infomask |= infomask;
	t->t_infomask2 |= infomask2;
	HeapTupleHeaderSetXmax(t, xmax);
}

typedef struct AuraUpdateCheck
{
	TupleTableSlot *newslot;
	Bitmapset  *index_attrs;	/* attributes any index depends on */
	Bitmapset  *key_attrs;		/* attributes of unique/FK-usable indexes */
	bool		force_new_rowid;	/* see update_needs_new_rowid_always */
	bool		index_changed;
	bool		key_changed;
} AuraUpdateCheck;

/*
 * Move large or external values of a tuple into blobs so that the stored
 * row stays small, and fetch values that are TOAST pointers of other
 * relations (or of this one: a blob is never shared by two versions).
 */
HeapTuple
aura_move_values_to_blobs(Relation rel, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = desc->natts;
	Datum	   *values = palloc(natts * sizeof(Datum));
	bool	   *isnull = palloc(natts * sizeof(bool));
	bool	   *moved = palloc0(natts * sizeof(bool));
	HeapTuple	result;
	int			i;

	heap_deform_tuple(tuple, desc, values, isnull);

	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (isnull[i] || att->attlen != -1)
			continue;
		if (VARATT_IS_EXTERNAL(DatumGetPointer(values[i])))
			values[i] = PointerGetDatum(detoast_external_attr((struct varlena *)
															  DatumGetPointer(values[i])));
	}

	for (;;)
	{
		Size		size = SizeofHeapTupleHeader + BITMAPLEN(natts) +
		heap_compute_data_size(desc, values, isnull);
		int			biggest = -1;
		Size		biggest_size;

		/*
		 * Values move out biggest first until the row is under the
		 * threshold; small values (each would take a blob page of its own)
		 * only when the row could not be stored otherwise.
		 */
		if (MAXALIGN(size) <= AURA_TUPLE_THRESHOLD)
			break;
		biggest_size = MAXALIGN(size) <= AURA_MAX_TUPLE_SIZE ?
			AURA_BLOB_MIN_VALUE : TOAST_POINTER_SIZE;
		for (i = 0; i < natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			Size		vsize;

			if (isnull[i] || att->attlen != -1 || moved[i] ||
				att->attstorage == TYPSTORAGE_PLAIN)
				continue;
			vsize = VARSIZE_ANY(DatumGetPointer(values[i]));
			if (vsize > biggest_size)
			{
				biggest = i;
				biggest_size = vsize;
			}
		}
		if (biggest < 0)
			break;
		values[biggest] = PointerGetDatum(blob_store(rel,
													 (struct varlena *) DatumGetPointer(values[biggest]),
													 TupleDescAttr(desc, biggest)->attstorage != TYPSTORAGE_EXTERNAL));
		moved[biggest] = true;
	}

	result = heap_form_tuple(desc, values, isnull);
	result->t_self = tuple->t_self;
	result->t_tableOid = tuple->t_tableOid;
	pfree(values);
	pfree(isnull);
	pfree(moved);
	return result;
}

/*
 * Make a tuple ready to be stored as a new version: values moved to blobs
 * as needed, transaction fields set as heap_prepare_insert sets them.
 * Returns the tuple to store (the given one, modified, or a new one).
 */
HeapTuple
aura_prepare_tuple(Relation rel, HeapTuple tuple, TransactionId xid,
				   CommandId cid, int options)
{
	if (HeapTupleHasExternal(tuple) || tuple->t_len > AURA_TUPLE_THRESHOLD)
		tuple = aura_move_values_to_blobs(rel, tuple);

	if (tuple->t_len > AURA_MAX_TUPLE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row is too big: size %zu, maximum size %zu",
						(size_t) tuple->t_len, (size_t) AURA_MAX_TUPLE_SIZE)));

	tuple->t_data->t_infomask &= ~(HEAP_XACT_MASK);
	tuple->t_data->t_infomask2 &= ~(HEAP2_XACT_MASK);
	tuple->t_data->t_infomask |= HEAP_XMAX_INVALID;
	HeapTupleHeaderSetXmin(tuple->t_data, xid);
	if (options & HEAP_INSERT_FROZEN)
		HeapTupleHeaderSetXminFrozen(tuple->t_data);
	HeapTupleHeaderSetCmin(tuple->t_data, cid);
	HeapTupleHeaderSetXmax(tuple->t_data, 0);
	tuple->t_tableOid = RelationGetRelid(rel);
	return tuple;
}

/*
 * Store a prepared version of rowid and point the map at it.  t_ctid and
 * t_self must already be set.  With same_rowid the version is chained in
 * front of the current newest version; otherwise the rowid must be new.
 * If stored is given, it receives the version's place.
 */
void
aura_store_version(Relation rel, uint64 rowid, HeapTuple tuple,
				   bool same_rowid, AuraMapEntry *stored)
{
	(void) vlog_store_version(rel, rowid, tuple,
							  same_rowid ? VLOG_CHAIN : VLOG_NEW_ROWID,
							  NULL, 0, stored);
}

/*
 * Logical decoding cannot decode Generic WAL: a change to an aura table
 * that a publication covers would silently not be replicated.  Refuse it.
 */
static void
check_not_published(Relation rel)
{
	PublicationDesc pubdesc;

	if (!RelationIsPermanent(rel))
		return;
	RelationBuildPublicationDesc(rel, &pubdesc);
	if (pubdesc.pubactions.pubinsert || pubdesc.pubactions.pubupdate ||
		pubdesc.pubactions.pubdelete || pubdesc.pubactions.pubtruncate)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot modify aura table \"%s\" because it is part of a publication",
						RelationGetRelationName(rel)),
				 errdetail("Logical decoding cannot decode the generic WAL records of aura tables."),
				 errhint("Remove the table from the publication, or use physical replication.")));
}

static void
insert_one(Relation rel, TupleTableSlot *slot, CommandId cid, int options,
		   bool speculative, uint32 specToken)
{
	TransactionId xid = GetCurrentTransactionId();
	bool		shouldFree;
	HeapTuple	orig = ExecFetchSlotHeapTuple(slot, true, &shouldFree);
	HeapTuple	tuple;
	uint64		rowid;
	uint32		ngot;

	check_not_published(rel);
	tuple = aura_prepare_tuple(rel, orig, xid, cid, options);
	rowid = aura_allocate_rowids(rel, 1, &ngot);
	aura_rowid_to_tid(rowid, &tuple->t_self);
	if (speculative)
		HeapTupleHeaderSetSpeculativeToken(tuple->t_data, specToken);
	else
		tuple->t_data->t_ctid = tuple->t_self;

	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);
	aura_store_version(rel, rowid, tuple, false, NULL);

	slot->tts_tableOid = RelationGetRelid(rel);
	slot->tts_tid = tuple->t_self;
	orig->t_self = tuple->t_self;
	pgstat_count_heap_insert(rel, 1);

	if (tuple != orig)
		heap_freetuple(tuple);
	if (shouldFree)
		heap_freetuple(orig);
}

void
aura_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
				  int options, BulkInsertState bistate)
{
	insert_one(rel, slot, cid, options, false, 0);
}

void
aura_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
							  CommandId cid, int options,
							  BulkInsertState bistate, uint32 specToken)
{
	insert_one(rel, slot, cid, options, true, specToken);
}

/*
 * Finish a speculative insertion: confirm it (t_ctid becomes the row's own
 * TID) or kill it (xmin becomes invalid: dead to everyone at once, so
 * waiters on the speculative token see no conflict).
 */
void
aura_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
								uint32 specToken, bool succeeded)
{
	uint64		rowid;
	AuraChainCursor cur;
	AuraWal		wal;
	HeapTupleHeader tup;

	if (!aura_tid_to_rowid(&slot->tts_tid, &rowid) ||
		!chain_first(&cur, rel, rowid, BUFFER_LOCK_EXCLUSIVE, NULL))
		elog(ERROR, "speculatively inserted row of \"%s\" not found",
			 RelationGetRelationName(rel));
	if (!HeapTupleHeaderIsSpeculative(cur.tuple.t_data))
		elog(ERROR, "row of \"%s\" is not a speculative insertion",
			 RelationGetRelationName(rel));

	aura_wal_start(&wal, rel);
	(void) aura_wal_register(&wal, cur.buf, false);
	tup = cur.tuple.t_data;
	aura_wal_begin_changes(&wal);
	if (!succeeded)
	{
		tup->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
		tup->t_infomask2 &= ~HEAP_KEYS_UPDATED;
		HeapTupleHeaderSetXmin(tup, InvalidTransactionId);
	}
	tup->t_ctid = cur.tuple.t_self;
	aura_wal_changed(&wal, BufferGetPage(cur.buf), tup, SizeofHeapTupleHeader);
	aura_wal_finish(&wal);
	chain_end(&cur, NULL);
}

/*
 * Plan a multi-insert record: rows tuples[from .. to) go, in order, to the
 * given first hot page and then to fresh pages, at most
 * MAX_GENERIC_XLOG_PAGES - 1 pages in all.  Sets last[p] to the last row
 * of page p and returns the number of pages used (each gets >= 1 row; the
 * first page has room for tuples[from]).
 */
static int
multi_insert_plan(Page first, HeapTuple *tuples, int from, int to, int *last)
{
	/* free bytes as PageGetFreeSpace counts them */
	Size		fresh = AURA_PAGE_CONTENT_SIZE - sizeof(ItemIdData);
	Size		avail = AuraPageIsFresh(first) ? fresh : PageGetFreeSpace(first);
	int			npages = 1;
	int			i;

	last[0] = from;
	for (i = from; i < to; i++)
	{
		Size		need = MAXALIGN(AURA_VERSION_HDRSZ + tuples[i]->t_len);

		if (need > avail)
		{
			if (npages == MAX_GENERIC_XLOG_PAGES - 1)
				break;
			npages++;
			avail = fresh;
		}
		/* the line pointer of this item, as PageAddItem takes it */
		avail = avail >= need + sizeof(ItemIdData) ?
			avail - need - sizeof(ItemIdData) : 0;
		last[npages - 1] = i;
	}
	return npages;
}

void
aura_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
				  CommandId cid, int options, BulkInsertState bistate)
{
	TransactionId xid = GetCurrentTransactionId();
	HeapTuple  *tuples = palloc(nslots * sizeof(HeapTuple));
	int			i;

	check_not_published(rel);
	for (i = 0; i < nslots; i++)
	{
		HeapTuple	orig = ExecFetchSlotHeapTuple(slots[i], true, NULL);

		tuples[i] = aura_prepare_tuple(rel, orig, xid, cid, options);
	}

	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);

	/* a frozen bulk load (COPY FREEZE) goes to cold pages directly */
	if ((options & HEAP_INSERT_FROZEN) && cold_enabled(rel))
	{
		aura_cold_load_insert(rel, tuples, slots, nslots);
		pgstat_count_heap_insert(rel, nslots);
		pfree(tuples);
		return;
	}

	i = 0;
	while (i < nslots)
	{
		uint32		ngot;
		uint64		base = aura_allocate_rowids(rel, nslots - i, &ngot);
		int			end = i + ngot;
		int			first = i;

		while (i < end)
		{
			uint64		mapno = RowidGetMapPageNo(base + (i - first));
			Buffer		hotbufs[MAX_GENERIC_XLOG_PAGES - 1];
			int			last[MAX_GENERIC_XLOG_PAGES - 1];
			int			nhot;
			Buffer		mapbuf;
			AuraWal		wal;
			Page		mappage;
			int			j;
			int			k;

			(void) rowmap_page_block(rel, mapno, true);
			hotbufs[0] = vlog_target_page(rel, MAXALIGN(AURA_VERSION_HDRSZ +
														tuples[i]->t_len),
										  bistate);
			mapbuf = rowmap_lock_page(rel, base + (i - first),
									  BUFFER_LOCK_EXCLUSIVE, true);

			/*
			 * One record: the map page and up to three hot pages.  Plan
			 * which rows go to which page first -- nothing may fail once
			 * the pages are being changed.  Pages after the first are fresh
			 * ones of this backend, so holding the map page while extending
			 * cannot deadlock.
			 */
			nhot = multi_insert_plan(BufferGetPage(hotbufs[0]), tuples, i,
									 Min(end, i + (int) (AURA_MAP_ENTRIES_PER_PAGE -
														 RowidGetMapSlot(base + (i - first)))),
									 last);
			for (j = 1; j < nhot; j++)
			{
				hotbufs[j] = vlog_extend(rel);
				RelationSetTargetBlock(rel, BufferGetBlockNumber(hotbufs[j]));
			}

			aura_wal_start(&wal, rel);
			mappage = aura_wal_register(&wal, mapbuf, false);
			for (j = 0; j < nhot; j++)
				(void) aura_wal_register(&wal, hotbufs[j],
										 AuraPageIsFresh(BufferGetPage(hotbufs[j])));
			aura_wal_begin_changes(&wal);
			for (j = 0; j < nhot; j++)
			{
				Page		hotpage = BufferGetPage(hotbufs[j]);

				if (AuraPageIsFresh(hotpage))
					aura_page_init(hotpage, AURA_PAGE_HOT, 0, 0);
				for (k = i; k <= last[j]; k++)
				{
					HeapTuple	tuple = tuples[k];
					uint64		rowid = base + (k - first);
					OffsetNumber offnum;

					aura_rowid_to_tid(rowid, &tuple->t_self);
					tuple->t_data->t_ctid = tuple->t_self;
					AURA_CHECK(!AuraMapEntryIsUsed(rowmap_page_entry(mappage, rowid)));
					offnum = vlog_add_version(&wal, hotpage, rowid,
											  InvalidBlockNumber,
											  InvalidOffsetNumber, tuple);
					rowmap_set_entry(&wal, mappage, rowid,
									 BufferGetBlockNumber(hotbufs[j]), offnum);
					slots[k]->tts_tableOid = RelationGetRelid(rel);
					slots[k]->tts_tid = tuple->t_self;
				}
				i = last[j] + 1;
			}
			aura_wal_finish(&wal);

			UnlockReleaseBuffer(mapbuf);
			for (j = 0; j < nhot; j++)
				UnlockReleaseBuffer(hotbufs[j]);
		}
	}

	pgstat_count_heap_insert(rel, nslots);
	pfree(tuples);
}

/*
 * Does every update of this table need a new rowid?  AFTER row triggers
 * (also deferred ones firing at commit) and transition tables fetch rows
 * by TID once the statement is done; with a kept rowid the TID would lead
 * to the newest version instead of the one the event was about.  So such
 * tables give every update a new rowid, and each TID names one version.
 * Foreign-key triggers are exempt: they fire on key changes, which take a
 * new rowid anyway, or check the newest version, which is what they want.
 */
static bool
update_needs_new_rowid_always(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	int			i;

	if (trigdesc == NULL)
		return false;
	if (trigdesc->trig_update_old_table || trigdesc->trig_update_new_table ||
		trigdesc->trig_insert_new_table || trigdesc->trig_delete_old_table)
		return true;
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &trigdesc->triggers[i];

		if (TRIGGER_FOR_ROW(trig->tgtype) && TRIGGER_FOR_AFTER(trig->tgtype) &&
			RI_FKey_trigger_type(trig->tgfoid) == RI_TRIGGER_NONE)
			return true;
	}
	return false;
}

static void
update_check_changes(Relation rel, HeapTuple oldtup, AuraUpdateCheck *upd)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			x = -1;

	upd->index_changed = upd->force_new_rowid;
	upd->key_changed = false;
	while ((x = bms_next_member(upd->index_attrs, x)) >= 0)
	{
		AttrNumber	attnum = x + FirstLowInvalidHeapAttributeNumber;
		bool		changed;

		if (attnum <= 0)
			changed = true;		/* whole-row or system column */
		else
		{
			Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
			bool		oisnull;
			bool		nisnull;
			Datum		o = heap_getattr(oldtup, attnum, desc, &oisnull);
			Datum		n = slot_getattr(upd->newslot, attnum, &nisnull);

			if (oisnull != nisnull)
				changed = true;
			else if (oisnull)
				changed = false;
			else
				changed = !datumIsEqual(o, n, att->attbyval, att->attlen);
		}
		if (changed)
		{
			upd->index_changed = true;
			if (bms_is_member(x, upd->key_attrs))
				upd->key_changed = true;
		}
	}
}

/*
 * Find the version a modification of rowid applies to and lock its page
 * exclusively.  Heap's TID names a version, ours names a row, so the
 * caller says which version it means:
 *
 * use_snapshot: the version the caller's snapshot sees (UPDATE and DELETE
 * act on the row their scan saw; a newer committed version then yields
 * TM_Updated and EvalPlanQual or a serialization failure, as on heap), or,
 * after EvalPlanQual locked a newer version for us, that locked version.
 * Otherwise: the newest version whose inserter committed (or is us).
 * The version found may be a cold row (cur->cold), at the head or below a
 * successor; modify_acquire decides what happens to it.
 */
static bool
modify_find_target(Relation rel, uint64 rowid, Snapshot snapshot,
				   bool use_snapshot, AuraChainCursor *cur)
{

	if (!chain_first(cur, rel, rowid, BUFFER_LOCK_EXCLUSIVE, NULL))
		return false;
	do
	{
		AuraXminState st = aura_xmin_state(cur->tuple.t_data);

		if (st == AURA_XMIN_ABORTED || st == AURA_XMIN_IN_PROGRESS)
			continue;
		/*
		 * EvalPlanQual locks the newest version in the update's (or the
		 * delete's) own mode before retrying: a version we hold such a lock
		 * on is the one meant.  Weaker locks of ours do not say that: a KEY
		 * SHARE lock is carried to newer versions by their updaters.
		 */
		if (!use_snapshot ||
			HeapTupleSatisfiesVisibility(&cur->tuple, snapshot, cur->buf) ||
			aura_xmax_locked_by_me(cur->tuple.t_data, LockTupleNoKeyExclusive))
			return true;
	} while (chain_next(cur));
	chain_end(cur, NULL);
	return false;
}

static bool
acquire_tuple_lock(Relation rel, ItemPointer tid, LockTupleMode mode,
				   LockWaitPolicy policy)
{
	LOCKMODE	hw = aura_tuple_hwlock(mode);

	switch (policy)
	{
		case LockWaitBlock:
			LockTuple(rel, tid, hw);
			return true;
		case LockWaitSkip:
			return ConditionalLockTuple(rel, tid, hw);
		case LockWaitError:
			if (!ConditionalLockTuple(rel, tid, hw))
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("could not obtain lock on row in relation \"%s\"",
								RelationGetRelationName(rel))));
			return true;
	}
	return false;
}

/*
 * Release the target version without acting on it.  A row lock still hands
 * the version to the caller in its slot, as heap does: ON CONFLICT looks at
 * the xmin of a row it could not lock.
 */
static void
modify_give_up(Relation rel, AuraChainCursor *cur, TupleTableSlot *slot)
{
	Buffer		keep = InvalidBuffer;
	HeapTupleData tuple = cur->tuple;

	if (slot == NULL)
	{
		chain_end(cur, NULL);
		return;
	}
	chain_end(cur, &keep);
	aura_store_tuple(rel, &tuple, keep, slot);
	ReleaseBuffer(keep);
}

/*
 * Lock the newer versions of a row whose version at (block, offset) we are
 * KEY SHARE locking while a NO KEY UPDATE of it by prior_xmax is running or
 * has committed: heap's heap_lock_updated_tuple.  Without this, the
 * updater's new version would carry no lock, and once the updater commits
 * a DELETE of it would not wait for us (an FK check's lock would be lost).
 *
 * next_tid is the version's t_ctid: the same rowid for an update that kept
 * it, or a new rowid; the successor is the oldest version the updater
 * stored there.  A successor not stored yet is no hole: its updater carries
 * our lock over when it stores it (carry_lockers).  Returns TM_Ok, or TM_Updated/TM_Deleted when
 * a committed conflicting change of a successor makes the lock fail.
 */
static TM_Result
lock_updated_versions(Relation rel, uint64 rowid, BlockNumber block,
					  OffsetNumber offset, ItemPointerData next_tid,
					  TransactionId prior_xmax, LockTupleMode mode)
{
	int			hops;

	for (hops = 0;; hops++)
	{
		AuraChainCursor cur;
		uint64		next_rowid;
		bool		found = false;
		AuraMapEntry succ;
		HeapTupleHeader t;
		TransactionId waitxid;
		TM_Result	res;

		CHECK_FOR_INTERRUPTS();
		if (hops > 10000)
			elog(ERROR, "update chain of aura table \"%s\" does not end",
				 RelationGetRelationName(rel));
		if (!aura_tid_to_rowid(&next_tid, &next_rowid) ||
			!chain_first(&cur, rel, next_rowid, BUFFER_LOCK_SHARE, NULL))
			return TM_Ok;

		/*
		 * The successor is the oldest version the updater made: in the
		 * same rowid, the oldest one newer than ours with xmin = the
		 * updater (an aborted version may lie between them); in a new
		 * rowid, its oldest version.
		 */
		do
		{
			if (next_rowid == rowid &&
				cur.block == block && cur.offset == offset)
				break;
			if (TransactionIdEquals(HeapTupleHeaderGetXmin(cur.tuple.t_data),
									prior_xmax))
			{
				found = true;
				succ.block = cur.block;
				succ.offset = cur.offset;
				succ.flags = 0;
			}
		} while (chain_next(&cur));
		chain_end(&cur, NULL);
		if (!found)
			return TM_Ok;
		chain_start_at(&cur, rel, next_rowid, &succ, BUFFER_LOCK_EXCLUSIVE,
					   NULL);

		t = cur.tuple.t_data;
		if (!TransactionIdEquals(HeapTupleHeaderGetXmin(t), prior_xmax) ||
			aura_xmin_state(t) == AURA_XMIN_ABORTED)
		{
			chain_end(&cur, NULL);
			return TM_Ok;
		}

		res = aura_xmax_successor_check(t, mode, &waitxid);
		if (res == TM_BeingModified)
		{
			ItemPointerData waittid = cur.tuple.t_self;

			chain_end(&cur, NULL);
			XactLockTableWait(waitxid, rel, &waittid, XLTW_LockUpdated);
			continue;			/* look at the same successor again */
		}
		if (res == TM_Updated)
		{
			res = (cur.vh->flags & AURA_VF_UPDATED) ? TM_Updated : TM_Deleted;
			chain_end(&cur, NULL);
			return res;
		}
		if (res == TM_Ok)
			modify_write_xmax(rel, &cur, InvalidCommandId, mode, AURA_OP_LOCK,
							  NULL, false);

		/* go on if this version was updated, too */
		if (!(cur.vh->flags & AURA_VF_UPDATED) ||
			(t->t_infomask & HEAP_XMAX_INVALID) ||
			HEAP_XMAX_IS_LOCKED_ONLY(t->t_infomask))
		{
			chain_end(&cur, NULL);
			return TM_Ok;
		}
		prior_xmax = HeapTupleHeaderGetUpdateXid(t);
		rowid = next_rowid;
		block = cur.block;
		offset = cur.offset;
		next_tid = t->t_ctid;
		chain_end(&cur, NULL);
	}
}

/*
 * After an update stored its new version at *stored (rowid new_rowid), give
 * that version the row locks that still hold on the old version at
 * (old_block, old_offset): KEY SHARE lockers that coexisted with our NO KEY
 * UPDATE, before it (the old xmax became a MultiXact with them) or after it
 * (they joined the MultiXact and found no successor to lock yet, see
 * lock_updated_versions).  Heap gives its new tuple the old xmax for the
 * same reason: a later DELETE of the new version must wait for them.
 *
 * The old version is read after the new one is in the map, so a locker
 * either joined before that read (and we carry it) or looks for the
 * successor after it (and finds it).
 */
static void
carry_lockers(Relation rel, BlockNumber old_block, OffsetNumber old_offset,
			  uint64 new_rowid, const AuraMapEntry *stored)
{
	Buffer		buf;
	MultiXactMember *lockers;
	int			nlockers;
	AuraChainCursor cur;
	HeapTupleHeaderData hdr;
	AuraWal		wal;
	int			i;

	buf = ReadBuffer(rel, old_block);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	aura_page_check_kind(rel, old_block, BufferGetPage(buf), AURA_PAGE_HOT);
	nlockers = aura_xmax_running_lockers(
		AuraVersionGetTuple(vlog_get_version(BufferGetPage(buf), old_offset)),
		&lockers);
	UnlockReleaseBuffer(buf);
	if (nlockers == 0)
		return;

	chain_start_at(&cur, rel, new_rowid, stored, BUFFER_LOCK_EXCLUSIVE, NULL);
	memcpy(&hdr, cur.tuple.t_data, SizeofHeapTupleHeader);
	for (i = 0; i < nlockers; i++)
	{
		TransactionId xmax;
		uint16		im;
		uint16		im2;

		aura_compute_new_xmax(&hdr, lockers[i].xid,
							  aura_member_lock_mode(&lockers[i]), false,
							  &xmax, &im, &im2);
		set_xmax(&hdr, xmax, im, im2);
	}
	pfree(lockers);

	aura_wal_start(&wal, rel);
	(void) aura_wal_register(&wal, cur.buf, false);
	aura_wal_begin_changes(&wal);
	cur.tuple.t_data->t_infomask = hdr.t_infomask;
	cur.tuple.t_data->t_infomask2 = hdr.t_infomask2;
	HeapTupleHeaderSetXmax(cur.tuple.t_data, HeapTupleHeaderGetRawXmax(&hdr));
	aura_wal_changed(&wal, BufferGetPage(cur.buf), cur.tuple.t_data,
					 SizeofHeapTupleHeader);
	aura_wal_finish(&wal);
	chain_end(&cur, NULL);
}

/*
 * Has the update that a cold row's implicit xmax names (the successor's
 * xmin) aborted?  (HeapTupleSatisfiesUpdate may have set the hint bit in
 * the cursor's copy.)
 */
static bool
cold_updater_aborted(HeapTupleHeader t)
{
	TransactionId updater = HeapTupleHeaderGetRawXmax(t);

	if (t->t_infomask & HEAP_XMAX_INVALID)
		return true;
	if (t->t_infomask & HEAP_XMAX_COMMITTED)
		return false;
	return !TransactionIdIsCurrentTransactionId(updater) &&
		!TransactionIdIsInProgress(updater) &&
		!TransactionIdDidCommit(updater);
}

/*
 * The update that chained a version (at succ) to the cold row `cold' of
 * rowid aborted, and a writer wants the row: give it a hot copy again,
 * replacing the aborted version at the head of the chain, so that the row
 * can carry an xmax.  Lockers that met the update while it ran locked the
 * aborted version instead of the cold row (they could not write it, see
 * modify_acquire): the copy carries those still running, as heap's old
 * tuple would still carry their locks.  Nothing is done if the chain
 * changed meanwhile; the caller looks again either way.
 *
 * Nobody locks the aborted version once its inserter is known to have
 * aborted (lock_updated_versions checks that under its page lock), so the
 * lockers read here are all there will be.
 */
static void
cold_rematerialise(Relation rel, uint64 rowid, BlockNumber succ_block,
				   OffsetNumber succ_offset, const AuraMapEntry *cold)
{
	AuraMapEntry head;
	Buffer		buf;
	AuraVersionHeader *vh;
	MultiXactMember *lockers = NULL;
	int			nlockers = 0;
	bool		same;
	AuraColdRow row;
	HeapTupleData tuple;
	int			i;

	if (!rowmap_lookup(rel, rowid, &head) || head.flags != 0 ||
		head.block != succ_block || head.offset != succ_offset)
		return;

	buf = ReadBuffer(rel, succ_block);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	aura_page_check_kind(rel, succ_block, BufferGetPage(buf), AURA_PAGE_HOT);
	vh = vlog_get_version(BufferGetPage(buf), succ_offset);
	same = vh->rowid == rowid && (vh->flags & AURA_VF_PREV_COLD) &&
		vh->prev_block == cold->block && vh->prev_offset == cold->offset &&
		aura_xmin_state(AuraVersionGetTuple(vh)) == AURA_XMIN_ABORTED;
	if (same)
		nlockers = aura_xmax_running_lockers(AuraVersionGetTuple(vh), &lockers);
	UnlockReleaseBuffer(buf);
	if (!same)
		return;

	buf = ReadBuffer(rel, cold->block);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	cold_read_row(rel, buf, cold->offset, &row);
	if (row.rowid != rowid)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cold row %u of page %u of aura table \"%s\" belongs to rowid %llu, not %llu",
						cold->offset, cold->block, RelationGetRelationName(rel),
						(unsigned long long) row.rowid,
						(unsigned long long) rowid)));
	tuple.t_len = row.t_len;
	tuple.t_data = palloc(row.t_len);
	memcpy(tuple.t_data, row.t_data, row.t_len);
	UnlockReleaseBuffer(buf);
	aura_rowid_to_tid(rowid, &tuple.t_self);

	for (i = 0; i < nlockers; i++)
	{
		TransactionId xmax;
		uint16		im;
		uint16		im2;

		aura_compute_new_xmax(tuple.t_data, lockers[i].xid,
							  aura_member_lock_mode(&lockers[i]), false,
							  &xmax, &im, &im2);
		set_xmax(tuple.t_data, xmax, im, im2);
	}
	if (lockers)
		pfree(lockers);

	(void) vlog_store_version(rel, rowid, &tuple, VLOG_REPLACE, &head,
							  AURA_VF_MATERIALISED, NULL);
	pfree(tuple.t_data);
}

/*
 * The common first half of update, delete and lock: find the target
 * version, wait until nobody conflicting holds it, and return TM_Ok with the
 * cursor's page exclusively locked -- or another TM_Result with nothing
 * locked.  *already is set when a lock request finds the row already locked
 * by us strongly enough.  follow_updates: a KEY SHARE lock coexisting with
 * a NO KEY UPDATE also locks the updater's newer versions
 * (TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS, set by SELECT ... FOR KEY SHARE).
 *
 * Cold rows are never written.  A cold row at the head of the chain is
 * returned as it is (cur->cold) only to an update that keeps the rowid,
 * which then chains its new version to it (aura_tuple_update); for
 * anything else it is materialised first.  A cold row below a successor
 * (ChainAtColdPredecessor) whose change would be TM_Ok has an implicit
 * xmax that is an aborted update (then it is materialised again,
 * cold_rematerialise), or is met by a lock that does not conflict with the
 * running or committed update: that lock is held by the newer versions
 * (follow_updates) or moot on a row a committed update replaced, so
 * *already is set; otherwise the lock waits for the update to end.
 */
static TM_Result
modify_acquire(Relation rel, ItemPointer tid, uint64 rowid, Snapshot snapshot,
			   CommandId cid, Snapshot crosscheck, LockTupleMode *mode,
			   AuraModifyOp op, LockWaitPolicy policy, bool find_last,
			   bool follow_updates, AuraUpdateCheck *upd,
			   TM_FailureData *tmfd, AuraChainCursor *cur,
			   bool *have_tuple_lock, bool *already, TupleTableSlot *slot)
{
	XLTW_Oper	oper = op == AURA_OP_DELETE ? XLTW_Delete :
	op == AURA_OP_UPDATE ? XLTW_Update : XLTW_Lock;

	/*
	 * Which version does the caller mean?  UPDATE and DELETE: the one their
	 * snapshot sees.  Row locks with FIND_LAST_VERSION: the newest.  Other
	 * row locks come from a scan under a transaction snapshot (SELECT FOR
	 * UPDATE in REPEATABLE READ: the visible version, so a newer one means
	 * a serialization failure) or, in READ COMMITTED, from ON CONFLICT,
	 * whose TID came from a dirty index probe and means the newest version.
	 * A lock finding no visible version (ON CONFLICT under a transaction
	 * snapshot) takes the newest; the executor then checks visibility.
	 */
	bool		use_snapshot = snapshot != NULL && IsMVCCSnapshot(snapshot) &&
	(op != AURA_OP_LOCK || (!find_last && IsolationUsesXactSnapshot()));

	/* the version and xmax whose newer versions we locked, and the outcome */
	BlockNumber followed_block = InvalidBlockNumber;
	OffsetNumber followed_offset = InvalidOffsetNumber;
	TransactionId followed_xmax = InvalidTransactionId;
	uint16		followed_infomask = 0;
	TM_Result	follow_result = TM_Ok;

	*already = false;
	for (;;)
	{
		TM_Result	result;
		HeapTupleHeader t;
		bool		follow = false;

		CHECK_FOR_INTERRUPTS();
		if (!modify_find_target(rel, rowid, snapshot, use_snapshot, cur) &&
			(!use_snapshot || op != AURA_OP_LOCK ||
			 !modify_find_target(rel, rowid, snapshot, false, cur)))
			return TM_Invisible;
		t = cur->tuple.t_data;

		if (upd)
		{
			update_check_changes(rel, &cur->tuple, upd);
			*mode = upd->key_changed ? LockTupleExclusive :
				LockTupleNoKeyExclusive;
		}

		if (cur->cold && !ChainAtColdPredecessor(cur) &&
			(op != AURA_OP_UPDATE || upd->index_changed))
		{
			AuraMapEntry entry;

			entry.block = cur->block;
			entry.offset = cur->offset;
			entry.flags = AURA_MAP_COLD;
			chain_end(cur, NULL);
			cold_materialise(rel, rowid, &entry);
			continue;
		}

		result = HeapTupleSatisfiesUpdate(&cur->tuple, cid, cur->buf);
		if (result == TM_Invisible)
		{
			modify_give_up(rel, cur, slot);
			return TM_Invisible;
		}

		if (result == TM_BeingModified)
		{
			TransactionId waitxid;
			MultiXactId waitmulti;
			AuraXmaxAction action;

			if (op == AURA_OP_LOCK && aura_xmax_locked_by_me(t, *mode))
			{
				*already = true;
				return TM_Ok;
			}
			action = aura_xmax_action(t, *mode, op == AURA_OP_LOCK,
									  &waitxid, &waitmulti, &follow);
			if (action == AURA_XMAX_RECHECK)
			{
				chain_end(cur, NULL);
				continue;
			}
			if (action == AURA_XMAX_WAIT)
			{
				/*
				 * As heap_lock_tuple does, a row lock request of a
				 * transaction that already holds a weaker lock on the row
				 * does not queue for the tuple lock: a waiter queued there
				 * may be waiting for it (lock upgrade).  Updates and
				 * deletes always queue, as in heap_update/heap_delete.
				 */
				bool		upgrading = op == AURA_OP_LOCK &&
					aura_xmax_has_my_lock(t);

				chain_end(cur, NULL);
				if (!*have_tuple_lock && !upgrading)
				{
					if (!acquire_tuple_lock(rel, tid, *mode, policy))
						return TM_WouldBlock;
					*have_tuple_lock = true;
					continue;
				}
				if (!aura_wait_for_xmax(rel, tid, waitxid, waitmulti, *mode,
										policy, oper))
					return TM_WouldBlock;
				continue;
			}

			/*
			 * A committed updater in a MultiXact whose lockers (maybe us)
			 * still run: HeapTupleSatisfiesUpdate keeps saying "being
			 * modified", but the version was updated, as heap concludes.
			 */
			result = action == AURA_XMAX_UPDATED ? TM_Updated : TM_Ok;
		}

		/*
		 * A KEY SHARE lock does not conflict with a committed update that
		 * kept the key: heap grants it (an FK check in REPEATABLE READ does
		 * not fail because the referenced row's other columns changed).
		 */
		if ((result == TM_Updated || result == TM_Deleted) &&
			op == AURA_OP_LOCK && *mode == LockTupleKeyShare &&
			(cur->vh->flags & AURA_VF_UPDATED) &&
			!(t->t_infomask2 & HEAP_KEYS_UPDATED))
		{
			result = TM_Ok;
			follow = true;
		}

		if (result == TM_Ok && follow && follow_updates)
		{
			if (cur->block != followed_block ||
				cur->offset != followed_offset ||
				HeapTupleHeaderGetRawXmax(t) != followed_xmax ||
				(t->t_infomask & HEAP_XMAX_BITS) != followed_infomask)
			{
				ItemPointerData next_tid = t->t_ctid;
				TransactionId updater = HeapTupleHeaderGetUpdateXid(t);

				/* lock the newer versions first, holding no page lock */
				followed_block = cur->block;
				followed_offset = cur->offset;
				followed_xmax = HeapTupleHeaderGetRawXmax(t);
				followed_infomask = t->t_infomask & HEAP_XMAX_BITS;
				chain_end(cur, NULL);
				follow_result = lock_updated_versions(rel, rowid,
													  followed_block,
													  followed_offset,
													  next_tid, updater,
													  *mode);
				continue;
			}
			result = follow_result;
		}

		if (result == TM_Ok && crosscheck != InvalidSnapshot &&
			!HeapTupleSatisfiesVisibility(&cur->tuple, crosscheck, cur->buf))
			result = TM_Updated;

		if (result == TM_Ok && ChainAtColdPredecessor(cur))
		{
			TransactionId updater = HeapTupleHeaderGetRawXmax(t);

			if (cold_updater_aborted(t))
			{
				AuraMapEntry cold;
				BlockNumber succ_block = cur->succ_block;
				OffsetNumber succ_offset = cur->succ_offset;

				cold.block = cur->block;
				cold.offset = cur->offset;
				cold.flags = AURA_MAP_COLD;
				chain_end(cur, NULL);
				cold_rematerialise(rel, rowid, succ_block, succ_offset, &cold);
				continue;
			}
			if (op != AURA_OP_LOCK)
				elog(ERROR, "cold row of \"%s\" with a running or committed update is no target",
					 RelationGetRelationName(rel));
			if ((follow && follow_updates) ||
				!TransactionIdIsInProgress(updater))
			{
				*already = true;
				return TM_Ok;
			}
			chain_end(cur, NULL);
			if (!*have_tuple_lock)
			{
				if (!acquire_tuple_lock(rel, tid, *mode, policy))
					return TM_WouldBlock;
				*have_tuple_lock = true;
				continue;
			}
			if (!aura_wait_for_xmax(rel, tid, updater, InvalidMultiXactId,
									*mode, policy, oper))
				return TM_WouldBlock;
			continue;
		}

		if (result == TM_Ok)
			return TM_Ok;

		tmfd->ctid = t->t_ctid;
		tmfd->xmax = HeapTupleHeaderGetUpdateXid(t);
		tmfd->cmax = result == TM_SelfModified ?
			HeapTupleHeaderGetCmax(t) : InvalidCommandId;

		/*
		 * HeapTupleSatisfiesUpdate tells updated from deleted by comparing
		 * t_ctid with the TID, which for a same-rowid update are equal; the
		 * version's own flag knows.
		 */
		if (result == TM_Updated || result == TM_Deleted)
			result = (cur->vh->flags & AURA_VF_UPDATED) ||
				ItemPointerIndicatesMovedPartitions(&t->t_ctid) ?
				TM_Updated : TM_Deleted;
		modify_give_up(rel, cur, slot);
		return result;
	}
}

/*
 * Write the new xmax of the target version (exclusively locked by
 * modify_acquire) in one Generic WAL record.
 */
static void
modify_write_xmax(Relation rel, AuraChainCursor *cur, CommandId cid,
				  LockTupleMode mode, AuraModifyOp op, ItemPointer new_ctid,
				  bool changing_part)
{
	TransactionId xid = GetCurrentTransactionId();
	TransactionId new_xmax;
	uint16		im;
	uint16		im2;
	CommandId	cmax = cid;
	bool		iscombo = false;
	AuraWal		wal;
	AuraVersionHeader *vh;
	HeapTupleHeader t;

	/*
	 * As heap does, before this transaction's xid can be stored as an xmax:
	 * another backend may fold it into a MultiXact right afterwards, and
	 * that MultiXact must not count as older than all of our lockers.
	 */
	if (cur->cold)
		elog(ERROR, "cannot write the xmax of a cold row of \"%s\"",
			 RelationGetRelationName(rel));
	MultiXactIdSetOldestMember();
	aura_compute_new_xmax(cur->tuple.t_data, xid, mode, op != AURA_OP_LOCK,
						  &new_xmax, &im, &im2);
	if (op != AURA_OP_LOCK)
		HeapTupleHeaderAdjustCmax(cur->tuple.t_data, &cmax, &iscombo);

	aura_wal_start(&wal, rel);
	(void) aura_wal_register(&wal, cur->buf, false);
	vh = cur->vh;
	t = cur->tuple.t_data;
	aura_wal_begin_changes(&wal);
	set_xmax(t, new_xmax, im, im2);
	switch (op)
	{
		case AURA_OP_LOCK:
			break;
		case AURA_OP_DELETE:
			HeapTupleHeaderSetCmax(t, cmax, iscombo);
			vh->flags &= ~AURA_VF_UPDATED;
			if (changing_part)
				ItemPointerSetMovedPartitions(&t->t_ctid);
			else
				t->t_ctid = cur->tuple.t_self;
			break;
		case AURA_OP_UPDATE:
			HeapTupleHeaderSetCmax(t, cmax, iscombo);
			vh->flags |= AURA_VF_UPDATED;
			t->t_ctid = *new_ctid;
			break;
	}
	/* the version header and the tuple header are contiguous */
	aura_wal_changed(&wal, BufferGetPage(cur->buf), vh,
					 AURA_VERSION_HDRSZ + SizeofHeapTupleHeader);
	aura_wal_finish(&wal);
}

static uint64
tid_rowid_or_error(Relation rel, ItemPointer tid)
{
	uint64		rowid;

	if (!aura_tid_to_rowid(tid, &rowid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid TID (%u,%u) for aura table \"%s\"",
						ItemPointerGetBlockNumberNoCheck(tid),
						ItemPointerGetOffsetNumberNoCheck(tid),
						RelationGetRelationName(rel))));
	return rowid;
}

TM_Result
aura_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
				  Snapshot snapshot, Snapshot crosscheck, bool wait,
				  TM_FailureData *tmfd, bool changingPart)
{
	uint64		rowid = tid_rowid_or_error(rel, tid);
	LockTupleMode mode = LockTupleExclusive;
	AuraChainCursor cur;
	bool		have_tuple_lock = false;
	bool		already;
	TM_Result	result;

	check_not_published(rel);
	result = modify_acquire(rel, tid, rowid, snapshot, cid, crosscheck, &mode,
							AURA_OP_DELETE,
							wait ? LockWaitBlock : LockWaitSkip, false, false,
							NULL,
							tmfd, &cur, &have_tuple_lock, &already, NULL);
	if (result == TM_Ok)
	{
		CheckForSerializableConflictIn(rel, tid, ItemPointerGetBlockNumber(tid));
		modify_write_xmax(rel, &cur, cid, mode, AURA_OP_DELETE, NULL,
						  changingPart);
		chain_end(&cur, NULL);
		pgstat_count_heap_delete(rel);
	}
	else if (result == TM_WouldBlock)
		result = TM_BeingModified;
	if (have_tuple_lock)
		UnlockTuple(rel, tid, aura_tuple_hwlock(mode));
	return result;
}

TM_Result
aura_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
				  CommandId cid, Snapshot snapshot, Snapshot crosscheck,
				  bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode,
				  bool *update_indexes)
{
	uint64		rowid = tid_rowid_or_error(rel, otid);
	TransactionId xid = GetCurrentTransactionId();
	AuraUpdateCheck upd;
	LockTupleMode mode = LockTupleNoKeyExclusive;
	AuraChainCursor cur;
	bool		have_tuple_lock = false;
	bool		already;
	bool		shouldFree;
	HeapTuple	orig;
	HeapTuple	newtup;
	TM_Result	result;
	uint64		newrowid = rowid;
	ItemPointerData newtid;
	BlockNumber old_block;
	OffsetNumber old_offset;
	AuraMapEntry stored;
	bool		chained_to_cold = false;

	check_not_published(rel);
	orig = ExecFetchSlotHeapTuple(slot, true, &shouldFree);
	newtup = aura_prepare_tuple(rel, orig, xid, cid, 0);

	upd.newslot = slot;
	upd.index_attrs = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_ALL);
	upd.key_attrs = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_KEY);
	upd.force_new_rowid = update_needs_new_rowid_always(rel);

	for (;;)
	{
		AuraMapEntry cold;

		result = modify_acquire(rel, otid, rowid, snapshot, cid, crosscheck,
								&mode, AURA_OP_UPDATE,
								wait ? LockWaitBlock : LockWaitSkip, false,
								false, &upd,
								tmfd, &cur, &have_tuple_lock, &already, NULL);
		if (result != TM_Ok || !cur.cold)
			break;

		/*
		 * A cold row at the head, updated in place of its rowid: the new
		 * version is chained to the cold row, whose xmax it implies, in
		 * one record -- if the map still names the row by then (someone
		 * else may have materialised or updated it: look again).
		 */
		AURA_CHECK(!ChainAtColdPredecessor(&cur) && !upd.index_changed);
		cold.block = cur.block;
		cold.offset = cur.offset;
		cold.flags = AURA_MAP_COLD;
		chain_end(&cur, NULL);
		CheckForSerializableConflictIn(rel, otid,
									   ItemPointerGetBlockNumber(otid));
		newtup->t_self = *otid;
		newtup->t_data->t_ctid = *otid;
		if (vlog_store_version(rel, rowid, newtup, VLOG_CHAIN_COLD, &cold, 0,
							   &stored))
		{
			chained_to_cold = true;
			break;
		}
	}
	*lockmode = mode;
	if (result == TM_Ok)
	{
		if (upd.index_changed)
		{
			uint32		ngot;

			newrowid = aura_allocate_rowids(rel, 1, &ngot);
		}
		aura_rowid_to_tid(newrowid, &newtid);

		if (!chained_to_cold)
		{
			CheckForSerializableConflictIn(rel, otid,
										   ItemPointerGetBlockNumber(otid));
			modify_write_xmax(rel, &cur, cid, mode, AURA_OP_UPDATE, &newtid,
							  false);
			old_block = cur.block;
			old_offset = cur.offset;
			chain_end(&cur, NULL);

			newtup->t_self = newtid;
			newtup->t_data->t_ctid = newtid;
			aura_store_version(rel, newrowid, newtup, !upd.index_changed,
							   &stored);
			if (mode == LockTupleNoKeyExclusive)
				carry_lockers(rel, old_block, old_offset, newrowid, &stored);
		}

		slot->tts_tableOid = RelationGetRelid(rel);
		slot->tts_tid = newtid;
		orig->t_self = newtid;
		*update_indexes = upd.index_changed;
		pgstat_count_heap_update(rel, !upd.index_changed);
	}
	else if (result == TM_WouldBlock)
		result = TM_BeingModified;

	if (have_tuple_lock)
		UnlockTuple(rel, otid, aura_tuple_hwlock(mode));
	bms_free(upd.index_attrs);
	bms_free(upd.key_attrs);
	if (newtup != orig)
		heap_freetuple(newtup);
	if (shouldFree)
		heap_freetuple(orig);
	return result;
}

TM_Result
aura_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot,
				TupleTableSlot *slot, CommandId cid, LockTupleMode mode,
				LockWaitPolicy wait_policy, uint8 flags,
				TM_FailureData *tmfd)
{
	bool		find_last = (flags & TUPLE_LOCK_FLAG_FIND_LAST_VERSION) != 0;
	AuraChainCursor cur;
	bool		have_tuple_lock = false;
	bool		already;
	TM_Result	result;
	int			hops = 0;

	tmfd->traversed = false;
	for (;;)
	{
		uint64		rowid = tid_rowid_or_error(rel, tid);
		uint64		nextrowid;

		result = modify_acquire(rel, tid, rowid, snapshot, cid,
								InvalidSnapshot, &mode, AURA_OP_LOCK,
								wait_policy, find_last,
								(flags & TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS) != 0,
								NULL, tmfd, &cur,
								&have_tuple_lock, &already, slot);
		if (result != TM_Updated || !find_last)
			break;
		if (ItemPointerIndicatesMovedPartitions(&tmfd->ctid))
		{
			if (have_tuple_lock)
				UnlockTuple(rel, tid, aura_tuple_hwlock(mode));
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("tuple to be locked was already moved to another partition due to concurrent update")));
		}

		/* follow the update to the row's next rowid */
		if (have_tuple_lock)
		{
			UnlockTuple(rel, tid, aura_tuple_hwlock(mode));
			have_tuple_lock = false;
		}
		if (aura_tid_to_rowid(&tmfd->ctid, &nextrowid) && nextrowid != rowid)
		{
			/* as heap checks xmin against the prior xmax */
			if (!chain_has_xmin(rel, nextrowid, tmfd->xmax))
			{
				result = TM_Deleted;
				break;
			}
			*tid = tmfd->ctid;
			tmfd->traversed = true;
		}
		if (++hops > 1000)
			elog(ERROR, "update chain of aura table \"%s\" does not end",
				 RelationGetRelationName(rel));
	}

	if (result == TM_Ok)
	{
		Buffer		keep = InvalidBuffer;

		if (!already)
			modify_write_xmax(rel, &cur, cid, mode, AURA_OP_LOCK, NULL, false);
		if (find_last && snapshot != NULL && IsMVCCSnapshot(snapshot) &&
			!HeapTupleSatisfiesVisibility(&cur.tuple, snapshot, cur.buf))
			tmfd->traversed = true;
		chain_end(&cur, &keep);
		aura_store_tuple(rel, &cur.tuple, keep, slot);
		ReleaseBuffer(keep);
	}

	if (have_tuple_lock)
		UnlockTuple(rel, tid, aura_tuple_hwlock(mode));
	return result;
}
