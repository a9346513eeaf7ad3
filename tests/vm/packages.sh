#!/bin/bash
# The Debian packages, built, installed and used as a user would (issue
# 14, item 6), without changing the host:
#  1. packaging/build-debs.sh builds kwo_*.deb and kwo-dkms_*.deb;
#  2. both are installed with dpkg in a chroot that is a copy-on-write
#     overlay of this machine's own root (a private mount namespace; every
#     write lands in build/vm/dkms/overlay, thrown away after): kwo-dkms's
#     postinst adds the kwo group and has the real DKMS build and install
#     kwo.ko for every kernel there with headers (on CI: the Debian 6.1
#     amd64 headers tests/vm/setup.sh installs, the kernel run.sh boots);
#  3. in the chroot: /usr/bin/kwo compiles and runs a module, the group
#     and the udev rule exist, dkms lists kwo installed for KVER, and
#     `dpkg -r kwo-dkms` takes kwo.ko out of DKMS again;
#  4. the kwo.ko DKMS installed is copied to build/vm/dkms/kwo-KVER.ko,
#     whose path is all it prints on stdout (the rest goes to stderr): `KWO_KO=... tests/vm/run.sh`
#     loads it in the VM and runs the suite on it (scripts/test does).
# Needs root (mount namespace, overlayfs, chroot). Nothing is loaded into
# the host kernel. Exit 0 = PASS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "packages: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (an overlay chroot of /)"
for tool in dkms dpkg-deb dpkg-shlibdeps unshare chroot; do
	command -v $tool >/dev/null || die "$tool missing: run scripts/setup"
done
KVER=${KVER:-$(ls /usr/src | sed -n 's/^linux-headers-\(6\.1\.[0-9.-]*-amd64\)$/\1/p' | sort -V | tail -1)}
[ -n "$KVER" ] && [ -e "/lib/modules/$KVER/build/Makefile" ] ||
	die "no headers for ${KVER:-6.1 amd64} in /lib/modules: run tests/vm/setup.sh"
W=$ROOT/build/vm/dkms
rm -rf "$W"
mkdir -p "$W/overlay/upper" "$W/overlay/work" "$W/overlay/root" "$W/debs"

OUT=$W/debs "$ROOT/packaging/build-debs.sh" >/dev/null || die "build-debs.sh failed"
VERSION=$(dpkg-deb -f "$W"/debs/kwo_*.deb Version)

# Runs in the chroot, as a user's shell would.
cat > "$W/debs/check.sh" <<EOF
set -eu
fail() { echo "packages: FAIL: \$*" >&2; exit 1; }
dpkg -i /tmp/debs/kwo_*.deb /tmp/debs/kwo-dkms_*.deb >/tmp/debs/dpkg.log 2>&1 ||
	{ tail -20 /tmp/debs/dpkg.log >&2; fail "dpkg -i failed"; }
for p in kwo kwo-dkms; do
	[ "\$(dpkg-query -W -f='\${Status} \${Version}' \$p)" = "install ok installed $VERSION" ] ||
		fail "dpkg does not list \$p $VERSION as installed"
done
printf '(module (func (export "add") (param i32 i32) (result i32)\n local.get 0 local.get 1 i32.add))\n' > /tmp/add.wat
kwo compile /tmp/add.wat -o /tmp/add.kwo || fail "installed kwo compile failed"
[ "\$(kwo run --invoke add /tmp/add.kwo 40 2)" = 42 ] || fail "installed kwo: add(40, 2) is not 42"
getent group kwo >/dev/null || fail "postinst added no kwo group"
grep -q 'GROUP="kwo", MODE="0660"' /usr/lib/udev/rules.d/60-kwo.rules ||
	fail "the udev rule does not give /dev/kwo to the kwo group"
dkms status -m kwo -v $VERSION -k $KVER | grep -q ': installed' || fail "dkms: kwo/$VERSION not installed for $KVER"
ko=/lib/modules/$KVER/updates/dkms/kwo.ko
[ -f "\$ko" ] || fail "no \$ko"
cp "\$ko" /tmp/debs/kwo.ko
modprobe -n -v kwo -S $KVER | grep -q updates/dkms/kwo.ko || fail "modprobe -S $KVER would not find DKMS's kwo.ko"
dpkg -r kwo-dkms >>/tmp/debs/dpkg.log 2>&1 || fail "dpkg -r kwo-dkms failed"
[ ! -e "\$ko" ] || fail "kwo.ko is still installed after dpkg -r kwo-dkms"
! dkms status -m kwo | grep -q . || fail "kwo is still in DKMS after dpkg -r kwo-dkms"
echo "packages: in the chroot: kwo and kwo-dkms $VERSION installed, kwo ran add(40, 2) = 42," \
	"group kwo, udev rule, dkms built and installed kwo.ko for $KVER, dpkg -r removed it" >&2
EOF
O=$W/overlay
# shellcheck disable=SC2016 # expanded by the inner shell
nice -n 10 unshare -m --propagation private sh -ec '
	o=$1 debs=$2
	mount -t overlay overlay -o "lowerdir=/,upperdir=$o/upper,workdir=$o/work" "$o/root"
	mount -t proc proc "$o/root/proc"
	mount --rbind /dev "$o/root/dev"
	mount -t tmpfs tmpfs "$o/root/tmp"
	mkdir "$o/root/tmp/debs"
	mount --bind "$debs" "$o/root/tmp/debs"
	chroot "$o/root" sh /tmp/debs/check.sh' sh "$O" "$W/debs" ||
	die "the packages did not install or work in the chroot (logs in $W/debs)"
# The overlay's copy goes away with it.
rm -rf "$O"
cp "$W/debs/kwo.ko" "$W/kwo-$KVER.ko"
vermagic=$(modinfo -F vermagic "$W/kwo-$KVER.ko")
[ "${vermagic%% *}" = "$KVER" ] || die "DKMS's kwo.ko is for '${vermagic%% *}', not $KVER"
echo "packages: PASS" >&2
echo "$W/kwo-$KVER.ko"
