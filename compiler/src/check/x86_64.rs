//! x86_64 instructions (decoded by Capstone) reduced to the checker's
//! [`Insn`].

use capstone::arch::x86::X86OperandType;
use capstone::arch::{ArchDetail, DetailsArchInsn};
use capstone::{Capstone, InsnDetail, InsnGroupId, RegId};

use super::flow::{Abi, Cond, Decoder, FlagsEffect, Flow, Insn, Reg, RegSet, SpEffect, Store, Width};

const RSP: Reg = 4;
const RBP: Reg = 5;
/// The first argument register, which holds the vmctx pointer.
const RDI: Reg = 7;
/// The second, which holds it when a return-area pointer comes first.
const RSI: Reg = 6;
/// SysV caller-saved: rax, rcx, rdx, rsi, rdi, r8-r11.
const CALL_CLOBBERED: [Reg; 9] = [0, 1, 2, 6, 7, 8, 9, 10, 11];

pub struct X86 {
    cs: Capstone,
    /// What each Capstone register id means to the checks, by id: looked
    /// up once, so decoding allocates no register names.
    regs: Vec<RegInfo>,
    /// Per Capstone group id: whether it marks an FP/SIMD instruction, and
    /// whether it marks a forbidden one (privileged, interrupt, iret).
    groups: Vec<GroupInfo>,
    /// Capstone's id of each general-purpose register, by width (32, 64
    /// bits) and number: what [`X86::decode_operands`] gives its operands.
    gpr_ids: [[RegId; 16]; 2],
}

/// A Capstone register, as the checks see it.
#[derive(Debug, Clone, Copy, Default)]
struct RegInfo {
    gpr: Option<(Reg, Option<Width>)>,
    fp: bool,
    /// The flags register (`rflags`, `eflags`, ...).
    flags: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct GroupInfo {
    fp: bool,
    forbidden: bool,
}

/// Capstone's x86 register and group ids are below these.
const REG_IDS: u16 = 512;
const GROUP_IDS: u16 = 256;

impl X86 {
    /// Over a Capstone instance for this architecture, with details on.
    pub fn new(cs: Capstone) -> X86 {
        let regs: Vec<RegInfo> = (0..REG_IDS)
            .map(|id| {
                let name = cs.reg_name(RegId(id)).unwrap_or_default();
                RegInfo {
                    gpr: gpr(&name),
                    fp: is_fp_reg(&name),
                    flags: name.ends_with("flags"),
                }
            })
            .collect();
        let groups = (0..GROUP_IDS)
            .map(|id| {
                let Some(g) = u8::try_from(id).ok().and_then(|id| cs.group_name(InsnGroupId(id))) else {
                    return GroupInfo::default();
                };
                GroupInfo {
                    fp: ["sse", "avx", "fpu", "mmx", "3dnow", "fma", "f16c"]
                        .iter()
                        .any(|p| g.starts_with(p)),
                    forbidden: g == "privilege" || g == "int" || g == "iret",
                }
            })
            .collect::<Vec<GroupInfo>>();
        let mut gpr_ids = [[RegId(0); 16]; 2];
        for (id, info) in regs.iter().enumerate() {
            if let Some((r, Some(w))) = info.gpr {
                gpr_ids[w as usize][r as usize] = RegId(id as u16);
            }
        }
        X86 { cs, regs, groups, gpr_ids }
    }

    fn reg(&self, r: RegId) -> RegInfo {
        self.regs.get(usize::from(r.0)).copied().unwrap_or_default()
    }

    fn group(&self, g: InsnGroupId) -> GroupInfo {
        self.groups.get(usize::from(g.0)).copied().unwrap_or_default()
    }
}

/// A general-purpose register by name: its number and the width written
/// (`None` for 8/16-bit parts, which are partial writes).
fn gpr(name: &str) -> Option<(Reg, Option<Width>)> {
    const R64: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
    const R32: [&str; 16] = [
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
        "r12d", "r13d", "r14d", "r15d",
    ];
    const PARTS: [&[&str]; 16] = [
        &["al", "ah", "ax"],
        &["cl", "ch", "cx"],
        &["dl", "dh", "dx"],
        &["bl", "bh", "bx"],
        &["spl", "sp"],
        &["bpl", "bp"],
        &["sil", "si"],
        &["dil", "di"],
        &["r8b", "r8w"],
        &["r9b", "r9w"],
        &["r10b", "r10w"],
        &["r11b", "r11w"],
        &["r12b", "r12w"],
        &["r13b", "r13w"],
        &["r14b", "r14w"],
        &["r15b", "r15w"],
    ];
    for i in 0..16 {
        if R64[i] == name {
            return Some((i as Reg, Some(Width::W64)));
        }
        if R32[i] == name {
            return Some((i as Reg, Some(Width::W32)));
        }
        if PARTS[i].contains(&name) {
            return Some((i as Reg, None));
        }
    }
    None
}

fn is_fp_reg(name: &str) -> bool {
    ["xmm", "ymm", "zmm", "mm", "st", "mxcsr", "fp"]
        .iter()
        .any(|p| name.starts_with(p))
        || (name.len() == 2 && name.starts_with('k') && name.as_bytes()[1].is_ascii_digit())
}

/// An operand, its registers already looked up.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// A register, and whether the instruction writes it.
    Reg(RegInfo, RegId, bool),
    Imm(i64),
    /// `[base + disp]`: the base register, whether there is an index, the
    /// displacement, and whether the instruction writes it.
    Mem(RegInfo, bool, i64, bool),
}

