// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Validation and decoding of untrusted .kwo objects (layout:
 * kwo_format.h, docs/kwo-format.md). Every field is read with explicit
 * little-endian loads; every offset, length, count and index is checked
 * with 64-bit arithmetic before use. On success the tables are decoded into
 * native structs that the rest of the core trusts. This file does not
 * look at the machine code itself beyond relocation and trap-site ranges.
 */
#include "kwo_internal.h"

/*
 * Entry sizes of the table sections, indexed by KWO_SEC_*. CODE, BLOB and
 * LINES are byte sections (0). LINES is debug data for tools (the CLI names
 * source lines from it): the core checks only that it lies in the object.
 */
static const __u32 sec_entsize[KWO_SEC_MAX + 1] = {
	[KWO_SEC_TYPES] = 16, [KWO_SEC_IMPORTS] = 16, [KWO_SEC_FUNCS] = 32,
	[KWO_SEC_TABLES] = 16, [KWO_SEC_MEMORY] = 16, [KWO_SEC_GLOBALS] = 16,
	[KWO_SEC_EXPORTS] = 24, [KWO_SEC_DATA] = 16, [KWO_SEC_ELEMS] = 24,
	[KWO_SEC_RELOCS] = 16, [KWO_SEC_TRAPS] = 16, [KWO_SEC_ADDRMAP] = 8,
};

struct kwo_sec {
	const __u8 *p;
	__u32 count;
	__u32 offset;
	__u32 size;
	int present;
};

struct kwo_parse {
	const __u8 *b;
	size_t len;
	struct kwo_sec sec[KWO_SEC_MAX + 1];
	struct kwo_object *obj;
	char *log;
	size_t log_len;
};

static const char *target_name(__u32 t)
{
	return t == KWO_TARGET_X86_64 ? "x86_64" :
	       t == KWO_TARGET_AARCH64 ? "aarch64" : "an unknown target";
}

static int bad(struct kwo_parse *ps, __u32 sec, __u32 idx, const char *what)
{
	kwo_logf(ps->log, ps->log_len, "section %u entry %u: %s", sec, idx,
		 what);
	return -EINVAL;
}

/* Is [off, off + len) inside a byte section of the given size? */
static int in_range(__u64 off, __u64 len, __u64 size)
{
	return off <= size && len <= size - off;
}

static int check_header(struct kwo_parse *ps)
{
	const __u8 *b = ps->b;
	__u32 i, sum, target;

	if (ps->len < sizeof(struct kwo_header)) {
		kwo_logf(ps->log, ps->log_len,
			 "object too short: %zu bytes, header needs 64",
			 ps->len);
		return -EINVAL;
	}
	if (kwo_le32(b) != KWO_MAGIC) {
		kwo_logf(ps->log, ps->log_len, "not a .kwo object (bad magic)");
		return -EINVAL;
	}
	if (kwo_le32(b + 4) != KWO_VERSION) {
		kwo_logf(ps->log, ps->log_len,
			 "object version %u, this runtime reads version %u",
			 kwo_le32(b + 4), KWO_VERSION);
		return -ENOEXEC;
	}
	if (kwo_le32(b + 8) != sizeof(struct kwo_header)) {
		kwo_logf(ps->log, ps->log_len, "header: header_len %u, want 64",
			 kwo_le32(b + 8));
		return -EINVAL;
	}
	if (kwo_le64(b + 24) != ps->len) {
		kwo_logf(ps->log, ps->log_len,
			 "header: object_len %llu but %zu bytes given",
			 (unsigned long long)kwo_le64(b + 24), ps->len);
		return -EINVAL;
	}
	for (i = 0; i < 2; i++) {
		if (kwo_le32(b + 56 + 4 * i)) {
			kwo_logf(ps->log, ps->log_len,
				 "header: reserved field %u is not zero", i);
			return -EINVAL;
		}
	}
	/* The checksum covers the whole object with its own field as zero. */
	sum = kwo_plat_crc32(0, b, 20);
	sum = kwo_plat_crc32(sum, "\0\0\0\0", 4);
	sum = kwo_plat_crc32(sum, b + 24, ps->len - 24);
	if (sum != kwo_le32(b + 20)) {
		kwo_logf(ps->log, ps->log_len,
			 "checksum mismatch: header says 0x%x, object has 0x%x",
			 kwo_le32(b + 20), sum);
		return -EINVAL;
	}
	target = kwo_le32(b + 12);
	if (target != KWO_TARGET_X86_64 && target != KWO_TARGET_AARCH64) {
		kwo_logf(ps->log, ps->log_len, "header: unknown target %u",
			 target);
		return -EINVAL;
	}
	if (target != KWO_HOST_TARGET) {
		kwo_logf(ps->log, ps->log_len, "object is for %s, this is %s",
			 target_name(target), target_name(KWO_HOST_TARGET));
		return -ENOEXEC;
	}
	if (kwo_le32(b + 16) & ~KWO_F_KNOWN) {
		kwo_logf(ps->log, ps->log_len, "header: unknown flags 0x%x",
			 kwo_le32(b + 16));
		return -EINVAL;
	}
#ifdef __KERNEL__
	if (kwo_le32(b + 16) & KWO_F_UNCHECKED) {
		kwo_logf(ps->log, ps->log_len,
			 "object was compiled without safety checks (a benchmark build)");
		return -EPERM;
	}
#endif
	ps->obj->target = target;
	ps->obj->flags = kwo_le32(b + 16);
	ps->obj->max_frame = kwo_le32(b + 40);
	ps->obj->stack_bound = kwo_le32(b + 52);
	ps->obj->start_func = kwo_le32(b + 44);
	ps->obj->start_tramp = kwo_le32(b + 48);
	return 0;
}

