/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * Structure-aware mutation of .kwo objects and their code contract, shared
 * by the object fuzz target (harness.c) and the kernel fuzz loop
 * (tests/vm/kfuzz.c). Depends on kwo_format.h only.
 */
#ifndef KWO_FUZZ_MUTATE_H
#define KWO_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

#include "kwo_format.h"

__u32 kwo_fuzz_le32(const __u8 *p);

/*
 * A hash of what an object's machine code relies on (see mutate.c), or 0
 * when the object's section table does not describe it in bounds. Code may
 * only run from a mutated object whose contract equals its seed's.
 */
__u64 kwo_fuzz_contract(const __u8 *b, size_t size);

/*
 * Mutate data (size bytes, room for max) in place; returns the new size.
 * Most of the time object_len and the checksum are made right again.
 */
size_t kwo_fuzz_mutate(__u8 *data, size_t size, size_t max,
		       unsigned int seed);

/* libFuzzer's mutator, when linked in (weak: NULL elsewhere). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max)
	__attribute__((weak));

#endif /* KWO_FUZZ_MUTATE_H */
