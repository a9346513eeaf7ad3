//! Source lines of traps through the `kwo` command line, with real
//! programs: `tests/programs/trap.c` built with `clang -g` and
//! `tests/programs/trap.rs` built with `rustc -g` store out of bounds in a
//! function inlined into `main`; the trap names the source line, the
//! inlined function and the line of the call it was inlined at, whether
//! run from the `.wasm` or from the compiled `.kwo` alone. And the edges:
//! a module without DWARF falls back to the function and offset, DWARF
//! corrupted on purpose still compiles (with a warning) and runs, and
//! `kwo compile --strip` leaves the table out.
//!
//! The programs are compiled from the repository root with relative paths,
//! so the DWARF names `tests/programs/trap.c`, as a user's build would name
//! its files. Needs the toolchain of `programs.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{kwo_output as kwo, path_str, run_tool, stderr};

/// Exit status of `kwo run` when the program trapped.
const TRAP_EXIT: i32 = 134;
const TRAP_C: &str = "tests/programs/trap.c";
const TRAP_RS: &str = "tests/programs/trap.rs";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("source_lines", name)
}

/// How much DWARF a build of trap.c has.
#[derive(Clone, Copy)]
enum Dwarf {
    /// `-g`: the program's and wasi-libc's.
    Full,
    /// No `-g`: wasi-libc's only (its archive has DWARF).
    LibcOnly,
    /// Linked with `--strip-debug`: none at all.
    None,
}

/// tests/programs/trap.c built with `dwarf`, once per test binary.
fn trap_c_wasm(dwarf: Dwarf) -> &'static Path {
    static BUILDS: [OnceLock<PathBuf>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let (index, name, flag) = match dwarf {
        Dwarf::Full => (0, "trap-c-g.wasm", "-g"),
        Dwarf::LibcOnly => (1, "trap-c-libc.wasm", "-g0"),
        Dwarf::None => (2, "trap-c-nodebug.wasm", "-Wl,--strip-debug"),
    };
    BUILDS[index].get_or_init(|| {
        let out = scratch(name);
        let mut cmd = Command::new("clang");
        cmd.current_dir(repo_root()).args(["--target=wasm32-wasi", "-O2", flag]);
        run_tool(cmd.arg("-o").arg(&out).arg(TRAP_C));
        out
    })
}

/// The 1-based number of the line of `file` (from the repository root)
/// that contains `text`, so that the expected lines follow the source.
fn line_of(file: &str, text: &str) -> u32 {
    let source = std::fs::read_to_string(repo_root().join(file)).expect("reading a test program");
    let index = source.lines().position(|l| l.contains(text));
    index.map(|i| i as u32 + 1).unwrap_or_else(|| panic!("{text:?} not in {file}"))
}

/// `kwo compile` with `extra` options; the compile must succeed and not
/// panic. Returns the object and the compiler's stderr.
fn compile(wasm: &Path, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let out = scratch(name);
    let mut args = vec!["compile", path_str(wasm), "-o", path_str(&out)];
    args.extend_from_slice(extra);
    let res = kwo(&args);
    assert!(res.status.success(), "kwo compile failed: {}", stderr(&res));
    assert!(!stderr(&res).contains("panicked"), "{}", stderr(&res));
    (out, stderr(&res))
}

/// Runs `file` (no arguments), which must trap; returns the trap line.
fn trap_line(file: &Path) -> String {
    let out = kwo(&["run", path_str(file)]);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "stderr: {}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "poking 0xfffffff0\n");
    let err = stderr(&out);
    let line = err.lines().find(|l| l.starts_with("trap: ")).map(str::to_owned);
    line.unwrap_or_else(|| panic!("no trap line in {err:?}"))
}

