//! x86_64 instructions (decoded by Capstone) reduced to the checker's
//! [`Insn`].

use capstone::arch::x86::X86OperandType;
use capstone::arch::ArchOperand;
use capstone::{Capstone, InsnDetail, RegId};

use super::flow::{Abi, Cond, Decoder, FlagsEffect, Flow, Insn, Reg, SpEffect, Store, Width};

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
}

impl X86 {
    /// Over a Capstone instance for this architecture, with details on.
    pub fn new(cs: Capstone) -> X86 {
        X86 { cs }
    }

    fn name(&self, r: RegId) -> String {
        self.cs.reg_name(r).unwrap_or_default()
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

enum Op {
    Reg(String, bool),
    Imm(i64),
    /// `[base + disp]` (base register name, whether there is an index),
    /// and whether the instruction writes it.
    Mem(String, bool, i64, bool),
}

impl Decoder for X86 {
    fn abi(&self) -> Abi {
        Abi {
            sp: RSP,
            vmctx: RDI,
            vmctx_after_ret_area: RSI,
            call_clobbered: &CALL_CLOBBERED,
        }
    }

    fn decode(&self, code: &[u8], at: u64) -> Result<Insn, String> {
        let bytes = code.get(at as usize..).unwrap_or(&[]);
        let insns = self
            .cs
            .disasm_count(&bytes[..bytes.len().min(16)], at, 1)
            .map_err(|e| e.to_string())?;
        let Some(i) = insns.iter().next() else {
            return Err(format!("undecodable bytes at 0x{at:x}"));
        };
        let detail = self.cs.insn_detail(i).map_err(|e| e.to_string())?;
        let mnemonic = i.mnemonic().unwrap_or("").to_string();
        let text = format!("{mnemonic} {}", i.op_str().unwrap_or(""));
        let ops = self.operands(&detail);
        let mut insn = Insn::new(i.len() as u32, text, Flow::Next);
        let groups: Vec<String> = detail
            .groups()
            .iter()
            .filter_map(|g| self.cs.group_name(*g))
            .collect();
        let implicit: Vec<String> = detail
            .regs_read()
            .iter()
            .chain(detail.regs_write())
            .map(|r| self.name(*r))
            .collect();
        insn.uses_fp = ops
            .iter()
            .any(|o| matches!(o, Op::Reg(n, _) if is_fp_reg(n)))
            || implicit.iter().any(|n| is_fp_reg(n))
            || groups.iter().any(|g| {
                ["sse", "avx", "fpu", "mmx", "3dnow", "fma", "f16c"]
                    .iter()
                    .any(|p| g.starts_with(p))
            });
        insn.flow = flow(&mnemonic, &ops, &groups);
        let writes_flags = detail
            .regs_write()
            .iter()
            .any(|r| self.name(*r).ends_with("flags"));
        insn.flags = flags(&mnemonic, &ops, writes_flags);
        insn.sp = stack(&mnemonic, &ops, at)?;
        // Capstone lists cdq/cqo as writing rax too; they only write rdx.
        let sign_extend = matches!(mnemonic.as_str(), "cdq" | "cqo");
        let implicit_writes = detail
            .regs_write()
            .iter()
            .map(|r| self.name(*r))
            .filter(|n| !(sign_extend && gpr(n).is_some_and(|(r, _)| r == 0)));
        let explicit_writes = ops.iter().filter_map(|o| match o {
            Op::Reg(n, true) => Some(n.clone()),
            _ => None,
        });
        insn.copy = copy(&mnemonic, &ops);
        insn.sign_extend = sign_extension(&mnemonic, &ops);
        insn.load = load(&mnemonic, &ops);
        insn.store = store(&mnemonic, &ops);
        insn.constant = constant(&mnemonic, &ops);
        insn.increment = increment(&mnemonic, &ops);
        for name in explicit_writes.chain(implicit_writes) {
            if let Some((r, _)) = gpr(&name) {
                let copied = insn.copy.is_some_and(|(d, _, _)| d == r)
                    || insn.sign_extend.is_some_and(|(d, _)| d == r);
                if r == RSP
                    && insn.sp == SpEffect::None
                    && !matches!(insn.flow, Flow::Call(_) | Flow::CallIndirect | Flow::Return)
                {
                    return Err(format!(
                        "0x{at:x}: `{}` writes the stack pointer",
                        insn.text
                    ));
                }
                if !copied {
                    insn.writes.push(r);
                }
            }
        }
        if mnemonic == "div" || mnemonic == "idiv" {
            insn.divisor = match ops.as_slice() {
                [Op::Reg(n, _)] => match gpr(n) {
                    Some((r, Some(w))) => Some((r, w, mnemonic == "idiv")),
                    _ => return Err(format!("0x{at:x}: `{}`: unsupported divisor", insn.text)),
                },
                _ => {
                    return Err(format!(
                        "0x{at:x}: `{}`: division by a memory operand",
                        insn.text
                    ))
                }
            };
        }
        Ok(insn)
    }
}

impl X86 {
    fn operands(&self, detail: &InsnDetail) -> Vec<Op> {
        detail
            .arch_detail()
            .operands()
            .into_iter()
            .filter_map(|o| match o {
                ArchOperand::X86Operand(op) => Some(match op.op_type {
                    X86OperandType::Reg(r) => {
                        Op::Reg(self.name(r), op.access.is_some_and(|a| a.is_writable()))
                    }
                    X86OperandType::Imm(v) => Op::Imm(v),
                    X86OperandType::Mem(m) => Op::Mem(
                        self.name(m.base()),
                        m.index().0 != 0,
                        m.disp(),
                        op.access.is_none_or(|a| a.is_writable()),
                    ),
                    _ => Op::Mem(String::new(), true, 0, true),
                }),
                _ => None,
            })
            .collect()
    }
}

fn flow(mnemonic: &str, ops: &[Op], groups: &[String]) -> Flow {
    let target = match ops {
        [Op::Imm(t)] => Some(*t as u64),
        _ => None,
    };
    let forbidden = [
        "ud0", "ud1", "ud2", "int3", "int1", "int", "into", "hlt", "syscall", "sysenter",
    ];
    if forbidden.contains(&mnemonic)
        || groups
            .iter()
            .any(|g| g == "privilege" || g == "int" || g == "iret")
    {
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
        ("test", [Op::Reg(a, _), Op::Reg(b, _)]) if a == b => match gpr(a) {
            Some((reg, Some(width))) => FlagsEffect::Compare { reg, width, imm: 0 },
            _ => FlagsEffect::Clobber,
        },
        ("cmp", [Op::Reg(a, _), Op::Imm(imm)]) => match gpr(a) {
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
        ("test", [Op::Reg(a, _), Op::Reg(b, _)]) => match (gpr(a), gpr(b)) {
            (Some((reg, Some(width))), Some((other, Some(w)))) if w == width => {
                FlagsEffect::TestPair { reg, width, other }
            }
            _ => FlagsEffect::Clobber,
        },
        ("cmp", [Op::Reg(a, _), Op::Reg(b, _)]) => match (gpr(a), gpr(b)) {
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
    let on_stack = |base: &str| matches!(gpr(base), Some((RSP | RBP, _)));
    match (mnemonic, ops) {
        ("mov", [Op::Mem(base, false, disp, true), Op::Reg(src, _)]) if base == "rsp" => {
            match gpr(src) {
                Some((reg, Some(Width::W64))) => Store::Spill { reg, disp: *disp },
                _ => Store::Stack,
            }
        }
        _ if ops
            .iter()
            .any(|o| matches!(o, Op::Mem(base, _, _, true) if on_stack(base))) =>
        {
            Store::Stack
        }
        _ => Store::None,
    }
}

/// `mov r64, qword ptr [base + disp]`.
fn load(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, i64)> {
    match (mnemonic, ops) {
        ("mov", [Op::Reg(d, _), Op::Mem(base, false, disp, _)]) => match (gpr(d)?, gpr(base)?) {
            ((d, Some(Width::W64)), (b, Some(Width::W64))) => Some((d, b, *disp)),
            _ => None,
        },
        _ => None,
    }
}

fn copy(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, Width)> {
    let [Op::Reg(d, _), Op::Reg(s, _)] = ops else {
        return None;
    };
    if mnemonic != "mov" {
        return None;
    }
    match (gpr(d)?, gpr(s)?) {
        ((d, Some(wd)), (s, Some(ws))) if wd == ws && d != RSP => Some((d, s, wd)),
        _ => None,
    }
}

/// `lea d, [s + imm]`, `add`/`sub d, imm`, `inc`/`dec d`.
fn increment(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg, Width, i64)> {
    let (d, s, imm) = match (mnemonic, ops) {
        ("lea", [Op::Reg(d, _), Op::Mem(base, false, disp, _)]) => (d, base, *disp),
        ("add", [Op::Reg(d, _), Op::Imm(v)]) => (d, d, *v),
        ("sub", [Op::Reg(d, _), Op::Imm(v)]) => (d, d, v.checked_neg()?),
        ("inc", [Op::Reg(d, _)]) => (d, d, 1),
        ("dec", [Op::Reg(d, _)]) => (d, d, -1),
        _ => return None,
    };
    match (gpr(d)?, gpr(s)?) {
        ((d, Some(width)), (s, Some(_))) if d != RSP => Some((d, s, width, imm)),
        _ => None,
    }
}

/// `movsxd r64, r32`.
fn sign_extension(mnemonic: &str, ops: &[Op]) -> Option<(Reg, Reg)> {
    match (mnemonic, ops) {
        ("movsxd", [Op::Reg(d, _), Op::Reg(s, _)]) => match (gpr(d)?, gpr(s)?) {
            ((d, Some(Width::W64)), (s, Some(Width::W32))) => Some((d, s)),
            _ => None,
        },
        _ => None,
    }
}

fn constant(mnemonic: &str, ops: &[Op]) -> Option<(Reg, i64)> {
    match (mnemonic, ops) {
        ("mov" | "movabs", [Op::Reg(d, _), Op::Imm(v)]) => match gpr(d)? {
            (r, Some(Width::W64)) => Some((r, *v)),
            (r, Some(Width::W32)) => Some((r, i64::from(*v as u32))),
            _ => None,
        },
        ("xor", [Op::Reg(a, _), Op::Reg(b, _)]) if a == b => match gpr(a)? {
            (r, Some(_)) => Some((r, 0)),
            _ => None,
        },
        _ => None,
    }
}

/// How the instruction moves rsp: the forms Cranelift's prologues and
/// epilogues use. Anything else that writes rsp is refused by the caller.
fn stack(mnemonic: &str, ops: &[Op], at: u64) -> Result<SpEffect, String> {
    let rsp_first = matches!(ops.first(), Some(Op::Reg(n, _)) if n == "rsp");
    Ok(match (mnemonic, ops) {
        ("push", _) => SpEffect::Down(8),
        ("pop", _) | ("leave", _) => SpEffect::Up,
        ("sub", [_, Op::Imm(n)]) if rsp_first => match u64::try_from(*n) {
            Ok(n) => SpEffect::Down(n),
            Err(_) => return Err(format!("0x{at:x}: negative stack allocation")),
        },
        ("add", [_, Op::Imm(n)]) if rsp_first && *n >= 0 => SpEffect::Up,
        ("mov", [_, Op::Reg(src, _)]) if rsp_first && gpr(src) == Some((RBP, Some(Width::W64))) => {
            SpEffect::Up
        }
        _ => SpEffect::None,
    })
}
