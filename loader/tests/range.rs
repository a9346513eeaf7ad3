//! Check elision at run time: loops the verifier proves run without
//! checks and compute what they must; loops one element past the end and
//! loops bounded only at run time trap exactly where the spec says (the
//! faulting store, with every earlier store done), whether or not proven
//! checks are elided. The proofs themselves are tested in
//! `verifier/tests/range.rs`. Loops versioned behind a hoisted check
//! (pointer loops the verifier bounds only at run time) must agree with
//! their fully checked translation on every trap and every stored word.

mod common;

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, TrapInfo, Val};
use common::verified;
use kwo_verifier::VerifiedModule;

fn instance(module: &VerifiedModule, elide_proven: bool) -> Instance {
    common::instance_with(module, elide_proven, &Config::default())
}

fn trap_of(r: Result<Vec<Val>, RunError>) -> TrapInfo {
    match r {
        Err(RunError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// `fill(n)`: stores `i + 1` at `1024 + 4 * i` for `i` in `0..n`, for a
/// constant `n` (`LIMIT`) or the argument; `get(i)` reads element `i`.
fn fill_module(limit: &str) -> String {
    format!(
        r#"(module (memory 1)
      (func (export "get") (param $i i32) (result i32)
        (i32.load offset=1024 (i32.shl (local.get $i) (i32.const 2))))
      (func (export "fill") (param $n i32) (local $i i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) {limit}))
          (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2))
            (i32.add (local.get $i) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))))"#
    )
}

/// Elements that fit between offset 1024 and the end of the one page.
const FITS: i32 = (65536 - 1024) / 4;

/// Runs `fill` then checks the trap (if `traps`) and the stored elements.
fn check_fill(module: &VerifiedModule, arg: i32, traps: bool) {
    for elide in [true, false] {
        let mut inst = instance(module, elide);
        let r = inst.invoke("fill", &[Val::I32(arg)]);
        if traps {
            let t = trap_of(r);
            assert_eq!(t.code, TrapCode::MemoryOutOfBounds, "elide {elide}");
            assert_eq!(t.func, Some(1));
            assert_eq!(t.wasm_offset, Some(store_site(module)), "elide {elide}");
        } else {
            assert_eq!(r.unwrap(), vec![], "elide {elide}");
        }
        // Every store before the faulting one happened, in order.
        for i in [0, 1, FITS / 2, FITS - 1] {
            let got = inst.invoke("get", &[Val::I32(i)]).unwrap();
            assert_eq!(got, vec![Val::I32(i + 1)], "element {i}, elide {elide}");
        }
    }
}

/// Byte offset of the store in `fill` (the second function): the trap
/// site the runtime reports.
fn store_site(module: &VerifiedModule) -> u32 {
    let facts = &module.accesses[1];
    assert_eq!(facts.accesses, 1);
    let body = &module.bodies[1];
    // The store opcode followed by its memarg (align 2, offset 1024).
    let pattern = [0x36, 0x02, 0x80, 0x08];
    let code = &module.wasm[body.range.clone()];
    let at = code
        .windows(pattern.len())
        .position(|w| w == pattern)
        .expect("the store is in the body");
    (body.range.start + at) as u32
}

#[test]
fn proven_loop_runs_unchecked_and_fills_the_array() {
    let module = verified(&fill_module(&format!("(i32.const {FITS})")));
    assert!(module.accesses[1].is_proven(store_site(&module) as usize));
    check_fill(&module, 0, false);
}

#[test]
fn loop_one_past_the_end_traps_at_the_last_store() {
    let module = verified(&fill_module(&format!("(i32.const {})", FITS + 1)));
    assert!(!module.accesses[1].is_proven(store_site(&module) as usize));
    check_fill(&module, 0, true);
}

#[test]
fn loop_bounded_at_run_time_traps_only_past_the_end() {
    let module = verified(&fill_module("(local.get $n)"));
    assert!(!module.accesses[1].is_proven(store_site(&module) as usize));
    check_fill(&module, FITS, false);
    check_fill(&module, FITS + 1, true);
    check_fill(&module, -1, true);
}

