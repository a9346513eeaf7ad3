//! Loops without a header checkpoint (docs/compiler.md, "Checkpoints"),
//! observed through fuel, which counts checkpoints exactly: a loop whose
//! trip count the verifier bounds statically, or whose run-time trip count
//! is at most the cap, burns no fuel per iteration; one trip more, a count
//! that wraps to 2^32 iterations, a counter changed in the body or a loop
//! that never ends still burn fuel on every iteration and run out. Every
//! result is the same with elision on and off.

mod common;

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, Val};
use kwo_verifier::analysis::LoopBound;
use common::verified;
use kwo_verifier::VerifiedModule;

fn instance(module: &VerifiedModule, elide_proven: bool, fuel: u64) -> Instance {
    common::instance_with(module, elide_proven, &Config { fuel: Some(fuel), ..Config::default() })
}

/// `count(n)`: counts `i` from 0 until it equals `n` (0: 2^32 times);
/// `from(i, n)`: counts from `i` up to `n`, wrapping past 2^32, and
/// returns the iterations; `rounds()`: 64 rounds of a hash, a constant
/// trip count; `reset(n)`: like `count` but sets `i` back to 0 at 5, so
/// it never ends for `n > 5`; `spin()`: a loop with no exit; `below(n)`
/// counts while `i <u n`; `up_to(n)` steps by 2 while `i <=u n` and
/// returns its iterations (never ending for `n >= 2^32 - 2`: the counter
/// wraps first); `down(n)` counts `n` down while `n >=s -5`.
const LOOPS: &str = r#"(module
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "from") (param $i i32) (param $n i32) (result i32) (local $k i32)
    (loop $l
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (local.get $k))
  (func (export "rounds") (result i32) (local $i i32) (local $h i32)
    (loop $l
      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 64))))
    (local.get $h))
  (func (export "reset") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eq (local.get $i) (i32.const 5)) (then (local.set $i (i32.const 0))))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "spin") (loop $l (br $l)))
  (func (export "below") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $i))
  (func (export "up_to") (param $n i32) (result i32) (local $i i32) (local $k i32)
    (loop $l
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $n))))
    (local.get $k))
  (func (export "down") (param $n i32) (result i32) (local $k i32)
    (loop $l
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.ge_s (local.tee $n (i32.sub (local.get $n) (i32.const 1))) (i32.const -5))))
    (local.get $k)))"#;

/// Enough fuel for the entry checkpoint and a few more, far fewer than
/// any loop here iterates.
const LITTLE_FUEL: u64 = 10;

fn run(module: &VerifiedModule, elide: bool, fuel: u64, func: &str, args: &[i32]) -> Result<Vec<Val>, TrapCode> {
    let args: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
    match instance(module, elide, fuel).invoke(func, &args) {
        Ok(v) => Ok(v),
        Err(RunError::Trap(t)) => Err(t.code),
        Err(e) => panic!("{func}: {e:?}"),
    }
}

/// The cap on the run-time trip count of function `func`'s loop.
fn cap_of(module: &VerifiedModule, func: usize) -> i32 {
    match &module.accesses[func].short_loops[..] {
        [s] => match s.bound {
            LoopBound::Trips { max_visits, .. } => max_visits as i32,
            LoopBound::Visits(k) => panic!("func {func}: a static bound of {k} visits"),
        },
        other => panic!("func {func}: {other:?}"),
    }
}

#[test]
fn the_facts_say_which_loops_are_short() {
    let module = verified(LOOPS);
    assert_eq!(cap_of(&module, 0), 4096, "count: a small body gets the largest cap");
    assert_eq!(cap_of(&module, 1), 4096, "from");
    let rounds = &module.accesses[2].short_loops;
    assert!(matches!(rounds[..], [ref s] if s.bound == LoopBound::Visits(64)), "rounds: {rounds:?}");
    assert!(module.accesses[3].short_loops.is_empty(), "reset: the counter changes in the body");
    assert!(module.accesses[4].short_loops.is_empty(), "spin: no trip count");
}

