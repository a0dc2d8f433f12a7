/*-------------------------------------------------------------------------
 *
 * aura_handler.c
 *	  The TableAmRoutine of the aura table access method.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "storage/blob.h"
#include "tableam/aura_tableam.h"

PG_FUNCTION_INFO_V1(aura_tableam_handler);

/*
 * Versions are real heap tuples living in shared buffers, so buffer heap
 * tuple slots hold them without copying.
 */
static const TupleTableSlotOps *
aura_slot_callbacks(Relation rel)
{
	return &TTSOpsBufferHeapTuple;
}

/*
 * aura keeps large values in its own blob pages and never writes to a
 * TOAST table.  It still asks for one, empty, when a row could outgrow a
 * page: ALTER TABLE ... SET ACCESS METHOD heap gives the new heap a TOAST
 * table only if the old table had one.
 */
static bool
aura_relation_needs_toast_table(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && att->attlen == -1 &&
			att->attstorage != TYPSTORAGE_PLAIN)
			return true;
	}
	return false;
}

static Oid
aura_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

static const TableAmRoutine aura_methods = {
	.type = T_TableAmRoutine,

	.slot_callbacks = aura_slot_callbacks,

	.scan_begin = aura_scan_begin,
	.scan_end = aura_scan_end,
	.scan_rescan = aura_scan_rescan,
	.scan_getnextslot = aura_scan_getnextslot,

	.scan_set_tidrange = aura_scan_set_tidrange,
	.scan_getnextslot_tidrange = aura_scan_getnextslot_tidrange,

	.parallelscan_estimate = aura_parallelscan_estimate,
	.parallelscan_initialize = aura_parallelscan_initialize,
	.parallelscan_reinitialize = aura_parallelscan_reinitialize,

	.index_fetch_begin = aura_index_fetch_begin,
	.index_fetch_reset = aura_index_fetch_reset,
	.index_fetch_end = aura_index_fetch_end,
	.index_fetch_tuple = aura_index_fetch_tuple,

	.tuple_fetch_row_version = aura_tuple_fetch_row_version,
	.tuple_tid_valid = aura_tuple_tid_valid,
	.tuple_get_latest_tid = aura_tuple_get_latest_tid,
	.tuple_satisfies_snapshot = aura_tuple_satisfies_snapshot,
	.index_delete_tuples = aura_index_delete_tuples,

	.tuple_insert = aura_tuple_insert,
	.tuple_insert_speculative = aura_tuple_insert_speculative,
	.tuple_complete_speculative = aura_tuple_complete_speculative,
	.multi_insert = aura_multi_insert,
	.tuple_delete = aura_tuple_delete,
	.tuple_update = aura_tuple_update,
	.tuple_lock = aura_tuple_lock,
	.finish_bulk_insert = aura_finish_bulk_insert,

	.relation_set_new_filenode = aura_relation_set_new_filenode,
	.relation_nontransactional_truncate = aura_relation_nontransactional_truncate,
	.relation_copy_data = aura_relation_copy_data,
	.relation_copy_for_cluster = aura_relation_copy_for_cluster,
	.relation_vacuum = aura_relation_vacuum,
	.scan_analyze_next_block = aura_scan_analyze_next_block,
	.scan_analyze_next_tuple = aura_scan_analyze_next_tuple,
	.index_build_range_scan = aura_index_build_range_scan,
	.index_validate_scan = aura_index_validate_scan,

	.relation_size = aura_relation_size,
	.relation_needs_toast_table = aura_relation_needs_toast_table,
	.relation_toast_am = aura_relation_toast_am,
	.relation_fetch_toast_slice = blob_fetch_toast_slice,

	.relation_estimate_size = aura_relation_estimate_size,

	.scan_bitmap_next_block = aura_scan_bitmap_next_block,
	.scan_bitmap_next_tuple = aura_scan_bitmap_next_tuple,
	.scan_sample_next_block = aura_scan_sample_next_block,
	.scan_sample_next_tuple = aura_scan_sample_next_tuple,
};

Datum
aura_tableam_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&aura_methods);
}
