/*-------------------------------------------------------------------------
 *
 * blob.h
 *	  Large values stored out of line in blob pages.
 *
 * A blob is one varlena value (LZ4-compressed in the standard compressed
 * varlena format when that helps) written over consecutive blob pages.
 * Row versions reference it with a standard on-disk TOAST pointer whose
 * va_valueid is the blob's first block; readers patch va_toastrelid to the
 * table itself, so PostgreSQL fetches the value lazily through the table
 * AM's relation_fetch_toast_slice callback.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AURA_BLOB_H
#define AURA_BLOB_H

#include "access/htup.h"
#include "storage/block.h"
#include "utils/rel.h"

typedef struct AuraBlobHeader
{
	uint32		magic;			/* AURA_BLOB_MAGIC */
	uint32		stored_size;	/* bytes of the whole stored value */
	uint32		raw_size;		/* va_rawsize of its TOAST pointer */
	uint32		chunk_size;		/* bytes of data on this page */
} AuraBlobHeader;

#define AURA_BLOB_MAGIC			0x424C4F42	/* "BLOB" */

/* A value moves into a blob when the row would exceed this */
#define AURA_TUPLE_THRESHOLD	2032

/* Values smaller than this are never moved out of line */
#define AURA_BLOB_MIN_VALUE		128

extern struct varlena *blob_store(Relation rel, struct varlena *value,
								  bool try_compress);
extern void blob_fetch_slice(Relation rel, BlockNumber first, int32 attrsize,
							 int32 sliceoffset, int32 slicelength,
							 struct varlena *result);
extern void blob_fetch_toast_slice(Relation toastrel, Oid valueid,
								   int32 attrsize, int32 sliceoffset,
								   int32 slicelength, struct varlena *result);

extern int	blob_references(Relation rel, HeapTuple tuple, BlockNumber *firsts);

#endif							/* AURA_BLOB_H */
