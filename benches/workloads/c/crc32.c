/* CRC-32 (IEEE, reflected), slicing-by-4 tables, over n KiB, 8 passes. */
#include "common.h"

#define MAXKIB 4096
static uint8_t data[MAXKIB * 1024];
static uint32_t tab[4][256];

static void make_tables(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 4; j++)
			tab[j][i] = (tab[j - 1][i] >> 8) ^ tab[0][tab[j - 1][i] & 0xff];
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t len)
{
	crc = ~crc;
	while (len >= 4) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		crc = tab[3][crc & 0xff] ^ tab[2][(crc >> 8) & 0xff] ^
		      tab[1][(crc >> 16) & 0xff] ^ tab[0][crc >> 24];
		p += 4;
		len -= 4;
	}
	while (len--)
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t RUN(int n)
{
	uint64_t seed = 99, h = 0;
	uint32_t len, i, crc = 0;
	int pass;

	n = clamp(n, 1, MAXKIB);
	len = (uint32_t)n * 1024;
	make_tables();
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(rng_next(&seed) >> 56);
	for (pass = 0; pass < 8; pass++) {
		crc = crc32(crc, data + pass, len - pass);
		h = mix(h, crc);
	}
	return h;
}
