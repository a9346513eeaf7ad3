// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Instantiation: vmctx, linear memory, tables, globals, funcrefs and the
 * code memory (CODE copied, veneers appended, relocations applied, then
 * sealed W^X through the platform), followed by the active segments and
 * the start function. Also the read-only accessors on an instance. Calls
 * into generated code go through invoke.c.
 */
#include "kwo_internal.h"

_Static_assert(__builtin_offsetof(struct kwo_vmctx, mem_base) == KWO_VMCTX_MEM_BASE, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, mem_size) == KWO_VMCTX_MEM_SIZE, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, stack_limit) == KWO_VMCTX_STACK_LIMIT, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, epoch_ptr) == KWO_VMCTX_EPOCH_PTR, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, epoch_deadline) == KWO_VMCTX_EPOCH_DEADLINE, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, fuel) == KWO_VMCTX_FUEL, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, funcrefs) == KWO_VMCTX_FUNCREFS, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, tables) == KWO_VMCTX_TABLES, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, globals) == KWO_VMCTX_GLOBALS, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_vmctx, instance) == KWO_VMCTX_INSTANCE, "vmctx");
_Static_assert(sizeof(struct kwo_vmctx) == KWO_VMCTX_SIZE, "vmctx");
_Static_assert(__builtin_offsetof(struct kwo_funcref, code) == KWO_FUNCREF_CODE, "funcref");
_Static_assert(__builtin_offsetof(struct kwo_funcref, sig_id) == KWO_FUNCREF_SIG_ID, "funcref");
_Static_assert(sizeof(struct kwo_funcref) == KWO_FUNCREF_SIZE, "funcref");
_Static_assert(__builtin_offsetof(struct kwo_vmtable, base) == KWO_VMTABLE_BASE, "vmtable");
_Static_assert(__builtin_offsetof(struct kwo_vmtable, len) == KWO_VMTABLE_LEN, "vmtable");
_Static_assert(sizeof(struct kwo_vmtable) == KWO_VMTABLE_SIZE, "vmtable");
_Static_assert(sizeof(struct kwo_header) == 64, "format");
_Static_assert(sizeof(struct kwo_section) == 16, "format");
_Static_assert(sizeof(struct kwo_type) == 16, "format");
_Static_assert(sizeof(struct kwo_import) == 16, "format");
_Static_assert(sizeof(struct kwo_func) == 32, "format");
_Static_assert(sizeof(struct kwo_table) == 16, "format");
_Static_assert(sizeof(struct kwo_memory) == 16, "format");
_Static_assert(sizeof(struct kwo_global) == 16, "format");
_Static_assert(sizeof(struct kwo_export) == 24, "format");
_Static_assert(sizeof(struct kwo_data) == 16, "format");
_Static_assert(sizeof(struct kwo_elem) == 24, "format");
_Static_assert(sizeof(struct kwo_reloc) == 16, "format");
_Static_assert(sizeof(struct kwo_trap_site) == 16, "format");
_Static_assert(sizeof(struct kwo_addr_map) == 8, "format");
/* Generated code finds the vmctx at the instance's start. */
_Static_assert(__builtin_offsetof(struct kwo_instance, vmctx) == 0, "instance");
_Static_assert(__builtin_offsetof(struct kwo_instance, wasm_fp) == KWO_INST_WASM_FP,
	       "instance");

/* mem_base when there is no memory: valid, never accessed (size 0). */
static __u8 kwo_empty_memory[16] __attribute__((aligned(16)));

void kwo_config_init(struct kwo_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_memory_pages = 16384;
	cfg->max_table_elems = 1000000;
	cfg->stack_budget = 512 * 1024;
	cfg->host_reserve = 8 * 1024;
}

void kwo_call_init(struct kwo_call *call)
{
	memset(call, 0, sizeof(*call));
	call->fuel = KWO_FUEL_UNLIMITED;
	call->func = KWO_NONE;
	call->wasm_off = KWO_NONE;
}

