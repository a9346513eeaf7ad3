//! Acceptance, rejection and collection tests of `kwo_verifier::verify` on
//! real modules written in the text format.

use kwo_verifier::module::{ConstValue, ExportKind, SegmentMode};
use kwo_verifier::{verify, DiagKind, Diagnostics, Policy, VerifiedModule};
use wasmparser::{RefType, ValType};

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test module must parse")
}

fn accept(text: &str) -> VerifiedModule {
    let bytes = wasm(text);
    match verify(&bytes, &Policy::kernel()) {
        Ok(m) => m,
        Err(d) => panic!("module rejected:\n{d}"),
    }
}

fn reject_with(text: &str, policy: &Policy) -> Diagnostics {
    match verify(&wasm(text), policy) {
        Ok(_) => panic!("module accepted"),
        Err(d) => d,
    }
}

fn reject(text: &str) -> Diagnostics {
    reject_with(text, &Policy::kernel())
}

/// The shape of a WASI hello world as clang and rustc emit it.
const HELLO: &str = r#"
(module
  (type $fd_write_t (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (type $fd_write_t)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  (table 2 funcref)
  (elem (i32.const 1) $_start)
  (data (i32.const 16) "Hello, WebAssembly in Linux Kernel!\n")
  (func $_start (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 36))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then (call $proc_exit (i32.const 1))))))
"#;

#[test]
fn accepts_wasi_hello_world() {
    let m = accept(HELLO);
    let hosts: Vec<_> = m
        .imports
        .iter()
        .map(|i| (i.name.as_str(), i.host_id))
        .collect();
    assert_eq!(hosts, [("fd_write", 44), ("proc_exit", 45)]);
    assert_eq!(m.funcs.len(), 1);
    assert_eq!(m.bodies.len(), 1);
    assert_eq!(m.func_name(2), Some("_start"));
    assert_eq!(m.func_type(0).params(), [ValType::I32; 4]);
    assert_eq!(m.memory.map(|mem| (mem.min, mem.max)), Some((2, None)));
    assert_eq!(m.globals[0].init, ConstValue::I32(65536));
    assert!(m.globals[0].mutable);
    let start = m.exports.iter().find(|e| e.name == "_start").unwrap();
    assert_eq!((start.kind, start.index), (ExportKind::Func, 2));
    assert_eq!(
        m.elems[0].mode,
        SegmentMode::Active {
            index: 0,
            offset: 1
        }
    );
    assert_eq!(m.elems[0].items, [Some(2)]);
    let data = &m.data[0];
    assert_eq!(
        data.mode,
        SegmentMode::Active {
            index: 0,
            offset: 16
        }
    );
    assert_eq!(
        &m.wasm[data.range.clone()],
        b"Hello, WebAssembly in Linux Kernel!\n"
    );
    // The body range covers the locals declaration and ends with `end`.
    let body = &m.wasm[m.bodies[0].range.clone()];
    assert_eq!((body[0], body.last()), (0, Some(&0x0b)));
}

#[test]
fn accepts_the_feature_set() {
    accept(
        r#"(module
          (memory 1)
          (data $d "abc")
          (elem $e func $f)
          (table $t 4 funcref)
          (table $x 1 externref)
          (func $f (param i32 i64) (result i64 i32)      ;; multi-value
            (local.get 1) (local.get 0))
          (func (param f32) (result i32 i64)
            (i32.trunc_sat_f32_s (local.get 0))          ;; non-trapping f2i
            (i64.extend8_s (i64.const 255)))              ;; sign extension
          (func
            (memory.copy (i32.const 0) (i32.const 1) (i32.const 2))
            (memory.fill (i32.const 0) (i32.const 0) (i32.const 2))
            (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
            (data.drop $d)
            (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))
            (drop (table.grow $t (ref.func $f) (i32.const 1)))
            (drop (ref.is_null (table.get $x (i32.const 0))))
            (call_indirect $t (type 0) (i32.const 1) (i64.const 2) (i32.const 0))
            (drop) (drop)))"#,
    );
}

