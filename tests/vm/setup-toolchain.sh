#!/bin/bash
# A compiler this host does not have, for building kwo.ko against a kernel
# whose headers name it (Debian's 7.x kernels: gcc-14; bookworm has only
# gcc-12): a minimal Debian chroot of SUITE with gcc-N, its aarch64 cross
# compiler, make and the libraries the kernel's kbuild tools link
# against, made by mmdebstrap from MIRROR into build/toolchains/gcc-N.
# Nothing is installed on the host but mmdebstrap itself (apt-get, no
# recommends, when missing). tests/vm/run.sh builds kwo.ko inside it
# (unshare + chroot, the checkout's build/ bind-mounted at its own path)
# when the host lacks the compiler the headers ask for.
#
#	tests/vm/setup-toolchain.sh 14 trixie http://MIRROR/debian [PACKAGES...]
#
# PACKAGES: more packages for the chroot (setup-kernel.sh passes what the
# kernel's linux-kbuild package depends on). Prints the chroot's path as
# its last line. Idempotent: a chroot that has every package is kept, one
# that misses some is made again (about a minute, 250 MB).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CCV=${1:?usage: $0 GCC-VERSION SUITE MIRROR [PACKAGES...]}
SUITE=${2:?usage: $0 GCC-VERSION SUITE MIRROR [PACKAGES...]}
MIRROR=${3:?usage: $0 GCC-VERSION SUITE MIRROR [PACKAGES...]}
shift 3
die() { echo "setup-toolchain: $*" >&2; exit 1; }

TC=$ROOT/build/toolchains/gcc-$CCV
# make for kbuild, libc6-dev for the compiler's own checks, dpkg for the
# headers' DEB_BUILD_ARCH; the kbuild tools' libraries come as PACKAGES.
PKGS=$(printf '%s\n' "gcc-$CCV" "gcc-$CCV-aarch64-linux-gnu" make libc6-dev dpkg "$@" |
	sort -u | paste -sd,)

if [ -x "$TC/usr/bin/x86_64-linux-gnu-gcc-$CCV" ] &&
	[ -x "$TC/usr/bin/aarch64-linux-gnu-gcc-$CCV" ] &&
	[ "$(cat "$TC/.kwo-packages" 2>/dev/null)" = "$SUITE $PKGS" ]; then
	echo "$TC"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "making the gcc-$CCV chroot needs root (mmdebstrap --mode=root)"
if ! command -v mmdebstrap >/dev/null; then
	echo "setup-toolchain: installing mmdebstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2 || {
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2
	} || die "could not install mmdebstrap"
fi

echo "setup-toolchain: making $TC: $SUITE from $MIRROR with $PKGS" >&2
rm -rf "$TC.tmp"
mkdir -p "$(dirname "$TC")"
# Essential packages only, then PKGS and their dependencies; no
# documentation (nothing reads it).
mmdebstrap --mode=root --variant=essential --architectures=amd64 \
	--include="$PKGS" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	"$SUITE" "$TC.tmp" \
	"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" >&2 ||
	die "mmdebstrap $SUITE failed"
[ -x "$TC.tmp/usr/bin/x86_64-linux-gnu-gcc-$CCV" ] || die "no gcc-$CCV in $SUITE"
echo "$SUITE $PKGS" > "$TC.tmp/.kwo-packages"
rm -rf "$TC"
mv "$TC.tmp" "$TC"
echo "setup-toolchain: $TC ready" >&2
echo "$TC"
