//! The verifier log and statistics of `kwo verify`, modelled on the eBPF
//! verifier log (`BPF_LOG_LEVEL1/2`) and on veristat.
//!
//! - `--log` (level 1): per function, its instructions and code size, its
//!   stack frame and the stack of a call with its callees (the verifier's
//!   call graph over the frames measured on the machine code), its loops and
//!   the preemption checkpoints the compiler placed, its loads and stores
//!   proven in bounds, hoisted before their loop or checked, and its calls;
//!   then module totals.
//! - `--log=2`: also one line per loop and per load or store, at its Wasm
//!   offset, saying why: the index range the range analysis found and the
//!   minimum memory size it was compared with, or the hoisted check.
//! - `--stats`: veristat-like totals of one module, or of two side by side
//!   with a difference column (veristat's `-C`); `--stats=csv` for scripts.
//! - Rejected modules: every diagnostic of the verifier, and every compile
//!   error with an offset, names its function and its place.
//!
//! Every place in a module is printed by [`location`], so that source lines
//! can be added there once. The facts come from the verifier (call graph,
//! range analysis, [`BodyStats`]) and from compiling the module for this
//! machine (frames, code size, checkpoints), which is also how `kwo verify`
//! learns the static stack bound; nothing here proves anything itself.

use crate::source::{policy, VerifyOptions};
use kwo_compiler::{check, CompileError, Options};
use kwo_format::{Object, Target, KWO_HOST_YIELD};
use kwo_verifier::analysis::{
    AccessOp, BodyStats, FuncAccesses, HoistedLoop, IndexRange, LoopBound, LoopInfo, ShortLoop,
    StackDepth, TripCount, TripTest,
};
use kwo_verifier::{Diagnostics, VerifiedModule};
use crate::symbols::describe_location;
use kwo_format::lines::LineTable;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// How the log and diagnostics name a place in the module: its byte offset
/// in the `.wasm` file, and its source line when the module's DWARF gives
/// one: `wasm 0x56 (main.c:12:5)`.
pub fn location(lines: Option<&LineTable>, wasm_off: u32) -> String {
    match describe_location(lines, wasm_off) {
        Some(source) => format!("wasm {wasm_off:#x} ({source})"),
        None => format!("wasm {wasm_off:#x}"),
    }
}

/// The line table of `wasm`'s DWARF; its warnings are left to `kwo compile`.
fn source_lines(wasm: &[u8]) -> Option<LineTable> {
    kwo_debuginfo::line_table(wasm).0
}

/// `func 3 <name>`, or `func 3` without a name.
pub fn func_label(index: u32, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("func {index} <{n}>"),
        None => format!("func {index}"),
    }
}

/// The verifier's diagnostics of `wasm`, one `error:` line each, naming the
/// function and the place of every problem.
pub fn diagnostics(wasm: &[u8], diags: &Diagnostics) -> String {
    let table = source_lines(wasm);
    let lines: Vec<String> = diags
        .iter()
        .map(|d| {
            let func = match &d.func {
                Some((index, name)) => format!("{}: ", func_label(*index, name.as_deref())),
                None => String::new(),
            };
            let at = location(table.as_ref(), u32::try_from(d.offset).unwrap_or(u32::MAX));
            format!("error: {func}{at}: {}", d.message)
        })
        .collect();
    lines.join("\n")
}

/// A compilation failure, naming the function and the place it concerns
/// when it has an offset: `compile error: func 3 <name>: wasm 0x56: ...`.
pub fn compile_error(module: &VerifiedModule, e: &CompileError) -> String {
    let Some(offset) = e.offset else {
        return format!("compile error: {}", e.message);
    };
    let imported = module.num_imported_funcs();
    let func = module
        .bodies
        .iter()
        .position(|b| b.range.contains(&offset))
        .map(|i| {
            let index = imported + i as u32;
            format!("{}: ", func_label(index, module.func_name(index)))
        })
        .unwrap_or_default();
    let table = source_lines(&module.wasm);
    let at = location(table.as_ref(), u32::try_from(offset).unwrap_or(u32::MAX));
    format!("compile error: {func}{at}: {}", e.message)
}

