//! Conversions between `.wast` constants and runtime values, and the spec's
//! result matching (exact bits for floats, `nan:canonical` and
//! `nan:arithmetic` patterns, reference kinds).
//!
//! Externref encoding: the runtime stores references as 64-bit values where 0
//! is null, so the script's `ref.extern N` is passed as
//! `Val::ExternRef(Some(N + 1))` and a returned `ExternRef(Some(v))` reads back
//! as `ref.extern (v - 1)`.

use kwo_loader::runtime::Val;
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

const F32_SIGN: u32 = 0x8000_0000;
const F32_CANON_NAN: u32 = 0x7fc0_0000;
const F64_SIGN: u64 = 0x8000_0000_0000_0000;
const F64_CANON_NAN: u64 = 0x7ff8_0000_0000_0000;

/// The runtime value for a script argument.
pub fn arg(a: &WastArg) -> Result<Val, String> {
    let WastArg::Core(core) = a else {
        return Err("component-model argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::RefNull(h) if is_abstract(h, AbstractHeapType::Func) => Val::FuncRef(None),
        WastArgCore::RefNull(h) if is_abstract(h, AbstractHeapType::Extern) => {
            Val::ExternRef(None)
        }
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(u64::from(*n) + 1)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

/// Whether `got` is what the script expects.
pub fn matches(got: &Val, want: &WastRet) -> bool {
    match want {
        WastRet::Core(core) => matches_core(got, core),
        _ => false,
    }
}

fn matches_core(got: &Val, want: &WastRetCore) -> bool {
    match (got, want) {
        (Val::I32(g), WastRetCore::I32(w)) => g == w,
        (Val::I64(g), WastRetCore::I64(w)) => g == w,
        (Val::F32(g), WastRetCore::F32(w)) => f32_matches(*g, w),
        (Val::F64(g), WastRetCore::F64(w)) => f64_matches(*g, w),
        (Val::FuncRef(g), WastRetCore::RefNull(h)) => {
            g.is_none() && h.as_ref().is_none_or(|h| is_abstract(h, AbstractHeapType::Func))
        }
        (Val::ExternRef(g), WastRetCore::RefNull(h)) => {
            g.is_none() && h.as_ref().is_none_or(|h| is_abstract(h, AbstractHeapType::Extern))
        }
        (Val::FuncRef(g), WastRetCore::RefFunc(_)) => g.is_some(),
        (Val::ExternRef(g), WastRetCore::RefExtern(None)) => g.is_some(),
        (Val::ExternRef(g), WastRetCore::RefExtern(Some(n))) => *g == Some(u64::from(*n) + 1),
        (_, WastRetCore::Either(alts)) => alts.iter().any(|w| matches_core(got, w)),
        _ => false,
    }
}

fn f32_matches(bits: u32, want: &NanPattern<wast::token::F32>) -> bool {
    match want {
        NanPattern::CanonicalNan => bits & !F32_SIGN == F32_CANON_NAN,
        NanPattern::ArithmeticNan => bits & F32_CANON_NAN == F32_CANON_NAN,
        NanPattern::Value(v) => bits == v.bits,
    }
}

fn f64_matches(bits: u64, want: &NanPattern<wast::token::F64>) -> bool {
    match want {
        NanPattern::CanonicalNan => bits & !F64_SIGN == F64_CANON_NAN,
        NanPattern::ArithmeticNan => bits & F64_CANON_NAN == F64_CANON_NAN,
        NanPattern::Value(v) => bits == v.bits,
    }
}

fn is_abstract(h: &HeapType, want: AbstractHeapType) -> bool {
    matches!(h, HeapType::Abstract { ty, .. } if *ty == want)
}

/// Whether an expected result is a reference (anything but a number).
pub fn is_ref(want: &WastRet) -> bool {
    matches!(want, WastRet::Core(c) if is_ref_core(c))
}

fn is_ref_core(c: &WastRetCore) -> bool {
    match c {
        WastRetCore::Either(alts) => alts.iter().any(is_ref_core),
        WastRetCore::I32(_)
        | WastRetCore::I64(_)
        | WastRetCore::F32(_)
        | WastRetCore::F64(_)
        | WastRetCore::V128(_) => false,
        _ => true,
    }
}

/// A short rendering of expected results for failure messages.
pub fn show_expected(want: &[WastRet]) -> String {
    let parts: Vec<String> = want
        .iter()
        .map(|w| match w {
            WastRet::Core(c) => show_core(c),
            _ => "<component value>".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn show_core(c: &WastRetCore) -> String {
    match c {
        WastRetCore::I32(v) => format!("I32({v})"),
        WastRetCore::I64(v) => format!("I64({v})"),
        WastRetCore::F32(NanPattern::Value(v)) => format!("F32({:#010x})", v.bits),
        WastRetCore::F64(NanPattern::Value(v)) => format!("F64({:#018x})", v.bits),
        other => format!("{other:?}"),
    }
}