impl Op {
    /// The general-purpose register of a register operand.
    fn gpr(&self) -> Option<(Reg, Option<Width>)> {
        match self {
            Op::Reg(info, _, _) => info.gpr,
            _ => None,
        }
    }
}

/// An instruction as a decoder read it, before it is reduced to an
/// [`Insn`]: Capstone's reading, or the same reading of a form
/// [`X86::decode_operands`] knows.
struct Reading<'a> {
    at: u64,
    len: u32,
    mnemonic: &'a str,
    ops: &'a [Op],
    uses_fp: bool,
    /// In a privileged, interrupt or iret group.
    forbidden_group: bool,
    writes_flags: bool,
}

impl Reading<'_> {
    /// The [`Insn`], given the registers the instruction writes implicitly
    /// (`text` gives the instruction's text for an error message).
    fn reduce(
        &self,
        implicit_writes: impl Iterator<Item = RegInfo>,
        text: &dyn Fn() -> String,
    ) -> Result<Insn, String> {
        let (at, mnemonic, ops) = (self.at, self.mnemonic, self.ops);
        let mut insn = Insn::new(self.len, Flow::Next);
        insn.uses_fp = self.uses_fp;
        insn.flow = flow(mnemonic, ops, self.forbidden_group);
        insn.flags = flags(mnemonic, ops, self.writes_flags);
        insn.sp = stack(mnemonic, ops, at)?;
        let explicit_writes = ops.iter().filter_map(|o| match o {
            Op::Reg(r, _, true) => Some(*r),
            _ => None,
        });
        insn.copy = copy(mnemonic, ops);
        insn.sign_extend = sign_extension(mnemonic, ops);
        insn.load = load(mnemonic, ops);
        insn.store = store(mnemonic, ops);
        insn.constant = constant(mnemonic, ops);
        insn.increment = increment(mnemonic, ops);
        for info in explicit_writes.chain(implicit_writes) {
            if let Some((r, _)) = info.gpr {
                let copied = insn.copy.is_some_and(|(d, _, _)| d == r)
                    || insn.sign_extend.is_some_and(|(d, _)| d == r);
                if r == RSP
                    && insn.sp == SpEffect::None
                    && !matches!(insn.flow, Flow::Call(_) | Flow::CallIndirect | Flow::Return)
                {
                    return Err(format!("0x{at:x}: `{}` writes the stack pointer", text()));
                }
                if !copied {
                    insn.writes.insert(r);
                }
            }
        }
        if mnemonic == "div" || mnemonic == "idiv" {
            insn.divisor = match ops {
                [Op::Reg(info, _, _)] => match info.gpr {
                    Some((r, Some(w))) => Some((r, w, mnemonic == "idiv")),
                    _ => return Err(format!("0x{at:x}: `{}`: unsupported divisor", text())),
                },
                _ => return Err(format!("0x{at:x}: `{}`: division by a memory operand", text())),
            };
        }
        Ok(insn)
    }
}

/// `rsp` itself (64 bits).
fn is_rsp(info: &RegInfo) -> bool {
    info.gpr == Some((RSP, Some(Width::W64)))
}

/// Capstone lists at most this many operands for an x86 instruction.
const MAX_OPERANDS: usize = 8;

impl Decoder for X86 {
    fn abi(&self) -> Abi {
        Abi {
            sp: RSP,
            vmctx: RDI,
            vmctx_after_ret_area: RSI,
            call_clobbered: &CALL_CLOBBERED,
        }
    }

    fn text(&self, code: &[u8], at: u64) -> String {
        let bytes = code.get(at as usize..).unwrap_or(&[]);
        match self.cs.disasm_count(&bytes[..bytes.len().min(16)], at, 1) {
            Ok(insns) => insns.iter().next().map_or_else(
                || "(undecodable)".into(),
                |i| format!("{} {}", i.mnemonic().unwrap_or(""), i.op_str().unwrap_or("")),
            ),
            Err(e) => e.to_string(),
        }
    }

    fn decode(&self, code: &[u8], at: u64) -> Result<Insn, String> {
        let bytes = code.get(at as usize..).unwrap_or(&[]);
        if let Some(insn) = decode_common(bytes, at) {
            return Ok(insn);
        }
        let mut buf = [Op::Imm(0); MAX_OPERANDS];
        match self.decode_operands(bytes, at, &mut buf) {
            Some(reading) => reading.reduce(std::iter::empty(), &|| self.text(code, at)),
            None => self.decode_capstone(code, at),
        }
    }
}

