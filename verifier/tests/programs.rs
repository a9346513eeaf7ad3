//! Real toolchain output verifies under the kernel policy: the C and Rust
//! test programs of `tests/programs/`, built here with clang + wasi-libc
//! (`wasm32-wasi`) and rustc (`wasm32-wasip1`), at -O0 and optimised.
//! Both toolchains must be installed (`clang`, `wasi-libc`, `lld`;
//! `rustup target add wasm32-wasip1`); the test fails loudly otherwise.

use kwo_verifier::{verify, Policy, VerifiedModule};
use std::path::{Path, PathBuf};
use std::process::Command;

fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs")
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verifier-programs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn build(cmd: &mut Command, out: &Path) -> Vec<u8> {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed");
    std::fs::read(out).unwrap()
}

fn check(name: &str, wasm: &[u8]) -> VerifiedModule {
    match verify(wasm, &Policy::kernel()) {
        Ok(m) => m,
        Err(d) => panic!("{name} rejected:\n{d}"),
    }
}

fn import_names(m: &VerifiedModule) -> Vec<&str> {
    m.imports.iter().map(|i| i.name.as_str()).collect()
}

#[test]
fn c_hello_verifies() {
    for opt in ["-O0", "-O2"] {
        let out = out_dir().join(format!("hello_c{opt}.wasm"));
        let wasm = build(
            Command::new("clang")
                .args(["--target=wasm32-wasi", "--sysroot=/usr", opt, "-o"])
                .arg(&out)
                .arg(programs().join("hello.c")),
            &out,
        );
        let m = check("hello.c", &wasm);
        let imports = import_names(&m);
        assert!(
            imports.contains(&"fd_write") && imports.contains(&"proc_exit"),
            "{imports:?}"
        );
        assert!(m.exports.iter().any(|e| e.name == "_start"));
        eprintln!(
            "hello.c {opt}: {} functions, imports {imports:?}",
            m.funcs.len()
        );
    }
}

#[test]
fn rust_hello_verifies() {
    for opt in ["0", "3"] {
        let out = out_dir().join(format!("hello_rs-O{opt}.wasm"));
        let wasm = build(
            Command::new("rustc")
                .args(["--target", "wasm32-wasip1", "-C"])
                .arg(format!("opt-level={opt}"))
                .arg("-o")
                .arg(&out)
                .arg(programs().join("hello.rs")),
            &out,
        );
        let m = check("hello.rs", &wasm);
        let imports = import_names(&m);
        assert!(
            imports.contains(&"args_get") && imports.contains(&"proc_exit"),
            "{imports:?}"
        );
        assert!(!m.func_names.is_empty(), "rustc emits a name section");
        eprintln!(
            "hello.rs -O{opt}: {} functions, imports {imports:?}",
            m.funcs.len()
        );
    }
}
