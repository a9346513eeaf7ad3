// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The WASI (wasi_snapshot_preview1) subset a kernel extension may use:
 * arguments and environment given at instantiation, clocks, reads and
 * writes on the descriptors of the fd table (wasi_fd.c: host files the
 * glue gave, stdio among them), randomness, proc_exit, sched_yield
 * and poll_oneoff on clocks (sleep). The file system calls (preopens,
 * paths, seeking, directories) are in wasi_files.c. Every guest pointer
 * and length is checked against linear memory (EFAULT). Each function has
 * the wasm signature with the vmctx prepended and returns a WASI errno.
 *
 * Reads and writes never drop data: a file that is not ready (a full pipe,
 * no input yet) makes the call wait, rescheduling, until it is, a fatal
 * signal arrives or the call's time budget ends (then the call traps
 * "interrupted"; what was written before stays written).
 */
#include "kwo_internal.h"
#include "wasi_common.h"

__u32 kwo_wasi_errno(long err)
{
	switch (-err) {
	case EACCES:	return WASI_EACCES;
	case EAGAIN:	return WASI_EAGAIN;
	case EBADF:	return WASI_EBADF;
	case EBUSY:	return WASI_EBUSY;
	case EDQUOT:	return WASI_EDQUOT;
	case EEXIST:	return WASI_EEXIST;
	case EFAULT:	return WASI_EFAULT;
	case EFBIG:	return WASI_EFBIG;
	case EINTR:	return WASI_EINTR;
	case EINVAL:	return WASI_EINVAL;
	case EISDIR:	return WASI_EISDIR;
	case ELOOP:	return WASI_ELOOP;
	case EMFILE:	return WASI_EMFILE;
	case EMLINK:	return WASI_EMLINK;
	case ENAMETOOLONG: return WASI_ENAMETOOLONG;
	case ENFILE:	return WASI_ENFILE;
	case ENOENT:	return WASI_ENOENT;
	case ENOMEM:	return WASI_ENOMEM;
	case ENOSPC:	return WASI_ENOSPC;
	case ENOTDIR:	return WASI_ENOTDIR;
	case ENOTEMPTY:	return WASI_ENOTEMPTY;
	case EOPNOTSUPP: return WASI_ENOTSUP;
	case EOVERFLOW:	return WASI_EOVERFLOW;
	case EPERM:	return WASI_EPERM;
	case EPIPE:	return WASI_EPIPE;
	case EROFS:	return WASI_EROFS;
	case ESPIPE:	return WASI_ESPIPE;
	case ETXTBSY:	return WASI_ETXTBSY;
	case EXDEV:	return WASI_EXDEV;
	case KWO_ENOTCAPABLE: return WASI_ENOTCAPABLE;
	default:	return WASI_EIO;
	}
}

/* Store n NUL-separated strings: pointers at ptrs, bytes at buf. */
static __u32 put_strings(struct kwo_instance *inst, const char *strs,
			 size_t strs_len, __u32 n, __u32 ptrs, __u32 buf)
{
	__u8 *p = kwo_guest(inst, ptrs, 4ull * n), *b = kwo_guest(inst, buf, strs_len);
	size_t pos = 0;
	__u32 i;

	if (!p || !b)
		return WASI_EFAULT;
	memcpy(b, strs, strs_len);
	for (i = 0; i < n; i++) {
		kwo_st32(p + 4 * (size_t)i, buf + (__u32)pos);
		pos += strlen(strs + pos) + 1;
	}
	return WASI_ESUCCESS;
}

static __u32 put_sizes(struct kwo_instance *inst, __u32 n, size_t len,
		       __u32 n_ptr, __u32 len_ptr)
{
	__u8 *a = kwo_guest(inst, n_ptr, 4), *b = kwo_guest(inst, len_ptr, 4);

	if (!a || !b)
		return WASI_EFAULT;
	kwo_st32(a, n);
	kwo_st32(b, (__u32)len);
	return WASI_ESUCCESS;
}

static __u32 wasi_args_get(struct kwo_vmctx *vmctx, __u32 argv, __u32 buf)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	return put_strings(inst, inst->argbuf, inst->argbuf_len, inst->argc,
			   argv, buf);
}

