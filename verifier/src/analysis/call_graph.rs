//! The call graph of a verified module, and whether it has a cycle.
//!
//! A module whose call graph is acyclic has a worst-case native stack depth
//! that can be computed once its frame sizes are known (eBPF's rule for
//! BPF-to-BPF calls): the compiler then drops the per-function stack checks,
//! the machine-code checker measures the bound, and the loader checks it
//! once per call. Recursive modules keep a stack check in every function.
//!
//! `call_indirect` is resolved conservatively and without types: it may
//! reach every *address-taken* defined function, i.e. every function that
//! can become a funcref — those in element segments (declarative ones
//! included), in global initialisers, and exported ones (a body may take
//! `ref.func` of any of them). The machine-code checker resolves indirect
//! calls the same way, so the two agree on which modules are bounded.
//! Calls to imported (host) functions are not edges: host functions never
//! call back into Wasm, and their stack comes from the host reserve.

use crate::module::{ConstValue, ExportKind, VerifiedModule};
use wasmparser::{BinaryReaderError, FunctionBody, Operator};

/// Who calls whom among the defined functions. Indices are Wasm function
/// indices (imports first), as everywhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallGraph {
    /// Direct callees of each defined function (defined functions only,
    /// sorted, without duplicates), parallel to `VerifiedModule::funcs`.
    pub callees: Vec<Vec<u32>>,
    /// Whether each defined function contains a `call_indirect`.
    pub calls_indirect: Vec<bool>,
    /// Defined functions a `call_indirect` may reach, sorted.
    pub address_taken: Vec<u32>,
    /// A call cycle (first function repeated at the end), if there is one.
    pub cycle: Option<Vec<u32>>,
}

impl CallGraph {
    pub(crate) fn build(module: &VerifiedModule) -> Result<CallGraph, BinaryReaderError> {
        let imported = module.num_imported_funcs();
        let mut graph = CallGraph {
            address_taken: address_taken(module),
            ..CallGraph::default()
        };
        for body in &module.bodies {
            let bytes = &module.wasm[body.range.clone()];
            let reader = FunctionBody::new(wasmparser::BinaryReader::new(bytes, body.range.start));
            let mut ops = reader.get_operators_reader()?;
            let mut callees = Vec::new();
            let mut indirect = false;
            while !ops.eof() {
                match ops.read()? {
                    Operator::Call { function_index } if function_index >= imported => {
                        callees.push(function_index)
                    }
                    Operator::CallIndirect { .. } => indirect = true,
                    _ => {}
                }
            }
            callees.sort_unstable();
            callees.dedup();
            graph.callees.push(callees);
            graph.calls_indirect.push(indirect);
        }
        graph.cycle = graph.find_cycle(imported);
        Ok(graph)
    }

    /// Whether defined function `defined` (0 for the first non-import)
    /// calls no Wasm function, directly or indirectly: it needs no stack
    /// check of its own, since the check of whoever called it leaves room
    /// for one more frame and a host call (docs/abi.md, "Budgets").
    pub fn is_leaf(&self, defined: usize) -> bool {
        self.callees.get(defined).is_some_and(Vec::is_empty)
            && self.calls_indirect.get(defined) == Some(&false)
    }

