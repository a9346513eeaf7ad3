//! The native stack, in the userspace runtime (the kernel suite runs the
//! same modules through kwo.ko: tests/vm/guest/cli.sh): frames of 4, 12
//! and 24 KiB with and without recursion (tests/programs/frame.sh), the
//! static bound of modules without call cycles, the refusal of objects that
//! can never fit the budget, a host function trapping at the deepest
//! point the budget allows, and leaves, which have no stack check of their
//! own, running below the deepest checked frame.

use kwo_loader::runtime::{Config, Instance, RunError, TrapCode, Val};
use kwo_verifier::Policy;
use std::process::Command;

/// Values per KiB of frame in tests/programs/frame.sh.
const PER_KIB: i64 = 128;

fn frame_wasm(kib: u32, recursive: bool) -> Vec<u8> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/programs/frame.sh");
    let mut cmd = Command::new("sh");
    cmd.arg(script).arg(kib.to_string());
    if recursive {
        cmd.arg("recursive");
    }
    let out = cmd.output().expect("sh runs frame.sh");
    assert!(out.status.success(), "frame.sh failed");
    wat::parse_bytes(&out.stdout)
        .expect("frame.sh output parses")
        .into_owned()
}

fn compile(wasm: &[u8]) -> kwo_format::Object {
    let module = kwo_verifier::verify(wasm, &Policy::kernel()).expect("verifies");
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        ..Default::default()
    };
    kwo_compiler::compile_object(&module, &options).expect("compiles")
}

fn run(obj: &kwo_format::Object, config: &Config, n: i32) -> Result<Vec<Val>, RunError> {
    let mut inst = Instance::new(&obj.to_bytes(), config)?;
    inst.invoke("run", &[Val::I32(n)])
}

#[test]
fn frames_without_call_cycles_get_a_static_bound_that_covers_them() {
    for kib in [4, 12, 24] {
        let obj = compile(&frame_wasm(kib, false));
        let frame = u64::from(kib) * 1024;
        assert!(
            u64::from(obj.max_frame) >= frame,
            "{kib} KiB: max frame {}",
            obj.max_frame
        );
        assert!(
            obj.stack_bound >= obj.max_frame,
            "{kib} KiB: bound {} < frame {}",
            obj.stack_bound,
            obj.max_frame
        );
        let k = PER_KIB * i64::from(kib);
        assert_eq!(
            run(&obj, &Config::default(), 7).unwrap(),
            vec![Val::I64(7 * k)]
        );
    }
}

#[test]
fn recursive_frames_are_checked_and_exhaust_the_budget_cleanly() {
    for kib in [4, 12, 24] {
        let obj = compile(&frame_wasm(kib, true));
        assert_eq!(
            obj.stack_bound, 0,
            "{kib} KiB: a recursive module has no static bound"
        );
        let k = PER_KIB * i64::from(kib);
        assert_eq!(
            run(&obj, &Config::default(), 3).unwrap(),
            vec![Val::I64(k * 3 * 4 / 2)]
        );
        let mut inst = Instance::new(&obj.to_bytes(), &Config::default()).unwrap();
        match inst.invoke("run", &[Val::I32(100_000)]) {
            Err(RunError::Trap(t)) => assert_eq!(t.code, TrapCode::StackExhausted, "{kib} KiB"),
            other => panic!("{kib} KiB: expected stack exhaustion, got {other:?}"),
        }
        // The unwind left the stack as it was: the instance runs again.
        assert_eq!(
            inst.invoke("run", &[Val::I32(1)]).unwrap(),
            vec![Val::I64(k)]
        );
    }
}

#[test]
fn objects_that_can_never_fit_the_budget_are_refused_at_load() {
    // A kernel-sized budget: 14 KiB per call, of which the userspace
    // runtime keeps 8 KiB for host functions.
    let kernel_like = Config {
        stack_budget: 14 * 1024,
        ..Config::default()
    };
    assert!(run(&compile(&frame_wasm(4, false)), &kernel_like, 2).is_ok());
    for (kib, recursive) in [(12, false), (24, false), (12, true), (24, true)] {
        match run(&compile(&frame_wasm(kib, recursive)), &kernel_like, 2) {
            Err(RunError::Load(m)) => {
                assert!(m.contains("over the stack budget"), "{kib} KiB: {m}")
            }
            other => {
                panic!("{kib} KiB (recursive: {recursive}): expected a refusal, got {other:?}")
            }
        }
    }
}

/// Recursion to depth n, then a `memory.fill` past the end of memory: the
/// host function traps at the deepest frame and unwinds through all of them.
const DEEP_FILL: &str = r#"(module (memory 1)
  (func $down (export "down") (param $n i32)
    (if (local.get $n)
      (then (call $down (i32.sub (local.get $n) (i32.const 1))))
      (else (memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000))))))"#;

