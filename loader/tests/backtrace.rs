//! Trap backtraces from a real C program (tests/programs/backtrace.c,
//! clang + wasi-libc): a trap N calls deep reports every wasm frame with
//! its function name, innermost first; a bottomless recursion that
//! exhausts the stack reports a capped backtrace and says so. Run on
//! x86_64 and (scripts/test's aarch64 stage) under qemu-user on aarch64.
//! The kernel's report is checked by the VM suite (tests/vm/guest/suite.sh).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{kwo_output as run, path_str, run_tool, stderr};

/// Exit status of `kwo run` when the program trapped.
const TRAP_EXIT: i32 = 134;
/// `KWO_BACKTRACE_MAX`.
const BACKTRACE_MAX: usize = 32;

/// tests/programs/backtrace.c built for wasm32-wasi, compiled to `.kwo`.
fn program() -> &'static Path {
    static KWO: OnceLock<PathBuf> = OnceLock::new();
    KWO.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let wasm = common::scratch("backtrace", "backtrace.wasm");
        let src = root.join("tests/programs/backtrace.c");
        run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O2", "-o"]).arg(&wasm).arg(src));
        let kwo = common::scratch("backtrace", "backtrace.kwo");
        let out = run(&["compile", path_str(&wasm), "-o", path_str(&kwo)]);
        assert!(out.status.success(), "kwo compile: {}", stderr(&out));
        kwo
    })
}

/// The function name of each `  i: func F NAME at ...` line after
/// `backtrace:`, checking that the frames are numbered 0, 1, 2, ...
fn frame_names(err: &str) -> Vec<String> {
    let lines: Vec<&str> = err.lines().skip_while(|l| *l != "backtrace:").skip(1).collect();
    let mut names = Vec::new();
    for line in lines.iter().filter(|l| !l.trim_start().starts_with("...")) {
        let (index, rest) = line.trim_start().split_once(": func ").unwrap_or_else(|| panic!("frame line {line:?}"));
        assert_eq!(index, names.len().to_string(), "{err}");
        let name = rest.split(' ').nth(1).unwrap_or_else(|| panic!("no name in {line:?}"));
        assert!(rest.contains(" at wasm offset 0x"), "no offset in {line:?}");
        names.push(name.to_string());
    }
    names
}

#[test]
fn trap_deep_in_a_call_chain_names_every_frame() {
    for depth in [0usize, 3, 7] {
        let out = run(&["run", path_str(program()), "chain", &depth.to_string()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(TRAP_EXIT), "{err}");
        assert!(err.contains("trap: unreachable in func "), "{err}");
        let names = frame_names(&err);
        // countdown(depth) .. countdown(0), then main and wasi-libc's
        // start-up frames, the outermost being the `_start` export.
        let countdowns = names.iter().take_while(|n| *n == "countdown").count();
        assert_eq!(countdowns, depth + 1, "{err}");
        assert_eq!(names[depth + 1], "main", "{err}");
        assert!(names.last().unwrap().starts_with("_start"), "{err}");
        assert!(names.len() < BACKTRACE_MAX, "{err}");
        assert!(!err.contains("deeper frames not shown"), "{err}");
    }
}

#[test]
fn stack_exhaustion_gives_a_capped_backtrace() {
    let out = run(&["run", path_str(program()), "deep"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "{err}");
    assert!(err.contains("trap: call stack exhausted in func "), "{err}");
    let names = frame_names(&err);
    assert_eq!(names.len(), BACKTRACE_MAX, "{err}");
    assert!(names.iter().all(|n| n == "bottomless"), "{err}");
    assert!(err.contains("deeper frames not shown (at most 32 are reported)"), "{err}");
}

#[test]
fn a_trap_at_the_outermost_frame_has_a_one_frame_backtrace() {
    let wasm = common::scratch("backtrace", "top.wasm");
    let bytes = wat::parse_str(r#"(module (func $top (export "_start") unreachable))"#).unwrap();
    std::fs::write(&wasm, bytes).unwrap();
    let out = run(&["run", path_str(&wasm)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "{err}");
    assert!(err.contains("backtrace:\n  0: func 0 top at wasm offset 0x"), "{err}");
    assert_eq!(frame_names(&err), ["top"], "{err}");
}

/// A `.wasm` file from WAT text, for `kwo run`.
fn wat_file(name: &str, text: &str) -> PathBuf {
    let wasm = common::scratch("backtrace", name);
    std::fs::write(&wasm, wat::parse_str(text).unwrap()).unwrap();
    wasm
}

#[test]
fn traps_raised_inside_host_functions_have_the_whole_stack() {
    // memory.fill out of bounds traps in the MEMORY_FILL builtin, the time
    // budget in YIELD at a loop's checkpoint: both enter through a shim
    // that records the frame pointer.
    let wasm = wat_file(
        "host.wasm",
        r#"(module (memory 1)
             (func $fill (memory.fill (i32.const 65530) (i32.const 0) (i32.const 10)))
             (func $spin (loop $l (br $l)))
             (func $middle (param i32)
               (if (local.get 0) (then (call $spin)) (else (call $fill)))
               (drop (i32.const 0)))
             (func $outer (export "outer") (param i32) (call $middle (local.get 0)) (nop)))"#,
    );
    for (arg, trap, leaf) in [("0", "out of bounds memory access", "fill"), ("1", "interrupted", "spin")] {
        let out = run(&["run", "--timeout", "200ms", "--invoke", "outer", path_str(&wasm), arg]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(TRAP_EXIT), "{err}");
        assert!(err.contains(&format!("trap: {trap} in func ")), "{err}");
        assert_eq!(frame_names(&err), [leaf, "middle", "outer"], "{err}");
    }
}
