/*
 * Bulk memory: memset and memcpy of 4 KiB .. 1 MiB blocks (memory.fill and
 * memory.copy in Wasm, built with -mbulk-memory), plus overlapping moves.
 */
#include "common.h"

#define BUF (4 << 20)
static uint8_t src[BUF], dst[BUF];

uint64_t RUN(int n)
{
	uint64_t h = 0;
	uint32_t size, off = 0;
	int r;

	n = clamp(n, 1, 1 << 20);
	/* Every call starts from the same state: results must not depend on
	 * earlier calls. */
	memset(src, 0, BUF);
	memset(dst, 0x5a, BUF);
	for (r = 0; r < n; r++) {
		for (size = 4096; size <= (1u << 20); size <<= 2) {
			off = (off * 1103515245u + 12345u) % (BUF - 2 * size);
			memset(src + off, (int)(r * 7 + size / 4096 + 1) & 0xff, size);
			memcpy(dst + (off ^ 64), src + off, size);
			memmove(dst + off + 1, dst + off, size);
			h = mix(h, dst[off + size / 2] + dst[off + size]);
		}
	}
	return h;
}
