#!/bin/bash
# The kernel test harness: builds kwo.ko against Debian's 6.1 amd64
# headers, a static `kwo` (musl) and the ktest client, compiles the test
# objects, packs an initramfs, boots the Debian kernel under QEMU and judges
# the console. Exit 0 = PASS. Never skips: anything missing is a FAIL.
#
#	tests/vm/run.sh				the kernel test suite
#	tests/vm/run.sh exec APP.wasm [ARGS...]	run one program in a throwaway VM
#	tests/vm/run.sh steps 'STEP' ...	only these steps of guest/suite.sh, e.g.
#						'ktest memfill /objects/mem.kwo grow 4095 1 1'
#	tests/vm/run.sh selfcheck		prove that a hang and an oops FAIL
#	tests/vm/run.sh kfuzz [SECONDS [SEED]]	the kernel fuzz loop alone, default
#						600 s, seed 1 (the suite runs it 10 s)
#	tests/vm/run.sh bench			kwo.ko against the userspace runtime:
#						benches/results/kernel.md (bench.sh)
#
# Environment: ARCH=x86_64|arm64 (arm64: run tests/vm/setup-arm64.sh
# first; suite and bench only; KWO_GUEST: a static aarch64 kwo to use
# instead of cross-building one), KWO_KO (a kwo.ko built for KVER to load
# instead of building one, e.g. by DKMS: tests/vm/packages.sh),
# ACCEL=auto|kvm|tcg (default auto: KVM if it boots, else TCG), TIMEOUT
# (seconds, default 300; bench: 1200), KWO (a static kwo binary to use instead of
# building one), KROOT (a directory holding another kernel's boot/,
# lib/modules/ and usr/src/, e.g. from tests/vm/setup-kernel.sh; default: the
# host's Debian 6.1 packages), KVER (default: the newest headers there, 6.1
# on the host), KWO_CMDLINE (more kernel command line words, e.g.
# trace_event=oom:*), KWO_TOOLCHAIN (a chroot with the compiler the kernel's
# headers name, when the host lacks it; default build/toolchains/gcc-N,
# from tests/vm/setup-kernel.sh). Run tests/vm/setup.sh and
# tests/vm/setup-perf.sh (arm64: setup-perf.sh arm64) first. Nothing is
# ever loaded into the host kernel.
set -eEuo pipefail
trap 'echo "RESULT: FAIL (harness error: line $LINENO: $BASH_COMMAND)"' ERR
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-suite}
[ $# -gt 0 ] && shift

die() { echo "RESULT: FAIL ($*)"; exit 1; }
now() { echo "$EPOCHREALTIME"; }
el() { awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $1 }"; }

ARCH=${ARCH:-x86_64}
OUT=${VM_OUT:-$ROOT/build/vm/$ARCH}	# VM_OUT: tests/vm/debug-kernel.sh
case $ARCH:$MODE in
x86_64:* | *:suite | *:bench | *:kfuzz | *:steps) ;;
*) die "$MODE needs ARCH=x86_64 (pvpanic)" ;;
esac
case $ARCH in
x86_64)
	KARCH=amd64 KMAKE=() CC=gcc STRIP=strip CONSOLE=ttyS0 TARGET=x86_64
	# No boot-time check that the IO-APIC timer ticks: under TCG on a busy
	# host it can miss its window and panic ("IO-APIC + timer doesn't
	# work!", 6.1-rt, 2026-12-06) before anything is tested.
	BOOT_ARGS=" no_timer_check"
	QEMU=(qemu-system-x86_64 -device pvpanic -action panic=exit-failure)
	TCG=(-accel tcg -cpu max)
	KROOT=${KROOT:-} ;;
arm64)
	# Objects come from the host's kwo; the guest's kwo is cross-built.
	KARCH=arm64 KMAKE=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	CC=aarch64-linux-gnu-gcc STRIP=aarch64-linux-gnu-strip CONSOLE=ttyAMA0 TARGET=aarch64
	BOOT_ARGS=
	QEMU=(qemu-system-aarch64 -M virt)
	TCG=(-accel tcg -cpu max,pauth-impdef=on)	# pauth-impdef: faster TCG
	KROOT=${KROOT:-$ROOT/build/arm64/kroot}
	[ -d "$KROOT" ] || die "no $KROOT: run tests/vm/setup-arm64.sh"
	ACCEL=tcg ;;
*) die "ARCH must be x86_64 or arm64" ;;
esac
if [ -n "$KROOT" ]; then
	KROOT=$(cd "$KROOT" && pwd)
	kpat="s/^linux-headers-\\(.*-$KARCH\\)\$/\\1/p"
else
	kpat='s/^linux-headers-\(6\.1\.[0-9.-]*-amd64\)$/\1/p'