static int overlaps(const struct kwo_sec *a, const struct kwo_sec *b)
{
	__u64 a_end = (__u64)a->offset + a->size;
	__u64 b_end = (__u64)b->offset + b->size;

	if (!a->size || !b->size)
		return 0;
	return a->offset < b_end && b->offset < a_end;
}

static int check_one_section(struct kwo_parse *ps, __u32 i, __u32 soff,
			     __u64 table_end)
{
	const __u8 *e = ps->b + soff + 16 * (size_t)i;
	__u32 kind = kwo_le32(e), count = kwo_le32(e + 4);
	__u32 off = kwo_le32(e + 8), size = kwo_le32(e + 12);
	struct kwo_sec *s;

	if (kind == 0 || kind > KWO_SEC_MAX) {
		kwo_logf(ps->log, ps->log_len, "section %u: unknown kind %u",
			 i, kind);
		return -EINVAL;
	}
	s = &ps->sec[kind];
	if (s->present) {
		kwo_logf(ps->log, ps->log_len, "section %u: kind %u repeated",
			 i, kind);
		return -EINVAL;
	}
	if (off & 7) {
		kwo_logf(ps->log, ps->log_len,
			 "section %u: offset 0x%x not 8-byte aligned", kind, off);
		return -EINVAL;
	}
	if (size && (off < sizeof(struct kwo_header) ||
		     !in_range(off, size, ps->len) ||
		     (off < table_end && off + (__u64)size > soff))) {
		kwo_logf(ps->log, ps->log_len,
			 "section %u: offset 0x%x size 0x%x out of bounds",
			 kind, off, size);
		return -EINVAL;
	}
	if (sec_entsize[kind] ?
	    (__u64)count * sec_entsize[kind] != size : count != 0) {
		kwo_logf(ps->log, ps->log_len,
			 "section %u: count %u does not match size 0x%x",
			 kind, count, size);
		return -EINVAL;
	}
	s->present = 1;
	s->p = size ? ps->b + off : ps->b;
	s->count = count;
	s->offset = off;
	s->size = size;
	return 0;
}

