/* PolyBench-style floyd-warshall: all-pairs shortest paths, int32. */
#include "common.h"

#define MAXN 512
static int32_t P[MAXN][MAXN];

uint64_t RUN(int n)
{
	uint64_t h = 0;
	int i, j, k;

	n = clamp(n, 1, MAXN);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			P[i][j] = i * j % 7 + 1;
			if ((i + j) % 13 == 0 || (i + j) % 7 == 0 || (i + j) % 11 == 0)
				P[i][j] = 999;
		}
	for (k = 0; k < n; k++)
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				if (P[i][k] + P[k][j] < P[i][j])
					P[i][j] = P[i][k] + P[k][j];
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			h = mix(h, (uint64_t)P[i][j]);
	return h;
}
