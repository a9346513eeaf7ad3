// SPDX-License-Identifier: GPL-2.0
/*
 * Observability: global counters, the registry of live instances and
 * three root-only (0400) debugfs files in /sys/kernel/debug/kwo/:
 *
 *   stats      "NAME VALUE" lines: loads, failed loads, live instances,
 *              invokes, exits, traps in all and by kind, yields, time
 *              spent in Wasm
 *   instances  a header line, then one line per live instance
 *   symbols    "START END kwo:NAME:FUNC" for every piece of code of every
 *              live instance: kernel addresses, so opening it also takes
 *              CAP_SYSLOG, as /proc/kallsyms does
 *
 * The counters are per-CPU and summed when read: the call path pays an
 * increment, never a shared cache line. Without debugfs (not built, or
 * debugfs=off) the files are missing and the module works as before.
 * Text fields (comm, names) are escaped so that every line splits on
 * white space: a byte up to 0x20, 0x7f or '\' reads as \ooo (octal), as
 * in /proc/mounts. docs/debugging.md describes the formats.
 */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "kwo_linux.h"
#include "../core/kwo_core.h"

/* Longest function name printed in symbols (as KSYM_NAME_LEN). */
#define KWO_SYM_NAME_MAX	511

/* Every field a u64: summed as an array. */
struct kwo_stats {
	u64 loads;
	u64 load_failures;
	u64 invokes;
	u64 exits;
	u64 yields;
	u64 wasm_ns;
	u64 traps[KWO_TRAP_COUNT];
};

static DEFINE_PER_CPU(struct kwo_stats, kwo_stats);

/* The registry: live instances in load order, and their number. */
static DEFINE_MUTEX(kwo_obs_lock);
static LIST_HEAD(kwo_obs_list);
static u64 kwo_obs_live;
static atomic64_t kwo_obs_ids = ATOMIC64_INIT(0);

static struct dentry *kwo_debugfs_dir;

/* stats lines "trap_NAME": KWO_TRAP_* in lower case, by code. */
static const char *const kwo_trap_names[KWO_TRAP_COUNT] = {
	[KWO_TRAP_UNREACHABLE] = "unreachable",
	[KWO_TRAP_INT_DIV_BY_ZERO] = "int_div_by_zero",
	[KWO_TRAP_INT_OVERFLOW] = "int_overflow",
	[KWO_TRAP_BAD_CONVERSION] = "bad_conversion",
	[KWO_TRAP_MEMORY_OOB] = "memory_oob",
	[KWO_TRAP_TABLE_OOB] = "table_oob",
	[KWO_TRAP_UNDEFINED_ELEMENT] = "undefined_element",
	[KWO_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized_element",
	[KWO_TRAP_SIGNATURE_MISMATCH] = "signature_mismatch",
	[KWO_TRAP_STACK_EXHAUSTED] = "stack_exhausted",
	[KWO_TRAP_INTERRUPTED] = "interrupted",
	[KWO_TRAP_FUEL_EXHAUSTED] = "fuel_exhausted",
};

void kwo_stat_load(bool ok)
{
	if (ok)
		this_cpu_inc(kwo_stats.loads);
	else
		this_cpu_inc(kwo_stats.load_failures);
}

void kwo_stat_ended(const struct kwo_call *call)
{
	if (call->status == KWO_STATUS_EXIT)
		this_cpu_inc(kwo_stats.exits);
	else if (call->status == KWO_STATUS_TRAP &&
		 call->trap_code < KWO_TRAP_COUNT)
		this_cpu_inc(kwo_stats.traps[call->trap_code]);
}

void kwo_stat_invoke(struct kwo_obs *o, const struct kwo_call *call, u64 ns,
		     u64 mem_size)
{
	this_cpu_inc(kwo_stats.invokes);
	this_cpu_add(kwo_stats.wasm_ns, ns);
	kwo_stat_ended(call);
	WRITE_ONCE(o->invokes, o->invokes + 1);
	if (call->status == KWO_STATUS_TRAP)
		WRITE_ONCE(o->traps, o->traps + 1);
	WRITE_ONCE(o->wasm_ns, o->wasm_ns + ns);
	WRITE_ONCE(o->mem_size, mem_size);
}

void kwo_stat_yield(void)
{
	this_cpu_inc(kwo_stats.yields);
}

void kwo_obs_add(struct kwo_obs *o, const struct kwo_object *obj,
		 const struct kwo_instance *inst, u32 checksum, u64 object_len)
{
	u8 *base;

	o->obj = obj;
	o->inst = inst;
	o->checksum = checksum;
	o->object_len = object_len;
	kwo_memory_get(inst, &base, &o->mem_size);
	/* The global pid: debugfs lives in the initial namespaces. */
	o->pid = task_tgid_nr(current);
	get_task_comm(o->comm, current);
	o->id = atomic64_inc_return(&kwo_obs_ids);
	mutex_lock(&kwo_obs_lock);
	list_add_tail(&o->node, &kwo_obs_list);
	kwo_obs_live++;
	mutex_unlock(&kwo_obs_lock);
}

/* Safe on an instance that was never added (id 0). */
void kwo_obs_del(struct kwo_obs *o)
{
	if (!o->id)
		return;
	mutex_lock(&kwo_obs_lock);
	list_del(&o->node);
	kwo_obs_live--;
	mutex_unlock(&kwo_obs_lock);
}

int kwo_obs_set_name(struct kwo_obs *o, const struct kwo_name *req)
{
	size_t len = strnlen(req->name, KWO_NAME_LEN), i;
	u8 c;

	if (!len || len == KWO_NAME_LEN || req->reserved[0] ||
	    req->reserved[1])
		return -EINVAL;
	for (i = 0; i < KWO_NAME_LEN; i++) {
		c = req->name[i];
		if (i < len ? c < 0x20 || c == 0x7f : c)
			return -EINVAL;
	}
	mutex_lock(&kwo_obs_lock);
	memcpy(o->name, req->name, KWO_NAME_LEN);
	mutex_unlock(&kwo_obs_lock);
	return 0;
}

/* len bytes of s, escaped (see the top of this file); "-" if empty. */
static void kwo_seq_text(struct seq_file *m, const char *s, size_t len)
{
	size_t i;
	u8 c;

	if (!len)
		seq_putc(m, '-');
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c <= ' ' || c == 0x7f || c == '\\')
			seq_printf(m, "\\%03o", c);
		else
			seq_putc(m, c);
	}
}

