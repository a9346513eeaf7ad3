/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/* Fixed-width types for the core, in the kernel and in userspace alike. */
#ifndef KWO_TYPES_H
#define KWO_TYPES_H

#include <linux/types.h>

#endif /* KWO_TYPES_H */
