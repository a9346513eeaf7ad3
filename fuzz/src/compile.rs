//! Target `compile`: wasm-smith modules within kwo's feature set that verify
//! are compiled for x86_64 and aarch64, with Cranelift's IR verifier on.
//!
//! Asserted: compilation succeeds (a verified module must compile); the
//! machine-code checker (`kwo check`: no reachable faulting instruction,
//! FP flag, frames and stack bound as the header says) accepts every
//! object; the C core's object validator accepts the host's.

use arbitrary::Unstructured;
use kwo_compiler::{check, compile, OptLevel, Options};
use kwo_format::{Object, Target};
use kwo_verifier::{verify, Policy};

use crate::smith;

/// The optimization level and the module an input stands for.
pub fn module(data: &[u8]) -> Option<(OptLevel, Vec<u8>)> {
    let mut u = Unstructured::new(data);
    let opt = u.choose(&[OptLevel::Speed, OptLevel::None]).ok().copied()?;
    Some((opt, smith::kwo_module(&mut u).ok()?))
}

pub fn run(data: &[u8]) {
    let Some((opt, wasm)) = module(data) else {
        return;
    };
    // Rejections are the `verify` target's business.
    let Ok(module) = verify(&wasm, &Policy::kernel()) else {
        return;
    };
    for target in [Target::X86_64, Target::Aarch64] {
        let options = Options {
            target,
            opt,
            verify_ir: true,
            ..Options::default()
        };
        let bytes = match compile(&module, &options) {
            Ok(bytes) => bytes,
            Err(e) if crate::known_checker_rejection(&e) => return,
            Err(e) => panic!("{target:?} {opt:?}: a verified module failed to compile: {e}"),
        };
        let object = Object::parse(&bytes).unwrap_or_else(|e| {
            panic!("{target:?}: the compiler wrote an object it cannot read: {e}")
        });
        if let Err(e) = check::check(&object) {
            panic!("{target:?} {opt:?}: the machine-code checker rejects the object: {e}");
        }
        if target == Target::HOST {
            if let Err(e) = kwo_loader::runtime::validate(&bytes) {
                panic!("the C core rejects a fresh object: {e}");
            }
        }
    }
}
