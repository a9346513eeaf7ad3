//! Groups of loads through one unchanged pointer, so that the compiler can
//! check them with one compare (docs/compiler.md, "Memory accesses").
//!
//! Struct fields read in the order of their offsets (`p->a`, `p->b`,
//! `p->c` at `p + 0`, `p + 4`, `p + 8`) each reach further than the one
//! before, so no earlier check covers a later one. When nothing between
//! them can trap or have an effect, checking the first for the bytes the
//! last reaches is as good as checking each: if that check fails, some
//! member fails, and the first member that fails can trap right away with
//! its own trap site — the members before it are loads, and a trap ends the
//! run before anything could observe whether they ran.
//!
//! A *group* is a run of loads, inside one straight-line stretch of a body
//! (no `block`, `loop`, `if`, `else`, `end`, branch, `return` or
//! `unreachable` between them), whose address operand is exactly
//! `local.get L` of one local `L` that nothing sets or tees in between: the
//! operand stack is tracked abstractly, each slot either "local L as it
//! was at its n-th assignment" or unknown. Between two members only these
//! may appear: constants, `local.get`, `local.set`/`local.tee` of other
//! locals, `global.get`, `drop`, `select`, `nop`, numeric operators that
//! cannot trap (not division, remainder or the trapping float truncations),
//! and loads the range analysis proved inside the minimum memory (they
//! cannot trap). Anything else — a store, a call, a `memory.*`, `table.*`
//! or `global.set` operator, a trapping numeric operator, an unproven load
//! of another address — ends the group. Groups have at most
//! [`MAX_MEMBERS`] members, so that the facts stay linear in the body.
//!
//! For each member it records its *suffix group*: the members from it on,
//! pruned to those that reach further (`offset + size`) than every one
//! before them in it — only those can be the first to fail — when that
//! leaves more than the member itself. The compiler trusts these facts and
//! never re-derives them. Proven loads are never members: they need no
//! check.
//!
//! What it does not do: group stores (a store has an effect, so a later
//! member must not trap before it), look across blocks or calls, or
//! follow a pointer through anything but `local.get`/`local.tee`.

use crate::analysis::FuncAccesses;
use wasmparser::Operator;

/// Largest number of loads in one group; a longer run starts a new group.
pub const MAX_MEMBERS: usize = 16;

/// One member of a suffix group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupEntry {
    /// How far past the index the load reaches: its static offset plus its
    /// width in bytes.
    pub end: u64,
    /// Byte offset of the load in the module: its trap site.
    pub offset: u32,
}

/// The suffix group of one load: itself first, then the later members of
/// its group that reach further than every entry before them, in program
/// order (so `end` grows strictly and the last entry reaches furthest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuffixGroup {
    /// Byte offset of the load in the module.
    pub access: u32,
    /// At least two entries; `entries[0]` is the load itself.
    pub entries: Vec<GroupEntry>,
}

impl SuffixGroup {
    /// How far the last (furthest-reaching) entry reaches.
    pub fn reach(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.end)
    }
}

/// The groups of one defined function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuncGroups {
    /// Every load whose suffix group has more than one entry, sorted by
    /// `access`.
    pub suffixes: Vec<SuffixGroup>,
    /// Checks one compare per group saves, counted from each group's first
    /// member: its suffix group's entries after the first, which the
    /// earlier-check rule alone would each check again.
    pub saved: u32,
}

impl FuncGroups {
    /// The suffix group of the load at module byte offset `offset`.
    pub fn suffix_at(&self, offset: usize) -> Option<&SuffixGroup> {
        let offset = u32::try_from(offset).ok()?;
        let i = self.suffixes.binary_search_by_key(&offset, |s| s.access).ok()?;
        self.suffixes.get(i)
    }
}