fi
KVER=${KVER:-$(ls "$KROOT/usr/src" 2>/dev/null | sed -n "$kpat" | sort -V | tail -1)}
[ -n "$KVER" ] || die "no $KARCH kernel headers in ${KROOT:-/}usr/src: run tests/vm/setup.sh"
KDIR=$KROOT/usr/src/linux-headers-$KVER
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
MODDIR=$KROOT/lib/modules/$KVER/kernel
BUSYBOX=/bin/busybox
[ "$ARCH" = x86_64 ] || BUSYBOX=$KROOT/bin/busybox
RTARGET=x86_64-unknown-linux-musl
for tool in "${QEMU[0]}" "$CC" make cpio gzip xz timeout file openssl readelf "$BUSYBOX"; do
	command -v "$tool" >/dev/null || die "$tool missing: run tests/vm/setup.sh"
done
[ -r "$VMLINUZ" ] || die "$VMLINUZ missing: run tests/vm/setup.sh"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)	# a relative VM_OUT: kbuild runs elsewhere (make -C)

# Sets BOOT_KERNEL: for an xz-compressed x86 bzImage (Debian 6.1), the
# uncompressed vmlinux booted through PVH, which skips the decompressor
# (slow under TCG); any other kernel boots as it is.
find_kernel() {
	local v=$OUT/vmlinux-$KVER off
	BOOT_KERNEL=$VMLINUZ
	[ "$ARCH" = x86_64 ] || return 0
	if [ ! -s "$v" ]; then
		off=$({ grep -abo -m1 $'\xfd7zXZ' "$VMLINUZ" || true; } | head -1 | cut -d: -f1)
		[ -n "$off" ] || return 0
		tail -c +$((off + 1)) "$VMLINUZ" | xz -dc 2>/dev/null > "$v.tmp" || true
		[ "$(head -c 4 "$v.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
			die "could not extract vmlinux from $VMLINUZ"
		mv "$v.tmp" "$v"
	fi
	BOOT_KERNEL=$v
}

build_module() {
	rm -rf "$OUT/kmod"
	mkdir -p "$OUT/kmod"
	if [ -n "${KWO_KO:-}" ]; then
		# Built elsewhere (tests/vm/packages.sh: through DKMS): it must be
		# for the kernel booted here.
		[ -f "$KWO_KO" ] || die "KWO_KO=$KWO_KO missing"
		local vermagic
		vermagic=$(modinfo -F vermagic "$KWO_KO")
		[ "${vermagic%% *}" = "$KVER" ] || die "KWO_KO=$KWO_KO is for ${vermagic%% *}, not $KVER"
		cp "$KWO_KO" "$OUT/kmod/kwo.ko"
		echo "using KWO_KO=$KWO_KO"
		return
	fi
	find_toolchain
	# Build a copy: the checkout stays free of objects and others' builds.
	(cd "$ROOT/kmod" && find . -name '*.[chS]' -o -name Kbuild -o -name Makefile |
		cpio -pdm --quiet "$OUT/kmod")
	# No BTF for the module: pahole is not needed, and nothing reads it.
	kbuild -s -C "$KDIR" M="$OUT/kmod" "${KMAKE[@]}" CONFIG_DEBUG_INFO_BTF_MODULES= modules 2>&1 |
		grep -v 'Skipping BTF' || true
	[ -f "$OUT/kmod/kwo.ko" ] || die "kwo.ko did not build"
}

# Sets TOOLCHAIN: empty when the host has the compiler the headers name
# (.kernelvariables: "CC = ... $(CROSS_COMPILE)gcc-N"), else the chroot
# that has it (tests/vm/setup-toolchain.sh, which setup-kernel.sh runs
# for such a kernel; KWO_TOOLCHAIN: another). Debian's 7.x kernels need
# gcc-14, which a bookworm host does not have.
find_toolchain() {
	local ccv kcc
	TOOLCHAIN=
	ccv=$(sed -n 's/^CC = .*gcc-\([0-9]*\)$/\1/p' "$KDIR/.kernelvariables" 2>/dev/null || true)
	[ -n "$ccv" ] || return 0
	kcc=$TARGET-linux-gnu-gcc-$ccv
	! command -v "$kcc" >/dev/null || return 0
	TOOLCHAIN=${KWO_TOOLCHAIN:-$ROOT/build/toolchains/gcc-$ccv}
	[ -x "$TOOLCHAIN/usr/bin/$kcc" ] ||
		die "kernel $KVER needs $kcc: not on this host nor in $TOOLCHAIN (tests/vm/setup-kernel.sh makes it)"
	[ "$(id -u)" = 0 ] || die "building kwo.ko in $TOOLCHAIN needs root (chroot)"
	echo "kwo.ko: built with $kcc in $TOOLCHAIN"
}

# kbuild MAKE-ARGS...: make with the kernel's compiler, on the host or in
# TOOLCHAIN: chrooted in a private mount namespace where KROOT and the
# module's build directory are bind-mounted at their own paths (the
# headers name their other half by absolute path) and /proc is mounted
# (objtool reads it); the mounts end with the namespace.
kbuild() {
	if [ -z "$TOOLCHAIN" ]; then
		make "$@"
		return
	fi
	unshare --mount --propagation private -- bash -c '
		set -e
		tc=$1 kroot=$2 mod=$3
		shift 3
		for p in "$kroot" "$mod"; do
			mkdir -p "$tc$p"
			mount --bind "$p" "$tc$p"
		done
		mount -t proc proc "$tc/proc"
		exec chroot "$tc" env -i PATH=/usr/bin:/bin LC_ALL=C make "$@"' \
		kbuild "$TOOLCHAIN" "$KROOT" "$OUT/kmod" "$@"
}

# cargo ARGS... for the static x86_64 musl target (package kwo-loader,
# release).
musl_cargo() {
	# musl-gcc does not search /usr/include, where the kernel's uapi
	# headers (linux/types.h, used by the C core) live: offer just those.
	# One place for every run (VM_OUT, ARCH): the path is in CFLAGS, and
	# another would make cargo rebuild the C crates of the shared target.
	local inc=$ROOT/build/vm/x86_64/musl-include d
	mkdir -p "$inc"
	for d in linux asm-generic; do ln -sfn "/usr/include/$d" "$inc/$d"; done
	ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$inc/asm"
	# The C core's CPU check uses __builtin_cpu_supports (libgcc's
	# __cpu_model), and Rust links musl binaries without libgcc.
	(cd "$ROOT" && CFLAGS_x86_64_unknown_linux_musl="-isystem $inc" \
		CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-arg=-lgcc" \
		cargo "$@" --release -p kwo-loader --target $RTARGET)
}

# cargo ARGS... for a static aarch64 binary (glibc), in its own target
# directory so that it does not fight other aarch64 builds over RUSTFLAGS.
arm64_cargo() {
	(cd "$ROOT" && CARGO_TARGET_DIR=$OUT/cargo \
		CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
		CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
		CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
		cargo "$@" --release -p kwo-loader --target aarch64-unknown-linux-gnu)
}

build_clients() {
	"$CC" -static -O2 -Wall -Wextra -Werror -I"$ROOT/kmod/include/uapi" \
		-o "$OUT/ktest" "$HERE/ktest.c" || die "ktest did not build"
	"$CC" -static -O2 -Wall -Wextra -Werror -I"$ROOT/kmod/include/uapi" \
		-I"$ROOT/kmod/core" -I"$ROOT/fuzz/object" -o "$OUT/kfuzz" \
		"$HERE/kfuzz.c" "$ROOT/fuzz/object/mutate.c" -lpthread ||
		die "kfuzz did not build"
	if [ -n "${KWO:-}" ]; then
		file -L "$KWO" | grep -qE 'statically linked|static-pie linked' || die "KWO=$KWO is not a static binary"
		echo "using KWO=$KWO"
		return
	fi
	musl_cargo build -q --bin kwo || die "kwo CLI (musl) did not build"
	KWO=$ROOT/target/$RTARGET/release/kwo
}

# The kwo for an arm64 guest (KWO_GUEST, or built here).
build_guest_cli() {
	if [ -n "${KWO_GUEST:-}" ]; then
		file -L "$KWO_GUEST" | grep -q 'aarch64.*statically linked' ||
			die "KWO_GUEST=$KWO_GUEST is not a static aarch64 binary"
		return
	fi
	arm64_cargo build -q --bin kwo || die "kwo CLI (aarch64) did not build"
	KWO_GUEST=$OUT/cargo/aarch64-unknown-linux-gnu/release/kwo
}

# The spec-test harness (loader/tests/spec) as a static binary for the
# guest, where it runs with KWO_SPEC_BACKEND=kernel, and the .wast files it
# runs there (SPEC_FILES) from the spec directory the harness itself would
# use: KWO_SPEC_DIR, else shared/ beside the checkout, else the machine's.
# x86_64 builds it for musl, arm64 as a static glibc binary.
SPEC_FILES=(i32 i64 f32 f64 conversions memory call_indirect br_table traps
	address memory_trap int_exprs call fac left-to-right)
build_spec() {
	local dir f exe cargo
	for dir in "${KWO_SPEC_DIR:-}" "$ROOT/../shared/spec-testsuite" /work/shared/spec-testsuite; do
		[ -n "$dir" ] && [ -f "$dir/i32.wast" ] && break
	done
	[ -f "$dir/i32.wast" ] || die "spec testsuite not found (set KWO_SPEC_DIR)"
	rm -rf "$OUT/spec"
	mkdir -p "$OUT/spec"
	for f in "${SPEC_FILES[@]}"; do
		cp "$dir/$f.wast" "$OUT/spec/" || die "$dir/$f.wast missing"
	done
	cargo=musl_cargo
	[ "$ARCH" = x86_64 ] || cargo=arm64_cargo
	# The spec test's own artifact: the kwo binary is one too, and comes
	# last when only it was rebuilt.
	exe=$($cargo test -q --test spec --no-run --message-format=json |
		grep '"kind":\["test"\],[^}]*"name":"spec"' |
		sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1) ||
		die "spec test binary ($ARCH) did not build"
	[ -n "$exe" ] && [ -x "$exe" ] || die "spec test binary ($ARCH) did not build"
	# Debug info would only make the initramfs bigger.
	"$STRIP" -o "$OUT/spec-test" "$exe"
}

# start_section IN OUT: OUT is the command module IN with a wasm start
# section calling the function its "_start" export names, so that main runs
# while the module is instantiated (inside KWO_IOC_LOAD): wasm-ld cannot
# emit one. The section goes right after the export section, where the
# binary format orders it; the DWARF stays valid (its addresses are
# relative to the code section). One-byte function index only.
start_section() {
	local idx end
	idx=$(wasm-objdump -x -j Export "$1" | sed -n 's/.*func\[\([0-9]*\)\].* -> "_start"$/\1/p')
	end=$(wasm-objdump -h "$1" | sed -n 's/^ *Export start=.* end=0x\([0-9a-f]*\) .*/\1/p')
	[ -n "$idx" ] && [ -n "$end" ] && [ "$idx" -lt 128 ] || return 1
	{
		head -c $((0x$end)) "$1"
		printf "\\010\\001\\$(printf %03o "$idx")"	# id 8, size 1, index
		tail -c +$((0x$end + 1)) "$1"
	} > "$2"
}

# Every tests/vm/objects/*.wat: wat2wasm, then `kwo compile` with the
# static musl kwo (it runs on the host as well). The guest gets both the
# .wasm (for kwo exec) and the .kwo.
build_objects() {
	local w n
	rm -rf "$OUT/objects"
	mkdir -p "$OUT/objects"
	command -v wat2wasm >/dev/null || die "wat2wasm missing: run tests/vm/setup.sh"
	for w in "$HERE"/objects/*.wat; do
		n=$OUT/objects/$(basename "${w%.wat}")
		wat2wasm "$w" -o "$n.wasm" || die "wat2wasm $(basename "$w") failed"
		"$KWO" compile --target $TARGET "$n.wasm" -o "$n.kwo" ||
			die "kwo compile $(basename "$w") failed"
		"$KWO" check "$n.kwo" >/dev/null || die "kwo check $(basename "$w") failed"
	done
	cp "$HERE/objects/calls.txt" "$OUT/objects/"
	# Frames of 4, 12 and 24 KiB, with and without recursion (cli.sh).
	for kib in 4 12 24; do
		for rec in "" r; do
			n=$OUT/objects/frame$kib$rec
			sh "$ROOT/tests/programs/frame.sh" $kib ${rec:+recursive} >"$n.wat"
			wat2wasm "$n.wat" -o "$n.wasm" || die "wat2wasm frame$kib$rec failed"
			"$KWO" compile --target $TARGET "$n.wasm" -o "$n.kwo" ||
				die "kwo compile frame$kib$rec failed"
			"$KWO" check "$n.kwo" >/dev/null || die "kwo check frame$kib$rec failed"
			rm "$n.wat" "$n.wasm"
		done
	done
	# Real programs (scripts/setup installs clang, wasi-libc, wasm32-wasip1).
	command -v clang >/dev/null || die "clang missing: run scripts/setup"
	clang --target=wasm32-wasi -O2 -o "$OUT/objects/hello-c.wasm" "$ROOT/tests/programs/hello.c" ||
		die "clang hello.c failed (run scripts/setup)"
	rustc --target wasm32-wasip1 -O -o "$OUT/objects/hello-rs.wasm" "$ROOT/tests/programs/hello.rs" ||
		die "rustc hello.rs failed (run scripts/setup)"
	rustc --target wasm32-wasip1 -O -o "$OUT/objects/sleep-rs.wasm" "$ROOT/tests/programs/sleep.rs" ||
		die "rustc sleep.rs failed (run scripts/setup)"
	clang --target=wasm32-wasi -O2 -o "$OUT/objects/poll-c.wasm" "$ROOT/tests/programs/poll.c" ||
		die "clang poll.c failed (run scripts/setup)"
	clang --target=wasm32-wasi -O2 -o "$OUT/objects/stdio-c.wasm" "$ROOT/tests/programs/stdio.c" ||
		die "clang stdio.c failed (run scripts/setup)"
	"$CC" -static -O2 -o "$OUT/objects/stdio-native" "$ROOT/tests/programs/stdio.c" ||
		die "$CC stdio.c failed"
	# With DWARF, built from the root as a user would: its trap names
	# tests/programs/trap.c from the object's line table (cli.sh).
	(cd "$ROOT" && clang --target=wasm32-wasi -O2 -g -o "$OUT/objects/trap-c.wasm" tests/programs/trap.c) ||
		die "clang trap.c failed (run scripts/setup)"
	(cd "$ROOT" && rustc --target wasm32-wasip1 -O -g -o "$OUT/objects/trap-rs.wasm" tests/programs/trap.rs) ||
		die "rustc trap.rs failed (run scripts/setup)"
	(cd "$ROOT" && clang --target=wasm32-wasi -O2 -g -o "$OUT/objects/backtrace-c.wasm" tests/programs/backtrace.c) ||
		die "clang backtrace.c failed (run scripts/setup)"
	# main traps three calls deep in the start function (cli.sh: the
	# kernel's start-function backtrace).
	(cd "$ROOT" && clang --target=wasm32-wasi -O2 -g -o "$OUT/objects/start-trap-cmd.wasm" \
		tests/programs/start_trap.c) || die "clang start_trap.c failed (run scripts/setup)"
	start_section "$OUT/objects/start-trap-cmd.wasm" "$OUT/objects/start-trap-c.wasm" ||
		die "start_trap.c: no _start export to make the start function"
	rm "$OUT/objects/start-trap-cmd.wasm"
	for n in hello-c hello-rs sleep-rs poll-c stdio-c trap-c trap-rs backtrace-c start-trap-c; do
		"$KWO" compile --target $TARGET "$OUT/objects/$n.wasm" -o "$OUT/objects/$n.kwo" ||
			die "kwo compile $n failed"
		"$KWO" check "$OUT/objects/$n.kwo" >/dev/null || die "kwo check $n failed"
	done
	# A missing WASI import: the .wasm as it is, the .kwo with the ENOSYS stub (cli.sh).
	n=$OUT/objects/missing-import
	wat2wasm "$HERE/missing-import.wat" -o "$n.wasm" || die "wat2wasm missing-import failed"
	"$KWO" compile --allow-missing-imports --target $TARGET "$n.wasm" -o "$n.kwo" ||
		die "kwo compile missing-import failed"
	"$KWO" check "$n.kwo" >/dev/null || die "kwo check missing-import failed"
	sign_objects
}

# Signed objects for guest/sign.sh, with three keys made for this run
# (none is kept): nop.kwo signed by key 1 (kwo compile --sign), 2 (kwo
# sign) and 3; the certificates of 1 and 2 in DER for the guest's keyring.
sign_objects() {
	local d=$OUT/objects/sign keys=$OUT/sign-keys i
	rm -rf "$d" "$keys"
	mkdir -p "$d" "$keys"
	for i in 1 2 3; do
		openssl req -new -x509 -nodes -newkey rsa:2048 -days 2 \
			-subj "/CN=kwo test key $i" -keyout "$keys/k$i.pem" \
			-out "$keys/c$i.pem" 2>/dev/null || die "openssl req (key $i) failed"
	done
	for i in 1 2; do
		openssl x509 -in "$keys/c$i.pem" -outform DER -out "$d/k$i.der" ||
			die "openssl x509 (key $i) failed"
	done
	"$KWO" compile --target $TARGET --sign --key "$keys/k1.pem" --cert "$keys/c1.pem" \
		"$OUT/objects/nop.wasm" -o "$d/nop-k1.kwo" || die "kwo compile --sign failed"
	for i in 2 3; do
		"$KWO" sign --key "$keys/k$i.pem" --cert "$keys/c$i.pem" \
			"$OUT/objects/nop.kwo" -o "$d/nop-k$i.kwo" || die "kwo sign (key $i) failed"
	done
	rm -rf "$keys"
}

# perf for the guest's perf step (guest/perf.sh) in $OUT/perf/root, laid
# out as it is in the guest: the binary, its program interpreter and every
# shared library it needs (DT_NEEDED, followed), taken from SYSROOT: / on
# x86_64 (the host's perf), build/perf/arm64/root on arm64 (Debian's arm64
# linux-perf); tests/vm/setup-perf.sh installs or fetches them. Also the
# workload, perf/hot.wat, compiled with its names.
PERF_SYSROOT=
[ "$ARCH" = x86_64 ] || PERF_SYSROOT=$ROOT/build/perf/arm64/root
build_perf() {
	local bin=$PERF_SYSROOT/usr/bin/perf dest=$OUT/perf/root triplet=$TARGET-linux-gnu
	local interp queue lib dir found
	[ -x "$bin" ] || die "no perf for $ARCH at $bin: run tests/vm/setup-perf.sh ${ARCH/x86_64/}"
	rm -rf "$OUT/perf"
	mkdir -p "$dest/usr/bin" "$dest/lib/$triplet"
	cp "$(sysroot_file /usr/bin/perf)" "$dest/usr/bin/perf"
	interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
	[ -n "$interp" ] || die "$bin names no program interpreter"
	mkdir -p "$dest$(dirname "$interp")"
	cp "$(sysroot_file "$interp")" "$dest$interp"
	queue=$(needed "$bin")
	while [ -n "$queue" ]; do
		set -- $queue
		lib=$1
		shift
		queue="$*"
		[ -e "$dest/lib/$triplet/$lib" ] && continue
		found=
		for dir in "/lib/$triplet" "/usr/lib/$triplet" /lib /usr/lib; do
			[ -e "$PERF_SYSROOT$dir/$lib" ] && { found=$(sysroot_file "$dir/$lib"); break; }
		done
		[ -n "$found" ] || die "perf needs $lib: not in ${PERF_SYSROOT:-/} (run tests/vm/setup-perf.sh ${ARCH/x86_64/})"
		cp "$found" "$dest/lib/$triplet/$lib"
		queue="$queue $(needed "$found")"
	done
	wat2wasm --debug-names "$HERE/perf/hot.wat" -o "$OUT/perf/hot.wasm" || die "wat2wasm perf/hot.wat failed"
	"$KWO" compile --target $TARGET "$OUT/perf/hot.wasm" -o "$OUT/perf/hot.kwo" ||
		die "kwo compile perf/hot.wat failed"
	echo "perf for the guest: $(du -sh "$dest" | cut -f1) ($(ls "$dest/lib/$triplet" | wc -l) libraries)"
}

# needed ELF: its DT_NEEDED names.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }

# sysroot_file PATH: PATH inside PERF_SYSROOT with its symlinks followed
# there (an absolute link target is taken inside the sysroot too).
sysroot_file() {
	local p=$1 t n=0
	while [ -L "$PERF_SYSROOT$p" ] && [ $n -lt 40 ]; do
		t=$(readlink "$PERF_SYSROOT$p")
		case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		n=$((n + 1))
	done
	echo "$PERF_SYSROOT$p"
}

pack_initramfs() {
	local r=$OUT/root n=0 m
	rm -rf "$r"
	mkdir -p "$r"/{bin,proc,sys,dev,preload}
	cp "$BUSYBOX" "$r/bin/busybox"
	cp "$HERE/guest/init" "$HERE/guest/suite.sh" "$HERE/guest/cli.sh" \
		"$HERE/guest/stdio.sh" "$HERE/guest/sign.sh" "$HERE/guest/obs.sh" "$r/"
	cp "$OUT/kmod/kwo.ko" "$r/"
	cp "$OUT/ktest" "$OUT/kfuzz" "$r/bin/"
	cp "${KWO_GUEST:-$KWO}" "$r/bin/kwo"
	cp -r "$OUT/objects" "$r/objects"
	if [ -n "${WITH_SPEC:-}" ]; then
		cp "$OUT/spec-test" "$r/bin/"
		cp -r "$OUT/spec" "$r/spec"
	fi
	# pvpanic: a guest panic makes QEMU exit non-zero instead of 0.
	local pv=()
	[ "$ARCH" = x86_64 ] && pv=(misc/pvpanic/pvpanic.ko misc/pvpanic/pvpanic-mmio.ko)
	for m in "${pv[@]}"; do
		n=$((n + 1))
		if [ -e "$MODDIR/drivers/$m" ]; then
			cp "$MODDIR/drivers/$m" "$r/preload/$n-${m##*/}"
		elif [ -e "$MODDIR/drivers/$m.xz" ]; then
			xz -dc "$MODDIR/drivers/$m.xz" > "$r/preload/$n-${m##*/}"
		else
			die "$MODDIR/drivers/$m missing"
		fi
	done
	[ -n "${EXEC_DIR:-}" ] && cp -r "$EXEC_DIR"/. "$r/"
	if [ -n "${WITH_PERF:-}" ]; then
		cp -r "$OUT/perf/root"/. "$r/"
		mkdir -p "$r/perf"
		cp "$OUT/perf/hot.kwo" "$r/perf/"
		cp "$HERE/guest/perf.sh" "$r/"
	fi
	if [ -n "${BENCH_DIR:-}" ]; then
		cp -r "$BENCH_DIR" "$r/bench"
		cp "$HERE/guest/bench.sh" "$r/"
	fi
	(cd "$r" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$OUT/initramfs.cpio.gz"
}

# boot TIMEOUT LOG CMDLINE-WORDS ACCEL-ARGS... -> QEMU's exit code (124: timeout)
boot() {
	local to=$1 log=$2 words=$3
	shift 3
	timeout --foreground -k 5 "$to" "${QEMU[@]}" "$@" \
		-smp 2 -m 1G -nographic -no-reboot -nic none \
		-kernel "$BOOT_KERNEL" -initrd "$OUT/initramfs.cpio.gz" \
		-append "console=$CONSOLE panic=-1 oops=panic quiet$BOOT_ARGS $words" \
		</dev/null >"$log" 2>&1
}

pick_accel() {
	local rc=0
	find_kernel
	case ${ACCEL:-auto} in
	tcg) ACCEL_ARGS=("${TCG[@]}") ;;
	kvm) ACCEL_ARGS=(-enable-kvm -cpu host) ;;
	auto)
		ACCEL_ARGS=("${TCG[@]}")
		if [ -w /dev/kvm ]; then
			# A broken KVM may abort QEMU: keep the shell's report quiet.
			(boot 20 "$OUT/probe.log" kwo_probe=1 -enable-kvm -cpu host) 2>/dev/null || rc=$?
			if [ $rc -eq 0 ] && grep -aq KWO-PROBE-OK "$OUT/probe.log"; then
				ACCEL_ARGS=(-enable-kvm -cpu host)
			else
				echo "KVM probe failed (qemu rc=$rc): using TCG"
			fi
		fi ;;
	*) die "ACCEL must be auto, kvm or tcg" ;;
	esac
}

