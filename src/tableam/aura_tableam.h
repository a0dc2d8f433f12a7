/*-------------------------------------------------------------------------
 *
 * aura_tableam.h
 *	  Internal interface between the parts of the aura table access method.
 *
 * chain.c   walks version chains and decides which version a caller sees
 * xmax.c    row locks: lock-mode conflicts, waiting, new xmax computation
 * dml.c     insert, update, delete, lock, speculative insertion
 * scan.c    sequential/parallel/TID-range/bitmap/sample/analyze scans,
 *           index fetches, single-row fetches
 * ddl.c     storage management, VACUUM, CLUSTER, size estimates
 * index_build.c  CREATE INDEX [CONCURRENTLY] support
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_TABLEAM_H
#define AURA_TABLEAM_H

#include "access/heapam.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "storage/aura_page.h"
#include "storage/lmgr.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/*
 * A position in the version chain of one rowid.  While valid, `buf' is
 * pinned and locked in `lockmode' and `tuple' points into it.
 */
typedef struct AuraChainCursor
{
	Relation	rel;
	uint64		rowid;
	int			lockmode;		/* BUFFER_LOCK_SHARE or _EXCLUSIVE */
	Buffer		buf;
	BlockNumber block;
	OffsetNumber offset;
	AuraVersionHeader *vh;
	HeapTupleData tuple;		/* t_self is the logical TID */
	bool		cold;			/* at a cold row: tuple.t_data is in the
								 * decompression cache (or, below a
								 * successor, a copy with the implicit xmax),
								 * vh is cold_vh */
	AuraVersionHeader cold_vh;	/* a cold row's version header: no prev */
	BlockNumber succ_block;		/* cold row below a successor (its
								 * AURA_VF_PREV_COLD version): that
								 * version; else InvalidBlockNumber */
	OffsetNumber succ_offset;
} AuraChainCursor;

/* Is the cursor at a cold row that a successor's prev pointer names? */
#define ChainAtColdPredecessor(cur) \
	((cur)->cold && (cur)->succ_block != InvalidBlockNumber)

/* autocompact.c */
#define AURA_AUTOCOMPACT_MIN_PAGES	64	/* the smallest trigger, in pages */
extern PGDLLIMPORT double aura_compaction_trigger;
extern PGDLLIMPORT bool aura_in_compaction_worker;
extern void aura_autocompact_define_options(void);
extern void aura_autocompact_count_page(Relation rel);

/* chain.c */
typedef enum AuraXminState
{
	AURA_XMIN_ABORTED,
	AURA_XMIN_IN_PROGRESS,		/* by another transaction */
	AURA_XMIN_MINE,				/* by the current transaction */
	AURA_XMIN_COMMITTED
} AuraXminState;

extern bool chain_first(AuraChainCursor *cur, Relation rel, uint64 rowid,
						int lockmode, Buffer *keep);
extern void chain_cold_implicit_xmax(HeapTupleHeader t, uint32 t_len,
									 HeapTupleHeader successor,
									 ItemPointer self);
extern void chain_start_at(AuraChainCursor *cur, Relation rel, uint64 rowid,
						   const AuraMapEntry *entry, int lockmode,
						   Buffer *keep);
extern bool chain_next(AuraChainCursor *cur);
extern void chain_end(AuraChainCursor *cur, Buffer *keep);
extern AuraXminState aura_xmin_state(HeapTupleHeader tup);
extern bool chain_has_xmin(Relation rel, uint64 rowid, TransactionId xid);
extern bool chain_find_visible(Relation rel, uint64 rowid,
							   const AuraMapEntry *entry, Snapshot snapshot,
							   Buffer *keep, HeapTuple result,
							   bool *all_dead);
extern bool chain_find_latest(Relation rel, uint64 rowid, Buffer *keep,
							  HeapTuple result);
extern void aura_store_tuple(Relation rel, HeapTuple tuple, Buffer buf,
							 TupleTableSlot *slot);
extern void aura_patch_toast_pointers(Relation rel, HeapTuple tuple);