static __u32 wasi_args_sizes_get(struct kwo_vmctx *vmctx, __u32 argc,
				 __u32 size)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	return put_sizes(inst, inst->argc, inst->argbuf_len, argc, size);
}

static __u32 wasi_environ_get(struct kwo_vmctx *vmctx, __u32 env, __u32 buf)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	return put_strings(inst, inst->envbuf, inst->envbuf_len, inst->envc,
			   env, buf);
}

static __u32 wasi_environ_sizes_get(struct kwo_vmctx *vmctx, __u32 envc,
				    __u32 size)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	return put_sizes(inst, inst->envc, inst->envbuf_len, envc, size);
}

/*
 * Realtime and monotonic clocks come from the platform; the process and
 * thread CPU-time clocks are answered with the monotonic clock (there is
 * no per-instance CPU accounting).
 */
static int wasi_clock(__u32 id)
{
	if (id == 0)
		return KWO_CLOCK_REALTIME;
	if (id <= 3)
		return KWO_CLOCK_MONOTONIC;
	return -1;
}

static __u32 wasi_clock_res_get(struct kwo_vmctx *vmctx, __u32 id,
				__u32 res_ptr)
{
	__u8 *p = kwo_guest(kwo_inst(vmctx), res_ptr, 8);
	int clock = wasi_clock(id);

	if (clock < 0)
		return WASI_EINVAL;
	if (!p)
		return WASI_EFAULT;
	kwo_st64(p, kwo_plat_clock_res_ns(clock));
	return WASI_ESUCCESS;
}

static __u32 wasi_clock_time_get(struct kwo_vmctx *vmctx, __u32 id,
				 __u64 precision, __u32 time_ptr)
{
	__u8 *p = kwo_guest(kwo_inst(vmctx), time_ptr, 8);
	int clock = wasi_clock(id);

	(void)precision;
	if (clock < 0)
		return WASI_EINVAL;
	if (!p)
		return WASI_EFAULT;
	kwo_st64(p, kwo_plat_clock_ns(clock));
	return WASI_ESUCCESS;
}

/* Closing a host file may sleep: outside the FPU section. */
static __u32 wasi_fd_close(struct kwo_vmctx *vmctx, __u32 fd)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, err;

	paused = kwo_fpu_pause(inst, fp);
	err = kwo_fd_close(&inst->fds, fd);
	kwo_fpu_resume(inst, fp, paused);
	return err ? WASI_EBADF : WASI_ESUCCESS;
}

static __u32 wasi_fd_renumber(struct kwo_vmctx *vmctx, __u32 from, __u32 to)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, err;

	paused = kwo_fpu_pause(inst, fp);
	err = kwo_fd_renumber(&inst->fds, from, to);
	kwo_fpu_resume(inst, fp, paused);
	return err ? WASI_EBADF : WASI_ESUCCESS;
}

static __u32 wasi_fd_fdstat_get(struct kwo_vmctx *vmctx, __u32 fd,
				__u32 stat_ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *p = kwo_guest(inst, stat_ptr, 24);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u8 type;
	int paused;

	if (!file)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	type = kwo_plat_file_type(file);
	kwo_fpu_resume(inst, fp, paused);
	memset(p, 0, 24);
	p[0] = type;
	kwo_st64(p + 8, WASI_RIGHTS_ALL);
	kwo_st64(p + 16, WASI_RIGHTS_ALL);
	return WASI_ESUCCESS;
}

/*
 * Checks an iovec array (8-byte entries: address, length) against linear
 * memory. Returns the array, or NULL with *err set: EFAULT for anything
 * outside memory, EINVAL for a total that the 32-bit count cannot express
 * (as readv/writev refuse one that overflows ssize_t).
 */
static __u8 *guest_iovs(struct kwo_instance *inst, __u32 iovs, __u32 n,
			__u32 *err)
{
	__u8 *iov = kwo_guest(inst, iovs, 8ull * n);
	__u64 total = 0;
	__u32 i, len;

	*err = WASI_EFAULT;
	if (!iov)
		return NULL;
	for (i = 0; i < n; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		if (!kwo_guest(inst, kwo_le32(iov + 8 * (size_t)i), len))
			return NULL;
		total += len;
	}
	*err = WASI_EINVAL;
	return total > 0xffffffffull ? NULL : iov;
}

/*
 * Wait for file to become ready, with the FPU section paused. Traps
 * "interrupted" at ra (in generated code) on a fatal signal or at the end
 * of the time budget.
 */
