;; Recursion to depth n, then a memory.fill past the end of memory: the
;; host function traps at the deepest frame (tests/vm/guest/cli.sh finds
;; the deepest depth the stack budget allows).
(module (memory 1)
  (func $down (export "down") (param $n i32)
    (if (local.get $n)
      (then (call $down (i32.sub (local.get $n) (i32.const 1))))
      (else (memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000))))))
