#!/bin/bash
# A debug kernel for the x86_64 VM suite: Debian's linux-source-6.1 built
# with KASAN (generic, inline, vmalloc), lockdep (PROVE_LOCKING,
# DEBUG_ATOMIC_SLEEP) and kmemleak, from tinyconfig plus what the suite and
# kwo.ko need (tests/vm/debug-kernel.config), laid out as a KROOT for
# tests/vm/run.sh; then the suite on it.
#
#	tests/vm/debug-kernel.sh		build if needed, then run the suite
#	tests/vm/debug-kernel.sh build		build only
#	tests/vm/debug-kernel.sh selfcheck	prove that a KASAN report, a
#						lockdep splat and a kmemleak leak
#						each fail a run (debug-bugs.c)
#	KROOT=build/kdebug/kroot TIMEOUT=1200 tests/vm/run.sh   by hand
#
# Idempotent: installs only missing packages (apt-get, no recommends),
# unpacks the source once, rebuilds only what make finds stale (a changed
# config fragment regenerates .config first). Everything goes to
# build/kdebug/: linux-source-6.1/ (pristine source), obj/ (O= build
# tree, also the headers kwo.ko builds against), kroot/ (boot/,
# lib/modules/, usr/src/ as run.sh expects). JOBS (default: nproc) sets
# make -j; TIMEOUT (default 1200 s) is passed to run.sh, since KASAN and
# lockdep under TCG make the suite several times slower.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
D=$ROOT/build/kdebug
SRC=$D/linux-source-6.1
OBJ=$D/obj
KROOT=$D/kroot
FRAG=$HERE/debug-kernel.config
MODE=${1:-all}
export DEBIAN_FRONTEND=noninteractive

case $MODE in all | build | selfcheck) ;; *) echo "usage: $0 [build|selfcheck]" >&2; exit 2 ;; esac
now() { echo "$EPOCHREALTIME"; }
el() { awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $1 }"; }

# Packages: the source and the kernel's build dependencies (kmod: depmod).
missing=
for p in linux-source-6.1 bc flex bison libelf-dev libssl-dev make gcc cpio gzip kmod; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	# shellcheck disable=SC2086
	$sudo apt-get install -y -q --no-install-recommends $missing 2>/dev/null || {
		$sudo apt-get update -q
		$sudo apt-get install -y -q --no-install-recommends $missing
	}
fi

t0=$(now)
mkdir -p "$D"
if [ ! -f "$SRC/Makefile" ]; then
	rm -rf "$SRC" "$D/unpack"
	mkdir -p "$D/unpack"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$D/unpack"
	mv "$D/unpack/linux-source-6.1" "$SRC"
	rmdir "$D/unpack"
fi
KV=$(make -s -C "$SRC" kernelversion)
LV=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$FRAG")
KVER=$KV$LV
MK=(make -s -C "$SRC" O="$OBJ" ARCH=x86_64 -j"${JOBS:-$(nproc)}")

# .config = tinyconfig + the fragment, regenerated when the fragment
# changes; every option of the fragment must survive olddefconfig.
mkdir -p "$OBJ"
if ! cmp -s "$FRAG" "$OBJ/.frag"; then
	rm -f "$OBJ/.frag"
	"${MK[@]}" tinyconfig >/dev/null
	(cd "$OBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" .config "$FRAG" >merge.log 2>&1)
	"${MK[@]}" olddefconfig >/dev/null
	bad=0
	while read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$OBJ/.config" || { echo "debug-kernel: $line did not stick"; bad=1; } ;;
		'# CONFIG_'*' is not set') opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$OBJ/.config" || { echo "debug-kernel: $line did not stick"; bad=1; } ;;
		esac
	done < "$FRAG"
	[ $bad -eq 0 ] || exit 1
	cp "$FRAG" "$OBJ/.frag"
fi

t=$(now)
"${MK[@]}" bzImage modules
echo "debug-kernel: make bzImage modules: $(el "$t") s"

