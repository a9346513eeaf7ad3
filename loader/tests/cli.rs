//! The `kwo` command line on small modules: verification verdicts and exit
//! statuses, the proven-access log, compile + inspect (with disassembly),
//! `run` of `.wasm` and
//! `.kwo` (detected by magic, not extension), `--invoke` with typed
//! arguments and printed results, the trap report and its exit status, fuel
//! and timeout flags, and clean errors for bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir.join(name)
}

fn write_wat(name: &str, wat: &str) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, wat::parse_str(wat).expect("test module parses")).expect("writing");
    path
}

fn kwo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kwo"))
        .args(args)
        .output()
        .expect("running kwo")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().expect("utf-8 path")
}

const CALC: &str = r#"(module
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "mix") (param i64 f64) (result i64 f64) local.get 0 local.get 1 f64.sqrt)
  (func (export "spin") (loop br 0)))"#;

#[test]
fn verify_accepts_and_rejects() {
    let good = write_wat("good.wasm", CALC);
    let out = kwo(&["verify", p(&good)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok"));
    let bad = write_wat("bad.wasm", r#"(module (import "env" "f" (func)))"#);
    let out = kwo(&["verify", p(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).trim().is_empty());
    let out = kwo(&["verify", p(&good), "--limit", "no-such-limit=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown limit"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invoke_prints_results_and_traps_exit_134() {
    let wasm = write_wat("calc.wasm", CALC);
    let out = kwo(&["run", p(&wasm), "--invoke", "div", "7", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "3\n");
    let out = kwo(&["run", p(&wasm), "--invoke", "mix", "-5", "16"]);
    assert_eq!(text(&out.stdout), "-5\n4\n", "{}", text(&out.stderr));
    let out = kwo(&["run", p(&wasm), "--invoke", "div", "1", "0"]);
    assert_eq!(out.status.code(), Some(134));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("trap: integer divide by zero in func 0"),
        "{err}"
    );
    assert!(err.contains(" at wasm offset 0x"), "{err}");
    let out = kwo(&["run", p(&wasm), "--invoke", "div", "x", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a valid i32"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn compiled_object_runs_and_inspects_whatever_its_name() {
    let wasm = write_wat("calc2.wasm", CALC);
    let object = scratch("calc2.bin");
    let out = kwo(&["compile", p(&wasm), "-o", p(&object)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = kwo(&["run", p(&object), "--invoke", "div", "9", "3"]);
    assert_eq!(text(&out.stdout), "3\n", "{}", text(&out.stderr));
    let out = kwo(&["inspect", "--disasm", p(&object)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("x86_64"), "{listing}");
    assert!(
        listing.contains("endbr64") || listing.contains("bti"),
        "{listing}"
    );
}

#[test]
fn budgets_stop_endless_loops() {
    let wasm = write_wat("spin.wasm", CALC);
    let out = kwo(&["run", "--timeout", "100ms", p(&wasm), "--invoke", "spin"]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).starts_with("trap: interrupted"),
        "{}",
        text(&out.stderr)
    );
    let out = kwo(&["run", "--fuel", "1000", p(&wasm), "--invoke", "spin"]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).starts_with("trap: fuel exhausted"),
        "{}",
        text(&out.stderr)
    );
    let out = kwo(&["run", "--timeout", "soon", p(&wasm)]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn proc_exit_status_and_missing_start() {
    let wasm = write_wat(
        "exit.wasm",
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
           (func (export "_start") (call $e (i32.const 42))))"#,
    );
    assert_eq!(kwo(&["run", p(&wasm)]).status.code(), Some(42));
    let calc = write_wat("nostart.wasm", CALC);
    let out = kwo(&["run", p(&calc)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("_start"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_files_are_clean_errors() {
    let junk = scratch("junk.kwo");
    std::fs::write(&junk, b"definitely not a module").unwrap();
    for cmd in ["run", "inspect", "verify"] {
        let out = kwo(&[cmd, p(&junk)]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("kwo: ") && err.lines().count() == 1,
            "{cmd}: {err}"
        );
    }
    let out = kwo(&["run", "/no/such/file.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[test]
fn reactor_is_initialized_before_invoke() {
    let wasm = write_wat(
        "reactor.wasm",
        r#"(module (global $g (mut i32) (i32.const 0))
           (func (export "_initialize") (global.set $g (i32.const 5)))
           (func (export "get") (result i32) (global.get $g)))"#,
    );
    let out = kwo(&["run", p(&wasm), "--invoke", "get"]);
    assert_eq!(text(&out.stdout), "5\n", "{}", text(&out.stderr));
}

#[test]
fn environment_reaches_the_program() {
    let wasm = write_wat(
        "env.wasm",
        r#"(module
           (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sz (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
           (memory (export "memory") 1)
           (func (export "_start")
             (drop (call $sz (i32.const 0) (i32.const 4)))
             (drop (call $get (i32.const 16) (i32.const 64)))
             ;; iovec at 8: the strings buffer, all of it (NULs included).
             (i32.store (i32.const 8) (i32.const 64))
             (i32.store (i32.const 12) (i32.load (i32.const 4)))
             (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))))"#,
    );
    let out = kwo(&["run", "--env", "A=1", "--env", "B=two", p(&wasm)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"A=1\0B=two\0");
}

/// The NAME=VALUE fields of `kwo bench`'s line.
fn bench_fields(line: &str) -> std::collections::HashMap<String, String> {
    let rest = line.strip_prefix("bench: ").expect("bench line prefix");
    rest.split_whitespace()
        .map(|f| {
            let (k, v) = f.split_once('=').expect("NAME=VALUE field");
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn bench_times_calls_and_checks_results() {
    let wasm = write_wat(
        "bench.wasm",
        r#"(module (global $g (mut i32) (i32.const 0))
           (func (export "_initialize") (global.set $g (i32.const 40)))
           (func (export "sum") (param i32) (result i64) (local $s i64)
             (loop $l (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get 0))))
               (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
             (i64.add (local.get $s) (i64.extend_i32_u (global.get $g))))
           (func (export "tick") (result i32)
             (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g)))"#,
    );
    let out = kwo(&[
        "bench",
        "--samples",
        "4",
        "--batch",
        "3",
        p(&wasm),
        "sum",
        "100",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let f = bench_fields(stdout.trim_end());
    assert_eq!(f["where"], "user");
    assert_eq!(f["export"], "sum");
    assert_eq!(f["args"], "100");
    assert_eq!(f["samples"], "4");
    assert_eq!(f["batch"], "3");
    // 1 + ... + 100, plus what _initialize stored.
    assert_eq!(f["result"], "5090");
    let min: f64 = f["min_ns"].parse().unwrap();
    let median: f64 = f["median_ns"].parse().unwrap();
    assert!(min > 0.0 && min <= median, "{stdout}");
    assert!(!f.contains_key("inside_min_ns"), "{stdout}");

    // A call that returns something else than the warm-up is a failure.
    let out = kwo(&["bench", p(&wasm), "tick"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("where the warm-up call returned 41"),
        "{}",
        text(&out.stderr)
    );
    let out = kwo(&["bench", p(&wasm), "sum"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("takes 1 arguments"));
}

/// `kwo verify --log` counts proven and checked accesses per function and
/// in total; `kwo inspect` of a `.wasm` shows the total.
#[test]
fn verify_log_and_inspect_report_proven_accesses() {
    let wasm = write_wat(
        "proofs.wasm",
        r#"(module (memory 1)
          (func $fill (export "fill") (local $i i32)
            (loop $l
              (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 100)))))
          (func $get (export "get") (param i32) (result i32) (i32.load (local.get 0))))"#,
    );
    let out = kwo(&["verify", "--log", p(&wasm)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stdout);
    assert!(
        log.contains("func 0 (fill): 1 accesses, 1 proven, 0 checked"),
        "{log}"
    );
    assert!(
        log.contains("func 1 (get): 1 accesses, 0 proven, 1 checked"),
        "{log}"
    );
    assert!(
        log.contains("accesses: 1 proven in bounds, 1 checked (50.0% proven)"),
        "{log}"
    );
    let out = kwo(&["verify", p(&wasm)]);
    assert!(!text(&out.stdout).contains("proven"), "the log is opt-in");
    let out = kwo(&["inspect", p(&wasm)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("accesses: 1 proven in bounds, 1 checked"),
        "{}",
        text(&out.stdout)
    );
}
