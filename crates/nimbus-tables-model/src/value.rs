//! Attribute values and items, and their DynamoDB JSON wire form (`{"S":"x"}`, `{"N":"1.5"}`,
//! `{"B":"<base64>"}`, `{"BOOL":true}`, `{"NULL":true}`, `{"L":[..]}`, `{"M":{..}}`, `{"SS":[..]}`,
//! `{"NS":[..]}`, `{"BS":[..]}`).
//!
//! # How errors surface
//!
//! [`AttributeValue::from_json`] reads a parsed JSON value and reports, in DynamoDB's words, either
//! [`Error::Serialization`] (wrong JSON type: what DynamoDB answers with `SerializationException`)
//! or [`Error::Validation`] (empty set, bad number, two type keys, ...: `ValidationException`).
//! Unknown keys and `null` members inside an AttributeValue are ignored, as DynamoDB does.
//!
//! `AttributeValue` also implements serde's `Deserialize` (through `from_json`), so request
//! structs can embed it directly; serde then flattens every error into one message, and
//! [`classify_json_error`] recovers the kind (and DynamoDB's bare message) from a
//! `serde_json::Error`. A service that must prefix the message per parameter (for example
//! "ExpressionAttributeValues contains invalid value: ... for key :v") deserializes that
//! parameter as `serde_json::Value` and calls `from_json` itself.
//!
//! # Sets
//!
//! Sets keep the order the client sent, but compare as sets: `PartialEq` ignores element order,
//! and number sets compare numerically (`["1","1.0"]` are duplicates and are rejected).

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::number::Number;
use crate::wire;

/// An item: attribute names to values (sorted by name).
pub type Item = BTreeMap<String, AttributeValue>;

/// Deepest nesting of lists and maps that DynamoDB accepts.
pub const MAX_NESTING_DEPTH: usize = 32;

/// One DynamoDB attribute value.
#[derive(Clone)]
pub enum AttributeValue {
    /// String.
    S(String),
    /// Number.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null (always `true` on the wire).
    Null,
    /// List.
    L(Vec<AttributeValue>),
    /// Map.
    M(Item),
    /// String set.
    Ss(Vec<String>),
    /// Number set.
    Ns(Vec<Number>),
    /// Binary set.
    Bs(Vec<Vec<u8>>),
}

/// The ten type names, as DynamoDB spells them on the wire.
pub const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"];

impl AttributeValue {
    /// The wire type name: `S`, `N`, `B`, `BOOL`, `NULL`, `L`, `M`, `SS`, `NS` or `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::L(_) => "L",
            AttributeValue::M(_) => "M",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// Whether this is one of the three set types.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        )
    }

    /// A string value.
    pub fn s(text: impl Into<String>) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    /// A number value parsed from DynamoDB's syntax.
    pub fn n(text: &str) -> Result<AttributeValue> {
        Number::parse(text).map(AttributeValue::N)
    }

    /// Reads one AttributeValue from its JSON wire form, validating it as DynamoDB does.
    pub fn from_json(json: &Value) -> Result<AttributeValue> {
        let value = from_json_at(json)?;
        if depth(&value) > MAX_NESTING_DEPTH {
            return Err(Error::validation(MSG_NESTING));
        }
        Ok(value)
    }

    /// The JSON wire form.
    pub fn to_json(&self) -> Value {
        let (key, inner) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", Value::String(BASE64.encode(b))),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::L(l) => (
                "L",
                Value::Array(l.iter().map(AttributeValue::to_json).collect()),
            ),
            AttributeValue::M(m) => ("M", item_to_json(m)),
            AttributeValue::Ss(s) => (
                "SS",
                Value::Array(s.iter().cloned().map(Value::String).collect()),
            ),
            AttributeValue::Ns(s) => (
                "NS",
                Value::Array(s.iter().map(|n| Value::String(n.to_string())).collect()),
            ),
            AttributeValue::Bs(s) => (
                "BS",
                Value::Array(s.iter().map(|b| Value::String(BASE64.encode(b))).collect()),
            ),
        };
        let mut map = serde_json::Map::new();
        map.insert(key.to_owned(), inner);
        Value::Object(map)
    }
}

/// Reads an item (`{"name": AttributeValue, ...}`) from JSON.
pub fn item_from_json(json: &Value) -> Result<Item> {
    map_from_json(json, AttributeValue::from_json)
}

