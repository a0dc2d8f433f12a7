/*-------------------------------------------------------------------------
 *
 * autocompact.c
 *	  Compaction passes asked for by the amount of hot data written.
 *
 * Autovacuum decides from dead-tuple counts and wakes up once per
 * autovacuum_naptime, so between two of its passes an aura table collects
 * however many hot versions its writers produce in that time -- under
 * TPC-B-like load about 300 bytes per updated cold row, a tenth of the
 * compressed table in a few seconds -- and its file keeps the room they
 * took.  An LSM engine flushes its memtable when it reaches a size instead;
 * aura does the same: writers count the hot pages they start on the meta
 * page (hot_pages_new, which every VACUUM pass lowers by what it found at
 * its start), and the writer whose pages make the count reach a multiple
 * of the trigger -- aura.compaction_trigger times the table's pages, at
 * least AURA_AUTOCOMPACT_MIN_PAGES -- starts a dynamic background worker
 * that runs one VACUUM pass of the table.
 *
 * Only the pages of ended transactions are counted: a backend keeps the
 * count of its running transaction and adds it to the meta page when it
 * starts a page in a later one.  A pass can do nothing with versions whose
 * writer still runs, and a pass during a long load would even tell the
 * planner that the table is empty (it counts the load's rows as not yet
 * there).  (MyRocks keeps uncommitted writes out of its memtable for the
 * same reason.)  A backend that ends its last transaction and goes idle
 * leaves its count unreported; autovacuum still sees those tuples.
 *
 * It is a complement to autovacuum, not a replacement, and follows its
 * switches: nothing is asked for while autovacuum is off (autovacuum or
 * track_counts), for tables with autovacuum_enabled = false, or for
 * temporary tables (which only their own session can read).  The pass runs
 * as autovacuum's would: in its own transaction, as VACUUM, throttled by
 * autovacuum_vacuum_cost_delay / _limit (the table's own settings first),
 * reported at LOG when it takes at least log_autovacuum_min_duration.  A
 * lock that keeps it off the table -- a pass already running, an ANALYZE
 * -- is waited for a little, by one worker per table
 * (autocompact_wait_for_lock); a lock held for longer makes it skip the
 * table (SKIP_LOCKED).  When no background worker slot is free
 * (max_worker_processes) nothing is started and the next multiple asks
 * again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/meta.h"
#include "tableam/aura_tableam.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* The GUC aura.compaction_trigger: a fraction of the table's pages */
double		aura_compaction_trigger = 0.02;

/* Is this process a compaction worker? (vacuum.c words its report so) */
bool		aura_in_compaction_worker = false;

PGDLLEXPORT void aura_compaction_worker_main(Datum main_arg);

