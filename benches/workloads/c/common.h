/*
 * Shared helpers of the C workloads. Every workload defines one function,
 * RUN(n) -> checksum; the harness builds it natively (RUN renamed to a
 * unique symbol) and for wasm32-wasi (RUN is the export "run").
 * No workload calls libc beyond memcpy/memset, nor any WASI import.
 */
#ifndef KWO_BENCH_COMMON_H
#define KWO_BENCH_COMMON_H

#include <stdint.h>
#include <string.h>

#ifndef RUN
#define RUN run
#endif

/* Folds a 64-bit value into a running FNV-1a style checksum. */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* The bit pattern of a double: results must agree bit for bit. */
static inline uint64_t dbits(double d)
{
	union { double d; uint64_t u; } x = { d };
	return x.u;
}

/* xorshift64*: deterministic input data on every engine. */
static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static inline int clamp(int n, int lo, int hi)
{
	return n < lo ? lo : n > hi ? hi : n;
}

#endif
