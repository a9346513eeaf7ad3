//! The kwo verifier: turns untrusted `.wasm` bytes into a [`VerifiedModule`]
//! the compiler can trust, or into [`Diagnostics`] saying why not.
//!
//! What it checks:
//! - full WebAssembly validation (wasmparser) with an explicit feature set,
//!   [`KWO_FEATURES`]: MVP, mutable globals, sign extension, non-trapping
//!   float-to-int, multi-value, bulk memory, reference types, extended-const
//!   and the overlong `call_indirect` encoding. Anything else (SIMD,
//!   threads, memory64, ...) is rejected with a message naming the feature;
//! - the import [`Policy`]: only the WASI functions of [`WASI_IMPORTS`] with
//!   their exact signatures (plus `spectest.print*` under
//!   [`Policy::spectest`]); no imported memories, tables or globals;
//! - the [`Limits`] (memory pages, table size, functions, body size,
//!   locals, data size, ...), each adjustable by name.
//!
//! It collects what the compiler needs: types, imports with host ids,
//! bodies as byte ranges, and every constant expression folded to a value.
//!
//! Error reporting: every problem is a [`Diagnostic`] with a byte offset,
//! the function (index and name-section name) where it applies, and the
//! reason. Function bodies are validated separately, so all body errors are
//! reported, and policy and limit violations never stop the pass; a
//! structural (module-level) validation error does stop it, so problems
//! after the first such error are not reported.
//!
//! It also builds the call graph ([`analysis::CallGraph`]): a module without
//! call cycles gets a static stack bound from the compiler instead of
//! per-function stack checks.
//!
//! And it runs a range analysis ([`analysis::FuncAccesses`], in
//! [`VerifiedModule::accesses`]): which loads and stores stay inside the
//! declared minimum memory on every path, so the compiler can drop their
//! bounds checks; over the same operators it finds groups of loads
//! through one unchanged pointer that one compare can check
//! ([`analysis::FuncGroups`], in [`VerifiedModule::access_groups`]).
//!
//! And it finds the preemption checkpoints that cannot matter
//! ([`analysis::Checkpoints`]): entries of small call trees whose loops
//! keep their header checkpoints, and headers of loops whose every
//! iteration calls a checkpointed function.
//!
//! What it does not do: it doesn't bound loop counts (the compiler inserts
//! checkpoints) or the stack of recursive modules (the compiler inserts
//! stack checks), doesn't check anything at
//! run time (e.g. memory growth beyond the limits; the runtime caps it),
//! and never panics on any input.

pub mod analysis;
mod consts;
mod diag;
mod features;
pub mod limits;
pub mod module;
mod policy;
mod verify;
pub mod wasi_preview1;

pub use diag::{DiagKind, Diagnostic, Diagnostics};
pub use features::KWO_FEATURES;
pub use limits::{LimitError, LimitInfo, Limits, LIMIT_TABLE};
pub use module::VerifiedModule;
pub use policy::{
    sig_string, ImportPolicy, Policy, WasiImport, HOST_SPECTEST_PRINT, SPECTEST_PRINTS,
    WASI_IMPORTS, WASI_MODULE,
};

/// Verifies `wasm` under `policy`. On success the module is valid
/// WebAssembly within kwo's feature set, imports only what the policy
/// allows and stays within its limits.
pub fn verify(wasm: &[u8], policy: &Policy) -> Result<VerifiedModule, Diagnostics> {
    verify::Verifier::new(wasm, policy).run()
}
