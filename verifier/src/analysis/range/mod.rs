//! Range analysis: which memory accesses stay inside the memory's minimum
//! size on every path, so the compiler can drop their bounds checks.
//!
//! An abstract interpretation of each function's Wasm operators, in the
//! style of eBPF's verifier: every integer local and operand-stack slot
//! holds an unsigned and a signed interval ([`value::Val`]). Branches
//! (`br_if`, `if`) on a comparison narrow the compared locals on each
//! side; joins take the union; a loop header is iterated to a fixpoint,
//! widening bounds that grow to the next constant the loop compares with (then to
//! the type's limit) and narrowing once after, so a counter `i` from a
//! known start, stepped by a constant and exited by `i < n` or `i != n`
//! gets its range. Every iteration result is re-checked: a loop's final
//! pass runs from a header state that its own back edges stay within.
//!
//! A load or store is *proven* when its index's largest value plus its
//! offset plus its width is at most the declared initial memory size:
//! memories only grow, so that bound holds for the whole run.
//!
//! What it assumes nothing about: parameters, globals (mutable, and
//! changed by calls), call results and loaded values (except narrow
//! unsigned loads) are any value of their type; declared locals start at
//! 0. Anything it does not model (floats, references, tables, bulk
//! memory) produces "any value". A function that exceeds the iteration
//! budget or nests loops too deeply gets no proofs at all: a missed proof
//! only costs a check, a wrong one would be a memory-safety hole.
//!
//! An access it cannot prove may still be *hoistable* (`hoist`): covered
//! by one check before its loop, from the loop's locals on entry.
//!
//! It does not prove bulk-memory operations (`memory.copy`/`fill`/`init`
//! keep their checks) and does not track pointers loaded from memory or
//! stored in globals, such as a C stack pointer.

mod hoist;
mod induction;
mod short;
mod value;

pub use hoist::{HoistedLoop, PointerRange, TripCount, TripTest};
pub use short::{LoopBound, ShortLoop, MAX_OPS_BETWEEN, MAX_VISITS};

use super::access_groups::{self, FuncGroups};
use crate::module::VerifiedModule;
use induction::forget_loop;
use value::{refine, Cmp, Val, Width};
use wasmparser::{
    BinaryReaderError, BlockType, ContType, FrameKind as ParserFrameKind, FunctionBody,
    ModuleArity, Operator, RefType, SubType, ValType,
};

/// What the analysis proved about one defined function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuncAccesses {
    /// Loads and stores in the body (bulk-memory operations not counted).
    pub accesses: u32,
    /// Byte offsets in the module of the loads and stores proven to stay
    /// inside the minimum memory, sorted.
    pub proven: Vec<u32>,
    /// Loops whose other accesses one check before the loop covers, in
    /// the order of their `loop` operators.
    pub hoisted: Vec<HoistedLoop>,
    /// Loops whose header needs no checkpoint (always, or when their
    /// run-time trip count is small), in the order of their `loop`
    /// operators.
    pub short_loops: Vec<ShortLoop>,
    /// Whether the analysis ran to the end; if not (budget, nesting), it
    /// proved nothing in this function.
    pub analysed: bool,
    /// The index range of every access the analysis reached, sorted by
    /// offset: what proved it, or why it is not proven (`kwo verify
    /// --log=2`).
    pub index_ranges: Vec<IndexRange>,
}

/// The values an access's 32-bit index may take where the analysis
/// reached it (the union over the paths of its last pass): proven when
/// `hi + end` is at most the minimum memory size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRange {
    /// Byte offset of the load or store in the module.
    pub offset: u32,
    /// Smallest and largest unsigned value of the index.
    pub lo: u64,
    pub hi: u64,
    /// The access's static offset plus its width in bytes.
    pub end: u64,
}

impl FuncAccesses {
    /// Whether the access at module byte offset `offset` is proven.
    pub fn is_proven(&self, offset: usize) -> bool {
        u32::try_from(offset).is_ok_and(|o| self.proven.binary_search(&o).is_ok())
    }

    /// Accesses covered by a check before their loop.
    pub fn hoisted_count(&self) -> u32 {
        self.hoisted.iter().map(|h| h.accesses.len() as u32).sum()
    }

    /// The hoisted check of the loop at module byte offset `offset`.
    pub fn hoisted_at(&self, offset: usize) -> Option<&HoistedLoop> {
        let offset = u32::try_from(offset).ok()?;
        let i = self.hoisted.binary_search_by_key(&offset, |h| h.loop_offset).ok()?;
        self.hoisted.get(i)
    }

    /// Whether the loop at module byte offset `offset` needs no header
    /// checkpoint, and when.
    pub fn short_at(&self, offset: usize) -> Option<&ShortLoop> {
        let offset = u32::try_from(offset).ok()?;
        let i = self.short_loops.binary_search_by_key(&offset, |s| s.loop_offset).ok()?;
        self.short_loops.get(i)
    }

    /// Accesses that keep their bounds check in every copy of their code.
    pub fn checked(&self) -> u32 {
        self.accesses - self.proven.len() as u32 - self.hoisted_count()
    }
}

/// Proven and checked memory accesses of a whole module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessCounts {
    pub proven: u64,
    /// Covered by a check before their loop (`hoist`).
    pub hoisted: u64,
    pub checked: u64,
}

impl AccessCounts {
    /// Sums the per-function facts (parallel to `VerifiedModule::bodies`).
    pub fn of(funcs: &[FuncAccesses]) -> AccessCounts {
        funcs
            .iter()
            .fold(AccessCounts::default(), |c, f| AccessCounts {
                proven: c.proven + f.proven.len() as u64,
                hoisted: c.hoisted + u64::from(f.hoisted_count()),
                checked: c.checked + u64::from(f.checked()),
            })
    }

    /// Proven accesses as a fraction of all (0 when there are none).
    pub fn proven_fraction(&self) -> f64 {
        self.fraction(self.proven)
    }

    /// Hoisted accesses as a fraction of all (0 when there are none).
    pub fn hoisted_fraction(&self) -> f64 {
        self.fraction(self.hoisted)
    }

    fn fraction(&self, part: u64) -> f64 {
        let total = self.proven + self.hoisted + self.checked;
        if total == 0 {
            0.0
        } else {
            part as f64 / total as f64
        }
    }
}