/// A module that passed the verifier, with what compiling it showed.
pub struct Verified {
    pub module: VerifiedModule,
    pub verify_time: Duration,
    /// The module compiled for this machine, or why it could not be (or
    /// was not: see [`verify_module`]).
    pub compiled: Result<Compiled, String>,
}

/// The module compiled for this machine, and the machine-code checker's
/// measurements of it.
pub struct Compiled {
    pub object: Object,
    /// Each defined function's stack frame, return address included.
    pub frames: Vec<u64>,
    pub compile_time: Duration,
}

/// What verifying a module gave.
pub enum Outcome {
    Accepted(Box<Verified>),
    /// Refused: the diagnostics as [`diagnostics`] prints them.
    Rejected {
        diagnostics: String,
        verify_time: Duration,
    },
}

/// Verifies `wasm` under `opts` (timed) and, when it passes, compiles it
/// for this machine to measure it: always with `measure` (for the log and
/// the statistics), else only for the static stack bound of a module
/// without call cycles, as plain `kwo verify` reports it. Only a bad
/// option is an error.
pub fn verify_module(wasm: &[u8], opts: &VerifyOptions, measure: bool) -> Result<Outcome, String> {
    let policy = policy(opts)?;
    let start = Instant::now();
    let verified = kwo_verifier::verify(wasm, &policy);
    let verify_time = start.elapsed();
    let module = match verified {
        Ok(module) => module,
        Err(d) => {
            let diagnostics = diagnostics(wasm, &d);
            return Ok(Outcome::Rejected {
                diagnostics,
                verify_time,
            });
        }
    };
    let compiled = if measure || module.call_graph.cycle.is_none() {
        compile_for_host(&module)
    } else {
        Err("not compiled: a recursive module has no static bound to learn".into())
    };
    Ok(Outcome::Accepted(Box::new(Verified {
        module,
        verify_time,
        compiled,
    })))
}

fn compile_for_host(module: &VerifiedModule) -> Result<Compiled, String> {
    let start = Instant::now();
    let options = Options {
        target: Target::HOST,
        ..Options::default()
    };
    let object =
        kwo_compiler::compile_object(module, &options).map_err(|e| compile_error(module, &e))?;
    let compile_time = start.elapsed();
    let report = check::measure(&object).map_err(|e| format!("machine-code check: {e}"))?;
    Ok(Compiled {
        object,
        frames: report.frames,
        compile_time,
    })
}

/// The stack line of `kwo verify`: the static bound or the call cycle
/// that prevents one.
pub fn stack_summary(v: &Verified) -> String {
    let module = &v.module;
    if let Some(cycle) = &module.call_graph.cycle {
        let path: Vec<String> = cycle
            .iter()
            .map(|f| match module.func_name(*f) {
                Some(n) => format!("{f} ({n})"),
                None => f.to_string(),
            })
            .collect();
        return format!(
            "stack: recursive (call cycle {}): checked in every function that calls Wasm",
            path.join(" -> ")
        );
    }
    match &v.compiled {
        Ok(c) => format!(
            "stack: no call cycles; static bound {} bytes on {}",
            c.object.stack_bound,
            c.object.target.name()
        ),
        Err(e) => format!("stack: no call cycles; bound unknown ({e})"),
    }
}

/// What the log says about one defined function.
struct FuncFacts<'m> {
    index: u32,
    name: Option<&'m str>,
    lines: Option<&'m LineTable>,
    /// Where its body starts.
    offset: u32,
    body: BodyStats,
    proofs: &'m FuncAccesses,
    /// Checks that one compare per group of loads saves.
    grouped: u32,
    /// From the machine code, when the module compiled.
    frame: Option<u64>,
    depth: Option<StackDepth>,
    code_bytes: Option<u32>,
    checkpoints: Option<u32>,
    /// Whether its entry has a checkpoint, and the offsets of its loops
    /// whose header needs none (the verifier's `Checkpoints`).
    entry_checkpoint: bool,
    covered_loops: &'m [u32],
}

