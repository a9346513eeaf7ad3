//! Where generated code needs preemption checkpoints (docs/abi.md,
//! "Budgets"). By default every function entry and every loop header has
//! one, so that code runs a bounded number of instructions between two of
//! them. Two kinds are provably redundant, and this analysis finds them:
//!
//! - **Entry checkpoints of small functions.** A function with no
//!   `call_indirect`, no call to the host (imports, `memory.grow`, bulk
//!   memory and table operations), whose loops all keep their header
//!   checkpoints and whose direct callees are all small functions runs at
//!   most its own operators plus, per call site, its callee's bound between
//!   two checkpoints: every cycle of Wasm control flow goes through a loop
//!   header, so code that passes no checkpoint runs each operator of the
//!   body at most once. When that bound is at most [`SMALL_FUNCTION_BUDGET`]
//!   operators it needs no checkpoint: whoever called it checkpoints before
//!   and after. A function on or above a call cycle is never small, nor is
//!   one with a short loop (`range::short`: a loop whose header checkpoint
//!   goes because its whole run is bounded, which counts on the entry
//!   checkpoint around it), so this analysis runs after the range analysis.
//! - **Header checkpoints of loops that always call.** When a loop body
//!   starts with straight-line code (no block, branch, `if`, `end`, return
//!   or `unreachable` before it) that calls a defined function keeping its
//!   entry checkpoint, every iteration passes through that checkpoint, so
//!   the header needs none (a recursive `fib`'s loop around its call).
//!
//! What it does not do: bound loops (every other loop keeps its header
//! checkpoint), or look through `call_indirect` (its callers keep theirs).
//! Fuel counts the checkpoints that remain, so a function or loop whose
//! checkpoint is dropped costs no fuel of its own.

use super::FuncAccesses;
use crate::module::VerifiedModule;
use wasmparser::{BinaryReaderError, FunctionBody, Operator};

/// Largest number of Wasm operators a function may run, its callees'
/// included, without an entry checkpoint: well under a microsecond of
/// plain operators, next to the 1 ms tick that checkpoints serve.
pub const SMALL_FUNCTION_BUDGET: u64 = 1024;

/// Which checkpoints each defined function needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoints {
    /// Whether each defined function needs a checkpoint at its entry
    /// (parallel to `VerifiedModule::funcs`).
    pub entry: Vec<bool>,
    /// Byte offsets of the `loop` operators of each defined function whose
    /// header needs no checkpoint, sorted.
    pub covered_loops: Vec<Vec<u32>>,
}

impl Checkpoints {
    /// Whether defined function `defined` (0 for the first non-import)
    /// needs an entry checkpoint; true for anything unknown.
    pub fn at_entry(&self, defined: usize) -> bool {
        self.entry.get(defined).copied().unwrap_or(true)
    }

    /// Whether the header of the loop at byte offset `offset` in defined
    /// function `defined` needs a checkpoint.
    pub fn at_loop(&self, defined: usize, offset: u32) -> bool {
        self.covered_loops
            .get(defined)
            .is_none_or(|l| l.binary_search(&offset).is_err())
    }

    pub(crate) fn analyze(module: &VerifiedModule) -> Result<Checkpoints, BinaryReaderError> {
        let imported = module.num_imported_funcs();
        let bodies = module
            .bodies
            .iter()
            .map(|b| BodyFacts::read(&module.wasm[b.range.clone()], b.range.start, imported))
            .collect::<Result<Vec<_>, _>>()?;
        let bounds = small_bounds(&bodies, &module.accesses, imported);
        let entry: Vec<bool> = bounds.iter().map(Option::is_none).collect();
        let covered_loops = bodies
            .iter()
            .map(|body| {
                body.loop_first_calls
                    .iter()
                    .filter(|(_, callee)| {
                        callee.is_some_and(|c| entry.get((c - imported) as usize) == Some(&true))
                    })
                    .map(|(offset, _)| *offset)
                    .collect()
            })
            .collect();
        Ok(Checkpoints { entry, covered_loops })
    }
}

