/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR Apache-2.0 */
/*
 * kwo userspace API: the ioctls of /dev/kwo and of the instance file
 * descriptors it hands out. loader/src/uapi.rs mirrors every struct and
 * number here; a test there compiles this header and compares sizes and
 * offsets.
 *
 * Flow:
 *	fd = open("/dev/kwo", O_RDWR);			// 0600, root
 *	ioctl(fd, KWO_IOC_VERSION, &ver);		// handshake
 *	ifd = ioctl(fd, KWO_IOC_LOAD, &load);		// CAP_SYS_ADMIN; new fd
 *	ioctl(ifd, KWO_IOC_INVOKE, &inv);		// call an export
 *	ioctl(ifd, KWO_IOC_INFO, &info);
 *	ioctl(ifd, KWO_IOC_SET_NAME, &name);		// optional, for observers
 *	close(ifd);					// frees the instance
 *
 * All pointers are passed as __u64. All structs have explicit padding and
 * the same layout for 32- and 64-bit userspace. The reserved fields of
 * KWO_IOC_LOAD and KWO_IOC_INVOKE must be zero (EINVAL otherwise, so that
 * they can gain a meaning later); output fields are ignored on input.
 */
#ifndef _UAPI_LINUX_KWO_H
#define _UAPI_LINUX_KWO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KWO_API_VERSION		1

/*
 * Limits. KWO_MAX_OBJECT_SIZE is the default of the module's max_object
 * parameter (KWO_IOC_VERSION reports the limit in force); the others are
 * fixed.
 */
#define KWO_MAX_OBJECT_SIZE	(64u << 20)	/* bytes of a .kwo object */
#define KWO_MAX_VALS		16		/* arguments or results of one call */
#define KWO_MAX_NAME		256		/* bytes of an export name */
#define KWO_MAX_IO		(16u << 20)	/* bytes of stdin */
#define KWO_MAX_ARGS_ENV	(64u << 10)	/* bytes of the argv or environ block */
#define KWO_MAX_FILES		61		/* passed files: WASI fds 3..63 */

/* KWO_IOC_VERSION */
struct kwo_version {
	__u32 api_version;	/* in: the client's KWO_API_VERSION; out: the module's */
	__u32 object_version;	/* out: the .kwo format version it loads (KWO_VERSION) */
	__u32 targets;		/* out: bit (1 << KWO_TARGET_*) per loadable target */
	__u32 features;		/* out: KWO_FEAT_* */
	__u64 max_object_size;	/* out: largest object accepted */
	__u64 reserved[4];
};

#define KWO_FEAT_FPU		(1u << 0)	/* objects that use FP run */
#define KWO_FEAT_PRINTK		(1u << 1)	/* KWO_LOAD_PRINTK is honoured */
#define KWO_FEAT_STDIO		(1u << 2)	/* KWO_LOAD_STDIO, KWO_INVOKE_STDIO */
#define KWO_FEAT_FILES		(1u << 3)	/* KWO_LOAD_FILES */
#define KWO_FEAT_NAME		(1u << 4)	/* KWO_IOC_SET_NAME */
#define KWO_FEAT_BACKTRACE	(1u << 5)	/* kwo_invoke.frames: trap backtraces */
#define KWO_FEAT_LOAD_BACKTRACE	(1u << 6)	/* kwo_load.frames, see below */

/* KWO_IOC_LOAD: flags */
#define KWO_LOAD_PRINTK		(1u << 0)	/* mirror stdout/stderr to the kernel log */
#define KWO_LOAD_STDIO		(1u << 1)	/* stdio[] is valid, see below */
#define KWO_LOAD_FILES		(1u << 2)	/* files/nfiles are valid, see below */
#define KWO_LOAD_KNOWN		(KWO_LOAD_PRINTK | KWO_LOAD_STDIO | KWO_LOAD_FILES)

/* KWO_IOC_INVOKE: flags */
#define KWO_INVOKE_STDIO	(1u << 0)	/* stdio[] is valid, see below */
#define KWO_INVOKE_KNOWN	KWO_INVOKE_STDIO

/*
 * Streamed stdio. With KWO_LOAD_STDIO / KWO_INVOKE_STDIO, stdio[i] is a
 * file descriptor of the caller that the program's WASI fd i (0, 1, 2)
 * reads or writes while this ioctl runs (the start function for LOAD), or
 * -1 for the buffer of the flag-less mode. The module takes a reference
 * (fget) for the call only and reads and writes in the caller's context:
 * fd 0 must be open for reading, 1 and 2 for writing (EBADF otherwise).
 * A file that is not ready (a full pipe, no input yet) makes the program
 * wait, until a fatal signal or the end of the call's time budget (then
 * the call traps "interrupted"); what was written before stays written.
 * write_errno (out) is the errno of the first write that failed during
 * the call (0: none): output the program wrote that did not arrive.
 * Without the flag, stdio[] must be 0.
 */

