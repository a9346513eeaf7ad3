//! Real programs through the `kwo` command line: a C hello world (clang +
//! wasi-libc) and Rust programs (wasm32-wasip1: a hello world, an
//! allocation-heavy one) are built from the sources
//! in `tests/programs/`, compiled with `kwo compile` and run with `kwo run`
//! (also straight from `.wasm`). Plus the runtime's limits seen from the CLI
//! (time budget, stack exhaustion, a 64 MiB memory.grow), hostile inputs
//! (truncated, bit-flipped and random `.wasm` and `.kwo` files must give a
//! clean error, never a panic or a signal) and cross-compilation to aarch64.
//!
//! Needs `clang`, `lld`, `wasi-libc`, `libclang-rt-*-dev-wasm32` and the
//! rustup target `wasm32-wasip1` (`.ci/run` installs them); a missing tool
//! fails the test with the command that could not run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;
use common::{kwo_output as kwo, path_str, run_tool, stderr, stdout};

const HELLO_TEXT: &str = "Hello, WebAssembly in Linux Kernel!\n";
/// Exit status of `kwo run` when the program trapped.
const TRAP_EXIT: i32 = 134;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("programs", name)
}

/// tests/programs/hello.c built for wasm32-wasi, once per test binary.
fn hello_c_wasm() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let out = scratch("hello-c.wasm");
        let src = repo_root().join("tests/programs/hello.c");
        run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O2", "-o"]).arg(&out).arg(src));
        out
    })
}

/// tests/programs/hello.rs built for wasm32-wasip1.
fn hello_rs_wasm() -> PathBuf {
    let out = scratch("hello-rs.wasm");
    let src = repo_root().join("tests/programs/hello.rs");
    run_tool(
        Command::new("rustc")
            .args(["--target", "wasm32-wasip1", "-O", "-C", "strip=debuginfo", "-o"])
            .arg(&out)
            .arg(src),
    );
    out
}

/// tests/programs/alloc.rs built for wasm32-wasip1.
fn alloc_rs_wasm() -> PathBuf {
    let out = scratch("alloc-rs.wasm");
    let src = repo_root().join("tests/programs/alloc.rs");
    run_tool(Command::new("rustc").args(["--target", "wasm32-wasip1", "-O", "-o"]).arg(&out).arg(src));
    out
}

/// `kwo compile` of a `.wasm` file; returns the `.kwo` path.
fn compile(wasm: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = scratch(name);
    let mut args = vec!["compile", path_str(wasm), "-o", path_str(&out)];
    args.extend_from_slice(extra);
    let res = kwo(&args);
    assert_clean(&res);
    assert!(res.status.success(), "kwo compile failed: {}", stderr(&res));
    out
}

/// A module written in the text format, encoded to a `.wasm` file.
fn wat_file(name: &str, text: &str) -> PathBuf {
    let bytes = wat_to_wasm(text);
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("writing a test module");
    path
}

fn wat_to_wasm(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lexing test module");
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).expect("parsing test module");
    wat.encode().expect("encoding test module")
}

/// Whatever the input, kwo must exit by itself, without a Rust panic.
fn assert_clean(o: &Output) {
    use std::os::unix::process::ExitStatusExt;
    assert!(o.status.signal().is_none(), "kwo died by a signal: {:?}\n{}", o.status, stderr(o));
    assert!(!stderr(o).contains("panicked"), "kwo panicked:\n{}", stderr(o));
}

#[test]
fn c_hello_compiled_then_run() {
    let object = compile(hello_c_wasm(), "hello-c.kwo", &[]);
    let out = kwo(&["run", path_str(&object)]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), HELLO_TEXT);
}

#[test]
fn c_hello_run_from_wasm() {
    let out = kwo(&["run", path_str(hello_c_wasm())]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), HELLO_TEXT);
}

#[test]
fn rust_program_args_floats_exit_code() {
    let wasm = hello_rs_wasm();
    let object = compile(&wasm, "hello-rs.kwo", &[]);
    let expected = "Hello from Rust on kwo!\n\
                    args: alpha beta\n\
                    sorted: [3, 7, 11, 19, 42]\n\
                    mean: 16.40, sqrt(2): 1.414214\n";
    for input in [&object, &wasm] {
        let out = kwo(&["run", path_str(input), "alpha", "beta"]);
        assert_clean(&out);
        assert_eq!(stdout(&out), expected, "stderr: {}", stderr(&out));
        assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    }
}

