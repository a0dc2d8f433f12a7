/*-------------------------------------------------------------------------
 *
 * xmax.c
 *	  Row locks on aura versions: who conflicts with whom, how to wait, and
 *	  what a version's new xmax becomes.
 *
 * Row locks and updates are recorded in the version's HeapTupleHeader
 * exactly as heap records them: a single xid with HEAP_XMAX_* lock bits, or
 * a MultiXactId whose members carry their MultiXactStatus.  So PostgreSQL's
 * visibility routines, pg_locks/pgrowlocks-style inspection and MultiXact
 * truncation work unchanged.
 *
 * Who waits for whom is heap's rule: a running holder blocks a request
 * exactly when their lock modes conflict (lockmode_conflicts); waits are
 * for the conflicting holders only.  So a KEY SHARE lock (an FK check) and
 * a NO KEY UPDATE coexist on one version; the locker then locks the
 * updater's newer versions too (dml.c, lock_updated_versions), and an
 * updater carries the lockers it coexisted with to its new version
 * (carry_lockers), so that a later delete of the row waits for them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/xact.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "tableam/aura_tableam.h"
#include "utils/rel.h"

/* conflicts[held][wanted], indexed by LockTupleMode */
static const bool lockmode_conflicts[4][4] = {
	/* KeyShare */ {false, false, false, true},
	/* Share */ {false, false, true, true},
	/* NoKeyExclusive */ {false, true, true, true},
	/* Exclusive */ {true, true, true, true},
};

bool
aura_lockmodes_conflict(LockTupleMode held, LockTupleMode wanted)
{
	return lockmode_conflicts[held][wanted];
}

/* The heavyweight lock that queues waiters for a row, as heap uses */
LOCKMODE
aura_tuple_hwlock(LockTupleMode mode)
{
	switch (mode)
	{
		case LockTupleKeyShare:
			return AccessShareLock;
		case LockTupleShare:
			return RowShareLock;
		case LockTupleNoKeyExclusive:
			return ExclusiveLock;
		case LockTupleExclusive:
			return AccessExclusiveLock;
	}
	return AccessExclusiveLock;
}

static LockTupleMode
status_mode(MultiXactStatus status)
{
	switch (status)
	{
		case MultiXactStatusForKeyShare:
			return LockTupleKeyShare;
		case MultiXactStatusForShare:
			return LockTupleShare;
		case MultiXactStatusForNoKeyUpdate:
		case MultiXactStatusNoKeyUpdate:
			return LockTupleNoKeyExclusive;
		case MultiXactStatusForUpdate:
		case MultiXactStatusUpdate:
			return LockTupleExclusive;
	}
	return LockTupleExclusive;
}

static MultiXactStatus
mode_status(LockTupleMode mode, bool is_update)
{
	if (is_update)
		return mode == LockTupleExclusive ?
			MultiXactStatusUpdate : MultiXactStatusNoKeyUpdate;
	switch (mode)
	{
		case LockTupleKeyShare:
			return MultiXactStatusForKeyShare;
		case LockTupleShare:
			return MultiXactStatusForShare;
		case LockTupleNoKeyExclusive:
			return MultiXactStatusForNoKeyUpdate;
		case LockTupleExclusive:
			return MultiXactStatusForUpdate;
	}
	return MultiXactStatusForUpdate;
}

/* Mode held by a single-xid xmax */
static LockTupleMode
infomask_mode(uint16 infomask, uint16 infomask2)
{
	if (HEAP_XMAX_IS_LOCKED_ONLY(infomask))
	{
		if (HEAP_XMAX_IS_KEYSHR_LOCKED(infomask))
			return LockTupleKeyShare;
		if (HEAP_XMAX_IS_SHR_LOCKED(infomask))
			return LockTupleShare;
	}
	return (infomask2 & HEAP_KEYS_UPDATED) ?
		LockTupleExclusive : LockTupleNoKeyExclusive;
}

