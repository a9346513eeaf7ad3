// SPDX-License-Identifier: GPL-2.0
/*
 * ktest: low-level test client for /dev/kwo, run inside the test VM. It
 * speaks the raw ioctls of <linux/kwo.h> (the kwo CLI covers the user's
 * view); each subcommand checks one behaviour and exits 0 on success:
 *
 *	ktest basic				handshake, malformed requests, EPERM
 *	ktest call OBJ EXPORT [T:V...] = R...	invoke and compare; R is T:V,
 *						trap:CODE or exit:N; before the
 *						=, timeout_ms:N and fuel:N set
 *						the call's budgets
 *	ktest fuzz OBJ N			N corrupted copies load or fail cleanly
 *	ktest cycle OBJ EXPORT N [trap:CODE]	load, invoke, close N times
 *						(each call traps with CODE)
 *	ktest hold OBJ N			N open instances do show in
 *						VmallocUsed and SUnreclaim (the
 *						leak checks can see a leak)
 *	ktest concurrent OBJ EXPORT P N		P processes, N calls each, one
 *						instance each plus one shared
 *	ktest threads OBJ T N			T threads of one process, N
 *						calls each of add(i32, i32)
 *						on one of 2 shared instances
 *	ktest kill OBJ EXPORT [INT]		SIGKILL (or SIGINT) ends a
 *						runaway call
 *	ktest handoff OBJ EXPORT		an unprivileged process can call
 *						an instance fd it was given
 *	ktest unchecked OBJ			OBJ flagged "compiled without
 *						safety checks" is refused
 *	ktest bench OBJ EXPORT N		time N calls: ioctl round trip
 *						and time inside the kernel
 *
 * T is i32, i64, f32 or f64; f32/f64 values are raw bits in hex.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kwo.h>

#define VAL_I32 0x7f
#define VAL_I64 0x7e
#define VAL_F32 0x7d
#define VAL_F64 0x7c

static const char *test_name = "ktest";
static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("KTEST FAIL %s: ", test_name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

static void ok(const char *what)
{
	printf("KTEST ok %s: %s\n", test_name, what);
}

static int open_dev(void)
{
	int fd = open("/dev/kwo", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("KTEST FAIL %s: open /dev/kwo: %s\n", test_name,
		       strerror(errno));
		exit(1);
	}
	return fd;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0) {
		printf("KTEST FAIL %s: cannot read %s\n", test_name, path);
		exit(1);
	}
	buf = malloc(st.st_size);
	if (!buf || read(fd, buf, st.st_size) != st.st_size) {
		printf("KTEST FAIL %s: short read %s\n", test_name, path);
		exit(1);
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Load; returns the instance fd or -errno, with the message in log. */
static int load(int dev, const void *obj, size_t len, char *log, size_t logsz,
		struct kwo_load *out)
{
	struct kwo_load req = {
		.object = (uintptr_t)obj,
		.object_len = len,
		.log_buf = (uintptr_t)log,
		.log_size = logsz,
	};
	int fd;

	if (log && logsz)
		log[0] = 0;
	fd = ioctl(dev, KWO_IOC_LOAD, &req);
	if (out)
		*out = req;
	return fd < 0 ? -errno : fd;
}

/*
 * Load an object; exit on failure, except for a start function that
 * trapped or exited when req is given: then return -ECANCELED with *req
 * holding the report.
 */
static int load_file_or_start_report(int dev, const char *path,
				     struct kwo_load *req)
{
	char log[512];
	size_t len;
	unsigned char *obj = read_file(path, &len);
	int fd = load(dev, obj, len, log, sizeof(log), req);

	free(obj);
	if (fd == -ECANCELED && req)
		return fd;
	if (fd < 0) {
		fail("load %s: %s: %s", path, strerror(-fd), log);
		exit(1);
	}
	return fd;
}

static int load_file(int dev, const char *path)
{
	return load_file_or_start_report(dev, path, NULL);
}

