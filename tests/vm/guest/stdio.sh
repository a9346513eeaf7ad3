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

# An invoker killed while its program spins keeps what was printed (killed
# a second after the first byte: a fixed delay from the start can come
# before it on a TCG guest of a busy host).
kwo run --kernel --timeout 60s $prog spin > /tmp/got.kill 2>&1 &
pid=$!
i=0
while [ ! -s /tmp/got.kill ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
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
# Ctrl-C: SIGINT (default disposition) of the CLI while its program
# spins ends it, and what was printed before stays.
ktest sigint 1000 /tmp/got.int kwo run --kernel --timeout 60s $prog spin ||
	bad "SIGINT did not end the CLI"
same /tmp/got.int /tmp/want.kill "output kept across SIGINT"

# Backpressure at 10 MB: a reader that starts 2 s late gets every byte,
# in order.
$native gen 10000000 > /tmp/want.10m
kwo run --kernel --timeout 120s $prog gen 10000000 | { sleep 2; cat > /tmp/got.10m; }
same /tmp/got.10m /tmp/want.10m "10 MB to a slow reader"
rm -f /tmp/want.10m /tmp/got.10m

# Passed files (--file, KWO_LOAD_FILES): the program reads fd 3 and
# writes fd 4 as the native build does with the shell's 3< and 4>.
$native sum 3 3< /tmp/in > /tmp/want.sum
kwo run --kernel --file 3=/tmp/in $prog sum 3 > /tmp/got.sum || bad "sum of fd 3 exited $?"
same /tmp/got.sum /tmp/want.sum "a passed file read as fd 3"
kwo run --kernel --file 3=/tmp/in --file 4=/tmp/got.copy:w $prog copy 3 4 ||
	bad "copy fd 3 to fd 4 exited $?"
same /tmp/got.copy /tmp/in "4 MB copied from fd 3 to a passed file written as fd 4"
# Gaps stay free, and a file opened read-only cannot be written.
kwo run --kernel --file 5=/tmp/in $prog sum 5 > /tmp/got.sum || bad "sum of fd 5 exited $?"
same /tmp/got.sum /tmp/want.sum "a passed file as fd 5"
kwo run --kernel --file 5=/tmp/in $prog sum 3 2> /tmp/got.err > /dev/null
rc=$?
if [ $rc = 1 ] && grep -q "Bad file descriptor" /tmp/got.err; then
	echo "KWO-STDIO ok: fd 3 left free is EBADF"
else
	bad "fd 3 left free: rc $rc, $(cat /tmp/got.err)"
fi
echo untouched > /tmp/ro
echo data | kwo run --kernel --file 3=/tmp/ro:r $prog copy 0 3 2> /tmp/got.err
rc=$?
if [ $rc = 1 ] && grep -q "Bad file descriptor" /tmp/got.err && [ "$(cat /tmp/ro)" = untouched ]; then
	echo "KWO-STDIO ok: a read-only passed file cannot be written"
else
	bad "write to a read-only passed file: rc $rc, $(cat /tmp/got.err)"
fi
rm -f /tmp/ro

# A passed pipe whose writer is killed mid-call: what was written
# arrives, and the reader then sees the end of the file (kwo.ko dropped
# its reference with the instance). The watchdog fails a reader still
# waiting after 10 s.
rm -f /tmp/fifo
mkfifo /tmp/fifo
cat /tmp/fifo > /tmp/got.fifo &
reader=$!
kwo run --kernel --timeout 60s --file 3=/tmp/fifo:w $prog copy 0 3 < /dev/zero &
pid=$!
i=0
while [ ! -s /tmp/got.fifo ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1
kill -KILL $pid
wait $pid
( sleep 10; kill -KILL $reader 2>/dev/null ) &
dog=$!
wait $reader
rc=$?
kill $dog 2>/dev/null
n=$(wc -c < /tmp/got.fifo)
head -c "$n" /dev/zero > /tmp/want.fifo
if [ $rc = 0 ] && [ "$n" -gt 0 ]; then
	same /tmp/got.fifo /tmp/want.fifo "$n bytes through a passed pipe before SIGKILL, then its end"
else
	bad "passed pipe after SIGKILL of its writer: reader rc $rc, $n bytes"
fi
rm -f /tmp/fifo /tmp/in /tmp/want.* /tmp/got.*
