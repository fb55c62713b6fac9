//! Compact binary encoding of items for storage, and DynamoDB's item size.
//!
//! Format (version 1): a version byte, then the item as a map. A map is a varint count followed by
//! `(varint name length, name bytes, value)` entries; a value is a one-byte tag and its payload:
//! strings and binaries are length-prefixed, numbers are sign-in-tag + varint coefficient + zigzag
//! varint exponent, lists and sets are a varint count and their elements, `BOOL` and `NULL` are
//! only the tag. Varints are LEB128.
//!
//! [`decode`] treats its input as untrusted: every length is bounds-checked, nesting is capped, the
//! number invariants are re-checked, and any inconsistency is [`Error::Corrupt`], never a panic.
//!
//! [`item_size`] follows the developer guide ("Item sizes and formats"): attribute name lengths
//! plus value sizes, where strings count their UTF-8 bytes, binaries their length, numbers about one
//! byte per two significant digits plus one, `BOOL` and `NULL` one byte, lists and maps 3 bytes plus
//! one byte per element plus the elements, and sets the sum of their elements.

use crate::error::{Error, Result};
use crate::number::Number;
use crate::value::{AttributeValue, Item};

const VERSION: u8 = 1;
/// Nesting accepted when decoding: above DynamoDB's 32, low enough to keep the stack safe.
const MAX_DECODE_DEPTH: usize = 64;

const T_S: u8 = 1;
const T_N_POS: u8 = 2;
const T_N_NEG: u8 = 3;
const T_B: u8 = 4;
const T_FALSE: u8 = 5;
const T_TRUE: u8 = 6;
const T_NULL: u8 = 7;
const T_L: u8 = 8;
const T_M: u8 = 9;
const T_SS: u8 = 10;
const T_NS: u8 = 11;
const T_BS: u8 = 12;

/// Encodes an item.
pub fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    put_map(item, &mut out);
    out
}

/// Decodes an item written by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Item> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != VERSION {
        return Err(Error::Corrupt("unknown item encoding version"));
    }
    let item = r.map(0)?;
    if r.pos != bytes.len() {
        return Err(Error::Corrupt("trailing bytes after item"));
    }
    Ok(item)
}

fn put_varint(mut v: u128, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    put_varint(b.len() as u128, out);
    out.extend_from_slice(b);
}

fn put_number(n: &Number, out: &mut Vec<u8>) {
    // The sign travels in the tag (or a sign byte inside number sets).
    let (_, coeff, exp) = n.raw();
    put_varint(coeff, out);
    // Zigzag so small negative exponents stay short.
    let zz = ((exp << 1) ^ (exp >> 31)) as u32;
    put_varint(u128::from(zz), out);
}

fn put_map(item: &Item, out: &mut Vec<u8>) {
    put_varint(item.len() as u128, out);
    for (name, value) in item {
        put_bytes(name.as_bytes(), out);
        put_value(value, out);
    }
}