static void wait_ready(struct kwo_instance *inst, void *file, int out,
		       unsigned long ra)
{
	__u64 left = ~0ull, now;

	kwo_resched_or_interrupt(inst, ra);
	if (inst->deadline_ns) {
		now = kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC);
		left = inst->deadline_ns > now ? inst->deadline_ns - now : 0;
	}
	kwo_plat_file_wait(file, out, left);
}

/* Read into one buffer; wait for the first byte only if may_wait. */
static long read_some(struct kwo_instance *inst, void *file, __u8 *dst,
		      __u32 len, int may_wait, unsigned long ra)
{
	long n;

	for (;;) {
		n = kwo_plat_file_read(file, dst, len);
		if (n != -EAGAIN)
			return n;
		if (!may_wait)
			return 0;
		wait_ready(inst, file, 0, ra);
	}
}

/*
 * Like readv(): fills the buffers in order, waiting only until some input
 * is there, and stops at a short read. An error after some bytes is left
 * for the next call.
 */
static __u32 wasi_fd_read(struct kwo_vmctx *vmctx, __u32 fd, __u32 iovs,
			  __u32 iovs_len, __u32 nread_ptr)
{
	unsigned long ra = (unsigned long)__builtin_return_address(0);
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *nread = kwo_guest(inst, nread_ptr, 4), *iov, *dst;
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u32 i, len, total = 0, err;
	int paused;
	long n = 0;

	if (!file)
		return WASI_EBADF;
	iov = guest_iovs(inst, iovs, iovs_len, &err);
	if (!iov)
		return err;
	if (!nread)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	for (i = 0; i < iovs_len; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		dst = kwo_guest(inst, kwo_le32(iov + 8 * (size_t)i), len);
		if (!len)
			continue;
		n = read_some(inst, file, dst, len, !total, ra);
		if (n <= 0)
			break;
		total += (__u32)n;
		if ((__u32)n < len)
			break;
	}
	kwo_fpu_resume(inst, fp, paused);
	if (n < 0 && !total)
		return kwo_wasi_errno(n);
	kwo_st32(nread, total);
	return WASI_ESUCCESS;
}

/*
 * Write all of one buffer, waiting while the file is not ready: 0 or a
 * negative errno, with what was written in *done either way.
 */
static long write_all(struct kwo_instance *inst, void *file, const __u8 *src,
		      __u32 len, __u32 *done, unsigned long ra)
{
	long n;

	*done = 0;
	while (*done < len) {
		n = kwo_plat_file_write(file, src + *done, len - *done);
		if (n == -EAGAIN) {
			wait_ready(inst, file, 1, ra);
			continue;
		}
		if (n < 0)
			return n;
		*done += (__u32)n;
	}
	return 0;
}

/*
 * Writes everything, in order, waiting for a slow reader (backpressure).
 * A write error ends the call with what was written in nwritten (success
 * if that is not nothing, as write() does: the error comes back on the
 * next call) and is remembered in the call's write_errno, so that the
 * caller can report lost output even if the program ignores the error.
 */
static __u32 wasi_fd_write(struct kwo_vmctx *vmctx, __u32 fd, __u32 iovs,
			   __u32 iovs_len, __u32 nwritten_ptr)
{
	unsigned long ra = (unsigned long)__builtin_return_address(0);
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *nwritten = kwo_guest(inst, nwritten_ptr, 4), *iov, *src;
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u32 i, len, done, total = 0, err;
	int paused;
	long ret = 0;

	if (!file)
		return WASI_EBADF;
	iov = guest_iovs(inst, iovs, iovs_len, &err);
	if (!iov)
		return err;
	if (!nwritten)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	for (i = 0; i < iovs_len && !ret; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		src = kwo_guest(inst, kwo_le32(iov + 8 * (size_t)i), len);
		ret = write_all(inst, file, src, len, &done, ra);
		total += done;
	}
	kwo_fpu_resume(inst, fp, paused);
	kwo_st32(nwritten, total);
	if (!ret)
		return WASI_ESUCCESS;
	if (!inst->write_errno)
		inst->write_errno = (__u32)-ret;
	return total ? WASI_ESUCCESS : kwo_wasi_errno(ret);
}

