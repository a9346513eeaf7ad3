//! The range analysis: which loads and stores it proves inside the minimum
//! memory. Each case names the accesses it expects proven; everything a
//! wrong proof could let through (one past the end, bounds known only at
//! run time, wrap-around) must stay checked. Trap behaviour of the same
//! shapes at run time is tested in `loader/tests/range.rs`.

use kwo_verifier::analysis::TripTest;
use kwo_verifier::{verify, Policy};

/// Proven flags of the loads and stores of function `func` (defined
/// function index), in code order.
fn proven(wat: &str, func: usize) -> Vec<bool> {
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    let facts = &module.accesses[func];
    let body = &module.bodies[func];
    let reader = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &module.wasm[body.range.clone()],
        body.range.start,
    ));
    let mut ops = reader.get_operators_reader().unwrap();
    let mut out = Vec::new();
    while !ops.eof() {
        let (op, off) = ops.read_with_offset().unwrap();
        let name = format!("{op:?}");
        if name.contains("Load") || name.contains("Store") {
            out.push(facts.is_proven(off));
        }
    }
    assert_eq!(out.len() as u32, facts.accesses);
    out
}

/// `for i in 0..n { a[i] = i }` over 100 i32s at 1024, with `cmp` exiting.
fn counted_loop(limit: &str, cmp: &str) -> String {
    format!(
        r#"(module (memory 1)
      (func (export "f") (local $i i32)
        (loop $l
          (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l ({cmp} (local.get $i) (i32.const {limit}))))))"#
    )
}

#[test]
fn counted_loops_over_a_constant_array_are_proven() {
    for cmp in ["i32.lt_u", "i32.lt_s", "i32.ne"] {
        assert_eq!(proven(&counted_loop("100", cmp), 0), [true], "{cmp}");
    }
}

#[test]
fn a_loop_one_element_past_the_end_is_not_proven() {
    // 1024 + 4 * 15104 = 61440 + 4 * ... : exactly at the end of 1 page.
    let fits = (65536 - 1024) / 4;
    assert_eq!(
        proven(&counted_loop(&fits.to_string(), "i32.lt_u"), 0),
        [true]
    );
    let past = fits + 1;
    for cmp in ["i32.lt_u", "i32.lt_s", "i32.ne"] {
        assert_eq!(
            proven(&counted_loop(&past.to_string(), cmp), 0),
            [false],
            "{cmp}"
        );
    }
}

#[test]
fn while_loop_with_the_test_at_the_top_is_proven() {
    let wat = r#"(module (memory 1)
      (func (export "f") (result i32) (local $i i32) (local $sum i32)
        (block $done (loop $l
          (br_if $done (i32.ge_s (local.get $i) (i32.const 256)))
          (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.get $sum)))"#;
    assert_eq!(proven(wat, 0), [true]);
}

#[test]
fn bounds_known_only_at_run_time_are_not_proven() {
    // The limit is a parameter: it may be anything.
    let param = r#"(module (memory 1)
      (func (export "f") (param $n i32) (local $i i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))))"#;
    assert_eq!(proven(param, 0), [false]);
    // The same loop after the caller's limit is checked against the array.
    let checked = r#"(module (memory 1)
      (func (export "f") (param $n i32) (local $i i32)
        (if (i32.gt_u (local.get $n) (i32.const 1000)) (then (return)))
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))))"#;
    assert_eq!(proven(checked, 0), [true]);
    // Globals and loaded values are unknown.
    let global = r#"(module (memory 1) (global $g (mut i32) (i32.const 0))
      (func (export "f") (result i32)
        (i32.add (i32.load (global.get $g)) (i32.load (i32.load (i32.const 0))))))"#;
    // In code order: the load at the global, the inner load at 0 (proven),
    // the load at the loaded value.
    assert_eq!(proven(global, 0), [false, true, false]);
}

