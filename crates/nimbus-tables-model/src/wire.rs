//! DynamoDB's texts for a request whose JSON holds a value of the wrong type.
//!
//! DynamoDB reads a request with its own JSON parser, whose `SerializationException` messages
//! name the JSON token it found and the Java type the service model wants there:
//! `TRUE_VALUE cannot be converted to String`, `STRING_VALUE cannot be converted to Integer`.
//! A list or a map in the wrong place, and a wrong scalar where a list, a map or a structure
//! belongs, have texts of their own, and those depend on where the value sits: a structure that
//! is a member of a list or a map is "Unexpected value type in payload", one that is a field of
//! another structure is "Unexpected field type". The texts are DynamoDB's, as its SDK-less
//! clients see them; serde's own messages would tell those clients nothing they could match.

use serde_json::Value;

/// The error serde reports for a non-empty JSON list where a structure belongs (see
/// [`NotAList`]).
pub const NOT_A_LIST: &str = "Start of list found where not expected";

/// The type of one extra member of the request structures, which no request sends and which
/// has no default. serde accepts a JSON list for a structure and reads its members by
/// position; that member makes such a list fail (an empty one with serde's "invalid length",
/// a non-empty one with [`NOT_A_LIST`]) where DynamoDB refuses any list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAList {}

impl<'de> serde::Deserialize<'de> for NotAList {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> std::result::Result<Self, D::Error> {
        Err(serde::de::Error::custom(NOT_A_LIST))
    }
}

/// Package of the service model's structures in the texts that name one.
pub const MODEL_PACKAGE: &str = "com.amazonaws.dynamodb.v20120810";

/// An object where a scalar or a list belongs.
pub const MAP_NOT_EXPECTED: &str = "Start of structure or map found where not expected";
/// A scalar where a list, a map, or a structure that is a field belongs.
pub const UNEXPECTED_FIELD: &str = "Unexpected field type";
/// A scalar where a structure that is a member of a list or a map belongs.
pub const UNEXPECTED_VALUE: &str = "Unexpected value type in payload";
/// A list or map that is itself a member of a map or list, given a scalar: DynamoDB's parser
/// fails inside Java's reflection and reports that.
pub const PARAMETERIZED_CAST: &str = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";
/// A scalar other than a string where binary data belongs.
pub const NOT_BASE64: &str = "only base-64-encoded strings are convertible to bytes";

/// The kind of JSON value a request held (JSON `null` counts as absent and has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    True,
    False,
    /// A number without fraction or exponent.
    Integer,
    /// A number with a fraction or an exponent.
    Decimal,
    String,
    List,
    Map,
}

impl Found {
    /// The kind of `json`; `None` for `null`.
    pub fn of(json: &Value) -> Option<Found> {
        Some(match json {
            Value::Null => return None,
            Value::Bool(true) => Found::True,
            Value::Bool(false) => Found::False,
            Value::Number(n) if n.is_f64() => Found::Decimal,
            Value::Number(_) => Found::Integer,
            Value::String(_) => Found::String,
            Value::Array(_) => Found::List,
            Value::Object(_) => Found::Map,
        })
    }

    /// The parser's name of the token, as in `NUMBER_VALUE cannot be converted to String`.
    fn token(self) -> &'static str {
        match self {
            Found::True => "TRUE_VALUE",
            Found::False => "FALSE_VALUE",
            Found::Integer => "NUMBER_VALUE",
            Found::Decimal => "DECIMAL_VALUE",
            Found::String => "STRING_VALUE",
            Found::List => "START_ARRAY",
            Found::Map => "START_OBJECT",
        }
    }
}

/// The text `text` gives for the kind of `json`. Callers skip `null` members (DynamoDB reads
/// them as absent); one that arrives here anyway is named as such.
pub fn text_for(json: &Value, text: impl FnOnce(Found) -> String) -> String {
    Found::of(json).map_or_else(|| "Unexpected null value".to_owned(), text)
}

/// The text for `found` where the model wants the scalar `java` (`String`, `Boolean`,
/// `Integer`, `Long`, `Double`).
pub fn scalar(found: Found, java: &str) -> String {
    match found {
        Found::Map => MAP_NOT_EXPECTED.to_owned(),
        Found::List => unrecognized(&format!("class java.lang.{java}")),
        Found::String if java == "Boolean" => "Unexpected token received from parser".to_owned(),
        other => format!("{} cannot be converted to {java}", other.token()),
    }
}

