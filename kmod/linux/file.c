// SPDX-License-Identifier: GPL-2.0
/*
 * The file operations of kwo_platform.h beyond reading and writing, on an
 * instance's stdio slots (stdio.c): seeking, metadata and syncing act on
 * the caller's file while a call streams it (vfs_llseek, vfs_getattr,
 * vfs_fsync); a buffered slot is a stream with no position.
 *
 * The kernel has no preopened directories, so no directory a path could
 * be resolved beneath: the path calls fail as an escape would
 * (-KWO_ENOTCAPABLE, WASI ENOTCAPABLE) and listing is -ENOTDIR
 * (docs/abi.md).
 */
#include <linux/fs.h>
#include <linux/stat.h>
#include <linux/time64.h>

#include "kwo_linux.h"
#include "../core/kwo_core.h"

static struct file *kwo_slot_file(void *handle)
{
	return ((struct kwo_stdio *)handle)->file;
}

int kwo_plat_file_seek(void *handle, __s64 offset, int whence, __u64 *pos)
{
	struct file *file = kwo_slot_file(handle);
	loff_t ret;

	if (!file)
		return -ESPIPE;
	ret = vfs_llseek(file, offset, whence);
	if (ret < 0)
		return ret;
	*pos = ret;
	return 0;
}

int kwo_plat_file_stat(void *handle, struct kwo_filestat *st)
{
	struct file *file = kwo_slot_file(handle);
	struct kstat ks;
	int ret;

	st->filetype = kwo_plat_file_type(handle);
	if (!file)
		return 0;
	ret = vfs_getattr(&file->f_path, &ks, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (ret)
		return ret;
	st->dev = ks.dev;
	st->ino = ks.ino;
	st->nlink = ks.nlink;
	st->size = ks.size;
	st->atim = timespec64_to_ns(&ks.atime);
	st->mtim = timespec64_to_ns(&ks.mtime);
	st->ctim = timespec64_to_ns(&ks.ctime);
	return 0;
}

/* The caller's open file description is not the program's to change. */
int kwo_plat_file_set_flags(void *handle, __u32 fdflags)
{
	return -EOPNOTSUPP;
}

int kwo_plat_file_sync(void *handle, int datasync)
{
	struct file *file = kwo_slot_file(handle);

	return file ? vfs_fsync(file, datasync) : 0;
}

int kwo_plat_dir_read(void *handle, __u64 cookie, struct kwo_dirent *ent)
{
	return -ENOTDIR;
}

int kwo_plat_path_open(void *dir, const char *path, int follow, int read,
		       int write, __u32 oflags, __u32 fdflags, void **out)
{
	return -KWO_ENOTCAPABLE;
}

int kwo_plat_path_stat(void *dir, const char *path, int follow,
		       struct kwo_filestat *st)
{
	return -KWO_ENOTCAPABLE;
}

int kwo_plat_path_mkdir(void *dir, const char *path)
{
	return -KWO_ENOTCAPABLE;
}

int kwo_plat_path_unlink(void *dir, const char *path, int rmdir)
{
	return -KWO_ENOTCAPABLE;
}

int kwo_plat_path_rename(void *dir, const char *old, void *new_dir,
			 const char *new)
{
	return -KWO_ENOTCAPABLE;
}
