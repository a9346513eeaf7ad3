#!/bin/bash
# Fetch one of Debian's kernel series (image, modules, headers, the host's
# amd64 kbuild tools; busybox-static for an arm64 guest) with a private apt
# state into build/kernels/SERIES-ARCH/kroot, without installing anything
# on the host, so that the harness can build and boot kwo.ko on it; when
# the kernel's compiler (gcc-N) is not on the host, a chroot that has it
# (tests/vm/setup-toolchain.sh, build/toolchains/gcc-N):
#	tests/vm/setup-kernel.sh 6.12 arm64 &&
#	    KROOT=build/kernels/6.12-arm64/kroot ARCH=arm64 tests/vm/run.sh
# Prints the kroot's path as its last line. Idempotent: a second run only
# refreshes the package lists.
#
# SERIES:
#	6.12	bookworm-backports (amd64: X86_KERNEL_IBT, execmem)
#	6.1-rt	bookworm's PREEMPT_RT kernel (amd64 only)
#	7	the newest 7.x in trixie-backports, sid or experimental
# ARCH: amd64 (default) or arm64.
#
# The mirror is the machine's own: the first Debian archive in
# /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}
# (one-line or deb822 format), or KWO_DEBIAN_MIRROR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERIES=${1:?usage: $0 6.12|6.1-rt|7 [amd64|arm64]}
ARCH=${2:-amd64}
die() { echo "setup-kernel: $*" >&2; exit 1; }

case $SERIES:$ARCH in
6.12:amd64 | 6.12:arm64) SUITES=(bookworm-backports) META=$ARCH VPAT='6\.12\.' ;;
6.1-rt:amd64) SUITES=() META=rt-amd64 VPAT='6\.1\.' ;;
7:amd64 | 7:arm64) SUITES=(trixie-backports sid experimental) META=$ARCH VPAT='7\.' ;;
*) die "no series $SERIES for $ARCH (6.12 amd64|arm64, 6.1-rt amd64, 7 amd64|arm64)" ;;
esac

# The first URI of a Debian suite (bookworm, trixie-updates, sid...; not
# -security, which is another archive) in the machine's apt sources.
host_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		case $f in
		*.sources)	# deb822: stanzas of URIs:/Suites: fields
			awk 'BEGIN { RS = ""; FS = "\n" }
			{
				u = ""; s = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
					if ($i ~ /^Suites:/) { s = $i; sub(/^Suites:/, "", s) }
				}
				if (u != "" && s ~ /(^|[ \t])(bookworm|trixie|forky|sid)(-updates)?([ \t]|$)/) print u
			}' "$f" ;;
		*)	# one-line: deb [options] URI SUITE COMPONENTS...
			sed -n 's/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\(bookworm\|trixie\|forky\|sid\)\(-updates\)\?[ \t].*/\2/p' "$f" ;;
		esac
	done | head -1
}

