// SPDX-License-Identifier: GPL-2.0
/*
 * An instance's stdio (WASI fds 0-2) in the kernel: the kwo_plat_file_*
 * operations of kwo_platform.h on a struct kwo_stdio slot.
 *
 * A slot is streamed or buffered. While a KWO_IOC_LOAD or KWO_IOC_INVOKE
 * with stdio[] runs, the slot holds a reference to the caller's file and
 * reads and writes it in the caller's context (its credentials, its
 * security checks) with vfs_iter_read/vfs_iter_write. Otherwise it is
 * the flag-less mode's buffer: fd 0 reads the block given at load, fds 1
 * and 2 append to a buffer bounded by the output_limit parameter (what
 * does not fit is dropped and flagged) that the next invoke copies out.
 *
 * Streamed files are only read or written when vfs_poll() says they are
 * ready, and then (pipes, terminals, sockets) at most a page at a time, as
 * much as a pipe with one free buffer takes without sleeping: a slow
 * reader makes the core wait in kwo_plat_file_wait(), where a fatal signal
 * and the call's time budget end the wait, never in the file's own
 * uninterruptible path. Polling is by the tick, without a wait queue: a
 * waiting program notices readiness up to a tick late.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "kwo_linux.h"
#include "../core/kwo_core.h"

/* Readiness that lets a read or write proceed (errors report themselves). */
#define KWO_POLL_IN	(EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR | EPOLLRDHUP)
#define KWO_POLL_OUT	(EPOLLOUT | EPOLLWRNORM | EPOLLHUP | EPOLLERR)

static bool kwo_file_ready(struct file *file, __poll_t want)
{
	if (S_ISREG(file_inode(file)->i_mode))
		return true;
	return vfs_poll(file, NULL) & want;
}

/* Like read(2)/write(2): the file position unless the file is a stream. */
static long kwo_file_rw(struct file *file, void *buf, size_t len, int dir)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	loff_t pos = file->f_pos;
	loff_t *ppos = file->f_mode & FMODE_STREAM ? NULL : &pos;
	struct iov_iter iter;
	long ret;

	iov_iter_kvec(&iter, dir, &kv, 1, len);
	if (dir == ITER_DEST) {
		ret = vfs_iter_read(file, &iter, ppos, 0);
	} else {
		file_start_write(file);
		ret = vfs_iter_write(file, &iter, ppos, 0);
		file_end_write(file);
	}
	if (ret > 0 && ppos)
		file->f_pos = pos;
	return ret;
}

/* A chunk that a ready file takes without sleeping. */
static size_t kwo_chunk(struct file *file, size_t len)
{
	if (S_ISREG(file_inode(file)->i_mode))
		return min_t(size_t, len, MAX_RW_COUNT);
	return min_t(size_t, len, PAGE_SIZE);
}

