;; The start function traps: the load must fail with a trap report.
(module
  (func $start unreachable)
  (start $start)
  (func (export "never")))
