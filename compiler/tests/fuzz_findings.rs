//! Modules the fuzz targets (`fuzz/`, README.md "Findings") found the
//! compiler or the machine-code checker wrong on, minimized. Each must
//! compile for both targets and pass the checker; the ones still open are
//! `#[ignore]`d with the reason, so that `cargo test -- --ignored` shows
//! them failing until they are fixed.

use kwo_compiler::{check::check, compile_object, OptLevel, Options};
use kwo_format::Target;
use kwo_verifier::{verify, Policy};

fn compiles_and_checks(wat: &str) {
    compiles_and_checks_at(wat, OptLevel::Speed);
}

fn compiles_and_checks_at(wat: &str, opt: OptLevel) {
    let wasm = wat::parse_str(wat).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    for target in [Target::X86_64, Target::Aarch64] {
        let options = Options {
            target,
            opt,
            verify_ir: true,
            ..Options::default()
        };
        let object =
            compile_object(&module, &options).unwrap_or_else(|e| panic!("{target:?}: {e}\n{wat}"));
        check(&object).unwrap_or_else(|e| panic!("{target:?}: {e}\n{wat}"));
    }
}

/// Fixed: Cranelift tests the zero divisor on the 32-bit value and the -1
/// divisor on its sign extension (`movsxd` / `sxtw`); the checker lost the
/// first fact across the extension and called `idiv` (or Cranelift's own
/// `ud2`) unguarded.
#[test]
fn a_sign_extended_divisor_is_proven_guarded() {
    for op in ["i64.div_s", "i64.rem_s", "i64.div_u", "i64.rem_u"] {
        compiles_and_checks(&format!(
            "(module (func (export \"f\") (param i64 i32) (result i64)
               ({op} (local.get 0) (i64.extend_i32_s (local.get 1)))))"
        ));
    }
    compiles_and_checks(
        "(module (func (export \"f\") (param i64 i64) (result i64)
           (i64.div_s (local.get 0) (i64.extend32_s (local.get 1)))))",
    );
}

/// Fixed: Cranelift's mid-end rewrote the divisor's zero test when the
/// divisor is a `ctz` (`ctz x == 0` became `x & 1 != 0`), so the checker,
/// which learns only from tests of the divisor register itself, could not
/// prove the `div` guarded. The translator now hides a computed divisor
/// from the mid-end (`divisor_barrier`).
#[test]
fn a_ctz_divisor_compiles() {
    compiles_and_checks(
        "(module (func (export \"f\") (param i32 i32) (result i32)
           (i32.div_u (local.get 0) (i32.ctz (local.get 1)))))",
    );
}

/// Fixed: the mid-end rewrote `clz(popcnt x) == 0` into `popcnt x < 0`;
/// the checker has no value ranges (fixed as the `ctz` one above).
#[test]
fn a_clz_of_popcnt_divisor_compiles() {
    compiles_and_checks(
        "(module (func (export \"f\") (param i32 i32) (result i32)
           (i32.rem_s (local.get 0) (i32.clz (i32.popcnt (local.get 1))))))",
    );
}

/// Fixed: a divisor that is a comparison's result (0 or 1), sign-extended:
/// the mid-end tested the comparison instead of the divisor, and
/// Cranelift's own `ud2` for the divisor was then reachable as far as the
/// checker could tell (fixed as the `ctz` one above).
#[test]
fn a_comparison_divisor_compiles() {
    compiles_and_checks(
        "(module (func (export \"f\") (param i64 i32) (result i64)
           (i64.div_s (local.get 0)
             (i64.extend_i32_s (i32.lt_s (local.get 1) (i32.const 5))))))",
    );
}