static int check_sections(struct kwo_parse *ps)
{
	__u32 soff = kwo_le32(ps->b + 32), n = kwo_le32(ps->b + 36), i, j;
	__u64 table_end = (__u64)soff + 16ull * n;
	int err;

	if (n > KWO_SEC_MAX) {
		kwo_logf(ps->log, ps->log_len,
			 "header: %u sections, at most %u", n, KWO_SEC_MAX);
		return -EINVAL;
	}
	if ((soff & 7) || soff < sizeof(struct kwo_header) ||
	    table_end > ps->len) {
		kwo_logf(ps->log, ps->log_len,
			 "header: section table at 0x%x (%u entries) out of bounds",
			 soff, n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		err = check_one_section(ps, i, soff, table_end);
		if (err)
			return err;
	}
	for (i = 1; i <= KWO_SEC_MAX; i++)
		for (j = i + 1; j <= KWO_SEC_MAX; j++)
			if (ps->sec[i].present && ps->sec[j].present &&
			    overlaps(&ps->sec[i], &ps->sec[j])) {
				kwo_logf(ps->log, ps->log_len,
					 "sections %u and %u overlap", i, j);
				return -EINVAL;
			}
	return 0;
}

/* Allocate count native entries (at least one, so NULL means failure). */
static void *alloc_entries(__u32 count, size_t size)
{
	return kwo_plat_zalloc((count ? count : 1) * size);
}

static int valtype_ok(__u8 t)
{
	return t == KWO_VAL_I32 || t == KWO_VAL_I64 || t == KWO_VAL_F32 ||
	       t == KWO_VAL_F64 || t == KWO_VAL_FUNCREF ||
	       t == KWO_VAL_EXTERNREF;
}

static int reftype_ok(__u32 t)
{
	return t == KWO_VAL_FUNCREF || t == KWO_VAL_EXTERNREF;
}

static int blob_ok(struct kwo_parse *ps, __u32 off, __u64 len)
{
	return in_range(off, len, ps->obj->blob_len);
}

/* Is [p, p + len) well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF)? */
static int utf8_ok(const __u8 *p, __u32 len)
{
	__u32 i = 0, n, j, cp;

	while (i < len) {
		__u8 c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (j = 1; j <= n; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int name_ok(struct kwo_parse *ps, __u32 off, __u32 len)
{
	return blob_ok(ps, off, len) && utf8_ok(ps->obj->blob + off, len);
}

static int decode_types(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_TYPES];
	struct kwo_object *obj = ps->obj;
	__u32 i, j;

	obj->ntypes = s->count;
	obj->types = alloc_entries(s->count, sizeof(*obj->types));
	if (!obj->types)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_type *t = &obj->types[i];
		__u64 n;

		t->param_count = kwo_le32(e);
		t->result_count = kwo_le32(e + 4);
		t->valtypes = kwo_le32(e + 8);
		t->sig_id = kwo_le32(e + 12);
		n = (__u64)t->param_count + t->result_count;
		if (!blob_ok(ps, t->valtypes, n))
			return bad(ps, KWO_SEC_TYPES, i, "value types out of bounds");
		for (j = 0; j < n; j++)
			if (!valtype_ok(obj->blob[t->valtypes + j]))
				return bad(ps, KWO_SEC_TYPES, i,
					   "unknown value type");
	}
	return 0;
}

static int host_wasi_ok(__u32 id)
{
	return (id >= KWO_HOST_WASI_BASE && id < KWO_HOST_WASI_END) ||
	       id == KWO_HOST_SPECTEST_PRINT || id == KWO_HOST_ENOSYS_STUB;
}

static int decode_imports(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_IMPORTS];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->nimports = s->count;
	obj->imports = alloc_entries(s->count, sizeof(*obj->imports));
	if (!obj->imports)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_import *im = &obj->imports[i];

		im->host_id = kwo_le32(e);
		im->type = kwo_le32(e + 4);
		if (!host_wasi_ok(im->host_id))
			return bad(ps, KWO_SEC_IMPORTS, i, "unknown host function");
		if (im->type >= obj->ntypes)
			return bad(ps, KWO_SEC_IMPORTS, i, "type index out of range");
		if (kwo_le32(e + 8) || kwo_le32(e + 12))
			return bad(ps, KWO_SEC_IMPORTS, i, "reserved field not zero");
	}
	return 0;
}

static int decode_funcs(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_FUNCS];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	if ((__u64)s->count + obj->nimports > KWO_MAX_FUNCS)
		return bad(ps, KWO_SEC_FUNCS, 0, "too many functions");
	obj->nfuncs = s->count;
	obj->nall_funcs = s->count + obj->nimports;
	obj->funcs = alloc_entries(s->count, sizeof(*obj->funcs));
	if (!obj->funcs)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 32 * (size_t)i;
		struct kwo_func *f = &obj->funcs[i];

		f->type = kwo_le32(e);
		f->code_off = kwo_le32(e + 4);
		f->code_len = kwo_le32(e + 8);
		f->name_off = kwo_le32(e + 12);
		f->name_len = kwo_le32(e + 16);
		f->wasm_off = kwo_le32(e + 20);
		if (f->type >= obj->ntypes)
			return bad(ps, KWO_SEC_FUNCS, i, "type index out of range");
		if (!f->code_len ||
		    !in_range(f->code_off, f->code_len, obj->code_len))
			return bad(ps, KWO_SEC_FUNCS, i, "code range out of bounds");
		if (f->name_len && !name_ok(ps, f->name_off, f->name_len))
			return bad(ps, KWO_SEC_FUNCS, i,
				   "name out of bounds or not UTF-8");
		if (kwo_le32(e + 24) || kwo_le32(e + 28))
			return bad(ps, KWO_SEC_FUNCS, i, "reserved field not zero");
	}
	return 0;
}

