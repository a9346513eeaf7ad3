//! Hoistable checks: loops whose unproven accesses one check before the
//! loop can cover, so the compiler can run a check-free copy of the loop
//! when that check passes (loop versioning, `docs/compiler.md`).
//!
//! A loop qualifies when it has no loop inside it, its only back edge is
//! a `br_if` on `c != n`, `c < n`, `c <= n`, `c > n` or `c >= n` (signed
//! or unsigned, either operand order) where `c` is its header value of a
//! counter local plus a constant, stepping by `±2^j` (at most 2^16) on the
//! back edge (towards `n` for the ordered tests), and `n` is a constant or
//! a local the loop never changes (plus a constant). At run time, from the
//! locals' values on entry, the number of header visits is then `last +
//! 1` ([`TripTest`]): for `!=`, `last` is the first `k` at which `c` meets
//! `n`, `(n - c0 - bias) / step` (mod 2^32) when the difference is a
//! multiple of the step (otherwise the counter may never meet `n` and the
//! compiler takes the checked copy); for `<`, `ceil((n - c0 - bias) /
//! step)` or 0, when the value that ends the loop has not wrapped.
//!
//! An access qualifies when it is not proven and its 32-bit index is its
//! loop's header value of a local `p` plus a constant (and possibly plus
//! the header value of a local `q` the loop never changes), `p` stepping
//! by a constant `d` (at most 2^16 either way, 0 included) on the back
//! edge. In visit `k` the index is then `p0 + q0 + d*k + delta` (mod
//! 2^32); over
//! `k` in `[0, last]` the unwrapped values move linearly, so when both
//! ends lie in `[0, bound - offset - size]` no index wrapped and every
//! access is in bounds. Accesses through the same local share one range.
//!
//! An access also qualifies, in any loop and whatever its trip count,
//! when its index is the header value of a local `q` the loop never
//! changes plus an offset `k` the intervals bound to `[lo, hi]` (mod
//! 2^32), such as `q + (h & 0x7fff) * 2` for a loaded `h`: if `q0 + lo
//! >= 0` and `q0 + hi + offset + size <= bound`, no index wrapped and every
//! access is in bounds, in every iteration. Such a range has step 0 and
//! needs no trip count, so loops with loops inside get it too (but not
//! loops that call: a call per iteration costs more than the checks
//! would save, and the copy doubles the loop's compile time); then,
//! since the compiler's check-free copy of the outer loop runs its inner
//! loops without their own hoisted checks (versioning them again there
//! was tried: +5% compile instructions on the Rust workloads, no run-time
//! gain), the outer check is kept only when it covers more accesses than
//! the inner loops' checks do.
//!
//! What it does not do: trip counts of loops with more than one back
//! edge, an unconditional one (`br` back, exited at the top) or loops
//! inside; indexes computed by multiplication or shift of the counter
//! (`base + i*8`), which lose the relation to the header. Those accesses
//! stay checked.

use super::value::Cmp;
use super::{Cond, Interp, Operand, Pass, Sym};
use wasmparser::Operator;

/// The trip count of a hoisted loop, from its locals' values on entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripCount {
    /// The counter local; at header visit `k` its value is
    /// `c0 + step * k` (mod 2^32), `c0` its value on entry.
    pub counter: u32,
    /// `±2^j`, `j` at most 16; positive for [`TripTest::Below`], negative
    /// for [`TripTest::Above`].
    pub step: i64,
    /// The back edge is taken while `counter + bias` (mod 2^32) passes
    /// `test` against the limit.
    pub bias: i64,
    pub test: TripTest,
    /// The limit is this local's value on entry (never changed by the
    /// loop), or 0, plus `limit_add` (mod 2^32).
    pub limit_local: Option<u32>,
    pub limit_add: i64,
}

/// The test of a loop's only back edge: `x` is the counter plus its bias,
/// `n` the limit, both 32-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TripTest {
    /// Back while `x != n`: the loop ends when the counter meets `n`,
    /// after `(n - x0) / step` (mod 2^32) more visits when that divides;
    /// otherwise the counter may never meet it.
    Ne,
    /// Back while `x < n` (`x <= n` if `inclusive`: `x < n + 1`), signed
    /// or unsigned, the counter stepping up: `last = ceil((n - x0) /
    /// step)` more visits (0 if `x0 >= n`), when the first value that
    /// fails the test, `x0 + step * last`, has not wrapped past the type's
    /// largest value (otherwise the test may hold again).
    Below { signed: bool, inclusive: bool },
    /// Back while `x > n` (`x >= n`), the counter stepping down, the
    /// mirror image of `Below`.
    Above { signed: bool, inclusive: bool },
}

