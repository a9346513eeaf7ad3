//! `kwo verify --log[=1|2]` and `--stats` on real modules: hand-written
//! loops whose facts are known, a module of the spec testsuite, the C hello
//! world (clang + wasi-libc), a recursive module and a rejected one. The
//! numbers asserted are the verifier's and the machine code's, checked
//! against each other: level 2 lists exactly the accesses level 1 counts,
//! the checkpoints counted in the machine code are one per function entry
//! and loop header (but for small functions and short loops), and `--stats`
//! agrees with the log.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{kwo_output as kwo, path_str as p, run_tool, stderr, stdout};

fn scratch(name: &str) -> PathBuf {
    common::scratch("verify_log", name)
}

fn write_wat(name: &str, wat: &str) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, wat::parse_str(wat).expect("test module parses")).expect("writing");
    path
}

/// The log of FILE at `level`, which must succeed.
fn log_of(file: &Path, level: &str) -> String {
    let out = kwo(&["verify", &format!("--log={level}"), p(file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// Three loops whose facts are known: a counted loop whose store is
/// proven, a load from a parameter (checked), a loop whose store one check
/// before it covers (hoisted).
const LOOPS: &str = r#"(module (memory 1)
  (func $fill (export "fill") (local $i i32)
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100)))))
  (func $get (export "get") (param i32) (result i32) (i32.load offset=8 (local.get 0)))
  (func $zero (export "zero") (param $p i32) (param $n i32)
    (loop $l
      (i32.store (local.get $p) (i32.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

/// One function's block of a level-1 or level-2 log.
#[derive(Debug, Default)]
struct FuncLog {
    header: String,
    /// accesses, proven, hoisted, checked from the level-1 line.
    counts: [u64; 4],
    loops: u64,
    checkpoints: u64,
    /// Whether the level-1 line says the entry has a checkpoint.
    entry_checkpoint: bool,
    /// Level 2: loops whose header has no checkpoint.
    covered_loops: u64,
    /// Level 2: (offset, verdict) of every access line.
    access_lines: Vec<(String, String)>,
    /// Level 2: offsets of the loop lines.
    loop_lines: Vec<String>,
    /// Level 2: the checkpoints each loop's line says its copies have:
    /// none for a statically short loop, else one, two with a hoisted
    /// check (a short loop's extra copy has none).
    loop_checkpoints: Vec<u64>,
}

/// The numbers of a line like `accesses: 3: 1 proven, 1 hoisted, 1 checked`.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect()
}

fn parse_log(log: &str) -> Vec<FuncLog> {
    let mut funcs: Vec<FuncLog> = Vec::new();
    for line in log.lines() {
        if line.starts_with("func ") {
            funcs.push(FuncLog {
                header: line.to_string(),
                ..FuncLog::default()
            });
            continue;
        }
        let Some(f) = funcs.last_mut() else { continue };
        if line.starts_with("    hoisted check: ") {
            if let Some(c) = f.loop_checkpoints.last_mut() {
                *c *= 2;
            }
        } else if let Some(rest) = line.strip_prefix("  accesses: ") {
            f.counts.copy_from_slice(&numbers(rest)[..4]);
        } else if let Some(rest) = line.strip_prefix("  loops: ") {
            let n = numbers(rest);
            (f.loops, f.checkpoints) = (n[0], n[2]);
            f.entry_checkpoint = !rest.contains("none at its entry");
        } else if let Some(rest) = line.strip_prefix("  wasm ") {
            let (offset, what) = rest.split_once(": ").unwrap();
            if what.starts_with("loop,") {
                f.loop_lines.push(offset.to_string());
                f.covered_loops += u64::from(what.contains("no checkpoint at its header"));
                let no_checkpoint = what.contains(": no checkpoint (at most ")
                    || what.contains("no checkpoint at its header");
                f.loop_checkpoints.push(if no_checkpoint { 0 } else { 1 });
            } else {
                // `i32.store (in loop wasm 0x41): proven: index ...`
                let verdict = what
                    .split(": ")
                    .find_map(|w| {
                        ["proven", "hoisted", "checked"]
                            .into_iter()
                            .find(|k| w.starts_with(k))
                    })
                    .unwrap_or_else(|| panic!("no verdict in {line}"));
                f.access_lines
                    .push((offset.to_string(), verdict.to_string()));
            }
        }
    }
    funcs
}

/// The per-verdict counts of a function's level-2 access lines.
fn level2_counts(f: &FuncLog) -> [u64; 4] {
    let n = |v: &str| f.access_lines.iter().filter(|(_, w)| w == v).count() as u64;
    [
        f.access_lines.len() as u64,
        n("proven"),
        n("hoisted"),
        n("checked"),
    ]
}

#[test]
fn level_one_and_two_on_known_loops() {
    let wasm = write_wat("loops.wasm", LOOPS);
    let log1 = log_of(&wasm, "1");
    let funcs = parse_log(&log1);
    let headers: Vec<&str> = funcs
        .iter()
        .map(|f| f.header.split(" at ").next().unwrap())
        .collect();
    assert_eq!(
        headers,
        ["func 0 <fill>", "func 1 <get>", "func 2 <zero>"],
        "{log1}"
    );
    assert_eq!(funcs[0].counts, [1, 1, 0, 0], "{log1}");
    assert_eq!(funcs[1].counts, [1, 0, 0, 1], "{log1}");
    assert_eq!(funcs[2].counts, [1, 0, 1, 0], "{log1}");
    // One checkpoint at the entry and one per loop header, except that
    // `fill`'s loop runs at most 100 times (no checkpoint), `get`, small
    // and loop-free, needs none at its entry (docs/abi.md, "Budgets"), and
    // the hoisted loop of `zero` is compiled three times: check-free without
    // a checkpoint for a short run, check-free and checked with one.
    let loops_checkpoints: Vec<(u64, u64)> =
        funcs.iter().map(|f| (f.loops, f.checkpoints)).collect();
    assert_eq!(loops_checkpoints, [(1, 1), (0, 0), (1, 3)], "{log1}");
    assert!(
        log1.contains("  loops: 1 (1 with a hoisted check); checkpoints: 3"),
        "{log1}"
    );
    assert!(
        log1.contains("  loops: 0 (0 with a hoisted check); checkpoints: 0 (none at its entry: a small function)"),
        "{log1}"
    );
    assert!(funcs[0].entry_checkpoint && !funcs[1].entry_checkpoint, "{log1}");
    assert!(log1.contains(
        "accesses: 1 proven in bounds, 1 hoisted, 1 checked (33.3% proven, 33.3% hoisted)"
    ));
    assert!(
        log1.contains(
            "total: 3 functions, 34 insns, 2 loops (1 with a hoisted check), 4 checkpoints"
        ),
        "{log1}"
    );
    assert!(
        !log1.contains("  wasm 0x"),
        "level 1 has no per-access lines:\n{log1}"
    );

    let log2 = log_of(&wasm, "2");
    let funcs2 = parse_log(&log2);
    for (f1, f2) in funcs.iter().zip(&funcs2) {
        assert_eq!(level2_counts(f2), f1.counts, "{}:\n{log2}", f1.header);
        assert_eq!(f2.loop_lines.len() as u64, f1.loops, "{log2}");
    }
    // The facts that decided: the counter's range, the unknown parameter,
    // the hoisted check with its trip count.
    for want in [
        ": i32.store (in loop wasm 0x41): proven: index in [0, 396]; 396 + 4 <= 65536 (minimum memory size)",
        ": i32.load offset=8: checked: index any 32-bit value; 4294967295 + 12 > 65536 (minimum memory size)",
        ": i32.store (in loop wasm 0x68): hoisted: checked once before the loop at wasm 0x68",
        "    hoisted check: trip: until local 1 - 1 = 0, local 1 stepping by -1; bytes [local 0 + 0, local 0 + 4) per iteration, local 0 stepping by +4",
        ": loop, depth 1, to wasm 0x5c: no checkpoint (at most 100 iterations); 1 access: 1 proven, 0 hoisted, 0 checked",
        ": loop, depth 1, to wasm 0x81: no checkpoint when at most 4096 iterations (trip count on entry); 1 access: 0 proven, 1 hoisted, 0 checked",
    ] {
        assert!(log2.contains(want), "{want}\n{log2}");
    }
    assert!(
        funcs2[0].loop_lines == ["0x41"] && funcs2[2].loop_lines == ["0x68"],
        "{log2}"
    );
}

/// A loop whose every iteration first calls a recursive function, which
/// keeps its entry checkpoint: the loop's header needs none.
const LOOP_AROUND_A_CALL: &str = r#"(module
  (func $rec (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0))))
  (func $spin (export "spin") (param $n i32)
    (loop $l
      (drop (call $rec (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

#[test]
fn a_loop_that_always_calls_a_checkpointed_function_has_no_header_checkpoint() {
    let wasm = write_wat("loop_call.wasm", LOOP_AROUND_A_CALL);
    let log = log_of(&wasm, "2");
    let funcs = parse_log(&log);
    let loops_checkpoints: Vec<(u64, u64)> =
        funcs.iter().map(|f| (f.loops, f.checkpoints)).collect();
    assert_eq!(loops_checkpoints, [(0, 1), (1, 1)], "{log}");
    assert!(
        log.contains(": no checkpoint at its header (each iteration first calls a function that has one)"),
        "{log}"
    );
}

/// The first module of the spec testsuite's `memory_fill.wast`: a loop
/// that reads a byte through a parameter, so its one access stays checked.
#[test]
fn spec_module_with_a_loop() {
    let text = std::fs::read_to_string(spec_dir().join("memory_fill.wast"))
        .expect("reading memory_fill.wast");
    let buf = wast::parser::ParseBuffer::new(&text).unwrap();
    let wast = wast::parser::parse::<wast::Wast>(&buf).unwrap();
    let mut module = wast
        .directives
        .into_iter()
        .find_map(|d| match d {
            wast::WastDirective::Module(m) => Some(m),
            _ => None,
        })
        .expect("a module");
    let wasm = scratch("memory_fill.wasm");
    std::fs::write(&wasm, module.encode().unwrap()).unwrap();
    let log = log_of(&wasm, "2");
    let funcs = parse_log(&log);
    assert_eq!(funcs.len(), 2, "{log}");
    // checkRange: one loop, one load8_u of `$from`, any value: checked.
    // Small, with a loop that keeps its header checkpoint: none at its
    // entry.
    assert_eq!((funcs[0].loops, funcs[0].checkpoints), (1, 1), "{log}");
    assert_eq!(funcs[0].counts, [1, 0, 0, 1], "{log}");
    let loop_at = &funcs[0].loop_lines[0];
    let load = format!(
        ": i32.load8_u (in loop wasm {loop_at}): checked: index any 32-bit value; 4294967295 + 1 > 65536"
    );
    assert!(log.contains(&load), "{load}\n{log}");
    // test: memory.fill only, which the analysis does not count.
    assert_eq!(funcs[1].counts, [0, 0, 0, 0], "{log}");
    assert_eq!((funcs[1].loops, funcs[1].checkpoints), (0, 1), "{log}");
}

/// The spec testsuite, where the spec test (`tests/spec/main.rs`) finds
/// it: `KWO_SPEC_DIR`, beside the repository, or the machine-wide copy.
fn spec_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        std::env::var_os("KWO_SPEC_DIR").map(PathBuf::from),
        Some(repo.join("../shared/spec-testsuite")),
        Some(PathBuf::from("/work/shared/spec-testsuite")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("memory_fill.wast").is_file())
    .expect("spec testsuite not found: set KWO_SPEC_DIR to the directory of the .wast files")
}

/// The C hello world: every access level 1 counts is listed by level 2
/// with the same verdict, function by function; the machine code has one
/// checkpoint per function and per loop copy that keeps one, but where the
/// verifier says none is needed; `--stats` says what the log says.
#[test]
fn c_program_log_and_stats_agree() {
    let wasm = scratch("hello-c.wasm");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/hello.c");
    run_tool(
        Command::new("clang")
            .args(["--target=wasm32-wasi", "-O2", "-o"])
            .arg(&wasm)
            .arg(src),
    );
    let log1 = log_of(&wasm, "1");
    let log2 = log_of(&wasm, "2");
    let (funcs1, funcs2) = (parse_log(&log1), parse_log(&log2));
    assert!(funcs1.len() > 10, "wasi-libc brings functions:\n{log1}");
    assert_eq!(funcs1.len(), funcs2.len());
    let mut sums = [0u64; 4];
    let (mut loops, mut checkpoints) = (0, 0);
    for (f1, f2) in funcs1.iter().zip(&funcs2) {
        assert_eq!(f1.header, f2.header);
        assert_eq!(level2_counts(f2), f1.counts, "{}:\n{log2}", f1.header);
        assert_eq!(f2.loop_lines.len() as u64, f1.loops, "{}", f1.header);
        assert_eq!(
            f1.checkpoints,
            u64::from(f1.entry_checkpoint) + f2.loop_checkpoints.iter().sum::<u64>(),
            "{}:\n{log2}",
            f1.header
        );
        for (s, c) in sums.iter_mut().zip(f1.counts) {
            *s += c;
        }
        loops += f1.loops;
        checkpoints += f1.checkpoints;
    }
    assert!(loops > 0 && sums[1] > 0 && sums[3] > 0, "{log1}");
    let out = kwo(&["verify", "--stats", p(&wasm)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let stat = |name: &str| -> String {
        let line = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}:\n{table}"));
        line[name.len()..].trim().to_string()
    };
    assert_eq!(stat("Verdict"), "success");
    assert_eq!(stat("Functions"), funcs1.len().to_string());
    assert_eq!(stat("Loops"), loops.to_string());
    assert_eq!(stat("Checkpoints"), checkpoints.to_string());
    assert_eq!(stat("Accesses"), sums[0].to_string());
    assert_eq!(stat("Proven "), sums[1].to_string());
    assert_eq!(stat("Checked"), sums[3].to_string());
    let pct = format!("{:.2}", 100.0 * sums[1] as f64 / sums[0] as f64);
    assert_eq!(stat("Proven (%)"), pct);
    // wasi-libc's printf has a call cycle: the log and the stats say so.
    assert!(
        log1.lines()
            .nth(1)
            .unwrap()
            .starts_with("stack: recursive (call cycle "),
        "{log1}"
    );
    assert_eq!(stat("Recursive"), "yes");
    assert_eq!(stat("Stack bound (bytes)"), "-");
}

#[test]
fn stats_compare_two_modules_side_by_side() {
    let a = write_wat("a.wasm", LOOPS);
    let b = write_wat(
        "b.wasm",
        r#"(module (memory 1)
          (func $get (export "get") (param i32) (result i32) (i32.load (local.get 0))))"#,
    );
    let out = kwo(&["verify", "--stats", p(&a), p(&b)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}:\n{table}"));
        line[name.len()..]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("Stat")
            && header.contains(p(&a))
            && header.contains(p(&b))
            && header.ends_with("DIFF"),
        "{table}"
    );
    assert_eq!(row("Verdict"), ["success", "success", "MATCH"], "{table}");
    assert_eq!(row("Functions"), ["3", "1", "-2 (-66.67%)"], "{table}");
    assert_eq!(row("Loops"), ["2", "0", "-2 (-100.00%)"], "{table}");
    assert_eq!(row("Short loops"), ["2", "0", "-2 (-100.00%)"], "{table}");
    assert_eq!(row("Checkpoints"), ["4", "0", "-4 (-100.00%)"], "{table}");
    assert_eq!(row("Proven "), ["1", "0", "-1 (-100.00%)"], "{table}");
    assert_eq!(row("Checked"), ["1", "1", "+0 (+0.00%)"], "{table}");
    assert_eq!(row("Proven (%)"), ["33.33", "0.00", "-33.33 pp"], "{table}");
    // The machine-readable form: a header and one row per module.
    let out = kwo(&["verify", "--stats=csv", p(&a), p(&b)]);
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("file,verdict,functions,imports,insns,loops,"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&format!("{},success,3,0,34,2,", p(&a))),
        "{csv}"
    );
    assert!(
        lines[2].starts_with(&format!("{},success,1,0,", p(&b))),
        "{csv}"
    );
    // Two modules without --stats is a usage error.
    let out = kwo(&["verify", p(&a), p(&b)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A rejected module's diagnostic names its function and its offset (the
/// `end` of `$broken` at 0x20, where the i64 left is found to be no i32),
/// with the message the verifier gave; `--stats` still prints its verdict.
#[test]
fn rejected_module_names_function_and_offset() {
    let bad = write_wat(
        "bad.wasm",
        r#"(module (func $ok (result i32) i32.const 1) (func $broken (result i32) i64.const 1))"#,
    );
    let out = kwo(&["verify", p(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "kwo: error: func 1 <broken>: wasm 0x20: type mismatch: expected i32, found i64"
    );
    // The same diagnostic when a run refuses the module.
    let out = kwo(&["run", p(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: func 1 <broken>: wasm 0x20: type mismatch"),
        "{}",
        stderr(&out)
    );
    let good = write_wat("good.wasm", LOOPS);
    let out = kwo(&["verify", "--stats", p(&bad), p(&good)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a rejected module fails the command"
    );
    assert!(
        stderr(&out).contains("func 1 <broken>: wasm 0x20"),
        "{}",
        stderr(&out)
    );
    let verdict = stdout(&out)
        .lines()
        .find(|l| l.starts_with("Verdict"))
        .unwrap()
        .to_string();
    assert_eq!(
        verdict.split_whitespace().collect::<Vec<_>>(),
        ["Verdict", "failure", "success", "MISMATCH"]
    );
}

/// Functions that may reach a call cycle have no stack bound; a leaf
/// called from them has one, its frame.
#[test]
fn recursive_functions_have_no_stack_bound() {
    let wasm = write_wat(
        "rec.wasm",
        r#"(module
          (func $leaf (result i32) i32.const 1)
          (func $even (export "even") (param i32) (result i32)
            (if (result i32) (local.get 0)
              (then (call $odd (i32.sub (local.get 0) (i32.const 1))))
              (else (call $leaf))))
          (func $odd (param i32) (result i32)
            (if (result i32) (local.get 0)
              (then (call $even (i32.sub (local.get 0) (i32.const 1))))
              (else (i32.const 0)))))"#,
    );
    let log = log_of(&wasm, "1");
    assert!(log.contains("stack: recursive (call cycle"), "{log}");
    let stack_lines: Vec<&str> = log.lines().filter(|l| l.starts_with("  stack: ")).collect();
    assert_eq!(stack_lines.len(), 3, "{log}");
    let leaf = numbers(stack_lines[0]);
    assert!(
        leaf.len() == 2 && leaf[0] == leaf[1] && leaf[0] > 0,
        "a leaf's stack is its frame: {log}"
    );
    for l in &stack_lines[1..] {
        assert!(
            l.ends_with("may reach a call cycle: checked at run time"),
            "{log}"
        );
    }
    assert!(
        log.contains("  calls: 1 direct, 0 indirect, 0 to imports"),
        "{log}"
    );
}

/// Level 2 says why an access has no range: its function nests loops
/// deeper than the analysis follows (33 > 32), or no path reaches it.
#[test]
fn level_two_explains_accesses_without_a_range() {
    let deep = format!(
        "{}(drop (i32.load (i32.const 0))){}",
        "(loop ".repeat(33),
        ")".repeat(33)
    );
    let wasm = write_wat(
        "unanalysed.wasm",
        &format!(
            r#"(module (memory 1)
              (func $deep {deep})
              (func $dead (unreachable) (i32.store8 (i32.const 0) (i32.const 0))))"#
        ),
    );
    let log = log_of(&wasm, "2");
    let funcs = parse_log(&log);
    // Every loop header still gets its checkpoint in the machine code (and
    // so the entry needs none: no loop of it is short).
    assert_eq!((funcs[0].loops, funcs[0].checkpoints), (33, 33), "{log}");
    assert_eq!(funcs[0].loop_lines.len(), 33, "{log}");
    assert!(
        log.contains("  accesses: 1: 0 proven, 0 hoisted, 1 checked (not analysed: over the analysis budget or loop nesting)"),
        "{log}"
    );
    assert!(log.contains(": checked: the function was not analysed"), "{log}");
    assert!(log.contains(": i32.store8: checked: the analysis found no path to it"), "{log}");
    assert!(log.contains("  wasm 0x") && log.contains("loop, depth 33, to wasm 0x"), "{log}");
}

/// Three fields loaded through one pointer form a group: the log says two
/// of its checked loads are checked by the group's first, and `--stats`
/// counts them as `Grouped`.
#[test]
fn grouped_loads_are_counted() {
    let file = write_wat(
        "fields.wasm",
        r#"(module (memory 1)
             (func (export "fields") (param $p i32) (result i32)
               (i32.add (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
                        (i32.load offset=8 (local.get $p)))))"#,
    );
    let log = log_of(&file, "1");
    assert!(
        log.contains("  accesses: 3: 0 proven, 0 hoisted, 3 checked (2 of them by their group's first check)"),
        "{log}"
    );
    assert!(
        log.contains("accesses: 0 proven in bounds, 0 hoisted, 3 checked (2 of them by their group's first check)"),
        "{log}"
    );
    let out = kwo(&["verify", "--stats", p(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let grouped = table.lines().find(|l| l.starts_with("Grouped")).unwrap_or_else(|| panic!("{table}"));
    assert_eq!(grouped.split_whitespace().nth(1), Some("2"), "{table}");
}