fn func_facts<'m>(
    v: &'m Verified,
    lines: Option<&'m LineTable>,
) -> Result<Vec<FuncFacts<'m>>, String> {
    let module = &v.module;
    let imported = module.num_imported_funcs();
    let compiled = v.compiled.as_ref().ok();
    let depths = compiled.map(|c| module.call_graph.stack_depths(&c.frames, imported));
    let mut out = Vec::with_capacity(module.bodies.len());
    for (i, body) in module.bodies.iter().enumerate() {
        let index = imported + i as u32;
        let func = compiled.and_then(|c| c.object.funcs.get(i));
        out.push(FuncFacts {
            index,
            name: module.func_name(index),
            lines,
            offset: body.range.start as u32,
            body: BodyStats::of(module, index)?,
            proofs: &module.accesses[i],
            grouped: module.access_groups.get(i).map_or(0, |g| g.saved),
            frame: compiled.and_then(|c| c.frames.get(i).copied()),
            depth: depths.as_ref().and_then(|d| d.get(i).copied()),
            code_bytes: func.map(|f| f.code_len),
            checkpoints: compiled
                .zip(func)
                .map(|(c, f)| checkpoints_in(&c.object, f)),
            entry_checkpoint: module.checkpoints.at_entry(i),
            covered_loops: module.checkpoints.covered_loops.get(i).map_or(&[], Vec::as_slice),
        });
    }
    Ok(out)
}

/// Calls to the host's yield function in `func`'s machine code: the
/// preemption checkpoints the compiler placed (function entry, loop
/// headers, both copies of a versioned loop; none where the verifier
/// found them redundant).
fn checkpoints_in(object: &Object, func: &kwo_format::Func) -> u32 {
    let code = func.code_off..func.code_off.saturating_add(func.code_len);
    object
        .relocs
        .iter()
        .filter(|r| r.host_id == KWO_HOST_YIELD && code.contains(&r.offset))
        .count() as u32
}

/// The log of an accepted module at `level` (1 or 2): per function, then
/// totals.
pub fn log(v: &Verified, level: u8) -> Result<String, String> {
    let lines = source_lines(&v.module.wasm);
    let funcs = func_facts(v, lines.as_ref())?;
    let min_bytes = v.module.memory.map_or(0, |m| u64::from(m.min) << 16);
    let mut out = String::new();
    for f in &funcs {
        func_log(&mut out, &v.module, f);
        if level >= 2 {
            detail_log(&mut out, f, min_bytes);
        }
    }
    totals_log(&mut out, v, &funcs);
    Ok(out)
}

fn func_log(out: &mut String, module: &VerifiedModule, f: &FuncFacts<'_>) {
    let code = f
        .code_bytes
        .map(|b| format!(", {b} bytes of code"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} at {}: {} insns{code}",
        func_label(f.index, f.name),
        location(f.lines, f.offset),
        f.body.instructions
    );
    let stack = match (f.frame, f.depth) {
        (Some(frame), Some(StackDepth::Bounded(d))) => {
            format!("frame {frame} bytes, {d} bytes with its callees")
        }
        (Some(frame), Some(StackDepth::Recursive)) => {
            format!("frame {frame} bytes; may reach a call cycle: checked at run time")
        }
        _ => "unknown (the module did not compile)".into(),
    };
    let _ = writeln!(out, "  stack: {stack}");
    let loops = f.body.loops.len();
    let hoisted = f.proofs.hoisted.len();
    let checkpoints = f.checkpoints.map_or("unknown".into(), |c| c.to_string());
    let entry = if f.entry_checkpoint {
        ""
    } else {
        " (none at its entry: a small function)"
    };
    let _ = writeln!(
        out,
        "  loops: {loops} ({hoisted} with a hoisted check); checkpoints: {checkpoints}{entry}"
    );
    let p = f.proofs;
    let not_analysed = if p.analysed {
        ""
    } else {
        " (not analysed: over the analysis budget or loop nesting)"
    };
    let _ = writeln!(
        out,
        "  accesses: {}: {} proven, {} hoisted, {} checked{}{not_analysed}",
        p.accesses,
        p.proven.len(),
        p.hoisted_count(),
        p.checked(),
        grouped_note(u64::from(f.grouped))
    );
    let imports: Vec<&str> = f
        .body
        .imports_used
        .iter()
        .map(|&i| module.imports[i as usize].name.as_str())
        .collect();
    let imports = if imports.is_empty() {
        String::new()
    } else {
        format!(" ({})", imports.join(", "))
    };
    let _ = writeln!(
        out,
        "  calls: {} direct, {} indirect, {} to imports{imports}",
        f.body.direct_calls, f.body.indirect_calls, f.body.import_calls
    );
}

