/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A C program that traps, for the source lines of traps (built with
 * clang -g): an out-of-bounds store in a helper inlined into main. The
 * address is argv[1] (default 0xfffffff0, past any linear memory).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((always_inline)) void poke(uint32_t addr, int value)
{
	*(volatile int *)(uintptr_t)addr = value;
}

int main(int argc, char **argv)
{
	uint32_t addr = argc > 1 ? strtoul(argv[1], NULL, 0) : 0xfffffff0u;

	printf("poking %#x\n", addr);
	fflush(stdout);
	poke(addr, 42);
	return 0;
}
