;; memory.grow in place, many times (memories sit in reserved address space
;; and grow by mapping pages after the mapped ones): each one-page grow
;; returns the old size, the new page reads zero, every page written before
;; keeps its contents, and the byte past the end still traps.
(module
  (memory 1)
  (func $page (param $p i32) (result i32)
    (i32.shl (local.get $p) (i32.const 16)))
  ;; Grows by one page n times, then checks every page. Returns the new
  ;; size in pages, or a negative step number on the first wrong result.
  (func $grow_many (export "grow_many") (param $n i32) (result i32)
    (local $i i32) (local $p i32)
    (i32.store (i32.const 0) (i32.const 0x5eed))
    (block $grown
      (loop $grow
        (br_if $grown (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (memory.grow (i32.const 1)))
        (if (i32.ne (local.get $p) (i32.add (local.get $i) (i32.const 1)))
          (then (return (i32.const -1))))
        (if (i32.or (i32.load (call $page (local.get $p)))
                    (i32.load offset=65532 (call $page (local.get $p))))
          (then (return (i32.const -2))))
        (i32.store (call $page (local.get $p)) (local.get $p))
        (i32.store offset=65532 (call $page (local.get $p))
          (i32.xor (local.get $p) (i32.const -1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $grow)))
    (if (i32.ne (i32.load (i32.const 0)) (i32.const 0x5eed))
      (then (return (i32.const -3))))
    (local.set $i (i32.const 1))
    (block $checked
      (loop $check
        (br_if $checked (i32.gt_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load (call $page (local.get $i))) (local.get $i))
          (then (return (i32.const -4))))
        (if (i32.ne (i32.load offset=65532 (call $page (local.get $i)))
                    (i32.xor (local.get $i) (i32.const -1)))
          (then (return (i32.const -5))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $check)))
    (memory.size))
  ;; Grows n times, then loads the last 4 bytes plus one: traps.
  (func (export "grow_then_past_end") (param $n i32) (result i32)
    (drop (call $grow_many (local.get $n)))
    (i32.load (i32.sub (call $page (memory.size)) (i32.const 3)))))