/// Level 2: every loop and every load or store, in the order of the code.
fn detail_log(out: &mut String, f: &FuncFacts<'_>, min_bytes: u64) {
    let mut loops = f.body.loops.iter().peekable();
    for access in &f.body.accesses {
        while let Some(l) = loops.next_if(|l| l.offset < access.offset) {
            loop_line(out, f, l);
        }
        access_line(out, f, access, min_bytes);
    }
    for l in loops {
        loop_line(out, f, l);
    }
}

fn loop_line(out: &mut String, f: &FuncFacts<'_>, l: &LoopInfo) {
    let inside: Vec<u32> = f
        .body
        .accesses
        .iter()
        .map(|a| a.offset)
        .filter(|&o| l.contains(o))
        .collect();
    let proven = inside
        .iter()
        .filter(|&&o| f.proofs.is_proven(o as usize))
        .count();
    let hoisted = inside
        .iter()
        .filter(|&&o| hoisted_by(f.proofs, o).is_some())
        .count();
    let covered = f.covered_loops.contains(&l.offset);
    let _ = writeln!(
        out,
        "  {}: loop, depth {}, to {}: {}; {}: {proven} proven, {hoisted} hoisted, {} checked",
        location(f.lines, l.offset),
        l.depth,
        location(None, l.end),
        header_checkpoint(covered, f.proofs.short_at(l.offset as usize)),
        count(inside.len() as u64, "access", "accesses"),
        inside.len() - proven - hoisted
    );
    if let Some(h) = f.proofs.hoisted_at(l.offset as usize) {
        let _ = writeln!(out, "    hoisted check: {}", describe_hoist(h));
    }
}

/// Whether a loop's header runs a checkpoint (docs/compiler.md,
/// "Checkpoints"): not when every iteration first calls a function that has
/// one (`covered`), nor in a short loop.
fn header_checkpoint(covered: bool, short: Option<&ShortLoop>) -> String {
    if covered {
        return "no checkpoint at its header (each iteration first calls a function that has one)"
            .into();
    }
    match short.map(|s| &s.bound) {
        None => "checkpoint at its header".into(),
        Some(LoopBound::Visits(k)) => format!("no checkpoint (at most {k} iterations)"),
        Some(LoopBound::Trips { max_visits, .. }) => {
            format!("no checkpoint when at most {max_visits} iterations (trip count on entry)")
        }
    }
}

/// The loop whose hoisted check covers the access at `offset`.
fn hoisted_by(proofs: &FuncAccesses, offset: u32) -> Option<&HoistedLoop> {
    proofs.hoisted.iter().find(|h| h.covers(offset as usize))
}

