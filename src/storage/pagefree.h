/*-------------------------------------------------------------------------
 *
 * pagefree.h
 *	  Freeing and reusing pages of aura tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_PAGEFREE_H
#define AURA_PAGEFREE_H

#include "storage/aura_page.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* What became of an attempt to reuse one free page (aura_take_free_block) */
typedef enum AuraTakeResult
{
	AURA_TAKE_OK,				/* taken: locked for cleanup, FSM cleared */
	AURA_TAKE_NOT_YET,			/* free, but not reusable yet */
	AURA_TAKE_PINNED,			/* free, but someone pins it */
	AURA_TAKE_GONE				/* no longer a free page */
} AuraTakeResult;

extern void aura_page_mark_free(Relation rel, Buffer buf);
extern void aura_page_record_free(Relation rel, Buffer buf);
extern Buffer aura_take_free_page(Relation rel);
extern AuraTakeResult aura_take_free_block(Relation rel, BlockNumber blkno,
										   Buffer *buf);
extern bool aura_free_page_reusable(Relation rel, Page page);
extern void aura_log_standby_conflict(Relation rel, BlockNumber blkno,
									  TransactionId latest_removed);
extern BlockNumber aura_truncate_free_tail(Relation rel);

#endif							/* AURA_PAGEFREE_H */
