#!/bin/sh
# frame.sh KIB [recursive]: a module whose export "run" (param i32)
# (result i64) keeps KIB KiB of i64 values live across a call (loads from
# its zeroed memory, which the call could change, so none can be redone
# after it), so its native frame is about KIB KiB. It calls a leaf (no
# call cycle: the compiler records a static stack bound) or, with
# "recursive", itself n times (prologue checks) and the leaf at the
# bottom (a leaf has no check of its own: it calls no Wasm). Its result is
#   K*n (leaf) or K*n*(n+1)/2 (recursive), with K = 128 * KIB values.
# Used by loader/tests/stack.rs and the kernel suite (tests/vm/run.sh).
set -eu
k=$(($1 * 128))
echo '(module (memory 1)'
echo '  (func $leaf (param i64) (result i64) (local.get 0))'
echo '  (func $run (export "run") (param $n i32) (result i64)'
i=0
while [ $i -lt $k ]; do echo "    (local \$l$i i64)"; i=$((i + 1)); done
i=0
while [ $i -lt $k ]; do
	echo "    (local.set \$l$i (i64.add (i64.extend_i32_u (local.get \$n)) (i64.load offset=$((i * 8)) (i32.const 0))))"
	i=$((i + 1))
done
if [ "${2:-}" = recursive ]; then
	echo '    (if (result i64) (local.get $n)'
	echo '      (then (call $run (i32.sub (local.get $n) (i32.const 1))))'
	echo '      (else (call $leaf (i64.const 0))))'
else
	echo '    (call $leaf (i64.const 0))'
fi
i=0
while [ $i -lt $k ]; do echo "    (i64.add (local.get \$l$i))"; i=$((i + 1)); done
echo '  )'
echo ')'
