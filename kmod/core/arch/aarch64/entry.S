/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * aarch64 entry stub: see arch/x86_64/entry.S for the contract.
 *
 * int kwo_arch_enter(jb, vmctx, tramp, vals, flags);	flags: KWO_ENTER_FP
 *
 * jb layout (8-byte slots): 0-9 x19-x28, 10 x29, 11 x30, 12 sp,
 * 13-20 d8-d15, 21 x18, 22 fpcr, 23 fpsr. sp is always 16-byte aligned on
 * aarch64. The frame record (x29, x30) is pushed first, so the frame chain
 * stays intact; the frame also keeps jb and flags for the return path.
 *
 * x18 is saved and restored on unwind: with CONFIG_SHADOW_CALL_STACK it is
 * the shadow stack pointer, and a trap raised inside a host function leaves
 * that function's (and kwo_raise's) pushes on the shadow stack.
 *
 * FP state. In the kernel, FP/SIMD registers may only be touched inside the
 * NEON section kwo_run opens for objects with KWO_F_USES_FP: the stub never
 * touches them for other objects, and never saves or restores d8-d15 (the
 * kernel's C code keeps nothing in FP registers, and the task's user state
 * is saved by kernel_neon_begin and reloaded before the return to user), so
 * an unwind after the section has been paused writes no FP register. For
 * FP objects it sets FPCR to 0 (Wasm: round to nearest, no flush to zero,
 * no default NaN, no trap enables): kernel_neon_begin leaves the user's
 * FPCR in place. In userspace d8-d15 are the caller's callee-saved
 * registers and FPCR/FPSR its FP environment: all are saved, FPCR set to 0
 * for FP objects, and restored on unwind (FPCR/FPSR also on return).
 */
#ifdef __KERNEL__
#include <linux/linkage.h>
#define KWO_FUNC(name)		SYM_FUNC_START(name)
#define KWO_END(name)		SYM_FUNC_END(name)
#else
#define KWO_FUNC(name)		.globl name; .type name, %function; name:
#define KWO_END(name)		.size name, . - name
#endif
#define KWO_BTI_C		hint	#34
/* offsetof(struct kwo_instance, wasm_fp); instance.c asserts it. */
#define KWO_INST_WASM_FP	80

	.text
	.p2align 4
