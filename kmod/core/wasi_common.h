/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * What the WASI host functions (wasi.c, wasi_files.c) share: preview1
 * errno values, guest memory checks and the host-errno translation.
 * Private to the core; include after kwo_internal.h.
 */
#ifndef KWO_WASI_COMMON_H
#define KWO_WASI_COMMON_H

/* WASI errno values (preview1). */
#define WASI_ESUCCESS		0
#define WASI_EACCES		2
#define WASI_EAGAIN		6
#define WASI_EBADF		8
#define WASI_EBUSY		10
#define WASI_EDQUOT		19
#define WASI_EEXIST		20
#define WASI_EFAULT		21
#define WASI_EFBIG		22
#define WASI_EINTR		27
#define WASI_EINVAL		28
#define WASI_EIO		29
#define WASI_EISDIR		31
#define WASI_ELOOP		32
#define WASI_EMFILE		33
#define WASI_EMLINK		34
#define WASI_ENAMETOOLONG	37
#define WASI_ENFILE		41
#define WASI_ENOENT		44
#define WASI_ENOMEM		48
#define WASI_ENOSPC		51
#define WASI_ENOTDIR		54
#define WASI_ENOTEMPTY		55
#define WASI_ENOTSUP		58
#define WASI_EOVERFLOW		61
#define WASI_EPERM		63
#define WASI_EPIPE		64
#define WASI_EROFS		69
#define WASI_ESPIPE		70
#define WASI_ETXTBSY		74
#define WASI_EXDEV		75
#define WASI_ENOTCAPABLE	76

#define WASI_RIGHTS_ALL		0x1fffffffull

/* Guest memory [addr, addr + len), or NULL if it is not all inside. */
static inline __u8 *kwo_guest(struct kwo_instance *inst, __u32 addr,
			      __u64 len)
{
	if ((__u64)addr + len > inst->vmctx.mem_size)
		return NULL;
	return inst->mem + addr;
}

/* A host file's negative errno as WASI's; EIO for anything unusual. */
__u32 kwo_wasi_errno(long err);

/* The wasi_files.c function for host_id, or NULL. */
void *kwo_wasi_files_addr(__u32 host_id);

#endif /* KWO_WASI_COMMON_H */
