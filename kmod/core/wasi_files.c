// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The WASI file system calls: preopened directories (fd_prestat_*),
 * opening by path (path_open, which takes the lowest free fd), metadata
 * (fd_filestat_get, path_filestat_get), seeking, directory listing
 * (fd_readdir), creating, removing and renaming (path_*), and flags and
 * syncing of open files. Paths are resolved by the platform strictly
 * beneath the directory fd they are relative to (kwo_platform.h): the
 * core only copies them out of linear memory.
 *
 * Rights: wasi-libc and Rust pass rights with every path_open; kwo takes
 * the read and write rights to choose how the host file is opened and
 * ignores the rest, so a file opened for reading refuses writes as the
 * host does (EBADF). fd_fdstat_get reports all rights.
 *
 * Every call that reaches the platform (which may sleep) pauses the FPU
 * section around it.
 */
#include "kwo_internal.h"
#include "wasi_common.h"

/* Rights that decide how path_open opens the host file (bits 1, 6, 14). */
#define WASI_RIGHT_FD_READ	0x2ull
#define WASI_RIGHT_FD_WRITE	0x40ull
#define WASI_RIGHT_FD_READDIR	0x4000ull

#define WASI_LOOKUP_SYMLINK_FOLLOW	1
#define WASI_PREOPENTYPE_DIR	0
#define WASI_FILESTAT_SIZE	64
#define WASI_DIRENT_SIZE	24

/* The longest path a call takes, as Linux's PATH_MAX with its NUL. */
#define KWO_PATH_MAX		4095

static int has_nul(const __u8 *p, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++)
		if (!p[i])
			return 1;
	return 0;
}

/*
 * A NUL-terminated copy of the guest path [addr, addr + len), from
 * kwo_plat_zalloc (the caller frees it), or NULL with *err set: EFAULT
 * outside memory, ENOENT for an empty path (as open("")), EINVAL for a
 * NUL inside, ENAMETOOLONG, ENOMEM.
 */
static char *guest_path(struct kwo_instance *inst, __u32 addr, __u32 len,
			__u32 *err)
{
	const __u8 *src = kwo_guest(inst, addr, len);
	char *path;

	*err = !src ? WASI_EFAULT : !len ? WASI_ENOENT :
	       len > KWO_PATH_MAX ? WASI_ENAMETOOLONG :
	       has_nul(src, len) ? WASI_EINVAL : WASI_ESUCCESS;
	if (*err)
		return NULL;
	path = kwo_plat_zalloc((size_t)len + 1);
	if (!path) {
		*err = WASI_ENOMEM;
		return NULL;
	}
	memcpy(path, src, len);
	return path;
}

/* A host result (0 or a negative errno) as a WASI errno. */
static __u32 wasi_result(long ret)
{
	return ret < 0 ? kwo_wasi_errno(ret) : WASI_ESUCCESS;
}

static __u32 wasi_fd_prestat_get(struct kwo_vmctx *vmctx, __u32 fd,
				 __u32 ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *p = kwo_guest(inst, ptr, 8);
	const char *name;

	if (!kwo_fd_file(&inst->fds, fd) || !inst->fds.fd[fd].preopen)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	name = inst->fds.fd[fd].preopen;
	memset(p, 0, 8);
	p[0] = WASI_PREOPENTYPE_DIR;
	kwo_st32(p + 4, (__u32)strlen(name));
	return WASI_ESUCCESS;
}

/* The name without a NUL, as wasi-libc expects; a short buffer is refused. */
static __u32 wasi_fd_prestat_dir_name(struct kwo_vmctx *vmctx, __u32 fd,
				      __u32 path, __u32 len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	__u8 *p = kwo_guest(inst, path, len);
	const char *name;
	size_t name_len;

	if (!kwo_fd_file(&inst->fds, fd) || !inst->fds.fd[fd].preopen)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	name = inst->fds.fd[fd].preopen;
	name_len = strlen(name);
	if (len < name_len)
		return WASI_ENAMETOOLONG;
	memcpy(p, name, name_len);
	return WASI_ESUCCESS;
}

