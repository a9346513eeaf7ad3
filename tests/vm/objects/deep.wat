;; Recursion to the stack limit with a host call at every level, the deepest
;; included: fd_write (which copies, and now and then grows the output
;; buffer) must fit in the stack kept for host functions.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 16) ".")
  (func $deep (export "deep") (param i32) (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))
