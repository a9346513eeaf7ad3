//! Lowering of the numeric operators that need more than one CLIF
//! instruction: guarded division and remainder, trapping float-to-int
//! conversions, comparisons and sign extension.
//!
//! Division: Cranelift lowers `sdiv/udiv/srem/urem` with a non-constant
//! divisor to x86 `div`/`idiv`, which raises #DE on a zero divisor or
//! `INT_MIN / -1` — an oops in the kernel. Every division is therefore
//! preceded by explicit checks that branch to our trap blocks (and signed
//! division gives a divisor of -1 a path of its own), and
//! `FuncTranslator::guarded_divs` counts them so the link step can check
//! that each Cranelift trap record is accounted for. The machine-code
//! checker (`check`) then proves from the branches alone that no division
//! instruction can see a zero (or, signed, -1) divisor and that no `ud2`
//! Cranelift left can be reached.

use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    types, BlockArg, InstBuilder, Opcode, Type, Value, ValueDef,
};

use super::FuncTranslator;
use crate::abi::Trap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DivOp {
    DivS,
    DivU,
    RemS,
    RemU,
}

impl FuncTranslator<'_, '_> {
    pub fn guarded_div(&mut self, op: DivOp, lhs: Value, rhs: Value) -> Value {
        let ty = self.b.func.dfg.value_type(rhs);
        let rhs = self.divisor_barrier(rhs);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, rhs, 0);
        self.trap_if(zero, Trap::IntDivByZero);
        self.guarded_divs += 1;
        match op {
            DivOp::DivS => self.signed_div(lhs, rhs, ty),
            DivOp::DivU => self.b.ins().udiv(lhs, rhs),
            // Cranelift's own srem sequence gives x % -1 = 0 without
            // dividing; the machine-code checker proves idiv never sees -1.
            DivOp::RemS => self.b.ins().srem(lhs, rhs),
            DivOp::RemU => self.b.ins().urem(lhs, rhs),
        }
    }

    /// The divisor, hidden from the mid-end unless it is a constant. The
    /// mid-end rewrites a test of a computed value into a test of what it
    /// was computed from (`ctz x == 0` into `x & 1 != 0`, `clz y == 0` into
    /// `y < 0`, a comparison's result into the comparison itself), also
    /// after it has replaced a block parameter by its one incoming value;
    /// the machine-code checker learns only from tests of the register the
    /// division reads, so it could then not prove the division (or
    /// Cranelift's own zero check before `ud2`/`udf`) guarded.
    /// `uadd_overflow(rhs, 0)` has two results, and the mid-end leaves such
    /// instructions alone, so the zero and -1 tests stay on its result. The
    /// price is an `add reg, 0` and an unused `setb` (`adds`, `cset` on
    /// aarch64) next to a division of tens of cycles; constant divisors
    /// keep their strength reduction.
    fn divisor_barrier(&mut self, rhs: Value) -> Value {
        let dfg = &self.b.func.dfg;
        if let ValueDef::Result(def, _) = dfg.value_def(rhs) {
            if dfg.insts[def].opcode() == Opcode::Iconst {
                return rhs;
            }
        }
        let ty = dfg.value_type(rhs);
        let zero = self.b.ins().iconst(ty, 0);
        self.b.ins().uadd_overflow(rhs, zero).0
    }

    /// `lhs / rhs` for a nonzero `rhs`. A divisor of -1 takes its own path
    /// (negation, and the overflow trap for INT_MIN), so the machine
    /// division only ever sees divisors other than 0 and -1: a fact the
    /// machine-code checker can follow from the branches alone.
    fn signed_div(&mut self, lhs: Value, rhs: Value, ty: Type) -> Value {
        let min = if ty == types::I32 { i64::from(i32::MIN) } else { i64::MIN };
        let by_neg1 = self.b.create_block();
        let divide = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, ty);
        let neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, rhs, -1);
        self.b.ins().brif(neg1, by_neg1, &[], divide, &[]);
        self.b.seal_block(by_neg1);
        self.b.seal_block(divide);

        self.b.switch_to_block(by_neg1);
        let lhs_min = self.b.ins().icmp_imm_s(IntCC::Equal, lhs, min);
        self.trap_if(lhs_min, Trap::IntOverflow);
        let negated = self.b.ins().ineg(lhs);
        self.b.ins().jump(join, &[BlockArg::Value(negated)]);

        self.b.switch_to_block(divide);
        let quotient = self.b.ins().sdiv(lhs, rhs);
        self.b.ins().jump(join, &[BlockArg::Value(quotient)]);

        self.b.switch_to_block(join);
        self.b.seal_block(join);
        result
    }

    /// Trapping `iNN.trunc_fMM_{s,u}`: NaN traps with "invalid conversion to
    /// integer", out-of-range values with "integer overflow"; in-range values
    /// go through the saturating (non-trapping) instruction.
    pub fn trapping_trunc(&mut self, x: Value, to: Type, signed: bool) -> Value {
        let from = self.b.func.dfg.value_type(x);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, Trap::BadConversion);
        let (lo, hi) = trunc_bounds(from, to, signed);
        let lo = self.fconst(from, lo);
        let hi = self.fconst(from, hi);
        // In range iff lo < x < hi (both bounds exclusive, chosen below).
        let too_low = self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, lo);
        let too_high = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, hi);
        let out = self.b.ins().bor(too_low, too_high);
        self.trap_if(out, Trap::IntOverflow);
        self.saturating_trunc(x, to, signed)
    }

    pub fn saturating_trunc(&mut self, x: Value, to: Type, signed: bool) -> Value {
        if signed {
            self.b.ins().fcvt_to_sint_sat(to, x)
        } else {
            self.b.ins().fcvt_to_uint_sat(to, x)
        }
    }

    fn fconst(&mut self, ty: Type, v: f64) -> Value {
        if ty == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }

    /// An integer comparison as a wasm i32 (0 or 1).
    pub fn icmp(&mut self, cc: IntCC, a: Value, b: Value) -> Value {
        let c = self.b.ins().icmp(cc, a, b);
        self.b.ins().uextend(types::I32, c)
    }

    pub fn fcmp(&mut self, cc: FloatCC, a: Value, b: Value) -> Value {
        let c = self.b.ins().fcmp(cc, a, b);
        self.b.ins().uextend(types::I32, c)
    }

    pub fn eqz(&mut self, a: Value) -> Value {
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
        self.b.ins().uextend(types::I32, c)
    }

    /// `iNN.extendK_s`: sign-extend the low `bits` bits.
    pub fn sign_extend_low(&mut self, a: Value, bits: u32) -> Value {
        let ty = self.b.func.dfg.value_type(a);
        let narrow = Type::int(bits as u16).expect("valid int width");
        let low = self.b.ins().ireduce(narrow, a);
        self.b.ins().sextend(ty, low)
    }
}

