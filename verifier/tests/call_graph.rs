//! The verifier's call graph: which modules are recursive, with
//! `call_indirect` reaching every address-taken function.

use kwo_verifier::{verify, Policy};

fn cycle(wat: &str) -> Option<Vec<u32>> {
    let wasm = wat::parse_str(wat).unwrap();
    verify(&wasm, &Policy::kernel()).unwrap().call_graph.cycle
}

#[test]
fn direct_calls_without_a_cycle_are_bounded() {
    let wat = r#"(module
      (func $leaf (result i32) (i32.const 1))
      (func $mid (result i32) (call $leaf))
      (func (export "top") (result i32) (i32.add (call $mid) (call $leaf))))"#;
    assert_eq!(cycle(wat), None);
}

#[test]
fn mutual_recursion_is_a_cycle() {
    let wat = r#"(module
      (func $even (param i32) (result i32) (if (result i32) (local.get 0)
        (then (call $odd (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 1))))
      (func $odd (param i32) (result i32) (if (result i32) (local.get 0)
        (then (call $even (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0))))
      (export "even" (func $even)))"#;
    let c = cycle(wat).expect("a cycle");
    assert_eq!(c.first(), c.last());
    assert_eq!(c.len(), 3);
}

#[test]
fn call_indirect_reaches_every_address_taken_function() {
    // The caller is in the table: it may call itself indirectly.
    let in_table = r#"(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $f)
      (func $f (type $t) (call_indirect (type $t) (local.get 0) (i32.const 0))))"#;
    assert_eq!(cycle(in_table), Some(vec![0, 0]));
    // Only a leaf is address-taken (the caller is not exported either): no
    // cycle.
    let leaf_only = r#"(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $leaf)
      (func $leaf (type $t) (local.get 0))
      (func $f (param i32) (result i32)
        (call_indirect (type $t) (local.get 0) (i32.const 0))))"#;
    assert_eq!(cycle(leaf_only), None);
    // An exported function can be taken with ref.func and stored in a
    // table, so it counts as address-taken.
    let exported = r#"(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref)
      (func $f (export "f") (type $t) (call_indirect (type $t) (local.get 0) (i32.const 0))))"#;
    assert_eq!(cycle(exported), Some(vec![0, 0]));
}
