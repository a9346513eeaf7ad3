//! The facts the verifier exposes for `kwo verify --log`: the stack depth
//! of each function over the call graph, the index range behind every
//! access verdict, and what [`BodyStats`] counts in a body (the same loads
//! and stores as the range analysis).

use kwo_verifier::analysis::{BodyStats, IndexRange, StackDepth};
use kwo_verifier::{verify, Policy, VerifiedModule};

fn module(wat: &str) -> VerifiedModule {
    verify(&wat::parse_str(wat).unwrap(), &Policy::kernel()).unwrap()
}

#[test]
fn stack_depths_add_callee_frames_and_stop_at_cycles() {
    let m = module(
        r#"(module
          (type $t (func (result i32)))
          (table 1 funcref) (elem (i32.const 0) $leaf)
          (func $leaf (result i32) (i32.const 1))
          (func $mid (result i32) (call $leaf))
          (func $top (result i32) (i32.add (call $mid) (call $leaf)))
          (func $ind (result i32) (call_indirect (type $t) (i32.const 0)))
          (func $even (param i32) (result i32) (if (result i32) (local.get 0)
            (then (call $odd (i32.sub (local.get 0) (i32.const 1)))) (else (call $leaf))))
          (func $odd (param i32) (result i32) (if (result i32) (local.get 0)
            (then (call $even (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0))))
          (func $into_cycle (result i32) (call $even (i32.const 4))))"#,
    );
    let frames = [10, 20, 30, 40, 50, 60, 70];
    let depths = m.call_graph.stack_depths(&frames, m.num_imported_funcs());
    use StackDepth::{Bounded, Recursive};
    assert_eq!(
        depths,
        [
            Bounded(10),
            Bounded(30),
            Bounded(60),
            // call_indirect reaches $leaf, the one address-taken function.
            Bounded(50),
            Recursive,
            Recursive,
            Recursive,
        ]
    );
}

/// `fill` stores through a counter in [0, 99] * 4, `get` loads through a
/// parameter, `dead` has a store after `unreachable`.
const ACCESSES: &str = r#"(module (memory 1)
  (func $fill (local $i i32)
    (loop $l
      (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100)))))
  (func $get (param i32) (result i32) (i64.load32_u offset=65533 (local.get 0)) (i32.wrap_i64))
  (func $dead (unreachable) (i32.store8 (i32.const 0) (i32.const 0))))"#;

#[test]
fn index_ranges_say_why_an_access_is_proven_or_not() {
    let m = module(ACCESSES);
    let range = |func: usize| -> Vec<(u64, u64, u64)> {
        let facts = &m.accesses[func];
        assert!(facts.analysed);
        facts
            .index_ranges
            .iter()
            .map(|r: &IndexRange| (r.lo, r.hi, r.end))
            .collect()
    };
    // 396 + 1024 + 4 <= 65536: proven.
    assert_eq!(range(0), [(0, 396, 1028)]);
    assert_eq!(m.accesses[0].proven.len(), 1);
    // Any index, and 65533 + 4 is past the minimum memory anyway.
    assert_eq!(range(1), [(0, u64::from(u32::MAX), 65537)]);
    assert!(m.accesses[1].proven.is_empty());
    // No path reaches the store: no range, not proven.
    assert_eq!(range(2), []);
    assert_eq!((m.accesses[2].accesses, m.accesses[2].proven.len()), (1, 0));
}

#[test]
fn body_stats_count_what_the_range_analysis_counts() {
    let m = module(ACCESSES);
    let stats: Vec<BodyStats> = (0..3).map(|f| BodyStats::of(&m, f).unwrap()).collect();
    for (f, s) in stats.iter().enumerate() {
        assert_eq!(s.accesses.len() as u32, m.accesses[f].accesses, "func {f}");
        for r in &m.accesses[f].index_ranges {
            assert!(
                s.accesses.iter().any(|a| a.offset == r.offset),
                "func {f}: {r:?}"
            );
        }
    }
    let names: Vec<(&str, u64)> = stats
        .iter()
        .flat_map(|s| &s.accesses)
        .map(|a| (a.name, a.static_offset))
        .collect();
    assert_eq!(
        names,
        [
            ("i32.store", 1024),
            ("i64.load32_u", 65533),
            ("i32.store8", 0)
        ]
    );
    assert_eq!(stats[0].loops.len(), 1);
    let l = &stats[0].loops[0];
    assert_eq!(l.depth, 1);
    assert!(l.contains(stats[0].accesses[0].offset));
    assert_eq!(
        stats[0].innermost_loop(stats[0].accesses[0].offset),
        Some(l)
    );
    assert_eq!(stats[1].loops.len(), 0);
    // fill: loop; the index (3), the value (1), the store; the increment
    // (4); the test (3) and br_if; the loop's end and the function's.
    assert_eq!(stats[0].instructions, 1 + 3 + 1 + 1 + 4 + 3 + 1 + 2);
}

#[test]
fn body_stats_count_calls_and_nested_loops() {
    let m = module(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (type $t (func))
          (table 1 funcref)
          (func $f
            (loop $outer
              (loop $inner (br_if $inner (i32.const 0)))
              (call $g) (call $g) (call $exit (i32.const 0))
              (call_indirect (type $t) (i32.const 0))))
          (func $g))"#,
    );
    // Func 0 is the import, 3 does not exist: no body.
    assert!(BodyStats::of(&m, 0).is_err() && BodyStats::of(&m, 3).is_err());
    let s = BodyStats::of(&m, 1).unwrap();
    assert_eq!(
        (s.direct_calls, s.import_calls, s.indirect_calls),
        (2, 1, 1)
    );
    assert_eq!(s.imports_used, [0]);
    let depths: Vec<u32> = s.loops.iter().map(|l| l.depth).collect();
    assert_eq!(depths, [1, 2]);
    assert!(s.loops[0].contains(s.loops[1].offset) && s.loops[1].end < s.loops[0].end);
}
