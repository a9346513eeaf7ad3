/* PolyBench-style jacobi-2d: 5-point stencil, two grids, 40 time steps. */
#include "common.h"

#define MAXN 1024
#define TSTEPS 40
static double A[MAXN][MAXN], B[MAXN][MAXN];

uint64_t RUN(int n)
{
	uint64_t h = 0;
	int t, i, j;

	n = clamp(n, 3, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			A[i][j] = ((double)i * (j + 2) + 2) / n;
			B[i][j] = ((double)i * (j + 3) + 3) / n;
		}
	for (t = 0; t < TSTEPS; t++) {
		for (i = 1; i < n - 1; i++)
			for (j = 1; j < n - 1; j++)
				B[i][j] = 0.2 * (A[i][j] + A[i][j - 1] + A[i][j + 1] +
						 A[i + 1][j] + A[i - 1][j]);
		for (i = 1; i < n - 1; i++)
			for (j = 1; j < n - 1; j++)
				A[i][j] = 0.2 * (B[i][j] + B[i][j - 1] + B[i][j + 1] +
						 B[i + 1][j] + B[i - 1][j]);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, dbits(A[i][j]));
	return h;
}