/* Copy n NUL-terminated strings into one NUL-separated buffer. */
static int copy_strings(const char *const *strs, __u32 n, char **buf,
			size_t *len)
{
	size_t total = 0, pos = 0, l;
	__u32 i;

	for (i = 0; i < n; i++)
		total += strlen(strs[i]) + 1;
	*buf = kwo_plat_zalloc(total ? total : 1);
	if (!*buf)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l = strlen(strs[i]) + 1;
		memcpy(*buf + pos, strs[i], l);
		pos += l;
	}
	*len = total;
	return 0;
}

static int setup_wasi(struct kwo_instance *inst, const struct kwo_config *cfg)
{
	int err;

	err = copy_strings(cfg->argv, cfg->argc, &inst->argbuf,
			   &inst->argbuf_len);
	if (err)
		return err;
	inst->argc = cfg->argc;
	err = copy_strings(cfg->envp, cfg->envc, &inst->envbuf,
			   &inst->envbuf_len);
	if (err)
		return err;
	inst->envc = cfg->envc;
	return 0;
}

static int setup_memory(struct kwo_instance *inst, const struct kwo_config *cfg,
			char *log, size_t log_len)
{
	const struct kwo_object *obj = inst->obj;
	__u64 size;
	__u32 max;
	int err;

	inst->vmctx.mem_base = (unsigned long)kwo_empty_memory;
	if (!obj->nmems)
		return 0;
	max = obj->memory.max_pages == KWO_NONE ? KWO_MAX_PAGES :
	      obj->memory.max_pages;
	if (max > cfg->max_memory_pages)
		max = cfg->max_memory_pages;
	if (obj->memory.min_pages > max) {
		kwo_logf(log, log_len,
			 "memory needs %u pages, the limit is %u",
			 obj->memory.min_pages, max);
		return -E2BIG;
	}
	inst->mem_max_pages = max;
	err = kwo_plat_mem_reserve((__u64)max * KWO_PAGE_SIZE, &inst->mem_res);
	if (err)
		return err;
	inst->mem = kwo_plat_mem_base(inst->mem_res);
	inst->vmctx.mem_base = (unsigned long)inst->mem;
	if (!obj->memory.min_pages)
		return 0;
	size = (__u64)obj->memory.min_pages * KWO_PAGE_SIZE;
	err = kwo_plat_mem_map(inst->mem_res, 0, size);
	if (err)
		return err;
	inst->mem_pages = obj->memory.min_pages;
	inst->vmctx.mem_size = size;
	return 0;
}

static int setup_tables(struct kwo_instance *inst, const struct kwo_config *cfg,
			char *log, size_t log_len)
{
	const struct kwo_object *obj = inst->obj;
	__u32 i, n = obj->ntables, max;
	__u64 total = 0;

	/* Bound the sum too: an object may declare thousands of tables. */
	for (i = 0; i < n; i++)
		total += obj->tables[i].min;
	if (total > cfg->max_table_elems) {
		kwo_logf(log, log_len,
			 "tables need %llu elements, the limit is %u",
			 (unsigned long long)total, cfg->max_table_elems);
		return -E2BIG;
	}
	inst->tables = kwo_plat_zalloc((n ? n : 1) * sizeof(*inst->tables));
	inst->table_max = kwo_plat_zalloc((n ? n : 1) * sizeof(__u32));
	if (!inst->tables || !inst->table_max)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct kwo_table *t = &obj->tables[i];
		void *base;

		max = t->max == KWO_NONE ? KWO_MAX_TABLE_ELEMS : t->max;
		if (max > cfg->max_table_elems)
			max = cfg->max_table_elems;
		if (t->min > max) {
			kwo_logf(log, log_len,
				 "table %u needs %u elements, the limit is %u",
				 i, t->min, max);
			return -E2BIG;
		}
		base = kwo_plat_zalloc((t->min ? t->min : 1) * sizeof(__u64));
		if (!base)
			return -ENOMEM;
		inst->tables[i].base = (unsigned long)base;
		inst->tables[i].len = t->min;
		inst->table_max[i] = max;
	}
	inst->vmctx.tables = (unsigned long)inst->tables;
	return 0;
}

__u64 kwo_funcref_value(struct kwo_instance *inst, __u32 func)
{
	return (unsigned long)&inst->funcrefs[func];
}

