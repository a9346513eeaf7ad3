//! Value ranges for bounds-check elimination.
//!
//! An i32 memory index computed by masking, shifting, narrow loads or
//! arithmetic on constants has a largest possible value that follows from
//! the instructions alone, not from any branch. When that value plus the
//! access's offset and size fits in the memory's minimum size (memories
//! never shrink), the access can go unchecked and unguarded: even a
//! mispredicted path computes an index within the bound.
//!
//! The analysis walks the IR the translator has built so far, a few
//! instructions deep. It knows nothing about block parameters (loop
//! counters, values merged at joins), so loop indices are still checked.

use cranelift_codegen::ir::{InstructionData, Opcode, Value, ValueDef};

use super::FuncTranslator;

/// How many defining instructions the analysis follows from the index.
const DEPTH: u32 = 6;

const U32_MAX: u64 = u32::MAX as u64;

impl FuncTranslator<'_, '_> {
    /// The largest value the i32 `v`, read as unsigned, can take, when the
    /// instructions that computed it say.
    pub fn known_max(&self, v: Value) -> Option<u64> {
        self.max_at(v, DEPTH)
    }

    fn max_at(&self, v: Value, depth: u32) -> Option<u64> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, _) = dfg.value_def(v) else { return None };
        if depth == 0 {
            return None;
        }
        let operand = |i: usize| self.max_at(dfg.inst_args(inst)[i], depth - 1);
        let fits = |m: u64| (m <= U32_MAX).then_some(m);
        match dfg.insts[inst] {
            InstructionData::UnaryImm { opcode: Opcode::Iconst, imm } => Some(imm.bits() as u64 & U32_MAX),
            InstructionData::Load { opcode: Opcode::Uload8, .. } => Some(0xff),
            InstructionData::Load { opcode: Opcode::Uload16, .. } => Some(0xffff),
            InstructionData::Binary { opcode, .. } => match opcode {
                // x & y <= min(x, y); one known side is enough.
                Opcode::Band => match (operand(0), operand(1)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
                // Shift counts are taken mod 32, so only constant counts help.
                Opcode::Ushr => {
                    let k = self.const_shift(dfg.inst_args(inst)[1])?;
                    Some(operand(0).unwrap_or(U32_MAX) >> k)
                }
                Opcode::Ishl => fits(operand(0)? << self.const_shift(dfg.inst_args(inst)[1])?),
                Opcode::Iadd => fits(operand(0)? + operand(1)?),
                Opcode::Imul => fits(operand(0)?.checked_mul(operand(1)?)?),
                Opcode::Urem => Some(operand(1)?.saturating_sub(1).min(operand(0).unwrap_or(U32_MAX))),
                // x | y sets no bit above the highest bit of either.
                Opcode::Bor => Some(U32_MAX >> (operand(0)?.max(operand(1)?) as u32).leading_zeros()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The count of a shift by a constant, mod 32 as i32 shifts take it.
    fn const_shift(&self, v: Value) -> Option<u32> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, _) = dfg.value_def(v) else { return None };
        match dfg.insts[inst] {
            InstructionData::UnaryImm { opcode: Opcode::Iconst, imm } => Some((imm.bits() & 31) as u32),
            _ => None,
        }
    }
}
