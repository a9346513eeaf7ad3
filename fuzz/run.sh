#!/bin/bash
# Run one fuzz target under libFuzzer (nightly, cargo-fuzz) for DURATION
# seconds, then append its numbers to README.md's results table: executions,
# executions per second, coverage (libFuzzer's cov/ft), corpus size and the
# crash files left in artifacts/TARGET/. The corpus grows in corpus/TARGET
# (not committed); seeds/TARGET is read too. Installs the nightly toolchain
# and cargo-fuzz when missing (scripts/setup does not: CI needs neither).
# The object target is C: object/Makefile builds it with clang's libFuzzer
# (no nightly needed). The kernel target runs in the VM instead:
# KFUZZ_SECONDS=N tests/vm/run.sh kfuzz (see README.md).
#   fuzz/run.sh verify 600
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -ne 2 ]; then
	echo "usage: $0 verify|compile|differential|object SECONDS" >&2
	exit 2
fi
target=$1
duration=$2
[ -f "fuzz_targets/$target.rs" ] || [ "$target" = object ] ||
	{ echo "run.sh: no target $target" >&2; exit 2; }

if [ "$target" = object ]; then
	make -s -C object fuzz OUT="$PWD/../target/fuzz-object"
else
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
fi

mkdir -p "corpus/$target" "artifacts/$target"
crashes_before=$(find "artifacts/$target" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
log="artifacts/$target/run-$(date -u +%Y%m%dT%H%M%SZ).log"
# -timeout: a single input running this long is a finding (the targets bound
# their own loops with fuel); -rss_limit_mb: the machine is shared.
status=0
flags=(-max_total_time="$duration" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1)
if [ "$target" = object ]; then
	../target/fuzz-object/object-fuzz "${flags[@]}" \
		-artifact_prefix="artifacts/$target/" "corpus/$target" "seeds/$target" \
		>"$log" 2>&1 || status=$?
else
	cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
		"${flags[@]}" >"$log" 2>&1 || status=$?
fi

# A run that stops on its first input prints no stats: "?" then.
stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
last_counter() { { grep -o "$1: [0-9]*" "$log" || true; } | tail -1 | cut -d' ' -f2; }
execs=$(stat number_of_executed_units)
per_s=$(stat average_exec_per_sec)
cov=$(last_counter cov)
ft=$(last_counter ft)
corpus=$(find "corpus/$target" -type f | wc -l)
crashes_after=$(find "artifacts/$target" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
found=$((crashes_after - crashes_before))
findings="none"
[ "$found" -eq 0 ] || findings="$found new in artifacts/$target (see $log)"
[ "$status" -eq 0 ] || [ "$found" -ne 0 ] || findings="run failed (exit $status, see $log)"

printf '| %s | %s | %s s | %s | %s | %s | %s | %s | %s |\n' \
	"$(date -u +%Y-%m-%d)" "$target" "$duration" "${execs:-?}" "${per_s:-?}" \
	"${cov:-?}" "${ft:-?}" "$corpus" "$findings" >>README.md
tail -1 README.md
exit "$status"
