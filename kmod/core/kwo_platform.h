/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * What each world (the Linux kernel module, the userspace runtime) provides
 * to the portable core. The core calls nothing else: no libc beyond the
 * compiler-level string functions (memcpy, memmove, memset, memcmp), which
 * both worlds have.
 *
 * Kernel: kmod/linux/platform.c. Userspace: loader/csrc/platform_user.c.
 * All functions may sleep unless said otherwise; none is called with the
 * FPU section open except kwo_plat_fpu_end().
 */
#ifndef KWO_PLATFORM_H
#define KWO_PLATFORM_H

#include "kwo_types.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <stddef.h>
#include <string.h>
#endif

/*
 * Zeroed allocation of any size (kvzalloc(GFP_KERNEL_ACCOUNT) / calloc);
 * NULL on failure. Tables and output buffers come from here too, so it
 * must handle many megabytes. kwo_plat_free(NULL) is a no-op.
 */
void *kwo_plat_zalloc(size_t size);
void kwo_plat_free(void *ptr);

/*
 * Linear memories in reserved address space. kwo_plat_mem_reserve()
 * reserves KWO_MEM_RESERVE bytes of address space with nothing mapped, for
 * a memory that will never map more than max_size bytes, and returns 0,
 * -EMFILE when the world's limit on reservations is reached or -ENOMEM.
 * kwo_plat_mem_map() makes [old_size, new_size) from the base accessible
 * and zero, in place: the base never moves and the bytes below old_size
 * are untouched; sizes are multiples of 64 KiB, old_size < new_size <=
 * max_size <= 4 GiB; on failure (-ENOMEM, or -EINTR when the task is
 * being killed) nothing changed.
 * kwo_plat_mem_free() unmaps and releases everything; NULL is a no-op.
 *
 * The reservation covers any 32-bit index plus any 32-bit static offset
 * plus the widest access (16 bytes), so that an access whose bounds check
 * was mispredicted can only reach the memory or addresses never mapped
 * (docs/abi.md, docs/security.md). Debug kernels with KASAN_VMALLOC, where
 * a full reservation costs 1 GiB of shadow, reserve max_size plus a guard
 * instead: a debugging setup, where this Spectre property is given up.
 */
#define KWO_MEM_RESERVE		((8ULL << 30) + (64ULL << 10))

struct kwo_plat_mem;
int kwo_plat_mem_reserve(__u64 max_size, struct kwo_plat_mem **out);
void *kwo_plat_mem_base(const struct kwo_plat_mem *mem);
int kwo_plat_mem_map(struct kwo_plat_mem *mem, __u64 old_size,
		     __u64 new_size);
void kwo_plat_mem_free(struct kwo_plat_mem *mem);

/*
 * Code memory. kwo_plat_code_alloc() returns writable, non-executable
 * memory of at least size bytes, within +-2 GiB (x86_64) / +-128 MiB
 * (aarch64) of the core's own functions if the world can arrange it (the
 * kernel's module area), anywhere otherwise: the core adds veneers for
 * targets out of reach. kwo_plat_code_seal() makes it read-only, then
 * executable (never writable and executable at once) and makes the
 * instruction cache coherent; returns 0 or a negative errno. After a
 * failed seal the memory is still freed with kwo_plat_code_free().
 */
void *kwo_plat_code_alloc(size_t size);
int kwo_plat_code_seal(void *code, size_t size);
void kwo_plat_code_free(void *code, size_t size);

/*
 * The epoch: the address of a counter that increases by one per tick
 * (&jiffies in the kernel, a 1 ms ticker in userspace). Generated code
 * loads it at loop headers and function entries. Never changes.
 */
const volatile __u64 *kwo_plat_epoch(void);

/* Clocks in nanoseconds: KWO_CLOCK_REALTIME (since 1970) or MONOTONIC. */
#define KWO_CLOCK_REALTIME	0
#define KWO_CLOCK_MONOTONIC	1
__u64 kwo_plat_clock_ns(int clock);
__u64 kwo_plat_clock_res_ns(int clock);

/*
 * Bytes of stack usable below the caller's stack pointer: to the end of
 * the kernel task stack less room for interrupt entry; ~0 in userspace,
 * where the runtime lowers the budget to the thread's stack itself.
 */
