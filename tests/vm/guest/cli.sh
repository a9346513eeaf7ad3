# The kwo CLI against kwo.ko: the user's view of the kernel path. Sourced
# by suite.sh (step, fail and /objects come from there).

# cli_expect RC WANT-STDOUT WANT-STDERR-PART CMD...
cli_expect() {
	want_rc=$1 want_out=$2 want_err=$3
	shift 3
	out=$("$@" 2>/tmp/cli.err)
	rc=$?
	err=$(cat /tmp/cli.err)
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ] &&
	   { [ -z "$want_err" ] || case "$err" in *"$want_err"*) true ;; *) false ;; esac; }; then
		echo "KWO-CLI ok: $*"
	else
		echo "KWO-STEP-FAILED: $*: rc $rc stdout '$out' stderr '$err'" \
		     "(want rc $want_rc stdout '$want_out' stderr '*$want_err*')"
		fail=1
	fi
}

hello="hello from the kernel"
cli_expect 0 5 "" kwo invoke /objects/add.kwo add 2 3
cli_expect 0 -8 "" kwo invoke /objects/add.kwo add -10 2
cli_expect 0 5 "" kwo invoke /objects/fp.kwo hypot 3 4
cli_expect 0 "$hello" "" kwo run --kernel /objects/hello.kwo
cli_expect 0 "$hello" "" kwo exec /objects/hello.wasm
cli_expect 3 "" "$hello" kwo invoke /objects/hello.kwo err_exit 3
cli_expect 134 "" "trap: unreachable in func" kwo invoke /objects/traps.kwo unreachable
cli_expect 134 "" "trap: out of bounds memory access" kwo invoke /objects/traps.kwo load 70000
cli_expect 134 "" "trap: interrupted" kwo invoke --timeout 100ms /objects/spin.kwo spin
cli_expect 134 "" "trap: interrupted" kwo invoke --timeout 100ms /objects/spin.kwo spin_in_callee
# -W max-memory-size lowers the module's max_pages cap for one load.
cli_expect 0 3 "" kwo invoke -W max-memory-size=192KiB /objects/memgrow.kwo grow_many 2
cli_expect 0 -1 "" kwo invoke -W max-memory-size=192KiB /objects/memgrow.kwo grow_many 3
cli_expect 1 "" "kwo.ko refused the object" kwo load /objects/calls.txt
step kwo load /objects/traps.kwo

# --printk mirrors the output to the kernel log.
cli_expect 0 "$hello" "" kwo run --kernel --printk /objects/hello.kwo
dmesg | grep -q "stdout: $hello" || {
	echo "KWO-STEP-FAILED: --printk output not in the kernel log"
	fail=1
}

# Real programs: C (clang + wasi-libc) and Rust (wasm32-wasip1).
cli_expect 0 "Hello, WebAssembly in Linux Kernel!" "" kwo exec /objects/hello-c.wasm
cli_expect 0 "Hello, WebAssembly in Linux Kernel!" "" kwo run --kernel /objects/hello-c.kwo
# Source lines (docs/debugging.md): the trap in kwo.ko is named from the
# object's line table, the store in the inlined helper and its call in main.
trap_c="(tests/programs/trap.c:13:35 in poke, inlined into main at tests/programs/trap.c:22:2)"
cli_expect 134 "poking 0xfffffff0" "$trap_c" kwo run --kernel /objects/trap-c.kwo
cli_expect 134 "poking 0xfffffff0" "$trap_c" kwo exec /objects/trap-c.wasm
# Rust with debuginfo: core's write_volatile, inlined into poke, inlined
# into main.
trap_rs="inlined into poke at tests/programs/trap.rs:10:14, inlined into main at tests/programs/trap.rs:16:5)"
cli_expect 134 "poking 0xfffffff0" "$trap_rs" kwo run --kernel /objects/trap-rs.kwo
rs_out=$(printf 'Hello from Rust on kwo!\nargs: alpha beta\nsorted: [3, 7, 11, 19, 42]\nmean: 16.40, sqrt(2): 1.414214')
cli_expect 3 "$rs_out" "" kwo run --kernel /objects/hello-rs.kwo alpha beta
cli_expect 3 "$rs_out" "" kwo exec /objects/hello-rs.wasm alpha beta

