/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C hello world of the kwo demo and tests: built with clang and wasi-libc
 * for wasm32-wasi, it needs only fd_write and proc_exit from WASI.
 */
#include <stdio.h>

int main(void)
{
	printf("Hello, WebAssembly in Linux Kernel!\n");
	return 0;
}
