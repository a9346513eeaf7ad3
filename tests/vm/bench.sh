# The in-kernel benchmark, host side: sourced by tests/vm/run.sh for
# `tests/vm/run.sh bench`. bench_build compiles kwo-bench's workloads into
# .kwo objects and computes every expected result with the host's
# userspace runtime; the guest (guest/bench.sh) times each object through
# the userspace runtime and through kwo.ko; bench_report turns the
# console's KWO-BENCH lines into Markdown. Uses run.sh's OUT, ROOT, KWO,
# KWO_GUEST, TARGET, ARCH, ACCEL_ARGS and die.
#
# Environment: BENCH_SMOKE=1 (kwo-bench's smoke sizes, one round of one
# sample: checks the mode, its numbers mean nothing; report in $OUT),
# BENCH_ONLY=a,b (workload names), BENCH_OUT (report path; default
# benches/results/kernel.md, kernel-arm64.md for ARCH=arm64, and
# $OUT/kernel-smoke.md with BENCH_SMOKE).

# Sizes for the VM: 10-30 ms per call natively on the userspace runtime
# (kwo-bench's full sizes take 30-140 ms); TCG made that 100-350 ms per
# call in the guest (memops, all memory.fill/copy, far more: a smaller n).
bench_vm_n() {
	case $1 in
	gemm) echo 250 ;;
	2mm) echo 200 ;;
	lu) echo 300 ;;
	jacobi_2d) echo 280 ;;
	seidel_2d) echo 370 ;;
	floyd_warshall) echo 250 ;;
	packet) echo 32768 ;;
	crc32) echo 2048 ;;
	fib) echo 32 ;;
	dispatch) echo 400 ;;
	memops) echo 96 ;;
	sha256) echo 512 ;;
	deflate) echo 256 ;;
	sort_hash) echo 400000 ;;
	json) echo 10000 ;;
	vec_grow) echo 500000 ;;
	hash_map) echo 50000 ;;
	strings) echo 50000 ;;
	*) return 1 ;;
	esac
}

if [ "${BENCH_SMOKE:-}" = 1 ]; then
	BENCH_ROUNDS=1 BENCH_SAMPLES=1 BENCH_RT_SAMPLES=2 BENCH_RT_BATCH=50
	BENCH_OUT=${BENCH_OUT:-$OUT/kernel-smoke.md}
else
	# Per workload: 5 rounds x 2 paths x (1 warm-up + 5 timed calls).
	BENCH_ROUNDS=5 BENCH_SAMPLES=5 BENCH_RT_SAMPLES=11 BENCH_RT_BATCH=2000
	if [ "$ARCH" = x86_64 ]; then
		BENCH_OUT=${BENCH_OUT:-$ROOT/benches/results/kernel.md}
	else
		BENCH_OUT=${BENCH_OUT:-$ROOT/benches/results/kernel-$ARCH.md}
	fi
fi

# The host's userspace runtime on an object of this ARCH: the static kwo
# natively on x86_64, the guest's aarch64 kwo under qemu-aarch64 (user
# mode) for arm64.
host_kwo() {
	if [ "$ARCH" = x86_64 ]; then
		"$KWO" "$@"
	else
		qemu-aarch64 "$KWO_GUEST" "$@"
	fi
}

# The result= field of a `kwo bench` line.
bench_result() {
	sed -n 's/.* result=\([^ ]*\)$/\1/p'
}

# bench_expect OBJ EXPORT N: the result on the host's userspace runtime.
bench_expect() {
	local line
	line=$(host_kwo bench --samples 1 "$@") || die "host: kwo bench $* failed"
	echo "$line" | bench_result
}

# Which sources the objects' compiler came from, taken as they are
# compiled: others may be changing the compiler in this working tree.
bench_source() {
	local dirty
	dirty=$(git -C "$ROOT" status --porcelain -- compiler kmod loader format verifier |
		sed 's/^...//; s|/.*||' | sort -u | tr '\n' ' ')
	echo "at commit $(git -C "$ROOT" rev-parse --short HEAD)${dirty:+ with uncommitted changes in ${dirty% }}"
}

