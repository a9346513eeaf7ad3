//! The checker's view of one function: every instruction reachable from its
//! entry, decoded once, with a forward dataflow of what is known about the
//! general-purpose registers on every path.
//!
//! The facts are few on purpose: a register's value is nonzero, or is not
//! -1 (in its low 32 bits or in all 64), learned from compare-and-branch
//! instructions (`test r, r; je`, `cmp r, -1; jne`, `cbz`, `cmn r, #1;
//! b.eq`, a `ccmp` whose condition is known) and carried through register
//! copies. They are what it takes to show that a division never sees a zero
//! (or, signed, a -1) divisor and that a branch to a `ud2`/`udf` Cranelift
//! left behind its own checks can never be taken. An edge whose branch
//! condition the facts decide is not followed, so code reached only through
//! such edges is unreachable.
//!
//! Facts survive a spill: a 64-bit store of a register to `[sp + disp]`
//! gives that stack slot the register's facts, and a 64-bit load from it
//! gives them back. Any other store to the stack (or through the frame
//! pointer), any move of the stack pointer and any call into Wasm code
//! forgets every slot. Stores through other registers are taken not to
//! reach the native stack: Wasm cannot address it (its memories, tables,
//! globals and the vmctx live elsewhere).
//!
//! One more fact serves the stack: whether the stack pointer has been
//! compared with `vmctx.stack_limit` (a load from the vmctx argument at
//! offset 16) on every path, since the frame was allocated. A recursive
//! object must have done so before any call into Wasm code.

use std::collections::{BTreeSet, VecDeque};

/// A general-purpose register, numbered by the architecture module.
pub type Reg = u8;
pub const GPRS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    W32,
    W64,
}

/// A branch condition, as far as the facts can decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// Z set.
    Eq,
    Ne,
    /// V set.
    Vs,
    Vc,
    /// Unsigned below (x86 `jb`, aarch64 `b.lo`).
    Below,
    /// Unsigned above or equal (`jae`, `b.hs`).
    AboveEq,
    Other,
}

/// Where control goes after an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Next,
    Jump(u64),
    Branch(Cond, u64),
    /// `cbz` (`if_zero`) / `cbnz`.
    BranchZero {
        reg: Reg,
        width: Width,
        if_zero: bool,
        target: u64,
    },
    /// A direct call; execution continues after it.
    Call(u64),
    CallIndirect,
    Return,
    JumpIndirect,
    /// An instruction that must never execute (ud2, int3, udf, brk, hlt, ...).
    Forbidden,
}

/// What an instruction does to the condition flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsEffect {
    Keep,
    Clobber,
    /// Z is set iff `reg == imm` (cmp, cmn, test r, r).
    Compare {
        reg: Reg,
        width: Width,
        imm: i64,
    },
    /// Z is set iff `reg == other` (cmp of two registers).
    CompareReg {
        reg: Reg,
        width: Width,
        other: Reg,
    },
    /// `test reg, other`: Z iff `reg & other == 0`, which is `reg == 0`
    /// when both hold the same value.
    TestPair {
        reg: Reg,
        width: Width,
        other: Reg,
    },
    /// aarch64 `ccmp reg, #imm, #nzcv, cond`.
    CondCompare {
        cond: Cond,
        reg: Reg,
        width: Width,
        imm: i64,
        nzcv: u8,
    },
}

/// How an instruction moves the stack pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpEffect {
    None,
    /// Allocates this many bytes (push, sub sp, pre-indexed store).
    Down(u64),
    /// Allocates as many bytes as the register holds (aarch64 large frames:
    /// `mov x16, #n; sub sp, sp, x16`).
    DownBy(Reg),
    /// Releases stack (pop, add sp, post-indexed load, restore from the
    /// frame pointer).
    Up,
}

/// A store, as far as the stack slots are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    None,
    /// A 64-bit spill `[sp + disp] = reg`.
    Spill {
        reg: Reg,
        disp: i64,
    },
    /// Any other store to the stack or through the frame pointer.
    Stack,
}

/// One decoded instruction, reduced to what the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    pub len: u32,
    pub flow: Flow,
    pub flags: FlagsEffect,
    /// A 64-bit load `dst = [base + disp]`.
    pub load: Option<(Reg, Reg, i64)>,
    /// What the instruction stores to memory.
    pub store: Store,
    /// A full register copy `dst = src` of the given width.
    pub copy: Option<(Reg, Reg, Width)>,
    /// `dst = src` sign-extended from 32 to 64 bits (`movsxd`, `sxtw`).
    pub sign_extend: Option<(Reg, Reg)>,
    /// `reg = value`: a move of a constant (the whole register's value).
    pub constant: Option<(Reg, i64)>,
    /// `dst = src + imm` at a width (a 32-bit result zeroes the upper half);
    /// `dst` is in `writes` as well.
    pub increment: Option<(Reg, Reg, Width, i64)>,
    /// Registers written otherwise (their facts are lost).
    pub writes: RegSet,
    /// A hardware division by this register, which must be known nonzero
    /// (and, for a signed division, not -1).
    pub divisor: Option<(Reg, Width, bool)>,
    pub uses_fp: bool,
    pub sp: SpEffect,
}

impl Insn {
    /// An instruction that falls through and has no effect the checks
    /// follow; the decoders fill in what they find.
    pub fn new(len: u32, flow: Flow) -> Insn {
        Insn {
            len,
            flow,
            flags: FlagsEffect::Keep,
            load: None,
            store: Store::None,
            copy: None,
            sign_extend: None,
            constant: None,
            increment: None,
            writes: RegSet::default(),
            divisor: None,
            uses_fp: false,
            sp: SpEffect::None,
        }
    }
}

/// What the dataflow needs to know of the architecture's conventions.
pub struct Abi {
    /// The stack pointer's register number.
    pub sp: Reg,
    /// The register that holds the vmctx argument at a function's entry.
    pub vmctx: Reg,
    /// Where the vmctx is instead when the function's results need a
    /// return area whose pointer comes first (x86_64 System V).
    pub vmctx_after_ret_area: Reg,
    /// The registers a call may change (it changes the flags too).
    pub call_clobbered: &'static [Reg],
}

/// A set of general-purpose registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegSet(u32);

impl RegSet {
    #[cfg(test)]
    pub fn of(regs: &[Reg]) -> RegSet {
        let mut set = RegSet::default();
        for &r in regs {
            set.insert(r);
        }
        set
    }