fn access_line(out: &mut String, f: &FuncFacts<'_>, a: &AccessOp, min_bytes: u64) {
    let op = match a.static_offset {
        0 => a.name.to_string(),
        off => format!("{} offset={off}", a.name),
    };
    let range = f
        .proofs
        .index_ranges
        .binary_search_by_key(&a.offset, |r| r.offset)
        .ok()
        .map(|i| f.proofs.index_ranges[i]);
    let why = if f.proofs.is_proven(a.offset as usize) {
        match range {
            Some(r) => format!("proven: {}", compared(&r, min_bytes, "<=")),
            None => "proven".into(),
        }
    } else if let Some(h) = hoisted_by(f.proofs, a.offset) {
        format!(
            "hoisted: checked once before the loop at {}",
            location(f.lines, h.loop_offset)
        )
    } else if !f.proofs.analysed {
        "checked: the function was not analysed".into()
    } else {
        match range {
            Some(r) => format!("checked: {}", compared(&r, min_bytes, ">")),
            None => "checked: the analysis found no path to it".into(),
        }
    };
    let in_loop = f
        .body
        .innermost_loop(a.offset)
        .map(|l| format!(" (in loop {})", location(None, l.offset)))
        .unwrap_or_default();
    let _ = writeln!(out, "  {}: {op}{in_loop}: {why}", location(f.lines, a.offset));
}

/// `index in [lo, hi]; hi + end <= min` (or `>`): the fact that decides.
fn compared(r: &IndexRange, min_bytes: u64, cmp: &str) -> String {
    let index = if r.lo == 0 && r.hi == u64::from(u32::MAX) {
        "index any 32-bit value".to_string()
    } else if r.lo == r.hi {
        format!("index {}", r.lo)
    } else {
        format!("index in [{}, {}]", r.lo, r.hi)
    };
    format!(
        "{index}; {} + {} {cmp} {min_bytes} (minimum memory size)",
        r.hi, r.end
    )
}

/// `local 2`, `local 2 + 3`, `local 2 - 3`, or a constant.
fn local_plus(local: Option<u32>, add: i64) -> String {
    match (local, add) {
        (None, c) => c.to_string(),
        (Some(l), 0) => format!("local {l}"),
        (Some(l), c) if c < 0 => format!("local {l} - {}", c.unsigned_abs()),
        (Some(l), c) => format!("local {l} + {c}"),
    }
}

/// The hoisted check of a loop: its trip count and the bytes each
/// iteration touches, from the locals' values on entry.
fn describe_hoist(h: &HoistedLoop) -> String {
    let mut text = h.trip.as_ref().map_or_else(|| "any trip count".to_string(), describe_trip);
    for r in &h.ranges {
        let base = match r.plus {
            Some(q) => format!("local {} + local {q}", r.local),
            None => format!("local {}", r.local),
        };
        let _ = write!(text, "; bytes [{base} + {}, {base} + {}) per iteration", r.lo, r.hi);
        let _ = match r.step {
            0 => write!(text, ", local {} unchanged", r.local),
            step => write!(text, ", local {} stepping by {step:+}", r.local),
        };
    }
    text
}

/// A hoisted loop's trip count: its exit test and counter.
fn describe_trip(t: &TripCount) -> String {
    let (counter, limit) = (local_plus(Some(t.counter), t.bias), local_plus(t.limit_local, t.limit_add));
    let ordered = |below: bool, signed: bool, inclusive: bool| {
        let op = match (below, inclusive) {
            (true, false) => "<",
            (true, true) => "<=",
            (false, false) => ">",
            (false, true) => ">=",
        };
        let sign = if signed { " (signed)" } else { "" };
        format!("while {counter} {op} {limit}{sign}")
    };
    let test = match t.test {
        TripTest::Ne => format!("until {counter} = {limit}"),
        TripTest::Below { signed, inclusive } => ordered(true, signed, inclusive),
        TripTest::Above { signed, inclusive } => ordered(false, signed, inclusive),
    };
    format!("trip: {test}, local {} stepping by {:+}", t.counter, t.step)
}

/// ` (3 of them by their group's first check)`: loads whose check the
/// first load of their group makes for them; nothing when there are none.
fn grouped_note(grouped: u64) -> String {
    if grouped == 0 {
        String::new()
    } else {
        format!(" ({grouped} of them by their group's first check)")
    }
}

