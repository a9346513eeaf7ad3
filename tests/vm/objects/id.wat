;; The trivial export whose invoke round trip `tests/vm/run.sh bench`
;; times both ways (userspace invoke, ioctl); the same shape as kwo-bench's
;; round-trip module.
(module
  (func (export "id") (param i32) (result i64)
    (i64.extend_i32_u (local.get 0))))