/// Reads a JSON object of AttributeValues with `read` (`null` members are skipped).
fn map_from_json(json: &Value, read: fn(&Value) -> Result<AttributeValue>) -> Result<Item> {
    let Value::Object(map) = json else {
        return Err(not_attribute_map(json));
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| Ok((k.clone(), read(v)?)))
        .collect()
}

/// The text DynamoDB gives for `json` where a map of AttributeValues belongs, as a field
/// (`Item`, `ExpressionAttributeValues`, `M`).
pub fn not_attribute_map(json: &Value) -> Error {
    Error::serialization(wire::text_for(json, |f| {
        wire::map(f, "AttributeValue", false)
    }))
}

/// The JSON wire form of an item.
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// The longest attribute name, in bytes, outside keys (key names are up to 255 characters).
pub const MAX_ATTRIBUTE_NAME: usize = 65535;

/// Refuses an attribute name longer than [`MAX_ATTRIBUTE_NAME`].
pub fn check_attribute_name(name: &str) -> Result<()> {
    if name.len() > MAX_ATTRIBUTE_NAME {
        return Err(Error::validation(format!(
            "{INVALID}Attribute name is too large, must be less than {} bytes; attribute name size: {}",
            MAX_ATTRIBUTE_NAME + 1,
            name.len()
        )));
    }
    Ok(())
}

/// DynamoDB's message for values nested deeper than [`MAX_NESTING_DEPTH`].
pub const MSG_NESTING: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
const MSG_EMPTY: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MSG_MULTIPLE: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const INVALID: &str = "One or more parameter values were invalid: ";

/// Nesting depth: 0 for scalars and sets, 1 + deepest child for lists and maps.
pub fn depth(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::L(l) => 1 + l.iter().map(depth).max().unwrap_or(0),
        AttributeValue::M(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn from_json_at(json: &Value) -> Result<AttributeValue> {
    let Value::Object(map) = json else {
        // A member of a map or list (an item's attribute, `L`, `M`); where an AttributeValue
        // is a field instead (`Expected.x.Value`), the request parser adjusts the text.
        return Err(Error::serialization(wire::text_for(json, |f| {
            wire::structure(f, "AttributeValue", true)
        })));
    };
    let mut found: Option<AttributeValue> = None;
    let mut count = 0;
    // DynamoDB checks each present type in turn, then complains about several types at once.
    for (key, inner) in map {
        if inner.is_null() || !TYPE_NAMES.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "S" => AttributeValue::S(json_string(inner)?.to_owned()),
            "N" => AttributeValue::N(Number::parse(json_string(inner)?)?),
            "B" => AttributeValue::B(json_blob(inner)?),
            "BOOL" => AttributeValue::Bool(json_bool(inner)?),
            // DynamoDB used to refuse `{"NULL": false}`; it now takes it as a null, read back
            // as `{"NULL": true}`.
            "NULL" => {
                json_bool(inner)?;
                AttributeValue::Null
            }
            "L" => {
                let list = json_list(inner)?;
                let mut out = Vec::with_capacity(list.len());
                for v in list {
                    if v.is_null() {
                        continue;
                    }
                    out.push(from_json_at(v)?);
                }
                AttributeValue::L(out)
            }
            "M" => AttributeValue::M(map_from_json(inner, from_json_at)?),
            "SS" => {
                let texts = json_string_list(inner)?;
                let set = texts.iter().map(|t| (*t).to_owned()).collect();
                AttributeValue::Ss(checked_set(set, "An string set  may not be empty", || {
                    format!(
                        "{INVALID}Input collection [{}] contains duplicates.",
                        texts.join(", ")
                    )
                })?)
            }
            "NS" => {
                let texts = json_string_list(inner)?;
                if texts.is_empty() {
                    return Err(Error::validation(format!(
                        "{INVALID}An number set  may not be empty"
                    )));
                }
                let set = texts
                    .iter()
                    .map(|t| Number::parse(t))
                    .collect::<Result<_>>()?;
                AttributeValue::Ns(checked_set(set, "", || {
                    "Input collection contains duplicates".to_owned()
                })?)
            }
            "BS" => {
                // A member that is not text gets the binary type's message, not the string's.
                for member in json_list(inner)? {
                    if !member.is_null() && !member.is_string() {
                        json_blob(member)?;
                    }
                }
                let texts = json_string_list(inner)?;
                let set = texts
                    .iter()
                    .map(|t| decode_blob(t))
                    .collect::<Result<_>>()?;
                AttributeValue::Bs(checked_set(set, "Binary sets should not be empty", || {
                    format!(
                        "{INVALID}Input collection [{}]of type BS contains duplicates.",
                        texts.join(", ")
                    )
                })?)
            }
            _ => continue,
        };
        count += 1;
        found = Some(value);
    }
    match (count, found) {
        (1, Some(v)) => Ok(v),
        (0, _) | (_, None) => Err(Error::validation(MSG_EMPTY)),
        _ => Err(Error::validation(MSG_MULTIPLE)),
    }
}

/// The members of a set in the wire form (`null` members are skipped).
fn json_string_list(json: &Value) -> Result<Vec<&str>> {
    json_list(json)?
        .iter()
        .filter(|v| !v.is_null())
        .map(json_string)
        .collect()
}

/// Checks that a set is neither empty nor has duplicates, with DynamoDB's messages.
fn checked_set<T: Ord>(
    set: Vec<T>,
    empty: &str,
    duplicates: impl FnOnce() -> String,
) -> Result<Vec<T>> {
    if set.is_empty() {
        return Err(Error::validation(format!("{INVALID}{empty}")));
    }
    let mut refs: Vec<&T> = set.iter().collect();
    refs.sort();
    if refs.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::validation(duplicates()));
    }
    Ok(set)
}

