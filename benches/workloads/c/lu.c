/* PolyBench-style lu: in-place LU decomposition of a dominant matrix. */
#include "common.h"

#define MAXN 512
static double A[MAXN][MAXN];

uint64_t RUN(int n)
{
	uint64_t h = 0;
	int i, j, k;

	n = clamp(n, 1, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			A[i][j] = i == j ? n + 1.0 : (double)((i + 2 * j) % n) / n;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			for (k = 0; k < j; k++)
				A[i][j] -= A[i][k] * A[k][j];
			A[i][j] /= A[j][j];
		}
		for (j = i; j < n; j++)
			for (k = 0; k < i; k++)
				A[i][j] -= A[i][k] * A[k][j];
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, dbits(A[i][j]));
	return h;
}