KERNEL_REPORT='Kernel panic|Oops|BUG:|WARNING:|Call [Tt]race'

# judge LOG RC -> prints the verdict, returns 0 for PASS
judge() {
	local log=$1 rc=$2 verdict=PASS
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL: timed out after ${TIMEOUT}s"; verdict=FAIL
	elif [ "$rc" -ne 0 ]; then
		echo "FAIL: qemu exited $rc (guest panic?)"; verdict=FAIL
	fi
	grep -aq 'KWO-RESULT: PASS' "$log" || { echo "FAIL: no PASS marker"; verdict=FAIL; }
	local bad="$KERNEL_REPORT|KWO-RESULT: FAIL|KWO-STEP-FAILED|KTEST FAIL"
	if grep -aqE "$bad" "$log"; then
		echo "FAIL: panic/oops/WARNING/failed step in the console log:"
		# Again next to the verdict: CI shows only the tail of the output.
		grep -aE -B2 "$bad" "$log" | tr -d '\r' | head -40 | sed 's/^/    /'
		verdict=FAIL
	fi
	grep -aq 'reboot: Power down' "$log" || { echo "FAIL: no clean power-off"; verdict=FAIL; }
	[ $verdict = PASS ]
}

# report_before_kwo LOG -> 0 when the kernel reported a bug before /init
# inserted kwo.ko, printing that report in full.
report_before_kwo() {
	local log=$1 first ins
	first=$(grep -anE "$KERNEL_REPORT" "$log" | head -1 | cut -d: -f1)
	ins=$(grep -an 'KWO-STEP: insmod /kwo.ko' "$log" | head -1 | cut -d: -f1)
	[ -n "$first" ] && { [ -z "$ins" ] || [ "$first" -lt "$ins" ]; } || return 1
	echo "the kernel reported a bug before kwo.ko was loaded; its report:"
	tr -d '\r' < "$log" | sed -n "$((first > 3 ? first - 3 : 1)),$((first + 60))p" | sed 's/^/    /'
}

