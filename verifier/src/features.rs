//! kwo's WebAssembly feature set, and naming the feature a rejected module
//! needs.
//!
//! The set is what current rustc (`wasm32-wasip1`) and clang (`wasm32-wasi`)
//! emit by default; `docs/policy.md` says why each is in or out.

use wasmparser::{Validator, WasmFeatures};

/// MVP (with floats), mutable globals, sign extension, non-trapping
/// float-to-int, multi-value, bulk memory, reference types, extended-const
/// and the overlong `call_indirect` encoding (which reference types
/// implies). `GC_TYPES` is wasmparser's gate for `externref`, not the GC
/// proposal.
pub const KWO_FEATURES: WasmFeatures = WasmFeatures::FLOATS
    .union(WasmFeatures::GC_TYPES)
    .union(WasmFeatures::MUTABLE_GLOBAL)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::REFERENCE_TYPES)
    .union(WasmFeatures::EXTENDED_CONST)
    .union(WasmFeatures::CALL_INDIRECT_OVERLONG);

/// The message for a module that needs `missing`, e.g. "SIMD is not
/// supported (feature `simd`)".
pub(crate) fn unsupported_message(missing: WasmFeatures) -> String {
    // Name only what is missing from our set; wasmparser may report a
    // multi-bit flag that overlaps it.
    let missing = missing.difference(KWO_FEATURES);
    match missing.iter_names().next() {
        Some((name, _)) => {
            let flag = name.to_ascii_lowercase().replace('_', "-");
            format!("{} is not supported (feature `{flag}`)", describe(&flag))
        }
        None => "the module uses a WebAssembly feature kwo does not support".to_string(),
    }
}

/// Finds the feature outside [`KWO_FEATURES`] that a module needs when
/// wasmparser rejected it at `offset` without saying (e.g. "multiple
/// memories"): the first one that, added to our set, gets validation past
/// `offset`. Costs a validation per candidate, so only call it on failure.
pub(crate) fn guess_missing(wasm: &[u8], offset: usize) -> Option<WasmFeatures> {
    WasmFeatures::all()
        .difference(KWO_FEATURES)
        .iter()
        .filter(|f| !f.intersects(COMPONENT_FEATURES))
        .find(|&f| {
            let mut validator = Validator::new_with_features(KWO_FEATURES.union(f));
            match validator.validate_all(wasm) {
                Ok(_) => true,
                Err(e) => e.offset() > offset,
            }
        })
}

/// Flags that concern components, never core modules.
const COMPONENT_FEATURES: WasmFeatures = WasmFeatures::COMPONENT_MODEL
    .union(WasmFeatures::CM_VALUES)
    .union(WasmFeatures::CM_NESTED_NAMES)
    .union(WasmFeatures::CM_ASYNC)
    .union(WasmFeatures::CM_ASYNC_STACKFUL)
    .union(WasmFeatures::CM_MORE_ASYNC_BUILTINS)
    .union(WasmFeatures::CM_THREADING)
    .union(WasmFeatures::CM_ERROR_CONTEXT)
    .union(WasmFeatures::CM_FIXED_LENGTH_LISTS)
    .union(WasmFeatures::CM_GC)
    .union(WasmFeatures::CM_MAP)
    .union(WasmFeatures::CM64)
    .union(WasmFeatures::CM_IMPLEMENTS)
    .union(WasmFeatures::CM_CANON_NAMES);

/// Human-readable name of a wasmparser feature flag.
fn describe(flag: &str) -> &str {
    match flag {
        "simd" => "SIMD",
        "relaxed-simd" => "relaxed SIMD",
        "threads" => "threads (shared memory and atomics)",
        "shared-everything-threads" => "shared-everything threads",
        "tail-call" => "tail calls",
        "multi-memory" => "multiple memories",
        "exceptions" | "legacy-exceptions" => "exception handling",
        "memory64" => "64-bit memory",
        "component-model" => "the component model",
        "function-references" => "typed function references",
        "gc" => "garbage collection",
        "custom-page-sizes" => "custom page sizes",
        "stack-switching" => "stack switching",
        "wide-arithmetic" => "wide arithmetic",
        "compact-imports" => "compact imports",
        "custom-descriptors" => "custom descriptors",
        "memory-control" => "memory control",
        other => other,
    }
}