#[test]
fn endless_loop_is_interrupted_by_timeout() {
    let wasm = wat_file("loop.wasm", r#"(module (func (export "_start") (loop br 0)))"#);
    let started = std::time::Instant::now();
    let out = kwo(&["run", "--timeout", "200ms", path_str(&wasm)]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "stderr: {}", stderr(&out));
    assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
}

#[test]
fn infinite_recursion_exhausts_the_stack() {
    let wasm = wat_file(
        "recurse.wasm",
        r#"(module (func $f (export "_start") (call $f)))"#,
    );
    let out = kwo(&["run", path_str(&wasm)]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(TRAP_EXIT), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("call stack exhausted"), "stderr: {}", stderr(&out));
}

#[test]
fn memory_grows_by_64_mib() {
    // Grow by 1024 pages, then write and read back the last byte of the
    // new memory; any failure traps with "unreachable".
    let wasm = wat_file(
        "grow.wasm",
        r#"(module
             (memory 1)
             (func (export "_start")
               (if (i32.ne (memory.grow (i32.const 1024)) (i32.const 1))
                 (then unreachable))
               (if (i32.ne (memory.size) (i32.const 1025))
                 (then unreachable))
               (i32.store8 (i32.const 0x400ffff) (i32.const 0x5a))
               (if (i32.ne (i32.load8_u (i32.const 0x400ffff)) (i32.const 0x5a))
                 (then unreachable))))"#,
    );
    let out = kwo(&["run", path_str(&wasm)]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn allocation_heavy_rust_program_grows_its_memory_in_place() {
    // Thousands of small memory.grow calls (the allocator asks for a few
    // pages at a time). With grow-by-copy this took time quadratic in the
    // final size; in place it is linear. Time is not asserted; the results
    // are, against the same computation done natively.
    let n = 300_000usize;
    let total: usize = (0..n).map(|i| format!("value-{i}").len()).sum();
    let text: usize = (0..n).map(|i| i.to_string().len()).sum();
    let object = compile(&alloc_rs_wasm(), "alloc-rs.kwo", &[]);
    let out = kwo(&["run", path_str(&object), &n.to_string()]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), format!("{n} {total} {text}\n"));
}

#[test]
fn aarch64_cross_compile_is_reported_by_inspect() {
    let object = compile(hello_c_wasm(), "hello-c-arm64.kwo", &["--target", "aarch64"]);
    let out = kwo(&["inspect", path_str(&object)]);
    assert_clean(&out);
    assert!(out.status.success(), "kwo inspect failed: {}", stderr(&out));
    assert!(stdout(&out).contains("aarch64"), "inspect output:\n{}", stdout(&out));
}

/// The machine-code checker accepts the real programs compiled for both
/// targets (the compiler runs it too; `kwo check` re-checks the header's
/// claims), and finds what they are: the Rust program uses FP registers.
#[test]
fn kwo_check_accepts_the_programs_for_both_targets() {
    let programs = [(hello_c_wasm().to_path_buf(), "hello-c", "uses FP: no"), (hello_rs_wasm(), "hello-rs", "uses FP: yes")];
    for (wasm, name, fp) in programs {
        for target in ["x86_64", "aarch64"] {
            let object = compile(&wasm, &format!("{name}-{target}-check.kwo"), &["--target", target]);
            let out = kwo(&["check", path_str(&object)]);
            assert_clean(&out);
            assert!(out.status.success(), "kwo check {name} ({target}): {}", stderr(&out));
            assert!(stdout(&out).contains(fp), "{name} ({target}): {}", stdout(&out));
        }
    }
}

/// Deterministic xorshift64, so a failing mutation can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Truncations, single bit flips and random files derived from `good`.
fn mutations(good: &[u8], rng: &mut Rng, flips_fail: bool) -> Vec<(String, Vec<u8>, bool)> {
    let mut cases = Vec::new();
    for cut in [0, 1, 4, 7, 8, 9, good.len() / 3, good.len() / 2, good.len() - 1] {
        // The first 8 bytes of a .wasm are a valid empty module.
        let must_fail = cut != 8 || flips_fail;
        cases.push((format!("truncated to {cut}"), good[..cut].to_vec(), must_fail));
    }
    for _ in 0..12 {
        let mut bytes = good.to_vec();
        let bit = rng.below(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        cases.push((format!("bit {bit} flipped"), bytes, flips_fail));
    }
    for len in [16, 100, 4096] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        cases.push((format!("{len} random bytes"), bytes, true));
    }
    cases
}

/// Feed every mutation to `kwo <command> FILE`. Inputs marked `must_fail`
/// must be rejected with a message. A bit flip in a `.wasm` file may leave a
/// valid program (a flipped data byte), so it only has to end cleanly; in a
/// `.kwo` file the CRC-32 over the object catches every single-bit flip.
fn check_hostile(good: &[u8], ext: &str, command: &[&str], seed: u64) {
    let mut rng = Rng(seed);
    let cases = mutations(good, &mut rng, ext == "kwo");
    for (i, (what, bytes, must_fail)) in cases.into_iter().enumerate() {
        let path = scratch(&format!("hostile-{}-{i}.{ext}", command[0]));
        std::fs::write(&path, &bytes).expect("writing a hostile input");
        let mut args = command.to_vec();
        args.push(path_str(&path));
        let out = kwo(&args);
        assert_clean(&out);
        if must_fail || !out.status.success() {
            assert!(!out.status.success(), "{ext} {what}: accepted by kwo {command:?}");
            assert!(!stderr(&out).trim().is_empty(), "{ext} {what}: failed without a message");
        }
    }
}

#[test]
fn hostile_wasm_inputs_are_rejected_cleanly() {
    let good = std::fs::read(hello_c_wasm()).expect("reading hello-c.wasm");
    check_hostile(&good, "wasm", &["run", "--timeout", "2s"], 0x9e37_79b9_7f4a_7c15);
    let out = scratch("hostile-out.kwo");
    check_hostile(&good, "wasm", &["compile", "-o", path_str(&out)], 0x2545_f491_4f6c_dd1d);
}

#[test]
fn hostile_kwo_inputs_are_rejected_cleanly() {
    let object = compile(hello_c_wasm(), "hostile-base.kwo", &[]);
    let good = std::fs::read(object).expect("reading hello-c.kwo");
    check_hostile(&good, "kwo", &["run", "--timeout", "2s"], 0xd1b5_4a32_d192_ed03);
    check_hostile(&good, "kwo", &["inspect"], 0x8cb9_2ba7_2f3d_8dd7);
}

/// Whether kwo provides the WASI function `name` (a missing one is refused,
/// or stubbed with `--allow-missing-imports`).
fn provides(name: &str) -> bool {
    kwo_verifier::WASI_IMPORTS.iter().any(|w| w.name == name)
}

/// tests/programs/missing.c: fopen without a preopened directory and
/// posix_fadvise (fd_advise, which kwo lacks), failures reported by the
/// program itself.
#[test]
fn c_program_with_missing_imports_is_refused_clearly_or_runs_on_stubs() {
    let wasm = scratch("missing-c.wasm");
    let src = repo_root().join("tests/programs/missing.c");
    run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O2", "-o"]).arg(&wasm).arg(src));
    let out = kwo(&["run", path_str(&wasm)]);
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(1), "refused: {}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing runs");
    let err = stderr(&out);
    assert!(err.contains("`wasi_snapshot_preview1.fd_advise`"), "{err}");
    assert!(err.contains("--allow-missing-imports"), "{err}");
    assert!(provides("path_open") && !err.contains("path_open"), "fopen's path_open is provided: {err}");
    // With stubs the program runs: fopen fails before any path_open (no
    // directory is preopened, so wasi-libc finds no capability for the
    // path), posix_fadvise reaches the fd_advise stub and gets ENOSYS.
    let out = kwo(&["run", "--allow-missing-imports", path_str(&wasm), "data.txt"]);
    assert_clean(&out);
    assert_eq!(
        stdout(&out),
        "fopen data.txt: Capabilities insufficient (errno 76)\n\
         posix_fadvise: Function not implemented (errno 52)\n",
        "stderr: {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "the program's own status");
}

/// tests/programs/sleep.rs: `thread::sleep` is WASI `poll_oneoff`, which
/// sleeps in the host for about as long as asked, and no longer than the
/// time budget: a sleep past `--timeout` traps "interrupted" when the
/// budget ends, keeping what was printed before.
#[test]
fn rust_sleep_sleeps_and_is_interrupted_by_the_budget() {
    let wasm = scratch("sleep-rs.wasm");
    let src = repo_root().join("tests/programs/sleep.rs");
    run_tool(
        Command::new("rustc")
            .args(["--target", "wasm32-wasip1", "-O", "-C", "strip=debuginfo", "-o"])
            .arg(&wasm)
            .arg(src),
    );
    // Compiled first, so that the times below are the run's alone (under
    // qemu-aarch64 compiling the program takes seconds).
    let obj = compile(&wasm, "sleep-rs.kwo", &[]);
    let start = std::time::Instant::now();
    let out = kwo(&["run", path_str(&obj), "200"]);
    let took = start.elapsed();
    assert_clean(&out);
    assert_eq!(stdout(&out), "before sleep\nafter sleep\n", "stderr: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    assert!(took >= std::time::Duration::from_millis(200), "slept only {took:?}");
    assert!(took < std::time::Duration::from_secs(5), "slept {took:?}");

    let start = std::time::Instant::now();
    let out = kwo(&["run", "--timeout", "300ms", path_str(&obj), "60000"]);
    let took = start.elapsed();
    assert_clean(&out);
    assert_eq!(stdout(&out), "before sleep\n", "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(TRAP_EXIT));
    assert!(took >= std::time::Duration::from_millis(300), "interrupted after {took:?}");
    assert!(took < std::time::Duration::from_secs(5), "interrupted only after {took:?}");
}

/// tests/programs/poll.c: poll_oneoff's clock subscriptions (relative,
/// absolute, the earliest of two), descriptor subscriptions and unknown
/// clocks answered at once, and C `usleep`.
#[test]
fn c_poll_oneoff_clocks_and_refused_subscriptions() {
    let wasm = scratch("poll-c.wasm");
    let src = repo_root().join("tests/programs/poll.c");
    run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O2", "-o"]).arg(&wasm).arg(src));
    let out = kwo(&["run", "--timeout", "20s", path_str(&wasm)]);
    assert_clean(&out);
    assert_eq!(
        stdout(&out),
        "ok no subscriptions: EINVAL\n\
         ok subscriptions outside memory: EFAULT\n\
         ok earliest clock fires\n\
         ok slept 50 ms\n\
         ok absolute monotonic clock fires\n\
         ok slept until it\n\
         ok past realtime fires at once\n\
         ok fd subscription ENOTSUP, unknown clock EINVAL, no sleep\n\
         ok usleep 20 ms\n",
        "stderr: {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(0));
}

/// Every preview1 function wasi-libc declares (`<wasi/api.h>`) is known to
/// kwo's table with the signature clang gives it: a module importing all of
/// them verifies with `--allow-missing-imports`. (wasi-libc no longer
/// declares `proc_raise`.)
#[test]
fn kwo_knows_every_wasi_libc_import_and_its_signature() {
    let src = scratch("all-wasi.c");
    let mut c = String::from("#include <wasi/api.h>\nvoid *volatile sink;\nint main(void)\n{\n");
    let declared = kwo_verifier::wasi_preview1::PREVIEW1.iter().filter(|f| f.name != "proc_raise");
    for f in declared.clone() {
        c += &format!("\tsink = (void *)&__wasi_{};\n", f.name);
    }
    c += "\treturn 0;\n}\n";
    std::fs::write(&src, c).expect("writing all-wasi.c");
    let wasm = scratch("all-wasi.wasm");
    run_tool(Command::new("clang").args(["--target=wasm32-wasi", "-O0", "-o"]).arg(&wasm).arg(&src));
    let out = kwo(&["verify", "--allow-missing-imports", path_str(&wasm)]);
    assert_clean(&out);
    let imports = declared.count();
    assert!(stdout(&out).contains(&format!(" {imports} imports)")), "{}{}", stdout(&out), stderr(&out));
}
