//! Objects compiled with BMI1, BMI2 and LZCNT (`Options::x86_bmi`): they
//! carry `KWO_F_X86_BMI`, hold the new instructions, pass the machine-code
//! checker, load on a CPU that has them and compute what the baseline
//! code computes, for rotates, shifts, bit counts and the `and not` and
//! lowest-bit patterns BMI1 covers, over edge-case operands.

#![cfg(target_arch = "x86_64")]

mod common;

use kwo_format::{Object, Target, KWO_F_X86_BMI};
use kwo_loader::runtime::{Config, Instance, Val};

const MODULE: &str = r#"
(module
  (func (export "rot32") (param i32 i32) (result i32)
    (i32.xor (i32.rotl (local.get 0) (local.get 1)) (i32.rotr (local.get 0) (i32.const 7))))
  (func (export "rot64") (param i64 i64) (result i64)
    (i64.xor (i64.rotr (local.get 0) (local.get 1)) (i64.rotl (local.get 0) (i64.const 13))))
  (func (export "shifts32") (param i32 i32) (result i32)
    (i32.add (i32.shl (local.get 0) (local.get 1))
      (i32.add (i32.shr_u (local.get 0) (local.get 1)) (i32.shr_s (local.get 0) (local.get 1)))))
  (func (export "shifts64") (param i64 i64) (result i64)
    (i64.add (i64.shl (local.get 0) (local.get 1))
      (i64.add (i64.shr_u (local.get 0) (local.get 1)) (i64.shr_s (local.get 0) (local.get 1)))))
  (func (export "counts32") (param i32 i32) (result i32)
    (i32.add (i32.mul (i32.clz (local.get 0)) (i32.const 64)) (i32.ctz (local.get 1))))
  (func (export "counts64") (param i64 i64) (result i64)
    (i64.add (i64.mul (i64.clz (local.get 0)) (i64.const 128)) (i64.ctz (local.get 1))))
  (func (export "bits32") (param i32 i32) (result i32)
    (i32.xor (i32.and (local.get 0) (i32.xor (local.get 1) (i32.const -1)))
      (i32.xor (i32.and (local.get 0) (i32.sub (local.get 0) (i32.const 1)))
        (i32.and (local.get 1) (i32.sub (i32.const 0) (local.get 1))))))
  (func (export "bits64") (param i64 i64) (result i64)
    (i64.xor (i64.and (local.get 0) (i64.xor (local.get 1) (i64.const -1)))
      (i64.xor (i64.and (local.get 0) (i64.sub (local.get 0) (i64.const 1)))
        (i64.and (local.get 1) (i64.sub (i64.const 0) (local.get 1)))))))
"#;

fn object(x86_bmi: bool) -> Vec<u8> {
    let module = common::verified(MODULE);
    let options = kwo_compiler::Options {
        target: Target::X86_64,
        verify_ir: true,
        x86_bmi,
        ..kwo_compiler::Options::default()
    };
    kwo_compiler::compile(&module, &options).expect("compiles and passes the machine-code checker")
}

fn has(code: &[u8], bytes: &[u8]) -> bool {
    code.windows(bytes.len()).any(|w| w == bytes)
}

/// rorx: VEX (C4, map 0F3A), then F2.W0 or F2.W1 (7B / FB), opcode F0.
fn has_rorx(code: &[u8]) -> bool {
    code.windows(4)
        .any(|w| w[0] == 0xc4 && w[1] & 0x1f == 3 && (w[2] == 0x7b || w[2] == 0xfb) && w[3] == 0xf0)
}

/// The flag and the instructions appear with the option and only then.
#[test]
fn flag_and_instructions() {
    let plain = Object::parse(&object(false)).unwrap();
    let bmi = Object::parse(&object(true)).unwrap();
    assert_eq!(plain.flags & KWO_F_X86_BMI, 0);
    assert_ne!(bmi.flags & KWO_F_X86_BMI, 0);
    // lzcnt r32, r/m32 is F3 0F BD (bsr without the F3).
    let lzcnt = [0xf3, 0x0f, 0xbd];
    assert!(!has(&plain.code, &lzcnt), "baseline code uses lzcnt");
    assert!(has(&bmi.code, &lzcnt), "no lzcnt in the BMI code");
    assert!(!has_rorx(&plain.code), "baseline code uses rorx");
    assert!(has_rorx(&bmi.code), "no rorx in the BMI code");
    // No such flag on aarch64.
    let module = common::verified(MODULE);
    let options = kwo_compiler::Options { target: Target::Aarch64, x86_bmi: true, ..Default::default() };
    let arm = Object::parse(&kwo_compiler::compile(&module, &options).unwrap()).unwrap();
    assert_eq!(arm.flags & KWO_F_X86_BMI, 0);
}

const EDGES32: [i32; 10] = [0, 1, -1, 2, 31, 32, 33, i32::MIN, i32::MAX, 0x1234_5678];
const EDGES64: [i64; 10] = [0, 1, -1, 2, 63, 64, 65, i64::MIN, i64::MAX, 0x1234_5678_9abc_def0];