run_vm() { # run_vm CMDLINE-WORDS -> 0 for PASS
	local t rc=0 try
	for try in 1 2; do
		rc=0
		t=$(now)
		boot "$TIMEOUT" "$OUT/console.log" "$1 ${KWO_CMDLINE:-}" "${ACCEL_ARGS[@]}" || rc=$?
		echo "boot+test+poweroff ($ARCH, ${ACCEL_ARGS[*]}): $(el "$t")s, qemu rc=$rc"
		tr -d '\r' < "$OUT/console.log" |
			grep -aE 'KWO|KTEST|kwo|\.wast: |^spec: |^    FAIL|Kernel panic|Oops|BUG|WARNING|Power down' || true
		judge "$OUT/console.log" "$rc" && return 0
		# Not kwo's bug, but it spoils the run (taint, lockdep off): one
		# fresh boot, whose verdict stands, and the report stays printed.
		[ $try = 1 ] && report_before_kwo "$OUT/console.log" || return 1
		cp "$OUT/console.log" "$OUT/console-pre-kwo-report.log"
		echo "RETRY: booting once more ($OUT/console-pre-kwo-report.log keeps the first boot)"
	done
}

[ "$MODE" = bench ] && TIMEOUT=${TIMEOUT:-1200}
[ "$MODE" = kfuzz ] && TIMEOUT=${TIMEOUT:-$((${1:-600} + 300))}
TIMEOUT=${TIMEOUT:-600}
t=$(now)
build_module
build_clients
[ "$ARCH" = x86_64 ] || build_guest_cli
echo "build: $(el "$t")s (kernel $KVER, $ARCH)"
case $MODE in
suite)
	build_objects
	build_spec
	build_perf
	WITH_SPEC=1 WITH_PERF=1 pack_initramfs
	pick_accel
	if run_vm ""; then echo "RESULT: PASS (kernel suite)"; else echo "RESULT: FAIL (kernel suite)"; exit 1; fi ;;