/* xmax.c */
extern bool aura_lockmodes_conflict(LockTupleMode held, LockTupleMode wanted);
typedef enum AuraXmaxAction
{
	AURA_XMAX_PROCEED,			/* no running holder conflicts */
	AURA_XMAX_WAIT,				/* wait for a conflicting holder */
	AURA_XMAX_RECHECK,			/* xmax changed state: look again */
	AURA_XMAX_UPDATED			/* a committed updater: TM_Updated */
} AuraXmaxAction;

extern AuraXmaxAction aura_xmax_action(HeapTupleHeader tup, LockTupleMode mode,
									   bool is_lock, TransactionId *waitxid,
									   MultiXactId *waitmulti, bool *follow);
extern void aura_compute_new_xmax(HeapTupleHeader tup, TransactionId xid,
								  LockTupleMode mode, bool is_update,
								  TransactionId *new_xmax,
								  uint16 *new_infomask,
								  uint16 *new_infomask2);
extern TM_Result aura_xmax_successor_check(HeapTupleHeader tup,
										   LockTupleMode mode,
										   TransactionId *waitxid);
extern int	aura_xmax_running_lockers(HeapTupleHeader tup,
									  MultiXactMember **lockers);
extern LockTupleMode aura_member_lock_mode(const MultiXactMember *member);
extern bool aura_xmax_has_my_lock(HeapTupleHeader tup);
extern bool aura_xmax_locked_by_me(HeapTupleHeader tup, LockTupleMode mode);
extern bool aura_wait_for_xmax(Relation rel, ItemPointer tid,
							   TransactionId waitxid, MultiXactId waitmulti,
							   LockTupleMode mode, LockWaitPolicy policy,
							   XLTW_Oper oper);
extern LOCKMODE aura_tuple_hwlock(LockTupleMode mode);

/* dml.c */
extern void aura_tuple_insert(Relation rel, TupleTableSlot *slot,
							  CommandId cid, int options,
							  BulkInsertState bistate);
extern void aura_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
										  CommandId cid, int options,
										  BulkInsertState bistate,
										  uint32 specToken);
extern void aura_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
											uint32 specToken, bool succeeded);
extern void aura_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
							  CommandId cid, int options,
							  BulkInsertState bistate);
extern TM_Result aura_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
								   Snapshot snapshot, Snapshot crosscheck,
								   bool wait, TM_FailureData *tmfd,
								   bool changingPart);
extern TM_Result aura_tuple_update(Relation rel, ItemPointer otid,
								   TupleTableSlot *slot, CommandId cid,
								   Snapshot snapshot, Snapshot crosscheck,
								   bool wait, TM_FailureData *tmfd,
								   LockTupleMode *lockmode,
								   bool *update_indexes);
extern TM_Result aura_tuple_lock(Relation rel, ItemPointer tid,
								 Snapshot snapshot, TupleTableSlot *slot,
								 CommandId cid, LockTupleMode mode,
								 LockWaitPolicy wait_policy, uint8 flags,
								 TM_FailureData *tmfd);
extern HeapTuple aura_prepare_tuple(Relation rel, HeapTuple tuple,
									TransactionId xid, CommandId cid,
									int options);
extern HeapTuple aura_move_values_to_blobs(Relation rel, HeapTuple tuple);
extern void aura_store_version(Relation rel, uint64 rowid, HeapTuple tuple,
							   bool same_rowid, AuraMapEntry *stored);

/* cold_load.c */
extern void aura_cold_load_insert(Relation rel, HeapTuple *tuples,
								  TupleTableSlot **slots, int ntuples);
extern void aura_cold_load_end(Relation rel);

/* scan.c */
extern bool aura_scan_next_rowid(TableScanDesc scan, uint64 *rowid);
extern TableScanDesc aura_scan_begin(Relation rel, Snapshot snapshot,
									 int nkeys, struct ScanKeyData *key,
									 ParallelTableScanDesc pscan,
									 uint32 flags);
extern void aura_scan_end(TableScanDesc scan);
extern void aura_scan_rescan(TableScanDesc scan, struct ScanKeyData *key,
							 bool set_params, bool allow_strat,
							 bool allow_sync, bool allow_pagemode);
extern bool aura_scan_getnextslot(TableScanDesc scan, ScanDirection direction,
								  TupleTableSlot *slot);
extern void aura_scan_set_tidrange(TableScanDesc scan, ItemPointer mintid,
								   ItemPointer maxtid);
