//! Order-preserving, self-delimiting encoding of key attribute values, so that a Query is a range
//! scan over the store's byte-ordered keys.
//!
//! - `S` and `B`: the bytes (UTF-8 for strings), each `0x00` escaped as `0x00 0xFF`, then the
//!   terminator `0x00 0x01`. Byte order of encodings equals byte order of values, and a value sorts
//!   before every value it is a prefix of.
//! - `N`: a sign tag (`0x01` negative, `0x02` zero, `0x03` positive); for nonzero numbers the
//!   scientific exponent as one byte (`e + 130`, in 0..=255), then one byte per significant digit
//!   (`1 + d`) and the terminator `0x00`. Negative numbers invert the exponent byte and use
//!   `10 - d` per digit with the terminator `0xFF`, so larger magnitudes sort first.
//!
//! Every encoding is self-delimiting, so `encode(hash) ++ encode(range)` sorts by hash key and
//! then by range key: all items of one hash key are contiguous, and [`encode_key_value`] of the
//! hash key is the prefix to scan. The key schema fixes the types, so no type tag is written;
//! decoding takes the expected [`KeyType`].

use crate::error::{Error, Result};
use crate::number::{MIN_EXPONENT, Number};
use crate::value::AttributeValue;

/// The type of a key attribute, as declared in the table's attribute definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// The type of a value, if it may be a key.
    pub fn of(value: &AttributeValue) -> Option<KeyType> {
        match value {
            AttributeValue::S(_) => Some(KeyType::S),
            AttributeValue::N(_) => Some(KeyType::N),
            AttributeValue::B(_) => Some(KeyType::B),
            _ => None,
        }
    }

    /// `S`, `N` or `B`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

const NEG: u8 = 0x01;
const ZERO: u8 = 0x02;
const POS: u8 = 0x03;

/// Appends the encoding of one key value (`S`, `N` or `B`).
pub fn encode_key_value(value: &AttributeValue, out: &mut Vec<u8>) -> Result<()> {
    match value {
        AttributeValue::S(s) => encode_bytes(s.as_bytes(), out),
        AttributeValue::B(b) => encode_bytes(b, out),
        AttributeValue::N(n) => encode_number(n, out),
        other => {
            return Err(Error::validation(format!(
                "key attribute values must be of type S, N or B, not {}",
                other.type_name()
            )));
        }
    }
    Ok(())
}

/// The encoding of a primary key: the hash key, then the range key if the table has one.
pub fn encode_key(hash: &AttributeValue, range: Option<&AttributeValue>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_key_value(hash, &mut out)?;
    if let Some(range) = range {
        encode_key_value(range, &mut out)?;
    }
    Ok(out)
}

/// The encoded prefix shared by every `S` or `B` value that begins with `prefix` (for
/// `begins_with` on a range key): the escaped bytes without a terminator.
pub fn encode_prefix(prefix: &AttributeValue) -> Result<Vec<u8>> {
    let bytes: &[u8] = match prefix {
        AttributeValue::S(s) => s.as_bytes(),
        AttributeValue::B(b) => b,
        other => {
            return Err(Error::validation(format!(
                "a key prefix must be of type S or B, not {}",
                other.type_name()
            )));
        }
    };
    let mut out = Vec::with_capacity(bytes.len() + 2);
    escape(bytes, &mut out);
    Ok(out)
}

/// The smallest byte string greater than every string that starts with `prefix`: the exclusive
/// end of a prefix scan. `None` when there is no such bound (the prefix is all `0xFF`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Decodes one key value of type `ty` from the front of `bytes`; returns it and the rest.
pub fn decode_key_value(bytes: &[u8], ty: KeyType) -> Result<(AttributeValue, &[u8])> {
    match ty {
        KeyType::S => {
            let (raw, rest) = decode_bytes(bytes)?;
            let s =
                String::from_utf8(raw).map_err(|_| Error::Corrupt("key string is not UTF-8"))?;
            Ok((AttributeValue::S(s), rest))
        }
        KeyType::B => {
            let (raw, rest) = decode_bytes(bytes)?;
            Ok((AttributeValue::B(raw), rest))
        }
        KeyType::N => {
            let (n, rest) = decode_number(bytes)?;
            Ok((AttributeValue::N(n), rest))
        }
    }
}

/// Decodes a primary key written by [`encode_key`]; the whole input must be consumed.
pub fn decode_key(
    bytes: &[u8],
    hash: KeyType,
    range: Option<KeyType>,
) -> Result<(AttributeValue, Option<AttributeValue>)> {
    let (h, rest) = decode_key_value(bytes, hash)?;
    let (r, rest) = match range {
        Some(ty) => {
            let (r, rest) = decode_key_value(rest, ty)?;
            (Some(r), rest)
        }
        None => (None, rest),
    };
    if !rest.is_empty() {
        return Err(Error::Corrupt("trailing bytes after key"));
    }
    Ok((h, r))
}

fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    escape(bytes, out);
    out.extend_from_slice(&[0x00, 0x01]);
}

fn decode_bytes(bytes: &[u8]) -> Result<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        match bytes.get(i) {
            None => return Err(Error::Corrupt("unterminated key bytes")),
            Some(0) => match bytes.get(i + 1) {
                Some(0xFF) => {
                    out.push(0);
                    i += 2;
                }
                Some(0x01) => return Ok((out, &bytes[i + 2..])),
                _ => return Err(Error::Corrupt("bad escape in key bytes")),
            },
            Some(&b) => {
                out.push(b);
                i += 1;
            }
        }
    }
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(ZERO);
        return;
    }
    // In range by construction: MIN_EXPONENT..=MAX_EXPONENT maps onto 0..=255.
    let exp = (n.scientific_exponent() - MIN_EXPONENT) as u8;
    let digits = n.digits();
    if n.is_negative() {
        out.push(NEG);
        out.push(255 - exp);
        out.extend(digits.bytes().map(|d| 10 - (d - b'0')));
        out.push(0xFF);
    } else {
        out.push(POS);
        out.push(exp);
        out.extend(digits.bytes().map(|d| 1 + (d - b'0')));
        out.push(0x00);
    }
}

