/*-------------------------------------------------------------------------
 *
 * aura_page.c
 *	  Initialisation and checking of aura pages.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/aura_page.h"
#include "utils/rel.h"

/*
 * Initialise a page of the given kind.  Callers initialise pages only
 * inside a Generic WAL record registered with GENERIC_XLOG_FULL_IMAGE.
 */
void
aura_page_init(Page page, uint16 kind, uint32 aux, uint32 aux2)
{
	AuraPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(AuraPageOpaqueData));
	opaque = AuraPageGetOpaque(page);
	opaque->kind = kind;
	opaque->page_id = AURA_PAGE_ID;
	opaque->aux = aux;
	opaque->aux2 = aux2;
	opaque->xid = 0;
}

/*
 * Raise an error if a page reached through a pointer is not of the kind the
 * pointer promises.  Such a page means the table is corrupted; reading on
 * would return wrong results.
 */
void
aura_page_check_kind(Relation rel, BlockNumber blkno, Page page, uint16 kind)
{
	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(AuraPageOpaqueData)) ||
		AuraPageGetOpaque(page)->page_id != AURA_PAGE_ID ||
		AuraPageGetOpaque(page)->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %u of aura table \"%s\" is not a page of kind %u",
						blkno, RelationGetRelationName(rel), kind)));
}