#[test]
fn proven_and_checked_accesses_compute_the_same() {
    // Nested loops over a 64 x 128 matrix of i64, then a checksum; all
    // proven. The same module with elision off must agree.
    let wat = r#"(module (memory 1)
      (func (export "run") (result i64) (local $i i32) (local $j i32) (local $sum i64)
        (loop $rows
          (local.set $j (i32.const 0))
          (loop $cols
            (i64.store
              (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 128)) (local.get $j)) (i32.const 3))
              (i64.extend_i32_u (i32.mul (local.get $i) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cols (i32.ne (local.get $j) (i32.const 128))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $i) (i32.const 64))))
        (local.set $i (i32.const 0))
        (loop $sum
          (local.set $sum (i64.add (local.get $sum)
            (i64.load (i32.shl (local.get $i) (i32.const 3)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $sum (i32.lt_s (local.get $i) (i32.const 8192))))
        (local.get $sum)))"#;
    let module = verified(wat);
    assert_eq!(module.access_counts().proven, 2);
    // sum over i < 64, j < 128 of i * j = (63 * 64 / 2) * (127 * 128 / 2).
    let expected = Val::I64(2016 * 8128);
    for elide in [true, false] {
        let got = instance(&module, elide).invoke("run", &[]).unwrap();
        assert_eq!(got, vec![expected], "elide {elide}");
    }
}

/// Pointer loops the verifier cannot prove but can hoist: `fill(p, n)`
/// stores `n, n-1, .., 1` at `p, p+4, ..` counting `n` down to 0;
/// `up(p, n)` stores `i + 1` at `p + 8 + 8*i` counting `i` up to `n` by
/// one; `fill4(p, n)` counts `i` up to `n` by four, so an `n` that is not
/// a multiple of 4 runs the counter past `n` (until the memory ends);
/// `grow()` adds a page; `get(a)` reads the word at `a`.
const POINTER_LOOPS: &str = r#"(module (memory 1)
  (func (export "get") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "fill") (param $p i32) (param $n i32)
    (loop $l
      (i32.store (local.get $p) (local.get $n))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "up") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i64.store offset=8 (local.get $p) (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
  (func (export "fill4") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (local.get $p) (i32.const 9))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n))))))"#;

/// Calls `func(args)` on a fresh instance with and without elision (and
/// so hoisting); both must agree on the trap (or none) and on the words
/// at `probes` afterwards.
fn same_with_and_without_hoisting(module: &VerifiedModule, calls: &[(&str, [i32; 2])], probes: &[i32]) -> Option<TrapInfo> {
    let mut outcomes = Vec::new();
    for elide in [true, false] {
        let mut inst = instance(module, elide);
        let mut trap = None;
        for (func, args) in calls {
            let args: Vec<Val> = if *func == "grow" { vec![] } else { args.iter().map(|a| Val::I32(*a)).collect() };
            match inst.invoke(func, &args) {
                Ok(_) => {}
                Err(RunError::Trap(t)) => trap = Some(t),
                Err(e) => panic!("{func}: {e:?}"),
            }
        }
        let words: Vec<_> = probes.iter().map(|a| inst.invoke("get", &[Val::I32(*a)]).unwrap()).collect();
        outcomes.push((trap, words));
    }
    let hoisted = outcomes.remove(0);
    let checked = outcomes.remove(0);
    assert_eq!(hoisted.0.as_ref().map(|t| (t.code, t.func, t.wasm_offset)), checked.0.as_ref().map(|t| (t.code, t.func, t.wasm_offset)), "{calls:?}");
    assert_eq!(hoisted.1, checked.1, "{calls:?}: memory after the calls");
    hoisted.0
}

#[test]
fn pointer_loops_are_hoisted() {
    let module = verified(POINTER_LOOPS);
    let counts = module.access_counts();
    assert_eq!((counts.proven, counts.hoisted, counts.checked), (0, 3, 1), "{counts:?}");
    assert_eq!(module.accesses[2].hoisted.len(), 1, "fill");
}