/// The text DynamoDB gives for `json` where the model wants the scalar `java`.
fn not_scalar(json: &Value, java: &str) -> Error {
    Error::serialization(wire::text_for(json, |f| wire::scalar(f, java)))
}

fn json_string(json: &Value) -> Result<&str> {
    match json {
        Value::String(s) => Ok(s),
        other => Err(not_scalar(other, "String")),
    }
}

fn json_bool(json: &Value) -> Result<bool> {
    match json {
        Value::Bool(b) => Ok(*b),
        // DynamoDB's parser reads a few words as booleans, whatever their case.
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(not_scalar(json, "Boolean")),
        },
        other => Err(not_scalar(other, "Boolean")),
    }
}

/// A list member of an AttributeValue (`L`, `SS`, `NS`, `BS`): a field of its structure.
fn json_list(json: &Value) -> Result<&Vec<Value>> {
    match json {
        Value::Array(a) => Ok(a),
        _ => Err(Error::serialization(wire::text_for(json, |f| {
            wire::list(f, false)
        }))),
    }
}

fn json_blob(json: &Value) -> Result<Vec<u8>> {
    match json {
        Value::String(s) => decode_blob(s),
        _ => Err(Error::serialization(wire::text_for(json, wire::blob))),
    }
}

fn decode_blob(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return Err(Error::serialization(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '='))
    {
        return Err(Error::serialization(format!(
            "Invalid Base64 character: '{c}'"
        )));
    }
    BASE64
        .decode(text)
        .map_err(|_| Error::serialization("Invalid last non-pad Base64 character dectected"))
}

/// Prefix that marks a validation error travelling inside a serde error message.
const VALIDATION_TAG: &str = "\u{1}ValidationException\u{1}";

/// Recovers the kind and DynamoDB's message from a `serde_json::Error` raised while
/// deserializing a request that embeds [`AttributeValue`]s: validation failures come back as
/// [`Error::Validation`], everything else (bad JSON, wrong JSON types) as
/// [`Error::Serialization`].
pub fn classify_json_error(err: &serde_json::Error) -> Error {
    let text = err.to_string();
    // serde_json appends " at line L column C" to messages of errors it did not create itself.
    let bare = match text.rfind(" at line ") {
        Some(pos) if err.line() > 0 => &text[..pos],
        _ => text.as_str(),
    };
    match bare.find(VALIDATION_TAG) {
        Some(pos) => Error::Validation(bare[pos + VALIDATION_TAG.len()..].to_owned()),
        None => match bare.find(SERIALIZATION_TAG) {
            Some(pos) => Error::Serialization(bare[pos + SERIALIZATION_TAG.len()..].to_owned()),
            None => Error::Serialization(bare.to_owned()),
        },
    }
}