/*
 * Passed files. With KWO_LOAD_FILES, files is the user address of an
 * array of nfiles (at most KWO_MAX_FILES) __s32 file descriptors of the
 * loader: files[i] becomes the program's WASI fd 3 + i, or stays free for
 * -1. Unlike stdio[], the module takes a reference (fget) at load and
 * keeps it for the instance's lifetime (it is dropped when the instance
 * fd is closed, or at once if the load fails); fd_close in the program
 * only frees the WASI descriptor. The program reads and writes the file
 * with fd_read/fd_write in the context of whoever invokes the instance,
 * with the file's own open mode and credentials (those of the process
 * that opened it): a write to a file opened read-only is EBADF in the
 * program. Reads and writes move the file's position as read(2) and
 * write(2) do. The same waiting rules as stdio[] apply (a pipe that is
 * not ready makes the program wait). Errors: EINVAL for nfiles over
 * KWO_MAX_FILES or an entry below -1, EFAULT for a bad files address,
 * EBADF for an entry that is not an open descriptor (O_PATH ones
 * included). Without the flag, files and nfiles must be 0.
 */

/* KWO_IOC_LOAD and KWO_IOC_INVOKE: status */
#define KWO_STATUS_OK		0	/* returned; vals[0..nvals) are the results */
#define KWO_STATUS_TRAP		1	/* trapped; see trap */
#define KWO_STATUS_EXIT		2	/* WASI proc_exit; see exit_code */

/* Where a trap happened. code is KWO_TRAP_* from kwo_abi.h. */
struct kwo_trap_report {
	__u32 code;		/* KWO_TRAP_* */
	__u32 func;		/* wasm function index, or 0xffffffff if unknown */
	__u32 wasm_off;		/* byte offset in the .wasm, or 0xffffffff if unknown */
	__u32 reserved;
};

/*
 * KWO_IOC_LOAD: validate an object, instantiate it and run its wasm start
 * function (if any) with the budgets given here. Returns a new file
 * descriptor (O_CLOEXEC) for the instance; closing it frees all of the
 * instance's memory. Errors: EPERM without CAP_SYS_ADMIN or for an object
 * compiled without safety checks (KWO_F_UNCHECKED), E2BIG over the
 * size limit, EINVAL for a malformed object, ENOEXEC for a wrong target or
 * CPU, ECANCELED when the start function trapped or exited (status, trap
 * and exit_code say how; no instance is left). On every error with a
 * message, it is written to log_buf (NUL-terminated, truncated to
 * log_size) and log_len is set to its length. A message that cannot be
 * written to log_buf makes the call EFAULT, whatever its outcome (no
 * instance is left); the struct's output fields are written back all the
 * same. Without KWO_LOAD_STDIO, output the start function writes is
 * returned by the first KWO_IOC_INVOKE.
 *
 * Versions. The struct grows at its end only, and its size is part of the
 * ioctl number (_IOC_SIZE): KWO_IOC_LOAD_VER0 is the request of programs
 * built before the frames fields existed (KWO_LOAD_SIZE_VER0 bytes, up to
 * and including the first reserved word); KWO_IOC_LOAD is this struct.
 * The module takes both: it reads as many bytes as the number says and
 * treats the fields after them as zero, and writes back only that many
 * (an older caller's memory after its struct is never touched). Any other
 * size is ENOTTY, so a request from a newer kwo whose fields this module
 * does not know fails loudly rather than having them ignored; such a
 * caller checks KWO_FEAT_LOAD_BACKTRACE (KWO_IOC_VERSION) and falls back
 * to KWO_IOC_LOAD_VER0 with the first KWO_LOAD_SIZE_VER0 bytes.
 *
 * Start-function backtraces (KWO_FEAT_LOAD_BACKTRACE). frames, frames_cap,
 * nframes and out_flags mean what they mean for KWO_IOC_INVOKE (below):
 * when the start function traps (ECANCELED, status KWO_STATUS_TRAP), the
 * wasm call stack at the trap is written to frames, innermost first, at
 * most min(frames_cap, KWO_MAX_FRAMES) entries; nframes says how many,
 * KWO_OUT_FRAMES_TRUNC in out_flags that the stack held more. Both are 0
 * for any other outcome, and ignored on input. frames_cap without frames
 * is EINVAL, as is a nonzero reserved or reserved2 word. A frames address
 * that cannot be written is EFAULT (only noticed when there is a trap to
 * report; no instance is left either way).
 */
#define KWO_LOAD_SIZE_VER0	144	/* up to and including reserved */

