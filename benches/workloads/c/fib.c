/* Naive recursive Fibonacci: call-heavy, stack checks on every entry. */
#include "common.h"

/* noinline and a volatile-free body: clang must not turn this into a loop. */
__attribute__((noinline)) static uint64_t fib(int n)
{
	return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2);
}

uint64_t RUN(int n)
{
	return fib(clamp(n, 0, 40));
}
