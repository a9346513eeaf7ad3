;; fd_write with iovecs whose lengths add up past 4 GiB: 4097 (or 4096)
;; iovecs of 1 MiB, all over the same buffer. nwritten is 32 bits, so the
;; call must fail with EINVAL (28), not wrap and report a short success.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory 17)
  (func (export "bigwrite") (param $n i32) (param $len i32) (result i32)
    (local $i i32) (local $p i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (i32.const 0x100000) (i32.shl (local.get $i) (i32.const 3))))
        (i32.store (local.get $p) (i32.const 0))
        (i32.store offset=4 (local.get $p) (local.get $len))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $fd_write (i32.const 1) (i32.const 0x100000) (local.get $n) (i32.const 0x10fff0))))
