//! The numbers generated code depends on: vmctx field offsets, host function
//! ids and trap codes. They mirror `kmod/core/kwo_abi.h` (via the format
//! crate, whose test checks them against the header), so the compiler and the
//! runtime core cannot disagree (`tests/abi.rs` checks them against the
//! format crate, whose own test checks it against the C header).

pub const VMCTX_MEM_BASE: i32 = 0;
pub const VMCTX_MEM_SIZE: i32 = 8;
pub const VMCTX_STACK_LIMIT: i32 = 16;
pub const VMCTX_EPOCH_PTR: i32 = 24;
pub const VMCTX_EPOCH_DEADLINE: i32 = 32;
pub const VMCTX_FUEL: i32 = 40;
pub const VMCTX_FUNCREFS: i32 = 48;
pub const VMCTX_TABLES: i32 = 56;
pub const VMCTX_GLOBALS: i32 = 64;

/// Bytes of address space reserved for a linear memory, mapped from its
/// base as it grows (`KWO_MEM_RESERVE`, kmod/core/kwo_platform.h): any
/// 32-bit index + any 32-bit static offset + the widest access fall inside.
pub const MEM_RESERVE: u64 = (8 << 30) + (64 << 10);

pub const FUNCREF_CODE: i32 = 0;
pub const FUNCREF_SIG_ID: i32 = 8;
pub const FUNCREF_SIZE: i64 = 16;

pub const VMTABLE_BASE: i32 = 0;
pub const VMTABLE_LEN: i32 = 8;
pub const VMTABLE_SIZE: i32 = 16;

/// Host ids (`KWO_HOST_*`) the compiler emits relocations for.
pub mod host {
    pub const TRAP: u32 = 0;
    pub const YIELD: u32 = 1;
    pub const MEMORY_GROW: u32 = 2;
    pub const MEMORY_FILL: u32 = 3;
    pub const MEMORY_COPY: u32 = 4;
    pub const MEMORY_INIT: u32 = 5;
    pub const DATA_DROP: u32 = 6;
    pub const TABLE_GROW: u32 = 7;
    pub const TABLE_FILL: u32 = 8;
    pub const TABLE_COPY: u32 = 9;
    pub const TABLE_INIT: u32 = 10;
    pub const ELEM_DROP: u32 = 11;
}

/// Host functions generated code calls (`KWO_HOST_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Trap,
    Yield,
    MemoryGrow,
    MemoryFill,
    MemoryCopy,
    MemoryInit,
    DataDrop,
    TableGrow,
    TableFill,
    TableCopy,
    TableInit,
    ElemDrop,
}

/// Argument shape of a builtin, after the vmctx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostArg {
    I32,
    I64,
}

impl Builtin {
    pub fn host_id(self) -> u32 {
        match self {
            Builtin::Trap => host::TRAP,
            Builtin::Yield => host::YIELD,
            Builtin::MemoryGrow => host::MEMORY_GROW,
            Builtin::MemoryFill => host::MEMORY_FILL,
            Builtin::MemoryCopy => host::MEMORY_COPY,
            Builtin::MemoryInit => host::MEMORY_INIT,
            Builtin::DataDrop => host::DATA_DROP,
            Builtin::TableGrow => host::TABLE_GROW,
            Builtin::TableFill => host::TABLE_FILL,
            Builtin::TableCopy => host::TABLE_COPY,
            Builtin::TableInit => host::TABLE_INIT,
            Builtin::ElemDrop => host::ELEM_DROP,
        }
    }

    /// Parameters after the vmctx, and whether an i32 result comes back.
    pub fn signature(self) -> (&'static [HostArg], bool) {
        use HostArg::*;
        match self {
            Builtin::Trap => (&[I32], false),
            Builtin::Yield => (&[], false),
            Builtin::MemoryGrow => (&[I32], true),
            Builtin::MemoryFill => (&[I32, I32, I32], false),
            Builtin::MemoryCopy => (&[I32, I32, I32], false),
            Builtin::MemoryInit => (&[I32, I32, I32, I32], false),
            Builtin::DataDrop => (&[I32], false),
            Builtin::TableGrow => (&[I32, I64, I32], true),
            Builtin::TableFill => (&[I32, I32, I64, I32], false),
            Builtin::TableCopy => (&[I32, I32, I32, I32, I32], false),
            Builtin::TableInit => (&[I32, I32, I32, I32, I32], false),
            Builtin::ElemDrop => (&[I32], false),
        }
    }
}

/// Trap codes (`KWO_TRAP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Trap {
    Unreachable = 1,
    IntDivByZero = 2,
    IntOverflow = 3,
    BadConversion = 4,
    MemoryOob = 5,
    TableOob = 6,
    UndefinedElement = 7,
    UninitializedElement = 8,
    SignatureMismatch = 9,
    StackExhausted = 10,
}
