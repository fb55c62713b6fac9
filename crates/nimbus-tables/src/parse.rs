//! Request bodies into the wire types, with DynamoDB's `SerializationException` texts.
//!
//! A body is read once, straight into its typed input. Only when that fails is it read a second
//! time with the path of the failing value tracked (`serde_path_to_error`), because DynamoDB's
//! text for a value of the wrong JSON type depends on where the value sits: the Java type of
//! the member (`Integer` or `Long`), whether a structure or a list is a member of a list or map
//! or a field, and the value type of a map. The texts themselves are in
//! [`nimbus_tables_model::wire`].

use nimbus_tables_model::Error as ModelError;
use nimbus_tables_model::value::classify_json_error;
use nimbus_tables_model::wire::{self, Found, UNEXPECTED_FIELD, UNEXPECTED_VALUE};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::error::{Result, TablesError};

/// Members of type Long in the model; every other integer member is an Integer.
const LONG_MEMBERS: &[&str] = &[
    "ReadCapacityUnits",
    "WriteCapacityUnits",
    "MaxReadRequestUnits",
    "MaxWriteRequestUnits",
    "ReadUnitsPerSecond",
    "WriteUnitsPerSecond",
];

/// Decodes the JSON body of `operation`. A body with no JSON at all is a
/// `SerializationException` without a message, as DynamoDB answers it (every SDK sends `{}`
/// for an operation without input).
pub(crate) fn parse_body<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(TablesError::Serialization(String::new()));
    }
    serde_json::from_slice(body).map_err(|first| explain::<T>(operation, body, &first))
}

/// The error DynamoDB gives for `body`, which failed to decode with `first`.
#[cold]
fn explain<T: DeserializeOwned>(
    operation: &str,
    body: &[u8],
    first: &serde_json::Error,
) -> TablesError {
    // Only a wrong type needs to know where it is; a syntax error or a bad value is told as
    // the first parse found it.
    let classified = classify_json_error(first);
    if !first.is_data() || !matches!(classified, ModelError::Serialization(_)) {
        return classified.into();
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let Err(error) = serde_path_to_error::deserialize::<_, T>(&mut reader) else {
        return classified.into();
    };
    let path: Vec<Segment> = error.path().iter().cloned().collect();
    match classify_json_error(error.inner()) {
        ModelError::Serialization(message) => {
            let text = wrong_type(operation, &path, &message)
                .unwrap_or_else(|| attribute_value_as_field(body, &path, message));
            TablesError::Serialization(text)
        }
        other => other.into(),
    }
}

/// DynamoDB's text for serde's `invalid type: <found>, expected <wanted>` at `path`.
fn wrong_type(operation: &str, path: &[Segment], message: &str) -> Option<String> {
    // An empty list where a structure belongs (see `NotAList`).
    if let Some(rest) = message.strip_prefix("invalid length 0, expected struct ") {
        let name = rest.split(' ').next()?;
        return Some(wire::structure(
            Found::List,
            &model_name(name, path),
            is_member(path, path.len()),
        ));
    }
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, wanted) = rest.split_once(", expected ")?;
    let found = found_kind(found)?;
    let member = is_member(path, path.len());
    Some(match wanted {
        "a string" => wire::scalar(found, "String"),
        "a boolean" => wire::scalar(found, "Boolean"),
        "f64" | "f32" => wire::scalar(found, "Double"),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "isize" | "usize" => {
            let java = match field_at(path, path.len()) {
                Some(name) if LONG_MEMBERS.contains(&name) => "Long",
                _ => "Integer",
            };
            wire::scalar(found, java)
        }
        "a sequence" => wire::list(found, member),
        "a map" => wire::map(found, map_values(operation, path)?, member),
        other => {
            let name = other.strip_prefix("struct ")?;
            wire::structure(found, &model_name(name, path), member)
        }
    })
}

/// An AttributeValue that is a field of a structure (`Expected.<name>.Value`,
/// `AttributeUpdates.<name>.Value`) rather than a member of a map or list: DynamoDB names a
/// wrong scalar there as a field. The AttributeValue parser cannot tell where its value sits,
/// and the same text from inside the value (a member of its `L` or `M`) stays as it is; any
/// other message is kept too.
fn attribute_value_as_field(body: &[u8], path: &[Segment], message: String) -> String {
    let is_field = matches!(path, [Segment::Map { key: outer }, Segment::Map { .. }, Segment::Map { key: value }]
        if value == "Value" && (outer == "Expected" || outer == "AttributeUpdates"));
    if !is_field || message != UNEXPECTED_VALUE {
        return message;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return message;
    };
    let value = path.iter().try_fold(&json, |json, segment| match segment {
        Segment::Map { key } => json.get(key),
        _ => None,
    });
    match value {
        Some(value) if !value.is_object() => UNEXPECTED_FIELD.to_owned(),
        _ => message,
    }
}