#[test]
fn rejects_simd_naming_the_feature() {
    let d = reject(
        r#"(module (func $vec (result i32)
            (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))"#,
    );
    assert_eq!(d.len(), 1, "{d}");
    assert_eq!(d.0[0].kind, DiagKind::Unsupported);
    assert_eq!(d.0[0].func, Some((0, Some("vec".to_string()))));
    assert!(
        d.to_string()
            .contains("SIMD is not supported (feature `simd`)"),
        "{d}"
    );

    // A v128 in a signature is a module-level rejection.
    let d = reject("(module (func (param v128)))");
    assert!(d.to_string().contains("feature `simd`"), "{d}");
}

#[test]
fn rejects_other_proposals_naming_them() {
    let cases = [
        ("(module (memory 1 1 shared))", "feature `threads`"),
        ("(module (memory i64 1))", "feature `memory64`"),
        ("(module (memory 1) (memory 1))", "feature `multi-memory`"),
        ("(module (func (return_call 0)))", "feature `tail-call`"),
        ("(module (tag))", "feature `exceptions`"),
        (
            "(module (global i32 (i32.const 1)) (global i32 (global.get 0)))",
            "feature `gc`",
        ),
    ];
    for (text, want) in cases {
        let d = reject(text);
        assert!(d.to_string().contains(want), "{text}: {d}");
        assert!(
            d.iter().all(|x| x.kind == DiagKind::Unsupported),
            "{text}: {d}"
        );
    }
}

#[test]
fn rejects_import_outside_the_wasi_table() {
    let d = reject(r#"(module (import "env" "foo" (func)))"#);
    assert_eq!(d.len(), 1);
    assert_eq!(d.0[0].kind, DiagKind::Policy);
    assert!(
        d.to_string()
            .contains("import `env.foo` is not in the WASI table"),
        "{d}"
    );

    let d = reject(r#"(module (import "wasi_snapshot_preview1" "path_symlink" (func)))"#);
    assert!(d
        .to_string()
        .contains("`wasi_snapshot_preview1.path_symlink` is not in the WASI table"));
}

#[test]
fn rejects_wasi_import_with_wrong_signature() {
    let d = reject(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32) (result i32))))"#,
    );
    let text = d.to_string();
    assert!(text.contains("has type (i32, i32) -> (i32)"), "{text}");
    assert!(
        text.contains("expected (i32, i32, i32, i32) -> (i32)"),
        "{text}"
    );
}

#[test]
fn rejects_imported_memory_table_and_global() {
    let d = reject(
        r#"(module
          (import "env" "mem" (memory 1))
          (import "env" "tab" (table 1 funcref))
          (import "env" "g" (global i32)))"#,
    );
    let text = d.to_string();
    assert_eq!(d.len(), 3, "{text}");
    assert!(
        text.contains("import `env.mem`: imported memories are not supported"),
        "{text}"
    );
    assert!(text.contains("imported tables are not supported"), "{text}");
    assert!(
        text.contains("imported globals are not supported"),
        "{text}"
    );
}

#[test]
fn reports_every_problem_at_once() {
    let d = reject(
        r#"(module
          (import "env" "a" (func))
          (import "env" "b" (func))
          (memory 20000)
          (func $one (result i32) (i64.const 1))
          (func $two (result f32) (i32.const 2)))"#,
    );
    let text = d.to_string();
    assert_eq!(d.len(), 5, "{text}");
    assert!(
        text.contains("`env.a`") && text.contains("`env.b`"),
        "{text}"
    );
    assert!(text.contains("memory of 20000 pages"), "{text}");
    assert!(
        text.contains("func 2 <one>") && text.contains("func 3 <two>"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().all(|l| l.starts_with("error: ")));
}