__u64 kwo_plat_stack_left(void);

/*
 * A trap unwound from a host function (kwo_raise) to kwo_run(), past the
 * C frames between: their stack redzones are still poisoned on a KASAN
 * kernel, so the kernel clears the shadow below the caller. Nothing to do
 * in userspace, where ASan's compiler-inserted __asan_handle_no_return()
 * before kwo_arch_unwind() does it.
 */
void kwo_plat_unwound(void);

/*
 * Sleep for at most ns nanoseconds (WASI poll_oneoff on clocks). It may
 * return early for any reason, the core checks the time again; in the
 * kernel the sleep is killable (a fatal signal ends it).
 */
void kwo_plat_sleep_ns(__u64 ns);

/* Give up the CPU if someone else wants it (cond_resched / sched_yield). */
void kwo_plat_resched(void);

/* Nonzero if the calling task should stop (fatal_signal_pending). */
int kwo_plat_should_stop(void);

/*
 * Where a platform keeps an open FPU section's state: on arm64 kernels
 * since 6.19, kernel_neon_begin() takes a buffer (a struct
 * user_fpsimd_state: 32 128-bit registers, FPSR, FPCR) into which the
 * task's kernel-mode NEON registers are saved when it is preempted, and
 * which must live until kernel_neon_end(). Nothing elsewhere.
 */
struct kwo_plat_fpu {
#if defined(__KERNEL__) && defined(__aarch64__)
	__u64 words[66];
#else
	int unused;
#endif
} __attribute__((aligned(16)));

/*
 * FPU bracketing around generated code that uses FP/SIMD registers
 * (kernel_fpu_begin_mask(KFPU_MXCSR) / kernel_fpu_end, kernel_neon_*),
 * with the same save area for a section's begin and end. No-ops in
 * userspace. Sections never nest.
 */
void kwo_plat_fpu_begin(struct kwo_plat_fpu *save);
void kwo_plat_fpu_end(struct kwo_plat_fpu *save);

/*
 * CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of len bytes, continuing
 * from crc (0 to start). Objects are checksummed on every load, so it must
 * be fast: crc32_le() in the kernel; in userspace carry-less multiplication
 * (x86_64) or the CRC32 instructions (aarch64), slicing-by-8 without them.
 */
__u32 kwo_plat_crc32(__u32 crc, const void *p, size_t len);

/* Fill buf with random bytes (get_random_bytes / getrandom). */
void kwo_plat_random(void *buf, size_t len);

/*
 * Host files behind WASI descriptors (wasi_fd.c). A file is an opaque
 * handle the glue puts in kwo_config.files: a struct file slot in the
 * kernel, a host descriptor in userspace. The core owns each handle from
 * kwo_instance_new() on and releases it exactly once with
 * kwo_plat_file_close().
 *
 * read/write move at most len bytes without blocking: they return the
 * count (read: 0 at end of file; write: at least 1), -EAGAIN when the file
 * is not ready (a full pipe, no input yet), or another negative errno.
 * wait sleeps until the file may be ready for reading (out = 0) or writing
 * (out = 1), for at most max_ns nanoseconds (~0: no bound); it may return
 * early for any reason, the core checks again. In the kernel it wakes for
 * a fatal signal. type is the WASI filetype (KWO_FILETYPE_*).
 */
long kwo_plat_file_read(void *file, void *buf, size_t len);
long kwo_plat_file_write(void *file, const void *buf, size_t len);
void kwo_plat_file_wait(void *file, int out, __u64 max_ns);
__u8 kwo_plat_file_type(void *file);
void kwo_plat_file_close(void *file);

/*
 * Files and directories by path (wasi_files.c), all relative to a
 * directory handle dir and resolved strictly beneath it: an absolute
 * path, a ".." above dir or a symbolic link leading out fails with
 * -KWO_ENOTCAPABLE, as openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * does. path is NUL-terminated, never empty. Each returns 0 or a negative
 * errno. A world without directories (the kernel today) returns
 * -KWO_ENOTCAPABLE.
 *
 * path_open opens path (following a final symlink only if follow) for
 * reading and/or writing (neither: reading), with KWO_OPEN_* flags and
 * WASI fdflags (KWO_FDFLAG_*), and stores a new file handle in *out.
 * path_stat fills *st (a final symlink followed only if follow).
 * path_mkdir creates a directory; path_unlink removes a file (rmdir = 0)
 * or an empty directory (rmdir = 1); path_rename moves old beneath dir to
 * new beneath new_dir.
 */
