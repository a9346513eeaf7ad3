//! Streamed stdio in the userspace runtime, through the `kwo` command line:
//! `tests/programs/stdio.c` built for wasm32-wasi (clang + wasi-libc) and
//! natively (cc) must behave alike byte for byte — 10 MB through a filter,
//! 10 MB of output, stdout and stderr interleaved in one pipe — and what a
//! program printed survives `--timeout`, SIGINT and SIGKILL. Also the
//! descriptor table as a program sees it (fd_renumber, fd_close,
//! fd_fdstat_get) and output that cannot be delivered (`/dev/full`, a
//! closed pipe) failing the run with a message.
//!
//! Needs `clang`, `lld`, `wasi-libc` and a native `cc` (`.ci/run` installs
//! them); a missing tool fails the test with the command that could not run.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::{kwo_command, run_tool};

/// Exit status of `kwo run` when the program trapped.
const TRAP_EXIT: i32 = 134;
const TEN_MB: usize = 10_000_000;

fn scratch(name: &str) -> PathBuf {
    common::scratch("stdio", name)
}

/// tests/programs/stdio.c for wasm32-wasi and for this machine, once.
fn programs() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/stdio.c");
        let (wasm, native) = (scratch("stdio.wasm"), scratch("stdio-native"));
        run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O2", "-o"]).arg(&wasm).arg(&src));
        run_tool(Command::new("cc").args(["-O2", "-o"]).arg(&native).arg(&src));
        (wasm, native)
    })
}

fn wasm() -> &'static str {
    programs().0.to_str().expect("UTF-8 scratch path")
}

fn native(args: &[&str], stdin: Stdio) -> Output {
    Command::new(&programs().1)
        .args(args)
        .stdin(stdin)
        .output()
        .expect("running the native build")
}

/// `kwo run stdio.wasm ARGS` (after `flags`), with the given stdin.
fn kwo_run(flags: &[&str], args: &[&str], stdin: Stdio) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(flags);
    all.push(wasm());
    all.extend_from_slice(args);
    kwo_command(&all).stdin(stdin).output().expect("running kwo")
}

/// The native `gen` output of `n` bytes, as a file (the filter's input).
fn input_file(n: usize) -> PathBuf {
    let path = scratch(&format!("input-{n}"));
    let out = native(&["gen", &n.to_string()], Stdio::null());
    assert!(out.status.success());
    std::fs::write(&path, &out.stdout).expect("writing the input");
    path
}