/* Store *st as a WASI filestat (64 bytes) at p. */
static void put_filestat(__u8 *p, const struct kwo_filestat *st)
{
	memset(p, 0, WASI_FILESTAT_SIZE);
	kwo_st64(p, st->dev);
	kwo_st64(p + 8, st->ino);
	p[16] = st->filetype;
	kwo_st64(p + 24, st->nlink);
	kwo_st64(p + 32, st->size);
	kwo_st64(p + 40, st->atim);
	kwo_st64(p + 48, st->mtim);
	kwo_st64(p + 56, st->ctim);
}

static __u32 wasi_fd_filestat_get(struct kwo_vmctx *vmctx, __u32 fd,
				  __u32 buf)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *p = kwo_guest(inst, buf, WASI_FILESTAT_SIZE);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	struct kwo_filestat st;
	int paused, ret;

	if (!file)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	memset(&st, 0, sizeof(st));
	paused = kwo_fpu_pause(inst, fp);
	ret = kwo_plat_file_stat(file, &st);
	kwo_fpu_resume(inst, fp, paused);
	if (!ret)
		put_filestat(p, &st);
	return wasi_result(ret);
}

static __u32 seek(struct kwo_instance *inst, __u32 fd, __s64 offset,
		  __u32 whence, __u32 pos_ptr)
{
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *p = kwo_guest(inst, pos_ptr, 8);
	__u64 fp[KWO_FP_SAVE_SLOTS], pos = 0;
	int paused, ret;

	if (!file)
		return WASI_EBADF;
	if (whence > 2)
		return WASI_EINVAL;
	if (!p)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	ret = kwo_plat_file_seek(file, offset, (int)whence, &pos);
	kwo_fpu_resume(inst, fp, paused);
	if (!ret)
		kwo_st64(p, pos);
	return wasi_result(ret);
}

static __u32 wasi_fd_seek(struct kwo_vmctx *vmctx, __u32 fd, __u64 offset,
			  __u32 whence, __u32 newoff_ptr)
{
	return seek(kwo_inst(vmctx), fd, (__s64)offset, whence, newoff_ptr);
}

static __u32 wasi_fd_tell(struct kwo_vmctx *vmctx, __u32 fd, __u32 pos_ptr)
{
	return seek(kwo_inst(vmctx), fd, 0, 1, pos_ptr);
}

static __u32 wasi_fd_fdstat_set_flags(struct kwo_vmctx *vmctx, __u32 fd,
				      __u32 flags)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, ret;

	if (!file)
		return WASI_EBADF;
	paused = kwo_fpu_pause(inst, fp);
	ret = kwo_plat_file_set_flags(file, flags & 0xffff);
	kwo_fpu_resume(inst, fp, paused);
	return wasi_result(ret);
}

static __u32 sync_fd(struct kwo_instance *inst, __u32 fd, int datasync)
{
	void *file = kwo_fd_file(&inst->fds, fd);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, ret;

	if (!file)
		return WASI_EBADF;
	paused = kwo_fpu_pause(inst, fp);
	ret = kwo_plat_file_sync(file, datasync);
	kwo_fpu_resume(inst, fp, paused);
	return wasi_result(ret);
}

static __u32 wasi_fd_sync(struct kwo_vmctx *vmctx, __u32 fd)
{
	return sync_fd(kwo_inst(vmctx), fd, 0);
}

static __u32 wasi_fd_datasync(struct kwo_vmctx *vmctx, __u32 fd)
{
	return sync_fd(kwo_inst(vmctx), fd, 1);
}

/*
 * Append as much of the entry (24-byte header, then the name without a
 * NUL) as fits at buf + *used, which stops at len: wasi-libc takes a
 * truncated last entry as a sign to read again with a larger buffer.
 */
static void put_dirent(__u8 *buf, __u32 len, __u32 *used, __u64 next,
		       const struct kwo_dirent *ent)
{
	__u32 name_len = (__u32)strlen(ent->name), n;
	__u8 head[WASI_DIRENT_SIZE];

	memset(head, 0, sizeof(head));
	kwo_st64(head, next);
	kwo_st64(head + 8, ent->ino);
	kwo_st32(head + 16, name_len);
	head[20] = ent->filetype;
	n = len - *used < WASI_DIRENT_SIZE ? len - *used : WASI_DIRENT_SIZE;
	memcpy(buf + *used, head, n);
	*used += n;
	n = len - *used < name_len ? len - *used : name_len;
	memcpy(buf + *used, ent->name, n);
	*used += n;
}

