//! Check elision at run time: loops the verifier proves run without
//! checks and compute what they must; loops one element past the end and
//! loops bounded only at run time trap exactly where the spec says (the
//! faulting store, with every earlier store done), whether or not proven
//! checks are elided. The proofs themselves are tested in
//! `verifier/tests/range.rs`.

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, TrapInfo, Val};
use kwo_verifier::{Policy, VerifiedModule};

fn verified(wat: &str) -> VerifiedModule {
    let wasm = wat::parse_str(wat).expect("test module parses");
    kwo_verifier::verify(&wasm, &Policy::kernel()).expect("test module verifies")
}

fn instance(module: &VerifiedModule, elide_proven: bool) -> Instance {
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        verify_ir: true,
        elide_proven,
        ..kwo_compiler::Options::default()
    };
    let kwo = kwo_compiler::compile(module, &options).expect("test module compiles");
    Instance::new(&kwo, &Config::default()).expect("instantiates")
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
