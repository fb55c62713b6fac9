//! DynamoDB's number type: a decimal with at most 38 significant digits and a magnitude between
//! 1E-130 and 9.9999999999999999999999999999999999999E+125, or zero.
//!
//! Written by hand rather than taken from a decimal crate: the common ones hold 28 digits (too few)
//! or are arbitrary-precision (no bound to enforce, and heavier than needed). A value here is a sign,
//! a coefficient of at most 38 digits (fits in a `u128`) without trailing zeros, and a decimal
//! exponent, so every number has exactly one representation: equality is structural and `Display`
//! is canonical. Arithmetic is exact; a result that needs more than 38 digits or leaves the range
//! is an error, as in DynamoDB.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Most significant digits a number may have.
pub const MAX_DIGITS: usize = 38;
/// Largest decimal exponent (scientific notation) of a nonzero number.
pub const MAX_EXPONENT: i32 = 125;
/// Smallest decimal exponent (scientific notation) of a nonzero number.
pub const MIN_EXPONENT: i32 = -130;

const MSG_OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
const MSG_UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";
const MSG_DIGITS: &str = "Attempting to store more than 38 significant digits in a Number";

/// A DynamoDB number, always in canonical form.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Number {
    negative: bool,
    /// Coefficient without trailing zeros; zero only for the number zero.
    coeff: u128,
    /// Value = coeff * 10^exp. Zero for the number zero.
    exp: i32,
}

