/*-------------------------------------------------------------------------
 *
 * cold_load.c
 *	  Frozen bulk loads (COPY FREEZE) straight into cold pages.
 *
 * COPY ... (FREEZE) hands multi_insert rows with HEAP_INSERT_FROZEN only
 * when the table was created or truncated in the current subtransaction:
 * no other transaction can see the relfilenode, and if the transaction
 * aborts the whole relfilenode goes.  Those rows are settled from the
 * start, so they go to cold pages directly (cold.h) -- no hot copy, no
 * later rewrite by VACUUM.
 *
 * Every multi_insert call places all of its rows before it returns: the
 * executor inserts their index entries next, and a unique check looking
 * up one of them must find the row.  The last page of a call stays open:
 * the next call of the same load appends blocks to it instead of leaving
 * it part empty.  Only this transaction can read the page, the blocks
 * already on it do not change, and each write is one record with the full
 * page, so a crash or an abort leaves nothing half done.
 *
 * WAL order per cold page: the page (full image), then one record per map
 * page touched, pointing the new rows' entries at it.  A crash between
 * them loses the whole relfilenode anyway (its transaction never
 * committed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/cold.h"
#include "storage/meta.h"
#include "storage/proc.h"
#include "storage/rowmap.h"
#include "tableam/aura_tableam.h"
#include "utils/memutils.h"

/* The one load in progress in this backend */
typedef struct AuraColdLoad
{
	AuraColdBuilder *builder;	/* in TopTransactionContext */
	LocalTransactionId lxid;	/* of the transaction it belongs to */
	RelFileNode node;
} AuraColdLoad;

static AuraColdLoad cold_load;

/* Builder callback: point the entries of the rows placed at their items */
static void
cold_load_placed(void *arg, BlockNumber block, const AuraColdSource *sources,
				 OffsetNumber first_item, int n)
{
	Relation	rel = (Relation) arg;
	int			i = 0;

	while (i < n)
	{
		uint64		mapno = RowidGetMapPageNo(sources[i].rowid);
		Buffer		mapbuf;
		Page		mappage;
		AuraWal		wal;
		int			j;

		(void) rowmap_page_block(rel, mapno, true);
		mapbuf = rowmap_lock_page(rel, sources[i].rowid, BUFFER_LOCK_EXCLUSIVE,
								  true);
		aura_wal_start(&wal, rel);
		mappage = aura_wal_register(&wal, mapbuf, false);
		aura_wal_begin_changes(&wal);
		for (j = i; j < n && RowidGetMapPageNo(sources[j].rowid) == mapno; j++)
		{
			AURA_CHECK(!AuraMapEntryIsUsed(rowmap_page_entry(mappage, sources[j].rowid)));
			rowmap_set_entry_flags(&wal, mappage, sources[j].rowid, block,
								   first_item + j, AURA_MAP_COLD);
		}
		aura_wal_finish(&wal);
		UnlockReleaseBuffer(mapbuf);
		i = j;
	}
}

static AuraColdBuilder *
cold_load_builder(Relation rel)
{
	if (cold_load.builder == NULL || cold_load.lxid != MyProc->lxid ||
		!RelFileNodeEquals(cold_load.node, rel->rd_node))
	{
		/* another load's state (or an ended transaction's): forget it */
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		cold_load.builder = cold_builder_begin(rel, cold_load_placed, NULL, rel);
		MemoryContextSwitchTo(old);
		cold_load.lxid = MyProc->lxid;
		cold_load.node = rel->rd_node;
	}
	else
		cold_builder_rebind(cold_load.builder, rel, rel);
	return cold_load.builder;
}

/*
 * Store prepared, frozen tuples[0..ntuples) of a frozen bulk load, on cold
 * pages where they can go, as hot versions otherwise, setting each slot's
 * TID.
 */
void
aura_cold_load_insert(Relation rel, HeapTuple *tuples, TupleTableSlot **slots,
					  int ntuples)
{
	AuraColdBuilder *b = cold_load_builder(rel);
	int			i = 0;

	while (i < ntuples)
	{
		uint32		ngot;
		uint64		base = aura_allocate_rowids(rel, ntuples - i, &ngot);
		uint32		k;

		for (k = 0; k < ngot; k++, i++)
		{
			HeapTuple	tuple = tuples[i];
			AuraColdSource src;

			aura_rowid_to_tid(base + k, &tuple->t_self);
			tuple->t_data->t_ctid = tuple->t_self;
			src.rowid = base + k;
			src.block = InvalidBlockNumber;
			src.offset = InvalidOffsetNumber;
			src.flags = 0;
			src.succ_block = InvalidBlockNumber;
			src.succ_offset = InvalidOffsetNumber;
			if (!cold_builder_add(b, &src, tuple->t_data, tuple->t_len))
				aura_store_version(rel, base + k, tuple, false, NULL);
			slots[i]->tts_tableOid = RelationGetRelid(rel);
			slots[i]->tts_tid = tuple->t_self;
		}
	}
	cold_builder_flush(b, true);
}

/* The load into rel is over (finish_bulk_insert): close its open page */
void
aura_cold_load_end(Relation rel)
{
	if (cold_load.builder != NULL && cold_load.lxid == MyProc->lxid &&
		RelFileNodeEquals(cold_load.node, rel->rd_node))
		cold_builder_flush(cold_load.builder, false);
	cold_load.builder = NULL;
}