long kwo_plat_file_read(void *handle, void *buf, size_t len)
{
	struct kwo_stdio *s = handle;
	size_t n;

	if (s->file) {
		if (!kwo_file_ready(s->file, KWO_POLL_IN))
			return -EAGAIN;
		return kwo_file_rw(s->file, buf, kwo_chunk(s->file, len),
				   ITER_DEST);
	}
	/* Buffered: only fd 0's slot has input (fd 1 may be renumbered to 0). */
	if (s->fd)
		return -EBADF;
	n = min(len, s->len - s->pos);
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

/* Mirror written bytes to the kernel log, a line at a time. */
void kwo_stdio_printk(const struct kwo_stdio *s, const u8 *data, size_t len)
{
	const char *stream = s->fd == 1 ? "stdout" : "stderr";

	while (len) {
		const u8 *nl = memchr(data, '\n', len);
		size_t n = nl ? nl - data : len;

		/* Guest bytes: escape anything unprintable. */
		pr_info("kwo[%d] %s: %*pE\n", task_pid_nr(current), stream,
			(int)min_t(size_t, n, 512), data);
		n = nl ? n + 1 : n;
		data += n;
		len -= n;
	}
}

/* The buffered mode: keep what fits under the limit, flag the rest. */
static long kwo_buffer_append(struct kwo_stdio *s, const void *buf,
			      size_t len)
{
	size_t limit = READ_ONCE(kwo_param_output_limit);
	size_t keep = s->len < limit ? min(len, limit - s->len) : 0;
	size_t need = s->len + keep, cap;
	u8 *data;

	if (keep < len)
		s->truncated = true;
	if (need > s->cap) {
		cap = max(need, min(max(2 * s->cap, (size_t)256), limit));
		data = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
		if (!data)
			return -ENOMEM;
		memcpy(data, s->data, s->len);
		kvfree(s->data);
		s->data = data;
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, keep);
	s->len = need;
	/* Dropped bytes count as written: the flag reports them. */
	return len;
}

long kwo_plat_file_write(void *handle, const void *buf, size_t len)
{
	struct kwo_stdio *s = handle;
	long ret;

	if (!s->file)
		return s->fd ? kwo_buffer_append(s, buf, len) : -EBADF;
	if (!kwo_file_ready(s->file, KWO_POLL_OUT))
		return -EAGAIN;
	ret = kwo_file_rw(s->file, (void *)buf, kwo_chunk(s->file, len),
			  ITER_SOURCE);
	if (ret > 0 && s->printk)
		kwo_stdio_printk(s, buf, ret);
	/* A write of a non-empty buffer that moves nothing is an error. */
	return ret ? ret : -EIO;
}

/*
 * Sleep a tick, or until a fatal signal: the core checks the file, the
 * budget and the signal again.
 */
void kwo_plat_file_wait(void *handle, int out, __u64 max_ns)
{
	schedule_timeout_killable(max_ns ? 1 : 0);
}

__u8 kwo_plat_file_type(void *handle)
{
	struct kwo_stdio *s = handle;
	umode_t mode;

	if (!s->file)
		return KWO_FILETYPE_CHARACTER_DEVICE;
	mode = file_inode(s->file)->i_mode;
	if (S_ISREG(mode))
		return KWO_FILETYPE_REGULAR_FILE;
	if (S_ISCHR(mode))
		return KWO_FILETYPE_CHARACTER_DEVICE;
	if (S_ISBLK(mode))
		return KWO_FILETYPE_BLOCK_DEVICE;
	if (S_ISSOCK(mode))
		return KWO_FILETYPE_SOCKET_STREAM;
	return KWO_FILETYPE_UNKNOWN;
}

/* The slot belongs to its instance (kwo_stdio_free), not to the fd. */
void kwo_plat_file_close(void *handle)
{
}

/*
 * Take a reference to the caller's file for each slot that stdio[i] names
 * (>= 0), for the duration of one call. Returns 0 or -EBADF (not open, or
 * not open for the direction), with nothing attached.
 */
int kwo_stdio_attach(struct kwo_stdio *slots, const __s32 *stdio)
{
	struct file *file;
	int i;

	for (i = 0; i < KWO_STDIO_SLOTS; i++) {
		if (stdio[i] < 0)
			continue;
		file = fget(stdio[i]);
		if (file && !(file->f_mode & (i ? FMODE_WRITE : FMODE_READ))) {
			fput(file);
			file = NULL;
		}
		if (!file) {
			kwo_stdio_detach(slots);
			return -EBADF;
		}
		slots[i].file = file;
	}
	return 0;
}

void kwo_stdio_detach(struct kwo_stdio *slots)
{
	int i;

	for (i = 0; i < KWO_STDIO_SLOTS; i++) {
		if (slots[i].file)
			fput(slots[i].file);
		slots[i].file = NULL;
	}
}

void kwo_stdio_free(struct kwo_stdio *slots)
{
	int i;

	kwo_stdio_detach(slots);
	for (i = 0; i < KWO_STDIO_SLOTS; i++)
		kvfree(slots[i].data);
}
