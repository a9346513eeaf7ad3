// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The WASI (wasi_snapshot_preview1) subset a kernel extension may use:
 * arguments and environment given at instantiation, clocks, stdio
 * (stdin from a caller buffer, stdout/stderr into bounded per-instance
 * buffers), randomness, proc_exit and sched_yield. There is no file system:
 * no preopens, and every fd other than 0-2 is EBADF. Every guest pointer and
 * length is checked against linear memory (EFAULT). Each function has the
 * wasm signature with the vmctx prepended and returns a WASI errno.
 */
#include "kwo_internal.h"

/* WASI errno values (preview1). */
#define WASI_ESUCCESS	0
#define WASI_EBADF	8
#define WASI_EFAULT	21
#define WASI_EINVAL	28
#define WASI_ENOMEM	48
#define WASI_ESPIPE	70

#define WASI_FILETYPE_CHARACTER_DEVICE	2
#define WASI_RIGHTS_ALL			0x1fffffffull

/* Guest memory [addr, addr + len), or NULL if it is not all inside. */
static __u8 *guest(struct kwo_instance *inst, __u32 addr, __u64 len)
{
	if ((__u64)addr + len > inst->vmctx.mem_size)
		return NULL;
	return inst->mem + addr;
}

int kwo_output_append(struct kwo_instance *inst, int fd, const __u8 *p,
		      size_t len)
{
	struct kwo_outbuf *o = &inst->out[fd - 1];
	size_t want, cap;
	__u8 *data;

	if (o->len + len > inst->output_limit) {
		o->truncated = 1;
		len = inst->output_limit - o->len;
	}
	want = o->len + len;
	if (want > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < want)
			cap *= 2;
		if (cap > inst->output_limit)
			cap = inst->output_limit;
		data = kwo_realloc_zero(o->data, o->len, cap);
		if (!data)
			return -ENOMEM;
		o->data = data;
		o->cap = cap;
	}
	if (len)
		memcpy(o->data + o->len, p, len);
	o->len += len;
	return 0;
}

const __u8 *kwo_output_get(const struct kwo_instance *inst, int fd,
			   size_t *len, int *truncated)
{
	const struct kwo_outbuf *o;

	*len = 0;
	*truncated = 0;
	if (fd != KWO_FD_STDOUT && fd != KWO_FD_STDERR)
		return NULL;
	o = &inst->out[fd - 1];
	*len = o->len;
	*truncated = o->truncated;
	return o->data;
}

void kwo_output_clear(struct kwo_instance *inst, int fd)
{
	if (fd != KWO_FD_STDOUT && fd != KWO_FD_STDERR)
		return;
	inst->out[fd - 1].len = 0;
	inst->out[fd - 1].truncated = 0;
}

/* Store n NUL-separated strings: pointers at ptrs, bytes at buf. */
static __u32 put_strings(struct kwo_instance *inst, const char *strs,
			 size_t strs_len, __u32 n, __u32 ptrs, __u32 buf)
{
	__u8 *p = guest(inst, ptrs, 4ull * n), *b = guest(inst, buf, strs_len);
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
	__u8 *a = guest(inst, n_ptr, 4), *b = guest(inst, len_ptr, 4);

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
	__u8 *p = guest(kwo_inst(vmctx), res_ptr, 8);
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
	__u8 *p = guest(kwo_inst(vmctx), time_ptr, 8);
	int clock = wasi_clock(id);

	(void)precision;
	if (clock < 0)
		return WASI_EINVAL;
	if (!p)
		return WASI_EFAULT;
	kwo_st64(p, kwo_plat_clock_ns(clock));
	return WASI_ESUCCESS;
}

static __u32 wasi_fd_close(struct kwo_vmctx *vmctx, __u32 fd)
{
	(void)vmctx;
	return fd <= 2 ? WASI_ESUCCESS : WASI_EBADF;
}

static __u32 wasi_fd_fdstat_get(struct kwo_vmctx *vmctx, __u32 fd,
				__u32 stat_ptr)
{
	__u8 *p = guest(kwo_inst(vmctx), stat_ptr, 24);

	if (fd > 2)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	memset(p, 0, 24);
	p[0] = WASI_FILETYPE_CHARACTER_DEVICE;
	kwo_st64(p + 8, WASI_RIGHTS_ALL);
	kwo_st64(p + 16, WASI_RIGHTS_ALL);
	return WASI_ESUCCESS;
}

static __u32 wasi_fd_prestat_get(struct kwo_vmctx *vmctx, __u32 fd,
				 __u32 ptr)
{
	(void)vmctx;
	(void)fd;
	(void)ptr;
	return WASI_EBADF;
}

