//! Where the spec modules run: the userspace runtime (the default), or
//! `kwo.ko` through `/dev/kwo` with `KWO_SPEC_BACKEND=kernel` (inside the
//! QEMU test VM, see tests/vm/). Both take the same `.kwo` object and
//! return the same values and errors.
//!
//! The kernel's uapi passes numbers only, at most `KWO_MAX_VALS` of them,
//! reads no exported globals, and hands a non-null reference result back as
//! an opaque nonzero word: assertions that need any of that cannot be
//! decided in the kernel and are skipped with one of the reasons below,
//! never passed.

use kwo_format::ValType;
use kwo_loader::kernel::{Device, KernelInstance};
use kwo_loader::runtime::{Config, Instance, RunError, Val};
use kwo_loader::uapi::KWO_MAX_VALS;

pub const KERNEL_REFS: &str = "kernel uapi: reference values are not passed (numbers only)";
pub const KERNEL_GLOBALS: &str = "kernel uapi: exported globals cannot be read";
pub const KERNEL_ARITY: &str = "kernel uapi: more than 16 parameters or results";

/// True when `KWO_SPEC_BACKEND=kernel`; any other value but `user` (or
/// unset) is a configuration error.
pub fn kernel() -> bool {
    match std::env::var("KWO_SPEC_BACKEND").as_deref() {
        Ok("kernel") => true,
        Ok("user") | Err(_) => false,
        Ok(other) => panic!("KWO_SPEC_BACKEND={other}: want user or kernel"),
    }
}

/// An instance in whichever place the backend runs them.
pub enum Inst {
    User(Instance),
    Kernel(Box<KernelInstance>),
}

impl Inst {
    /// Validate, instantiate and run the start function.
    pub fn new(kwo: &[u8], config: &Config) -> Result<Inst, RunError> {
        if kernel() {
            Device::open()?
                .load(kwo, config, false)
                .map(|k| Inst::Kernel(Box::new(k)))
        } else {
            Instance::new(kwo, config).map(Inst::User)
        }
    }

    /// Why a call of `export` with `args` cannot be made here, if so.
    pub fn unsupported(&self, export: &str, args: &[Val]) -> Option<&'static str> {
        let Inst::Kernel(k) = self else {
            return None;
        };
        let is_ref = |t: &ValType| matches!(t, ValType::FuncRef | ValType::ExternRef);
        // An unknown export is left to invoke, which reports it.
        let params = k.func_params(export).unwrap_or_default();
        let results = k.func_results(export).unwrap_or_default();
        if params.len() > KWO_MAX_VALS || results.len() > KWO_MAX_VALS {
            return Some(KERNEL_ARITY);
        }
        let ref_arg = args
            .iter()
            .any(|a| matches!(a, Val::FuncRef(_) | Val::ExternRef(_)));
        if ref_arg || params.iter().any(is_ref) {
            return Some(KERNEL_REFS);
        }
        None
    }

    pub fn invoke(&mut self, export: &str, args: &[Val]) -> Result<Vec<Val>, RunError> {
        match self {
            Inst::User(i) => i.invoke(export, args),
            Inst::Kernel(k) => k.invoke(export, args),
        }
    }

    /// An exported global's value; `Err` holds the skip reason.
    pub fn global(&self, export: &str) -> Result<Option<Val>, &'static str> {
        match self {
            Inst::User(i) => Ok(i.global(export)),
            Inst::Kernel(_) => Err(KERNEL_GLOBALS),
        }
    }
}