/// `1 loop`, `2 loops`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn totals_log(out: &mut String, v: &Verified, funcs: &[FuncFacts<'_>]) {
    let t = Totals::of(v, funcs);
    let code = t
        .code_bytes
        .map(|b| format!(", {b} bytes of code"))
        .unwrap_or_default();
    let checkpoints = t.checkpoints.map_or("unknown".into(), |c| c.to_string());
    let _ = writeln!(
        out,
        "total: {}, {} insns, {} ({} with a hoisted check), {checkpoints} checkpoints{code}",
        count(funcs.len() as u64, "function", "functions"),
        t.instructions,
        count(t.loops, "loop", "loops"),
        t.hoisted_loops
    );
    let c = v.module.access_counts();
    let _ = writeln!(
        out,
        "accesses: {} proven in bounds, {} hoisted, {} checked{} ({:.1}% proven, {:.1}% hoisted)",
        c.proven,
        c.hoisted,
        c.checked,
        grouped_note(t.grouped),
        100.0 * c.proven_fraction(),
        100.0 * c.hoisted_fraction()
    );
    let _ = writeln!(out, "verification time: {} us", v.verify_time.as_micros());
}

/// Module totals over the per-function facts.
struct Totals {
    instructions: u64,
    loops: u64,
    hoisted_loops: u64,
    short_loops: u64,
    /// Checks saved by groups of loads.
    grouped: u64,
    checkpoints: Option<u64>,
    code_bytes: Option<u64>,
}

impl Totals {
    fn of(v: &Verified, funcs: &[FuncFacts<'_>]) -> Totals {
        let compiled = v.compiled.is_ok();
        let sum = |f: &dyn Fn(&FuncFacts<'_>) -> u64| funcs.iter().map(f).sum::<u64>();
        Totals {
            instructions: sum(&|f| u64::from(f.body.instructions)),
            loops: sum(&|f| f.body.loops.len() as u64),
            hoisted_loops: sum(&|f| f.proofs.hoisted.len() as u64),
            grouped: sum(&|f| u64::from(f.grouped)),
            short_loops: sum(&|f| f.proofs.short_loops.len() as u64),
            checkpoints: compiled.then(|| sum(&|f| u64::from(f.checkpoints.unwrap_or(0)))),
            code_bytes: compiled.then(|| sum(&|f| u64::from(f.code_bytes.unwrap_or(0)))),
        }
    }
}

/// One statistic's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Count(u64),
    /// A percentage, compared in percentage points.
    Percent(f64),
    Text(String),
    /// Not known (e.g. the module was rejected).
    Missing,
}

impl Value {
    fn show(&self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Percent(p) => format!("{p:.2}"),
            Value::Text(t) => t.clone(),
            Value::Missing => "-".into(),
        }
    }

    /// veristat's DIFF column: `+12 (+5.00%)` for counts (no percentage
    /// when the first is 0), percentage points for percentages, MATCH or
    /// MISMATCH for text.
    fn diff(&self, b: &Value) -> String {
        match (self, b) {
            (Value::Count(a), Value::Count(b)) => {
                let d = *b as i128 - *a as i128;
                if *a == 0 {
                    format!("{d:+}")
                } else {
                    format!("{d:+} ({:+.2}%)", d as f64 * 100.0 / *a as f64)
                }
            }
            (Value::Percent(a), Value::Percent(b)) => format!("{:+.2} pp", b - a),
            (Value::Missing, _) | (_, Value::Missing) => "-".into(),
            (a, b) if a == b => "MATCH".into(),
            _ => "MISMATCH".into(),
        }
    }
}

/// The statistics of one module: (name in the table, name in CSV, value).
pub type Stats = Vec<(&'static str, &'static str, Value)>;

/// The names of every statistic, in order: (table, CSV).
const STAT_NAMES: [(&str, &str); 21] = [
    ("Verdict", "verdict"),
    ("Functions", "functions"),
    ("Imports", "imports"),
    ("Instructions", "insns"),
    ("Loops", "loops"),
    ("Hoisted loops", "hoisted_loops"),
    ("Short loops", "short_loops"),
    ("Checkpoints", "checkpoints"),
    ("Accesses", "accesses"),
    ("Proven", "proven"),
    ("Hoisted", "hoisted"),
    ("Checked", "checked"),
    ("Grouped", "grouped"),
    ("Proven (%)", "proven_pct"),
    ("Hoisted (%)", "hoisted_pct"),
    ("Max frame (bytes)", "max_frame"),
    ("Recursive", "recursive"),
    ("Stack bound (bytes)", "stack_bound"),
    ("Code (bytes)", "code_bytes"),
    ("Verify time (us)", "verify_us"),
    ("Compile time (us)", "compile_us"),
];

