//! aarch64 instructions (decoded by Capstone) reduced to the checker's
//! [`Insn`]. Division never faults on aarch64 (a zero divisor gives 0), so
//! no divisor needs proving here; what matters is that the `udf`s Cranelift
//! puts behind its own division checks are unreachable.

use capstone::arch::arm64::Arm64OperandType;
use capstone::arch::{ArchDetail, DetailsArchInsn};
use capstone::{Capstone, RegId};

use super::flow::{Abi, Cond, Decoder, FlagsEffect, Flow, Insn, Reg, SpEffect, Store, Width};
#[cfg(test)]
use super::flow::RegSet;

const SP: Reg = 31;
/// The first argument register, which holds the vmctx pointer.
const X0: Reg = 0;
/// AAPCS64 caller-saved: x0-x18 and the link register.
const CALL_CLOBBERED: [Reg; 20] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 30,
];

pub struct Aarch64 {
    cs: Capstone,
}

impl Aarch64 {
    /// Over a Capstone instance for this architecture, with details on.
    pub fn new(cs: Capstone) -> Aarch64 {
        Aarch64 { cs }
    }

    fn name(&self, r: RegId) -> String {
        self.cs.reg_name(r).unwrap_or_default()
    }
}

/// A general-purpose register (or sp) by name, with its width.
fn gpr(name: &str) -> Option<(Reg, Width)> {
    match name {
        "sp" => return Some((SP, Width::W64)),
        "wsp" => return Some((SP, Width::W32)),
        "fp" => return Some((29, Width::W64)),
        "lr" => return Some((30, Width::W64)),
        _ => {}
    }
    let (width, n) = match name.split_at_checked(1)? {
        ("x", n) => (Width::W64, n),
        ("w", n) => (Width::W32, n),
        _ => return None,
    };
    let n: u8 = n.parse().ok()?;
    (n <= 30).then_some((n, width))
}

fn is_fp_reg(name: &str) -> bool {
    let mut chars = name.chars();
    let first = chars.next();
    let rest: String = chars.collect();
    (matches!(first, Some('b' | 'h' | 's' | 'd' | 'q' | 'v'))
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit()))
        || name == "fpcr"
        || name == "fpsr"
}

fn cond(text: &str) -> Cond {
    match text.trim() {
        "eq" => Cond::Eq,
        "ne" => Cond::Ne,
        "vs" => Cond::Vs,
        "vc" => Cond::Vc,
        "lo" | "cc" => Cond::Below,
        "hs" | "cs" => Cond::AboveEq,
        _ => Cond::Other,
    }
}

/// `#imm` (decimal or hex, maybe negative) as written by Capstone.
fn imm(text: &str) -> Option<i64> {
    let t = text.trim().strip_prefix('#')?;
    let (neg, t) = match t.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, t),
    };
    let v = match t.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => t.parse().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// Mnemonics that write no general-purpose register operand.
const NO_REG_WRITE: [&str; 22] = [
    "str", "strb", "strh", "stp", "stur", "sturb", "sturh", "stlr", "stlrb", "stlrh", "cmp", "cmn",
    "tst", "ccmp", "ccmn", "fcmp", "fcmpe", "cbz", "cbnz", "tbz", "tbnz", "prfm",
];

struct Decoded {
    mnemonic: String,
    ops: String,
    regs: Vec<String>,
    writeback: bool,
    mem_base_disp: Option<(String, i32)>,
    mem_indexed: bool,
}

impl Decoder for Aarch64 {
    fn abi(&self) -> Abi {
        Abi {
            sp: SP,
            vmctx: X0,
            // The return-area pointer goes in x8, not an argument register.
            vmctx_after_ret_area: X0,
            call_clobbered: &CALL_CLOBBERED,
        }
    }

    fn text(&self, code: &[u8], at: u64) -> String {
        match self.decode_raw(code, at) {
            Ok(d) => format!("{} {}", d.mnemonic, d.ops),
            Err(e) => e,
        }
    }

