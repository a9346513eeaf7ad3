//! Short loops: loops that need no checkpoint at their header, because
//! the number of times they go round per entry, times the size of their
//! body, is small (`docs/compiler.md`, "Checkpoints").
//!
//! A checkpoint at every loop header is what bounds the time between two
//! checkpoints (preemption, time budget, fuel). A loop with no loop
//! inside it, no call and no bulk-memory or table operation runs each
//! iteration in time bounded by its body's size; when the analysis also
//! bounds its header visits per entry by `K`, its whole run is bounded by
//! `K` times that size, and the loops and the function entry around it
//! keep their checkpoints. So when `K * body <= MAX_OPS_BETWEEN`, the
//! header checkpoint can go ([`LoopBound::Visits`]).
//!
//! When only a run-time trip count is known (a [`TripCount`] from the
//! locals on entry), the compiler versions the loop: a copy without the
//! header checkpoint runs when that trip count is at most
//! [`LoopBound::Trips`]'s cap, the original copy otherwise.
//!
//! What it does not do: loops with a loop inside (the outer one keeps
//! its checkpoint), loops that call (a callee may itself run without an
//! entry checkpoint, so its time would multiply with the trip count),
//! loops whose trip count is bounded neither statically nor by a
//! [`TripCount`]. Those keep their checkpoint.

use super::hoist::TripCount;
use super::Interp;
use wasmparser::Operator;

/// Largest number of Wasm operators run between two checkpoints on
/// account of a short loop: `K * body`. At a few nanoseconds per
/// operator, even with cache misses on most of them, that is well under
/// a millisecond (a tick is 1-10 ms).
pub const MAX_OPS_BETWEEN: u64 = 1 << 16;

/// Largest trip count a short loop may have, whatever its body.
pub const MAX_VISITS: u64 = 1 << 12;

/// Fewer allowed visits than this: not worth a second copy of the loop.
const MIN_USEFUL_VISITS: u64 = 4;

/// A loop whose header needs no checkpoint, always or when its run-time
/// trip count is small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLoop {
    /// Byte offset of the `loop` operator in the module.
    pub loop_offset: u32,
    pub bound: LoopBound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopBound {
    /// The header is visited at most this many times per entry into the
    /// loop, on every path: no checkpoint needed at all.
    Visits(u32),
    /// When `trip` gives at most `max_visits` header visits (its `last`
    /// below `max_visits`), no checkpoint is needed.
    Trips { trip: TripCount, max_visits: u32 },
}

impl Interp<'_> {
    /// Whether the loop at `pc` (ending at `end`) needs no header
    /// checkpoint: `visits` bounds its header visits per entry, computed
    /// from the closed pass, whose back edges were live when `iterates`;
    /// `trip` is its run-time trip count if it has one.
    pub(super) fn short_loop(
        &self,
        pc: usize,
        end: usize,
        iterates: bool,
        visits: Option<i128>,
        trip: Option<TripCount>,
    ) -> Option<ShortLoop> {
        let body = &self.ops[pc + 1..end];
        if body.iter().any(|(op, _)| needs_own_checkpoint(op)) {
            return None;
        }
        let size = body.len().max(1) as u64;
        let cap = (MAX_OPS_BETWEEN / size).min(MAX_VISITS);
        // No live back edge in the last pass: the body runs once.
        let visits = if iterates { visits } else { Some(1) };
        let bound = match (visits, trip) {
            (Some(k), _) if k >= 1 && k as u64 <= cap => LoopBound::Visits(k as u32),
            (_, Some(trip)) if cap >= MIN_USEFUL_VISITS => LoopBound::Trips { trip, max_visits: cap as u32 },
            _ => return None,
        };
        Some(ShortLoop { loop_offset: self.ops[pc].1 as u32, bound })
    }
}

/// Operators whose time is not bounded by a constant, or that may run
/// one that is not: inner loops, calls, bulk memory and table operations.
fn needs_own_checkpoint(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::Loop { .. }
            | O::Call { .. }
            | O::CallIndirect { .. }
            | O::CallRef { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
            | O::ReturnCallRef { .. }
            | O::MemoryCopy { .. }
            | O::MemoryFill { .. }
            | O::MemoryInit { .. }
            | O::MemoryGrow { .. }
            | O::TableCopy { .. }
            | O::TableFill { .. }
            | O::TableInit { .. }
            | O::TableGrow { .. }
    )
}