impl TripTest {
    /// The test `counter cmp limit` makes, with the step's sign it needs.
    fn of(cmp: Cmp) -> Option<(TripTest, bool)> {
        let below = |signed, inclusive| Some((TripTest::Below { signed, inclusive }, true));
        let above = |signed, inclusive| Some((TripTest::Above { signed, inclusive }, false));
        match cmp {
            Cmp::Ne => Some((TripTest::Ne, true)),
            Cmp::LtU => below(false, false),
            Cmp::LtS => below(true, false),
            Cmp::LeU => below(false, true),
            Cmp::LeS => below(true, true),
            Cmp::GtU => above(false, false),
            Cmp::GtS => above(true, false),
            Cmp::GeU => above(false, true),
            Cmp::GeS => above(true, true),
            Cmp::Eq => None,
        }
    }
}

impl TripCount {
    /// The locals it reads.
    pub fn locals(&self) -> impl Iterator<Item = u32> {
        std::iter::once(self.counter).chain(self.limit_local)
    }
}

/// The bytes the accesses through one induction local touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerRange {
    /// The local; at header visit `k` its value is `p0 + step * k`
    /// (mod 2^32), `p0` its value on entry.
    pub local: u32,
    /// A loop-invariant local whose value on entry is added to `p`.
    pub plus: Option<u32>,
    /// At most 2^16 either way.
    pub step: i64,
    /// Every access touches bytes `[p + q + lo, p + q + hi)` (unwrapped,
    /// in the iteration's header value `p` and `plus`'s value `q`, if
    /// any), offset and width included.
    pub lo: i64,
    pub hi: i64,
}

/// One check before a loop covering some of its accesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoistedLoop {
    /// Byte offset of the `loop` operator in the module.
    pub loop_offset: u32,
    /// `None` when every range has step 0 (it holds in every iteration).
    pub trip: Option<TripCount>,
    pub ranges: Vec<PointerRange>,
    /// Byte offsets in the module of the accesses covered, sorted.
    pub accesses: Vec<u32>,
}

impl HoistedLoop {
    /// Whether the access at module byte offset `offset` is covered.
    pub fn covers(&self, offset: usize) -> bool {
        u32::try_from(offset).is_ok_and(|o| self.accesses.binary_search(&o).is_ok())
    }
}

/// The largest step a counter or pointer may take.
const MAX_STEP: i64 = 1 << 16;
/// The widest offset range of an access through an unchanged base.
const MAX_BASED_SPAN: i64 = 1 << 31;

/// An access's index as a relation to a loop header, and where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AccessSym {
    pub sym: Sym,
    /// Offset plus width.
    pub end: u64,
}

impl Interp<'_> {
    /// The run-time trip count of the loop at `pc` (ending at `end`)
    /// whose final pass was `pass`, if it has no loop inside and one.
    pub(super) fn loop_trip(&self, pc: usize, end: usize, pass: &Pass) -> Option<TripCount> {
        if self.ops[pc + 1..end].iter().any(|(op, _)| matches!(op, wasmparser::Operator::Loop { .. })) {
            return None;
        }
        let [cond] = pass.conds.as_slice() else {
            return None;
        };
        if !pass.back.live || pass.other || cond.width != 32 {
            return None;
        }
        let loop_pc = pc as u32;
        trip_count(loop_pc, cond, &|l| back_step(loop_pc, pass, l))
    }

    /// The hoisted check for the loop at `pc` (ending at `end`) whose
    /// final pass was `pass` and trip count `trip`, if it has one.
    pub(super) fn hoistable(&self, pc: usize, end: usize, pass: &Pass, trip: Option<&TripCount>) -> Option<HoistedLoop> {
        let body = pc + 1..end;
        let loop_pc = pc as u32;
        let step = |local: u32| back_step(loop_pc, pass, local);
        let mut ranges: Vec<PointerRange> = Vec::new();
        let mut accesses = Vec::new();
        // A call per iteration costs more than the checks would save,
        // and the copy doubles the loop's compile time.
        let calls = self.ops[body.clone()]
            .iter()
            .any(|(op, _)| matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. }));
        for i in body.clone() {
            if self.proven[i] {
                continue;
            }
            let stepped = self.access_syms[i]
                .filter(|_| trip.is_some())
                .and_then(|a| stepped_range(loop_pc, a, &step));
            let based = || {
                let (b, end) = self.access_based[i].filter(|_| !calls)?;
                let invariant = b.loop_pc == loop_pc && step(b.local) == Some(0);
                // A wider offset could only pass with a memory of 2 GiB
                // and more: its check would fail the loop's other ranges.
                (invariant && b.hi - b.lo <= MAX_BASED_SPAN).then(|| PointerRange { local: b.local, plus: None, step: 0, lo: b.lo, hi: b.hi + end as i64 })
            };
            let Some(PointerRange { local, plus, step: d, lo, hi }) = stepped.or_else(based) else {
                continue;
            };
            match ranges.iter_mut().find(|r| r.local == local && r.plus == plus) {
                Some(r) => {
                    r.lo = r.lo.min(lo);
                    r.hi = r.hi.max(hi);
                }
                None => ranges.push(PointerRange { local, plus, step: d, lo, hi }),
            }
            accesses.push(self.ops[i].1 as u32);
        }
        // The check-free copy runs inner loops without their checks.
        let inner: usize = self.hoists.within(body).iter().map(|(_, h)| h.accesses.len()).sum();
        let trip = trip.filter(|_| ranges.iter().any(|r| r.step != 0)).cloned();
        (accesses.len() > inner).then(|| HoistedLoop {
            loop_offset: self.ops[pc].1 as u32,
            trip,
            ranges,
            accesses,
        })
    }
}

