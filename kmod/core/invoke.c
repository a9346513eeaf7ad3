// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Calls into generated code: per-call budgets (stack limit, epoch deadline,
 * fuel, wall-clock time), FPU bracketing, the arch entry stub, and turning
 * the way the call ended (return, trap, proc_exit) into a struct kwo_call.
 * The trap path itself (recording the site, unwinding) is in builtins.c,
 * its backtrace in backtrace.c.
 */
#include "kwo_internal.h"

#define KWO_FUEL_MAX	0x7fffffffffffffffll

/*
 * Bytes between here and the stack pointer generated code is entered at:
 * kwo_run's and the entry stub's frames and the stub's 16-byte alignment.
 */
#define KWO_ENTRY_SLACK	256

__u64 kwo_stack_need(const struct kwo_object *obj, __u64 host_reserve)
{
	if (obj->stack_bound)
		return (__u64)obj->stack_bound + host_reserve;
	/* The trampoline's frame and its callee's come before any check. */
	return 2 * (__u64)obj->max_frame + host_reserve;
}

/* Stack a call may use below its entry: the budget, if the stack has it. */
static __u64 call_budget(const struct kwo_instance *inst)
{
	__u64 left = kwo_plat_stack_left();

	left = left > KWO_ENTRY_SLACK ? left - KWO_ENTRY_SLACK : 0;
	return inst->stack_budget < left ? inst->stack_budget : left;
}

/*
 * Sets vmctx.stack_limit, the lowest stack pointer a function body may run
 * at, or returns -1 if the call cannot fit at all.
 *
 * A recursive object's functions compare the stack pointer with the limit
 * after their prologue, so the limit keeps room below it for the largest
 * frame (the next callee's prologue runs before its check) and for a host
 * function called from there; the trampoline runs unchecked, so the first
 * body must find the limit below its own frame and the trampoline's. An
 * object with a static bound has no checks in its code: its whole worst
 * case must fit, once, here.
 */
static int set_stack_limit(struct kwo_instance *inst)
{
	const struct kwo_object *obj = inst->obj;
	unsigned long sp = (unsigned long)__builtin_frame_address(0);
	__u64 budget = call_budget(inst);
	__u64 reserve = kwo_stack_need(obj, inst->host_reserve);

	if (reserve > budget || budget > sp)
		return -1;
	inst->vmctx.stack_limit = obj->stack_bound ? 0 : sp - budget + reserve;
	return 0;
}

static void set_budgets(struct kwo_instance *inst, const struct kwo_call *call)
{
	__u64 now;

	inst->fuel_limited = call->fuel != KWO_FUEL_UNLIMITED;
	if (!inst->fuel_limited || call->fuel > KWO_FUEL_MAX)
		inst->vmctx.fuel = KWO_FUEL_MAX;
	else
		inst->vmctx.fuel = (__s64)call->fuel;
	inst->deadline_ns = 0;
	if (call->timeout_ns) {
		/* Saturating: a huge budget must not wrap into the past. */
		now = kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC);
		inst->deadline_ns = call->timeout_ns > ~0ull - now ?
				    ~0ull : now + call->timeout_ns;
	}
	inst->epoch_deadline = *kwo_plat_epoch() + 1;
	inst->vmctx.epoch_deadline = inst->fuel_limited ? 0 :
				     inst->epoch_deadline;
	inst->trap_func = KWO_NONE;
	inst->trap_wasm_off = KWO_NONE;
	inst->exit_code = 0;
	inst->write_errno = 0;
}

static void report(struct kwo_instance *inst, int code, struct kwo_call *call)
{
	call->trap_code = KWO_TRAP_NONE;
	call->func = KWO_NONE;
	call->wasm_off = KWO_NONE;
	call->exit_code = 0;
	call->write_errno = inst->write_errno;
	call->fuel_left = inst->vmctx.fuel < 0 ? 0 : (__u64)inst->vmctx.fuel;
	if (code == 0) {
		call->status = KWO_STATUS_OK;
	} else if (code == KWO_TRAP_EXIT) {
		call->status = KWO_STATUS_EXIT;
		call->exit_code = inst->exit_code;
	} else {
		call->status = KWO_STATUS_TRAP;
		call->trap_code = (__u32)code;
		call->func = inst->trap_func;
		call->wasm_off = inst->trap_wasm_off;
	}
}

void kwo_run(struct kwo_instance *inst, void *tramp, __u64 *vals,
	     struct kwo_call *call)
{
	int code;

	set_budgets(inst, call);
	call->nframes = 0;
	call->truncated = 0;
	if (set_stack_limit(inst)) {
		report(inst, KWO_TRAP_STACK_EXHAUSTED, call);
		return;
	}
	if (inst->obj->flags & KWO_F_USES_FP) {
		kwo_plat_fpu_begin(&inst->fpu);
		inst->fpu_on = 1;
	}
	/*
	 * Returns 0, or the code given to kwo_arch_unwind(). Callee-saved
	 * registers and the stack are as they were at the call either way.
	 */
	inst->call = call;
	code = kwo_arch_enter(&inst->jb, &inst->vmctx, tramp, vals,
			      inst->fpu_on ? KWO_ENTER_FP : 0);
	if (code)
		kwo_plat_unwound();
	if (inst->fpu_on) {
		inst->fpu_on = 0;
		kwo_plat_fpu_end(&inst->fpu);
	}
	inst->call = NULL;
	report(inst, code, call);
}

void kwo_set_stack_budget(struct kwo_instance *inst, __u64 bytes)
{
	inst->stack_budget = bytes;
}

int kwo_invoke(struct kwo_instance *inst, __u32 export_pos, __u64 *vals,
	       __u32 nvals, struct kwo_call *call)
{
	const struct kwo_object *obj = inst->obj;
	const struct kwo_export *x;
	const struct kwo_type *t;

	if (export_pos >= obj->nexports)
		return -ENOENT;
	x = &obj->exports[export_pos];
	if (x->kind != KWO_EXPORT_FUNC)
		return -ENOENT;
	t = kwo_func_type(obj, x->index);
	if (nvals < t->param_count || nvals < t->result_count)
		return -EINVAL;
	if (inst->busy)
		return -EBUSY;
	inst->busy = 1;
	kwo_run(inst, inst->code + x->tramp, vals, call);
	inst->busy = 0;
	return 0;
}
