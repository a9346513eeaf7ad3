// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Host functions called by generated code (KWO_HOST_* in kwo_abi.h) and the
 * trap path. Each host function that can trap reads its own return address,
 * which lies in the generated code, to find the trap site; so these are
 * only ever called from generated code (directly or through a veneer,
 * which does not push a frame; the builtins that trap through their
 * arch/ shim, which tail-calls them), never from C. Bounds are checked with
 * 64-bit arithmetic on 32-bit wasm operands, so they cannot overflow.
 */
#include "kwo_internal.h"

#define KWO_RA()	((unsigned long)__builtin_return_address(0))

/*
 * In a host function entered through its kwo_shim_*: trap at the call site,
 * with a backtrace from the frame pointer the shim saw.
 */
#define KWO_TRAP_HERE(inst, code) \
	kwo_raise_fp(inst, code, KWO_RA(), (inst)->wasm_fp)

static const struct kwo_trap_site *find_site(const struct kwo_object *obj,
					     __u32 off)
{
	__u32 lo = 0, hi = obj->ntraps, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (obj->traps[mid].code_off == off)
			return &obj->traps[mid];
		if (obj->traps[mid].code_off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void kwo_raise_fp(struct kwo_instance *inst, __u32 code, unsigned long ra,
		  unsigned long fp)
{
	const struct kwo_object *obj = inst->obj;
	unsigned long base = (unsigned long)inst->code;
	const struct kwo_trap_site *site = NULL;

	if (ra > base && ra - base <= obj->code_len) {
		site = find_site(obj, (__u32)(ra - base));
		inst->trap_func = site ? site->func :
				  kwo_func_of_return(obj, (__u32)(ra - base));
		if (site)
			inst->trap_wasm_off = site->wasm_off;
	}
	if (code == KWO_TRAP_NONE && site)
		code = site->trap_code;
	if (code == KWO_TRAP_NONE || code >= KWO_TRAP_COUNT)
		code = KWO_TRAP_UNREACHABLE;
	kwo_backtrace(inst, fp);
	kwo_arch_unwind(&inst->jb, (int)code);
}

void kwo_raise(struct kwo_instance *inst, __u32 code, unsigned long ra)
{
	kwo_raise_fp(inst, code, ra, 0);
}

int kwo_fpu_pause(struct kwo_instance *inst, __u64 *fp_save)
{
	if (!inst->fpu_on)
		return 0;
	kwo_arch_fp_save(fp_save);
	inst->fpu_on = 0;
	kwo_plat_fpu_end(&inst->fpu);
	return 1;
}

void kwo_fpu_resume(struct kwo_instance *inst, const __u64 *fp_save,
		    int paused)
{
	if (!paused)
		return;
	kwo_plat_fpu_begin(&inst->fpu);
	inst->fpu_on = 1;
	kwo_arch_fp_restore(fp_save);
}

void *kwo_realloc_zero(void *old, size_t old_size, size_t new_size)
{
	void *p = kwo_plat_zalloc(new_size);

	if (!p)
		return NULL;
	if (old_size)
		memcpy(p, old, old_size);
	kwo_plat_free(old);
	return p;
}

void kwo_host_trap(struct kwo_vmctx *vmctx, __u32 code)
{
	KWO_TRAP_HERE(kwo_inst(vmctx), code);
}

static void resched_or_interrupt(struct kwo_instance *inst, unsigned long ra,
				 unsigned long fp)
{
	kwo_plat_resched();
	if (kwo_plat_should_stop() ||
	    (inst->deadline_ns &&
	     kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC) >= inst->deadline_ns))
		kwo_raise_fp(inst, KWO_TRAP_INTERRUPTED, ra, fp);
}

void kwo_resched_or_interrupt(struct kwo_instance *inst, unsigned long ra)
{
	resched_or_interrupt(inst, ra, 0);
}

/*
 * ra: the return address in generated code (the shim passes it on, and
 * stores the frame pointer in inst->wasm_fp).
 */
void kwo_host_yield(struct kwo_vmctx *vmctx, unsigned long ra)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused;

	/*
	 * With a fuel budget the code's deadline stays 0, so every checkpoint
	 * lands here and is counted; the hot path of unbudgeted code is then
	 * only the epoch comparison.
	 */
	if (inst->fuel_limited) {
		if (--vmctx->fuel < 0)
			kwo_raise_fp(inst, KWO_TRAP_FUEL_EXHAUSTED, ra,
				     inst->wasm_fp);
		if (*kwo_plat_epoch() < inst->epoch_deadline)
			return;
	}
	paused = kwo_fpu_pause(inst, fp);
	resched_or_interrupt(inst, ra, inst->wasm_fp);
	kwo_fpu_resume(inst, fp, paused);
	inst->epoch_deadline = *kwo_plat_epoch() + 1;
	vmctx->epoch_deadline = inst->fuel_limited ? 0 : inst->epoch_deadline;
}

