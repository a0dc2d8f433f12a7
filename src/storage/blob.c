/*-------------------------------------------------------------------------
 *
 * blob.c
 *	  The blob store: large values written out of line over consecutive
 *	  blob pages, LZ4-compressed.
 *
 * Format.  A blob of S stored bytes occupies ceil(S / AURA_BLOB_CHUNK)
 * consecutive blocks starting at block F.  Each page's special area says
 * kind BLOB, aux = F, aux2 = chunk number; its content is an AuraBlobHeader
 * followed by the chunk's bytes.  The stored bytes are the value without
 * its 4-byte varlena header: for a compressed value that is the standard
 * compressed varlena body (va_tcinfo + LZ4 data), so PostgreSQL's own
 * detoasting decompresses it.
 *
 * Reference.  A row version refers to the blob with a standard on-disk
 * TOAST pointer (varatt_external): va_rawsize and va_extinfo as for a TOAST
 * value, va_valueid = F.  The stored va_toastrelid is not trusted (tables
 * are rewritten into new OIDs); readers set it to the table's OID before
 * handing the row to the executor.
 *
 * WAL order.  All blob pages are written (full page images, up to
 * MAX_GENERIC_XLOG_PAGES per record) before the version that references
 * them, so a crash leaves either a complete blob or unreferenced pages.
 * The relation extension lock is held while the blob's pages are added, so
 * they are consecutive.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include <lz4.h>

#include "access/detoast.h"
#include "access/generic_xlog.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "storage/aura_page.h"
#include "storage/blob.h"
#include "storage/pagefree.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/meta.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define AURA_BLOB_CHUNK \
	((uint32) (AURA_PAGE_CONTENT_SIZE - sizeof(AuraBlobHeader)))

/*
 * Compress a plain varlena with LZ4 into the standard compressed varlena
 * format.  Returns NULL if compression does not save at least 1/8.
 */
static struct varlena *
blob_compress(struct varlena *value)
{
	int32		rawlen = VARSIZE_ANY_EXHDR(value);
	int			bound = LZ4_compressBound(rawlen);
	struct varlena *dst;
	int			len;

	if (bound <= 0)
		return NULL;
	dst = palloc_extended((Size) bound + VARHDRSZ_COMPRESSED, MCXT_ALLOC_HUGE);
	len = LZ4_compress_default(VARDATA_ANY(value),
							   (char *) dst + VARHDRSZ_COMPRESSED,
							   rawlen, bound);
	if (len <= 0 || len >= rawlen - rawlen / 8)
	{
		pfree(dst);
		return NULL;
	}
	SET_VARSIZE_COMPRESSED(dst, len + VARHDRSZ_COMPRESSED);
	TOAST_COMPRESS_SET_SIZE_AND_COMPRESS_METHOD(dst, rawlen,
												TOAST_LZ4_COMPRESSION_ID);
	return dst;
}

/*
 * Store a value (not external; plain or inline-compressed) as a blob and
 * return a TOAST pointer to it.
 */
struct varlena *
blob_store(Relation rel, struct varlena *value, bool try_compress)
{
	struct varlena *compressed = NULL;
	const char *data;
	uint32		stored;
	varatt_external ptr;
	struct varlena *result;
	BlockNumber first = InvalidBlockNumber;
	uint32		nchunks;
	Buffer		reused;
	uint32		chunk;

	AURA_CHECK(!VARATT_IS_EXTERNAL(value));

	if (VARATT_IS_COMPRESSED(value))
	{
		ptr.va_rawsize = VARDATA_COMPRESSED_GET_EXTSIZE(value) + VARHDRSZ;
		stored = VARSIZE(value) - VARHDRSZ;
		VARATT_EXTERNAL_SET_SIZE_AND_COMPRESS_METHOD(ptr, stored,
													 VARDATA_COMPRESSED_GET_COMPRESS_METHOD(value));
		data = VARDATA(value);
	}
	else
	{
		ptr.va_rawsize = VARSIZE_ANY_EXHDR(value) + VARHDRSZ;
		if (try_compress)
			compressed = blob_compress(value);
		if (compressed)
		{
			stored = VARSIZE(compressed) - VARHDRSZ;
			VARATT_EXTERNAL_SET_SIZE_AND_COMPRESS_METHOD(ptr, stored,
														 TOAST_LZ4_COMPRESSION_ID);
			data = VARDATA(compressed);
		}
		else
		{
			stored = VARSIZE_ANY_EXHDR(value);
			ptr.va_extinfo = stored;
			data = VARDATA_ANY(value);
		}
	}

	nchunks = Max(1, (stored + AURA_BLOB_CHUNK - 1) / AURA_BLOB_CHUNK);

	aura_meta_ensure(rel);		/* block 0 is always the meta page */

	/* a one-page blob may take a free page; longer ones need a run */
	reused = nchunks == 1 ? aura_take_free_page(rel) : InvalidBuffer;
	if (!BufferIsValid(reused))
		LockRelationForExtension(rel, ExclusiveLock);
	for (chunk = 0; chunk < nchunks;)
	{
		GenericXLogState *state = GenericXLogStart(rel);
		Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
		int			n = 0;
		int			i;

		for (; n < MAX_GENERIC_XLOG_PAGES && chunk < nchunks; n++, chunk++)
		{
			Page		page;
			AuraBlobHeader *hdr;
			uint32		off = chunk * AURA_BLOB_CHUNK;
			uint32		len = Min(AURA_BLOB_CHUNK, stored - off);

			if (BufferIsValid(reused))
				bufs[n] = reused;	/* exclusively locked already */
			else
			{
				bufs[n] = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW,
											 RBM_NORMAL, NULL);
				LockBuffer(bufs[n], BUFFER_LOCK_EXCLUSIVE);
			}
			if (chunk == 0)
				first = BufferGetBlockNumber(bufs[n]);
			else if (BufferGetBlockNumber(bufs[n]) != first + chunk)
				elog(ERROR, "aura blob pages of \"%s\" are not consecutive",
					 RelationGetRelationName(rel));

			page = GenericXLogRegisterBuffer(state, bufs[n],
											 GENERIC_XLOG_FULL_IMAGE);
			aura_page_init(page, AURA_PAGE_BLOB, first, chunk);
			/* VACUUM frees unreferenced blobs only of finished writers */
			AuraPageGetOpaque(page)->xid = GetCurrentTransactionId();
			hdr = (AuraBlobHeader *) AuraPageGetContents(page);
			hdr->magic = AURA_BLOB_MAGIC;
			hdr->stored_size = stored;
			hdr->raw_size = ptr.va_rawsize;
			hdr->chunk_size = len;
			memcpy((char *) (hdr + 1), data + off, len);
			((PageHeader) page)->pd_lower =
				((char *) (hdr + 1) + len) - (char *) page;
		}
		GenericXLogFinish(state);
		for (i = 0; i < n; i++)
			UnlockReleaseBuffer(bufs[i]);
	}
	if (!BufferIsValid(reused))
		UnlockRelationForExtension(rel, ExclusiveLock);

	if (compressed)
		pfree(compressed);

	ptr.va_valueid = first;
	ptr.va_toastrelid = RelationGetRelid(rel);
	result = (struct varlena *) palloc(TOAST_POINTER_SIZE);
	SET_VARTAG_EXTERNAL(result, VARTAG_ONDISK);
	memcpy(VARDATA_EXTERNAL(result), &ptr, sizeof(ptr));
	return result;
}

