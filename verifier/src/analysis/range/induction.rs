//! Loop induction variables: bounds that intervals alone cannot find.
//!
//! A local is an *induction variable* of a loop when every back edge
//! carries its header value plus the same constant step (tracked as a
//! [`Sym`] relation during the pass). If one of them is known to take
//! distinct values inside a bounded range at the header (intervals), or
//! counts by one towards a loop-invariant limit it is compared with by
//! `!=` on the only back edge, the header is visited at most `K` times
//! per entry into the loop. Every other induction variable `v` then lies
//! in `v0 + step * [0, K - 1]`, `v0` being its value on entry, as long as
//! that range does not wrap. This is what bounds a pointer stepped beside
//! a separate trip counter (`p += 8` while `n--`).
//!
//! It only ever narrows the header state of a loop whose fixpoint the
//! interval iteration has already found; a relation it cannot establish
//! leaves the header as it is.

use super::value::{Cmp, Val, Width};
use super::{Interp, Pass, State, Sym};

/// `2^w`.
fn modulus(w: Width) -> i128 {
    1i128 << w
}

fn umax(w: Width) -> i128 {
    modulus(w) - 1
}

fn srange(w: Width) -> (i128, i128) {
    (-(modulus(w) / 2), modulus(w) / 2 - 1)
}

/// Most header visits of a variable stepping by `step` (mod 2^w) while
/// staying inside `lo..=hi` (an arc of the circle of values): a step no
/// larger than the gap outside the arc cannot jump over it, so the values
/// are monotone inside the arc and distinct.
fn visits_within(lo: i128, hi: i128, step: i64, w: Width) -> Option<i128> {
    let step = i128::from(step).abs();
    let width = hi - lo + 1;
    (step > 0 && step <= modulus(w) - width).then(|| (hi - lo) / step + 1)
}

/// Drops the relations to the header of loop `loop_pc` from a state
/// leaving it. A local still equal to its header value takes `kept`, its
/// relation on entering the loop when the loop never changes it.
pub(super) fn forget_loop(state: &mut State, loop_pc: u32, kept: &[Option<Sym>]) {
    if !state.live {
        return;
    }
    for (l, sym) in state.syms.iter_mut().enumerate() {
        let Some(s) = *sym else { continue };
        if s.loop_pc == loop_pc {
            let header_value = s.delta == 0 && s.steps(l as u32);
            *sym = if header_value { kept.get(l).copied().flatten() } else { None };
        }
    }
    let of_loop = |s: &Option<Sym>| s.is_some_and(|s| s.loop_pc == loop_pc);
    for slot in &mut state.stack {
        if of_loop(&slot.sym) {
            slot.sym = None;
        }
        if slot.based.is_some_and(|b| b.loop_pc == loop_pc) {
            slot.based = None;
        }
        if let Some(c) = &mut slot.cond {
            for o in [&mut c.a, &mut c.b] {
                if of_loop(&o.sym) {
                    o.sym = None;
                }
            }
        }
    }
}