static __u32 host_memory_grow(struct kwo_vmctx *vmctx, __u32 delta)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 old = inst->mem_pages, pages = old + delta;
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, err;

	if (!inst->obj->nmems || pages > inst->mem_max_pages)
		return 0xffffffffu;
	if (!delta)
		return (__u32)old;
	/* In place: the base, which generated code keeps, never moves. */
	paused = kwo_fpu_pause(inst, fp);
	err = kwo_plat_mem_map(inst->mem_res, old * KWO_PAGE_SIZE,
			       pages * KWO_PAGE_SIZE);
	kwo_fpu_resume(inst, fp, paused);
	if (err)
		return 0xffffffffu;
	inst->mem_pages = (__u32)pages;
	vmctx->mem_size = pages * KWO_PAGE_SIZE;
	return (__u32)old;
}

/*
 * A memory.fill or memory.copy may touch 4 GiB (about 0.4 s): more than
 * KWO_BULK_CHUNK bytes go in pieces of that size with the FPU section
 * closed and a reschedule point after each, so that the stretch without
 * preemption (a section disables it on x86) stays at one piece, about
 * 0.1 ms, also on PREEMPT_RT. Bounds are checked before the first byte.
 */
#define KWO_BULK_CHUNK	(1u << 20)

static __u32 bulk_piece(__u32 left)
{
	return left < KWO_BULK_CHUNK ? left : KWO_BULK_CHUNK;
}

void kwo_host_memory_fill(struct kwo_vmctx *vmctx, __u32 dst, __u32 val,
			  __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u32 off, n;
	int paused;

	if ((__u64)dst + len > vmctx->mem_size)
		KWO_TRAP_HERE(inst, KWO_TRAP_MEMORY_OOB);
	if (len <= KWO_BULK_CHUNK) {
		memset(inst->mem + dst, (int)(val & 0xff), len);
		return;
	}
	paused = kwo_fpu_pause(inst, fp);
	for (off = 0; off < len; off += n) {
		n = bulk_piece(len - off);
		memset(inst->mem + dst + off, (int)(val & 0xff), n);
		kwo_plat_resched();
	}
	kwo_fpu_resume(inst, fp, paused);
}

/*
 * In pieces, overlapping ranges too: moving down, front to back (a piece
 * only overwrites bytes before the source bytes still to be read); moving
 * up, back to front.
 */
void kwo_host_memory_copy(struct kwo_vmctx *vmctx, __u32 dst, __u32 src,
			  __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u32 off, n;
	int paused;

	if ((__u64)dst + len > vmctx->mem_size ||
	    (__u64)src + len > vmctx->mem_size)
		KWO_TRAP_HERE(inst, KWO_TRAP_MEMORY_OOB);
	if (len <= KWO_BULK_CHUNK) {
		memmove(inst->mem + dst, inst->mem + src, len);
		return;
	}
	paused = kwo_fpu_pause(inst, fp);
	if (dst <= src) {
		for (off = 0; off < len; off += n) {
			n = bulk_piece(len - off);
			memmove(inst->mem + dst + off, inst->mem + src + off, n);
			kwo_plat_resched();
		}
	} else {
		for (off = len; off > 0; off -= n) {
			n = bulk_piece(off);
			memmove(inst->mem + dst + off - n,
				inst->mem + src + off - n, n);
			kwo_plat_resched();
		}
	}
	kwo_fpu_resume(inst, fp, paused);
}

void kwo_host_memory_init(struct kwo_vmctx *vmctx, __u32 seg, __u32 dst,
			  __u32 src, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	const struct kwo_data *d;
	__u32 seg_len;

	if (seg >= inst->obj->ndata)
		KWO_TRAP_HERE(inst, KWO_TRAP_MEMORY_OOB);
	d = &inst->obj->data[seg];
	seg_len = inst->data_dropped[seg] ? 0 : d->data_len;
	if ((__u64)src + len > seg_len || (__u64)dst + len > vmctx->mem_size)
		KWO_TRAP_HERE(inst, KWO_TRAP_MEMORY_OOB);
	if (len)
		memcpy(inst->mem + dst, inst->obj->blob + d->data_off + src,
		       len);
}

static void host_data_drop(struct kwo_vmctx *vmctx, __u32 seg)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	if (seg < inst->obj->ndata)
		inst->data_dropped[seg] = 1;
}

