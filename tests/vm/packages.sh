#!/bin/bash
# The Debian packages, built and used as a user would (issue 14, item 6):
#  1. packaging/build-debs.sh builds kwo_*.deb and kwo-dkms_*.deb;
#  2. kwo_*.deb is installed on this machine (dpkg -i) and the installed
#     /usr/bin/kwo compiles and runs a module;
#  3. kwo-dkms_*.deb is unpacked (not installed: its postinst would build
#     for the host's own kernel and add a group) and its /usr/src/kwo-VERSION
#     goes through the real `dkms build` against KVER's headers (default:
#     the host's Debian 6.1 amd64 headers, the kernel tests/vm/run.sh
#     boots), in a private DKMS tree;
#  4. the kwo.ko DKMS built is copied to build/vm/dkms/kwo-KVER.ko, whose
#     path is the last line printed: `KWO_KO=... tests/vm/run.sh` loads
#     that module in the VM and runs the suite on it (scripts/test does).
# Nothing is loaded into the host kernel. Exit 0 = PASS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "packages: FAIL: $*" >&2; exit 1; }
for tool in dkms dpkg-deb dpkg-shlibdeps modinfo; do
	command -v $tool >/dev/null || die "$tool missing: run scripts/setup"
done
KVER=${KVER:-$(ls /usr/src | sed -n 's/^linux-headers-\(6\.1\.[0-9.-]*-amd64\)$/\1/p' | sort -V | tail -1)}
KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
[ -e "$KDIR/Makefile" ] || die "no headers for ${KVER:-6.1 amd64} in $KDIR: run tests/vm/setup.sh"
W=$ROOT/build/vm/dkms
rm -rf "$W"
mkdir -p "$W/tree"

mapfile -t debs < <("$ROOT/packaging/build-debs.sh") || die "build-debs.sh failed"
[ ${#debs[@]} -eq 2 ] || die "build-debs.sh did not name two packages"
VERSION=$(dpkg-deb -f "${debs[0]}" Version)

# 2. The CLI package, installed for real.
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO dpkg -i "${debs[0]}" >/dev/null || die "dpkg -i ${debs[0]} failed"
[ "$(dpkg-query -W -f='${Status} ${Version}' kwo)" = "install ok installed $VERSION" ] ||
	die "dpkg does not list kwo $VERSION as installed"
printf '(module (func (export "add") (param i32 i32) (result i32)\n'`
	`'local.get 0 local.get 1 i32.add))\n' > "$W/add.wat"
/usr/bin/kwo compile "$W/add.wat" -o "$W/add.kwo" || die "installed kwo compile failed"
out=$(/usr/bin/kwo run --invoke add "$W/add.kwo" 40 2) || die "installed kwo run failed"
[ "$out" = 42 ] || die "installed kwo: add 40 2 gave '$out', not 42"
echo "packages: kwo $VERSION installed; /usr/bin/kwo compiled and ran add(40, 2) = 42"

# 3. The module package's source through DKMS.
dpkg-deb -x "${debs[1]}" "$W/root"
for f in usr/src/kwo-$VERSION/dkms.conf usr/lib/udev/rules.d/60-kwo.rules; do
	[ -f "$W/root/$f" ] || die "kwo-dkms lacks /$f"
done
grep -q 'GROUP="kwo", MODE="0660"' "$W/root/usr/lib/udev/rules.d/60-kwo.rules" ||
	die "the udev rule does not give /dev/kwo to the kwo group"
nice -n 10 dkms build -m kwo -v "$VERSION" -k "$KVER" --kernelsourcedir "$KDIR" \
	--sourcetree "$W/root/usr/src" --dkmstree "$W/tree" >"$W/dkms.log" 2>&1 ||
	{ tail -20 "$W/dkms.log" >&2; die "dkms build kwo/$VERSION for $KVER failed ($W/dkms.log)"; }
ko=$(find "$W/tree/kwo/$VERSION/$KVER" -name kwo.ko | head -1)
[ -n "$ko" ] || die "dkms build left no kwo.ko ($W/dkms.log)"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$KVER" ] || die "DKMS's kwo.ko is for '${vermagic%% *}', not $KVER"
cp "$ko" "$W/kwo-$KVER.ko"
echo "packages: dkms build kwo/$VERSION for $KVER: PASS"
echo "$W/kwo-$KVER.ko"
