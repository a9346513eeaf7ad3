//! The engines compared: native code, the kwo userspace runtime, Wasmtime
//! (guard pages, guard pages with epoch interruption, and explicit bounds
//! checks) and the wasmi interpreter.
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
    /// Guard pages plus epoch checks that yield to the host once per
    /// millisecond: kwo's preemption checkpoints, at equal safety.
    #[cfg(feature = "wasmtime")]
    WasmtimeEpochs,
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
            Engine::WasmtimeEpochs,
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
            Engine::WasmtimeEpochs => "wasmtime (guard pages + epochs)",
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
            Engine::WasmtimeGuard => wt::prepare(wt::Mode::Guard, wasm),
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeEpochs => wt::prepare(wt::Mode::Epochs, wasm),
            #[cfg(feature = "wasmtime")]
            Engine::WasmtimeExplicit => wt::prepare(wt::Mode::Explicit, wasm),
            Engine::Wasmi => wi::prepare(wasm),
            _ => Err(format!("{} is not instantiated", self.label())),
        }
    }

    /// The Wasmtime configuration of a Wasmtime engine.
    #[cfg(feature = "wasmtime")]
    pub fn wasmtime_mode(self) -> Option<wt::Mode> {
        match self {
            Engine::WasmtimeGuard => Some(wt::Mode::Guard),
            Engine::WasmtimeEpochs => Some(wt::Mode::Epochs),
            Engine::WasmtimeExplicit => Some(wt::Mode::Explicit),
            _ => None,
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
    //! Wasmtime 48 (Cranelift 0.135, the same generation as kwo's), in
    //! three configurations ([`Mode`]). With epochs, a ticker thread
    //! advances the engine's epoch every millisecond, as kwo's userspace
    //! runtime ticks its own, for as long as a module or instance lives.
    use super::Instance;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;
    use wasmtime::{Config, Engine, Linker, Module, Store, TypedFunc, UpdateDeadline};

    /// How Wasmtime is configured.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        /// Default configuration: guard pages, signal-based traps.
        Guard,
        /// Guard pages plus epoch interruption: an epoch check at every
        /// function entry and loop header, a host callback once per tick.
        Epochs,
        /// Explicit bounds checks: no reservation, no guard region, no
        /// signal handlers. Wasmtime requires Spectre masking off in that
        /// mode, so its explicit checks are cheaper than kwo's (which keep
        /// the masking).
        Explicit,
    }

    /// How often the epoch advances, as in kwo's userspace runtime
    /// (`loader/csrc/platform_user.c`).
    const TICK: Duration = Duration::from_millis(1);

    /// A thread that increments an engine's epoch every [`TICK`] until
    /// dropped (dropping stops and joins it).
    pub struct Ticker {
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Ticker {
        pub fn start(engine: &Engine) -> Result<Ticker, String> {
            let stop = Arc::new(AtomicBool::new(false));
            let weak = engine.weak();
            let flag = Arc::clone(&stop);
            let thread = std::thread::Builder::new()
                .name("wasmtime-epoch".into())
                .spawn(move || {
                    while !flag.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        match weak.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                })
                .map_err(|e| format!("cannot start the epoch ticker: {e}"))?;
            Ok(Ticker {
                stop,
                thread: Some(thread),
            })
        }
    }

    impl Drop for Ticker {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            if let Some(thread) = self.thread.take() {
                // The thread only sleeps and increments: it cannot panic.
                let _ = thread.join();
            }
        }
    }

    struct WtModule {
        engine: Engine,
        module: Module,
        ticker: Option<Arc<Ticker>>,
    }

    impl super::Module for WtModule {
        fn instantiate(&self) -> Result<Box<dyn Instance>, String> {
            instantiate_module(&self.engine, &self.module, self.ticker.clone())
        }
    }

    /// Compiles `wasm`; in [`Mode::Epochs`] also starts the ticker, which
    /// lives as long as the module or an instance of it.
    pub fn prepare(mode: Mode, wasm: &[u8]) -> Result<Box<dyn super::Module>, String> {
        let engine = engine(mode)?;
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let ticker = ticker_for(mode, &engine)?;
        Ok(Box::new(WtModule {
            engine,
            module,
            ticker,
        }))
    }

    /// A running ticker when `mode` needs one.
    pub fn ticker_for(mode: Mode, engine: &Engine) -> Result<Option<Arc<Ticker>>, String> {
        Ok(match mode {
            Mode::Epochs => Some(Arc::new(Ticker::start(engine)?)),
            Mode::Guard | Mode::Explicit => None,
        })
    }

    pub fn engine(mode: Mode) -> Result<Engine, String> {
        let mut c = Config::new();
        match mode {
            Mode::Guard => {}
            Mode::Epochs => {
                c.epoch_interruption(true);
            }
            Mode::Explicit => {
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
        }
        Engine::new(&c).map_err(|e| e.to_string())
    }

    /// Instantiates `module` and runs a reactor's `_initialize`. With a
    /// ticker (epoch interruption on), the store's deadline is one tick
    /// ahead and each expiry calls back into the host and moves it one
    /// tick on: kwo's "check at every entry and loop, yield once per tick".
    pub fn instantiate_module(
        engine: &Engine,
        module: &Module,
        ticker: Option<Arc<Ticker>>,
    ) -> Result<Box<dyn Instance>, String> {
        let mut linker = Linker::new(engine);
        linker
            .define_unknown_imports_as_traps(module)
            .map_err(|e| e.to_string())?;
        let mut store = Store::new(engine, ());
        if ticker.is_some() {
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
        }
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
            _ticker: ticker,
        }))
    }

    struct WtInstance {
        store: Store<()>,
        instance: wasmtime::Instance,
        /// The last export called: the round-trip measurement should not
        /// time a name lookup.
        last: Option<(String, TypedFunc<i32, i64>)>,
        /// Keeps the epoch advancing while the instance lives.
        _ticker: Option<Arc<Ticker>>,
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