static int decode_tables(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_TABLES];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->ntables = s->count;
	obj->tables = alloc_entries(s->count, sizeof(*obj->tables));
	if (!obj->tables)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_table *t = &obj->tables[i];

		t->elem_type = kwo_le32(e);
		t->min = kwo_le32(e + 4);
		t->max = kwo_le32(e + 8);
		if (!reftype_ok(t->elem_type))
			return bad(ps, KWO_SEC_TABLES, i, "bad element type");
		if (t->max != KWO_NONE && t->min > t->max)
			return bad(ps, KWO_SEC_TABLES, i, "min above max");
		if (t->min > KWO_MAX_TABLE_ELEMS)
			return bad(ps, KWO_SEC_TABLES, i, "table too large");
		if (kwo_le32(e + 12))
			return bad(ps, KWO_SEC_TABLES, i, "reserved field not zero");
	}
	return 0;
}

static int decode_memory(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_MEMORY];
	struct kwo_memory *m = &ps->obj->memory;

	if (s->count > 1)
		return bad(ps, KWO_SEC_MEMORY, 1, "at most one memory");
	ps->obj->nmems = s->count;
	if (!s->count)
		return 0;
	m->min_pages = kwo_le32(s->p);
	m->max_pages = kwo_le32(s->p + 4);
	if (m->min_pages > KWO_MAX_PAGES ||
	    (m->max_pages != KWO_NONE &&
	     (m->max_pages > KWO_MAX_PAGES || m->min_pages > m->max_pages)))
		return bad(ps, KWO_SEC_MEMORY, 0, "bad limits");
	if (kwo_le32(s->p + 8) || kwo_le32(s->p + 12))
		return bad(ps, KWO_SEC_MEMORY, 0, "reserved field not zero");
	return 0;
}

static int global_ok(struct kwo_parse *ps, const struct kwo_global *g)
{
	int is_ref = reftype_ok(g->type);

	if (!valtype_ok(g->type) || g->mutable > 1)
		return 0;
	switch (g->init_kind) {
	case KWO_INIT_VALUE:
		if (is_ref)
			return 0;
		return (g->type != KWO_VAL_I32 && g->type != KWO_VAL_F32) ||
		       g->value >> 32 == 0;
	case KWO_INIT_REF_FUNC:
		return g->type == KWO_VAL_FUNCREF &&
		       g->value < ps->obj->nall_funcs;
	case KWO_INIT_REF_NULL:
		return is_ref && g->value == 0;
	}
	return 0;
}

static int decode_globals(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_GLOBALS];
	struct kwo_object *obj = ps->obj;
	__u32 i, j;

	obj->nglobals = s->count;
	obj->globals = alloc_entries(s->count, sizeof(*obj->globals));
	if (!obj->globals)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_global *g = &obj->globals[i];

		g->type = e[0];
		g->mutable = e[1];
		g->init_kind = e[2];
		g->value = kwo_le64(e + 8);
		for (j = 3; j < 8; j++)
			if (e[j])
				return bad(ps, KWO_SEC_GLOBALS, i,
					   "reserved field not zero");
		if (!global_ok(ps, g))
			return bad(ps, KWO_SEC_GLOBALS, i, "bad type or initializer");
	}
	return 0;
}

static int export_index_ok(const struct kwo_object *obj, __u32 kind,
			   __u32 index)
{
	switch (kind) {
	case KWO_EXPORT_FUNC:
		return index < obj->nall_funcs;
	case KWO_EXPORT_TABLE:
		return index < obj->ntables;
	case KWO_EXPORT_MEMORY:
		return index < obj->nmems;
	case KWO_EXPORT_GLOBAL:
		return index < obj->nglobals;
	}
	return 0;
}

