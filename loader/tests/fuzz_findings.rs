//! Behaviour the differential fuzz target (`fuzz/`, README.md "Findings")
//! disagreed on, pinned with the right answers in kwo's userspace runtime.

mod common;

use kwo_loader::runtime::{Instance, RunError, TrapCode, Val};

fn instance(wat: &str) -> Instance {
    common::instance_of(wat)
}

fn trap(r: Result<Vec<Val>, RunError>) -> TrapCode {
    match r {
        Err(RunError::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// wasmi 2.0.0 returns the first operand here whatever the condition; the
/// spec (and wabt's interpreter) pick the second when `eqz` gives 0.
#[test]
fn select_on_an_eqz_condition() {
    let mut inst = instance(
        r#"(module (func (export "f") (param i32) (result i32)
             (select (i32.const 1) (i32.const 9) (i32.eqz (local.get 0)))))"#,
    );
    assert_eq!(inst.invoke("f", &[Val::I32(5)]).unwrap(), vec![Val::I32(9)]);
    assert_eq!(inst.invoke("f", &[Val::I32(0)]).unwrap(), vec![Val::I32(1)]);
}

/// wasmi 2.0.0 also takes the wrong operand of a `select` on `ref.is_null`
/// of a `local.tee` (finding 14; differential seed 77, input 433): for
/// null references the first operand, so `table.grow` grows the table by 1
/// and returns its old size 1, as wabt's `wasm-interp` 1.0.32 gives it;
/// wasmi grows by the huge second operand and gets -1.
#[test]
fn select_on_a_ref_is_null_condition() {
    let mut inst = instance(
        r#"(module
             (table 1 617 externref)
             (table 1 440 externref)
             (global i32 (i32.const -1951552384))
             (func $grow (param funcref funcref) (result i32)
               ref.null extern
               table.size 1
               global.get 0
               local.get 1
               local.tee 0
               ref.is_null
               select
               table.grow 0)
             (func (export "f") (result i32)
               (call $grow (ref.null func) (ref.null func))))"#,
    );
    assert_eq!(inst.invoke("f", &[]).unwrap(), vec![Val::I32(1)]);
    assert_eq!(inst.invoke("f", &[]).unwrap(), vec![Val::I32(2)]);
}

/// wasmi 2.0.0's translator panics on a store whose address and value are
/// one local just written by `local.tee`, with an offset past 16 bits
/// (finding 13, in `i32.store16`; `store` and `store8` too), so the
/// differential target cannot compare these. kwo's answers, as wabt's
/// interpreter (`wasm-interp --run-all-exports`, 1.0.32) gives them: the
/// address and the value are both `memory.size` (2), over bytes that were
/// 0xff; past the end it traps.
#[test]
fn a_store_of_a_tee_to_its_own_address() {
    let mut inst = instance(
        r#"(module
             (memory 2)
             (data (i32.const 70002) "\ff\ff\ff\ff")
             (data (i32.const 70102) "\ff\ff\ff\ff")
             (data (i32.const 70202) "\ff\ff\ff\ff")
             (func (export "store16") (result i32) (local i32)
               memory.size
               local.tee 0
               local.get 0
               i32.store16 offset=70000
               (i32.load (i32.const 70002)))
             (func (export "store8") (result i32) (local i32)
               memory.size
               local.tee 0
               local.get 0
               i32.store8 offset=70100
               (i32.load (i32.const 70102)))
             (func (export "store") (result i32) (local i32)
               memory.size
               local.tee 0
               local.get 0
               i32.store offset=70200
               (i32.load (i32.const 70202)))
             (func (export "out_of_bounds") (local i32)
               memory.size
               local.tee 0
               local.get 0
               i32.store16 offset=131069))"#,
    );
    let call = |inst: &mut Instance, name: &str| inst.invoke(name, &[]);
    assert_eq!(
        call(&mut inst, "store16").unwrap(),
        vec![Val::I32(0xffff_0002_u32 as i32)]
    );
    assert_eq!(
        call(&mut inst, "store8").unwrap(),
        vec![Val::I32(0xffff_ff02_u32 as i32)]
    );
    assert_eq!(call(&mut inst, "store").unwrap(), vec![Val::I32(2)]);
    assert_eq!(
        trap(call(&mut inst, "out_of_bounds")),
        TrapCode::MemoryOutOfBounds
    );
}

