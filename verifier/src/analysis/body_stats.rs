//! What a function body holds, for the verifier log (`kwo verify --log`):
//! how many instructions, its loops with their nesting, its calls (to
//! defined functions, to imports, indirect) and its loads and stores by
//! name.
//!
//! It is computed on demand from a verified module, proves nothing and is
//! not used by the compiler: the facts the compiler relies on are the call
//! graph and the range analysis.

use crate::module::VerifiedModule;
use std::ops::Range;
use wasmparser::{BinaryReaderError, FunctionBody, MemArg, Operator};

/// One `loop` of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopInfo {
    /// Byte offset of the `loop` operator in the module.
    pub offset: u32,
    /// Byte offset of its `end`.
    pub end: u32,
    /// 1 for a loop in no other loop, 2 inside one, ...
    pub depth: u32,
}

impl LoopInfo {
    /// Whether the operator at module byte offset `offset` is in the loop.
    pub fn contains(&self, offset: u32) -> bool {
        self.offset < offset && offset < self.end
    }
}

/// One load or store of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessOp {
    /// Byte offset of the operator in the module.
    pub offset: u32,
    /// Its name in the text format, e.g. `i32.load8_u`.
    pub name: &'static str,
    /// Its static offset (`offset=` in the text format).
    pub static_offset: u64,
}

/// What one defined function's body holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyStats {
    /// Operators, the final `end` included.
    pub instructions: u32,
    /// In the order of their `loop` operators.
    pub loops: Vec<LoopInfo>,
    /// Call sites of defined functions.
    pub direct_calls: u32,
    /// Call sites of imported (host) functions.
    pub import_calls: u32,
    /// `call_indirect` sites.
    pub indirect_calls: u32,
    /// Imported functions called, by function index, sorted.
    pub imports_used: Vec<u32>,
    /// Loads and stores (bulk-memory operations not included), in order.
    pub accesses: Vec<AccessOp>,
}

impl BodyStats {
    /// The body of defined function `func` (an index in the whole function
    /// index space, imports first); an error for an import or no function.
    pub fn of(module: &VerifiedModule, func: u32) -> Result<BodyStats, String> {
        let imported = module.num_imported_funcs();
        let body = func
            .checked_sub(imported)
            .and_then(|i| module.bodies.get(i as usize))
            .ok_or_else(|| format!("func {func} is not a defined function"))?;
        Self::read(module, body.range.clone(), imported).map_err(|e| e.to_string())
    }

    fn read(
        module: &VerifiedModule,
        range: Range<usize>,
        imported: u32,
    ) -> Result<BodyStats, BinaryReaderError> {
        let reader = FunctionBody::new(wasmparser::BinaryReader::new(
            &module.wasm[range.clone()],
            range.start,
        ));
        let mut stats = BodyStats::default();
        // Per open block: the index of its loop in `stats.loops`, if a loop.
        let mut open: Vec<Option<usize>> = Vec::new();
        let mut ops = reader.get_operators_reader()?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset()?;
            let offset = offset as u32;
            stats.instructions += 1;
            match op {
                Operator::Loop { .. } => {
                    let depth = open.iter().flatten().count() as u32 + 1;
                    open.push(Some(stats.loops.len()));
                    stats.loops.push(LoopInfo {
                        offset,
                        end: offset,
                        depth,
                    });
                }
                Operator::Block { .. } | Operator::If { .. } => open.push(None),
                Operator::End => {
                    if let Some(Some(i)) = open.pop() {
                        stats.loops[i].end = offset;
                    }
                }
                Operator::Call { function_index } if function_index < imported => {
                    stats.import_calls += 1;
                    stats.imports_used.push(function_index);
                }
                Operator::Call { .. } => stats.direct_calls += 1,
                Operator::CallIndirect { .. } => stats.indirect_calls += 1,
                ref other => {
                    if let Some((name, memarg)) = access_name(other) {
                        stats.accesses.push(AccessOp {
                            offset,
                            name,
                            static_offset: memarg.offset,
                        });
                    }
                }
            }
        }
        stats.imports_used.sort_unstable();
        stats.imports_used.dedup();
        Ok(stats)
    }

    /// The innermost loop holding the operator at module byte offset
    /// `offset`, if any.
    pub fn innermost_loop(&self, offset: u32) -> Option<&LoopInfo> {
        self.loops
            .iter()
            .filter(|l| l.contains(offset))
            .max_by_key(|l| l.depth)
    }
}

/// The text-format name and memory argument of a load or store (the
/// operators the range analysis counts as accesses).
fn access_name(op: &Operator<'_>) -> Option<(&'static str, MemArg)> {
    use Operator as O;
    Some(match *op {
        O::I32Load { memarg } => ("i32.load", memarg),
        O::I64Load { memarg } => ("i64.load", memarg),
        O::F32Load { memarg } => ("f32.load", memarg),
        O::F64Load { memarg } => ("f64.load", memarg),
        O::I32Load8S { memarg } => ("i32.load8_s", memarg),
        O::I32Load8U { memarg } => ("i32.load8_u", memarg),
        O::I32Load16S { memarg } => ("i32.load16_s", memarg),
        O::I32Load16U { memarg } => ("i32.load16_u", memarg),
        O::I64Load8S { memarg } => ("i64.load8_s", memarg),
        O::I64Load8U { memarg } => ("i64.load8_u", memarg),
        O::I64Load16S { memarg } => ("i64.load16_s", memarg),
        O::I64Load16U { memarg } => ("i64.load16_u", memarg),
        O::I64Load32S { memarg } => ("i64.load32_s", memarg),
        O::I64Load32U { memarg } => ("i64.load32_u", memarg),
        O::I32Store { memarg } => ("i32.store", memarg),
        O::I64Store { memarg } => ("i64.store", memarg),
        O::F32Store { memarg } => ("f32.store", memarg),
        O::F64Store { memarg } => ("f64.store", memarg),
        O::I32Store8 { memarg } => ("i32.store8", memarg),
        O::I32Store16 { memarg } => ("i32.store16", memarg),
        O::I64Store8 { memarg } => ("i64.store8", memarg),
        O::I64Store16 { memarg } => ("i64.store16", memarg),
        O::I64Store32 { memarg } => ("i64.store32", memarg),
        _ => return None,
    })
}