fn put_value(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => {
            out.push(T_S);
            put_bytes(s.as_bytes(), out);
        }
        AttributeValue::N(n) => {
            out.push(if n.is_negative() { T_N_NEG } else { T_N_POS });
            put_number(n, out);
        }
        AttributeValue::B(b) => {
            out.push(T_B);
            put_bytes(b, out);
        }
        AttributeValue::Bool(b) => out.push(if *b { T_TRUE } else { T_FALSE }),
        AttributeValue::Null => out.push(T_NULL),
        AttributeValue::L(l) => {
            out.push(T_L);
            put_varint(l.len() as u128, out);
            l.iter().for_each(|v| put_value(v, out));
        }
        AttributeValue::M(m) => {
            out.push(T_M);
            put_map(m, out);
        }
        AttributeValue::Ss(s) => {
            out.push(T_SS);
            put_varint(s.len() as u128, out);
            s.iter().for_each(|e| put_bytes(e.as_bytes(), out));
        }
        AttributeValue::Ns(s) => {
            out.push(T_NS);
            put_varint(s.len() as u128, out);
            for n in s {
                out.push(u8::from(n.is_negative()));
                put_number(n, out);
            }
        }
        AttributeValue::Bs(s) => {
            out.push(T_BS);
            put_varint(s.len() as u128, out);
            s.iter().for_each(|e| put_bytes(e, out));
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(Error::Corrupt("item truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u128> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.byte()?;
            v |= u128::from(b & 0x7F)
                .checked_shl(shift)
                .filter(|x| x >> shift == u128::from(b & 0x7F))
                .ok_or(Error::Corrupt("varint overflow"))?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::Corrupt("varint too long"))
    }

    /// A count of elements that each take at least one byte: bounded by the bytes left.
    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        let left = self.bytes.len() - self.pos;
        if n > left as u128 {
            return Err(Error::Corrupt("element count exceeds item length"));
        }
        Ok(n as usize)
    }

    fn slice(&mut self) -> Result<&'a [u8]> {
        let len = self.count()?;
        let s = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    fn string(&mut self) -> Result<String> {
        let s = self.slice()?;
        String::from_utf8(s.to_vec()).map_err(|_| Error::Corrupt("string is not UTF-8"))
    }

    fn number(&mut self, negative: bool) -> Result<Number> {
        let coeff = self.varint()?;
        let zz = u32::try_from(self.varint()?).map_err(|_| Error::Corrupt("number exponent"))?;
        let exp = ((zz >> 1) as i32) ^ -((zz & 1) as i32);
        Number::from_raw(negative, coeff, exp).ok_or(Error::Corrupt("invalid number"))
    }

    fn map(&mut self, depth: usize) -> Result<Item> {
        let n = self.count()?;
        let mut item = Item::new();
        for _ in 0..n {
            let name = self.string()?;
            let value = self.value(depth)?;
            item.insert(name, value);
        }
        Ok(item)
    }

    fn value(&mut self, depth: usize) -> Result<AttributeValue> {
        if depth > MAX_DECODE_DEPTH {
            return Err(Error::Corrupt("nesting too deep"));
        }
        Ok(match self.byte()? {
            T_S => AttributeValue::S(self.string()?),
            T_N_POS => AttributeValue::N(self.number(false)?),
            T_N_NEG => AttributeValue::N(self.number(true)?),
            T_B => AttributeValue::B(self.slice()?.to_vec()),
            T_FALSE => AttributeValue::Bool(false),
            T_TRUE => AttributeValue::Bool(true),
            T_NULL => AttributeValue::Null,
            T_L => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push(self.value(depth + 1)?);
                }
                AttributeValue::L(l)
            }
            T_M => AttributeValue::M(self.map(depth + 1)?),
            T_SS => AttributeValue::Ss(self.list(|r| r.string())?),
            T_NS => AttributeValue::Ns(self.list(|r| {
                let negative = r.byte()? == 1;
                r.number(negative)
            })?),
            T_BS => AttributeValue::Bs(self.list(|r| Ok(r.slice()?.to_vec()))?),
            _ => return Err(Error::Corrupt("unknown value tag")),
        })
    }

    fn list<T>(&mut self, mut read: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(read(self)?);
        }
        Ok(out)
    }
}

/// DynamoDB's size of an item in bytes: what the 400 KB limit and capacity units are computed on.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_size(v))
        .sum()
}

/// DynamoDB's size of one attribute value (without its name).
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
        AttributeValue::Ns(s) => s.iter().map(number_size).sum(),
        AttributeValue::Bs(s) => s.iter().map(Vec::len).sum(),
    }
}