static int parse_val(const char *s, __u8 *type, __u64 *val)
{
	char *end;

	if (!strncmp(s, "i32:", 4))
		*type = VAL_I32;
	else if (!strncmp(s, "i64:", 4))
		*type = VAL_I64;
	else if (!strncmp(s, "f32:", 4))
		*type = VAL_F32;
	else if (!strncmp(s, "f64:", 4))
		*type = VAL_F64;
	else
		return -1;
	errno = 0;
	if (*type == VAL_F32 || *type == VAL_F64)
		*val = strtoull(s + 4, &end, 16);
	else
		*val = (uint64_t)strtoll(s + 4, &end, 0);
	if (*type == VAL_I32 || *type == VAL_F32)
		*val &= 0xffffffffull;
	return errno || *end ? -1 : 0;
}

static int invoke(int ifd, const char *export, struct kwo_invoke *req,
		  char *out, size_t outsz)
{
	req->name = (uintptr_t)export;
	req->name_len = strlen(export);
	req->stdout_buf = (uintptr_t)out;
	req->stdout_size = out ? outsz : 0;
	return ioctl(ifd, KWO_IOC_INVOKE, req) ? -errno : 0;
}

/* Compare the call's outcome with expectation strings. */
static void check_outcome(const struct kwo_invoke *req, char **want, int nwant)
{
	__u8 type;
	__u64 val;
	int i;

	if (nwant == 1 && !strncmp(want[0], "trap:", 5)) {
		if (req->status != KWO_STATUS_TRAP ||
		    req->trap.code != strtoul(want[0] + 5, NULL, 0))
			fail("status %u trap %u, want %s", req->status,
			     req->trap.code, want[0]);
		return;
	}
	if (nwant == 1 && !strncmp(want[0], "exit:", 5)) {
		if (req->status != KWO_STATUS_EXIT ||
		    req->exit_code != strtol(want[0] + 5, NULL, 0))
			fail("status %u exit %d, want %s", req->status,
			     req->exit_code, want[0]);
		return;
	}
	if (req->status != KWO_STATUS_OK) {
		fail("status %u (trap %u at func %u off %u)", req->status,
		     req->trap.code, req->trap.func, req->trap.wasm_off);
		return;
	}
	if ((int)req->nvals != nwant) {
		fail("%u results, want %d", req->nvals, nwant);
		return;
	}
	for (i = 0; i < nwant; i++) {
		if (parse_val(want[i], &type, &val)) {
			fail("bad expectation %s", want[i]);
		} else if (req->types[i] != type || req->vals[i] != val) {
			fail("result %d: type %#x value %#llx, want %s", i,
			     req->types[i], (unsigned long long)req->vals[i],
			     want[i]);
		}
	}
}

static int cmd_call(int argc, char **argv)
{
	struct kwo_load lreq = { 0 };
	struct kwo_invoke req = { 0 };
	char out[4096];
	int i, ifd, dev = open_dev(), ret;

	if (argc < 2)
		return 2;
	ifd = load_file_or_start_report(dev, argv[0], &lreq);
	for (i = 2; i < argc && strcmp(argv[i], "="); i++) {
		if (!strncmp(argv[i], "timeout_ms:", 11)) {
			req.timeout_ns = strtoull(argv[i] + 11, NULL, 0) * 1000000;
			continue;
		}
		if (!strncmp(argv[i], "fuel:", 5)) {
			req.fuel = strtoull(argv[i] + 5, NULL, 0);
			continue;
		}
		if (req.nvals == KWO_MAX_VALS ||
		    parse_val(argv[i], &req.types[req.nvals],
			      &req.vals[req.nvals])) {
			fail("bad argument %s", argv[i]);
			return 1;
		}
		req.nvals++;
	}
	if (ifd == -ECANCELED) {
		/* The start function ended the load: judge its report. */
		req.status = lreq.status;
		req.trap = lreq.trap;
		req.exit_code = lreq.exit_code;
		check_outcome(&req, argv + i + 1, i < argc ? argc - i - 1 : 0);
		if (!failures)
			ok("start function report");
		return !!failures;
	}
	ret = invoke(ifd, argv[1], &req, out, sizeof(out) - 1);
	if (ret) {
		fail("invoke %s: %s", argv[1], strerror(-ret));
		return 1;
	}
	out[req.stdout_len] = 0;
	if (req.stdout_len)
		printf("%s", out);
	check_outcome(&req, argv + i + 1, i < argc ? argc - i - 1 : 0);
	close(ifd);
	close(dev);
	if (!failures)
		ok(argv[1]);
	return !!failures;
}

