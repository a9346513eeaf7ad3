//! The kwo loader library: the userspace runtime over the portable C core
//! ([`runtime`]). The `kwo` command-line tool (`src/main.rs`) is built on
//! it.

mod ffi;
pub mod runtime;
