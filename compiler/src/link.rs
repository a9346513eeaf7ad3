//! Compiles every function (in parallel), lays the machine code out in one
//! blob, resolves calls between functions, and turns calls to host functions
//! into object relocations.
//!
//! It is also where the no-fault guarantee is proven: after Cranelift's
//! backend, every trap record of every function must be the zero or
//! overflow check Cranelift adds to a division that our translator already
//! guarded (so the record's `ud2` can never execute), and every relocation
//! must be one of the call forms the loader knows. Anything else fails the
//! compilation instead of producing code that could oops the kernel.

use std::collections::{BTreeSet, HashMap};

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName, TrapCode, UserExternalName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use kwo_format::{AddrMapEntry, Reloc as ObjReloc, RelocKind, Target, TrapSite, KWO_NONE};
use kwo_verifier::VerifiedModule;
use rayon::prelude::*;

use crate::translate::{self, CallSite, ModuleEnv, NS_HOST, NS_WASM_FUNC, SITE_SRCLOC_BIT};
use crate::{trampoline, CompileError, Options};

/// ENDBR64: the landing pad IBT requires at every indirect-branch target.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
/// Functions start on a 16-byte boundary.
const FUNC_ALIGN: usize = 16;

/// Machine code of one function plus what linking needs to know about it.
struct CompiledFunc {
    code: Vec<u8>,
    /// Cranelift's trap records (function-relative), all proven guarded.
    guarded_records: Vec<u32>,
    guarded_divs: u32,
    relocs: Vec<(u32, Reloc, UserExternalName, i64)>,
    /// (return address offset, site) of host calls that may trap.
    sites: Vec<(u32, CallSite)>,
    /// (start, end, wasm offset) of the code of each Wasm instruction, in
    /// code order; code outside every range has none.
    wasm_ranges: Vec<(u32, u32, u32)>,
}

/// Placement of a function in the code blob.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    /// Offset of the landing pad (the entry address).
    pub entry: u32,
    pub len: u32,
}

/// The linked code blob and its metadata.
pub struct Linked {
    pub code: Vec<u8>,
    /// Placement of each defined function, in index order.
    pub funcs: Vec<Placed>,
    /// Trampoline entry of each wasm function that has one.
    pub trampolines: HashMap<u32, u32>,
    pub relocs: Vec<ObjReloc>,
    pub traps: Vec<TrapSite>,
    pub addr_map: Vec<AddrMapEntry>,
    pub sig_ids: Vec<u32>,
    pub guarded_records: Vec<GuardedRecord>,
}

/// A trap record Cranelift left in the code (the `ud2`/`udf` of a division
/// check) that the proof showed to sit behind one of our guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardedRecord {
    /// Wasm function index.
    pub func: u32,
    /// Offset in the code blob.
    pub code_off: u32,
    /// Guarded divisions in that function.
    pub guarded_divs: u32,
}

/// Canonical signature ids: structurally equal types share an id.
fn canonical_sig_ids(module: &VerifiedModule) -> Vec<u32> {
    let mut ids: HashMap<(&[wasmparser::ValType], &[wasmparser::ValType]), u32> = HashMap::new();
    module
        .types
        .iter()
        .map(|t| {
            let next = ids.len() as u32;
            *ids.entry((t.params(), t.results())).or_insert(next)
        })
        .collect()
}

/// Wasm functions that need an array-call trampoline: exports and start.
fn trampoline_targets(module: &VerifiedModule) -> BTreeSet<u32> {
    let exported = module
        .exports
        .iter()
        .filter(|e| e.kind == kwo_verifier::module::ExportKind::Func)
        .map(|e| e.index);
    exported.chain(module.start).collect()
}

fn module_env<'m>(module: &'m VerifiedModule, isa: &dyn TargetIsa, opts: &Options) -> ModuleEnv<'m> {
    ModuleEnv {
        module,
        sig_ids: canonical_sig_ids(module),
        call_conv: isa.default_call_conv(),
        frontend: isa.frontend_config(),
        checks: opts.checks,
        elide_proven: opts.elide_proven,
        static_stack: module.call_graph.cycle.is_none(),
    }
}

/// Every defined function as Cranelift IR after the optimizer, before
/// instruction selection.
pub fn optimized_ir(module: &VerifiedModule, isa: &dyn TargetIsa, opts: &Options) -> Result<Vec<ir::Function>, CompileError> {
    let env = module_env(module, isa, opts);
    let imported = module.num_imported_funcs();
    (imported..imported + module.funcs.len() as u32)
        .map(|index| {
            let t = translate::translate_function(&env, index)?;
            let mut ctx = Context::for_function(t.func);
            ctx.optimize(isa, &mut ControlPlane::default())
                .map_err(|e| CompileError::new(format!("func {index}: cranelift: {e:?}")))?;
            Ok(ctx.func)
        })
        .collect()
}

