//! Export-call arguments from the command line, shared by the `kwo` CLI's
//! userspace and kernel paths.

use crate::runtime::Val;
use kwo_format::ValType;

/// Parses one command-line argument as a value of a wasm type.
pub type ParseArg = fn(ValType, &str) -> Result<Val, String>;
/// Renders a result value for printing.
pub type ShowVal = fn(&Val) -> String;

/// The argument values of a call of export `name`, whose parameters are
/// `params`, from the command-line strings `raw`.
pub fn call_args(
    name: &str,
    params: &[ValType],
    raw: &[String],
    parse_arg: ParseArg,
) -> Result<Vec<Val>, String> {
    if params.len() != raw.len() {
        return Err(format!(
            "{name:?} takes {} arguments, {} given",
            params.len(),
            raw.len()
        ));
    }
    params
        .iter()
        .zip(raw)
        .map(|(&t, s)| parse_arg(t, s))
        .collect()
}
