//! Helpers shared by the test binaries that run the `kwo` command and the
//! C toolchain: scratch files, the kwo binary through an emulator prefix,
//! and tools that must succeed; and a module instantiated in-process.

// Each test binary uses its own subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch file under the target directory, in a folder per test binary.
pub fn scratch(folder: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(folder);
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir.join(name)
}

/// The kwo binary with `args`, through `KWO_TEST_RUNNER` if set (an
/// emulator prefix such as `qemu-aarch64 -L /usr/aarch64-linux-gnu` when
/// the tests were built for a foreign architecture).
pub fn kwo_command(args: &[&str]) -> Command {
    let runner = std::env::var("KWO_TEST_RUNNER").unwrap_or_default();
    let mut prefix = runner.split_whitespace();
    let mut cmd = match prefix.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(prefix).arg(env!("CARGO_BIN_EXE_kwo"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_kwo")),
    };
    cmd.args(args);
    cmd
}

/// Runs the kwo binary with `args` ([`kwo_command`]) to completion.
pub fn kwo_output(args: &[&str]) -> Output {
    kwo_command(args).output().expect("running the kwo binary")
}

/// A path as a command-line argument (scratch paths are UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("scratch paths are UTF-8")
}

/// A finished command's stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished command's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a build tool, which must succeed.
pub fn run_tool(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (run .ci/run to install it)"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// `wat` verified under the kernel policy, compiled for this machine with
/// the default options and instantiated with the default configuration.
pub fn instance_of(wat: &str) -> kwo_loader::runtime::Instance {
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        ..kwo_compiler::Options::default()
    };
    let kwo = kwo_compiler::compile(&verified(wat), &options).unwrap();
    kwo_loader::runtime::Instance::new(&kwo, &kwo_loader::runtime::Config::default()).unwrap()
}

/// `wat` verified under the kernel policy.
pub fn verified(wat: &str) -> kwo_verifier::VerifiedModule {
    let wasm = wat::parse_str(wat).expect("test module parses");
    kwo_verifier::verify(&wasm, &kwo_verifier::Policy::kernel()).expect("test module verifies")
}

/// `module` compiled for this machine with its IR verified, the checks of
/// proven and hoisted accesses left out or not (`elide_proven`), and
/// instantiated with `config`.
pub fn instance_with(
    module: &kwo_verifier::VerifiedModule,
    elide_proven: bool,
    config: &kwo_loader::runtime::Config,
) -> kwo_loader::runtime::Instance {
    let options = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        verify_ir: true,
        elide_proven,
        ..kwo_compiler::Options::default()
    };
    let kwo = kwo_compiler::compile(module, &options).expect("test module compiles");
    kwo_loader::runtime::Instance::new(&kwo, config).expect("instantiates")
}
