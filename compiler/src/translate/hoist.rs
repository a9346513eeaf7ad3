//! Loop versioning behind a hoisted bounds check.
//!
//! For a loop the verifier gave a hoisted check (`HoistedLoop`, see
//! `kwo_verifier::analysis`), the translator computes, before the loop
//! and from the locals' values on entry, the loop's largest trip count
//! and the bytes each covered access can touch over it, compares them with
//! the memory's current size in 64 bits (nothing wraps), and branches
//! once: to a copy of the loop whose covered accesses have no check, or
//! to the original, fully checked loop. The operators of the body are
//! read twice. A failing check runs the checked copy, so an out-of-bounds
//! access traps exactly where and when the spec says; a passing one holds
//! for every iteration because memories only grow. Both copies continue at
//! the same block after the loop.
//!
//! The facts come from the verifier; this module does not re-derive them.
//! Mispredicted, the branch runs the unchecked copy speculatively with
//! 32-bit indexes, which stay inside the memory's reservation like those
//! of proven accesses (docs/security.md).

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use kwo_verifier::analysis::HoistedLoop;
use wasmparser::{BlockType, OperatorsReader};

use super::FuncTranslator;
use crate::CompileError;

impl<'a> FuncTranslator<'a, '_> {
    /// The hoisted check of the loop at `off`, when this translation uses
    /// one: bounds checks on, proofs in use, not inside another copy, and
    /// every local it reads an `i32`.
    pub(super) fn hoist_at(&self, off: usize) -> Option<&'a HoistedLoop> {
        if !self.env.checks.bounds || self.unchecked_loop.is_some() || self.heap.is_none() {
            return None;
        }
        let hoist = self.proofs?.hoisted_at(off)?;
        let trip = &hoist.trip;
        let pointers = hoist.ranges.iter().flat_map(|r| [Some(r.local), r.plus]).flatten();
        let mut locals = pointers.chain([trip.counter]).chain(trip.limit_local);
        locals
            .all(|l| self.locals.get(l as usize).is_some_and(|(_, t)| *t == types::I32))
            .then_some(hoist)
    }

    /// Whether the access being translated is covered by the hoisted check
    /// of the unchecked copy being translated.
    pub(super) fn access_hoisted(&self) -> bool {
        self.unchecked_loop.is_some_and(|h| h.covers(self.wasm_off as usize))
    }

    /// Translates the loop at `off` behind its hoisted check: the unchecked
    /// copy here, to its `end`; then rewinds the reader to the start of
    /// the body and opens the checked copy's frame, which the caller
    /// translates as any other loop.
    pub(super) fn versioned_loop(
        &mut self,
        hoist: &'a HoistedLoop,
        blockty: BlockType,
        off: usize,
        reader: &mut OperatorsReader<'_>,
    ) -> Result<(), CompileError> {
        let in_bounds = self.hoisted_check(hoist);
        let unchecked = self.b.create_block();
        let checked = self.b.create_block();
        self.b.ins().brif(in_bounds, unchecked, &[], checked, &[]);
        self.b.seal_block(unchecked);
        self.b.seal_block(checked);
        let (_, results) = self.block_types(blockty);
        let dest = self.new_block_with(&results);
        let stack = self.stack.clone();
        let depth = self.control.len();
        let body = reader.clone();

        self.b.switch_to_block(unchecked);
        self.unchecked_loop = Some(hoist);
        self.open_loop(blockty, dest, true, off)?;
        while self.control.len() > depth {
            self.translate_next(reader)?;
        }
        self.unchecked_loop = None;

        *reader = body;
        self.stack = stack;
        self.reachable = true;
        self.forget_checks();
        self.b.switch_to_block(checked);
        self.open_loop(blockty, dest, false, off)?;
        let reaches = self.copy_reaches_dest;
        if let Some(frame) = self.control.last_mut() {
            frame.dest_reachable |= reaches;
        }
        Ok(())
    }

    /// The hoisted check, an `i8` that is 1 when every covered access of
    /// every iteration is inside the memory as it is now.
    fn hoisted_check(&mut self, hoist: &HoistedLoop) -> Value {
        let trip = &hoist.trip;
        let counter = self.local_value(trip.counter);
        let counter = self.b.ins().iadd_imm_s(counter, wrap32(trip.bias));
        let limit = match trip.limit_local {
            Some(l) => self.local_value(l),
            None => self.b.ins().iconst(types::I32, 0),
        };
        let limit = self.b.ins().iadd_imm_s(limit, wrap32(trip.limit_add));
        // Distance the counter travels before it meets the limit, mod 2^32.
        let distance = if trip.step > 0 {
            self.b.ins().isub(limit, counter)
        } else {
            self.b.ins().isub(counter, limit)
        };
        let distance = self.b.ins().uextend(types::I64, distance);
        let stride = trip.step.unsigned_abs();
        // Not a multiple of the step: the counter may never meet the limit.
        let misaligned = self.b.ins().band_imm_u(distance, (stride - 1) as i64);
        let mut ok = self.b.ins().icmp_imm_s(IntCC::Equal, misaligned, 0);
        // Header visits are at most last + 1 (< 2^32).
        let last = self.b.ins().ushr_imm_s(distance, i64::from(stride.trailing_zeros()));
        let (_, bound_var) = self.heap_vars();
        let bound = self.b.use_var(bound_var);
        for range in &hoist.ranges {
            let start = self.local_value(range.local);
            let mut start = self.b.ins().uextend(types::I64, start);
            if let Some(plus) = range.plus {
                let q = self.local_value(plus);
                let q = self.b.ins().uextend(types::I64, q);
                start = self.b.ins().iadd(start, q);
            }
            // |step| <= 2^16 and last < 2^32: no i64 overflow anywhere.
            let span = self.b.ins().imul_imm_s(last, range.step);
            let (down, up) = if range.step < 0 {
                (Some(span), None)
            } else {
                (None, Some(span))
            };
            let lo = self.b.ins().iadd_imm_s(start, range.lo);
            let lo = down.map_or(lo, |d| self.b.ins().iadd(lo, d));
            let hi = self.b.ins().iadd_imm_s(start, range.hi);
            let hi = up.map_or(hi, |u| self.b.ins().iadd(hi, u));
            let lo_ok = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, lo, 0);
            let hi_ok = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, hi, bound);
            ok = self.b.ins().band(ok, lo_ok);
            ok = self.b.ins().band(ok, hi_ok);
        }
        ok
    }

    fn local_value(&mut self, local: u32) -> Value {
        let var = self.locals[local as usize].0;
        self.b.use_var(var)
    }
}

/// `v` mod 2^32 as an `i32` immediate.
fn wrap32(v: i64) -> i64 {
    i64::from(v as u32 as i32)
}