impl Number {
    /// The number zero.
    pub const ZERO: Number = Number {
        negative: false,
        coeff: 0,
        exp: 0,
    };

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.coeff == 0
    }

    /// Whether this is less than zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Count of significant digits (0 for zero).
    pub fn significant_digits(&self) -> usize {
        digit_count(self.coeff)
    }

    /// The decimal exponent in scientific notation: `d.ddd × 10^e`. Zero for zero.
    pub fn scientific_exponent(&self) -> i32 {
        if self.coeff == 0 {
            0
        } else {
            self.exp + self.significant_digits() as i32 - 1
        }
    }

    /// The significant digits as ASCII (`"0"` for zero), most significant first.
    pub fn digits(&self) -> String {
        self.coeff.to_string()
    }

    /// Builds a number from sign, significant digits and scientific exponent, checking the limits.
    /// `digits` is ASCII decimal, may carry leading and trailing zeros.
    pub(crate) fn from_parts(negative: bool, digits: &[u8], sci_exp: i64) -> Result<Number> {
        let first = digits.iter().position(|&d| d != b'0');
        let Some(first) = first else {
            return Ok(Number::ZERO);
        };
        let last = digits.iter().rposition(|&d| d != b'0').unwrap_or(first);
        let sig = &digits[first..=last];
        // The exponent of the first significant digit.
        let sci = sci_exp - first as i64;
        if sci > MAX_EXPONENT as i64 {
            return Err(Error::validation(MSG_OVERFLOW));
        }
        if sci < MIN_EXPONENT as i64 {
            return Err(Error::validation(MSG_UNDERFLOW));
        }
        if sig.len() > MAX_DIGITS {
            return Err(Error::validation(MSG_DIGITS));
        }
        let mut coeff: u128 = 0;
        for &d in sig {
            coeff = coeff * 10 + u128::from(d - b'0');
        }
        let exp = sci as i32 - (sig.len() as i32 - 1);
        Ok(Number {
            negative,
            coeff,
            exp,
        })
    }

    /// Parses DynamoDB's number syntax: `[+-]digits[.digits][(e|E)[+-]digits]`, either side of the
    /// point may be empty but not both; no spaces, no `NaN` or `Infinity`.
    pub fn parse(text: &str) -> Result<Number> {
        let invalid = || {
            if text.is_empty() {
                Error::validation("The parameter cannot be converted to a numeric value")
            } else {
                Error::validation(format!(
                    "The parameter cannot be converted to a numeric value: {text}"
                ))
            }
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first()
            && (c == b'+' || c == b'-')
        {
            negative = c == b'-';
            i = 1;
        }
        let mut digits = Vec::with_capacity(bytes.len());
        let mut int_len: i64 = 0;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i]);
            int_len += 1;
            i += 1;
        }
        let mut frac_len = 0;
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                digits.push(bytes[i]);
                frac_len += 1;
                i += 1;
            }
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_negative = false;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                exp_negative = bytes[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                // Saturate: any exponent this large is out of range anyway (or the number is 0).
                exponent = (exponent * 10 + i64::from(bytes[i] - b'0')).min(1 << 40);
                i += 1;
            }
            if i == start {
                return Err(invalid());
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(invalid());
        }
        // The first digit sits at 10^(int_len - 1).
        let n = Number::from_parts(negative, &digits, int_len - 1 + exponent)?;
        Ok(n)
    }

    /// `self + other`, exact; an error when the result needs more than 38 digits or leaves the
    /// supported range (DynamoDB reports both as a number overflow).
    pub fn checked_add(&self, other: &Number) -> Result<Number> {
        if other.is_zero() {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Ok(other.clone());
        }
        let low = self.exp.min(other.exp);
        let high = self.exp.max(other.exp);
        if (high - low) as usize > MAX_DIGITS {
            // The lowest digit of the finer operand survives and the coarser one reaches at least
            // 39 places above it: not representable.
            return Err(Error::validation(MSG_OVERFLOW));
        }
        let a = shifted_digits(self.coeff, (self.exp - low) as usize);
        let b = shifted_digits(other.coeff, (other.exp - low) as usize);
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, add_digits(&a, &b))
        } else {
            match cmp_digits(&a, &b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (self.negative, sub_digits(&a, &b)),
                Ordering::Less => (other.negative, sub_digits(&b, &a)),
            }
        };
        // `magnitude` is little-endian; turn it into ASCII big-endian for from_parts.
        let ascii: Vec<u8> = magnitude.iter().rev().map(|d| d + b'0').collect();
        let sci = low as i64 + ascii.len() as i64 - 1;
        Number::from_parts(negative, &ascii, sci).map_err(|e| match e {
            // DynamoDB reports imprecise sums as an overflow too.
            Error::Validation(m) if m == MSG_DIGITS => Error::validation(MSG_OVERFLOW),
            other => other,
        })
    }

    /// `self - other`, with the rules of [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number> {
        self.checked_add(&other.negated())
    }

    /// `-self`.
    pub fn negated(&self) -> Number {
        if self.is_zero() {
            return Number::ZERO;
        }
        Number {
            negative: !self.negative,
            ..self.clone()
        }
    }

    /// The value as `f64` (nearest), for diagnostics and tests only.
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Raw parts for the encoders: sign, coefficient (no trailing zeros) and exponent.
    pub(crate) fn raw(&self) -> (bool, u128, i32) {
        (self.negative, self.coeff, self.exp)
    }

    /// The inverse of [`Number::raw`], validating the invariants (for decoders of stored bytes).
    pub(crate) fn from_raw(negative: bool, coeff: u128, exp: i32) -> Option<Number> {
        if coeff == 0 {
            return (!negative && exp == 0).then_some(Number::ZERO);
        }
        let n = Number {
            negative,
            coeff,
            exp,
        };
        let sci = n.scientific_exponent();
        let ok = !coeff.is_multiple_of(10)
            && digit_count(coeff) <= MAX_DIGITS
            && (MIN_EXPONENT..=MAX_EXPONENT).contains(&sci);
        ok.then_some(n)
    }
}

fn digit_count(mut v: u128) -> usize {
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

/// Little-endian decimal digits of `coeff * 10^shift`.
fn shifted_digits(mut coeff: u128, shift: usize) -> Vec<u8> {
    let mut out = vec![0u8; shift];
    while coeff > 0 {
        out.push((coeff % 10) as u8);
        coeff /= 10;
    }
    out
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    for i in 0..a.len().max(b.len()) {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &da) in a.iter().enumerate() {
        let mut d = da as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    while out.len() > 1 && out.last() == Some(&0) {
        out.pop();
    }
    out
}

fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |x: &[u8]| x.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1);
    let (la, lb) = (trim(a), trim(b));
    la.cmp(&lb)
        .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
}

