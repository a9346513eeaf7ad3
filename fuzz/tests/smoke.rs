//! Every fuzz target's smoke mode, on stable and in seconds: the committed
//! seed inputs (`seeds/TARGET/`), then a fixed number of inputs from a fixed
//! seed (`KWO_FUZZ_RUNS`, `KWO_FUZZ_SEED` change them). A failing input is
//! written to `artifacts/TARGET/` so that it replays under `cargo fuzz run
//! TARGET FILE` or `KWO_FUZZ_REPLAY=FILE`.

use std::fs;
use std::panic::{catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use kwo_fuzz::{Rng, TARGETS};

/// Runs target `name` on `input`, saving the input if it fails. With
/// `KWO_FUZZ_KEEP` set, every input is saved first (as `last`), for the
/// failures that abort the process (a stack overflow).
fn run_one(name: &str, run: fn(&[u8]), input: &[u8], label: &str) {
    if std::env::var_os("KWO_FUZZ_KEEP").is_some() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("artifacts")
            .join(name);
        fs::create_dir_all(&dir)
            .and_then(|_| fs::write(dir.join("last"), input))
            .expect("artifacts writable");
    }
    if let Err(panic) = catch_unwind(|| run(input)) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("artifacts")
            .join(name);
        let path = dir.join(format!("smoke-{label}"));
        let saved = fs::create_dir_all(&dir).and_then(|_| fs::write(&path, input));
        eprintln!(
            "{name}: input {label} failed; saved to {} ({saved:?})",
            path.display()
        );
        resume_unwind(panic);
    }
}

fn smoke(name: &str, runs: usize, max_len: usize) {
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target");
    if let Ok(file) = std::env::var("KWO_FUZZ_REPLAY") {
        let input = fs::read(&file).expect("KWO_FUZZ_REPLAY names a readable file");
        run_one(name, target.run, &input, "replay");
        return;
    }
    for seed in seeds(name) {
        let input = fs::read(&seed).expect("seed readable");
        let label = seed.file_name().unwrap().to_string_lossy().into_owned();
        run_one(name, target.run, &input, &label);
    }
    let runs = env_u64("KWO_FUZZ_RUNS").map_or(runs, |n| n as usize);
    let mut rng = Rng(env_u64("KWO_FUZZ_SEED").unwrap_or(0x6b77_6f00) ^ name.len() as u64);
    for i in 0..runs {
        let len = (rng.next_u64() % max_len as u64) as usize;
        let input = rng.bytes(len);
        run_one(name, target.run, &input, &i.to_string());
    }
}

/// A number from the environment: `KWO_FUZZ_RUNS` and `KWO_FUZZ_SEED` turn
/// the smoke loop into a longer stable run with other inputs.
fn env_u64(var: &str) -> Option<u64> {
    let value = std::env::var(var).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{var}={value:?} is not a number")),
    )
}

fn seeds(name: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(name);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn verify() {
    smoke("verify", 3000, 4096);
}

#[test]
fn compile() {
    smoke("compile", 150, 8192);
}

#[test]
fn differential() {
    smoke("differential", 150, 8192);
}
