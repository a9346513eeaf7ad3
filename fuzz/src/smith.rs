//! The wasm-smith configurations the targets generate modules with: kwo's
//! feature set (`verifier/src/features.rs`), anything wasm-smith can make,
//! and the differential shape. Each starts from an arbitrary `Config` (drawn
//! from the same input) so that limits and instruction mixes vary too.

use arbitrary::{Arbitrary, Result, Unstructured};
use wasm_smith::{Config, Module};

/// Turns off every feature outside kwo's set: SIMD, threads, exceptions,
/// GC and typed references, memory64, tail calls, multiple memories and
/// the pre-standard proposals.
fn restrict_to_kwo(c: &mut Config) {
    c.simd_enabled = false;
    c.relaxed_simd_enabled = false;
    c.exceptions_enabled = false;
    c.gc_enabled = false;
    c.memory64_enabled = false;
    c.tail_call_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.custom_descriptors_enabled = false;
    c.max_memories = c.max_memories.min(1);
}

/// A module within kwo's feature set, without imports (the import policy is
/// the verifier's business, fuzzed by [`any_module`]) and within the
/// verifier's default memory and table limits.
pub fn kwo_module(u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut c = Config::arbitrary(u)?;
    restrict_to_kwo(&mut c);
    c.max_imports = 0;
    c.max_tables = c.max_tables.min(16);
    c.max_memory32_bytes = c.max_memory32_bytes.min(1 << 30);
    Ok(Module::new(c, u)?.to_bytes())
}

/// Whatever wasm-smith makes from an arbitrary configuration: features kwo
/// rejects, arbitrary imports, large limits.
pub fn any_module(u: &mut Unstructured) -> Result<Vec<u8>> {
    let c = Config::arbitrary(u)?;
    Ok(Module::new(c, u)?.to_bytes())
}

/// A module shaped like Wasmtime's differential target's: no imports, every
/// item exported, at least one function, small bounded memories and tables
/// (so that growth is bounded the same way in both engines), NaNs
/// canonicalized (so that float results are deterministic).
pub fn differential_module(u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut c = Config::arbitrary(u)?;
    restrict_to_kwo(&mut c);
    c.max_imports = 0;
    c.export_everything = true;
    c.min_funcs = 1;
    c.max_funcs = c.max_funcs.clamp(1, 100);
    c.max_memory32_bytes = 4 << 16;
    c.memory_max_size_required = true;
    c.max_tables = c.max_tables.min(4);
    c.max_table_elements = 1000;
    c.table_max_size_required = true;
    c.canonicalize_nans = true;
    Ok(Module::new(c, u)?.to_bytes())
}
