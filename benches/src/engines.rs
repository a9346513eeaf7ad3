//! The engines compared: native code, the kwo userspace runtime, Wasmtime
//! (guard pages, and explicit bounds checks) and the wasmi interpreter.
//! Every Wasm engine instantiates the same `.wasm` bytes; imports (the Rust
//! workloads' WASI functions, never called) are satisfied by stubs that
//! fail if they ever are.

use kwo_loader::runtime as kwo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Native,
    /// kwo with every safety check (the real thing).
    Kwo,
    /// kwo with one safety check, or all of them, compiled out: only to
    /// price each check (such objects are flagged and the kernel refuses
    /// them).
    KwoNoBounds,
    KwoNoSpectre,
    KwoNoCheckpoints,
    KwoNoStack,
    KwoNoChecks,
    #[cfg(feature = "wasmtime")]
    WasmtimeGuard,
    #[cfg(feature = "wasmtime")]
    WasmtimeExplicit,
    Wasmi,
}

impl Engine {
    /// Every engine built into this binary, in report order.
    pub fn all() -> Vec<Engine> {
        let mut all = Engine::main();
        all.extend(Engine::kwo_ablations());
        all
    }

    /// The engines of the main comparison.
    pub fn main() -> Vec<Engine> {
        vec![
            Engine::Native,
            Engine::Kwo,
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeGuard,
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeExplicit,
            Engine::Wasmi,
        ]
    }

    /// kwo builds with checks removed, each priced against [`Engine::Kwo`].
    pub fn kwo_ablations() -> Vec<Engine> {
        vec![
            Engine::KwoNoBounds,
            Engine::KwoNoSpectre,
            Engine::KwoNoCheckpoints,
            Engine::KwoNoStack,
            Engine::KwoNoChecks,
        ]
    }

    pub fn label(self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Kwo => "kwo",
            Engine::KwoNoBounds => "kwo, no bounds checks",
            Engine::KwoNoSpectre => "kwo, no Spectre masking",
            Engine::KwoNoCheckpoints => "kwo, no epoch/fuel checkpoints",
            Engine::KwoNoStack => "kwo, no stack check",
            Engine::KwoNoChecks => "kwo, no checks at all",
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeGuard => "wasmtime (guard pages)",
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeExplicit => "wasmtime (explicit checks)",
            Engine::Wasmi => "wasmi (interpreter)",
        }
    }

    /// The compiler's checks for the kwo engines.
    fn kwo_checks(self) -> Option<kwo_compiler::Checks> {
        let all = kwo_compiler::Checks::default();
        Some(match self {
            Engine::Kwo => all,
            Engine::KwoNoBounds => kwo_compiler::Checks {
                bounds: false,
                ..all
            },
            Engine::KwoNoSpectre => kwo_compiler::Checks {
                spectre: false,
                ..all
            },
            Engine::KwoNoCheckpoints => kwo_compiler::Checks {
                checkpoints: false,
                ..all
            },
            Engine::KwoNoStack => kwo_compiler::Checks {
                stack: false,
                ..all
            },
            Engine::KwoNoChecks => kwo_compiler::Checks {
                bounds: false,
                spectre: false,
                checkpoints: false,
                stack: false,
            },
            _ => return None,
        })
    }

    /// Compiles `wasm` once for many instances (not for [`Engine::Native`]).
    pub fn prepare(self, wasm: &[u8]) -> Result<Box<dyn Module>, String> {
        if let Some(checks) = self.kwo_checks() {
            return Ok(Box::new(KwoModule(kwo_compile_with(wasm, checks)?)));
        }
        match self {
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeGuard => wt::prepare(wt::engine(false)?, wasm),
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeExplicit => wt::prepare(wt::engine(true)?, wasm),
            Engine::Wasmi => wi::prepare(wasm),
            _ => Err(format!("{} is not instantiated", self.label())),
        }
    }

    /// Instantiates `wasm` (not for [`Engine::Native`]).
    pub fn instantiate(self, wasm: &[u8]) -> Result<Box<dyn Instance>, String> {
        self.prepare(wasm)?.instantiate()
    }
}