/* Handshake and requests the kernel must refuse without side effects. */
static void basic_requests(int dev)
{
	struct kwo_version ver = { .api_version = KWO_API_VERSION };
	unsigned char junk[256];
	char log[256];
	struct kwo_load req = { 0 };
	int ret;

	if (ioctl(dev, KWO_IOC_VERSION, &ver) || ver.api_version != KWO_API_VERSION ||
	    !ver.max_object_size)
		fail("version handshake: %s, api %u", strerror(errno), ver.api_version);
	else
		ok("version handshake");
	memset(junk, 0xa5, sizeof(junk));
	ret = load(dev, junk, sizeof(junk), log, sizeof(log), &req);
	if (ret != -EINVAL || !log[0] || req.log_len != strlen(log))
		fail("junk object: %s, log '%s' (%u)", strerror(-ret), log, req.log_len);
	else
		ok("junk object rejected with a message");
	ret = load(dev, junk, ver.max_object_size + 1ull, NULL, 0, NULL);
	if (ret != -E2BIG)
		fail("oversized object: %s", strerror(-ret));
	else
		ok("oversized object rejected");
	ret = load(dev, NULL, 64, NULL, 0, NULL);
	if (ret != -EFAULT)
		fail("NULL object: %s", strerror(-ret));
	else
		ok("bad object address rejected");
	memset(&req, 0, sizeof(req));
	req.object = (uintptr_t)junk;
	req.object_len = sizeof(junk);
	req.reserved[3] = 1;
	if (ioctl(dev, KWO_IOC_LOAD, &req) != -1 || errno != EINVAL)
		fail("reserved field: %s", strerror(errno));
	else
		ok("nonzero reserved field rejected");
	if (ioctl(dev, _IO(KWO_IOC_MAGIC, 0x7f)) != -1 || errno != ENOTTY)
		fail("unknown ioctl: %s", strerror(errno));
	else
		ok("unknown ioctl is ENOTTY");
}

/* Without privileges: the node is 0600 and LOAD needs CAP_SYS_ADMIN. */
static void basic_eperm(int dev)
{
	struct stat st;
	unsigned char junk[64] = { 0 };
	pid_t pid;
	int status;

	if (stat("/dev/kwo", &st) || (st.st_mode & 0777) != 0600)
		fail("/dev/kwo mode %o, want 0600", st.st_mode & 0777);
	else
		ok("/dev/kwo is 0600");
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (open("/dev/kwo", O_RDWR) >= 0 || errno != EACCES)
			_exit(4);
		_exit(load(dev, junk, sizeof(junk), NULL, 0, NULL) == -EPERM ? 0 : 5);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("unprivileged access not refused (child status %#x)", status);
	else
		ok("unprivileged open is EACCES, LOAD is EPERM");
}

static int cmd_basic(void)
{
	int dev = open_dev();

	basic_requests(dev);
	basic_eperm(dev);
	close(dev);
	return !!failures;
}

