//! Analyses of a verified module that the compiler and loader rely on,
//! each in its own module. They run after validation, on valid code only.

mod call_graph;

pub use call_graph::CallGraph;