#[test]
fn hoisted_loop_in_bounds_stores_every_element() {
    let module = verified(POINTER_LOOPS);
    let trap = same_with_and_without_hoisting(&module, &[("fill", [1000, 100])], &[1000, 1004, 1396, 1400]);
    assert!(trap.is_none());
    let mut inst = instance(&module, true);
    inst.invoke("fill", &[Val::I32(65536 - 400), Val::I32(100)]).unwrap();
    assert_eq!(inst.invoke("get", &[Val::I32(65536 - 400)]).unwrap(), vec![Val::I32(100)]);
    assert_eq!(inst.invoke("get", &[Val::I32(65532)]).unwrap(), vec![Val::I32(1)]);
}

#[test]
fn hoisted_loop_one_past_the_end_traps_at_the_faulting_store() {
    let module = verified(POINTER_LOOPS);
    // 101 words from 400 bytes before the end: the last store faults,
    // after the 100 before it.
    let start = 65536 - 400;
    for (func, n) in [("fill", 101), ("up", 50), ("up", 49)] {
        let trap = same_with_and_without_hoisting(&module, &[(func, [start, n])], &[start, start + 8, 65528, 65532]);
        let expect_trap = func == "fill" || n == 50;
        assert_eq!(trap.is_some(), expect_trap, "{func}({start}, {n})");
        if let Some(t) = trap {
            assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
        }
    }
    // What the spec says, not only what the checked code does: every
    // store before the faulting one happened.
    let mut inst = instance(&module, true);
    trap_of(inst.invoke("fill", &[Val::I32(start), Val::I32(101)]));
    assert_eq!(inst.invoke("get", &[Val::I32(start)]).unwrap(), vec![Val::I32(101)]);
    assert_eq!(inst.invoke("get", &[Val::I32(65532)]).unwrap(), vec![Val::I32(2)]);
    trap_of(inst.invoke("up", &[Val::I32(start), Val::I32(50)]));
    assert_eq!(inst.invoke("get", &[Val::I32(65528)]).unwrap(), vec![Val::I32(49)]);
}

#[test]
fn hoisted_loop_bounds_known_only_at_run_time() {
    let module = verified(POINTER_LOOPS);
    // A count of 0 wraps: 2^32 iterations, trapping at the memory's end.
    // A start past the end traps at once; so does one wrapping below 0.
    for args in [[0, 0], [65536, 1], [65535, 1], [-4, 2], [65532, 1], [0, 16384], [0, 16385]] {
        same_with_and_without_hoisting(&module, &[("fill", args)], &[0, 4, 65532]);
        same_with_and_without_hoisting(&module, &[("up", args)], &[8, 16, 65528]);
        same_with_and_without_hoisting(&module, &[("fill4", args)], &[0, 4, 65532]);
    }
    // A count that is not a multiple of the step never meets the limit.
    let trap = same_with_and_without_hoisting(&module, &[("fill4", [0, 6])], &[0, 4, 65532]);
    assert!(trap.is_some(), "fill4 runs to the end of the memory");
    // After memory.grow the same loop fits: the check reads the current size.
    let calls = [("grow", [0, 0]), ("fill", [65536, 16384])];
    assert!(same_with_and_without_hoisting(&module, &calls, &[65536, 131068]).is_none());
    let calls = [("grow", [0, 0]), ("fill", [65536, 16385])];
    assert!(same_with_and_without_hoisting(&module, &calls, &[65536, 131068]).is_some());
}

#[test]
fn loop_variables_changed_in_the_body_are_not_hoisted() {
    // The pointer jumps on some iterations, the counter is reset on
    // others: neither steps by a constant, so nothing is hoisted, and the
    // loops still trap where the spec says.
    let module = verified(
        r#"(module (memory 1)
      (func (export "get") (param $a i32) (result i32) (i32.load (local.get $a)))
      (func (export "jump") (param $p i32) (param $n i32)
        (loop $l
          (i32.store (local.get $p) (local.get $n))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (if (i32.eq (local.get $n) (i32.const 3))
            (then (local.set $p (i32.add (local.get $p) (i32.const 4096)))))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "reset") (param $p i32) (param $n i32) (local $i i32)
        (loop $l
          (i32.store (local.get $p) (local.get $i))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.eq (local.get $i) (i32.const 5)) (then (local.set $i (i32.const 7))))
          (br_if $l (i32.ne (local.get $i) (local.get $n))))))"#,
    );
    let counts = module.access_counts();
    assert_eq!(counts.hoisted, 0, "{counts:?}");
    for args in [[0, 10], [65536 - 4096 - 40, 10], [65536 - 4096 - 40, 9], [65500, 10]] {
        same_with_and_without_hoisting(&module, &[("jump", args)], &[0, 8, 4108, 65532]);
        same_with_and_without_hoisting(&module, &[("reset", args)], &[0, 8, 65532]);
    }
}

