/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * x86_64 entry stub: call generated code with the callee-saved registers
 * and the stack pointer recorded, so that a host function can unwind
 * straight back here (setjmp/longjmp style, without libc).
 *
 * int kwo_arch_enter(struct kwo_jmpbuf *jb, struct kwo_vmctx *vmctx,
 *		      void *tramp, __u64 *vals, unsigned long flags);
 *	saves rbx, r12-r15 and the frame (rbp) into jb, aligns the stack to
 *	16 bytes (the kernel only guarantees 8), calls tramp(vmctx, vals)
 *	and returns 0.
 * void kwo_arch_unwind(struct kwo_jmpbuf *jb, int code);
 *	restores them and makes kwo_arch_enter return code.
 *
 * jb layout (8-byte slots): 0 rbx, 1 r12, 2 r13, 3 r14, 4 r15, 5 rbp,
 * 6 mxcsr (userspace). The frame pointer chain stays intact (rbp is pushed
 * first), and nothing is stored below the stack pointer.
 *
 * MXCSR. In the kernel the stub touches no FP state: kwo_run's
 * kernel_fpu_begin_mask(KFPU_MXCSR) loads the default MXCSR for FP objects
 * (and again after every pause), kernel_fpu_end gives the task its own
 * back. In userspace the caller's MXCSR is saved; for FP objects
 * (flags & KWO_ENTER_FP) the stub loads Wasm's 0x1f80 (round to nearest,
 * no FTZ/DAZ, all exceptions masked) and restores the caller's on return
 * and on unwind, so an odd mode in the caller changes no Wasm result.
 */
#ifdef __KERNEL__
#include <linux/linkage.h>
#include <linux/cfi_types.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>
#define KWO_FUNC(name)		SYM_FUNC_START(name)
/*
 * Generated code calls the yield stubs through a register: they need an
 * ENDBR64 on X86_KERNEL_IBT kernels. SYM_FUNC_START puts one there in the
 * 6.1 and 6.12 headers, not in 7.x's, where only SYM_TYPED_FUNC_START does
 * (without it the first yield is a control-protection fault on CET
 * hardware; objtool: "relocation to !ENDBR").
 */
#define KWO_ICALL_FUNC(name)	SYM_TYPED_FUNC_START(name)
#define KWO_END(name)		SYM_FUNC_END(name)
#define KWO_RET			RET
#define KWO_CALL_RDX		CALL_NOSPEC rdx
#else
#define KWO_FUNC(name)		.globl name; .type name, @function; name:
#define KWO_ICALL_FUNC(name)	KWO_FUNC(name)
#define KWO_END(name)		.size name, . - name
#define KWO_RET			ret
#define KWO_CALL_RDX		call *%rdx
#define UNWIND_HINT_FUNC
#endif
#if defined(__CET__) && !defined(__KERNEL__)
#define KWO_ENDBR		endbr64
#else
#define KWO_ENDBR
#endif
/* offsetof(struct kwo_instance, wasm_fp); instance.c asserts it. */
#define KWO_INST_WASM_FP	80

	.text
	.p2align 4
KWO_FUNC(kwo_arch_enter)
#ifdef __CET__
	endbr64
#endif
	push	%rbp
	mov	%rsp, %rbp
	mov	%rbx, 0(%rdi)
	mov	%r12, 8(%rdi)
	mov	%r13, 16(%rdi)
	mov	%r14, 24(%rdi)
	mov	%r15, 32(%rdi)
	mov	%rbp, 40(%rdi)
#ifndef __KERNEL__
	push	%rdi
	push	%r8
	stmxcsr	48(%rdi)
	test	$1, %r8d
	jz	1f
	ldmxcsr	kwo_mxcsr_wasm(%rip)
1:
#endif
	and	$-16, %rsp
	mov	%rsi, %rdi
	mov	%rcx, %rsi
	KWO_CALL_RDX
#ifndef __KERNEL__
	testl	$1, -16(%rbp)
	jz	2f
	mov	-8(%rbp), %rdi
	ldmxcsr	48(%rdi)
2:
#endif
	xor	%eax, %eax
	mov	%rbp, %rsp
	pop	%rbp
	KWO_RET
KWO_END(kwo_arch_enter)

	.p2align 4
KWO_FUNC(kwo_arch_unwind)
#ifdef __CET__
	endbr64
#endif
	mov	0(%rdi), %rbx
	mov	8(%rdi), %r12
	mov	16(%rdi), %r13
	mov	24(%rdi), %r14
	mov	32(%rdi), %r15
#ifndef __KERNEL__
	ldmxcsr	48(%rdi)
#endif
	/*
	 * Pop kwo_arch_enter's frame by hand: the caller's rbp is at the
	 * saved frame address, the return address just above it. Telling
	 * objtool that the stack is now at a function's return keeps it
	 * able to follow this.
	 */
	mov	40(%rdi), %rax
	mov	0(%rax), %rbp
	lea	8(%rax), %rsp
	UNWIND_HINT_FUNC
	mov	%esi, %eax
	KWO_RET
KWO_END(kwo_arch_unwind)

/* XMM registers are all caller-saved in the SysV ABI: nothing to keep. */
	.p2align 4
