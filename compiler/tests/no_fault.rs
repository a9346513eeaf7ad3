//! The no-fault guarantee, checked on every module of the spec testsuite
//! compiled for x86_64 and aarch64: the compiler's proof accepted each
//! function (compilation succeeds), the machine-code checker accepts the
//! finished object with its header (`kwo check`), every trap record it reports is a
//! division check in a function with guarded divisions, and on x86_64 the
//! disassembly has each record on a `ud2` or a `div`/`idiv`, no `ud2`
//! elsewhere, and no more `div`/`idiv` instructions than guarded divisions.

mod common;

use capstone::prelude::*;
use kwo_compiler::{compile_with_report, Options};
use kwo_format::{Object, Target};
use kwo_verifier::{verify, Policy};

fn x86_disassembler() -> Capstone {
    Capstone::new().x86().mode(arch::x86::ArchMode::Mode64).build().unwrap()
}

fn check_x86(name: &str, obj: &Object, records: &[u32], guarded_divs: u32) {
    let cs = x86_disassembler();
    let mut ud2 = Vec::new();
    let mut div_at = Vec::new();
    for f in &obj.funcs {
        let start = f.code_off as usize;
        let code = &obj.code[start..start + f.code_len as usize];
        let insns = cs.disasm_all(code, start as u64).unwrap();
        for insn in insns.iter() {
            match insn.mnemonic().unwrap_or("") {
                "ud2" => ud2.push(insn.address() as u32),
                "div" | "idiv" => div_at.push(insn.address() as u32),
                _ => {}
            }
        }
    }
    // A record marks either Cranelift's own zero check (ud2) or a div/idiv
    // that would raise #DE; both are behind our IR guards.
    for r in records {
        assert!(
            ud2.contains(r) || div_at.contains(r),
            "{name}: trap record at 0x{r:x} is neither a ud2 nor a division"
        );
    }
    for u in &ud2 {
        assert!(records.contains(u), "{name}: ud2 at 0x{u:x} outside the proven trap records");
    }
    let divs = div_at.len() as u32;
    assert!(divs <= guarded_divs, "{name}: {divs} div instructions, {guarded_divs} guarded");
}

#[test]
fn every_spec_module_compiles_without_unguarded_faults() {
    let modules = common::spec_modules();
    assert!(modules.len() > 1000, "only {} spec modules found", modules.len());
    let (mut compiled, mut records_seen, mut uses_fp) = (0, 0, 0);
    for (name, bytes) in &modules {
        let Ok(module) = verify(bytes, &Policy::spectest()) else { continue };
        for target in [Target::X86_64, Target::Aarch64] {
            let opts = Options { target, verify_ir: true, ..Options::default() };
            let c = compile_with_report(&module, &opts)
                .unwrap_or_else(|e| panic!("{name} ({target:?}): {e}"));
            // The linker ran the checker; check the finished object again,
            // header claims included (as `kwo check` does).
            let report = kwo_compiler::check::check(&c.object)
                .unwrap_or_else(|e| panic!("{name} ({target:?}): kwo check: {e}"));
            uses_fp += usize::from(report.uses_fp);
            for r in &c.guarded_records {
                assert!(r.guarded_divs > 0, "{name}: trap record in func {} without a guarded division", r.func);
            }
            records_seen += c.guarded_records.len();
            if target == Target::X86_64 {
                let offsets: Vec<u32> = c.guarded_records.iter().map(|r| r.code_off).collect();
                let divs = c
                    .guarded_records
                    .iter()
                    .map(|r| (r.func, r.guarded_divs))
                    .collect::<std::collections::BTreeMap<_, _>>()
                    .values()
                    .sum();
                check_x86(name, &c.object, &offsets, divs);
            }
            compiled += 1;
        }
    }
    println!("no-fault: {compiled} objects compiled and checked ({uses_fp} use FP), {records_seen} guarded trap records");
    assert!(compiled > 1000);
}
