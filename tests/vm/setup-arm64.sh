#!/bin/bash
# Fetch Debian's arm64 kernel, headers and static busybox (the same 6.1 ABI
# as the amd64 host's) with a private apt state into build/arm64/kroot,
# without installing anything arm64 on the host, and install the cross
# tools, so that the harness can build and boot kwo.ko on arm64:
#	tests/vm/setup-arm64.sh && ARCH=arm64 tests/vm/run.sh
# Idempotent.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$ROOT/build/arm64
A=$D/apt
PKGS=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
APT=(-o Dir::State::lists="$A/lists" -o Dir::State::status="$A/status"
     -o Dir::Cache="$A/cache" -o APT::Architecture=arm64
     -o APT::Architectures::=arm64 -o APT::Sandbox::User=root -q)
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$D/kroot"
[ -e "$A/status" ] || : > "$A/status"
# The host's amd64 headers name the ABI; the arm64 one must match it.
ABI=${ABI:-$(ls /usr/src | sed -n 's/^linux-headers-\(6\.1\.[0-9.-]*\)-amd64$/\1/p' | sort -V | tail -1)}
[ -n "$ABI" ] || { echo "setup-arm64: run tests/vm/setup.sh first" >&2; exit 1; }
H=$D/kroot/usr/src/linux-headers-$ABI-arm64
if [ ! -e "$H/Makefile" ] || [ ! -x "$D/kroot/bin/busybox" ]; then
	apt-get "${APT[@]}" update >/dev/null
	(cd "$D" && apt-get "${APT[@]}" download "linux-image-$ABI-arm64-unsigned" \
		"linux-headers-$ABI-arm64" busybox-static)
	for deb in "$D"/*.deb; do dpkg-deb -x "$deb" "$D/kroot"; done
	rm -f "$D"/*.deb
fi
# The headers' scripts/ and tools/ point at arm64 kbuild binaries: use the
# host's amd64 linux-kbuild of the same version; the -common half is the
# host's too (it is architecture-independent).
KB=$(readlink "$H/scripts" | sed 's#.*/\(linux-kbuild-[^/]*\)/.*#\1#')
[ -x "/usr/lib/$KB/scripts/mod/modpost" ] || { echo "setup-arm64: $KB (amd64) missing" >&2; exit 1; }
ln -sfn "/usr/lib/$KB/scripts" "$H/scripts"
ln -sfn "/usr/lib/$KB/tools" "$H/tools"
echo "setup-arm64: kernel $ABI-arm64 in $D/kroot"
