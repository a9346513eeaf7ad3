/*
 * What a program cannot do with a preopened directory (fd 3, given with
 * `kwo run --dir DIR::.`): reach outside it. Each escape goes straight to
 * the WASI call (wasi-libc would refuse some paths itself) and must fail
 * with ENOTCAPABLE: "..", an absolute path, a symlink pointing out, a path
 * climbing out through a subdirectory, for opening, stat, mkdir, unlink
 * and rename. Then the descriptor table: 100000 open/close cycles reuse
 * the lowest free fd, and opening without closing ends in EMFILE.
 * Expects in DIR: in.txt, sub/, and symlinks to a directory outside
 * holding secret.txt: link_out (absolute) and link_rel (relative).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define PREOPEN 3

static __wasi_errno_t open_at(const char *path, __wasi_fd_t *fd)
{
	return __wasi_path_open(PREOPEN, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
				path, 0, __WASI_RIGHTS_FD_READ, 0, 0, fd);
}

static void escapes(void)
{
	static const char *const paths[] = {
		"../x", "/etc/passwd", "link_out/secret.txt", "sub/../../x",
		"link_out", "link_rel/secret.txt",
	};
	__wasi_filestat_t st;
	__wasi_fd_t fd;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		printf("open %s: errno %d\n", paths[i], open_at(paths[i], &fd));
		printf("stat %s: errno %d\n", paths[i],
		       __wasi_path_filestat_get(PREOPEN, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
						paths[i], &st));
	}
	printf("mkdir ../made: errno %d\n",
	       __wasi_path_create_directory(PREOPEN, "../made"));
	printf("mkdir link_out/made: errno %d\n",
	       __wasi_path_create_directory(PREOPEN, "link_out/made"));
	printf("unlink link_out/secret.txt: errno %d\n",
	       __wasi_path_unlink_file(PREOPEN, "link_out/secret.txt"));
	printf("rmdir sub/../..: errno %d\n",
	       __wasi_path_remove_directory(PREOPEN, "sub/../.."));
	printf("rename in.txt ../stolen.txt: errno %d\n",
	       __wasi_path_rename(PREOPEN, "in.txt", PREOPEN, "../stolen.txt"));
	printf("rename link_out/secret.txt in: errno %d\n",
	       __wasi_path_rename(PREOPEN, "link_out/secret.txt", PREOPEN, "got.txt"));
	/* Inside, through a subdirectory and back: allowed. */
	if (open_at("sub/../in.txt", &fd) == 0) {
		printf("open sub/../in.txt: ok\n");
		close((int)fd);
	}
}

static void reuse(void)
{
	int first = open("in.txt", O_RDONLY), fd, i;

	close(first);
	for (i = 0; i < 100000; i++) {
		fd = open("in.txt", O_RDONLY);
		if (fd != first) {
			printf("cycle %d: fd %d, not %d\n", i, fd, first);
			return;
		}
		close(fd);
	}
	printf("100000 open/close cycles: fd %d every time\n", first);
}

static void exhaust(void)
{
	int fds[128], n = 0, err, i;

	while (n < 128) {
		fds[n] = open("in.txt", O_RDONLY);
		if (fds[n] < 0)
			break;
		n++;
	}
	err = errno;
	printf("opened %d, then %s\n", n, err == EMFILE ? "EMFILE" : strerror(err));
	for (i = 0; i < n; i++)
		close(fds[i]);
	fds[0] = open("in.txt", O_RDONLY);
	printf("after closing them: fd %d\n", fds[0]);
}

int main(void)
{
	escapes();
	reuse();
	exhaust();
	return 0;
}