/* Status of a single-xid xmax, from its infomask bits */
static MultiXactStatus
single_xmax_status(uint16 infomask, uint16 infomask2)
{
	return mode_status(infomask_mode(infomask, infomask2),
					   !HEAP_XMAX_IS_LOCKED_ONLY(infomask));
}

static bool
status_is_update(MultiXactStatus status)
{
	return status == MultiXactStatusNoKeyUpdate ||
		status == MultiXactStatusUpdate;
}

/*
 * Given a version whose xmax HeapTupleSatisfiesUpdate reported as being
 * modified, decide what a caller wanting `mode' must do: wait (*waitxid or
 * *waitmulti names for what), proceed, or look again because an updater
 * finished after HeapTupleSatisfiesUpdate looked (its verdict is stale:
 * proceeding could overwrite a committed update).
 *
 * Running holders block exactly when their mode conflicts with ours, as on
 * heap.  The one running holder that can be an updater without conflicting
 * is a NO KEY UPDATE met by a KEY SHARE lock request; then *follow is set:
 * the locker must also lock the updater's newer versions, or a later
 * delete of the new version would not see the lock (heap does the same in
 * heap_lock_updated_tuple).
 */
AuraXmaxAction
aura_xmax_action(HeapTupleHeader tup, LockTupleMode mode, bool is_lock,
				 TransactionId *waitxid, MultiXactId *waitmulti,
				 bool *follow)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);
	uint16		infomask = tup->t_infomask;
	bool		updater = !HEAP_XMAX_IS_LOCKED_ONLY(infomask);

	*waitxid = InvalidTransactionId;
	*waitmulti = InvalidMultiXactId;
	*follow = false;

	if (infomask & HEAP_XMAX_INVALID)
		return AURA_XMAX_RECHECK;

	if (infomask & HEAP_XMAX_IS_MULTI)
	{
		MultiXactMember *members;
		int			n;
		int			i;
		AuraXmaxAction action = AURA_XMAX_PROCEED;

		n = GetMultiXactIdMembers(xmax, &members, false, !updater);
		for (i = 0; i < n && action == AURA_XMAX_PROCEED; i++)
		{
			bool		member_updates = status_is_update(members[i].status);

			if (TransactionIdIsCurrentTransactionId(members[i].xid))
				continue;
			if (!TransactionIdIsInProgress(members[i].xid))
			{
				/* an aborted updater is no obstacle; a committed one wins */
				if (member_updates && TransactionIdDidCommit(members[i].xid))
					action = AURA_XMAX_UPDATED;
				continue;
			}
			if (aura_lockmodes_conflict(status_mode(members[i].status), mode))
				action = AURA_XMAX_WAIT;
			else if (member_updates && is_lock)
				*follow = true;
		}
		if (n > 0)
			pfree(members);
		if (action == AURA_XMAX_WAIT)
			*waitmulti = xmax;
		if (action != AURA_XMAX_PROCEED)
			*follow = false;
		return action;
	}

	if (TransactionIdIsCurrentTransactionId(xmax))
		return AURA_XMAX_PROCEED;
	if (!TransactionIdIsInProgress(xmax))
		return updater ? AURA_XMAX_RECHECK : AURA_XMAX_PROCEED;
	if (aura_lockmodes_conflict(infomask_mode(infomask, tup->t_infomask2),
								mode))
	{
		*waitxid = xmax;
		return AURA_XMAX_WAIT;
	}
	*follow = updater && is_lock;
	return AURA_XMAX_PROCEED;
}

/*
 * Wait until what aura_xmax_action named is out of the way.  Returns
 * false if the policy is LockWaitSkip and we would have to wait; raises an
 * error for LockWaitError.
 */
