//! Analyses of a verified module that the compiler and loader rely on,
//! each in its own module. They run after validation, on valid code only.

mod access_groups;
mod body_stats;
mod call_graph;
mod checkpoints;
mod range;

pub use access_groups::{FuncGroups, GroupEntry, SuffixGroup, MAX_MEMBERS};
pub use body_stats::{AccessOp, BodyStats, LoopInfo};
pub use call_graph::{CallGraph, StackDepth};
pub use checkpoints::{Checkpoints, SMALL_FUNCTION_BUDGET};
pub(crate) use range::analyze as analyze_ranges;
pub use range::{
    AccessCounts, FuncAccesses, HoistedLoop, IndexRange, LoopBound, PointerRange, ShortLoop, TripCount,
    TripTest,
    MAX_OPS_BETWEEN, MAX_VISITS,
};