/// What one body holds, for this analysis.
struct BodyFacts {
    operators: u64,
    /// No indirect or host call, no bulk operation.
    plain: bool,
    /// Defined functions called directly, once per call site.
    call_sites: Vec<u32>,
    /// Each loop's offset, with the defined function its straight-line
    /// start calls first, if any.
    loop_first_calls: Vec<(u32, Option<u32>)>,
}

impl BodyFacts {
    fn read(bytes: &[u8], offset: usize, imported: u32) -> Result<BodyFacts, BinaryReaderError> {
        let reader = FunctionBody::new(wasmparser::BinaryReader::new(bytes, offset));
        let mut facts = BodyFacts {
            operators: 0,
            plain: true,
            call_sites: Vec::new(),
            loop_first_calls: Vec::new(),
        };
        // The loop whose straight-line start is being read, if any.
        let mut open_start: Option<usize> = None;
        let mut ops = reader.get_operators_reader()?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset()?;
            facts.operators += 1;
            if let Operator::Call { function_index } = op {
                if function_index >= imported {
                    facts.call_sites.push(function_index);
                    if let Some(i) = open_start.take() {
                        facts.loop_first_calls[i].1 = Some(function_index);
                    }
                    continue;
                }
            }
            if let Operator::Loop { .. } = op {
                open_start = Some(facts.loop_first_calls.len());
                facts.loop_first_calls.push((offset as u32, None));
                continue;
            }
            if ends_straight_line(&op) {
                open_start = None;
            }
            if calls_out(&op) {
                facts.plain = false;
            }
        }
        Ok(facts)
    }
}

/// Control operators: after one, the code that follows no longer runs on
/// every path through the loop start. These are all the control operators
/// of kwo's feature set (`KWO_FEATURES`) but `loop`, `call`, `call_indirect`
/// (they return or trap) and `nop`; the others the validator refuses.
fn ends_straight_line(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Block { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::Unreachable
    )
}

/// Operators whose cost is not one operator's: calls that may reach
/// unknown code or the host, and the bulk operations the host runs.
fn calls_out(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::MemoryGrow { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryCopy { .. }
            | Operator::MemoryInit { .. }
            | Operator::TableGrow { .. }
            | Operator::TableFill { .. }
            | Operator::TableCopy { .. }
            | Operator::TableInit { .. }
    )
}

/// Each defined function's bound in operators if it is small, else `None`.
/// A function becomes small once all its callees are, so functions on or
/// above a call cycle never do; every round settles at least one more
/// level of the call tree, and a chain of small functions is at most
/// [`SMALL_FUNCTION_BUDGET`] / 2 deep (each call costs its operator and at
/// least the callee's `end`).
fn small_bounds(bodies: &[BodyFacts], accesses: &[FuncAccesses], imported: u32) -> Vec<Option<u64>> {
    let mut bounds: Vec<Option<u64>> = vec![None; bodies.len()];
    // A function the range analysis did not reach keeps its checkpoint.
    let may_have_short_loop = |i: usize| accesses.get(i).is_none_or(|a| !a.short_loops.is_empty());
    let mut changed = true;
    while changed {
        changed = false;
        for (i, body) in bodies.iter().enumerate() {
            if bounds[i].is_some() || !body.plain || may_have_short_loop(i) {
                continue;
            }
            let callees: Option<u64> = body.call_sites.iter().try_fold(0u64, |sum, &c| {
                let callee = bounds.get((c - imported) as usize).copied().flatten()?;
                Some(sum.saturating_add(callee))
            });
            if let Some(bound) = callees.map(|c| c.saturating_add(body.operators)) {
                if bound <= SMALL_FUNCTION_BUDGET {
                    bounds[i] = Some(bound);
                    changed = true;
                }
            }
        }
    }
    bounds
}
