/*-------------------------------------------------------------------------
 *
 * vlog.h
 *	  The value log: hot pages that row versions are appended to.
 *
 * A hot page is a standard slotted page; every item is an
 * AuraVersionHeader followed by a HeapTupleHeaderData and the row's data.
 * Items are only ever added (PageAddItem) and never moved in place, so a
 * pinned version stays where it is; only tuple-header fields (xmax,
 * infomask, hint bits, t_ctid) change, under an exclusive buffer lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_VLOG_H
#define AURA_VLOG_H

#include "access/heapam.h"
#include "access/hio.h"
#include "storage/aura_page.h"
#include "storage/aura_wal.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* Largest version (aura header + heap tuple) a hot page can hold */
#define AURA_MAX_VERSION_SIZE \
	MAXALIGN_DOWN(AURA_PAGE_CONTENT_SIZE - sizeof(ItemIdData))
#define AURA_MAX_TUPLE_SIZE		(AURA_MAX_VERSION_SIZE - AURA_VERSION_HDRSZ)

extern Buffer vlog_target_page(Relation rel, Size needed,
							   BulkInsertState bistate);
extern OffsetNumber vlog_add_version(AuraWal *wal, Page page, uint64 rowid,
									 BlockNumber prev_block,
									 OffsetNumber prev_offset,
									 HeapTuple tuple);
extern AuraVersionHeader *vlog_get_version(Page page, OffsetNumber offnum);
extern Buffer vlog_extend(Relation rel);

typedef enum VlogStoreMode
{
	VLOG_NEW_ROWID,				/* the rowid's first version */
	VLOG_CHAIN,					/* in front of the newest version */
	VLOG_REPLACE,				/* the only version, replacing an entry */
	VLOG_CHAIN_COLD				/* in front of the cold row an entry names */
} VlogStoreMode;

extern bool vlog_store_version(Relation rel, uint64 rowid, HeapTuple tuple,
							   VlogStoreMode mode, const AuraMapEntry *expect,
							   uint16 vflags, AuraMapEntry *stored);
extern Buffer vlog_new_page(Relation rel);

#endif							/* AURA_VLOG_H */
