/*
 * A C program using files in its current directory, as a user writes it:
 * fopen/fprintf/fread/fseek/ftell, a directory listing (sorted, as
 * readdir's order is the file system's), stat, mkdir, rename, unlink and
 * rmdir. It runs natively in a directory and under `kwo run --dir DIR::.`
 * in a copy of it: the output and the files it leaves must be the same.
 * Expects input.txt; leaves out/ with renamed.txt and log.txt.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, without "." and "..". */
static int list(const char *dir)
{
	char *names[64];
	struct dirent *e;
	int n = 0, i;
	DIR *d = opendir(dir);

	if (!d)
		return fail("opendir");
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	printf("%s:", dir);
	for (i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	return 0;
}

static void show_stat(const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		printf("stat %s: %s\n", path, strerror(errno));
		return;
	}
	printf("stat %s: %s, %lld bytes, %s\n", path,
	       S_ISDIR(st.st_mode) ? "directory" : S_ISREG(st.st_mode) ? "file" : "other",
	       S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
	       st.st_mtime > 0 ? "has mtime" : "no mtime");
}

int main(void)
{
	char buf[256];
	size_t n;
	long size;
	FILE *f = fopen("input.txt", "r");

	if (!f)
		return fail("fopen input.txt");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	printf("read %zu bytes: %s", n, buf);
	if (fseek(f, 6, SEEK_SET))
		return fail("fseek");
	n = fread(buf, 1, 5, f);
	buf[n] = 0;
	printf("at 6: %s, now at %ld\n", buf, ftell(f));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	printf("size by fseek: %ld\n", size);
	fclose(f);

	if (mkdir("out", 0777))
		return fail("mkdir out");
	if (mkdir("out", 0777) == 0 || errno != EEXIST)
		return fail("mkdir out again");
	printf("mkdir out again: EEXIST\n");
	f = fopen("out/log.txt", "w");
	if (!f)
		return fail("fopen out/log.txt");
	fprintf(f, "line %d\n", 1);
	fclose(f);
	f = fopen("out/log.txt", "a");
	fprintf(f, "line %d\n", 2);
	fclose(f);
	f = fopen("out/tmp.txt", "w+");
	fprintf(f, "temporary %s\n", "data");
	rewind(f);
	if (!fgets(buf, sizeof(buf), f))
		return fail("fgets out/tmp.txt");
	printf("w+ read back: %s", buf);
	fclose(f);
	if (rename("out/tmp.txt", "out/renamed.txt"))
		return fail("rename");
	if (mkdir("out/empty", 0777) || rmdir("out/empty"))
		return fail("mkdir/rmdir out/empty");
	f = fopen("out/gone.txt", "w");
	fclose(f);
	if (unlink("out/gone.txt"))
		return fail("unlink");
	if (unlink("out/gone.txt") == 0 || errno != ENOENT)
		return fail("unlink again");
	printf("unlink again: ENOENT\n");
	if (rmdir("out") == 0 || errno != ENOTEMPTY)
		return fail("rmdir out");
	printf("rmdir out: ENOTEMPTY\n");
	if (fopen("missing.txt", "r") || errno != ENOENT)
		return fail("fopen missing.txt");
	printf("fopen missing.txt: ENOENT\n");
	list(".");
	list("out");
	show_stat("input.txt");
	show_stat("out");
	show_stat("out/log.txt");
	show_stat("out/gone.txt");
	return 0;
}
