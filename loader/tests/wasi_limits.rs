//! WASI host functions at their limits, in the userspace runtime (the same
//! C core as kwo.ko; tests/vm runs the kernel side).

use kwo_loader::runtime::{Config, Instance, Val};
use kwo_verifier::Policy;

fn instance(wat: &str) -> Instance {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let module = kwo_verifier::verify(&wasm, &Policy::kernel()).expect("verifies");
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        ..kwo_compiler::Options::default()
    };
    let kwo = kwo_compiler::compile(&module, &options).expect("compiles");
    Instance::new(&kwo, &Config::default()).expect("instantiates")
}

/// bigwrite(n, len): fd_write to stdout of n iovecs of len bytes, all over
/// the same buffer at 0; returns the errno, nwritten() what was reported.
const BIGWRITE: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory 17)
  (func (export "bigwrite") (param $n i32) (param $len i32) (result i32)
    (local $i i32) (local $p i32)
    (i32.store (i32.const 0x10fff0) (i32.const -1))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (i32.const 0x100000) (i32.shl (local.get $i) (i32.const 3))))
        (i32.store (local.get $p) (i32.const 0))
        (i32.store offset=4 (local.get $p) (local.get $len))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $fd_write (i32.const 1) (i32.const 0x100000) (local.get $n) (i32.const 0x10fff0)))
  (func (export "nwritten") (result i32) (i32.load (i32.const 0x10fff0))))"#;

const WASI_EINVAL: i32 = 28;

/// Lengths adding up past 4 GiB used to wrap in a 32-bit sum: 4097 iovecs of
/// 1 MiB reported success with nwritten = 1 MiB. nwritten cannot express
/// the total, so the call must fail (EINVAL) and leave nwritten alone.
#[test]
fn fd_write_totals_past_4_gib_are_einval() {
    let mut inst = instance(BIGWRITE);
    for n in [4096, 4097, 5000] {
        let r = inst.invoke("bigwrite", &[Val::I32(n), Val::I32(1 << 20)]).unwrap();
        assert_eq!(r, vec![Val::I32(WASI_EINVAL)], "{n} iovecs of 1 MiB");
        let w = inst.invoke("nwritten", &[]).unwrap();
        assert_eq!(w, vec![Val::I32(-1)], "nwritten untouched after {n} iovecs");
    }
    // Just below: 4095 MiB is a valid total (the output buffer keeps its
    // limit, the rest is dropped but counted).
    let r = inst.invoke("bigwrite", &[Val::I32(4095), Val::I32(1 << 20)]).unwrap();
    assert_eq!(r, vec![Val::I32(0)]);
    let w = inst.invoke("nwritten", &[]).unwrap();
    assert_eq!(w, vec![Val::I32((4095u32 << 20) as i32)]);
}