# The KROOT: boot/vmlinuz-KVER, lib/modules/KVER (pvpanic modules),
# usr/src/linux-headers-KVER -> the O= tree (an external module builds
# against it like against Debian's headers).
mkdir -p "$KROOT/boot" "$KROOT/usr/src"
cp "$OBJ/arch/x86/boot/bzImage" "$KROOT/boot/vmlinuz-$KVER.tmp"
mv "$KROOT/boot/vmlinuz-$KVER.tmp" "$KROOT/boot/vmlinuz-$KVER"
rm -rf "$KROOT/lib/modules/$KVER"
"${MK[@]}" INSTALL_MOD_PATH="$KROOT" modules_install >/dev/null
ln -sfn "$OBJ" "$KROOT/usr/src/linux-headers-$KVER"
echo "debug-kernel: kernel $KVER in $KROOT ($(el "$t0") s)"

[ "$MODE" = build ] && exit 0
# Its own output directory: a concurrent run.sh on Debian's kernel uses
# build/vm/x86_64 (kwo.ko built against another kernel).
VM_OUT=${VM_OUT:-$ROOT/build/vm/x86_64-kdebug}
RUN=(env KROOT="$KROOT" KVER="$KVER" VM_OUT="$VM_OUT" "$HERE/run.sh")
[ "$MODE" = all ] && exec env TIMEOUT="${TIMEOUT:-1200}" "${RUN[@]}"

# selfcheck: run.sh's own selfcheck (a hang and an oops FAIL) on this
# kernel; it leaves the guest's root in $VM_OUT/root (/init, busybox,
# kwo.ko). Then one boot per deliberate bug (tests/vm/debug-bugs.c, built
# three times), loaded by /init from /preload like pvpanic, with run.sh's
# QEMU command line; each must end the way run.sh judges FAIL: the KASAN
# report panics (panic_on_warn) and QEMU exits non-zero through pvpanic,
# the lockdep splat and the leak fail /init's checks (no PASS marker).
"${RUN[@]}" selfcheck
B=$D/bugs
rm -rf "$B"
mkdir -p "$B"
for b in kasan lockdep leak; do
	cp "$HERE/debug-bugs.c" "$B/kwo_bug_$b.c"
	echo "CFLAGS_kwo_bug_$b.o := -DBUG_${b^^}" >> "$B/Kbuild"
done
echo "obj-m := kwo_bug_kasan.o kwo_bug_lockdep.o kwo_bug_leak.o" >> "$B/Kbuild"
"${MK[@]}" M="$B" modules
ok=1
for check in "kasan:BUG: KASAN: slab-out-of-bounds" \
	"lockdep:WARNING: possible circular locking dependency" \
	"leak:KWO-STEP-FAILED: kmemleak"; do
	b=${check%%:*} want=${check#*:}
	r=$B/root-$b
	rm -rf "$r"
	cp -a "$VM_OUT/root" "$r"
	cp "$B/kwo_bug_$b.ko" "$r/preload/9-kwo_bug_$b.ko"
	echo 'echo "KWO: debug-kernel selfcheck"' > "$r/run.sh"
	(cd "$r" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$B/initramfs-$b.gz"
	rc=0
	timeout --foreground -k 5 600 qemu-system-x86_64 -device pvpanic -action panic=exit-failure \
		-accel tcg -cpu max -smp 2 -m 1G -nographic -no-reboot -nic none \
		-kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$B/initramfs-$b.gz" \
		-append "console=ttyS0 panic=-1 oops=panic quiet kwo_exec=1" \
		</dev/null >"$B/console-$b.log" 2>&1 || rc=$?
	tr -d '\r' < "$B/console-$b.log" > "$B/console-$b.txt"
	if ! grep -aq "$want" "$B/console-$b.txt"; then
		echo "selfcheck: $b: no '$want' on the console ($B/console-$b.txt)"; ok=0
	elif [ "$b" = kasan ] && [ $rc -eq 0 ]; then
		echo "selfcheck: $b: QEMU exited 0"; ok=0
	elif [ "$b" != kasan ] && ! grep -aq 'KWO-RESULT: FAIL' "$B/console-$b.txt"; then
		echo "selfcheck: $b: no KWO-RESULT: FAIL"; ok=0
	else
		echo "selfcheck: $b: '$want', qemu rc=$rc: judged FAIL, as it must be"
	fi
done
[ $ok = 1 ] && echo "RESULT: PASS (debug-kernel selfcheck)" ||
	{ echo "RESULT: FAIL (debug-kernel selfcheck)"; exit 1; }
