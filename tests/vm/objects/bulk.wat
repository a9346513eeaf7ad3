;; memory.fill and memory.copy past 1 MiB run in 1 MiB pieces with the FPU
;; section closed and a reschedule point between them (kmod/core/builtins.c).
;; "check" returns the number of wrong bytes in a 3 MiB memory after an
;; overlapping copy up, one down (both over several pieces, lengths no
;; multiple of a piece) and a fill, each over a fresh pattern: 0 expected.
;; Its f64 parameter makes the object use FP, so in the kernel the pieces
;; run with an FPU section paused.
(module
  (memory 48)
  (func $pattern (param $i i32) (result i32)
    (i32.and
      (i32.add (i32.mul (local.get $i) (i32.const 31))
               (i32.shr_u (local.get $i) (i32.const 16)))
      (i32.const 255)))
  (func $fresh (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (call $pattern (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x300000)))))
  ;; Wrong bytes after copying [src, src + len) to dst.
  (func $check_copy (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (local $i i32) (local $bad i32) (local $from i32)
    (call $fresh)
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (loop $l
      (local.set $from (local.get $i))
      (if (i32.and (i32.ge_u (local.get $i) (local.get $dst))
                   (i32.lt_u (local.get $i) (i32.add (local.get $dst) (local.get $len))))
        (then (local.set $from
          (i32.add (i32.sub (local.get $i) (local.get $dst)) (local.get $src)))))
      (local.set $bad (i32.add (local.get $bad)
        (i32.ne (i32.load8_u (local.get $i)) (call $pattern (local.get $from)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x300000))))
    (local.get $bad))
  ;; Wrong bytes after filling [dst, dst + len) with 0xab.
  (func $check_fill (param $dst i32) (param $len i32) (result i32)
    (local $i i32) (local $bad i32) (local $want i32)
    (call $fresh)
    (memory.fill (local.get $dst) (i32.const 0x1ab) (local.get $len))
    (loop $l
      (local.set $want (call $pattern (local.get $i)))
      (if (i32.and (i32.ge_u (local.get $i) (local.get $dst))
                   (i32.lt_u (local.get $i) (i32.add (local.get $dst) (local.get $len))))
        (then (local.set $want (i32.const 0xab))))
      (local.set $bad (i32.add (local.get $bad)
        (i32.ne (i32.load8_u (local.get $i)) (local.get $want))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x300000))))
    (local.get $bad))
  (func (export "check") (param $zero f64) (result i32)
    (i32.add
      (i32.add
        (call $check_copy (i32.const 1048579) (i32.const 17) (i32.const 1500001))
        (call $check_copy (i32.const 5) (i32.const 1048580) (i32.const 1900000)))
      (i32.add
        (call $check_fill (i32.const 3) (i32.const 2097159))
        (i32.trunc_f64_s (local.get $zero))))))
