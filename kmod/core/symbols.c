// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The code map of an object, for profilers (the userspace perf map, the
 * kernel's debugfs symbols file): where each defined function, each
 * array-call trampoline and the veneers lie in an instance's code.
 * Functions carry their length in FUNCS; trampolines do not, so a
 * trampoline is taken to end where the next function or trampoline starts
 * (alignment padding included), or at the end of CODE. That table is
 * built once per object, at load, so that listing symbols costs nothing
 * per line.
 */
#include "kwo_internal.h"

/* One trampoline: CODE offset, end, and the function it calls. */
struct kwo_tramp_sym {
	__u32 code_off;
	__u32 end;
	__u32 func;
};

static void tramp_swap(struct kwo_tramp_sym *a, struct kwo_tramp_sym *b)
{
	struct kwo_tramp_sym t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct kwo_tramp_sym *t, __u32 root, __u32 n)
{
	__u32 child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && t[child + 1].code_off > t[child].code_off)
			child++;
		if (t[root].code_off >= t[child].code_off)
			return;
		tramp_swap(&t[root], &t[child]);
		root = child;
	}
}

/* Heapsort by code_off: no recursion, no allocation, O(n log n). */
static void sort_tramps(struct kwo_tramp_sym *t, __u32 n)
{
	__u32 i;

	for (i = n / 2; i-- > 0;)
		sift_down(t, i, n);
	for (i = n; i-- > 1;) {
		tramp_swap(&t[0], &t[i]);
		sift_down(t, 0, i);
	}
}

/* The last trampoline starting below off, or n if none does. */
static __u32 tramp_before(const struct kwo_tramp_sym *t, __u32 n, __u32 off)
{
	__u32 lo = 0, hi = n;

	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (t[mid].code_off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : n;
}

/*
 * Collect the distinct trampolines (function exports and the start
 * function; exports of one function share one), sorted, and cut each at
 * the next piece of code.
 */
int kwo_symbols_init(struct kwo_object *obj)
{
	struct kwo_tramp_sym *t;
	__u32 i, n = 0, kept = 0, j;

	t = kwo_plat_zalloc(((size_t)obj->nexports + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < obj->nexports; i++) {
		if (obj->exports[i].kind != KWO_EXPORT_FUNC)
			continue;
		t[n].code_off = obj->exports[i].tramp;
		t[n++].func = obj->exports[i].index;
	}
	if (obj->start_tramp != KWO_NONE) {
		t[n].code_off = obj->start_tramp;
		t[n++].func = obj->start_func;
	}
	sort_tramps(t, n);
	for (i = 0; i < n; i++)
		if (!kept || t[kept - 1].code_off != t[i].code_off)
			t[kept++] = t[i];
	for (i = 0; i < kept; i++)
		t[i].end = i + 1 < kept ? t[i + 1].code_off : obj->code_len;
	for (i = 0; i < obj->nfuncs; i++) {
		j = tramp_before(t, kept, obj->funcs[i].code_off);
		if (j < kept && obj->funcs[i].code_off < t[j].end)
			t[j].end = obj->funcs[i].code_off;
	}
	obj->tramp_syms = t;
	obj->ntramp_syms = kept;
	return 0;
}

__u32 kwo_symbol_count(const struct kwo_object *obj)
{
	return obj->nfuncs + obj->ntramp_syms + 1;
}

int kwo_symbol_get(const struct kwo_object *obj, __u32 i,
		   struct kwo_symbol *sym)
{
	if (i < obj->nfuncs) {
		sym->kind = KWO_SYM_FUNC;
		sym->func = obj->nimports + i;
		sym->code_off = obj->funcs[i].code_off;
		sym->code_len = obj->funcs[i].code_len;
		return 0;
	}
	i -= obj->nfuncs;
	if (i < obj->ntramp_syms) {
		sym->kind = KWO_SYM_TRAMP;
		sym->func = obj->tramp_syms[i].func;
		sym->code_off = obj->tramp_syms[i].code_off;
		sym->code_len = obj->tramp_syms[i].end - sym->code_off;
		return 0;
	}
	if (i > obj->ntramp_syms)
		return -ENOENT;
	sym->kind = KWO_SYM_VENEERS;
	sym->func = KWO_NONE;
	sym->code_off = kwo_veneers_off(obj);
	sym->code_len = KWO_HOST_ID_COUNT * KWO_VENEER_SIZE;
	return 0;
}

const void *kwo_instance_code(const struct kwo_instance *inst, size_t *size)
{
	*size = inst->code_size;
	return inst->code;
}
