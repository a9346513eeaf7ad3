// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * The object target without libFuzzer (CI's smoke mode): every seed in
 * DIR, then RUNS deterministic mutations of each (seeds 0..RUNS-1), built
 * with ASan and UBSan. Fails if a seed is refused or if no mutation was
 * accepted, instantiated, invoked and refused (a harness gone blind).
 *   object-smoke DIR [RUNS]
 *   object-smoke --replay FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mutate.h"

static unsigned long runs = 300;
static unsigned int mutation_seed;

static void run_seed(const char *path, const __u8 *data, size_t size)
{
	size_t max = 2 * size + 256;
	__u8 *buf = malloc(max);
	unsigned long i;

	if (!buf)
		abort();
	if (kwo_fuzz_one(data, size)) {
		fprintf(stderr, "object smoke: seed %s refused\n", path);
		exit(1);
	}
	for (i = 0; i < runs; i++) {
		size_t n;

		memcpy(buf, data, size);
		n = kwo_fuzz_mutate(buf, size, max, mutation_seed++);
		kwo_fuzz_one(buf, n);
	}
	free(buf);
}

static int replay(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc; i++) {
		size_t size;
		__u8 *buf = kwo_fuzz_read_file(argv[i], &size);

		if (!buf) {
			fprintf(stderr, "object smoke: cannot read %s\n", argv[i]);
			return 1;
		}
		printf("%s: load %d\n", argv[i], kwo_fuzz_one(buf, size));
		free(buf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct kwo_fuzz_stats *st = &kwo_fuzz_stats;
	int seeds;

	if (argc >= 2 && !strcmp(argv[1], "--replay"))
		return replay(argc, argv);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DIR [RUNS] | --replay FILE...\n",
			argv[0]);
		return 2;
	}
	if (argc == 3)
		runs = strtoul(argv[2], NULL, 0);
	seeds = kwo_fuzz_load_seeds(argv[1], run_seed);
	printf("object smoke: %d seeds, %lu mutations each: %lu refused, %lu accepted, %lu instantiated, %lu start traps, %lu calls\n",
	       seeds, runs, st->rejected, st->accepted, st->instantiated,
	       st->instance_traps, st->invoked);
	if (!seeds || !st->rejected || !st->instantiated || !st->invoked ||
	    st->accepted <= (unsigned long)seeds) {
		fprintf(stderr, "object smoke: some kind of outcome never happened\n");
		return 1;
	}
	return 0;
}