#[test]
fn row_base_plus_pointer_is_hoisted_only_when_the_base_is_invariant() {
    // `row(q, n)`: stores n..1 at q + 0, q + 4, ..: the index is a sum of
    // an invariant row base and a stepped pointer, as clang emits for
    // `C[i][j]`. `drift` changes the base in the body: not hoisted.
    let module = verified(
        r#"(module (memory 1)
      (func (export "get") (param $a i32) (result i32) (i32.load (local.get $a)))
      (func (export "row") (param $q i32) (param $n i32) (local $p i32)
        (loop $l
          (i32.store (i32.add (local.get $q) (local.get $p)) (local.get $n))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "drift") (param $q i32) (param $n i32) (local $p i32)
        (loop $l
          (i32.store (i32.add (local.get $p) (local.get $q)) (local.get $n))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (local.get $n)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    );
    assert_eq!(module.accesses[1].hoisted_count(), 1, "row");
    assert_eq!(module.accesses[2].hoisted_count(), 0, "drift");
    for args in [[0, 100], [65536 - 400, 100], [65536 - 400, 101], [-400, 100], [-4, 2], [65535, 1], [0, 0]] {
        same_with_and_without_hoisting(&module, &[("row", args)], &[0, 4, 65136, 65532]);
        same_with_and_without_hoisting(&module, &[("drift", args)], &[0, 4, 65136, 65532]);
    }
}

/// Pointer loops exited by ordered tests (`<`, `<=`, `>`, `>=`, signed and
/// unsigned, either operand order), each storing a word at `p`, `p + 4`,
/// .. per iteration: `lt_u(p, n)` counts `i` up by one while `i <u n`,
/// `le_s(p, n)` while `i <=s n`; `gt_u(p, n)` counts `i = n` down by one
/// while `i >u 3`, `ge_s(p, n)` down by two while `i >=s 0` (stepping the
/// pointer by 8); `n_gt_u(p, n)` tests `n >u i`; `lt4(p, n)` counts up by
/// four while `i <u n`, so an `n` within 4 of 2^32 wraps the counter and
/// the loop runs until the memory ends; `down32(p, n)` steps `n` down by
/// 32 while `n >u 15`, like musl's memcpy: from an `n` whose last step
/// lands in 0..=15 it ends, from one that steps below 0 it wraps and runs
/// on; `lt_jump(p, n)` bumps its counter in the body (no relation: not
/// hoisted).
const ORDERED_LOOPS: &str = r#"(module (memory 1)
  (func (export "get") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "lt_u") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
  (func (export "le_s") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.le_s (local.get $i) (local.get $n)))))
  (func (export "gt_u") (param $p i32) (param $n i32) (local $i i32)
    (local.set $i (local.get $n))
    (loop $l
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.gt_u (local.tee $i (i32.sub (local.get $i) (i32.const 1))) (i32.const 3)))))
  (func (export "ge_s") (param $p i32) (param $n i32) (local $i i32)
    (local.set $i (local.get $n))
    (loop $l
      (i64.store (local.get $p) (i64.const -1))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $l (i32.ge_s (local.tee $i (i32.sub (local.get $i) (i32.const 2))) (i32.const 0)))))
  (func (export "n_gt_u") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store offset=4 (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.gt_u (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1)))))))
  (func (export "lt4") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n)))))
  (func (export "down32") (param $p i32) (param $n i32)
    (loop $l
      (i32.store (local.get $p) (local.get $n))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.gt_u (local.tee $n (i32.sub (local.get $n) (i32.const 32))) (i32.const 15)))))
  (func (export "lt_jump") (param $p i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eq (local.get $i) (i32.const 3)) (then (local.set $i (i32.const 0x7ffffff0))))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))))"#;

