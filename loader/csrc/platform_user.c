// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * kwo_platform.h for userspace: libc allocation, linear memories in
 * PROT_NONE reservations opened with mprotect, mmap'd code memory sealed
 * RW -> R -> RX with mprotect (never writable and executable at once),
 * clock_gettime, getrandom, sched_yield and stderr; host files are
 * descriptors read and written directly with read(2)/write(2).
 *
 * The epoch is a process-wide counter bumped every millisecond by a
 * detached ticker thread, started on first use and never stopped; its cost
 * is one wakeup per millisecond while the process lives. Generated code
 * compares it with its deadline at loop headers and function entries, so
 * the runtime regains control (timeouts) at least once per tick.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	void *p = mmap(NULL, page_round(size), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

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

void kwo_plat_fpu_begin(void)
{
}

void kwo_plat_fpu_end(void)
{
}

/* crc_table[k][b]: the CRC of byte b followed by k zero bytes. */
static __u32 crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

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
}

static __u32 load_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

/* Slicing-by-8: eight table lookups per 8 bytes, independent of each other. */
__u32 kwo_plat_crc32(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	__u32 lo, hi;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
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
	return ~crc;
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

const char *kwo_plat_cpu_missing(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.1"))
		return "sse4.1";
	if (!__builtin_cpu_supports("sse4.2"))
		return "sse4.2";
	if (!__builtin_cpu_supports("popcnt"))
		return "popcnt";
#endif
	return NULL;
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

	close(f->fd);
	free(f);
}
