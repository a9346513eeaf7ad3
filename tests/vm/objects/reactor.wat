;; A WASI reactor: kwo run --kernel / kwo invoke must call _initialize
;; before the export, as the userspace kwo run does.
(module
  (global $g (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $g (i32.const 5)))
  (func (export "get") (result i32) (global.get $g)))
