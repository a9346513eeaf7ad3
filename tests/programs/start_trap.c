/*
 * Traps three calls below main: main -> walk -> step -> check, which
 * executes unreachable. For the kernel's start-function backtrace
 * (tests/vm/run.sh makes this command's _start the module's wasm start
 * function, so main runs inside KWO_IOC_LOAD; tests/vm/guest/cli.sh checks
 * every frame's function and source line). Every function is noinline and
 * does work after its call, so each call stays a real wasm call with a
 * frame of its own; sink is volatile, so nothing is known at compile time
 * (it is 0: walk(1), step(2), check(3)).
 */
volatile int sink;

__attribute__((noinline)) void check(int v)
{
	if (v > 2)
		__builtin_trap();
	sink = v;
}

__attribute__((noinline)) void step(int v)
{
	check(v + 1);
	sink += v;
}

__attribute__((noinline)) void walk(int v)
{
	step(v + 1);
	sink += v;
}

int main(int argc, char **argv)
{
	(void)argc;	/* none at all under `kwo load` */
	(void)argv;
	walk(sink + 1);
	return sink;
}