/// The divisions whose checker proof `compiler/tests/fuzz_findings.rs`
/// covers, run: results and traps as the spec says.
#[test]
fn division_by_a_sign_extended_i32() {
    let mut inst = instance(
        r#"(module
             (func (export "div") (param i64 i32) (result i64)
               (i64.div_s (local.get 0) (i64.extend_i32_s (local.get 1))))
             (func (export "rem") (param i64 i32) (result i64)
               (i64.rem_s (local.get 0) (i64.extend_i32_s (local.get 1)))))"#,
    );
    let div = |inst: &mut Instance, a: i64, b: i32| inst.invoke("div", &[Val::I64(a), Val::I32(b)]);
    assert_eq!(div(&mut inst, -7, 2).unwrap(), vec![Val::I64(-3)]);
    assert_eq!(div(&mut inst, 7, -1).unwrap(), vec![Val::I64(-7)]);
    assert_eq!(
        trap(div(&mut inst, i64::MIN, -1)),
        TrapCode::IntegerOverflow
    );
    assert_eq!(trap(div(&mut inst, 1, 0)), TrapCode::IntegerDivideByZero);
    let rem = inst.invoke("rem", &[Val::I64(i64::MIN), Val::I32(-1)]);
    assert_eq!(rem.unwrap(), vec![Val::I64(0)]);
    assert_eq!(
        trap(inst.invoke("rem", &[Val::I64(3), Val::I32(0)])),
        TrapCode::IntegerDivideByZero
    );
}

/// A recursive function whose results need a return area (the checker's
/// finding in `compiler/tests/fuzz_findings.rs`) returns them right, and
/// its stack check still stops runaway recursion.
#[test]
fn recursion_with_a_return_area() {
    let mut inst = instance(
        r#"(module (func $r (export "r") (param i32) (result i32 i64 i32)
             (if (local.get 0) (then
               (call $r (i32.sub (local.get 0) (i32.const 1))) (drop) (drop) (drop)))
             (i32.const 1) (i64.const 2) (i32.const 3)))"#,
    );
    assert_eq!(
        inst.invoke("r", &[Val::I32(1000)]).unwrap(),
        vec![Val::I32(1), Val::I64(2), Val::I32(3)]
    );
    assert_eq!(
        trap(inst.invoke("r", &[Val::I32(i32::MAX)])),
        TrapCode::StackExhausted
    );
    assert_eq!(inst.invoke("r", &[Val::I32(3)]).unwrap().len(), 3);
}

/// Finding 12's function (`compiler/tests/fuzz_findings.rs`, whose proof
/// the checker missed at `-O none`), compiled unoptimized and run:
/// `0 / (d / 1)` gives 0 for a divisor 6 or -1 and traps for 0.
#[test]
fn a_divisor_copied_back_between_registers() {
    for (divisor, expected) in [
        (6, Ok(0)),
        (-1, Ok(0)),
        (0, Err(TrapCode::IntegerDivideByZero)),
    ] {
        let wat = format!(
            r#"(module
              (global (mut i64) (i64.const 0))
              (func (export "f") (param i32) (result i32) (local i32 i32 i32)
                i32.const {divisor}
                local.set 3
                i32.const 0
                local.set 0
                i64.const 0
                i32.const 0
                i64.const 0
                i32.const 0
                i64.extend_i32_s
                i64.eq
                i32.div_u
                local.set 2
                local.get 0
                local.get 3
                i64.const 0
                i64.eqz
                i32.div_s
                i32.div_s
                local.set 1
                global.set 0
                local.get 1))"#
        );
        let mut inst = unoptimized_instance(&wat);
        let result = inst.invoke("f", &[Val::I32(1)]);
        match expected {
            Ok(value) => assert_eq!(result.unwrap(), vec![Val::I32(value)], "divisor {divisor}"),
            Err(code) => assert_eq!(trap(result), code, "divisor {divisor}"),
        }
    }
}

/// `wat` compiled at `-O none` for this machine and instantiated.
fn unoptimized_instance(wat: &str) -> Instance {
    let wasm = wat::parse_str(wat).unwrap();
    let module = kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).unwrap();
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        opt: kwo_compiler::OptLevel::None,
        ..kwo_compiler::Options::default()
    };
    let kwo = kwo_compiler::compile(&module, &options).unwrap();
    Instance::new(&kwo, &kwo_loader::runtime::Config::default()).unwrap()
}