    pub fn insert(&mut self, reg: Reg) {
        self.0 |= 1 << reg;
    }

    pub fn contains(&self, reg: Reg) -> bool {
        self.0 >> reg & 1 != 0
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The registers, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Reg> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let r = bits.trailing_zeros();
            bits &= bits.wrapping_sub(1);
            (r < 32).then_some(r as Reg)
        })
    }
}

/// Decodes the instruction at a code offset, or says why it can't.
pub trait Decoder {
    fn decode(&self, code: &[u8], at: u64) -> Result<Insn, String>;
    /// The instruction at `at` as assembly text, for messages (decoded
    /// again: the checks themselves never need it).
    fn text(&self, code: &[u8], at: u64) -> String;
    fn abi(&self) -> Abi;
}

/// No alias in [`State::alias`]: register numbers are below [`GPRS`].
const NO_ALIAS: Reg = Reg::MAX;

/// `vmctx.stack_limit`'s offset (compiler/src/abi.rs, kwo_abi.h).
const VMCTX_STACK_LIMIT: i64 = 16;

const NZ32: u8 = 1;
const NZ64: u8 = 2;
const NM1_32: u8 = 4;
const NM1_64: u8 = 8;
/// In a stack slot's facts only: the slot holds the vmctx pointer.
const SLOT_VMCTX: u8 = 16;

fn nonzero(width: Width) -> u8 {
    match width {
        Width::W32 => NZ32,
        Width::W64 => NZ64,
    }
}