/* Under kwo_obs_lock. */
static void kwo_seq_obs_name(struct seq_file *m, const struct kwo_obs *o)
{
	if (o->name[0])
		kwo_seq_text(m, o->name, strlen(o->name));
	else
		seq_printf(m, "crc-%08x", o->checksum);
}

static int kwo_stats_show(struct seq_file *m, void *v)
{
	struct kwo_stats sum = { 0 };
	u64 *total = (u64 *)&sum, traps = 0, live;
	const u64 *one;
	size_t i;
	int cpu;

	BUILD_BUG_ON(sizeof(sum) % sizeof(u64));
	for_each_possible_cpu(cpu) {
		one = (const u64 *)per_cpu_ptr(&kwo_stats, cpu);
		for (i = 0; i < sizeof(sum) / sizeof(u64); i++)
			total[i] += READ_ONCE(one[i]);
	}
	mutex_lock(&kwo_obs_lock);
	live = kwo_obs_live;
	mutex_unlock(&kwo_obs_lock);
	for (i = 0; i < KWO_TRAP_COUNT; i++)
		traps += sum.traps[i];
	seq_printf(m, "loads %llu\n", sum.loads);
	seq_printf(m, "load_failures %llu\n", sum.load_failures);
	seq_printf(m, "instances %llu\n", live);
	seq_printf(m, "invokes %llu\n", sum.invokes);
	seq_printf(m, "exits %llu\n", sum.exits);
	seq_printf(m, "traps %llu\n", traps);
	for (i = 0; i < KWO_TRAP_COUNT; i++)
		if (kwo_trap_names[i])
			seq_printf(m, "trap_%s %llu\n", kwo_trap_names[i],
				   sum.traps[i]);
	seq_printf(m, "yields %llu\n", sum.yields);
	seq_printf(m, "wasm_ns %llu\n", sum.wasm_ns);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kwo_stats);

/* instances: the list head stands for the header line. */
static void *kwo_instances_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&kwo_obs_lock);
	return seq_list_start_head(&kwo_obs_list, *pos);
}

static void *kwo_instances_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &kwo_obs_list, pos);
}

static void kwo_obs_unlock(struct seq_file *m, void *v)
{
	mutex_unlock(&kwo_obs_lock);
}

