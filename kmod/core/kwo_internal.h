/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * Private to the core: the parsed object, the instance, the entry stubs and
 * helpers shared between object.c, instance.c, invoke.c, builtins.c,
 * wasi.c and wasi_fd.c. Neither the glue nor generated code sees these definitions.
 */
#ifndef KWO_INTERNAL_H
#define KWO_INTERNAL_H

#include "kwo_core.h"
#include "wasi_fd.h"

/*
 * arm64 kernels with pointer authentication redefine
 * __builtin_return_address() to strip the PAC, using vabits_actual.
 */
#if defined(__KERNEL__) && defined(__aarch64__)
#include <asm/memory.h>
#endif

#if defined(__x86_64__)
#define KWO_HOST_TARGET		KWO_TARGET_X86_64
#elif defined(__aarch64__)
#define KWO_HOST_TARGET		KWO_TARGET_AARCH64
#else
#error "kwo: unsupported architecture"
#endif

#define KWO_PAGE_SIZE		65536u
#define KWO_HOST_ID_COUNT	KWO_HOST_WASI_END	/* ids 0 .. KWO_HOST_WASI_END - 1 */
#define KWO_VENEER_SIZE		16u

/* A validated object, decoded into native structs. */
struct kwo_object {
	__u32 target;
	__u32 flags;
	__u32 max_frame;
	__u32 stack_bound;	/* 0: recursive, functions check the limit */
	__u32 start_func;
	__u32 start_tramp;
	__u32 code_len;
	__u32 blob_len;
	__u32 ntypes, nimports, nfuncs, ntables, nmems, nglobals;
	__u32 nexports, ndata, nelems, nrelocs, ntraps;
	__u32 nall_funcs;		/* imports + defined functions */
	const __u8 *code;		/* points into bytes */
	const __u8 *blob;		/* points into bytes */
	struct kwo_type *types;
	struct kwo_import *imports;
	struct kwo_func *funcs;
	struct kwo_table *tables;
	struct kwo_memory memory;	/* valid if nmems = 1 */
	struct kwo_global *globals;
	struct kwo_export *exports;
	struct kwo_data *data;
	struct kwo_elem *elems;
	struct kwo_reloc *relocs;
	struct kwo_trap_site *traps;
	struct kwo_tramp_sym *tramp_syms;	/* symbols.c: sorted, distinct */
	__u32 ntramp_syms;
	const __u8 *addr_map;		/* ADDRMAP entries, in bytes; validated */
	__u32 naddr_map;
	__u8 *bytes;			/* private copy of the object */
	size_t len;
};

/*
 * Callee-saved state of kwo_arch_enter(); see arch/ (x86_64 uses 7 slots,
 * aarch64 all 24).
 */
struct kwo_jmpbuf {
	__u64 regs[24];
};

/*
 * Functions that unwind instead of returning. Not declared noreturn in the
 * kernel: objtool cannot see that an assembly function never returns and
 * would flag every caller that ends in a call to it.
 */
#ifdef __KERNEL__
#define KWO_NORETURN
#else
#define KWO_NORETURN		__attribute__((noreturn))
#endif

/* kwo_arch_enter flags: the object uses FP (set Wasm's FP control word). */
#define KWO_ENTER_FP		1ul
int kwo_arch_enter(struct kwo_jmpbuf *jb, struct kwo_vmctx *vmctx,
		   void *tramp, __u64 *vals, unsigned long flags);
void kwo_arch_unwind(struct kwo_jmpbuf *jb, int code) KWO_NORETURN;
/* aarch64: save/restore d8-d15 around an FPU pause (no-ops on x86_64). */
void kwo_arch_fp_save(__u64 *buf);
void kwo_arch_fp_restore(const __u64 *buf);