    /// The stack each defined function may use, its callees' included,
    /// from `frames`, each defined function's own frame in bytes (measured
    /// on the machine code; parallel to `callees`): its frame plus the
    /// deepest chain of frames below it, as for the module's static bound.
    pub fn stack_depths(&self, frames: &[u64], imported: u32) -> Vec<StackDepth> {
        #[derive(Clone, Copy)]
        enum Mark {
            New,
            OnPath,
            Done(StackDepth),
        }
        let n = self.callees.len().min(frames.len());
        let mut mark = vec![Mark::New; n];
        let slot = |f: u32| (f - imported) as usize;
        for root in 0..n {
            if !matches!(mark[root], Mark::New) {
                continue;
            }
            let root = root as u32 + imported;
            mark[slot(root)] = Mark::OnPath;
            // (function, its successors not yet visited, deepest so far)
            let mut path = vec![(root, self.successors(root, imported).collect::<Vec<_>>(), Some(0u64))];
            while let Some((f, next, below)) = path.last_mut() {
                let Some(c) = next.pop() else {
                    let f = *f;
                    let depth = match *below {
                        Some(b) => StackDepth::Bounded(frames[slot(f)].saturating_add(b)),
                        None => StackDepth::Recursive,
                    };
                    mark[slot(f)] = Mark::Done(depth);
                    path.pop();
                    if let Some((_, _, parent_below)) = path.last_mut() {
                        *parent_below = deeper(*parent_below, depth);
                    }
                    continue;
                };
                match mark.get(slot(c)).copied() {
                    Some(Mark::New) => {
                        mark[slot(c)] = Mark::OnPath;
                        let succ = self.successors(c, imported).collect();
                        path.push((c, succ, Some(0)));
                    }
                    // An ancestor: `f` is on a call cycle.
                    Some(Mark::OnPath) => *below = None,
                    Some(Mark::Done(depth)) => *below = deeper(*below, depth),
                    None => {}
                }
            }
        }
        mark.into_iter()
            .map(|m| match m {
                Mark::Done(d) => d,
                _ => StackDepth::Recursive,
            })
            .collect()
    }

    /// Every defined function `func` may call (direct and indirect).
    fn successors(&self, func: u32, imported: u32) -> impl Iterator<Item = u32> + '_ {
        let i = (func - imported) as usize;
        let indirect: &[u32] = if self.calls_indirect[i] {
            &self.address_taken
        } else {
            &[]
        };
        self.callees[i].iter().chain(indirect).copied()
    }

    /// Depth-first search over every defined function for the first cycle
    /// met (a back edge). Iterative: call chains may be long.
    fn find_cycle(&self, imported: u32) -> Option<Vec<u32>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let n = self.callees.len();
        let mut mark = vec![Mark::New; n];
        for root in 0..n {
            if mark[root] != Mark::New {
                continue;
            }
            // (function, its successors not yet visited)
            let mut path: Vec<(u32, Vec<u32>)> = Vec::new();
            let root = root as u32 + imported;
            mark[(root - imported) as usize] = Mark::OnPath;
            path.push((root, self.successors(root, imported).collect()));
            while let Some((f, next)) = path.last_mut() {
                let f = *f;
                match next.pop() {
                    Some(c) => match mark[(c - imported) as usize] {
                        Mark::New => {
                            mark[(c - imported) as usize] = Mark::OnPath;
                            let succ = self.successors(c, imported).collect();
                            path.push((c, succ));
                        }
                        Mark::OnPath => {
                            let start = path.iter().position(|(g, _)| *g == c).unwrap_or(0);
                            let mut cycle: Vec<u32> =
                                path[start..].iter().map(|(g, _)| *g).collect();
                            cycle.push(c);
                            return Some(cycle);
                        }
                        Mark::Done => {}
                    },
                    None => {
                        mark[(f - imported) as usize] = Mark::Done;
                        path.pop();
                    }
                }
            }
        }
        None
    }
}

/// The stack a call of a function may use, its callees' included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackDepth {
    /// At most this many bytes.
    Bounded(u64),
    /// The function may reach a call cycle: no static bound.
    Recursive,
}

/// The deeper of the chain below a function so far (`None`: unbounded)
/// and a callee's depth.
fn deeper(below: Option<u64>, callee: StackDepth) -> Option<u64> {
    match (below, callee) {
        (Some(b), StackDepth::Bounded(d)) => Some(b.max(d)),
        _ => None,
    }
}

/// Defined functions that can become a funcref, sorted.
fn address_taken(module: &VerifiedModule) -> Vec<u32> {
    let imported = module.num_imported_funcs();
    let in_elems = module
        .elems
        .iter()
        .flat_map(|e| e.items.iter().flatten().copied());
    let in_globals = module.globals.iter().filter_map(|g| match g.init {
        ConstValue::RefFunc(f) => Some(f),
        _ => None,
    });
    let exported = module
        .exports
        .iter()
        .filter(|e| e.kind == ExportKind::Func)
        .map(|e| e.index);
    let mut funcs: Vec<u32> = in_elems
        .chain(in_globals)
        .chain(exported)
        .filter(|&f| f >= imported)
        .collect();
    funcs.sort_unstable();
    funcs.dedup();
    funcs
}