#[test]
fn a_signed_check_does_not_bound_a_negative_index() {
    // i < 100 signed holds for every negative i, which as an index is huge.
    let wat = r#"(module (memory 1)
      (func (export "f") (param $i i32) (result i32)
        (if (result i32) (i32.lt_s (local.get $i) (i32.const 100))
          (then (i32.load8_u (local.get $i)))
          (else (i32.const 0)))))"#;
    assert_eq!(proven(wat, 0), [false]);
    let both = r#"(module (memory 1)
      (func (export "f") (param $i i32) (result i32)
        (if (result i32) (i32.and (i32.lt_s (local.get $i) (i32.const 100))
                                  (i32.ge_s (local.get $i) (i32.const 0)))
          (then (i32.load8_u (local.get $i)))
          (else (i32.const 0)))))"#;
    // An `and` of two conditions is not a condition the analysis follows.
    assert_eq!(proven(both, 0), [false]);
    let nested = r#"(module (memory 1)
      (func (export "f") (param $i i32) (result i32)
        (if (result i32) (i32.lt_s (local.get $i) (i32.const 100))
          (then (if (result i32) (i32.ge_s (local.get $i) (i32.const 0))
            (then (i32.load8_u (local.get $i))) (else (i32.const 0))))
          (else (i32.const 0)))))"#;
    assert_eq!(proven(nested, 0), [true]);
}

#[test]
fn wrap_around_is_not_proven() {
    // 0xffff_fff0 + 0x20 wraps to 0x10, but the analysis must not assume
    // a wrapped sum is small unless every sum wraps the same way.
    let add = r#"(module (memory 1)
      (func (export "f") (param $x i32) (result i32)
        (i32.load (i32.add (i32.and (local.get $x) (i32.const 0xff)) (i32.const 0xffffff00)))))"#;
    assert_eq!(proven(add, 0), [false]);
    let mul = r#"(module (memory 1)
      (func (export "f") (param $x i32) (result i32)
        (i32.load (i32.mul (i32.and (local.get $x) (i32.const 0xffff)) (i32.const 0x10001)))))"#;
    assert_eq!(proven(mul, 0), [false]);
    // A counter stepping down past zero wraps to the top of the range.
    let down = r#"(module (memory 1)
      (func (export "f") (local $i i32)
        (local.set $i (i32.const 10))
        (loop $l
          (i32.store8 (local.get $i) (i32.const 0))
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br_if $l (i32.ne (local.get $i) (i32.const 0xfffffff0))))))"#;
    assert_eq!(proven(down, 0), [false]);
    // Shifting out the top bits is a wrap too.
    let shl = r#"(module (memory 1)
      (func (export "f") (param $x i32) (result i32)
        (i32.load (i32.shl (i32.and (local.get $x) (i32.const 0xff)) (i32.const 28)))))"#;
    assert_eq!(proven(shl, 0), [false]);
}

#[test]
fn offsets_and_widths_count() {
    let wat = r#"(module (memory 1)
      (func (export "f") (param $x i32)
        (local.set $x (i32.and (local.get $x) (i32.const 0xfff0)))
        (i64.store offset=8 (local.get $x) (i64.const 0))
        (i64.store offset=9 (local.get $x) (i64.const 0))
        (i32.store8 offset=15 (local.get $x) (i32.const 0))
        (i32.store16 offset=15 (local.get $x) (i32.const 0))))"#;
    // 0xfff0 + 8 + 8 = 65536 fits exactly; one more byte does not.
    assert_eq!(proven(wat, 0), [true, false, true, false]);
}

