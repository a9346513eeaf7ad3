;; Recursion through a function that checks the stack, whose every level
;; first calls a leaf (no call into Wasm, so no stack check of its own)
;; that runs a host function: at the deepest level that passed its check,
;; the leaf's frame and its memory.fill must still fit in what the check
;; left (tests/vm/guest/cli.sh). fill(n) traps past the end of memory when
;; n is 0, so down(n) ends in "out of bounds" if the stack allows n levels.
(module (memory 1)
  (func $fill (param $n i32)
    (memory.fill (select (i32.const 65000) (i32.const 0) (i32.eqz (local.get $n)))
      (i32.const 0) (i32.const 1000)))
  (func $down (export "down") (param $n i32)
    (call $fill (local.get $n))
    (if (local.get $n)
      (then (call $down (i32.sub (local.get $n) (i32.const 1)))))))
