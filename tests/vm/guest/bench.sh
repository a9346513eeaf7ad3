# The in-kernel benchmark (tests/vm/run.sh bench), sourced by /init (which
# defines step and fail). Every workload object runs through the userspace
# runtime (kwo bench) and through kwo.ko (kwo bench --kernel), the same
# object with the same argument, alternating, ROUNDS times; then the invoke
# round trip of a trivial export both ways. The host compiled the objects
# and computed every expected result (/bench/list.txt: NAME OBJECT EXPORT N
# RESULT); a different result from either path fails the run. The host
# reads the KWO-BENCH lines back from the console.
. /bench/config

# bench_one NAME WHERE EXPECT kwo-bench-args...: one kwo bench run, its
# line echoed for the host, its result checked.
bench_one() {
	name=$1 where=$2 expect=$3
	shift 3
	flag=
	[ "$where" = kernel ] && flag=--kernel
	line=$(kwo bench $flag --timeout 120s "$@" </dev/null 2>/tmp/bench.err)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "KWO-STEP-FAILED: bench $name ($where): rc $rc: $(cat /tmp/bench.err)"
		fail=1
		return
	fi
	echo "KWO-BENCH $name round=$round $line"
	case " $line " in
	*" result=$expect "*) ;;
	*) echo "KWO-STEP-FAILED: bench $name ($where): result is not the host's $expect"
	   fail=1 ;;
	esac
}

# bench_pair NAME EXPECT kwo-bench-args...: both paths. Which goes first
# alternates with the round, so that neither always runs on the caches and
# clock state the other left behind.
bench_pair() {
	pair=$1
	shift
	if [ $((round % 2)) -eq 1 ]; then
		bench_one "$pair" user "$@"; bench_one "$pair" kernel "$@"
	else
		bench_one "$pair" kernel "$@"; bench_one "$pair" user "$@"
	fi
}

# What may treat the two paths differently under emulation: transparent
# huge pages (the userspace runtime's linear memory) and page-table
# isolation (every system call and interrupt from userspace).
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
pti=$(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null)
echo "KWO-BENCH-GUEST thp: ${thp:-unknown}; meltdown: ${pti:-unknown}"
echo "KWO-BENCH-CONFIG rounds=$ROUNDS samples=$SAMPLES rt_samples=$RT_SAMPLES rt_batch=$RT_BATCH"
while read -r name obj export n expect; do
	round=1
	while [ $round -le "$ROUNDS" ]; do
		bench_pair "$name" "$expect" --samples "$SAMPLES" "/bench/$obj" "$export" "$n"
		round=$((round + 1))
	done
done < /bench/list.txt

round=1
while [ $round -le "$ROUNDS" ]; do
	bench_pair round_trip 7 --samples "$RT_SAMPLES" --batch "$RT_BATCH" /bench/id.kwo id 7
	round=$((round + 1))
done
echo "KWO-BENCH-DONE"