impl X86 {
    /// Any instruction, through Capstone.
    fn decode_capstone(&self, code: &[u8], at: u64) -> Result<Insn, String> {
        let bytes = code.get(at as usize..).unwrap_or(&[]);
        let insns = self
            .cs
            .disasm_count(&bytes[..bytes.len().min(16)], at, 1)
            .map_err(|e| e.to_string())?;
        let Some(i) = insns.iter().next() else {
            return Err(format!("undecodable bytes at 0x{at:x}"));
        };
        let detail = self.cs.insn_detail(i).map_err(|e| e.to_string())?;
        let mnemonic = i.mnemonic().unwrap_or("");
        let mut buf = [Op::Imm(0); MAX_OPERANDS];
        let ops = self.operands(&detail, &mut buf);
        let groups = detail.groups();
        let implicit = detail.regs_read().iter().chain(detail.regs_write());
        // Capstone lists cdq/cqo as writing rax too; they only write rdx.
        let sign_extend = matches!(mnemonic, "cdq" | "cqo");
        let implicit_writes = detail
            .regs_write()
            .iter()
            .map(|r| self.reg(*r))
            .filter(|r| !(sign_extend && r.gpr.is_some_and(|(r, _)| r == 0)));
        let reading = Reading {
            at,
            len: i.len() as u32,
            mnemonic,
            ops,
            uses_fp: ops.iter().any(|o| matches!(o, Op::Reg(r, _, _) if r.fp))
                || implicit.clone().any(|r| self.reg(*r).fp)
                || groups.iter().any(|g| self.group(*g).fp),
            forbidden_group: groups.iter().any(|g| self.group(*g).forbidden),
            writes_flags: detail.regs_write().iter().any(|r| self.reg(*r).flags),
        };
        let text = || format!("{mnemonic} {}", i.op_str().unwrap_or(""));
        reading.reduce(implicit_writes, &text)
    }

    /// The commonest instructions of Cranelift's output that take a ModRM
    /// byte, read as Capstone reads them without Capstone
    /// (`tests::modrm_forms_decode_as_capstone_reads_them` compares every
    /// form): loads, stores and `lea` through a base register with or
    /// without an index, register-to-register arithmetic, compares and
    /// tests, arithmetic and compares with an immediate, and moves of an
    /// immediate. An optional REX prefix is the only prefix; a form that
    /// writes rsp, addresses memory without a base register or relative to
    /// rip, or anything else is `None` and goes to Capstone. None of these
    /// forms writes a register implicitly, uses FP/SIMD registers or is
    /// forbidden.
    fn decode_operands<'b>(&self, bytes: &[u8], at: u64, buf: &'b mut [Op; MAX_OPERANDS]) -> Option<Reading<'b>> {
        let (rex, rest) = match *bytes.first()? {
            rex @ 0x40..=0x4f => (rex, bytes.get(1..)?),
            _ => (0, bytes),
        };
        let prefix_len = bytes.len() - rest.len();
        let width = if rex & 8 != 0 { Width::W64 } else { Width::W32 };
        let gpr = |r: Reg, write: bool| {
            let info = RegInfo { gpr: Some((r, Some(width))), fp: false, flags: false };
            Op::Reg(info, self.gpr_ids[width as usize][r as usize], write)
        };
        let opcode = *rest.first()?;
        let (mnemonic, writes_flags, n, len): (&'static str, bool, usize, usize) = match opcode {
            // op r/m, r and op r, r/m: register forms, and memory forms of
            // mov and lea.
            0x01 | 0x03 | 0x09 | 0x0b | 0x21 | 0x23 | 0x29 | 0x2b | 0x31 | 0x33 | 0x39 | 0x3b | 0x85 | 0x89 | 0x8b | 0x8d => {
                let (mnemonic, writes_flags, writes_dst) = match opcode {
                    0x01 | 0x03 => ("add", true, true),
                    0x09 | 0x0b => ("or", true, true),
                    0x21 | 0x23 => ("and", true, true),
                    0x29 | 0x2b => ("sub", true, true),
                    0x31 | 0x33 => ("xor", true, true),
                    0x39 | 0x3b => ("cmp", true, false),
                    0x85 => ("test", true, false),
                    0x89 | 0x8b => ("mov", false, true),
                    _ => ("lea", false, true),
                };
                let modrm = *rest.get(1)?;
                let reg = (modrm >> 3 & 7) | (rex & 4) << 1;
                let (rm, rm_len) = modrm_operand(rex, rest.get(1..)?)?;
                let to_reg = opcode & 2 != 0 || opcode == 0x8d;
                let (dst, src) = match rm {
                    RmOperand::Reg(r) => {
                        if mnemonic == "lea" {
                            return None;
                        }
                        let (d, s) = if to_reg { (reg, r) } else { (r, reg) };
                        (gpr(d, writes_dst), gpr(s, false))
                    }
                    RmOperand::Mem { base, index, disp } => {
                        if !matches!(mnemonic, "mov" | "lea") {
                            return None;
                        }
                        let mem = |write| Op::Mem(base_info(base), index, disp, write);
                        if to_reg {
                            (gpr(reg, true), mem(false))
                        } else {
                            (mem(true), gpr(reg, false))
                        }
                    }
                };
                buf[0] = dst;
                buf[1] = src;
                (mnemonic, writes_flags, 2, 1 + rm_len)
            }
            // op r, imm8 (sign-extended) / imm32: add, or, and, sub, xor, cmp.
            0x81 | 0x83 => {
                let modrm = *rest.get(1)?;
                let mnemonic = match modrm >> 3 & 7 {
                    0 => "add",
                    1 => "or",
                    4 => "and",
                    5 => "sub",
                    6 => "xor",
                    7 => "cmp",
                    _ => return None,
                };
                let (RmOperand::Reg(r), rm_len) = modrm_operand(rex, rest.get(1..)?)? else {
                    return None;
                };
                let imm_len = if opcode == 0x83 { 1 } else { 4 };
                let imm = immediate(rest.get(1 + rm_len..)?, imm_len, width)?;
                buf[0] = gpr(r, mnemonic != "cmp");
                buf[1] = Op::Imm(imm);
                (mnemonic, true, 2, 1 + rm_len + imm_len)
            }
            // mov r, imm32 (imm64 with REX.W: movabs).
            0xb8..=0xbf => {
                let r = (opcode & 7) | (rex & 1) << 3;
                let (mnemonic, imm_len) = match width {
                    Width::W64 => ("movabs", 8),
                    Width::W32 => ("mov", 4),
                };
                buf[0] = gpr(r, true);
                buf[1] = Op::Imm(immediate(rest.get(1..)?, imm_len, width)?);
                (mnemonic, false, 2, 1 + imm_len)
            }
            // mov r/m, imm32 (sign-extended with REX.W).
            0xc7 => {
                let modrm = *rest.get(1)?;
                if modrm >> 3 & 7 != 0 {
                    return None;
                }
                let (rm, rm_len) = modrm_operand(rex, rest.get(1..)?)?;
                buf[0] = match rm {
                    RmOperand::Reg(r) => gpr(r, true),
                    RmOperand::Mem { base, index, disp } => Op::Mem(base_info(base), index, disp, true),
                };
                buf[1] = Op::Imm(immediate(rest.get(1 + rm_len..)?, 4, width)?);
                ("mov", false, 2, 1 + rm_len + 4)
            }
            _ => return None,
        };
        let len = prefix_len + len;
        if bytes.len() < len {
            return None;
        }
        let ops = &buf[..n];
        // Writes of rsp are Capstone's to read (and the caller's to refuse
        // or to take as a stack adjustment).
        if ops.iter().any(|o| matches!(o, Op::Reg(info, _, true) if info.gpr.is_some_and(|(r, _)| r == RSP))) {
            return None;
        }
        Some(Reading {
            at,
            len: len as u32,
            mnemonic,
            ops,
            uses_fp: false,
            forbidden_group: false,
            writes_flags,
        })
    }

    /// The instruction's operands, in `buf`.
    fn operands<'b>(&self, detail: &InsnDetail, buf: &'b mut [Op; MAX_OPERANDS]) -> &'b [Op] {
        let ArchDetail::X86Detail(x86) = detail.arch_detail() else {
            return &buf[..0];
        };
        let mut n = 0;
        for op in x86.operands().take(MAX_OPERANDS) {
            buf[n] = match op.op_type {
                X86OperandType::Reg(r) => Op::Reg(self.reg(r), r, op.access.is_some_and(|a| a.is_writable())),
                X86OperandType::Imm(v) => Op::Imm(v),
                X86OperandType::Mem(m) => Op::Mem(
                    self.reg(m.base()),
                    m.index().0 != 0,
                    m.disp(),
                    op.access.is_none_or(|a| a.is_writable()),
                ),
                _ => Op::Mem(RegInfo::default(), true, 0, true),
            };
            n += 1;
        }
        &buf[..n]
    }
}

