//! The machine-code checker (`kwo check`): the FP flag comes from the code,
//! and hand-broken objects are rejected for each rule, on both targets.

use kwo_compiler::{check::check, compile_object, Options};
use kwo_format::{Object, Target, KWO_F_USES_FP};
use kwo_verifier::{verify, Policy};

fn object(wat: &str, target: Target) -> Object {
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    compile_object(
        &module,
        &Options {
            target,
            verify_ir: true,
            ..Options::default()
        },
    )
    .unwrap()
}

fn rejected(obj: &Object, why: &str) {
    match check(obj) {
        Err(e) => assert!(
            e.0.contains(why),
            "{:?}: `{e}` does not say `{why}`",
            obj.target
        ),
        Ok(r) => panic!("{:?}: accepted ({r:?}), expected `{why}`", obj.target),
    }
}

/// f64 values that only move (no FP arithmetic): a global copied to
/// another, and reinterpret casts.
const FP_MOVES: &str = r#"(module
  (global $a (mut f64) (f64.const 1.5))
  (global $b (mut f64) (f64.const 0))
  (func (export "copy") (global.set $b (global.get $a)))
  (func (export "bits") (param i64) (result i64)
    (i64.reinterpret_f64 (f64.reinterpret_i64 (local.get 0)))))"#;

const INTEGER: &str = r#"(module (memory 1)
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "f") (param i32 i32) (result i32)
    (i32.div_u (call $leaf (local.get 0)) (local.get 1))))"#;

const RECURSIVE: &str = r#"(module
  (func $r (export "r") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $r (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0)))))"#;

const TARGETS: [Target; 2] = [Target::X86_64, Target::Aarch64];

#[test]
fn the_fp_flag_comes_from_the_machine_code() {
    for target in TARGETS {
        let fp = object(FP_MOVES, target);
        assert_ne!(
            fp.flags & KWO_F_USES_FP,
            0,
            "{target:?}: f64 moves use FP registers"
        );
        assert!(check(&fp).unwrap().uses_fp);
        let int = object(INTEGER, target);
        assert_eq!(int.flags & KWO_F_USES_FP, 0, "{target:?}: integer code");
        let mut cleared = fp.clone();
        cleared.flags &= !KWO_F_USES_FP;
        rejected(&cleared, "not flagged uses-fp");
    }
}

#[test]
fn header_claims_about_the_stack_are_checked() {
    for target in TARGETS {
        let obj = object(INTEGER, target);
        let report = check(&obj).unwrap();
        assert_eq!(u64::from(obj.stack_bound), report.stack_bound.unwrap());
        let mut small = obj.clone();
        small.max_frame = 8;
        rejected(&small, "over the header's max_frame");
        let mut low = obj.clone();
        low.stack_bound = 8;
        rejected(&low, "over the header's stack_bound");

        let rec = object(RECURSIVE, target);
        assert_eq!(rec.stack_bound, 0);
        assert_eq!(check(&rec).unwrap().stack_bound, None);
        let mut claimed = rec.clone();
        claimed.stack_bound = 1 << 20;
        rejected(&claimed, "call graph has a cycle");
    }
}

/// The object with `bytes` written over the code of the exported function
/// `f` just after its landing pad (or at its entry with `at_entry`).
fn patched(target: Target, at_entry: bool, bytes: &[u8]) -> Object {
    let mut obj = object(INTEGER, target);
    let f = obj.funcs.last().unwrap().code_off as usize + if at_entry { 0 } else { 4 };
    obj.code[f..f + bytes.len()].copy_from_slice(bytes);
    obj
}