fn inspect(object: &Path) -> String {
    let out = kwo(&["inspect", path_str(object)]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The location of the C program's trap: the store in `poke`, inlined at
/// the call in `main`.
fn c_trap_location() -> String {
    let store = line_of(TRAP_C, "= value;");
    let call = line_of(TRAP_C, "poke(addr, 42);");
    format!("({TRAP_C}:{store}:35 in poke, inlined into main at {TRAP_C}:{call}:2)")
}

#[test]
fn c_trap_names_the_line_and_the_inlined_call_from_the_wasm_and_the_object() {
    let wasm = trap_c_wasm(Dwarf::Full);
    let from_wasm = trap_line(wasm);
    assert!(
        from_wasm.starts_with("trap: out of bounds memory access in func ")
            && from_wasm.contains(" main at wasm offset 0x")
            && from_wasm.ends_with(&c_trap_location()),
        "{from_wasm}"
    );
    // The object alone carries the table: the .wasm is not needed.
    let (object, warnings) = compile(wasm, "trap-c.kwo", &[]);
    assert_eq!(warnings, "", "good DWARF gives no warning");
    let alone = scratch("trap-c-alone.kwo");
    std::fs::rename(&object, &alone).unwrap();
    assert_eq!(trap_line(&alone), from_wasm);
    let described = inspect(&alone);
    let rows = described.lines().find(|l| l.starts_with("line table: ")).unwrap();
    assert!(rows.contains(" rows, ") && !rows.contains("none"), "{rows}");
}

#[test]
fn rust_trap_names_the_line_and_every_inlined_function() {
    let wasm = scratch("trap-rs.wasm");
    run_tool(
        Command::new("rustc")
            .current_dir(repo_root())
            .args(["--target", "wasm32-wasip1", "-O", "-g", "-o"])
            .arg(&wasm)
            .arg(TRAP_RS),
    );
    let (object, _) = compile(&wasm, "trap-rs.kwo", &[]);
    let line = trap_line(&object);
    let store = line_of(TRAP_RS, "write_volatile(addr");
    let call = line_of(TRAP_RS, "poke(addr, 42);");
    // The store itself is core's write_volatile, inlined into poke, which
    // is inlined into main.
    let callers = format!("inlined into poke at {TRAP_RS}:{store}:14, inlined into main at {TRAP_RS}:{call}:5)");
    assert!(
        line.starts_with("trap: out of bounds memory access in func ")
            && line.contains("library/core/src/ptr/mod.rs:")
            && line.contains(" in write_volatile<u32>, ")
            && line.ends_with(&callers),
        "{line}"
    );
}

/// The trap message of a build without a source location: function and
/// offset, as before there were line tables.
fn assert_falls_back(line: &str) {
    assert!(
        line.starts_with("trap: out of bounds memory access in func ") && line.contains(" main at wasm offset 0x"),
        "{line}"
    );
    assert!(!line.contains('('), "no source location: {line}");
}

#[test]
fn without_dwarf_the_trap_names_function_and_offset() {
    let (object, warnings) = compile(trap_c_wasm(Dwarf::None), "trap-c-nodwarf.kwo", &[]);
    assert_eq!(warnings, "", "no DWARF is not worth a warning");
    assert!(inspect(&object).contains("\nline table: none\n"));
    assert_falls_back(&trap_line(&object));
    // DWARF for wasi-libc only: a table, but nothing for main's store.
    let (object, _) = compile(trap_c_wasm(Dwarf::LibcOnly), "trap-c-libc.kwo", &[]);
    assert!(inspect(&object).contains(" rows, "));
    assert_falls_back(&trap_line(&object));
}

#[test]
fn strip_leaves_the_table_out() {
    let (kept, _) = compile(trap_c_wasm(Dwarf::Full), "trap-c-kept.kwo", &[]);
    let (stripped, _) = compile(trap_c_wasm(Dwarf::Full), "trap-c-strip.kwo", &["--strip"]);
    assert!(inspect(&kept).contains(" rows, "));
    assert!(inspect(&stripped).contains("\nline table: none\n"));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&stripped) < size(&kept));
    assert_falls_back(&trap_line(&stripped));
}

/// `wasm` with the contents of custom section `name` replaced by
/// `f(contents)` (the section re-encoded with its new length).
fn rewrite_custom(wasm: &[u8], name: &str, f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    let mut found = false;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, len_bytes) = leb(&wasm[at + 1..]);
        let body = &wasm[at + 1 + len_bytes..at + 1 + len_bytes + size];
        let (name_len, n) = leb(body);
        let replaced = (id == 0 && &body[n..n + name_len] == name.as_bytes()).then(|| {
            found = true;
            let mut b = body[..n + name_len].to_vec();
            b.extend(f(&body[n + name_len..]));
            b
        });
        let body = replaced.as_deref().unwrap_or(body);
        out.push(id);
        put_leb(&mut out, body.len());
        out.extend_from_slice(body);
        at += 1 + len_bytes + size;
    }
    assert!(found, "no {name} section");
    out
}