void
aura_autocompact_define_options(void)
{
	DefineCustomRealVariable("aura.compaction_trigger",
							 "Hot pages, as a fraction of an aura table's pages, after which a background worker compacts the table.",
							 "Writers count the hot pages they start; each time the count since the last VACUUM pass reaches a multiple of this fraction of the table (at least 64 pages), a background worker runs a VACUUM pass of the table. 0 turns it off; autovacuum's switches apply too.",
							 &aura_compaction_trigger,
							 0.02, 0.0, 1.0,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/* Would autovacuum look at this table at all? */
static bool
autocompact_applies(Relation rel)
{
	StdRdOptions *opts = (StdRdOptions *) rel->rd_options;

	return aura_compaction_trigger > 0 &&
		rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP &&
		!RecoveryInProgress() &&
		AutoVacuumingActive() &&
		(opts == NULL || opts->autovacuum.enabled);
}

/* Start a background worker for one pass over rel; false if none is free */
static bool
autocompact_request(Relation rel)
{
	BackgroundWorker worker;
	Oid			dboid = MyDatabaseId;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "auradb");
	snprintf(worker.bgw_function_name, BGW_MAXLEN,
			 "aura_compaction_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "aura compaction of relation %u",
			 RelationGetRelid(rel));
	snprintf(worker.bgw_type, BGW_MAXLEN, "aura compaction");
	worker.bgw_main_arg = ObjectIdGetDatum(RelationGetRelid(rel));
	memcpy(worker.bgw_extra, &dboid, sizeof(Oid));
	worker.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/* Hot pages a backend started for one relation in its current transaction */
typedef struct AutocompactPending
{
	Oid			relid;			/* hash key */
	TransactionId xid;			/* the transaction that started them */
	uint32		pages;
} AutocompactPending;

static HTAB *autocompact_pending = NULL;

static AutocompactPending *
autocompact_pending_entry(Oid relid)
{
	bool		found;
	AutocompactPending *p;

	if (autocompact_pending == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(AutocompactPending);
		ctl.hcxt = TopMemoryContext;
		autocompact_pending = hash_create("aura compaction counts", 16, &ctl,
										  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	p = hash_search(autocompact_pending, &relid, HASH_ENTER, &found);
	if (!found)
	{
		p->xid = InvalidTransactionId;
		p->pages = 0;
	}
	return p;
}

/*
 * A writer is about to start a new hot page of rel (holding no buffer
 * lock).  The pages of this backend's earlier transaction go to the meta
 * page's count now; a pass is asked for if the count passed a multiple of
 * the trigger.
 */
void
aura_autocompact_count_page(Relation rel)
{
	AutocompactPending *pending;
	TransactionId xid = GetTopTransactionIdIfAny();
	uint64		before;
	uint64		count;
	uint64		trigger;

	if (!autocompact_applies(rel))
		return;
	pending = autocompact_pending_entry(RelationGetRelid(rel));
	if (pending->xid != xid)
	{
		uint32		ended = pending->pages;

		pending->xid = xid;
		pending->pages = 0;
		if (ended > 0)
		{
			count = aura_meta_count_hot_pages(rel, ended);
			before = count - Min(count, ended);
			trigger = (uint64) (aura_compaction_trigger *
								RelationGetNumberOfBlocks(rel));
			trigger = Max(trigger, AURA_AUTOCOMPACT_MIN_PAGES);
			if (count / trigger > before / trigger &&
				!autocompact_request(rel))
				elog(DEBUG1, "no background worker free to compact \"%s\"",
					 RelationGetRelationName(rel));
		}
	}
	pending->pages++;
}

/*
 * The cost-based delay autovacuum would use for the table: its own
 * autovacuum_vacuum_cost_delay / _limit, then the autovacuum GUCs, then
 * the vacuum ones.
 */
static void
autocompact_set_cost_limits(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	double		delay = -1;
	int			limit = -1;

	if (rel != NULL)
	{
		StdRdOptions *opts = (StdRdOptions *) rel->rd_options;

		if (opts != NULL)
		{
			delay = opts->autovacuum.vacuum_cost_delay;
			limit = opts->autovacuum.vacuum_cost_limit;
		}
		relation_close(rel, AccessShareLock);
	}
	if (delay < 0)
		delay = autovacuum_vac_cost_delay >= 0 ? autovacuum_vac_cost_delay :
			VacuumCostDelay;
	if (limit <= 0)
		limit = autovacuum_vac_cost_limit > 0 ? autovacuum_vac_cost_limit :
			VacuumCostLimit;
	VacuumCostDelay = delay;
	VacuumCostLimit = limit;
}

/*
 * How long a compaction worker waits for a lock that keeps its pass off the
 * table, and how often it looks
 */
#define AUTOCOMPACT_LOCK_WAIT_MS	5000
#define AUTOCOMPACT_LOCK_POLL_MS	10

/* field4 of the advisory lock tag a waiting worker holds ("AU"; users: 1, 2) */
#define AUTOCOMPACT_LOCKTAG_CLASS	0x4155

/*
 * Wait, a little, until VACUUM's lock on the table could be had.  Another
 * pass of the table or an ANALYZE of it usually holds it for well under a
 * second; skipping the pass instead would leave the table without one
 * until writers have started another trigger's worth of hot pages, and the
 * table would grow by those (under TPC-B, an autoanalyze of
 * pgbench_accounts made it grow by about a hundred pages so).  One worker per table waits: a later one
 * finds the first one's advisory lock taken and returns false, as the
 * first one's pass covers what it was asked for.  The advisory lock is a
 * transaction lock: it goes when vacuum() commits the caller's
 * transaction, before the pass, so the next request during the pass gets
 * its own worker.  (After the wait vacuum() still skips the table if it
 * has just been locked again.)
 */
static bool
autocompact_wait_for_lock(Oid relid)
{
	LOCKTAG		tag;
	int			waited;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, relid, 0,
						 AUTOCOMPACT_LOCKTAG_CLASS);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	for (waited = 0; waited < AUTOCOMPACT_LOCK_WAIT_MS;
		 waited += AUTOCOMPACT_LOCK_POLL_MS)
	{
		if (ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
		{
			UnlockRelationOid(relid, ShareUpdateExclusiveLock);
			break;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 AUTOCOMPACT_LOCK_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * The background worker: one VACUUM pass of the table, as autovacuum runs
 * it (vacuum() with the table's own transaction, PROC_IN_VACUUM, the
 * owner's privileges, relstats and pgstat reports).
 */
void
aura_compaction_worker_main(Datum main_arg)
{
	Oid			relid = DatumGetObjectId(main_arg);
	Oid			dboid;
	VacuumParams params;
	BufferAccessStrategy bstrategy;
	List	   *relations;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	aura_in_compaction_worker = true;

	/* vacuum() makes its memory context under PortalContext */
	PortalContext = AllocSetContextCreate(TopMemoryContext,
										  "aura compaction",
										  ALLOCSET_DEFAULT_SIZES);

	memset(&params, 0, sizeof(params));
	params.options = VACOPT_VACUUM | VACOPT_SKIP_LOCKED |
		VACOPT_PROCESS_TOAST;
	params.freeze_min_age = -1;
	params.freeze_table_age = -1;
	params.multixact_freeze_min_age = -1;
	params.multixact_freeze_table_age = -1;
	params.is_wraparound = false;
	params.log_min_duration = Log_autovacuum_min_duration;
	params.index_cleanup = VACOPTVALUE_UNSPECIFIED;
	params.truncate = VACOPTVALUE_UNSPECIFIED;
	params.nworkers = -1;

	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "aura compaction");
	if (!autocompact_wait_for_lock(relid))
	{
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		proc_exit(0);
	}
	autocompact_set_cost_limits(relid);

	/*
	 * vacuum() commits the transaction it is called in: what it is given
	 * must live in PortalContext, as autovacuum's does.
	 */
	MemoryContextSwitchTo(PortalContext);
	bstrategy = GetAccessStrategy(BAS_VACUUM);
	relations = list_make1(makeVacuumRelation(NULL, relid, NIL));
	vacuum(relations, &params, bstrategy, true);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
