//! The workload table and the Wasm builds of the workloads.
//!
//! C workloads live in `benches/workloads/c/NAME.c` and are one module each
//! (export `run`); Rust workloads share the `kwo-bench-workloads` cdylib
//! (one export per workload). Native builds are linked into this binary
//! (`build.rs` for C, a normal dependency for Rust); Wasm builds are made
//! here, from the same sources, every time the harness runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One benchmark: an exported `(i32) -> i64` function and its sizes.
#[derive(Clone)]
pub struct Workload {
    pub name: &'static str,
    /// Key into the map of built modules.
    pub module: &'static str,
    pub export: &'static str,
    /// Argument of the full run (sized for tens of ms natively).
    pub full: i32,
    /// Argument of the smoke run (a few microseconds).
    pub smoke: i32,
    pub native: fn(i32) -> i64,
    /// Each timed call gets a fresh instance (made untimed), so that the
    /// memory it grows is on the timed path: allocation-heavy workloads.
    pub fresh: bool,
}

/// The Rust cdylib's module key.
const RUST_MODULE: &str = "rust";

macro_rules! c_workloads {
    ($($name:literal $sym:ident $full:literal $smoke:literal;)*) => {
        mod native_c {
            extern "C" {
                $(pub fn $sym(n: i32) -> u64;)*
            }
        }
        /// The C workloads, in report order.
        fn c_workloads() -> Vec<Workload> {
            vec![$(Workload {
                name: $name,
                module: $name,
                export: "run",
                full: $full,
                smoke: $smoke,
                // SAFETY: the C function takes and returns plain integers
                // and touches only its own static arrays.
                native: |n| unsafe { native_c::$sym(n) as i64 },
                fresh: false,
            },)*]
        }
    };
}

c_workloads! {
    "gemm" kwo_bench_gemm 448 12;
    "2mm" kwo_bench_2mm 256 12;
    "lu" kwo_bench_lu 400 12;
    "jacobi_2d" kwo_bench_jacobi_2d 600 12;
    "seidel_2d" kwo_bench_seidel_2d 500 12;
    "floyd_warshall" kwo_bench_floyd_warshall 400 12;
    "packet" kwo_bench_packet 65536 64;
    "crc32" kwo_bench_crc32 4096 1;
    "fib" kwo_bench_fib 35 10;
    "dispatch" kwo_bench_dispatch 1024 1;
    "memops" kwo_bench_memops 256 1;
}

/// Every workload, in report order.
pub fn all() -> Vec<Workload> {
    use kwo_bench_workloads as rs;
    let rust = |name, export, full, smoke, native, fresh| Workload {
        name,
        module: RUST_MODULE,
        export,
        full,
        smoke,
        native,
        fresh,
    };
    let mut w = c_workloads();
    w.extend([
        rust(
            "sha256",
            "bench_sha256",
            1024,
            1,
            |n| rs::bench_sha256(n),
            false,
        ),
        rust(
            "deflate",
            "bench_deflate",
            1024,
            2,
            |n| rs::bench_deflate(n),
            false,
        ),
        rust(
            "sort_hash",
            "bench_sort_hash",
            1 << 20,
            1000,
            |n| rs::bench_sort_hash(n),
            false,
        ),
        rust(
            "json",
            "bench_json",
            40_000,
            50,
            |n| rs::bench_json(n),
            true,
        ),
        rust(
            "vec_grow",
            "bench_vec_grow",
            2_000_000,
            1000,
            |n| rs::bench_vec_grow(n),
            true,
        ),
        rust(
            "hash_map",
            "bench_hash_map",
            200_000,
            500,
            |n| rs::bench_hash_map(n),
            true,
        ),
        rust(
            "strings",
            "bench_strings",
            200_000,
            500,
            |n| rs::bench_strings(n),
            true,
        ),
    ]);
    w
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// clang flags for a C workload; the bulk-memory workload gets
/// `memory.copy`/`memory.fill` instead of wasi-libc's byte loops.
fn clang_wasm(src: &Path, out: &Path, bulk_memory: bool) -> Command {
    let mut cmd = Command::new("clang");
    cmd.args([
        "--target=wasm32-wasi",
        "-O2",
        "-mexec-model=reactor",
        "-Wl,--export=run",
    ]);
    if bulk_memory {
        cmd.arg("-mbulk-memory");
    }
    cmd.arg("-o").arg(out).arg(src);
    cmd
}

/// Builds every module the workloads need into `out_dir`; returns module
/// key → `.wasm` bytes.
pub fn build_wasm(
    workloads: &[Workload],
    out_dir: &Path,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let root = workspace_root();
    let mut modules = BTreeMap::new();
    for w in workloads {
        if modules.contains_key(w.module) {
            continue;
        }
        let path = if w.module == RUST_MODULE {
            build_rust(&root, out_dir)?
        } else {
            let src = root
                .join("benches/workloads/c")
                .join(format!("{}.c", w.module));
            let out = out_dir.join(format!("{}.wasm", w.module));
            run_tool(&mut clang_wasm(&src, &out, w.module == "memops"))?;
            out
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        modules.insert(w.module.to_string(), bytes);
    }
    Ok(modules)
}

/// `cargo build` of the Rust workloads for wasm32-wasip1, in a target
/// directory of its own so that it never waits on the harness's build.
fn build_rust(root: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = out_dir.join("cargo");
    run_tool(
        Command::new(cargo)
            .current_dir(root)
            .args(["build", "--quiet", "--release", "-p", "kwo-bench-workloads"])
            .args(["--target", "wasm32-wasip1", "--target-dir"])
            .arg(&target_dir)
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo"),
    )?;
    Ok(target_dir.join("wasm32-wasip1/release/kwo_bench_workloads.wasm"))
}

/// Size of the code section's contents (function count and bodies; 0
/// when the module has none).
pub fn code_section_len(wasm: &[u8]) -> usize {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionStart { range, .. }) = payload {
            return range.len();
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_section_length() {
        let wasm =
            wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 7))"#).unwrap();
        // One body: count 1, body size 1, no locals 0, i32.const 7, end.
        assert_eq!(code_section_len(&wasm), 6);
        assert_eq!(code_section_len(&wat::parse_str("(module)").unwrap()), 0);
    }

    #[test]
    fn workload_names_and_exports_are_unique() {
        let all = all();
        for (i, w) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|o| o.name != w.name), "{}", w.name);
            assert!(
                all[i + 1..]
                    .iter()
                    .all(|o| (o.module, o.export) != (w.module, w.export)),
                "{}",
                w.name
            );
            assert!(w.smoke <= w.full, "{}", w.name);
        }
    }
}
