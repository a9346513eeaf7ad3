/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stdio and descriptor behaviour of the kwo runtimes, built for wasm32-wasi
 * and natively so that both can be compared byte for byte. The first
 * argument picks the mode:
 *   filter	stdin to stdout, lower case turned upper, then a byte and line
 *		count; the count also goes to stderr
 *   gen N	N bytes of a fixed pattern on stdout
 *   interleave N	N numbered lines, alternately on stdout and stderr, each
 *		written as it is made
 *   spin	a line on stdout and one on stderr, then loop forever (until
 *		killed or out of time)
 *   hello	a line with printf, exit 0 whether or not it could be written
 *   sum FD	read descriptor FD to its end with read(2) and print its
 *		byte count and an FNV-1a hash
 *   copy IN OUT	read descriptor IN to its end, writing all of it to
 *		descriptor OUT with write(2); exit 1 if a read or write fails
 *   fds	the descriptor table: fdstat, fd_renumber and fd_close
 *		consistent with each other; prints "fds ok" or what failed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static int filter(void)
{
	static char buf[65536];
	unsigned long long bytes = 0, lines = 0;
	size_t n, i;

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		for (i = 0; i < n; i++) {
			lines += buf[i] == '\n';
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] -= 'a' - 'A';
		}
		bytes += n;
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
	}
	printf("bytes %llu lines %llu\n", bytes, lines);
	fprintf(stderr, "bytes %llu lines %llu\n", bytes, lines);
	return ferror(stdin) || fflush(stdout) ? 1 : 0;
}

static int gen(unsigned long n)
{
	static char buf[4099];
	unsigned long done = 0, k;
	size_t i, len;

	for (k = 0; done < n; k++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = "0123456789abcdef\n"[(i + k) % 17];
		len = n - done < sizeof(buf) ? n - done : sizeof(buf);
		if (fwrite(buf, 1, len, stdout) != len)
			return 1;
		done += len;
	}
	return fflush(stdout) ? 1 : 0;
}

/* write(2) straight away: no stdio buffer may reorder the two streams. */
static int interleave(unsigned long n)
{
	char line[64];
	unsigned long i;
	int len;

	for (i = 0; i < n; i++) {
		len = snprintf(line, sizeof(line), "%s %lu\n",
			       i % 2 ? "err" : "out", i);
		if (write(i % 2 ? 2 : 1, line, len) != len)
			return 1;
	}
	return 0;
}

static int spin(void)
{
	volatile unsigned long x = 0;

	printf("printed before\n");
	fflush(stdout);
	fprintf(stderr, "also on stderr\n");
	for (;;)
		x++;
	return 0;
}

static int sum(int fd)
{
	static unsigned char buf[65536];
	unsigned long long bytes = 0, hash = 0xcbf29ce484222325ull;
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			hash = (hash ^ buf[i]) * 0x100000001b3ull;
		bytes += n;
	}
	if (n < 0) {
		perror("read");
		return 1;
	}
	printf("bytes %llu fnv %016llx\n", bytes, hash);
	return 0;
}

static int copy(int in, int out)
{
	static char buf[65536];
	ssize_t n, w, done;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (done = 0; done < n; done += w) {
			w = write(out, buf + done, n - done);
			if (w <= 0) {
				perror("write");
				return 1;
			}
		}
	}
	if (n < 0)
		perror("read");
	return n < 0;
}

#ifdef __wasi__
static int check(int ok, const char *what)
{
	if (!ok)
		printf("fds: %s\n", what);
	return ok;
}

static int fds(void)
{
	__wasi_fdstat_t st;
	int ok = 1, i;

	ok &= check(__wasi_fd_fdstat_get(1, &st) == 0, "fdstat 1");
	ok &= check(__wasi_fd_fdstat_get(3, &st) == __WASI_ERRNO_BADF,
		    "fdstat 3 not EBADF");
	ok &= check(__wasi_fd_fdstat_get(-1, &st) == __WASI_ERRNO_BADF,
		    "fdstat -1 not EBADF");
	ok &= check(__wasi_fd_renumber(0, 3) == __WASI_ERRNO_BADF,
		    "renumber onto a free fd not EBADF");
	ok &= check(__wasi_fd_renumber(3, 0) == __WASI_ERRNO_BADF,
		    "renumber from a free fd not EBADF");
	for (i = 0; i < 100000; i++)
		ok &= check(__wasi_fd_renumber(1, 1) == 0, "renumber 1 1");
	/* fd 0 now writes where fd 2 did; fd 2 is gone. */
	ok &= check(__wasi_fd_renumber(2, 0) == 0, "renumber 2 0");
	ok &= check(__wasi_fd_fdstat_get(2, &st) == __WASI_ERRNO_BADF,
		    "fd 2 still open after renumber");
	ok &= check(write(0, "to stderr via fd 0\n", 19) == 19,
		    "write to the renumbered fd");
	ok &= check(__wasi_fd_close(0) == 0, "close 0");
	ok &= check(__wasi_fd_close(0) == __WASI_ERRNO_BADF, "close 0 twice");
	ok &= check(write(0, "x", 1) < 0, "write to a closed fd");
	if (ok)
		printf("fds ok\n");
	return !ok;
}
#endif

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;

	if (!strcmp(mode, "filter"))
		return filter();
	if (!strcmp(mode, "gen"))
		return gen(n);
	if (!strcmp(mode, "interleave"))
		return interleave(n);
	if (!strcmp(mode, "spin"))
		return spin();
	if (!strcmp(mode, "sum"))
		return sum((int)n);
	if (!strcmp(mode, "copy"))
		return copy((int)n, argc > 3 ? atoi(argv[3]) : 1);
	if (!strcmp(mode, "hello")) {
		printf("hello\n");
		return 0;
	}
#ifdef __wasi__
	if (!strcmp(mode, "fds"))
		return fds();
#endif
	fprintf(stderr, "usage: stdio filter|gen N|interleave N|spin|hello|sum FD|copy IN OUT|fds\n");
	return 2;
}