static __u32 host_table_grow(struct kwo_vmctx *vmctx, __u32 table, __u64 init,
			     __u32 delta)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	struct kwo_vmtable *t;
	__u64 old, len, i, *base;
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused;

	if (table >= inst->obj->ntables)
		return 0xffffffffu;
	t = &inst->tables[table];
	old = t->len;
	len = old + delta;
	if (len > inst->table_max[table])
		return 0xffffffffu;
	if (!delta)
		return (__u32)old;
	paused = kwo_fpu_pause(inst, fp);
	base = kwo_realloc_zero((void *)(unsigned long)t->base,
				(old ? old : 1) * sizeof(__u64),
				len * sizeof(__u64));
	kwo_fpu_resume(inst, fp, paused);
	if (!base)
		return 0xffffffffu;
	for (i = old; i < len; i++)
		base[i] = init;
	t->base = (unsigned long)base;
	t->len = len;
	return (__u32)old;
}

void kwo_host_table_fill(struct kwo_vmctx *vmctx, __u32 table, __u32 dst,
			 __u64 val, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	struct kwo_vmtable *t;
	__u64 *base;
	__u32 i;

	if (table >= inst->obj->ntables)
		KWO_TRAP_HERE(inst, KWO_TRAP_TABLE_OOB);
	t = &inst->tables[table];
	if ((__u64)dst + len > t->len)
		KWO_TRAP_HERE(inst, KWO_TRAP_TABLE_OOB);
	base = (__u64 *)(unsigned long)t->base;
	for (i = 0; i < len; i++)
		base[dst + i] = val;
}

void kwo_host_table_copy(struct kwo_vmctx *vmctx, __u32 dst_tab,
			 __u32 src_tab, __u32 dst, __u32 src, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	struct kwo_vmtable *d, *s;

	if (dst_tab >= inst->obj->ntables || src_tab >= inst->obj->ntables)
		KWO_TRAP_HERE(inst, KWO_TRAP_TABLE_OOB);
	d = &inst->tables[dst_tab];
	s = &inst->tables[src_tab];
	if ((__u64)dst + len > d->len || (__u64)src + len > s->len)
		KWO_TRAP_HERE(inst, KWO_TRAP_TABLE_OOB);
	if (len)
		memmove((__u64 *)(unsigned long)d->base + dst,
			(__u64 *)(unsigned long)s->base + src,
			(size_t)len * sizeof(__u64));
}

void kwo_host_table_init(struct kwo_vmctx *vmctx, __u32 table, __u32 seg,
			 __u32 dst, __u32 src, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	if (table >= inst->obj->ntables || seg >= inst->obj->nelems ||
	    kwo_table_init_items(inst, table, seg, dst, src, len))
		KWO_TRAP_HERE(inst, KWO_TRAP_TABLE_OOB);
}

static void host_elem_drop(struct kwo_vmctx *vmctx, __u32 seg)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	if (seg < inst->obj->nelems)
		inst->elem_dropped[seg] = 1;
}

/* spectest.print*: accepts any arguments (caller-cleaned ABIs). */
static void host_spectest_print(void)
{
}

/* WASI preview1 errno "function not supported". */
#define KWO_WASI_ENOSYS 52

/*
 * A WASI function kwo does not provide, linked only when the user asked for
 * stubs (kwo run --allow-missing-imports): the verifier binds it only to
 * imports whose preview1 signature returns an errno, so the program sees
 * the call fail with ENOSYS. Accepts any arguments (caller-cleaned ABIs).
 */
static __u32 host_enosys_stub(void)
{
	return KWO_WASI_ENOSYS;
}

void *kwo_host_addr(__u32 host_id, __u32 obj_flags)
{
	static void *const builtins[KWO_HOST_BUILTIN_COUNT] = {
		[KWO_HOST_TRAP] = (void *)kwo_shim_trap,
		[KWO_HOST_MEMORY_GROW] = (void *)host_memory_grow,
		[KWO_HOST_MEMORY_FILL] = (void *)kwo_shim_memory_fill,
		[KWO_HOST_MEMORY_COPY] = (void *)kwo_shim_memory_copy,
		[KWO_HOST_MEMORY_INIT] = (void *)kwo_shim_memory_init,
		[KWO_HOST_DATA_DROP] = (void *)host_data_drop,
		[KWO_HOST_TABLE_GROW] = (void *)host_table_grow,
		[KWO_HOST_TABLE_FILL] = (void *)kwo_shim_table_fill,
		[KWO_HOST_TABLE_COPY] = (void *)kwo_shim_table_copy,
		[KWO_HOST_TABLE_INIT] = (void *)kwo_shim_table_init,
		[KWO_HOST_ELEM_DROP] = (void *)host_elem_drop,
		[KWO_HOST_SPECTEST_PRINT] = (void *)host_spectest_print,
		[KWO_HOST_ENOSYS_STUB] = (void *)host_enosys_stub,
	};

	if (host_id == KWO_HOST_YIELD)
		return obj_flags & KWO_F_USES_FP ? (void *)kwo_yield_fp :
						   (void *)kwo_yield_gpr;
	if (host_id < KWO_HOST_BUILTIN_COUNT)
		return builtins[host_id];
	return kwo_wasi_addr(host_id);
}
