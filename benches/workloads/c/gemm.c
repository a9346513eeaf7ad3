/* PolyBench-style gemm: C = alpha * A * B + beta * C, n x n doubles. */
#include "common.h"

#define MAXN 512
static double A[MAXN][MAXN], B[MAXN][MAXN], C[MAXN][MAXN];

uint64_t RUN(int n)
{
	double alpha = 1.5, beta = 1.2;
	uint64_t h = 0;
	int i, j, k;

	n = clamp(n, 1, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			A[i][j] = (double)((i * j + 1) % n) / n;
			B[i][j] = (double)((i * (j + 1) + 2) % n) / n;
			C[i][j] = (double)((i * (j + 2) + 3) % n) / n;
		}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			C[i][j] *= beta;
		for (k = 0; k < n; k++)
			for (j = 0; j < n; j++)
				C[i][j] += alpha * A[i][k] * B[k][j];
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, dbits(C[i][j]));
	return h;
}
