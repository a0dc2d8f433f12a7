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

extern void aura_page_mark_free(Relation rel, Buffer buf);
extern void aura_page_record_free(Relation rel, Buffer buf);
extern Buffer aura_take_free_page(Relation rel);
extern bool aura_free_page_reusable(Relation rel, Page page);
extern void aura_log_standby_conflict(Relation rel, BlockNumber blkno,
									  TransactionId latest_removed);
extern BlockNumber aura_truncate_free_tail(Relation rel);

#endif							/* AURA_PAGEFREE_H */