/// The kind of value serde's `Unexpected` text names (`boolean \`true\``, `integer \`3\``...).
fn found_kind(text: &str) -> Option<Found> {
    Some(match text {
        "boolean `true`" => Found::True,
        "boolean `false`" => Found::False,
        "sequence" => Found::List,
        "map" => Found::Map,
        t if t.starts_with("integer ") => Found::Integer,
        t if t.starts_with("floating point ") => Found::Decimal,
        t if t.starts_with("string ") => Found::String,
        _ => return None,
    })
}

/// Members of the model whose type is a map, with the type of their values.
fn map_member_values(operation: &str, name: &str) -> Option<&'static str> {
    Some(match name {
        "Item" | "Key" | "ExclusiveStartKey" | "ExpressionAttributeValues" => "AttributeValue",
        "ExpressionAttributeNames" => "java.lang.String",
        "Expected" => "ExpectedAttributeValue",
        "AttributeUpdates" => "AttributeValueUpdate",
        "KeyConditions" | "QueryFilter" | "ScanFilter" => "Condition",
        "RequestItems" if operation == "BatchWriteItem" => {
            "java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>"
        }
        "RequestItems" => "KeysAndAttributes",
        _ => return None,
    })
}

/// The value type of the map at `path`: a named member, or a member of `Keys` (a list of keys).
fn map_values(operation: &str, path: &[Segment]) -> Option<&'static str> {
    match path.last()? {
        Segment::Seq { .. } => Some("AttributeValue"),
        Segment::Map { key } => map_member_values(operation, key),
        _ => None,
    }
}

/// For each segment of `path`, whether the value there is a member of a list or a map (a list
/// index or a map key) rather than a field of a structure.
fn members(path: &[Segment]) -> Vec<bool> {
    let mut out: Vec<bool> = Vec::with_capacity(path.len());
    for (i, segment) in path.iter().enumerate() {
        let member = match segment {
            Segment::Seq { .. } => true,
            Segment::Map { .. } => match (i.checked_sub(1).map(|p| &path[p]), out.last()) {
                // A key of a map-typed field.
                (Some(Segment::Map { key }), Some(false)) => map_member_values("", key).is_some(),
                // A key of a map in a list of maps (`Keys`, a list of keys).
                (Some(Segment::Seq { .. }), _) => {
                    matches!(i.checked_sub(2).map(|p| &path[p]), Some(Segment::Map { key }) if key == "Keys")
                }
                _ => false,
            },
            _ => false,
        };
        out.push(member);
    }
    out
}

/// Whether the value at `path[..len]` is a member of a list or a map (not a field).
fn is_member(path: &[Segment], len: usize) -> bool {
    len > 0 && members(&path[..len]).last() == Some(&true)
}

/// The name of the member the value at `path[..len]` belongs to: its own field name, or the
/// field of the list or map it is a member of.
fn field_at(path: &[Segment], len: usize) -> Option<&str> {
    let roles = members(&path[..len]);
    path[..len]
        .iter()
        .zip(roles)
        .rev()
        .find_map(|(segment, member)| match segment {
            Segment::Map { key } if !member => Some(key.as_str()),
            _ => None,
        })
}