static int setup_globals(struct kwo_instance *inst)
{
	const struct kwo_object *obj = inst->obj;
	__u32 i;

	inst->globals = kwo_plat_zalloc((obj->nglobals ? obj->nglobals : 1) *
					sizeof(__u64));
	if (!inst->globals)
		return -ENOMEM;
	for (i = 0; i < obj->nglobals; i++) {
		const struct kwo_global *g = &obj->globals[i];

		if (g->init_kind == KWO_INIT_VALUE)
			inst->globals[i] = g->value;
		else if (g->init_kind == KWO_INIT_REF_FUNC)
			inst->globals[i] = kwo_funcref_value(inst, g->value);
	}
	inst->vmctx.globals = (unsigned long)inst->globals;
	return 0;
}

static __u8 *veneer_at(struct kwo_instance *inst, __u32 host_id)
{
	return inst->code + kwo_veneers_off(inst->obj) +
	       (size_t)host_id * KWO_VENEER_SIZE;
}

/* An absolute jump to target in 16 bytes, through x16 on aarch64. */
static void write_veneer(__u8 *v, unsigned long target)
{
#if defined(__x86_64__)
	static const __u8 jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };

	/* jmp *0(%rip) reads the 8 bytes right after the 6-byte insn. */
	memcpy(v, jmp, sizeof(jmp));
	kwo_st64(v + 6, target);
	v[14] = 0xcc;	/* int3 padding */
	v[15] = 0xcc;
#else
	kwo_st32(v, 0x58000050);	/* ldr x16, #8 */
	kwo_st32(v + 4, 0xd61f0200);	/* br x16 */
	kwo_st64(v + 8, target);
#endif
}

/* Patch one call: directly when in reach, else through the veneer. */
static int apply_reloc(struct kwo_instance *inst, const struct kwo_reloc *r)
{
	__u8 *p = inst->code + r->offset;
	long long s = (long long)(unsigned long)
		kwo_host_addr(r->host_id, inst->obj->flags);
	long long disp = s + r->addend - (long long)(unsigned long)p;

#if defined(__x86_64__)
	if (disp < -0x80000000ll || disp > 0x7fffffffll) {
		s = (long long)(unsigned long)veneer_at(inst, r->host_id);
		disp = s + r->addend - (long long)(unsigned long)p;
		if (disp < -0x80000000ll || disp > 0x7fffffffll)
			return -ERANGE;
	}
	kwo_st32(p, (__u32)disp);
#else
	if (disp < -(1ll << 27) || disp >= (1ll << 27) || (disp & 3)) {
		s = (long long)(unsigned long)veneer_at(inst, r->host_id);
		disp = s + r->addend - (long long)(unsigned long)p;
		if (disp < -(1ll << 27) || disp >= (1ll << 27) || (disp & 3))
			return -ERANGE;
	}
	/* Keep the BL opcode, replace imm26. */
	kwo_st32(p, (kwo_le32(p) & 0xfc000000u) |
		    ((__u32)(disp >> 2) & 0x03ffffffu));
#endif
	return 0;
}

static int setup_code(struct kwo_instance *inst, char *log, size_t log_len)
{
	const struct kwo_object *obj = inst->obj;
	__u32 id, i;
	int err;

	inst->code_size = kwo_veneers_off(obj) +
			  KWO_HOST_ID_COUNT * KWO_VENEER_SIZE;
	inst->code = kwo_plat_code_alloc(inst->code_size);
	if (!inst->code)
		return -ENOMEM;
	/* Each byte written once; not every platform's code memory is zeroed. */
	memcpy(inst->code, obj->code, obj->code_len);
	memset(inst->code + obj->code_len, 0, inst->code_size - obj->code_len);
	for (id = 0; id < KWO_HOST_ID_COUNT; id++)
		if (kwo_host_addr(id, obj->flags))
			write_veneer(veneer_at(inst, id),
				     (unsigned long)kwo_host_addr(id, obj->flags));
	for (i = 0; i < obj->nrelocs; i++) {
		err = apply_reloc(inst, &obj->relocs[i]);
		if (err) {
			kwo_logf(log, log_len,
				 "relocation %u at 0x%x: target out of range",
				 i, obj->relocs[i].offset);
			return err;
		}
	}
	err = kwo_plat_code_seal(inst->code, inst->code_size);
	if (err)
		kwo_logf(log, log_len, "cannot seal code memory (%d)", err);
	return err;
}

