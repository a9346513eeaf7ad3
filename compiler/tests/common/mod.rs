//! Shared by the compiler's integration tests: the spec testsuite's modules.

use std::path::{Path, PathBuf};

use wast::{QuoteWat, Wast, WastDirective};

pub fn spec_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        std::env::var_os("KWO_SPEC_DIR").map(PathBuf::from),
        Some(repo.join("../shared/spec-testsuite")),
        Some(PathBuf::from("/work/shared/spec-testsuite")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("i32.wast").is_file())
    .expect("spec testsuite not found: set KWO_SPEC_DIR")
}

/// Every module of every non-SIMD spec file that the spec-test policy accepts.
pub fn spec_modules() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(spec_dir())
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
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let buf = match wast::parser::ParseBuffer::new(&text) {
            Ok(b) => b,
            Err(_) => continue,
        };
        let Ok(wast) = wast::parser::parse::<Wast>(&buf) else {
            continue;
        };
        for (i, d) in wast.directives.into_iter().enumerate() {
            let mut module = match d {
                WastDirective::Module(m) => m,
                _ => continue,
            };
            if let Ok(bytes) = QuoteWat::encode(&mut module) {
                let name = format!("{}#{i}", path.file_name().unwrap().to_string_lossy());
                out.push((name, bytes));
            }
        }
    }
    out
}
