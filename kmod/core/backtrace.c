// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * A trap's backtrace: the chain of wasm frames from the trapping function
 * out to the trampoline, walked over the frame pointers generated code keeps
 * (Cranelift's preserve_frame_pointers: [fp] is the caller's fp, [fp + 8]
 * the return address, on x86_64 and aarch64 alike). Each return address
 * names a function (FUNCS ranges) and a .wasm offset (the ADDRMAP section).
 *
 * The chain lives on the stack the call runs on, which in the kernel is
 * the task stack: every fp is checked to lie between the walker's own
 * frame and the entry stub's frame, aligned and strictly increasing, and
 * every return address to lie in the instance's code, before anything is
 * read through it. A chain that breaks any rule ends the walk; it is never
 * followed. docs/abi.md, "Backtraces", has the rules.
 */
#include "kwo_internal.h"

/* The entry stub's frame in its jmpbuf (see arch/): the walk's upper end. */
#if defined(__x86_64__)
#define KWO_JB_ENTRY_FRAME	5	/* rbp after the stub's push */
#else
#define KWO_JB_ENTRY_FRAME	10	/* x29 after the stub's frame record */
#endif

/* A frame record: the caller's fp, then the return address. */
#define KWO_FRAME_RECORD	(2 * sizeof(unsigned long))

__u32 kwo_func_of_return(const struct kwo_object *obj, __u32 ret_off)
{
	__u32 i;

	for (i = 0; i < obj->nfuncs; i++) {
		const struct kwo_func *f = &obj->funcs[i];

		if (ret_off > f->code_off && ret_off - f->code_off <= f->code_len)
			return obj->nimports + i;
	}
	return KWO_NONE;
}

/* The .wasm offset of the code at CODE offset off, or KWO_NONE. */
static __u32 wasm_off_at(const struct kwo_object *obj, __u32 off)
{
	__u32 lo = 0, hi = obj->naddr_map, mid;

	/* The last entry at or before off. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (kwo_le32(obj->addr_map + 8 * (size_t)mid) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return KWO_NONE;
	return kwo_le32(obj->addr_map + 8 * (size_t)(lo - 1) + 4);
}

/* Appends a frame; 0 when the report is full. */
static int add_frame(struct kwo_call *call, __u32 func, __u32 wasm_off)
{
	__u32 cap = call->frames_cap < KWO_BACKTRACE_MAX ?
		    call->frames_cap : KWO_BACKTRACE_MAX;

	if (call->nframes >= cap) {
		call->truncated = 1;
		return 0;
	}
	call->frames[call->nframes].func = func;
	call->frames[call->nframes].wasm_off = wasm_off;
	call->nframes++;
	return 1;
}

void kwo_backtrace(struct kwo_instance *inst, unsigned long fp)
{
	const struct kwo_object *obj = inst->obj;
	struct kwo_call *call = inst->call;
	unsigned long base = (unsigned long)inst->code;
	unsigned long lo = (unsigned long)&base;
	unsigned long hi = (unsigned long)inst->jb.regs[KWO_JB_ENTRY_FRAME];
	unsigned long ra, next;
	__u32 func;

	if (!call || !call->frames || inst->trap_func == KWO_NONE)
		return;
	if (!add_frame(call, inst->trap_func, inst->trap_wasm_off))
		return;
	while (fp > lo && fp < hi && hi - fp >= KWO_FRAME_RECORD &&
	       !(fp & (sizeof(unsigned long) - 1))) {
		ra = ((const unsigned long *)fp)[1];
		if (ra <= base || ra - base > obj->code_len)
			return;
		func = kwo_func_of_return(obj, (__u32)(ra - base));
		if (func == KWO_NONE)	/* the trampoline: the walk is done */
			return;
		if (!add_frame(call, func,
			       wasm_off_at(obj, (__u32)(ra - base - 1))))
			return;
		next = ((const unsigned long *)fp)[0];
		if (next <= fp)
			return;
		fp = next;
	}
}
