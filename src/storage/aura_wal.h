/*-------------------------------------------------------------------------
 *
 * aura_wal.h
 *	  Generic WAL records with deltas aura computes itself.
 *
 * GenericXLogFinish() finds what changed on a page by comparing the whole
 * used part of the page byte by byte with a copy taken at registration.
 * For a single-row insert or update that comparison was most of the CPU
 * time: the writer knows exactly which bytes it changed.  This module
 * writes records of the very same kind -- resource manager RM_GENERIC_ID,
 * one block reference per page, block data made of (offset, length, bytes)
 * fragments -- but lets the caller name the changed ranges.  Replay is
 * PostgreSQL's own generic_redo(), so standbys, crash recovery and
 * pg_waldump treat them like any Generic WAL record.
 *
 * Protocol (the usual one for WAL-logged page changes):
 *	 aura_wal_start; aura_wal_register each page (locked exclusively);
 *	 aura_wal_begin_changes (enters a critical section); change the pages
 *	 in place, reporting every changed range; aura_wal_finish (marks the
 *	 buffers dirty, inserts the record, sets the page LSNs, leaves the
 *	 critical section).
 *
 * Like generic_redo, the record leaves the page's hole (pd_lower ..
 * pd_upper) zero; callers never write there.  Debug builds replay every
 * record against a copy of the page taken at registration and PANIC if the
 * result differs from the page.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_WAL_H
#define AURA_WAL_H

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"

#define AURA_WAL_MAX_RANGES	8

typedef struct AuraWalPage
{
	Buffer		buffer;
	Page		page;
	bool		full_image;		/* log a full page image, no ranges */
	bool		whole_page;		/* ranges overflowed: log all used bytes */
	int			nranges;
	uint16		range_start[AURA_WAL_MAX_RANGES];
	uint16		range_end[AURA_WAL_MAX_RANGES];
	char	   *preimage;		/* debug builds: page at registration */
} AuraWalPage;

typedef struct AuraWal
{
	Relation	rel;
	bool		needs_wal;
	bool		in_changes;
	int			npages;
	AuraWalPage pages[MAX_GENERIC_XLOG_PAGES];
} AuraWal;

extern void aura_wal_start(AuraWal *wal, Relation rel);
extern Page aura_wal_register(AuraWal *wal, Buffer buffer, bool full_image);
extern void aura_wal_begin_changes(AuraWal *wal);
extern void aura_wal_changed(AuraWal *wal, Page page, const void *start,
							 Size len);
extern OffsetNumber aura_wal_add_item(AuraWal *wal, Page page, Item item,
									  Size size);
extern void aura_wal_finish(AuraWal *wal);

#endif							/* AURA_WAL_H */