    fn decode(&self, code: &[u8], at: u64) -> Result<Insn, String> {
        let d = self.decode_raw(code, at)?;
        let args: Vec<&str> = d.ops.split(", ").collect();
        let mut insn = Insn {
            uses_fp: d.regs.iter().any(|r| is_fp_reg(r))
                || d.ops.contains("fpcr")
                || d.ops.contains("fpsr"),
            ..Insn::new(4, flow(&d.mnemonic, &args))
        };
        insn.flags = flags(&d, &args);
        insn.copy = match (d.mnemonic.as_str(), d.regs.as_slice()) {
            ("mov", [dst, src]) => match (gpr(dst), gpr(src)) {
                (Some((dr, wd)), Some((sr, ws))) if wd == ws && dr != SP => Some((dr, sr, wd)),
                _ => None,
            },
            _ => None,
        };
        insn.sign_extend = match (d.mnemonic.as_str(), d.regs.as_slice()) {
            ("sxtw", [dst, src]) => match (gpr(dst), gpr(src)) {
                (Some((dr, Width::W64)), Some((sr, Width::W32))) if dr != SP => Some((dr, sr)),
                _ => None,
            },
            _ => None,
        };
        insn.load = match (d.mnemonic.as_str(), d.regs.as_slice(), &d.mem_base_disp) {
            ("ldr" | "ldur", [dst], Some((base, disp))) if !d.writeback && !d.mem_indexed => {
                match (gpr(dst), gpr(base)) {
                    (Some((dr, Width::W64)), Some((br, Width::W64))) => {
                        Some((dr, br, i64::from(*disp)))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        insn.store = store(&d);
        insn.increment = match (d.mnemonic.as_str(), args.as_slice()) {
            (m @ ("add" | "sub"), [dst, src, value]) => match (gpr(dst), gpr(src), imm(value)) {
                (Some((dr, wd)), Some((sr, ws)), Some(v)) if wd == ws && dr != SP && sr != SP => {
                    Some((dr, sr, wd, if m == "sub" { -v } else { v }))
                }
                _ => None,
            },
            _ => None,
        };
        insn.constant = match (d.mnemonic.as_str(), args.as_slice()) {
            ("mov", [dst, value]) => match (gpr(dst), imm(value)) {
                (Some((r, Width::W64)), Some(v)) if r != SP => Some((r, v)),
                (Some((r, Width::W32)), Some(v)) if r != SP => Some((r, i64::from(v as u32))),
                _ => None,
            },
            _ => None,
        };
        let written: Vec<&String> = match d.mnemonic.as_str() {
            m if NO_REG_WRITE.contains(&m)
                || is_branch(m)
                || m == "ret"
                || m == "hint"
                || m == "bti" =>
            {
                Vec::new()
            }
            "ldp" | "ldpsw" | "ldaxp" | "ldxp" => d.regs.iter().take(2).collect(),
            _ => d.regs.iter().take(1).collect(),
        };
        for name in written {
            if let Some((r, _)) = gpr(name) {
                let copied = insn.copy.is_some_and(|(dst, _, _)| dst == r)
                    || insn.sign_extend.is_some_and(|(dst, _)| dst == r);
                if !copied {
                    insn.writes.insert(r);
                }
            }
        }
        if d.writeback {
            if let Some((base, _)) = &d.mem_base_disp {
                if let Some((r, _)) = gpr(base) {
                    insn.writes.insert(r);
                }
            }
        }
        insn.sp = stack(&d, &args, at)?;
        if insn.writes.contains(SP) && insn.sp == SpEffect::None {
            return Err(format!(
                "0x{at:x}: `{} {}` writes the stack pointer",
                d.mnemonic, d.ops
            ));
        }
        Ok(insn)
    }
}

impl Decoded {
    fn udf() -> Decoded {
        Decoded {
            mnemonic: "udf".into(),
            ops: String::new(),
            regs: Vec::new(),
            writeback: false,
            mem_base_disp: None,
            mem_indexed: false,
        }
    }
}

impl Aarch64 {
    fn decode_raw(&self, code: &[u8], at: u64) -> Result<Decoded, String> {
        let bytes = code
            .get(at as usize..at as usize + 4)
            .ok_or_else(|| format!("0x{at:x}: past the code"))?;
        let insns = self
            .cs
            .disasm_count(bytes, at, 1)
            .map_err(|e| e.to_string())?;
        let Some(i) = insns.iter().next() else {
            // Capstone does not decode `udf #imm16` (0x0000xxxx).
            if bytes[2..] == [0, 0] {
                return Ok(Decoded::udf());
            }
            return Err(format!("undecodable instruction at 0x{at:x}"));
        };
        let detail = self.cs.insn_detail(i).map_err(|e| e.to_string())?;
        let ArchDetail::Arm64Detail(a) = detail.arch_detail() else {
            return Err("capstone: not an arm64 detail".into());
        };
        let mut regs = Vec::new();
        let mut mem_base_disp = None;
        let mut mem_indexed = false;
        for op in a.operands() {
            match op.op_type {
                Arm64OperandType::Reg(r) => regs.push(self.name(r)),
                Arm64OperandType::Mem(m) => {
                    mem_base_disp = Some((self.name(m.base()), m.disp()));
                    mem_indexed = m.index().0 != 0;
                }
                _ => {}
            }
        }
        Ok(Decoded {
            mnemonic: i.mnemonic().unwrap_or("").to_string(),
            ops: i.op_str().unwrap_or("").to_string(),
            regs,
            writeback: a.writeback(),
            mem_base_disp,
            mem_indexed,
        })
    }
}

fn flow(mnemonic: &str, args: &[&str]) -> Flow {
    let forbidden = [
        "udf", "brk", "hlt", "svc", "hvc", "smc", "eret", "msr", "mrs", "sys", "sysl", "dcps1",
        "dcps2", "dcps3",
    ];
    if forbidden.contains(&mnemonic) {
        return Flow::Forbidden;
    }
    let target = |a: Option<&&str>| a.and_then(|t| imm(t)).map(|t| t as u64);
    match mnemonic {
        "b" => target(args.first()).map_or(Flow::JumpIndirect, Flow::Jump),
        "bl" => target(args.first()).map_or(Flow::CallIndirect, Flow::Call),
        "blr" => Flow::CallIndirect,
        "br" => Flow::JumpIndirect,
        "ret" => Flow::Return,
        "cbz" | "cbnz" => match (args.first().and_then(|r| gpr(r)), target(args.get(1))) {
            (Some((reg, width)), Some(t)) => Flow::BranchZero {
                reg,
                width,
                if_zero: mnemonic == "cbz",
                target: t,
            },
            _ => Flow::JumpIndirect,
        },
        "tbz" | "tbnz" => {
            target(args.get(2)).map_or(Flow::JumpIndirect, |t| Flow::Branch(Cond::Other, t))
        }
        m if m.starts_with("b.") => {
            target(args.first()).map_or(Flow::JumpIndirect, |t| Flow::Branch(cond(&m[2..]), t))
        }
        _ => Flow::Next,
    }
}

fn flags(d: &Decoded, args: &[&str]) -> FlagsEffect {
    let reg = args.first().and_then(|r| gpr(r));
    let value = args.get(1).and_then(|a| imm(a));
    match (d.mnemonic.as_str(), reg, value) {
        ("cmp", Some((reg, width)), Some(imm)) if args.len() == 2 => {
            FlagsEffect::Compare { reg, width, imm }
        }
        ("cmp", Some((reg, width)), None) if args.len() == 2 => match gpr(args[1]) {
            Some((other, w)) if w == width => FlagsEffect::CompareReg { reg, width, other },
            _ => FlagsEffect::Clobber,
        },
        ("cmn", Some((reg, width)), Some(imm)) if args.len() == 2 => FlagsEffect::Compare {
            reg,
            width,
            imm: -imm,
        },
        ("ccmp", Some((reg, width)), Some(imm)) if args.len() == 4 => match imm_nzcv(args[2]) {
            Some(nzcv) => FlagsEffect::CondCompare {
                cond: cond(args[3]),
                reg,
                width,
                imm,
                nzcv,
            },
            None => FlagsEffect::Clobber,
        },
        ("ccmn", Some((reg, width)), Some(imm)) if args.len() == 4 => match imm_nzcv(args[2]) {
            Some(nzcv) => FlagsEffect::CondCompare {
                cond: cond(args[3]),
                reg,
                width,
                imm: -imm,
                nzcv,
            },
            None => FlagsEffect::Clobber,
        },
        (m, _, _) if writes_flags(m) => FlagsEffect::Clobber,
        _ => FlagsEffect::Keep,
    }
}

fn imm_nzcv(a: &str) -> Option<u8> {
    imm(a)
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| *v < 16)
}

/// Branches and calls (not `bic`, `bfi`, `bsl`, which write a register).
fn is_branch(m: &str) -> bool {
    matches!(m, "b" | "bl" | "blr" | "br") || m.starts_with("b.")
}

fn writes_flags(m: &str) -> bool {
    matches!(
        m,
        "cmp"
            | "cmn"
            | "tst"
            | "ccmp"
            | "ccmn"
            | "fcmp"
            | "fcmpe"
            | "fccmp"
            | "fccmpe"
            | "adds"
            | "subs"
            | "ands"
            | "bics"
            | "adcs"
            | "sbcs"
            | "negs"
            | "ngcs"
    )
}

/// A 64-bit register spilled to `[sp, #disp]`, or any other store to the
/// stack or through the frame pointer.
fn store(d: &Decoded) -> Store {
    let Some((base, disp)) = &d.mem_base_disp else {
        return Store::None;
    };
    let on_stack = matches!(base.as_str(), "sp" | "x29" | "fp");
    if !d.mnemonic.starts_with("st") || !on_stack {
        return Store::None;
    }
    match (d.mnemonic.as_str(), d.regs.as_slice()) {
        ("str" | "stur", [src]) if base == "sp" && !d.writeback && !d.mem_indexed => match gpr(src)
        {
            Some((reg, Width::W64)) if reg != SP => Store::Spill {
                reg,
                disp: i64::from(*disp),
            },
            _ => Store::Stack,
        },
        _ => Store::Stack,
    }
}

/// How the instruction moves sp: the forms Cranelift's prologues and
/// epilogues use; other writes of sp are refused by the caller.
fn stack(d: &Decoded, args: &[&str], at: u64) -> Result<SpEffect, String> {
    let on_sp = matches!(&d.mem_base_disp, Some((b, _)) if b == "sp");
    if d.writeback && on_sp {
        let pre_index = d.ops.contains("]!");
        let delta = if pre_index {
            d.mem_base_disp
                .as_ref()
                .map_or(0, |(_, disp)| i64::from(*disp))
        } else {
            args.last().and_then(|a| imm(a)).unwrap_or(0)
        };
        return Ok(if delta < 0 {
            SpEffect::Down(delta.unsigned_abs())
        } else {
            SpEffect::Up
        });
    }
    let sp_dst = matches!(args.first(), Some(&"sp"));
    if !sp_dst {
        return Ok(SpEffect::None);
    }
    match (d.mnemonic.as_str(), args) {
        ("sub", ["sp", "sp", amount, rest @ ..]) => {
            let shift = match rest {
                [] => 0,
                ["lsl #12"] => 12,
                _ => {
                    return Err(format!(
                        "0x{at:x}: `{} {}`: unknown stack allocation",
                        d.mnemonic, d.ops
                    ))
                }
            };
            match (imm(amount), gpr(amount)) {
                (Some(n), _) if n >= 0 => Ok(SpEffect::Down((n as u64) << shift)),
                (None, Some((r, Width::W64))) if shift == 0 && r != SP => Ok(SpEffect::DownBy(r)),
                _ => Err(format!(
                    "0x{at:x}: `{} {}`: unknown stack allocation",
                    d.mnemonic, d.ops
                )),
            }
        }
        ("add", ["sp", "sp", ..]) | ("mov", ["sp", "x29"]) | ("mov", ["sp", "fp"]) => {
            Ok(SpEffect::Up)
        }
        _ => Err(format!(
            "0x{at:x}: `{} {}` writes the stack pointer",
            d.mnemonic, d.ops
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kwo_format::Target;

    fn decode(word: u32) -> Insn {
        let dec = Aarch64::new(super::super::capstone(Target::Aarch64).unwrap());
        dec.decode(&word.to_le_bytes(), 0).unwrap()
    }

    #[test]
    fn bit_clear_writes_its_destination_and_a_branch_writes_nothing() {
        let bic = decode(0x0a22_0020); // bic w0, w1, w2
        assert_eq!(bic.writes, RegSet::of(&[0]), "{bic:?}");
        let b = decode(0x1400_0002); // b #8
        assert!(b.writes.is_empty() && b.flow == Flow::Jump(8), "{b:?}");
    }
}