#[test]
fn names_the_function_of_a_body_error() {
    let bytes = wasm(
        r#"(module
          (func $ok)
          (func $broken (param i32) (result i32) (i32.add (local.get 0))))"#,
    );
    let d = verify(&bytes, &Policy::kernel()).unwrap_err();
    assert_eq!(d.len(), 1, "{d}");
    let diag = &d.0[0];
    assert_eq!(diag.func, Some((1, Some("broken".to_string()))));
    assert_eq!(diag.kind, DiagKind::Invalid);
    // The offset points at the faulty `i32.add` inside the second body.
    assert_eq!(bytes[diag.offset], 0x6a, "{d}");
    let line = diag.to_string();
    assert!(
        line.starts_with("error: func 1 <broken>: offset 0x"),
        "{line}"
    );
    assert!(line.contains("type mismatch"), "{line}");
}

#[test]
fn unnamed_functions_are_reported_by_index() {
    let d = reject("(module (func) (func (drop)))");
    assert!(d.to_string().starts_with("error: func 1: offset 0x"), "{d}");
}

#[test]
fn structural_errors_have_no_function() {
    let d = verify(b"\0asm\x01\0\0\0\x01\x05", &Policy::kernel()).unwrap_err();
    assert_eq!(d.len(), 1);
    assert_eq!(d.0[0].func, None);
    assert_eq!(d.0[0].kind, DiagKind::Invalid);
    assert!(d.to_string().starts_with("error: offset 0x"), "{d}");
}

#[test]
fn spectest_policy_allows_print_only() {
    let text = r#"(module
      (import "spectest" "print_i32" (func (param i32)))
      (import "spectest" "print_f64_f64" (func (param f64 f64))))"#;
    let m = verify(&wasm(text), &Policy::spectest()).unwrap();
    assert!(m
        .imports
        .iter()
        .all(|i| i.host_id == kwo_verifier::HOST_SPECTEST_PRINT));
    let d = reject(text);
    assert_eq!(d.len(), 2, "{d}");

    let d = reject_with(
        r#"(module (import "spectest" "global_i32" (global i32)))"#,
        &Policy::spectest(),
    );
    assert!(
        d.to_string().contains("imported globals are not supported"),
        "{d}"
    );
    assert!(d.only_by_design());
    let d = reject_with(
        r#"(module (import "spectest" "print" (func (result i32))))"#,
        &Policy::spectest(),
    );
    assert!(d.to_string().contains("must not return values"), "{d}");
}

#[test]
fn limit_flags_change_the_limits() {
    let text = "(module (memory 20) (table 100 funcref) (func (local i32 i32 i32)))";
    accept(text);
    let mut policy = Policy::kernel();
    policy.limits.apply_flag("max-memory-pages=10").unwrap();
    policy.limits.apply_flag("max-table-elements=0x10").unwrap();
    policy.limits.apply_flag("max-locals=2").unwrap();
    let d = reject_with(text, &policy);
    let text_d = d.to_string();
    assert_eq!(d.len(), 3, "{text_d}");
    assert!(d.iter().all(|x| x.kind == DiagKind::Limit));
    assert!(text_d.contains("limit `max-memory-pages`"), "{text_d}");
    assert!(text_d.contains("limit `max-table-elements`"), "{text_d}");
    assert!(text_d.contains("func 0: offset") && text_d.contains("limit `max-locals`"));

    // A maximum above the limit, or none, is allowed: the runtime caps it.
    accept("(module (memory 1 65536))");

    assert!(policy.limits.apply_flag("max-bananas=1").is_err());
    assert!(policy.limits.apply_flag("max-locals").is_err());
    assert!(policy.limits.apply_flag("max-locals=many").is_err());
    assert_eq!(policy.limits.get("max-locals"), Some(2));
}

#[test]
fn count_and_size_limits() {
    let mut policy = Policy::kernel();
    for flag in ["max-functions=2", "max-function-size=7", "max-data-bytes=3"] {
        policy.limits.apply_flag(flag).unwrap();
    }
    let d = reject_with(
        r#"(module
          (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
          (memory 1)
          (func (drop (i32.add (i32.const 1) (i32.const 2))))
          (func)
          (data (i32.const 0) "abcd"))"#,
        &policy,
    );
    let text = d.to_string();
    assert_eq!(d.len(), 3, "{text}");
    assert!(text.contains("module has 3 functions"), "{text}");
    assert!(
        text.contains("func 1: offset") && text.contains("`max-function-size`"),
        "{text}"
    );
    assert!(text.contains("data segments hold 4 bytes"), "{text}");
}