static __u32 name_hash(const __u8 *p, __u32 len)
{
	__u32 h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/*
 * Export names are unique: an open-addressing hash set of export indices
 * (linear in the number of exports, as the object may hold millions).
 */
static int check_export_names(struct kwo_parse *ps)
{
	const struct kwo_object *obj = ps->obj;
	__u32 size = 16, mask, i, h, *slots;
	int err = 0;

	while (size < 2 * (__u64)obj->nexports)
		size *= 2;
	slots = kwo_plat_zalloc(size * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	mask = size - 1;
	for (i = 0; i < obj->nexports && !err; i++) {
		const struct kwo_export *x = &obj->exports[i];
		const __u8 *name = obj->blob + x->name_off;

		for (h = name_hash(name, x->name_len) & mask; slots[h];
		     h = (h + 1) & mask) {
			const struct kwo_export *y = &obj->exports[slots[h] - 1];

			if (y->name_len == x->name_len &&
			    !memcmp(obj->blob + y->name_off, name, x->name_len)) {
				err = bad(ps, KWO_SEC_EXPORTS, i,
					  "duplicate export name");
				break;
			}
		}
		slots[h] = i + 1;
	}
	kwo_plat_free(slots);
	return err;
}

static int decode_exports(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_EXPORTS];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->nexports = s->count;
	obj->exports = alloc_entries(s->count, sizeof(*obj->exports));
	if (!obj->exports)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 24 * (size_t)i;
		struct kwo_export *x = &obj->exports[i];

		x->kind = kwo_le32(e);
		x->index = kwo_le32(e + 4);
		x->name_off = kwo_le32(e + 8);
		x->name_len = kwo_le32(e + 12);
		x->tramp = kwo_le32(e + 16);
		if (!export_index_ok(obj, x->kind, x->index))
			return bad(ps, KWO_SEC_EXPORTS, i, "bad kind or index");
		if (!name_ok(ps, x->name_off, x->name_len))
			return bad(ps, KWO_SEC_EXPORTS, i,
				   "name out of bounds or not UTF-8");
		if (x->kind == KWO_EXPORT_FUNC ? x->tramp >= obj->code_len :
		    x->tramp != KWO_NONE)
			return bad(ps, KWO_SEC_EXPORTS, i, "bad trampoline");
		if (kwo_le32(e + 20))
			return bad(ps, KWO_SEC_EXPORTS, i, "reserved field not zero");
	}
	return check_export_names(ps);
}

static int decode_data(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_DATA];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->ndata = s->count;
	obj->data = alloc_entries(s->count, sizeof(*obj->data));
	if (!obj->data)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_data *d = &obj->data[i];

		d->flags = kwo_le32(e);
		d->offset = kwo_le32(e + 4);
		d->data_off = kwo_le32(e + 8);
		d->data_len = kwo_le32(e + 12);
		if (d->flags != KWO_SEG_ACTIVE && d->flags != KWO_SEG_PASSIVE)
			return bad(ps, KWO_SEC_DATA, i, "bad flags");
		if (d->flags == KWO_SEG_ACTIVE && !obj->nmems)
			return bad(ps, KWO_SEC_DATA, i, "active without a memory");
		if (d->flags == KWO_SEG_PASSIVE && d->offset)
			return bad(ps, KWO_SEC_DATA, i, "passive with an offset");
		if (!blob_ok(ps, d->data_off, d->data_len))
			return bad(ps, KWO_SEC_DATA, i, "bytes out of bounds");
	}
	return 0;
}

static int elem_items_ok(struct kwo_parse *ps, const struct kwo_elem *el)
{
	__u32 i, f;

	if (!blob_ok(ps, el->items, 4ull * el->count))
		return 0;
	for (i = 0; i < el->count; i++) {
		f = kwo_le32(ps->obj->blob + el->items + 4 * (size_t)i);
		if (f == KWO_NONE)
			continue;
		if (el->elem_type != KWO_VAL_FUNCREF ||
		    f >= ps->obj->nall_funcs)
			return 0;
	}
	return 1;
}

