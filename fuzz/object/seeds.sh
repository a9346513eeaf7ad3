#!/bin/bash
# Regenerate the object target's seeds (fuzz/seeds/object/*.kwo) with the
# kwo CLI: the VM suite's test objects (tests/vm/objects/*.wat) and
# rich.wat, which fills the sections those leave empty, and lines.c for the
# line table. Run after a change of the object format; the smoke run fails
# while a seed is refused.
#   fuzz/object/seeds.sh [path/to/kwo]
set -euo pipefail
cd "$(dirname "$0")/../.."
kwo=${1:-target/release/kwo}
out=fuzz/seeds/object
rm -f "$out"/*.kwo
mkdir -p "$out"
for wat in tests/vm/objects/*.wat fuzz/object/rich.wat; do
	"$kwo" compile "$wat" -o "$out/$(basename "$wat" .wat).kwo"
done
# A line table (LINES section), from C built with DWARF and no libc.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clang --target=wasm32 -O2 -g -nostdlib -Wl,--no-entry -Wl,--export=sum_twice \
	-o "$tmp/lines.wasm" fuzz/object/lines.c
"$kwo" compile "$tmp/lines.wasm" -o "$out/lines.kwo"
ls "$out" | wc -l
