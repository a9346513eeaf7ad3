// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The `object` fuzz target: the C core's object validator, instantiation
 * and invocation (kmod/core/ with the userspace platform), built with
 * AddressSanitizer and UBSan, fed structure-aware mutations of real
 * objects. Shared by the libFuzzer binary and the stable smoke driver
 * (smoke.c); see fuzz/README.md.
 *
 * What one input asserts: kwo_object_load() refuses with -EINVAL,
 * -ENOEXEC or -ENOMEM and a message, or accepts; the accepted object's
 * exports read back in bounds; instantiation succeeds, traps with a valid
 * trap code, or fails with a documented errno; every nullary export
 * returns, traps or exits within a small fuel and time budget. Sanitizer
 * reports abort the run.
 *
 * What it does not do: run machine code the object's tables no longer
 * describe. The core trusts the code to match the object's contract
 * (header flags, frame sizes, functions, types, tables, memory, globals'
 * types, exports, relocations, trap sites; see kwo_fuzz_contract()): that match
 * is the compiler's and the machine-code checker's job, fuzzed by the
 * `compile` target. So code runs (start function, exports) only when an
 * accepted object keeps the contract of one of the seeds; an object with
 * another contract is instantiated only when it has no start function.
 * Data and element segments, global values, names, counts of segments and
 * trap-site diagnostics stay free: the core must defend against them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwo_core.h"
#include "harness.h"
#include "mutate.h"

#define LOG_LEN		256
#define MAX_SEEDS	256
#define CALL_FUEL	20000
#define CALL_TIMEOUT_NS	(20 * 1000 * 1000ull)

static __u64 seed_contracts[MAX_SEEDS];
static unsigned int nseed_contracts;

struct kwo_fuzz_stats kwo_fuzz_stats;

/* A violated property: report it and abort, so libFuzzer keeps the input. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "object fuzz: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static int contract_known(__u64 h)
{
	unsigned int i;

	for (i = 0; i < nseed_contracts; i++)
		if (seed_contracts[i] == h)
			return 1;
	return 0;
}

/* Touch every byte the API hands out, so that ASan sees a stray pointer. */
static __u32 read_exports(const struct kwo_object *obj)
{
	__u32 n = kwo_export_count(obj), i, sum = 0, j;
	struct kwo_export_info info;

	for (i = 0; i < n; i++) {
		if (kwo_export_get(obj, i, &info))
			fail("export %u of %u not readable", i, n);
		for (j = 0; j < info.name_len; j++)
			sum += (__u8)info.name[j];
		if (info.kind != KWO_EXPORT_FUNC)
			continue;
		for (j = 0; j < info.param_count; j++)
			sum += info.params[j];
		for (j = 0; j < info.result_count; j++)
			sum += info.results[j];
		kwo_func_name(obj, info.index, &j);
	}
	return sum;
}

/* Every trap walks its backtrace into this (one call at a time). */
static struct kwo_bt_frame frames[KWO_BACKTRACE_MAX];

static void check_call(const struct kwo_call *call, const char *what)
{
	__u32 i;

	if (call->status > KWO_STATUS_EXIT)
		fail("%s: call status %u", what, call->status);
	if (call->status == KWO_STATUS_TRAP &&
	    call->trap_code >= KWO_TRAP_COUNT)
		fail("%s: trap code %u", what, call->trap_code);
	if (call->nframes > KWO_BACKTRACE_MAX)
		fail("%s: %u backtrace frames", what, call->nframes);
	for (i = 0; i < call->nframes; i++)
		if (frames[i].func == KWO_NONE)
			fail("%s: backtrace frame %u has no function", what, i);
}

static void budget(struct kwo_call *call)
{
	kwo_call_init(call);
	call->fuel = CALL_FUEL;
	call->timeout_ns = CALL_TIMEOUT_NS;
	call->frames = frames;
	call->frames_cap = KWO_BACKTRACE_MAX;
}

static void invoke_nullary_exports(const struct kwo_object *obj,
				   struct kwo_instance *inst)
{
	__u32 n = kwo_export_count(obj), i;
	struct kwo_export_info info;
	struct kwo_call call;
	__u64 vals[16];
	__u8 *base;
	__u64 size;
	int rc;