static int decode_elems(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_ELEMS];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->nelems = s->count;
	obj->elems = alloc_entries(s->count, sizeof(*obj->elems));
	if (!obj->elems)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 24 * (size_t)i;
		struct kwo_elem *el = &obj->elems[i];

		el->flags = kwo_le32(e);
		el->elem_type = kwo_le32(e + 4);
		el->table = kwo_le32(e + 8);
		el->offset = kwo_le32(e + 12);
		el->count = kwo_le32(e + 16);
		el->items = kwo_le32(e + 20);
		if (el->flags > KWO_SEG_DECLARATIVE ||
		    !reftype_ok(el->elem_type))
			return bad(ps, KWO_SEC_ELEMS, i, "bad flags or type");
		if (el->flags == KWO_SEG_ACTIVE &&
		    (el->table >= obj->ntables ||
		     obj->tables[el->table].elem_type != el->elem_type))
			return bad(ps, KWO_SEC_ELEMS, i, "bad table");
		if (el->flags != KWO_SEG_ACTIVE && (el->table || el->offset))
			return bad(ps, KWO_SEC_ELEMS, i,
				   "inactive with a table or offset");
		if (!elem_items_ok(ps, el))
			return bad(ps, KWO_SEC_ELEMS, i, "bad items");
	}
	return 0;
}

static int host_id_ok(__u32 id)
{
	return id < KWO_HOST_BUILTIN_COUNT ||
	       (id >= KWO_HOST_WASI_BASE && id < KWO_HOST_WASI_END);
}

static int decode_relocs(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_RELOCS];
	struct kwo_object *obj = ps->obj;
	__u32 want = obj->target == KWO_TARGET_X86_64 ?
		     KWO_RELOC_X86_CALL32 : KWO_RELOC_ARM64_CALL26;
	__u32 i;

	obj->nrelocs = s->count;
	obj->relocs = alloc_entries(s->count, sizeof(*obj->relocs));
	if (!obj->relocs)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_reloc *r = &obj->relocs[i];

		r->offset = kwo_le32(e);
		r->kind = kwo_le32(e + 4);
		r->host_id = kwo_le32(e + 8);
		r->addend = (__s32)kwo_le32(e + 12);
		if (r->kind != want)
			return bad(ps, KWO_SEC_RELOCS, i,
				   "relocation kind not for this target");
		if (!in_range(r->offset, 4, obj->code_len) ||
		    (want == KWO_RELOC_ARM64_CALL26 && (r->offset & 3)))
			return bad(ps, KWO_SEC_RELOCS, i, "offset out of bounds");
		if (!host_id_ok(r->host_id))
			return bad(ps, KWO_SEC_RELOCS, i, "unknown host function");
	}
	return 0;
}

static int decode_traps(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_TRAPS];
	struct kwo_object *obj = ps->obj;
	__u32 i;

	obj->ntraps = s->count;
	obj->traps = alloc_entries(s->count, sizeof(*obj->traps));
	if (!obj->traps)
		return -ENOMEM;
	for (i = 0; i < s->count; i++) {
		const __u8 *e = s->p + 16 * (size_t)i;
		struct kwo_trap_site *t = &obj->traps[i];

		t->code_off = kwo_le32(e);
		t->trap_code = kwo_le32(e + 4);
		t->func = kwo_le32(e + 8);
		t->wasm_off = kwo_le32(e + 12);
		if (t->code_off > obj->code_len)
			return bad(ps, KWO_SEC_TRAPS, i, "offset out of bounds");
		if (i && t->code_off <= obj->traps[i - 1].code_off)
			return bad(ps, KWO_SEC_TRAPS, i, "not sorted");
		if (t->trap_code >= KWO_TRAP_COUNT ||
		    t->func >= obj->nall_funcs)
			return bad(ps, KWO_SEC_TRAPS, i, "bad trap code or function");
	}
	return 0;
}

/* The first ADDRMAP entry out of CODE or out of order, with its error. */
static int addr_map_error(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_ADDRMAP];
	__u32 i, off, prev = 0;

	for (i = 0; i < s->count; i++) {
		off = kwo_le32(s->p + 8 * (size_t)i);
		if (off >= ps->obj->code_len)
			return bad(ps, KWO_SEC_ADDRMAP, i, "offset out of bounds");
		if (i && off <= prev)
			return bad(ps, KWO_SEC_ADDRMAP, i, "not sorted");
		prev = off;
	}
	return 0;
}