const SERIALIZATION_TAG: &str = "\u{1}SerializationException\u{1}";

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Blob<'a>(&'a [u8]);
        impl Serialize for Blob<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&BASE64.encode(self.0))
            }
        }
        /// A number's text, written into the output without an intermediate `String`.
        struct Text<'a>(&'a Number);
        impl Serialize for Text<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self.0)
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &Text(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &Blob(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::Ss(s) => map.serialize_entry("SS", s)?,
            AttributeValue::Ns(s) => {
                let texts: Vec<Text<'_>> = s.iter().map(Text).collect();
                map.serialize_entry("NS", &texts)?
            }
            AttributeValue::Bs(s) => {
                let blobs: Vec<Blob<'_>> = s.iter().map(|b| Blob(b)).collect();
                map.serialize_entry("BS", &blobs)?
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let json = Value::deserialize(deserializer)?;
        AttributeValue::from_json(&json).map_err(to_serde_error)
    }
}

/// Carries `e` through serde so that [`classify_json_error`] recovers its kind and message.
pub fn to_serde_error<E: serde::de::Error>(e: Error) -> E {
    match e {
        Error::Validation(m) => E::custom(format!("{VALIDATION_TAG}{m}")),
        other => E::custom(format!("{SERIALIZATION_TAG}{other}")),
    }
}

impl PartialEq for AttributeValue {
    fn eq(&self, other: &AttributeValue) -> bool {
        fn same_set<T: Ord>(a: &[T], b: &[T]) -> bool {
            if a.len() != b.len() {
                return false;
            }
            let mut x: Vec<&T> = a.iter().collect();
            let mut y: Vec<&T> = b.iter().collect();
            x.sort();
            y.sort();
            x == y
        }
        use AttributeValue::*;
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (L(a), L(b)) => a == b,
            (M(a), M(b)) => a == b,
            (Ss(a), Ss(b)) => same_set(a, b),
            (Ns(a), Ns(b)) => same_set(a, b),
            (Bs(a), Bs(b)) => same_set(a, b),
            _ => false,
        }
    }
}

impl Eq for AttributeValue {}