#[test]
fn ordered_exit_tests_are_hoisted() {
    use kwo_verifier::analysis::TripTest;
    let module = verified(ORDERED_LOOPS);
    let tests: Vec<Option<TripTest>> = module.accesses[1..]
        .iter()
        .map(|f| match &f.hoisted[..] {
            [h] => h.trip.as_ref().map(|t| t.test),
            _ => None,
        })
        .collect();
    let below = |signed, inclusive| Some(TripTest::Below { signed, inclusive });
    let above = |signed, inclusive| Some(TripTest::Above { signed, inclusive });
    assert_eq!(
        tests,
        [
            below(false, false),
            below(true, true),
            above(false, false),
            above(true, true),
            below(false, false),
            below(false, false),
            above(false, false),
            None
        ],
        "lt_u, le_s, gt_u, ge_s, n_gt_u, lt4, down32, lt_jump"
    );
}

#[test]
fn ordered_exit_loops_trap_where_the_spec_says() {
    let module = verified(ORDERED_LOOPS);
    let end = 65536;
    // Arguments around the memory's end, counts of 0, 1 and negative
    // (signed: one iteration; unsigned: huge), starts past the end.
    let mut cases = vec![[0, 0], [0, 1], [0, 100], [end - 400, 100], [end - 400, 101], [end - 400, 99], [end, 1], [-4, 2]];
    cases.extend([[0, -1], [0, i32::MIN], [0, i32::MAX], [end - 8, -5], [end - 12, 4], [end - 12, 5], [8, 16384]]);
    for args in cases {
        for func in ["lt_u", "le_s", "gt_u", "ge_s", "n_gt_u", "lt4", "down32", "lt_jump"] {
            same_with_and_without_hoisting(&module, &[(func, args)], &[0, 4, 8, end - 8, end - 4]);
        }
    }
    // A counter stepping by 4 towards a limit within 4 of 2^32 wraps
    // before it passes it: the loop runs on until the memory ends.
    for n in [-1, -2, -3, -4, -5] {
        let trap = same_with_and_without_hoisting(&module, &[("lt4", [0, n])], &[0, end - 4]);
        assert!(trap.is_some(), "lt4(0, {n})");
    }
    // down32 ends when its last step lands in 0..=15 (47: 2 stores; 40:
    // 1) and wraps when it steps below 0 (60, 20: on until the memory ends).
    for (n, ends) in [(47, true), (40, true), (15 + 32 * 100, true), (60, false), (20, false), (31, false)] {
        let trap = same_with_and_without_hoisting(&module, &[("down32", [0, n])], &[0, 4, end - 4]);
        assert_eq!(trap.is_none(), ends, "down32(0, {n})");
    }
    // Exactly to the end fits; one more word traps at the faulting store
    // with every earlier one done.
    for (func, n) in [("lt_u", 100), ("le_s", 99), ("gt_u", 103), ("n_gt_u", 99)] {
        let start = end - 400;
        assert!(same_with_and_without_hoisting(&module, &[(func, [start, n])], &[start, end - 4]).is_none(), "{func}({n})");
        let trap = same_with_and_without_hoisting(&module, &[(func, [start, n + 1])], &[start, end - 4]);
        assert!(trap.is_some(), "{func}({n} + 1)");
    }
}

