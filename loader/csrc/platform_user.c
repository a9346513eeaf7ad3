// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * kwo_platform.h for userspace: libc allocation, linear memories in
 * PROT_NONE reservations opened with mprotect, mmap'd code memory sealed
 * RW -> R -> RX with mprotect (never writable and executable at once),
 * clock_gettime, getrandom, sched_yield and stderr; host files are
 * descriptors read and written directly with read(2)/write(2), and paths
 * are resolved beneath their directory with openat2(RESOLVE_BENEATH).
 *
 * The epoch is a process-wide counter bumped every millisecond by a
 * detached ticker thread, started on first use and never stopped; its cost
 * is one wakeup per millisecond while the process lives. Generated code
 * compares it with its deadline at loop headers and function entries, so
 * the runtime regains control (timeouts) at least once per tick.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "kwo_format.h"
#include "kwo_platform.h"
#include "platform_user.h"

static volatile __u64 kwo_epoch_counter;
static pthread_once_t kwo_ticker_once = PTHREAD_ONCE_INIT;

void *kwo_plat_zalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void kwo_plat_free(void *ptr)
{
	free(ptr);
}

/* A linear memory: the reservation's base; the mapped size is the core's. */
struct kwo_plat_mem {
	void *base;
};

/*
 * PROT_NONE and MAP_NORESERVE: the reservation costs address space only,
 * no commit charge, until kwo_plat_mem_map() opens pages of it.
 */
int kwo_plat_mem_reserve(__u64 max_size, struct kwo_plat_mem **out)
{
	struct kwo_plat_mem *mem = calloc(1, sizeof(*mem));

	(void)max_size;		/* always the whole reservation */
	*out = NULL;
	if (!mem)
		return -ENOMEM;
	mem->base = mmap(NULL, KWO_MEM_RESERVE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem->base == MAP_FAILED) {
		free(mem);
		return -ENOMEM;
	}
	*out = mem;
	return 0;
}

void *kwo_plat_mem_base(const struct kwo_plat_mem *mem)
{
	return mem->base;
}

/* Anonymous pages never touched read as zero: mprotect is all it takes. */
int kwo_plat_mem_map(struct kwo_plat_mem *mem, __u64 old_size,
		     __u64 new_size)
{
	if (mprotect((char *)mem->base + old_size, new_size - old_size,
		     PROT_READ | PROT_WRITE))
		return -ENOMEM;
	return 0;
}

void kwo_plat_mem_free(struct kwo_plat_mem *mem)
{
	if (!mem)
		return;
	munmap(mem->base, KWO_MEM_RESERVE);
	free(mem);
}

static size_t page_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (size + page - 1) & ~(page - 1);
}

