#!/bin/bash
# Regenerate the object target's seeds (fuzz/seeds/object/*.kwo) with the
# kwo CLI: the VM suite's test objects (tests/vm/objects/*.wat) and
# rich.wat, which fills the sections those leave empty. Run after a change
# of the object format; the smoke run fails while a seed is refused.
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
ls "$out" | wc -l