#[test]
fn run_time_trip_count_up_to_the_cap_burns_no_fuel_per_iteration() {
    let module = verified(LOOPS);
    let cap = cap_of(&module, 0);
    for n in [1, 2, cap / 2, cap - 1, cap] {
        assert_eq!(run(&module, true, LITTLE_FUEL, "count", &[n]), Ok(vec![Val::I32(n)]), "count({n})");
        // Without elision every iteration passes a checkpoint.
        let plenty = 2 * cap as u64;
        assert_eq!(run(&module, false, plenty, "count", &[n]), Ok(vec![Val::I32(n)]), "count({n}), checked");
        if n > LITTLE_FUEL as i32 {
            let t = run(&module, false, LITTLE_FUEL, "count", &[n]);
            assert_eq!(t, Err(TrapCode::FuelExhausted), "count({n}), checked");
        }
    }
}

#[test]
fn one_trip_past_the_cap_burns_fuel_again() {
    let module = verified(LOOPS);
    let cap = cap_of(&module, 0);
    for elide in [true, false] {
        let t = run(&module, elide, LITTLE_FUEL, "count", &[cap + 1]);
        assert_eq!(t, Err(TrapCode::FuelExhausted), "count(cap + 1), elide {elide}");
        let done = run(&module, elide, 2 * cap as u64, "count", &[cap + 1]);
        assert_eq!(done, Ok(vec![Val::I32(cap + 1)]), "count(cap + 1), elide {elide}");
    }
}

#[test]
fn huge_and_wrapping_trip_counts_still_yield() {
    let module = verified(LOOPS);
    // 0 wraps: 2^32 iterations; 2^31 is merely huge. Both must run out of
    // fuel, with and without elision.
    for n in [0, i32::MIN, i32::MAX, 1 << 20] {
        for elide in [true, false] {
            let t = run(&module, elide, 10_000, "count", &[n]);
            assert_eq!(t, Err(TrapCode::FuelExhausted), "count({n}), elide {elide}");
        }
    }
    // A counter that wraps past 2^32 on its way to a small limit: 32 and
    // 4096 iterations fit the cap, 4097 do not.
    for (from, n, iterations) in [(-16, 16, 32), (-4000, 96, 4096), (-4001, 96, 4097)] {
        let fits = iterations <= cap_of(&module, 1);
        let fuel_left = run(&module, true, LITTLE_FUEL, "from", &[from, n]);
        let expected = if fits { Ok(vec![Val::I32(iterations)]) } else { Err(TrapCode::FuelExhausted) };
        assert_eq!(fuel_left, expected, "from({from}, {n})");
        let checked = run(&module, false, 10_000, "from", &[from, n]);
        assert_eq!(checked, Ok(vec![Val::I32(iterations)]), "from({from}, {n}), checked");
    }
}

#[test]
fn statically_short_loop_has_no_checkpoint() {
    let module = verified(LOOPS);
    let elided = run(&module, true, 2, "rounds", &[]);
    let checked = run(&module, false, 100, "rounds", &[]);
    assert_eq!(elided, checked);
    assert!(elided.is_ok(), "{elided:?}");
    assert_eq!(run(&module, false, LITTLE_FUEL, "rounds", &[]), Err(TrapCode::FuelExhausted));
}

#[test]
fn loops_that_may_not_end_keep_their_checkpoint() {
    let module = verified(LOOPS);
    for elide in [true, false] {
        assert_eq!(run(&module, elide, 1000, "reset", &[10]), Err(TrapCode::FuelExhausted), "reset, elide {elide}");
        assert_eq!(run(&module, elide, 1000, "reset", &[3]), Ok(vec![Val::I32(3)]), "reset(3), elide {elide}");
        assert_eq!(run(&module, elide, 1000, "spin", &[]), Err(TrapCode::FuelExhausted), "spin, elide {elide}");
    }
}

