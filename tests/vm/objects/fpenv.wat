;; Results that depend on the FP mode: 1 + 0.75 ulp rounds up to nearest
;; (down toward zero); 2^-1022 * 0.5 is a subnormal (0 with flush to zero);
;; the smallest subnormal + 0 stays (0 when denormal inputs are zero).
;; ktest fpenv calls these with the caller's MXCSR / FPCR set to odd modes.
(module
  (func (export "add") (param f64 f64) (result f64)
    (f64.add (local.get 0) (local.get 1)))
  (func (export "mul") (param f64 f64) (result f64)
    (f64.mul (local.get 0) (local.get 1)))
  (func (export "add_then_trap") (param f64 f64) (result f64)
    (drop (f64.add (local.get 0) (local.get 1)))
    unreachable))