pub fn compile_and_link(module: &VerifiedModule, isa: &dyn TargetIsa, opts: &Options) -> Result<Linked, CompileError> {
    let target = opts.target;
    let env = module_env(module, isa, opts);
    let sig_ids = env.sig_ids.clone();
    let imported = module.num_imported_funcs();
    let defined: Vec<u32> = (imported..imported + module.funcs.len() as u32).collect();
    let funcs: Vec<CompiledFunc> = defined
        .par_iter()
        .map(|&index| {
            let t = translate::translate_function(&env, index)?;
            compile_one(isa, t.func, &t.sites, t.guarded_divs, index)
        })
        .collect::<Result<_, _>>()?;
    let tramp_targets: Vec<u32> = trampoline_targets(module).into_iter().collect();
    let tramps: Vec<CompiledFunc> = tramp_targets
        .par_iter()
        .map(|&index| {
            let func = trampoline::build(module, isa, index);
            compile_one(isa, func, &[], 0, index)
        })
        .collect::<Result<_, _>>()?;
    layout(target, &defined, funcs, &tramp_targets, tramps, sig_ids)
}

fn compile_one(
    isa: &dyn TargetIsa,
    func: ir::Function,
    sites: &[CallSite],
    guarded_divs: u32,
    index: u32,
) -> Result<CompiledFunc, CompileError> {
    let names = func.params.user_named_funcs().clone();
    let mut ctx = Context::for_function(func);
    let compiled = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError::new(format!("func {index}: cranelift: {:?}", e.inner)))?;
    let buffer = &compiled.buffer;
    prove_no_faults(buffer.traps(), guarded_divs, index)?;

    let mut relocs = Vec::with_capacity(buffer.relocs().len());
    for r in buffer.relocs() {
        let FinalizedRelocTarget::ExternalName(ExternalName::User(name)) = &r.target else {
            return Err(CompileError::new(format!(
                "func {index}: unexpected relocation target {:?}",
                r.target
            )));
        };
        let name = names[*name].clone();
        relocs.push((r.offset, r.kind, name, r.addend));
    }

    // Sites in code the optimizer removed have no call left; that is fine.
    let srclocs = buffer.get_srclocs_sorted();
    let mut found = Vec::new();
    for call in buffer.call_sites() {
        let at = call.ret_addr.saturating_sub(1);
        let loc = srclocs
            .iter()
            .find(|l| l.start <= at && at < l.end)
            .map(|l| l.loc.bits());
        if let Some(bits) = loc.filter(|b| *b != u32::MAX && b & SITE_SRCLOC_BIT != 0) {
            let site = sites
                .get((bits & !SITE_SRCLOC_BIT) as usize)
                .ok_or_else(|| CompileError::new(format!("func {index}: unknown call site")))?;
            found.push((call.ret_addr, *site));
        }
    }
    let wasm_ranges = srclocs
        .iter()
        .filter(|l| !l.loc.is_default())
        .filter_map(|l| {
            let bits = l.loc.bits();
            let wasm_off = if bits & SITE_SRCLOC_BIT != 0 {
                sites.get((bits & !SITE_SRCLOC_BIT) as usize)?.wasm_off
            } else {
                bits
            };
            Some((l.start, l.end, wasm_off))
        })
        .collect();
    Ok(CompiledFunc {
        code: buffer.data().to_vec(),
        guarded_records: buffer.traps().iter().map(|t| t.offset).collect(),
        guarded_divs,
        relocs,
        sites: found,
        wasm_ranges,
    })
}

/// The object's address map under construction: one entry wherever the
/// Wasm offset changes, `KWO_NONE` over code without one (prologues,
/// padding, trampolines).
#[derive(Default)]
struct AddrMap(Vec<AddrMapEntry>);

impl AddrMap {
    /// From `code_off` on (until the next mark), the code is `wasm_off`'s.
    fn mark(&mut self, code_off: u32, wasm_off: u32) {
        if self.0.last().is_some_and(|l| l.code_off == code_off) {
            self.0.pop();
        }
        let same = self.0.last().map_or(wasm_off == KWO_NONE, |l| l.wasm_off == wasm_off);
        if !same {
            self.0.push(AddrMapEntry { code_off, wasm_off });
        }
    }

    /// The entries; a last mark at the very end of the code says nothing.
    fn finish(mut self, code_len: usize) -> Vec<AddrMapEntry> {
        if self.0.last().is_some_and(|l| l.code_off as usize >= code_len) {
            self.0.pop();
        }
        self.0
    }
}

/// Every trap record Cranelift left must be a division check behind one of
/// our guards (at most a zero and an overflow record per guarded division).
fn prove_no_faults(traps: &[cranelift_codegen::MachTrap], guarded_divs: u32, index: u32) -> Result<(), CompileError> {
    let mut div_records = 0u32;
    for t in traps {
        if t.code == TrapCode::INTEGER_DIVISION_BY_ZERO || t.code == TrapCode::INTEGER_OVERFLOW {
            div_records += 1;
        } else {
            return Err(CompileError::new(format!(
                "func {index}: possible fault at code offset 0x{:x} ({}) is not behind a guard",
                t.offset, t.code
            )));
        }
    }
    if div_records > 2 * guarded_divs {
        return Err(CompileError::new(format!(
            "func {index}: {div_records} division trap records but only {guarded_divs} guarded divisions"
        )));
    }
    Ok(())
}