fn not_minus_one(width: Width) -> u8 {
    match width {
        Width::W32 => NM1_32,
        Width::W64 => NM1_64,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flags {
    Unknown,
    /// Z iff `reg == imm`.
    Compare {
        reg: Reg,
        width: Width,
        imm: i64,
    },
    /// Known Z and V bits.
    Known {
        z: bool,
        v: bool,
    },
    /// The stack pointer compared with the stack limit.
    SpVsLimit,
}

/// What is known on entry to an instruction.
#[derive(Debug)]
struct State {
    facts: [u8; GPRS],
    /// `alias[r] = s`: r holds a copy of s (full width); [`NO_ALIAS`] if
    /// none (a byte per register, so that the per-register loops compare
    /// all of them at once).
    alias: [Reg; GPRS],
    /// The registers that may have copies in `alias` (a superset), so that
    /// overwriting one that has none skips looking for them.
    copied: u32,
    constant: RegValues,
    /// Registers holding the vmctx pointer, and the stack limit.
    vmctx: u32,
    limit: u32,
    /// The stack pointer was checked against the limit on every path.
    sp_checked: bool,
    /// Facts of spilled registers by stack-slot offset from sp, sorted by
    /// offset (no two the same), so that a meet is one merge and a lookup
    /// a binary search: large functions have hundreds of slots.
    slots: Vec<(i64, u8)>,
    /// `from_slot[r] = Some(d)`: r holds what the slot at `[sp + d]` holds.
    from_slot: RegValues,
    flags: Flags,
}

impl Clone for State {
    fn clone(&self) -> State {
        let mut copy = State::entry(0);
        copy.clone_from(self);
        copy
    }

    /// Keeps the slots' buffer: the worklist copies states into ones it
    /// no longer needs.
    fn clone_from(&mut self, source: &State) {
        let State {
            facts,
            alias,
            copied,
            constant,
            vmctx,
            limit,
            sp_checked,
            slots,
            from_slot,
            flags,
        } = source;
        self.facts = *facts;
        self.alias = *alias;
        self.copied = *copied;
        self.constant = *constant;
        self.vmctx = *vmctx;
        self.limit = *limit;
        self.sp_checked = *sp_checked;
        self.slots.clone_from(slots);
        self.from_slot = *from_slot;
        self.flags = *flags;
    }
}

impl State {
    fn entry(vmctx: Reg) -> State {
        State {
            facts: [0; GPRS],
            alias: [NO_ALIAS; GPRS],
            copied: 0,
            constant: RegValues::NONE,
            vmctx: 1 << vmctx,
            limit: 0,
            sp_checked: false,
            slots: Vec::new(),
            from_slot: RegValues::NONE,
            flags: Flags::Unknown,
        }
    }

    fn root(&self, reg: Reg) -> Reg {
        match self.alias[reg as usize] {
            NO_ALIAS => reg,
            root => root,
        }
    }

    /// The registers holding a copy of `reg` (not `reg` itself).
    fn copies_of(&self, reg: Reg) -> u32 {
        if self.copied >> reg & 1 == 0 {
            return 0;
        }
        bytes_equal(&self.alias, reg)
    }

    fn has(&self, reg: Reg, fact: u8) -> bool {
        let f = self.facts[reg as usize];
        // A nonzero low half makes the whole register nonzero, and a low
        // half that is not all ones makes it other than -1.
        f & fact != 0 || (fact == NZ64 && f & NZ32 != 0) || (fact == NM1_64 && f & NM1_32 != 0)
    }

    /// Learns `fact` about `reg`, every register holding a copy of it, and
    /// the stack slot it was loaded from (with every other load of it).
    fn learn(&mut self, reg: Reg, fact: u8) {
        let root = self.root(reg);
        let slot = self.from_slot.get(reg as usize);
        let loaded = slot.map_or(0, |d| self.from_slot.holding(d));
        for r in set_bits(1 << root | self.copies_of(root) | loaded) {
            self.facts[r] |= fact;
        }
        if let Some(k) = slot.and_then(|d| self.slot(d)) {
            self.slots[k].1 |= fact;
        }
    }

    /// The index in `slots` of the slot at `[sp + disp]`, if known.
    fn slot(&self, disp: i64) -> Option<usize> {
        self.slots.binary_search_by_key(&disp, |&(d, _)| d).ok()
    }

    /// Forgets every stack slot.
    fn forget_slots(&mut self) {
        self.slots.clear();
        self.from_slot = RegValues::NONE;
    }

    /// Whether two registers are known to hold the same value.
    fn same_value(&self, a: Reg, b: Reg) -> bool {
        self.root(a) == self.root(b)
            || (self.from_slot.get(a as usize).is_some()
                && self.from_slot.get(a as usize) == self.from_slot.get(b as usize))
    }

    fn kill(&mut self, reg: Reg) {
        let r = reg as usize;
        self.facts[r] = 0;
        self.alias[r] = NO_ALIAS;
        self.constant.set(r, None);
        self.vmctx &= !(1 << r);
        self.limit &= !(1 << r);
        self.from_slot.set(r, None);
        // The copies of `reg` still hold one value between them: the first
        // becomes the root of the others, so that a fact learned about one
        // still reaches the rest (unoptimized code moves a value back and
        // forth between registers while testing it: finding 12).
        let copies = self.copies_of(reg);
        self.copied &= !(1 << r);
        let mut new_root = NO_ALIAS;
        for c in set_bits(copies) {
            self.alias[c] = new_root;
            if new_root == NO_ALIAS {
                new_root = c as Reg;
            }
        }
        if copies.count_ones() > 1 {
            self.copied |= 1 << new_root;
        }
        if matches!(self.flags, Flags::Compare { reg: f, .. } if f == reg) {
            self.flags = Flags::Unknown;
        }
    }

    fn copy(&mut self, dst: Reg, src: Reg, width: Width) {
        let facts = self.facts[src as usize];
        let constant = self.constant.get(src as usize);
        let (vmctx, limit) = (self.vmctx >> src & 1, self.limit >> src & 1);
        let from_slot = self.from_slot.get(src as usize);
        self.kill(dst);
        if dst == src {
            return;
        }
        // After the kill: when `src` was a copy of `dst`, their group has a
        // new root, which `dst` joins again.
        let root = self.root(src);
        match width {
            Width::W64 => {
                self.facts[dst as usize] = facts;
                self.alias[dst as usize] = root;
                self.copied |= 1 << root;
                self.constant.set(dst as usize, constant);
                self.vmctx |= vmctx << dst;
                self.limit |= limit << dst;
                self.from_slot.set(dst as usize, from_slot);
            }
            // The upper half is zeroed: nonzero low half stays nonzero, and
            // the whole register can't be all ones.
            Width::W32 => {
                let low = facts & (NZ32 | NM1_32);
                let nz64 = if low & NZ32 != 0 { NZ64 } else { 0 };
                self.facts[dst as usize] = low | nz64 | NM1_64;
            }
        }
    }

    /// `dst = src` sign-extended from its low half: the low half is kept,
    /// so are its facts (and, through [`State::has`], what they imply for
    /// the whole register).
    fn sign_extend(&mut self, dst: Reg, src: Reg) {
        let low = self.facts[src as usize] & (NZ32 | NM1_32);
        self.kill(dst);
        self.facts[dst as usize] = low;
    }

    /// Whether `reg == imm` is decided by the facts, or by the constant the
    /// register holds (unoptimized code tests constants: `xor rax, rax;
    /// test rax, rax; je`, `mov x3, #0; cbz x3`, and divides by a constant
    /// 0 on the path those branches never take).
    fn equals(&self, reg: Reg, width: Width, imm: i64) -> Option<bool> {
        if let Some(value) = self.constant.get(reg as usize) {
            return Some(match width {
                Width::W32 => value as u32 == imm as u32,
                Width::W64 => value == imm,
            });
        }
        let excluded = (imm == 0 && self.has(reg, nonzero(width)))
            || (imm == -1 && self.has(reg, not_minus_one(width)));
        if excluded {
            Some(false)
        } else {
            None
        }
    }

    fn eval(&self, cond: Cond) -> Option<bool> {
        match (cond, self.flags) {
            (Cond::Eq, Flags::Compare { reg, width, imm }) => self.equals(reg, width, imm),
            (Cond::Ne, Flags::Compare { reg, width, imm }) => {
                self.equals(reg, width, imm).map(|e| !e)
            }
            (Cond::Eq, Flags::Known { z, .. }) => Some(z),
            (Cond::Ne, Flags::Known { z, .. }) => Some(!z),
            (Cond::Vs, Flags::Known { v, .. }) => Some(v),
            (Cond::Vc, Flags::Known { v, .. }) => Some(!v),
            _ => None,
        }
    }

    /// Learns what taking (or not taking) a branch on `cond` says.
    fn assume(&mut self, cond: Cond, taken: bool) {
        if self.flags == Flags::SpVsLimit {
            // Not below the limit: the check passed.
            if (cond == Cond::Below && !taken) || (cond == Cond::AboveEq && taken) {
                self.sp_checked = true;
            }
            return;
        }
        let Flags::Compare { reg, width, imm } = self.flags else {
            return;
        };
        let differs = match cond {
            Cond::Eq => !taken,
            Cond::Ne => taken,
            _ => false,
        };
        if differs && imm == 0 {
            self.learn(reg, nonzero(width));
        } else if differs && imm == -1 {
            self.learn(reg, not_minus_one(width));
        }
    }

    /// Meet with another path's state; true if this state changed.
    fn meet(&mut self, other: &State) -> bool {
        let mut changed = false;
        for r in 0..GPRS {
            let facts = self.facts[r] & other.facts[r];
            changed |= facts != self.facts[r];
            self.facts[r] = facts;
            let alias = match self.alias[r] {
                mine if mine == other.alias[r] => mine,
                _ => NO_ALIAS,
            };
            changed |= alias != self.alias[r];
            self.alias[r] = alias;
        }
        // A copy kept is one in both states.
        self.copied &= other.copied;
        changed |= self.constant.meet(&other.constant);
        changed |= self.from_slot.meet(&other.from_slot);
        let (vmctx, limit) = (self.vmctx & other.vmctx, self.limit & other.limit);
        let sp_checked = self.sp_checked && other.sp_checked;
        changed |= vmctx != self.vmctx || limit != self.limit || sp_checked != self.sp_checked;
        (self.vmctx, self.limit, self.sp_checked) = (vmctx, limit, sp_checked);
        // Both sorted: `theirs` moves past every slot below the one
        // looked up.
        let mut theirs = other.slots.iter().peekable();
        self.slots.retain_mut(|(disp, facts)| {
            while theirs.next_if(|(d, _)| d < disp).is_some() {}
            match theirs.peek() {
                Some((d, f)) if d == disp => {
                    changed |= *facts & f != *facts;
                    *facts &= f;
                    true
                }
                _ => {
                    changed = true;
                    false
                }
            }
        });
        if self.flags != other.flags && self.flags != Flags::Unknown {
            self.flags = Flags::Unknown;
            changed = true;
        }
        changed
    }
}

/// Per register, a 64-bit value that may be unknown: `[Option<i64>;
/// GPRS]` in half the bytes (a state is copied at every block edge).
/// Unknown values are 0, so that equal contents compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RegValues {
    known: u32,
    value: [i64; GPRS],
}

impl RegValues {
    const NONE: RegValues = RegValues { known: 0, value: [0; GPRS] };

    fn get(&self, r: usize) -> Option<i64> {
        (self.known >> r & 1 != 0).then_some(self.value[r])
    }

    fn set(&mut self, r: usize, v: Option<i64>) {
        self.known = self.known & !(1 << r) | u32::from(v.is_some()) << r;
        self.value[r] = v.unwrap_or(0);
    }

    /// The registers with a known value, lowest first.
    fn known_regs(&self) -> impl Iterator<Item = usize> {
        set_bits(self.known)
    }

    /// The registers known to hold `value`.
    fn holding(&self, value: i64) -> u32 {
        (0..GPRS).fold(0, |mask, r| mask | u32::from(self.value[r] == value) << r) & self.known
    }

    /// Forgets the values for which `f` holds.
    fn forget_if(&mut self, f: impl Fn(i64) -> bool) {
        for r in self.known_regs() {
            if f(self.value[r]) {
                self.set(r, None);
            }
        }
    }

    /// Forgets the values `other` does not share; true if any was forgotten.
    fn meet(&mut self, other: &RegValues) -> bool {
        let mut changed = false;
        for r in self.known_regs() {
            if other.get(r) != Some(self.value[r]) {
                self.set(r, None);
                changed = true;
            }
        }
        changed
    }
}

/// Bit `i` set iff `bytes[i] == value`: eight bytes at a time (a call
/// into Wasm code kills nine registers, each looking for its copies).
fn bytes_equal(bytes: &[u8; GPRS], value: u8) -> u32 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let (chunks, _) = bytes.as_chunks::<8>();
    let mut mask = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let x = u64::from_le_bytes(*chunk) ^ u64::from(value) * 0x0101_0101_0101_0101;
        // The high bit of each byte that is zero, exactly: no carry
        // crosses a byte, since each addend is below 0x80 in every byte.
        let zero = !((x & LOW7).wrapping_add(LOW7) | x | LOW7);
        // Gathers bits 7, 15, ..., 63 into the top byte.
        let packed = (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= (packed as u32) << (8 * i);
    }
    mask
}

