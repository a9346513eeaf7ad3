//! The WebAssembly spec testsuite through the whole kwo pipeline: every
//! directive of every non-SIMD `.wast` file is encoded with the `wast` crate,
//! verified (`Policy::spectest()`), compiled to a `.kwo` object and run in the
//! userspace runtime. SIMD files are excluded by design (kwo has no SIMD).
//!
//! Each file runs in a child process (this test binary re-executed with
//! `KWO_SPEC_CHILD`), on a 64 MiB thread so that deep recursion meets the
//! runtime's own stack budget first. A crash or a hang in generated code
//! costs one directive: the parent kills a child that overruns its time,
//! records the failure and resumes the file after that directive.
//!
//! Environment:
//! - `KWO_SPEC_DIR`: the testsuite directory (default: `../shared/spec-testsuite`
//!   beside the repository, then `/work/shared/spec-testsuite`);
//! - `KWO_SPEC_FILE`: run only these files (comma-separated, e.g. `i32.wast`);
//! - `KWO_SPEC_JOBS`: files run at once (default 1);
//! - `KWO_SPEC_TIMEOUT`: seconds one directive may take before its child is
//!   killed (default 60; calls into Wasm have their own 20 s budget);
//! - `KWO_SPEC_FILE_TIMEOUT`: seconds one file may take in all (default 600);
//! - `KWO_SPEC_SHOW`: failures printed per file (default 10);
//! - `KWO_SPEC_BACKEND`: `user` (default) or `kernel`: run the objects in
//!   kwo.ko through `/dev/kwo` (root, inside the test VM; see tests/vm/).
//!   Assertions the kernel's uapi cannot express are skipped with a reason;
//! - `KWO_NO_ELISION=1`: keep the bounds checks of the accesses the
//!   verifier proved in bounds; the suite must pass the same with and
//!   without it (the counts are printed in the summary either way);
//! - `KWO_TEST_RUNNER`: a command prefix for the child processes, e.g.
//!   `qemu-aarch64 -L /usr/aarch64-linux-gnu` to run the aarch64 build.
//!
//! Output: `file.wast: N passed, N failed, N skipped` per file, the skip
//! reasons with counts, then one line `spec: N passed, N failed, N skipped`.
//! The test fails if anything failed.

mod backend;
mod runner;
mod scan;
mod values;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "KWO_SPEC_CHILD";
const RESUME_ENV: &str = "KWO_SPEC_RESUME";
const AVOID_ENV: &str = "KWO_SPEC_AVOID";
const CHILD_STACK: usize = 64 << 20;
/// A file that keeps crashing is abandoned after this many restarts.
const MAX_RESTARTS: usize = 25;

#[test]
fn spec_testsuite() {
    if let Ok(file) = std::env::var(CHILD_ENV) {
        run_child(PathBuf::from(file));
        return;
    }
    let dir = spec_dir();
    let (files, simd) = select_files(&dir);
    let totals = run_all(&files, env_usize("KWO_SPEC_JOBS", 1).max(1));
    totals.print_summary(simd);
    assert_eq!(totals.failed, 0, "spec: {} directives failed", totals.failed);
}

