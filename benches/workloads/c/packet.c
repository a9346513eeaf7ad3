/*
 * Packet header parse and filter, the bread and butter of kernel
 * extensions: a buffer of synthetic Ethernet/IPv4/{TCP,UDP} frames is
 * parsed field by field (big-endian loads, variable IHL, bounds checked
 * against the frame length), the IPv4 header checksum is verified and a
 * small rule set (protocol, source prefix, destination port) is applied.
 */
#include "common.h"

#define FRAME 80
#define MAXPKT 65536
#define PASSES 16
static uint8_t buf[MAXPKT * FRAME];
static uint16_t lens[MAXPKT];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t ip_csum(const uint8_t *p, int len)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void make_frame(uint8_t *f, uint16_t *len, uint64_t *seed)
{
	uint64_t r = rng_next(seed);
	int ihl = 5 + (int)(r & 1);
	int udp = (r >> 1) & 1;
	uint16_t cs;
	uint8_t *ip = f + 14;
	uint8_t *l4 = ip + ihl * 4;

	memset(f, 0, FRAME);
	f[12] = (r >> 2) % 17 ? 0x08 : 0x86; /* a few non-IPv4 frames */
	f[13] = (r >> 2) % 17 ? 0x00 : 0xdd;
	ip[0] = (uint8_t)(0x40 | ihl);
	ip[2] = 0;
	ip[3] = (uint8_t)(FRAME - 14);
	ip[8] = 64;
	ip[9] = udp ? 17 : 6;
	ip[12] = 10;
	ip[13] = (uint8_t)(r >> 8) & 3;
	ip[14] = (uint8_t)(r >> 16);
	ip[15] = (uint8_t)(r >> 24);
	ip[16] = 192;
	ip[17] = 168;
	ip[19] = (uint8_t)(r >> 32);
	cs = ip_csum(ip, ihl * 4);
	if ((r >> 40) % 23 == 0)
		cs ^= 1; /* a corrupt header now and then */
	ip[10] = (uint8_t)(cs >> 8);
	ip[11] = (uint8_t)cs;
	l4[0] = (uint8_t)(r >> 44);
	l4[1] = (uint8_t)(r >> 48);
	l4[2] = (r >> 52) & 1 ? 0 : 1;
	l4[3] = (uint8_t)((r >> 53) & 3 ? 80 : 53);
	*len = (r >> 56) % 29 ? FRAME : 30; /* some truncated frames */
}

/* 1 pass, 0 drop, -1 malformed. */
static int filter(const uint8_t *f, int len, uint32_t *key)
{
	const uint8_t *ip = f + 14, *l4;
	int ihl;
	uint32_t src;
	uint16_t dport;

	if (len < 34 || be16(f + 12) != 0x0800)
		return -1;
	ihl = (ip[0] & 15) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || 14 + ihl + 4 > len)
		return -1;
	if (ip_csum(ip, ihl) != 0)
		return -1;
	src = be32(ip + 12);
	l4 = ip + ihl;
	dport = be16(l4 + 2);
	*key = src ^ be32(ip + 16) ^ dport;
	if ((src & 0xfffc0000u) != 0x0a000000u)
		return 0;
	if (ip[9] == 6 && (dport == 80 || dport == 443))
		return 1;
	if (ip[9] == 17 && dport == 53)
		return 1;
	return 0;
}

uint64_t RUN(int n)
{
	uint64_t seed = 7, h = 0;
	uint32_t counts[3] = { 0, 0, 0 };
	int i, p;

	n = clamp(n, 1, MAXPKT);
	for (i = 0; i < n; i++)
		make_frame(buf + i * FRAME, lens + i, &seed);
	for (p = 0; p < PASSES; p++)
		for (i = 0; i < n; i++) {
			uint32_t key = 0;
			int v = filter(buf + i * FRAME, lens[i], &key);

			counts[v + 1]++;
			if (v > 0)
				h += key;
		}
	return mix(mix(mix(h, counts[0]), counts[1]), counts[2]);
}
