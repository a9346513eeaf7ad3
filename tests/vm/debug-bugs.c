// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberate bugs for `tests/vm/debug-kernel.sh selfcheck`: built three
 * times, as kwo_bug_kasan.ko, kwo_bug_lockdep.ko and kwo_bug_leak.ko (one
 * of -DBUG_KASAN, -DBUG_LOCKDEP, -DBUG_LEAK), each loaded by the guest's
 * /init like a preload module, to prove that the debug kernel reports the
 * bug and that the harness judges the run FAIL. Never built for, nor
 * loaded into, any other kernel.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#if defined(BUG_KASAN)
static volatile char kwo_bug_sink;

static int __init kwo_bug_init(void)
{
	char *p = kmalloc(16, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(p);
	/* One byte past a 16-byte object: "BUG: KASAN: slab-out-of-bounds". */
	kwo_bug_sink = p[16];
	kfree(p);
	return 0;
}
#elif defined(BUG_LOCKDEP)
static DEFINE_MUTEX(kwo_bug_a);
static DEFINE_MUTEX(kwo_bug_b);

static int __init kwo_bug_init(void)
{
	/* A then B, later B then A: "possible circular locking dependency". */
	mutex_lock(&kwo_bug_a);
	mutex_lock(&kwo_bug_b);
	mutex_unlock(&kwo_bug_b);
	mutex_unlock(&kwo_bug_a);
	mutex_lock(&kwo_bug_b);
	mutex_lock(&kwo_bug_a);
	mutex_unlock(&kwo_bug_a);
	mutex_unlock(&kwo_bug_b);
	return 0;
}
#elif defined(BUG_LEAK)
static int __init kwo_bug_init(void)
{
	void *p = kmalloc(64, GFP_KERNEL);

	/* The only pointer dies here: kmemleak's "unreferenced object". */
	OPTIMIZER_HIDE_VAR(p);
	return p ? 0 : -ENOMEM;
}
#else
#error "define BUG_KASAN, BUG_LOCKDEP or BUG_LEAK"
#endif
module_init(kwo_bug_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kwo tests: a deliberate KASAN, lockdep or kmemleak report");
