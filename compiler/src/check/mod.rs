//! The machine-code checker: what kwo claims about an object, proven on its
//! bytes rather than taken from the translator's bookkeeping. It runs in the
//! linker on every object the compiler writes, and on any object as
//! `kwo check FILE.kwo`.
//!
//! For every function and trampoline it decodes every instruction reachable
//! from the entry (so literal pools inline in aarch64 code are never
//! mistaken for code) and checks:
//! - the entry is a landing pad (ENDBR64 / `bti c`), and there is no
//!   indirect jump anywhere (indirect calls land on entries);
//! - no `ud2`/`udf`/`int3`/`brk`/`hlt` or privileged instruction can be
//!   reached, following only the branch edges the facts of [`flow`] allow;
//! - every x86 `div`/`idiv` has a divisor proven nonzero (and, signed, not
//!   -1) on every path;
//! - which functions touch FP/SIMD registers (any operand, explicit or
//!   implicit): the object must be flagged `KWO_F_USES_FP` if any does;
//! - every function's stack allocation (pushes and stack-pointer
//!   subtractions, nothing else may move it) is within the header's
//!   `max_frame`;
//! - for an object with a static stack bound: the call graph read from the
//!   machine code (direct calls, and indirect calls to every address-taken
//!   function) has no cycle and its deepest chain fits the bound;
//! - for a recursive object: every call into Wasm code from a function comes
//!   after the stack pointer, with the whole frame allocated, was compared
//!   with `vmctx.stack_limit` on every path (trampolines excepted: the
//!   loader's entry condition covers their frame).
//!
//! What it does not prove: that memory accesses are in bounds (the compiler's
//! bounds checks), nor that a mispredicted one stays inside the memory's
//! reservation, which is why accesses need no Spectre select (both tested
//! on the IR by `tests/heap_guard.rs`).

mod aarch64;
mod flow;
mod x86_64;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use capstone::arch::{self, BuildsCapstone};
use capstone::Capstone;
use kwo_format::{ExportKind, GlobalInit, Object, RelocKind, Target, ValType, KWO_F_USES_FP};

use flow::{Decoder, Flow, SpEffect};

/// What the checker measured on the machine code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub uses_fp: bool,
    /// Largest stack allocation of any function or trampoline, return
    /// address included.
    pub max_frame: u32,
    /// Each defined function's stack allocation, return address included
    /// (parallel to the object's functions).
    pub frames: Vec<u64>,
    /// Worst-case stack of a call into the object, or `None` if the call
    /// graph has a cycle.
    pub stack_bound: Option<u64>,
    pub functions: usize,
    pub instructions: usize,
    /// Returns and indirect calls: the indirect branches that the kernel's
    /// return-thunk and retpoline mitigations do not cover (docs/security.md).
    pub returns: usize,
    pub indirect_calls: usize,
    /// The first call into Wasm code reached before the stack pointer was
    /// compared with `vmctx.stack_limit` on every path: fine for an object
    /// with a static bound, a hole in a recursive one.
    pub unchecked_call: Option<String>,
}

/// A rule the object breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError(pub String);

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}

const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
const BTI_C: [u8; 4] = [0x5f, 0x24, 0x03, 0xd5];

/// One entry point: a function or a trampoline.
struct Entry {
    what: String,
    start: u64,
    end: u64,
    /// Trampolines call their function before any stack check; the loader
    /// keeps room for both frames (docs/abi.md, "Budgets").
    trampoline: bool,
    /// The function's results need a return area (see [`needs_ret_area`]).
    ret_area: bool,
}

/// What one entry's code does.
struct Summary {
    frame: u64,
    uses_fp: bool,
    calls: BTreeSet<u64>,
    calls_indirect: bool,
    instructions: usize,
    returns: usize,
    indirect_calls: usize,
    unchecked_call: Option<u64>,
}

/// Checks every rule above and the header's claims.
pub fn check(obj: &Object) -> Result<Report, CheckError> {
    let report = measure(obj)?;
    verify_header(obj, &report)?;
    Ok(report)
}