/// Exclusive bounds (lo, hi) such that every float strictly between them
/// truncates to a value representable in `to`. Each bound is exactly
/// representable in `from`.
fn trunc_bounds(from: Type, to: Type, signed: bool) -> (f64, f64) {
    let bits = to.bits() as i32;
    if !signed {
        return (-1.0, 2f64.powi(bits));
    }
    let min = -(2f64.powi(bits - 1));
    let hi = 2f64.powi(bits - 1);
    // The largest float below `min` that still truncates into range is
    // min - 1 when it is representable (f64 for i32); otherwise `min` itself
    // is the smallest valid value, so the exclusive bound is the next float
    // down.
    let lo = if from == types::F64 && bits == 32 {
        min - 1.0
    } else if from == types::F32 {
        next_down_f32(min as f32) as f64
    } else {
        next_down_f64(min)
    };
    (lo, hi)
}

fn next_down_f32(x: f32) -> f32 {
    // x is a negative power of two: the next float down has a larger magnitude.
    f32::from_bits(x.to_bits() + 1)
}

fn next_down_f64(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_admit_exactly_the_representable_range() {
        let (lo, hi) = trunc_bounds(types::F32, types::I32, true);
        assert!((lo as f32) < -2147483648.0f32 && hi == 2147483648.0);
        let (lo, _) = trunc_bounds(types::F64, types::I32, true);
        assert_eq!(lo, -2147483649.0);
        let (lo, hi) = trunc_bounds(types::F64, types::I64, false);
        assert_eq!((lo, hi), (-1.0, 18446744073709551616.0));
        let (lo, _) = trunc_bounds(types::F64, types::I64, true);
        assert!(lo < -9223372036854775808.0);
    }
}
