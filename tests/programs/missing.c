/*
 * A C program that reaches WASI calls that may fail: fopen (path_open, and
 * only after a preopened directory given with `kwo run --dir` matches the
 * path) and posix_fadvise (fd_advise, which kwo does not provide). It
 * reports each failure itself, as a program run with
 * `kwo run --allow-missing-imports` should when a stub fails with ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "data.txt";
	FILE *f = fopen(path, "r");
	char line[256];
	int err;

	if (!f) {
		printf("fopen %s: %s (errno %d)\n", path, strerror(errno), errno);
	} else {
		if (fgets(line, sizeof(line), f))
			printf("%s: %s", path, line);
		fclose(f);
	}
	err = posix_fadvise(1, 0, 0, POSIX_FADV_NORMAL);
	printf("posix_fadvise: %s (errno %d)\n", err ? strerror(err) : "ok", err);
	return f ? 0 : 1;
}