/// The indexes of the bits set in `mask`, lowest first.
fn set_bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let r = mask.trailing_zeros() as usize;
        mask &= mask.checked_sub(1)?;
        Some(r)
    })
}

/// A function's reachable instructions and what the dataflow found.
pub struct Function {
    /// Every instruction decoded, with its address (and whether it was
    /// reached), in no order.
    decoded: Vec<(u64, Insn, bool)>,
    /// The indexes in `decoded` of the reachable instructions, by address.
    reachable: Vec<u32>,
    /// What the checks ask of the state on entry to a call, a division or
    /// a stack allocation by register, by address.
    queries: Vec<(u64, Query)>,
}

/// The answers about one instruction's entry state that the checks need.
#[derive(Debug, Clone, Copy)]
struct Query {
    sp_checked: bool,
    /// The constant the register of an `SpEffect::DownBy` holds.
    down_by: Option<i64>,
    /// The divisor is known nonzero (and, signed, not -1).
    divisor_safe: bool,
}

impl Query {
    fn of(insn: &Insn, state: &State) -> Option<Query> {
        let call = matches!(insn.flow, Flow::Call(_) | Flow::CallIndirect);
        let down_by = match insn.sp {
            SpEffect::DownBy(r) => Some(state.constant.get(r as usize)),
            _ => None,
        };
        if !call && down_by.is_none() && insn.divisor.is_none() {
            return None;
        }
        Some(Query {
            sp_checked: state.sp_checked,
            down_by: down_by.flatten(),
            divisor_safe: insn.divisor.is_none_or(|(reg, width, signed)| {
                state.has(reg, nonzero(width)) && (!signed || state.has(reg, not_minus_one(width)))
            }),
        })
    }
}

/// No entry in a per-byte index.
const NONE: u32 = u32::MAX;

/// The dataflow keeps a state per block leader only: a straight-line run
/// carries its state from instruction to instruction without a copy, which
/// is most of the checker's time on a large module. Instructions, leaders
/// and block states are found through per-byte indexes of the function's
/// range rather than ordered maps.
struct Analysis<'a> {
    dec: &'a dyn Decoder,
    code: &'a [u8],
    range: std::ops::Range<u64>,
    host_call: &'a dyn Fn(u64) -> bool,
    abi: Abi,
    /// Per byte of `range`: whether it is the target of a branch or jump,
    /// or the instruction after a branch, over every edge (pruned or not):
    /// any instruction with more than one predecessor is one.
    leader: Vec<bool>,
    /// Leaders outside `range` (branches out of the function, which the
    /// dataflow reports if it reaches them).
    leaders_outside: BTreeSet<u64>,
    /// Per byte of `range`: the index in `decoded` of the instruction
    /// there, if decoded.
    insn_at: Vec<u32>,
    /// Every instruction decoded, with its address and whether the
    /// dataflow reached it (instructions decoded while finding the leaders
    /// may never be reached).
    decoded: Vec<(u64, Insn, bool)>,
    /// Parallel to `decoded`: the query of the instruction's entry state
    /// in the last run of its block, which had the block's final state
    /// (every change of a block's state is followed by a run from it).
    queries: Vec<Option<Query>>,
    /// Per byte of `range`: the index in `blocks` of the block starting
    /// there, if the dataflow reached one.
    block_at: Vec<u32>,
    /// Each block's entry state.
    blocks: Vec<(u64, State)>,
}

/// The dataflow's worklist: blocks to run, first in first out, each with
/// the state control arrives with. The states live in a pool whose entries
/// are reused once consumed, so that a state is copied only where two
/// paths need their own (a branch's two edges, a block's kept entry
/// state), not each time it is queued or taken from the queue: a state is
/// over half a kilobyte, and those copies were a tenth of the checker.
struct Work {
    queue: VecDeque<(u64, u32)>,
    /// The pool.
    states: Vec<State>,
    /// Pool entries no queued block holds.
    free: Vec<u32>,
}

impl Work {
    fn state(&mut self, k: u32) -> &mut State {
        &mut self.states[k as usize]
    }

    /// Queues the block at `at`, entered with the state of entry `k`.
    fn push(&mut self, at: u64, k: u32) {
        self.queue.push_back((at, k));
    }

