/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unsigned long kwo_ibt_call(unsigned long a0, unsigned long a1,
 *			      unsigned long a2, unsigned long a3,
 *			      unsigned long a4, unsigned long a5,
 *			      unsigned long fn);
 *
 * Calls fn(a0, a1, a2, a3, a4, a5) on X86_KERNEL_IBT kernels, where fn is a
 * function the kernel sealed (no ENDBR64 landing pad) and an indirect call
 * would fault. RET is not an IBT-tracked branch, so push fn (the seventh
 * argument, on the stack above the return address) and return into it: fn
 * then returns straight to our caller, which drops the argument slot.
 * Built only when CONFIG_X86_KERNEL_IBT=y.
 */
#include <linux/linkage.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

	.text
SYM_FUNC_START(kwo_ibt_call)
	mov	8(%rsp), %rax
	push	%rax
	/* fn now sits where a return address would: a function entry state. */
	UNWIND_HINT_FUNC
	ANNOTATE_UNRET_SAFE
	ret
	int3
SYM_FUNC_END(kwo_ibt_call)
