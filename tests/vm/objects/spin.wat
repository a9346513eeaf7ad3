;; Runs forever: the time budget, fuel and SIGKILL must stop it.
;; `spin_in_callee` spins in a function the verifier leaves without an
;; entry checkpoint (small, its loop keeps its header's), called from
;; another such function: the loop header alone must stop it.
(module
  (func (export "spin") (loop (br 0)))
  (func $rotate_while_nonzero (param i32) (result i32)
    (loop $l (br_if $l (local.tee 0 (i32.rotl (local.get 0) (i32.const 1)))))
    (local.get 0))
  (func (export "spin_in_callee") (drop (call $rotate_while_nonzero (i32.const 1)))))