# Sleeping (Rust thread::sleep, WASI poll_oneoff): a killable sleep in
# kwo.ko that the time budget ends promptly (a minute's sleep under a
# 300 ms budget traps within seconds, keeping the line printed before).
cli_expect 0 "$(printf 'before sleep\nafter sleep')" "" kwo run --kernel /objects/sleep-rs.kwo 200
t0=$(date +%s)
cli_expect 134 "before sleep" "trap: interrupted" kwo run --kernel --timeout 300ms /objects/sleep-rs.kwo 60000
t1=$(date +%s)
[ $((t1 - t0)) -le 5 ] || {
	echo "KWO-STEP-FAILED: a sleep under a 300 ms budget took $((t1 - t0)) s"
	fail=1
}
# poll_oneoff's edges (tests/programs/poll.c, as in loader/tests/programs.rs).
poll_out=$(printf '%s\n' "ok no subscriptions: EINVAL" "ok subscriptions outside memory: EFAULT" \
	"ok earliest clock fires" "ok slept 50 ms" "ok absolute monotonic clock fires" \
	"ok slept until it" "ok past realtime fires at once" \
	"ok fd subscription ENOTSUP, unknown clock EINVAL, no sleep" "ok usleep 20 ms")
cli_expect 0 "$poll_out" "" kwo run --kernel --timeout 20s /objects/poll-c.kwo

# Wasmtime's argument order: --invoke before FILE, the rest is the export's;
# usage errors exit 2, load errors 1.
cli_expect 0 -8 "" kwo run --kernel --invoke add /objects/add.kwo -10 2
cli_expect 2 "" "put --invoke NAME before FILE" kwo run --kernel /objects/add.kwo --invoke add 1 2
cli_expect 2 "" "no exported function" kwo invoke /objects/add.kwo nope

# A WASI function kwo does not provide: refused with what it is for, or
# linked to the ENOSYS stub, which kwo.ko runs like any host function.
cli_expect 1 "" "used for file system access" kwo exec /objects/missing-import.wasm
cli_expect 0 52 "" kwo invoke --allow-missing-imports /objects/missing-import.wasm open
cli_expect 0 52 "" kwo run --kernel --invoke open /objects/missing-import.kwo
# File calls in the kernel: no directory to open paths beneath (ENOTCAPABLE),
# but seeking and stat reach the invoker's file behind stdin.
printf 12345 > /tmp/five
cli_expect 0 76 "" kwo run --kernel --invoke open /objects/kernel-files.kwo
cli_expect 0 5 "" sh -c 'kwo run --kernel --invoke seek_end /objects/kernel-files.kwo < /tmp/five'
cli_expect 0 5 "" sh -c 'kwo run --kernel --invoke size /objects/kernel-files.kwo < /tmp/five'

# The start function's output arrives with the first call; its trap fails the load.
cli_expect 0 "$(printf 'started\n42')" "" kwo invoke /objects/start.kwo next
cli_expect 134 "" "trap: unreachable" kwo load /objects/badstart.kwo

# The stack: with kwo.ko's defaults (10 KiB per call, 4 KiB of it for host
# functions) a 4 KiB frame without call cycles runs; a recursive one needs
# room for two frames before its first check and is refused at load, as
# are 12 and 24 KiB frames.
cli_expect 0 3584 "" kwo invoke /objects/frame4.kwo run 7
for f in frame4r frame12 frame24 frame12r frame24r; do
	cli_expect 1 "" "over the stack budget" kwo invoke /objects/$f.kwo run 1
done
# A host function (memory.fill) trapping at the deepest recursion the
# budget allows, and one frame deeper the stack check.
lo=0 hi=4096
while [ $((hi - lo)) -gt 1 ]; do
	mid=$(((lo + hi) / 2))
	if kwo invoke /objects/deepfill.kwo down $mid 2>&1 | grep -q "out of bounds"; then
		lo=$mid
	else
		hi=$mid
	fi
done
echo "KWO-STACK: deepest memory.fill trap at depth $lo"
[ "$lo" -gt 10 ] || { echo "KWO-STEP-FAILED: only $lo frames fit"; fail=1; }
cli_expect 134 "" "trap: out of bounds memory access" kwo invoke /objects/deepfill.kwo down $lo
cli_expect 134 "" "trap: call stack exhausted" kwo invoke /objects/deepfill.kwo down $hi
# The same through a leaf, which has no stack check of its own (it calls no
# Wasm): at the deepest level its frame and its host call fit in what its
# caller's check left, and one level deeper the caller's check traps.
lo=0 hi=4096
while [ $((hi - lo)) -gt 1 ]; do
	mid=$(((lo + hi) / 2))
	if kwo invoke /objects/deepleaf.kwo down $mid 2>&1 | grep -q "out of bounds"; then
		lo=$mid
	else
		hi=$mid
	fi
