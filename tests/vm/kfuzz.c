// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz: the `kernel` fuzz target (fuzz/README.md), run in the QEMU VM.
 * Threads share one /dev/kwo descriptor and a pool of instance fds and
 * drive every ioctl with random input for a fixed time: requests with
 * random sizes, directions and numbers, random flags, reserved fields,
 * lengths and pointers (NULL, unmapped, kernel addresses, read-only
 * pages; backtrace arrays too), loads in both request sizes (the older
 * one must leave the bytes after it alone), objects mutated as the
 * object target mutates them (fuzz/object/mutate.c) loaded and invoked
 * with small budgets, export names and argument types right or wrong,
 * instance fds duplicated and closed in any order while other threads
 * call them.
 *
 * It checks that every ioctl returns a result or one of the documented
 * errnos, and that the outputs are in range; the harness (guest/init) then
 * checks that the kernel log holds no oops, WARNING, BUG or KASAN report.
 * Code only runs from mutated objects that keep their seed's code
 * contract (kwo_fuzz_contract()): the kernel trusts the machine code to
 * match the object's tables, which the compiler and `kwo check` ensure.
 *
 *	kfuzz SECONDS SEED THREADS OBJ.kwo...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/kwo.h>
#include "kwo_abi.h"
#include "mutate.h"

#define POOL		16
#define MAX_SEEDS	64
#define MAX_THREADS	16

/* A function export of a seed: its name and parameter types. */
struct export {
	const char *name;
	__u32 name_len;
	__u32 nparams;
	__u8 params[KWO_MAX_VALS];
};

struct seed {
	unsigned char *bytes;
	size_t len;
	__u64 contract;
	struct export *exports;
	__u32 nexports;
};

static struct seed seeds[MAX_SEEDS];
static int nseeds;

static int dev;
static int pipe_fds[2];
static int pool[POOL];		/* instance fds, -1 for none */
static int pool_seed[POOL];	/* the seed each was loaded from */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t deadline;
static void *unmapped, *readonly;
static int failures;		/* atomic */

static struct {
	unsigned long ioctls, loads, instances, invokes, ran, closes;
} counts;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("KFUZZ FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static __u32 below(__u64 *s, __u32 n)
{
	return n ? rnd(s) % n : 0;
}

/* An address for a pointer field: mostly good, sometimes anything. */
static __u64 pointer(__u64 *s, void *good)
{
	if (below(s, 4))
		return (uintptr_t)good;
	switch (below(s, 5)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)unmapped;
	case 2:
		return 0xffff888000000000ull + below(s, 1u << 30);
	case 3:
		return (uintptr_t)readonly;
	default:
		return rnd(s);
	}
}

/* A length: mostly small and right, sometimes on or past a limit. */
static __u32 length(__u64 *s, __u32 good)
{
	static const __u32 odd[] = {
		0, 1, 7, 4095, 4096, 65536, KWO_MAX_NAME, KWO_MAX_NAME + 1,
		KWO_MAX_ARGS_ENV + 1, KWO_MAX_IO + 1, KWO_MAX_OBJECT_SIZE + 1,
		0x7fffffff, 0xffffffff,
	};

	if (below(s, 4))
		return good;
	return below(s, 2) ? odd[below(s, sizeof(odd) / sizeof(odd[0]))] :
			     (__u32)rnd(s);
}

static int errno_ok(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOENT: case ENOTTY: case E2BIG:
	case ENOEXEC: case EPERM: case ERANGE: case ECANCELED: case EBADF:
	case ENOMEM: case EINTR: case EMFILE: case EACCES:
		return 1;
	}
	return 0;
}

static long checked_ioctl(int fd, unsigned long cmd, void *arg,
			  const char *what)
{
	long ret = ioctl(fd, cmd, arg);

	__atomic_add_fetch(&counts.ioctls, 1, __ATOMIC_RELAXED);
	if (ret < 0 && !errno_ok(errno))
		fail("%s: undocumented errno %d (%s)", what, errno,
		     strerror(errno));
	return ret < 0 ? -errno : ret;
}

