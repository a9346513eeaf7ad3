//! Linear-memory addressing: explicit bounds checks with Spectre masking.
//!
//! kwo has no guard pages (a fault in kernel mode is an oops), so every
//! access compares `index + offset + size` with the current memory size,
//! computed in 64 bits where it cannot overflow, and branches to a trap. The
//! in-bounds path selects the address with `select_spectre_guard`, so a
//! mispredicted branch reads the memory base instead of an attacker-chosen
//! address.

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData, Type, Value};

use super::env::Region;
use super::FuncTranslator;
use crate::abi::{self, Trap};

impl FuncTranslator<'_, '_> {
    /// Memory flags for a wasm access: the bounds check makes it unable to
    /// trap, but it may be unaligned.
    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_notrap()
            .with_alias_region(Some(self.regions[Region::Heap as usize]))
    }

    /// Native address of `index + offset` for an access of `size` bytes,
    /// after the bounds check.
    pub fn heap_addr(&mut self, index: Value, offset: u64, size: u32) -> Value {
        let base = self.vmctx_load(abi::VMCTX_MEM_BASE);
        let bound = self.vmctx_load(abi::VMCTX_MEM_SIZE);
        let index = self.b.ins().uextend(types::I64, index);
        if !self.env.checks.bounds {
            let addr = self.b.ins().iadd(base, index);
            return self.b.ins().iadd_imm_s(addr, offset as i64);
        }
        // offset < 2^32 and size <= 8: the sum cannot overflow 64 bits.
        let end = self.b.ins().iadd_imm_s(index, (offset + u64::from(size)) as i64);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, bound);
        self.trap_if(oob, Trap::MemoryOob);
        let addr = self.b.ins().iadd(base, index);
        let addr = self.spectre_guard(oob, base, addr);
        if offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, offset as i64)
        }
    }

    /// A load of `ty` (`ext` bytes wide, sign- or zero-extended when narrower).
    pub fn heap_load(&mut self, index: Value, offset: u64, ty: Type, width: u32, signed: bool) -> Value {
        let addr = self.heap_addr(index, offset, width);
        let flags = self.heap_flags();
        let ins = self.b.ins();
        match (width, ty.bytes(), signed) {
            (w, t, _) if w == t => ins.load(ty, flags, addr, 0),
            (1, _, true) => ins.sload8(ty, flags, addr, 0),
            (1, _, false) => ins.uload8(ty, flags, addr, 0),
            (2, _, true) => ins.sload16(ty, flags, addr, 0),
            (2, _, false) => ins.uload16(ty, flags, addr, 0),
            (4, _, true) => ins.sload32(flags, addr, 0),
            (4, _, false) => ins.uload32(flags, addr, 0),
            _ => unreachable!("no {width}-byte load into {ty}"),
        }
    }

    /// A store of the low `width` bytes of `value`.
    pub fn heap_store(&mut self, index: Value, offset: u64, value: Value, width: u32) {
        let addr = self.heap_addr(index, offset, width);
        let flags = self.heap_flags();
        let ty = self.b.func.dfg.value_type(value);
        let ins = self.b.ins();
        match width {
            w if w == ty.bytes() => ins.store(flags, value, addr, 0),
            1 => ins.istore8(flags, value, addr, 0),
            2 => ins.istore16(flags, value, addr, 0),
            4 => ins.istore32(flags, value, addr, 0),
            _ => unreachable!("no {width}-byte store of {ty}"),
        };
    }

    /// `memory.size` in pages.
    pub fn memory_pages(&mut self) -> Value {
        let size = self.vmctx_load(abi::VMCTX_MEM_SIZE);
        let pages = self.b.ins().ushr_imm_s(size, 16);
        self.b.ins().ireduce(types::I32, pages)
    }
}