/// A compiled module, instantiated as often as wanted.
pub trait Module {
    fn instantiate(&self) -> Result<Box<dyn Instance>, String>;
}

/// A live module instance whose `(i32) -> i64` exports can be called.
pub trait Instance {
    fn call(&mut self, export: &str, n: i32) -> Result<i64, String>;
}

/// verify (kernel policy) + compile for the host, default options.
pub fn kwo_compile(wasm: &[u8]) -> Result<Vec<u8>, String> {
    kwo_compile_with(wasm, kwo_compiler::Checks::default())
}

fn kwo_compile_with(wasm: &[u8], checks: kwo_compiler::Checks) -> Result<Vec<u8>, String> {
    let module =
        kwo_verifier::verify(wasm, &kwo_verifier::Policy::kernel()).map_err(|d| d.to_string())?;
    let opts = kwo_compiler::Options {
        target: kwo_format::Target::HOST,
        checks,
        x86_bmi: kwo_compiler::host_has_x86_bmi(),
        ..Default::default()
    };
    kwo_compiler::compile(&module, &opts).map_err(|e| e.to_string())
}

/// Whether this CPU has BMI1, BMI2 and LZCNT: then kwo compiles with them,
/// as Wasmtime compiles for the CPU it runs on.
/// A kwo object.
struct KwoModule(Vec<u8>);

impl Module for KwoModule {
    fn instantiate(&self) -> Result<Box<dyn Instance>, String> {
        Ok(Box::new(KwoInstance::new(&self.0)?))
    }
}

pub struct KwoInstance(kwo::Instance);

impl KwoInstance {
    /// Loads an object and runs a reactor's `_initialize`, as `kwo run` does.
    pub fn new(kwo_bytes: &[u8]) -> Result<KwoInstance, String> {
        let config = kwo::Config {
            stack_budget: 1 << 20,
            ..Default::default()
        };
        let mut inst = kwo::Instance::new(kwo_bytes, &config).map_err(|e| e.to_string())?;
        if inst.func_params("_initialize").is_some() {
            inst.invoke("_initialize", &[]).map_err(|e| e.to_string())?;
        }
        Ok(KwoInstance(inst))
    }
}

impl Instance for KwoInstance {
    fn call(&mut self, export: &str, n: i32) -> Result<i64, String> {
        match self
            .0
            .invoke(export, &[kwo::Val::I32(n)])
            .map_err(|e| e.to_string())?[..]
        {
            [kwo::Val::I64(v)] => Ok(v),
            ref other => Err(format!("{export} returned {other:?}")),
        }
    }
}

#[cfg(feature = "wasmtime")]
pub mod wt {
    //! Wasmtime 48 (Cranelift 0.135, the same generation as kwo's).
    use super::Instance;
    use wasmtime::{Config, Engine, Linker, Module, Store, TypedFunc};

    struct WtModule {
        engine: Engine,
        module: Module,
    }

    impl super::Module for WtModule {
        fn instantiate(&self) -> Result<Box<dyn Instance>, String> {
            instantiate_module(&self.engine, &self.module)
        }
    }

    pub fn prepare(engine: Engine, wasm: &[u8]) -> Result<Box<dyn super::Module>, String> {
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        Ok(Box::new(WtModule { engine, module }))
    }

    /// Default configuration (guard pages, signal-based traps), or explicit
    /// bounds checks: no reservation, no guard region, no signal handlers.
    /// Wasmtime requires Spectre masking off in that mode, so its explicit
    /// checks are cheaper than kwo's (which keep the masking).
    pub fn engine(explicit: bool) -> Result<Engine, String> {
        let mut c = Config::new();
        if explicit {
            c.memory_reservation(0)
                .memory_guard_size(0)
                .memory_reservation_for_growth(0);
            c.signals_based_traps(false);
            // SAFETY: documented requirement of signals_based_traps(false).
            unsafe {
                c.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false");
                c.cranelift_flag_set("enable_table_access_spectre_mitigation", "false");
            }
        }
        Engine::new(&c).map_err(|e| e.to_string())
    }

