/*-------------------------------------------------------------------------
 *
 * aura_inspect.c
 *	  aura_row_versions(regclass, rowid): the version chain of one row, for
 *	  debugging -- where each version is and its transaction header fields.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "tableam/aura_tableam.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(aura_row_versions);

#define AURA_VERSION_COLS 9

Datum
aura_row_versions(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		rowid = PG_GETARG_INT64(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	AuraChainCursor cur;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to inspect aura row versions")));
	InitMaterializedSRF(fcinfo, 0);

	rel = relation_open(relid, AccessShareLock);
	if (rel->rd_rel->relam != get_table_am_oid("aura", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an aura table", RelationGetRelationName(rel))));
	if (rowid >= 0 && chain_first(&cur, rel, (uint64) rowid, BUFFER_LOCK_SHARE, NULL))
	{
		int			depth = 0;

		do
		{
			Datum		values[AURA_VERSION_COLS];
			bool		nulls[AURA_VERSION_COLS] = {0};
			HeapTupleHeader t = cur.tuple.t_data;
			char		ctid[64];

			snprintf(ctid, sizeof(ctid), "(%u,%u)",
					 ItemPointerGetBlockNumberNoCheck(&t->t_ctid),
					 ItemPointerGetOffsetNumberNoCheck(&t->t_ctid));
			values[0] = Int32GetDatum(depth++);
			values[1] = Int64GetDatum(cur.block);
			values[2] = Int32GetDatum(cur.offset);
			values[3] = TransactionIdGetDatum(HeapTupleHeaderGetRawXmin(t));
			values[4] = TransactionIdGetDatum(HeapTupleHeaderGetRawXmax(t));
			values[5] = Int32GetDatum(t->t_infomask);
			values[6] = Int32GetDatum(t->t_infomask2);
			values[7] = CStringGetTextDatum(ctid);
			values[8] = Int32GetDatum(cur.vh->flags);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		} while (chain_next(&cur));
		chain_end(&cur, NULL);
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}
