// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * Small freestanding helpers: a bounded formatter for diagnostics (the core
 * links against no libc, and the kernel's snprintf is not in userspace) and
 * CRC-32 (IEEE 802.3, reflected, the zlib/crc32fast variant) for the object
 * checksum.
 */
#include "kwo_internal.h"

struct kwo_sink {
	char *buf;
	size_t len;
	size_t pos;
};

static void sink_put(struct kwo_sink *s, char c)
{
	if (s->pos + 1 < s->len)
		s->buf[s->pos++] = c;
}

static void sink_str(struct kwo_sink *s, const char *str)
{
	if (!str)
		str = "(null)";
	while (*str)
		sink_put(s, *str++);
}

static void sink_num(struct kwo_sink *s, unsigned long long v, unsigned int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	while (n > 0)
		sink_put(s, tmp[--n]);
}

/* Handles %s %u %d %x %llu %lld %llx %zu %%; anything else prints '?'. */
void kwo_logf(char *log, size_t log_len, const char *fmt, ...)
{
	struct kwo_sink s = { log, log_len, 0 };
	__builtin_va_list ap;
	int ll;

	if (!log || !log_len)
		return;
	__builtin_va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(&s, *fmt);
			continue;
		}
		fmt++;
		ll = 0;
		if (*fmt == 'z' || (fmt[0] == 'l' && fmt[1] == 'l')) {
			ll = 1;
			fmt += *fmt == 'z' ? 1 : 2;
		}
		switch (*fmt) {
		case 's':
			sink_str(&s, __builtin_va_arg(ap, const char *));
			break;
		case 'u':
		case 'x':
			sink_num(&s, ll ? __builtin_va_arg(ap, unsigned long long) :
				 __builtin_va_arg(ap, unsigned int),
				 *fmt == 'u' ? 10 : 16);
			break;
		case 'd': {
			long long v = ll ? __builtin_va_arg(ap, long long) :
				      __builtin_va_arg(ap, int);
			if (v < 0) {
				sink_put(&s, '-');
				sink_num(&s, 0ull - (unsigned long long)v, 10);
			} else {
				sink_num(&s, v, 10);
			}
			break;
		}
		case '%':
			sink_put(&s, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			sink_put(&s, '?');
		}
	}
	__builtin_va_end(ap);
	s.buf[s.pos] = '\0';
}
