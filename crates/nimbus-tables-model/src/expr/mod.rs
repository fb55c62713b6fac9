//! DynamoDB's expression languages: condition and filter expressions, update expressions,
//! projection expressions and key condition expressions, parsed into small trees and evaluated
//! against an [`Item`](crate::Item).
//!
//! The parsers are hand-written recursive descent over a tokenizer (`lexer`) rather than
//! generated: the grammar is small, and DynamoDB's error messages need exact token spans
//! (`Syntax error; token: "x", near: "SET x"`) and a fixed precedence among semantic errors
//! (an undefined `#name` is reported before a wrong operand type, and so on), which is simpler to
//! get right by hand than through a generator's error hooks.
//!
//! One [`ExpressionAttributes`] serves all expressions of a request: it resolves `#name` and
//! `:value` placeholders, records which were used, and afterwards reports the unused ones
//! ([`ExpressionAttributes::check_unused`]), as DynamoDB does across the whole request.
//!
//! Every error is an [`Error::Validation`] whose message is DynamoDB's, including the
//! `Invalid UpdateExpression: ` style prefix naming the parameter.

pub mod condition;
mod lexer;
mod parser;
pub mod path;
pub mod projection;
pub mod update;

use std::collections::{BTreeMap, BTreeSet};

pub use condition::{CompareOp, Condition, KeyCondition, RangeCondition};
pub use path::{Path, PathElem};
pub use projection::Projection;
pub use update::{Changes, UpdateAction, UpdateExpression};

use crate::error::{Error, Result};
use crate::value::AttributeValue;

/// Longest expression string DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;
/// Most operands of an `IN` list.
pub const MAX_IN_OPERANDS: usize = 100;
/// Most operators and functions in one expression.
pub const MAX_OPERATORS: usize = 300;

/// Which request parameter an expression came from; names the parameter in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `UpdateExpression`.
    Update,
    /// `ProjectionExpression`.
    Projection,
}

impl ExprKind {
    /// The parameter name: `ConditionExpression`, `UpdateExpression`, ...
    pub fn parameter(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }

    /// A validation error about this expression: `Invalid <Parameter>: <message>`.
    pub(crate) fn error(self, message: impl std::fmt::Display) -> Error {
        Error::validation(format!("Invalid {}: {message}", self.parameter()))
    }
}

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which of
/// them the request's expressions used.
#[derive(Debug, Clone, Default)]
pub struct ExpressionAttributes {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, AttributeValue>,
    names_given: bool,
    values_given: bool,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl ExpressionAttributes {
    /// Checks the maps the way DynamoDB does (non-empty when given, `#`/`:` keys) and keeps them.
    pub fn new(
        names: Option<BTreeMap<String, String>>,
        values: Option<BTreeMap<String, AttributeValue>>,
    ) -> Result<ExpressionAttributes> {
        if let Some(names) = &names {
            check_placeholders("ExpressionAttributeNames", names.keys(), '#')?;
            for name in names.values() {
                crate::value::check_attribute_name(name)?;
            }
        }
        if let Some(values) = &values {
            check_placeholders("ExpressionAttributeValues", values.keys(), ':')?;
        }
        Ok(ExpressionAttributes {
            names_given: names.is_some(),
            values_given: values.is_some(),
            names: names.unwrap_or_default(),
            values: values.unwrap_or_default(),
            ..Default::default()
        })
    }

    /// Reads `ExpressionAttributeValues` from JSON, reporting a bad value as DynamoDB does:
    /// `ExpressionAttributeValues contains invalid value: <why> for key :v`.
    pub fn values_from_json(json: &serde_json::Value) -> Result<BTreeMap<String, AttributeValue>> {
        let serde_json::Value::Object(map) = json else {
            return Err(crate::value::not_attribute_map(json));
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            let value = AttributeValue::from_json(v).map_err(|e| match e {
                Error::Validation(m) => Error::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {m} for key {k}"
                )),
                other => other,
            })?;
            out.insert(k.clone(), value);
        }
        Ok(out)
    }

    /// For `#[serde(deserialize_with)]` on an optional `ExpressionAttributeValues` member: reads
    /// it with [`values_from_json`](Self::values_from_json), so a bad value is reported with
    /// its key.
    pub fn deserialize_values<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Option<BTreeMap<String, AttributeValue>>, D::Error> {
        let json = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
        if json.is_null() {
            return Ok(None);
        }
        Self::values_from_json(&json)
            .map(Some)
            .map_err(crate::value::to_serde_error)
    }

    /// After all expressions of the request are parsed: the error DynamoDB gives for names or
    /// values that no expression used.
    pub fn check_unused(&self) -> Result<()> {
        let unused = |all: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            all.into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(Error::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(Error::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }

    /// Whether `ExpressionAttributeNames` was given.
    pub fn has_names(&self) -> bool {
        self.names_given
    }

    /// Whether `ExpressionAttributeValues` was given.
    pub fn has_values(&self) -> bool {
        self.values_given
    }

    fn resolve_name(&mut self, placeholder: &str) -> Option<String> {
        let name = self.names.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_owned());
        Some(name)
    }

    fn resolve_value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let value = self.values.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_owned());
        Some(value)
    }
}

