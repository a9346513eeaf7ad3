//! Folding of constant expressions (global initialisers, segment offsets,
//! element items) into a single value.
//!
//! Runs only on expressions the validator has accepted, so the operator set
//! is the one valid in constant expressions under kwo's feature set: the
//! `*.const`s, `ref.null`, `ref.func`, `global.get` of an immutable global
//! and the extended-const `i32/i64.add/sub/mul`. Arithmetic wraps, as in
//! WebAssembly. Anything else is reported as an error instead of panicking,
//! in case validation and folding ever disagree.

use crate::module::ConstValue;
use wasmparser::{ConstExpr, Operator};

/// Why an expression could not be folded, with the byte offset.
pub(crate) struct FoldError {
    pub offset: usize,
    pub message: String,
}

/// Folds `expr`. `globals` holds the value of every global in the index
/// space so far; `None` for a global whose value is not known before
/// instantiation (an import), which a constant expression then can't use.
pub(crate) fn fold(
    expr: &ConstExpr<'_>,
    globals: &[Option<ConstValue>],
) -> Result<ConstValue, FoldError> {
    let mut reader = expr.get_operators_reader();
    let mut stack: Vec<ConstValue> = Vec::new();
    loop {
        let offset = reader.original_position();
        let err = |message: String| FoldError { offset, message };
        let op = reader.read().map_err(|e| err(e.message().to_string()))?;
        let value = match op {
            Operator::End => break,
            Operator::I32Const { value } => ConstValue::I32(value),
            Operator::I64Const { value } => ConstValue::I64(value),
            Operator::F32Const { value } => ConstValue::F32(value.bits()),
            Operator::F64Const { value } => ConstValue::F64(value.bits()),
            Operator::RefNull { .. } => ConstValue::RefNull,
            Operator::RefFunc { function_index } => ConstValue::RefFunc(function_index),
            Operator::GlobalGet { global_index } => global(globals, global_index).map_err(err)?,
            op => {
                let (b, a) = (stack.pop(), stack.pop());
                binary(&op, a, b).map_err(err)?
            }
        };
        stack.push(value);
    }
    match stack.as_slice() {
        [value] => Ok(*value),
        _ => Err(FoldError {
            offset: reader.original_position(),
            message: format!("constant expression leaves {} values", stack.len()),
        }),
    }
}

fn global(globals: &[Option<ConstValue>], index: u32) -> Result<ConstValue, String> {
    match globals.get(index as usize) {
        Some(Some(value)) => Ok(*value),
        Some(None) => Err(format!(
            "constant expression reads global {index}, whose value is unknown (imported)"
        )),
        None => Err(format!("constant expression reads unknown global {index}")),
    }
}

/// Applies an extended-const arithmetic operator to `a op b`.
fn binary(
    op: &Operator<'_>,
    a: Option<ConstValue>,
    b: Option<ConstValue>,
) -> Result<ConstValue, String> {
    use ConstValue::{I32, I64};
    Ok(match (op, a, b) {
        (Operator::I32Add, Some(I32(a)), Some(I32(b))) => I32(a.wrapping_add(b)),
        (Operator::I32Sub, Some(I32(a)), Some(I32(b))) => I32(a.wrapping_sub(b)),
        (Operator::I32Mul, Some(I32(a)), Some(I32(b))) => I32(a.wrapping_mul(b)),
        (Operator::I64Add, Some(I64(a)), Some(I64(b))) => I64(a.wrapping_add(b)),
        (Operator::I64Sub, Some(I64(a)), Some(I64(b))) => I64(a.wrapping_sub(b)),
        (Operator::I64Mul, Some(I64(a)), Some(I64(b))) => I64(a.wrapping_mul(b)),
        (op, ..) => {
            return Err(format!(
                "operator {op:?} is not supported in a constant expression"
            ))
        }
    })
}
