//! Linear-memory addressing: explicit bounds checks.
//!
//! kwo has no guard pages to catch an access (a fault in kernel mode is an
//! oops), so every access compares `index` with `bound - (offset + size)`,
//! computed in 64 bits where it cannot overflow (signed, so a memory
//! smaller than `offset + size` makes every index fail), and branches to a
//! trap. The subtraction depends only on the bound, so Cranelift hoists it
//! out of loops.
//!
//! The memory sits at the start of a reservation of `abi::MEM_RESERVE`
//! bytes (4 GiB of 32-bit index, 4 GiB of static offset, the widest
//! access), of which only the accessible pages are mapped, and grows in
//! place (objects say so with `KWO_F_RESERVED_MEMORY`). So a mispredicted
//! check can only reach the memory or addresses never mapped, which cannot
//! leak anything: no Spectre select is needed (docs/security.md). The
//! architectural check stays, since such a fault would still be an oops.
//!
//! An index whose largest value the instructions computing it bound (a
//! mask, a narrow load, see `range`) needs no check when the access fits in
//! the memory's minimum size.
//!
//! An access the verifier's range analysis proved inside the minimum
//! memory (`VerifiedModule::accesses`) has no check and no trap path. Its
//! proof may rest on branches (a loop's exit test) that the CPU can
//! mispredict; mispredicted, its 32-bit index and offset still stay inside
//! the reservation, so it needs no clamp either (docs/security.md).
//!
//! In the unchecked copy of a loop versioned behind a hoisted check
//! (`hoist`), the accesses that check covers have no check of their own.
//!
//! The base never moves, so it is read once at entry; the bound is reloaded
//! after every call (a call may grow the memory). Both live in variables
//! Cranelift keeps in registers.
//!
//! An access needs no check when an earlier one on the current
//! straight-line path checked the same index (the same SSA value) for at
//! least as many bytes past it (`offset + size`): memories never shrink, so
//! that success still holds after calls and `memory.grow`. A load followed
//! by a store to the same place, or fields `p->a`, `p->b` read after `p->c`
//! further on, check once.
//!
//! Accesses whose `offset + size` is small (`SHARED_END_MAX`) compare their
//! index with one value per function, `bound - K` for the largest such end
//! `K`, instead of one `bound - end` each: Cranelift recomputes an add of a
//! constant in every block that uses it, and every check starts a block, so
//! separate limits cost an add (and often a reload of the spilled bound) on
//! every check; the shared one is computed once, outside loops. An index
//! that fails the shared compare may still be in bounds for a smaller end:
//! a cold block repeats the exact check of that access and either
//! continues or traps at that access, so what traps and where is the same
//! as with one exact check per access.

use std::collections::HashSet;

