// SPDX-License-Identifier: GPL-2.0
/*
 * kwo.ko: runs sandboxed WebAssembly, compiled ahead of time in userspace
 * into .kwo objects, inside the kernel. This file holds the module's entry
 * points and tunables; the portable core (../core) validates and runs
 * objects, the other files of this directory adapt it to Linux.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kwo.h>

#include "kwo_linux.h"

unsigned int kwo_param_max_object = KWO_MAX_OBJECT_SIZE;
module_param_named(max_object, kwo_param_max_object, uint, 0644);
MODULE_PARM_DESC(max_object, "Largest .kwo object accepted, bytes");

unsigned int kwo_param_timeout_ms = 10000;
module_param_named(timeout_ms, kwo_param_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "Default wall-clock budget of one call, ms");

unsigned int kwo_param_max_timeout_ms = 60000;
module_param_named(max_timeout_ms, kwo_param_max_timeout_ms, uint, 0644);
MODULE_PARM_DESC(max_timeout_ms, "Cap on any call's wall-clock budget, ms (at least 1)");

unsigned int kwo_param_max_pages = 4096;
module_param_named(max_pages, kwo_param_max_pages, uint, 0644);
MODULE_PARM_DESC(max_pages, "Cap on linear memory, 64 KiB pages");

unsigned int kwo_param_stack_budget = 10240;
module_param_named(stack_budget, kwo_param_stack_budget, uint, 0444);
MODULE_PARM_DESC(stack_budget, "Task stack bytes a call may use, host functions included");

/* Host functions may allocate memory, which may reclaim: keep room for that. */
unsigned int kwo_param_host_reserve = 4096;
module_param_named(host_reserve, kwo_param_host_reserve, uint, 0444);
MODULE_PARM_DESC(host_reserve, "Part of stack_budget kept for host functions");

unsigned int kwo_param_output_limit = 1 << 20;
module_param_named(output_limit, kwo_param_output_limit, uint, 0644);
MODULE_PARM_DESC(output_limit, "Bytes kept per stdout/stderr per call");

/* 0 at load: a quarter of the vmalloc space (kwo_memory_init). */
unsigned int kwo_param_max_memories;
module_param_named(max_memories, kwo_param_max_memories, uint, 0644);
MODULE_PARM_DESC(max_memories, "Linear memories (8 GiB reservations of vmalloc space) that may exist at once");

static bool kwo_param_selftest;
module_param_named(selftest, kwo_param_selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Check executable memory at load time");

static int __init kwo_init(void)
{
	int ret = kwo_execmem_init();

	if (!ret)
		ret = kwo_memory_init();
	if (!ret && kwo_param_selftest)
		ret = kwo_selftest();
	if (!ret)
		ret = kwo_sign_init();
	if (ret)
		return ret;
	kwo_debugfs_init();
	ret = kwo_dev_init();
	if (ret) {
		kwo_debugfs_exit();
		kwo_sign_exit();
		return ret;
	}
	pr_info("kwo: loaded, api %d\n", KWO_API_VERSION);
	return 0;
}

static void __exit kwo_exit(void)
{
	kwo_dev_exit();
	kwo_debugfs_exit();
	kwo_sign_exit();
	pr_info("kwo: unloaded\n");
}

module_init(kwo_init);
module_exit(kwo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kwo: sandboxed WebAssembly, compiled ahead of time, in the kernel");
