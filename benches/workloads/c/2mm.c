/* PolyBench-style 2mm: D = alpha * A * B * C + beta * D, n x n doubles. */
#include "common.h"

#define MAXN 400
static double A[MAXN][MAXN], B[MAXN][MAXN], C[MAXN][MAXN];
static double D[MAXN][MAXN], T[MAXN][MAXN];

uint64_t RUN(int n)
{
	double alpha = 1.5, beta = 1.2;
	uint64_t h = 0;
	int i, j, k;

	n = clamp(n, 1, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			A[i][j] = (double)((i * j + 1) % n) / n;
			B[i][j] = (double)(i * (j + 1) % n) / n;
			C[i][j] = (double)((i * (j + 3) + 1) % n) / n;
			D[i][j] = (double)(i * (j + 2) % n) / n;
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			T[i][j] = 0.0;
			for (k = 0; k < n; k++)
				T[i][j] += alpha * A[i][k] * B[k][j];
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			D[i][j] *= beta;
			for (k = 0; k < n; k++)
				D[i][j] += T[i][k] * C[k][j];
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, dbits(D[i][j]));
	return h;
}