/* An instance fd (or -1) and, in *seed, the seed it was loaded from. */
static int pool_pick(__u64 *s, int *seed)
{
	int fd, i = below(s, POOL);

	pthread_mutex_lock(&pool_lock);
	fd = pool[i];
	if (seed)
		*seed = pool_seed[i];
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* Put fd in a free slot, or in a random one, closing what was there. */
static void pool_put(__u64 *s, int fd, int seed)
{
	int i, slot = -1, victim = -1;

	pthread_mutex_lock(&pool_lock);
	for (i = 0; i < POOL && slot < 0; i++)
		if (pool[i] < 0)
			slot = i;
	if (slot < 0) {
		slot = below(s, POOL);
		victim = pool[slot];
	}
	pool[slot] = fd;
	pool_seed[slot] = seed;
	pthread_mutex_unlock(&pool_lock);
	if (victim >= 0) {
		close(victim);
		__atomic_add_fetch(&counts.closes, 1, __ATOMIC_RELAXED);
	}
}

static void pool_close_one(__u64 *s)
{
	int i = below(s, POOL), fd;

	pthread_mutex_lock(&pool_lock);
	fd = pool[i];
	pool[i] = -1;
	pthread_mutex_unlock(&pool_lock);
	if (fd >= 0) {
		close(fd);
		__atomic_add_fetch(&counts.closes, 1, __ATOMIC_RELAXED);
	}
}

static void check_trap(const struct kwo_trap_report *t, __u32 status,
		       const char *what)
{
	if (status > KWO_STATUS_EXIT)
		fail("%s: status %u", what, status);
	if (status == KWO_STATUS_TRAP && t->code >= KWO_TRAP_COUNT)
		fail("%s: trap code %u", what, t->code);
}

/*
 * Streamed stdio: none, our pipe's ends (nobody reads it: a full pipe
 * makes the program wait for its time budget), /dev/kwo, or no fd; never
 * the console, where mutated output could look like an oops to the judge.
 */
static void random_stdio(__u64 *s, __s32 stdio[3])
{
	int choices[] = { -1, pipe_fds[0], pipe_fds[1], dev, 999 };
	int i;

	for (i = 0; i < 3; i++)
		stdio[i] = choices[below(s, 5)];
}

/*
 * KWO_LOAD_FILES: fds of random_stdio()'s kinds plus one below -1
 * (EINVAL), behind a good or bad pointer, with a sane or wild count; with
 * or without the flag (without it, nonzero fields are EINVAL).
 */
static void random_files(__u64 *s, struct kwo_load *req, __s32 files[4])
{
	random_stdio(s, files);
	files[3] = -2;
	req->files = pointer(s, files);
	req->nfiles = below(s, 4) ? 1 + below(s, 4) : (__u32)rnd(s);
	if (!below(s, 8))
		req->reserved = (__u32)rnd(s);
	if (below(s, 2))
		req->flags |= KWO_LOAD_FILES;
}

/*
 * A start-function backtrace array (bad ones too) for KWO_IOC_LOAD,
 * sometimes a nonzero reserved2 word (EINVAL) or output field (ignored).
 */
static void random_load_frames(__u64 *s, struct kwo_load *req,
			       struct kwo_frame frames[8])
{
	if (below(s, 2)) {
		req->frames = pointer(s, frames);
		req->frames_cap = length(s, 8);
		if (req->frames == (uintptr_t)frames && req->frames_cap > 8)
			req->frames_cap = 8;
	}
	if (!below(s, 16))
		req->reserved2[below(s, 3)] = rnd(s);
	if (!below(s, 16)) {
		req->nframes = rnd(s);
		req->out_flags = rnd(s);
	}
}

/* What a load that ran (fd, or -ECANCELED) says about its backtrace. */
static void check_load_frames(const struct kwo_load *req, int fd)
{
	if (req->nframes > KWO_MAX_FRAMES || req->nframes > req->frames_cap ||
	    (req->nframes && (fd != -ECANCELED || req->status != KWO_STATUS_TRAP)))
		fail("load: %u backtrace frames", req->nframes);
	if ((req->out_flags & ~KWO_OUT_FRAMES_TRUNC) ||
	    (req->out_flags && !req->nframes))
		fail("load: out_flags %#x", req->out_flags);
}

/*
 * An older kwo's request (KWO_IOC_LOAD_VER0) must leave the bytes after
 * its KWO_LOAD_SIZE_VER0 alone, whatever they hold.
 */
#define TAIL_FILL	0xa7

static void fill_tail(struct kwo_load *req)
{
	memset((char *)req + KWO_LOAD_SIZE_VER0, TAIL_FILL,
	       sizeof(*req) - KWO_LOAD_SIZE_VER0);
}

static void check_tail(const struct kwo_load *req)
{
	const unsigned char *p = (const unsigned char *)req;
	size_t i;

	for (i = KWO_LOAD_SIZE_VER0; i < sizeof(*req); i++)
		if (p[i] != TAIL_FILL) {
			fail("load: an old request's byte %zu written", i);
			return;
		}
}

/* A mutated seed, or the seed itself; *runs says whether code may run. */
static unsigned char *mutated_object(__u64 *s, int *seed, size_t *len,
				     int *runs)
{
	const struct seed *sd = &seeds[*seed = below(s, nseeds)];
	size_t max = 2 * sd->len + 256;
	unsigned char *b = malloc(max);

	if (!b)
		return NULL;
	memcpy(b, sd->bytes, sd->len);
	*len = sd->len;
	if (below(s, 4))
		*len = kwo_fuzz_mutate(b, sd->len, max, (__u32)rnd(s));
	*runs = kwo_fuzz_contract(b, *len) == sd->contract;
	return b;
}

static void op_load(__u64 *s)
{
	char log[256], args[32] = "prog\0-x\0", env[32] = "A=B\0";
	struct kwo_load req = { 0 };
	struct kwo_frame frames[8];
	__s32 files[4];
	unsigned char *obj;
	size_t len;
	int runs, fd, seed, old = !below(s, 8);

	obj = mutated_object(s, &seed, &len, &runs);
	if (!obj)
		return;
	/* Code of another contract must not run: no start function for it. */
	if (!runs && len >= 64 && kwo_fuzz_le32(obj + 48) != KWO_NONE) {
		free(obj);
		return;
	}
	req.object = below(s, 16) ? (uintptr_t)obj : pointer(s, obj);
	req.object_len = below(s, 16) ? len : length(s, len);
	/* Never KWO_LOAD_PRINTK: mutated output must not reach the log. */
	req.flags = below(s, 8) ? 0 : (__u32)rnd(s) & ~KWO_LOAD_PRINTK;
	req.log_buf = pointer(s, log);
	req.log_size = length(s, sizeof(log));
	if (req.log_buf == (uintptr_t)log && req.log_size > sizeof(log))
		req.log_size = sizeof(log);
	if (below(s, 4)) {
		req.args = pointer(s, args);
		req.args_len = below(s, 2) ? 8 : length(s, 8);
		req.env = pointer(s, env);
		req.env_len = below(s, 2) ? 4 : length(s, 4);
		if (req.args == (uintptr_t)args && req.args_len > sizeof(args))
			req.args_len = sizeof(args);
		if (req.env == (uintptr_t)env && req.env_len > sizeof(env))
			req.env_len = sizeof(env);
	}
	if (!below(s, 8)) {
		req.stdin_buf = pointer(s, args);
		req.stdin_len = below(s, 2) ? 8 : length(s, 8);
		if (req.stdin_buf == (uintptr_t)args && req.stdin_len > 32)
			req.stdin_len = 32;
	}
	/*
	 * A quarter at the module's cap (0): 256 MiB memories racing to fill
	 * the VM must fail their grows quietly (fuzz/README.md, finding 10).
	 */
	req.max_pages = below(s, 4) ? 1 + below(s, 64) : 0;
	req.timeout_ns = 1 + below(s, 20000000);
	req.fuel = below(s, 2) ? 1 + below(s, 100000) : 0;
	if (!below(s, 8))
		random_stdio(s, req.stdio);
	if (!below(s, 8))
		random_files(s, &req, files);
	if (!below(s, 16))
		req.trap.reserved = rnd(s);	/* an output field: ignored */
	random_load_frames(s, &req, frames);
	if (old)
		fill_tail(&req);
	__atomic_add_fetch(&counts.loads, 1, __ATOMIC_RELAXED);
	fd = checked_ioctl(dev, old ? KWO_IOC_LOAD_VER0 : KWO_IOC_LOAD, &req,
			   "load");
	if (fd == -ECANCELED)
		check_trap(&req.trap, req.status, "load");
	if (old)
		check_tail(&req);
	else if (fd >= 0 || fd == -ECANCELED)
		check_load_frames(&req, fd);
	if (fd >= 0) {
		__atomic_add_fetch(&counts.instances, 1, __ATOMIC_RELAXED);
		/* Objects of another contract are loaded, never called. */
		if (runs)
			pool_put(s, fd, seed);
		else
			close(fd);
	}
	free(obj);
}

static void op_invoke(__u64 *s)
{
	static const __u8 types[] = {
		KWO_VAL_I32, KWO_VAL_I64, KWO_VAL_F32, KWO_VAL_F64,
		KWO_VAL_FUNCREF, KWO_VAL_EXTERNREF, 0, 0xff,
	};
	char out[64], err[64], junk[8];
	struct kwo_frame frames[8];
	struct kwo_invoke req = { 0 };
	const struct export *ex = NULL;
	int seed, fd = pool_pick(s, &seed), i, ret;
	__u32 n = below(s, 3);

	if (fd < 0)
		return;
	/* Mostly an export of the instance's seed, with its signature. */
	if (seeds[seed].nexports && below(s, 8)) {
		ex = &seeds[seed].exports[below(s, seeds[seed].nexports)];
		req.name = pointer(s, (void *)ex->name);
		req.name_len = below(s, 16) ? ex->name_len : length(s, ex->name_len);
		if (req.name == (uintptr_t)ex->name && req.name_len > ex->name_len)
			req.name_len = ex->name_len;
	} else {
		for (i = 0; i < (int)sizeof(junk); i++)
			junk[i] = rnd(s);
		req.name = pointer(s, junk);
		req.name_len = below(s, sizeof(junk) + 1);
	}
	req.nvals = below(s, 8) ? n : (__u32)rnd(s);
	for (i = 0; i < KWO_MAX_VALS; i++) {
		req.types[i] = below(s, 2) ? KWO_VAL_I32 : types[below(s, 8)];
		req.vals[i] = below(s, 2) ? below(s, 40) : rnd(s);
	}
	if (ex && below(s, 4)) {
		req.nvals = ex->nparams;
		memcpy(req.types, ex->params, ex->nparams);
	}
	req.flags = below(s, 8) ? 0 : (__u32)rnd(s) & 3;
	req.stdout_buf = pointer(s, out);
	req.stdout_size = below(s, 2) ? sizeof(out) : length(s, 0);
	req.stderr_buf = pointer(s, err);
	req.stderr_size = below(s, 2) ? sizeof(err) : length(s, 0);
	if (req.stdout_buf == (uintptr_t)out && req.stdout_size > sizeof(out))
		req.stdout_size = sizeof(out);
	if (req.stderr_buf == (uintptr_t)err && req.stderr_size > sizeof(err))
		req.stderr_size = sizeof(err);
	req.timeout_ns = 1 + below(s, 20000000);
	req.fuel = below(s, 2) ? 1 + below(s, 100000) : 0;
	if (!below(s, 8))
		random_stdio(s, req.stdio);
	/* A backtrace buffer (bad ones too), and sometimes a nonzero out field. */
	if (below(s, 2)) {
		req.frames = pointer(s, frames);
		req.frames_cap = length(s, 8);
		if (req.frames == (uintptr_t)frames && req.frames_cap > 8)
			req.frames_cap = 8;
	}
	if (!below(s, 16))
		req.nframes = rnd(s);
	__atomic_add_fetch(&counts.invokes, 1, __ATOMIC_RELAXED);
	ret = checked_ioctl(fd, KWO_IOC_INVOKE, &req, "invoke");
	if (ret)
		return;
	__atomic_add_fetch(&counts.ran, 1, __ATOMIC_RELAXED);
	check_trap(&req.trap, req.status, "invoke");
	if (req.status == KWO_STATUS_OK && req.nvals > KWO_MAX_VALS)
		fail("invoke: %u results", req.nvals);
	if (req.nframes > req.frames_cap || req.nframes > KWO_MAX_FRAMES ||
	    (req.nframes && req.status != KWO_STATUS_TRAP))
		fail("invoke: %u backtrace frames", req.nframes);
	if ((req.stdout_buf == (uintptr_t)out && req.stdout_len > req.stdout_size) ||
	    (req.stderr_buf == (uintptr_t)err && req.stderr_len > req.stderr_size))
		fail("invoke: output longer than its buffer");
}

/* Any request number, direction and size on either kind of fd. */
static void op_raw(__u64 *s)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	static const unsigned long known[] = {
		KWO_IOC_VERSION, KWO_IOC_LOAD, KWO_IOC_INVOKE, KWO_IOC_INFO,
		KWO_IOC_SET_NAME,
	};
	__u64 buf[64];
	unsigned long cmd;
	unsigned int i;
	int fd = below(s, 2) ? dev : pool_pick(s, NULL);

	if (fd < 0)
		return;
	for (i = 0; i < 64; i++)
		buf[i] = below(s, 4) ? 0 : rnd(s);
	switch (below(s, 3)) {
	case 0:		/* a known number with another size or direction */
		cmd = _IOC(dirs[below(s, 4)], KWO_IOC_MAGIC, below(s, 6),
			   below(s, 2) ? below(s, 512) : below(s, 1u << 14));
		break;
	case 1:		/* a known request on the wrong kind of fd, or not */
		cmd = known[below(s, sizeof(known) / sizeof(known[0]))];
		break;
	default:	/* any number of ours */
		cmd = _IOC(dirs[below(s, 4)], KWO_IOC_MAGIC, below(s, 256),
			   below(s, 1u << 14));
		break;
	}
	/* Never a real load or invoke with this junk: those have their ops. */
	if (((cmd == KWO_IOC_LOAD || cmd == KWO_IOC_LOAD_VER0) && fd == dev) ||
	    cmd == KWO_IOC_INVOKE)
		return;
	checked_ioctl(fd, cmd, below(s, 4) ? (void *)buf :
		      (void *)(uintptr_t)pointer(s, buf), "raw ioctl");
}