impl Interp<'_> {
    /// Most header visits per entry into the loop at `pc`, when its
    /// induction variables bound them. `pass` is the pass from `head`
    /// (closed under the back edges) and `entry` the state entering the
    /// loop.
    pub(super) fn header_visits(&self, pc: usize, entry: &State, head: &State, pass: &Pass) -> Option<i128> {
        if !pass.back.live || !head.live || !entry.live {
            return None;
        }
        let steps = induction_steps(pc as u32, pass);
        let mut visits: Option<i128> = ne_exit_visits(pc as u32, entry, &steps, pass);
        for (l, step) in steps.iter().enumerate() {
            let Some((d, w)) = *step else { continue };
            let v = head.locals[l].norm(w);
            let by_u = visits_within(i128::from(v.u.0), i128::from(v.u.1), d, w);
            let by_s = visits_within(i128::from(v.s.0), i128::from(v.s.1), d, w);
            for k in [by_u, by_s].into_iter().flatten() {
                visits = Some(visits.map_or(k, |m| m.min(k)));
            }
        }
        visits
    }

    /// The header state `head` of the loop at `pc` narrowed by its
    /// induction variables, if that narrows anything. `visits` is
    /// [`Interp::header_visits`] of `head` and `pass`; `entry` the state
    /// entering the loop.
    pub(super) fn induction(
        &self,
        pc: usize,
        entry: &State,
        head: &State,
        pass: &Pass,
        visits: Option<i128>,
    ) -> Option<State> {
        let steps = induction_steps(pc as u32, pass);
        let span_count = visits? - 1;
        let mut counted = head.clone();
        let mut narrowed = false;
        for (l, step) in steps.iter().enumerate() {
            let Some((d, w)) = *step else { continue };
            if d == 0 {
                continue;
            }
            let span = i128::from(d) * span_count;
            let (down, up) = (span.min(0), span.max(0));
            let v0 = entry.locals[l].norm(w);
            let old = counted.locals[l];
            let mut v = old;
            let (ulo, uhi) = (i128::from(v0.u.0) + down, i128::from(v0.u.1) + up);
            if ulo >= 0 && uhi <= umax(w) {
                v = v.meet_u(ulo as u64, uhi as u64, w)?;
            }
            let (slo, shi) = (i128::from(v0.s.0) + down, i128::from(v0.s.1) + up);
            if slo >= srange(w).0 && shi <= srange(w).1 {
                v = v.meet_s(slo as i64, shi as i64, w)?;
            }
            narrowed |= v != old.norm(w);
            counted.locals[l] = v;
        }
        narrowed.then_some(counted)
    }
}

/// Step and width of each local that is an induction variable of the
/// loop at `loop_pc` (step 0: loop-invariant) in `pass`.
fn induction_steps(loop_pc: u32, pass: &Pass) -> Vec<Option<(i64, Width)>> {
    pass.back
        .syms
        .iter()
        .enumerate()
        .map(|(l, s)| match *s {
            Some(s) if s.loop_pc == loop_pc && s.steps(l as u32) => Some((s.delta, s.width)),
            _ => None,
        })
        .collect()
}

/// Most header visits of a loop whose only back edge is a `br_if` on
/// `c != n`, `c` being an induction variable `x` (plus a constant) that
/// steps by one towards the loop-invariant `n` from a start on the right
/// side of it: `c` meets `n` before it could pass it, so it stays
/// between its start and `n`.
fn ne_exit_visits(
    loop_pc: u32,
    entry: &State,
    steps: &[Option<(i64, Width)>],
    pass: &Pass,
) -> Option<i128> {
    let [cond] = pass.conds.as_slice() else {
        return None;
    };
    if pass.other || cond.cmp != Cmp::Ne {
        return None;
    }
    let w = cond.width;
    let invariant = |o: &super::Operand| {
        o.val.constant(w).is_some()
            || o.sym.is_some_and(|s| {
                s.loop_pc == loop_pc
                    && s.plus.is_none()
                    && s.delta == 0
                    && steps.get(s.local as usize) == Some(&Some((0, w)))
            })
    };
    for (counter, limit) in [(cond.a, cond.b), (cond.b, cond.a)] {
        let Some(sym) = counter.sym.filter(|s| s.plus.is_none()) else {
            continue;
        };
        if sym.loop_pc != loop_pc || sym.width != w || !invariant(&limit) {
            continue;
        }
        let Some(Some((step, _))) = steps.get(sym.local as usize) else {
            continue;
        };
        let n: Val = limit.val.norm(w);
        let v0 = entry.locals[sym.local as usize].norm(w);
        let delta = i128::from(sym.delta);
        let (c0_lo, c0_hi) = (i128::from(v0.u.0) + delta, i128::from(v0.u.1) + delta);
        let (n_lo, n_hi) = (i128::from(n.u.0), i128::from(n.u.1));
        match step {
            1 if c0_lo >= 0 && c0_hi <= n_lo => return Some(n_hi - c0_lo + 1),
            -1 if c0_hi <= umax(w) && c0_lo >= n_hi => return Some(c0_hi - n_lo + 1),
            _ => {}
        }
    }
    None
}