/// The text for a list where the model wants the Java type `type_name`
/// (`class java.lang.String`, `java.util.Map<...>`).
pub fn unrecognized(type_name: &str) -> String {
    format!("Unrecognized collection type {type_name}")
}

/// The Java type of a map of the model's strings to `value` (a structure of the model, or a
/// Java type such as `java.lang.String`).
pub fn map_type(value: &str) -> String {
    format!("java.util.Map<java.lang.String, {}>", model_type(value))
}

/// `name` with the model's package when it is one of the model's structures.
pub fn model_type(name: &str) -> String {
    if name.contains('.') {
        name.to_owned()
    } else {
        format!("{MODEL_PACKAGE}.{name}")
    }
}

/// The text for `found` where the model wants a structure `name`: `member` when it is a member
/// of a list or a map, otherwise a field of another structure.
pub fn structure(found: Found, name: &str, member: bool) -> String {
    match found {
        Found::List => unrecognized(&format!("class {}", model_type(name))),
        _ if member => UNEXPECTED_VALUE.to_owned(),
        _ => UNEXPECTED_FIELD.to_owned(),
    }
}

/// The text for `found` where the model wants a list: `member` when the list is itself a member
/// of a map.
pub fn list(found: Found, member: bool) -> String {
    match found {
        Found::Map => MAP_NOT_EXPECTED.to_owned(),
        _ if member => PARAMETERIZED_CAST.to_owned(),
        _ => UNEXPECTED_FIELD.to_owned(),
    }
}

/// The text for `found` where the model wants a map of strings to `value`: `member` when the
/// map is itself a member of a list.
pub fn map(found: Found, value: &str, member: bool) -> String {
    match found {
        Found::List => unrecognized(&map_type(value)),
        _ if member => PARAMETERIZED_CAST.to_owned(),
        _ => UNEXPECTED_FIELD.to_owned(),
    }
}

/// The text for `found` where the model wants binary data (base64 text).
pub fn blob(found: Found) -> String {
    match found {
        Found::Map => MAP_NOT_EXPECTED.to_owned(),
        Found::List => unrecognized("class java.nio.ByteBuffer"),
        _ => NOT_BASE64.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(v: Value) -> Found {
        Found::of(&v).unwrap()
    }

    #[test]
    fn scalar_texts() {
        assert_eq!(
            scalar(found(json!(true)), "String"),
            "TRUE_VALUE cannot be converted to String"
        );
        assert_eq!(
            scalar(found(json!(false)), "Long"),
            "FALSE_VALUE cannot be converted to Long"
        );
        assert_eq!(
            scalar(found(json!(-2147483648i64)), "String"),
            "NUMBER_VALUE cannot be converted to String"
        );
        assert_eq!(
            scalar(found(json!(34.56)), "Boolean"),
            "DECIMAL_VALUE cannot be converted to Boolean"
        );
        assert_eq!(
            scalar(found(json!("23")), "Integer"),
            "STRING_VALUE cannot be converted to Integer"
        );
        assert_eq!(
            scalar(found(json!("23")), "Boolean"),
            "Unexpected token received from parser"
        );
        assert_eq!(
            scalar(found(json!([])), "Boolean"),
            "Unrecognized collection type class java.lang.Boolean"
        );
        assert_eq!(scalar(found(json!({})), "String"), MAP_NOT_EXPECTED);
        assert_eq!(Found::of(&Value::Null), None);
    }

    #[test]
    fn container_texts() {
        assert_eq!(
            structure(found(json!([])), "Tag", true),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.Tag"
        );
        assert_eq!(structure(found(json!(1)), "Tag", true), UNEXPECTED_VALUE);
        assert_eq!(
            structure(found(json!(1)), "Projection", false),
            UNEXPECTED_FIELD
        );
        assert_eq!(list(found(json!("x")), false), UNEXPECTED_FIELD);
        assert_eq!(list(found(json!("x")), true), PARAMETERIZED_CAST);
        assert_eq!(list(found(json!({})), true), MAP_NOT_EXPECTED);
        assert_eq!(
            map(found(json!([])), "java.lang.String", false),
            "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>"
        );
        assert_eq!(
            map(found(json!([])), "AttributeValue", true),
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
        );
        assert_eq!(blob(found(json!(true))), NOT_BASE64);
        assert_eq!(
            blob(found(json!([]))),
            "Unrecognized collection type class java.nio.ByteBuffer"
        );
    }
}