exec)
	[ $# -ge 1 ] || die "usage: $0 exec APP.wasm|APP.kwo [ARGS...]"
	EXEC_DIR=$OUT/exec
	rm -rf "$EXEC_DIR" "$OUT/objects"
	mkdir -p "$EXEC_DIR" "$OUT/objects"
	case $1 in
	*.kwo) cp "$1" "$EXEC_DIR/app.kwo"; cmd="kwo run --kernel /app.kwo" ;;
	*) cp "$1" "$EXEC_DIR/app.wasm"; cmd="kwo exec /app.wasm" ;;
	esac
	shift
	{
		printf 'echo KWO-EXEC-BEGIN\n'
		printf '%s' "$cmd"
		printf ' %q' "$@"
		printf '\nrc=$?\necho "KWO-EXEC-END rc=$rc"\n'
		printf '[ $rc -eq 0 ] || { echo "KWO-STEP-FAILED: program exited $rc"; fail=1; }\n'
	} > "$EXEC_DIR/run.sh"
	pack_initramfs
	pick_accel
	rc=0
	run_vm kwo_exec=1 >"$OUT/verdict.txt" || rc=$?
	echo "---- program output (in the VM) ----"
	tr -d '\r' < "$OUT/console.log" | sed -n '/^KWO-EXEC-BEGIN/,/^KWO-EXEC-END/p' | sed '1d;$d'
	echo "------------------------------------"
	grep -E '^(boot|FAIL)' "$OUT/verdict.txt" || true
	if [ $rc -eq 0 ]; then echo "RESULT: PASS (exec)"; else echo "RESULT: FAIL (exec; $OUT/console.log)"; exit 1; fi ;;
