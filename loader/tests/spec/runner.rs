//! The child side of the harness: runs the directives of one `.wast` file
//! through verify → compile → the userspace runtime or kwo.ko (backend.rs)
//! and reports one outcome per directive on stdout, as protocol lines the
//! parent (main.rs) aggregates.
//!
//! Protocol (one line each, prefix [`TAG`]): `D <index> <line>` before a
//! directive runs, then `P`, `S <reason>` or `F <message>`; `END` once the
//! file is done. A crash or hang therefore loses at most the directive named
//! by the last `D`, and the parent can resume after it (`KWO_SPEC_RESUME`:
//! directives before that index only rebuild modules, silently; indexes in
//! `KWO_SPEC_AVOID` are not replayed because they crashed before).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use kwo_format::Target;
use kwo_loader::runtime::{Config, RunError, Val};
use kwo_verifier::Policy;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::backend::{self, Inst};
use crate::scan;
use crate::values;

pub const TAG: &str = "@@kwo-spec";

/// Time budget of one call into Wasm; spec tests finish in milliseconds.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Outcome {
    Pass,
    Fail(String),
    Skip(&'static str),
}

/// A module the script defined: running, skipped by design, or broken.
enum Slot {
    Ready(Inst),
    Skipped(&'static str),
    Broken(String),
}

type SlotRef = Rc<RefCell<Slot>>;

/// Why building an instance failed, by stage.
enum BuildError {
    Encode(String),
    Verify(String),
    Compile(String),
    Run(RunError),
    Panic(String),
}

impl BuildError {
    fn describe(&self) -> String {
        match self {
            BuildError::Encode(e) => format!("text encoding failed: {e}"),
            BuildError::Verify(e) => format!("verifier rejected: {e}"),
            BuildError::Compile(e) => format!("compile failed: {e}"),
            BuildError::Run(e) => format!("instantiation failed: {}", show_run_error(e)),
            BuildError::Panic(e) => format!("panicked: {e}"),
        }
    }
}

/// Run `path` and report on stdout; a file that does not parse is one
/// failed directive.
pub fn run_file(path: &std::path::Path, resume: usize, avoid: &HashSet<usize>) {
    let mut out = |line: &str| emit(line);
    match std::fs::read_to_string(path) {
        Ok(text) => run_text(&text, resume, avoid, &mut out),
        Err(e) => report_fatal(&format!("cannot read {}: {e}", path.display()), &mut out),
    }
}

/// Run a `.wast` script, passing each protocol line (without [`TAG`]) to
/// `out`.
pub fn run_text(text: &str, resume: usize, avoid: &HashSet<usize>, out: &mut dyn FnMut(&str)) {
    // names.wast uses bidi and other confusable characters on purpose.
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => return report_fatal(&format!("lex error: {e}"), out),
    };
    let wast = match parser::parse::<Wast>(&buf) {
        Ok(w) => w,
        Err(e) => return report_fatal(&format!("parse error: {e}"), out),
    };
    let mut runner = Runner::default();
    for (index, directive) in wast.directives.into_iter().enumerate() {
        let (line, _) = directive.span().linecol_in(text);
        if index < resume {
            if !avoid.contains(&index) {
                runner.replay(directive);
            }
            continue;
        }
        out(&format!("D {index} {}", line + 1));
        out(&match runner.run(directive) {
            Outcome::Pass => "P".to_string(),
            Outcome::Skip(reason) => format!("S {reason}"),
            Outcome::Fail(msg) => format!("F {}", one_line(&msg)),
        });
    }
    out("END");
}

