#!/bin/bash
# Build kwo's two Debian packages with plain dpkg-deb into build/debs/
# (or OUT):
#   kwo_VERSION_ARCH.deb	the CLI (/usr/bin/kwo, release build)
#   kwo-dkms_VERSION_all.deb	kwo.ko's source for DKMS (/usr/src/kwo-VERSION
#				with kmod/dkms.conf), the udev rule giving
#				/dev/kwo to the kwo group (mode 0660), and
#				maintainer scripts that add the group and the
#				module to DKMS
# KWO_BIN: a kwo binary to package instead of building one. Prints the two
# paths. Nothing is installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/build/debs}
die() { echo "build-debs: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
[ -n "$VERSION" ] || die "no version in Cargo.toml"
DKMS_VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$ROOT/kmod/dkms.conf")
[ "$DKMS_VERSION" = "$VERSION" ] ||
	die "kmod/dkms.conf says $DKMS_VERSION, Cargo.toml $VERSION: make them agree"
ARCH=$(dpkg --print-architecture)
MAINT="kwo developers <kwo@localhost>"
W=$OUT/work
rm -rf "$W"
mkdir -p "$W/kwo/DEBIAN" "$W/kwo/usr/bin" "$W/kwo-dkms/DEBIAN" \
	"$W/kwo-dkms/usr/src/kwo-$VERSION" "$W/kwo-dkms/usr/lib/udev/rules.d"

# --- kwo: the CLI ---
BIN=${KWO_BIN:-}
if [ -z "$BIN" ]; then
	(cd "$ROOT" && cargo build -q --release -p kwo-loader --bin kwo) || die "cargo build failed"
	BIN=$ROOT/target/release/kwo
fi
install -m 0755 "$BIN" "$W/kwo/usr/bin/kwo"
strip "$W/kwo/usr/bin/kwo"
# The shared libraries it links, as Depends (dpkg-shlibdeps wants a
# debian/control beside it).
mkdir -p "$W/shlibs/debian"
printf 'Source: kwo\n\nPackage: kwo\nArchitecture: any\n' > "$W/shlibs/debian/control"
DEPENDS=$(cd "$W/shlibs" && dpkg-shlibdeps -O "$W/kwo/usr/bin/kwo" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || die "dpkg-shlibdeps found no dependencies for kwo"
cat > "$W/kwo/DEBIAN/control" <<EOF
Package: kwo
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINT
Depends: $DEPENDS
Installed-Size: $(du -sk "$W/kwo/usr" | cut -f1)
Section: devel
Priority: optional
Description: WebAssembly in the Linux kernel: verifier, compiler and runtime
 The kwo command verifies a WebAssembly module and compiles it ahead of
 time into a sandboxed .kwo object, runs it in the userspace runtime, and
 loads and calls it in the kwo.ko kernel module (package kwo-dkms).
EOF

# --- kwo-dkms: the module's source, the udev rule, the group ---
S=$W/kwo-dkms/usr/src/kwo-$VERSION
(cd "$ROOT/kmod" && find . \( -name '*.[chS]' -o -name Kbuild -o -name Makefile \
	-o -name dkms.conf \) -print0 | cpio -0 -pdm --quiet "$S")
install -m 0644 "$ROOT/packaging/60-kwo.rules" "$W/kwo-dkms/usr/lib/udev/rules.d/"
for s in postinst prerm; do
	sed "s/@VERSION@/$VERSION/g" "$ROOT/packaging/kwo-dkms.$s" > "$W/kwo-dkms/DEBIAN/$s"
	chmod 0755 "$W/kwo-dkms/DEBIAN/$s"
done
cat > "$W/kwo-dkms/DEBIAN/control" <<EOF
Package: kwo-dkms
Version: $VERSION
Architecture: all
Maintainer: $MAINT
Depends: dkms, passwd
Recommends: kwo (= $VERSION)
Installed-Size: $(du -sk "$W/kwo-dkms/usr" | cut -f1)
Section: kernel
Priority: optional
Description: WebAssembly in the Linux kernel: kwo.ko module source for DKMS
 DKMS builds kwo.ko for every installed kernel with headers (Debian 6.1,
 6.12 and later). /dev/kwo belongs to the kwo group (mode 0660); loading
 an object still needs CAP_SYS_ADMIN or CAP_SYS_MODULE.
EOF

mkdir -p "$OUT"
rm -f "$OUT"/kwo_*.deb "$OUT"/kwo-dkms_*.deb
for p in kwo kwo-dkms; do
	a=$ARCH
	[ $p = kwo-dkms ] && a=all
	dpkg-deb --root-owner-group -Zxz --build "$W/$p" "$OUT/${p}_${VERSION}_$a.deb" >/dev/null ||
		die "dpkg-deb $p failed"
	echo "$OUT/${p}_${VERSION}_$a.deb"
done
rm -rf "$W"