fn call(inst: &mut Instance, name: &str, args: &[Val]) -> Vec<Val> {
    inst.invoke(name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e}"))
}

/// On this CPU (the test needs BMI1, BMI2 and LZCNT), both objects give the
/// same results for every pair of edge-case operands.
#[test]
fn same_results_as_baseline() {
    let cpu = ["bmi1", "bmi2", "lzcnt"].map(|f| match f {
        "bmi1" => std::is_x86_feature_detected!("bmi1"),
        "bmi2" => std::is_x86_feature_detected!("bmi2"),
        _ => std::is_x86_feature_detected!("lzcnt"),
    });
    if cpu.contains(&false) {
        eprintln!("skipped: this CPU lacks BMI1, BMI2 or LZCNT");
        return;
    }
    let config = Config::default();
    let mut plain = Instance::new(&object(false), &config).unwrap();
    let mut bmi = Instance::new(&object(true), &config).unwrap();
    let mut calls = 0;
    for name in ["rot32", "shifts32", "counts32", "bits32"] {
        for a in EDGES32 {
            for b in EDGES32 {
                let args = [Val::I32(a), Val::I32(b)];
                assert_eq!(call(&mut bmi, name, &args), call(&mut plain, name, &args), "{name}({a}, {b})");
                calls += 1;
            }
        }
    }
    for name in ["rot64", "shifts64", "counts64", "bits64"] {
        for a in EDGES64 {
            for b in EDGES64 {
                let args = [Val::I64(a), Val::I64(b)];
                assert_eq!(call(&mut bmi, name, &args), call(&mut plain, name, &args), "{name}({a}, {b})");
                calls += 1;
            }
        }
    }
    assert_eq!(calls, 800);
    // Spot values, so that both objects being wrong the same way fails too.
    assert_eq!(call(&mut bmi, "counts32", &[Val::I32(1), Val::I32(8)]), [Val::I32(31 * 64 + 3)]);
    assert_eq!(call(&mut bmi, "counts64", &[Val::I64(0), Val::I64(0)]), [Val::I64(64 * 128 + 64)]);
    assert_eq!(call(&mut bmi, "rot32", &[Val::I32(1), Val::I32(33)]), [Val::I32(2 ^ (1 << 25))]);
}

/// `kwo compile --x86-bmi` flags the object (a plain compile does not), and
/// refuses aarch64 as a usage error; `kwo run` of a `.wasm` compiles for
/// this CPU and computes the same.
#[test]
fn cli_flag() {
    let wat = common::scratch("x86_bmi", "m.wat");
    std::fs::write(&wat, MODULE).unwrap();
    for (args, want) in [(&["--x86-bmi"][..], KWO_F_X86_BMI), (&[][..], 0)] {
        let out = common::scratch("x86_bmi", "m.kwo");
        let mut cmd = vec!["compile", common::path_str(&wat), "-o", common::path_str(&out)];
        cmd.extend_from_slice(args);
        let o = common::kwo_output(&cmd);
        assert!(o.status.success(), "kwo {cmd:?}: {}", common::stderr(&o));
        let object = std::fs::read(&out).unwrap();
        assert_eq!(Object::parse(&object).unwrap().flags & KWO_F_X86_BMI, want, "kwo {cmd:?}");
    }
    let out = common::scratch("x86_bmi", "arm.kwo");
    let wat_path = common::path_str(&wat);
    let o = common::kwo_output(&["compile", "--x86-bmi", "--target", "aarch64", wat_path, "-o", common::path_str(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("--x86-bmi applies only to x86_64"), "{}", common::stderr(&o));
    let o = common::kwo_output(&["run", "--invoke", "counts32", wat_path, "1", "8"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(common::stdout(&o).trim(), (31 * 64 + 3).to_string());
}

/// On an x86-64-v2 CPU without BMI (QEMU user mode's Nehalem model), the
/// runtime refuses a BMI object, naming the missing feature, and still runs
/// the baseline object.
#[test]
fn refused_without_bmi() {
    let nehalem = |object: &std::path::Path| {
        std::process::Command::new("qemu-x86_64")
            .args(["-cpu", "Nehalem", env!("CARGO_BIN_EXE_kwo"), "run", "--invoke", "counts32"])
            .args([common::path_str(object), "1", "8"])
            .output()
            .expect("running qemu-x86_64 (scripts/setup installs qemu-user)")
    };
    for (name, bmi) in [("bmi.kwo", true), ("plain.kwo", false)] {
        let path = common::scratch("x86_bmi", name);
        std::fs::write(&path, object(bmi)).unwrap();
        let o = nehalem(&path);
        if bmi {
            assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
            assert!(common::stderr(&o).contains("this CPU lacks bmi1"), "{}", common::stderr(&o));
        } else {
            assert!(o.status.success(), "{}", common::stderr(&o));
            assert_eq!(common::stdout(&o).trim(), (31 * 64 + 3).to_string());
        }
    }
}
