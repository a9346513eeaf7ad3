/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/* What the userspace platform offers the runtime beyond kwo_platform.h. */
#ifndef KWO_PLATFORM_USER_H
#define KWO_PLATFORM_USER_H

/*
 * A kwo_plat_file_* handle for host descriptor fd, which it then owns
 * (closed with kwo_plat_file_close()). NULL when out of memory (fd stays
 * the caller's).
 */
void *kwo_user_file_open(int fd);

#endif /* KWO_PLATFORM_USER_H */
