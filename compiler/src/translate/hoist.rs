//! Loop versioning: a loop translated more than once, one copy chosen
//! by a check before the loop.
//!
//! For a loop the verifier gave a hoisted check (`HoistedLoop`, see
//! `kwo_verifier::analysis`), the translator computes, before the loop
//! and from the locals' values on entry, the loop's largest trip count
//! and the bytes each covered access can touch over it, compares them with
//! the memory's current size in 64 bits (nothing wraps), and branches
//! once: to a copy of the loop whose covered accesses have no check, or
//! to the original, fully checked loop. A failing check runs the checked
//! copy, so an out-of-bounds access traps exactly where and when the spec
//! says; a passing one holds for every iteration because memories only
//! grow.
//!
//! For a loop the verifier found short (`ShortLoop`), the header
//! checkpoint goes: from every copy when the verifier bounded the trip
//! count statically, or from a copy chosen when the run-time trip count is
//! at most the verifier's cap (a loop with both facts gets three copies:
//! unchecked without checkpoint, unchecked with it, checked with it).
//!
//! A copy that would only drop the checkpoint is made when the verifier
//! allows at least `MIN_VISITS_FOR_A_COPY` visits, that is for a body of
//! at most 256 operators (it allows 2^16 operators per run of the loop):
//! each copy costs compile time and code in proportion to the body, and
//! in a body of thousands of operators one checkpoint per iteration is
//! noise. (A hoisted check is worth its copy even then: in the Rust
//! module's SHA-256 rounds, 16 checks in 4 833 operators are 2% of the run
//! time.)
//!
//! The operators of the body are read once per copy; every copy continues
//! at the same block after the loop. The facts come from the verifier;
//! this module does not re-derive them. Mispredicted, the branch runs an
//! unchecked copy speculatively with 32-bit indexes, which stay inside the
//! memory's reservation like those of proven accesses (docs/security.md).

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use kwo_verifier::analysis::{HoistedLoop, LoopBound, TripCount, TripTest};
use wasmparser::{BlockType, OperatorsReader};

use super::FuncTranslator;
use crate::CompileError;

/// Fewest header visits a short loop with a run-time trip count must be
/// allowed for a copy without its checkpoint (see the module doc). The
/// benchmarks' hot loops have 15-101 operators: 648 visits or more.
const MIN_VISITS_FOR_A_COPY: u32 = 256;

/// One translation of a versioned loop's body.
struct LoopCopy<'a> {
    /// The condition choosing this copy (checked in order; the last copy
    /// has none: it runs when no earlier one was chosen).
    guard: Option<Value>,
    /// The hoisted check whose accesses have no check in this copy.
    unchecked: Option<&'a HoistedLoop>,
    /// Whether the copy's header runs the checkpoint.
    checkpoint: bool,
}