/// Size of a number: DynamoDB stores the significant digits in base 100 (two digits a byte,
/// aligned on even powers of ten) after one exponent byte, plus a terminator byte for negative
/// numbers. Zero is one byte.
pub fn number_size(n: &Number) -> usize {
    if n.is_zero() {
        return 1;
    }
    let digits = n.significant_digits();
    // The first digit sits at 10^e; it shares its base-100 byte with the next digit only when
    // e is odd (it is then the high half of the pair).
    let first_pair_shared = n.scientific_exponent().rem_euclid(2) == 1;
    let pairs = if first_pair_shared {
        digits.div_ceil(2)
    } else {
        1 + (digits - 1).div_ceil(2)
    };
    1 + pairs + usize::from(n.is_negative())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn number() -> impl Strategy<Value = Number> {
        (any::<bool>(), 0u128..10u128.pow(38), -130i64..=125).prop_map(|(neg, c, e)| {
            let digits = c.to_string();
            Number::from_parts(neg, digits.as_bytes(), e).unwrap_or_default()
        })
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            "\\PC{0,8}".prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::btree_set("[a-z]{0,4}", 1..4)
                .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
            proptest::collection::vec(number(), 1..4).prop_map(AttributeValue::Ns),
            proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(|s| AttributeValue::Bs(s.into_iter().collect())),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                    .prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(item in proptest::collection::btree_map("\\PC{1,6}", value(), 0..6)) {
            let bytes = encode(&item);
            prop_assert_eq!(decode(&bytes).unwrap(), item);
        }

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&data);
            let mut with_version = vec![VERSION];
            with_version.extend_from_slice(&data);
            let _ = decode(&with_version);
        }

        #[test]
        fn mutated_encodings_never_panic(item in proptest::collection::btree_map("[a-z]{1,3}", value(), 1..4), pos in any::<usize>(), byte in any::<u8>()) {
            let mut bytes = encode(&item);
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = decode(&bytes);
            bytes.truncate(i);
            prop_assert!(decode(&bytes).is_err());
        }
    }

    #[test]
    fn sizes_follow_the_developer_guide() {
        let n = |s: &str| AttributeValue::N(s.parse().unwrap());
        let mut item = Item::new();
        item.insert("id".into(), AttributeValue::s("abc")); // 2 + 3
        item.insert("flag".into(), AttributeValue::Bool(true)); // 4 + 1
        item.insert("nil".into(), AttributeValue::Null); // 3 + 1
        item.insert("bin".into(), AttributeValue::B(vec![1, 2, 3, 4])); // 3 + 4
        item.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::s("ab"), AttributeValue::Null]),
        ); // 1 + 3 + (1+2) + (1+1)
        item.insert(
            "m".into(),
            AttributeValue::M(Item::from([("k".into(), AttributeValue::s("v"))])),
        ); // 1 + 3 + 1 + 1 + 1
        item.insert(
            "ss".into(),
            AttributeValue::Ss(vec!["a".into(), "bc".into()]),
        ); // 2 + 3
        assert_eq!(item_size(&item), 5 + 5 + 4 + 7 + 9 + 7 + 5);
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&n("0")), 1);
        assert_eq!(value_size(&n("1")), 2);
        assert_eq!(value_size(&n("12")), 2);
        assert_eq!(value_size(&n("123")), 3);
        assert_eq!(value_size(&n("1.2")), 3);
        assert_eq!(value_size(&n("-1")), 3);
        assert_eq!(value_size(&n("12345678901234567890123456789012345678")), 20);
    }

    #[test]
    fn corrupt_inputs() {
        assert_eq!(decode(&[]), Err(Error::Corrupt("item truncated")));
        assert_eq!(
            decode(&[9]),
            Err(Error::Corrupt("unknown item encoding version"))
        );
        assert_eq!(
            decode(&[VERSION, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            Err(Error::Corrupt("element count exceeds item length"))
        );
        assert!(decode(&[VERSION, 1, 1, b'a', T_N_POS, 10, 0]).is_err());
        assert_eq!(decode(&encode(&Item::new())), Ok(Item::new()));
    }
}
