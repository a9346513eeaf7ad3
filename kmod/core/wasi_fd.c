// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The WASI descriptor table (wasi_fd.h): a fixed array of KWO_FD_LIMIT
 * entries, so a table can never grow and a full one is EMFILE rather than
 * an allocation.
 */
#include "kwo_internal.h"

void *kwo_fd_file(const struct kwo_fd_table *t, __u32 fd)
{
	return fd < KWO_FD_LIMIT ? t->fd[fd].file : NULL;
}

/* A linear scan: the table is small, and opening a file costs far more. */
int kwo_fd_alloc(struct kwo_fd_table *t, void *file)
{
	int fd;

	for (fd = 0; fd < KWO_FD_LIMIT; fd++) {
		if (!t->fd[fd].file) {
			t->fd[fd].file = file;
			return fd;
		}
	}
	return -EMFILE;
}

int kwo_fd_close(struct kwo_fd_table *t, __u32 fd)
{
	void *file = kwo_fd_file(t, fd);

	if (!file)
		return -EBADF;
	kwo_plat_free(t->fd[fd].preopen);
	t->fd[fd] = (struct kwo_fd){ NULL, NULL };
	kwo_plat_file_close(file);
	return 0;
}

int kwo_fd_renumber(struct kwo_fd_table *t, __u32 from, __u32 to)
{
	void *file = kwo_fd_file(t, from);

	if (!file || !kwo_fd_file(t, to))
		return -EBADF;
	if (from == to)
		return 0;
	kwo_fd_close(t, to);
	t->fd[to] = t->fd[from];
	t->fd[from] = (struct kwo_fd){ NULL, NULL };
	return 0;
}

void kwo_fd_files_close(void *const *files, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (files[i])
			kwo_plat_file_close(files[i]);
}

/* A NUL-terminated copy of s, or NULL. */
static char *copy_string(const char *s)
{
	size_t len = strlen(s);
	char *copy = kwo_plat_zalloc(len + 1);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

int kwo_fd_table_init(struct kwo_fd_table *t, void *const *files,
		      const char *const *preopens, __u32 n)
{
	__u32 i;

	memset(t, 0, sizeof(*t));
	if (n > KWO_FD_LIMIT) {
		kwo_fd_files_close(files, n);
		return -EMFILE;
	}
	for (i = 0; i < n; i++)
		t->fd[i].file = files[i];
	for (i = 0; preopens && i < n; i++) {
		if (!files[i] || !preopens[i])
			continue;
		t->fd[i].preopen = copy_string(preopens[i]);
		if (!t->fd[i].preopen) {
			kwo_fd_table_close_all(t);
			return -ENOMEM;
		}
	}
	return 0;
}

void kwo_fd_table_close_all(struct kwo_fd_table *t)
{
	__u32 fd;

	for (fd = 0; fd < KWO_FD_LIMIT; fd++)
		kwo_fd_close(t, fd);
}