KWO_FUNC(kwo_arch_enter)
	KWO_BTI_C
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	stp	x0, x4, [sp, #16]
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x9, sp
	str	x9, [x0, #96]
	str	x18, [x0, #168]
#ifndef __KERNEL__
	stp	d8, d9, [x0, #104]
	stp	d10, d11, [x0, #120]
	stp	d12, d13, [x0, #136]
	stp	d14, d15, [x0, #152]
	mrs	x9, fpcr
	mrs	x10, fpsr
	stp	x9, x10, [x0, #176]
#endif
	tbz	x4, #0, 1f
	msr	fpcr, xzr
1:	mov	x0, x1
	mov	x1, x3
	blr	x2
#ifndef __KERNEL__
	ldp	x1, x4, [sp, #16]
	tbz	x4, #0, 2f
	ldp	x9, x10, [x1, #176]
	msr	fpcr, x9
	msr	fpsr, x10
2:
#endif
	mov	w0, #0
	ldp	x29, x30, [sp], #32
	ret
KWO_END(kwo_arch_enter)

	.p2align 4
KWO_FUNC(kwo_arch_unwind)
	KWO_BTI_C
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldr	x9, [x0, #96]
	mov	sp, x9
	ldr	x18, [x0, #168]
#ifndef __KERNEL__
	ldp	d8, d9, [x0, #104]
	ldp	d10, d11, [x0, #120]
	ldp	d12, d13, [x0, #136]
	ldp	d14, d15, [x0, #152]
	ldp	x9, x10, [x0, #176]
	msr	fpcr, x9
	msr	fpsr, x10
#endif
	mov	w0, w1
	ldp	x29, x30, [sp], #32
	ret
KWO_END(kwo_arch_unwind)

/*
 * d8-d15 are callee-saved: keep them across an FPU pause (both run inside
 * the section). A resumed section may be new, with another task's FPCR in
 * the CPU (kernel_neon_begin does not reset it): set Wasm's FPCR again.
 */
	.p2align 4
KWO_FUNC(kwo_arch_fp_save)
	KWO_BTI_C
	stp	d8, d9, [x0, #0]
	stp	d10, d11, [x0, #16]
	stp	d12, d13, [x0, #32]
	stp	d14, d15, [x0, #48]
	ret
KWO_END(kwo_arch_fp_save)

	.p2align 4
KWO_FUNC(kwo_arch_fp_restore)
	KWO_BTI_C
	ldp	d8, d9, [x0, #0]
	ldp	d10, d11, [x0, #16]
	ldp	d12, d13, [x0, #32]
	ldp	d14, d15, [x0, #48]
	msr	fpcr, xzr
	ret
KWO_END(kwo_arch_fp_restore)

/*
 * void kwo_yield_gpr(struct kwo_vmctx *vmctx);
 * void kwo_yield_fp(struct kwo_vmctx *vmctx);
 *	YIELD with Cranelift's preserve_all convention (see arch/x86_64): save
 *	x0-x17 (and for FP objects q0-q31), call kwo_host_yield(vmctx, lr).
 *	Like the shims below, first store the caller's x29 for a backtrace.
 */
.macro KWO_SAVE_GPRS
	str	x29, [x0, #KWO_INST_WASM_FP]
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	sub	sp, sp, #144
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
.endm

.macro KWO_RESTORE_GPRS
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	add	sp, sp, #144
	ldp	x29, x30, [sp], #16
.endm

	.p2align 4
KWO_FUNC(kwo_yield_gpr)
	KWO_BTI_C
	KWO_SAVE_GPRS
	mov	x1, x30
	bl	kwo_host_yield
	KWO_RESTORE_GPRS
	ret
KWO_END(kwo_yield_gpr)

	.p2align 4
KWO_FUNC(kwo_yield_fp)
	KWO_BTI_C
	KWO_SAVE_GPRS
	sub	sp, sp, #512
	stp	q0, q1, [sp, #0]
	stp	q2, q3, [sp, #32]
	stp	q4, q5, [sp, #64]
	stp	q6, q7, [sp, #96]
	stp	q8, q9, [sp, #128]
	stp	q10, q11, [sp, #160]
	stp	q12, q13, [sp, #192]
	stp	q14, q15, [sp, #224]
	stp	q16, q17, [sp, #256]
	stp	q18, q19, [sp, #288]
	stp	q20, q21, [sp, #320]
	stp	q22, q23, [sp, #352]
	stp	q24, q25, [sp, #384]
	stp	q26, q27, [sp, #416]
	stp	q28, q29, [sp, #448]
	stp	q30, q31, [sp, #480]
	mov	x1, x30
	bl	kwo_host_yield
	ldp	q0, q1, [sp, #0]
	ldp	q2, q3, [sp, #32]
	ldp	q4, q5, [sp, #64]
	ldp	q6, q7, [sp, #96]
	ldp	q8, q9, [sp, #128]
	ldp	q10, q11, [sp, #160]
	ldp	q12, q13, [sp, #192]
	ldp	q14, q15, [sp, #224]
	ldp	q16, q17, [sp, #256]
	ldp	q18, q19, [sp, #288]
	ldp	q20, q21, [sp, #320]
	ldp	q22, q23, [sp, #352]
	ldp	q24, q25, [sp, #384]
	ldp	q26, q27, [sp, #416]
	ldp	q28, q29, [sp, #448]
	ldp	q30, q31, [sp, #480]
	add	sp, sp, #512
	KWO_RESTORE_GPRS
	ret
KWO_END(kwo_yield_fp)

/*
 * Builtins that may trap are entered here (kwo_host_addr): store generated
 * code's frame pointer (x29, untouched since its BL) in
 * kwo_instance.wasm_fp, where the trap's backtrace starts, and tail-call
 * the C function, which so still finds its return address in x30.
 */
#define KWO_FP_SHIM(name, target)		\
	.p2align 4;				\
	KWO_FUNC(name)				\
	KWO_BTI_C;				\
	str	x29, [x0, KWO_INST_WASM_FP];	\
	b	target;				\
	KWO_END(name)

KWO_FP_SHIM(kwo_shim_trap, kwo_host_trap)
KWO_FP_SHIM(kwo_shim_memory_fill, kwo_host_memory_fill)
KWO_FP_SHIM(kwo_shim_memory_copy, kwo_host_memory_copy)
KWO_FP_SHIM(kwo_shim_memory_init, kwo_host_memory_init)
KWO_FP_SHIM(kwo_shim_table_fill, kwo_host_table_fill)
KWO_FP_SHIM(kwo_shim_table_copy, kwo_host_table_copy)
KWO_FP_SHIM(kwo_shim_table_init, kwo_host_table_init)

#ifndef __KERNEL__
	.section .note.GNU-stack, "", %progbits
#endif