/*
 * Kept in place (read by backtraces only): sorted, every entry in CODE.
 * Strictly increasing offsets are all in CODE when the last one is, so one
 * branch-free pass decides; addr_map_error() names the entry when it fails.
 */
static int check_addr_map(struct kwo_parse *ps)
{
	struct kwo_sec *s = &ps->sec[KWO_SEC_ADDRMAP];
	struct kwo_object *obj = ps->obj;
	__u32 i, off, prev, unsorted = 0;

	if (s->count) {
		prev = kwo_le32(s->p);
		for (i = 1; i < s->count; i++) {
			off = kwo_le32(s->p + 8 * (size_t)i);
			unsorted |= off <= prev;
			prev = off;
		}
		if (unsorted || prev >= obj->code_len)
			return addr_map_error(ps);
	}
	obj->addr_map = s->p;
	obj->naddr_map = s->count;
	return 0;
}

static int check_start(struct kwo_parse *ps)
{
	struct kwo_object *obj = ps->obj;

	if (obj->start_func == KWO_NONE && obj->start_tramp == KWO_NONE)
		return 0;
	if (obj->start_func >= obj->nall_funcs ||
	    obj->start_tramp >= obj->code_len) {
		kwo_logf(ps->log, ps->log_len,
			 "header: start function %u / trampoline 0x%x out of range",
			 obj->start_func, obj->start_tramp);
		return -EINVAL;
	}
	return 0;
}

static int decode_all(struct kwo_parse *ps)
{
	static int (*const steps[])(struct kwo_parse *) = {
		decode_types, decode_imports, decode_funcs, decode_tables,
		decode_memory, decode_globals, decode_exports, decode_data,
		decode_elems, decode_relocs, decode_traps, check_addr_map,
		check_start,
	};
	unsigned int i;
	int err;

	/* Absent byte sections are empty but never NULL. */
	ps->obj->code = ps->sec[KWO_SEC_CODE].present ?
			ps->sec[KWO_SEC_CODE].p : ps->b;
	ps->obj->code_len = ps->sec[KWO_SEC_CODE].size;
	ps->obj->blob = ps->sec[KWO_SEC_BLOB].present ?
			ps->sec[KWO_SEC_BLOB].p : ps->b;
	ps->obj->blob_len = ps->sec[KWO_SEC_BLOB].size;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		err = steps[i](ps);
		if (err == -ENOMEM)
			kwo_logf(ps->log, ps->log_len, "out of memory");
		if (err)
			return err;
	}
	return 0;
}

/*
 * The CPU features objects for this machine need: the target's baseline
 * (obj_flags 0, checked before parsing), then the extensions the
 * object's flags ask for.
 */
static int check_cpu(char *log, size_t log_len, __u32 obj_flags)
{
	const char *missing = kwo_plat_cpu_missing(obj_flags);

	if (!missing)
		return 0;
	if (obj_flags & KWO_F_X86_BMI)
		kwo_logf(log, log_len,
			 "this CPU lacks %s, required by this object (compiled for x86_64 with BMI)",
			 missing);
	else
		kwo_logf(log, log_len, "this CPU lacks %s, required by %s objects",
			 missing, target_name(KWO_HOST_TARGET));
	return -ENOEXEC;
}

int kwo_object_load(const void *bytes, size_t len, struct kwo_object **out,
		    char *log, size_t log_len)
{
	struct kwo_parse ps = { .log = log, .log_len = log_len };
	struct kwo_object *obj;
	int err;

	*out = NULL;
	kwo_logf(log, log_len, "ok");
	if (len > KWO_MAX_OBJECT_LEN) {
		kwo_logf(log, log_len, "object too large: %zu bytes", len);
		return -EINVAL;
	}
	err = check_cpu(log, log_len, 0);
	if (err)
		return err;
	obj = kwo_plat_zalloc(sizeof(*obj));
	if (!obj)
		return -ENOMEM;
	obj->bytes = kwo_plat_zalloc(len ? len : 1);
	if (!obj->bytes) {
		kwo_plat_free(obj);
		return -ENOMEM;
	}
	/* Parse our own copy so the caller's buffer cannot change under us. */
	memcpy(obj->bytes, bytes, len);
	obj->len = len;
	ps.b = obj->bytes;
	ps.len = len;
	ps.obj = obj;
	err = check_header(&ps);
	if (!err)
		err = check_cpu(log, log_len, obj->flags);
	if (!err)
		err = check_sections(&ps);
	if (!err)
		err = decode_all(&ps);
	if (!err)
		err = kwo_symbols_init(obj);
	if (err) {
		kwo_object_free(obj);
		return err;
	}
	*out = obj;
	return 0;
}