/// DynamoDB's checks of the keys of `ExpressionAttributeNames` / `ExpressionAttributeValues`.
fn check_placeholders<'k>(
    parameter: &str,
    mut keys: impl ExactSizeIterator<Item = &'k String>,
    sigil: char,
) -> Result<()> {
    if keys.len() == 0 {
        return Err(Error::validation(format!("{parameter} must not be empty")));
    }
    match keys.find(|k| !valid_placeholder(k, sigil)) {
        Some(bad) => Err(Error::validation(format!(
            "{parameter} contains invalid key: Syntax error; key: \"{bad}\""
        ))),
        None => Ok(()),
    }
}

fn valid_placeholder(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil)
        && chars.clone().next().is_some()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `word` is one of DynamoDB's reserved words (case-insensitive).
pub fn is_reserved_word(word: &str) -> bool {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    // The list is sorted and upper case, one word a line.
    let words = WORDS.get_or_init(|| include_str!("reserved_words.txt").lines().collect());
    words
        .binary_search(&word.to_ascii_uppercase().as_str())
        .is_ok()
}

/// An operand of a comparison, a function argument or the value of a `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A document path into the item.
    Path(Path),
    /// A constant from `ExpressionAttributeValues`.
    Value(AttributeValue),
    /// `size(operand)`.
    Size(Box<Operand>),
    /// `if_not_exists(path, operand)` (update expressions).
    IfNotExists(Path, Box<Operand>),
    /// `list_append(operand, operand)` (update expressions).
    ListAppend(Box<Operand>, Box<Operand>),
    /// `operand + operand` (update expressions).
    Plus(Box<Operand>, Box<Operand>),
    /// `operand - operand` (update expressions).
    Minus(Box<Operand>, Box<Operand>),
}

impl Operand {
    /// Adds the document paths the operand reads to `out`.
    pub(crate) fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Operand::Path(p) => out.push(p),
            Operand::Value(_) => {}
            Operand::Size(o) => o.collect_paths(out),
            Operand::IfNotExists(p, o) => {
                out.push(p);
                o.collect_paths(out);
            }
            Operand::ListAppend(a, b) | Operand::Plus(a, b) | Operand::Minus(a, b) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
        }
    }

    /// The type of the operand when it is known without an item (constants and functions with
    /// a fixed result type).
    pub(crate) fn static_type(&self) -> Option<&'static str> {
        match self {
            Operand::Value(v) => Some(v.type_name()),
            Operand::Size(_) | Operand::Plus(..) | Operand::Minus(..) => Some("N"),
            Operand::ListAppend(..) => Some("L"),
            Operand::IfNotExists(_, v) => v.static_type(),
            Operand::Path(_) => None,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod basic_tests {
    use super::*;

    #[test]
    fn reserved_words() {
        assert!(is_reserved_word("name"));
        assert!(is_reserved_word("Status"));
        assert!(is_reserved_word("ZONE"));
        assert!(!is_reserved_word("username"));
        assert_eq!(include_str!("reserved_words.txt").lines().count(), 573);
    }

    #[test]
    fn attribute_maps() {
        let err = ExpressionAttributes::new(Some(BTreeMap::from([("a".into(), "a".into())])), None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
        );
        let err = ExpressionAttributes::new(None, Some(BTreeMap::new())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ExpressionAttributeValues must not be empty"
        );
        let json = serde_json::json!({":b": {"SS": []}});
        assert_eq!(
            ExpressionAttributes::values_from_json(&json)
                .unwrap_err()
                .to_string(),
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :b"
        );
    }
}