impl FromStr for Number {
    type Err = Error;
    fn from_str(s: &str) -> Result<Number> {
        Number::parse(s)
    }
}

impl fmt::Display for Number {
    /// Plain notation (never an exponent), as DynamoDB returns numbers: `100`, `0.001`, `-1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.coeff == 0 {
            return f.write_str("0");
        }
        let digits = self.coeff.to_string();
        let mut out = String::with_capacity(digits.len() + 140);
        if self.negative {
            out.push('-');
        }
        if self.exp >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let frac = (-self.exp) as usize;
            if frac >= digits.len() {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', frac - digits.len()));
                out.push_str(&digits);
            } else {
                let (int, rest) = digits.split_at(digits.len() - frac);
                out.push_str(int);
                out.push('.');
                out.push_str(rest);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let magnitude = self
            .scientific_exponent()
            .cmp(&other.scientific_exponent())
            .then_with(|| {
                // Same exponent: compare coefficients aligned to 38 digits.
                let align =
                    |n: &Number| n.coeff * 10u128.pow((MAX_DIGITS - n.significant_digits()) as u32);
                align(self).cmp(&align(other))
            });
        if sa < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        let digits = v.unsigned_abs().to_string();
        // An i64 has at most 19 digits: always representable.
        Number::from_parts(v < 0, digits.as_bytes(), digits.len() as i64 - 1).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn canonical_forms() {
        for (input, out) in [
            ("1.50", "1.5"),
            ("1E+2", "100"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("0e1000", "0"),
            ("+3", "3"),
            (".123", "0.123"),
            ("5.", "5"),
            ("0001.23", "1.23"),
            ("1e-5", "0.00001"),
            ("-17.4E37", "-174000000000000000000000000000000000000"),
            ("123.456", "123.456"),
            ("1e-130", &format!("0.{}1", "0".repeat(129))),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for s in [
            "NaN",
            "Infinity",
            "-Infinity",
            "dog",
            " 1",
            "1 ",
            "",
            ".",
            "1e",
            "1e+",
            "--1",
            "1.2.3",
            "0x10",
        ] {
            let err = Number::parse(s).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("The parameter cannot be converted to a numeric value"),
                "{s}"
            );
        }
        assert_eq!(
            Number::parse("abc").unwrap_err().to_string(),
            "The parameter cannot be converted to a numeric value: abc"
        );
    }

    #[test]
    fn limits() {
        for (text, msg) in [
            ("1e126", MSG_OVERFLOW),
            ("-1e126", MSG_OVERFLOW),
            ("1e-131", MSG_UNDERFLOW),
            ("-1e-131", MSG_UNDERFLOW),
            ("123456789012345678901234567890123456789", MSG_DIGITS),
            ("-1.23456789012345678901234567890123456789", MSG_DIGITS),
        ] {
            assert_eq!(Number::parse(text).unwrap_err().to_string(), msg, "{text}");
        }
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
        assert!(Number::parse("12345678901234567890123456789012345678000000").is_ok());
        assert!(Number::parse("1e99999999999999999999999").is_err());
    }

    #[test]
    fn arithmetic() {
        assert_eq!(
            n("1").checked_add(&n("10000000000000000000000")).unwrap(),
            n("10000000000000000000001")
        );
        assert_eq!(
            n("10000000000000000000000").checked_sub(&n("1")).unwrap(),
            n("9999999999999999999999")
        );
        assert_eq!(n("9e125").checked_add(&n("9e124")).unwrap(), n("9.9e125"));
        assert_eq!(
            n("9e125").checked_add(&n("9e125")).unwrap_err().to_string(),
            MSG_OVERFLOW
        );
        assert_eq!(
            n("9e125")
                .checked_sub(&n("-9e125"))
                .unwrap_err()
                .to_string(),
            MSG_OVERFLOW
        );
        assert_eq!(
            n("1e50").checked_add(&n("1")).unwrap_err().to_string(),
            MSG_OVERFLOW
        );
        assert_eq!(
            n("1e50").checked_sub(&n("1")).unwrap_err().to_string(),
            MSG_OVERFLOW
        );
        assert_eq!(n("1.5").checked_sub(&n("1.5")).unwrap(), Number::ZERO);
        assert_eq!(n("0.1").checked_add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("-5").checked_add(&n("3")).unwrap(), n("-2"));
        assert_eq!(
            n("1e-130")
                .checked_sub(&n("1.1e-130"))
                .unwrap_err()
                .to_string(),
            MSG_UNDERFLOW
        );
    }

    #[test]
    fn ordering() {
        let sorted = [
            "-1e125", "-100", "-1.5", "-1e-130", "0", "1e-130", "0.5", "1", "1.01", "10", "9.9e125",
        ];
        for w in sorted.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("100"), n("1e2"));
    }

    /// Compares two plain decimal strings (as `Display` writes them) digit by digit.
    fn reference_cmp(a: &str, b: &str) -> Ordering {
        let split = |s: &str| {
            let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            (neg, int.to_owned(), frac.to_owned())
        };
        let magnitude = |(_, ia, fa): &(bool, String, String),
                         (_, ib, fb): &(bool, String, String)| {
            let width = fa.len().max(fb.len());
            ia.len()
                .cmp(&ib.len())
                .then_with(|| ia.cmp(ib))
                .then_with(|| format!("{fa:0<width$}").cmp(&format!("{fb:0<width$}")))
        };
        let (x, y) = (split(a), split(b));
        match (x.0, y.0) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(&x, &y),
            (true, true) => magnitude(&y, &x),
        }
    }

    fn small_decimal() -> impl Strategy<Value = (i64, u32)> {
        (-10_000_000_000i64..10_000_000_000, 0u32..8)
    }

    fn any_number() -> impl Strategy<Value = Number> {
        (any::<bool>(), 1u128..10u128.pow(38), -150i32..150).prop_filter_map(
            "in range",
            |(neg, c, e)| {
                let digits = c.to_string();
                Number::from_parts(neg, digits.as_bytes(), e as i64).ok()
            },
        )
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(x in any_number()) {
            let text = x.to_string();
            prop_assert_eq!(Number::parse(&text).unwrap(), x);
        }

        #[test]
        fn order_matches_f64_on_small_values((a, sa) in small_decimal(), (b, sb) in small_decimal()) {
            let x = Number::parse(&format!("{a}e-{sa}")).unwrap();
            let y = Number::parse(&format!("{b}e-{sb}")).unwrap();
            // Exact in i128 after scaling both to 8 decimal places.
            let xi = i128::from(a) * 10i128.pow(8 - sa);
            let yi = i128::from(b) * 10i128.pow(8 - sb);
            prop_assert_eq!(x.cmp(&y), xi.cmp(&yi));
            let sum = x.checked_add(&y).unwrap();
            let expect = Number::parse(&format!("{}e-8", xi + yi)).unwrap();
            prop_assert_eq!(sum, expect);
        }

        #[test]
        fn order_matches_plain_decimal_reference(x in any_number(), y in any_number()) {
            prop_assert_eq!(x.cmp(&y), reference_cmp(&x.to_string(), &y.to_string()));
        }

        #[test]
        fn add_then_sub_is_identity(x in any_number(), y in any_number()) {
            if let Ok(s) = x.checked_add(&y) {
                prop_assert_eq!(s.checked_sub(&y).unwrap(), x.clone());
            }
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            prop_assert_eq!(x.negated().cmp(&y.negated()), y.cmp(&x));
        }
    }
}
