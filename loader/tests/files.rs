//! Files through preopened directories in the userspace runtime, through
//! the `kwo` command line (`kwo run --dir HOST[::GUEST]`):
//! `tests/programs/files.c` built for wasm32-wasi and natively must print
//! the same and leave the same files; `tests/programs/fs.rs` (Rust
//! `std::fs`) works on a preopen; `tests/programs/sandbox.c` cannot reach
//! outside it (`..`, absolute paths, symlinks out) and sees descriptors
//! reused lowest-first and EMFILE when the table is full; without a
//! preopen, opening fails in the program with a clear errno.
//!
//! Needs `clang`, `lld`, `wasi-libc`, a native `cc` and the rustup target
//! `wasm32-wasip1` (`.ci/run` installs them); a missing tool fails the test
//! with the command that could not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{kwo_output as kwo, path_str, run_tool, stderr, stdout};

/// Exit status of `kwo run` for a usage error.
const USAGE_EXIT: i32 = 2;

fn scratch(name: &str) -> PathBuf {
    common::scratch("files", name)
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs").join(name)
}

fn c_wasm(name: &str) -> PathBuf {
    let wasm = scratch(&format!("{name}.wasm"));
    run_tool(
        Command::new("clang")
            .args(["--target=wasm32-wasi", "-O2", "-o"])
            .arg(&wasm)
            .arg(program(&format!("{name}.c"))),
    );
    wasm
}

/// A fresh, empty directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a test directory");
    dir
}

/// Every file and directory under root: relative path -> contents (None
/// for a directory).
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("listing a test directory") {
            let path = entry.expect("a directory entry").path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                todo.push(path);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("reading a test file")));
            }
        }
    }
    out
}

#[test]
fn c_files_on_a_preopen_match_native() {
    let wasm = c_wasm("files");
    let native = scratch("files-native");
    run_tool(Command::new("cc").args(["-O2", "-o"]).arg(&native).arg(program("files.c")));
    let (ndir, wdir) = (fresh_dir("native-dir"), fresh_dir("wasm-dir"));
    for d in [&ndir, &wdir] {
        std::fs::write(d.join("input.txt"), "hello world, files\n").unwrap();
    }
    let want = Command::new(&native).current_dir(&ndir).output().expect("running files-native");
    assert!(want.status.success(), "native: {}{}", stdout(&want), stderr(&want));
    let dir_flag = format!("{}::.", path_str(&wdir));
    let got = kwo(&["run", "--dir", &dir_flag, path_str(&wasm)]);
    assert_eq!(got.status.code(), Some(0), "{}{}", stdout(&got), stderr(&got));
    assert_eq!(stdout(&got), stdout(&want));
    assert!(stdout(&got).contains("out: log.txt renamed.txt\n"), "{}", stdout(&got));
    assert_eq!(tree(&wdir), tree(&ndir));
}

#[test]
fn rust_std_fs_on_a_preopen() {
    let wasm = scratch("fs.wasm");
    run_tool(
        Command::new("rustc")
            .args(["--target", "wasm32-wasip1", "-O", "-o"])
            .arg(&wasm)
            .arg(program("fs.rs")),
    );
    let dir = fresh_dir("rust-dir");
    std::fs::write(dir.join("input.txt"), "for rust\n").unwrap();
    let dir_flag = format!("{}::.", path_str(&dir));
    let out = kwo(&["run", "--dir", &dir_flag, path_str(&wasm)]);
    assert_eq!(
        stdout(&out),
        "input.txt: for rust\n\
         data/new.txt: file true, 19 bytes\n\
         data: dir true\n\
         from offset 11: std::fs\n\
         read_dir .: [\"data\", \"input.txt\"]\n\
         read_dir data: [\"moved.txt\"]\n\
         missing.txt: not found\n\
         ../outside.txt: refused, errno Some(76)\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(0));
    let want: BTreeMap<PathBuf, Option<Vec<u8>>> = [
        ("data", None),
        ("data/moved.txt", Some(&b"written by std::fs\n"[..])),
        ("input.txt", Some(&b"for rust\n"[..])),
    ]
    .into_iter()
    .map(|(p, c)| (PathBuf::from(p), c.map(|c| c.to_vec())))
    .collect();
    assert_eq!(tree(&dir), want);
}

#[test]
fn escapes_are_refused_and_descriptors_reused() {
    let wasm = c_wasm("sandbox");
    let outside = fresh_dir("outside");
    std::fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    let dir = fresh_dir("sandbox-dir");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("in.txt"), "in\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link_out")).unwrap();
    std::os::unix::fs::symlink("../outside", dir.join("link_rel")).unwrap();
    let before = (tree(&outside), tree(&dir));
    let dir_flag = format!("{}::.", path_str(&dir));
    let out = kwo(&["run", "--dir", &dir_flag, path_str(&wasm)]);
    let mut want = String::new();
    for p in ["../x", "/etc/passwd", "link_out/secret.txt", "sub/../../x", "link_out", "link_rel/secret.txt"] {
        want += &format!("open {p}: errno 76\nstat {p}: errno 76\n");
    }
    want += "mkdir ../made: errno 76\n\
             mkdir link_out/made: errno 76\n\
             unlink link_out/secret.txt: errno 76\n\
             rmdir sub/../..: errno 76\n\
             rename in.txt ../stolen.txt: errno 76\n\
             rename link_out/secret.txt in: errno 76\n\
             open sub/../in.txt: ok\n\
             100000 open/close cycles: fd 4 every time\n\
             opened 60, then EMFILE\n\
             after closing them: fd 4\n";
    assert_eq!(stdout(&out), want, "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!((tree(&outside), tree(&dir)), before, "nothing changed, inside or out");
}

#[test]
fn without_a_preopen_opening_fails_in_the_program() {
    let out = kwo(&["run", path_str(&c_wasm("files"))]);
    assert_eq!(stdout(&out), "fopen input.txt: Capabilities insufficient\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "the program's own status");
}

/// GUEST defaults to HOST (as Wasmtime): a program opens files by the host
/// path. tests/programs/missing.c prints a file's first line.
#[test]
fn guest_path_defaults_to_the_host_path() {
    let wasm = c_wasm("missing");
    let dir = fresh_dir("by-host-path");
    std::fs::write(dir.join("data.txt"), "first line\n").unwrap();
    let file = dir.join("data.txt");
    let out = kwo(&[
        "run",
        "--allow-missing-imports",
        "--dir",
        path_str(&dir),
        path_str(&wasm),
        path_str(&file),
    ]);
    assert!(
        stdout(&out).starts_with(&format!("{}: first line\n", path_str(&file))),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn bad_dir_flags_are_refused_clearly() {
    let wasm = c_wasm("files");
    let missing = scratch("no-such-dir");
    let out = kwo(&["run", "--dir", path_str(&missing), path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot preopen directory"), "{}", stderr(&out));
    let out = kwo(&["run", "--kernel", "--dir", ".", path_str(&wasm)]);
    assert_eq!(out.status.code(), Some(USAGE_EXIT), "{}", stderr(&out));
    assert!(stderr(&out).contains("--dir"), "{}", stderr(&out));
}
