// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The `object` fuzz target: the C core's object validator, instantiation
 * and invocation (kmod/core/ with the userspace platform), built with
 * AddressSanitizer and UBSan, fed structure-aware mutations of real
 * objects. Shared by the libFuzzer binary and the stable smoke driver
 * (smoke.c); see fuzz/README.md.
 *
 * What one input asserts: kwo_object_load() refuses with -EINVAL,
 * -ENOEXEC or -ENOMEM and a message, or accepts; the accepted object's
 * exports read back in bounds; instantiation succeeds, traps with a valid
 * trap code, or fails with a documented errno; every nullary export
 * returns, traps or exits within a small fuel and time budget. Sanitizer
 * reports abort the run.
 *
 * What it does not do: run machine code the object's tables no longer
 * describe. The core trusts the code to match the object's contract
 * (header flags, frame sizes, functions, types, tables, memory, globals'
 * types, exports, relocations, trap sites; see contract_hash()): that match
 * is the compiler's and the machine-code checker's job, fuzzed by the
 * `compile` target. So code runs (start function, exports) only when an
 * accepted object keeps the contract of one of the seeds; an object with
 * another contract is instantiated only when it has no start function.
 * Data and element segments, global values, names, counts of segments and
 * trap-site diagnostics stay free: the core must defend against them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwo_core.h"
#include "harness.h"

#define LOG_LEN		256
#define MAX_SEEDS	256
#define CALL_FUEL	20000
#define CALL_TIMEOUT_NS	(20 * 1000 * 1000ull)

static __u64 seed_contracts[MAX_SEEDS];
static unsigned int nseed_contracts;

struct kwo_fuzz_stats kwo_fuzz_stats;

/* A violated property: report it and abort, so libFuzzer keeps the input. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "object fuzz: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static __u32 le32(const __u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

static void put_le32(__u8 *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
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

/*
 * The section of the given kind in an object, or NULL. Only called on
 * objects the validator accepted (or on seeds, which it must accept), so
 * the section table and the section are in bounds.
 */
static const __u8 *section(const __u8 *b, __u32 kind, __u32 *count,
			   __u32 *size)
{
	__u32 soff = le32(b + 32), n = le32(b + 36), i;

	for (i = 0; i < n; i++) {
		const __u8 *e = b + soff + 16 * i;

		if (le32(e) == kind) {
			*count = le32(e + 4);
			*size = le32(e + 12);
			return b + le32(e + 8);
		}
	}
	*count = 0;
	*size = 0;
	return NULL;
}

/* Hash the given 4-byte words of each entry of a table section. */
static __u64 hash_entries(__u64 h, const __u8 *b, __u32 kind,
			  __u32 entsize, __u32 words)
{
	__u32 count, size, i, w;
	const __u8 *p = section(b, kind, &count, &size);

	h = fnv32(h, count);
	for (i = 0; i < count; i++)
		for (w = 0; w < 32; w++)
			if (words & (1u << w))
				h = fnv32(h, le32(p + entsize * i + 4 * w));
	return h;
}

/*
 * What the machine code relies on: everything but data and element
 * segments, global values, names and trap-site diagnostics. Types include
 * their value-type bytes; globals their type, mutability and init kind,
 * and the function of a ref.func initializer.
 */
