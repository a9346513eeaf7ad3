;; The file calls in the kernel, which has no preopened directories: a path
;; relative to fd 0 is refused as ENOTCAPABLE (76, `open`), while seeking
;; and stat act on the invoker's file behind fd 0 (`seek_end`, `size`:
;; the offset or size, or minus the errno). cli.sh feeds a 5-byte file.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek"
    (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get"
    (func $stat (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "file.txt")
  (func $or_errno (param $errno i32) (param $at i32) (result i64)
    (if (result i64) (local.get $errno)
      (then (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $errno))))
      (else (i64.load (local.get $at)))))
  (func (export "open") (result i32)
    (call $open (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 8) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64)))
  (func (export "seek_end") (result i64)
    (call $or_errno (call $seek (i32.const 0) (i64.const 0) (i32.const 2) (i32.const 64))
      (i32.const 64)))
  (func (export "size") (result i64)
    (call $or_errno (call $stat (i32.const 0) (i32.const 128)) (i32.const 160))))