/// The commonest instructions of Cranelift's output, decoded without
/// Capstone: direct jumps, branches and calls, `ret`, `push`/`pop` of a
/// register other than rsp, and register-to-register `mov` into a register
/// other than rsp. Each gives exactly the [`Insn`] Capstone's reading
/// gives (`tests::common_forms_decode_as_capstone_reads_them` compares
/// every form); anything else, prefixed forms included, is `None` and goes
/// to Capstone.
fn decode_common(bytes: &[u8], at: u64) -> Option<Insn> {
    let rel = |len: usize, width: usize| -> Option<u64> {
        let field = bytes.get(len - width..len)?;
        let rel = match width {
            1 => i64::from(field[0] as i8),
            _ => i64::from(i32::from_le_bytes(field.try_into().ok()?)),
        };
        Some(at.wrapping_add(len as u64).wrapping_add(rel as u64))
    };
    let cond = |cc: u8| match cc {
        0x4 => Cond::Eq,
        0x5 => Cond::Ne,
        0x0 => Cond::Vs,
        0x1 => Cond::Vc,
        0x2 => Cond::Below,
        0x3 => Cond::AboveEq,
        _ => Cond::Other,
    };
    let rsp_only = || {
        let mut w = RegSet::default();
        w.insert(RSP);
        w
    };
    let (len, insn) = match *bytes.first()? {
        0xeb => (2, Insn::new(2, Flow::Jump(rel(2, 1)?))),
        0xe9 => (5, Insn::new(5, Flow::Jump(rel(5, 4)?))),
        0xe8 => (5, Insn { writes: rsp_only(), ..Insn::new(5, Flow::Call(rel(5, 4)?)) }),
        0xc3 => (1, Insn { writes: rsp_only(), ..Insn::new(1, Flow::Return) }),
        op @ 0x70..=0x7f => (2, Insn::new(2, Flow::Branch(cond(op & 0xf), rel(2, 1)?))),
        0x0f => match *bytes.get(1)? {
            op @ 0x80..=0x8f => (6, Insn::new(6, Flow::Branch(cond(op & 0xf), rel(6, 4)?))),
            _ => return None,
        },
        op @ 0x50..=0x5f => return push_pop(op, 0, 1),
        0x41 => match *bytes.get(1)? {
            op @ 0x50..=0x5f => return push_pop(op, 8, 2),
            _ => return mov_reg(0x41, bytes.get(1..3)?),
        },
        rex @ 0x40..=0x4f => return mov_reg(rex, bytes.get(1..3)?),
        0x89 | 0x8b => return mov_reg(0, bytes.get(..2)?),
        _ => return None,
    };
    (bytes.len() >= len).then_some(insn)
}