#define KWO_ENOTCAPABLE		4000	/* no world's errno: a path leading out */

#define KWO_OPEN_CREAT		1	/* WASI oflags */
#define KWO_OPEN_DIRECTORY	2
#define KWO_OPEN_EXCL		4
#define KWO_OPEN_TRUNC		8

#define KWO_FDFLAG_APPEND	1	/* WASI fdflags */
#define KWO_FDFLAG_DSYNC	2
#define KWO_FDFLAG_NONBLOCK	4
#define KWO_FDFLAG_RSYNC	8
#define KWO_FDFLAG_SYNC		16

/* WASI filestat, in host order; times in ns since 1970. */
struct kwo_filestat {
	__u64 dev;
	__u64 ino;
	__u64 nlink;
	__u64 size;
	__u64 atim;
	__u64 mtim;
	__u64 ctim;
	__u8 filetype;		/* KWO_FILETYPE_* */
};

/* One directory entry; name is NUL-terminated. */
#define KWO_NAME_MAX		255
struct kwo_dirent {
	__u64 ino;
	__u8 filetype;
	char name[KWO_NAME_MAX + 1];
};

int kwo_plat_path_open(void *dir, const char *path, int follow, int read,
		       int write, __u32 oflags, __u32 fdflags, void **out);
int kwo_plat_path_stat(void *dir, const char *path, int follow,
		       struct kwo_filestat *st);
int kwo_plat_path_mkdir(void *dir, const char *path);
int kwo_plat_path_unlink(void *dir, const char *path, int rmdir);
int kwo_plat_path_rename(void *dir, const char *old, void *new_dir,
			 const char *new);

/*
 * Operations on an open file. seek: whence 0/1/2 (set, current, end, as
 * WASI and Linux number them), the new offset in *pos; -ESPIPE for pipes
 * and other streams. stat fills *st. set_flags sets the KWO_FDFLAG_APPEND
 * and _NONBLOCK flags (others: -EOPNOTSUPP). sync flushes to the device (data
 * only if datasync). dir_read reads the entry at index cookie (0 is the
 * first) of a directory into *ent: 1, 0 past the last entry, or a
 * negative errno (-ENOTDIR for a file).
 */
int kwo_plat_file_seek(void *file, __s64 offset, int whence, __u64 *pos);
int kwo_plat_file_stat(void *file, struct kwo_filestat *st);
int kwo_plat_file_set_flags(void *file, __u32 fdflags);
int kwo_plat_file_sync(void *file, int datasync);
int kwo_plat_dir_read(void *file, __u64 cookie, struct kwo_dirent *ent);

/* WASI preview1 filetypes, as kwo_plat_file_type() reports them. */
#define KWO_FILETYPE_UNKNOWN		0
#define KWO_FILETYPE_BLOCK_DEVICE	1
#define KWO_FILETYPE_CHARACTER_DEVICE	2
#define KWO_FILETYPE_DIRECTORY		3
#define KWO_FILETYPE_REGULAR_FILE	4
#define KWO_FILETYPE_SOCKET_STREAM	6
#define KWO_FILETYPE_SYMBOLIC_LINK	7

/* Log one line (no trailing newline) to the system log / stderr. */
void kwo_plat_log(const char *msg);

/*
 * CPU baseline: NULL if the running CPU can execute objects for this
 * architecture with header flags obj_flags (0: any object), else the name
 * of a missing feature ("sse4.2", "popcnt", "bmi2").
 * x86_64 requires x86-64-v2 (SSE4.1, SSE4.2, POPCNT), and BMI1, BMI2 and
 * LZCNT for objects with KWO_F_X86_BMI; aarch64 has no extra requirement
 * and no such object.
 */
const char *kwo_plat_cpu_missing(__u32 obj_flags);

#endif /* KWO_PLATFORM_H */