static int kwo_instances_show(struct seq_file *m, void *v)
{
	const struct kwo_obs *o;

	if (v == &kwo_obs_list) {
		seq_puts(m, "# id pid comm name object_bytes memory_bytes invokes traps wasm_ns\n");
		return 0;
	}
	o = list_entry(v, struct kwo_obs, node);
	seq_printf(m, "%llu %d ", o->id, o->pid);
	kwo_seq_text(m, o->comm, strnlen(o->comm, sizeof(o->comm)));
	seq_putc(m, ' ');
	kwo_seq_obs_name(m, o);
	seq_printf(m, " %llu %llu %llu %llu %llu\n", o->object_len,
		   READ_ONCE(o->mem_size), READ_ONCE(o->invokes),
		   READ_ONCE(o->traps), READ_ONCE(o->wasm_ns));
	return 0;
}

static const struct seq_operations kwo_instances_sops = {
	.start = kwo_instances_start,
	.next = kwo_instances_next,
	.stop = kwo_obs_unlock,
	.show = kwo_instances_show,
};
DEFINE_SEQ_ATTRIBUTE(kwo_instances);

/* symbols: a position is symbol i of instance o. */
struct kwo_sym_iter {
	struct kwo_obs *o;
	u32 i;
};

static void *kwo_symbols_start(struct seq_file *m, loff_t *pos)
{
	struct kwo_sym_iter *it = m->private;
	loff_t left = *pos;
	u32 n;

	mutex_lock(&kwo_obs_lock);
	list_for_each_entry(it->o, &kwo_obs_list, node) {
		n = kwo_symbol_count(it->o->obj);
		if (left < n) {
			it->i = left;
			return it;
		}
		left -= n;
	}
	return NULL;
}

static void *kwo_symbols_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct kwo_sym_iter *it = v;

	++*pos;
	if (++it->i < kwo_symbol_count(it->o->obj))
		return it;
	if (list_is_last(&it->o->node, &kwo_obs_list))
		return NULL;
	it->o = list_next_entry(it->o, node);
	it->i = 0;
	return it;
}

/* FUNC of kwo:NAME:FUNC: the name section's name, or func[N]. */
static void kwo_seq_func(struct seq_file *m, const struct kwo_object *obj,
			 u32 func)
{
	u32 len;
	const char *name = kwo_func_name(obj, func, &len);

	if (name)
		kwo_seq_text(m, name, min_t(u32, len, KWO_SYM_NAME_MAX));
	else
		seq_printf(m, "func[%u]", func);
}

static int kwo_symbols_show(struct seq_file *m, void *v)
{
	const struct kwo_sym_iter *it = v;
	const struct kwo_obs *o = it->o;
	struct kwo_symbol sym;
	unsigned long start;
	size_t size;

	if (kwo_symbol_get(o->obj, it->i, &sym))
		return 0;
	start = (unsigned long)kwo_instance_code(o->inst, &size) + sym.code_off;
	seq_printf(m, "%016lx %016lx kwo:", start, start + sym.code_len);
	kwo_seq_obs_name(m, o);
	seq_putc(m, ':');
	if (sym.kind == KWO_SYM_VENEERS) {
		seq_puts(m, "[veneers]\n");
		return 0;
	}
	kwo_seq_func(m, o->obj, sym.func);
	seq_puts(m, sym.kind == KWO_SYM_TRAMP ? "[trampoline]\n" : "\n");
	return 0;
}

static const struct seq_operations kwo_symbols_sops = {
	.start = kwo_symbols_start,
	.next = kwo_symbols_next,
	.stop = kwo_obs_unlock,
	.show = kwo_symbols_show,
};

static int kwo_symbols_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYSLOG))
		return -EPERM;
	return seq_open_private(file, &kwo_symbols_sops,
				sizeof(struct kwo_sym_iter));
}

static const struct file_operations kwo_symbols_fops = {
	.owner = THIS_MODULE,
	.open = kwo_symbols_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/* A missing debugfs is no error: the counters count all the same. */
void kwo_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("kwo", NULL);

	if (IS_ERR(dir))
		return;
	debugfs_create_file("stats", 0400, dir, NULL, &kwo_stats_fops);
	debugfs_create_file("instances", 0400, dir, NULL, &kwo_instances_fops);
	debugfs_create_file("symbols", 0400, dir, NULL, &kwo_symbols_fops);
	kwo_debugfs_dir = dir;
}

void kwo_debugfs_exit(void)
{
	debugfs_remove_recursive(kwo_debugfs_dir);
}