/// The statistics of a verification outcome; a rejected module has only
/// its verdict and verification time.
pub fn stats(outcome: &Outcome) -> Result<Stats, String> {
    let values = match outcome {
        Outcome::Rejected { verify_time, .. } => STAT_NAMES
            .iter()
            .map(|&(_, csv)| match csv {
                "verdict" => Value::Text("failure".into()),
                "verify_us" => Value::Count(verify_time.as_micros() as u64),
                _ => Value::Missing,
            })
            .collect(),
        Outcome::Accepted(v) => accepted_stats(v)?,
    };
    Ok(STAT_NAMES
        .iter()
        .zip(values)
        .map(|(&(table, csv), value)| (table, csv, value))
        .collect())
}

fn accepted_stats(v: &Verified) -> Result<Vec<Value>, String> {
    let funcs = func_facts(v, None)?;
    let t = Totals::of(v, &funcs);
    let c = v.module.access_counts();
    let compiled = v.compiled.as_ref().ok();
    let known = |x: Option<u64>| x.map_or(Value::Missing, Value::Count);
    let recursive = v.module.call_graph.cycle.is_some();
    let stack_bound = match compiled {
        Some(_) if recursive => Value::Missing,
        Some(c) => Value::Count(u64::from(c.object.stack_bound)),
        None => Value::Missing,
    };
    Ok(vec![
        Value::Text("success".into()),
        Value::Count(funcs.len() as u64),
        Value::Count(u64::from(v.module.num_imported_funcs())),
        Value::Count(t.instructions),
        Value::Count(t.loops),
        Value::Count(t.hoisted_loops),
        Value::Count(t.short_loops),
        known(t.checkpoints),
        Value::Count(c.proven + c.hoisted + c.checked),
        Value::Count(c.proven),
        Value::Count(c.hoisted),
        Value::Count(c.checked),
        Value::Count(t.grouped),
        Value::Percent(100.0 * c.proven_fraction()),
        Value::Percent(100.0 * c.hoisted_fraction()),
        known(compiled.map(|c| u64::from(c.object.max_frame))),
        Value::Text(if recursive { "yes" } else { "no" }.into()),
        stack_bound,
        known(t.code_bytes),
        Value::Count(v.verify_time.as_micros() as u64),
        known(compiled.map(|c| c.compile_time.as_micros() as u64)),
    ])
}

/// One row per statistic, one column per module, and with two modules a
/// DIFF column (second minus first), as veristat's compare mode.
pub fn stats_table(modules: &[(String, Stats)]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["Stat".to_string()];
    header.extend(modules.iter().map(|(name, _)| name.clone()));
    if modules.len() == 2 {
        header.push("DIFF".into());
    }
    rows.push(header);
    for (i, &(name, _)) in STAT_NAMES.iter().enumerate() {
        let mut row = vec![name.to_string()];
        row.extend(modules.iter().map(|(_, s)| s[i].2.show()));
        if let [(_, a), (_, b)] = modules {
            row.push(a[i].2.diff(&b[i].2));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    rows.insert(1, dashes);
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// A CSV header and one row per module, for scripts.
pub fn stats_csv(modules: &[(String, Stats)]) -> String {
    let mut out = String::from("file");
    for (_, csv) in STAT_NAMES {
        let _ = write!(out, ",{csv}");
    }
    out.push('\n');
    for (name, stats) in modules {
        out.push_str(&csv_field(name));
        for (_, _, value) in stats {
            let text = match value {
                Value::Missing => String::new(),
                v => v.show(),
            };
            let _ = write!(out, ",{}", csv_field(&text));
        }
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