/// Runs the analysis over every defined function, and the search for
/// groups of loads (`access_groups`), which needs its proofs, over the
/// same operators.
pub(crate) fn analyze(module: &VerifiedModule) -> Result<(Vec<FuncAccesses>, Vec<FuncGroups>), BinaryReaderError> {
    let min_bytes = module.memory.map_or(0, |m| u64::from(m.min) << 16);
    let mut out = Vec::with_capacity(module.bodies.len());
    let mut groups = Vec::with_capacity(module.bodies.len());
    for (i, body) in module.bodies.iter().enumerate() {
        let bytes = &module.wasm[body.range.clone()];
        let reader = FunctionBody::new(wasmparser::BinaryReader::new(bytes, body.range.start));
        let ty = &module.types[module.funcs[i] as usize];
        let mut locals: Vec<Val> = vec![Val::TOP; ty.params().len()];
        let mut widths: Vec<Option<Width>> = ty.params().iter().map(|t| int_width(*t)).collect();
        for decl in reader.get_locals_reader()? {
            let (count, ty) = decl?;
            // Bounded by the verifier's `max-locals` limit.
            locals.extend(std::iter::repeat_n(Val::exact(0, 64), count as usize));
            widths.extend(std::iter::repeat_n(int_width(ty), count as usize));
        }
        let mut ops = Vec::new();
        let mut r = reader.get_operators_reader()?;
        while !r.eof() {
            ops.push(r.read_with_offset()?);
        }
        // Nothing to prove, hoist or run without a checkpoint: the
        // analysis would find no facts.
        if !ops.iter().any(|(op, _)| access(op).is_some() || matches!(op, Operator::Loop { .. })) {
            out.push(FuncAccesses::default());
            groups.push(FuncGroups::default());
            continue;
        }
        let results = ty.results().len();
        let (proofs, func_groups) = Interp::new(module, ops, min_bytes).run_function(locals, widths, results);
        out.push(proofs);
        groups.push(func_groups);
    }
    Ok((out, groups))
}

fn int_width(ty: ValType) -> Option<Width> {
    match ty {
        ValType::I32 => Some(32),
        ValType::I64 => Some(64),
        _ => None,
    }
}

/// Passes over one loop body before giving up on the function.
const MAX_LOOP_PASSES: u32 = 16;
/// Widening passes that stop at the function's constants before bounds
/// that still grow go to the type's limit.
const THRESHOLD_PASSES: u32 = 6;
/// Loops nested deeper than this are not analysed (recursion depth).
const MAX_LOOP_DEPTH: usize = 32;
/// Work allowed per operator of the body, plus a constant (see
/// [`Interp::charge`]): enough for the nested loops of the benchmark
/// kernels, and about a second for the largest body `max-function-size`
/// admits.
const BUDGET_PER_OP: u64 = 1024;
const BUDGET_BASE: u64 = 4096;

/// The function is not analysed (too costly or not understood).
struct GiveUp;

/// A comparison result on the stack: the operands it compared, so a
/// branch on it can narrow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cond {
    cmp: Cmp,
    width: Width,
    a: Operand,
    b: Operand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operand {
    val: Val,
    /// The local it is a copy of, while that local is not written.
    local: Option<u32>,
    sym: Option<Sym>,
}

/// A value equal to what local `local` held at the header of the loop at
/// operator `loop_pc`, in the same iteration, plus `delta` (mod 2^width):
/// how induction variables are recognised (`induction`). With `plus`, the
/// header value of that second local is added too (`p + q`, for hoisted
/// checks); such a sum is no induction relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sym {
    loop_pc: u32,
    local: u32,
    delta: i64,
    width: Width,
    plus: Option<u32>,
}

impl Sym {
    /// Whether this is `local`'s own header value plus a constant.
    fn steps(&self, local: u32) -> bool {
        self.local == local && self.plus.is_none()
    }
}

/// Deltas beyond this are forgotten (they never overflow the arithmetic).
const MAX_DELTA: i64 = 1 << 32;

/// A 32-bit value equal to what local `local` held at the header of the
/// loop at `loop_pc`, in the same iteration, plus some `k` in `lo..=hi`
/// (mod 2^32): a base plus an offset the intervals bound, such as
/// `p + (h & 0x7fff) * 2`. When the loop never changes `local`, one check
/// of its value on entry covers the access in every iteration, whatever
/// the trip count (`hoist`). `lo` and `hi` stay within `MAX_DELTA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Based {
    loop_pc: u32,
    local: u32,
    lo: i64,
    hi: i64,
}

impl Based {
    /// `self` plus a 32-bit value in `v` (minus it if `neg`): `v`'s
    /// unsigned or signed interval is a set of integers congruent to it
    /// mod 2^32, so either bounds the offset; the narrower is taken, or
    /// on a tie the one nearer 0 (`-1` rather than `2^32 - 1`).
    fn plus(self, v: Val, neg: bool) -> Option<Based> {
        let v = v.norm(32);
        let unsigned = (v.u.0 as i64, v.u.1 as i64);
        let key = |(lo, hi): (i64, i64)| (hi - lo, lo.abs().max(hi.abs()));
        let (lo, hi) = if key(unsigned) <= key(v.s) { unsigned } else { v.s };
        let (lo, hi) = if neg { (-hi, -lo) } else { (lo, hi) };
        let (lo, hi) = (self.lo.checked_add(lo)?, self.hi.checked_add(hi)?);
        let small = |x: i64| x.unsigned_abs() <= MAX_DELTA as u64;
        (small(lo) && small(hi)).then_some(Based { lo, hi, ..self })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    val: Val,
    local: Option<u32>,
    cond: Option<Cond>,
    sym: Option<Sym>,
    based: Option<Based>,
}

impl Slot {
    fn of(val: Val) -> Slot {
        Slot {
            val,
            local: None,
            cond: None,
            sym: None,
            based: None,
        }
    }

    /// This 32-bit value as a header value plus a bounded offset: its
    /// `based` relation, or its `sym` one (an exact offset).
    fn base(&self) -> Option<Based> {
        self.based.or_else(|| {
            let s = self.sym.filter(|s| s.width == 32 && s.plus.is_none())?;
            Some(Based { loop_pc: s.loop_pc, local: s.local, lo: s.delta, hi: s.delta })
        })
    }

    fn join(self, other: Slot) -> Slot {
        Slot {
            val: self.val.join(other.val),
            local: if self.local == other.local {
                self.local
            } else {
                None
            },
            cond: if self.cond == other.cond {
                self.cond
            } else {
                None
            },
            sym: if self.sym == other.sym {
                self.sym
            } else {
                None
            },
            based: if self.based == other.based {
                self.based
            } else {
                None
            },
        }
    }

    fn operand(self, width: Width) -> Operand {
        Operand {
            val: self.val.norm(width),
            local: self.local,
            sym: self.sym,
        }
    }

    /// The condition a branch on this slot tests: its comparison, or the
    /// value being non-zero.
    fn as_cond(self) -> Cond {
        self.cond.unwrap_or(Cond {
            cmp: Cmp::Ne,
            width: 32,
            a: self.operand(32),
            b: Slot::of(Val::exact(0, 32)).operand(32),
        })
    }