fn stdin_from(path: &Path) -> Stdio {
    File::open(path).expect("opening the input").into()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn filter_of_10_mb_matches_native() {
    let input = input_file(TEN_MB);
    let want = native(&["filter"], stdin_from(&input));
    assert!(want.status.success());
    let got = kwo_run(&[], &["filter"], stdin_from(&input));
    assert_eq!(got.status.code(), Some(0), "stderr: {}", text(&got.stderr));
    assert_eq!(got.stdout.len(), want.stdout.len());
    assert!(got.stdout == want.stdout, "stdout differs from the native build's");
    assert_eq!(text(&got.stderr), text(&want.stderr));
    assert!(text(&got.stderr).starts_with(&format!("bytes {TEN_MB} ")));
}

/// Input from a pipe that arrives in pieces, with pauses: the program
/// waits for it and still sees every byte.
#[test]
fn filter_reads_a_slow_pipe() {
    let input = std::fs::read(input_file(1 << 20)).unwrap();
    let mut child = kwo_command(&["run", wasm(), "filter"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("running kwo");
    let mut pipe = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for piece in input.chunks(300_000) {
            pipe.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let got = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let want = native(&["filter"], stdin_from(&input_file(1 << 20)));
    assert_eq!(got.status.code(), Some(0));
    assert!(got.stdout == want.stdout, "stdout differs from the native build's");
}

#[test]
fn output_of_10_mb_matches_native() {
    let want = native(&["gen", &TEN_MB.to_string()], Stdio::null());
    let got = kwo_run(&[], &["gen", &TEN_MB.to_string()], Stdio::null());
    assert_eq!(got.status.code(), Some(0), "stderr: {}", text(&got.stderr));
    assert_eq!(got.stdout.len(), TEN_MB);
    assert!(got.stdout == want.stdout, "stdout differs from the native build's");
}

/// stdout and stderr on one pipe: the lines come in the order written.
#[test]
fn stdout_and_stderr_interleave_as_written() {
    let run = |mut cmd: Command| {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .spawn()
            .unwrap();
        // The Command keeps its copies of the write ends until dropped.
        drop(cmd);
        let mut both = String::new();
        reader.read_to_string(&mut both).unwrap();
        assert!(child.wait().unwrap().success());
        both
    };
    let mut native = Command::new(&programs().1);
    native.args(["interleave", "2000"]);
    let want = run(native);
    let got = run(kwo_command(&["run", wasm(), "interleave", "2000"]));
    assert!(want.starts_with("out 0\nerr 1\nout 2\n"), "{want:.40}");
    assert_eq!(got, want);
}

/// Start `kwo run stdio.wasm spin` with stdout and stderr in files; return
/// once it has printed both lines.
fn spinning(flags: &[&str], name: &str) -> (Child, PathBuf, PathBuf) {
    let (out, err) = (scratch(&format!("{name}.out")), scratch(&format!("{name}.err")));
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend([wasm(), "spin"]);
    let child = kwo_command(&args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .expect("running kwo");
    let start = Instant::now();
    while std::fs::read(&err).unwrap().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "nothing printed");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, out, err)
}

fn kill_keeps_output(signal: i32, name: &str) {
    use std::os::unix::process::ExitStatusExt;
    let (mut child, out, err) = spinning(&[], name);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(signal), "{status:?}");
    assert_eq!(std::fs::read_to_string(out).unwrap(), "printed before\n");
    assert_eq!(std::fs::read_to_string(err).unwrap(), "also on stderr\n");
}

#[test]
fn sigint_keeps_what_was_printed() {
    kill_keeps_output(libc::SIGINT, "sigint");
}

#[test]
fn sigkill_keeps_what_was_printed() {
    kill_keeps_output(libc::SIGKILL, "sigkill");
}

#[test]
fn timeout_keeps_what_was_printed() {
    let (child, out, err) = spinning(&["--timeout", "300ms"], "timeout");
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(TRAP_EXIT));
    assert_eq!(std::fs::read_to_string(out).unwrap(), "printed before\n");
    let err = std::fs::read_to_string(err).unwrap();
    assert!(err.starts_with("also on stderr\ntrap: interrupted"), "{err}");
}

/// A reader that does not read: the program waits on the full pipe until
/// its time budget ends it; what it wrote before is in the pipe.
#[test]
fn full_pipe_waits_within_the_budget() {
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut child = kwo_command(&["run", "--timeout", "1s", wasm(), "gen", "10000000"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("still running after 30 s: the budget did not end the wait");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(TRAP_EXIT), "{err}");
    assert!(err.contains("trap: interrupted"), "{err}");
    let mut got = Vec::new();
    reader.read_to_end(&mut got).unwrap();
    let want = native(&["gen", &got.len().to_string()], Stdio::null()).stdout;
    assert!(!got.is_empty() && got.len() < TEN_MB, "{} bytes", got.len());
    assert!(got == want, "the bytes before the budget ended differ");
}

#[test]
fn descriptor_table_renumber_close_fdstat() {
    let got = kwo_run(&[], &["fds"], Stdio::null());
    assert_eq!(text(&got.stdout), "fds ok\n", "stderr: {}", text(&got.stderr));
    assert_eq!(text(&got.stderr), "to stderr via fd 0\n");
    assert_eq!(got.status.code(), Some(0));
}

/// Output that cannot be delivered fails the run, with a message, even
/// though the program ignores the error.
#[test]
fn lost_output_fails_the_run() {
    if !Path::new("/dev/full").exists() {
        panic!("/dev/full is needed for this test");
    }
    let got = kwo_command(&["run", wasm(), "hello"])
        .stdout(File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(1), "the program itself exits 0");
    assert!(
        text(&got.stderr).contains("output lost: No space left on device"),
        "{}",
        text(&got.stderr)
    );
}
