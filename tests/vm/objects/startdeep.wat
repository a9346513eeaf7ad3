;; The start function traps three calls deep: start -> walk -> step ->
;; check (unreachable). KWO_IOC_LOAD's backtrace (ktest loadbt) is check,
;; step, walk, start (functions 0 to 3), innermost first; each is laid out
;; after the one it calls, so the frames' wasm offsets increase.
(module
  (func $check unreachable)
  (func $step (call $check) (nop))
  (func $walk (call $step) (nop))
  (func $start (call $walk) (nop))
  (start $start)
  (func (export "never")))
