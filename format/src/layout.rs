//! Byte offsets of the fields of every on-disk struct of `kwo_format.h`.
//!
//! The reader and writer address fields only through these, and
//! `tests/c_headers.rs` checks each against the struct as C lays it out.

use crate::consts::*;

pub const HDR_MAGIC: usize = 0;
pub const HDR_VERSION: usize = 4;
pub const HDR_HEADER_LEN: usize = 8;
pub const HDR_TARGET: usize = 12;
pub const HDR_FLAGS: usize = 16;
pub const HDR_CHECKSUM: usize = 20;
pub const HDR_OBJECT_LEN: usize = 24;
pub const HDR_SECTION_OFF: usize = 32;
pub const HDR_SECTION_COUNT: usize = 36;
pub const HDR_MAX_FRAME: usize = 40;
pub const HDR_START_FUNC: usize = 44;
pub const HDR_START_TRAMP: usize = 48;
pub const HDR_STACK_BOUND: usize = 52;
/// Two reserved `__u32`.
pub const HDR_RESERVED: usize = 56;

pub const SEC_KIND: usize = 0;
pub const SEC_COUNT: usize = 4;
pub const SEC_OFFSET: usize = 8;
pub const SEC_SIZE: usize = 12;

pub const TYPE_PARAM_COUNT: usize = 0;
pub const TYPE_RESULT_COUNT: usize = 4;
pub const TYPE_VALTYPES: usize = 8;
pub const TYPE_SIG_ID: usize = 12;

pub const IMPORT_HOST_ID: usize = 0;
pub const IMPORT_TYPE: usize = 4;
/// Two reserved `__u32`.
pub const IMPORT_RESERVED: usize = 8;

pub const FUNC_TYPE: usize = 0;
pub const FUNC_CODE_OFF: usize = 4;
pub const FUNC_CODE_LEN: usize = 8;
pub const FUNC_NAME_OFF: usize = 12;
pub const FUNC_NAME_LEN: usize = 16;
pub const FUNC_WASM_OFF: usize = 20;
/// Two reserved `__u32`.
pub const FUNC_RESERVED: usize = 24;

pub const TABLE_ELEM_TYPE: usize = 0;
pub const TABLE_MIN: usize = 4;
pub const TABLE_MAX: usize = 8;
pub const TABLE_RESERVED: usize = 12;

pub const MEMORY_MIN_PAGES: usize = 0;
pub const MEMORY_MAX_PAGES: usize = 4;
/// Two reserved `__u32`.
pub const MEMORY_RESERVED: usize = 8;

pub const GLOBAL_TYPE: usize = 0;
pub const GLOBAL_MUTABLE: usize = 1;
pub const GLOBAL_INIT_KIND: usize = 2;
/// Five reserved bytes.
pub const GLOBAL_RESERVED: usize = 3;
pub const GLOBAL_VALUE: usize = 8;

pub const EXPORT_KIND: usize = 0;
pub const EXPORT_INDEX: usize = 4;
pub const EXPORT_NAME_OFF: usize = 8;
pub const EXPORT_NAME_LEN: usize = 12;
pub const EXPORT_TRAMP: usize = 16;
pub const EXPORT_RESERVED: usize = 20;

pub const DATA_FLAGS: usize = 0;
pub const DATA_OFFSET: usize = 4;
pub const DATA_DATA_OFF: usize = 8;
pub const DATA_DATA_LEN: usize = 12;

pub const ELEM_FLAGS: usize = 0;
pub const ELEM_ELEM_TYPE: usize = 4;
pub const ELEM_TABLE: usize = 8;
pub const ELEM_OFFSET: usize = 12;
pub const ELEM_COUNT: usize = 16;
pub const ELEM_ITEMS: usize = 20;

pub const RELOC_OFFSET: usize = 0;
pub const RELOC_KIND: usize = 4;
pub const RELOC_HOST_ID: usize = 8;
pub const RELOC_ADDEND: usize = 12;

pub const TRAP_CODE_OFF: usize = 0;
pub const TRAP_TRAP_CODE: usize = 4;
pub const TRAP_FUNC: usize = 8;
pub const TRAP_WASM_OFF: usize = 12;

pub const ADDR_CODE_OFF: usize = 0;
pub const ADDR_WASM_OFF: usize = 4;

/// Bytes a relocation patches at its offset (a rel32 or a `BL`).
pub const RELOC_FIELD_SIZE: u32 = 4;

/// Entry size of a section kind: `Some(0)` for the byte sections (CODE,
/// BLOB, LINES), `None` for an unknown kind.
pub fn entry_size(kind: u32) -> Option<u32> {
    Some(match kind {
        KWO_SEC_CODE | KWO_SEC_BLOB | KWO_SEC_LINES => 0,
        KWO_SEC_TYPES => KWO_TYPE_SIZE,
        KWO_SEC_IMPORTS => KWO_IMPORT_SIZE,
        KWO_SEC_FUNCS => KWO_FUNC_SIZE,
        KWO_SEC_TABLES => KWO_TABLE_SIZE,
        KWO_SEC_MEMORY => KWO_MEMORY_SIZE,
        KWO_SEC_GLOBALS => KWO_GLOBAL_SIZE,
        KWO_SEC_EXPORTS => KWO_EXPORT_SIZE,
        KWO_SEC_DATA => KWO_DATA_SIZE,
        KWO_SEC_ELEMS => KWO_ELEM_SIZE,
        KWO_SEC_RELOCS => KWO_RELOC_SIZE,
        KWO_SEC_TRAPS => KWO_TRAP_SITE_SIZE,
        KWO_SEC_ADDRMAP => KWO_ADDR_MAP_SIZE,
        _ => return None,
    })
}

/// Name of a section kind, for messages and `kwo inspect`.
pub fn section_name(kind: u32) -> &'static str {
    match kind {
        KWO_SEC_CODE => "code",
        KWO_SEC_BLOB => "blob",
        KWO_SEC_TYPES => "types",
        KWO_SEC_IMPORTS => "imports",
        KWO_SEC_FUNCS => "funcs",
        KWO_SEC_TABLES => "tables",
        KWO_SEC_MEMORY => "memory",
        KWO_SEC_GLOBALS => "globals",
        KWO_SEC_EXPORTS => "exports",
        KWO_SEC_DATA => "data",
        KWO_SEC_ELEMS => "elems",
        KWO_SEC_RELOCS => "relocs",
        KWO_SEC_TRAPS => "traps",
        KWO_SEC_LINES => "lines",
        KWO_SEC_ADDRMAP => "addrmap",
        _ => "unknown",
    }
}