static int setup_funcrefs(struct kwo_instance *inst)
{
	const struct kwo_object *obj = inst->obj;
	__u32 i, n = obj->nall_funcs;

	inst->funcrefs = kwo_plat_zalloc((n ? n : 1) * sizeof(*inst->funcrefs));
	if (!inst->funcrefs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct kwo_funcref *f = &inst->funcrefs[i];

		f->sig_id = kwo_func_type(obj, i)->sig_id;
		if (i < obj->nimports)
			f->code = (unsigned long)
				  kwo_host_addr(obj->imports[i].host_id,
						obj->flags);
		else
			f->code = (unsigned long)inst->code +
				  obj->funcs[i - obj->nimports].code_off;
	}
	inst->vmctx.funcrefs = (unsigned long)inst->funcrefs;
	return 0;
}

int kwo_table_init_items(struct kwo_instance *inst, __u32 table, __u32 seg,
			 __u32 dst, __u32 src, __u32 len)
{
	const struct kwo_elem *el = &inst->obj->elems[seg];
	struct kwo_vmtable *t = &inst->tables[table];
	__u64 *base = (__u64 *)(unsigned long)t->base;
	__u32 count = inst->elem_dropped[seg] ? 0 : el->count, i, f;
	const __u8 *items = inst->obj->blob + el->items;

	if ((__u64)src + len > count || (__u64)dst + len > t->len)
		return -1;
	for (i = 0; i < len; i++) {
		f = kwo_le32(items + 4 * (size_t)(src + i));
		base[dst + i] = f == KWO_NONE ? 0 : kwo_funcref_value(inst, f);
	}
	return 0;
}

static void segment_trap(struct kwo_call *call, __u32 code)
{
	call->status = KWO_STATUS_TRAP;
	call->trap_code = code;
	call->func = KWO_NONE;
	call->wasm_off = KWO_NONE;
}

/* Elements first, then data, in order, as the spec instantiates. */
static int init_segments(struct kwo_instance *inst, struct kwo_call *call)
{
	const struct kwo_object *obj = inst->obj;
	__u32 i;

	for (i = 0; i < obj->nelems; i++) {
		const struct kwo_elem *el = &obj->elems[i];

		if (el->flags == KWO_SEG_ACTIVE &&
		    kwo_table_init_items(inst, el->table, i, el->offset, 0,
					 el->count)) {
			segment_trap(call, KWO_TRAP_TABLE_OOB);
			return KWO_TRAPPED;
		}
		if (el->flags != KWO_SEG_PASSIVE)
			inst->elem_dropped[i] = 1;
	}
	for (i = 0; i < obj->ndata; i++) {
		const struct kwo_data *d = &obj->data[i];

		if (d->flags != KWO_SEG_ACTIVE)
			continue;
		if ((__u64)d->offset + d->data_len > inst->vmctx.mem_size) {
			segment_trap(call, KWO_TRAP_MEMORY_OOB);
			return KWO_TRAPPED;
		}
		memcpy(inst->mem + d->offset, obj->blob + d->data_off,
		       d->data_len);
		inst->data_dropped[i] = 1;
	}
	return 0;
}

static int run_start(struct kwo_instance *inst, struct kwo_call *call)
{
	__u64 vals[1] = { 0 };

	if (inst->obj->start_tramp == KWO_NONE)
		return 0;
	kwo_run(inst, inst->code + inst->obj->start_tramp, vals, call);
	return call->status == KWO_STATUS_OK ? 0 : KWO_TRAPPED;
}

