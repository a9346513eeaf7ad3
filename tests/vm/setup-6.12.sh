#!/bin/bash
# Fetch Debian's 6.12 amd64 kernel (bookworm-backports: X86_KERNEL_IBT on,
# execmem) with a private apt state into build/k612/kroot, without
# installing anything on the host, so that the harness can build and boot
# kwo.ko's 6.10+ path:
#	tests/vm/setup-6.12.sh && KROOT=build/k612/kroot tests/vm/run.sh
# Idempotent.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$ROOT/build/k612
A=$D/apt
APT=(-o Dir::State::lists="$A/lists" -o Dir::State::status="$A/status"
     -o Dir::Cache="$A/cache" -o Dir::Etc::sourcelist="$A/sources.list"
     -o Dir::Etc::sourceparts=- -o APT::Sandbox::User=root -q)
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$D/kroot"
[ -e "$A/status" ] || : > "$A/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
     "http://deb.debian.org/debian bookworm-backports main" > "$A/sources.list"
apt-get "${APT[@]}" update >/dev/null
ABI=${ABI:-$(apt-cache "${APT[@]}" depends linux-image-amd64 |
	sed -n 's/.*Depends: linux-image-\(6\.12\..*-amd64\)$/\1/p' | head -1)}
[ -n "$ABI" ] || { echo "setup-6.12: no 6.12 kernel in bookworm-backports" >&2; exit 1; }
H=$D/kroot/usr/src/linux-headers-$ABI
if [ ! -e "$H/Makefile" ]; then
	V=${ABI%-amd64}
	(cd "$D" && apt-get "${APT[@]}" download "linux-image-$ABI-unsigned" \
		"linux-headers-$ABI" "linux-headers-$V-common" "linux-kbuild-$V")
	for deb in "$D"/*.deb; do dpkg-deb -x "$deb" "$D/kroot"; done
	rm -f "$D"/*.deb
	# The headers include their -common half by absolute path.
	sed -i "s#^include /usr/src/#include $D/kroot/usr/src/#" "$H/Makefile"
fi
echo "setup-6.12: kernel $ABI in $D/kroot"