/// Finds the groups of one function body, given its operators with their
/// module offsets, the range analysis' proofs and its number of locals
/// (parameters included). The range analysis calls it on the operators it
/// has read, so that the body is parsed once.
pub(crate) fn scan(ops: &[(Operator<'_>, usize)], proofs: &FuncAccesses, locals: usize) -> FuncGroups {
    let mut scan = Scan::new(proofs, locals);
    for (op, offset) in ops {
        scan.step(op, *offset as u32);
    }
    scan.finish()
}

/// An operand-stack slot: `local.get L` of `L` at its `version`-th
/// assignment, or anything else (`None`).
type Slot = Option<(u32, u32)>;

/// The group being read: the local and its version, and the members so far.
struct Open {
    local: u32,
    version: u32,
    members: Vec<GroupEntry>,
}

struct Scan<'a> {
    proofs: &'a FuncAccesses,
    /// The operand stack since the stretch began (or since an operator
    /// this scan does not model); popping past its bottom gives `None`.
    stack: Vec<Slot>,
    /// Each local's assignment count so far.
    versions: Vec<u32>,
    open: Option<Open>,
    groups: FuncGroups,
}

impl<'a> Scan<'a> {
    fn new(proofs: &'a FuncAccesses, locals: usize) -> Self {
        Scan {
            proofs,
            stack: Vec::new(),
            versions: vec![0; locals],
            open: None,
            groups: FuncGroups::default(),
        }
    }

    fn pop(&mut self) -> Slot {
        self.stack.pop().flatten()
    }

    fn version(&self, local: u32) -> u32 {
        self.versions.get(local as usize).copied().unwrap_or(0)
    }

    /// `local.set`/`local.tee` of `local`: a new version, and the end of
    /// its group.
    fn assign(&mut self, local: u32) {
        if let Some(v) = self.versions.get_mut(local as usize) {
            *v += 1;
        }
        if self.open.as_ref().is_some_and(|g| g.local == local) {
            self.close();
        }
    }

    fn step(&mut self, op: &Operator<'_>, offset: u32) {
        use Operator as O;
        match *op {
            O::LocalGet { local_index } => self.stack.push(Some((local_index, self.version(local_index)))),
            O::LocalSet { local_index } => {
                self.pop();
                self.assign(local_index);
            }
            O::LocalTee { local_index } => {
                self.pop();
                self.assign(local_index);
                self.stack.push(Some((local_index, self.version(local_index))));
            }
            O::Nop => {}
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                self.pop();
                self.pop();
                self.pop();
                self.stack.push(None);
            }
            _ => {
                if let Some(end) = load_end(op) {
                    self.load(offset, end);
                } else if let Some(pops) = pure_pops(op) {
                    for _ in 0..pops {
                        self.pop();
                    }
                    self.stack.push(None);
                } else {
                    // A control operator ends the stretch; anything else
                    // may trap or have an effect. Either way the group
                    // ends, and the stack is no longer modelled.
                    self.close();
                    self.stack.clear();
                }
            }
        }
    }

    /// A load reaching `end` bytes past its index.
    fn load(&mut self, offset: u32, end: u64) {
        let address = self.pop();
        self.stack.push(None);
        if self.proofs.is_proven(offset as usize) {
            return;
        }
        let entry = GroupEntry { end, offset };
        if let (Some(g), Some((local, version))) = (&mut self.open, address) {
            if g.local == local && g.version == version && g.members.len() < MAX_MEMBERS {
                g.members.push(entry);
                return;
            }
        }
        self.close();
        if let Some((local, version)) = address {
            self.open = Some(Open { local, version, members: vec![entry] });
        }
    }

    /// Ends the open group, recording each member's suffix group.
    fn close(&mut self) {
        let Some(g) = self.open.take() else { return };
        for (i, first) in g.members.iter().enumerate() {
            let mut entries = vec![*first];
            for m in &g.members[i + 1..] {
                if m.end > entries.last().map_or(0, |e| e.end) {
                    entries.push(*m);
                }
            }
            if entries.len() > 1 {
                if i == 0 {
                    self.groups.saved += entries.len() as u32 - 1;
                }
                self.groups.suffixes.push(SuffixGroup { access: first.offset, entries });
            }
        }
    }

    fn finish(mut self) -> FuncGroups {
        self.close();
        // Members come in program order, so the suffixes are sorted.
        self.groups
    }
}