impl fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl fmt::Display for AttributeValue {
    /// DynamoDB's rendering in error messages: `{S:abc}`-like is not used; the JSON form is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> Error {
        AttributeValue::from_json(&v).unwrap_err()
    }

    #[test]
    fn round_trip_all_types() {
        let v = json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "YWJj"}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "a"}, {"N": "1E+2"}]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["YQ==", "Yg=="]},
            "e": {"S": ""}
        }});
        let av = AttributeValue::from_json(&v).unwrap();
        let back = av.to_json();
        assert_eq!(back["M"]["n"], json!({"N": "1.5"}));
        assert_eq!(back["M"]["l"]["L"][1], json!({"N": "100"}));
        assert_eq!(back["M"]["b"], json!({"B": "YWJj"}));
        assert_eq!(AttributeValue::from_json(&back).unwrap(), av);
        let via_serde: AttributeValue = serde_json::from_value(v).unwrap();
        assert_eq!(via_serde, av);
        assert_eq!(serde_json::to_value(&av).unwrap(), back);
    }

    #[test]
    fn validation_messages() {
        let cases = [
            (json!({}), MSG_EMPTY),
            (json!({"a": ""}), MSG_EMPTY),
            (json!({"S": null}), MSG_EMPTY),
            (json!({"S": "a", "BOOL": true}), MSG_MULTIPLE),
            (
                json!({"SS": []}),
                "One or more parameter values were invalid: An string set  may not be empty",
            ),
            (
                json!({"NS": []}),
                "One or more parameter values were invalid: An number set  may not be empty",
            ),
            (
                json!({"BS": []}),
                "One or more parameter values were invalid: Binary sets should not be empty",
            ),
            (
                json!({"SS": ["a", "a"]}),
                "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
            ),
            (
                json!({"BS": ["Yg==", "Yg=="]}),
                "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
            ),
            (
                json!({"NS": ["1", "1.0"]}),
                "Input collection contains duplicates",
            ),
            (
                json!({"NS": ["1", "b"]}),
                "The parameter cannot be converted to a numeric value: b",
            ),
            (
                json!({"NS": ["1", ""]}),
                "The parameter cannot be converted to a numeric value",
            ),
            (
                json!({"N": "abc"}),
                "The parameter cannot be converted to a numeric value: abc",
            ),
            (
                json!({"S": "a", "N": "b"}),
                "The parameter cannot be converted to a numeric value: b",
            ),
            (
                json!({"N": "1e126"}),
                "Number overflow. Attempting to store a number with magnitude larger than supported range",
            ),
            (json!({"M": {"a": {}}}), MSG_EMPTY),
            (json!({"L": [{}]}), MSG_EMPTY),
        ];
        for (v, msg) in cases {
            assert_eq!(err(v.clone()), Error::Validation(msg.to_owned()), "{v}");
        }
    }

    #[test]
    fn serialization_errors() {
        for (v, msg) in [
            (
                json!({"S": 5}),
                "NUMBER_VALUE cannot be converted to String",
            ),
            (
                json!({"N": 1.5}),
                "DECIMAL_VALUE cannot be converted to String",
            ),
            (
                json!({"S": true}),
                "TRUE_VALUE cannot be converted to String",
            ),
            (
                json!({"S": []}),
                "Unrecognized collection type class java.lang.String",
            ),
            (
                json!({"SS": [{}]}),
                "Start of structure or map found where not expected",
            ),
            (
                json!({"BOOL": "maybe"}),
                "Unexpected token received from parser",
            ),
            (
                json!({"NULL": 1}),
                "NUMBER_VALUE cannot be converted to Boolean",
            ),
            (json!({"L": "x"}), "Unexpected field type"),
            (json!({"L": [5]}), "Unexpected value type in payload"),
            (
                json!({"L": [[]]}),
                "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
            ),
            (
                json!({"M": []}),
                "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
            ),
            (json!({"M": {"a": "x"}}), "Unexpected value type in payload"),
            (
                json!({"B": "abc"}),
                "Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
            (
                json!({"BS": [true]}),
                "only base-64-encoded strings are convertible to bytes",
            ),
            (
                json!({"B": []}),
                "Unrecognized collection type class java.nio.ByteBuffer",
            ),
            (json!("x"), "Unexpected value type in payload"),
        ] {
            assert_eq!(err(v.clone()), Error::Serialization(msg.to_owned()), "{v}");
        }
    }

    #[test]
    fn a_few_words_are_booleans() {
        for (word, value) in [("TRUE", true), ("yes", true), ("1", true), ("No", false)] {
            assert_eq!(
                AttributeValue::from_json(&json!({"BOOL": word})).unwrap(),
                AttributeValue::Bool(value)
            );
        }
        // NULL read as false is a null all the same.
        assert_eq!(
            AttributeValue::from_json(&json!({"NULL": "no"})).unwrap(),
            AttributeValue::Null
        );
    }

    #[test]
    fn nesting_limit() {
        let mut v = json!({"S": "x"});
        for _ in 0..MAX_NESTING_DEPTH {
            v = json!({"L": [v]});
        }
        assert!(AttributeValue::from_json(&v).is_ok());
        v = json!({"M": {"a": v}});
        assert_eq!(err(v), Error::Validation(MSG_NESTING.to_owned()));
    }

    #[test]
    fn serde_errors_are_classified() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Req {
            #[serde(rename = "Item")]
            item: Item,
        }
        let e = serde_json::from_str::<Req>(r#"{"Item": {"a": {"SS": []}}}"#).unwrap_err();
        assert_eq!(
            classify_json_error(&e),
            Error::Validation(
                "One or more parameter values were invalid: An string set  may not be empty".into()
            )
        );
        let e = serde_json::from_str::<Req>(r#"{"Item": {"a": {"S": 1}}}"#).unwrap_err();
        assert_eq!(
            classify_json_error(&e),
            Error::Serialization("NUMBER_VALUE cannot be converted to String".into())
        );
        let e = serde_json::from_str::<Req>(r#"{"Item": 3}"#).unwrap_err();
        assert!(matches!(classify_json_error(&e), Error::Serialization(_)));
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("S"),
            Just("N"),
            Just("B"),
            Just("BOOL"),
            Just("NULL"),
            Just("L"),
            Just("M"),
            Just("SS"),
            Just("NS"),
            Just("BS"),
            Just("x")
        ]
        .prop_map(str::to_owned);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            "[0-9a-zA-Z+/=.eE-]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_json_never_panics_and_round_trips(v in json_value()) {
            if let Ok(av) = AttributeValue::from_json(&v) {
                proptest::prop_assert_eq!(AttributeValue::from_json(&av.to_json()).unwrap(), av);
            }
        }
    }

    #[test]
    fn sets_compare_unordered() {
        let a = AttributeValue::from_json(&json!({"NS": ["1", "2"]})).unwrap();
        let b = AttributeValue::from_json(&json!({"NS": ["2.0", "1"]})).unwrap();
        assert_eq!(a, b);
    }
}
