/*
 * Indirect-call dispatch: a tiny bytecode interpreter whose opcodes are
 * handled through a table of function pointers (call_indirect in Wasm),
 * the way a kernel extension dispatches on a message type.
 */
#include "common.h"

typedef uint32_t (*op_fn)(uint32_t acc, uint32_t arg);

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b * 0x9e3779b1u); }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
static uint32_t op_rot(uint32_t a, uint32_t b) { return a << (b & 31) | a >> (-b & 31); }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - (b >> 3); }
static uint32_t op_min(uint32_t a, uint32_t b) { return a < b ? a + 1 : b ^ a; }
static uint32_t op_shr(uint32_t a, uint32_t b) { return (a >> 1) + b; }
static uint32_t op_neg(uint32_t a, uint32_t b) { return ~a + (b & 7); }

#define PROG 4096
static op_fn table[8];
static uint8_t code[PROG];
static uint32_t args[PROG];

uint64_t RUN(int n)
{
	static const op_fn ops[8] = { op_add, op_xor, op_mul, op_rot,
				      op_sub, op_min, op_shr, op_neg };
	uint64_t seed = 5, h = 0;
	uint32_t acc = 1;
	int i, r;

	/* Filled at run time so the compiler cannot devirtualize the calls. */
	for (i = 0; i < 8; i++)
		table[i] = ops[(i * 5 + (int)(seed & 1)) & 7];
	for (i = 0; i < PROG; i++) {
		uint64_t x = rng_next(&seed);

		code[i] = (uint8_t)(x & 7);
		args[i] = (uint32_t)(x >> 32);
	}
	n = clamp(n, 1, 1 << 20);
	for (r = 0; r < n; r++) {
		for (i = 0; i < PROG; i++)
			acc = table[code[i]](acc, args[i]);
		h = mix(h, acc);
	}
	return h;
}