struct kwo_load {
	__u64 object;		/* in: user address of the .kwo bytes */
	__u32 object_len;	/* in */
	__u32 flags;		/* in: KWO_LOAD_* */
	__u64 log_buf;		/* in: user address, or 0 */
	__u32 log_size;		/* in: bytes at log_buf */
	__u32 log_len;		/* out: length of the message (0: none) */
	__u64 args;		/* in: argv for WASI, NUL-terminated strings, or 0 */
	__u64 env;		/* in: environ for WASI, NUL-terminated "K=V" strings, or 0 */
	__u32 args_len;		/* in: bytes at args, including every NUL */
	__u32 env_len;		/* in: bytes at env, including every NUL */
	__u64 stdin_buf;	/* in: user address of fd 0's contents, or 0 */
	__u32 stdin_len;	/* in */
	__u32 max_pages;	/* in: lower cap on linear memory (64 KiB pages), 0: the module's */
	__u64 timeout_ns;	/* in: start function's wall-clock budget, 0 = default */
	__u64 fuel;		/* in: start function's checkpoint budget, 0 = unlimited */
	__u32 status;		/* out: KWO_STATUS_* of the start function */
	__s32 exit_code;	/* out: KWO_STATUS_EXIT: the proc_exit code */
	struct kwo_trap_report trap;	/* out: KWO_STATUS_TRAP */
	__s32 stdio[3];		/* in: with KWO_LOAD_STDIO, see above */
	__u32 write_errno;	/* out: see above */
	__u64 files;		/* in: with KWO_LOAD_FILES, user address of __s32[nfiles] */
	__u32 nfiles;		/* in: with KWO_LOAD_FILES, see above */
	__u32 reserved;		/* in: zero */
	/* KWO_LOAD_SIZE_VER0 ends here; KWO_FEAT_LOAD_BACKTRACE: */
	__u64 frames;		/* in: user address of struct kwo_frame[frames_cap], or 0 */
	__u32 frames_cap;	/* in: entries at frames */
	__u32 nframes;		/* out: entries written (start function's trap) */
	__u32 out_flags;	/* out: KWO_OUT_FRAMES_TRUNC */
	__u32 reserved2[3];	/* in: zero */
};

/*
 * KWO_IOC_INVOKE: call an exported function. Calls on one instance are
 * serialized; different instances run concurrently. Returns 0 whenever the
 * call ran (status says how it ended) and a negative errno only if it could
 * not run (unknown export: ENOENT, argument mismatch: EINVAL, bad buffer:
 * EFAULT, pending signal before start: EINTR). After a trap the instance
 * stays usable; its memory keeps whatever the trapped call wrote.
 *
 * Without KWO_INVOKE_STDIO (or for stdio[i] = -1), stdout/stderr receive
 * what the instance wrote to fd 1/2 since the previous call returned (the
 * first call also gets the start function's output); what does not fit in
 * the buffer is dropped and flagged.
 *
 * Values are raw bits: i32/f32 in the low 32 bits (results have the upper
 * 32 bits zero), i64/f64 in all 64. An externref is an opaque 64-bit value
 * (0 is null). A funcref argument must be null; a funcref result reads 0
 * (null) or 1 (not null): function addresses stay in the kernel.
 * types[] holds KWO_VAL_* bytes (kwo_format.h): on input the argument
 * types, checked against the export's signature; on output the result
 * types.
 */
#define KWO_OUT_STDOUT_TRUNC	(1u << 0)	/* stdout did not fit */
#define KWO_OUT_STDERR_TRUNC	(1u << 1)	/* stderr did not fit */
#define KWO_OUT_FRAMES_TRUNC	(1u << 2)	/* the backtrace has more frames */

/*
 * Trap backtraces (KWO_FEAT_BACKTRACE). frames is the user address of
 * frames_cap struct kwo_frame, or 0 (then frames_cap must be 0; an older
 * module refuses any nonzero value here, as reserved). When the call traps,
 * the module writes the wasm call stack there, innermost first: frames[0]
 * is the trap itself (trap.func, trap.wasm_off), each next one the call
 * its caller was making. nframes (out) says how many were written, at
 * most min(frames_cap, KWO_MAX_FRAMES); KWO_OUT_FRAMES_TRUNC in out_flags
 * says the stack held more wasm frames than that. nframes is 0 for any
 * other outcome. The module walks the frame pointers of the generated
 * code within the call's own stack region only (docs/abi.md).
 */
#define KWO_MAX_FRAMES		32

struct kwo_frame {
	__u32 func;		/* wasm function index */
	__u32 wasm_off;		/* byte offset in the .wasm, or 0xffffffff if unknown */
};