fn report_fatal(msg: &str, out: &mut dyn FnMut(&str)) {
    out("D 0 1");
    out(&format!("F {}", one_line(msg)));
    out("END");
}

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent reads these lines; a closed pipe means it is gone anyway.
    let _ = writeln!(out, "{TAG} {line}");
    let _ = out.flush();
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', " | ");
    if s.len() > 400 {
        let cut = (0..=400).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

#[derive(Default)]
struct Runner {
    named: HashMap<String, SlotRef>,
    current: Option<SlotRef>,
    /// Instances by the name `register` gave them.
    registered: HashMap<String, SlotRef>,
}

impl Runner {
    /// Rebuild module state after a resume; asserts are not re-run.
    fn replay(&mut self, directive: WastDirective) {
        match directive {
            WastDirective::Module(_) | WastDirective::Register { .. } => {
                self.run(directive);
            }
            _ => {}
        }
    }

    fn run(&mut self, directive: WastDirective) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module),
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(call) => self.invoke(&call),
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.assert_trap(WastExecute::Invoke(call), message)
            }
            WastDirective::AssertInvalid { module, message, .. }
            | WastDirective::AssertMalformed { module, message, .. } => {
                assert_rejected(module, message)
            }
            WastDirective::AssertUnlinkable { module, message, .. } => {
                self.assert_unlinkable(module, message)
            }
            other => Outcome::Fail(format!("unsupported directive at {:?}", other.span())),
        }
    }

    fn module(&mut self, mut module: QuoteWat) -> Outcome {
        let name = module.name().map(|id: Id| id.name().to_string());
        let slot = self.instantiate(&mut module);
        let outcome = match &slot {
            Slot::Ready(_) => Outcome::Pass,
            Slot::Skipped(r) => Outcome::Skip(r),
            Slot::Broken(e) => Outcome::Fail(e.clone()),
        };
        let slot = Rc::new(RefCell::new(slot));
        if let Some(name) = name {
            self.named.insert(name, slot.clone());
        }
        self.current = Some(slot);
        outcome
    }

    fn instantiate(&self, module: &mut QuoteWat) -> Slot {
        let wasm = match encode(module) {
            Ok(w) => w,
            Err(e) => return Slot::Broken(e.describe()),
        };
        if let Some(reason) = self.skip_reason(&wasm) {
            return Slot::Skipped(reason);
        }
        match build(&wasm) {
            Ok(instance) => Slot::Ready(instance),
            Err(e) => Slot::Broken(e.describe()),
        }
    }

    fn lookup(&self, id: Option<Id>) -> Option<SlotRef> {
        match id {
            Some(id) => self.named.get(id.name()).cloned(),
            None => self.current.clone(),
        }
    }

    /// The module a directive refers to, if it can run.
    fn slot(&self, id: Option<Id>) -> Result<SlotRef, Outcome> {
        let slot = self.lookup(id).ok_or_else(|| Outcome::Fail("no such module".into()))?;
        match blocked(&slot) {
            Some(outcome) => Err(outcome),
            None => Ok(slot),
        }
    }

    /// Why `wasm` cannot be instantiated here. A module skipped for linking
    /// would have written into the instances it imports state from; their
    /// later results depend on it, so they become skipped too.
    fn skip_reason(&self, wasm: &[u8]) -> Option<&'static str> {
        let reason = scan::skip_reason(wasm, |name| self.registered.contains_key(name))?;
        if reason == scan::LINKING {
            for name in scan::instances_touched(wasm) {
                if let Some(slot) = self.registered.get(&name) {
                    *slot.borrow_mut() = Slot::Skipped(scan::LINKING);
                }
            }
        }
        Some(reason)
    }

    fn register(&mut self, name: &str, id: Option<Id>) -> Outcome {
        let Some(slot) = self.lookup(id) else {
            return Outcome::Fail("no such module".into());
        };
        let outcome = blocked(&slot).unwrap_or(Outcome::Pass);
        // Recorded even for a skipped module: importers must be skipped too.
        self.registered.insert(name.to_string(), slot);
        outcome
    }

    /// Call an export. The outer error is the harness's verdict (skipped,
    /// bad argument, panic); the inner result is what the runtime returned.
    fn call(&self, call: &WastInvoke) -> Result<RunResult, Outcome> {
        let slot = self.slot(call.module)?;
        let args = call
            .args
            .iter()
            .map(values::arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Outcome::Fail)?;
        let mut slot = slot.borrow_mut();
        let Slot::Ready(instance) = &mut *slot else {
            return Err(Outcome::Fail("module unavailable".into()));
        };
        if let Some(reason) = instance.unsupported(call.name, &args) {
            return Err(Outcome::Skip(reason));
        }
        guarded(|| instance.invoke(call.name, &args))
            .map_err(|p| Outcome::Fail(format!("invoke {:?} panicked: {p}", call.name)))
    }

    fn invoke(&self, call: &WastInvoke) -> Outcome {
        match self.call(call) {
            Ok(Ok(_)) => Outcome::Pass,
            Ok(Err(e)) => Outcome::Fail(format!("invoke {:?}: {}", call.name, show_run_error(&e))),
            Err(outcome) => outcome,
        }
    }

    /// Run an `invoke`, `get` or module form.
    fn execute(&mut self, exec: WastExecute) -> Result<RunResult, Outcome> {
        match exec {
            WastExecute::Invoke(call) => self.call(&call),
            WastExecute::Get { module, global, .. } => self.get(module, global),
            WastExecute::Wat(wat) => self.execute_module(wat),
        }
    }

    fn get(&self, module: Option<Id>, global: &str) -> Result<RunResult, Outcome> {
        let slot = self.slot(module)?;
        let slot = slot.borrow();
        let Slot::Ready(instance) = &*slot else {
            return Err(Outcome::Fail("module unavailable".into()));
        };
        match instance.global(global) {
            Ok(Some(v)) => Ok(Ok(vec![v])),
            Ok(None) => Err(Outcome::Fail(format!("no exported global {global:?}"))),
            Err(reason) => Err(Outcome::Skip(reason)),
        }
    }

    /// Instantiate a module whose start function is expected to trap.
    fn execute_module(&mut self, wat: Wat) -> Result<RunResult, Outcome> {
        let wasm = encode(&mut QuoteWat::Wat(wat)).map_err(|e| Outcome::Fail(e.describe()))?;
        if let Some(reason) = self.skip_reason(&wasm) {
            return Err(Outcome::Skip(reason));
        }
        match build(&wasm) {
            Ok(_) => Ok(Ok(Vec::new())),
            Err(BuildError::Run(e)) => Ok(Err(e)),
            Err(e) => Err(Outcome::Fail(e.describe())),
        }
    }

    fn assert_return(&mut self, exec: WastExecute, want: &[WastRet]) -> Outcome {
        let what = describe_exec(&exec);
        let got = match self.execute(exec) {
            Ok(Ok(vals)) => vals,
            Ok(Err(e)) => return Outcome::Fail(format!("{what}: {}", show_run_error(&e))),
            Err(outcome) => return outcome,
        };
        // The call ran (its side effects count); only the comparison is
        // impossible when the kernel hands references back as opaque words.
        if backend::kernel() && want.iter().any(values::is_ref) {
            return Outcome::Skip(backend::KERNEL_REFS);
        }
        let ok = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| values::matches(g, w));
        if ok {
            Outcome::Pass
        } else {
            Outcome::Fail(format!(
                "{what}: got {got:?}, expected {}",
                values::show_expected(want)
            ))
        }
    }

    fn assert_trap(&mut self, exec: WastExecute, message: &str) -> Outcome {
        let what = describe_exec(&exec);
        match self.execute(exec) {
            Ok(Err(RunError::Trap(info))) if trap_matches(info.code.message(), message) => {
                Outcome::Pass
            }
            Ok(Err(e)) => Outcome::Fail(format!(
                "{what}: expected trap {message:?}, got {}",
                show_run_error(&e)
            )),
            Ok(Ok(vals)) => Outcome::Fail(format!(
                "{what}: expected trap {message:?}, returned {vals:?}"
            )),
            Err(outcome) => outcome,
        }
    }

    /// The module must fail to link: rejected by the verifier's import
    /// policy or by instantiation. A compile error is a compiler bug, not a
    /// link failure.
    fn assert_unlinkable(&self, wat: Wat, message: &str) -> Outcome {
        let wasm = match encode(&mut QuoteWat::Wat(wat)) {
            Ok(w) => w,
            Err(e) => return Outcome::Fail(e.describe()),
        };
        if let Some(reason) = scan::skip_reason(&wasm, |name| self.registered.contains_key(name)) {
            return Outcome::Skip(reason);
        }
        match build(&wasm) {
            Err(BuildError::Verify(_) | BuildError::Run(_)) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("expected unlinkable ({message}), {}", e.describe())),
            Ok(_) => Outcome::Fail(format!("module linked, expected {message:?}")),
        }
    }
}