impl<'a> FuncTranslator<'a, '_> {
    /// The hoisted check of the loop at `off`, when this translation uses
    /// one: bounds checks on, proofs in use, not inside another copy, and
    /// every local it reads an `i32`.
    fn hoist_at(&self, off: usize) -> Option<&'a HoistedLoop> {
        if !self.env.checks.bounds || self.in_copy || self.heap.is_none() {
            return None;
        }
        let hoist = self.proofs?.hoisted_at(off)?;
        let pointers = hoist.ranges.iter().flat_map(|r| [Some(r.local), r.plus]).flatten();
        let mut locals = pointers.chain(hoist.trip.iter().flat_map(TripCount::locals));
        locals.all(|l| self.is_i32_local(l)).then_some(hoist)
    }

    /// When the loop at `off` needs no header checkpoint, in this
    /// translation: checkpoints on, proofs in use, not inside another
    /// copy, and every local its trip count reads an `i32`.
    fn short_at(&self, off: usize) -> Option<&'a LoopBound> {
        if !self.env.checks.checkpoints || self.in_copy {
            return None;
        }
        let bound = &self.proofs?.short_at(off)?.bound;
        match bound {
            LoopBound::Trips { trip, .. } if !trip.locals().all(|l| self.is_i32_local(l)) => None,
            _ => Some(bound),
        }
    }

    fn is_i32_local(&self, local: u32) -> bool {
        self.locals.get(local as usize).is_some_and(|(_, t)| *t == types::I32)
    }

    /// Whether the access being translated is covered by the hoisted check
    /// of the unchecked copy being translated.
    pub(super) fn access_hoisted(&self) -> bool {
        self.unchecked_loop.is_some_and(|h| h.covers(self.wasm_off as usize))
    }

    /// Enters the loop at `off`: its copies, each with the checks and the
    /// checkpoint the verifier's facts allow, and the guards choosing
    /// between them. Every copy but the last is translated here, to its
    /// `end`; the last one's frame is left open for the caller, which
    /// translates it as any other loop.
    pub(super) fn enter_loop(
        &mut self,
        blockty: BlockType,
        off: usize,
        reader: &mut OperatorsReader<'_>,
    ) -> Result<(), CompileError> {
        let copies = self.loop_copies(off);
        let (_, results) = self.block_types(blockty);
        let dest = self.new_block_with(&results);
        let stack = self.stack.clone();
        let depth = self.control.len();
        let body = reader.clone();
        let mut reaches = false;
        let Some((last, earlier)) = copies.split_last() else {
            return Err(CompileError::at(off, "internal error: a loop without a copy"));
        };
        for copy in earlier {
            let this = self.b.create_block();
            let next = self.b.create_block();
            let guard = copy.guard.expect("every copy but the last has a guard");
            self.b.ins().brif(guard, this, &[], next, &[]);
            self.b.seal_block(this);
            self.b.seal_block(next);
            self.b.switch_to_block(this);
            self.in_copy = true;
            self.unchecked_loop = copy.unchecked;
            self.open_loop(blockty, dest, true, copy.checkpoint, off)?;
            while self.control.len() > depth {
                self.translate_next(reader)?;
            }
            self.unchecked_loop = None;
            self.in_copy = false;
            reaches |= self.copy_reaches_dest;
            *reader = body.clone();
            self.stack.clone_from(&stack);
            self.reachable = true;
            self.forget_checks();
            self.b.switch_to_block(next);
        }
        self.open_loop(blockty, dest, false, last.checkpoint, off)?;
        if let Some(frame) = self.control.last_mut() {
            frame.dest_reachable |= reaches;
        }
        Ok(())
    }

    /// The copies of the loop at `off` and their guards, computed here,
    /// before the loop.
    fn loop_copies(&mut self, off: usize) -> Vec<LoopCopy<'a>> {
        let hoist = self.hoist_at(off);
        // A loop that is always short needs no copy for it.
        let short = self.short_at(off).filter(|b| match b {
            LoopBound::Visits(_) => true,
            LoopBound::Trips { max_visits, .. } => *max_visits >= MIN_VISITS_FOR_A_COPY,
        });
        let always_short = matches!(short, Some(LoopBound::Visits(_)));
        let plain = |checkpoint| LoopCopy { guard: None, unchecked: None, checkpoint };
        match (hoist, short) {
            (None, Some(LoopBound::Trips { trip, max_visits })) => {
                let fits = self.trip_fits(trip, *max_visits);
                vec![LoopCopy { guard: Some(fits), unchecked: None, checkpoint: false }, plain(true)]
            }
            (None, _) => vec![plain(!always_short)],
            (Some(h), Some(LoopBound::Trips { trip, max_visits })) => {
                let in_bounds = self.hoisted_check(h);
                let fits = self.trip_fits(trip, *max_visits);
                let both = self.b.ins().band(in_bounds, fits);
                vec![
                    LoopCopy { guard: Some(both), unchecked: Some(h), checkpoint: false },
                    LoopCopy { guard: Some(in_bounds), unchecked: Some(h), checkpoint: true },
                    plain(true),
                ]
            }
            (Some(h), _) => {
                let in_bounds = self.hoisted_check(h);
                vec![
                    LoopCopy { guard: Some(in_bounds), unchecked: Some(h), checkpoint: !always_short },
                    plain(!always_short),
                ]
            }
        }
    }

    /// An `i8` that is 1 when the loop whose trip count is `trip` visits
    /// its header at most `max_visits` times this time.
    fn trip_fits(&mut self, trip: &TripCount, max_visits: u32) -> Value {
        let (valid, last) = self.trip_last(trip);
        let fits = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, last, i64::from(max_visits));
        self.b.ins().band(valid, fits)
    }

    /// From the locals' values on entry: an `i8` that is 1 when the
    /// counter reaches the end of its trip without wrapping (see
    /// `TripTest`), and then the (`i64`) index `last` of the last header
    /// visit (below 2^32 + 1), which is meaningless otherwise.
    fn trip_last(&mut self, trip: &TripCount) -> (Value, Value) {
        let counter = self.local_value(trip.counter);
        let counter = self.b.ins().iadd_imm_s(counter, wrap32(trip.bias));
        let limit = match trip.limit_local {
            Some(l) => self.local_value(l),
            None => self.b.ins().iconst(types::I32, 0),
        };
        let limit = self.b.ins().iadd_imm_s(limit, wrap32(trip.limit_add));
        let stride = trip.step.unsigned_abs();
        let shift = i64::from(stride.trailing_zeros());
        let (signed, inclusive, below) = match trip.test {
            TripTest::Ne => return self.trip_last_ne(counter, limit, trip.step),
            TripTest::Below { signed, inclusive } => (signed, inclusive, true),
            TripTest::Above { signed, inclusive } => (signed, inclusive, false),
        };
        // In 64 bits, nothing wraps: x is the counter, n the limit, moved
        // by one for an inclusive test so that it is strict.
        let widen = |t: &mut Self, v| if signed { t.b.ins().sextend(types::I64, v) } else { t.b.ins().uextend(types::I64, v) };
        let x = widen(self, counter);
        let n = widen(self, limit);
        let n = match (inclusive, below) {
            (false, _) => n,
            (true, true) => self.b.ins().iadd_imm_s(n, 1),
            (true, false) => self.b.ins().iadd_imm_s(n, -1),
        };
        let stride = stride as i64;
        let distance = if below { self.b.ins().isub(n, x) } else { self.b.ins().isub(x, n) };
        let zero = self.b.ins().iconst(types::I64, 0);
        let distance = self.b.ins().smax(distance, zero);
        // ceil(distance / stride) more visits after the first.
        let rounded = self.b.ins().iadd_imm_s(distance, stride - 1);
        let last = self.b.ins().ushr_imm_s(rounded, shift);
        // The value that fails the test must not have wrapped past the
        // type's end (then the test could hold again).
        let travel = self.b.ins().imul_imm_s(last, stride);
        let valid = if below {
            let end = self.b.ins().iadd(x, travel);
            let max = if signed { i64::from(i32::MAX) } else { i64::from(u32::MAX) };
            self.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, end, max)
        } else {
            let end = self.b.ins().isub(x, travel);
            let min = if signed { i64::from(i32::MIN) } else { 0 };
            self.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, end, min)
        };
        (valid, last)
    }

    /// `trip_last` for a `!=` test: the distance the counter travels
    /// before it meets the limit, mod 2^32, must be a multiple of the step
    /// (otherwise the counter may never meet the limit).
    fn trip_last_ne(&mut self, counter: Value, limit: Value, step: i64) -> (Value, Value) {
        let distance = if step > 0 {
            self.b.ins().isub(limit, counter)
        } else {
            self.b.ins().isub(counter, limit)
        };
        let distance = self.b.ins().uextend(types::I64, distance);
        let stride = step.unsigned_abs();
        let misaligned = self.b.ins().band_imm_u(distance, (stride - 1) as i64);
        let valid = self.b.ins().icmp_imm_s(IntCC::Equal, misaligned, 0);
        let last = self.b.ins().ushr_imm_s(distance, i64::from(stride.trailing_zeros()));
        (valid, last)
    }

    /// The hoisted check, an `i8` that is 1 when every covered access of
    /// every iteration is inside the memory as it is now. Without a trip
    /// count every range has step 0 (the verifier's rule); a range that
    /// steps anyway fails the check, so the checked copy runs.
    fn hoisted_check(&mut self, hoist: &HoistedLoop) -> Value {
        let (mut ok, last) = match &hoist.trip {
            Some(trip) => self.trip_last(trip),
            None => (self.b.ins().iconst(types::I8, 1), self.b.ins().iconst(types::I64, 0)),
        };
        let (_, bound_var) = self.heap_vars();
        let bound = self.b.use_var(bound_var);
        for range in &hoist.ranges {
            if hoist.trip.is_none() && range.step != 0 {
                return self.b.ins().iconst(types::I8, 0);
            }
            let start = self.local_value(range.local);
            let mut start = self.b.ins().uextend(types::I64, start);
            if let Some(plus) = range.plus {
                let q = self.local_value(plus);
                let q = self.b.ins().uextend(types::I64, q);
                start = self.b.ins().iadd(start, q);
            }
            // |step| <= 2^16, last < 2^32 and |lo|, |hi| <= 2^32 + 2^33
            // (offset plus width included): no i64 overflow anywhere.
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
