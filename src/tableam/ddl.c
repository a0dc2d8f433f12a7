/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Storage management of aura tables: new relfilenodes, truncation,
 *	  SET TABLESPACE, CLUSTER / VACUUM FULL, VACUUM and size estimates.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/storage.h"
#include "catalog/storage_xlog.h"
#include "commands/vacuum.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "storage/meta.h"
#include "storage/rowmap.h"
#include "storage/smgr.h"
#include "tableam/aura_tableam.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/*
 * An aura table starts with zero blocks; the first writer creates the meta
 * page.  An unlogged table gets an empty init fork, so crash recovery
 * resets it to an empty (valid) aura table.
 */
void
aura_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode,
							   char persistence, TransactionId *freezeXid,
							   MultiXactId *minmulti)
{
	SMgrRelation srel;

	*freezeXid = RecentXmin;
	*minmulti = GetOldestMultiXactId();

	srel = RelationCreateStorage(*newrnode, persistence, true);
	if (persistence == RELPERSISTENCE_UNLOGGED)
	{
		smgrcreate(srel, INIT_FORKNUM, false);
		log_smgrcreate(newrnode, INIT_FORKNUM);
		smgrimmedsync(srel, INIT_FORKNUM);
	}
	smgrclose(srel);
	aura_relcache_reset(rel);
}

void
aura_relation_nontransactional_truncate(Relation rel)
{
	RelationTruncate(rel, 0);
	aura_relcache_reset(rel);
}

/* SET TABLESPACE: copy every fork block by block (WAL-logged as images) */
void
aura_relation_copy_data(Relation rel, const RelFileNode *newrnode)
{
	SMgrRelation dstrel;
	ForkNumber	forkNum;

	FlushRelationBuffers(rel);
	dstrel = RelationCreateStorage(*newrnode, rel->rd_rel->relpersistence, true);
	RelationCopyStorage(RelationGetSmgr(rel), dstrel, MAIN_FORKNUM,
						rel->rd_rel->relpersistence);
	for (forkNum = MAIN_FORKNUM + 1; forkNum <= MAX_FORKNUM; forkNum++)
	{
		if (smgrexists(RelationGetSmgr(rel), forkNum))
		{
			smgrcreate(dstrel, forkNum, false);
			if (RelationIsPermanent(rel) ||
				(rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED &&
				 forkNum == INIT_FORKNUM))
				log_smgrcreate(newrnode, forkNum);
			RelationCopyStorage(RelationGetSmgr(rel), dstrel, forkNum,
								rel->rd_rel->relpersistence);
		}
	}
	RelationDropStorage(rel);
	smgrclose(dstrel);
	aura_relcache_reset(rel);
}

/*
 * Copy the surviving versions of one old rowid into a new rowid of
 * NewTable, oldest first, keeping their transaction headers.
 */
static void
cluster_copy_row(Relation OldTable, Relation NewTable, uint64 rowid,
				 TransactionId OldestXmin, double *num_tuples,
				 double *tups_vacuumed, double *tups_recently_dead)
{
	AuraChainCursor cur;
	List	   *versions = NIL;
	ListCell   *lc;
	uint64		newrowid = 0;
	bool		first = true;

	if (!chain_first(&cur, OldTable, rowid, BUFFER_LOCK_SHARE, NULL))
		return;
	do
	{
		switch (HeapTupleSatisfiesVacuum(&cur.tuple, OldestXmin, cur.buf))
		{
			case HEAPTUPLE_DEAD:
				*tups_vacuumed += 1;
				continue;
			case HEAPTUPLE_RECENTLY_DEAD:
				*tups_recently_dead += 1;
				break;
			default:
				*num_tuples += 1;
				break;
		}
		versions = lcons(heap_copytuple(&cur.tuple), versions);
	} while (chain_next(&cur));
	chain_end(&cur, NULL);

	foreach(lc, versions)
	{
		HeapTuple	old = (HeapTuple) lfirst(lc);
		HeapTuple	tup = old;
		uint32		ngot;

		if (first)
			newrowid = aura_allocate_rowids(NewTable, 1, &ngot);
		if (HeapTupleHasExternal(old))
		{
			HeapTupleHeaderData hdr = *old->t_data;

			aura_patch_toast_pointers(OldTable, old);
			tup = aura_move_values_to_blobs(NewTable, old);
			/* keep the version's transaction fields */
			tup->t_data->t_choice = hdr.t_choice;
			tup->t_data->t_infomask =
				(tup->t_data->t_infomask & ~HEAP_XACT_MASK) |
				(hdr.t_infomask & HEAP_XACT_MASK);
			tup->t_data->t_infomask2 =
				(tup->t_data->t_infomask2 & ~HEAP2_XACT_MASK) |
				(hdr.t_infomask2 & HEAP2_XACT_MASK);
		}
		aura_rowid_to_tid(newrowid, &tup->t_self);
		tup->t_data->t_ctid = tup->t_self;
		aura_store_version(NewTable, newrowid, tup, !first, NULL);
		first = false;
		if (tup != old)
			heap_freetuple(tup);
		heap_freetuple(old);
	}
	list_free(versions);
}