static void op_info_version(__u64 *s)
{
	struct kwo_version ver = { .api_version = KWO_API_VERSION };
	struct kwo_info info;
	int fd = pool_pick(s, NULL);

	if (below(s, 2) && fd >= 0) {
		if (!checked_ioctl(fd, KWO_IOC_INFO, below(s, 8) ? (void *)&info :
				   (void *)(uintptr_t)pointer(s, &info), "info") &&
		    info.mem_size > info.mem_max && info.mem_max)
			fail("info: memory %llu over its maximum %llu",
			     (unsigned long long)info.mem_size,
			     (unsigned long long)info.mem_max);
		return;
	}
	if (!below(s, 4))
		ver.api_version = rnd(s);
	if (!below(s, 4))
		ver.reserved[below(s, 4)] = rnd(s);
	checked_ioctl(dev, KWO_IOC_VERSION, below(s, 8) ? (void *)&ver :
		      (void *)(uintptr_t)pointer(s, &ver), "version");
}

static void op_dup(__u64 *s)
{
	int seed, fd = pool_pick(s, &seed), copy;

	if (fd < 0)
		return;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy >= 0)
		pool_put(s, copy, seed);
}

static void *worker(void *arg)
{
	__u64 s = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	while (time(NULL) < deadline) {
		switch (below(&s, 16)) {
		case 0: case 1: case 2: case 3:
			op_load(&s);
			break;
		case 4: case 5: case 6: case 7: case 8: case 9:
			op_invoke(&s);
			break;
		case 10: case 11:
			op_raw(&s);
			break;
		case 12:
			op_info_version(&s);
			break;
		case 13:
			op_dup(&s);
			break;
		default:
			pool_close_one(&s);
			break;
		}
	}
	return NULL;
}