/* CRC-32 (IEEE), as the object header's checksum uses it. */
static uint32_t crc32(const unsigned char *p, size_t len)
{
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

/* Recompute the checksum (header offset 20) so the validator looks deeper. */
static void restamp(unsigned char *obj, size_t len)
{
	uint32_t crc;

	if (len < 24)
		return;
	memset(obj + 20, 0, 4);
	crc = crc32(obj, len);
	memcpy(obj + 20, &crc, 4);
}

/*
 * Corrupt a valid object n times (a few random bytes each, sometimes a
 * truncation; most variants with a valid checksum so that the structural
 * checks are reached) and load every variant: each must load or be
 * refused with an errno and the validator's message, never hurt the
 * kernel (the harness checks the kernel log).
 * Accepted variants are not called: the code itself is trusted (see
 * docs/security.md). The original must still load afterwards.
 */
static int cmd_fuzz(int argc, char **argv)
{
	int dev = open_dev(), i, j, fd, accepted = 0, refused = 0;
	size_t len, n;
	unsigned char *obj, *copy;
	char log[256];

	if (argc < 2)
		return 2;
	obj = read_file(argv[0], &len);
	copy = malloc(len);
	srand(12345);
	for (i = 0; i < atoi(argv[1]); i++) {
		memcpy(copy, obj, len);
		n = len;
		for (j = 0; j < 1 + rand() % 4; j++)
			copy[rand() % len] ^= 1 + rand() % 255;
		if (i % 10 == 9)
			n = 1 + rand() % len;
		if (i % 4)
			restamp(copy, n);
		fd = load(dev, copy, n, log, sizeof(log), NULL);
		if (fd >= 0) {
			accepted++;
			close(fd);
		} else if ((fd == -EINVAL || fd == -ENOEXEC || fd == -EPERM ||
			    fd == -ERANGE || fd == -E2BIG) && log[0]) {
			/*
			 * EPERM: a flipped KWO_F_UNCHECKED bit; ERANGE: a
			 * relocation moved out of its instruction's reach;
			 * E2BIG: memory or a table over the module's caps.
			 */
			refused++;
		} else {
			fail("variant %d: unexpected %s (%s)", i, strerror(-fd), log);
		}
	}
	close(load_file(dev, argv[0]));
	printf("KTEST fuzz: %d refused, %d accepted (changes inside code or names still make valid objects)\n",
	       refused, accepted);
	if (!failures)
		ok("corrupted objects refused cleanly");
	return !!failures;
}

static int call_noargs(int ifd, const char *export)
{
	struct kwo_invoke req = { 0 };
	int ret = invoke(ifd, export, &req, NULL, 0);

	if (!ret && req.status != KWO_STATUS_OK)
		ret = -EIO;
	return ret;
}

/* A call with no arguments must trap with code; 0 or -errno otherwise. */
static int call_trapping(int ifd, const char *export, unsigned int code)
{
	struct kwo_invoke req = { 0 };
	int ret = invoke(ifd, export, &req, NULL, 0);

	if (!ret && (req.status != KWO_STATUS_TRAP || req.trap.code != code))
		ret = -EIO;
	return ret;
}

static int cmd_cycle(int argc, char **argv)
{
	int dev = open_dev(), i, n, ifd, ret, trap = -1;

	if (argc < 3)
		return 2;
	n = atoi(argv[2]);
	if (argc > 3 && !strncmp(argv[3], "trap:", 5))
		trap = atoi(argv[3] + 5);
	for (i = 0; i < n; i++) {
		ifd = load_file(dev, argv[0]);
		if (trap < 0)
			ret = call_noargs(ifd, argv[1]);
		else
			ret = call_trapping(ifd, argv[1], trap);
		close(ifd);
		if (ret) {
			fail("cycle %d: %s", i, strerror(-ret));
			return 1;
		}
	}
	ok(trap < 0 ? "load/invoke/close cycles" :
	   "load/invoke (trap)/close cycles");
	return 0;
}

/* A /proc/meminfo field in kB, or -1. */
static long meminfo(const char *key)
{
	char line[128];
	size_t n = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			val = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return val;
}

/*
 * The control for the suite's leak checks: N instances kept open must
 * raise VmallocUsed and SUnreclaim by more than the checks' tolerance
 * (64 kB), or a leak of whole instances would go unseen.
 */
static int cmd_hold(int argc, char **argv)
{
	int dev = open_dev(), i, n, *fds;
	long vm0 = meminfo("VmallocUsed"), sl0 = meminfo("SUnreclaim"), vm, sl;

	if (argc < 2)
		return 2;
	n = atoi(argv[1]);
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return 1;
	for (i = 0; i < n; i++)
		fds[i] = load_file(dev, argv[0]);
	vm = meminfo("VmallocUsed") - vm0;
	sl = meminfo("SUnreclaim") - sl0;
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	printf("KTEST hold: %d open instances: VmallocUsed +%ld kB, SUnreclaim +%ld kB\n",
	       n, vm, sl);
	if (vm <= 64 || sl <= 64)
		fail("%d instances stay within the leak checks' 64 kB tolerance", n);
	else
		ok("open instances show in vmalloc and slab usage");
	return !!failures;
}

/* P children call their own instance and a shared one N times each. */
static int cmd_concurrent(int argc, char **argv)
{
	int dev = open_dev(), p, i, np, n, shared, status, bad = 0;
	pid_t pid;

	if (argc < 4)
		return 2;
	np = atoi(argv[2]);
	n = atoi(argv[3]);
	shared = load_file(dev, argv[0]);
	for (p = 0; p < np; p++) {
		pid = fork();
		if (pid == 0) {
			int own = load_file(dev, argv[0]);

			for (i = 0; i < n; i++)
				if (call_noargs(i % 2 ? own : shared, argv[1]))
					_exit(1);
			_exit(0);
		}
	}
	while ((pid = wait(&status)) > 0)
		bad += !WIFEXITED(status) || WEXITSTATUS(status);
	if (bad)
		fail("%d of %d processes failed", bad, np);
	else
		ok("concurrent calls");
	return !!bad;
}

/*
 * One thread's share of cmd_threads: add(t, i) on its instance must be
 * t + i every time.
 */
struct adder {
	pthread_t thread;
	int ifd, t, n, bad;
};

static void *adder_run(void *arg)
{
	struct adder *a = arg;
	int i;

	for (i = 0; i < a->n; i++) {
		struct kwo_invoke req = {
			.nvals = 2,
			.types = { VAL_I32, VAL_I32 },
			.vals = { a->t, i },
		};

		if (invoke(a->ifd, "add", &req, NULL, 0) ||
		    req.status != KWO_STATUS_OK || req.nvals != 1 ||
		    req.types[0] != VAL_I32 || req.vals[0] != (__u64)(a->t + i))
			a->bad++;
	}
	return NULL;
}

/*
 * T threads of one process share 2 instances (thread t calls instance
 * t % 2): calls on one instance are serialized by the kernel, the two
 * instances run at once, and every result must be right.
 */
static int cmd_threads(int argc, char **argv)
{
	struct adder a[16];
	int dev = open_dev(), ifd[2], t, nt, bad = 0;

	if (argc < 3)
		return 2;
	nt = atoi(argv[1]);
	if (nt < 1 || nt > 16)
		return 2;
	ifd[0] = load_file(dev, argv[0]);
	ifd[1] = load_file(dev, argv[0]);
	for (t = 0; t < nt; t++) {
		a[t] = (struct adder){ .ifd = ifd[t % 2], .t = t, .n = atoi(argv[2]) };
		if (pthread_create(&a[t].thread, NULL, adder_run, &a[t])) {
			fail("pthread_create");
			return 1;
		}
	}
	for (t = 0; t < nt; t++) {
		pthread_join(a[t].thread, NULL);
		bad += a[t].bad;
	}
	if (bad)
		fail("%d wrong or failed calls", bad);
	else
		ok("threads on 2 instances");
	return !!bad;
}

/*
 * A call that never ends must die with SIGKILL, or with SIGINT at its
 * default disposition (Ctrl-C), promptly.
 */
static int cmd_kill(int argc, char **argv)
{
	int dev = open_dev(), status, sig = SIGKILL;
	struct timespec t0, t1;
	pid_t pid;

	if (argc < 2)
		return 2;
	if (argc > 2 && !strcmp(argv[2], "INT"))
		sig = SIGINT;
	pid = fork();
	if (pid == 0) {
		int ifd = load_file(dev, argv[0]);
		struct kwo_invoke req = { .timeout_ns = 3600ull * 1000000000 };

		/* A shell may have started us with SIGINT ignored. */
		signal(SIGINT, SIG_DFL);
		invoke(ifd, argv[1], &req, NULL, 0);
		_exit(7);
	}
	sleep(1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(pid, sig);
	waitpid(pid, &status, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != sig)
		fail("child status %#x, want signal %d", status, sig);
	else if (t1.tv_sec - t0.tv_sec > 2)
		fail("signal %d took %lds", sig, (long)(t1.tv_sec - t0.tv_sec));
	else
		ok(sig == SIGKILL ? "SIGKILL ends a runaway call" :
		   "SIGINT ends a runaway call");
	return !!failures;
}

/* Round trip of KWO_IOC_INVOKE, and the part spent in the call itself. */
static int cmd_bench(int argc, char **argv)
{
	struct timespec t0, t1;
	unsigned long long inside = 0, total;
	int dev = open_dev(), ifd, i, n;

	if (argc < 3)
		return 2;
	ifd = load_file(dev, argv[0]);
	n = atoi(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		struct kwo_invoke req = { 0 };

		if (invoke(ifd, argv[1], &req, NULL, 0) || req.status != KWO_STATUS_OK) {
			fail("call %d failed", i);
			return 1;
		}
		inside += req.duration_ns;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	total = (t1.tv_sec - t0.tv_sec) * 1000000000ull + t1.tv_nsec - t0.tv_nsec;
	printf("KTEST bench %s: %d calls, %llu ns per ioctl round trip, %llu ns inside\n",
	       argv[1], n, total / n, inside / n);
	ok("bench");
	return 0;
}

/* A valid object flagged KWO_F_UNCHECKED (checks off) is refused. */
static int cmd_unchecked(int argc, char **argv)
{
	int dev = open_dev(), fd;
	size_t len;
	unsigned char *obj;
	char log[256];

	if (argc < 1)
		return 2;
	obj = read_file(argv[0], &len);
	if (len < 24)
		return 2;
	obj[16] |= 1 << 1;	/* kwo_header.flags |= KWO_F_UNCHECKED */
	restamp(obj, len);
	fd = load(dev, obj, len, log, sizeof(log), NULL);
	if (fd != -EPERM || !log[0])
		fail("unchecked object: %s, log '%s'", strerror(-fd), log);
	else
		ok("object without safety checks refused (EPERM)");
	return !!failures;
}

/* An instance descriptor is a capability: root loads, nobody calls. */
static int cmd_handoff(int argc, char **argv)
{
	int dev = open_dev(), status, ifd;
	pid_t pid;

	if (argc < 2)
		return 2;
	ifd = load_file(dev, argv[0]);
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (call_noargs(ifd, argv[1]))
			_exit(4);
		_exit(load(dev, "", 1, NULL, 0, NULL) == -EPERM ? 0 : 5);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("unprivileged holder of an instance fd (child status %#x)", status);
	else
		ok("unprivileged process calls a handed-over instance, cannot load");
	return !!failures;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	test_name = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "basic"))
		return cmd_basic();
	if (!strcmp(argv[1], "call"))
		return cmd_call(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 2, argv + 2);
	if (!strcmp(argv[1], "cycle"))
		return cmd_cycle(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	if (!strcmp(argv[1], "concurrent"))
		return cmd_concurrent(argc - 2, argv + 2);
	if (!strcmp(argv[1], "threads"))
		return cmd_threads(argc - 2, argv + 2);
	if (!strcmp(argv[1], "kill"))
		return cmd_kill(argc - 2, argv + 2);
	if (!strcmp(argv[1], "handoff"))
		return cmd_handoff(argc - 2, argv + 2);
	if (!strcmp(argv[1], "unchecked"))
		return cmd_unchecked(argc - 2, argv + 2);
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argc - 2, argv + 2);
usage:
	fprintf(stderr, "usage: ktest basic|call|fuzz|cycle|hold|concurrent|threads|kill|handoff|unchecked|bench ...\n");
	return 2;
}