/// The header's claims against what `measure` found: FP flag, largest
/// frame, and either a static bound the code keeps or, for a recursive
/// object, stack checks before every call into Wasm code.
pub fn verify_header(obj: &Object, report: &Report) -> Result<(), CheckError> {
    if report.uses_fp && obj.flags & KWO_F_USES_FP == 0 {
        return Err(CheckError(
            "code uses FP/SIMD registers but the object is not flagged uses-fp".into(),
        ));
    }
    if report.max_frame > obj.max_frame {
        return Err(CheckError(format!(
            "a frame of {} bytes, over the header's max_frame of {}",
            report.max_frame, obj.max_frame
        )));
    }
    if obj.stack_bound == 0 {
        if let Some(call) = &report.unchecked_call {
            return Err(CheckError(format!(
                "{call} before the stack-limit check (recursive object)"
            )));
        }
    } else {
        match report.stack_bound {
            None => {
                return Err(CheckError(
                    "static stack bound claimed, but the call graph has a cycle".into(),
                ))
            }
            Some(b) if b > u64::from(obj.stack_bound) => {
                return Err(CheckError(format!(
                    "worst-case stack of {b} bytes, over the header's stack_bound of {}",
                    obj.stack_bound
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks the rules that do not depend on the header, and measures what
/// the header should say.
pub fn measure(obj: &Object) -> Result<Report, CheckError> {
    let decoder: Box<dyn Decoder> = match obj.target {
        Target::X86_64 => Box::new(x86_64::X86::new(capstone(obj.target)?)),
        Target::Aarch64 => Box::new(aarch64::Aarch64::new(capstone(obj.target)?)),
    };
    let entries = entries(obj)?;
    let host_calls: BTreeSet<u64> = obj
        .relocs
        .iter()
        .map(|r| match r.kind {
            RelocKind::X86Call32 => u64::from(r.offset) - 1,
            RelocKind::Arm64Call26 => u64::from(r.offset),
        })
        .collect();
    let mut summaries = BTreeMap::new();
    for e in entries.values() {
        let s = summarise(obj, &*decoder, e, &host_calls)
            .map_err(|m| CheckError(format!("{}: {m}", e.what)))?;
        summaries.insert(e.start, s);
    }
    let func_entries: BTreeSet<u64> = obj.funcs.iter().map(|f| u64::from(f.code_off)).collect();
    for (at, s) in &summaries {
        if let Some(bad) = s.calls.iter().find(|t| !func_entries.contains(t)) {
            return Err(CheckError(format!(
                "{}: call to 0x{bad:x}, which is no function entry",
                entries[at].what
            )));
        }
    }
    let max_frame = summaries.values().map(|s| s.frame).max().unwrap_or(0);
    let tramps: Vec<u64> = entries
        .keys()
        .filter(|a| !func_entries.contains(a))
        .copied()
        .collect();
    Ok(Report {
        uses_fp: summaries.values().any(|s| s.uses_fp),
        max_frame: u32::try_from(max_frame)
            .map_err(|_| CheckError(format!("a frame of {max_frame} bytes")))?,
        frames: obj
            .funcs
            .iter()
            .map(|f| summaries[&u64::from(f.code_off)].frame)
            .collect(),
        stack_bound: worst_case(&summaries, &address_taken(obj), &tramps),
        functions: obj.funcs.len(),
        instructions: summaries.values().map(|s| s.instructions).sum(),
        returns: summaries.values().map(|s| s.returns).sum(),
        indirect_calls: summaries.values().map(|s| s.indirect_calls).sum(),
        unchecked_call: summaries.iter().find_map(|(entry, s)| {
            s.unchecked_call
                .map(|at| format!("{}: call at 0x{at:x}", entries[entry].what))
        }),
    })
}

/// A disassembler for `target` that reports operands and register use.
fn capstone(target: Target) -> Result<Capstone, CheckError> {
    let built = match target {
        Target::X86_64 => Capstone::new()
            .x86()
            .mode(arch::x86::ArchMode::Mode64)
            .detail(true)
            .build(),
        Target::Aarch64 => Capstone::new()
            .arm64()
            .mode(arch::arm64::ArchMode::Arm)
            .detail(true)
            .build(),
    };
    built.map_err(|e| CheckError(format!("capstone: {e}")))
}

/// Functions and trampolines by entry offset, each ending where the next
/// begins (trampolines have no recorded length).
/// Whether results of these types leave the System V return registers
/// (rax, rdx; xmm0, xmm1) short, so that Cranelift passes a return-area
/// pointer as the first argument (`enable_multi_ret_implicit_sret`) and the
/// vmctx moves to the second. Trampolines are not judged by it: they make
/// no stack check.
fn needs_ret_area(results: &[ValType]) -> bool {
    let floats = results
        .iter()
        .filter(|t| matches!(t, ValType::F32 | ValType::F64))
        .count();
    floats > 2 || results.len() - floats > 2
}

fn entries(obj: &Object) -> Result<BTreeMap<u64, Entry>, CheckError> {
    let imported = obj.imports.len();
    let mut starts: BTreeMap<u64, String> = BTreeMap::new();
    let mut func_len: BTreeMap<u64, u64> = BTreeMap::new();
    let mut ret_area: BTreeSet<u64> = BTreeSet::new();
    for (i, f) in obj.funcs.iter().enumerate() {
        starts.insert(u64::from(f.code_off), format!("func {}", imported + i));
        func_len.insert(u64::from(f.code_off), u64::from(f.code_len));
        let results = obj
            .types
            .get(f.type_index as usize)
            .map(|t| t.results.as_slice());
        if needs_ret_area(results.unwrap_or(&[])) {
            ret_area.insert(u64::from(f.code_off));
        }
    }
    let tramps = obj
        .exports
        .iter()
        .filter_map(|e| e.tramp.map(|t| (t, e.index)));
    for (t, func) in tramps.chain(obj.start.map(|(f, t)| (t, f))) {
        starts
            .entry(u64::from(t))
            .or_insert_with(|| format!("trampoline of func {func}"));
    }
    let code_end = obj.code.len() as u64;
    let offsets: Vec<u64> = starts.keys().copied().collect();
    let mut out = BTreeMap::new();
    for (k, (start, what)) in starts.into_iter().enumerate() {
        let mut end = offsets.get(k + 1).copied().unwrap_or(code_end);
        let len = func_len.get(&start);
        if let Some(len) = len {
            end = end.min(start.saturating_add(*len));
        }
        if start >= end || end > code_end {
            return Err(CheckError(format!(
                "{what}: entry 0x{start:x} outside the code"
            )));
        }
        out.insert(
            start,
            Entry {
                what,
                start,
                end,
                trampoline: len.is_none(),
                ret_area: ret_area.contains(&start),
            },
        );
    }
    Ok(out)
}

fn summarise(
    obj: &Object,
    dec: &dyn Decoder,
    e: &Entry,
    host_calls: &BTreeSet<u64>,
) -> Result<Summary, String> {
    let pad = match obj.target {
        Target::X86_64 => &ENDBR64,
        Target::Aarch64 => &BTI_C,
    };
    if obj.code.get(e.start as usize..e.start as usize + 4) != Some(&pad[..]) {
        return Err(format!("entry 0x{:x} is not a landing pad", e.start));
    }
    let host_call = |at: u64| host_calls.contains(&at);
    let abi = dec.abi();
    let vmctx = if e.ret_area {
        abi.vmctx_after_ret_area
    } else {
        abi.vmctx
    };
    let f = flow::Function::analyse(dec, &obj.code, e.start, e.start..e.end, vmctx, &host_call)?;
    let mut s = Summary {
        frame: 0,
        uses_fp: false,
        calls: BTreeSet::new(),
        calls_indirect: false,
        instructions: 0,
        returns: 0,
        indirect_calls: 0,
        unchecked_call: None,
    };
    if obj.target == Target::X86_64 {
        s.frame = 8; // the return address the call pushed
    }
    for (at, insn) in f.reachable() {
        s.instructions += 1;
        s.uses_fp |= insn.uses_fp;
        let allocated = match insn.sp {
            SpEffect::Down(n) => n,
            SpEffect::DownBy(_) => match f.down_by_at(at) {
                Some(n) if n >= 0 => n as u64,
                _ => {
                    return Err(format!(
                        "`{}` at 0x{at:x}: stack allocation of unknown size",
                        dec.text(&obj.code, at)
                    ))
                }
            },
            SpEffect::None | SpEffect::Up => 0,
        };
        s.frame = s.frame.saturating_add(allocated);
        let wasm_call = match insn.flow {
            Flow::Forbidden => return Err(format!("`{}` at 0x{at:x} is reachable", dec.text(&obj.code, at))),
            Flow::JumpIndirect => {
                return Err(format!("indirect jump `{}` at 0x{at:x}", dec.text(&obj.code, at)))
            }
            Flow::Call(_) if host_call(at) => false,
            Flow::Call(t) => {
                s.calls.insert(t);
                true
            }
            Flow::CallIndirect => {
                s.calls_indirect = true;
                s.indirect_calls += 1;
                true
            }
            Flow::Return => {
                s.returns += 1;
                false
            }
            _ => false,
        };
        if wasm_call && !f.sp_checked_at(at) && s.unchecked_call.is_none() && !e.trampoline {
            s.unchecked_call = Some(at);
        }
    }
    if let Some(at) = f.unproven_divisions().first() {
        return Err(format!(
            "`{}` at 0x{at:x}: divisor not proven nonzero (and not -1)",
            dec.text(&obj.code, *at)
        ));
    }
    Ok(s)
}

/// Entries of the functions an indirect call may reach: every function
/// that can become a funcref (element segments, global initialisers,
/// exports).
fn address_taken(obj: &Object) -> BTreeSet<u64> {
    let imported = obj.imports.len() as u32;
    let in_elems = obj
        .elems
        .iter()
        .flat_map(|e| e.items.iter().flatten().copied());
    let in_globals = obj.globals.iter().filter_map(|g| match g.init {
        GlobalInit::RefFunc(f) => Some(f),
        _ => None,
    });
    let exported = obj
        .exports
        .iter()
        .filter(|e| e.kind == ExportKind::Func)
        .map(|e| e.index);
    in_elems
        .chain(in_globals)
        .chain(exported)
        .filter_map(|f| f.checked_sub(imported))
        .filter_map(|i| obj.funcs.get(i as usize))
        .map(|f| u64::from(f.code_off))
        .collect()
}

/// The deepest chain of frames from any trampoline, or `None` on a cycle.
fn worst_case(
    summaries: &BTreeMap<u64, Summary>,
    indirect: &BTreeSet<u64>,
    roots: &[u64],
) -> Option<u64> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done(u64),
    }
    let succ = |at: u64| -> Vec<u64> {
        let s = &summaries[&at];
        let ind = if s.calls_indirect {
            indirect.iter().copied().collect()
        } else {
            Vec::new()
        };
        s.calls.iter().copied().chain(ind).collect()
    };
    // Every function is visited, reachable from a root or not: a cycle
    // anywhere makes the module recursive, as the verifier decides it.
    let mut mark: BTreeMap<u64, Mark> = BTreeMap::new();
    for &root in summaries.keys() {
        if mark.contains_key(&root) {
            continue;
        }
        mark.insert(root, Mark::OnPath);
        let mut path = vec![(root, succ(root))];
        while let Some((at, next)) = path.last_mut() {
            let at = *at;
            match next.pop() {
                Some(c) => match mark.get(&c) {
                    None => {
                        mark.insert(c, Mark::OnPath);
                        let s = succ(c);
                        path.push((c, s));
                    }
                    Some(Mark::OnPath) => return None,
                    Some(Mark::Done(_)) => {}
                },
                None => {
                    let below = succ(at)
                        .iter()
                        .filter_map(|c| match mark.get(c) {
                            Some(Mark::Done(d)) => Some(*d),
                            _ => None,
                        })
                        .max()
                        .unwrap_or(0);
                    let depth = summaries[&at].frame.saturating_add(below);
                    mark.insert(at, Mark::Done(depth));
                    path.pop();
                }
            }
        }
    }
    let depth = |r: &u64| match mark.get(r) {
        Some(Mark::Done(d)) => *d,
        _ => 0,
    };
    Some(roots.iter().map(depth).max().unwrap_or(0))
}