/*
 * CLUSTER and VACUUM FULL: copy every version that may still be visible
 * to someone into the new relfilenode, in index order when an index is
 * given.  Versions are not frozen, so the new relfrozenxid stays the old.
 */
void
aura_relation_copy_for_cluster(Relation OldTable, Relation NewTable,
							   Relation OldIndex, bool use_sort,
							   TransactionId OldestXmin,
							   TransactionId *xid_cutoff,
							   MultiXactId *multi_cutoff,
							   double *num_tuples, double *tups_vacuumed,
							   double *tups_recently_dead)
{
	uint64		nrowids = aura_meta_next_rowid(OldTable);
	uint64		rowid;

	*num_tuples = *tups_vacuumed = *tups_recently_dead = 0;
	*xid_cutoff = OldTable->rd_rel->relfrozenxid;
	*multi_cutoff = OldTable->rd_rel->relminmxid;

	if (OldIndex != NULL && nrowids > 0)
	{
		uint8	   *seen = palloc_extended(nrowids / 8 + 1,
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		IndexScanDesc iscan = index_beginscan(OldTable, OldIndex, SnapshotAny,
											  0, 0);
		ItemPointer tid;

		index_rescan(iscan, NULL, 0, NULL, 0);
		while ((tid = index_getnext_tid(iscan, ForwardScanDirection)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			if (!aura_tid_to_rowid(tid, &rowid) || rowid >= nrowids ||
				(seen[rowid / 8] & (1 << (rowid % 8))))
				continue;
			seen[rowid / 8] |= 1 << (rowid % 8);
			cluster_copy_row(OldTable, NewTable, rowid, OldestXmin,
							 num_tuples, tups_vacuumed, tups_recently_dead);
		}
		index_endscan(iscan);
		for (rowid = 0; rowid < nrowids; rowid++)
			if (!(seen[rowid / 8] & (1 << (rowid % 8))))
				cluster_copy_row(OldTable, NewTable, rowid, OldestXmin,
								 num_tuples, tups_vacuumed,
								 tups_recently_dead);
		pfree(seen);
		return;
	}

	for (rowid = 0; rowid < nrowids; rowid++)
	{
		CHECK_FOR_INTERRUPTS();
		cluster_copy_row(OldTable, NewTable, rowid, OldestXmin, num_tuples,
						 tups_vacuumed, tups_recently_dead);
	}
}

uint64
aura_relation_size(Relation rel, ForkNumber forkNumber)
{
	return table_block_relation_size(rel, forkNumber);
}

void
aura_relation_estimate_size(Relation rel, int32 *attr_widths,
							BlockNumber *pages, double *tuples,
							double *allvisfrac)
{
	BlockNumber curpages = RelationGetNumberOfBlocks(rel);
	double		reltuples = rel->rd_rel->reltuples;
	BlockNumber relpages = rel->rd_rel->relpages;

	*pages = curpages;
	*allvisfrac = 0;
	if (curpages == 0)
		*tuples = 0;
	else if (reltuples >= 0 && relpages > 0)
		*tuples = rint(reltuples / relpages * curpages);
	else
		*tuples = (double) aura_meta_next_rowid(rel);
}

void
aura_finish_bulk_insert(Relation rel, int options)
{
	/*
	 * Every page change was WAL-logged as it happened; a frozen load only
	 * closes its open cold page.
	 */
	aura_cold_load_end(rel);
}
