;; random_get over most of a 256 MiB memory: completes, and (rand_forever)
;; a fatal signal ends it promptly, which needs random_get to fill in
;; chunks and check between them.
(module
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (memory 4096)
  (func (export "fill") (param $len i32) (result i32)
    (call $random_get (i32.const 0) (local.get $len)))
  (func (export "rand_forever")
    (loop $l
      (drop (call $random_get (i32.const 0) (i32.const 0x10000000)))
      (br $l))))
