//! Compile time of one module on one thread, for iterating on the
//! verifier, translator and machine-code checker without the Wasmtime
//! build `kwo-bench --compile-only` needs for its comparison columns:
//!
//!     ctime WASM
//!
//! Verifies the module once (the time is printed), then compiles it for the
//! host with every check, without bounds checks, without checkpoints and
//! with none, best of five each, and prints the time and the object's size;
//! then the machine-code checker alone on the first object (best of five:
//! the part of its compile time that is the checker's).
//! `KWO_NO_ELISION=1` (as for `kwo compile`): proven accesses keep their
//! checks and no loop is versioned, which shows what the copies cost.
//!
//! Build: `cargo build --release -p kwo-bench --example ctime`.

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ctime WASM");
        std::process::exit(2);
    };
    let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    pool.install(|| {
        let policy = kwo_verifier::Policy::kernel();
        let t = Instant::now();
        let module = kwo_verifier::verify(&wasm, &policy).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("verify {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let configs = [
            ("all", kwo_compiler::Checks::default()),
            ("nobounds", kwo_compiler::Checks { bounds: false, ..Default::default() }),
            ("nocp", kwo_compiler::Checks { checkpoints: false, ..Default::default() }),
            (
                "none",
                kwo_compiler::Checks { bounds: false, spectre: false, checkpoints: false, stack: false },
            ),
        ];
        let mut first_object = None;
        for (name, checks) in configs {
            let opts = kwo_compiler::Options { target: kwo_format::Target::HOST, checks, ..Default::default() }
                .with_env();
            let mut best = f64::MAX;
            let mut object = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                object = kwo_compiler::compile(&module, &opts).unwrap_or_else(|e| panic!("{e}"));
                best = best.min(t.elapsed().as_secs_f64());
            }
            eprintln!("{name}: {:.1} ms, {} bytes", best * 1e3, object.len());
            first_object.get_or_insert(object);
        }
        let object = first_object.unwrap_or_default();
        let object = kwo_format::Object::parse(&object).unwrap_or_else(|e| panic!("{e}"));
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            kwo_compiler::check::check(&object).unwrap_or_else(|e| panic!("{e}"));
            best = best.min(t.elapsed().as_secs_f64());
        }
        eprintln!("check of the first: {:.1} ms", best * 1e3);
    });
}