/// For a load: how far past its index it reaches.
fn load_end(op: &Operator<'_>) -> Option<u64> {
    use Operator as O;
    let (memarg, size) = match *op {
        O::I32Load { memarg } | O::F32Load { memarg } => (memarg, 4),
        O::I64Load { memarg } | O::F64Load { memarg } => (memarg, 8),
        O::I32Load8S { memarg } | O::I32Load8U { memarg } => (memarg, 1),
        O::I64Load8S { memarg } | O::I64Load8U { memarg } => (memarg, 1),
        O::I32Load16S { memarg } | O::I32Load16U { memarg } => (memarg, 2),
        O::I64Load16S { memarg } | O::I64Load16U { memarg } => (memarg, 2),
        O::I64Load32S { memarg } | O::I64Load32U { memarg } => (memarg, 4),
        _ => return None,
    };
    Some(memarg.offset + size)
}

/// For an operator that can neither trap nor have an effect and pushes one
/// value (constants, `global.get`, numeric operators but division,
/// remainder and the trapping truncations): how many operands it pops.
fn pure_pops(op: &Operator<'_>) -> Option<u32> {
    use Operator as O;
    let pops = match op {
        O::I32Const { .. } | O::I64Const { .. } | O::F32Const { .. } | O::F64Const { .. } => 0,
        O::GlobalGet { .. } => 0,
        O::I32Eqz | O::I64Eqz | O::I32Clz | O::I32Ctz | O::I32Popcnt | O::I64Clz | O::I64Ctz => 1,
        O::I64Popcnt | O::I32WrapI64 | O::I64ExtendI32S | O::I64ExtendI32U => 1,
        O::I32Extend8S | O::I32Extend16S | O::I64Extend8S | O::I64Extend16S | O::I64Extend32S => 1,
        O::F32Abs | O::F32Neg | O::F32Ceil | O::F32Floor | O::F32Trunc | O::F32Nearest | O::F32Sqrt => 1,
        O::F64Abs | O::F64Neg | O::F64Ceil | O::F64Floor | O::F64Trunc | O::F64Nearest | O::F64Sqrt => 1,
        O::F32ConvertI32S | O::F32ConvertI32U | O::F32ConvertI64S | O::F32ConvertI64U => 1,
        O::F64ConvertI32S | O::F64ConvertI32U | O::F64ConvertI64S | O::F64ConvertI64U => 1,
        O::F32DemoteF64 | O::F64PromoteF32 => 1,
        O::I32ReinterpretF32 | O::I64ReinterpretF64 | O::F32ReinterpretI32 | O::F64ReinterpretI64 => 1,
        O::I32TruncSatF32S | O::I32TruncSatF32U | O::I32TruncSatF64S | O::I32TruncSatF64U => 1,
        O::I64TruncSatF32S | O::I64TruncSatF32U | O::I64TruncSatF64S | O::I64TruncSatF64U => 1,
        O::I32Eq | O::I32Ne | O::I32LtS | O::I32LtU | O::I32GtS | O::I32GtU => 2,
        O::I32LeS | O::I32LeU | O::I32GeS | O::I32GeU => 2,
        O::I64Eq | O::I64Ne | O::I64LtS | O::I64LtU | O::I64GtS | O::I64GtU => 2,
        O::I64LeS | O::I64LeU | O::I64GeS | O::I64GeU => 2,
        O::F32Eq | O::F32Ne | O::F32Lt | O::F32Gt | O::F32Le | O::F32Ge => 2,
        O::F64Eq | O::F64Ne | O::F64Lt | O::F64Gt | O::F64Le | O::F64Ge => 2,
        O::I32Add | O::I32Sub | O::I32Mul | O::I32And | O::I32Or | O::I32Xor => 2,
        O::I32Shl | O::I32ShrS | O::I32ShrU | O::I32Rotl | O::I32Rotr => 2,
        O::I64Add | O::I64Sub | O::I64Mul | O::I64And | O::I64Or | O::I64Xor => 2,
        O::I64Shl | O::I64ShrS | O::I64ShrU | O::I64Rotl | O::I64Rotr => 2,
        O::F32Add | O::F32Sub | O::F32Mul | O::F32Div | O::F32Min | O::F32Max | O::F32Copysign => 2,
        O::F64Add | O::F64Sub | O::F64Mul | O::F64Div | O::F64Min | O::F64Max | O::F64Copysign => 2,
        _ => return None,
    };
    Some(pops)
}