bool
aura_wait_for_xmax(Relation rel, ItemPointer tid, TransactionId waitxid,
				   MultiXactId waitmulti, LockTupleMode mode,
				   LockWaitPolicy policy, XLTW_Oper oper)
{
	TransactionId xids[1];
	TransactionId *wait;
	int			nwait = 0;
	MultiXactMember *members = NULL;
	int			i;

	if (MultiXactIdIsValid(waitmulti))
	{
		int			n = GetMultiXactIdMembers(waitmulti, &members, false, false);

		/* like MultiXactIdWait: only members whose mode conflicts */
		wait = palloc(sizeof(TransactionId) * Max(n, 1));
		for (i = 0; i < n; i++)
			if (!TransactionIdIsCurrentTransactionId(members[i].xid) &&
				aura_lockmodes_conflict(status_mode(members[i].status), mode))
				wait[nwait++] = members[i].xid;
		if (members)
			pfree(members);
	}
	else
	{
		xids[0] = waitxid;
		wait = xids;
		nwait = 1;
	}

	for (i = 0; i < nwait; i++)
	{
		switch (policy)
		{
			case LockWaitBlock:
				XactLockTableWait(wait[i], rel, tid, oper);
				break;
			case LockWaitSkip:
				if (!ConditionalXactLockTableWait(wait[i]))
					return false;
				break;
			case LockWaitError:
				if (!ConditionalXactLockTableWait(wait[i]))
					ereport(ERROR,
							(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
							 errmsg("could not obtain lock on row in relation \"%s\"",
									RelationGetRelationName(rel))));
				break;
		}
	}
	return true;
}

/*
 * May a lock in `mode' be added to a newer version of a row whose older
 * version we are locking (lock_updated_versions)?  The answer is heap's
 * (test_lockmode_for_conflict, holder by holder): TM_SelfModified if we
 * hold a lock there already, TM_BeingModified with *waitxid if a running
 * holder conflicts, TM_Updated if a committed updater or deleter does, and
 * TM_Ok otherwise.
 */
TM_Result
aura_xmax_successor_check(HeapTupleHeader tup, LockTupleMode mode,
						  TransactionId *waitxid)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);
	uint16		infomask = tup->t_infomask;
	MultiXactMember single;
	MultiXactMember *members;
	int			n;
	int			i;
	TM_Result	result = TM_Ok;

	*waitxid = InvalidTransactionId;
	if (infomask & HEAP_XMAX_INVALID)
		return TM_Ok;
	if (infomask & HEAP_XMAX_IS_MULTI)
		n = GetMultiXactIdMembers(xmax, &members, false,
								  HEAP_XMAX_IS_LOCKED_ONLY(infomask));
	else
	{
		single.xid = xmax;
		single.status = single_xmax_status(infomask, tup->t_infomask2);
		members = &single;
		n = 1;
	}

	for (i = 0; i < n && result == TM_Ok; i++)
	{
		TransactionId member = members[i].xid;
		bool		conflicts = aura_lockmodes_conflict(status_mode(members[i].status),
														mode);

		if (TransactionIdIsCurrentTransactionId(member))
			result = TM_SelfModified;
		else if (TransactionIdIsInProgress(member))
		{
			if (conflicts)
			{
				*waitxid = member;
				result = TM_BeingModified;
			}
		}
		else if (conflicts && status_is_update(members[i].status) &&
				 TransactionIdDidCommit(member))
			result = TM_Updated;
	}
	if (members != &single && n > 0)
		pfree(members);
	return result;
}

/*
 * The running lockers in a version's xmax (a MultiXact's locking members,
 * or a single locker), other than this transaction: the locks an updater of
 * the version must carry to its new version, or a copy replacing it
 * (cold_rematerialise).  Returns their number; *lockers is palloc'd.
 */
int
aura_xmax_running_lockers(HeapTupleHeader tup, MultiXactMember **lockers)
{
	MultiXactMember *members;
	int			n;
	int			i;
	int			nlockers = 0;

	*lockers = NULL;
	if (tup->t_infomask & HEAP_XMAX_INVALID)
		return 0;
	if (!(tup->t_infomask & HEAP_XMAX_IS_MULTI))
	{
		TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);

		if (!HEAP_XMAX_IS_LOCKED_ONLY(tup->t_infomask) ||
			TransactionIdIsCurrentTransactionId(xmax) ||
			!TransactionIdIsInProgress(xmax))
			return 0;
		*lockers = palloc(sizeof(MultiXactMember));
		(*lockers)->xid = xmax;
		(*lockers)->status = single_xmax_status(tup->t_infomask,
												tup->t_infomask2);
		return 1;
	}
	n = GetMultiXactIdMembers(HeapTupleHeaderGetRawXmax(tup), &members,
							  false, false);
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!status_is_update(members[i].status) &&
			!TransactionIdIsCurrentTransactionId(members[i].xid) &&
			TransactionIdIsInProgress(members[i].xid))
			members[nlockers++] = members[i];
	if (nlockers == 0)
	{
		pfree(members);
		return 0;
	}
	*lockers = members;
	return nlockers;
}