/*
 * Copy bytes [sliceoffset, sliceoffset + slicelength) of the blob starting
 * at block `first' into VARDATA(result).  attrsize is the stored size the
 * TOAST pointer claims; a mismatch means the pointer is stale or the table
 * corrupted, never something to paper over.
 */
void
blob_fetch_slice(Relation rel, BlockNumber first, int32 attrsize,
				 int32 sliceoffset, int32 slicelength, struct varlena *result)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	uint32		pos = sliceoffset;
	uint32		end = (uint32) sliceoffset + slicelength;

	if (sliceoffset < 0 || slicelength < 0 || end > (uint32) attrsize)
		elog(ERROR, "invalid slice %d+%d of aura blob of %d bytes",
			 sliceoffset, slicelength, attrsize);

	while (pos < end || (pos == 0 && end == 0))
	{
		uint32		chunk = pos / AURA_BLOB_CHUNK;
		BlockNumber blkno = first + chunk;
		Buffer		buf;
		Page		page;
		AuraBlobHeader *hdr;
		uint32		inoff = pos - chunk * AURA_BLOB_CHUNK;
		uint32		len;

		if (blkno >= nblocks)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("aura blob at block %u of \"%s\" extends past the end of the table",
							first, RelationGetRelationName(rel))));
		buf = ReadBuffer(rel, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		aura_page_check_kind(rel, blkno, page, AURA_PAGE_BLOB);
		hdr = (AuraBlobHeader *) AuraPageGetContents(page);
		if (AuraPageGetOpaque(page)->aux != first ||
			AuraPageGetOpaque(page)->aux2 != chunk ||
			hdr->magic != AURA_BLOB_MAGIC ||
			hdr->stored_size != (uint32) attrsize)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("block %u of \"%s\" is not chunk %u of the aura blob at block %u",
							blkno, RelationGetRelationName(rel), chunk, first)));
		if (pos == 0 && end == 0)
		{
			UnlockReleaseBuffer(buf);
			break;
		}
		len = Min(hdr->chunk_size - inoff, end - pos);
		memcpy(VARDATA(result) + (pos - sliceoffset),
			   (char *) (hdr + 1) + inoff, len);
		UnlockReleaseBuffer(buf);
		pos += len;
	}
}

/* relation_fetch_toast_slice callback: toastrel is the aura table itself */
void
blob_fetch_toast_slice(Relation toastrel, Oid valueid, int32 attrsize,
					   int32 sliceoffset, int32 slicelength,
					   struct varlena *result)
{
	blob_fetch_slice(toastrel, (BlockNumber) valueid, attrsize, sliceoffset,
					 slicelength, result);
}

/*
 * The first blocks of the blobs a stored version references (its on-disk
 * TOAST pointers), into firsts[] (room for the relation's natts).  Returns
 * how many.  For VACUUM and aura_check.
 */
int
blob_references(Relation rel, HeapTuple tuple, BlockNumber *firsts)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = Min(desc->natts, HeapTupleHeaderGetNatts(tuple->t_data));
	int			n = 0;
	int			i;

	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		struct varlena *v;
		struct varatt_external ext;
		bool		isnull;
		Datum		d;

		if (att->attisdropped || att->attlen != -1)
			continue;
		d = heap_getattr(tuple, i + 1, desc, &isnull);
		if (isnull)
			continue;
		v = (struct varlena *) DatumGetPointer(d);
		if (!VARATT_IS_EXTERNAL_ONDISK(v))
			continue;
		VARATT_EXTERNAL_GET_POINTER(ext, v);
		firsts[n++] = (BlockNumber) ext.va_valueid;
	}
	return n;
}