fn layout(
    target: Target,
    defined: &[u32],
    funcs: Vec<CompiledFunc>,
    tramp_targets: &[u32],
    tramps: Vec<CompiledFunc>,
    sig_ids: Vec<u32>,
) -> Result<Linked, CompileError> {
    let pad: &[u8] = match target {
        Target::X86_64 => &ENDBR64,
        Target::Aarch64 => &[],
    };
    let mut code = Vec::new();
    let place = |f: &CompiledFunc, code: &mut Vec<u8>| -> Result<Placed, CompileError> {
        code.resize(code.len().next_multiple_of(FUNC_ALIGN), 0);
        let entry = code.len();
        code.extend_from_slice(pad);
        code.extend_from_slice(&f.code);
        let end = u32::try_from(code.len()).map_err(|_| CompileError::new("code exceeds 4 GiB"))?;
        Ok(Placed { entry: entry as u32, len: end - entry as u32 })
    };
    let mut placed_funcs = Vec::with_capacity(funcs.len());
    for f in &funcs {
        placed_funcs.push(place(f, &mut code)?);
    }
    let mut placed_tramps = Vec::with_capacity(tramps.len());
    for f in &tramps {
        placed_tramps.push(place(f, &mut code)?);
    }
    let entry_of: HashMap<u32, u32> = defined
        .iter()
        .zip(&placed_funcs)
        .map(|(i, p)| (*i, p.entry))
        .collect();

    let mut relocs = Vec::new();
    let mut traps = Vec::new();
    let mut guarded_records = Vec::new();
    let mut addr_map = AddrMap::default();
    let all = defined
        .iter()
        .zip(funcs.iter().zip(&placed_funcs))
        .chain(tramp_targets.iter().zip(tramps.iter().zip(&placed_tramps)));
    for (&index, (f, p)) in all {
        let body = p.entry + pad.len() as u32;
        for (off, kind, name, addend) in &f.relocs {
            let at = body + off;
            let kind = match kind {
                Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 => RelocKind::X86Call32,
                Reloc::Arm64Call => RelocKind::Arm64Call26,
                other => {
                    return Err(CompileError::new(format!("func {index}: unsupported relocation {other:?}")))
                }
            };
            let addend = i32::try_from(*addend).map_err(|_| CompileError::new("relocation addend"))?;
            match name.namespace {
                NS_WASM_FUNC => {
                    let callee = *entry_of
                        .get(&name.index)
                        .ok_or_else(|| CompileError::new(format!("call to unknown function {}", name.index)))?;
                    patch_call(&mut code, kind, at, callee, addend)?;
                }
                NS_HOST => relocs.push(ObjReloc { offset: at, kind, host_id: name.index, addend }),
                ns => return Err(CompileError::new(format!("unknown symbol namespace {ns}"))),
            }
        }
        guarded_records.extend(f.guarded_records.iter().map(|off| GuardedRecord {
            func: index,
            code_off: body + off,
            guarded_divs: f.guarded_divs,
        }));
        for &(start, end, wasm_off) in &f.wasm_ranges {
            addr_map.mark(body + start, wasm_off);
            addr_map.mark(body + end, KWO_NONE);
        }
        for (ret, site) in &f.sites {
            traps.push(TrapSite {
                code_off: body + ret,
                trap_code: site.trap_code,
                func: index,
                wasm_off: site.wasm_off,
            });
        }
    }
    traps.sort_by_key(|t| t.code_off);
    let trampolines = tramp_targets
        .iter()
        .zip(&placed_tramps)
        .map(|(i, p)| (*i, p.entry))
        .collect();
    let addr_map = addr_map.finish(code.len());
    Ok(Linked {
        code,
        funcs: placed_funcs,
        trampolines,
        relocs,
        traps,
        addr_map,
        sig_ids,
        guarded_records,
    })
}

/// Resolves a call between functions of the blob.
fn patch_call(code: &mut [u8], kind: RelocKind, at: u32, target: u32, addend: i32) -> Result<(), CompileError> {
    let at_usize = at as usize;
    let field = code
        .get_mut(at_usize..at_usize + 4)
        .ok_or_else(|| CompileError::new("relocation outside code"))?;
    let delta = i64::from(target) + i64::from(addend) - i64::from(at);
    match kind {
        RelocKind::X86Call32 => {
            let rel = i32::try_from(delta).map_err(|_| CompileError::new("call out of range"))?;
            field.copy_from_slice(&rel.to_le_bytes());
        }
        RelocKind::Arm64Call26 => {
            if delta % 4 != 0 || !(-(1i64 << 27)..(1i64 << 27)).contains(&delta) {
                return Err(CompileError::new("call out of range"));
            }
            let insn = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
            let insn = (insn & 0xfc00_0000) | (((delta >> 2) as u32) & 0x03ff_ffff);
            field.copy_from_slice(&insn.to_le_bytes());
        }
    }
    Ok(())
}
