/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * aarch64 entry stub: see arch/x86_64/entry.S for the contract.
 *
 * jb layout (8-byte slots): 0-9 x19-x28, 10 x29, 11 x30, 12 sp,
 * 13-20 d8-d15. sp is always 16-byte aligned on aarch64. The frame record
 * (x29, x30) is pushed first, so the frame chain stays intact.
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

	.text
	.p2align 4
KWO_FUNC(kwo_arch_enter)
	KWO_BTI_C
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x9, sp
	str	x9, [x0, #96]
	stp	d8, d9, [x0, #104]
	stp	d10, d11, [x0, #120]
	stp	d12, d13, [x0, #136]
	stp	d14, d15, [x0, #152]
	mov	x0, x1
	mov	x1, x3
	blr	x2
	mov	w0, #0
	ldp	x29, x30, [sp], #16
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
	ldp	d8, d9, [x0, #104]
	ldp	d10, d11, [x0, #120]
	ldp	d12, d13, [x0, #136]
	ldp	d14, d15, [x0, #152]
	mov	w0, w1
	ldp	x29, x30, [sp], #16
	ret
KWO_END(kwo_arch_unwind)

/* d8-d15 are callee-saved: keep them across an FPU pause. */
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
	ret
KWO_END(kwo_arch_fp_restore)

#ifndef __KERNEL__
	.section .note.GNU-stack, "", %progbits
#endif
