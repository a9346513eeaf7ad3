/* PolyBench-style seidel-2d: in-place 9-point stencil, 20 time steps. */
#include "common.h"

#define MAXN 1024
#define TSTEPS 20
static double A[MAXN][MAXN];

uint64_t RUN(int n)
{
	uint64_t h = 0;
	int t, i, j;

	n = clamp(n, 3, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			A[i][j] = ((double)i * (j + 2) + 2) / n;
	for (t = 0; t < TSTEPS; t++)
		for (i = 1; i <= n - 2; i++)
			for (j = 1; j <= n - 2; j++)
				A[i][j] = (A[i - 1][j - 1] + A[i - 1][j] + A[i - 1][j + 1] +
					   A[i][j - 1] + A[i][j] + A[i][j + 1] +
					   A[i + 1][j - 1] + A[i + 1][j] + A[i + 1][j + 1]) / 9.0;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, dbits(A[i][j]));
	return h;
}