    pub fn instantiate_module(
        engine: &Engine,
        module: &Module,
    ) -> Result<Box<dyn Instance>, String> {
        let mut linker = Linker::new(engine);
        linker
            .define_unknown_imports_as_traps(module)
            .map_err(|e| e.to_string())?;
        let mut store = Store::new(engine, ());
        let instance = linker
            .instantiate(&mut store, module)
            .map_err(|e| e.to_string())?;
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
            init.call(&mut store, ()).map_err(|e| e.to_string())?;
        }
        Ok(Box::new(WtInstance {
            store,
            instance,
            last: None,
        }))
    }

    struct WtInstance {
        store: Store<()>,
        instance: wasmtime::Instance,
        /// The last export called: the round-trip measurement should not
        /// time a name lookup.
        last: Option<(String, TypedFunc<i32, i64>)>,
    }

    impl Instance for WtInstance {
        fn call(&mut self, export: &str, n: i32) -> Result<i64, String> {
            let f = match &self.last {
                Some((name, f)) if name == export => f.clone(),
                _ => {
                    let f = self
                        .instance
                        .get_typed_func::<i32, i64>(&mut self.store, export)
                        .map_err(|e| e.to_string())?;
                    self.last = Some((export.to_string(), f.clone()));
                    f
                }
            };
            f.call(&mut self.store, n).map_err(|e| e.to_string())
        }
    }
}

pub mod wi {
    //! wasmi 2, a register-machine interpreter.
    use super::Instance;
    use wasmi::{Engine, Error, ExternType, Linker, Module, Store, TypedFunc};

    struct WiModule {
        engine: Engine,
        module: Module,
    }

    pub fn prepare(wasm: &[u8]) -> Result<Box<dyn super::Module>, String> {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        Ok(Box::new(WiModule { engine, module }))
    }

    pub fn instantiate(wasm: &[u8]) -> Result<Box<dyn Instance>, String> {
        super::Module::instantiate(&*prepare(wasm)?)
    }

    impl super::Module for WiModule {
        fn instantiate(&self) -> Result<Box<dyn Instance>, String> {
            instantiate_module(&self.engine, &self.module)
        }
    }

    fn instantiate_module(engine: &Engine, module: &Module) -> Result<Box<dyn Instance>, String> {
        let mut linker = Linker::<()>::new(engine);
        for import in module.imports() {
            if let ExternType::Func(ty) = import.ty() {
                let what = format!("{}::{}", import.module(), import.name());
                linker
                    .func_new(
                        import.module(),
                        import.name(),
                        ty.clone(),
                        move |_, _, _| Err(Error::new(format!("import {what} called"))),
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        let mut store = Store::new(engine, ());
        let instance = linker
            .instantiate_and_start(&mut store, module)
            .map_err(|e| e.to_string())?;
        if let Ok(init) = instance.get_typed_func::<(), ()>(&store, "_initialize") {
            init.call(&mut store, ()).map_err(|e| e.to_string())?;
        }
        Ok(Box::new(WiInstance {
            store,
            instance,
            last: None,
        }))
    }

    struct WiInstance {
        store: Store<()>,
        instance: wasmi::Instance,
        last: Option<(String, TypedFunc<i32, i64>)>,
    }

    impl Instance for WiInstance {
        fn call(&mut self, export: &str, n: i32) -> Result<i64, String> {
            let f = match &self.last {
                Some((name, f)) if name == export => *f,
                _ => {
                    let f = self
                        .instance
                        .get_typed_func::<i32, i64>(&self.store, export)
                        .map_err(|e| e.to_string())?;
                    self.last = Some((export.to_string(), f));
                    f
                }
            };
            f.call(&mut self.store, n).map_err(|e| e.to_string())
        }
    }
}
