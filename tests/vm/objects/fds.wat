;; The descriptor table in the kernel's buffered mode: fd_renumber moves a
;; slot, and a slot keeps its direction wherever it is moved (reading the
;; output slot, writing the input slot: EBADF = 8). Each call starts on a
;; fresh instance (ktest call loads one per call).
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber"
    (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close"
    (func $fd_close (param i32) (result i32)))
  (memory 1)
  (data (i32.const 16) "written")
  ;; iovec at 0: 7 bytes at 16; nread/nwritten at 8
  (func $iov (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 7)))
  ;; fd 1 moved to 0, then read: the output slot has no input.
  (func (export "read_moved_stdout") (result i32)
    (call $iov)
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (call $fd_renumber (i32.const 1) (i32.const 0)) (then unreachable))
    (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
  ;; fd 0 moved to 2, then written: the input slot takes no output.
  (func (export "write_moved_stdin") (result i32)
    (call $iov)
    (if (call $fd_renumber (i32.const 0) (i32.const 2)) (then unreachable))
    (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
  ;; Renumbering onto or from a closed fd, closing twice: EBADF.
  (func (export "closed") (result i32)
    (if (call $fd_close (i32.const 2)) (then unreachable))
    (if (i32.ne (call $fd_close (i32.const 2)) (i32.const 8)) (then unreachable))
    (if (i32.ne (call $fd_renumber (i32.const 1) (i32.const 2)) (i32.const 8)) (then unreachable))
    (call $fd_renumber (i32.const 2) (i32.const 1))))