fn leb(b: &[u8]) -> (usize, usize) {
    let (mut v, mut shift, mut i) = (0usize, 0, 0);
    loop {
        v |= usize::from(b[i] & 0x7f) << shift;
        i += 1;
        if b[i - 1] & 0x80 == 0 {
            return (v, i);
        }
        shift += 7;
    }
}

fn put_leb(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Corrupted DWARF: the compile warns and succeeds, the object runs and
/// traps as it should, and the message names only what could be read.
#[test]
fn corrupted_dwarf_warns_and_still_compiles_and_runs() {
    let good = std::fs::read(trap_c_wasm(Dwarf::Full)).unwrap();
    let cases: [(&str, &str, Box<dyn Fn(&[u8]) -> Vec<u8>>); 3] = [
        ("line-ff", ".debug_line", Box::new(|b| vec![0xff; b.len()])),
        ("info-ff", ".debug_info", Box::new(|b| vec![0xff; b.len()])),
        ("info-half", ".debug_info", Box::new(|b| b[..b.len() / 2].to_vec())),
    ];
    for (case, section, corrupt) in cases {
        let bad = scratch(&format!("trap-c-{case}.wasm"));
        std::fs::write(&bad, rewrite_custom(&good, section, corrupt)).unwrap();
        let (object, warnings) = compile(&bad, &format!("trap-c-{case}.kwo"), &[]);
        assert!(warnings.starts_with("kwo: warning: DWARF"), "{case}: {warnings:?}");
        let line = trap_line(&object);
        assert!(line.starts_with("trap: out of bounds memory access in func "), "{case}: {line}");
        // Whatever survived must not name another line for the store.
        assert!(!line.contains('(') || line.ends_with(&c_trap_location()), "{case}: {line}");
    }
}

#[test]
fn the_verifier_log_names_the_source_line_of_each_access() {
    let wasm = trap_c_wasm(Dwarf::Full);
    let out = kwo(&["verify", "--log=2", path_str(wasm)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = String::from_utf8_lossy(&out.stdout);
    let store = line_of(TRAP_C, "= value;");
    let expected = format!("({TRAP_C}:{store}:35 in poke, inlined into main at ");
    let line = log.lines().find(|l| l.contains("i32.store") && l.contains(&expected));
    assert!(line.is_some(), "no access line with {expected:?} in:\n{log}");
    // Without DWARF the same log names offsets only.
    let plain = kwo(&["verify", "--log=2", path_str(trap_c_wasm(Dwarf::None))]);
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(!plain.contains(TRAP_C), "{plain}");
}

#[test]
fn backtrace_frames_and_disassembly_name_their_source_lines() {
    const BACKTRACE_C: &str = "tests/programs/backtrace.c";
    let wasm = scratch("backtrace-c-g.wasm");
    let mut cmd = Command::new("clang");
    cmd.current_dir(repo_root()).args(["--target=wasm32-wasi", "-O2", "-g"]);
    run_tool(cmd.arg("-o").arg(&wasm).arg(BACKTRACE_C));
    let (object, _) = compile(&wasm, "backtrace-c-g.kwo", &[]);
    let out = kwo(&["run", path_str(&object), "chain", "2"]);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "{}", stderr(&out));
    let err = stderr(&out);
    let frames: Vec<&str> = err.lines().filter(|l| l.starts_with("  ")).collect();
    let trap = line_of(BACKTRACE_C, "__builtin_trap();");
    let call = line_of(BACKTRACE_C, "r = countdown(n - 1);");
    let from_main = line_of(BACKTRACE_C, "return countdown(atoi(argv[2]));");
    assert!(frames[0].ends_with(&format!("({BACKTRACE_C}:{trap}:3)")), "{err}");
    for frame in &frames[1..3] {
        assert!(frame.contains(" countdown ") && frame.contains(&format!("({BACKTRACE_C}:{call}:")), "{err}");
    }
    assert!(frames[3].contains(" main ") && frames[3].contains(&format!("({BACKTRACE_C}:{from_main}:")), "{err}");
    let disasm = kwo(&["inspect", "--disasm", path_str(&object)]);
    let disasm = String::from_utf8_lossy(&disasm.stdout);
    let note = format!(" ({BACKTRACE_C}:{call}:");
    assert!(disasm.lines().any(|l| l.trim_start().starts_with(";; wasm 0x") && l.contains(&note)), "no {note:?} note");
}
