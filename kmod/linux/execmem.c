// SPDX-License-Identifier: GPL-2.0
/*
 * Executable memory for generated code: kwo_plat_code_alloc/seal/free of
 * kwo_platform.h.
 *
 * No exported API gives a module executable memory, so this file finds
 * kallsyms_lookup_name with a kprobe and resolves the kernel's own
 * allocator with it:
 *  - before 6.10: module_alloc(), then set_memory_ro() and only then
 *    set_memory_x(), freed with module_memfree();
 *  - 6.10 and later: execmem_alloc(EXECMEM_BPF), then set_memory_rox()
 *    where the architecture has one (x86), else set_memory_ro() and then
 *    set_memory_x() (arm64, where set_memory_rox is a static inline
 *    calling those two, so kallsyms does not know it); freed with
 *    execmem_free();
 *  - 6.17 and later: execmem_alloc_rw() instead of execmem_alloc(): where
 *    the architecture keeps a cache of read-only executable huge pages
 *    (x86 since 6.14: 7.3 hands out EXECMEM_BPF memory from it),
 *    execmem_alloc() returns it read-only and the first write of the code
 *    faults; execmem_alloc_rw() makes it RW+NX first (elsewhere it is
 *    execmem_alloc()). execmem_free() gives the cache its pages back
 *    read-only, sealed or not.
 * Memory is never writable and executable at once. It lies in the module
 * area, within rel32 reach of this module's text, so generated code calls
 * host functions directly. The area is marked VM_FLUSH_RESET_PERMS so that
 * freeing it restores the direct map's permissions (arm64's module_alloc
 * does not do this by itself).
 *
 * With CONFIG_X86_KERNEL_IBT the kernel seals functions it never calls
 * indirectly (their ENDBR64 is poisoned), and every function found here is
 * one of them: calls go through kwo_ibt_call (ibt_call.S), which reaches
 * the target with "push; ret", a branch IBT does not check.
 *
 * kwo_lookup() and kwo_kcall6() serve memory.c too, which needs other
 * unexported functions.
 *
 * This file does not decide what goes into the memory; the core writes and
 * relocates the code between alloc and seal.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/version.h>
#include <asm/cacheflush.h>
#include <asm/set_memory.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#include <linux/execmem.h>
#endif

#include "kwo_linux.h"
#include "../core/kwo_platform.h"

#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>

unsigned long kwo_ibt_call(unsigned long a0, unsigned long a1,
			   unsigned long a2, unsigned long a3,
			   unsigned long a4, unsigned long a5,
			   unsigned long fn);
#endif

typedef unsigned long (*kwo_kfn6)(unsigned long, unsigned long, unsigned long,
				  unsigned long, unsigned long, unsigned long);

unsigned long kwo_kcall6(unsigned long fn, unsigned long a0, unsigned long a1,
			 unsigned long a2, unsigned long a3, unsigned long a4,
			 unsigned long a5)
{
#ifdef CONFIG_X86_KERNEL_IBT
	return kwo_ibt_call(a0, a1, a2, a3, a4, a5, fn);
#else
	return ((kwo_kfn6)fn)(a0, a1, a2, a3, a4, a5);
#endif
}

/* Call a resolved kernel function of up to two word-sized arguments. */
static unsigned long kwo_kcall(unsigned long fn, unsigned long a0,
			       unsigned long a1)
{
	return kwo_kcall6(fn, a0, a1, 0, 0, 0, 0);
}

static unsigned long kwo_kallsyms;	/* kallsyms_lookup_name */

static struct {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	unsigned long execmem_alloc, execmem_free;
#else
	unsigned long module_alloc, module_memfree, find_vm_area;
#endif
#ifdef set_memory_rox	/* the architecture's own function */
	unsigned long set_memory_rox;
#else
	unsigned long set_memory_ro, set_memory_x;
#endif
} kwo_fn;

static const struct {
	const char *name;
	unsigned long *addr;
} kwo_syms[] = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
	{ "execmem_alloc_rw", &kwo_fn.execmem_alloc },
#else
	{ "execmem_alloc", &kwo_fn.execmem_alloc },
#endif
	{ "execmem_free", &kwo_fn.execmem_free },