void kwo_object_free(struct kwo_object *obj)
{
	if (!obj)
		return;
	kwo_plat_free(obj->types);
	kwo_plat_free(obj->imports);
	kwo_plat_free(obj->funcs);
	kwo_plat_free(obj->tables);
	kwo_plat_free(obj->globals);
	kwo_plat_free(obj->exports);
	kwo_plat_free(obj->data);
	kwo_plat_free(obj->elems);
	kwo_plat_free(obj->relocs);
	kwo_plat_free(obj->traps);
	kwo_plat_free(obj->tramp_syms);
	kwo_plat_free(obj->bytes);
	kwo_plat_free(obj);
}

const __u8 *kwo_type_vals(const struct kwo_object *obj, __u32 type)
{
	return obj->blob + obj->types[type].valtypes;
}

const struct kwo_type *kwo_func_type(const struct kwo_object *obj,
				     __u32 func)
{
	if (func < obj->nimports)
		return &obj->types[obj->imports[func].type];
	return &obj->types[obj->funcs[func - obj->nimports].type];
}

__u32 kwo_export_count(const struct kwo_object *obj)
{
	return obj->nexports;
}

int kwo_export_get(const struct kwo_object *obj, __u32 i,
		   struct kwo_export_info *info)
{
	const struct kwo_export *x;
	const struct kwo_type *t;

	if (i >= obj->nexports)
		return -ENOENT;
	x = &obj->exports[i];
	memset(info, 0, sizeof(*info));
	info->kind = x->kind;
	info->index = x->index;
	info->name = (const char *)obj->blob + x->name_off;
	info->name_len = x->name_len;
	if (x->kind != KWO_EXPORT_FUNC)
		return 0;
	t = kwo_func_type(obj, x->index);
	info->param_count = t->param_count;
	info->result_count = t->result_count;
	info->params = obj->blob + t->valtypes;
	info->results = info->params + t->param_count;
	return 0;
}

int kwo_export_find(const struct kwo_object *obj, const char *name,
		    size_t name_len, struct kwo_export_info *info)
{
	__u32 i;

	for (i = 0; i < obj->nexports; i++) {
		const struct kwo_export *x = &obj->exports[i];

		if (x->name_len == name_len &&
		    !memcmp(obj->blob + x->name_off, name, name_len)) {
			kwo_export_get(obj, i, info);
			return (int)i;
		}
	}
	return -ENOENT;
}

const char *kwo_func_name(const struct kwo_object *obj, __u32 func,
			  __u32 *len)
{
	const struct kwo_func *f;

	*len = 0;
	if (func < obj->nimports || func >= obj->nall_funcs)
		return NULL;
	f = &obj->funcs[func - obj->nimports];
	if (!f->name_len)
		return NULL;
	*len = f->name_len;
	return (const char *)obj->blob + f->name_off;
}

const char *kwo_trap_message(__u32 code)
{
	static const char *const msgs[KWO_TRAP_COUNT] = {
		[KWO_TRAP_NONE] = "no trap",
		[KWO_TRAP_UNREACHABLE] = "unreachable",
		[KWO_TRAP_INT_DIV_BY_ZERO] = "integer divide by zero",
		[KWO_TRAP_INT_OVERFLOW] = "integer overflow",
		[KWO_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
		[KWO_TRAP_MEMORY_OOB] = "out of bounds memory access",
		[KWO_TRAP_TABLE_OOB] = "out of bounds table access",
		[KWO_TRAP_UNDEFINED_ELEMENT] = "undefined element",
		[KWO_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
		[KWO_TRAP_SIGNATURE_MISMATCH] = "indirect call type mismatch",
		[KWO_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
		[KWO_TRAP_INTERRUPTED] = "interrupted",
		[KWO_TRAP_FUEL_EXHAUSTED] = "fuel exhausted",
		[KWO_TRAP_EXIT] = "exit",
	};

	return code < KWO_TRAP_COUNT ? msgs[code] : "unknown trap";
}