#[test]
fn i64_arithmetic_wrapped_to_an_index() {
    let wat = r#"(module (memory 2)
      (func (export "f") (param $x i64) (result i32) (local $j i64)
        (i32.add
          (i32.load (i32.wrap_i64 (i64.and (local.get $x) (i64.const 0x1fff0))))
          (i32.load (i32.wrap_i64 (i64.add (local.get $x) (i64.const 1)))))))"#;
    assert_eq!(proven(wat, 0), [true, false]);
    // An i64 counter, and one whose low 32 bits only look small.
    let counter = r#"(module (memory 1)
      (func (export "f") (local $i i64)
        (loop $l
          (i64.store (i32.wrap_i64 (i64.shl (local.get $i) (i64.const 3))) (local.get $i))
          (local.set $i (i64.add (local.get $i) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $i) (i64.const 8192))))))"#;
    assert_eq!(proven(counter, 0), [true]);
    let high = r#"(module (memory 1)
      (func (export "f") (param $x i64) (result i32)
        (i32.load (i32.wrap_i64 (i64.or (i64.const 0x100000000) (i64.and (local.get $x) (i64.const 0xff)))))))"#;
    assert_eq!(proven(high, 0), [false]);
}

#[test]
fn br_table_targets_all_receive_the_state() {
    let wat = r#"(module (memory 1)
      (func (export "f") (param $k i32) (result i32) (local $p i32)
        (block $big (block $small
          (local.set $p (i32.const 16))
          (br_table $small $big (local.get $k)))
          ;; from $small: p is 16
          (return (i32.load (local.get $p))))
        ;; from $big (default and index 1): p is still 16
        (local.set $p (i32.add (local.get $p) (i32.const 65520)))
        (i32.load (local.get $p))))"#;
    // 16 + 65520 + 4 > 65536 on the second path.
    assert_eq!(proven(wat, 0), [true, false]);
}

#[test]
fn nested_loops_over_a_matrix_are_proven() {
    let wat = r#"(module (memory 1)
      (func (export "f") (local $i i32) (local $j i32)
        (loop $rows
          (local.set $j (i32.const 0))
          (loop $cols
            (f64.store
              (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 64)) (local.get $j)) (i32.const 3))
              (f64.const 1))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cols (i32.lt_s (local.get $j) (i32.const 64))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $rows (i32.lt_s (local.get $i) (i32.const 128))))))"#;
    // 128 * 64 * 8 = 65536: exactly one page.
    assert_eq!(proven(wat, 0), [true]);
    let tall = wat.replace("(i32.const 128)", "(i32.const 129)");
    assert_eq!(proven(&tall, 0), [false]);
}

#[test]
fn block_results_and_dead_code() {
    let wat = r#"(module (memory 1)
      (func (export "f") (param $c i32) (result i32)
        (i32.load8_u
          (if (result i32) (local.get $c) (then (i32.const 10)) (else (i32.const 65535))))
        (return)
        (i32.load (i32.const 0))))"#;
    // The dead load is never reached by the analysis: it stays checked.
    assert_eq!(proven(wat, 0), [true, false]);
    let results = r#"(module (memory 1)
      (func (export "f") (param $c i32) (result i32)
        (i32.load
          (block (result i32)
            (br_if 0 (i32.const 65532) (local.get $c))
            (drop) (i32.const 65533)))))"#;
    assert_eq!(proven(results, 0), [false]);
}

#[test]
fn memory_growth_does_not_count_and_calls_clobber_nothing_they_cannot() {
    let wat = r#"(module (memory 1)
      (global $g (mut i32) (i32.const 0))
      (func $set (global.set $g (i32.const 99999)))
      (func (export "f") (result i32) (local $i i32)
        (drop (memory.grow (i32.const 1)))
        (local.set $i (i32.const 65532))
        (call $set)
        (i32.add (i32.load (local.get $i)) (i32.load (i32.const 65536)))))"#;
    assert_eq!(proven(wat, 1), [true, false]);
}