bench)
	# Timings, not tests: see tests/vm/bench.sh.
	. "$HERE/bench.sh"
	rm -rf "$OUT/objects"
	mkdir -p "$OUT/objects"
	bench_build
	BENCH_DIR=$OUT/bench pack_initramfs
	pick_accel
	rc=0
	t=$(now)
	run_vm kwo_bench=1 >"$OUT/verdict.txt" || rc=$?
	secs=$(el "$t")
	grep -vE '^KWO-BENCH ' "$OUT/verdict.txt" || true
	[ $rc -eq 0 ] || { echo "RESULT: FAIL (bench; $OUT/console.log)"; exit 1; }
	bench_report "$secs" || die "bench: a measurement is missing or a result is wrong ($OUT/console.log)"
	sed -n '/^| workload/,$p' "$BENCH_OUT"
	echo "RESULT: PASS (bench, ${secs}s in the VM)" ;;
steps)
	# A few steps of the suite, each a command line as guest/suite.sh
	# gives it to step (its objects are there; no spec tests), judged as
	# the suite is: a quick way to rerun one.
	[ $# -ge 1 ] || die "usage: $0 steps 'STEP' ..."
	EXEC_DIR=$OUT/exec
	rm -rf "$EXEC_DIR"
	mkdir -p "$EXEC_DIR"
	for s in "$@"; do printf 'step %s\n' "$s"; done > "$EXEC_DIR/run.sh"
	build_objects
	build_perf
	WITH_PERF=1 pack_initramfs
	pick_accel
	if run_vm kwo_exec=1; then echo "RESULT: PASS (steps)"; else echo "RESULT: FAIL (steps)"; exit 1; fi ;;
kfuzz)
	# fuzz/README.md's kernel target: tests/vm/kfuzz.c for SECONDS on
	# the suite's objects, then the same kernel-log checks as the suite.
	build_objects
	pack_initramfs
	pick_accel
	if run_vm "kwo_kfuzz=${1:-600} kwo_kfuzz_seed=${2:-1}"; then
		echo "RESULT: PASS (kfuzz)"
	else
		echo "RESULT: FAIL (kfuzz; $OUT/console.log)"; exit 1
	fi ;;
selfcheck)
	# A hang must be caught by the timeout, an oops by pvpanic (QEMU's
	# exit status), both judged FAIL; an oops before kwo.ko is loaded gets
	# a second boot, which fails too.
	mkdir -p "$OUT/objects"
	pack_initramfs
	pick_accel
	ok=1
	for check in "kwo_hang=1:FAIL: timed out" "kwo_oops=1:FAIL: qemu exited" \
		"kwo_oops=early:RETRY: booting once more"; do
		words=${check%%:*} reason=${check#*:}
		TIMEOUT=30
		if run_vm "$words" >"$OUT/selfcheck.txt"; then
			echo "selfcheck: $words was judged PASS"; ok=0
		elif ! grep -q "$reason" "$OUT/selfcheck.txt"; then
			echo "selfcheck: $words failed, but not with '$reason'"; ok=0
		else
			echo "selfcheck: $words judged FAIL ($reason), as it must be"
		fi
	done
	[ $ok = 1 ] && echo "RESULT: PASS (selfcheck)" || { echo "RESULT: FAIL (selfcheck)"; exit 1; } ;;
*)
	die "unknown mode $MODE" ;;
esac
