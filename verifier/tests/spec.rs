//! Runs every module of the WebAssembly spec testsuite (except the SIMD
//! files, which kwo rejects by design) through the verifier under
//! `Policy::spectest()`:
//! - modules the testsuite treats as valid (`module`, modules in
//!   `assert_return`/`assert_trap`/`assert_unlinkable`) must verify, or be
//!   rejected only by design (feature set, import policy, limits);
//! - `assert_invalid` modules, and `assert_malformed` modules that encode
//!   to a binary at all, must be rejected;
//! - modules of the `simd_*` files must be rejected naming the `simd`
//!   feature, unless they use no SIMD at all.
//!
//! The testsuite lives outside the repository: `$KWO_SPEC_DIR`, or
//! `/work/shared/spec-testsuite`. The test fails if it is missing.

use kwo_verifier::{verify, Diagnostics, Policy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute};

fn spec_dir() -> PathBuf {
    let dir = std::env::var_os("KWO_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/spec-testsuite"));
    assert!(
        dir.is_dir(),
        "spec testsuite not found at {}",
        dir.display()
    );
    dir
}

/// The `.wast` files whose name passes `filter`, sorted.
fn spec_files(filter: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(spec_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .filter(|p| filter(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

#[derive(Default)]
struct Tally {
    valid_accepted: usize,
    /// Valid modules rejected by design, by reason.
    by_design: BTreeMap<String, usize>,
    invalid_rejected: usize,
    /// `assert_invalid` modules rejected only for a policy reason.
    invalid_rejected_by_design: usize,
    malformed_rejected: usize,
    malformed_by_encoder: usize,
    failures: Vec<String>,
}

enum Expect {
    Valid,
    Invalid,
    Malformed,
}

impl Tally {
    fn check(&mut self, file: &str, line: usize, expect: Expect, module: &mut QuoteWat<'_>) {
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            Err(_) if matches!(expect, Expect::Malformed) => {
                self.malformed_by_encoder += 1;
                return;
            }
            Err(e) => {
                self.failures
                    .push(format!("{file}:{line}: does not encode: {e}"));
                return;
            }
        };
        let result = verify(&bytes, &Policy::spectest());
        match (expect, result) {
            (Expect::Valid, Ok(_)) => self.valid_accepted += 1,
            (Expect::Valid, Err(d)) if d.only_by_design() => {
                *self.by_design.entry(reason(&d)).or_default() += 1;
            }
            (Expect::Valid, Err(d)) => {
                self.failures
                    .push(format!("{file}:{line}: valid module rejected:\n{d}"));
            }
            (Expect::Invalid, Err(d)) if d.only_by_design() => {
                self.invalid_rejected_by_design += 1;
            }
            (Expect::Invalid, Err(_)) => self.invalid_rejected += 1,
            (Expect::Malformed, Err(_)) => self.malformed_rejected += 1,
            (Expect::Invalid | Expect::Malformed, Ok(_)) => {
                self.failures
                    .push(format!("{file}:{line}: invalid module accepted"));
            }
        }
    }
}

/// The first diagnostic's message with the import name and numbers
/// removed, so that reasons group.
fn reason(d: &Diagnostics) -> String {
    let first = &d.0[0].message;
    let generic = match first.split_once("`: ") {
        Some((_, rest)) => rest,
        None => first,
    };
    if generic.contains("is not in the WASI table") {
        return "import not in the WASI/spectest table".into();
    }
    generic.chars().filter(|c| !c.is_ascii_digit()).collect()
}

fn run_file(path: &Path, tally: &mut Tally) {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    // names.wast deliberately uses bidi control characters in names.
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).unwrap_or_else(|e| panic!("{file}: {e}"));
    let wast: Wast<'_> = parser::parse(&buf).unwrap_or_else(|e| panic!("{file}: {e}"));
    for directive in wast.directives {
        let line = directive.span().linecol_in(&text).0 + 1;
        match directive {
            WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                tally.check(&file, line, Expect::Valid, &mut m)
            }
            WastDirective::AssertReturn {
                exec: WastExecute::Wat(m),
                ..
            }
            | WastDirective::AssertTrap {
                exec: WastExecute::Wat(m),
                ..
            }
            | WastDirective::AssertUnlinkable { module: m, .. } => {
                tally.check(&file, line, Expect::Valid, &mut QuoteWat::Wat(m))
            }
            WastDirective::AssertInvalid { mut module, .. } => {
                tally.check(&file, line, Expect::Invalid, &mut module)
            }
            WastDirective::AssertMalformed { mut module, .. } => {
                tally.check(&file, line, Expect::Malformed, &mut module)
            }
            _ => {}
        }
    }
}

fn run_all() {
    let mut files: Vec<_> = std::fs::read_dir(spec_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("simd_")
        })
        .collect();
    files.sort();
    assert!(files.len() > 50, "only {} spec files found", files.len());
    let mut tally = Tally::default();
    for path in &files {
        run_file(path, &mut tally);
    }
    let by_design: usize = tally.by_design.values().sum();
    println!(
        "spec modules ({} files, simd_* excluded): valid {} accepted, {by_design} rejected by \
         design; assert_invalid {} rejected ({} of them only by design); assert_malformed {} \
         rejected by the verifier, {} by the text encoder; {} failures",
        files.len(),
        tally.valid_accepted,
        tally.invalid_rejected + tally.invalid_rejected_by_design,
        tally.invalid_rejected_by_design,
        tally.malformed_rejected,
        tally.malformed_by_encoder,
        tally.failures.len()
    );
    for (reason, count) in &tally.by_design {
        println!("  rejected by design: {count:4}  {reason}");
    }
    for failure in tally.failures.iter().take(40) {
        println!("FAIL {failure}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} failures",
        tally.failures.len()
    );
    assert!(tally.valid_accepted > 500, "too few modules accepted");
    assert!(
        tally.invalid_rejected > 500,
        "too few assert_invalid modules"
    );
}

/// Every module of the SIMD files is rejected, naming the feature.
fn run_simd() {
    let (mut named, mut without_simd) = (0, 0);
    let mut failures = Vec::new();
    for path in spec_files(|name| name.starts_with("simd_")) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let buf = ParseBuffer::new(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let wast: Wast<'_> = parser::parse(&buf).unwrap_or_else(|e| panic!("{file}: {e}"));
        for directive in wast.directives {
            let line = directive.span().linecol_in(&text).0 + 1;
            let WastDirective::Module(mut module) = directive else {
                continue;
            };
            let bytes = module
                .encode()
                .unwrap_or_else(|e| panic!("{file}:{line}: {e}"));
            match verify(&bytes, &Policy::spectest()) {
                Err(d)
                    if d.to_string()
                        .contains("SIMD is not supported (feature `simd`)") =>
                {
                    named += 1
                }
                // Accepted with SIMD off means it uses none; or it is
                // refused for a policy reason before any SIMD shows up.
                Ok(_) => without_simd += 1,
                Err(d) if d.only_by_design() => without_simd += 1,
                Err(d) => failures.push(format!("{file}:{line}:\n{d}")),
            }
        }
    }
    println!("simd_* modules: {named} rejected naming `simd`, {without_simd} use no SIMD");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(named > 100, "too few SIMD modules");
}

#[test]
fn simd_modules_are_rejected_naming_the_feature() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_simd)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn spec_testsuite_modules() {
    // Deeply nested test modules recurse in the text parser; give it room.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_all)
        .unwrap()
        .join()
        .unwrap();
}