/// The same through a leaf, which has no stack check of its own (it calls
/// no Wasm): every level first calls `$fill`, whose `memory.fill` traps
/// when n is 0 (tests/vm/objects/deepleaf.wat, which the kernel suite runs).
const DEEP_LEAF: &str = include_str!("../../tests/vm/objects/deepleaf.wat");

#[test]
fn a_host_function_traps_at_the_deepest_point_the_budget_allows() {
    deepest_host_trap(DEEP_FILL);
}

#[test]
fn a_leaf_host_call_traps_at_the_deepest_point_the_budget_allows() {
    deepest_host_trap(DEEP_LEAF);
}

/// Finds the deepest recursion of `wat`'s `down` that still reaches its
/// out-of-bounds `memory.fill`: one level deeper, the stack check traps.
fn deepest_host_trap(wat: &str) {
    let wasm = wat::parse_str(wat).unwrap();
    let obj = compile(&wasm);
    let config = Config {
        stack_budget: 64 * 1024,
        ..Config::default()
    };
    let mut inst = Instance::new(&obj.to_bytes(), &config).unwrap();
    let trap_at = |inst: &mut Instance, n: i32| match inst.invoke("down", &[Val::I32(n)]) {
        Err(RunError::Trap(t)) => t.code,
        other => panic!("depth {n}: expected a trap, got {other:?}"),
    };
    // The deepest recursion that still fits: the last depth before the
    // stack check fires.
    let (mut fits, mut exhausts) = (0, 1 << 20);
    while exhausts - fits > 1 {
        let mid = (fits + exhausts) / 2;
        match trap_at(&mut inst, mid) {
            TrapCode::MemoryOutOfBounds => fits = mid,
            TrapCode::StackExhausted => exhausts = mid,
            other => panic!("depth {mid}: unexpected trap {other:?}"),
        }
    }
    assert!(fits > 100, "only {fits} frames fit in 64 KiB");
    assert_eq!(trap_at(&mut inst, fits), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_at(&mut inst, fits + 1), TrapCode::StackExhausted);
    assert_eq!(trap_at(&mut inst, 3), TrapCode::MemoryOutOfBounds);
}

/// A recursive module whose every level first calls a leaf with a frame of
/// about `kib` KiB (values loaded from memory, all live until summed):
/// `down(n)` is the sum over the levels of `leaf(level)`, `K * n(n+1)/2`
/// with `K = 128 * kib` (the memory is zero).
fn big_leaf_wat(kib: u32) -> String {
    let k = kib * 128;
    let mut wat = String::from("(module (memory 1)\n  (func $leaf (param $n i32) (result i64)\n");
    for i in 0..k {
        wat += &format!("    (local $l{i} i64)\n");
    }
    for i in 0..k {
        wat += &format!(
            "    (local.set $l{i} (i64.add (i64.extend_i32_u (local.get $n)) (i64.load offset={} (i32.const 0))))\n",
            i * 8
        );
    }
    wat += "    (i64.const 0)\n";
    for i in 0..k {
        wat += &format!("    (i64.add (local.get $l{i}))\n");
    }
    wat += "  )\n";
    wat += r#"  (func $down (export "down") (param $n i32) (result i64)
    (i64.add (call $leaf (local.get $n))
      (if (result i64) (local.get $n)
        (then (call $down (i32.sub (local.get $n) (i32.const 1))))
        (else (i64.const 0))))))"#;
    wat
}

#[test]
fn a_leaf_without_a_stack_check_fits_below_the_deepest_checked_frame() {
    // About 16 KiB: more than the whole host reserve (8 KiB), so a limit
    // that left no room for the leaf's frame would run it past the
    // thread's stack.
    let kib = 16;
    let obj = compile(&wat::parse_str(big_leaf_wat(kib)).unwrap());
    assert_eq!(obj.stack_bound, 0, "recursive");
    assert!(obj.max_frame > 12 * 1024, "max frame {}", obj.max_frame);
    let checked: Vec<u32> = obj
        .traps
        .iter()
        .filter(|t| t.trap_code == kwo_format::KWO_TRAP_STACK_EXHAUSTED)
        .map(|t| t.func)
        .collect();
    assert_eq!(checked, vec![1], "only $down checks the stack, not the leaf");
    let k = PER_KIB * i64::from(kib);
    // A small thread whose budget (clamped to what it has) runs out after
    // a few dozen levels: the leaf runs below the deepest checked frame.
    let bytes = obj.to_bytes();
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let config = Config {
                stack_budget: 64 << 20,
                ..Config::default()
            };
            let mut inst = Instance::new(&bytes, &config).expect("instantiates");
            match inst.invoke("down", &[Val::I32(1_000_000)]) {
                Err(RunError::Trap(t)) => assert_eq!(t.code, TrapCode::StackExhausted),
                other => panic!("expected stack exhaustion, got {other:?}"),
            }
            assert_eq!(
                inst.invoke("down", &[Val::I32(3)]).unwrap(),
                vec![Val::I64(k * 3 * 4 / 2)]
            );
        })
        .unwrap();
    worker.join().expect("the small-stack thread survived");
}