/* The row-lock mode a MultiXact member holds */
LockTupleMode
aura_member_lock_mode(const MultiXactMember *member)
{
	return status_mode(member->status);
}

/* Does this transaction hold any lock (or update) in the version's xmax? */
bool
aura_xmax_has_my_lock(HeapTupleHeader tup)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);
	bool		found = false;

	if (tup->t_infomask & HEAP_XMAX_INVALID)
		return false;
	if (tup->t_infomask & HEAP_XMAX_IS_MULTI)
	{
		MultiXactMember *members;
		int			n = GetMultiXactIdMembers(xmax, &members, false,
											  HEAP_XMAX_IS_LOCKED_ONLY(tup->t_infomask));
		int			i;

		for (i = 0; i < n; i++)
			if (TransactionIdIsCurrentTransactionId(members[i].xid))
				found = true;
		if (n > 0)
			pfree(members);
		return found;
	}
	return TransactionIdIsCurrentTransactionId(xmax);
}

/* Do we already hold a lock on this version at least as strong as mode? */
bool
aura_xmax_locked_by_me(HeapTupleHeader tup, LockTupleMode mode)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);
	uint16		infomask = tup->t_infomask;

	if ((infomask & HEAP_XMAX_INVALID) ||
		!HEAP_XMAX_IS_LOCKED_ONLY(infomask))
		return false;
	if (infomask & HEAP_XMAX_IS_MULTI)
	{
		MultiXactMember *members;
		int			n = GetMultiXactIdMembers(xmax, &members, false, true);
		int			i;
		bool		found = false;

		for (i = 0; i < n; i++)
			if (TransactionIdIsCurrentTransactionId(members[i].xid) &&
				status_mode(members[i].status) >= mode)
				found = true;
		if (n > 0)
			pfree(members);
		return found;
	}
	return TransactionIdIsCurrentTransactionId(xmax) &&
		infomask_mode(infomask, tup->t_infomask2) >= mode;
}

/* Infomask bits describing a single-xid xmax with the given status */
static void
single_xmax_bits(MultiXactStatus status, uint16 *infomask, uint16 *infomask2)
{
	switch (status)
	{
		case MultiXactStatusForKeyShare:
			*infomask |= HEAP_XMAX_LOCK_ONLY | HEAP_XMAX_KEYSHR_LOCK;
			break;
		case MultiXactStatusForShare:
			*infomask |= HEAP_XMAX_LOCK_ONLY | HEAP_XMAX_SHR_LOCK;
			break;
		case MultiXactStatusForNoKeyUpdate:
			*infomask |= HEAP_XMAX_LOCK_ONLY | HEAP_XMAX_EXCL_LOCK;
			break;
		case MultiXactStatusForUpdate:
			*infomask |= HEAP_XMAX_LOCK_ONLY | HEAP_XMAX_EXCL_LOCK;
			*infomask2 |= HEAP_KEYS_UPDATED;
			break;
		case MultiXactStatusNoKeyUpdate:
			break;
		case MultiXactStatusUpdate:
			*infomask2 |= HEAP_KEYS_UPDATED;
			break;
	}
}