/*
 * Entries from index cookie on (the cookie of an entry is the index of
 * the next: d_next), until the buffer is full or the directory ends. An
 * error after some entries ends the call with what was read.
 */
static __u32 wasi_fd_readdir(struct kwo_vmctx *vmctx, __u32 fd, __u32 buf,
			     __u32 len, __u64 cookie, __u32 used_ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *file = kwo_fd_file(&inst->fds, fd);
	__u8 *dst = kwo_guest(inst, buf, len), *p = kwo_guest(inst, used_ptr, 4);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	struct kwo_dirent ent;
	__u32 used = 0;
	int paused, ret = 0;

	if (!file)
		return WASI_EBADF;
	if (!dst || !p)
		return WASI_EFAULT;
	paused = kwo_fpu_pause(inst, fp);
	while (used < len) {
		ret = kwo_plat_dir_read(file, cookie, &ent);
		if (ret <= 0)
			break;
		ent.name[KWO_NAME_MAX] = 0;
		put_dirent(dst, len, &used, ++cookie, &ent);
	}
	kwo_fpu_resume(inst, fp, paused);
	if (ret < 0 && !used)
		return kwo_wasi_errno(ret);
	kwo_st32(p, used);
	return WASI_ESUCCESS;
}

/*
 * path_open: the new descriptor is the lowest free one. The read and
 * write rights choose the host's access mode; fdflags other than append
 * and nonblock (the sync flags) are passed to the host as well.
 */
static __u32 wasi_path_open(struct kwo_vmctx *vmctx, __u32 dirfd,
			    __u32 lookup, __u32 path_ptr, __u32 path_len,
			    __u32 oflags, __u64 rights, __u64 inheriting,
			    __u32 fdflags, __u32 fd_ptr)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *dir = kwo_fd_file(&inst->fds, dirfd), *file = NULL;
	__u8 *p = kwo_guest(inst, fd_ptr, 4);
	int read = !!(rights & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR));
	int write = !!(rights & WASI_RIGHT_FD_WRITE);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, fd = 0;
	__u32 err;
	char *path;

	(void)inheriting;
	if (!dir)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	if (oflags & ~0xfu || fdflags & ~0x1fu)
		return WASI_EINVAL;
	paused = kwo_fpu_pause(inst, fp);
	path = guest_path(inst, path_ptr, path_len, &err);
	if (path) {
		fd = kwo_plat_path_open(dir, path,
					lookup & WASI_LOOKUP_SYMLINK_FOLLOW,
					read, write, oflags, fdflags, &file);
		kwo_plat_free(path);
		if (!fd) {
			fd = kwo_fd_alloc(&inst->fds, file);
			if (fd < 0)
				kwo_plat_file_close(file);
		}
		err = wasi_result(fd);
	}
	kwo_fpu_resume(inst, fp, paused);
	if (!err)
		kwo_st32(p, (__u32)fd);
	return err;
}

static __u32 wasi_path_filestat_get(struct kwo_vmctx *vmctx, __u32 dirfd,
				    __u32 lookup, __u32 path_ptr,
				    __u32 path_len, __u32 buf)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *dir = kwo_fd_file(&inst->fds, dirfd);
	__u8 *p = kwo_guest(inst, buf, WASI_FILESTAT_SIZE);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	struct kwo_filestat st;
	int paused;
	__u32 err;
	char *path;

	if (!dir)
		return WASI_EBADF;
	if (!p)
		return WASI_EFAULT;
	memset(&st, 0, sizeof(st));
	paused = kwo_fpu_pause(inst, fp);
	path = guest_path(inst, path_ptr, path_len, &err);
	if (path) {
		err = wasi_result(kwo_plat_path_stat(dir, path, lookup &
						     WASI_LOOKUP_SYMLINK_FOLLOW,
						     &st));
		kwo_plat_free(path);
	}
	kwo_fpu_resume(inst, fp, paused);
	if (!err)
		put_filestat(p, &st);
	return err;
}

/* What a path call does to the path it is given. */
enum path_op { PATH_MKDIR, PATH_UNLINK, PATH_RMDIR };

