;; The perf test's workload (tests/vm/guest/perf.sh): `hot` calls `burn`,
;; which loops until the call's time budget ends it. `before` and `after`
;; never run and lie on either side of `burn` in the code: a sample named
;; after either of them means the symbol ranges are off. Compiled with
;; wat2wasm --debug-names, so that the names come from the name section.
(module
  (func $before (export "before") (param $n i32) (result i32)
    (i32.mul (i32.add (local.get $n) (i32.const 3)) (i32.const 7)))
  (func $burn (param $n i32) (result i32)
    (loop $spin
      (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 1103515245))
                             (i32.const 12345)))
      (br $spin))
    (local.get $n))
  (func $after (export "after") (param $n i32) (result i32)
    (i32.xor (i32.shl (local.get $n) (i32.const 5)) (i32.const 0x5bd1e995)))
  (func $hot (export "hot") (result i32)
    (call $burn (i32.const 1))))
