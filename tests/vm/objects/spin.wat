;; Runs forever: the time budget, fuel and SIGKILL must stop it.
(module
  (func (export "spin") (loop (br 0))))