/*
 * poll_oneoff: a subscription is 48 bytes (userdata, tag at 8, then for a
 * clock: id at 16, timeout at 24, precision at 32, flags at 40, bit 0 an
 * absolute time); an event is 32 bytes (userdata, errno at 8, type at 10).
 */
#define WASI_SUB_SIZE		48
#define WASI_EVENT_SIZE		32
#define WASI_EVENTTYPE_CLOCK	0
#define WASI_SUBCLOCK_ABSTIME	1
#define WASI_NO_TIMEOUT		(~0ull)

/* a + b, or ~0 where it would overflow. */
static __u64 add_sat(__u64 a, __u64 b)
{
	return a + b < a ? WASI_NO_TIMEOUT : a + b;
}

/*
 * The monotonic time when clock subscription sub fires (relative timeouts
 * count from now, the start of the call), WASI_NO_TIMEOUT
 * for never (within 64 bits), or 0 with *err set for an unknown clock.
 * An absolute realtime is turned into monotonic time now: a later step of
 * the realtime clock does not move the wakeup.
 */
static __u64 clock_sub_due(const __u8 *sub, __u64 now, __u16 *err)
{
	int clock = wasi_clock(kwo_le32(sub + 16));
	__u64 timeout = kwo_le64(sub + 24), real;

	*err = WASI_ESUCCESS;
	if (clock < 0) {
		*err = WASI_EINVAL;
		return 0;
	}
	if (!(sub[40] & WASI_SUBCLOCK_ABSTIME))
		return add_sat(now, timeout);
	if (clock == KWO_CLOCK_MONOTONIC)
		return timeout;
	real = kwo_plat_clock_ns(KWO_CLOCK_REALTIME);
	return timeout <= real ? now : add_sat(now, timeout - real);
}

static void put_event(__u8 *ev, const __u8 *sub, __u16 err)
{
	memset(ev, 0, WASI_EVENT_SIZE);
	memcpy(ev, sub, 8);
	ev[8] = (__u8)err;
	ev[9] = (__u8)(err >> 8);
	ev[10] = sub[8];
}

/*
 * Sleep until monotonic time due, with the FPU section paused, in slices
 * that end at the call's time budget: a fatal signal or the budget traps
 * "interrupted" at ra, so a sleep can never outlast the budget.
 */
static void sleep_until(struct kwo_instance *inst, __u64 due,
			unsigned long ra)
{
	__u64 now, left;

	for (;;) {
		kwo_resched_or_interrupt(inst, ra);
		now = kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC);
		if (now >= due)
			return;
		left = due - now;
		if (inst->deadline_ns) {
			/* past it since the check above: trap there now */
			if (inst->deadline_ns <= now)
				continue;
			if (inst->deadline_ns - now < left)
				left = inst->deadline_ns - now;
		}
		kwo_plat_sleep_ns(left);
	}
}

/*
 * Only clock subscriptions wait. A descriptor subscription (fd_read,
 * fd_write) is answered at once with an ENOTSUP event, and so is an
 * unknown clock (EINVAL): with any such event the call does not sleep,
 * as a poll that has something to report returns. Otherwise it sleeps
 * until the earliest clock and reports every clock due by then.
 */
static __u32 wasi_poll_oneoff(struct kwo_vmctx *vmctx, __u32 in, __u32 out,
			      __u32 nsubs, __u32 nevents_ptr)
{
	unsigned long ra = (unsigned long)__builtin_return_address(0);
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *subs = kwo_guest(inst, in, (__u64)WASI_SUB_SIZE * nsubs);
	__u8 *evs = kwo_guest(inst, out, (__u64)WASI_EVENT_SIZE * nsubs);
	__u8 *nevents = kwo_guest(inst, nevents_ptr, 4), *sub;
	__u64 fp[KWO_FP_SAVE_SLOTS], start, now, due, first = WASI_NO_TIMEOUT;
	__u32 i, n = 0;
	__u16 err;
	int paused;

	if (!nsubs)
		return WASI_EINVAL;
	if (!subs || !evs || !nevents)
		return WASI_EFAULT;
	start = kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC);
	for (i = 0; i < nsubs; i++) {
		sub = subs + (size_t)WASI_SUB_SIZE * i;
		err = WASI_ENOTSUP;
		if (sub[8] == WASI_EVENTTYPE_CLOCK) {
			due = clock_sub_due(sub, start, &err);
			if (!err && due < first)
				first = due;
		}
		if (err)
			put_event(evs + (size_t)WASI_EVENT_SIZE * n++, sub, err);
	}
	if (!n) {
		paused = kwo_fpu_pause(inst, fp);
		sleep_until(inst, first, ra);
		kwo_fpu_resume(inst, fp, paused);
		now = kwo_plat_clock_ns(KWO_CLOCK_MONOTONIC);
		for (i = 0; i < nsubs; i++) {
			sub = subs + (size_t)WASI_SUB_SIZE * i;
			if (clock_sub_due(sub, start, &err) <= now)
				put_event(evs + (size_t)WASI_EVENT_SIZE * n++,
					  sub, WASI_ESUCCESS);
		}
	}
	kwo_st32(nevents, n);
	return WASI_ESUCCESS;
}