/// The r/m operand of a ModRM byte.
#[derive(Debug, Clone, Copy)]
enum RmOperand {
    Reg(Reg),
    /// `[base + index * scale + disp]`, `index` saying whether there is one.
    Mem { base: Reg, index: bool, disp: i64 },
}

/// The r/m operand of the ModRM byte `bytes[0]` (SIB and displacement
/// following) after REX prefix `rex`, and its length in bytes, ModRM
/// included. `None` for the forms without a base register (rip-relative,
/// or a SIB byte without base).
fn modrm_operand(rex: u8, bytes: &[u8]) -> Option<(RmOperand, usize)> {
    let modrm = *bytes.first()?;
    let (mode, rm) = (modrm >> 6, modrm & 7);
    let ext_b = (rex & 1) << 3;
    if mode == 3 {
        return Some((RmOperand::Reg(rm | ext_b), 1));
    }
    let (base, index, len) = if rm == 4 {
        let sib = *bytes.get(1)?;
        let index = (sib >> 3 & 7) | (rex & 2) << 2;
        if mode == 0 && sib & 7 == 5 {
            return None;
        }
        // Index 100 (without REX.X) is none, but Capstone reads it as an
        // index register of its own (`riz`) unless the base is rsp or r12
        // and the scale 1.
        let no_index = index == RSP && sib & 7 == 4 && sib >> 6 == 0;
        ((sib & 7) | ext_b, !no_index, 2)
    } else if mode == 0 && rm == 5 {
        return None;
    } else {
        (rm | ext_b, false, 1)
    };
    let (disp, disp_len) = match mode {
        0 => (0, 0),
        1 => (i64::from(*bytes.get(len)? as i8), 1),
        _ => (i64::from(i32::from_le_bytes(bytes.get(len..len + 4)?.try_into().ok()?)), 4),
    };
    Some((RmOperand::Mem { base, index, disp }, len + disp_len))
}

/// A 64-bit base register, as Capstone's register table describes it.
fn base_info(base: Reg) -> RegInfo {
    RegInfo { gpr: Some((base, Some(Width::W64))), fp: false, flags: false }
}

/// An immediate of `len` bytes as Capstone gives it: sign-extended, but a
/// 4-byte one of a 32-bit operation zero-extended.
fn immediate(bytes: &[u8], len: usize, width: Width) -> Option<i64> {
    let value = match len {
        1 => return Some(i64::from(*bytes.first()? as i8)),
        4 => i64::from(i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?)),
        _ => i64::from_le_bytes(bytes.get(..8)?.try_into().ok()?),
    };
    Some(match width {
        Width::W32 => i64::from(value as u32),
        Width::W64 => value,
    })
}

/// `push r`/`pop r` (opcode `op`, register `base + op & 7`), `len` bytes.
fn push_pop(op: u8, base: Reg, len: u32) -> Option<Insn> {
    let reg = base + (op & 7);
    let mut insn = Insn::new(len, Flow::Next);
    insn.writes.insert(RSP);
    if op < 0x58 {
        insn.sp = SpEffect::Down(8);
    } else {
        if reg == RSP {
            return None;
        }
        insn.sp = SpEffect::Up;
        insn.writes.insert(reg);
    }
    Some(insn)
}

/// `mov r, r` (`89 /r` or `8b /r`, register form), after a REX prefix
/// `rex` (0: none): a copy at the operand width.
fn mov_reg(rex: u8, bytes: &[u8]) -> Option<Insn> {
    let [op @ (0x89 | 0x8b), modrm] = *bytes else {
        return None;
    };
    if modrm >> 6 != 3 {
        return None;
    }
    let reg = (modrm >> 3 & 7) + if rex & 4 != 0 { 8 } else { 0 };
    let rm = (modrm & 7) + if rex & 1 != 0 { 8 } else { 0 };
    let (dst, src) = if op == 0x89 { (rm, reg) } else { (reg, rm) };
    if dst == RSP {
        return None;
    }
    let width = if rex & 8 != 0 { Width::W64 } else { Width::W32 };
    let len = if rex == 0 { 2 } else { 3 };
    Some(Insn { copy: Some((dst, src, width)), ..Insn::new(len, Flow::Next) })
}