    /// Entry `k`'s state for two edges, either of which may be ruled out:
    /// a copy for the first when both are followed, entry `k` itself for
    /// the other; `k` is freed when neither is.
    fn split(&mut self, k: u32, first: bool, second: bool) -> (Option<u32>, Option<u32>) {
        match (first, second) {
            (true, true) => (Some(self.copy(k)), Some(k)),
            (true, false) => (Some(k), None),
            (false, true) => (None, Some(k)),
            (false, false) => {
                self.free.push(k);
                (None, None)
            }
        }
    }

    /// A new entry holding a copy of entry `k`'s state.
    fn copy(&mut self, k: u32) -> u32 {
        let Some(c) = self.free.pop() else {
            let copy = self.states[k as usize].clone();
            self.states.push(copy);
            return self.states.len() as u32 - 1;
        };
        // `c` is free and `k` is not, so they differ.
        let (source, target) = (k as usize, c as usize);
        if source < target {
            let (low, high) = self.states.split_at_mut(target);
            high[0].clone_from(&low[source]);
        } else {
            let (low, high) = self.states.split_at_mut(source);
            low[target].clone_from(&high[0]);
        }
        c
    }
}

impl Analysis<'_> {
    /// The offset of `at` in the per-byte indexes, if inside the function.
    fn index(&self, at: u64) -> Option<usize> {
        self.range.contains(&at).then(|| (at - self.range.start) as usize)
    }

    fn is_leader(&self, at: u64) -> bool {
        match self.index(at) {
            Some(i) => self.leader[i],
            None => self.leaders_outside.contains(&at),
        }
    }

    fn mark_leader(&mut self, at: u64) {
        match self.index(at) {
            Some(i) => self.leader[i] = true,
            None => {
                self.leaders_outside.insert(at);
            }
        }
    }

    /// Decodes everything reachable over every edge, collecting leaders. A
    /// path that fails to decode is left for the dataflow to report, if the
    /// facts say it is reachable.
    fn find_leaders(&mut self, entry: u64) {
        let mut todo = vec![entry];
        self.mark_leader(entry);
        while let Some(at) = todo.pop() {
            let Some(i) = self.index(at) else { continue };
            if self.insn_at[i] != NONE {
                continue;
            }
            let Ok(insn) = self.dec.decode(self.code, at) else {
                continue;
            };
            let next = at + u64::from(insn.len);
            match insn.flow {
                Flow::Next | Flow::Call(_) | Flow::CallIndirect => todo.push(next),
                Flow::Jump(t) => {
                    self.mark_leader(t);
                    todo.push(t);
                }
                Flow::Branch(_, t) | Flow::BranchZero { target: t, .. } => {
                    self.mark_leader(t);
                    self.mark_leader(next);
                    todo.extend([t, next]);
                }
                Flow::Return | Flow::JumpIndirect | Flow::Forbidden => {}
            }
            self.insn_at[i] = self.decoded.len() as u32;
            self.decoded.push((at, insn, false));
            self.queries.push(None);
        }
    }

    /// The index in `decoded` of the instruction at `at` (inside the
    /// function), decoding it if needed, and marks it reached.
    fn reach(&mut self, at: u64, i: usize) -> Result<usize, String> {
        let mut k = self.insn_at[i];
        if k == NONE {
            let insn = self.dec.decode(self.code, at)?;
            k = self.decoded.len() as u32;
            self.insn_at[i] = k;
            self.decoded.push((at, insn, false));
            self.queries.push(None);
        }
        let (_, insn, reached) = &mut self.decoded[k as usize];
        if !*reached {
            if at + u64::from(insn.len) > self.range.end {
                return Err(format!("instruction at 0x{at:x} runs past the function"));
            }
            *reached = true;
        }
        Ok(k as usize)
    }

    /// Runs the block at `at` from the state of pool entry `k`, in place:
    /// records the queries of each instruction's entry state, and queues
    /// the successors of its last instruction in `work`.
    fn run_block(&mut self, mut at: u64, k: u32, work: &mut Work) -> Result<(), String> {
        loop {
            let Some(i) = self.index(at) else {
                return Err(format!("control reaches 0x{at:x}, outside the function"));
            };
            let d = self.reach(at, i)?;
            let insn = &self.decoded[d].1;
            let state = work.state(k);
            self.queries[d] = Query::of(insn, state);
            let wasm_call = matches!(insn.flow, Flow::CallIndirect)
                || matches!(insn.flow, Flow::Call(_) if !(self.host_call)(at));
            if wasm_call {
                state.forget_slots();
            }
            if !matches!(insn.flow, Flow::Next | Flow::Call(_) | Flow::CallIndirect) {
                successors(insn, at, k, &self.abi, work);
                return Ok(());
            }
            // Straight on, in place: the one successor is the next instruction.
            apply(insn, state, &self.abi);
            at += u64::from(insn.len);
            if self.is_leader(at) {
                work.push(at, k);
                return Ok(());
            }
        }
    }
}

impl Function {
    /// Decodes and analyses everything reachable from `entry`, staying
    /// within `range` of the code.
    ///
    /// `host_call(at)`: the call at `at` goes to a host function, which
    /// never writes the caller's frame. `vmctx`: the register holding the
    /// vmctx pointer at the entry.
    pub fn analyse(
        dec: &dyn Decoder,
        code: &[u8],
        entry: u64,
        range: std::ops::Range<u64>,
        vmctx: Reg,
        host_call: &dyn Fn(u64) -> bool,
    ) -> Result<Function, String> {
        let abi = dec.abi();
        let len = range.end.saturating_sub(range.start) as usize;
        let mut a = Analysis {
            dec,
            code,
            range,
            host_call,
            abi,
            leader: vec![false; len],
            leaders_outside: BTreeSet::new(),
            insn_at: vec![NONE; len],
            // Cranelift's x86 instructions average about four bytes:
            // growing these vectors from nothing costs copies.
            decoded: Vec::with_capacity(len / 4),
            queries: Vec::with_capacity(len / 4),
            block_at: vec![NONE; len],
            blocks: Vec::new(),
        };
        a.find_leaders(entry);
        // Every block the dataflow reaches starts at a leader.
        a.blocks.reserve_exact(a.leader.iter().filter(|&&l| l).count());
        let mut work = Work {
            queue: VecDeque::from([(entry, 0)]),
            states: vec![State::entry(vmctx)],
            free: Vec::new(),
        };
        while let Some((at, k)) = work.queue.pop_front() {
            let Some(i) = a.index(at) else {
                return Err(format!("control reaches 0x{at:x}, outside the function"));
            };
            let b = a.block_at[i];
            if b == NONE {
                a.block_at[i] = a.blocks.len() as u32;
                a.blocks.push((at, work.state(k).clone()));
                a.run_block(at, k, &mut work)?;
            } else if a.blocks[b as usize].1.meet(work.state(k)) {
                work.state(k).clone_from(&a.blocks[b as usize].1);
                a.run_block(at, k, &mut work)?;
            } else {
                work.free.push(k);
            }
        }
        // The fixpoint is reached, and with it the queries' answers.
        let reachable: Vec<u32> = a
            .insn_at
            .iter()
            .copied()
            .filter(|&k| k != NONE && a.decoded[k as usize].2)
            .collect();
        let queries = reachable
            .iter()
            .filter_map(|&k| Some((a.decoded[k as usize].0, a.queries[k as usize]?)))
            .collect();
        Ok(Function { decoded: a.decoded, reachable, queries })
    }

