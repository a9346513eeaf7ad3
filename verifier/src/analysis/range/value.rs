//! The abstract value of the range analysis: an integer known to lie in an
//! unsigned interval and in a signed interval, for a 32- or 64-bit Wasm
//! integer. Operations over-approximate Wasm semantics: whenever a result
//! might wrap around, the interval becomes the whole type.
//!
//! Values don't record their width; every operation takes it and first
//! clamps its inputs to it ([`Val::norm`]), so a value that was widened
//! past the type's range is read as "any value of the type".

/// Width of a Wasm integer, in bits (32 or 64).
pub type Width = u32;

/// An integer in `u.0..=u.1` read as unsigned and in `s.0..=s.1` read as
/// signed (both of the same width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Val {
    pub u: (u64, u64),
    pub s: (i64, i64),
}

fn umax(w: Width) -> u64 {
    if w == 32 {
        u64::from(u32::MAX)
    } else {
        u64::MAX
    }
}

fn smin(w: Width) -> i64 {
    if w == 32 {
        i64::from(i32::MIN)
    } else {
        i64::MIN
    }
}

fn smax(w: Width) -> i64 {
    if w == 32 {
        i64::from(i32::MAX)
    } else {
        i64::MAX
    }
}

/// 2^w, for moving between the signed and unsigned readings.
fn modulus(w: Width) -> i128 {
    1i128 << w
}

impl Val {
    /// Anything, whatever the width.
    pub const TOP: Val = Val {
        u: (0, u64::MAX),
        s: (i64::MIN, i64::MAX),
    };

    pub fn top(w: Width) -> Val {
        Val {
            u: (0, umax(w)),
            s: (smin(w), smax(w)),
        }
    }

    /// The constant with bit pattern `bits` (low `w` bits).
    pub fn exact(bits: u64, w: Width) -> Val {
        let u = bits & umax(w);
        let s = if w == 32 {
            i64::from(u as u32 as i32)
        } else {
            u as i64
        };
        Val {
            u: (u, u),
            s: (s, s),
        }
    }

    /// An unsigned range (`lo <= hi <= umax(w)`).
    pub fn unsigned(lo: u64, hi: u64, w: Width) -> Val {
        Val::top(w).meet_u(lo, hi, w).unwrap_or(Val::top(w))
    }

    /// A signed range (`smin(w) <= lo <= hi <= smax(w)`).
    pub fn signed(lo: i64, hi: i64, w: Width) -> Val {
        Val::top(w).meet_s(lo, hi, w).unwrap_or(Val::top(w))
    }

    /// The constant, if the value is one.
    pub fn constant(self, w: Width) -> Option<u64> {
        let v = self.norm(w);
        (v.u.0 == v.u.1).then_some(v.u.0)
    }

    /// The value clamped to the type's range, with each reading narrowed
    /// by the other. Real values of the type always lie in the type's
    /// range, so clamping loses nothing.
    pub fn norm(self, w: Width) -> Val {
        let u = (self.u.0, self.u.1.min(umax(w)));
        let s = (self.s.0.max(smin(w)), self.s.1.min(smax(w)));
        if u.0 > u.1 || s.0 > s.1 {
            return Val::top(w);
        }
        Val { u, s }.reduce(w).unwrap_or(Val::top(w))
    }

    /// Narrows each reading by the other; `None` if they contradict (no
    /// value has both).
    fn reduce(self, w: Width) -> Option<Val> {
        let mut v = self;
        let m = modulus(w);
        // Signed interval on one side of zero: an unsigned interval.
        let (slo, shi) = (i128::from(v.s.0), i128::from(v.s.1));
        let from_s = if slo >= 0 {
            Some((slo, shi))
        } else if shi < 0 {
            Some((slo + m, shi + m))
        } else {
            None
        };
        if let Some((lo, hi)) = from_s {
            let lo = (lo as u64).max(v.u.0);
            let hi = (hi as u64).min(v.u.1);
            if lo > hi {
                return None;
            }
            v.u = (lo, hi);
        }
        // Unsigned interval on one side of the sign bit: a signed one.
        let (ulo, uhi) = (i128::from(v.u.0), i128::from(v.u.1));
        let half = i128::from(smax(w));
        let from_u = if uhi <= half {
            Some((ulo, uhi))
        } else if ulo > half {
            Some((ulo - m, uhi - m))
        } else {
            None
        };
        if let Some((lo, hi)) = from_u {
            let lo = (lo as i64).max(v.s.0);
            let hi = (hi as i64).min(v.s.1);
            if lo > hi {
                return None;
            }
            v.s = (lo, hi);
        }
        Some(v)
    }

