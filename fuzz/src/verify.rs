//! Target `verify`: the verifier against wasmparser's validator on arbitrary
//! bytes and on wasm-smith modules (kwo's feature set, and anything).
//!
//! Asserted: the verifier never panics; every rejection has at least one
//! diagnostic, each with an offset inside the input and a message, and an
//! "unsupported" one names the feature; the verifier calls a module invalid
//! or unsupported exactly when wasmparser's validator with
//! [`KWO_FEATURES`] rejects it; a generated module within kwo's feature set
//! (no imports) is accepted unless it exceeds a limit.

use arbitrary::Unstructured;
use kwo_verifier::{verify, DiagKind, Policy, KWO_FEATURES};
use wasmparser::Validator;

use crate::smith;

/// Input: a mode byte, then raw module bytes or wasm-smith's input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    match mode % 3 {
        0 => check(rest, false),
        1 => {
            if let Ok(wasm) = smith::kwo_module(&mut u) {
                check(&wasm, true);
            }
        }
        _ => {
            if let Ok(wasm) = smith::any_module(&mut u) {
                check(&wasm, false);
            }
        }
    }
}

/// The assertions above for one module; `in_kwo_set` says it was generated
/// within kwo's feature set without imports.
pub fn check(wasm: &[u8], in_kwo_set: bool) {
    let valid = Validator::new_with_features(KWO_FEATURES).validate_all(wasm);
    let diags = match verify(wasm, &Policy::kernel()) {
        Ok(_) => {
            if let Err(e) = valid {
                panic!("the verifier accepted a module wasmparser rejects: {e}");
            }
            return;
        }
        Err(diags) => diags,
    };
    assert!(!diags.is_empty(), "rejected without a diagnostic");
    for d in diags.iter() {
        assert!(d.offset <= wasm.len(), "offset past the input: {d}");
        assert!(!d.message.is_empty(), "empty message: {d:?}");
        if d.kind == DiagKind::Unsupported {
            assert!(
                d.message.contains("(feature `"),
                "unsupported feature not named: {d}"
            );
        }
    }
    let by_spec = diags
        .iter()
        .any(|d| matches!(d.kind, DiagKind::Invalid | DiagKind::Unsupported));
    match (&valid, by_spec) {
        (Ok(_), true) => panic!("wasmparser accepts a module the verifier calls invalid:\n{diags}"),
        (Err(e), false) => panic!(
            "wasmparser rejects ({e}) a module the verifier rejects only by policy:\n{diags}"
        ),
        _ => {}
    }
    if in_kwo_set {
        assert!(
            diags.iter().all(|d| d.kind == DiagKind::Limit),
            "a module within kwo's feature set, without imports, rejected:\n{diags}"
        );
    }
}