    /// The reachable instructions, by address.
    pub fn reachable(&self) -> impl Iterator<Item = (u64, &Insn)> {
        self.reachable.iter().map(|&k| {
            let (at, insn, _) = &self.decoded[k as usize];
            (*at, insn)
        })
    }

    /// Whether the instruction at `at` is reachable.
    #[cfg(test)]
    fn reaches(&self, at: u64) -> bool {
        self.reachable().any(|(a, _)| a == at)
    }

    /// The answers about the entry state of the instruction at `at`.
    fn query(&self, at: u64) -> Option<&Query> {
        let k = self.queries.binary_search_by_key(&at, |&(a, _)| a).ok()?;
        Some(&self.queries[k].1)
    }

    /// Whether the stack pointer was checked on every path to the call at
    /// `at`.
    pub fn sp_checked_at(&self, at: u64) -> bool {
        self.query(at).is_some_and(|q| q.sp_checked)
    }

    /// The constant the register of the stack allocation at `at` holds.
    pub fn down_by_at(&self, at: u64) -> Option<i64> {
        self.query(at).and_then(|q| q.down_by)
    }

    /// Divisions whose divisor the facts do not show to be safe.
    pub fn unproven_divisions(&self) -> Vec<u64> {
        self.queries
            .iter()
            .filter(|(_, q)| !q.divisor_safe)
            .map(|(at, _)| *at)
            .collect()
    }
}

/// Queues the blocks control can go to from `insn`, with the state of
/// pool entry `k` after it: edges the facts rule out are left out.
fn successors(insn: &Insn, at: u64, k: u32, abi: &Abi, work: &mut Work) {
    let next = at + u64::from(insn.len);
    let cond = match &insn.flow {
        Flow::Branch(c, _) => Some(*c),
        _ => None,
    };
    let state = work.state(k);
    // Branches read the flags before the instruction changes anything.
    let decided = cond.and_then(|c| state.eval(c));
    apply(insn, state, abi);
    match insn.flow {
        Flow::Next | Flow::Call(_) | Flow::CallIndirect => work.push(next, k),
        Flow::Jump(t) => work.push(t, k),
        Flow::Branch(c, t) => {
            let (taken, not_taken) = work.split(k, decided != Some(false), decided != Some(true));
            if let Some(s) = taken {
                work.state(s).assume(c, true);
                work.push(t, s);
            }
            if let Some(s) = not_taken {
                work.state(s).assume(c, false);
                work.push(next, s);
            }
        }
        Flow::BranchZero {
            reg,
            width,
            if_zero,
            target,
        } => {
            let is_zero = work.state(k).equals(reg, width, 0);
            let (zero_to, nonzero_to) = if if_zero {
                (target, next)
            } else {
                (next, target)
            };
            let (zero, not_zero) = work.split(k, is_zero != Some(false), is_zero != Some(true));
            if let Some(s) = zero {
                work.push(zero_to, s);
            }
            if let Some(s) = not_zero {
                work.state(s).learn(reg, nonzero(width));
                work.push(nonzero_to, s);
            }
        }
        Flow::Return | Flow::JumpIndirect | Flow::Forbidden => work.free.push(k),
    }
}

/// What is known of `src + imm` at `width`: adding 1 to a value that is
/// not -1 gives a nonzero one, subtracting 1 from a nonzero value gives one
/// that is not -1 (Cranelift tests `x == -1` for a divisor `x + 1`).
fn increment_facts(state: &State, src: Reg, width: Width, imm: i64) -> u8 {
    let mut facts = 0;
    if imm == 1 && state.has(src, not_minus_one(width)) {
        facts |= nonzero(width);
    }
    if imm == -1 && state.has(src, nonzero(width)) {
        facts |= not_minus_one(width);
    }
    if width == Width::W32 {
        // The upper half is zero.
        facts |= NM1_64 | if facts & NZ32 != 0 { NZ64 } else { 0 };
    }
    facts
}