    /// Intersection with an unsigned range; `None` if empty.
    pub fn meet_u(self, lo: u64, hi: u64, w: Width) -> Option<Val> {
        let v = self.norm(w);
        let u = (v.u.0.max(lo), v.u.1.min(hi));
        if u.0 > u.1 {
            return None;
        }
        Val { u, ..v }.reduce(w)
    }

    /// Intersection with a signed range; `None` if empty.
    pub fn meet_s(self, lo: i64, hi: i64, w: Width) -> Option<Val> {
        let v = self.norm(w);
        let s = (v.s.0.max(lo), v.s.1.min(hi));
        if s.0 > s.1 {
            return None;
        }
        Val { s, ..v }.reduce(w)
    }

    /// Intersection; `None` if empty.
    pub fn meet(self, other: Val, w: Width) -> Option<Val> {
        let o = other.norm(w);
        self.meet_u(o.u.0, o.u.1, w)?.meet_s(o.s.0, o.s.1, w)
    }

    /// The smallest value holding both (no width: joins are per slot).
    pub fn join(self, other: Val) -> Val {
        Val {
            u: (self.u.0.min(other.u.0), self.u.1.max(other.u.1)),
            s: (self.s.0.min(other.s.0), self.s.1.max(other.s.1)),
        }
    }

    /// Whether every value of `self` is in `other`.
    pub fn within(self, other: Val) -> bool {
        other.u.0 <= self.u.0
            && self.u.1 <= other.u.1
            && other.s.0 <= self.s.0
            && self.s.1 <= other.s.1
    }

    /// The result of an operation whose exact result, without wrapping,
    /// lies in `u` (unsigned reading) and `s` (signed reading), each given
    /// in i128 so an overflow shows: a reading that leaves the type's
    /// range becomes the whole range.
    fn from_wide(u: Option<(i128, i128)>, s: Option<(i128, i128)>, w: Width) -> Val {
        let mut v = Val::top(w);
        if let Some((lo, hi)) = u {
            if lo >= 0 && hi <= i128::from(umax(w)) && lo <= hi {
                v.u = (lo as u64, hi as u64);
            }
        }
        if let Some((lo, hi)) = s {
            if lo >= i128::from(smin(w)) && hi <= i128::from(smax(w)) && lo <= hi {
                v.s = (lo as i64, hi as i64);
            }
        }
        v.reduce(w).unwrap_or(Val::top(w))
    }

    fn wide(self, w: Width) -> ((i128, i128), (i128, i128)) {
        let v = self.norm(w);
        (
            (i128::from(v.u.0), i128::from(v.u.1)),
            (i128::from(v.s.0), i128::from(v.s.1)),
        )
    }

    pub fn add(self, b: Val, w: Width) -> Val {
        let ((au, as_), (bu, bs)) = (self.wide(w), b.wide(w));
        Val::from_wide(
            Some((au.0 + bu.0, au.1 + bu.1)),
            Some((as_.0 + bs.0, as_.1 + bs.1)),
            w,
        )
    }

    pub fn sub(self, b: Val, w: Width) -> Val {
        let ((au, as_), (bu, bs)) = (self.wide(w), b.wide(w));
        Val::from_wide(
            Some((au.0 - bu.1, au.1 - bu.0)),
            Some((as_.0 - bs.1, as_.1 - bs.0)),
            w,
        )
    }

    pub fn mul(self, b: Val, w: Width) -> Val {
        let ((au, as_), (bu, bs)) = (self.wide(w), b.wide(w));
        // Two unsigned 64-bit factors may overflow even i128.
        let corners = |a: (i128, i128), b: (i128, i128)| {
            let p = [
                a.0.checked_mul(b.0)?,
                a.0.checked_mul(b.1)?,
                a.1.checked_mul(b.0)?,
                a.1.checked_mul(b.1)?,
            ];
            Some((*p.iter().min()?, *p.iter().max()?))
        };
        Val::from_wide(corners(au, bu), corners(as_, bs), w)
    }

