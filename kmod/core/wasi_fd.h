/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * The WASI descriptor table of an instance: fd numbers mapped to host
 * files (kwo_platform.h handles), bounded by KWO_FD_LIMIT. The table owns
 * the handles and closes each exactly once (fd_close, fd_renumber over an
 * open fd, or the instance's end). Descriptors come from the config
 * (stdio, preopened directories) and from path_open, which takes the
 * lowest free number, as POSIX open() does: a program that opens and
 * closes in a loop keeps getting the same fd. Private to the core.
 */
#ifndef KWO_WASI_FD_H
#define KWO_WASI_FD_H

#include "kwo_core.h"

struct kwo_fd {
	void *file;		/* NULL: the descriptor is free */
	char *preopen;		/* a preopened directory's guest path, or NULL */
};

struct kwo_fd_table {
	struct kwo_fd fd[KWO_FD_LIMIT];
};

/* The open descriptor fd's file, or NULL (free or out of range). */
void *kwo_fd_file(const struct kwo_fd_table *t, __u32 fd);
/*
 * Put file at the lowest free fd and return it, or -EMFILE when all
 * KWO_FD_LIMIT are open (file is then the caller's to close).
 */
int kwo_fd_alloc(struct kwo_fd_table *t, void *file);
/* Close fd: 0 or -EBADF. */
int kwo_fd_close(struct kwo_fd_table *t, __u32 fd);
/*
 * Move from onto to, closing what to held (WASI fd_renumber: both must be
 * open). 0 or -EBADF.
 */
int kwo_fd_renumber(struct kwo_fd_table *t, __u32 from, __u32 to);
/*
 * Take the config's files (fd i = files[i], NULL entries stay free), with
 * the guest path of each preopened directory (preopens[i] non-NULL;
 * preopens itself may be NULL: none). On -EMFILE (more than KWO_FD_LIMIT)
 * or -ENOMEM the files are all closed.
 */
int kwo_fd_table_init(struct kwo_fd_table *t, void *const *files,
		      const char *const *preopens, __u32 n);
/* Close n handles not (yet) in a table. */
void kwo_fd_files_close(void *const *files, __u32 n);
void kwo_fd_table_close_all(struct kwo_fd_table *t);

#endif /* KWO_WASI_FD_H */