#[test]
fn ordered_exit_tests_bound_the_trip_at_run_time() {
    let module = verified(LOOPS);
    let cap = cap_of(&module, 5);
    assert_eq!(cap_of(&module, 6), cap);
    assert_eq!(cap_of(&module, 7), cap);
    // `below(n)` goes round max(n, 1) times: the cap fits, one more not.
    for (n, fits) in [(0, true), (1, true), (cap, true), (cap + 1, false), (-1, false)] {
        let expected = if fits { Ok(vec![Val::I32(n.max(1))]) } else { Err(TrapCode::FuelExhausted) };
        assert_eq!(run(&module, true, LITTLE_FUEL, "below", &[n]), expected, "below({n})");
    }
    // `up_to(n)`: n / 2 + 1 rounds while that is at most the cap.
    for (n, rounds) in [(0, 1), (1, 1), (2, 2), (2 * cap - 2, cap), (2 * cap - 1, cap)] {
        assert_eq!(run(&module, true, LITTLE_FUEL, "up_to", &[n]), Ok(vec![Val::I32(rounds)]), "up_to({n})");
        assert_eq!(run(&module, false, 2 * cap as u64, "up_to", &[n]), Ok(vec![Val::I32(rounds)]), "up_to({n})");
    }
    assert_eq!(run(&module, true, LITTLE_FUEL, "up_to", &[2 * cap]), Err(TrapCode::FuelExhausted));
    // The counter wraps before it passes n: the loop never ends, and
    // still yields.
    for n in [-1, -2, -3] {
        assert_eq!(run(&module, true, 10_000, "up_to", &[n]), Err(TrapCode::FuelExhausted), "up_to({n})");
    }
    // `down(n)`: n + 6 rounds (at least one).
    for (n, fits) in [(-100, true), (-6, true), (0, true), (cap - 6, true), (cap - 5, false), (i32::MAX, false)] {
        let rounds = (i64::from(n) + 6).max(1) as i32;
        let expected = if fits { Ok(vec![Val::I32(rounds)]) } else { Err(TrapCode::FuelExhausted) };
        assert_eq!(run(&module, true, LITTLE_FUEL, "down", &[n]), expected, "down({n})");
    }
    // i32::MIN steps down to i32::MAX, 2^31 rounds above -5.
    for elide in [true, false] {
        assert_eq!(run(&module, elide, 10_000, "down", &[i32::MIN]), Err(TrapCode::FuelExhausted));
    }
    assert_eq!(run(&module, true, LITTLE_FUEL, "down", &[i32::MIN + 1]), Ok(vec![Val::I32(1)]));
}

/// `count(n)` as above, its body grown to `4 * filler + 8` operators.
fn long_counting_loop(filler: usize) -> String {
    let add = "(local.set $h (i32.add (local.get $h) (local.get $i)))".repeat(filler);
    format!(
        r#"(module
          (func (export "count") (param $n i32) (result i32) (local $i i32) (local $h i32)
            (loop $l
              {add}
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.ne (local.get $i) (local.get $n))))
            (local.get $i)))"#
    )
}

/// A copy without the header checkpoint is made only for bodies of at
/// most 256 operators (the verifier then allows 256 visits or more):
/// beyond that one checkpoint per iteration is noise next to the body,
/// and the copy would cost compile time in proportion to it.
#[test]
fn long_bodies_keep_their_checkpoint() {
    for (filler, cap, copied) in [(62, 256, true), (63, 252, false)] {
        let module = verified(&long_counting_loop(filler));
        assert_eq!(cap_of(&module, 0), cap, "{} operators", 4 * filler + 8);
        let little = run(&module, true, LITTLE_FUEL, "count", &[100]);
        let expected = if copied { Ok(vec![Val::I32(100)]) } else { Err(TrapCode::FuelExhausted) };
        assert_eq!(little, expected, "{} operators", 4 * filler + 8);
        for elide in [true, false] {
            assert_eq!(run(&module, elide, 200, "count", &[100]), Ok(vec![Val::I32(100)]));
            let checked = run(&module, false, LITTLE_FUEL, "count", &[100]);
            assert_eq!(checked, Err(TrapCode::FuelExhausted), "{} operators, checked", 4 * filler + 8);
        }
    }
}
