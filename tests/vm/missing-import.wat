;; Imports a WASI function kwo does not provide (path_symlink): refused by
;; default, linked to the ENOSYS stub with --allow-missing-imports. `open`
;; returns the call's errno (cli.sh expects 52, ENOSYS).
(module
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "file.txt")
  (data (i32.const 32) "link")
  (func (export "open") (result i32)
    (call $symlink (i32.const 16) (i32.const 8) (i32.const 3) (i32.const 32) (i32.const 4))))