/// The model's name of the structure the wire type `rust_name` stands for at `path`; a few
/// wire types serve several of the model's structures.
fn model_name(rust_name: &str, path: &[Segment]) -> String {
    let field = field_at(path, path.len()).unwrap_or_default();
    match rust_name {
        "LegacyCondition" => "Condition".to_owned(),
        "SseSpecification" => "SSESpecification".to_owned(),
        "SecondaryIndex" => match field {
            "LocalSecondaryIndexes" => "LocalSecondaryIndex".to_owned(),
            "Create" | "Update" | "Delete" => format!("{field}GlobalSecondaryIndexAction"),
            _ => "GlobalSecondaryIndex".to_owned(),
        },
        // `Put`, `Update`, `Delete`, `ConditionCheck` and `Get` of transactions.
        "TransactWriteAction" | "TransactGet" => field.to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::TableOp;

    /// The SerializationException text of `body` for `operation`.
    fn text(operation: &str, body: &str) -> String {
        match TableOp::parse(operation, body.as_bytes()) {
            Err(TablesError::Serialization(m)) => m,
            other => panic!("{operation} {body}: {other:?}"),
        }
    }

    #[test]
    fn scalars_name_the_token_and_the_java_type() {
        assert_eq!(
            text("ListTables", r#"{"ExclusiveStartTableName": true}"#),
            "TRUE_VALUE cannot be converted to String"
        );
        assert_eq!(
            text("ListTables", r#"{"Limit": "23"}"#),
            "STRING_VALUE cannot be converted to Integer"
        );
        assert_eq!(
            text(
                "CreateTable",
                r#"{"ProvisionedThroughput": {"ReadCapacityUnits": false}}"#
            ),
            "FALSE_VALUE cannot be converted to Long"
        );
        assert_eq!(
            text("GetItem", r#"{"ConsistentRead": 34.56}"#),
            "DECIMAL_VALUE cannot be converted to Boolean"
        );
        assert_eq!(
            text("DescribeTable", r#"{"TableName": {}}"#),
            "Start of structure or map found where not expected"
        );
        assert_eq!(
            text("DescribeTable", r#"{"TableName": []}"#),
            "Unrecognized collection type class java.lang.String"
        );
    }

    #[test]
    fn structures_lists_and_maps_depend_on_where_they_are() {
        assert_eq!(
            text("TagResource", r#"{"Tags": [23]}"#),
            "Unexpected value type in payload"
        );
        assert_eq!(
            text("TagResource", r#"{"Tags": [[]]}"#),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.Tag"
        );
        assert_eq!(
            text("CreateTable", r#"{"ProvisionedThroughput": "23"}"#),
            "Unexpected field type"
        );
        assert_eq!(
            text("CreateTable", r#"{"LocalSecondaryIndexes": [[]]}"#),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.LocalSecondaryIndex"
        );
        assert_eq!(
            text("Query", r#"{"KeyConditions": {"a": true}}"#),
            "Unexpected value type in payload"
        );
        assert_eq!(
            text("Query", r#"{"KeyConditions": {"a": []}}"#),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.Condition"
        );
        assert_eq!(
            text("UntagResource", r#"{"TagKeys": "23"}"#),
            "Unexpected field type"
        );
        assert_eq!(
            text("UntagResource", r#"{"TagKeys": {}}"#),
            "Start of structure or map found where not expected"
        );
        assert_eq!(
            text("BatchWriteItem", r#"{"RequestItems": {"t": true}}"#),
            wire::PARAMETERIZED_CAST
        );
        assert_eq!(
            text("BatchWriteItem", r#"{"RequestItems": []}"#),
            "Unrecognized collection type java.util.Map<java.lang.String, java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>"
        );
        assert_eq!(
            text("BatchGetItem", r#"{"RequestItems": []}"#),
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.KeysAndAttributes>"
        );
        assert_eq!(
            text("BatchGetItem", r#"{"RequestItems": {"t": {"Keys": [5]}}}"#),
            wire::PARAMETERIZED_CAST
        );
        assert_eq!(
            text("GetItem", r#"{"ExpressionAttributeNames": []}"#),
            "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>"
        );
        assert_eq!(text("PutItem", r#"{"Item": 5}"#), "Unexpected field type");
        assert_eq!(
            text("CreateTable", r#"{"ProvisionedThroughput": []}"#),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ProvisionedThroughput"
        );
        assert_eq!(
            text("Scan", r#"{"ScanFilter": {"a": []}}"#),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.Condition"
        );
        assert_eq!(
            text(
                "BatchWriteItem",
                r#"{"RequestItems": {"t": [{"PutRequest": []}]}}"#
            ),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.PutRequest"
        );
        assert_eq!(
            text("TagResource", r#"{"Tags": [["x"]]}"#),
            wire::NOT_A_LIST
        );
    }

    #[test]
    fn attribute_values_as_members_and_as_fields() {
        assert_eq!(
            text("PutItem", r#"{"Item": {"a": "23"}}"#),
            "Unexpected value type in payload"
        );
        assert_eq!(
            text("PutItem", r#"{"Expected": {"a": {"Value": "23"}}}"#),
            "Unexpected field type"
        );
        assert_eq!(
            text(
                "PutItem",
                r#"{"Expected": {"a": {"Value": {"L": [true]}}}}"#
            ),
            "Unexpected value type in payload"
        );
        assert_eq!(
            text(
                "UpdateItem",
                r#"{"AttributeUpdates": {"a": {"Value": []}}}"#
            ),
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
        );
        assert_eq!(
            text("PutItem", r#"{"ExpressionAttributeValues": 5}"#),
            "Unexpected field type"
        );
        assert_eq!(
            text("PutItem", r#"{"Item": {"a": {"S": 5}}}"#),
            "NUMBER_VALUE cannot be converted to String"
        );
    }

    #[test]
    fn malformed_json_is_still_a_serialization_error() {
        assert_eq!(text("ListTables", ""), "");
        assert_eq!(text("ListTables", " \n"), "");
        assert!(matches!(
            TableOp::parse("DescribeTable", b"{"),
            Err(TablesError::Serialization(_))
        ));
    }
}
