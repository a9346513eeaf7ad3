//! Hard limits a reader enforces on top of the structural rules.
//!
//! They bound what a hostile object can make a reader allocate. The entity
//! limits are the WebAssembly JS API implementation limits, so every module
//! an engine accepts fits; the C core (`kmod/core/object.c`) uses the same
//! numbers (docs/kwo-format.md, "Limits"). A loader may apply lower limits
//! as policy; none may be higher.

/// Largest object, in bytes (256 MiB).
pub const MAX_OBJECT_LEN: u64 = 256 << 20;
/// Section table entries: each kind at most once.
pub const MAX_SECTIONS: u32 = crate::consts::KWO_SEC_MAX;
pub const MAX_TYPES: u32 = 1_000_000;
pub const MAX_PARAMS: u32 = 1_000;
pub const MAX_RESULTS: u32 = 1_000;
pub const MAX_IMPORTS: u32 = 100_000;
/// Imported plus defined functions.
pub const MAX_FUNCS: u32 = 1_000_000;
pub const MAX_TABLES: u32 = 100_000;
pub const MAX_MEMORIES: u32 = 1;
/// 64 KiB pages of a 32-bit memory (4 GiB).
pub const MAX_PAGES: u32 = 65_536;
pub const MAX_GLOBALS: u32 = 1_000_000;
pub const MAX_EXPORTS: u32 = 100_000;
pub const MAX_DATA_SEGMENTS: u32 = 100_000;
pub const MAX_ELEM_SEGMENTS: u32 = 10_000_000;
/// Items of one element segment.
pub const MAX_ELEM_ITEMS: u32 = 10_000_000;