void *kwo_plat_code_alloc(size_t size)
{
	/*
	 * Populated by mmap itself: the core writes every page next, which
	 * would otherwise fault them in one at a time.
	 */
	void *p = mmap(NULL, page_round(size), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int kwo_plat_code_seal(void *code, size_t size)
{
	size_t len = page_round(size);

	if (mprotect(code, len, PROT_READ))
		return -errno;
	__builtin___clear_cache((char *)code, (char *)code + size);
	if (mprotect(code, len, PROT_READ | PROT_EXEC))
		return -errno;
	return 0;
}

void kwo_plat_code_free(void *code, size_t size)
{
	munmap(code, page_round(size));
}

static void *ticker(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	(void)arg;
	for (;;) {
		nanosleep(&ms, NULL);
		__atomic_fetch_add(&kwo_epoch_counter, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void start_ticker(void)
{
	pthread_t t;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&t, &attr, ticker, NULL))
		kwo_plat_log("kwo: cannot start the epoch ticker; timeouts will not fire");
	pthread_attr_destroy(&attr);
}

const volatile __u64 *kwo_plat_epoch(void)
{
	pthread_once(&kwo_ticker_once, start_ticker);
	return &kwo_epoch_counter;
}

static clockid_t clock_id(int clock)
{
	return clock == KWO_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC;
}

__u64 kwo_plat_clock_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock_id(clock), &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

__u64 kwo_plat_clock_res_ns(int clock)
{
	struct timespec ts;

	clock_getres(clock_id(clock), &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* The runtime fits the budget to the thread's stack before each call. */
__u64 kwo_plat_stack_left(void)
{
	return ~0ull;
}

void kwo_plat_unwound(void)
{
}

void kwo_plat_resched(void)
{
	sched_yield();
}

/* Userspace calls are stopped by their timeout, not by signals. */
/* A signal ending nanosleep early is fine: the core sleeps again. */
void kwo_plat_sleep_ns(__u64 ns)
{
	__u64 sec = ns / 1000000000ull;
	struct timespec ts = {
		.tv_sec = sec > INT_MAX ? INT_MAX : (time_t)sec,
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	nanosleep(&ts, NULL);
}

int kwo_plat_should_stop(void)
{
	return 0;
}

void kwo_plat_fpu_begin(struct kwo_plat_fpu *save)
{
	(void)save;
}

void kwo_plat_fpu_end(struct kwo_plat_fpu *save)
{
	(void)save;
}

/*
 * CRC-32 of objects: carry-less multiplication folding on x86_64 (PCLMULQDQ)
 * and the CRC32X instruction on aarch64 when the CPU has them, slicing-by-8
 * otherwise. The functions below work on the raw CRC register (neither seed
 * nor result inverted); kwo_plat_crc32() inverts both, as zlib does.
 */

/* crc_table[k][b]: the CRC of byte b followed by k zero bytes. */
static __u32 crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
/* Whether this CPU has the instructions crc_fast() uses. */
static int crc_has_insn;

static int cpu_has_crc_insn(void)
{
#if defined(__x86_64__)
	return __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	return !!(getauxval(AT_HWCAP) & HWCAP_CRC32);
#else
	return 0;
#endif
}

static void crc_init(void)
{
	unsigned int i, k;

	for (i = 0; i < 256; i++) {
		__u32 c = i;

		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
		crc_table[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
					  crc_table[0][crc_table[k - 1][i] & 0xff];
	crc_has_insn = cpu_has_crc_insn();
}

static __u32 load_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

/* Slicing-by-8: eight table lookups per 8 bytes, independent of each other. */
static __u32 crc_bytes(__u32 crc, const unsigned char *p, size_t len)
{
	__u32 lo, hi;

	for (; len >= 8; p += 8, len -= 8) {
		lo = crc ^ load_le32(p);
		hi = load_le32(p + 4);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
/*
 * Folding (Intel, "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ"): four 128-bit lanes each absorb the next 64 bytes by
 * multiplying their two halves by x^(512+32) and x^(512-32) mod P
 * (bit-reflected, shifted left by one, as the reflected multiplication
 * wants), then fold into one lane 16 bytes at a time with x^(128+32) and
 * x^(128-32). The last lane is congruent to everything read so far, so its
 * 16 bytes run through the table from a zero register give the CRC.
 */
#define CRC_X544 0x154442bd4ll
#define CRC_X480 0x1c6e41596ll
#define CRC_X160 0x1751997d0ll
#define CRC_X96 0x0ccaa009ell

static __m128i load128(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

/* lane * x^n: low half times the first constant, high half the second. */
__attribute__((target("pclmul")))
static __m128i crc_fold(__m128i lane, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(lane, k, 0x00),
			     _mm_clmulepi64_si128(lane, k, 0x11));
}

/* len >= 64. */
__attribute__((target("pclmul")))
static __u32 crc_fast(__u32 crc, const unsigned char *p, size_t len)
{
	const __m128i k512 = _mm_set_epi64x(CRC_X480, CRC_X544);
	const __m128i k128 = _mm_set_epi64x(CRC_X96, CRC_X160);
	unsigned char last[16];
	__m128i x[4];
	int i;

	for (i = 0; i < 4; i++)
		x[i] = load128(p + 16 * i);
	/* The seed XORs the first four bytes, as in crc_bytes(). */
	x[0] = _mm_xor_si128(x[0], _mm_cvtsi32_si128((int)crc));
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64)
		for (i = 0; i < 4; i++)
			x[i] = _mm_xor_si128(crc_fold(x[i], k512),
					     load128(p + 16 * i));
	for (i = 1; i < 4; i++)
		x[0] = _mm_xor_si128(crc_fold(x[0], k128), x[i]);
	for (; len >= 16; p += 16, len -= 16)
		x[0] = _mm_xor_si128(crc_fold(x[0], k128), load128(p));
	_mm_storeu_si128((__m128i *)last, x[0]);
	return crc_bytes(crc_bytes(0, last, sizeof(last)), p, len);
}
#elif defined(__aarch64__)
/* CRC32X: eight bytes per instruction, the same polynomial. */
static __u32 crc_fast(__u32 crc, const unsigned char *p, size_t len)
{
	__u64 v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, sizeof(v));
		asm(".arch_extension crc\n\tcrc32x %w0, %w0, %x1"
		    : "+r"(crc) : "r"(v));
	}
	return crc_bytes(crc, p, len);
}
#endif

__u32 kwo_plat_crc32(__u32 crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__) || defined(__aarch64__)
	if (crc_has_insn && len >= 64)
		return ~crc_fast(~crc, buf, len);
#endif
	return ~crc_bytes(~crc, buf, len);
}

void kwo_plat_random(void *buf, size_t len)
{
	__u8 *p = buf;
	ssize_t n;

	while (len) {
		n = getrandom(p, len, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			kwo_plat_log("kwo: getrandom failed");
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

void kwo_plat_log(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

#if defined(__x86_64__)
/* LZCNT is CPUID 0x80000001 ECX bit 5 (AMD calls it ABM). */
static int kwo_cpu_has_lzcnt(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_LZCNT);
}
#endif

const char *kwo_plat_cpu_missing(__u32 obj_flags)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.1"))
		return "sse4.1";
	if (!__builtin_cpu_supports("sse4.2"))
		return "sse4.2";
	if (!__builtin_cpu_supports("popcnt"))
		return "popcnt";
	if (!(obj_flags & KWO_F_X86_BMI))
		return NULL;
	if (!__builtin_cpu_supports("bmi"))
		return "bmi1";
	if (!__builtin_cpu_supports("bmi2"))
		return "bmi2";
	if (!kwo_cpu_has_lzcnt())
		return "lzcnt";
	return NULL;
#else
	return obj_flags & KWO_F_X86_BMI ? "x86 bmi" : NULL;
#endif
}

/*
 * A host descriptor behind a WASI fd. Regular files never block; anything
 * else (pipes, sockets, terminals) is only read or written after poll()
 * says it is ready, and then at most PIPE_BUF bytes at a time: a pipe
 * with room for one more buffer takes that many without blocking, so a
 * slow reader makes the core wait where it can be interrupted, not in
 * write(2).
 */
struct kwo_user_file {
	int fd;
	int regular;
	DIR *dir;		/* a directory being listed, on a dup of fd */
	__u64 dir_index;	/* the index of the entry dir reads next */
};

void *kwo_user_file_open(int fd)
{
	struct kwo_user_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f)
		return NULL;
	f->fd = fd;
	f->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	return f;
}

static int file_ready(const struct kwo_user_file *f, short events)
{
	struct pollfd p = { .fd = f->fd, .events = events };
	int n;

	if (f->regular)
		return 1;
	do {
		n = poll(&p, 1, 0);
	} while (n < 0 && errno == EINTR);
	/* An error or hangup is ready too: the read or write reports it. */
	return n != 0;
}

long kwo_plat_file_read(void *file, void *buf, size_t len)
{
	struct kwo_user_file *f = file;
	ssize_t n;

	if (!file_ready(f, POLLIN))
		return -EAGAIN;
	do {
		n = read(f->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

long kwo_plat_file_write(void *file, const void *buf, size_t len)
{
	struct kwo_user_file *f = file;
	ssize_t n;

	if (!file_ready(f, POLLOUT))
		return -EAGAIN;
	if (!f->regular && len > PIPE_BUF)
		len = PIPE_BUF;
	do {
		n = write(f->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* write(2) returns 0 only for len 0, which the core never asks. */
	return n ? n : -EIO;
}

void kwo_plat_file_wait(void *file, int out, __u64 max_ns)
{
	struct kwo_user_file *f = file;
	struct pollfd p = { .fd = f->fd, .events = out ? POLLOUT : POLLIN };
	__u64 ms = max_ns / 1000000 + 1;

	poll(&p, 1, max_ns == ~0ull ? -1 : ms > INT_MAX ? INT_MAX : (int)ms);
}

__u8 kwo_plat_file_type(void *file)
{
	struct kwo_user_file *f = file;
	struct stat st;

	if (fstat(f->fd, &st))
		return KWO_FILETYPE_UNKNOWN;
	if (S_ISREG(st.st_mode))
		return KWO_FILETYPE_REGULAR_FILE;
	if (S_ISDIR(st.st_mode))
		return KWO_FILETYPE_DIRECTORY;
	if (S_ISCHR(st.st_mode))
		return KWO_FILETYPE_CHARACTER_DEVICE;
	if (S_ISBLK(st.st_mode))
		return KWO_FILETYPE_BLOCK_DEVICE;
	if (S_ISSOCK(st.st_mode))
		return KWO_FILETYPE_SOCKET_STREAM;
	return KWO_FILETYPE_UNKNOWN;	/* pipes: WASI has no type for them */
}

void kwo_plat_file_close(void *file)
{
	struct kwo_user_file *f = file;

	if (f->dir)
		closedir(f->dir);
	close(f->fd);
	free(f);
}

static __u8 filetype(mode_t mode)
{
	if (S_ISREG(mode))
		return KWO_FILETYPE_REGULAR_FILE;
	if (S_ISDIR(mode))
		return KWO_FILETYPE_DIRECTORY;
	if (S_ISLNK(mode))
		return KWO_FILETYPE_SYMBOLIC_LINK;
	if (S_ISCHR(mode))
		return KWO_FILETYPE_CHARACTER_DEVICE;
	if (S_ISBLK(mode))
		return KWO_FILETYPE_BLOCK_DEVICE;
	if (S_ISSOCK(mode))
		return KWO_FILETYPE_SOCKET_STREAM;
	return KWO_FILETYPE_UNKNOWN;
}

static __u64 ns(struct timespec t)
{
	return (__u64)t.tv_sec * 1000000000ull + (__u64)t.tv_nsec;
}

static int stat_fd(int fd, struct kwo_filestat *out)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->nlink = st.st_nlink;
	out->size = (__u64)st.st_size;
	out->atim = ns(st.st_atim);
	out->mtim = ns(st.st_mtim);
	out->ctim = ns(st.st_ctim);
	out->filetype = filetype(st.st_mode);
	return 0;
}

/*
 * openat2 beneath dir: no absolute path, no ".." above it, no symlink
 * leading out of it, no /proc magic links. Returns a descriptor or a
 * negative errno, -KWO_ENOTCAPABLE for an escape (openat2's EXDEV).
 */
static int open_beneath(int dir, const char *path, int flags)
{
	struct open_how how = {
		.flags = (__u64)(flags | O_CLOEXEC),
		.mode = flags & O_CREAT ? 0666 : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do {
		fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == EXDEV ? -KWO_ENOTCAPABLE : -errno;
	return (int)fd;
}

/*
 * The directory holding path's last component, opened (O_PATH) beneath
 * dir, and in *last where that component starts in path. The component
 * keeps any trailing slashes ("new/" for mkdir), as the *at calls take
 * it. A last component "." or ".." names a directory the parent may not
 * contain: the whole path must then resolve beneath dir too.
 */
static int open_parent(int dir, const char *path, const char **last)
{
	size_t end = strlen(path), slash;
	char *parent;
	int fd;

	while (end > 1 && path[end - 1] == '/')
		end--;
	slash = end;
	while (slash && path[slash - 1] != '/')
		slash--;
	*last = path + slash;
	if (!strncmp(*last, ".", end - slash) ||
	    !strncmp(*last, "..", end - slash)) {
		fd = open_beneath(dir, path, O_PATH | O_NOFOLLOW);
		if (fd < 0)
			return fd;
		close(fd);
	}
	if (!slash)
		return open_beneath(dir, ".", O_PATH | O_DIRECTORY);
	/* "/x": the parent is "/", which openat2 refuses as an escape. */
	parent = strndup(path, slash > 1 ? slash - 1 : 1);
	if (!parent)
		return -ENOMEM;
	fd = open_beneath(dir, parent, O_PATH | O_DIRECTORY);
	free(parent);
	return fd;
}

static int user_fd(void *file)
{
	return ((struct kwo_user_file *)file)->fd;
}

int kwo_plat_path_open(void *dir, const char *path, int follow, int read,
		       int write, __u32 oflags, __u32 fdflags, void **out)
{
	int flags = O_NOCTTY, fd;

	flags |= write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
	flags |= oflags & KWO_OPEN_CREAT ? O_CREAT : 0;
	flags |= oflags & KWO_OPEN_DIRECTORY ? O_DIRECTORY : 0;
	flags |= oflags & KWO_OPEN_EXCL ? O_EXCL : 0;
	flags |= oflags & KWO_OPEN_TRUNC ? O_TRUNC : 0;
	flags |= fdflags & KWO_FDFLAG_APPEND ? O_APPEND : 0;
	flags |= fdflags & KWO_FDFLAG_NONBLOCK ? O_NONBLOCK : 0;
	flags |= fdflags & KWO_FDFLAG_DSYNC ? O_DSYNC : 0;
	flags |= fdflags & (KWO_FDFLAG_SYNC | KWO_FDFLAG_RSYNC) ? O_SYNC : 0;
	flags |= follow ? 0 : O_NOFOLLOW;
	fd = open_beneath(user_fd(dir), path, flags);
	if (fd < 0)
		return fd;
	*out = kwo_user_file_open(fd);
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

int kwo_plat_path_stat(void *dir, const char *path, int follow,
		       struct kwo_filestat *st)
{
	int fd = open_beneath(user_fd(dir), path,
			      O_PATH | (follow ? 0 : O_NOFOLLOW));
	int ret;

	if (fd < 0)
		return fd;
	ret = stat_fd(fd, st);
	close(fd);
	return ret;
}

int kwo_plat_path_mkdir(void *dir, const char *path)
{
	const char *last;
	int parent = open_parent(user_fd(dir), path, &last), ret;

	if (parent < 0)
		return parent;
	ret = mkdirat(parent, last, 0777) ? -errno : 0;
	close(parent);
	return ret;
}

int kwo_plat_path_unlink(void *dir, const char *path, int rmdir)
{
	const char *last;
	int parent = open_parent(user_fd(dir), path, &last), ret;

	if (parent < 0)
		return parent;
	ret = unlinkat(parent, last, rmdir ? AT_REMOVEDIR : 0) ? -errno : 0;
	close(parent);
	return ret;
}

int kwo_plat_path_rename(void *dir, const char *old, void *new_dir,
			 const char *new)
{
	const char *old_last, *new_last;
	int old_parent, new_parent, ret;

	old_parent = open_parent(user_fd(dir), old, &old_last);
	if (old_parent < 0)
		return old_parent;
	new_parent = open_parent(user_fd(new_dir), new, &new_last);
	if (new_parent < 0) {
		close(old_parent);
		return new_parent;
	}
	ret = renameat(old_parent, old_last, new_parent, new_last) ? -errno : 0;
	close(old_parent);
	close(new_parent);
	return ret;
}

int kwo_plat_file_seek(void *file, __s64 offset, int whence, __u64 *pos)
{
	off_t off = lseek(user_fd(file), offset, whence);

	if (off < 0)
		return -errno;
	*pos = (__u64)off;
	return 0;
}

int kwo_plat_file_stat(void *file, struct kwo_filestat *st)
{
	return stat_fd(user_fd(file), st);
}

/*
 * Append only: O_NONBLOCK on a descriptor shared with the invoking shell
 * (stdin, a terminal) would change it for every process using it, and
 * the core never blocks on a file anyway.
 */
int kwo_plat_file_set_flags(void *file, __u32 fdflags)
{
	int fd = user_fd(file), flags = fcntl(fd, F_GETFL);

	if (fdflags & ~KWO_FDFLAG_APPEND)
		return -EOPNOTSUPP;
	if (flags < 0)
		return -errno;
	flags = (flags & ~O_APPEND) | (fdflags ? O_APPEND : 0);
	return fcntl(fd, F_SETFL, flags) ? -errno : 0;
}

int kwo_plat_file_sync(void *file, int datasync)
{
	int fd = user_fd(file);

	return (datasync ? fdatasync(fd) : fsync(fd)) ? -errno : 0;
}

static __u8 dirent_type(unsigned char type)
{
	switch (type) {
	case DT_REG:	return KWO_FILETYPE_REGULAR_FILE;
	case DT_DIR:	return KWO_FILETYPE_DIRECTORY;
	case DT_LNK:	return KWO_FILETYPE_SYMBOLIC_LINK;
	case DT_CHR:	return KWO_FILETYPE_CHARACTER_DEVICE;
	case DT_BLK:	return KWO_FILETYPE_BLOCK_DEVICE;
	case DT_SOCK:	return KWO_FILETYPE_SOCKET_STREAM;
	default:	return KWO_FILETYPE_UNKNOWN;
	}
}

/*
 * Entries are numbered in readdir order. Reading on from the last index
 * is the common case; any other cookie restarts the listing and skips to
 * it (a cookie of 0 always sees the directory as it is now).
 */
int kwo_plat_dir_read(void *file, __u64 cookie, struct kwo_dirent *ent)
{
	struct kwo_user_file *f = file;
	struct dirent *d;
	size_t name_len;
	int fd;

	if (!f->dir) {
		fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		f->dir = fdopendir(fd);
		if (!f->dir) {
			close(fd);
			return -errno;
		}
		f->dir_index = 0;
	}
	if (cookie < f->dir_index || !cookie) {
		rewinddir(f->dir);
		f->dir_index = 0;
	}
	for (;;) {
		errno = 0;
		d = readdir(f->dir);
		if (!d)
			return errno ? -errno : 0;
		if (f->dir_index++ == cookie)
			break;
	}
	ent->ino = d->d_ino;
	ent->filetype = dirent_type(d->d_type);
	/* Not strncpy: gcc with ASan (the fuzz build) calls it a truncation. */
	name_len = strnlen(d->d_name, KWO_NAME_MAX);
	memcpy(ent->name, d->d_name, name_len);
	ent->name[name_len] = 0;
	return 1;
}
