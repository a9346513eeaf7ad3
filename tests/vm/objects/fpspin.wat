;; Floating point in a loop that never ends: every yield must close the FPU
;; section before it may sleep (the kernel would report "scheduling while
;; atomic" otherwise), and reopen it with the registers intact.
(module
  (func (export "fpspin") (result f64)
    (local $x f64)
    (local.set $x (f64.const 1))
    (loop $l
      (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.5)) (f64.const 1)))
      (br $l))
    (local.get $x))
  (func (export "fpcount") (param i32) (result f64)
    ;; counts to n in f64 across many yields: the value must survive them
    (local $x f64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $x (f64.add (local.get $x) (f64.const 1)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get $x)))
