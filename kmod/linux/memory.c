// SPDX-License-Identifier: GPL-2.0
/*
 * Linear memories in reserved kernel address space: kwo_plat_mem_* of
 * kwo_platform.h.
 *
 * A memory reserves KWO_MEM_RESERVE bytes of vmalloc space with
 * get_vm_area(), maps zeroed pages at its start with
 * vmap_pages_range_noflush() and maps more after them on memory.grow, so
 * its base never moves (the BPF arena does the same). Freeing clears the
 * PTEs and flushes the TLB with vunmap_range() before the pages go back:
 * free_vm_area()'s own flush is lazy. None of these three is exported on
 * 6.1, so they come from kallsyms (execmem.c); they keep their signatures
 * up to 6.12 at least (docs/abi.md). The page tables are init_mm's, reached only
 * through these helpers: init_mm is not exported and, on arm64, not even
 * in kallsyms.
 *
 * Reservations are counted module-wide and capped by max_memories (by
 * default a quarter of the vmalloc space): past it reserving fails with
 * -EMFILE, before vmalloc space runs out for the rest of the kernel.
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <asm/cacheflush.h>
#include <asm/pgtable.h>

#include "kwo_linux.h"
#include "../core/kwo_platform.h"

/*
 * Charged to the caller's memory cgroup; a guest asking for more than
 * there is fails its grow quietly rather than waking the OOM killer.
 */
#define KWO_MEM_GFP	(GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

struct kwo_plat_mem {
	struct vm_struct *area;
	unsigned long max_pages;	/* the memory's largest size */
	struct page **pages;	/* mapped from the base, in order */
	unsigned long npages;	/* mapped */
	unsigned long cap;	/* room in pages[] */
};

static struct {
	unsigned long get_vm_area, vmap_pages_range_noflush, vunmap_range;
} kwo_mfn;

static atomic_t kwo_nmems = ATOMIC_INIT(0);

int kwo_memory_init(void)
{
	static const struct {
		const char *name;
		unsigned long *addr;
	} syms[] = {
		{ "get_vm_area", &kwo_mfn.get_vm_area },
		{ "vmap_pages_range_noflush", &kwo_mfn.vmap_pages_range_noflush },
		{ "vunmap_range", &kwo_mfn.vunmap_range },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].addr = kwo_lookup(syms[i].name);
		if (!*syms[i].addr) {
			pr_err("kwo: kernel symbol %s not found\n",
			       syms[i].name);
			return -ENOENT;
		}
	}
	if (!kwo_param_max_memories)
		kwo_param_max_memories =
			(VMALLOC_END - VMALLOC_START) / KWO_MEM_RESERVE / 4;
	return 0;
}

/*
 * With KASAN_VMALLOC, get_vm_area() populates shadow for the whole area:
 * 1 GiB for a full reservation. Such debug kernels reserve the memory's
 * largest size plus a guard page instead, giving up the Spectre property
 * of the full reservation (the bounds checks stay).
 */
static unsigned long kwo_mem_reserve_size(u64 max_size)
{
	if (IS_ENABLED(CONFIG_KASAN_VMALLOC))
		return max_size + PAGE_SIZE;
	return KWO_MEM_RESERVE;
}

int kwo_plat_mem_reserve(__u64 max_size, struct kwo_plat_mem **out)
{
	struct kwo_plat_mem *mem;

	*out = NULL;
	if (atomic_inc_return(&kwo_nmems) > READ_ONCE(kwo_param_max_memories)) {
		atomic_dec(&kwo_nmems);
		return -EMFILE;
	}
	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (mem) {
		mem->max_pages = min(max_size, 4ULL << 30) >> PAGE_SHIFT;
		mem->area = (struct vm_struct *)
			kwo_kcall6(kwo_mfn.get_vm_area,
				   kwo_mem_reserve_size(max_size), VM_MAP,
				   0, 0, 0, 0);
	}
	if (!mem || !mem->area) {
		kfree(mem);
		atomic_dec(&kwo_nmems);
		return -ENOMEM;
	}
	*out = mem;
	return 0;
}

void *kwo_plat_mem_base(const struct kwo_plat_mem *mem)
{
	return mem->area->addr;
}

/* Room for need entries in pages[], doubling: growing stays linear. */
static int kwo_mem_room(struct kwo_plat_mem *mem, unsigned long need)
{
	unsigned long cap = min(max(need, 2 * mem->cap), mem->max_pages);
	struct page **pages;

	if (need <= mem->cap)
		return 0;
	pages = kvmalloc_array(cap, sizeof(*pages), KWO_MEM_GFP);
	if (!pages)
		return -ENOMEM;
	if (mem->npages)
		memcpy(pages, mem->pages, mem->npages * sizeof(*pages));
	kvfree(mem->pages);
	mem->pages = pages;
	mem->cap = cap;
	return 0;
}

/* Clears the PTEs of [start, end) and flushes the TLB over it. */
static void kwo_mem_unmap(unsigned long start, unsigned long end)
{
	kwo_kcall6(kwo_mfn.vunmap_range, start, end, 0, 0, 0, 0);
}