/// Fixed as the `ctz` one above (found by the benchmarks, not the fuzzer:
/// `bench_hash_map` of `target/bench-wasm/rust.wasm` did not compile for
/// aarch64): a loop-invariant divisor `y + 1` whose zero test the mid-end
/// rewrote into `y == -1` before the loop, while the `add` and Cranelift's
/// own `cbz; udf` for the divisor sank into the loop.
#[test]
fn a_loop_invariant_incremented_divisor_compiles() {
    compiles_and_checks(
        "(module (func (export \"f\") (param i32 i32) (result i32) (local i32 i32)
           (local.set 2 (i32.add (i32.shr_u (local.get 1) (i32.const 1)) (i32.const 1)))
           (loop $l
             (local.set 3 (i32.add (local.get 3) (i32.rem_u (local.get 0) (local.get 2))))
             (local.set 0 (i32.add (local.get 0) (i32.const 7)))
             (br_if $l (i32.ne (local.get 0) (local.get 1))))
           (local.get 3)))",
    );
}

/// Fixed (found once the mid-end rejections above no longer hid it): a
/// division by a constant 0 at `-O none`. Cranelift tests the constant
/// (`xor rax, rax; test rax, rax; je trap`, `mov x3, #0; cbz x3, trap`) and
/// leaves the division, with its own `ud2`/`udf` for a zero divisor, on
/// the path never taken; the checker did not know a register's constant
/// decides such a branch.
#[test]
fn a_division_by_a_constant_zero_compiles_unoptimized() {
    for op in [
        "i64.div_s",
        "i64.div_u",
        "i64.rem_s",
        "i32.div_s",
        "i32.rem_u",
    ] {
        let ty = &op[..3];
        let wat = format!(
            "(module (func (export \"f\") (param {ty}) (result {ty})
               ({op} (local.get 0) ({ty}.const 0))))"
        );
        compiles_and_checks_at(&wat, OptLevel::None);
    }
}

/// Fixed: at `-O none` Cranelift left the divisor of an `i32.div_s` in r8,
/// tested it for 0 through a copy in rcx, copied it back into rax (of which
/// r8 and rcx were copies), tested it for -1 there and divided by a copy in
/// rsi. The checker dropped r8 and rcx from rax's copies when rax was
/// written, even by a copy of them, so the -1 test did not reach r8:
/// "`idiv esi`: divisor not proven nonzero (and not -1)". The generated
/// module it was found in, and that module's function minimized (any other
/// dividend, or the divisor from a parameter, gives other registers).
#[test]
fn a_divisor_copied_back_between_registers_compiles_unoptimized() {
    let wasm = include_bytes!("fuzz/divisor-copied-back.wasm");
    compiles_and_checks_at(&binary_text(wasm), OptLevel::None);
    compiles_and_checks_at(DIVISOR_COPIED_BACK, OptLevel::None);
}

/// Finding 12's function, minimized by deleting instructions.
const DIVISOR_COPIED_BACK: &str = "(module
  (global (mut i64) (i64.const 0))
  (func (export \"f\") (param i32) (result i32) (local i32 i32 i32)
    i32.const 6
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
    local.get 1))";

/// Fixed: a function whose results overflow the System V return registers
/// gets a return-area pointer in rdi and its vmctx in rsi; the checker took
/// the vmctx to be in rdi always, so it did not see the stack check of a
/// recursive function with three integer (or three float) results.
#[test]
fn a_recursive_function_with_a_return_area_has_its_stack_check_seen() {
    for results in ["i32 i64 i32", "f32 f64 f32"] {
        compiles_and_checks(&format!(
            "(module (func $r (param i32) (result {results})
               (if (local.get 0) (then
                 (call $r (i32.sub (local.get 0) (i32.const 1))) (drop) (drop) (drop)))
               (call $r (i32.const 0))))"
        ));
    }
    // The generated module it was found in.
    let wasm = include_bytes!("fuzz/call-before-stack-check.wasm");
    compiles_and_checks(&binary_text(wasm));
}

/// The binary module as a `(module binary ...)` text, which `wat` accepts.
fn binary_text(wasm: &[u8]) -> String {
    let bytes: String = wasm.iter().map(|b| format!("\\{b:02x}")).collect();
    format!("(module binary \"{bytes}\")")
}