static __u64 contract_hash(const __u8 *b)
{
	__u64 h = 0xcbf29ce484222325ull;
	__u32 count, size, blob_count, blob_size, i;
	const __u8 *code = section(b, KWO_SEC_CODE, &count, &size);
	const __u8 *blob = section(b, KWO_SEC_BLOB, &blob_count, &blob_size);
	const __u8 *p;

	h = fnv(h, b + 12, 8);		/* target, flags */
	h = fnv(h, b + 40, 16);		/* max_frame, start, stack_bound */
	h = fnv(fnv32(h, size), code, size);
	p = section(b, KWO_SEC_TYPES, &count, &size);
	h = fnv32(h, count);
	for (i = 0; i < count; i++) {
		const __u8 *t = p + 16 * i;

		h = fnv(h, t, 8);
		h = fnv32(h, le32(t + 12));
		h = fnv(h, blob + le32(t + 8), le32(t) + le32(t + 4));
	}
	h = hash_entries(h, b, KWO_SEC_IMPORTS, 16, 0x3);
	h = hash_entries(h, b, KWO_SEC_FUNCS, 32, 0x7);
	h = hash_entries(h, b, KWO_SEC_TABLES, 16, 0x7);
	h = hash_entries(h, b, KWO_SEC_MEMORY, 16, 0x3);
	h = hash_entries(h, b, KWO_SEC_EXPORTS, 24, 0x13);
	h = hash_entries(h, b, KWO_SEC_RELOCS, 16, 0xf);
	h = hash_entries(h, b, KWO_SEC_TRAPS, 16, 0x3);
	p = section(b, KWO_SEC_GLOBALS, &count, &size);
	h = fnv32(h, count);
	for (i = 0; i < count; i++) {
		const __u8 *g = p + 16 * i;

		h = fnv(h, g, 3);
		if (g[2] == KWO_INIT_REF_FUNC)
			h = fnv(h, g + 8, 8);
	}
	return h;
}

static int contract_known(__u64 h)
{
	unsigned int i;

	for (i = 0; i < nseed_contracts; i++)
		if (seed_contracts[i] == h)
			return 1;
	return 0;
}

/* Touch every byte the API hands out, so that ASan sees a stray pointer. */
static __u32 read_exports(const struct kwo_object *obj)
{
	__u32 n = kwo_export_count(obj), i, sum = 0, j;
	struct kwo_export_info info;

	for (i = 0; i < n; i++) {
		if (kwo_export_get(obj, i, &info))
			fail("export %u of %u not readable", i, n);
		for (j = 0; j < info.name_len; j++)
			sum += (__u8)info.name[j];
		if (info.kind != KWO_EXPORT_FUNC)
			continue;
		for (j = 0; j < info.param_count; j++)
			sum += info.params[j];
		for (j = 0; j < info.result_count; j++)
			sum += info.results[j];
		kwo_func_name(obj, info.index, &j);
	}
	return sum;
}

static void check_call(const struct kwo_call *call, const char *what)
{
	if (call->status > KWO_STATUS_EXIT)
		fail("%s: call status %u", what, call->status);
	if (call->status == KWO_STATUS_TRAP &&
	    call->trap_code >= KWO_TRAP_COUNT)
		fail("%s: trap code %u", what, call->trap_code);
}

static void budget(struct kwo_call *call)
{
	kwo_call_init(call);
	call->fuel = CALL_FUEL;
	call->timeout_ns = CALL_TIMEOUT_NS;
}

static void invoke_nullary_exports(const struct kwo_object *obj,
				   struct kwo_instance *inst)
{
	__u32 n = kwo_export_count(obj), i;
	struct kwo_export_info info;
	struct kwo_call call;
	__u64 vals[16];
	__u8 *base;
	__u64 size;
	int rc;

	for (i = 0; i < n; i++) {
		kwo_export_get(obj, i, &info);
		if (info.kind != KWO_EXPORT_FUNC || info.param_count ||
		    info.result_count > 16)
			continue;
		budget(&call);
		memset(vals, 0, sizeof(vals));
		rc = kwo_invoke(inst, i, vals, 16, &call);
		if (rc)
			fail("invoke of export %u: %d", i, rc);
		check_call(&call, "invoke");
		kwo_fuzz_stats.invoked++;
	}
	/* The memory the core reports must be mapped to its last byte. */
	kwo_memory_get(inst, &base, &size);
	if (size)
		kwo_fuzz_stats.memory_bytes_seen += base[0] + base[size - 1];
}

