# Streamed stdio through kwo.ko (KWO_LOAD_STDIO / KWO_INVOKE_STDIO): the
# CLI passes its own fds 0-2 and kwo.ko reads and writes them while the
# call runs. tests/programs/stdio.c as a .kwo against the same source built
# natively (static, /objects/stdio-native). Sourced by suite.sh after
# cli.sh (step, fail and cli_expect come from there).

prog=/objects/stdio-c.kwo native=/objects/stdio-native
bad() {
	echo "KWO-STEP-FAILED: stdio: $*"
	fail=1
}
same() {	# same FILE FILE WHAT
	if cmp -s "$1" "$2"; then
		echo "KWO-STDIO ok: $3"
	else
		bad "$3: $1 and $2 differ ($(wc -c < "$1") and $(wc -c < "$2") bytes)"
	fi
}

# 4 MB in (a regular file as fd 0) through the filter, and 4 MB out
# through a pipe: byte for byte what the native build gives (10 MB runs in
# userspace, loader/tests/stdio.rs; under TCG the suite's time is short).
$native gen 4000000 > /tmp/in
$native filter < /tmp/in > /tmp/want.out 2> /tmp/want.err
kwo run --kernel --timeout 60s $prog filter < /tmp/in > /tmp/got.out 2> /tmp/got.err ||
	bad "filter exited $?"
same /tmp/got.out /tmp/want.out "4 MB filtered, stdout"
same /tmp/got.err /tmp/want.err "4 MB filtered, stderr"
kwo run --kernel --timeout 60s $prog gen 4000000 | cat > /tmp/got.gen
same /tmp/got.gen /tmp/in "4 MB written through a pipe"
# Input from a pipe, arriving in pieces.
{ head -c 300000 /tmp/in; sleep 1; tail -c +300001 /tmp/in; } |
	kwo run --kernel --timeout 60s $prog filter > /tmp/got.out 2>/dev/null
same /tmp/got.out /tmp/want.out "4 MB filtered from a pipe"

# stdout and stderr to the same pipe interleave as written.
$native interleave 2000 > /tmp/want.il 2>&1
kwo run --kernel $prog interleave 2000 2>&1 | cat > /tmp/got.il
same /tmp/got.il /tmp/want.il "stdout and stderr interleaved"

# Backpressure: a reader that starts 1 s late gets everything; one that
# starts after the budget gets what was written before the call trapped.
kwo run --kernel --timeout 30s $prog gen 1000000 | { sleep 1; cat > /tmp/got.slow; }
head -c 1000000 /tmp/in > /tmp/want.slow
same /tmp/got.slow /tmp/want.slow "1 MB to a reader 1 s late"
kwo run --kernel --timeout 300ms $prog gen 1000000 2>/tmp/got.err |
	{ sleep 1; cat > /tmp/got.slow; }
grep -q "trap: interrupted" /tmp/got.err || bad "a full pipe past the budget: $(cat /tmp/got.err)"
n=$(wc -c < /tmp/got.slow)
head -c "$n" /tmp/in > /tmp/want.slow
if [ "$n" -gt 0 ] && [ "$n" -lt 1000000 ]; then
	same /tmp/got.slow /tmp/want.slow "$n bytes before the budget ended a blocked write"
else
	bad "$n bytes before the budget ended a blocked write"
fi

# Output that cannot be delivered: the program sees the error, the CLI
# says so and fails, even though the program itself exits 0. A full file
# system (ENOSPC), and /dev/full, whose driver has only ->write, which
# cannot take a kernel buffer (EINVAL).
mkdir -p /tmp/small
mount -t tmpfs -o size=64k tmpfs /tmp/small
lost() {	# lost FILE ERROR WHAT
	kwo run --kernel $prog hello > "$1" 2> /tmp/got.err
	rc=$?
	if [ $rc = 1 ] && grep -q "output lost: $2" /tmp/got.err; then
		echo "KWO-STDIO ok: $3 reported"
	else
		bad "$3: rc $rc, $(cat /tmp/got.err)"
	fi
}
head -c 65536 /dev/zero > /tmp/small/fill 2>/dev/null
lost /tmp/small/out "No space left on device" "output to a full file system"
lost /dev/full "Invalid argument" "output to a device kwo.ko cannot write"
umount /tmp/small

# An invoker killed while its program spins keeps what was printed.
kwo run --kernel --timeout 60s $prog spin > /tmp/got.kill 2>&1 &
pid=$!
sleep 1
kill -KILL $pid
wait $pid
printf 'printed before\nalso on stderr\n' > /tmp/want.kill
same /tmp/got.kill /tmp/want.kill "output kept across SIGKILL"

# An invoker killed while its write waits on a full pipe (a reader that
# never reads) dies at once; kwo.ko drops its reference to the pipe.
rm -f /tmp/fifo
mkfifo /tmp/fifo
kwo run --kernel --timeout 60s $prog gen 5000000 > /tmp/fifo 2>/dev/null &
pid=$!
sleep 30 < /tmp/fifo &
reader=$!
sleep 1
t0=$(date +%s)
kill -KILL $pid
wait $pid
rc=$?
t1=$(date +%s)
kill -KILL $reader
wait $reader 2>/dev/null
if [ $rc = 137 ] && [ $((t1 - t0)) -le 2 ]; then
	echo "KWO-STDIO ok: killed while blocked on a full pipe"
else
	bad "killed while blocked on a full pipe: rc $rc after $((t1 - t0)) s"
fi
rm -f /tmp/fifo /tmp/in /tmp/want.* /tmp/got.*