/// clang's shape: a pointer stepped by 8 beside a trip counter counting
/// down to 0, the count clamped by `select` to what the array holds.
fn strided(clamp: u32, stride: u32) -> String {
    format!(
        r#"(module (memory 1)
      (func (export "f") (param $n i32) (local $p i32) (local $c i32)
        (local.set $n (select (local.get $n) (i32.const {clamp}) (i32.lt_s (local.get $n) (i32.const {clamp}))))
        (local.set $n (select (local.get $n) (i32.const 1) (i32.gt_s (local.get $n) (i32.const 1))))
        (local.set $p (i32.const 1024))
        (local.set $c (local.get $n))
        (loop $l
          (f64.store (local.get $p) (f64.const 0))
          (local.set $p (i32.add (local.get $p) (i32.const {stride})))
          (br_if $l (local.tee $c (i32.add (local.get $c) (i32.const -1)))))))"#
    )
}

#[test]
fn pointer_beside_a_trip_counter_is_proven() {
    // 1024 + 8 * 8064 = 65536.
    assert_eq!(proven(&strided(8064, 8), 0), [true]);
    assert_eq!(proven(&strided(8065, 8), 0), [false]);
    assert_eq!(proven(&strided(8064, 9), 0), [false]);
    // Without the clamps the count is any value.
    let unclamped = strided(8064, 8).replace("(local.set $n (select", "(drop (select");
    assert_eq!(proven(&unclamped, 0), [false]);
}

#[test]
fn counting_up_to_a_bounded_limit_with_ne() {
    // `i != n` with n in [1, 4096] and i from 0: i stays below n.
    let wat = r#"(module (memory 1)
      (func (export "f") (param $n i32) (local $i i32) (local $p i32)
        (if (i32.gt_u (local.get $n) (i32.const 4096)) (then (return)))
        (if (i32.eqz (local.get $n)) (then (return)))
        (loop $l
          (i32.store (i32.add (local.get $p) (i32.const 49152)) (local.get $i))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))))"#;
    assert_eq!(proven(wat, 0), [true]);
    // A step of 2 may jump over n: nothing bounds the loop.
    let two = wat.replace(
        "(local.get $i) (i32.const 1)",
        "(local.get $i) (i32.const 2)",
    );
    assert_eq!(proven(&two, 0), [false]);
    // Without the zero check, i + 1 != 0 runs 2^32 times.
    let zero = wat.replace("(if (i32.eqz (local.get $n)) (then (return)))", "");
    assert_eq!(proven(&zero, 0), [false]);
    // n changes in the loop: not a limit.
    let moving = wat.replace(
        "(local.set $p (i32.add (local.get $p) (i32.const 4)))",
        "(local.set $p (i32.add (local.get $p) (i32.const 4))) (local.set $n (i32.add (local.get $n) (i32.const 1)))",
    );
    assert_eq!(proven(&moving, 0), [false]);
}

#[test]
fn a_variable_stepped_only_sometimes_is_not_an_induction_variable() {
    let wat = r#"(module (memory 1)
      (func (export "f") (param $x i32) (local $c i32) (local $p i32)
        (local.set $c (i32.const 100))
        (loop $l
          (i32.store8 (local.get $p) (i32.const 1))
          (if (local.get $x) (then (local.set $p (i32.add (local.get $p) (i32.const 1000)))))
          (br_if $l (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))))"#;
    assert_eq!(proven(wat, 0), [false]);
    // Stepped on every path, it is one: at most 99 * 600 + 1 < 65536.
    let always = wat.replace(
        "(if (local.get $x) (then (local.set $p (i32.add (local.get $p) (i32.const 1000)))))",
        "(local.set $p (i32.add (local.get $p) (i32.const 600)))",
    );
    assert_eq!(proven(&always, 0), [true]);
    let too_far = always.replace("(i32.const 600)", "(i32.const 700)");
    assert_eq!(proven(&too_far, 0), [false]);
}

