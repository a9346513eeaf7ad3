//! Every function and trampoline entry is a valid indirect-branch target:
//! `endbr64` on x86_64 (IBT), `bti c` on aarch64 (BTI).

use kwo_compiler::{compile_object, Options};
use kwo_format::{Object, Target};
use kwo_verifier::{verify, Policy};

const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
const BTI_C: [u8; 4] = 0xd503_245fu32.to_le_bytes();

/// Functions reached directly, through a table and as exports, some with
/// floats, loops and a division, so prologues of every shape appear.
const MODULE: &str = r#"
(module
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $leaf $loop)
  (func $leaf (type $t) (local.get 0))
  (func $loop (type $t)
    (block (loop (br_if 1 (i32.eqz (local.get 0)))
      (local.set 0 (i32.div_u (local.get 0) (i32.const 3))) (br 0)))
    (local.get 0))
  (func (export "dispatch") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func (export "float") (param f64) (result f64) (f64.sqrt (local.get 0))))
"#;

fn compiled(target: Target) -> Object {
    let wasm = wat::parse_str(MODULE).unwrap();
    let module = verify(&wasm, &Policy::kernel()).unwrap();
    compile_object(&module, &Options { target, ..Options::default() }).unwrap()
}

fn entries(obj: &Object) -> Vec<u32> {
    let funcs = obj.funcs.iter().map(|f| f.code_off);
    funcs.chain(obj.exports.iter().filter_map(|e| e.tramp)).collect()
}

fn check(target: Target, pad: [u8; 4]) {
    let obj = compiled(target);
    let entries = entries(&obj);
    assert_eq!(entries.len(), 6);
    for off in entries {
        let at = off as usize;
        assert_eq!(obj.code[at..at + 4], pad, "{target:?}: entry at 0x{off:x}");
    }
}

#[test]
fn x86_64_entries_start_with_endbr64() {
    check(Target::X86_64, ENDBR64);
}

#[test]
fn aarch64_entries_start_with_bti_c() {
    check(Target::Aarch64, BTI_C);
}