/* A section of a seed (valid: its own tables are trusted), or NULL. */
static const unsigned char *seed_section(const struct seed *sd, __u32 kind,
					 __u32 *count)
{
	const unsigned char *b = sd->bytes;
	__u32 soff = kwo_fuzz_le32(b + 32), n = kwo_fuzz_le32(b + 36), i;

	for (i = 0; i < n; i++) {
		const unsigned char *e = b + soff + 16 * i;

		if (kwo_fuzz_le32(e) == kind) {
			*count = kwo_fuzz_le32(e + 4);
			return b + kwo_fuzz_le32(e + 8);
		}
	}
	*count = 0;
	return NULL;
}

/* The function exports of a seed with their parameter types, for invoke. */
static void collect_exports(struct seed *sd)
{
	__u32 nex, nimports, nfuncs, ntypes, nblob, j;
	const unsigned char *ex = seed_section(sd, KWO_SEC_EXPORTS, &nex);
	const unsigned char *funcs = seed_section(sd, KWO_SEC_FUNCS, &nfuncs);
	const unsigned char *types = seed_section(sd, KWO_SEC_TYPES, &ntypes);
	const unsigned char *blob = seed_section(sd, KWO_SEC_BLOB, &nblob);

	seed_section(sd, KWO_SEC_IMPORTS, &nimports);
	sd->exports = calloc(nex + 1, sizeof(*sd->exports));
	for (j = 0; j < nex; j++) {
		const unsigned char *e = ex + 24 * j, *t;
		struct export *x = &sd->exports[sd->nexports];
		__u32 func = kwo_fuzz_le32(e + 4);

		if (kwo_fuzz_le32(e) != KWO_EXPORT_FUNC || func < nimports)
			continue;
		t = types + 16 * kwo_fuzz_le32(funcs + 32 * (func - nimports));
		x->name = (const char *)blob + kwo_fuzz_le32(e + 8);
		x->name_len = kwo_fuzz_le32(e + 12);
		x->nparams = kwo_fuzz_le32(t);
		if (x->nparams > KWO_MAX_VALS)
			continue;
		memcpy(x->params, blob + kwo_fuzz_le32(t + 8), x->nparams);
		sd->nexports++;
	}
}