#[test]
fn import_count_limit() {
    let text = r#"(module
      (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
      (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))))"#;
    accept(text);
    let mut policy = Policy::kernel();
    policy.limits.set("max-imports", 1).unwrap();
    let d = reject_with(text, &policy);
    assert_eq!(d.len(), 1, "{d}");
    assert!(
        d.to_string()
            .contains("module has 2 imports, over the limit of 1"),
        "{d}"
    );
}

#[test]
fn folds_constant_expressions() {
    let m = accept(
        r#"(module
          (memory 1)
          (table 20 funcref)
          (global i32 (i32.add (i32.const 40) (i32.mul (i32.const 1) (i32.const 2))))
          (global i64 (i64.sub (i64.const 0) (i64.mul (i64.const 3) (i64.const 0x4000000000000000))))
          (global i32 (i32.add (i32.const 0x7fffffff) (i32.const 1)))
          (global f32 (f32.const 1.5))
          (global f64 (f64.const -0.0))
          (global funcref (ref.func $f))
          (global externref (ref.null extern))
          (elem (i32.sub (i32.const 10) (i32.const 3)) $f $f)
          (elem (table 0) (offset (i32.const 2)) funcref (ref.func $f) (ref.null func))
          (elem declare func $f)
          (elem funcref (item ref.null func))
          (data (i32.const -1) "")
          (data (i32.mul (i32.const 100) (i32.const 100)) "x")
          (data "passive")
          (func $f))"#,
    );
    let inits: Vec<_> = m.globals.iter().map(|g| g.init).collect();
    assert_eq!(
        inits,
        [
            ConstValue::I32(42),
            ConstValue::I64(0i64.wrapping_sub(3i64.wrapping_mul(0x4000000000000000))),
            ConstValue::I32(i32::MIN),
            ConstValue::F32(1.5f32.to_bits()),
            ConstValue::F64((-0.0f64).to_bits()),
            ConstValue::RefFunc(0),
            ConstValue::RefNull,
        ]
    );
    assert_eq!(m.globals[6].ty, ValType::EXTERNREF);
    let elems: Vec<_> = m.elems.iter().map(|e| (e.mode, e.items.clone())).collect();
    assert_eq!(
        elems,
        [
            (
                SegmentMode::Active {
                    index: 0,
                    offset: 7
                },
                vec![Some(0), Some(0)]
            ),
            (
                SegmentMode::Active {
                    index: 0,
                    offset: 2
                },
                vec![Some(0), None]
            ),
            (SegmentMode::Declarative, vec![Some(0)]),
            (SegmentMode::Passive, vec![None]),
        ]
    );
    assert!(m.elems.iter().all(|e| e.elem == RefType::FUNCREF));
    let data: Vec<_> = m
        .data
        .iter()
        .map(|d| (d.mode, &m.wasm[d.range.clone()]))
        .collect();
    assert_eq!(
        data,
        [
            (
                SegmentMode::Active {
                    index: 0,
                    offset: u32::MAX
                },
                &b""[..]
            ),
            (
                SegmentMode::Active {
                    index: 0,
                    offset: 10000
                },
                &b"x"[..]
            ),
            (SegmentMode::Passive, &b"passive"[..]),
        ]
    );
}

#[test]
fn ignores_a_malformed_name_section() {
    let mut bytes = wasm("(module (func))");
    // Custom section "name" whose function-names subsection is truncated.
    bytes.extend_from_slice(&[0, 8, 4, b'n', b'a', b'm', b'e', 1, 5, 1]);
    let m = verify(&bytes, &Policy::kernel()).expect("name section must not reject");
    assert!(m.func_names.is_empty());
}

#[test]
fn rejects_components() {
    let d = verify(b"\0asm\x0d\0\x01\0", &Policy::kernel()).unwrap_err();
    assert_eq!(d.len(), 1, "{d}");
}
