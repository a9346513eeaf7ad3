#!/bin/bash
# Install what the QEMU harness (tests/vm/run.sh) needs on a Debian 12 host:
# QEMU, the Debian 6.1 amd64 kernel image and headers (the module is built
# against them and boots under them), a static busybox for the initramfs,
# cpio, and the Rust musl target for the static `kwo` binary. Idempotent:
# packages already present are not fetched again. Never loads anything into
# the host kernel.
set -euo pipefail

PKGS=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio
      gcc make libc6-dev musl-tools wabt xz-utils file)
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

# The harness needs a 6.1 kernel with its matching headers.
kver=$(ls /usr/src | sed -n 's/^linux-headers-\(6\.1\.[0-9.-]*-amd64\)$/\1/p' | sort -V | tail -1)
if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
	echo "setup: no Debian 6.1 amd64 kernel + headers pair found" >&2
	exit 1
fi
echo "setup: kernel $kver"

if command -v rustup >/dev/null; then
	rustup target list --installed | grep -qx x86_64-unknown-linux-musl ||
		rustup target add x86_64-unknown-linux-musl
else
	echo "setup: rustup not found; the harness needs x86_64-unknown-linux-musl" >&2
	exit 1
fi
echo "setup: OK"
