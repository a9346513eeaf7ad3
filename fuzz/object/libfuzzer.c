// SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0)
/*
 * libFuzzer entry points of the object target (harness.c). The seeds'
 * contracts come from KWO_OBJECT_SEEDS, or the directory compiled in.
 */
#include <stdlib.h>

#include "harness.h"
#include "mutate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("KWO_OBJECT_SEEDS");

	(void)argc;
	(void)argv;
	kwo_fuzz_load_seeds(dir ? dir : KWO_SEED_DIR, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kwo_fuzz_one(data, size);
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed)
{
	return kwo_fuzz_mutate(data, size, max, seed);
}