#[test]
fn hand_broken_objects_are_rejected_for_each_rule() {
    use Target::*;
    rejected(&patched(X86_64, false, &[0x0f, 0x0b]), "`ud2 ` at");
    rejected(&patched(X86_64, false, &[0xcc]), "`int3 ` at");
    rejected(&patched(X86_64, false, &[0xf4]), "`hlt ` at");
    rejected(&patched(X86_64, false, &[0xfa]), "`cli ` at");
    rejected(&patched(X86_64, false, &[0xff, 0xe0]), "indirect jump");
    rejected(
        &patched(X86_64, false, &[0x48, 0x89, 0xc4]),
        "writes the stack pointer",
    );
    rejected(
        &patched(X86_64, true, &[0x0f, 0x1f, 0x40, 0x00]),
        "not a landing pad",
    );
    rejected(&patched(Aarch64, false, &[0, 0, 0, 0]), "`udf ` at");
    rejected(
        &patched(Aarch64, false, &0xd4200000u32.to_le_bytes()),
        "`brk",
    );
    rejected(
        &patched(Aarch64, false, &0xd61f0000u32.to_le_bytes()),
        "indirect jump",
    );
    rejected(
        &patched(Aarch64, false, &0x910003ffu32.to_le_bytes()),
        "writes the stack pointer",
    );
    rejected(
        &patched(Aarch64, true, &0xd503201fu32.to_le_bytes()),
        "not a landing pad",
    );
}

#[test]
fn a_division_without_its_guard_is_rejected() {
    let obj = object(INTEGER, Target::X86_64);
    check(&obj).unwrap();
    // The guard: `test r, r` then `je` (0f 84 rel32) to the trap block.
    // Replace each `je` of the function with a 6-byte nop in turn: one of
    // them is the divisor's guard.
    let f = obj.funcs.last().unwrap();
    let (start, end) = (f.code_off as usize, (f.code_off + f.code_len) as usize);
    let mut refused = 0;
    for at in start..end - 6 {
        if obj.code[at..at + 2] != [0x0f, 0x84] {
            continue;
        }
        let mut broken = obj.clone();
        broken.code[at..at + 6].copy_from_slice(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]);
        if let Err(e) = check(&broken) {
            assert!(e.0.contains("divisor not proven"), "{e}");
            refused += 1;
        }
    }
    assert_eq!(refused, 1, "exactly the divisor's guard matters");
}

#[test]
fn a_recursive_function_without_its_stack_check_is_rejected() {
    for target in TARGETS {
        let obj = object(RECURSIVE, target);
        check(&obj).unwrap();
        let f = &obj.funcs[0];
        let (start, end) = (f.code_off as usize, (f.code_off + f.code_len) as usize);
        let mut broken = obj.clone();
        // The branch to the "call stack exhausted" trap: x86 `jb rel32`,
        // aarch64 `b.lo`; replaced with a nop, the check decides nothing.
        let code = &mut broken.code[start..end];
        let patched = match target {
            Target::X86_64 => code.windows(2).position(|w| w == [0x0f, 0x82]).map(|at| {
                code[at..at + 6].copy_from_slice(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]);
            }),
            Target::Aarch64 => (0..code.len() / 4)
                .map(|i| i * 4)
                .find(|&at| {
                    u32::from_le_bytes(code[at..at + 4].try_into().unwrap()) & 0xff00_001f
                        == 0x5400_0003
                })
                .map(|at| code[at..at + 4].copy_from_slice(&0xd503201fu32.to_le_bytes())),
        };
        assert!(patched.is_some(), "{target:?}: no stack-limit branch found");
        rejected(&broken, "before the stack-limit check");
    }
}

/// `x % (n / 2 + 1)` in a loop, as Rust's `HashMap` benchmark writes it:
/// Cranelift guards the divisor `d + 1` by comparing `d` with -1, then
/// divides by `lea ecx, [rsi + 1]`. The checker follows the increment.
#[test]
fn a_divisor_guarded_before_its_increment_is_accepted() {
    let wat = r#"(module
      (func $g (param i32) (result i32) (local.get 0))
      (func (export "rem") (param i32 i32) (result i32) (local i32 i32)
        (local.set 2 (i32.shr_u (local.get 1) (i32.const 1)))
        (loop $l
          (local.set 3 (i32.add (local.get 3)
            (i32.rem_u (call $g (local.get 0)) (i32.add (local.get 2) (i32.const 1)))))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (local.get 0)))
        (local.get 3)))"#;
    for target in TARGETS {
        check(&object(wat, target)).unwrap();
    }
}