use cranelift_codegen::ir::{condcodes::IntCC, types, Inst, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;
use wasmparser::{FunctionBody, Operator};

use super::env::Region;
use super::FuncTranslator;
use crate::abi::{self, Trap};
use crate::CompileError;

/// The linear memory as the function sees it.
pub struct Heap {
    base: Value,
    bound: Variable,
    /// Accesses checked since the last control-flow join.
    checked: Vec<CheckedAccess>,
    /// `K`, the largest `offset + size` (at most `SHARED_END_MAX`) of the
    /// function's accesses that may need a check; 0 when there are none.
    shared_end: u64,
    /// The loads of `base` and `bound`: the unused ones are removed at the
    /// end, as Cranelift keeps loads nobody uses.
    loads: Vec<Inst>,
}

/// An access of `index` checked for `end` bytes past the index (its
/// `offset + size`), and its native address.
#[derive(Clone, Copy)]
struct CheckedAccess {
    index: Value,
    offset: u64,
    end: u64,
    addr: Value,
}

/// The largest `offset + size` that compares with the function's shared
/// limit. Struct fields and array elements near a pointer fit; a larger
/// `K` would send more accesses near the end of the memory (the last `K`
/// bytes) through the cold exact check.
const SHARED_END_MAX: u64 = 64;

/// Checks remembered at once; older ones are forgotten (a bigger cache
/// would only slow the translator down on long straight-line code).
const CHECK_CACHE: usize = 8;

impl FuncTranslator<'_, '_> {
    /// Memory flags for a wasm access: the bounds check makes it unable to
    /// trap, but it may be unaligned.
    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_notrap()
            .with_alias_region(Some(self.regions[Region::Heap as usize]))
    }

    /// Reads the memory base and declares the bound variable when the
    /// module has a memory: at entry, which dominates the whole function.
    pub fn declare_heap(&mut self, body: &FunctionBody<'_>) -> Result<(), CompileError> {
        if self.env.module.memory.is_some() {
            let shared_end = self.shared_end(body)?;
            let base = self.vmctx_load(abi::VMCTX_MEM_BASE);
            let bound = self.b.declare_var(types::I64);
            let load = self.b.func.dfg.value_def(base).unwrap_inst();
            self.heap = Some(Heap { base, bound, checked: Vec::new(), shared_end, loads: vec![load] });
            self.reload_bound();
        }
        Ok(())
    }

    /// `K` for `body`: the largest `offset + size` up to `SHARED_END_MAX`
    /// of its loads and stores the verifier did not prove (some of them may
    /// still need no check; `K` only has to be at least each end).
    fn shared_end(&self, body: &FunctionBody<'_>) -> Result<u64, CompileError> {
        let mut reader = body.get_operators_reader().map_err(|e| CompileError::wasm(&e))?;
        let mut shared = 0;
        while !reader.eof() {
            let (op, off) = reader.read_with_offset().map_err(|e| CompileError::wasm(&e))?;
            let Some(end) = access_end(&op) else { continue };
            if end <= SHARED_END_MAX && !self.proven_at(off, end) {
                shared = shared.max(end);
            }
        }
        Ok(shared)
    }

    /// (Re)reads the memory bound: at entry and after every call, which may
    /// have grown the memory (in place: the base stays).
    pub fn reload_bound(&mut self) {
        let Some(bound_var) = self.heap.as_ref().map(|h| h.bound) else {
            return;
        };
        let bound = self.vmctx_load(abi::VMCTX_MEM_SIZE);
        self.b.def_var(bound_var, bound);
        let load = self.b.func.dfg.value_def(bound).unwrap_inst();
        if let Some(heap) = &mut self.heap {
            heap.loads.push(load);
        }
    }

    /// Removes the heap loads whose values nothing uses: a reload after a
    /// call with no memory access behind it, all of them in a function
    /// that never touches its memory. Call once the SSA form is complete.
    pub fn drop_unused_heap_loads(&mut self) {
        let Some(heap) = self.heap.take() else { return };
        let func = &mut *self.b.func;
        let mut used = HashSet::new();
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                // The SSA builder turns some values into aliases of others.
                used.extend(func.dfg.inst_values(inst).map(|v| func.dfg.resolve_aliases(v)));
            }
        }
        for inst in heap.loads {
            if !used.contains(&func.dfg.first_result(inst)) {
                func.layout.remove_inst(inst);
            }
        }
    }

    /// Forgets the checks made so far: code after a control-flow join is
    /// not dominated by them.
    pub fn forget_checks(&mut self) {
        if let Some(heap) = &mut self.heap {
            heap.checked.clear();
        }
    }

    /// The heap base and the bound variable (the verifier rejects memory
    /// instructions in modules without a memory).
    pub(super) fn heap_vars(&self) -> (Value, Variable) {
        let heap = self.heap.as_ref().expect("memory access in a module without memory");
        (heap.base, heap.bound)
    }

    /// An earlier check of `index` on this path that covers `end` bytes
    /// past it.
    fn covering_check(&self, index: Value, end: u64) -> Option<CheckedAccess> {
        let heap = self.heap.as_ref()?;
        heap.checked.iter().find(|c| c.index == index && c.end >= end).copied()
    }

    /// Bytes the memory always has: its declared minimum (memories never
    /// shrink).
    fn min_memory_bytes(&self) -> u64 {
        self.env.module.memory.map_or(0, |m| u64::from(m.min) << 16)
    }

    /// Whether an access ending `end` bytes past the index fits in the
    /// minimum memory whatever the index (see `range`).
    fn always_in_bounds(&self, index: Value, end: u64) -> bool {
        self.known_max(index).is_some_and(|max| max + end <= self.min_memory_bytes())
    }

    fn native_addr(&mut self, base: Value, index: Value, offset: u64) -> Value {
        let addr = self.b.ins().iadd(base, index);
        if offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, offset as i64)
        }
    }

    /// Native address of `index + offset` for an access of `size` bytes,
    /// after the bounds check.
    pub fn heap_addr(&mut self, index: Value, offset: u64, size: u32) -> Value {
        let (base, _) = self.heap_vars();
        let wide = self.b.ins().uextend(types::I64, index);
        let end = offset + u64::from(size);
        if !self.env.checks.bounds || self.always_in_bounds(index, end) {
            return self.native_addr(base, wide, offset);
        }
        if self.proven_at(self.wasm_off as usize, end) {
            return self.native_addr(base, wide, offset);
        }
        if self.access_hoisted() {
            // Checked before the loop (`hoist`), for every iteration.
            return self.native_addr(base, wide, offset);
        }
        if let Some(earlier) = self.covering_check(index, end) {
            if earlier.offset == offset {
                return earlier.addr;
            }
            return self.native_addr(base, wide, offset);
        }
        self.check_bounds(wide, end);
        // No Spectre select: mispredicted, base + index + offset + size
        // stays inside the reservation (see the module documentation).
        let addr = self.native_addr(base, wide, offset);
        let heap = self.heap.as_mut().expect("heap vars exist");
        if heap.checked.len() == CHECK_CACHE {
            heap.checked.remove(0);
        }
        heap.checked.push(CheckedAccess { index, offset, end, addr });
        addr
    }

    /// Traps unless `wide + end <= bound`; continues in a block where that
    /// holds.
    fn check_bounds(&mut self, wide: Value, end: u64) {
        let shared_end = self.heap.as_ref().map_or(0, |h| h.shared_end);
        if end > shared_end {
            let oob = self.beyond_limit(wide, end);
            self.trap_if(oob, Trap::MemoryOob);
            return;
        }
        let limit = self.shared_limit(shared_end);
        let beyond_shared = self.b.ins().icmp(IntCC::SignedGreaterThan, wide, limit);
        if end == shared_end {
            // The shared compare is this access's exact check.
            self.trap_if(beyond_shared, Trap::MemoryOob);
            return;
        }
        // Within the last `K` bytes: the exact check decides, off the hot
        // path. Both new blocks are cold, so the fall-through stays hot.
        let exact = self.b.create_block();
        let trap = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(exact);
        self.b.set_cold_block(trap);
        self.b.ins().brif(beyond_shared, exact, &[], cont, &[]);
        self.b.seal_block(exact);
        self.b.switch_to_block(exact);
        // `wide + end > bound` as `wide + (end - K) > bound - K`: compared
        // with the shared limit, the bound need not stay in a register for
        // this cold block, and `bound - end` is not hoisted out of the
        // loop into one either (the sum depends on the index).
        let shifted = self.b.ins().iadd_imm_s(wide, end as i64 - shared_end as i64);
        let oob = self.b.ins().icmp(IntCC::SignedGreaterThan, shifted, limit);
        self.b.ins().brif(oob, trap, &[], cont, &[]);
        self.b.seal_block(trap);
        self.b.seal_block(cont);
        self.b.switch_to_block(trap);
        self.trap_now(Trap::MemoryOob);
        self.b.switch_to_block(cont);
    }

    /// Whether `wide + end` passes the bound: `wide > bound - end`, in
    /// 64 bits where it cannot overflow (offset < 2^32, size <= 16,
    /// bound <= 2^32), signed, so a memory smaller than `end` fails every
    /// index.
    fn beyond_limit(&mut self, wide: Value, end: u64) -> Value {
        let (_, bound_var) = self.heap_vars();
        let bound = self.b.use_var(bound_var);
        let last = self.b.ins().iadd_imm_s(bound, -(end as i64));
        self.b.ins().icmp(IntCC::SignedGreaterThan, wide, last)
    }

    /// The shared limit `bound - K`, the largest index whose access of `K`
    /// bytes fits, written `min(bound - K, bound)`: the same value (K >= 0,
    /// no overflow), but not an add of a constant, which Cranelift would
    /// recompute in every block that uses it; so the optimizer computes it
    /// once per bound (outside loops that do not reload the bound) and
    /// keeps it in a register.
    fn shared_limit(&mut self, shared_end: u64) -> Value {
        let (_, bound_var) = self.heap_vars();
        let bound = self.b.use_var(bound_var);
        let last = self.b.ins().iadd_imm_s(bound, -(shared_end as i64));
        self.b.ins().smin(last, bound)
    }

    /// Whether the verifier proved the access at module offset `off`,
    /// ending `end` bytes past its index, inside the minimum memory on
    /// every path.
    fn proven_at(&self, off: usize, end: u64) -> bool {
        self.proofs.is_some_and(|p| p.is_proven(off)) && end <= self.min_memory_bytes()
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

/// `offset + size` of a load or store: how far past its index it reaches.
fn access_end(op: &Operator<'_>) -> Option<u64> {
    use Operator as O;
    let (memarg, size) = match *op {
        O::I32Load8S { memarg }
        | O::I32Load8U { memarg }
        | O::I64Load8S { memarg }
        | O::I64Load8U { memarg }
        | O::I32Store8 { memarg }
        | O::I64Store8 { memarg } => (memarg, 1),
        O::I32Load16S { memarg }
        | O::I32Load16U { memarg }
        | O::I64Load16S { memarg }
        | O::I64Load16U { memarg }
        | O::I32Store16 { memarg }
        | O::I64Store16 { memarg } => (memarg, 2),
        O::I32Load { memarg }
        | O::F32Load { memarg }
        | O::I64Load32S { memarg }
        | O::I64Load32U { memarg }
        | O::I32Store { memarg }
        | O::F32Store { memarg }
        | O::I64Store32 { memarg } => (memarg, 4),
        O::I64Load { memarg } | O::F64Load { memarg } | O::I64Store { memarg } | O::F64Store { memarg } => (memarg, 8),
        _ => return None,
    };
    Some(memarg.offset + size)
}