/// The instruction's effect on registers and flags.
fn apply(insn: &Insn, state: &mut State, abi: &Abi) {
    let sp = abi.sp;
    let call = matches!(insn.flow, Flow::Call(_) | Flow::CallIndirect);
    // Read before anything is written: a load may overwrite its own base.
    let loads_limit = insn
        .load
        .filter(|&(_, base, disp)| state.vmctx >> base & 1 != 0 && disp == VMCTX_STACK_LIMIT)
        .map(|(dst, _, _)| dst);
    let reloaded = insn
        .load
        .filter(|&(_, base, _)| base == sp)
        .and_then(|(_, _, disp)| Some(state.slots[state.slot(disp)?]));
    let incremented = insn
        .increment
        .map(|(dst, src, width, imm)| (dst, increment_facts(state, src, width, imm)));
    let clobbered = if call { abi.call_clobbered } else { &[] };
    for r in insn.writes.iter().chain(clobbered.iter().copied()) {
        state.kill(r);
    }
    if let Some((dst, facts)) = incremented {
        state.facts[dst as usize] = facts;
    }
    if let Some((dst, _, _)) = insn.load {
        state.kill(dst);
        if let Some((disp, facts)) = reloaded {
            state.facts[dst as usize] = facts & !SLOT_VMCTX;
            if facts & SLOT_VMCTX != 0 {
                state.vmctx |= 1 << dst;
            }
            state.from_slot.set(dst as usize, Some(disp));
        }
    }
    match insn.store {
        Store::None => {}
        Store::Spill { reg, disp } => {
            let vmctx = if state.vmctx >> reg & 1 != 0 {
                SLOT_VMCTX
            } else {
                0
            };
            let facts = state.facts[reg as usize] | vmctx;
            let overlaps = |d: i64| (d - disp).abs() < 8;
            state.slots.retain(|(d, _)| !overlaps(*d));
            state.from_slot.forget_if(overlaps);
            let at = state.slots.partition_point(|&(d, _)| d < disp);
            state.slots.insert(at, (disp, facts));
            state.from_slot.set(reg as usize, Some(disp));
        }
        Store::Stack => state.forget_slots(),
    }
    if let Some(dst) = loads_limit {
        state.limit |= 1 << dst;
    }
    if matches!(insn.sp, SpEffect::Down(_) | SpEffect::DownBy(_)) {
        state.sp_checked = false;
    }
    if insn.sp != SpEffect::None {
        state.forget_slots();
    }
    if let Some((dst, src)) = insn.sign_extend {
        state.sign_extend(dst, src);
    }
    if let Some((dst, src, width)) = insn.copy {
        state.copy(dst, src, width);
    }
    if let Some((reg, value)) = insn.constant {
        state.kill(reg);
        state.constant.set(reg as usize, Some(value));
        let low = value as u32;
        let facts = [
            (low != 0, NZ32),
            (value != 0, NZ64),
            (low != u32::MAX, NM1_32),
            (value != -1, NM1_64),
        ];
        state.facts[reg as usize] = facts
            .iter()
            .filter(|(holds, _)| *holds)
            .fold(0, |acc, (_, f)| acc | f);
    }
    state.flags = match insn.flags {
        FlagsEffect::Keep => state.flags,
        FlagsEffect::Clobber => Flags::Unknown,
        FlagsEffect::Compare { reg, width, imm } => Flags::Compare { reg, width, imm },
        FlagsEffect::TestPair { reg, width, other } if state.same_value(reg, other) => {
            Flags::Compare { reg, width, imm: 0 }
        }
        FlagsEffect::TestPair { .. } => Flags::Unknown,
        FlagsEffect::CompareReg {
            reg,
            width: Width::W64,
            other,
        } if state.root(reg) == sp && state.limit >> other & 1 != 0 => Flags::SpVsLimit,
        FlagsEffect::CompareReg { reg, width, other } => match state.constant.get(other as usize) {
            Some(value) if width == Width::W32 => Flags::Compare {
                reg,
                width,
                imm: i64::from(value as i32),
            },
            Some(imm) => Flags::Compare { reg, width, imm },
            None => Flags::Unknown,
        },
        FlagsEffect::CondCompare {
            cond,
            reg,
            width,
            imm,
            nzcv,
        } => match state.eval(cond) {
            Some(true) => Flags::Compare { reg, width, imm },
            Some(false) => Flags::Known {
                z: nzcv & 4 != 0,
                v: nzcv & 1 != 0,
            },
            None => Flags::Unknown,
        },
    };
    if call {
        state.flags = Flags::Unknown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instructions of 4 bytes each, from a table.
    struct Table(Vec<(Flow, FlagsEffect)>);

    impl Decoder for Table {
        fn decode(&self, _code: &[u8], at: u64) -> Result<Insn, String> {
            let (flow, flags) = self
                .0
                .get(at as usize / 4)
                .cloned()
                .ok_or("past the table")?;
            Ok(Insn {
                flags,
                ..Insn::new(4, flow)
            })
        }

        fn text(&self, _code: &[u8], at: u64) -> String {
            format!("{:?}", self.0.get(at as usize / 4))
        }

        fn abi(&self) -> Abi {
            Abi {
                sp: 31,
                vmctx: 0,
                vmctx_after_ret_area: 0,
                call_clobbered: &[0],
            }
        }
    }

    fn reaches(table: Vec<(Flow, FlagsEffect)>, host: bool, at: u64) -> bool {
        let len = table.len() as u64 * 4;
        let f = Function::analyse(&Table(table), &[], 0, 0..len, 0, &|_| host).unwrap();
        f.reaches(at)
    }

    /// A [`Table`] whose first instruction moves a constant into a register.
    struct WithConstant(Table, Reg, i64);

    impl Decoder for WithConstant {
        fn decode(&self, code: &[u8], at: u64) -> Result<Insn, String> {
            let mut insn = self.0.decode(code, at)?;
            if at == 0 {
                insn.constant = Some((self.1, self.2));
            }
            Ok(insn)
        }

        fn text(&self, code: &[u8], at: u64) -> String {
            self.0.text(code, at)
        }

        fn abi(&self) -> Abi {
            self.0.abi()
        }
    }

    /// A register known to hold 0 (or 1) decides `cbz` and a compare with 0
    /// both ways: the edge it rules out is not followed, the other is (with
    /// 1, the forbidden instruction on the nonzero path is reached).
    #[test]
    fn a_known_constant_decides_its_branches() {
        let w = Width::W64;
        let reached = |value: i64, cbz: bool| {
            let first = if cbz {
                Flow::BranchZero {
                    reg: 3,
                    width: w,
                    if_zero: true,
                    target: 12,
                }
            } else {
                Flow::Next
            };
            let compare = FlagsEffect::Compare {
                reg: 3,
                width: w,
                imm: 0,
            };
            let table = vec![
                (first, compare),
                (Flow::Branch(Cond::Eq, 12), FlagsEffect::Keep),
                (Flow::Forbidden, FlagsEffect::Keep),
                (Flow::Return, FlagsEffect::Keep),
            ];
            let decoder = WithConstant(Table(table), 3, value);
            let f = Function::analyse(&decoder, &[], 0, 0..16, 0, &|_| false).unwrap();
            (f.reaches(8), f.reaches(12))
        };
        for cbz in [true, false] {
            assert_eq!(reached(0, cbz), (false, true), "0: only the zero edge");
            assert_eq!(reached(1, cbz), (true, false), "1: only the nonzero edge");
        }
    }

    /// r19 is known nonzero, then compared with 0: `b.eq` cannot be taken
    /// right away, but after a call the flags are the callee's.
    #[test]
    fn a_call_forgets_the_flags() {
        let w = Width::W64;
        let table = |call: bool| {
            vec![
                (
                    Flow::BranchZero {
                        reg: 19,
                        width: w,
                        if_zero: true,
                        target: 16,
                    },
                    FlagsEffect::Keep,
                ),
                (
                    Flow::Next,
                    FlagsEffect::Compare {
                        reg: 19,
                        width: w,
                        imm: 0,
                    },
                ),
                (
                    if call { Flow::Call(100) } else { Flow::Next },
                    FlagsEffect::Keep,
                ),
                (Flow::Branch(Cond::Eq, 20), FlagsEffect::Keep),
                (Flow::Return, FlagsEffect::Keep),
                (Flow::Forbidden, FlagsEffect::Keep),
            ]
        };
        assert!(
            !reaches(table(false), true, 20),
            "the compare decides the branch"
        );
        assert!(
            reaches(table(true), true, 20),
            "a host call clobbers the flags"
        );
    }

    /// Instructions of 4 bytes each, built by the test.
    struct Insns(Vec<Insn>);

    impl Decoder for Insns {
        fn decode(&self, _code: &[u8], at: u64) -> Result<Insn, String> {
            self.0
                .get(at as usize / 4)
                .cloned()
                .ok_or_else(|| "past the list".to_string())
        }

        fn text(&self, _code: &[u8], at: u64) -> String {
            format!("{:?}", self.0.get(at as usize / 4).map(|i| &i.flow))
        }

        fn abi(&self) -> Abi {
            Table(Vec::new()).abi()
        }
    }

    const RAX: Reg = 0;
    const RCX: Reg = 1;
    const RSI: Reg = 6;
    const R8: Reg = 8;

    fn insn(flow: Flow) -> Insn {
        Insn::new(4, flow)
    }

    /// `mov dst, src` (64-bit).
    fn mov(dst: Reg, src: Reg) -> Insn {
        Insn {
            copy: Some((dst, src, Width::W64)),
            ..insn(Flow::Next)
        }
    }

    /// An instruction that gives `reg` an unknown value.
    fn clobber(reg: Reg) -> Insn {
        Insn {
            writes: RegSet::of(&[reg]),
            ..insn(Flow::Next)
        }
    }

    /// `test a32, b32`.
    fn test(a: Reg, b: Reg) -> Insn {
        Insn {
            flags: FlagsEffect::TestPair {
                reg: a,
                width: Width::W32,
                other: b,
            },
            ..insn(Flow::Next)
        }
    }

    /// `cmp reg32, imm`.
    fn cmp(reg: Reg, imm: i64) -> Insn {
        Insn {
            flags: FlagsEffect::Compare {
                reg,
                width: Width::W32,
                imm,
            },
            ..insn(Flow::Next)
        }
    }

    fn je(target: u64) -> Insn {
        insn(Flow::Branch(Cond::Eq, target))
    }

    /// `idiv reg32`.
    fn idiv(reg: Reg) -> Insn {
        Insn {
            divisor: Some((reg, Width::W32, true)),
            ..insn(Flow::Next)
        }
    }

    /// The addresses of the divisions the facts leave unproven.
    fn unproven(insns: Vec<Insn>) -> Vec<u64> {
        let len = insns.len() as u64 * 4;
        Function::analyse(&Insns(insns), &[], 0, 0..len, 0, &|_| false)
            .unwrap()
            .unproven_divisions()
    }

    /// Finding 12, as Cranelift wrote it at `-O none`: the divisor in r8 is
    /// tested for 0 through a copy in rcx, copied back into rax, tested for
    /// -1 there, and divided by from rsi. Copying r8 back into rax, of which
    /// r8 and rcx were copies, must keep the three together. Each guard, or
    /// the copy that ties the -1 test to the divisor, taken away leaves the
    /// `idiv` unproven.
    #[test]
    fn a_divisor_copied_back_and_forth_keeps_its_guards() {
        const RET: u64 = 36;
        const TRAP: u64 = 40;
        let finding = |zero_test: Insn, copy_back: Insn, minus_one_test: Insn| {
            vec![
                mov(R8, RAX),
                mov(RCX, R8),
                zero_test,
                je(TRAP),
                copy_back,
                minus_one_test,
                je(RET),
                mov(RSI, R8),
                idiv(RSI),
                insn(Flow::Return),
                insn(Flow::Forbidden),
            ]
        };
        let guarded = finding(test(RAX, RCX), mov(RAX, R8), cmp(RAX, -1));
        assert_eq!(unproven(guarded), Vec::<u64>::new());
        let no_zero_test = finding(insn(Flow::Next), mov(RAX, R8), cmp(RAX, -1));
        assert_eq!(unproven(no_zero_test), vec![32]);
        let no_minus_one_test = finding(test(RAX, RCX), mov(RAX, R8), insn(Flow::Next));
        assert_eq!(unproven(no_minus_one_test), vec![32]);
        let other_value_tested = finding(test(RAX, RCX), clobber(RAX), cmp(RAX, -1));
        assert_eq!(unproven(other_value_tested), vec![32]);
    }

    /// The byte comparison finds every equal byte and no other, whatever
    /// the neighbouring bytes hold (a borrow or carry between bytes would
    /// break it).
    #[test]
    fn bytes_equal_finds_exactly_the_equal_bytes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..10_000 {
            let mut bytes = [0u8; GPRS];
            for b in &mut bytes {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = [0, 1, 0x7f, 0x80, 0xff, seed as u8][(seed >> 32) as usize % 6];
            }
            for value in [0, 1, 0x7f, 0x80, 0xfe, 0xff, bytes[5]] {
                let expected = (0..GPRS).fold(0, |m, i| m | u32::from(bytes[i] == value) << i);
                assert_eq!(bytes_equal(&bytes, value), expected, "{bytes:?} {value}");
            }
        }
    }

    /// Two copies of a register keep sharing their facts after the register
    /// is overwritten; a copy taken after the overwrite shares nothing.
    #[test]
    fn copies_stay_together_when_their_source_is_overwritten() {
        const RET: u64 = 32;
        const TRAP: u64 = 36;
        let program = |first: Insn, second: Insn| {
            vec![
                mov(R8, RAX),
                first,
                second,
                test(R8, R8),
                je(TRAP),
                cmp(R8, -1),
                je(RET),
                idiv(RCX),
                insn(Flow::Return),
                insn(Flow::Forbidden),
            ]
        };
        let copies = program(mov(RCX, RAX), clobber(RAX));
        assert_eq!(unproven(copies), Vec::<u64>::new());
        let copy_of_the_new_value = program(clobber(RAX), mov(RCX, RAX));
        assert_eq!(unproven(copy_of_the_new_value), vec![28]);
    }
}
