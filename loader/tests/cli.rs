//! The `kwo` command line on small modules: verification verdicts and exit
//! statuses (1 load error, 2 usage error, 134 trap), the proven-access log,
//! compile + inspect (with disassembly), `run` of `.wasm`, `.wat` and `.kwo`
//! (detected by content, not extension), Wasmtime's argument order (options before FILE,
//! everything after it for the program, `--invoke NAME` before FILE),
//! `--env NAME` and the `-W`/`-S` aliases, typed export arguments and
//! printed results, the trap report, fuel and timeout flags, refusals of
//! missing imports and their ENOSYS stubs, and clean errors for bad input.

use std::path::PathBuf;
use std::process::Output;

mod common;
use common::{kwo_output as kwo, path_str, stderr, stdout};

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

fn write_wat(name: &str, wat: &str) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, wat::parse_str(wat).expect("test module parses")).expect("writing");
    path
}

const CALC: &str = r#"(module
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "mix") (param i64 f64) (result i64 f64) local.get 0 local.get 1 f64.sqrt)
  (func (export "spin") (loop br 0)))"#;

#[test]
fn verify_accepts_and_rejects() {
    let good = write_wat("good.wasm", CALC);
    let out = kwo(&["verify", path_str(&good)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok"));
    let bad = write_wat("bad.wasm", r#"(module (import "env" "f" (func)))"#);
    let out = kwo(&["verify", path_str(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).trim().is_empty());
    let out = kwo(&["verify", path_str(&good), "--limit", "no-such-limit=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown limit"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invoke_prints_results_and_traps_exit_134() {
    let wasm = write_wat("calc.wasm", CALC);
    let out = kwo(&["run", "--invoke", "div", path_str(&wasm), "7", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "3\n");
    let out = kwo(&["run", "--invoke", "mix", path_str(&wasm), "-5", "16"]);
    assert_eq!(stdout(&out), "-5\n4\n", "{}", stderr(&out));
    let out = kwo(&["run", "--invoke", "div", path_str(&wasm), "1", "0"]);
    assert_eq!(out.status.code(), Some(134));
    let err = stderr(&out);
    assert!(
        err.starts_with("trap: integer divide by zero in func 0"),
        "{err}"
    );
    assert!(err.contains(" at wasm offset 0x"), "{err}");
    let out = kwo(&["run", "--invoke", "div", path_str(&wasm), "x", "0"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        stderr(&out).contains("not a valid i32"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn compiled_object_runs_and_inspects_whatever_its_name() {
    let wasm = write_wat("calc2.wasm", CALC);
    let object = scratch("calc2.bin");
    let out = kwo(&["compile", path_str(&wasm), "-o", path_str(&object)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kwo(&["run", "--invoke", "div", path_str(&object), "9", "3"]);
    assert_eq!(stdout(&out), "3\n", "{}", stderr(&out));
    let out = kwo(&["inspect", "--disasm", path_str(&object)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(listing.contains("x86_64"), "{listing}");
    assert!(
        listing.contains("endbr64") || listing.contains("bti"),
        "{listing}"
    );
}

#[test]
fn budgets_stop_endless_loops() {
    let wasm = write_wat("spin.wasm", CALC);
    let out = kwo(&["run", "--timeout", "100ms", "--invoke", "spin", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        stderr(&out).starts_with("trap: interrupted"),
        "{}",
        stderr(&out)
    );
    let out = kwo(&["run", "--fuel", "1000", "--invoke", "spin", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        stderr(&out).starts_with("trap: fuel exhausted"),
        "{}",
        stderr(&out)
    );
    let out = kwo(&["run", "--timeout", "soon", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn proc_exit_status_and_missing_start() {
    let wasm = write_wat(
        "exit.wasm",
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
           (func (export "_start") (call $e (i32.const 42))))"#,
    );
    assert_eq!(kwo(&["run", path_str(&wasm)]).status.code(), Some(42));
    let calc = write_wat("nostart.wasm", CALC);
    // `--invoke` after FILE is the program's argument, as in Wasmtime: the
    // module has no `_start`, and the error says where --invoke goes.
    let out = kwo(&["run", path_str(&calc), "--invoke", "div", "1", "1"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = stderr(&out);
    assert!(
        err.contains("\"_start\"") && err.contains("--invoke NAME before FILE"),
        "{err}"
    );
}

#[test]
fn bad_files_are_clean_errors() {
    let junk = scratch("junk.kwo");
    std::fs::write(&junk, b"definitely not a module").unwrap();
    for cmd in ["run", "inspect", "verify"] {
        let out = kwo(&[cmd, path_str(&junk)]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = stderr(&out);
        assert!(
            err.starts_with("kwo: ") && err.lines().count() == 1,
            "{cmd}: {err}"
        );
    }
    let out = kwo(&["run", "/no/such/file.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"));
}

#[test]
fn reactor_is_initialized_before_invoke() {
    let wasm = write_wat(
        "reactor.wasm",
        r#"(module (global $g (mut i32) (i32.const 0))
           (func (export "_initialize") (global.set $g (i32.const 5)))
           (func (export "get") (result i32) (global.get $g)))"#,
    );
    let out = kwo(&["run", "--invoke", "get", path_str(&wasm)]);
    assert_eq!(stdout(&out), "5\n", "{}", stderr(&out));
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
    let out = kwo(&["run", "--env", "A=1", "--env", "B=two", path_str(&wasm)]);
    assert!(out.status.success(), "{}", stderr(&out));
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
        path_str(&wasm),
        "sum",
        "100",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = stdout(&out);
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
    let out = kwo(&["bench", path_str(&wasm), "tick"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("where the warm-up call returned 41"),
        "{}",
        stderr(&out)
    );
    let out = kwo(&["bench", path_str(&wasm), "sum"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("takes 1 arguments"));
}

/// `kwo verify --log` counts proven, hoisted and checked accesses per
/// function and in total; `kwo inspect` of a `.wasm` points to it.
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
          (func $get (export "get") (param i32) (result i32) (i32.load (local.get 0)))
          (func $zero (export "zero") (param $p i32) (param $n i32)
            (loop $l
              (i32.store (local.get $p) (i32.const 0))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    );
    let out = kwo(&["verify", "--log", path_str(&wasm)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stdout(&out);
    for (func, counts) in [
        ("func 0 <fill>", "accesses: 1: 1 proven, 0 hoisted, 0 checked"),
        ("func 1 <get>", "accesses: 1: 0 proven, 0 hoisted, 1 checked"),
        ("func 2 <zero>", "accesses: 1: 0 proven, 1 hoisted, 0 checked"),
    ] {
        let rest = log.split_once(func).map(|(_, rest)| rest).unwrap_or_else(|| panic!("{func}: {log}"));
        let block = rest.split("\nfunc ").next().unwrap();
        assert!(block.contains(counts), "{func}: {log}");
    }
    assert!(
        log.contains("accesses: 1 proven in bounds, 1 hoisted, 1 checked (33.3% proven, 33.3% hoisted)"),
        "{log}"
    );
    let out = kwo(&["verify", path_str(&wasm)]);
    assert!(!stdout(&out).contains("proven"), "the log is opt-in");
    let out = kwo(&["inspect", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(2), "a module is not an object");
    assert!(stderr(&out).contains("kwo verify --log"), "{}", stderr(&out));
}

/// `kwo` with extra host environment variables.
fn kwo_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::kwo_command(args)
        .envs(env.iter().copied())
        .output()
        .expect("running kwo")
}

/// Writes the NUL-separated strings of `args_get` (or, with `environ`,
/// `environ_get`) to stdout.
fn strings_printer(environ: bool) -> String {
    let (sizes, get) = if environ {
        ("environ_sizes_get", "environ_get")
    } else {
        ("args_sizes_get", "args_get")
    };
    format!(
        r#"(module
           (import "wasi_snapshot_preview1" "{sizes}" (func $sz (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "{get}" (func $get (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
           (memory (export "memory") 1)
           (func (export "_start")
             (drop (call $sz (i32.const 0) (i32.const 4)))
             (drop (call $get (i32.const 1024) (i32.const 4096)))
             (i32.store (i32.const 8) (i32.const 4096))
             (i32.store (i32.const 12) (i32.load (i32.const 4)))
             (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))))"#
    )
}

#[test]
fn everything_after_file_goes_to_the_program() {
    let wasm = write_wat("args.wasm", &strings_printer(false));
    let out = kwo(&[
        "run",
        "--fuel",
        "100000",
        path_str(&wasm),
        "x",
        "--env",
        "A=1",
        "--timeout",
        "1s",
        "--",
        "-W",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = format!("{}\0x\0--env\0A=1\0--timeout\01s\0--\0-W\0", path_str(&wasm));
    assert_eq!(stdout(&out), want);
    // An unknown option before FILE is kwo's usage error, not a file name.
    let out = kwo(&["run", "--no-such-option", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn env_name_copies_the_host_value_and_s_inherit_env_copies_all() {
    let wasm = write_wat("environ.wasm", &strings_printer(true));
    let host = [("KWO_T_HOST", "from host"), ("KWO_T_OTHER", "x")];
    let out = kwo_with_env(
        &[
            "run",
            "--env",
            "KWO_T_HOST",
            "--env",
            "B=2",
            "--env",
            "KWO_T_UNSET",
            path_str(&wasm),
        ],
        &host,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "KWO_T_HOST=from host\0B=2\0");
    // -S inherit-env passes the whole host environment; a later --env
    // replaces a value.
    let out = kwo_with_env(
        &[
            "run",
            "-S",
            "inherit-env",
            "--env",
            "KWO_T_OTHER=mine",
            path_str(&wasm),
        ],
        &host,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = stdout(&out);
    let vars: Vec<&str> = vars.split('\0').collect();
    assert!(vars.contains(&"KWO_T_HOST=from host"), "{vars:?}");
    assert!(vars.contains(&"KWO_T_OTHER=mine"), "{vars:?}");
    assert!(!vars.contains(&"KWO_T_OTHER=x"), "{vars:?}");
    assert!(vars.iter().any(|v| v.starts_with("PATH=")), "{vars:?}");
    let out = kwo(&["run", "--env", "=x", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn w_options_are_aliases_of_the_budgets() {
    let wasm = write_wat("spin-w.wasm", CALC);
    let out = kwo(&["run", "-W", "fuel=1000", "--invoke", "spin", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        stderr(&out).starts_with("trap: fuel exhausted"),
        "{}",
        stderr(&out)
    );
    let out = kwo(&["run", "-W", "timeout=100ms", "--invoke", "spin", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        stderr(&out).starts_with("trap: interrupted"),
        "{}",
        stderr(&out)
    );
    for bad in [
        &["-W", "no-such=1"][..],
        &["-W", "fuel=lots"],
        &["-S", "no-such"],
        &["--fuel", "1", "-W", "fuel=2"],
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(bad);
        args.extend(["--invoke", "spin", path_str(&wasm)]);
        let out = kwo(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("kwo: "),
            "{bad:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn wat_text_is_accepted_wherever_wasm_is() {
    let wat = scratch("calc.wat");
    std::fs::write(&wat, CALC).unwrap();
    let out = kwo(&["run", "--invoke", "div", path_str(&wat), "8", "2"]);
    assert_eq!(stdout(&out), "4\n", "{}", stderr(&out));
    let out = kwo(&["verify", path_str(&wat)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let object = scratch("calc-wat.kwo");
    let out = kwo(&["compile", path_str(&wat), "-o", path_str(&object)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kwo(&["bench", "--samples", "1", path_str(&wat), "div", "9", "3"]);
    assert!(
        stdout(&out).contains("result=3"),
        "{}",
        stderr(&out)
    );
    // Text, whatever the file is called; a mistake names the file.
    let bad = scratch("broken.txt");
    std::fs::write(
        &bad,
        "(module (func (export \"f\") (result i32) i32.const))",
    )
    .unwrap();
    let out = kwo(&["run", path_str(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("broken.txt: not valid WebAssembly text"),
        "{err}"
    );
}

#[test]
fn inspect_and_check_of_a_module_say_what_to_do() {
    let wasm = write_wat("inspect-me.wasm", CALC);
    for cmd in ["inspect", "check"] {
        let out = kwo(&[cmd, path_str(&wasm)]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = stderr(&out);
        assert!(
            err.contains("is a WebAssembly module, not a .kwo object"),
            "{cmd}: {err}"
        );
        assert!(err.contains("kwo compile"), "{cmd}: {err}");
    }
}

#[test]
fn exit_statuses_tell_load_usage_and_trap_apart() {
    let calc = write_wat("codes.wasm", CALC);
    let refused = write_wat(
        "codes-refused.wasm",
        r#"(module (import "env" "f" (func)))"#,
    );
    let cases: &[(&[&str], i32)] = &[
        (&["run", "--invoke", "div", path_str(&calc), "1", "1"], 0),
        (&["run", path_str(&refused)], 1),
        (&["run", "/no/such/file.wasm"], 1),
        (&["run", "--invoke", "nope", path_str(&calc)], 2),
        (&["run", "--invoke", "div", path_str(&calc), "1"], 2),
        (&["run", "--timeout", "soon", path_str(&calc)], 2),
        (&["run", "--invoke", "div", path_str(&calc), "1", "0"], 134),
    ];
    for (args, code) in cases {
        let out = kwo(args);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A module that makes a symbolic link (`path_symlink`, which kwo does not
/// provide) and returns the errno.
const LINKER: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "file.txt")
  (data (i32.const 32) "link")
  (func (export "link") (result i32)
    (call $symlink (i32.const 16) (i32.const 8) (i32.const 3) (i32.const 32) (i32.const 4))))"#;

#[test]
fn missing_imports_are_refused_with_a_reason_or_stubbed() {
    let wasm = write_wat("linker.wasm", LINKER);
    let out = kwo(&["run", "--invoke", "link", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for want in [
        "`wasi_snapshot_preview1.path_symlink`",
        "file system access",
        "--allow-missing-imports",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    let out = kwo(&["verify", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("file system access"),
        "{}",
        stderr(&out)
    );
    // With the stubs the call fails with ENOSYS (52) and the program goes on.
    let out = kwo(&[
        "run",
        "--allow-missing-imports",
        "--invoke",
        "link",
        path_str(&wasm),
    ]);
    assert_eq!(stdout(&out), "52\n", "{}", stderr(&out));
    let out = kwo(&["verify", "--allow-missing-imports", path_str(&wasm)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The stub is in the object: it runs without the flag, and says so.
    let object = scratch("linker.kwo");
    let out = kwo(&[
        "compile",
        "--allow-missing-imports",
        path_str(&wasm),
        "-o",
        path_str(&object),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kwo(&["run", "--invoke", "link", path_str(&object)]);
    assert_eq!(stdout(&out), "52\n", "{}", stderr(&out));
    let out = kwo(&["inspect", path_str(&object)]);
    assert!(
        stdout(&out).contains("import enosys_stub (host 13)"),
        "{}",
        stdout(&out)
    );
    let out = kwo(&["check", path_str(&object)]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Other shapes stay refused, with the reason, flag or not.
    let refused = [
        (
            r#"(module (import "env" "f" (func)))"#,
            "kwo provides only WASI preview1 functions",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "fd_advise" (func (param i32) (result i32))))"#,
            "not preview1's (i32, i64, i64, i32) -> (i32)",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "no_such_call" (func (result i32))))"#,
            "not a WASI preview1 function",
        ),
    ];
    for (i, (wat, why)) in refused.iter().enumerate() {
        let wasm = write_wat(&format!("refused-{i}.wasm"), wat);
        let out = kwo(&["run", "--allow-missing-imports", path_str(&wasm)]);
        assert_eq!(out.status.code(), Some(1), "{wat}");
        assert!(
            stderr(&out).contains(why),
            "{wat}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn bench_reports_a_program_that_exits_and_takes_run_options() {
    let wasm = write_wat(
        "bench-exit.wasm",
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
           (func (export "bye") (call $e (i32.const 7)))
           (func (export "spin") (loop br 0)))"#,
    );
    let out = kwo(&["bench", path_str(&wasm), "bye"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("exited (proc_exit(7))") && err.contains("kwo run"),
        "{err}"
    );
    let out = kwo(&["bench", "--fuel", "1000", path_str(&wasm), "spin"]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        stderr(&out).starts_with("trap: fuel exhausted"),
        "{}",
        stderr(&out)
    );
    // The environment reaches the benchmarked export: it counts the variables.
    let counter = write_wat(
        "bench-env.wasm",
        r#"(module
           (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sz (param i32 i32) (result i32)))
           (memory 1)
           (func (export "count") (result i32)
             (drop (call $sz (i32.const 0) (i32.const 4))) (i32.load (i32.const 0))))"#,
    );
    let bench_env = [
        "bench",
        "--samples",
        "1",
        "-W",
        "fuel=100000",
        "--env",
        "KWO_T_B",
        "--env",
        "C=3",
    ];
    let out = kwo_with_env(
        &[&bench_env[..], &[path_str(&counter), "count"]].concat(),
        &[("KWO_T_B", "1")],
    );
    assert!(
        stdout(&out).contains("result=2"),
        "{}",
        stderr(&out)
    );
    let wasm = write_wat("bench-linker.wasm", LINKER);
    let out = kwo(&[
        "bench",
        "--samples",
        "1",
        "--allow-missing-imports",
        path_str(&wasm),
        "link",
    ]);
    assert!(
        stdout(&out).contains("result=52"),
        "{}",
        stderr(&out)
    );
}

/// A size limit lowered at compile time is recorded as the object's
/// maximum, so `run` (and `bench`, and the kernel) bound growth by it; at
/// the default a module without a maximum grows to the runtime's cap.
#[test]
fn compile_limits_carry_over_to_run() {
    let grower = |name: &str, max: &str| {
        write_wat(
            name,
            &format!(
                r#"(module (memory 1 {max}) (table 1 {max} funcref)
                   (func (export "grow") (param i32) (result i32)
                     local.get 0 memory.grow)
                   (func (export "tgrow") (param i32) (result i32)
                     ref.null func local.get 0 table.grow 0))"#
            ),
        )
    };
    let run = |kwo_file: &PathBuf, export: &str, n: &str| {
        let out = kwo(&["run", "--invoke", export, path_str(kwo_file), n]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    let compile = |wasm: &PathBuf, name: &str, limits: &[&str]| {
        let obj = scratch(name);
        let mut args = vec!["compile", path_str(wasm), "-o", path_str(&obj)];
        for l in limits {
            args.extend(["--limit", l]);
        }
        let out = kwo(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        obj
    };
    let none = grower("limits-none.wasm", "");
    let capped = compile(
        &none,
        "limits-capped.kwo",
        &["max-memory-pages=3", "max-table-elements=4"],
    );
    assert_eq!(run(&capped, "grow", "2"), "1"); // 1 -> 3 pages: the cap
    assert_eq!(run(&capped, "grow", "3"), "-1"); // 1 -> 4: over it
    assert_eq!(run(&capped, "tgrow", "3"), "1"); // 1 -> 4 elements
    assert_eq!(run(&capped, "tgrow", "4"), "-1");
    let inspect = kwo(&["inspect", path_str(&capped)]);
    assert!(stdout(&inspect).contains("max 3"), "{}", stdout(&inspect));
    // A smaller maximum of the module's own stays; the default adds none.
    let own = compile(&grower("limits-own.wasm", "2"), "limits-own.kwo", &["max-memory-pages=3"]);
    assert_eq!(run(&own, "grow", "1"), "1");
    assert_eq!(run(&own, "grow", "2"), "-1");
    let free = compile(&none, "limits-free.kwo", &[]);
    assert_eq!(run(&free, "grow", "3"), "1");
    assert_eq!(run(&free, "tgrow", "4"), "1");
}

/// `-W max-memory-size` sets the runtime's cap on memory 0: below the
/// 1 GiB default, or above it up to 4 GiB; a module's smaller maximum and
/// an object's compiled-in cap still hold.
#[test]
fn w_max_memory_size_sets_the_runtime_cap() {
    let wat = write_wat(
        "memsize.wat",
        r#"(module (memory 1)
             (func (export "grow") (param i32) (result i32)
               local.get 0 memory.grow))"#,
    );
    let grow = |size: &str, n: &str| {
        let opt = format!("max-memory-size={size}");
        let out = kwo(&["run", "-W", &opt, "--invoke", "grow", path_str(&wat), n]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    assert_eq!(grow("196608", "2"), "1"); // 1 -> 3 pages of 3
    assert_eq!(grow("192KiB", "3"), "-1"); // 1 -> 4 pages: over the cap
    // The default cap is 16384 pages (1 GiB); the flag raises it.
    let default = kwo(&["run", "--invoke", "grow", path_str(&wat), "16384"]);
    assert_eq!(stdout(&default).trim(), "-1", "{}", stderr(&default));
    assert_eq!(grow("2GiB", "16384"), "1");
    for bad in ["0", "1000", "8GiB", "1TB", "x"] {
        let opt = format!("max-memory-size={bad}");
        let out = kwo(&["run", "-W", &opt, "--invoke", "grow", path_str(&wat), "1"]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("max-memory-size"), "{}", stderr(&out));
    }
}

/// `--file` passes host files to a program in kwo.ko only: without
/// `--kernel` it is a usage error, as is a guest fd outside 3-63 (the VM
/// suite, tests/vm/guest/stdio.sh, runs it for real).
#[test]
fn file_option_is_for_the_kernel() {
    let wasm = write_wat("file-opt.wasm", CALC);
    let out = kwo(&["run", "--file", "3=/dev/null", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--kernel"), "{}", stderr(&out));
    for bad in ["2=/dev/null", "64=/dev/null", "3", "3="] {
        let out = kwo(&["run", "--kernel", "--file", bad, path_str(&wasm)]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--file"), "{bad}: {}", stderr(&out));
    }
}
