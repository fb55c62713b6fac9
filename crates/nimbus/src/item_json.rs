//! Items as people write them (plain JSON) and as DynamoDB sends them (DynamoDB JSON:
//! `{"id": {"S": "42"}, "n": {"N": "7"}}`), and the conversions between the two.
//!
//! Plain to DynamoDB: strings are `S`, numbers `N`, booleans `BOOL`, null `NULL`, arrays `L`,
//! objects `M`. DynamoDB to plain: sets become arrays, binary stays its base64 text, and a number
//! becomes a JSON number when it fits an `i64`, `u64` or an `f64` that prints back the same,
//! else its decimal text.

use anyhow::{Context, bail};
use serde_json::{Map, Value};

const TYPES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

/// Whether `item` is an item in DynamoDB JSON: every attribute is a one-key object naming a type.
pub fn is_dynamodb_item(item: &Value) -> bool {
    let Value::Object(map) = item else {
        return false;
    };
    !map.is_empty() && map.values().all(is_attribute_value)
}

fn is_attribute_value(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.keys().all(|k| TYPES.contains(&k.as_str())))
}

/// A plain JSON object as a DynamoDB item.
pub fn to_dynamodb_item(item: &Value) -> anyhow::Result<Value> {
    let Value::Object(map) = item else {
        bail!("an item must be a JSON object, not {}", kind(item));
    };
    Ok(Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), to_attribute_value(v)))
            .collect(),
    ))
}

fn to_attribute_value(v: &Value) -> Value {
    let typed = |t: &str, v: Value| Value::Object(Map::from_iter([(t.to_owned(), v)]));
    match v {
        Value::Null => typed("NULL", Value::Bool(true)),
        Value::Bool(b) => typed("BOOL", Value::Bool(*b)),
        Value::Number(n) => typed("N", Value::String(n.to_string())),
        Value::String(s) => typed("S", Value::String(s.clone())),
        Value::Array(a) => typed("L", a.iter().map(to_attribute_value).collect()),
        Value::Object(m) => typed(
            "M",
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), to_attribute_value(v)))
                    .collect(),
            ),
        ),
    }
}

/// A DynamoDB item as plain JSON.
pub fn to_plain_item(item: &Value) -> Value {
    match item {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), to_plain(v))).collect())
        }
        other => other.clone(),
    }
}

fn to_plain(v: &Value) -> Value {
    let Some((t, inner)) = v.as_object().and_then(|m| m.iter().next()) else {
        return v.clone();
    };
    match (t.as_str(), inner) {
        ("N", Value::String(n)) => number(n),
        ("NS", Value::Array(a)) => a
            .iter()
            .map(|n| n.as_str().map(number).unwrap_or_else(|| n.clone()))
            .collect(),
        ("NULL", _) => Value::Null,
        ("L", Value::Array(a)) => a.iter().map(to_plain).collect(),
        ("M", Value::Object(_)) => to_plain_item(inner),
        _ => inner.clone(),
    }
}

fn number(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return i.into();
    }
    if let Ok(u) = text.parse::<u64>() {
        return u.into();
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && significant_digits(text) <= 15 => f.into(),
        _ => Value::String(text.to_owned()),
    }
}

/// Significant digits of a decimal: an `f64` holds 15 exactly.
fn significant_digits(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

/// The items of a file: a JSON array of items, or an object with `Items` (the output of a
/// scan), in plain JSON or DynamoDB JSON. `format` is `auto`, `plain` or `dynamodb`; `auto`
/// takes DynamoDB JSON when every item looks like it.
pub fn parse_items(text: &str, format: &str) -> anyhow::Result<Vec<Value>> {
    let value: Value = serde_json::from_str(text).context("the file is not valid JSON")?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.contains_key("Items") => match map.remove("Items") {
            Some(Value::Array(items)) => items,
            _ => bail!("\"Items\" must be an array of items"),
        },
        Value::Object(_) => vec![value],
        other => bail!(
            "expected a JSON array of items, not {}; write [{{\"id\": \"1\"}}, ...]",
            kind(&other)
        ),
    };
    let dynamodb = match format {
        "dynamodb" => true,
        "plain" => false,
        _ => !items.is_empty() && items.iter().all(is_dynamodb_item),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if dynamodb {
                anyhow::ensure!(
                    is_dynamodb_item(item),
                    "item {i} is not in DynamoDB JSON ({{\"id\": {{\"S\": \"1\"}}}})"
                );
                Ok(item.clone())
            } else {
                to_dynamodb_item(item).with_context(|| format!("item {i}"))
            }
        })
        .collect()
}

/// One item given on the command line, in either form.
pub fn parse_item(text: &str, format: &str) -> anyhow::Result<Value> {
    let value: Value = serde_json::from_str(text)
        .context("the item is not valid JSON; write e.g. '{\"id\": \"42\"}'")?;
    let dynamodb = match format {
        "dynamodb" => true,
        "plain" => false,
        _ => is_dynamodb_item(&value),
    };
    if dynamodb {
        anyhow::ensure!(is_dynamodb_item(&value), "the item is not in DynamoDB JSON");
        Ok(value)
    } else {
        to_dynamodb_item(&value)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plain_and_dynamodb_json_round_trip() {
        let plain = json!({"id": "42", "n": 7, "price": 9.5, "ok": true, "none": null,
                           "tags": ["a", 1], "dims": {"w": 2}});
        let ddb = to_dynamodb_item(&plain).expect("object");
        assert_eq!(ddb["id"], json!({"S": "42"}));
        assert_eq!(ddb["n"], json!({"N": "7"}));
        assert_eq!(ddb["tags"], json!({"L": [{"S": "a"}, {"N": "1"}]}));
        assert_eq!(ddb["dims"], json!({"M": {"w": {"N": "2"}}}));
        assert!(is_dynamodb_item(&ddb));
        assert!(!is_dynamodb_item(&plain));
        assert_eq!(to_plain_item(&ddb), plain);
    }

    #[test]
    fn numbers_that_do_not_fit_stay_text() {
        assert_eq!(number("12"), json!(12));
        assert_eq!(number("0.25"), json!(0.25));
        assert_eq!(
            number("3.14159265358979323846264338327950288"),
            json!("3.14159265358979323846264338327950288")
        );
        assert_eq!(to_plain(&json!({"SS": ["a", "b"]})), json!(["a", "b"]));
    }

    #[test]
    fn files_are_detected_by_their_form() {
        let items = parse_items(r#"[{"id": "1"}, {"id": "2", "n": 3}]"#, "auto").expect("plain");
        assert_eq!(items[1]["n"], json!({"N": "3"}));
        let items = parse_items(r#"{"Items": [{"id": {"S": "1"}}]}"#, "auto").expect("scan");
        assert_eq!(items[0]["id"], json!({"S": "1"}));
        // Forced plain: a map attribute that looks typed stays a map.
        let items = parse_items(r#"[{"id": {"S": "1"}}]"#, "plain").expect("plain");
        assert_eq!(items[0]["id"], json!({"M": {"S": {"S": "1"}}}));
        assert!(parse_items("42", "auto").is_err());
        assert!(parse_items(r#"[{"id": "1"}]"#, "dynamodb").is_err());
        assert_eq!(
            parse_item(r#"{"id": {"S": "7"}}"#, "auto").expect("ddb")["id"],
            json!({"S": "7"})
        );
    }
}