fn flow(mnemonic: &str, ops: &[Op], forbidden_group: bool) -> Flow {
    let target = match ops {
        [Op::Imm(t)] => Some(*t as u64),
        _ => None,
    };
    let forbidden = [
        "ud0", "ud1", "ud2", "int3", "int1", "int", "into", "hlt", "syscall", "sysenter",
    ];
    if forbidden.contains(&mnemonic) || forbidden_group {
        return Flow::Forbidden;
    }
    match (mnemonic, target) {
        ("jmp", Some(t)) => Flow::Jump(t),
        ("jmp", None) => Flow::JumpIndirect,
        ("call", Some(t)) => Flow::Call(t),
        ("call", None) => Flow::CallIndirect,
        ("ret", _) => Flow::Return,
        (m, Some(t)) if m.starts_with('j') => Flow::Branch(
            match m {
                "je" => Cond::Eq,
                "jne" => Cond::Ne,
                "jo" => Cond::Vs,
                "jno" => Cond::Vc,
                "jb" => Cond::Below,
                "jae" => Cond::AboveEq,
                _ => Cond::Other,
            },
            t,
        ),
        (m, None) if m.starts_with('j') => Flow::JumpIndirect,
        _ => Flow::Next,
    }
}

fn flags(mnemonic: &str, ops: &[Op], writes_flags: bool) -> FlagsEffect {
    match (mnemonic, ops) {
        ("test", [Op::Reg(a, ia, _), Op::Reg(_, ib, _)]) if ia == ib => match a.gpr {
            Some((reg, Some(width))) => FlagsEffect::Compare { reg, width, imm: 0 },
            _ => FlagsEffect::Clobber,
        },
        ("cmp", [Op::Reg(a, _, _), Op::Imm(imm)]) => match a.gpr {
            Some((reg, Some(width))) => {
                // Capstone shows 32-bit immediates zero-extended.
                let imm = if width == Width::W32 {
                    i64::from(*imm as i32)
                } else {
                    *imm
                };
                FlagsEffect::Compare { reg, width, imm }
            }
            _ => FlagsEffect::Clobber,
        },
        ("test", [Op::Reg(a, _, _), Op::Reg(b, _, _)]) => match (a.gpr, b.gpr) {
            (Some((reg, Some(width))), Some((other, Some(w)))) if w == width => {
                FlagsEffect::TestPair { reg, width, other }
            }
            _ => FlagsEffect::Clobber,
        },
        ("cmp", [Op::Reg(a, _, _), Op::Reg(b, _, _)]) => match (a.gpr, b.gpr) {
            (Some((reg, Some(width))), Some((other, Some(w)))) if w == width => {
                FlagsEffect::CompareReg { reg, width, other }
            }
            _ => FlagsEffect::Clobber,
        },
        _ if writes_flags => FlagsEffect::Clobber,
        _ => FlagsEffect::Keep,
    }
}

/// A 64-bit register spilled to `[rsp + disp]`, or any other write to
/// the stack or through the frame pointer.
fn store(mnemonic: &str, ops: &[Op]) -> Store {
    let on_stack = |base: &RegInfo| matches!(base.gpr, Some((RSP | RBP, _)));
    match (mnemonic, ops) {
        ("mov", [Op::Mem(base, false, disp, true), src @ Op::Reg(..)]) if is_rsp(base) => match src.gpr() {
            Some((reg, Some(Width::W64))) => Store::Spill { reg, disp: *disp },
            _ => Store::Stack,
        },
        _ if ops.iter().any(|o| matches!(o, Op::Mem(base, _, _, true) if on_stack(base))) => Store::Stack,
        _ => Store::None,
    }
}

/// `mov r64, qword ptr [base + disp]`.
fn load(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, i64)> {
    match (mnemonic, ops) {
        ("mov", [d @ Op::Reg(..), Op::Mem(base, false, disp, _)]) => match (d.gpr()?, base.gpr?) {
            ((d, Some(Width::W64)), (b, Some(Width::W64))) => Some((d, b, *disp)),
            _ => None,
        },
        _ => None,
    }
}

fn copy(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, Width)> {
    let [d @ Op::Reg(..), s @ Op::Reg(..)] = ops else {
        return None;
    };
    if mnemonic != "mov" {
        return None;
    }
    match (d.gpr()?, s.gpr()?) {
        ((d, Some(wd)), (s, Some(ws))) if wd == ws && d != RSP => Some((d, s, wd)),
        _ => None,
    }
}

/// `lea d, [s + imm]`, `add`/`sub d, imm`, `inc`/`dec d`.
fn increment(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, Width, i64)> {
    let (d, s, imm) = match (mnemonic, ops) {
        ("lea", [d @ Op::Reg(..), Op::Mem(base, false, disp, _)]) => (d.gpr()?, base.gpr?, *disp),
        ("add", [d @ Op::Reg(..), Op::Imm(v)]) => (d.gpr()?, d.gpr()?, *v),
        ("sub", [d @ Op::Reg(..), Op::Imm(v)]) => (d.gpr()?, d.gpr()?, v.checked_neg()?),
        ("inc", [d @ Op::Reg(..)]) => (d.gpr()?, d.gpr()?, 1),
        ("dec", [d @ Op::Reg(..)]) => (d.gpr()?, d.gpr()?, -1),
        _ => return None,
    };
    match (d, s) {
        ((d, Some(width)), (s, Some(_))) if d != RSP => Some((d, s, width, imm)),
        _ => None,
    }
}

/// `movsxd r64, r32`.
fn sign_extension(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg)> {
    match (mnemonic, ops) {
        ("movsxd", [d @ Op::Reg(..), s @ Op::Reg(..)]) => match (d.gpr()?, s.gpr()?) {
            ((d, Some(Width::W64)), (s, Some(Width::W32))) => Some((d, s)),
            _ => None,
        },
        _ => None,
    }
}

