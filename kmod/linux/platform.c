// SPDX-License-Identifier: GPL-2.0
/*
 * kwo_platform.h for the kernel: what the portable core needs from Linux,
 * except executable memory (execmem.c). Memory is charged to the caller's
 * memory cgroup and fails quietly (a guest asking for too much memory is
 * not a kernel problem worth a warning); the epoch is jiffies.
 */
#include <linux/crc32.h>
#include <linux/freezer.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kasan.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/version.h>
#ifdef CONFIG_X86
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#else
#include <asm/neon.h>
#endif

#include "kwo_linux.h"
#include "../core/kwo_format.h"
#include "../core/kwo_platform.h"

void *kwo_plat_zalloc(size_t size)
{
	/* kvmalloc() warns above INT_MAX; refuse quietly instead. */
	if (size > INT_MAX)
		return NULL;
	return kvzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
			__GFP_RETRY_MAYFAIL);
}

void kwo_plat_free(void *ptr)
{
	kvfree(ptr);
}

const volatile __u64 *kwo_plat_epoch(void)
{
	BUILD_BUG_ON(sizeof(jiffies) != sizeof(__u64));
	return (const volatile __u64 *)&jiffies;
}

__u64 kwo_plat_clock_ns(int clock)
{
	return clock == KWO_CLOCK_REALTIME ? ktime_get_real_ns() : ktime_get_ns();
}

__u64 kwo_plat_clock_res_ns(int clock)
{
	return hrtimer_resolution;
}

/*
 * Room kept at the bottom of the task stack: the STACK_END_MAGIC word and
 * what interrupt and exception entry push there before switching stacks
 * (pt_regs: 168 bytes on x86_64, 336 on arm64), with a margin.
 */
#define KWO_STACK_GUARD	1024

__u64 kwo_plat_stack_left(void)
{
	unsigned long sp = (unsigned long)__builtin_frame_address(0);
	unsigned long low = (unsigned long)task_stack_page(current) +
			    KWO_STACK_GUARD;

	return sp > low ? sp - low : 0;
}

#if defined(CONFIG_KASAN_GENERIC) && defined(CONFIG_KASAN_STACK)
/* Exported by mm/kasan/shadow.c, declared only in mm/kasan/kasan.h. */
void kasan_poison(const void *addr, size_t size, u8 value, bool init);

/*
 * What kasan_unpoison_task_stack_below() does (not exported): a shadow
 * value of 0 marks the abandoned frames below this one accessible again,
 * or a later frame there reads stale redzone poison.
 */
void kwo_plat_unwound(void)
{
	unsigned long low = (unsigned long)task_stack_page(current);
	unsigned long frame = (unsigned long)__builtin_frame_address(0);

	kasan_poison((void *)low, round_down(frame - low, 1UL << KASAN_SHADOW_SCALE_SHIFT),
		     0, false);
}
#else
void kwo_plat_unwound(void)
{
}
#endif

/*
 * Called with the FPU section closed (kwo_fpu_pause). A task spinning in
 * generated code never passes through signal delivery, where user tasks
 * normally freeze, so suspend (and the cgroup v1 freezer) would wait for
 * its call to end: freeze here instead. The only lock held is the
 * instance's mutex, which every other user takes interruptibly, so the
 * freezer's fake signal moves them out of the way and a frozen holder
 * blocks no one from freezing; hence __refrigerator() without
 * try_to_freeze()'s "no locks held" assertion. A cond_resched() that
 * switched tasks counts as a yield (debugfs stats); with full preemption
 * it never does, the scheduler preempting the code from an interrupt.
 */
void kwo_plat_resched(void)
{
	if (cond_resched())
		kwo_stat_yield();
	if (unlikely(freezing(current)))
		__refrigerator(false);
}

/*
 * Killable rather than interruptible: a pending ordinary signal would end
 * every sleep at once and make the core's loop spin, while a fatal one
 * must end it (the core then traps "interrupted").
 */
void kwo_plat_sleep_ns(__u64 ns)
{
	ktime_t left = ns > KTIME_MAX ? KTIME_MAX : (ktime_t)ns;

	set_current_state(TASK_KILLABLE);
	schedule_hrtimeout(&left, HRTIMER_MODE_REL);
}

int kwo_plat_should_stop(void)
{
	return fatal_signal_pending(current);
}

#ifdef CONFIG_X86
void kwo_plat_fpu_begin(struct kwo_plat_fpu *save)
{
	kernel_fpu_begin_mask(KFPU_MXCSR);
}

void kwo_plat_fpu_end(struct kwo_plat_fpu *save)
{
	kernel_fpu_end();
}

const char *kwo_plat_cpu_missing(__u32 obj_flags)
{
	if (!boot_cpu_has(X86_FEATURE_XMM4_1))
		return "sse4.1";
	if (!boot_cpu_has(X86_FEATURE_XMM4_2))
		return "sse4.2";
	if (!boot_cpu_has(X86_FEATURE_POPCNT))
		return "popcnt";
	if (!(obj_flags & KWO_F_X86_BMI))
		return NULL;
	if (!boot_cpu_has(X86_FEATURE_BMI1))
		return "bmi1";
	if (!boot_cpu_has(X86_FEATURE_BMI2))
		return "bmi2";
	if (!boot_cpu_has(X86_FEATURE_ABM))
		return "lzcnt";
	return NULL;
}
#else
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
/*
 * Since 6.19 kernel_neon_begin() takes the buffer the section's NEON
 * registers are saved into when the task is preempted (before, the task
 * had one of its own); it must live until kernel_neon_end(): the
 * instance's struct kwo_plat_fpu, sized for a struct user_fpsimd_state.
 */
static_assert(sizeof(struct kwo_plat_fpu) >= sizeof(struct user_fpsimd_state));
static_assert(__alignof__(struct kwo_plat_fpu) >=
	      __alignof__(struct user_fpsimd_state));

void kwo_plat_fpu_begin(struct kwo_plat_fpu *save)
{
	kernel_neon_begin((struct user_fpsimd_state *)save);
}

void kwo_plat_fpu_end(struct kwo_plat_fpu *save)
{
	kernel_neon_end((struct user_fpsimd_state *)save);
}
#else
void kwo_plat_fpu_begin(struct kwo_plat_fpu *save)
{
	kernel_neon_begin();
}

void kwo_plat_fpu_end(struct kwo_plat_fpu *save)
{
	kernel_neon_end();
}
#endif

const char *kwo_plat_cpu_missing(__u32 obj_flags)
{
	return obj_flags & KWO_F_X86_BMI ? "x86 bmi" : NULL;
}
#endif

u32 kwo_plat_crc32(u32 crc, const void *p, size_t len)
{
	/* crc32_le() neither inverts its seed nor its result. */
	return ~crc32_le(~crc, p, len);
}

void kwo_plat_random(void *buf, size_t len)
{
	get_random_bytes(buf, len);
}

void kwo_plat_log(const char *msg)
{
	pr_info("kwo: %s\n", msg);
}
