//! Hard limits a reader enforces on top of the structural rules.
//!
//! They bound what a hostile object can make a reader allocate; every
//! other count is bounded by the object size, since entries must fit in
//! it. The C core defines the same numbers as `KWO_MAX_*` in
//! `kmod/core/kwo_core.h` (checked by `tests/c_headers.rs`). A loader may
//! apply lower limits as policy.

/// Largest object, in bytes (256 MiB).
pub const MAX_OBJECT_LEN: u64 = 256 << 20;
/// Section table entries: each kind at most once.
pub const MAX_SECTIONS: u32 = crate::consts::KWO_SEC_MAX;
/// Imported plus defined functions (the Wasm JS API limit).
pub const MAX_FUNCS: u32 = 1_000_000;
/// Initial elements of a table (the Wasm JS API limit).
pub const MAX_TABLE_ELEMS: u32 = 10_000_000;
pub const MAX_MEMORIES: u32 = 1;
/// 64 KiB pages of a 32-bit memory (4 GiB).
pub const MAX_PAGES: u32 = 65_536;
