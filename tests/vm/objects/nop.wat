;; Smallest useful object: load/close cycles, concurrency.
(module
  (memory 1)
  (func (export "nop")))