static void read_seed(const char *path)
{
	struct seed *sd = &seeds[nseeds];
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || st.st_size < 64) {
		printf("KFUZZ FAIL: cannot read %s\n", path);
		exit(1);
	}
	sd->len = st.st_size;
	sd->bytes = malloc(sd->len);
	if (!sd->bytes || read(fd, sd->bytes, sd->len) != (ssize_t)sd->len) {
		printf("KFUZZ FAIL: short read %s\n", path);
		exit(1);
	}
	close(fd);
	sd->contract = kwo_fuzz_contract(sd->bytes, sd->len);
	if (!sd->contract) {
		printf("KFUZZ FAIL: %s is not an object\n", path);
		exit(1);
	}
	collect_exports(sd);
	nseeds++;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_THREADS];
	long seconds, seed, nthreads, i;

	if (argc < 5) {
		fprintf(stderr, "usage: kfuzz SECONDS SEED THREADS OBJ.kwo...\n");
		return 2;
	}
	seconds = atol(argv[1]);
	seed = atol(argv[2]);
	nthreads = atol(argv[3]);
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	for (i = 4; i < argc && nseeds < MAX_SEEDS; i++)
		read_seed(argv[i]);
	dev = open("/dev/kwo", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("KFUZZ FAIL: open /dev/kwo: %s\n", strerror(errno));
		return 1;
	}
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	readonly = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (pipe2(pipe_fds, O_CLOEXEC)) {
		printf("KFUZZ FAIL: pipe: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < POOL; i++)
		pool[i] = -1;
	deadline = time(NULL) + seconds;
	for (i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, worker,
			       (void *)(uintptr_t)(seed * MAX_THREADS + i + 1));
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < POOL; i++)
		if (pool[i] >= 0)
			close(pool[i]);
	close(dev);
	printf("KFUZZ: %ld s, seed %ld, %ld threads, %d seeds: %lu ioctls, %lu loads, %lu instances, %lu invokes (%lu ran), %lu closes, %d failures\n",
	       seconds, seed, nthreads, nseeds, counts.ioctls, counts.loads,
	       counts.instances, counts.invokes, counts.ran, counts.closes,
	       failures);
	if (failures || !counts.instances || !counts.ran) {
		printf("KFUZZ FAIL: %s\n", failures ? "see above" :
		       "no instance loaded or no call ran");
		return 1;
	}
	printf("KFUZZ OK\n");
	return 0;
}