extern bool aura_scan_getnextslot_tidrange(TableScanDesc scan,
										   ScanDirection direction,
										   TupleTableSlot *slot);
extern Size aura_parallelscan_estimate(Relation rel);
extern Size aura_parallelscan_initialize(Relation rel,
										 ParallelTableScanDesc pscan);
extern void aura_parallelscan_reinitialize(Relation rel,
										   ParallelTableScanDesc pscan);
extern struct IndexFetchTableData *aura_index_fetch_begin(Relation rel);
extern void aura_index_fetch_reset(struct IndexFetchTableData *scan);
extern void aura_index_fetch_end(struct IndexFetchTableData *scan);
extern bool aura_index_fetch_tuple(struct IndexFetchTableData *scan,
								   ItemPointer tid, Snapshot snapshot,
								   TupleTableSlot *slot, bool *call_again,
								   bool *all_dead);
extern bool aura_tuple_fetch_row_version(Relation rel, ItemPointer tid,
										 Snapshot snapshot,
										 TupleTableSlot *slot);
extern bool aura_tuple_tid_valid(TableScanDesc scan, ItemPointer tid);
extern void aura_tuple_get_latest_tid(TableScanDesc scan, ItemPointer tid);
extern bool aura_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
										  Snapshot snapshot);
extern TransactionId aura_index_delete_tuples(Relation rel,
											  TM_IndexDeleteOp *delstate);
extern bool aura_scan_analyze_next_block(TableScanDesc scan,
										 BlockNumber blockno,
										 BufferAccessStrategy bstrategy);
extern bool aura_scan_analyze_next_tuple(TableScanDesc scan,
										 TransactionId OldestXmin,
										 double *liverows, double *deadrows,
										 TupleTableSlot *slot);
extern bool aura_scan_bitmap_next_block(TableScanDesc scan,
										struct TBMIterateResult *tbmres);
extern bool aura_scan_bitmap_next_tuple(TableScanDesc scan,
										struct TBMIterateResult *tbmres,
										TupleTableSlot *slot);
extern bool aura_scan_sample_next_block(TableScanDesc scan,
										struct SampleScanState *scanstate);
extern bool aura_scan_sample_next_tuple(TableScanDesc scan,
										struct SampleScanState *scanstate,
										TupleTableSlot *slot);

/* ddl.c */
extern void aura_relation_set_new_filenode(Relation rel,
										   const RelFileNode *newrnode,
										   char persistence,
										   TransactionId *freezeXid,
										   MultiXactId *minmulti);
extern void aura_relation_nontransactional_truncate(Relation rel);
extern void aura_relation_copy_data(Relation rel, const RelFileNode *newrnode);
extern void aura_relation_copy_for_cluster(Relation OldTable, Relation NewTable,
										   Relation OldIndex, bool use_sort,
										   TransactionId OldestXmin,
										   TransactionId *xid_cutoff,
										   MultiXactId *multi_cutoff,
										   double *num_tuples,
										   double *tups_vacuumed,
										   double *tups_recently_dead);
/* sql/aura_stats.c */
extern void aura_require_aura_table(Relation rel);

/* vacuum.c */
extern void aura_relation_vacuum(Relation rel, struct VacuumParams *params,
								 BufferAccessStrategy bstrategy);
extern uint64 aura_relation_size(Relation rel, ForkNumber forkNumber);
extern void aura_relation_estimate_size(Relation rel, int32 *attr_widths,
										BlockNumber *pages, double *tuples,
										double *allvisfrac);
extern void aura_finish_bulk_insert(Relation rel, int options);

/* index_build.c */
extern double aura_index_build_range_scan(Relation table_rel,
										  Relation index_rel,
										  struct IndexInfo *index_info,
										  bool allow_sync, bool anyvisible,
										  bool progress,
										  BlockNumber start_blockno,
										  BlockNumber numblocks,
										  IndexBuildCallback callback,
										  void *callback_state,
										  TableScanDesc scan);
extern void aura_index_validate_scan(Relation table_rel, Relation index_rel,
									 struct IndexInfo *index_info,
									 Snapshot snapshot,
									 struct ValidateIndexState *state);

#endif							/* AURA_TABLEAM_H */