static void instantiate(const struct kwo_object *obj, int run_code)
{
	struct kwo_instance *inst;
	struct kwo_config cfg;
	struct kwo_call call;
	char log[LOG_LEN];
	int rc;

	kwo_config_init(&cfg);
	cfg.max_memory_pages = 64;
	cfg.max_table_elems = 10000;
	budget(&call);
	rc = kwo_instance_new(obj, &cfg, &call, &inst, log, sizeof(log));
	if (rc == KWO_TRAPPED) {
		if (call.status == KWO_STATUS_OK)
			fail("instantiation trapped with status ok");
		check_call(&call, "instantiation");
		kwo_fuzz_stats.instance_traps++;
		return;
	}
	if (rc) {
		if (rc != -ENOMEM && rc != -E2BIG && rc != -ERANGE)
			fail("instantiation: undocumented error %d (%s)", rc,
			     log);
		return;
	}
	kwo_fuzz_stats.instantiated++;
	if (run_code)
		invoke_nullary_exports(obj, inst);
	kwo_instance_free(inst);
}

int kwo_fuzz_one(const __u8 *data, size_t size)
{
	struct kwo_object *obj;
	char log[LOG_LEN];
	int rc, known;

	memset(log, 'x', sizeof(log));
	rc = kwo_object_load(data, size, &obj, log, sizeof(log));
	if (!memchr(log, 0, sizeof(log)))
		fail("log not NUL-terminated");
	if (rc) {
		if (rc != -EINVAL && rc != -ENOEXEC && rc != -ENOMEM)
			fail("load: undocumented error %d (%s)", rc, log);
		if (!strcmp(log, "ok") || !log[0])
			fail("load refused (%d) without a message", rc);
		kwo_fuzz_stats.rejected++;
		return rc;
	}
	kwo_fuzz_stats.accepted++;
	read_exports(obj);
	known = contract_known(contract_hash(data));
	if (known || le32(data + 48) == KWO_NONE)
		instantiate(obj, known);
	kwo_object_free(obj);
	return 0;
}

int kwo_fuzz_add_seed(const __u8 *data, size_t size)
{
	struct kwo_object *obj;
	char log[LOG_LEN];
	int rc = kwo_object_load(data, size, &obj, log, sizeof(log));

	if (rc) {
		fprintf(stderr, "object fuzz: a seed is refused: %s\n", log);
		return rc;
	}
	kwo_object_free(obj);
	if (nseed_contracts < MAX_SEEDS)
		seed_contracts[nseed_contracts++] = contract_hash(data);
	return 0;
}

__u8 *kwo_fuzz_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	__u8 *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc(len ? len : 1);
		if (buf && fread(buf, 1, len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*size = len;
	}
	fclose(f);
	return buf;
}

int kwo_fuzz_load_seeds(const char *dir, kwo_fuzz_seed_fn each)
{
	struct dirent **names;
	int n, i, loaded = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail("cannot read the seed directory %s", dir);
	for (i = 0; i < n; i++) {
		char path[4096];
		size_t size;
		__u8 *buf;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (!strstr(path, ".kwo"))
			continue;
		buf = kwo_fuzz_read_file(path, &size);
		if (!buf)
			fail("cannot read %s", path);
		if (kwo_fuzz_add_seed(buf, size))
			fail("seed %s refused: regenerate with fuzz/object/seeds.sh",
			     path);
		if (each)
			each(path, buf, size);
		free(buf);
		loaded++;
	}
	free(names);
	return loaded;
}

/* ---- structure-aware mutation ---- */

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
		if (below(s, 2) && size)
			size -= 1 + below(s, size < 64 ? size : 64);
		else if (size < max) {
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

/* Keep object_len and the checksum right most of the time, so that
 * mutations reach past the header checks. */
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
		sum = kwo_plat_crc32(0, b, 20);
		sum = kwo_plat_crc32(sum, "\0\0\0\0", 4);
		sum = kwo_plat_crc32(sum, b + 24, size - 24);
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