KWO_FUNC(kwo_arch_fp_save)
#ifdef __CET__
	endbr64
#endif
	KWO_RET
KWO_END(kwo_arch_fp_save)

	.p2align 4
KWO_FUNC(kwo_arch_fp_restore)
#ifdef __CET__
	endbr64
#endif
	KWO_RET
KWO_END(kwo_arch_fp_restore)

/*
 * void kwo_yield_gpr(struct kwo_vmctx *vmctx);
 * void kwo_yield_fp(struct kwo_vmctx *vmctx);
 *	YIELD as generated code calls it: with Cranelift's preserve_all
 *	convention, so a loop keeps its values in registers across its cold
 *	checkpoint call. Save the SysV caller-saved registers (and, for objects
 *	that use FP, which run inside an FPU section, xmm0-15), pass the
 *	return address into generated code, call kwo_host_yield(vmctx, ra).
 *	Nine pushes after rbp leave the stack 8 bytes off a 16-byte boundary
 *	(the call site was aligned); the sub fixes that. Like the shims
 *	below, first store the caller's rbp for a backtrace.
 */
.macro KWO_SAVE_GPRS
	mov	%rbp, KWO_INST_WASM_FP(%rdi)
	push	%rbp
	mov	%rsp, %rbp
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
.endm

.macro KWO_RESTORE_GPRS
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	pop	%rbp
.endm

	.p2align 4
KWO_ICALL_FUNC(kwo_yield_gpr)
#ifdef __CET__
	endbr64
#endif
	KWO_SAVE_GPRS
	sub	$8, %rsp
	mov	8(%rbp), %rsi
	call	kwo_host_yield
	add	$8, %rsp
	KWO_RESTORE_GPRS
	KWO_RET
KWO_END(kwo_yield_gpr)

	.p2align 4
KWO_ICALL_FUNC(kwo_yield_fp)
#ifdef __CET__
	endbr64
#endif
	KWO_SAVE_GPRS
	sub	$264, %rsp
	movdqu	%xmm0, 0(%rsp)
	movdqu	%xmm1, 16(%rsp)
	movdqu	%xmm2, 32(%rsp)
	movdqu	%xmm3, 48(%rsp)
	movdqu	%xmm4, 64(%rsp)
	movdqu	%xmm5, 80(%rsp)
	movdqu	%xmm6, 96(%rsp)
	movdqu	%xmm7, 112(%rsp)
	movdqu	%xmm8, 128(%rsp)
	movdqu	%xmm9, 144(%rsp)
	movdqu	%xmm10, 160(%rsp)
	movdqu	%xmm11, 176(%rsp)
	movdqu	%xmm12, 192(%rsp)
	movdqu	%xmm13, 208(%rsp)
	movdqu	%xmm14, 224(%rsp)
	movdqu	%xmm15, 240(%rsp)
	mov	8(%rbp), %rsi
	call	kwo_host_yield
	movdqu	0(%rsp), %xmm0
	movdqu	16(%rsp), %xmm1
	movdqu	32(%rsp), %xmm2
	movdqu	48(%rsp), %xmm3
	movdqu	64(%rsp), %xmm4
	movdqu	80(%rsp), %xmm5
	movdqu	96(%rsp), %xmm6
	movdqu	112(%rsp), %xmm7
	movdqu	128(%rsp), %xmm8
	movdqu	144(%rsp), %xmm9
	movdqu	160(%rsp), %xmm10
	movdqu	176(%rsp), %xmm11
	movdqu	192(%rsp), %xmm12
	movdqu	208(%rsp), %xmm13
	movdqu	224(%rsp), %xmm14
	movdqu	240(%rsp), %xmm15
	add	$264, %rsp
	KWO_RESTORE_GPRS
	KWO_RET
KWO_END(kwo_yield_fp)

/*
 * Builtins that may trap are entered here (kwo_host_addr): store generated
 * code's frame pointer (rbp, untouched since its call) in
 * kwo_instance.wasm_fp, where the trap's backtrace starts, and tail-call
 * the C function, which so still finds its return address on the stack.
 */
#define KWO_FP_SHIM(name, target)		\
	.p2align 4;				\
	KWO_ICALL_FUNC(name)			\
	KWO_ENDBR;				\
	mov	%rbp, KWO_INST_WASM_FP(%rdi);	\
	jmp	target;				\
	KWO_END(name)

KWO_FP_SHIM(kwo_shim_trap, kwo_host_trap)
KWO_FP_SHIM(kwo_shim_memory_fill, kwo_host_memory_fill)
KWO_FP_SHIM(kwo_shim_memory_copy, kwo_host_memory_copy)
KWO_FP_SHIM(kwo_shim_memory_init, kwo_host_memory_init)
KWO_FP_SHIM(kwo_shim_table_fill, kwo_host_table_fill)
KWO_FP_SHIM(kwo_shim_table_copy, kwo_host_table_copy)
KWO_FP_SHIM(kwo_shim_table_init, kwo_host_table_init)

#ifndef __KERNEL__
	.section .rodata
	.p2align 2
kwo_mxcsr_wasm:
	.long	0x1f80
	.section .note.GNU-stack, "", @progbits
#endif
