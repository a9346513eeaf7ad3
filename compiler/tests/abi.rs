//! The compiler's copy of the ABI numbers equals the format crate's (which a
//! test of its own checks against `kmod/core/kwo_abi.h`).

use kwo_compiler::abi::{self, host, Builtin, Trap};
use kwo_format::consts as c;

#[test]
fn vmctx_offsets_match_the_header() {
    let pairs = [
        (abi::VMCTX_MEM_BASE, c::KWO_VMCTX_MEM_BASE),
        (abi::VMCTX_MEM_SIZE, c::KWO_VMCTX_MEM_SIZE),
        (abi::VMCTX_STACK_LIMIT, c::KWO_VMCTX_STACK_LIMIT),
        (abi::VMCTX_EPOCH_PTR, c::KWO_VMCTX_EPOCH_PTR),
        (abi::VMCTX_EPOCH_DEADLINE, c::KWO_VMCTX_EPOCH_DEADLINE),
        (abi::VMCTX_FUEL, c::KWO_VMCTX_FUEL),
        (abi::VMCTX_FUNCREFS, c::KWO_VMCTX_FUNCREFS),
        (abi::VMCTX_TABLES, c::KWO_VMCTX_TABLES),
        (abi::VMCTX_GLOBALS, c::KWO_VMCTX_GLOBALS),
        (abi::FUNCREF_CODE, c::KWO_FUNCREF_CODE),
        (abi::FUNCREF_SIG_ID, c::KWO_FUNCREF_SIG_ID),
        (abi::VMTABLE_BASE, c::KWO_VMTABLE_BASE),
        (abi::VMTABLE_LEN, c::KWO_VMTABLE_LEN),
        (abi::VMTABLE_SIZE, c::KWO_VMTABLE_SIZE),
    ];
    for (ours, header) in pairs {
        assert_eq!(ours as u32, header);
    }
    assert_eq!(abi::FUNCREF_SIZE as u32, c::KWO_FUNCREF_SIZE);
}

#[test]
fn host_ids_and_trap_codes_match_the_header() {
    let builtins = [
        (Builtin::Trap, c::KWO_HOST_TRAP),
        (Builtin::Yield, c::KWO_HOST_YIELD),
        (Builtin::MemoryGrow, c::KWO_HOST_MEMORY_GROW),
        (Builtin::MemoryFill, c::KWO_HOST_MEMORY_FILL),
        (Builtin::MemoryCopy, c::KWO_HOST_MEMORY_COPY),
        (Builtin::MemoryInit, c::KWO_HOST_MEMORY_INIT),
        (Builtin::DataDrop, c::KWO_HOST_DATA_DROP),
        (Builtin::TableGrow, c::KWO_HOST_TABLE_GROW),
        (Builtin::TableFill, c::KWO_HOST_TABLE_FILL),
        (Builtin::TableCopy, c::KWO_HOST_TABLE_COPY),
        (Builtin::TableInit, c::KWO_HOST_TABLE_INIT),
        (Builtin::ElemDrop, c::KWO_HOST_ELEM_DROP),
    ];
    for (b, id) in builtins {
        assert_eq!(b.host_id(), id, "{b:?}");
    }
    assert_eq!(host::TRAP, c::KWO_HOST_TRAP);
    let traps = [
        (Trap::Unreachable, c::KWO_TRAP_UNREACHABLE),
        (Trap::IntDivByZero, c::KWO_TRAP_INT_DIV_BY_ZERO),
        (Trap::IntOverflow, c::KWO_TRAP_INT_OVERFLOW),
        (Trap::BadConversion, c::KWO_TRAP_BAD_CONVERSION),
        (Trap::MemoryOob, c::KWO_TRAP_MEMORY_OOB),
        (Trap::TableOob, c::KWO_TRAP_TABLE_OOB),
        (Trap::UndefinedElement, c::KWO_TRAP_UNDEFINED_ELEMENT),
        (Trap::UninitializedElement, c::KWO_TRAP_UNINITIALIZED_ELEMENT),
        (Trap::SignatureMismatch, c::KWO_TRAP_SIGNATURE_MISMATCH),
        (Trap::StackExhausted, c::KWO_TRAP_STACK_EXHAUSTED),
    ];
    for (t, code) in traps {
        assert_eq!(t as u32, code, "{t:?}");
    }
}
