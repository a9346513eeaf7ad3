//! Which checkpoints the verifier keeps: entries of small call trees
//! whose loops keep their header checkpoints lose theirs, anything that
//! may run long keeps it, and a loop loses its header's only when every
//! iteration calls a function that keeps its entry checkpoint first.

use kwo_verifier::analysis::{Checkpoints, SMALL_FUNCTION_BUDGET};
use kwo_verifier::{verify, Policy};

fn checkpoints(wat: &str) -> Checkpoints {
    let wasm = wat::parse_str(wat).unwrap();
    verify(&wasm, &Policy::kernel()).unwrap().checkpoints
}

/// A function named `name` of about `ops` operators, none a call.
fn straight_line(name: &str, ops: u64) -> String {
    let adds = "(local.set 0 (i32.add (local.get 0) (i32.const 1)))\n".repeat((ops / 4) as usize);
    format!("(func ${name} (param i32) (result i32)\n{adds} (local.get 0))")
}

#[test]
fn small_loop_free_call_trees_need_no_entry_checkpoint() {
    let wat = format!(
        r#"(module {}
          (func $mid (param i32) (result i32) (call $leaf (call $leaf (local.get 0))))
          (func (export "top") (param i32) (result i32) (call $mid (local.get 0))))"#,
        straight_line("leaf", 100)
    );
    assert_eq!(checkpoints(&wat).entry, vec![false, false, false]);
}

#[test]
fn call_trees_over_the_budget_keep_the_checkpoints_above_it() {
    // Each leaf fits; two calls of it fit; four do not.
    let leaf_ops = SMALL_FUNCTION_BUDGET / 3;
    let wat = format!(
        r#"(module {}
          (func $two (param i32) (result i32) (call $leaf (call $leaf (local.get 0))))
          (func $four (export "four") (param i32) (result i32) (call $two (call $two (local.get 0)))))"#,
        straight_line("leaf", leaf_ops)
    );
    assert_eq!(checkpoints(&wat).entry, vec![false, false, true]);
}

#[test]
fn loops_with_header_checkpoints_need_no_entry_checkpoint() {
    // `$scan`'s loop runs an unknown number of times: its header keeps
    // its checkpoint, which bounds every stretch without one. `$outer`
    // nests it and calls a small function in it; `$caller` calls both.
    let wat = r#"(module
      (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func $scan (param i32) (result i32)
        (loop $l (br_if $l (i32.and (local.tee 0 (call $inc (local.get 0))) (i32.const 7))))
        (local.get 0))
      (func $outer (param i32) (result i32)
        (loop $o
          (loop $i (br_if $i (i32.and (local.tee 0 (i32.mul (local.get 0) (i32.const 3))) (i32.const 1))))
          (br_if $o (i32.and (call $scan (local.get 0)) (i32.const 16))))
        (local.get 0))
      (func (export "caller") (param i32) (result i32) (call $outer (call $scan (local.get 0)))))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.checkpoints.entry, vec![false, false, false, false]);
    for f in 1..3usize {
        let loops = kwo_verifier::analysis::BodyStats::of(&module, f as u32).unwrap().loops;
        assert!(loops.iter().all(|l| module.checkpoints.at_loop(f, l.offset)), "func {f}");
        assert!(module.accesses[f].short_loops.is_empty(), "func {f}");
    }
}

#[test]
fn short_loops_recursion_indirect_and_host_calls_keep_the_entry_checkpoint() {
    // `$loops`' loop never goes round: the range analysis finds it short
    // (no header checkpoint), which counts on the entry's.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
      (type $t (func (result i32)))
      (table 1 funcref) (elem (i32.const 0) $small)
      (memory 1)
      (func $small (result i32) (i32.const 1))
      (func $loops (loop))
      (func $recursive (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call $recursive (i32.sub (local.get 0) (i32.const 1))))
          (else (i32.const 0))))
      (func $calls_recursive (result i32) (call $recursive (i32.const 3)))
      (func $indirect (result i32) (call_indirect (type $t) (i32.const 0)))
      (func $host (result i32) (call $yield))
      (func $bulk (memory.fill (i32.const 0) (i32.const 0) (i32.const 100)))
      (func $grow (result i32) (memory.grow (i32.const 1))))"#;
    assert_eq!(
        checkpoints(wat).entry,
        vec![false, true, true, true, true, true, true, true]
    );
}

#[test]
fn a_loop_that_always_calls_a_checkpointed_function_needs_no_header_checkpoint() {
    let wat = r#"(module
      (func $rec (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
          (else (i32.const 0))))
      (func $small (param i32) (result i32) (local.get 0))
      (func (export "f") (param $n i32) (result i32)
        ;; Covered: the call comes first on every iteration.
        (loop $a
          (drop (call $rec (local.get $n)))
          (br_if $a (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        ;; Not covered: a branch may skip the call.
        (loop $b
          (br_if $b (i32.eqz (local.get $n)))
          (drop (call $rec (local.get $n))))
        ;; Not covered: inside a block, not on the straight-line start.
        (loop $c
          (block (drop (call $rec (local.get $n))))
          (br_if $c (local.get $n)))
        ;; Not covered: the callee has no entry checkpoint.
        (loop $d
          (drop (call $small (local.get $n)))
          (br_if $d (local.get $n)))
        (local.get $n)))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    let cp = &module.checkpoints;
    assert_eq!(cp.entry, vec![true, false, true]);
    let loops = kwo_verifier::analysis::BodyStats::of(&module, 2).unwrap().loops;
    let needs: Vec<bool> = loops.iter().map(|l| cp.at_loop(2, l.offset)).collect();
    assert_eq!(needs, vec![false, true, true, true]);
    assert_eq!(cp.covered_loops[2], vec![loops[0].offset]);
}
