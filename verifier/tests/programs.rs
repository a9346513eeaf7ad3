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

/// The access counts `(proven, hoisted, checked)` of `m`.
fn counts(m: &VerifiedModule) -> (u64, u64, u64) {
    let c = m.access_counts();
    (c.proven, c.hoisted, c.checked)
}

/// The range analysis keeps what it proves on the benchmark's C kernels,
/// built as `kwo-bench` builds them (`benches/src/workloads.rs`): a change
/// that makes the analysis faster must not make it prove less. A change
/// that proves more updates these numbers (and `docs/benchmarks.md`).
#[test]
fn benchmark_kernels_keep_their_proofs() {
    let kernels: [(&str, (u64, u64, u64)); 11] = [
        ("2mm", (12, 16, 0)),
        ("crc32", (11, 8, 2)),
        ("dispatch", (10, 6, 0)),
        ("fib", (0, 0, 0)),
        ("floyd_warshall", (8, 10, 0)),
        ("gemm", (10, 18, 0)),
        ("jacobi_2d", (5, 14, 0)),
        ("lu", (12, 14, 3)),
        ("memops", (10, 0, 0)),
        ("packet", (28, 12, 39)),
        ("seidel_2d", (12, 6, 0)),
    ];
    let sources = programs().join("../../benches/workloads/c");
    for (name, expected) in kernels {
        let out = out_dir().join(format!("bench_{name}.wasm"));
        let mut cmd = Command::new("clang");
        cmd.args(["--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-Wl,--export=run"]);
        if name == "memops" {
            cmd.arg("-mbulk-memory");
        }
        cmd.arg("-o").arg(&out).arg(sources.join(format!("{name}.c")));
        let m = check(name, &build(&mut cmd, &out));
        assert_eq!(counts(&m), expected, "{name}: (proven, hoisted, checked)");
    }
}

/// The same for the Rust test programs, optimised (their counts follow
/// the Rust standard library's code: a new rustc may change them).
#[test]
fn rust_programs_keep_their_proofs() {
    for (name, expected) in [("hello", (416, 324, 2388)), ("alloc", (418, 120, 2094))] {
        let out = out_dir().join(format!("{name}_rs-O3-counts.wasm"));
        let wasm = build(
            Command::new("rustc")
                .args(["--target", "wasm32-wasip1", "-C", "opt-level=3", "-o"])
                .arg(&out)
                .arg(programs().join(format!("{name}.rs"))),
            &out,
        );
        let m = check(name, &wasm);
        assert_eq!(counts(&m), expected, "{name}.rs: (proven, hoisted, checked)");
    }
}