/// Loops whose accesses go through a base the loop never changes plus an
/// offset the intervals bound (`q + (h & 0x7fff) * 2`, a hash-chain walk):
/// hoisted whatever the trip count. `chain(q, n)` stores `n` at
/// `q + 2 * (h & 0x7fff)` for `h` from `n` up by one (the intervals see
/// only the mask), so 32768 stores reach `q + 65534` (two bytes); `minus(q, n)` stores a byte at
/// `q + (h & 0xff) - 1`, one below `q` when `h & 0xff` is 0 (wrapping
/// below 0 when `q` is 0); `nested(q, n)` runs an inner loop in each
/// iteration beside its own access; `moved(q, n)` changes `q` in the body
/// (not hoisted).
const BASED_LOOPS: &str = r#"(module (memory 1)
  (func (export "get") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "chain") (param $q i32) (param $n i32) (local $h i32)
    (local.set $h (local.get $n))
    (loop $l
      (i32.store16 (i32.add (local.get $q) (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 1)))
        (local.get $n))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "minus") (param $q i32) (param $n i32) (local $h i32)
    (local.set $h (local.get $n))
    (loop $l
      (i32.store8 (i32.add (i32.add (local.get $q) (i32.and (local.get $h) (i32.const 0xff))) (i32.const -1))
        (local.get $n))
      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.const 7)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "nested") (param $q i32) (param $n i32) (local $h i32) (local $j i32)
    (local.set $h (local.get $n))
    (loop $l
      (i32.store8 offset=3 (i32.add (local.get $q) (i32.and (local.get $h) (i32.const 0x3ff))) (local.get $n))
      (local.set $j (i32.const 4))
      (loop $inner
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $j)))
        (br_if $inner (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "moved") (param $q i32) (param $n i32) (local $h i32)
    (local.set $h (local.get $n))
    (loop $l
      (i32.store16 (i32.add (local.get $q) (i32.and (local.get $h) (i32.const 0xfe))) (local.get $n))
      (local.set $q (i32.add (local.get $q) (local.get $n)))
      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.const 7)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

#[test]
fn unchanged_base_plus_bounded_offset_is_hoisted_without_a_trip_count() {
    let module = verified(BASED_LOOPS);
    let hoisted: Vec<_> = module.accesses[1..].iter().map(|f| (f.hoisted_count(), f.hoisted.first().map(|h| h.trip.is_some()))).collect();
    assert_eq!(hoisted, [(1, Some(false)), (1, Some(false)), (1, Some(false)), (0, None)], "chain, minus, nested, moved");
    let range = |f: usize| {
        let r = &module.accesses[f].hoisted[0].ranges[0];
        (r.local, r.plus, r.step, r.lo, r.hi)
    };
    assert_eq!(range(1), (0, None, 0, 0, 65536), "chain");
    assert_eq!(range(2), (0, None, 0, -1, 255), "minus");
    assert_eq!(range(3), (0, None, 0, 0, 1027), "nested");
}

#[test]
fn unchanged_base_loops_trap_where_the_spec_says() {
    let module = verified(BASED_LOOPS);
    // In bounds up to the last two bytes; two bytes more and the store
    // of `h & 0x7fff = 0x7fff` lands past the end.
    let probes = [0, 4, 1000, 65532];
    assert!(same_with_and_without_hoisting(&module, &[("chain", [0, 40000])], &probes).is_none());
    assert!(same_with_and_without_hoisting(&module, &[("chain", [2, 40000])], &probes).is_some());
    for args in [[0, 1], [1, 3], [65535, 1], [-2, 5], [-65536, 100], [1, 40000], [3, 1]] {
        same_with_and_without_hoisting(&module, &[("chain", args)], &probes);
        same_with_and_without_hoisting(&module, &[("moved", args)], &probes);
        same_with_and_without_hoisting(&module, &[("nested", args)], &probes);
    }
    // `q - 1` wraps below 0 for q = 0 when `h & 0xff` is 0 (n = 256 is
    // the first such value); from q = 1 the byte at 0 is the lowest.
    let t = same_with_and_without_hoisting(&module, &[("minus", [0, 256])], &probes).expect("minus(0, 256) wraps");
    assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
    for args in [[1, 256], [0, 255], [65536 - 255, 300], [65536 - 256, 3000], [-1, 5]] {
        same_with_and_without_hoisting(&module, &[("minus", args)], &probes);
    }
    assert!(same_with_and_without_hoisting(&module, &[("minus", [1, 3000])], &probes).is_none());
    // `nested` reaches q + 3 + 1023 and no further: its first store, at
    // q + 3 + (n & 0x3ff), is there for n = 1023.
    assert!(same_with_and_without_hoisting(&module, &[("nested", [65536 - 1027, 1023])], &probes).is_none());
    assert!(same_with_and_without_hoisting(&module, &[("nested", [65536 - 1026, 1023])], &probes).is_some());
}