/// A function with the most locals the kernel policy allows and thousands
/// of branches: copying its state at every branch must not make the
/// analysis slow (the budget counts state sizes); it gives up instead.
#[test]
fn many_locals_and_branches_stay_cheap() {
    let mut body = String::new();
    for _ in 0..5000 {
        body.push_str("(br_if 0 (local.get 0)) (i32.store8 (i32.const 7) (local.get 1))\n");
    }
    let many = " i64".repeat(49_990);
    let wat = format!(
        r#"(module (memory 1) (func (export "f") (param i32) (local i32) (local{many})
          (block (loop {body}))))"#
    );
    let wasm = wat::parse_str(&wat).unwrap();
    let start = std::time::Instant::now();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    assert_eq!(module.accesses[0].accesses, 5000);
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

/// An inner loop that changes a local only on its way out (a `br` past
/// its end) must not pass that local off as unchanged to the outer loop's
/// induction variables.
#[test]
fn a_local_changed_on_an_inner_loops_exit_is_not_an_induction_variable() {
    let wat = r#"(module (memory 1)
      (func (export "f") (param $x i32) (local $p i32) (local $c i32) (local $k i32)
        (local.set $c (i32.const 100))
        (loop $outer
          (i32.store (local.get $p) (i32.const 1))
          (block $out
            (local.set $k (i32.const 0))
            (loop $inner
              (if (local.get $x)
                (then (local.set $p (i32.add (local.get $p) (i32.const 1000))) (br $out)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $inner (i32.lt_u (local.get $k) (i32.const 3)))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $outer (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))))"#;
    assert_eq!(proven(wat, 0), [false]);
    // Leaving without the change, p steps by 4 only: at most 396.
    let unchanged = wat.replace(
        "(local.set $p (i32.add (local.get $p) (i32.const 1000))) (br $out)",
        "(br $out)",
    );
    assert_eq!(proven(&unchanged, 0), [true]);
}

/// The hoisted checks of function 0 of `wat`.
fn hoisted(wat: &str) -> Vec<kwo_verifier::analysis::HoistedLoop> {
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    module.accesses[0].hoisted.clone()
}

/// A pointer loop `p += pstep` beside a counter `c` updated by `next`
/// and exited by `exit` (a `br_if` condition).
fn pointer_loop(pstep: i32, next: &str, exit: &str) -> String {
    format!(
        r#"(module (memory 1)
      (func (export "f") (param $p i32) (param $c i32) (param $n i32)
        (loop $l
          (i64.store offset=16 (local.get $p) (i64.const 1))
          (local.set $p (i32.add (local.get $p) (i32.const {pstep})))
          (local.set $c {next})
          (br_if $l {exit}))))"#
    )
}

#[test]
fn pointer_loops_get_a_hoisted_check_with_their_trip_count() {
    let down = hoisted(&pointer_loop(
        -8,
        "(i32.sub (local.get $c) (i32.const 1))",
        "(local.get $c)",
    ));
    assert_eq!(down.len(), 1);
    let t = down[0].trip.as_ref().unwrap();
    // The exit test reads the counter after the step: header value - 1.
    assert_eq!((t.counter, t.step, t.bias, t.limit_local, t.limit_add), (1, -1, -1, None, 0));
    let r = &down[0].ranges[0];
    assert_eq!((r.local, r.plus, r.step, r.lo, r.hi), (0, None, -8, 0, 24));
    let up = hoisted(&pointer_loop(
        4,
        "(i32.add (local.get $c) (i32.const 2))",
        "(i32.ne (local.get $c) (local.get $n))",
    ));
    let t = up[0].trip.as_ref().unwrap();
    assert_eq!((t.counter, t.step, t.bias, t.limit_local, t.limit_add), (1, 2, 2, Some(2), 0));
    // Ordered exits, either operand order: the test as seen from the counter.
    for (exit, step, test) in [
        ("(i32.lt_u (local.get $c) (local.get $n))", 1, TripTest::Below { signed: false, inclusive: false }),
        ("(i32.ge_u (local.get $n) (local.get $c))", 1, TripTest::Below { signed: false, inclusive: true }),
        ("(i32.gt_s (local.get $c) (local.get $n))", -1, TripTest::Above { signed: true, inclusive: false }),
        ("(i32.le_s (local.get $n) (local.get $c))", -1, TripTest::Above { signed: true, inclusive: true }),
    ] {
        let next = format!("(i32.add (local.get $c) (i32.const {step}))");
        let loops = hoisted(&pointer_loop(4, &next, exit));
        assert_eq!(loops.len(), 1, "{exit}");
        let t = loops[0].trip.as_ref().unwrap();
        assert_eq!((t.counter, t.step, t.bias, t.test, t.limit_local), (1, step, step, test, Some(2)), "{exit}");
    }
}

#[test]
fn loops_without_a_countable_exit_get_no_hoisted_check() {
    for (next, exit) in [
        // `<` with the counter stepping away from the limit, `==`, a step
        // that is not a power of two, a limit the loop changes, a counter
        // reset in the body.
        ("(i32.sub (local.get $c) (i32.const 1))", "(i32.lt_u (local.get $c) (local.get $n))"),
        ("(i32.add (local.get $c) (i32.const 1))", "(i32.gt_s (local.get $c) (local.get $n))"),
        ("(i32.add (local.get $c) (i32.const 1))", "(i32.eq (local.get $c) (local.get $n))"),
        ("(i32.add (local.get $c) (i32.const 3))", "(i32.ne (local.get $c) (local.get $n))"),
        ("(i32.add (local.get $c) (i32.const 1))", "(i32.ne (local.get $c) (local.tee $n (i32.add (local.get $n) (i32.const 1))))"),
        ("(select (i32.const 0) (i32.add (local.get $c) (i32.const 1)) (local.get $n))", "(local.get $c)"),
    ] {
        assert!(hoisted(&pointer_loop(8, next, exit)).is_empty(), "{next} / {exit}");
    }
    // A pointer stepped by more than 2^16 is not covered.
    let far = hoisted(&pointer_loop(1 << 17, "(i32.sub (local.get $c) (i32.const 1))", "(local.get $c)"));
    assert!(far.is_empty());
}

/// A loop storing through `q + offset` (`q` a parameter), `h` a hash the
/// loop scrambles, exited when the counter `n` reaches 0.
fn based_loop(offset: &str, body: &str) -> String {
    format!(
        r#"(module (memory 1)
      (func (export "f") (param $q i32) (param $n i32) (local $h i32)
        (loop $l
          (i32.store offset=4 (i32.add (local.get $q) {offset}) (local.get $n))
          (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $n)))
          {body}
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#
    )
}

#[test]
fn unchanged_base_plus_bounded_offset_needs_no_trip_count() {
    let masked = hoisted(&based_loop("(i32.and (local.get $h) (i32.const 0xfffc))", ""));
    assert_eq!(masked.len(), 1);
    assert_eq!(masked[0].trip, None, "every range has step 0");
    let r = &masked[0].ranges[0];
    assert_eq!((r.local, r.plus, r.step, r.lo, r.hi), (0, None, 0, 0, 0xfffc + 8));
    // Subtracting a bounded value: the offset goes below the base.
    let below = hoisted(&based_loop("(i32.sub (i32.const 0) (i32.and (local.get $h) (i32.const 0xff)))", ""));
    let r = &below[0].ranges[0];
    assert_eq!((r.lo, r.hi), (-0xff, 8));
    // An offset the intervals do not bound, one wider than 2^31, or a
    // base the loop changes: no hoisted check.
    assert!(hoisted(&based_loop("(local.get $h)", "")).is_empty());
    assert!(hoisted(&based_loop("(i32.and (local.get $h) (i32.const 0xfffffffc))", "")).is_empty());
    let moved = "(local.set $q (i32.add (local.get $q) (i32.const 4)))";
    let moved = hoisted(&based_loop("(i32.and (local.get $h) (i32.const 0xfffc))", moved));
    assert!(moved.is_empty(), "{moved:?}");
}