/// The range of an access whose index is a stepping local of the loop
/// at `loop_pc` plus a constant (plus a loop-invariant local), if its
/// step is small enough.
fn stepped_range(loop_pc: u32, a: AccessSym, step: &impl Fn(u32) -> Option<i64>) -> Option<PointerRange> {
    if a.sym.loop_pc != loop_pc || a.sym.width != 32 {
        return None;
    }
    // `p + q`: one of them must be loop-invariant.
    let (local, plus) = match a.sym.plus {
        Some(q) if step(q) == Some(0) => (a.sym.local, Some(q)),
        Some(q) if step(a.sym.local) == Some(0) => (q, Some(a.sym.local)),
        Some(_) => return None,
        None => (a.sym.local, None),
    };
    let d = step(local).filter(|d| d.abs() <= MAX_STEP)?;
    Some(PointerRange { local, plus, step: d, lo: a.sym.delta, hi: a.sym.delta + a.end as i64 })
}

/// The step of `local` on the back edges of the loop at `loop_pc`, where
/// it is its header value plus a constant.
fn back_step(loop_pc: u32, pass: &Pass, local: u32) -> Option<i64> {
    match pass.back.syms.get(local as usize).copied().flatten() {
        Some(s) if s.loop_pc == loop_pc && s.steps(local) && s.width == 32 => Some(s.delta),
        _ => None,
    }
}

/// The trip count of a loop whose only back edge is taken on `cond`, if
/// one operand is the counter, stepping towards the other, the limit.
fn trip_count(loop_pc: u32, cond: &Cond, step: &impl Fn(u32) -> Option<i64>) -> Option<TripCount> {
    for (counter, limit, cmp) in [(cond.a, cond.b, cond.cmp), (cond.b, cond.a, swapped(cond.cmp))] {
        let Some(c) = counter.sym.filter(|s| s.loop_pc == loop_pc && s.width == 32 && s.plus.is_none()) else {
            continue;
        };
        let Some((test, up)) = TripTest::of(cmp) else {
            continue;
        };
        let Some(s) = step(c.local).filter(|s| *s != 0 && s.abs() <= MAX_STEP && s.unsigned_abs().is_power_of_two())
        else {
            continue;
        };
        if test != TripTest::Ne && (s > 0) != up {
            continue;
        }
        let Some((limit_local, limit_add)) = invariant(loop_pc, &limit, step) else {
            continue;
        };
        return Some(TripCount { counter: c.local, step: s, bias: c.delta, test, limit_local, limit_add });
    }
    None
}

/// `b cmp' a` for `a cmp b`.
fn swapped(cmp: Cmp) -> Cmp {
    use Cmp::*;
    match cmp {
        Eq => Eq,
        Ne => Ne,
        LtU => GtU,
        GtU => LtU,
        LeU => GeU,
        GeU => LeU,
        LtS => GtS,
        GtS => LtS,
        LeS => GeS,
        GeS => LeS,
    }
}

/// An operand the same in every iteration: a constant, or a local the
/// loop never changes plus a constant.
fn invariant(loop_pc: u32, o: &Operand, step: &impl Fn(u32) -> Option<i64>) -> Option<(Option<u32>, i64)> {
    if let Some(c) = o.val.constant(32) {
        return Some((None, c as i64));
    }
    let s = o.sym.filter(|s| s.loop_pc == loop_pc && s.width == 32 && s.plus.is_none())?;
    (step(s.local) == Some(0)).then_some((Some(s.local), s.delta))
}