/// The harness must tell right from wrong: in this script every assertion
/// marked `;; F` is false and must be counted failed, every `;; P` passes,
/// and the module that imports spectest state is skipped, with the
/// directive that depends on it. A mark followed by `k` is skipped with the
/// kernel backend (references and globals do not cross its uapi); run in
/// the test VM with `KWO_SPEC_BACKEND=kernel`, this checks that backend.
#[test]
fn harness_tells_right_from_wrong() {
    const SCRIPT: &str = r#"
      (module
        (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
        (func (export "nan") (result f32) (f32.const nan:0x600000))
        (func (export "id") (param externref) (result externref) (local.get 0))
        (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
        (func $r (export "rec") (call $r))
        (global (export "g") i64 (i64.const -5)))
      (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))   ;; P
      (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))   ;; F
      (assert_return (invoke "nan") (f32.const nan:arithmetic))                  ;; P
      (assert_return (invoke "nan") (f32.const nan:canonical))                   ;; F
      (assert_return (invoke "id" (ref.extern 0)) (ref.extern 0))                ;; Pk
      (assert_return (invoke "id" (ref.extern 7)) (ref.extern 8))                ;; Fk
      (assert_return (invoke "id" (ref.null extern)) (ref.null extern))          ;; Pk
      (assert_return (invoke "id" (ref.extern 0)) (ref.null extern))             ;; Fk
      (assert_return (get "g") (i64.const -5))                                   ;; Pk
      (assert_return (get "g") (i64.const 5))                                    ;; Fk
      (assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")        ;; P
      (assert_trap (invoke "div" (i32.const 0)) "unreachable")                   ;; F
      (assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")        ;; F
      (assert_exhaustion (invoke "rec") "call stack exhausted")                  ;; P
      (assert_invalid (module (func (result i32))) "type mismatch")              ;; P
      (assert_invalid (module (func)) "type mismatch")                           ;; F
      (assert_malformed (module quote "(func") "unexpected end")                 ;; P
      (assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import") ;; P
      (module (import "spectest" "global_i32" (global i32)))                     ;; S
      (assert_return (invoke "anything"))                                        ;; S
    "#;
    let kernel = backend::kernel();
    let expected: Vec<char> = SCRIPT
        .lines()
        .filter_map(|l| l.split(";; ").nth(1))
        .filter_map(|mark| match mark.trim() {
            m if kernel && m.ends_with('k') => Some('S'),
            m => m.chars().next(),
        })
        .collect();
    let got = std::thread::Builder::new()
        .stack_size(CHILD_STACK)
        .spawn(|| {
            let mut kinds = Vec::new();
            runner::run_text(SCRIPT, 0, &HashSet::new(), &mut |line| {
                if let Some(kind @ ('P' | 'F' | 'S')) = line.chars().next() {
                    kinds.push(kind);
                }
            });
            kinds
        })
        .expect("spawning the script thread")
        .join()
        .expect("the script thread panicked");
    // The first outcome is the module itself.
    assert_eq!(got.first(), Some(&'P'), "the test module failed to build");
    assert_eq!(&got[1..], &expected[..]);
}

fn run_child(file: PathBuf) {
    let resume = env_usize(RESUME_ENV, 0);
    let avoid: HashSet<usize> = std::env::var(AVOID_ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let worker = std::thread::Builder::new()
        .name("spec-file".into())
        .stack_size(CHILD_STACK)
        .spawn(move || runner::run_file(&file, resume, &avoid))
        .expect("spawning the spec thread");
    worker.join().expect("the spec thread panicked");
}

/// `KWO_SPEC_DIR`, else `shared/spec-testsuite` beside the repository, else
/// the machine-wide copy. Panics (fails the test) if none exists.
fn spec_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        std::env::var_os("KWO_SPEC_DIR").map(PathBuf::from),
        Some(repo.join("../shared/spec-testsuite")),
        Some(PathBuf::from("/work/shared/spec-testsuite")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("i32.wast").is_file())
        .expect("spec testsuite not found: set KWO_SPEC_DIR to the directory of the .wast files")
}

/// The files to run, sorted, and how many SIMD files were left out.
fn select_files(dir: &Path) -> (Vec<PathBuf>, usize) {
    let wanted: Option<HashSet<String>> = std::env::var("KWO_SPEC_FILE")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut files = Vec::new();
    let mut simd = 0;
    for entry in std::fs::read_dir(dir).expect("reading the spec directory") {
        let path = entry.expect("reading the spec directory").path();
        let name = file_name(&path);
        if !name.ends_with(".wast") {
            continue;
        }
        if name.starts_with("simd_") {
            simd += 1;
        } else if wanted.as_ref().is_none_or(|w| w.contains(&name)) {
            files.push(path);
        }
    }
    files.sort();
    if let Some(w) = &wanted {
        assert_eq!(files.len(), w.len(), "KWO_SPEC_FILE names a missing or SIMD file");
    }
    (files, simd)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Counts for one file or for the whole run.
#[derive(Default)]
struct Stats {
    passed: usize,
    failed: usize,
    skipped: usize,
    reasons: BTreeMap<String, usize>,
    failures: Vec<String>,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        for (reason, n) in other.reasons {
            *self.reasons.entry(reason).or_default() += n;
        }
    }

    fn fail(&mut self, at: String) {
        self.failed += 1;
        self.failures.push(at);
    }

    fn print_file(&self, name: &str) {
        let show = env_usize("KWO_SPEC_SHOW", 10);
        let mut out = format!(
            "{name}: {} passed, {} failed, {} skipped\n",
            self.passed, self.failed, self.skipped
        );
        for f in self.failures.iter().take(show) {
            out.push_str(&format!("    FAIL {f}\n"));
        }
        if self.failures.len() > show {
            out.push_str(&format!("    ... {} more failures\n", self.failures.len() - show));
        }
        print!("{out}");
    }

    fn print_summary(&self, simd_files: usize) {
        let mut out = String::from("skip reasons:\n");
        for (reason, n) in &self.reasons {
            out.push_str(&format!("  {n:6}  {reason}\n"));
        }
        out.push_str(&format!(
            "legend: {simd_files} simd_*.wast files are not run (SIMD not supported by design)\n"
        ));
        out.push_str(&format!(
            "spec: {} passed, {} failed, {} skipped\n",
            self.passed, self.failed, self.skipped
        ));
        print!("{out}");
    }
}

/// Run the files on `jobs` workers, printing each file's line as it ends.
fn run_all(files: &[PathBuf], jobs: usize) -> Stats {
    // Workers pop from the end: reverse so files start in name order.
    let queue = Arc::new(Mutex::new(files.iter().rev().cloned().collect::<Vec<_>>()));
    let totals = Arc::new(Mutex::new(Stats::default()));
    let workers: Vec<_> = (0..jobs.min(files.len()))
        .map(|_| {
            let queue = queue.clone();
            let totals = totals.clone();
            std::thread::spawn(move || loop {
                let Some(file) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let stats = run_file(&file);
                let mut totals = totals.lock().expect("totals");
                stats.print_file(&file_name(&file));
                totals.add(stats);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("spec worker panicked");
    }
    Arc::try_unwrap(totals)
        .ok()
        .expect("workers are done")
        .into_inner()
        .expect("totals")
}

/// Run one file in child processes until it ends, resuming after crashes
/// and hangs, within the file's time budget.
fn run_file(file: &Path) -> Stats {
    let name = file_name(file);
    let budget = Duration::from_secs(env_usize("KWO_SPEC_FILE_TIMEOUT", 600) as u64);
    let deadline = Instant::now() + budget;
    let mut stats = Stats::default();
    let mut resume = 0;
    let mut avoid = Vec::new();
    for _ in 0..=MAX_RESTARTS {
        match run_child_once(file, resume, &avoid, deadline, &mut stats) {
            ChildEnd::Done => return stats,
            ChildEnd::OutOfTime(line) => {
                let why = format!("file took longer than {}s; the rest is not run", budget.as_secs());
                stats.fail(format!("{name}:{line}: {why}"));
                return stats;
            }
            ChildEnd::Unusable(why) => {
                stats.fail(format!("{name}: {why}; the rest is not run"));
                return stats;
            }
            ChildEnd::Lost { index, line, why } => {
                stats.fail(format!("{name}:{line}: {why}"));
                avoid.push(index);
                resume = index + 1;
            }
        }
    }
    stats.fail(format!("{name}: gave up after {MAX_RESTARTS} crashes"));
    stats
}

/// How one child process over a file ended.
enum ChildEnd {
    /// Every directive reported.
    Done,
    /// It crashed or hung in directive `index` (at `line`), and was reaped.
    Lost { index: usize, line: usize, why: String },
    /// The file's time budget ran out at `line`.
    OutOfTime(usize),
    /// It ended before reporting a directive: it cannot start, or it
    /// crashes while rebuilding the modules before a resume point.
    Unusable(String),
}

enum Msg {
    Out(String),
    Eof,
}

/// Run `file` from directive `resume` on in a child, adding its outcomes to
/// `stats`.
fn run_child_once(
    file: &Path,
    resume: usize,
    avoid: &[usize],
    deadline: Instant,
    stats: &mut Stats,
) -> ChildEnd {
    let mut child = match spawn_child(file, resume, avoid) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot start the child process: {e}");
            return ChildEnd::Lost { index: resume, line: 0, why };
        }
    };
    let stderr = collect_stderr(&mut child);
    let lines = stream_stdout(&mut child);
    let name = file_name(file);
    let timeout = Duration::from_secs(env_usize("KWO_SPEC_TIMEOUT", 60) as u64);
    let mut at = (resume, 0);
    let mut ended = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(timeout.min(left)) {
            Ok(Msg::Out(line)) => ended |= record(&line, &name, &mut at, stats),
            Ok(Msg::Eof) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                // The child may already be gone; either way it is reaped.
                let _ = child.kill();
                let _ = child.wait();
                if Instant::now() >= deadline {
                    return ChildEnd::OutOfTime(at.1);
                }
                let why = format!("timed out after {}s (killed)", timeout.as_secs());
                if at.1 == 0 {
                    return ChildEnd::Unusable(why);
                }
                return ChildEnd::Lost { index: at.0, line: at.1, why };
            }
        }
    }
    let status = child.wait();
    if status.as_ref().is_ok_and(|s| s.success()) {
        return ChildEnd::Done;
    }
    let tail = stderr.join().unwrap_or_default();
    let why = format!("child process died ({}): {}", show_status(&status), tail);
    if at.1 == 0 {
        return ChildEnd::Unusable(why);
    }
    if ended {
        // Every directive reported and then the exit failed: nothing is
        // left to resume.
        stats.fail(format!("{name}: {why}"));
        return ChildEnd::Done;
    }
    ChildEnd::Lost { index: at.0, line: at.1, why }
}

/// Re-execute this test binary for one file, through `KWO_TEST_RUNNER` if
/// set (an emulator prefix such as `qemu-aarch64 -L /usr/aarch64-linux-gnu`
/// when the tests run on a foreign architecture).
fn spawn_child(file: &Path, resume: usize, avoid: &[usize]) -> std::io::Result<Child> {
    let avoid: Vec<String> = avoid.iter().map(usize::to_string).collect();
    let runner = std::env::var("KWO_TEST_RUNNER").unwrap_or_default();
    let mut prefix = runner.split_whitespace();
    let exe = std::env::current_exe()?;
    let mut cmd = match prefix.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(prefix).arg(exe);
            cmd
        }
        None => Command::new(exe),
    };
    cmd.args(["spec_testsuite", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, file)
        .env(RESUME_ENV, resume.to_string())
        .env(AVOID_ENV, avoid.join(","))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Apply one protocol line; returns true on `END`. `at` tracks the
/// directive (index, line) being run.
fn record(line: &str, name: &str, at: &mut (usize, usize), stats: &mut Stats) -> bool {
    // libtest may print "test spec ... " in front of the first line.
    let Some(start) = line.find(runner::TAG) else {
        return false;
    };
    let rest = line[start + runner::TAG.len()..].trim_start();
    let (kind, arg) = rest.split_once(' ').unwrap_or((rest, ""));
    match kind {
        "D" => {
            let mut it = arg.split(' ').filter_map(|s| s.parse().ok());
            *at = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        }
        "P" => stats.passed += 1,
        "S" => {
            stats.skipped += 1;
            *stats.reasons.entry(arg.to_string()).or_default() += 1;
        }
        "F" => stats.fail(format!("{name}:{}: {arg}", at.1)),
        "END" => return true,
        _ => {}
    }
    false
}

fn stream_stdout(child: &mut Child) -> Receiver<Msg> {
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(Msg::Out(line)).is_err() {
                    return;
                }
            }
            // The receiver may have given up on this child already.
            let _ = tx.send(Msg::Eof);
        });
    }
    rx
}

/// The last few hundred bytes of the child's stderr, for crash reports.
fn collect_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let err = child.stderr.take();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut err) = err {
            // A read error just shortens the report.
            let _ = err.read_to_end(&mut buf);
        }
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        let start = text.len().saturating_sub(300);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text[start..].replace('\n', " | ")
    })
}

fn show_status(status: &std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match s.signal() {
            Some(sig) => format!("signal {sig}"),
            None => format!("exit {}", s.code().unwrap_or(-1)),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}