type RunResult = Result<Vec<Val>, RunError>;

/// The verdict for a directive on a module that cannot run.
fn blocked(slot: &SlotRef) -> Option<Outcome> {
    match &*slot.borrow() {
        Slot::Ready(_) => None,
        Slot::Skipped(r) => Some(Outcome::Skip(r)),
        Slot::Broken(e) => Some(Outcome::Fail(format!("module unavailable ({e})"))),
    }
}

/// assert_invalid / assert_malformed: the text encoder or the verifier must
/// reject the module.
fn assert_rejected(mut module: QuoteWat, message: &str) -> Outcome {
    let wasm = match encode(&mut module) {
        Ok(w) => w,
        Err(_) => return Outcome::Pass,
    };
    match guarded(|| kwo_verifier::verify(&wasm, &Policy::spectest())) {
        Ok(Ok(_)) => Outcome::Fail(format!("module accepted, expected {message:?}")),
        Ok(Err(_)) => Outcome::Pass,
        Err(p) => Outcome::Fail(format!("verifier panicked: {p}")),
    }
}

fn encode(module: &mut QuoteWat) -> Result<Vec<u8>, BuildError> {
    module.encode().map_err(|e| BuildError::Encode(e.message()))
}

/// verify → compile → instantiate (which runs the start function).
fn build(wasm: &[u8]) -> Result<Inst, BuildError> {
    guarded(|| {
        let module = kwo_verifier::verify(wasm, &Policy::spectest())
            .map_err(|d| BuildError::Verify(d.to_string()))?;
        let options =
            kwo_compiler::Options { target: Target::HOST, verify_ir: true, ..Default::default() }.with_env();
        let kwo = kwo_compiler::compile(&module, &options)
            .map_err(|e| BuildError::Compile(e.to_string()))?;
        let config = Config {
            timeout: Some(CALL_TIMEOUT),
            ..Config::default()
        };
        Inst::new(&kwo, &config).map_err(BuildError::Run)
    })
    .unwrap_or_else(|p| Err(BuildError::Panic(p)))
}

/// Run `f`, turning a panic into its message so one bad directive cannot end
/// the file.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into())
    })
}

/// The spec's message may carry detail after ours ("uninitialized element
/// 2"), or be shorter than ours.
fn trap_matches(ours: &str, spec: &str) -> bool {
    ours.starts_with(spec) || spec.starts_with(ours)
}

fn describe_exec(exec: &WastExecute) -> String {
    match exec {
        WastExecute::Invoke(call) => format!("invoke {:?}", call.name),
        WastExecute::Get { global, .. } => format!("get {global:?}"),
        WastExecute::Wat(_) => "instantiate".into(),
    }
}

fn show_run_error(e: &RunError) -> String {
    match e {
        RunError::Trap(info) => format!("trap {:?}", info.code.message()),
        RunError::Load(msg) => format!("load error: {msg}"),
        RunError::Exit(code) => format!("exit({code})"),
        RunError::Usage(msg) => format!("usage error: {msg}"),
    }
}
