/*
 * Traps deep in a call chain, for the backtrace tests (loader/tests/
 * backtrace.rs, tests/vm/guest/suite.sh):
 *   backtrace chain N   countdown() recurses N times, then the innermost
 *                       call traps (unreachable): N + 1 countdown frames
 *                       under main.
 *   backtrace deep      recurses without end: "call stack exhausted", with
 *                       far more frames than a backtrace reports.
 * Every function is noinline and does work after its call, so each call
 * stays a real wasm call with a frame of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int sink;

__attribute__((noinline)) int countdown(int n)
{
	int r;

	if (n == 0)
		__builtin_trap();
	r = countdown(n - 1);
	sink = r;
	return r + n;
}

__attribute__((noinline)) int bottomless(int n)
{
	int r = bottomless(n + 1);

	sink = r;
	return r + n;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "chain"))
		return countdown(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "deep"))
		return bottomless(0);
	fprintf(stderr, "usage: backtrace chain N | backtrace deep\n");
	return 2;
}
