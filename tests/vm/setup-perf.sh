#!/bin/bash
# perf for the kernel suite's perf step (tests/vm/guest/perf.sh), which
# records real samples of kwo code in the guest:
#	tests/vm/setup-perf.sh		x86_64: the host's perf (Debian's
#					linux-perf, installed if missing)
#	tests/vm/setup-perf.sh arm64	Debian's arm64 linux-perf and the
#					libraries it depends on, fetched with a
#					private apt state and unpacked into
#					build/perf/arm64/root (nothing arm64 is
#					installed on the host)
# run.sh copies the binary and the shared libraries it needs (DT_NEEDED,
# followed) into the initramfs. Idempotent: a second run fetches nothing.
# The package is bookworm's linux-perf, the 6.1 series of the suite's
# kernels (perf's syscall ABI is stable: it records on 6.12 and 7.x too).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARCH=${1:-x86_64}
die() { echo "setup-perf: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

case $ARCH in
x86_64 | amd64)
	if ! installed linux-perf; then
		SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get update -q
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends linux-perf
	fi
	[ -x /usr/bin/perf ] && file -L /usr/bin/perf | grep -q 'ELF 64-bit.*x86-64' ||
		die "/usr/bin/perf is not an x86_64 binary"
	echo "setup-perf: $(/usr/bin/perf --version) (host)"
	exit 0 ;;
arm64) ;;
*) die "ARCH must be x86_64 or arm64" ;;
esac

D=$ROOT/build/perf/arm64
A=$D/apt
R=$D/root
command -v dpkg-deb >/dev/null || die "dpkg-deb missing"
APT=(-o Dir::State::lists="$A/lists" -o Dir::State::status="$A/status"
     -o Dir::Cache="$A/cache" -o APT::Architecture=arm64
     -o APT::Architectures::=arm64 -o APT::Sandbox::User=root -q)
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
[ -e "$A/status" ] || : > "$A/status"
apt-get "${APT[@]}" update >/dev/null || die "apt-get update (arm64) failed"
# linux-perf and what it depends on, transitively (Depends and
# Pre-Depends): more than perf needs to record and print samples (perl,
# python), but a library package is not always called lib* (zlib1g).
# run.sh copies only the shared libraries perf needs.
pkgs=$(apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances linux-perf |
	grep -v '^[ <]' | sort -u)
grep -qx linux-perf <<<"$pkgs" || die "no arm64 linux-perf in the apt sources"
# The .deb file names (name_version_arch), linux-perf first: fetched
# again only when one of them changed.
# shellcheck disable=SC2086 # one word per package
debs=$(apt-get "${APT[@]}" download --print-uris $pkgs | awk '{ print $2 }' | sort)
[ -n "$debs" ] || die "apt-get download --print-uris found nothing"
want=$({ grep '^linux-perf_' <<<"$debs"; grep -v '^linux-perf_' <<<"$debs"; })
if [ -x "$R/usr/bin/perf" ] && [ "$(cat "$D/packages" 2>/dev/null)" = "$want" ]; then
	echo "setup-perf: arm64 $(head -1 "$D/packages") in $R"
	exit 0
fi
rm -rf "$D/debs" "$R" "$D/packages"
mkdir -p "$D/debs" "$R"
# shellcheck disable=SC2086 # one word per package
(cd "$D/debs" && apt-get "${APT[@]}" download $pkgs >/dev/null) || die "apt-get download failed"
for deb in "$D"/debs/*.deb; do dpkg-deb -x "$deb" "$R"; done
rm -rf "$D/debs"
[ -x "$R/usr/bin/perf" ] || die "linux-perf:arm64 has no usr/bin/perf"
file -L "$R/usr/bin/perf" | grep -q 'ELF 64-bit.*aarch64' || die "$R/usr/bin/perf is not an aarch64 binary"
echo "$want" > "$D/packages"
echo "setup-perf: arm64 $(head -1 "$D/packages") and $(($(wc -l < "$D/packages") - 1)) other packages in $R"