    /// `a & b` is at most either operand (unsigned).
    pub fn and(self, b: Val, w: Width) -> Val {
        let (a, b) = (self.norm(w), b.norm(w));
        Val::unsigned(0, a.u.1.min(b.u.1), w)
    }

    /// `a | b` and `a ^ b` set no bit above the highest either may have.
    pub fn or_xor(self, b: Val, w: Width, is_or: bool) -> Val {
        let (a, b) = (self.norm(w), b.norm(w));
        let hi = a.u.1.max(b.u.1);
        let ceiling = if hi == 0 {
            0
        } else {
            u64::MAX >> hi.leading_zeros()
        };
        let lo = if is_or { a.u.0.max(b.u.0) } else { 0 };
        Val::unsigned(lo, ceiling.min(umax(w)), w)
    }

    /// Shift counts are taken mod `w`, so only a constant count helps.
    pub fn shl(self, count: Val, w: Width) -> Val {
        let Some(k) = count.constant(w) else {
            return Val::top(w);
        };
        let k = (k % u64::from(w)) as u32;
        let (au, _) = self.wide(w);
        Val::from_wide(Some((au.0 << k, au.1 << k)), None, w)
    }

    pub fn shr_u(self, count: Val, w: Width) -> Val {
        let a = self.norm(w);
        match count.constant(w) {
            Some(k) => {
                let k = (k % u64::from(w)) as u32;
                Val::unsigned(a.u.0 >> k, a.u.1 >> k, w)
            }
            None => Val::unsigned(0, a.u.1, w),
        }
    }

    pub fn shr_s(self, count: Val, w: Width) -> Val {
        let a = self.norm(w);
        match count.constant(w) {
            Some(k) => {
                let k = (k % u64::from(w)) as u32;
                Val::signed(a.s.0 >> k, a.s.1 >> k, w)
            }
            None => Val::top(w),
        }
    }

    /// `a rem_u b` is below `b` and at most `a` (it traps when `b` is 0).
    pub fn rem_u(self, b: Val, w: Width) -> Val {
        let (a, b) = (self.norm(w), b.norm(w));
        Val::unsigned(0, a.u.1.min(b.u.1.saturating_sub(1)), w)
    }

    /// `a div_u b` (it traps when `b` is 0).
    pub fn div_u(self, b: Val, w: Width) -> Val {
        let (a, b) = (self.norm(w), b.norm(w));
        Val::unsigned(a.u.0 / b.u.1.max(1), a.u.1 / b.u.0.max(1), w)
    }

    /// A value of type `from` reinterpreted after `wrap` or an extension
    /// into `to`: `unsigned` extensions keep the unsigned reading, signed
    /// ones the signed reading; a wrap keeps what fits.
    pub fn convert(self, from: Width, to: Width, signed: bool) -> Val {
        let v = self.norm(from);
        if to >= from {
            if signed {
                Val::signed(v.s.0, v.s.1, to)
            } else {
                Val::unsigned(v.u.0, v.u.1, to)
            }
        } else {
            let mut out = Val::top(to);
            if v.u.1 <= umax(to) {
                out.u = v.u;
            }
            if v.s.0 >= smin(to) && v.s.1 <= smax(to) {
                out.s = v.s;
            }
            out.reduce(to).unwrap_or(Val::top(to))
        }
    }
}

/// A comparison of two integers, as Wasm's relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    LtU,
    LtS,
    LeU,
    LeS,
    GtU,
    GtS,
    GeU,
    GeS,
}

impl Cmp {
    /// The comparison that holds exactly when `self` does not.
    pub fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtU => GeU,
            GeU => LtU,
            LeU => GtU,
            GtU => LeU,
            LtS => GeS,
            GeS => LtS,
            LeS => GtS,
            GtS => LeS,
        }
    }
}