    /// Whether `self` says no more than `other` (which may claim a copy or
    /// a condition only if `self` claims the same).
    fn within(&self, other: &Slot) -> bool {
        self.val.within(other.val)
            && (other.local.is_none() || other.local == self.local)
            && (other.cond.is_none() || other.cond == self.cond)
    }
}

/// The abstract machine state at a program point; `live: false` means no
/// execution reaches it.
#[derive(Debug, Clone)]
struct State {
    live: bool,
    locals: Vec<Val>,
    /// Per local, its relation to its value at the innermost loop header.
    syms: Vec<Option<Sym>>,
    stack: Vec<Slot>,
}

impl State {
    fn dead() -> State {
        State {
            live: false,
            locals: Vec::new(),
            syms: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Joins in place, reusing `self`'s vectors.
    fn join(mut self, other: State) -> Result<State, GiveUp> {
        if !other.live {
            return Ok(self);
        }
        if !self.live {
            return Ok(other);
        }
        if self.locals.len() != other.locals.len() || self.stack.len() != other.stack.len() {
            return Err(GiveUp);
        }
        for (a, b) in self.locals.iter_mut().zip(&other.locals) {
            *a = a.join(*b);
        }
        for (a, b) in self.syms.iter_mut().zip(&other.syms) {
            if a != b {
                *a = None;
            }
        }
        for (a, b) in self.stack.iter_mut().zip(&other.stack) {
            *a = a.join(*b);
        }
        Ok(self)
    }

    /// Whether `self` says no more than `other` about values (induction
    /// relations are per pass and not compared).
    fn within(&self, other: &State) -> bool {
        if !self.live {
            return true;
        }
        other.live
            && self.locals.len() == other.locals.len()
            && self.stack.len() == other.stack.len()
            && self
                .locals
                .iter()
                .zip(&other.locals)
                .all(|(a, b)| a.within(*b))
            && self
                .stack
                .iter()
                .zip(&other.stack)
                .all(|(a, b)| a.within(b))
    }

    /// After a write to `local`: no slot is a copy of it any more.
    fn forget_copies(&mut self, local: u32) {
        for slot in &mut self.stack {
            if slot.local == Some(local) {
                slot.local = None;
            }
            if let Some(c) = &mut slot.cond {
                for op in [&mut c.a, &mut c.b] {
                    if op.local == Some(local) {
                        op.local = None;
                    }
                }
            }
        }
    }

    /// Narrows `local` (and its copies on the stack) to `val`.
    fn narrow_local(&mut self, local: u32, val: Val, width: Width) {
        let Some(cur) = self.locals.get(local as usize).copied() else {
            return;
        };
        match cur.meet(val, width) {
            Some(v) => {
                self.locals[local as usize] = v;
                for slot in &mut self.stack {
                    if slot.local == Some(local) {
                        slot.val = v;
                    }
                }
            }
            None => self.live = false,
        }
    }

    /// The state on the side of a branch where `slot` (the condition) is
    /// non-zero (`taken`) or zero.
    fn assume(&self, slot: Slot, taken: bool) -> State {
        let mut out = self.clone();
        out.narrow(slot, taken);
        out
    }

    /// Narrows this state to the side of a branch where `slot` (the
    /// condition) is non-zero (`taken`) or zero.
    fn narrow(&mut self, slot: Slot, taken: bool) {
        let cond = slot.as_cond();
        let cmp = if taken { cond.cmp } else { cond.cmp.negate() };
        match refine(cmp, cond.a.val, cond.b.val, cond.width) {
            None => self.live = false,
            Some((a, b)) => {
                if let Some(l) = cond.a.local {
                    self.narrow_local(l, a, cond.width);
                }
                if let Some(l) = cond.b.local {
                    self.narrow_local(l, b, cond.width);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    If,
}

struct Frame {
    kind: Kind,
    /// Operand stack height below the frame's parameters.
    height: usize,
    params: usize,
    results: usize,
    /// Join of the states branching to the frame's label (the back edges
    /// for a loop).
    branches: State,
    /// For an `if`: the state entering its `else` arm, until it starts.
    else_state: Option<State>,
    /// For a loop: the conditions of its `br_if` back edges, and whether
    /// another kind of branch (`br`, `br_table`) goes back too.
    back_conds: Vec<Cond>,
    back_other: bool,
}

/// What branches to a frame have brought so far, saved before a pass over
/// a loop inside it: each pass starts again from it.
struct Labels {
    branches: State,
    back_conds: Vec<Cond>,
    back_other: bool,
}

impl Labels {
    fn of(frame: &Frame) -> Labels {
        Labels {
            branches: frame.branches.clone(),
            back_conds: frame.back_conds.clone(),
            back_other: frame.back_other,
        }
    }

    fn restore(&self, frame: &mut Frame) {
        frame.branches = self.branches.clone();
        frame.back_conds = self.back_conds.clone();
        frame.back_other = self.back_other;
    }
}

/// What one pass over a loop body found at its back edges.
struct Pass {
    back: State,
    conds: Vec<Cond>,
    other: bool,
}

/// What the analysis found about loops, by the index of their `loop`
/// operator, sorted: loops are few next to operators, and every pass over
/// a loop forgets what its inner loops recorded, which a vector per
/// operator paid for with a write per operator of the body.
struct ByLoop<T>(Vec<(usize, T)>);

impl<T> ByLoop<T> {
    /// Records (or, `None`, forgets) what was found about the loop at `pc`.
    fn set(&mut self, pc: usize, found: Option<T>) {
        match (self.0.binary_search_by_key(&pc, |&(at, _)| at), found) {
            (Ok(k), Some(found)) => self.0[k].1 = found,
            (Ok(k), None) => {
                self.0.remove(k);
            }
            (Err(k), Some(found)) => self.0.insert(k, (pc, found)),
            (Err(_), None) => {}
        }
    }

    /// The loops whose `loop` operator is in `range`.
    fn within(&self, range: std::ops::Range<usize>) -> &[(usize, T)] {
        &self.0[self.entries_in(range)]
    }

    /// Forgets the loops whose `loop` operator is in `range`.
    fn clear(&mut self, range: std::ops::Range<usize>) {
        let entries = self.entries_in(range);
        self.0.drain(entries);
    }

    /// The indexes in the vector of the loops whose `loop` operator is in
    /// `range`.
    fn entries_in(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let from = self.0.partition_point(|&(at, _)| at < range.start);
        let to = self.0.partition_point(|&(at, _)| at < range.end);
        from..to.max(from)
    }
}

struct Interp<'m> {
    module: &'m VerifiedModule,
    ops: Vec<(Operator<'m>, usize)>,
    /// For each `block`/`loop`/`if`, the index of its `end`.
    ends: Vec<usize>,
    min_bytes: u64,
    /// Whether each operator (a load or store) is proven; written by the
    /// last pass that reaches it.
    proven: Vec<bool>,
    /// Each unproven access's index as a relation to its loop's header,
    /// written like `proven`.
    access_syms: Vec<Option<hoist::AccessSym>>,
    /// Each unproven access's index as a base plus a bounded offset, and
    /// its offset plus width, written like `proven`.
    access_based: Vec<Option<(Based, u64)>>,
    /// Each loop's hoisted check, written by the last run of the loop.
    hoists: ByLoop<HoistedLoop>,
    /// Each loop that needs no header checkpoint, written like `hoists`.
    short_loops: ByLoop<ShortLoop>,
    /// Each access's index range and end, written like `proven`.
    index_ranges: Vec<Option<(Val, u64)>>,
    frames: Vec<Frame>,
    cur: State,
    /// Width of each integer local (`None` for other types).
    widths: Vec<Option<Width>>,
    budget: u64,
    loop_depth: usize,
}

impl<'m> Interp<'m> {
    fn new(module: &'m VerifiedModule, ops: Vec<(Operator<'m>, usize)>, min_bytes: u64) -> Self {
        let mut ends = vec![0; ops.len()];
        let mut open = Vec::new();
        for (i, (op, _)) in ops.iter().enumerate() {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    open.push(i)
                }
                Operator::End => {
                    if let Some(start) = open.pop() {
                        ends[start] = i;
                    }
                }
                _ => {}
            }
        }
        let budget = BUDGET_BASE + BUDGET_PER_OP * ops.len() as u64;
        Interp {
            module,
            proven: vec![false; ops.len()],
            access_syms: vec![None; ops.len()],
            access_based: vec![None; ops.len()],
            hoists: ByLoop(Vec::new()),
            short_loops: ByLoop(Vec::new()),
            index_ranges: vec![None; ops.len()],
            ops,
            ends,
            min_bytes,
            frames: Vec::new(),
            cur: State::dead(),
            widths: Vec::new(),
            budget,
            loop_depth: 0,
        }
    }

    fn run_function(
        mut self,
        locals: Vec<Val>,
        widths: Vec<Option<Width>>,
        results: usize,
    ) -> (FuncAccesses, FuncGroups) {
        let nlocals = locals.len();
        self.widths = widths;
        self.cur = State {
            live: true,
            syms: vec![None; locals.len()],
            locals,
            stack: Vec::new(),
        };
        self.frames.push(Frame {
            kind: Kind::Block,
            height: 0,
            params: 0,
            results,
            branches: State::dead(),
            else_state: None,
            back_conds: Vec::new(),
            back_other: false,
        });
        let ok = self.run(0, self.ops.len()).is_ok();
        let mut facts = FuncAccesses::default();
        for (i, (op, off)) in self.ops.iter().enumerate() {
            if access(op).is_some() {
                facts.accesses += 1;
                if ok && self.proven[i] {
                    facts.proven.push(*off as u32);
                }
                if let (true, Some((index, end))) = (ok, self.index_ranges[i]) {
                    let (lo, hi) = index.u;
                    facts.index_ranges.push(IndexRange { offset: *off as u32, lo, hi, end });
                }
            }
        }
        if ok {
            facts.hoisted = self.hoists.0.into_iter().map(|(_, h)| h).collect();
            facts.short_loops = self.short_loops.0.into_iter().map(|(_, s)| s).collect();
        }
        facts.analysed = ok;
        let groups = access_groups::scan(&self.ops, &facts, nlocals);
        (facts, groups)
    }

    /// Interprets operators `pc..stop`.
    fn run(&mut self, mut pc: usize, stop: usize) -> Result<(), GiveUp> {
        while pc < stop {
            self.charge(1)?;
            let op = self.ops[pc].0.clone();
            pc = match op {
                Operator::Block { blockty }
                | Operator::Loop { blockty }
                | Operator::If { blockty }
                    if !self.cur.live =>
                {
                    let _ = blockty;
                    self.ends[pc] + 1
                }
                Operator::Loop { blockty } => self.run_loop(pc, blockty)?,
                _ => {
                    self.step(pc, &op)?;
                    pc + 1
                }
            };
        }
        Ok(())
    }

    /// Takes `units` from the budget: one per operator interpreted, and
    /// the size of a state per state copied or joined, so functions with
    /// many locals cannot make the analysis slow.
    fn charge(&mut self, units: usize) -> Result<(), GiveUp> {
        self.budget = self.budget.checked_sub(units as u64).ok_or(GiveUp)?;
        Ok(())
    }

    /// The cost of copying or joining the current state.
    fn state_size(&self) -> usize {
        self.cur.locals.len() + self.cur.stack.len()
    }

    fn block_arity(&self, ty: BlockType) -> (usize, usize) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(t) => self
                .module
                .types
                .get(t as usize)
                .map_or((0, 0), |f| (f.params().len(), f.results().len())),
        }
    }

    fn push_frame(&mut self, kind: Kind, ty: BlockType) -> Result<(), GiveUp> {
        let (params, results) = self.block_arity(ty);
        let height = self.cur.stack.len().checked_sub(params).ok_or(GiveUp)?;
        self.frames.push(Frame {
            kind,
            height,
            params,
            results,
            branches: State::dead(),
            else_state: None,
            back_conds: Vec::new(),
            back_other: false,
        });
        Ok(())
    }

    /// A loop: passes over its body until the header state holds every
    /// state that reaches it. Returns the operator after its `end`.
    fn run_loop(&mut self, pc: usize, ty: BlockType) -> Result<usize, GiveUp> {
        let end = self.ends[pc];
        self.loop_depth += 1;
        if self.loop_depth > MAX_LOOP_DEPTH {
            return Err(GiveUp);
        }
        self.charge((self.frames.len() + 2) * self.state_size() + (end - pc))?;
        let limits = Thresholds::of(&self.ops[pc..end]);
        let entry = self.cur.clone();
        let outer: Vec<Labels> = self.frames.iter().map(Labels::of).collect();
        let mut head = entry.clone();
        let mut widened: Option<State> = None;
        let mut passes = 0;
        // The header state and pass the proofs come from.
        let (head, pass) = loop {
            passes += 1;
            if passes > MAX_LOOP_PASSES {
                return Err(GiveUp);
            }
            let pass = self.loop_pass(pc, end, ty, &head, &entry, &outer)?;
            let next = entry.clone().join(pass.back.clone())?;
            if next.within(&head) {
                // `head` is an invariant and this pass ran from it. Once
                // after widening, try the tighter state the pass produced.
                match widened.take() {
                    Some(wide) if !head.within(&next) => {
                        let tight = self.loop_pass(pc, end, ty, &next, &entry, &outer)?;
                        if entry.clone().join(tight.back.clone())?.within(&next) {
                            break (next, tight);
                        }
                        // Not an invariant: redo the pass from the wide one.
                        let pass = self.loop_pass(pc, end, ty, &wide, &entry, &outer)?;
                        break (wide, pass);
                    }
                    _ => break (head, pass),
                }
            }
            head = self.widen(&head, &next, &limits, passes > THRESHOLD_PASSES);
            widened = Some(head.clone());
        };
        let visits = self.header_visits(pc, &entry, &head, &pass);
        let iterates = pass.back.live;
        let pass = match self.induction(pc, &entry, &head, &pass, visits) {
            // Not closed under the back edges by intervals alone, but it
            // holds every header state by the counting argument.
            Some(counted) => self.loop_pass(pc, end, ty, &counted, &entry, &outer)?,
            None => pass,
        };
        let trip = self.loop_trip(pc, end, &pass);
        let hoisted = self.hoistable(pc, end, &pass, trip.as_ref());
        self.hoists.set(pc, hoisted);
        let short = self.short_loop(pc, end, iterates, visits, trip);
        self.short_loops.set(pc, short);
        self.loop_depth -= 1;
        Ok(end + 1)
    }

    /// One pass over a loop body from header state `head`; returns what
    /// reached its back edges. Leaves `cur` at the loop's fall-through.
    fn loop_pass(
        &mut self,
        pc: usize,
        end: usize,
        ty: BlockType,
        head: &State,
        entry: &State,
        outer: &[Labels],
    ) -> Result<Pass, GiveUp> {
        self.charge((outer.len() + 2) * (head.locals.len() + head.stack.len()))?;
        for (frame, saved) in self.frames.iter_mut().zip(outer) {
            saved.restore(frame);
        }
        self.proven[pc..end].fill(false);
        self.access_syms[pc..end].fill(None);
        self.access_based[pc..end].fill(None);
        self.index_ranges[pc..end].fill(None);
        self.hoists.clear(pc..end);
        self.short_loops.clear(pc..end);
        self.cur = head.clone();
        // Each integer local is, so far, its own header value.
        for (l, sym) in self.cur.syms.iter_mut().enumerate() {
            *sym = self.widths[l].map(|width| Sym {
                loop_pc: pc as u32,
                local: l as u32,
                delta: 0,
                width,
                plus: None,
            });
        }
        for slot in &mut self.cur.stack {
            slot.sym = None;
            slot.based = None;
        }
        self.push_frame(Kind::Loop, ty)?;
        let depth = self.frames.len();
        self.run(pc + 1, end)?;
        if self.frames.len() != depth {
            return Err(GiveUp);
        }
        let frame = self.frames.pop().ok_or(GiveUp)?;
        // Leaving the loop, relations to its header mean nothing; a local
        // the loop never changes keeps the relation it entered with.
        let back = &frame.branches;
        let kept: Vec<Option<Sym>> = (0..entry.syms.len())
            .map(|l| {
                let own = self.cur.syms.get(l).copied().flatten();
                let unchanged = own.is_some_and(|s| s.delta == 0 && s.steps(l as u32))
                    && (!back.live || back.syms.get(l).copied().flatten() == own);
                if unchanged {
                    entry.syms[l]
                } else {
                    None
                }
            })
            .collect();
        let loop_pc = pc as u32;
        let outer_states = self.frames.iter_mut().map(|f| &mut f.branches);
        for state in std::iter::once(&mut self.cur).chain(outer_states) {
            forget_loop(state, loop_pc, &kept);
        }
        Ok(Pass {
            back: frame.branches,
            conds: frame.back_conds,
            other: frame.back_other,
        })
    }

    /// `head` widened to hold `next`: each bound that grew moves to the
    /// next constant the loop compares with, or (`to_limit`) to the type's limit.
    fn widen(&self, head: &State, next: &State, limits: &Thresholds, to_limit: bool) -> State {
        if !head.live {
            return next.clone();
        }
        let widen_val = |h: Val, n: Val| -> Val {
            let mut v = h.join(n);
            if n.u.0 < h.u.0 {
                v.u.0 = if to_limit {
                    0
                } else {
                    below(&limits.u, n.u.0, 0)
                };
            }
            if n.u.1 > h.u.1 {
                v.u.1 = if to_limit {
                    u64::MAX
                } else {
                    above(&limits.u, n.u.1, u64::MAX)
                };
            }
            if n.s.0 < h.s.0 {
                v.s.0 = if to_limit {
                    i64::MIN
                } else {
                    below(&limits.s, n.s.0, i64::MIN)
                };
            }
            if n.s.1 > h.s.1 {
                v.s.1 = if to_limit {
                    i64::MAX
                } else {
                    above(&limits.s, n.s.1, i64::MAX)
                };
            }
            v
        };
        let mut out = head
            .clone()
            .join(next.clone())
            .unwrap_or_else(|_| next.clone());
        for (o, (h, n)) in out
            .locals
            .iter_mut()
            .zip(head.locals.iter().zip(&next.locals))
        {
            *o = widen_val(*h, *n);
        }
        for (o, (h, n)) in out.stack.iter_mut().zip(head.stack.iter().zip(&next.stack)) {
            o.val = widen_val(h.val, n.val);
        }
        out
    }

    /// Adds the current state, as a branch to label `depth` taken when
    /// `cond` holds (`None`: unconditionally), to its frame.
    fn branch(&mut self, depth: u32, cond: Option<Cond>) -> Result<(), GiveUp> {
        self.charge(self.state_size())?;
        let index = self
            .frames
            .len()
            .checked_sub(depth as usize + 1)
            .ok_or(GiveUp)?;
        let frame = &self.frames[index];
        let arity = if frame.kind == Kind::Loop {
            frame.params
        } else {
            frame.results
        };
        let top = self.cur.stack.len().checked_sub(arity).ok_or(GiveUp)?;
        if frame.height > top {
            return Err(GiveUp);
        }
        let mut stack = self.cur.stack[..frame.height].to_vec();
        stack.extend_from_slice(&self.cur.stack[top..]);
        let state = State {
            live: self.cur.live,
            locals: self.cur.locals.clone(),
            syms: self.cur.syms.clone(),
            stack,
        };
        let frame = &mut self.frames[index];
        if frame.kind == Kind::Loop {
            match cond {
                Some(c) => frame.back_conds.push(c),
                None => frame.back_other = true,
            }
        }
        frame.branches = std::mem::replace(&mut frame.branches, State::dead()).join(state)?;
        Ok(())
    }

    fn pop(&mut self) -> Result<Slot, GiveUp> {
        self.cur.stack.pop().ok_or(GiveUp)
    }

    fn push(&mut self, val: Val) {
        self.cur.stack.push(Slot::of(val));
    }

    fn unop(&mut self, w: Width, f: impl FnOnce(Val) -> Val) -> Result<(), GiveUp> {
        let a = self.pop()?.val.norm(w);
        self.push(f(a));
        Ok(())
    }

    fn binop(&mut self, w: Width, f: impl FnOnce(Val, Val) -> Val) -> Result<(), GiveUp> {
        let b = self.pop()?.val.norm(w);
        let a = self.pop()?.val.norm(w);
        self.push(f(a, b));
        Ok(())
    }

    /// `add` or `sub`; adding a constant to a value related to a loop
    /// header keeps the relation; adding two header values (plus
    /// constants) of the same loop gives their sum.
    fn add_sub(&mut self, w: Width, add: bool) -> Result<(), GiveUp> {
        let b = self.pop()?;
        let a = self.pop()?;
        let (av, bv) = (a.val.norm(w), b.val.norm(w));
        let val = if add { av.add(bv, w) } else { av.sub(bv, w) };
        let signed_const = |v: Val| Some(Val::exact(v.constant(w)?, w).s.0);
        let sym = match (a.sym, b.sym) {
            (Some(s), _) if s.width == w => {
                signed_const(bv).map(|c| (s, if add { c } else { c.wrapping_neg() }))
            }
            (_, Some(s)) if s.width == w && add => signed_const(av).map(|c| (s, c)),
            _ => None,
        }
        .or_else(|| {
            let (x, y) = (a.sym?, b.sym?);
            let single = |s: Sym| s.width == w && s.plus.is_none();
            (add && single(x) && single(y) && x.loop_pc == y.loop_pc)
                .then_some((Sym { plus: Some(y.local), ..x }, y.delta))
        })
        .and_then(|(s, c)| {
            let delta = s.delta.checked_add(c)?;
            (delta.unsigned_abs() <= MAX_DELTA as u64).then_some(Sym { delta, ..s })
        });
        // A header value plus (or minus) anything the intervals bound.
        let based = match (a.base(), b.base()) {
            _ if w != 32 => None,
            (Some(x), _) => x.plus(bv, !add),
            (None, Some(y)) if add => y.plus(av, false),
            _ => None,
        };
        self.cur.stack.push(Slot {
            sym,
            based,
            ..Slot::of(val)
        });
        Ok(())
    }

    fn compare(&mut self, w: Width, cmp: Cmp) -> Result<(), GiveUp> {
        let b = self.pop()?;
        let a = self.pop()?;
        self.cur.stack.push(Slot {
            cond: Some(Cond {
                cmp,
                width: w,
                a: a.operand(w),
                b: b.operand(w),
            }),
            ..Slot::of(Val::unsigned(0, 1, 32))
        });
        Ok(())
    }

    fn eqz(&mut self, w: Width) -> Result<(), GiveUp> {
        let a = self.pop()?;
        let cond = match a.cond {
            Some(c) if w == 32 => Cond {
                cmp: c.cmp.negate(),
                ..c
            },
            _ => Cond {
                cmp: Cmp::Eq,
                width: w,
                a: a.operand(w),
                b: Slot::of(Val::exact(0, w)).operand(w),
            },
        };
        self.cur.stack.push(Slot {
            cond: Some(cond),
            ..Slot::of(Val::unsigned(0, 1, 32))
        });
        Ok(())
    }

    /// Records whether the access at `pc` with index `index` is in bounds.
    fn check_access(&mut self, pc: usize, index: Slot, offset: u64, size: u64) {
        let index_val = index.val.norm(32);
        let last = index_val.u.1;
        self.proven[pc] = last + offset + size <= self.min_bytes;
        self.index_ranges[pc] = Some((index_val, offset + size));
        self.access_syms[pc] = index.sym.map(|sym| hoist::AccessSym { sym, end: offset + size });
        self.access_based[pc] = index.base().map(|b| (b, offset + size));
    }

    fn step(&mut self, pc: usize, op: &Operator<'m>) -> Result<(), GiveUp> {
        use Operator as O;
        if matches!(
            op,
            O::If { .. } | O::Else | O::End | O::BrIf { .. } | O::Select | O::TypedSelect { .. }
        ) {
            // These copy or join whole states.
            self.charge(2 * self.state_size())?;
        }
        // Control structure is followed even where nothing is live.
        match *op {
            O::Block { blockty } => return self.push_frame(Kind::Block, blockty),
            O::If { blockty } => {
                let c = self.pop()?;
                let other = self.cur.assume(c, false);
                self.cur.narrow(c, true);
                self.push_frame(Kind::If, blockty)?;
                if let Some(f) = self.frames.last_mut() {
                    f.else_state = Some(other);
                }
                return Ok(());
            }
            O::Else => {
                let frame = self.frames.last_mut().ok_or(GiveUp)?;
                let then = std::mem::replace(&mut self.cur, State::dead());
                frame.branches =
                    std::mem::replace(&mut frame.branches, State::dead()).join(then)?;
                self.cur = frame.else_state.take().ok_or(GiveUp)?;
                return Ok(());
            }
            O::End => {
                let frame = self.frames.pop().ok_or(GiveUp)?;
                let fall = std::mem::replace(&mut self.cur, State::dead());
                let mut joined = fall.join(frame.branches)?;
                if let Some(other) = frame.else_state {
                    joined = joined.join(other)?;
                }
                self.cur = joined;
                return Ok(());
            }
            _ => {}
        }
        if !self.cur.live {
            return Ok(());
        }
        let _ = pc;
        match *op {
            O::Unreachable | O::Return => self.cur = State::dead(),
            O::Nop => {}
            O::Br { relative_depth } => {
                self.branch(relative_depth, None)?;
                self.cur = State::dead();
            }
            O::BrIf { relative_depth } => {
                let c = self.pop()?;
                let fall = self.cur.assume(c, false);
                self.cur.narrow(c, true);
                if self.cur.live {
                    self.branch(relative_depth, Some(c.as_cond()))?;
                }
                self.cur = fall;
            }
            O::BrTable { ref targets } => {
                self.pop()?;
                for t in targets.targets() {
                    self.branch(t.map_err(|_| GiveUp)?, None)?;
                }
                self.branch(targets.default(), None)?;
                self.cur = State::dead();
            }
            O::Call { function_index } => {
                let ty = self.module.func_type(function_index);
                self.call(ty.params().len(), ty.results().len())?;
            }
            O::CallIndirect { type_index, .. } => {
                self.pop()?;
                let ty = self.module.types.get(type_index as usize).ok_or(GiveUp)?;
                self.call(ty.params().len(), ty.results().len())?;
            }
            O::Drop => {
                self.pop()?;
            }
            O::Select | O::TypedSelect { .. } | O::TypedSelectMulti { .. } => {
                let c = self.pop()?;
                let b = self.pop()?;
                let a = self.pop()?;
                let picked = self.select(c, a, b);
                self.cur.stack.push(picked);
            }
            O::LocalGet { local_index } => {
                let val = *self.cur.locals.get(local_index as usize).ok_or(GiveUp)?;
                let sym = self.cur.syms[local_index as usize];
                self.cur.stack.push(Slot {
                    local: Some(local_index),
                    sym,
                    ..Slot::of(val)
                });
            }
            O::LocalSet { local_index } | O::LocalTee { local_index } => {
                let mut slot = self.pop()?;
                *self
                    .cur
                    .locals
                    .get_mut(local_index as usize)
                    .ok_or(GiveUp)? = slot.val;
                self.cur.syms[local_index as usize] = slot.sym;
                self.cur.forget_copies(local_index);
                if matches!(op, O::LocalTee { .. }) {
                    slot.local = Some(local_index);
                    if let Some(c) = &mut slot.cond {
                        // A condition on the old value says nothing now.
                        for o in [&mut c.a, &mut c.b] {
                            if o.local == Some(local_index) {
                                o.local = None;
                            }
                        }
                    }
                    self.cur.stack.push(slot);
                }
            }
            O::GlobalGet { .. } => self.push(Val::TOP),
            O::GlobalSet { .. } => {
                self.pop()?;
            }
            O::I32Const { value } => self.push(Val::exact(value as u32 as u64, 32)),
            O::I64Const { value } => self.push(Val::exact(value as u64, 64)),
            _ => self.numeric_or_memory(pc, op)?,
        }
        Ok(())
    }

    /// `select`: `a` where the condition holds, `b` where it does not, so
    /// `select(x, 512, x < 512)` is at most 512.
    fn select(&self, c: Slot, a: Slot, b: Slot) -> Slot {
        let side = |slot: Slot, taken: bool| -> Option<Slot> {
            let Some(local) = slot.local.filter(|_| c.cond.is_some()) else {
                return Some(slot);
            };
            let state = self.cur.assume(c, taken);
            state.live.then(|| Slot {
                val: state.locals[local as usize],
                ..slot
            })
        };
        let mut picked = match (side(a, true), side(b, false)) {
            (Some(a), Some(b)) => a.join(b),
            (Some(only), None) | (None, Some(only)) => only,
            (None, None) => a.join(b),
        };
        picked.cond = None;
        picked
    }

    fn call(&mut self, params: usize, results: usize) -> Result<(), GiveUp> {
        for _ in 0..params {
            self.pop()?;
        }
        for _ in 0..results {
            self.push(Val::TOP);
        }
        Ok(())
    }

    fn numeric_or_memory(&mut self, pc: usize, op: &Operator<'m>) -> Result<(), GiveUp> {
        use Operator as O;
        if let Some((offset, size, loaded)) = access(op) {
            if let Some(value) = loaded {
                let index = self.pop()?;
                self.check_access(pc, index, offset, size);
                self.push(value);
            } else {
                self.pop()?;
                let index = self.pop()?;
                self.check_access(pc, index, offset, size);
            }
            return Ok(());
        }
        match *op {
            O::I32Add => self.add_sub(32, true),
            O::I64Add => self.add_sub(64, true),
            O::I32Sub => self.add_sub(32, false),
            O::I64Sub => self.add_sub(64, false),
            O::I32Mul => self.binop(32, |a, b| a.mul(b, 32)),
            O::I64Mul => self.binop(64, |a, b| a.mul(b, 64)),
            O::I32And => self.binop(32, |a, b| a.and(b, 32)),
            O::I64And => self.binop(64, |a, b| a.and(b, 64)),
            O::I32Or => self.binop(32, |a, b| a.or_xor(b, 32, true)),
            O::I64Or => self.binop(64, |a, b| a.or_xor(b, 64, true)),
            O::I32Xor => self.binop(32, |a, b| a.or_xor(b, 32, false)),
            O::I64Xor => self.binop(64, |a, b| a.or_xor(b, 64, false)),
            O::I32Shl => self.binop(32, |a, b| a.shl(b, 32)),
            O::I64Shl => self.binop(64, |a, b| a.shl(b, 64)),
            O::I32ShrU => self.binop(32, |a, b| a.shr_u(b, 32)),
            O::I64ShrU => self.binop(64, |a, b| a.shr_u(b, 64)),
            O::I32ShrS => self.binop(32, |a, b| a.shr_s(b, 32)),
            O::I64ShrS => self.binop(64, |a, b| a.shr_s(b, 64)),
            O::I32RemU => self.binop(32, |a, b| a.rem_u(b, 32)),
            O::I64RemU => self.binop(64, |a, b| a.rem_u(b, 64)),
            O::I32DivU => self.binop(32, |a, b| a.div_u(b, 32)),
            O::I64DivU => self.binop(64, |a, b| a.div_u(b, 64)),
            O::I32Clz | O::I32Ctz | O::I32Popcnt => self.unop(32, |_| Val::unsigned(0, 32, 32)),
            O::I64Clz | O::I64Ctz | O::I64Popcnt => self.unop(64, |_| Val::unsigned(0, 64, 64)),
            O::I32Eqz => self.eqz(32),
            O::I64Eqz => self.eqz(64),
            O::I32Eq => self.compare(32, Cmp::Eq),
            O::I32Ne => self.compare(32, Cmp::Ne),
            O::I32LtU => self.compare(32, Cmp::LtU),
            O::I32LtS => self.compare(32, Cmp::LtS),
            O::I32LeU => self.compare(32, Cmp::LeU),
            O::I32LeS => self.compare(32, Cmp::LeS),
            O::I32GtU => self.compare(32, Cmp::GtU),
            O::I32GtS => self.compare(32, Cmp::GtS),
            O::I32GeU => self.compare(32, Cmp::GeU),
            O::I32GeS => self.compare(32, Cmp::GeS),
            O::I64Eq => self.compare(64, Cmp::Eq),
            O::I64Ne => self.compare(64, Cmp::Ne),
            O::I64LtU => self.compare(64, Cmp::LtU),
            O::I64LtS => self.compare(64, Cmp::LtS),
            O::I64LeU => self.compare(64, Cmp::LeU),
            O::I64LeS => self.compare(64, Cmp::LeS),
            O::I64GtU => self.compare(64, Cmp::GtU),
            O::I64GtS => self.compare(64, Cmp::GtS),
            O::I64GeU => self.compare(64, Cmp::GeU),
            O::I64GeS => self.compare(64, Cmp::GeS),
            O::I32WrapI64 => self.unop(64, |a| a.convert(64, 32, false)),
            O::I64ExtendI32U => self.unop(32, |a| a.convert(32, 64, false)),
            O::I64ExtendI32S => self.unop(32, |a| a.convert(32, 64, true)),
            O::I32Extend8S => self.unop(32, |_| Val::signed(-128, 127, 32)),
            O::I32Extend16S => self.unop(32, |_| Val::signed(-32768, 32767, 32)),
            O::I64Extend8S => self.unop(64, |_| Val::signed(-128, 127, 64)),
            O::I64Extend16S => self.unop(64, |_| Val::signed(-32768, 32767, 64)),
            O::I64Extend32S => self.unop(64, |a| a.convert(64, 32, false).convert(32, 64, true)),
            _ => {
                // Anything else: the right number of unknown results.
                let (pops, pushes) = op.operator_arity(&NoModule).ok_or(GiveUp)?;
                for _ in 0..pops {
                    self.pop()?;
                }
                for _ in 0..pushes {
                    self.push(Val::TOP);
                }
                Ok(())
            }
        }
    }
}

/// Constants a loop compares with (and their neighbours), sorted, with
/// the types' limits: widening stops at these first, as the loop's
/// bounds are among them.
struct Thresholds {
    u: Vec<u64>,
    s: Vec<i64>,
}

impl Thresholds {
    fn of(ops: &[(Operator<'_>, usize)]) -> Thresholds {
        let mut u = vec![0, u64::from(u32::MAX), u64::MAX];
        let mut s = vec![
            i64::MIN,
            i64::from(i32::MIN),
            0,
            i64::from(i32::MAX),
            i64::MAX,
        ];
        for (i, (op, _)) in ops.iter().enumerate() {
            if !is_comparison(op) {
                continue;
            }
            // The operators just before a comparison hold its constant
            // (`i32.const c; local.get i; lt`).
            for (prev, _) in &ops[i.saturating_sub(2)..i] {
                let (c, w) = match *prev {
                    Operator::I32Const { value } => (i64::from(value), 32),
                    Operator::I64Const { value } => (value, 64),
                    _ => continue,
                };
                for t in [c.wrapping_sub(1), c, c.wrapping_add(1)] {
                    s.push(t);
                    u.push(if w == 32 {
                        u64::from(t as u32)
                    } else {
                        t as u64
                    });
                }
            }
        }
        u.sort_unstable();
        u.dedup();
        s.sort_unstable();
        s.dedup();
        Thresholds { u, s }
    }
}

/// For a load or store: its offset, its width in bytes and, for a load,
/// the values it can produce.
fn access(op: &Operator<'_>) -> Option<(u64, u64, Option<Val>)> {
    use Operator as O;
    let top = Some(Val::TOP);
    let (m, size, loaded) = match *op {
        O::I32Load { memarg } | O::F32Load { memarg } => (memarg, 4, top),
        O::I64Load { memarg } | O::F64Load { memarg } => (memarg, 8, top),
        O::I32Load8U { memarg } => (memarg, 1, Some(Val::unsigned(0, 0xff, 32))),
        O::I64Load8U { memarg } => (memarg, 1, Some(Val::unsigned(0, 0xff, 64))),
        O::I32Load16U { memarg } => (memarg, 2, Some(Val::unsigned(0, 0xffff, 32))),
        O::I64Load16U { memarg } => (memarg, 2, Some(Val::unsigned(0, 0xffff, 64))),
        O::I64Load32U { memarg } => (memarg, 4, Some(Val::unsigned(0, u64::from(u32::MAX), 64))),
        O::I32Load8S { memarg } => (memarg, 1, Some(Val::signed(-128, 127, 32))),
        O::I64Load8S { memarg } => (memarg, 1, Some(Val::signed(-128, 127, 64))),
        O::I32Load16S { memarg } => (memarg, 2, Some(Val::signed(-32768, 32767, 32))),
        O::I64Load16S { memarg } => (memarg, 2, Some(Val::signed(-32768, 32767, 64))),
        O::I64Load32S { memarg } => (memarg, 4, top),
        O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => {
            (memarg, 4, None)
        }
        O::I64Store { memarg } | O::F64Store { memarg } => (memarg, 8, None),
        O::I32Store8 { memarg } | O::I64Store8 { memarg } => (memarg, 1, None),
        O::I32Store16 { memarg } | O::I64Store16 { memarg } => (memarg, 2, None),
        _ => return None,
    };
    Some((m.offset, size, loaded))
}

fn is_comparison(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::I32Eq
            | O::I32Ne
            | O::I32LtU
            | O::I32LtS
            | O::I32LeU
            | O::I32LeS
            | O::I32GtU
            | O::I32GtS
            | O::I32GeU
            | O::I32GeS
            | O::I64Eq
            | O::I64Ne
            | O::I64LtU
            | O::I64LtS
            | O::I64LeU
            | O::I64LeS
            | O::I64GtU
            | O::I64GtS
            | O::I64GeU
            | O::I64GeS
    )
}

/// The largest threshold at most `x`, or `floor`.
fn below<T: Copy + Ord>(sorted: &[T], x: T, floor: T) -> T {
    match sorted.binary_search(&x) {
        Ok(i) => sorted[i],
        Err(0) => floor,
        Err(i) => sorted[i - 1],
    }
}

/// The smallest threshold at least `x`, or `ceiling`.
fn above<T: Copy + Ord>(sorted: &[T], x: T, ceiling: T) -> T {
    match sorted.binary_search(&x) {
        Ok(i) => sorted[i],
        Err(i) => sorted.get(i).copied().unwrap_or(ceiling),
    }
}

/// Module information for `operator_arity`, which the operators left to
/// it (numeric, memory, table, reference) never ask for: every answer is
/// "unknown", which makes the analysis give up rather than guess.
struct NoModule;

impl ModuleArity for NoModule {
    fn sub_type_at(&self, _: u32) -> Option<&SubType> {
        None
    }
    fn tag_type_arity(&self, _: u32) -> Option<(u32, u32)> {
        None
    }
    fn type_index_of_function(&self, _: u32) -> Option<u32> {
        None
    }
    fn func_type_of_cont_type(&self, _: &ContType) -> Option<&wasmparser::FuncType> {
        None
    }
    fn sub_type_of_ref_type(&self, _: &RefType) -> Option<&SubType> {
        None
    }
    fn control_stack_height(&self) -> u32 {
        0
    }
    fn label_block(&self, _: u32) -> Option<(BlockType, ParserFrameKind)> {
        None
    }
}
