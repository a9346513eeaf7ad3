;; Floating point: the module must bracket the call with the FPU section.
(module
  (func (export "hypot") (param f64 f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get 0) (local.get 0))
                       (f64.mul (local.get 1) (local.get 1)))))
  (func (export "f32mul") (param f32 f32) (result f32)
    (f32.mul (local.get 0) (local.get 1)))
  (func (export "sum") (param i32) (result f64)
    (local $acc f64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $acc (f64.add (local.get $acc) (f64.convert_i32_u (local.get 0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get $acc)))