fn constant(mnemonic: &str, ops: &[Op]) -> Option<(Reg, i64)> {
    match (mnemonic, ops) {
        ("mov" | "movabs", [d @ Op::Reg(..), Op::Imm(v)]) => match d.gpr()? {
            (r, Some(Width::W64)) => Some((r, *v)),
            (r, Some(Width::W32)) => Some((r, i64::from(*v as u32))),
            _ => None,
        },
        ("xor", [a @ Op::Reg(_, ia, _), Op::Reg(_, ib, _)]) if ia == ib => match a.gpr()? {
            (r, Some(_)) => Some((r, 0)),
            _ => None,
        },
        _ => None,
    }
}

/// How the instruction moves rsp: the forms Cranelift's prologues and
/// epilogues use. Anything else that writes rsp is refused by the caller.
fn stack(mnemonic: &str, ops: &[Op], at: u64) -> Result<SpEffect, String> {
    let rsp_first = matches!(ops.first(), Some(Op::Reg(r, _, _)) if is_rsp(r));
    Ok(match (mnemonic, ops) {
        ("push", _) => SpEffect::Down(8),
        ("pop", _) | ("leave", _) => SpEffect::Up,
        ("sub", [_, Op::Imm(n)]) if rsp_first => match u64::try_from(*n) {
            Ok(n) => SpEffect::Down(n),
            Err(_) => return Err(format!("0x{at:x}: negative stack allocation")),
        },
        ("add", [_, Op::Imm(n)]) if rsp_first && *n >= 0 => SpEffect::Up,
        ("mov", [_, src @ Op::Reg(..)]) if rsp_first && src.gpr() == Some((RBP, Some(Width::W64))) => SpEffect::Up,
        _ => SpEffect::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kwo_format::Target;

    /// Every form `decode_common` knows, with every register, condition
    /// and REX prefix, and displacements at their limits, forwards and
    /// backwards from a few addresses: it must read each exactly as
    /// Capstone does (the checker's facts come from that reading).
    #[test]
    fn common_forms_decode_as_capstone_reads_them() {
        let x86 = X86::new(super::super::capstone(Target::X86_64).unwrap());
        let mut forms: Vec<Vec<u8>> = vec![vec![0xc3]];
        for rel8 in [0x80u8, 0xfe, 0xff, 0, 1, 0x7f] {
            forms.push(vec![0xeb, rel8]);
            forms.extend((0x70..=0x7f).map(|op| vec![op, rel8]));
        }
        for rel32 in [i32::MIN, -0x1000, -6, -1, 0, 5, 0x1234, i32::MAX] {
            let r = rel32.to_le_bytes();
            forms.push([&[0xe9][..], &r].concat());
            forms.push([&[0xe8][..], &r].concat());
            forms.extend((0x80..=0x8f).map(|op| [&[0x0f, op][..], &r].concat()));
        }
        for op in 0x50..=0x5f {
            forms.push(vec![op]);
            forms.push(vec![0x41, op]);
        }
        for op in [0x89, 0x8b] {
            for modrm in 0xc0..=0xff {
                forms.push(vec![op, modrm]);
                forms.extend((0x40..=0x4f).map(|rex| vec![rex, op, modrm]));
            }
        }
        let mut fast = 0;
        for form in &forms {
            for at in [0u64, 0x40, 0x1_0000] {
                let mut code = vec![0xcc; at as usize];
                code.extend_from_slice(form);
                let expected = x86.decode_capstone(&code, at);
                match decode_common(&code[at as usize..], at) {
                    Some(insn) => {
                        fast += 1;
                        assert_eq!(Ok(insn), expected, "{form:02x?} at 0x{at:x}: {}", x86.text(&code, at));
                    }
                    // Left to Capstone: only forms that move rsp.
                    None => assert!(
                        expected.as_ref().map_or(true, |i| i.writes.contains(RSP) || i.copy.is_some_and(|c| c.0 == RSP)),
                        "{form:02x?}: {expected:?}"
                    ),
                }
            }
        }
        let total = 3 * forms.len();
        assert!(fast * 10 >= total * 9, "{fast} of {total} decoded without Capstone");
        // A form cut short is Capstone's to refuse.
        assert_eq!(decode_common(&[0xe9, 0, 0], 0), None);
        assert_eq!(decode_common(&[0x48, 0x89], 0), None);
    }

    /// Every form `decode_operands` knows, over every REX prefix, ModRM and
    /// SIB byte, with displacements and immediates at their limits, and
    /// the forms next to them that it leaves to Capstone: each it reads
    /// must give exactly the [`Insn`] Capstone's reading gives, and a form
    /// cut short is none of its business.
    #[test]
    fn modrm_forms_decode_as_capstone_reads_them() {
        let x86 = X86::new(super::super::capstone(Target::X86_64).unwrap());
        let disps = |mode: u8, full: bool| -> Vec<Vec<u8>> {
            match (mode, full) {
                (0, _) => vec![vec![]],
                (1, true) => vec![vec![0x80], vec![0x7f], vec![0]],
                (1, false) => vec![vec![0xf0]],
                (_, true) => [i32::MIN, -1, 0x7fff_ffff, 0x80].iter().map(|d| d.to_le_bytes().to_vec()).collect(),
                (_, false) => vec![0x1234_5678i32.to_le_bytes().to_vec()],
            }
        };
        // ModRM, SIB and displacement bytes of every r/m operand.
        let mut rms: Vec<Vec<u8>> = Vec::new();
        for modrm in 0u8..=255 {
            let (mode, rm) = (modrm >> 6, modrm & 7);
            if mode == 3 {
                rms.push(vec![modrm]);
                continue;
            }
            let sibs: Vec<Vec<u8>> = if rm == 4 { (0u8..=255).map(|b| vec![b]).collect() } else { vec![vec![]] };
            for sib in &sibs {
                let no_base = (mode == 0 && rm == 5) || (mode == 0 && rm == 4 && sib[0] & 7 == 5);
                let ds = if no_base { vec![vec![0x10, 0, 0, 0]] } else { disps(mode, rm != 4 || sib[0] == 0x24) };
                for d in ds {
                    rms.push([&[modrm][..], sib, &d].concat());
                }
            }
        }
        let imm8: Vec<Vec<u8>> = [0u8, 1, 0x7f, 0x80, 0xff].iter().map(|b| vec![*b]).collect();
        let imm32: Vec<Vec<u8>> = [0i32, 1, -1, i32::MIN, i32::MAX, 0x80].iter().map(|v| v.to_le_bytes().to_vec()).collect();
        let imm64: Vec<Vec<u8>> =
            [0i64, -1, i64::MIN, 0xffff_ffff, 1 << 32].iter().map(|v| v.to_le_bytes().to_vec()).collect();
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for op in [0x01u8, 0x03, 0x09, 0x0b, 0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b, 0x85, 0x89, 0x8b, 0x8d] {
            bodies.extend(rms.iter().map(|rm| [&[op][..], rm].concat()));
        }
        for rm in rms.iter().filter(|rm| rm[0] >> 6 == 3 || rm.len() <= 2) {
            for imm in &imm8 {
                bodies.push([&[0x83][..], rm, imm].concat());
            }
            for imm in &imm32[..3] {
                bodies.push([&[0x81][..], rm, imm].concat());
            }
        }
        for rm in &rms {
            bodies.push([&[0xc7][..], rm, &imm32[2]].concat());
        }
        for rm in rms.iter().filter(|rm| rm[0] & 0x38 == 0 && (rm[0] >> 6 == 3 || rm.len() <= 2)) {
            bodies.extend(imm32.iter().map(|imm| [&[0xc7][..], rm, imm].concat()));
            bodies.extend([0xc0u8, 0xf8].iter().map(|op| [&[0x81][..], &[*op], &imm32[3]].concat()));
        }
        for op in 0xb8u8..=0xbf {
            bodies.extend(imm32.iter().map(|imm| [&[op][..], imm].concat()));
            bodies.extend(imm64.iter().map(|imm| [&[op][..], imm].concat()));
        }
        let (mut fast, mut total) = (0usize, 0usize);
        let mut buf = [Op::Imm(0); MAX_OPERANDS];
        for body in &bodies {
            for rex in [None].into_iter().chain((0x40u8..=0x4f).map(Some)) {
                let form: Vec<u8> = rex.into_iter().chain(body.iter().copied()).collect();
                total += 1;
                let Some(reading) = x86.decode_operands(&form, 0x40, &mut buf) else { continue };
                fast += 1;
                let len = reading.len as usize;
                let insn = reading.reduce(std::iter::empty(), &|| String::new());
                let mut code = vec![0xcc; 0x40];
                code.extend_from_slice(&form);
                code.extend_from_slice(&[0x90; 8]);
                let expected = x86.decode_capstone(&code, 0x40);
                assert_eq!(insn, expected, "{form:02x?}: {}", x86.text(&code, 0x40));
                for cut in 0..len {
                    assert!(x86.decode_operands(&form[..cut], 0x40, &mut [Op::Imm(0); MAX_OPERANDS]).is_none(), "{form:02x?} cut at {cut}");
                }
            }
        }
        assert!(fast > 0 && fast < total, "{fast} of {total} forms decoded without Capstone");
        // The commonest forms of a large module's code are among them.
        let common: [&[u8]; 10] = [
            &[0x48, 0x8b, 0x4f, 0x10],       // mov rcx, qword ptr [rdi + 0x10]
            &[0x48, 0x3b, 0xc1],             // cmp rax, rcx
            &[0xbe, 0x0a, 0, 0, 0],          // mov esi, 0xa
            &[0x49, 0x8d, 0x42, 0xf4],       // lea rax, [r10 - 0xc]
            &[0x48, 0x89, 0x5c, 0x24, 0x10], // mov qword ptr [rsp + 0x10], rbx
            &[0x43, 0x8d, 0x04, 0x2e],       // lea eax, [r14 + r13]
            &[0x46, 0x8b, 0x6c, 0x23, 0x08], // mov r13d, dword ptr [rbx + r12 + 8]
            &[0x45, 0x33, 0xe4],             // xor r12d, r12d
            &[0x83, 0xf9, 0x05],             // cmp ecx, 5
            &[0x85, 0xc0],                   // test eax, eax
        ];
        for form in common {
            assert!(x86.decode_operands(form, 0, &mut buf).is_some(), "{form:02x?}");
        }
    }
}