static void wasi_proc_exit(struct kwo_vmctx *vmctx, __u32 code)
{
	struct kwo_instance *inst = kwo_inst(vmctx);

	inst->exit_code = (__s32)code;
	kwo_raise(inst, KWO_TRAP_EXIT, (unsigned long)__builtin_return_address(0));
}

/*
 * Filled in chunks, rescheduling between them: a guest may ask for all of
 * its memory (hundreds of MiB) at once. A fatal signal or the end of the
 * time budget interrupts the call there, as at a checkpoint.
 */
#define KWO_RANDOM_CHUNK	(64u << 10)

static __u32 wasi_random_get(struct kwo_vmctx *vmctx, __u32 buf, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *p = kwo_guest(inst, buf, len);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	__u32 n;
	int paused;

	if (!p)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	for (;;) {
		n = len < KWO_RANDOM_CHUNK ? len : KWO_RANDOM_CHUNK;
		kwo_plat_random(p, n);
		p += n;
		len -= n;
		if (!len)
			break;
		kwo_resched_or_interrupt(inst,
					 (unsigned long)__builtin_return_address(0));
	}
	kwo_fpu_resume(inst, fp, paused);
	return WASI_ESUCCESS;
}

static __u32 wasi_sched_yield(struct kwo_vmctx *vmctx)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused;

	paused = kwo_fpu_pause(inst, fp);
	kwo_plat_resched();
	kwo_fpu_resume(inst, fp, paused);
	return WASI_ESUCCESS;
}

void *kwo_wasi_addr(__u32 host_id)
{
	static void *const fns[KWO_HOST_ID_COUNT] = {
		[KWO_HOST_WASI_ARGS_GET] = (void *)wasi_args_get,
		[KWO_HOST_WASI_ARGS_SIZES_GET] = (void *)wasi_args_sizes_get,
		[KWO_HOST_WASI_ENVIRON_GET] = (void *)wasi_environ_get,
		[KWO_HOST_WASI_ENVIRON_SIZES_GET] = (void *)wasi_environ_sizes_get,
		[KWO_HOST_WASI_CLOCK_RES_GET] = (void *)wasi_clock_res_get,
		[KWO_HOST_WASI_CLOCK_TIME_GET] = (void *)wasi_clock_time_get,
		[KWO_HOST_WASI_FD_CLOSE] = (void *)wasi_fd_close,
		[KWO_HOST_WASI_FD_FDSTAT_GET] = (void *)wasi_fd_fdstat_get,
		[KWO_HOST_WASI_FD_READ] = (void *)wasi_fd_read,
		[KWO_HOST_WASI_FD_WRITE] = (void *)wasi_fd_write,
		[KWO_HOST_WASI_PROC_EXIT] = (void *)wasi_proc_exit,
		[KWO_HOST_WASI_RANDOM_GET] = (void *)wasi_random_get,
		[KWO_HOST_WASI_SCHED_YIELD] = (void *)wasi_sched_yield,
		[KWO_HOST_WASI_FD_RENUMBER] = (void *)wasi_fd_renumber,
		[KWO_HOST_WASI_POLL_ONEOFF] = (void *)wasi_poll_oneoff,
	};

	if (host_id < KWO_HOST_WASI_BASE || host_id >= KWO_HOST_WASI_END)
		return NULL;
	return fns[host_id] ? fns[host_id] : kwo_wasi_files_addr(host_id);
}
