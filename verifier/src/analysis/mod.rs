//! Analyses of a verified module that the compiler and loader rely on,
//! each in its own module. They run after validation, on valid code only.

mod call_graph;
mod range;

pub use call_graph::CallGraph;
pub(crate) use range::analyze as analyze_ranges;
pub use range::{AccessCounts, FuncAccesses, HoistedLoop, PointerRange, TripCount};