struct kwo_invoke {
	__u64 name;		/* in: user address of the export name (not NUL-terminated) */
	__u32 name_len;		/* in */
	__u32 flags;		/* in: KWO_INVOKE_* */
	__u32 nvals;		/* in: number of arguments; out: number of results */
	__u32 status;		/* out: KWO_STATUS_* */
	__u8 types[KWO_MAX_VALS];	/* in/out, see above */
	__u64 vals[KWO_MAX_VALS];	/* in: arguments; out: results */
	__u64 stdout_buf;	/* in: user address for fd 1 output, or 0 */
	__u64 stderr_buf;	/* in: user address for fd 2 output, or 0 */
	__u32 stdout_size;	/* in: bytes at stdout_buf */
	__u32 stderr_size;	/* in: bytes at stderr_buf */
	__u32 stdout_len;	/* out: bytes written to stdout_buf */
	__u32 stderr_len;	/* out: bytes written to stderr_buf */
	__u32 out_flags;	/* out: KWO_OUT_* */
	__s32 exit_code;	/* out: KWO_STATUS_EXIT: the proc_exit code */
	__u64 timeout_ns;	/* in: wall-clock budget, 0 = the module's default */
	__u64 fuel;		/* in: checkpoint budget, 0 = unlimited */
	__u64 duration_ns;	/* out: time spent in the call */
	struct kwo_trap_report trap;	/* out: KWO_STATUS_TRAP */
	__s32 stdio[3];		/* in: with KWO_INVOKE_STDIO, see above */
	__u32 write_errno;	/* out: see above */
	__u64 frames;		/* in: user address of struct kwo_frame[frames_cap], or 0 */
	__u32 frames_cap;	/* in: entries at frames */
	__u32 nframes;		/* out: entries written (trap backtrace) */
};

/*
 * KWO_IOC_INFO. sig_flags has KWO_INFO_SIGNED when the object carried a
 * signature that kwo.ko verified at load (docs/security.md); then
 * sig_kwo_version is the signing kwo's version (major << 16 | minor << 8 |
 * patch) and signer the signer's name as the signed record states it,
 * NUL-padded and truncated to KWO_SIGNER_LEN - 1 bytes.
 */
#define KWO_INFO_SIGNED		(1u << 0)
#define KWO_SIGNER_LEN		24

struct kwo_info {
	__u32 target;		/* KWO_TARGET_* of the object */
	__u32 obj_flags;	/* KWO_F_* of the object */
	__u32 exports;		/* exports of any kind */
	__u32 load_flags;	/* KWO_LOAD_* it was loaded with */
	__u64 object_len;	/* bytes of the object */
	__u64 mem_size;		/* current bytes of linear memory 0 */
	__u64 mem_max;		/* byte limit of linear memory 0 */
	__u64 invocations;	/* KWO_IOC_INVOKE calls that ran */
	__u64 traps;		/* of which ended in a trap */
	__u32 sig_flags;	/* KWO_INFO_* */
	__u32 sig_kwo_version;
	char signer[KWO_SIGNER_LEN];
};

/*
 * KWO_IOC_SET_NAME: name the instance for observers: the root-only
 * debugfs files /sys/kernel/debug/kwo/instances and symbols (`kwo ps`,
 * `kwo perf-map`) show it, and nothing else uses it. Optional: an unnamed
 * instance shows as "crc-" and its object's checksum in 8 hex digits. The
 * kwo CLI names an instance after its file's base name.
 *
 * Why an ioctl of its own rather than a field of KWO_IOC_LOAD: the load
 * request has no reserved room left for a name, and naming is the caller's
 * business after the load, as often as it likes (the last name wins).
 *
 * name: 1 to KWO_NAME_LEN - 1 bytes, NUL-terminated, the rest of the array
 * NUL too; no byte below 0x20 and no 0x7f (bytes from 0x80 up pass, for
 * UTF-8). reserved must be zero. Errors: EINVAL for a name breaking these
 * rules, EFAULT for a bad address.
 */
#define KWO_NAME_LEN		64

struct kwo_name {
	char name[KWO_NAME_LEN];	/* in */
	__u64 reserved[2];		/* in: zero */
};

#define KWO_IOC_MAGIC	0xb7
#define KWO_IOC_VERSION	_IOWR(KWO_IOC_MAGIC, 0x00, struct kwo_version)
#define KWO_IOC_LOAD	_IOWR(KWO_IOC_MAGIC, 0x01, struct kwo_load)
#define KWO_IOC_LOAD_VER0	_IOC(_IOC_READ | _IOC_WRITE, KWO_IOC_MAGIC, 0x01, \
				     KWO_LOAD_SIZE_VER0)
#define KWO_IOC_INVOKE	_IOWR(KWO_IOC_MAGIC, 0x02, struct kwo_invoke)
#define KWO_IOC_INFO	_IOR(KWO_IOC_MAGIC, 0x03, struct kwo_info)
#define KWO_IOC_SET_NAME	_IOW(KWO_IOC_MAGIC, 0x04, struct kwo_name)

#endif /* _UAPI_LINUX_KWO_H */
