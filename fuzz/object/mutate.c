// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Structure-aware mutation of .kwo objects (layout: kwo_format.h): header
 * words, section table words, entry words (counts, offsets, indices) set
 * to boundary values, entries copied over others, truncation and growth,
 * random bytes, and libFuzzer's own mutations when it is linked in; then
 * object_len and the CRC-32 fixed up most of the time, so that inputs get
 * past the header. And the code contract of an object: everything its
 * machine code relies on (see kwo_fuzz_contract()). Reads nothing outside
 * the given bytes, whatever they hold: the kernel fuzz loop hashes
 * unvalidated objects.
 */
#include <string.h>

#include "mutate.h"

__u32 kwo_fuzz_le32(const __u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

#define le32 kwo_fuzz_le32

static void put_le32(__u8 *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* CRC-32 (IEEE, reflected), bit by bit: objects are small. */
static __u32 crc32_update(__u32 crc, const __u8 *p, size_t len)
{
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* FNV-1a, 64 bits: enough to tell contracts apart, not a security hash. */
static __u64 fnv(__u64 h, const void *p, size_t len)
{
	const __u8 *b = p;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static __u64 fnv32(__u64 h, __u32 v)
{
	return fnv(h, &v, sizeof(v));
}

struct view {
	const __u8 *b;
	size_t size;
	int bad;		/* something read was out of bounds */
};

static int in_bounds(struct view *v, __u64 off, __u64 len)
{
	if (off > v->size || len > v->size - off)
		v->bad = 1;
	return !v->bad;
}

/* The section of the given kind (count, size), or NULL if absent or bad. */
static const __u8 *section(struct view *v, __u32 kind, __u32 *count,
			   __u32 *size)
{
	__u32 soff = le32(v->b + 32), n = le32(v->b + 36), i;

	*count = 0;
	*size = 0;
	if (!in_bounds(v, soff, 16ull * n))
		return NULL;
	for (i = 0; i < n; i++) {
		const __u8 *e = v->b + soff + 16 * (size_t)i;

		if (le32(e) != kind)
			continue;
		*count = le32(e + 4);
		*size = le32(e + 12);
		if (!in_bounds(v, le32(e + 8), *size))
			return NULL;
		return v->b + le32(e + 8);
	}
	return NULL;
}

/* Hash the given 4-byte words (a bit mask) of each entry of a section. */
static __u64 hash_entries(struct view *v, __u64 h, __u32 kind,
			  __u32 entsize, __u32 words)
{
	__u32 count, size, i, w;
	const __u8 *p = section(v, kind, &count, &size);

	h = fnv32(h, count);
	if (!p || (__u64)count * entsize > size) {
		v->bad |= count != 0;
		return h;
	}
	for (i = 0; i < count; i++)
		for (w = 0; w < entsize / 4; w++)
			if (words & (1u << w))
				h = fnv32(h, le32(p + entsize * (size_t)i + 4 * w));
	return h;
}

static __u64 hash_types(struct view *v, __u64 h)
{
	__u32 count, size, blob_count, blob_size, i;
	const __u8 *blob = section(v, KWO_SEC_BLOB, &blob_count, &blob_size);
	const __u8 *p = section(v, KWO_SEC_TYPES, &count, &size);

	h = fnv32(h, count);
	if ((!p || (__u64)count * 16 > size) && count) {
		v->bad = 1;
		return h;
	}
	for (i = 0; i < count; i++) {
		const __u8 *t = p + 16 * (size_t)i;
		__u64 off = le32(t + 8), n = (__u64)le32(t) + le32(t + 4);

		h = fnv(h, t, 8);
		h = fnv32(h, le32(t + 12));
		if (!blob || off > blob_size || n > blob_size - off) {
			v->bad = 1;
			return h;
		}
		h = fnv(h, blob + off, n);
	}
	return h;
}

static __u64 hash_globals(struct view *v, __u64 h)
{
	__u32 count, size, i;
	const __u8 *p = section(v, KWO_SEC_GLOBALS, &count, &size);

	h = fnv32(h, count);
	if ((!p || (__u64)count * 16 > size) && count) {
		v->bad = 1;
		return h;
	}
	for (i = 0; i < count; i++) {
		const __u8 *g = p + 16 * (size_t)i;

		h = fnv(h, g, 3);
		if (g[2] == KWO_INIT_REF_FUNC)
			h = fnv(h, g + 8, 8);
	}
	return h;
}

/*
 * What the machine code relies on: the header's target, flags, frame and
 * stack sizes and start function; the code; types with their value-type
 * bytes; imports; functions; tables; the memory; globals' types,
 * mutability, init kinds and ref.func functions; exports' kinds, indices
 * and trampolines; relocations; trap sites' offsets and codes. Left out,
 * because the core must defend against any value of them: data and
 * element segments, global values, names, trap-site diagnostics.
 */
__u64 kwo_fuzz_contract(const __u8 *b, size_t size)
{
	struct view v = { .b = b, .size = size };
	__u64 h = 0xcbf29ce484222325ull;
	__u32 count, code_size;
	const __u8 *code;

	if (size < sizeof(struct kwo_header))
		return 0;
	code = section(&v, KWO_SEC_CODE, &count, &code_size);
	h = fnv(h, b + 12, 8);		/* target, flags */
	h = fnv(h, b + 40, 16);		/* max_frame, start, stack_bound */
	h = fnv(fnv32(h, code_size), code ? code : b, code ? code_size : 0);
	h = hash_types(&v, h);
	h = hash_entries(&v, h, KWO_SEC_IMPORTS, 16, 0x3);
	h = hash_entries(&v, h, KWO_SEC_FUNCS, 32, 0x7);
	h = hash_entries(&v, h, KWO_SEC_TABLES, 16, 0x7);
	h = hash_entries(&v, h, KWO_SEC_MEMORY, 16, 0x3);
	h = hash_entries(&v, h, KWO_SEC_EXPORTS, 24, 0x13);
	h = hash_entries(&v, h, KWO_SEC_RELOCS, 16, 0xf);
	h = hash_entries(&v, h, KWO_SEC_TRAPS, 16, 0x3);
	h = hash_globals(&v, h);
	return v.bad || !h ? 0 : h;
}

static __u64 rng_next(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static __u32 below(__u64 *s, __u32 n)
{
	return n ? rng_next(s) % n : 0;
}

/* A value likely to sit on a boundary the validator checks. */
static __u32 interesting(__u64 *s, const __u8 *b, size_t size, __u32 old)
{
	static const __u32 fixed[] = {
		0, 1, 2, 4, 7, 8, 15, 16, 24, 32, 63, 64, 0x7f, 0x80, 0xff,
		0x100, 0xfff, 0x1000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
		0xfffffff0, 0xfffffffe, 0xffffffff,
	};
	__u32 n = sizeof(fixed) / sizeof(fixed[0]);

	switch (below(s, 6)) {
	case 0:
		return fixed[below(s, n)];
	case 1:
		return below(s, 2) ? old + 1 : old - 1;
	case 2:		/* near the end of the object */
		return size - below(s, 17);
	case 3:		/* some other aligned word of the object */
		return size >= 4 ? le32(b + (below(s, size / 4) * 4)) : 0;
	case 4:
		return old + (below(s, 64) - 32) * (1u << below(s, 5));
	default:
		return rng_next(s);
	}
}

/* Offset of entry word w of a random entry of a random table section. */
static long pick_entry_word(__u64 *s, const __u8 *b, size_t size)
{
	__u32 soff, n, i, count, esize, off;
	const __u8 *e;

	if (size < 64)
		return -1;
	soff = le32(b + 32);
	n = le32(b + 36);
	if (!n || soff > size || (__u64)soff + 16ull * n > size)
		return -1;
	i = below(s, n);
	e = b + soff + 16 * i;
	count = le32(e + 4);
	off = le32(e + 8);
	esize = le32(e + 12);
	if (!count || (__u64)off + esize > size || esize / count < 4)
		return -1;
	esize /= count;
	return off + below(s, count) * esize + 4 * below(s, esize / 4);
}

static size_t mutate_once(__u64 *s, __u8 *b, size_t size, size_t max)
{
	long at;
	__u32 soff, n;

	switch (below(s, 10)) {
	case 0:		/* a header word (not the checksum: fixed below) */
		if (size >= 64) {
			at = 4 * below(s, 16);
			put_le32(b + at, interesting(s, b, size, le32(b + at)));
		}
		break;
	case 1:		/* a section table word */
		soff = size >= 64 ? le32(b + 32) : 0;
		n = size >= 64 ? le32(b + 36) : 0;
		if (n && soff <= size && (__u64)soff + 16ull * n <= size) {
			at = soff + 4 * below(s, 4 * n);
			put_le32(b + at, interesting(s, b, size, le32(b + at)));
		}
		break;
	case 2:
	case 3:
	case 4:		/* a word of an entry: counts, offsets, indices */
		at = pick_entry_word(s, b, size);
		if (at >= 0)
			put_le32(b + at, interesting(s, b, size, le32(b + at)));
		break;
	case 5:		/* 16 bytes of entries over others: duplicates */
		at = pick_entry_word(s, b, size);
		if (at >= 0 && (size_t)at + 16 <= size) {
			long from = pick_entry_word(s, b, size);

			if (from >= 0 && (size_t)from + 16 <= size)
				memmove(b + at, b + from, 16);
		}
		break;
	case 6:		/* truncate, or grow with zeros */
		if (below(s, 2) && size) {
			size -= 1 + below(s, size < 64 ? size : 64);
		} else if (size < max) {
			n = 1 + below(s, max - size < 64 ? max - size : 64);
			memset(b + size, 0, n);
			size += n;
		}
		break;
	case 7:		/* a random byte anywhere */
		if (size)
			b[below(s, size)] = rng_next(s);
		break;
	default:	/* libFuzzer's own byte mutations when linked in */
		if (LLVMFuzzerMutate)
			size = LLVMFuzzerMutate(b, size, max);
		else if (size)
			b[below(s, size)] ^= 1u << below(s, 8);
		break;
	}
	return size;
}

/*
 * Keep object_len and the checksum right most of the time, so that
 * mutations reach past the header checks.
 */
static void fix_up(__u64 *s, __u8 *b, size_t size)
{
	__u32 sum;

	if (size < 64)
		return;
	if (below(s, 8)) {
		put_le32(b + 24, size);
		put_le32(b + 28, (__u64)size >> 32);
	}
	if (below(s, 16)) {
		sum = crc32_update(0, b, 20);
		sum = crc32_update(sum, (const __u8 *)"\0\0\0\0", 4);
		sum = crc32_update(sum, b + 24, size - 24);
		put_le32(b + 20, sum);
	}
}

size_t kwo_fuzz_mutate(__u8 *data, size_t size, size_t max,
		       unsigned int seed)
{
	__u64 s = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned int i, rounds = 1 + below(&s, 3);

	for (i = 0; i < rounds; i++)
		size = mutate_once(&s, data, size, max);
	fix_up(&s, data, size);
	return size;
}