struct kwo_instance {
	struct kwo_vmctx vmctx;		/* first: generated code's view */
	/*
	 * Generated code's frame pointer at its latest call of a host
	 * function that may trap, stored by that function's arch/ shim at
	 * KWO_INST_WASM_FP from the vmctx pointer: where a backtrace starts.
	 */
	unsigned long wasm_fp;
	const struct kwo_object *obj;
	struct kwo_plat_mem *mem_res;	/* the reservation; NULL: no memory */
	__u8 *mem;			/* its base, which never moves */
	__u32 mem_pages;
	__u32 mem_max_pages;		/* object max capped by the config */
	struct kwo_vmtable *tables;
	__u32 *table_max;		/* per table, capped by the config */
	__u64 *globals;
	struct kwo_funcref *funcrefs;
	__u8 *code;			/* CODE + veneers, sealed */
	size_t code_size;
	__u8 *data_dropped;		/* per data segment */
	__u8 *elem_dropped;		/* per elem segment */
	__u64 stack_budget;
	__u64 host_reserve;
	/* WASI state */
	struct kwo_fd_table fds;
	char *argbuf;			/* argv strings, NUL-separated */
	size_t argbuf_len;
	__u32 argc;
	char *envbuf;
	size_t envbuf_len;
	__u32 envc;
	/* state of the running call */
	int busy;
	int fpu_on;
	struct kwo_plat_fpu fpu;	/* the open FPU section's (calls are serialized) */
	int fuel_limited;
	__u64 epoch_deadline;		/* next reschedule, in epoch ticks */
	__u64 deadline_ns;		/* 0: no time budget */
	__u32 trap_func;
	__u32 trap_wasm_off;
	__s32 exit_code;
	__u32 write_errno;		/* first failed fd_write of the call */
	struct kwo_call *call;		/* the running call's report */
	struct kwo_jmpbuf jb;
};

/* Offset of kwo_instance.wasm_fp, which the arch/ shims hard-code. */
#define KWO_INST_WASM_FP	KWO_VMCTX_SIZE

static inline struct kwo_instance *kwo_inst(struct kwo_vmctx *vmctx)
{
	return (struct kwo_instance *)(unsigned long)vmctx->instance;
}