#else
	{ "module_alloc", &kwo_fn.module_alloc },
	{ "module_memfree", &kwo_fn.module_memfree },
	{ "find_vm_area", &kwo_fn.find_vm_area },
#endif
#ifdef set_memory_rox
	{ "set_memory_rox", &kwo_fn.set_memory_rox },
#else
	{ "set_memory_ro", &kwo_fn.set_memory_ro },
	{ "set_memory_x", &kwo_fn.set_memory_x },
#endif
};

unsigned long kwo_lookup(const char *name)
{
	return kwo_kcall(kwo_kallsyms, (unsigned long)name, 0);
}

/*
 * On IBT kernels a kprobe on a function sits after its ENDBR64, or after
 * the 4-byte NOP a sealed function has instead: the kernel's own
 * gen_endbr_poison(), which changed after 6.12 (osp nopl (%rax) up to
 * there, nopl -42(%rax) in 7.3); at the symbol otherwise. Only accept the
 * address once the function finds itself.
 */
static unsigned long kwo_function_start(unsigned long probed)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u32 before = *(u32 *)(probed - 4);

	if (before == gen_endbr() || before == gen_endbr_poison())
		return probed - 4;
#endif
	return probed;
}

static int kwo_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("kwo: kprobe on kallsyms_lookup_name failed: %d\n", ret);
		return ret;
	}
	addr = kwo_function_start((unsigned long)kp.addr);
	unregister_kprobe(&kp);
	kwo_kallsyms = addr;
	if (kwo_lookup("kallsyms_lookup_name") != addr) {
		pr_err("kwo: kallsyms_lookup_name self-check failed\n");
		kwo_kallsyms = 0;
		return -ENOENT;
	}
	return 0;
}

int kwo_execmem_init(void)
{
	unsigned int i;
	int ret = kwo_find_kallsyms();

	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(kwo_syms); i++) {
		*kwo_syms[i].addr = kwo_lookup(kwo_syms[i].name);
		if (!*kwo_syms[i].addr) {
			pr_err("kwo: kernel symbol %s not found\n",
			       kwo_syms[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

static int kwo_npages(size_t size)
{
	return DIV_ROUND_UP(size, PAGE_SIZE);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)

void *kwo_plat_code_alloc(size_t size)
{
	if (!size || size > INT_MAX)
		return NULL;
	return (void *)kwo_kcall(kwo_fn.execmem_alloc, EXECMEM_BPF,
				 PAGE_ALIGN(size));
}

void kwo_plat_code_free(void *code, size_t size)
{
	if (code)
		kwo_kcall(kwo_fn.execmem_free, (unsigned long)code, 0);
}

#else /* before 6.10 */

void *kwo_plat_code_alloc(size_t size)
{
	struct vm_struct *area;
	void *code;

	if (!size || size > INT_MAX)
		return NULL;
	code = (void *)kwo_kcall(kwo_fn.module_alloc, PAGE_ALIGN(size), 0);
	if (!code)
		return NULL;
	area = (void *)kwo_kcall(kwo_fn.find_vm_area, (unsigned long)code, 0);
	if (!area) {
		kwo_kcall(kwo_fn.module_memfree, (unsigned long)code, 0);
		return NULL;
	}
	area->flags |= VM_FLUSH_RESET_PERMS;
	return code;
}

void kwo_plat_code_free(void *code, size_t size)
{
	if (code)
		kwo_kcall(kwo_fn.module_memfree, (unsigned long)code, 0);
}

#endif

#ifdef set_memory_rox
static int kwo_code_protect(unsigned long addr, int npages)
{
	return (int)kwo_kcall(kwo_fn.set_memory_rox, addr, npages);
}
#else
/* Read-only first, executable second: never W+X. */
static int kwo_code_protect(unsigned long addr, int npages)
{
	int ret = (int)kwo_kcall(kwo_fn.set_memory_ro, addr, npages);

	if (ret)
		return ret;
	return (int)kwo_kcall(kwo_fn.set_memory_x, addr, npages);
}
#endif

int kwo_plat_code_seal(void *code, size_t size)
{
	unsigned long addr = (unsigned long)code;

	flush_icache_range(addr, addr + size);
	return kwo_code_protect(addr, kwo_npages(size));
}