done
echo "KWO-STACK: deepest leaf memory.fill trap at depth $lo"
[ "$lo" -gt 10 ] || { echo "KWO-STEP-FAILED: only $lo frames fit"; fail=1; }
cli_expect 134 "" "trap: out of bounds memory access" kwo invoke /objects/deepleaf.kwo down $lo
cli_expect 134 "" "trap: call stack exhausted" kwo invoke /objects/deepleaf.kwo down $hi

# A reactor is initialized before the export is called.
cli_expect 0 5 "" kwo invoke /objects/reactor.kwo get

# kwo bench --kernel: one line with the ioctl's and kwo.ko's own times and
# the checked result (the timings themselves: tests/vm/run.sh bench).
out=$(kwo bench --kernel --samples 3 --batch 2 /objects/add.kwo add 2 3 2>/tmp/cli.err)
case $out in
"bench: where=kernel export=add args=2,3 samples=3 batch=2 min_ns="*" inside_min_ns="*" result=5")
	echo "KWO-CLI ok: kwo bench --kernel" ;;
*)
	echo "KWO-STEP-FAILED: kwo bench --kernel: '$out' $(cat /tmp/cli.err)"
	fail=1 ;;
esac

# Trap backtraces from kwo.ko (KWO_FEAT_BACKTRACE): tests/programs/backtrace.c
# (built with -g) traps in countdown(0) under countdown(1..3) under main, so
# frames 0-3 are countdown, at the trap (line 23) and the recursive call
# (24), and frame 4 is main at its call (40); a bottomless recursion reports the cap of
# 32 frames and says that more were cut.
# bt_expect WANT-GREP-COUNT PATTERN MORE-PATTERN ARGS...
bt_expect() {
	want_n=$1 pat=$2 more=$3
	shift 3
	kwo run --kernel /objects/backtrace-c.kwo "$@" >/dev/null 2>/tmp/bt.err
	rc=$?
	n=$(grep -c "$pat" /tmp/bt.err)
	if [ "$rc" = 134 ] && [ "$n" = "$want_n" ] && grep -q "$more" /tmp/bt.err; then
		echo "KWO-CLI ok: backtrace $*"
	else
		echo "KWO-STEP-FAILED: backtrace $*: rc $rc, $n frames matching" \
		     "'$pat' (want $want_n), stderr: $(cat /tmp/bt.err)"
		fail=1
	fi
}
bt_expect 4 '^  [0-3]: func [0-9]* countdown at wasm offset 0x[0-9a-f]* (tests/programs/backtrace.c:2[34]:' \
	'^  4: func [0-9]* main at wasm offset 0x[0-9a-f]* (tests/programs/backtrace.c:40:10)' chain 3
bt_expect 32 '^  [0-9]*: func [0-9]* bottomless at wasm offset 0x' \
	'deeper frames not shown (at most 32 are reported)' deep

# A start function that traps (KWO_FEAT_LOAD_BACKTRACE): run.sh made the
# _start of tests/programs/start_trap.c (built with -g) the module's start
# function, so main runs inside KWO_IOC_LOAD and traps in check() under
# step() and walk(). Every command that loads reports the whole stack, each
# frame with its source line, as a trapping invoke does; the outermost
# frame is wasi-libc's _start.
start_bt="tests/programs/start_trap.c"
start_frames="0 check $start_bt:16:3
1 step $start_bt:22:2
2 walk $start_bt:28:2
3 main $start_bt:36:2"
start_bt_expect() {
	"$@" >/dev/null 2>/tmp/st.err
	rc=$?
	got=$(sed -n 's/^  \([0-3]\): func [0-9]* \([a-z]*\) at wasm offset 0x[0-9a-f]* (\(.*\))$/\1 \2 \3/p' /tmp/st.err)
	last=$(grep '^  [0-9]*: func ' /tmp/st.err | tail -1)
	if [ "$rc" = 134 ] && [ "$got" = "$start_frames" ] &&
	   grep -q "^trap: unreachable in func [0-9]* check at wasm offset 0x[0-9a-f]* ($start_bt:16:3)$" /tmp/st.err &&
	   case $last in *": func "*" _start"*) true ;; *) false ;; esac; then
		echo "KWO-CLI ok: start-function backtrace: $*"
	else
		echo "KWO-STEP-FAILED: start-function backtrace: $*: rc $rc, frames '$got'," \
		     "stderr: $(cat /tmp/st.err)"
		fail=1
	fi
}
start_bt_expect kwo run --kernel /objects/start-trap-c.kwo
start_bt_expect kwo exec /objects/start-trap-c.wasm
start_bt_expect kwo load /objects/start-trap-c.kwo
start_bt_expect kwo invoke /objects/start-trap-c.kwo _start