	for (i = 0; i < n; i++) {
		kwo_export_get(obj, i, &info);
		if (info.kind != KWO_EXPORT_FUNC || info.param_count ||
		    info.result_count > 16)
			continue;
		budget(&call);
		memset(vals, 0, sizeof(vals));
		rc = kwo_invoke(inst, i, vals, 16, &call);
		if (rc)
			fail("invoke of export %u: %d", i, rc);
		check_call(&call, "invoke");
		kwo_fuzz_stats.invoked++;
	}
	/* The memory the core reports must be mapped to its last byte. */
	kwo_memory_get(inst, &base, &size);
	if (size)
		kwo_fuzz_stats.memory_bytes_seen += base[0] + base[size - 1];
}

static void instantiate(const struct kwo_object *obj, int run_code)
{
	struct kwo_instance *inst;
	struct kwo_config cfg;
	struct kwo_call call;
	char log[LOG_LEN];
	int rc;

	kwo_config_init(&cfg);
	cfg.max_memory_pages = 64;
	cfg.max_table_elems = 10000;
	budget(&call);
	rc = kwo_instance_new(obj, &cfg, &call, &inst, log, sizeof(log));
	if (rc == KWO_TRAPPED) {
		if (call.status == KWO_STATUS_OK)
			fail("instantiation trapped with status ok");
		check_call(&call, "instantiation");
		kwo_fuzz_stats.instance_traps++;
		return;
	}
	if (rc) {
		if (rc != -ENOMEM && rc != -E2BIG && rc != -ERANGE)
			fail("instantiation: undocumented error %d (%s)", rc,
			     log);
		return;
	}
	kwo_fuzz_stats.instantiated++;
	if (run_code)
		invoke_nullary_exports(obj, inst);
	kwo_instance_free(inst);
}

int kwo_fuzz_one(const __u8 *data, size_t size)
{
	struct kwo_object *obj;
	char log[LOG_LEN];
	int rc, known;

	memset(log, 'x', sizeof(log));
	rc = kwo_object_load(data, size, &obj, log, sizeof(log));
	if (!memchr(log, 0, sizeof(log)))
		fail("log not NUL-terminated");
	if (rc) {
		if (rc != -EINVAL && rc != -ENOEXEC && rc != -ENOMEM)
			fail("load: undocumented error %d (%s)", rc, log);
		if (!strcmp(log, "ok") || !log[0])
			fail("load refused (%d) without a message", rc);
		kwo_fuzz_stats.rejected++;
		return rc;
	}
	kwo_fuzz_stats.accepted++;
	read_exports(obj);
	known = contract_known(kwo_fuzz_contract(data, size));
	if (known || kwo_fuzz_le32(data + 48) == KWO_NONE)
		instantiate(obj, known);
	kwo_object_free(obj);
	return 0;
}

int kwo_fuzz_add_seed(const __u8 *data, size_t size)
{
	struct kwo_object *obj;
	char log[LOG_LEN];
	int rc = kwo_object_load(data, size, &obj, log, sizeof(log));

	if (rc) {
		fprintf(stderr, "object fuzz: a seed is refused: %s\n", log);
		return rc;
	}
	kwo_object_free(obj);
	if (nseed_contracts < MAX_SEEDS)
		seed_contracts[nseed_contracts++] = kwo_fuzz_contract(data, size);
	return 0;
}

__u8 *kwo_fuzz_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	__u8 *buf = NULL;
	long len;

	if (!f)
		return NULL;
	len = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	if (len >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(len ? len : 1);
		if (buf && fread(buf, 1, len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*size = len;
	}
	fclose(f);
	return buf;
}

int kwo_fuzz_load_seeds(const char *dir, kwo_fuzz_seed_fn each)
{
	struct dirent **names;
	int n, i, loaded = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail("cannot read the seed directory %s", dir);
	for (i = 0; i < n; i++) {
		char path[4096];
		size_t size;
		__u8 *buf;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (!strstr(path, ".kwo"))
			continue;
		buf = kwo_fuzz_read_file(path, &size);
		if (!buf)
			fail("cannot read %s", path);
		if (kwo_fuzz_add_seed(buf, size))
			fail("seed %s refused: regenerate with fuzz/object/seeds.sh",
			     path);
		if (each)
			each(path, buf, size);
		free(buf);
		loaded++;
	}
	free(names);
	return loaded;
}