/// The values `a` and `b` can have when `a cmp b` holds; `None` if it
/// never does.
pub fn refine(cmp: Cmp, a: Val, b: Val, w: Width) -> Option<(Val, Val)> {
    use Cmp::*;
    let (a, b) = (a.norm(w), b.norm(w));
    match cmp {
        Eq => {
            let both = a.meet(b, w)?;
            Some((both, both))
        }
        Ne => Some((drop_endpoint(a, b, w)?, drop_endpoint(b, a, w)?)),
        LtU => {
            let a2 = a.meet_u(0, b.u.1.checked_sub(1)?, w)?;
            let b2 = b.meet_u(a.u.0.checked_add(1)?, u64::MAX, w)?;
            Some((a2, b2))
        }
        LeU => Some((a.meet_u(0, b.u.1, w)?, b.meet_u(a.u.0, u64::MAX, w)?)),
        LtS => {
            let a2 = a.meet_s(i64::MIN, b.s.1.checked_sub(1)?, w)?;
            let b2 = b.meet_s(a.s.0.checked_add(1)?, i64::MAX, w)?;
            Some((a2, b2))
        }
        LeS => Some((a.meet_s(i64::MIN, b.s.1, w)?, b.meet_s(a.s.0, i64::MAX, w)?)),
        GtU | GeU | GtS | GeS => {
            let swapped = match cmp {
                GtU => LtU,
                GeU => LeU,
                GtS => LtS,
                _ => LeS,
            };
            let (b2, a2) = refine(swapped, b, a, w)?;
            Some((a2, b2))
        }
    }
}

/// `a` knowing it differs from `b`: only a constant `b` at an end of
/// `a`'s intervals tells anything.
fn drop_endpoint(a: Val, b: Val, w: Width) -> Option<Val> {
    let Some(c) = b.constant(w) else {
        return Some(a);
    };
    let mut v = a;
    if v.u == (c, c) {
        return None;
    }
    if v.u.0 == c {
        v = v.meet_u(c + 1, u64::MAX, w)?;
    } else if v.u.1 == c {
        v = v.meet_u(0, c - 1, w)?;
    }
    // At the type's signed limit the value would be exactly `b`, which
    // the unsigned test above has already excluded.
    let cs = b.norm(w).s.0;
    if v.s.0 == cs {
        v = v.meet_s(cs.checked_add(1)?, i64::MAX, w)?;
    } else if v.s.1 == cs {
        v = v.meet_s(i64::MIN, cs.checked_sub(1)?, w)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_that_may_wrap_is_top() {
        let a = Val::unsigned(0, u64::from(u32::MAX), 32);
        assert_eq!(a.add(Val::exact(1, 32), 32), Val::top(32));
        let b = Val::unsigned(10, 20, 32);
        assert_eq!(b.add(Val::exact(4, 32), 32).u, (14, 24));
    }

    #[test]
    fn signed_and_unsigned_readings_agree() {
        let minus_one = Val::exact(u64::from(u32::MAX), 32);
        assert_eq!(minus_one.s, (-1, -1));
        let v = Val::signed(-5, 5, 32);
        assert_eq!(v.u, (0, u64::from(u32::MAX)));
        let r = refine(Cmp::GeS, v, Val::exact(0, 32), 32).unwrap().0;
        assert_eq!(r.u, (0, 5));
    }

    #[test]
    fn lt_and_ne_refine() {
        let i = Val::unsigned(1, 100, 32);
        let (lt, _) = refine(Cmp::LtU, i, Val::exact(100, 32), 32).unwrap();
        assert_eq!(lt.u, (1, 99));
        let (ne, _) = refine(Cmp::Ne, i, Val::exact(100, 32), 32).unwrap();
        assert_eq!(ne.u, (1, 99));
        assert!(refine(Cmp::LtU, i, Val::exact(0, 32), 32).is_none());
    }

    #[test]
    fn wrap_keeps_only_what_fits() {
        let big = Val::unsigned(0, 1 << 40, 64);
        assert_eq!(big.convert(64, 32, false), Val::top(32));
        let small = Val::unsigned(3, 7, 64);
        assert_eq!(small.convert(64, 32, false).u, (3, 7));
        let neg = Val::signed(-1, -1, 32);
        assert_eq!(neg.convert(32, 64, false).u, (0xffff_ffff, 0xffff_ffff));
        assert_eq!(neg.convert(32, 64, true).u, (u64::MAX, u64::MAX));
    }
}
