;; f64 values that only move: a global copied to another, and reinterpret
;; casts. No FP arithmetic, yet the code uses XMM/V registers: the object
;; must be flagged uses-fp (from its machine code) and run inside an FPU
;; section, leaving the invoker's FP registers intact (suite.sh, fpregs).
(module
  (global $a (mut f64) (f64.const 1.5))
  (global $b (mut f64) (f64.const 0))
  (func (export "copy") (result i64)
    (global.set $b (global.get $a))
    (i64.reinterpret_f64 (global.get $b)))
  (func (export "bits") (param i64) (result i64)
    (i64.reinterpret_f64 (f64.reinterpret_i64 (local.get 0)))))