static int instance_setup(struct kwo_instance *inst,
			  const struct kwo_config *cfg, char *log,
			  size_t log_len)
{
	const struct kwo_object *obj = inst->obj;
	__u64 need = kwo_stack_need(obj, cfg->host_reserve);
	int err;

	/* First: from here on the instance owns the files, even on error. */
	err = kwo_fd_table_init(&inst->fds, cfg->files, cfg->preopens,
				cfg->nfiles);
	if (err == -EMFILE)
		kwo_logf(log, log_len, "%u descriptors given, over the limit of %u",
			 cfg->nfiles, KWO_FD_LIMIT);
	if (err)
		return err;
	if (need > cfg->stack_budget) {
		kwo_logf(log, log_len,
			 "a call needs %llu bytes of stack (%s %u bytes + host reserve %llu), over the stack budget of %llu",
			 (unsigned long long)need,
			 obj->stack_bound ? "static bound" :
					    "2 x largest frame",
			 obj->stack_bound ? obj->stack_bound : obj->max_frame,
			 (unsigned long long)cfg->host_reserve,
			 (unsigned long long)cfg->stack_budget);
		return -E2BIG;
	}
	inst->stack_budget = cfg->stack_budget;
	inst->host_reserve = cfg->host_reserve;
	inst->vmctx.epoch_ptr = (unsigned long)kwo_plat_epoch();
	inst->vmctx.instance = (unsigned long)inst;
	inst->data_dropped = kwo_plat_zalloc(obj->ndata + 1);
	inst->elem_dropped = kwo_plat_zalloc(obj->nelems + 1);
	if (!inst->data_dropped || !inst->elem_dropped)
		return -ENOMEM;
	err = setup_wasi(inst, cfg);
	if (!err)
		err = setup_memory(inst, cfg, log, log_len);
	if (!err)
		err = setup_tables(inst, cfg, log, log_len);
	if (!err)
		err = setup_code(inst, log, log_len);
	if (!err)
		err = setup_funcrefs(inst);
	if (!err)
		err = setup_globals(inst);
	if (err == -ENOMEM)
		kwo_logf(log, log_len, "out of memory");
	if (err == -EMFILE) {
		kwo_logf(log, log_len,
			 "no address space reserved for the linear memory: too many memories exist");
		err = -ENOMEM;
	}
	return err;
}

int kwo_instance_new(const struct kwo_object *obj,
		     const struct kwo_config *cfg, struct kwo_call *call,
		     struct kwo_instance **out, char *log, size_t log_len)
{
	struct kwo_instance *inst;
	int err;

	*out = NULL;
	kwo_logf(log, log_len, "ok");
	call->status = KWO_STATUS_OK;
	inst = kwo_plat_zalloc(sizeof(*inst));
	if (!inst) {
		kwo_fd_files_close(cfg->files, cfg->nfiles);
		kwo_logf(log, log_len, "out of memory");
		return -ENOMEM;
	}
	inst->obj = obj;
	err = instance_setup(inst, cfg, log, log_len);
	if (!err)
		err = init_segments(inst, call);
	if (!err)
		err = run_start(inst, call);
	if (err) {
		if (err == KWO_TRAPPED)
			kwo_logf(log, log_len, "instantiation trapped: %s",
				 kwo_trap_message(call->trap_code));
		kwo_instance_free(inst);
		return err;
	}
	*out = inst;
	return 0;
}

void kwo_instance_free(struct kwo_instance *inst)
{
	__u32 i;

	if (!inst)
		return;
	if (inst->tables)
		for (i = 0; i < inst->obj->ntables; i++)
			kwo_plat_free((void *)(unsigned long)inst->tables[i].base);
	kwo_plat_free(inst->tables);
	kwo_plat_free(inst->table_max);
	kwo_plat_mem_free(inst->mem_res);
	kwo_plat_free(inst->globals);
	kwo_plat_free(inst->funcrefs);
	if (inst->code)
		kwo_plat_code_free(inst->code, inst->code_size);
	kwo_plat_free(inst->data_dropped);
	kwo_plat_free(inst->elem_dropped);
	kwo_fd_table_close_all(&inst->fds);
	kwo_plat_free(inst->argbuf);
	kwo_plat_free(inst->envbuf);
	kwo_plat_free(inst);
}

const struct kwo_object *kwo_instance_object(const struct kwo_instance *inst)
{
	return inst->obj;
}

int kwo_global_get(const struct kwo_instance *inst, __u32 global,
		   __u64 *value, __u8 *type)
{
	if (global >= inst->obj->nglobals)
		return -ENOENT;
	*value = inst->globals[global];
	*type = inst->obj->globals[global].type;
	return 0;
}

void kwo_memory_get(const struct kwo_instance *inst, __u8 **base,
		    __u64 *size)
{
	*base = inst->mem;
	*size = inst->vmctx.mem_size;
}
