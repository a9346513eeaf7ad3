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
//! An access needs no check when an earlier one that dominates it checked
//! the same index (the same SSA value) for at least as many bytes past it
//! (`offset + size`): memories never shrink, so that success still holds
//! after calls and `memory.grow`. A load followed by a store to the same
//! place, or fields `p->a`, `p->b` read after `p->c` further on, check once.
//! The checks kept are those of the straight-line code since the start of
//! the innermost frame, plus those made before each enclosing frame began:
//! a frame's start dominates all of it (a loop's header included) and the
//! code after its end, and its `else` arm. After the end of a `block` or
//! `if`, also those made on every edge into it (each branch to it, each
//! arm falling through, a missing `else`): a check made in a block before
//! its first branch out covers the code after the block.
//!
//! A load the verifier put first in a group (`VerifiedModule::
//! access_groups`: later loads through the same unchanged pointer, nothing
//! between them that can trap or have an effect) is checked for the bytes
//! the group's furthest member reaches; the rule above then drops the
//! later members' checks. When that check fails, a cold chain finds the
//! first member that does not fit, in program order, and traps there with
//! its trap site, as the spec would.

use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::{condcodes::IntCC, types, Inst, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;
use kwo_verifier::analysis::GroupEntry;

use super::env::Region;
use super::FuncTranslator;
use crate::abi::{self, Trap};

/// The linear memory as the function sees it.
pub struct Heap {
    base: Value,
    bound: Variable,
    /// Accesses whose checks dominate the code being translated.
    checked: Vec<CheckedAccess>,
    /// For each open frame that saved its checks, by its depth in the
    /// control stack: the checks made before it began, and those every
    /// edge seen so far into its end carries.
    saved: Vec<SavedChecks>,
    /// The loads of `base` and `bound`: the unused ones are removed at the
    /// end, as Cranelift keeps loads nobody uses.
    loads: Vec<Inst>,
}

/// The checks around one open `block`, `if` or `loop`.
struct SavedChecks {
    depth: usize,
    /// Made before the frame began: they dominate all of it and its end.
    start: Vec<CheckedAccess>,
    /// Made on every edge into the frame's end seen so far (branches to
    /// it, the fall-through of its arms); `None` before the first. A
    /// `block` or `if` only: nothing records a loop's edges.
    join: Option<Vec<CheckedAccess>>,
}

/// An access of `index` checked for `end` bytes past the index (its
/// `offset + size`), and its native address.
#[derive(Clone, Copy, PartialEq)]
struct CheckedAccess {
    index: Value,
    offset: u64,
    end: u64,
    addr: Value,
}

/// Checks remembered at once; older ones are forgotten (a bigger cache
/// would only slow the translator down on long straight-line code).
const CHECK_CACHE: usize = 8;

impl<'a> FuncTranslator<'a, '_> {
    /// Memory flags for a wasm access: the bounds check makes it unable to
    /// trap, but it may be unaligned.
    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_notrap()
            .with_alias_region(Some(self.regions[Region::Heap as usize]))
    }

    /// Reads the memory base and declares the bound variable when the
    /// module has a memory: at entry, which dominates the whole function.
    pub fn declare_heap(&mut self) {
        if self.env.module.memory.is_some() {
            let base = self.vmctx_load(abi::VMCTX_MEM_BASE);
            let bound = self.b.declare_var(types::I64);
            let load = self.b.func.dfg.value_def(base).unwrap_inst();
            self.heap = Some(Heap { base, bound, checked: Vec::new(), saved: Vec::new(), loads: vec![load] });
            self.reload_bound();
        }
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
        // By value number: a hash set of every use was 2% of compiling a
        // large module.
        let mut used = vec![false; func.dfg.num_values()];
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                // The SSA builder turns some values into aliases of others.
                for v in func.dfg.inst_values(inst) {
                    used[func.dfg.resolve_aliases(v).index()] = true;
                }
            }
        }
        for inst in heap.loads {
            if !used[func.dfg.first_result(inst).index()] {
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

    /// Remembers the checks made so far for the frame about to open at
    /// control depth `depth`.
    pub fn save_checks(&mut self, depth: usize) {
        if let Some(heap) = &mut self.heap {
            let start = heap.checked.clone();
            heap.saved.push(SavedChecks { depth, start, join: None });
        }
    }

    /// An edge into the end of the `block` or `if` at control depth
    /// `depth` (a branch to it, or an arm falling through): only the
    /// checks made so far on this path, and on every earlier such edge,
    /// dominate its end. `from_start`: the edge carries only the checks
    /// made before the frame (an `if`'s missing `else`).
    pub fn note_edge_to_end(&mut self, depth: usize, from_start: bool) {
        let Some(heap) = &mut self.heap else { return };
        let Some(frame) = heap.saved.iter_mut().rev().find(|s| s.depth == depth) else { return };
        let here = if from_start { &frame.start } else { &heap.checked };
        frame.join = Some(match frame.join.take() {
            None => here.clone(),
            Some(mut join) => {
                join.retain(|c| here.contains(c));
                join
            }
        });
    }

    /// Goes back to the checks made before the frame at `depth` began (its
    /// `else`, or its `end` when `keep` is false, which closes it); at the
    /// end, also those every edge into it carried; none when they were
    /// not saved (the function's own frame, the second copy of a versioned
    /// loop).
    pub fn restore_checks(&mut self, depth: usize, keep: bool) {
        let Some(heap) = &mut self.heap else { return };
        while heap.saved.last().is_some_and(|s| s.depth > depth) {
            heap.saved.pop();
        }
        let Some(frame) = heap.saved.last().filter(|s| s.depth == depth) else {
            heap.checked.clear();
            return;
        };
        heap.checked.clone_from(&frame.start);
        if keep {
            return;
        }
        for check in frame.join.iter().flatten() {
            if !heap.checked.contains(check) {
                if heap.checked.len() == CHECK_CACHE {
                    heap.checked.remove(0);
                }
                heap.checked.push(*check);
            }
        }
        heap.saved.pop();
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
        // The SSA builder may answer a local read after a join with a
        // block parameter it then finds redundant and makes an alias of
        // the value read before: the same value under two names.
        let dfg = &self.b.func.dfg;
        let index = dfg.resolve_aliases(index);
        heap.checked
            .iter()
            .find(|c| dfg.resolve_aliases(c.index) == index && c.end >= end)
            .copied()
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
        let (base, bound_var) = self.heap_vars();
        let wide = self.b.ins().uextend(types::I64, index);
        let end = offset + u64::from(size);
        if !self.env.checks.bounds || self.always_in_bounds(index, end) {
            return self.native_addr(base, wide, offset);
        }
        if self.access_proven() && end <= self.min_memory_bytes() {
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
        // A load that starts a group is checked for the bytes its group
        // reaches, which covers the later members (`covering_check`).
        let group = self.access_group(end);
        let reach = group.map_or(end, |(last, _)| last.end);
        // offset < 2^32 and size <= 16, bound <= 2^32: no overflow in i64.
        let bound = self.b.use_var(bound_var);
        let last = self.b.ins().iadd_imm_s(bound, -(reach as i64));
        let oob = self.b.ins().icmp(IntCC::SignedGreaterThan, wide, last);
        match group {
            Some((last, earlier)) => self.trap_at_first_failing(oob, wide, bound, earlier, last),
            None => self.trap_if(oob, Trap::MemoryOob),
        }
        // No Spectre select: mispredicted, base + index + offset + size
        // stays inside the reservation (see the module documentation).
        let addr = self.native_addr(base, wide, offset);
        let heap = self.heap.as_mut().expect("heap vars exist");
        if heap.checked.len() == CHECK_CACHE {
            heap.checked.remove(0);
        }
        heap.checked.push(CheckedAccess { index, offset, end: reach, addr });
        addr
    }

    /// The verifier's suffix group of the load being translated, reaching
    /// `end` bytes past its index: it and the later loads of the same
    /// unchanged pointer that reach further, with nothing between them
    /// that can trap or have an effect; split into its furthest-reaching
    /// last entry and the ones before it. None unless that last entry
    /// reaches at least as far as the load itself.
    fn access_group(&self, end: u64) -> Option<(&'a GroupEntry, &'a [GroupEntry])> {
        let group = self.groups?.suffix_at(self.wasm_off as usize)?;
        group.entries.split_last().filter(|(last, _)| last.end >= end)
    }

    /// Branches on `oob` (the group's combined check failed) to a cold
    /// chain that finds, in program order, the first entry whose own check
    /// fails, and traps there with that load's trap site: the spec's
    /// trap, since the loads before it have no effect and nothing between
    /// them can trap. The last entry needs no compare: the combined check
    /// is its own.
    fn trap_at_first_failing(
        &mut self,
        oob: Value,
        wide: Value,
        bound: Value,
        earlier: &[GroupEntry],
        last: &GroupEntry,
    ) {
        let chain = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(chain);
        self.b.ins().brif(oob, chain, &[], cont, &[]);
        self.b.seal_block(chain);
        self.b.switch_to_block(chain);
        let here = self.wasm_off;
        for entry in earlier {
            self.wasm_off = entry.offset;
            self.b.set_srcloc(super::env::wasm_srcloc(entry.offset));
            let limit = self.b.ins().iadd_imm_s(bound, -(entry.end as i64));
            let fails = self.b.ins().icmp(IntCC::SignedGreaterThan, wide, limit);
            let next = self.b.create_block();
            self.b.set_cold_block(next);
            let trap_block = self.b.create_block();
            self.branch_to_trap(fails, Trap::MemoryOob, trap_block, next);
        }
        self.wasm_off = last.offset;
        self.b.set_srcloc(super::env::wasm_srcloc(last.offset));
        self.trap_now(Trap::MemoryOob);
        self.wasm_off = here;
        self.b.set_srcloc(super::env::wasm_srcloc(here));
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Whether the verifier proved the access being translated inside the
    /// minimum memory on every path.
    fn access_proven(&self) -> bool {
        self.proofs.is_some_and(|p| p.is_proven(self.wasm_off as usize))
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