MIRROR=${KWO_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || die "no Debian mirror in /etc/apt/sources* (set KWO_DEBIAN_MIRROR)"
D=$ROOT/build/kernels/$SERIES-$ARCH
A=$D/apt
APT=(-o Dir::State::lists="$A/lists" -o Dir::State::status="$A/status"
     -o Dir::Cache="$A/cache" -o Dir::Etc::sourcelist="$A/sources.list"
     -o Dir::Etc::sourceparts=- -o APT::Architecture=amd64
     -o APT::Architectures::=arm64 -o APT::Sandbox::User=root -q)
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$D/kroot"
[ -e "$A/status" ] || : > "$A/status"
# bookworm too, for busybox-static (not in the backports suites).
for s in "${SUITES[@]}" bookworm; do
	echo "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $s main"
done > "$A/sources.list"
apt-get "${APT[@]}" update >/dev/null || die "apt-get update from $MIRROR failed"

# The newest version of the series' meta package, then its ABI name.
VER=$(apt-cache "${APT[@]}" madison "linux-image-$META:$ARCH" | awk -F' *[|] *' '{ print $2 }' |
	grep "^$VPAT" | sort -V | tail -1 || true)
[ -n "$VER" ] || die "no $SERIES kernel for $ARCH in ${SUITES[*]}"
ABI=$(apt-cache "${APT[@]}" show "linux-image-$META:$ARCH=$VER" |
	sed -n 's/^Depends:.*linux-image-\([0-9][^ ,:]*-'"$META"'\)\( \|,\|$\).*/\1/p' | head -1)
[ -n "$ABI" ] || die "linux-image-$META $VER names no kernel"

# deps PKG: the kernel's own packages PKG depends on (one level).
deps() {
	apt-cache "${APT[@]}" show "$1" | sed -n '/^Depends:/{s/^Depends: //;s/([^)]*)//g;s/|/,/g;p;q}' |
		tr ',' '\n' | awk '{ print $1 }' |
		grep -E '^linux-(binary|modules|headers|kbuild)-[0-9]' || true
}

H=$D/kroot/usr/src/linux-headers-$ABI
if [ ! -e "$H/Makefile" ] || [ ! -e "$D/kroot/boot/vmlinuz-$ABI" ]; then
	pkgs=("linux-image-$ABI:$ARCH" "linux-headers-$ABI:$ARCH")
	for p in $(deps "linux-image-$ABI:$ARCH") $(deps "linux-headers-$ABI:$ARCH"); do
		case $p in
		linux-kbuild-*) pkgs+=("$p:amd64") ;;	# runs on the host
		linux-headers-*-common*) pkgs+=("$p") ;;	# architecture-independent
		*) pkgs+=("$p:$ARCH") ;;
		esac
	done
	[ "$ARCH" = amd64 ] || pkgs+=(busybox-static:$ARCH)
	echo "setup-kernel: fetching ${pkgs[*]} from $MIRROR"
	rm -f "$D"/*.deb
	(cd "$D" && apt-get "${APT[@]}" download "${pkgs[@]}") >/dev/null ||
		die "apt-get download failed"
	for deb in "$D"/*.deb; do dpkg-deb -x "$deb" "$D/kroot"; done
	rm -f "$D"/*.deb
	# 7.x packages ship /usr/lib/modules/ABI/vmlinuz and no /boot or
	# /lib: give the harness the layout of the older packages.
	if [ ! -e "$D/kroot/lib/modules" ] && [ -d "$D/kroot/usr/lib/modules" ]; then
		ln -sfn usr/lib "$D/kroot/lib"
	fi
	if [ ! -e "$D/kroot/boot/vmlinuz-$ABI" ] && [ -e "$D/kroot/usr/lib/modules/$ABI/vmlinuz" ]; then
		mkdir -p "$D/kroot/boot"
		ln -sfn "../usr/lib/modules/$ABI/vmlinuz" "$D/kroot/boot/vmlinuz-$ABI"
	fi
fi
# A merged-/usr busybox-static (the newer suites') is in usr/bin; the
# harness takes the arm64 guest's from bin/.
if [ ! -e "$D/kroot/bin/busybox" ] && [ -e "$D/kroot/usr/bin/busybox" ]; then
	mkdir -p "$D/kroot/bin"
	ln -sfn ../usr/bin/busybox "$D/kroot/bin/busybox"
fi
# The headers name themselves (7.x) and include their -common half by
# absolute path: point it here, also after build/ has moved.
sed -i "s#^\(include \|KBUILD_OUTPUT=\)[^ ]*/usr/src/#\1$D/kroot/usr/src/#" "$H/Makefile"
[ -r "$D/kroot/boot/vmlinuz-$ABI" ] || die "no vmlinuz-$ABI in the packages"
[ -x "$H/scripts/mod/modpost" ] || die "$H/scripts/mod/modpost missing (kbuild tools)"
# Modules must be built with the kernel's own compiler version: its flags
# (e.g. gcc-14's -fmin-function-alignment on 7.x) are in the headers. A
# version the host lacks comes as a chroot of the suite the kernel came
# from (setup-toolchain.sh; run.sh builds kwo.ko in it), with what the
# kernel's kbuild tools link against.
CCV=$(sed -n 's/^CC = .*gcc-\([0-9]*\)$/\1/p' "$H/.kernelvariables" 2>/dev/null || true)
XCC=x86_64-linux-gnu-gcc-$CCV
[ "$ARCH" = amd64 ] || XCC=aarch64-linux-gnu-gcc-$CCV
if [ -n "$CCV" ] && ! command -v "$XCC" >/dev/null; then
	# "trixie-backports/main" in the version's line: trixie. Experimental
	# holds only a few packages on top of sid.
	SUITE=$(apt-cache "${APT[@]}" madison "linux-image-$META:$ARCH" |
		awk -F' *[|] *' -v v="$VER" '$2 == v && !n++ { split($3, f, " "); print f[2] }')
	SUITE=${SUITE%%/*}
	SUITE=${SUITE%-backports}
	[ "$SUITE" != experimental ] || SUITE=sid
	[ -n "$SUITE" ] || die "no suite for linux-image-$META $VER"
	KBUILD=$(deps "linux-headers-$ABI:$ARCH" | grep '^linux-kbuild-' | head -1)
	# Read whole before parsing: a reader quitting early (sed q) can kill
	# apt-cache with SIGPIPE, which pipefail and set -e turn into a silent exit.
	KBUILD_INFO=$(apt-cache "${APT[@]}" show "$KBUILD:amd64")
	LIBS=$(sed -n '/^Depends:/{s/^Depends: //;s/([^)]*)//g;s/|/,/g;p;q}' <<<"$KBUILD_INFO" |
		tr ',' '\n' | awk 'NF { print $1 }')
	"$(dirname "$0")/setup-toolchain.sh" "$CCV" "$SUITE" "$MIRROR" $LIBS >&2 ||
		die "kernel $ABI was built with gcc-$CCV, this host has no $XCC, and no $SUITE chroot with it could be made: kwo.ko cannot be built for it"
fi
echo "setup-kernel: kernel $ABI ($VER, $MIRROR)"
echo "$D/kroot"