# $OUT/bench/: the objects, list.txt (NAME OBJECT EXPORT N RESULT), config.
bench_build() {
	local d=$OUT/bench name wasm export full smoke n obj expect
	rm -rf "$d"
	mkdir -p "$d"
	(cd "$ROOT" && cargo run --release -q -p kwo-bench -- --build-only ${BENCH_ONLY:+--only "$BENCH_ONLY"}) \
		> "$OUT/bench-wasm.txt" || die "kwo-bench --build-only failed (clang, wasi-libc: scripts/setup)"
	[ -s "$OUT/bench-wasm.txt" ] || die "kwo-bench --build-only listed no workload (BENCH_ONLY=${BENCH_ONLY:-})"
	command -v wat2wasm >/dev/null || die "wat2wasm missing: run tests/vm/setup.sh"
	[ "$ARCH" = x86_64 ] || command -v qemu-aarch64 >/dev/null ||
		die "qemu-aarch64 (qemu-user) missing: the host computes the arm64 objects' results with it"
	bench_source > "$d/source"
	while read -r name wasm export full smoke; do
		n=$(bench_vm_n "$name") || die "no VM size for workload $name: add it to bench_vm_n in tests/vm/bench.sh"
		[ "${BENCH_SMOKE:-}" = 1 ] && n=$smoke
		obj=$(basename "${wasm%.wasm}").kwo
		if [ ! -f "$d/$obj" ]; then
			"$KWO" compile --target $TARGET "$wasm" -o "$d/$obj" || die "kwo compile $wasm failed"
		fi
		expect=$(bench_expect "$d/$obj" "$export" "$n")
		[ -n "$expect" ] || die "host: no result for $name"
		echo "$name $obj $export $n $expect" >> "$d/list.txt"
		echo "host: $name($n) = $expect"
	done < "$OUT/bench-wasm.txt"
	wat2wasm "$HERE/objects/id.wat" -o "$d/id.wasm" || die "wat2wasm id.wat failed"
	"$KWO" compile --target $TARGET "$d/id.wasm" -o "$d/id.kwo" || die "kwo compile id.wasm failed"
	[ "$(bench_expect "$d/id.kwo" id 7)" = 7 ] || die "host: id(7) is not 7"
	cat > "$d/config" <<-EOF
	ROUNDS=$BENCH_ROUNDS SAMPLES=$BENCH_SAMPLES RT_SAMPLES=$BENCH_RT_SAMPLES RT_BATCH=$BENCH_RT_BATCH
	EOF
}

# What the report says about where it ran.
bench_machine() {
	local cpu qemu guest accel
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	[ -n "$cpu" ] || cpu=$(uname -m)
	qemu=$("${QEMU[0]}" --version | head -1 | sed 's/^QEMU emulator version //')
	guest=$(tr -d '\r' < "$OUT/console.log" | sed -n 's/.*KWO-KERNEL: //p' | head -1)
	case " ${ACCEL_ARGS[*]} " in
	*" tcg "*) accel=TCG ;;
	*kvm*) accel=KVM ;;
	*) accel="${ACCEL_ARGS[*]}" ;;
	esac
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- host: $cpu ($(nproc) cores), Linux $(uname -r)"
	echo "- guest: Linux ${guest:-?}, 1 GiB; QEMU $qemu, accelerator **$accel** (\`${ACCEL_ARGS[*]}\`)"
	echo "- guest settings: $(tr -d '\r' < "$OUT/console.log" | sed -n 's/.*KWO-BENCH-GUEST //p' | head -1)"
	echo "- objects: compiled for $TARGET on the host by kwo $(cat "$OUT/bench/source")"
	echo "- guest time of the whole run: $1 s"
}

# bench_report SECONDS: $BENCH_OUT from the console; fails when a
# measurement is missing or a result differs from the host's.
bench_report() {
	local head accel_note
	head=$(bench_machine "$1")
	accel_note="**Under QEMU TCG: ratios only, absolute times are meaningless.** TCG translates every
guest instruction, so a guest nanosecond has nothing to do with a real one, and TCG does not
even slow everything down alike (memory accesses go through its software MMU, system calls and
page-table switches cost differently): the ratios compare two paths on the same emulated CPU,
not what real hardware would show."
	case $head in *"**KVM**"*) accel_note="Under QEMU/KVM: the guest runs on the real CPU, but absolute
times still carry the virtualization overhead; the ratios are the result." ;; esac
	tr -d '\r' < "$OUT/console.log" | grep -a '^KWO-BENCH ' |
		awk -v list="$OUT/bench/list.txt" -v rounds="$BENCH_ROUNDS" \
		    -v samples="$BENCH_SAMPLES" -v rt_samples="$BENCH_RT_SAMPLES" \
		    -v rt_batch="$BENCH_RT_BATCH" -v head="$head" -v note="$accel_note" \
		    -v smoke="${BENCH_SMOKE:-}" -f "$HERE/bench-report.awk" > "$BENCH_OUT.tmp" ||
		{ rm -f "$BENCH_OUT.tmp"; return 1; }
	mv "$BENCH_OUT.tmp" "$BENCH_OUT"
	echo "report: $BENCH_OUT"
}
