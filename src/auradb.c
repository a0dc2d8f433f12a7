/*-------------------------------------------------------------------------
 *
 * auradb.c
 *	  Module entry point of auradb.
 *
 * auradb needs no shared_preload_libraries: all its state lives in the
 * relations' own pages, so CREATE EXTENSION is enough.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "storage/cold.h"
#include "tableam/aura_tableam.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	cold_define_options();
	aura_autocompact_define_options();
}
