;; Linear memory growth against the module's max_pages cap (4096 pages).
(module
  (memory 1)
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0))))