/* Pages being allocated by grows right now, in every instance. */
static atomic_long_t kwo_pages_pending = ATOMIC_LONG_INIT(0);

/*
 * Pages an unmovable allocation could still get: si_mem_available() less
 * the free pages of CMA areas, which only movable allocations may take
 * (the page allocator leaves them out of its watermark check for all
 * others). Memory pages and page tables are unmovable. Debian's arm64
 * kernel keeps 64 MiB of CMA: counted in, a 1 GiB machine filled by
 * one-page grows had nothing left but CMA pages, and the next ordinary
 * allocation (a pipe write) woke the OOM killer (finding 10 on arm64).
 */
static long kwo_mem_available(void)
{
	return si_mem_available() -
	       (long)global_zone_page_state(NR_FREE_CMA_PAGES);
}

/*
 * The pages come with __GFP_RETRY_MAYFAIL and fail quietly, but the page
 * tables vmap_pages_range_noflush() then allocates for them are plain
 * GFP_KERNEL, and so is the rest of the kernel: once the pages have taken
 * the last free memory, those wake the OOM killer (fuzz/README.md,
 * finding 10). So a grow of n pages is refused up front unless, with the
 * grows in flight, it leaves its page tables and a reserve (1/32 of RAM,
 * at most 64 MiB) available to unmovable allocations. On 0 the n pages
 * count as pending until kwo_plat_mem_map() takes them back.
 */
static int kwo_mem_claim(unsigned long n)
{
	unsigned long reserve = min_t(unsigned long, totalram_pages() / 32,
				      SZ_64M >> PAGE_SHIFT);
	unsigned long tables = n / PTRS_PER_PTE + 4;
	long pending = atomic_long_add_return(n, &kwo_pages_pending);

	if (kwo_mem_available() - pending < (long)(tables + reserve)) {
		atomic_long_sub(n, &kwo_pages_pending);
		return -ENOMEM;
	}
	return 0;
}

/* Allocate and map pages [first, last) after the mapped ones. */
static int kwo_mem_fill(struct kwo_plat_mem *mem, unsigned long first,
			unsigned long last)
{
	unsigned long base = (unsigned long)mem->area->addr, i;
	unsigned long start = base + (first << PAGE_SHIFT);
	unsigned long end = base + (last << PAGE_SHIFT);
	int ret;

	ret = kwo_mem_room(mem, last);
	if (ret)
		return ret;
	for (i = first; i < last; i++) {
		mem->pages[i] = alloc_page(KWO_MEM_GFP | __GFP_ZERO);
		if (!mem->pages[i])
			goto free_pages;
		if (!(i % 512)) {
			cond_resched();
			/* A killed task stops filling a large memory. */
			if (fatal_signal_pending(current)) {
				i++;
				ret = -EINTR;
				goto free_pages;
			}
		}
	}
	/*
	 * The sixth argument is the gfp_mask 6.19 added (for KMSAN's
	 * temporary arrays; GFP_KERNEL, as vmap_pages_range() passes); an
	 * older kernel's five-argument function never reads it.
	 */
	ret = (int)kwo_kcall6(kwo_mfn.vmap_pages_range_noflush, start, end,
			      pgprot_val(PAGE_KERNEL),
			      (unsigned long)(mem->pages + first), PAGE_SHIFT,
			      GFP_KERNEL);
	flush_cache_vmap(start, end);
	if (ret) {
		/* Take back what a failed call mapped before the pages go. */
		kwo_mem_unmap(start, end);
		goto free_pages;
	}
	mem->npages = last;
	return 0;
free_pages:
	while (i-- > first)
		__free_page(mem->pages[i]);
	return ret == -EINTR ? ret : -ENOMEM;
}

int kwo_plat_mem_map(struct kwo_plat_mem *mem, __u64 old_size,
		     __u64 new_size)
{
	unsigned long first = old_size >> PAGE_SHIFT;
	unsigned long last = new_size >> PAGE_SHIFT;
	int ret;

	/* Never map an empty range: vmap_pages_range_noflush() WARNs. */
	if (WARN_ON_ONCE(first != mem->npages || last <= first ||
			 last > mem->max_pages ||
			 !PAGE_ALIGNED(new_size)))
		return -EINVAL;
	ret = kwo_mem_claim(last - first);
	if (ret)
		return ret;
	ret = kwo_mem_fill(mem, first, last);
	atomic_long_sub(last - first, &kwo_pages_pending);
	return ret;
}

void kwo_plat_mem_free(struct kwo_plat_mem *mem)
{
	unsigned long base, i;

	if (!mem)
		return;
	base = (unsigned long)mem->area->addr;
	if (mem->npages)
		kwo_mem_unmap(base, base + mem->npages * PAGE_SIZE);
	free_vm_area(mem->area);
	for (i = 0; i < mem->npages; i++)
		__free_page(mem->pages[i]);
	kvfree(mem->pages);
	kfree(mem);
	atomic_dec(&kwo_nmems);
}