fn decode_number(bytes: &[u8]) -> Result<(Number, &[u8])> {
    let corrupt = || Error::Corrupt("bad number in key");
    let (&tag, rest) = bytes.split_first().ok_or_else(corrupt)?;
    let negative = match tag {
        ZERO => return Ok((Number::ZERO, rest)),
        NEG => true,
        POS => false,
        _ => return Err(corrupt()),
    };
    let (&exp_byte, rest) = rest.split_first().ok_or_else(corrupt)?;
    let exp_byte = if negative { 255 - exp_byte } else { exp_byte };
    let sci = i64::from(exp_byte) + i64::from(MIN_EXPONENT);
    let terminator = if negative { 0xFF } else { 0x00 };
    let end = rest
        .iter()
        .position(|&b| b == terminator)
        .ok_or_else(corrupt)?;
    let mut digits = Vec::with_capacity(end);
    for &b in &rest[..end] {
        let d = if negative {
            10u8.checked_sub(b)
        } else {
            b.checked_sub(1)
        };
        match d {
            Some(d) if d <= 9 => digits.push(b'0' + d),
            _ => return Err(corrupt()),
        }
    }
    if digits.first().is_none_or(|&d| d == b'0') || digits.last() == Some(&b'0') {
        return Err(corrupt());
    }
    let n = Number::from_parts(negative, &digits, sci).map_err(|_| corrupt())?;
    Ok((n, &rest[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key_value(v, &mut out).unwrap();
        out
    }

    fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            (any::<bool>(), 0u128..10u128.pow(38), -130i64..=125),
            (any::<bool>(), 0u128..1000, -3i64..3),
        ]
        .prop_map(|(neg, c, e)| {
            let digits = c.to_string();
            Number::from_parts(neg, digits.as_bytes(), e).unwrap_or_default()
        })
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()],
            0..8,
        )
    }

    proptest! {
        #[test]
        fn strings_keep_order(a in "\\PC{0,6}", b in "[a\\x00\\x01ÿ]{0,6}") {
            let (x, y) = (AttributeValue::S(a.clone()), AttributeValue::S(b.clone()));
            prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.as_bytes().cmp(b.as_bytes()));
            let encoded = enc(&x);
            prop_assert_eq!(decode_key_value(&encoded, KeyType::S).unwrap(), (x, &[][..]));
        }

        #[test]
        fn bytes_keep_order(a in bytes(), b in bytes()) {
            let (x, y) = (AttributeValue::B(a.clone()), AttributeValue::B(b.clone()));
            prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.cmp(&b));
            prop_assert_eq!(decode_key_value(&enc(&x), KeyType::B).unwrap().0, x);
        }

        #[test]
        fn numbers_keep_order(a in number(), b in number()) {
            let (x, y) = (AttributeValue::N(a.clone()), AttributeValue::N(b.clone()));
            prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.cmp(&b));
            prop_assert_eq!(decode_key_value(&enc(&x), KeyType::N).unwrap().0, x);
        }

        #[test]
        fn composite_keys_sort_by_hash_then_range(h1 in bytes(), r1 in number(), h2 in bytes(), r2 in number()) {
            let k1 = encode_key(&AttributeValue::B(h1.clone()), Some(&AttributeValue::N(r1.clone()))).unwrap();
            let k2 = encode_key(&AttributeValue::B(h2.clone()), Some(&AttributeValue::N(r2.clone()))).unwrap();
            prop_assert_eq!(k1.cmp(&k2), h1.cmp(&h2).then(r1.cmp(&r2)));
            let prefix = enc(&AttributeValue::B(h1.clone()));
            prop_assert!(k1.starts_with(&prefix));
            prop_assert_eq!(k2.starts_with(&prefix), h1 == h2);
            let decoded = decode_key(&k1, KeyType::B, Some(KeyType::N)).unwrap();
            prop_assert_eq!(decoded, (AttributeValue::B(h1), Some(AttributeValue::N(r1))));
        }

        #[test]
        fn prefixes_match_begins_with(a in bytes(), p in bytes()) {
            let encoded = enc(&AttributeValue::B(a.clone()));
            let prefix = encode_prefix(&AttributeValue::B(p.clone())).unwrap();
            prop_assert_eq!(encoded.starts_with(&prefix), a.starts_with(&p));
            if let Some(end) = prefix_end(&prefix) {
                prop_assert_eq!(encoded >= prefix && encoded < end, a.starts_with(&p));
            }
        }

        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            for ty in [KeyType::S, KeyType::N, KeyType::B] {
                let _ = decode_key(&data, ty, Some(KeyType::N));
            }
        }
    }

    #[test]
    fn fixed_examples() {
        let n = |s: &str| AttributeValue::N(s.parse().unwrap());
        let sorted = [
            "-9.9e125", "-2", "-1.5", "-1", "-1e-130", "0", "1e-130", "0.01", "1", "1.5", "2",
            "10", "9.99e125",
        ];
        for w in sorted.windows(2) {
            assert!(enc(&n(w[0])) < enc(&n(w[1])), "{} < {}", w[0], w[1]);
        }
        assert!(encode_key_value(&AttributeValue::Bool(true), &mut Vec::new()).is_err());
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
