# Observability (sourced by suite.sh after cli.sh, whose cli_expect it
# uses): kwo.ko's debugfs files, and the CLI over them (kwo ps, kwo stats,
# kwo perf-map). Nothing else runs meanwhile, so the counters move by
# exactly what these steps do.

mount -t debugfs debugfs /sys/kernel/debug ||
	{ echo "KWO-STEP-FAILED: cannot mount debugfs"; fail=1; }
D=/sys/kernel/debug/kwo
stat_value() { awk -v k="$1" '$1 == k { print $2 }' $D/stats; }

# Counters, instances and symbols, and KWO_IOC_SET_NAME's refusals.
step ktest obs /objects/add.kwo /objects/traps.kwo

# Whether the kernel preempts kernel code anywhere (PREEMPT, PREEMPT_RT,
# or PREEMPT_DYNAMIC booted as full): then cond_resched() never switches
# tasks and the yields counter stays 0 by design (docs/debugging.md).
preempt_full() {
	if [ -r /sys/kernel/debug/sched/preempt ]; then
		grep -q '(full)' /sys/kernel/debug/sched/preempt
	else
		case " $(uname -v) " in *" PREEMPT_RT "* | *" PREEMPT "*) true ;; *) false ;; esac
	fi
}

# Yields: more spinning calls than CPUs, so that cond_resched() at the
# code's preemption points has another task to switch to.
y0=$(stat_value yields)
i=0
while [ $i -le "$(nproc)" ]; do
	kwo invoke --timeout 300ms /objects/spin.kwo spin >/dev/null 2>&1 &
	i=$((i + 1))
done
wait
y1=$(stat_value yields)
echo "KWO-OBS: yields $y0 -> $y1 over $i spinning calls"
if preempt_full; then
	echo "KWO-OBS: yields not judged: a fully preemptible kernel ($(uname -v))"
elif [ -z "$y0" ] || [ "$y1" -le "$y0" ]; then
	echo "KWO-STEP-FAILED: yields did not move ($y0 -> $y1)"
	fail=1
fi

# kwo ps while a program lives in the kernel (sleep-rs sleeps 3 s there).
kwo run --kernel /objects/sleep-rs.kwo 3000 > /tmp/sleep.out 2>&1 &
bg=$!
i=0
while [ $i -lt 100 ] && ! grep -q ' kwo:sleep-rs.kwo:' $D/symbols; do
	usleep 50000
	i=$((i + 1))
done
kwo ps > /tmp/ps.out 2>&1
ps_line=$(grep ' sleep-rs.kwo ' /tmp/ps.out)
set -- $ps_line
if [ "$1" = "$bg" ] && [ "$2" = kwo ] && [ "$3" = sleep-rs.kwo ]; then
	echo "KWO-CLI ok: kwo ps lists sleep-rs.kwo of pid $bg"
else
	echo "KWO-STEP-FAILED: kwo ps: '$ps_line' (want pid $bg, kwo, sleep-rs.kwo):"
	cat /tmp/ps.out
	fail=1
fi
head -1 /tmp/ps.out | grep -q '^ *PID  COMM  *NAME  *SIZE  *MEMORY  *INVOKES  *TRAPS  *TIME$' ||
	{ echo "KWO-STEP-FAILED: kwo ps header: $(head -1 /tmp/ps.out)"; fail=1; }

# kwo perf-map: perf script lines (a sample's own line, and a callchain
# line) with an address one byte into the first function of the instance.
cp $D/symbols /tmp/kwo.syms
set -- $(grep ' kwo:sleep-rs.kwo:' /tmp/kwo.syms | grep -v '\[' | head -1)
start=$1 name=$3
addr=${start%?}1
case $start in *0) ;; *) echo "KWO-STEP-FAILED: $start is not 16-byte aligned"; fail=1 ;; esac
printf '     kwo %6d [000]    52.613280:     250000 cpu-clock:pp:  %s [unknown] ([unknown])\n\t%s [unknown] ([kernel.kallsyms])\n' \
	"$bg" "$addr" "$addr" > /tmp/perf.script
want=$(printf '     kwo %6d [000]    52.613280:     250000 cpu-clock:pp:  %s %s+0x1 ([unknown])\n\t%s %s+0x1 ([kernel.kallsyms])' \
	"$bg" "$addr" "$name" "$addr" "$name")
cli_expect 0 "$want" "" sh -c 'kwo perf-map < /tmp/perf.script'
wait $bg
rc=$?
[ $rc -eq 0 ] && [ "$(cat /tmp/sleep.out)" = "$(printf 'before sleep\nafter sleep')" ] ||
	{ echo "KWO-STEP-FAILED: sleep-rs under kwo ps: rc $rc, '$(cat /tmp/sleep.out)'"; fail=1; }
# Gone from ps and symbols; a saved copy of symbols still names the samples.
kwo ps | grep -q ' sleep-rs.kwo ' &&
	{ echo "KWO-STEP-FAILED: kwo ps still lists sleep-rs.kwo after its exit"; fail=1; }
cli_expect 0 "$(cat /tmp/perf.script)" "no kwo symbols" sh -c 'kwo perf-map < /tmp/perf.script'
cli_expect 0 "$want" "" sh -c 'kwo perf-map --symbols /tmp/kwo.syms < /tmp/perf.script'

# kwo stats: the counters, aligned.
kwo stats > /tmp/stats.out 2>&1
grep -q '^loads  *[1-9]' /tmp/stats.out && grep -q '^trap_unreachable  *[1-9]' /tmp/stats.out ||
	{ echo "KWO-STEP-FAILED: kwo stats: $(cat /tmp/stats.out)"; fail=1; }

umount /sys/kernel/debug
cli_expect 1 "" "debugfs is not mounted" kwo ps