static __u32 path_call(struct kwo_vmctx *vmctx, __u32 dirfd, __u32 path_ptr,
		       __u32 path_len, enum path_op op)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *dir = kwo_fd_file(&inst->fds, dirfd);
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused, ret;
	__u32 err;
	char *path;

	if (!dir)
		return WASI_EBADF;
	paused = kwo_fpu_pause(inst, fp);
	path = guest_path(inst, path_ptr, path_len, &err);
	if (path) {
		ret = op == PATH_MKDIR ? kwo_plat_path_mkdir(dir, path) :
			kwo_plat_path_unlink(dir, path, op == PATH_RMDIR);
		err = wasi_result(ret);
		kwo_plat_free(path);
	}
	kwo_fpu_resume(inst, fp, paused);
	return err;
}

static __u32 wasi_path_create_directory(struct kwo_vmctx *vmctx, __u32 fd,
					__u32 path, __u32 len)
{
	return path_call(vmctx, fd, path, len, PATH_MKDIR);
}

static __u32 wasi_path_unlink_file(struct kwo_vmctx *vmctx, __u32 fd,
				   __u32 path, __u32 len)
{
	return path_call(vmctx, fd, path, len, PATH_UNLINK);
}

static __u32 wasi_path_remove_directory(struct kwo_vmctx *vmctx, __u32 fd,
					__u32 path, __u32 len)
{
	return path_call(vmctx, fd, path, len, PATH_RMDIR);
}

static __u32 wasi_path_rename(struct kwo_vmctx *vmctx, __u32 old_fd,
			      __u32 old_ptr, __u32 old_len, __u32 new_fd,
			      __u32 new_ptr, __u32 new_len)
{
	struct kwo_instance *inst = kwo_inst(vmctx);
	void *old_dir = kwo_fd_file(&inst->fds, old_fd);
	void *new_dir = kwo_fd_file(&inst->fds, new_fd);
	char *old_path, *new_path = NULL;
	__u64 fp[KWO_FP_SAVE_SLOTS];
	int paused;
	__u32 err;

	if (!old_dir || !new_dir)
		return WASI_EBADF;
	paused = kwo_fpu_pause(inst, fp);
	old_path = guest_path(inst, old_ptr, old_len, &err);
	if (old_path)
		new_path = guest_path(inst, new_ptr, new_len, &err);
	if (new_path)
		err = wasi_result(kwo_plat_path_rename(old_dir, old_path,
						       new_dir, new_path));
	kwo_plat_free(old_path);
	kwo_plat_free(new_path);
	kwo_fpu_resume(inst, fp, paused);
	return err;
}

void *kwo_wasi_files_addr(__u32 host_id)
{
	switch (host_id) {
	case KWO_HOST_WASI_FD_PRESTAT_GET:
		return (void *)wasi_fd_prestat_get;
	case KWO_HOST_WASI_FD_PRESTAT_DIR_NAME:
		return (void *)wasi_fd_prestat_dir_name;
	case KWO_HOST_WASI_FD_SEEK:
		return (void *)wasi_fd_seek;
	case KWO_HOST_WASI_FD_TELL:
		return (void *)wasi_fd_tell;
	case KWO_HOST_WASI_FD_FILESTAT_GET:
		return (void *)wasi_fd_filestat_get;
	case KWO_HOST_WASI_FD_FDSTAT_SET_FLAGS:
		return (void *)wasi_fd_fdstat_set_flags;
	case KWO_HOST_WASI_FD_SYNC:
		return (void *)wasi_fd_sync;
	case KWO_HOST_WASI_FD_DATASYNC:
		return (void *)wasi_fd_datasync;
	case KWO_HOST_WASI_FD_READDIR:
		return (void *)wasi_fd_readdir;
	case KWO_HOST_WASI_PATH_OPEN:
		return (void *)wasi_path_open;
	case KWO_HOST_WASI_PATH_FILESTAT_GET:
		return (void *)wasi_path_filestat_get;
	case KWO_HOST_WASI_PATH_CREATE_DIRECTORY:
		return (void *)wasi_path_create_directory;
	case KWO_HOST_WASI_PATH_UNLINK_FILE:
		return (void *)wasi_path_unlink_file;
	case KWO_HOST_WASI_PATH_REMOVE_DIRECTORY:
		return (void *)wasi_path_remove_directory;
	case KWO_HOST_WASI_PATH_RENAME:
		return (void *)wasi_path_rename;
	default:
		return NULL;
	}
}
