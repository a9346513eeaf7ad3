/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/* The object fuzz target's shared half (harness.c): see there. */
#ifndef KWO_FUZZ_HARNESS_H
#define KWO_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "kwo_types.h"

/* What the inputs so far did: the smoke run checks each kind happened. */
struct kwo_fuzz_stats {
	unsigned long rejected, accepted, instantiated, instance_traps;
	unsigned long invoked;
	unsigned long memory_bytes_seen;
};

extern struct kwo_fuzz_stats kwo_fuzz_stats;

/* Run one input; returns kwo_object_load()'s result. Aborts on a failure. */
int kwo_fuzz_one(const __u8 *data, size_t size);

/* Register a seed's contract (the code may run on objects keeping it). */
int kwo_fuzz_add_seed(const __u8 *data, size_t size);

typedef void (*kwo_fuzz_seed_fn)(const char *path, const __u8 *data,
				 size_t size);
/*
 * Register every *.kwo in dir (sorted), calling each on it; aborts if one
 * is refused. Returns how many.
 */
int kwo_fuzz_load_seeds(const char *dir, kwo_fuzz_seed_fn each);

__u8 *kwo_fuzz_read_file(const char *path, size_t *size);

#endif /* KWO_FUZZ_HARNESS_H */