/* Infomask bits describing a MultiXactId xmax, from its members */
static void
multi_xmax_bits(MultiXactId multi, uint16 *infomask, uint16 *infomask2)
{
	MultiXactMember *members;
	int			n = GetMultiXactIdMembers(multi, &members, false, false);
	LockTupleMode strongest = LockTupleKeyShare;
	bool		has_update = false;
	int			i;

	for (i = 0; i < n; i++)
	{
		LockTupleMode m = status_mode(members[i].status);

		if (m > strongest)
			strongest = m;
		if (status_is_update(members[i].status))
			has_update = true;
	}
	if (n > 0)
		pfree(members);

	*infomask |= HEAP_XMAX_IS_MULTI;
	switch (strongest)
	{
		case LockTupleKeyShare:
			*infomask |= HEAP_XMAX_KEYSHR_LOCK;
			break;
		case LockTupleShare:
			*infomask |= HEAP_XMAX_SHR_LOCK;
			break;
		case LockTupleNoKeyExclusive:
			*infomask |= HEAP_XMAX_EXCL_LOCK;
			break;
		case LockTupleExclusive:
			*infomask |= HEAP_XMAX_EXCL_LOCK;
			*infomask2 |= HEAP_KEYS_UPDATED;
			break;
	}
	if (!has_update)
		*infomask |= HEAP_XMAX_LOCK_ONLY;
}

/*
 * Compute the xmax (and its infomask bits, to be OR-ed in after clearing
 * HEAP_XMAX_BITS and HEAP_KEYS_UPDATED) that a version gets when
 * transaction xid takes `mode' on it, as a lock or as an update/delete.
 * Only called when no running holder conflicts (aura_xmax_action).
 *
 * The decisions are heap's: holders that still matter -- running lockers
 * and updaters, and a committed updater, which a KEY SHARE lock may join
 * -- are kept in a MultiXact beside the new member; finished lockers and
 * aborted updaters are forgotten.  A transaction locking again what it
 * already locked keeps the stronger of its two locks.
 */
void
aura_compute_new_xmax(HeapTupleHeader tup, TransactionId xid,
					  LockTupleMode mode, bool is_update,
					  TransactionId *new_xmax, uint16 *new_infomask,
					  uint16 *new_infomask2)
{
	TransactionId old_xmax = HeapTupleHeaderGetRawXmax(tup);
	uint16		old_infomask = tup->t_infomask;
	uint16		old_infomask2 = tup->t_infomask2;
	bool		old_locked_only = HEAP_XMAX_IS_LOCKED_ONLY(old_infomask);
	bool		keep_old = false;

	*new_infomask = 0;
	*new_infomask2 = 0;

	if (old_infomask & HEAP_XMAX_INVALID)
		keep_old = false;
	else if (old_infomask & HEAP_XMAX_IS_MULTI)
	{
		/* a finished multi matters only through a committed updater */
		keep_old = MultiXactIdIsRunning(old_xmax, old_locked_only) ||
			(!old_locked_only &&
			 TransactionIdDidCommit(HeapTupleGetUpdateXid(tup)));
		if (keep_old)
		{
			MultiXactIdSetOldestMember();
			*new_xmax = MultiXactIdExpand(old_xmax, xid,
										  mode_status(mode, is_update));
			multi_xmax_bits(*new_xmax, new_infomask, new_infomask2);
			return;
		}
	}
	else if (TransactionIdEquals(old_xmax, xid))
	{
		/* our own lock, same (sub)transaction: keep the stronger */
		LockTupleMode old_mode = infomask_mode(old_infomask, old_infomask2);

		if (!is_update && old_locked_only && old_mode > mode)
			mode = old_mode;
	}
	else if ((old_infomask & HEAP_XMAX_COMMITTED) ||
			 TransactionIdIsInProgress(old_xmax))
		keep_old = true;
	else if (!old_locked_only && TransactionIdDidCommit(old_xmax))
		keep_old = true;

	if (keep_old)
	{
		MultiXactIdSetOldestMember();
		*new_xmax = MultiXactIdCreate(old_xmax,
									  single_xmax_status(old_infomask,
														 old_infomask2),
									  xid, mode_status(mode, is_update));
		multi_xmax_bits(*new_xmax, new_infomask, new_infomask2);
		return;
	}

	*new_xmax = xid;
	single_xmax_bits(mode_status(mode, is_update), new_infomask, new_infomask2);
}
