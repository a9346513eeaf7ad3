/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The object fuzzer's seed with a line table (the LINES section): built
 * with clang -g and no libc by seeds.sh, a loop over an inlined helper.
 */
static inline __attribute__((always_inline)) int twice(int x)
{
	return x * 2;
}

int sum_twice(const int *p, int n)
{
	int s = 0;

	for (int i = 0; i < n; i++)
		s += twice(p[i]);
	return s;
}