/* Explicit little-endian loads from untrusted bytes. */
static inline __u32 kwo_le32(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

static inline __u64 kwo_le64(const __u8 *p)
{
	return (__u64)kwo_le32(p) | (__u64)kwo_le32(p + 4) << 32;
}

static inline void kwo_st32(__u8 *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void kwo_st64(__u8 *p, __u64 v)
{
	kwo_st32(p, (__u32)v);
	kwo_st32(p + 4, (__u32)(v >> 32));
}

/* util.c: a tiny snprintf (%s %u %d %x %llu %llx). */
void kwo_logf(char *log, size_t log_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* object.c */
const __u8 *kwo_type_vals(const struct kwo_object *obj, __u32 type);
const struct kwo_type *kwo_func_type(const struct kwo_object *obj,
				     __u32 func);

/* builtins.c: host function table, indexed by KWO_HOST_* id. */
void *kwo_host_addr(__u32 host_id, __u32 obj_flags);
void kwo_host_yield(struct kwo_vmctx *vmctx, unsigned long ra);
/*
 * Gives up the CPU if another task wants it (with the FPU section paused),
 * then traps with "interrupted" at ra, an address in generated code, on a
 * fatal signal or an exhausted time budget.
 */
void kwo_resched_or_interrupt(struct kwo_instance *inst, unsigned long ra);
/*
 * Generated code calls YIELD with Cranelift's preserve_all convention; these
 * arch/ shims save what the C function may clobber (with _fp, the FP/SIMD
 * registers too: only inside an FPU section) and call kwo_host_yield.
 */
void kwo_yield_gpr(struct kwo_vmctx *vmctx);
void kwo_yield_fp(struct kwo_vmctx *vmctx);
/*
 * The trap path: record where (from a return address ra in generated code
 * and, if known, the frame pointer fp generated code had when it made that
 * call; 0 reports only the trapping function) and unwind.
 */
void kwo_raise_fp(struct kwo_instance *inst, __u32 code, unsigned long ra,
		  unsigned long fp) KWO_NORETURN;
void kwo_raise(struct kwo_instance *inst, __u32 code, unsigned long ra)
	KWO_NORETURN;
/*
 * Host functions that may trap, entered through an arch/ shim
 * (kwo_shim_*) that first stores generated code's frame pointer in
 * kwo_instance.wasm_fp.
 */
void kwo_host_trap(struct kwo_vmctx *vmctx, __u32 code);
void kwo_host_memory_fill(struct kwo_vmctx *vmctx, __u32 dst, __u32 val,
			  __u32 len);
void kwo_host_memory_copy(struct kwo_vmctx *vmctx, __u32 dst, __u32 src,
			  __u32 len);
void kwo_host_memory_init(struct kwo_vmctx *vmctx, __u32 seg, __u32 dst,
			  __u32 src, __u32 len);
void kwo_host_table_fill(struct kwo_vmctx *vmctx, __u32 table, __u32 dst,
			 __u64 val, __u32 len);
void kwo_host_table_copy(struct kwo_vmctx *vmctx, __u32 dst_tab,
			 __u32 src_tab, __u32 dst, __u32 src, __u32 len);
void kwo_host_table_init(struct kwo_vmctx *vmctx, __u32 table, __u32 seg,
			 __u32 dst, __u32 src, __u32 len);
void kwo_shim_trap(void);
void kwo_shim_memory_fill(void);
void kwo_shim_memory_copy(void);
void kwo_shim_memory_init(void);
void kwo_shim_table_fill(void);
void kwo_shim_table_copy(void);
void kwo_shim_table_init(void);

/*
 * backtrace.c: the wasm function whose code holds the call returning to
 * CODE offset ret_off (KWO_NONE: none, e.g. a trampoline), and the trap's
 * backtrace into inst->call, walked from fp (see docs/abi.md).
 */
__u32 kwo_func_of_return(const struct kwo_object *obj, __u32 ret_off);
void kwo_backtrace(struct kwo_instance *inst, unsigned long fp);
/*
 * Bracket host work that may sleep: end the FPU section (saving d8-d15 on
 * aarch64, which generated code may keep live across the call) and
 * restart it. pause returns whether resume has anything to do.
 */
#define KWO_FP_SAVE_SLOTS	8
int kwo_fpu_pause(struct kwo_instance *inst, __u64 *fp_save);
void kwo_fpu_resume(struct kwo_instance *inst, const __u64 *fp_save,
		    int paused);
/* Grow a zeroed buffer from old to new bytes (copy + free): NULL on failure. */
void *kwo_realloc_zero(void *old, size_t old_size, size_t new_size);

/* instance.c */
int kwo_table_init_items(struct kwo_instance *inst, __u32 table, __u32 seg,
			 __u32 dst, __u32 src, __u32 len);
__u64 kwo_funcref_value(struct kwo_instance *inst, __u32 func);

/* invoke.c: run a trampoline with the call budgets, fill in *call. */
/*
 * Stack below its entry a call needs before its code can check anything: the
 * static bound, or (recursive object) two of its largest frames, plus the
 * host function reserve.
 */
__u64 kwo_stack_need(const struct kwo_object *obj, __u64 host_reserve);
void kwo_run(struct kwo_instance *inst, void *tramp, __u64 *vals,
	     struct kwo_call *call);

/* wasi.c */
void *kwo_wasi_addr(__u32 host_id);

/* symbols.c: the trampoline table of kwo_symbol_get(), built at load. */
int kwo_symbols_init(struct kwo_object *obj);

/* CODE offset of the veneers, which follow CODE in an instance's code. */
static inline size_t kwo_veneers_off(const struct kwo_object *obj)
{
	return ((size_t)obj->code_len + 15) & ~(size_t)15;
}

#endif /* KWO_INTERNAL_H */