static __u32 wasi_fd_prestat_dir_name(struct kwo_vmctx *vmctx, __u32 fd,
				      __u32 path, __u32 len)
{
	(void)vmctx;
	(void)fd;
	(void)path;
	(void)len;
	return WASI_EBADF;
}

static __u32 wasi_fd_read(struct kwo_vmctx *vmctx, __u32 fd, __u32 iovs,
			  __u32 iovs_len, __u32 nread_ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *iov = guest(inst, iovs, 8ull * iovs_len);
	__u8 *nread = guest(inst, nread_ptr, 4), *dst;
	__u32 i, total = 0, len;
	size_t left;

	if (fd != 0)
		return WASI_EBADF;
	if (!iov || !nread)
		return WASI_EFAULT;
	for (i = 0; i < iovs_len; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		dst = guest(inst, kwo_le32(iov + 8 * (size_t)i), len);
		if (!dst)
			return WASI_EFAULT;
		left = inst->stdin_len - inst->stdin_pos;
		if (len > left)
			len = (__u32)left;
		memcpy(dst, inst->stdin_data + inst->stdin_pos, len);
		inst->stdin_pos += len;
		total += len;
	}
	kwo_st32(nread, total);
	return WASI_ESUCCESS;
}

static __u32 wasi_fd_seek(struct kwo_vmctx *vmctx, __u32 fd, __u64 offset,
			  __u32 whence, __u32 newoff_ptr)
{
	(void)vmctx;
	(void)offset;
	(void)whence;
	(void)newoff_ptr;
	return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
}

/*
 * Output beyond the limit is dropped but reported as written, so that a
 * chatty guest does not loop retrying; the caller sees the truncated flag.
 * A total that nwritten (32 bits) cannot express is EINVAL, as writev()
 * refuses one that overflows ssize_t, and nothing is written. A buffer
 * that cannot grow is ENOMEM, with nwritten telling what was kept.
 */
static __u32 wasi_fd_write(struct kwo_vmctx *vmctx, __u32 fd, __u32 iovs,
			   __u32 iovs_len, __u32 nwritten_ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *iov = guest(inst, iovs, 8ull * iovs_len);
	__u8 *nwritten = guest(inst, nwritten_ptr, 4), *src;
	__u64 fp[KWO_FP_SAVE_SLOTS], total = 0;
	__u32 i, len;
	int paused, err = 0;

	if (fd != KWO_FD_STDOUT && fd != KWO_FD_STDERR)
		return WASI_EBADF;
	if (!iov || !nwritten)
		return WASI_EFAULT;
	for (i = 0; i < iovs_len; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		if (!guest(inst, kwo_le32(iov + 8 * (size_t)i), len))
			return WASI_EFAULT;
		total += len;
	}
	if (total > 0xffffffffull)
		return WASI_EINVAL;
	total = 0;
	paused = kwo_fpu_pause(inst, fp);
	for (i = 0; i < iovs_len && !err; i++) {
		len = kwo_le32(iov + 8 * (size_t)i + 4);
		src = guest(inst, kwo_le32(iov + 8 * (size_t)i), len);
		err = kwo_output_append(inst, (int)fd, src, len);
		if (!err)
			total += len;
	}
	kwo_fpu_resume(inst, fp, paused);
	kwo_st32(nwritten, (__u32)total);
	return err ? WASI_ENOMEM : WASI_ESUCCESS;
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
	__u8 *p = guest(inst, buf, len);
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
		[KWO_HOST_WASI_FD_PRESTAT_GET] = (void *)wasi_fd_prestat_get,
		[KWO_HOST_WASI_FD_PRESTAT_DIR_NAME] = (void *)wasi_fd_prestat_dir_name,
		[KWO_HOST_WASI_FD_READ] = (void *)wasi_fd_read,
		[KWO_HOST_WASI_FD_SEEK] = (void *)wasi_fd_seek,
		[KWO_HOST_WASI_FD_WRITE] = (void *)wasi_fd_write,
		[KWO_HOST_WASI_PROC_EXIT] = (void *)wasi_proc_exit,
		[KWO_HOST_WASI_RANDOM_GET] = (void *)wasi_random_get,
		[KWO_HOST_WASI_SCHED_YIELD] = (void *)wasi_sched_yield,
	};

	if (host_id < KWO_HOST_WASI_BASE || host_id >= KWO_HOST_WASI_END)
		return NULL;
	return fns[host_id];
}
