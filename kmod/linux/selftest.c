// SPDX-License-Identifier: GPL-2.0
/*
 * Load-time self-test of executable memory (module parameter selftest=1,
 * used by the QEMU harness): allocate, write a tiny function, seal, check
 * W^X in the page tables (x86: both the module-area mapping and its
 * direct-map alias), call it, free; many times, so that a leak or a
 * permission left behind shows up in the harness's checks.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>

#include "kwo_linux.h"
#include "../core/kwo_platform.h"

#define KWO_SELFTEST_ROUNDS 200

#ifdef CONFIG_X86
/* endbr64; mov eax, 42; ret */
static const u8 kwo_ret42[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0x2a, 0, 0, 0, 0xc3 };

/*
 * 0 if addr is mapped read-only and executable (exec: the code), or
 * read-only or not at all (the direct-map alias, which 7.x's cache of
 * read-only executable pages takes out of the direct map); else -EPERM.
 */
static int kwo_check_pte(unsigned long addr, bool exec)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || !(pte_flags(*pte) & _PAGE_PRESENT))
		return exec ? -EPERM : 0;
	if (pte_flags(*pte) & _PAGE_RW)
		return -EPERM;
	if (exec && (pte_flags(*pte) & _PAGE_NX))
		return -EPERM;
	return 0;
}

static int kwo_check_wx(void *code)
{
	unsigned long alias;
	int ret = kwo_check_pte((unsigned long)code, true);

	if (ret)
		return ret;
	alias = (unsigned long)page_address(vmalloc_to_page(code));
	return kwo_check_pte(alias, false);
}
#else
/* bti c; mov w0, #42; ret */
static const u32 kwo_ret42[] = { 0xd503245f, 0x52800540, 0xd65f03c0 };

static int kwo_check_wx(void *code)
{
	return 0;
}
#endif

static int kwo_selftest_once(bool check)
{
	void *code = kwo_plat_code_alloc(sizeof(kwo_ret42));
	int ret;

	if (!code)
		return -ENOMEM;
	memcpy(code, kwo_ret42, sizeof(kwo_ret42));
	ret = kwo_plat_code_seal(code, sizeof(kwo_ret42));
	if (!ret && check)
		ret = kwo_check_wx(code);
	if (!ret && ((int (*)(void))code)() != 42)
		ret = -EIO;
	kwo_plat_code_free(code, sizeof(kwo_ret42));
	return ret;
}

int kwo_selftest(void)
{
	int i, ret = 0;

	for (i = 0; !ret && i < KWO_SELFTEST_ROUNDS; i++) {
		ret = kwo_selftest_once(i == 0);
		cond_resched();
	}
	if (ret)
		pr_err("kwo: selftest: executable memory failed: %d\n", ret);
	else
		pr_info("kwo: selftest: executable memory ok (%d rounds, permissions checked)\n",
			KWO_SELFTEST_ROUNDS);
	return ret;
}
