//! The legacy (pre-expression) parameters, converted to the same structures as expressions:
//! `Expected` and `QueryFilter`/`ScanFilter` to a [`Condition`], `KeyConditions` to a
//! [`KeyCondition`], `AttributeUpdates` to an [`UpdateExpression`], `AttributesToGet` to a
//! [`Projection`]. The wire shapes are here too (serde, PascalCase as on the wire); as in the
//! service's other wire shapes, enumerations stay strings and are checked by the converters
//! with DynamoDB's messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::expr::{
    CompareOp, Condition, KeyCondition, Operand, Path, Projection, RangeCondition, UpdateAction,
    UpdateExpression,
};
use crate::value::AttributeValue;
use crate::wire::NotAList;

/// `ComparisonOperator` of the legacy conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Member of a list of values.
    In,
    /// Less than or equal.
    Le,
    /// Less than.
    Lt,
    /// Greater than or equal.
    Ge,
    /// Greater than.
    Gt,
    /// Inclusive range.
    Between,
    /// Attribute exists.
    NotNull,
    /// Attribute does not exist.
    Null,
    /// Substring or set member.
    Contains,
    /// Neither substring nor set member.
    NotContains,
    /// Prefix.
    BeginsWith,
}

impl ComparisonOperator {
    /// Every operator, in the order DynamoDB lists the enumeration in its messages.
    const ALL: [ComparisonOperator; 13] = [
        ComparisonOperator::In,
        ComparisonOperator::Null,
        ComparisonOperator::Between,
        ComparisonOperator::Lt,
        ComparisonOperator::NotContains,
        ComparisonOperator::Eq,
        ComparisonOperator::Gt,
        ComparisonOperator::NotNull,
        ComparisonOperator::Ne,
        ComparisonOperator::Le,
        ComparisonOperator::BeginsWith,
        ComparisonOperator::Ge,
        ComparisonOperator::Contains,
    ];

    /// The wire name: `EQ`, `NOT_NULL`, ...
    pub fn name(self) -> &'static str {
        match self {
            ComparisonOperator::Eq => "EQ",
            ComparisonOperator::Ne => "NE",
            ComparisonOperator::In => "IN",
            ComparisonOperator::Le => "LE",
            ComparisonOperator::Lt => "LT",
            ComparisonOperator::Ge => "GE",
            ComparisonOperator::Gt => "GT",
            ComparisonOperator::Between => "BETWEEN",
            ComparisonOperator::NotNull => "NOT_NULL",
            ComparisonOperator::Null => "NULL",
            ComparisonOperator::Contains => "CONTAINS",
            ComparisonOperator::NotContains => "NOT_CONTAINS",
            ComparisonOperator::BeginsWith => "BEGINS_WITH",
        }
    }

    /// Parses the wire name of the member at `path` (for the message of an unknown name).
    fn parse(value: &str, path: &str) -> Result<ComparisonOperator> {
        let names = Self::ALL.map(Self::name);
        let at = one_of(value, path, &names)?;
        Ok(Self::ALL[at])
    }
}

/// `ConditionalOperator`: how several legacy conditions combine (default `AND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionalOperator {
    /// All must hold.
    #[default]
    And,
    /// One must hold.
    Or,
}

impl ConditionalOperator {
    /// Parses the `ConditionalOperator` member; absent means `AND`.
    pub fn parse(value: Option<&str>) -> Result<ConditionalOperator> {
        match value {
            None => Ok(ConditionalOperator::And),
            Some(v) => match one_of(v, "conditionalOperator", &["OR", "AND"])? {
                0 => Ok(ConditionalOperator::Or),
                _ => Ok(ConditionalOperator::And),
            },
        }
    }
}

/// `Action` of an `AttributeUpdates` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeAction {
    /// Replace (the default).
    #[default]
    Put,
    /// Add to a number or set, append to a list.
    Add,
    /// Remove the attribute, or elements of a set.
    Delete,
}

impl AttributeAction {
    fn parse(value: Option<&str>, path: &str) -> Result<AttributeAction> {
        match value {
            None => Ok(AttributeAction::Put),
            Some(v) => Ok(match one_of(v, path, &["ADD", "PUT", "DELETE"])? {
                0 => AttributeAction::Add,
                1 => AttributeAction::Put,
                _ => AttributeAction::Delete,
            }),
        }
    }
}

/// `ExpectedAttributeValue`: one entry of `Expected`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedAttributeValue {
    /// Refuses a JSON list in place of this structure (see [`NotAList`]).
    #[serde(rename = "\u{0}", skip_serializing)]
    not_a_list: Option<NotAList>,
    /// `Value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// `ComparisonOperator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    /// `AttributeValueList`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// `Condition`: one entry of `QueryFilter`, `ScanFilter` or `KeyConditions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyCondition {
    /// Refuses a JSON list in place of this structure (see [`NotAList`]).
    #[serde(rename = "\u{0}", skip_serializing)]
    not_a_list: Option<NotAList>,
    /// `AttributeValueList`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value_list: Option<Vec<AttributeValue>>,
    /// `ComparisonOperator` (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
}

/// `AttributeValueUpdate`: one entry of `AttributeUpdates`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValueUpdate {
    /// Refuses a JSON list in place of this structure (see [`NotAList`]).
    #[serde(rename = "\u{0}", skip_serializing)]
    not_a_list: Option<NotAList>,
    /// `Value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// `Action`: `PUT` (the default), `ADD` or `DELETE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

const INVALID: &str = "One or more parameter values were invalid: ";

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::validation(format!("{INVALID}{message}"))
}

/// One member constraint violation, in DynamoDB's words.
fn violation(value: Option<&str>, path: &str, constraint: &str) -> Error {
    let value = value.map_or("null".to_owned(), |v| format!("'{v}'"));
    Error::validation(format!(
        "1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: {constraint}"
    ))
}

/// The position of `value` in the enumeration `allowed` of the member at `path`.
fn one_of(value: &str, path: &str, allowed: &[&str]) -> Result<usize> {
    allowed.iter().position(|a| *a == value).ok_or_else(|| {
        violation(
            Some(value),
            path,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )
    })
}

/// The operator of a `Condition` entry (a required member) of the map parameter `param`.
fn condition_operator(c: &LegacyCondition, param: &str, name: &str) -> Result<ComparisonOperator> {
    let path = format!("{param}.{name}.member.comparisonOperator");
    match &c.comparison_operator {
        Some(op) => ComparisonOperator::parse(op, &path),
        None => Err(violation(None, &path, "Member must not be null")),
    }
}

/// Refuses a request that mixes legacy and expression parameters. Each list names the
/// parameters with whether the request has them, in the order DynamoDB's message lists them.
pub fn check_not_mixed(non_expression: &[(&str, bool)], expression: &[(&str, bool)]) -> Result<()> {
    let used = |params: &[(&str, bool)]| -> Vec<String> {
        params
            .iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| (*name).to_owned())
            .collect()
    };
    let (non_expression, expression) = (used(non_expression), used(expression));
    if non_expression.is_empty() || expression.is_empty() {
        return Ok(());
    }
    Err(Error::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        non_expression.join(", "),
        expression.join(", ")
    )))
}

/// Converts `Expected` (with `ConditionalOperator`) to a condition.
pub fn expected_to_condition(
    expected: &BTreeMap<String, ExpectedAttributeValue>,
    op: ConditionalOperator,
) -> Result<Condition> {
    let mut parts = Vec::new();
    for (name, e) in expected {
        let path = Path::attr(name.clone());
        if let Some(cmp) = &e.comparison_operator {
            let cmp = ComparisonOperator::parse(
                cmp,
                &format!("expected.{name}.member.comparisonOperator"),
            )?;
            if e.exists.is_some() {
                return Err(invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )));
            }
            if e.value.is_some() && e.attribute_value_list.is_some() {
                return Err(invalid(format!(
                    "Value and AttributeValueList cannot be used together for Attribute: {name}"
                )));
            }
            let list: Vec<AttributeValue> = match (&e.value, &e.attribute_value_list) {
                (Some(v), _) => vec![v.clone()],
                (_, Some(l)) => l.clone(),
                _ => Vec::new(),
            };
            parts.push(comparison(path, cmp, &list)?);
        } else if e.attribute_value_list.is_some() {
            return Err(invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
            )));
        } else {
            match (e.exists, &e.value) {
                (Some(false), Some(_)) => {
                    return Err(invalid(format!(
                        "Value cannot be used when Exists is false for Attribute: {name}"
                    )));
                }
                (Some(false), None) => parts.push(Condition::NotExists(path)),
                (_, Some(v)) => {
                    parts.push(Condition::Compare(
                        CompareOp::Eq,
                        Operand::Path(path),
                        Operand::Value(v.clone()),
                    ));
                }
                (exists, None) => {
                    let shown = if exists.is_some() { "true" } else { "null" };
                    return Err(invalid(format!(
                        "Value must be provided when Exists is {shown} for Attribute: {name}"
                    )));
                }
            }
        }
    }
    Ok(combine(parts, op))
}

/// Converts `QueryFilter` or `ScanFilter` (with `ConditionalOperator`) to a condition; `param`
/// is the parameter's member name in messages (`queryFilter`, `scanFilter`).
pub fn filter_to_condition(
    filter: &BTreeMap<String, LegacyCondition>,
    op: ConditionalOperator,
    param: &str,
) -> Result<Condition> {
    let parts = filter
        .iter()
        .map(|(name, c)| {
            comparison(
                Path::attr(name.clone()),
                condition_operator(c, param, name)?,
                c.attribute_value_list.as_deref().unwrap_or(&[]),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(combine(parts, op))
}

fn combine(parts: Vec<Condition>, op: ConditionalOperator) -> Condition {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Condition::True;
    };
    parts.fold(first, |acc, c| match op {
        ConditionalOperator::And => Condition::And(Box::new(acc), Box::new(c)),
        ConditionalOperator::Or => Condition::Or(Box::new(acc), Box::new(c)),
    })
}

/// Checks the number and types of values for an operator.
fn check_values(cmp: ComparisonOperator, values: &[AttributeValue]) -> Result<()> {
    use ComparisonOperator as C;
    let count_ok = match cmp {
        C::NotNull | C::Null => values.is_empty(),
        C::In => !values.is_empty(),
        C::Between => values.len() == 2,
        _ => values.len() == 1,
    };
    if !count_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            cmp.name()
        )));
    }
    let allowed: &[&str] = match cmp {
        C::Eq | C::Ne | C::NotNull | C::Null => return Ok(()),
        C::BeginsWith => &["S", "B"],
        _ => &["S", "N", "B"],
    };
    if let Some(bad) = values.iter().find(|v| !allowed.contains(&v.type_name())) {
        return Err(invalid(format!(
            "ComparisonOperator {} is not valid for {} AttributeValue type",
            cmp.name(),
            bad.type_name()
        )));
    }
    if matches!(cmp, C::In | C::Between)
        && let Some(first) = values.first()
        && values.iter().any(|v| v.type_name() != first.type_name())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    if cmp == C::Between
        && crate::expr::condition::order(&values[0], &values[1])
            == Some(std::cmp::Ordering::Greater)
    {
        // DynamoDB's text for this one has no "One or more parameter values were invalid".
        return Err(Error::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

fn comparison(path: Path, cmp: ComparisonOperator, values: &[AttributeValue]) -> Result<Condition> {
    use ComparisonOperator as C;
    check_values(cmp, values)?;
    let p = || Operand::Path(path.clone());
    let v = |i: usize| Operand::Value(values[i].clone());
    let compare = |op| Condition::Compare(op, p(), v(0));
    Ok(match cmp {
        C::Eq => compare(CompareOp::Eq),
        C::Ne => compare(CompareOp::Ne),
        C::Lt => compare(CompareOp::Lt),
        C::Le => compare(CompareOp::Le),
        C::Gt => compare(CompareOp::Gt),
        C::Ge => compare(CompareOp::Ge),
        C::Between => Condition::Between(p(), v(0), v(1)),
        C::In => Condition::In(p(), (0..values.len()).map(v).collect()),
        C::NotNull => Condition::Exists(path),
        C::Null => Condition::NotExists(path),
        C::Contains => Condition::Contains(p(), v(0)),
        C::NotContains => Condition::And(
            Box::new(Condition::Exists(path.clone())),
            Box::new(Condition::Not(Box::new(Condition::Contains(p(), v(0))))),
        ),
        C::BeginsWith => Condition::BeginsWith(p(), v(0)),
    })
}

/// Converts `KeyConditions` to a key condition.
pub fn key_conditions_to_key_condition(
    conditions: &BTreeMap<String, LegacyCondition>,
) -> Result<KeyCondition> {
    use ComparisonOperator as C;
    if conditions.is_empty() || conditions.len() > 2 {
        return Err(Error::validation("Conditions can be of length 1 or 2 only"));
    }
    let mut parts = Vec::new();
    for (name, c) in conditions {
        let cmp = condition_operator(c, "keyConditions", name)?;
        let values = c.attribute_value_list.as_deref().unwrap_or(&[]);
        check_values(cmp, values)?;
        let v = |i: usize| values[i].clone();
        let pred = match cmp {
            C::Eq => RangeCondition::Eq(v(0)),
            C::Lt => RangeCondition::Lt(v(0)),
            C::Le => RangeCondition::Le(v(0)),
            C::Gt => RangeCondition::Gt(v(0)),
            C::Ge => RangeCondition::Ge(v(0)),
            C::Between => RangeCondition::Between(v(0), v(1)),
            C::BeginsWith => RangeCondition::BeginsWith(v(0)),
            _ => {
                return Err(Error::validation(
                    "Attempted conditional constraint is not an indexable operation",
                ));
            }
        };
        parts.push((name.clone(), pred));
    }
    Ok(KeyCondition { parts })
}

/// Converts `AttributeUpdates` to an update.
pub fn attribute_updates_to_update(
    updates: &BTreeMap<String, AttributeValueUpdate>,
) -> Result<UpdateExpression> {
    let mut actions = Vec::new();
    for (name, u) in updates {
        let path = Path::attr(name.clone());
        let action = AttributeAction::parse(
            u.action.as_deref(),
            &format!("attributeUpdates.{name}.member.action"),
        )?;
        let Some(value) = &u.value else {
            if action != AttributeAction::Delete {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ));
            }
            actions.push(UpdateAction::Remove(path));
            continue;
        };
        actions.push(match action {
            AttributeAction::Put => UpdateAction::Set(path, Operand::Value(value.clone())),
            AttributeAction::Delete if value.is_set() => UpdateAction::Delete(path, value.clone()),
            AttributeAction::Delete => {
                return Err(invalid(format!(
                    "DELETE action with value is not supported for the type {}",
                    value.type_name()
                )));
            }
            AttributeAction::Add if matches!(value, AttributeValue::N(_)) || value.is_set() => {
                UpdateAction::Add(path, value.clone())
            }
            // ADD of a list appends to the existing list (or creates it).
            AttributeAction::Add if matches!(value, AttributeValue::L(_)) => UpdateAction::Set(
                path.clone(),
                Operand::ListAppend(
                    Box::new(Operand::IfNotExists(
                        path,
                        Box::new(Operand::Value(AttributeValue::L(Vec::new()))),
                    )),
                    Box::new(Operand::Value(value.clone())),
                ),
            ),
            AttributeAction::Add => {
                return Err(invalid(format!(
                    "ADD action is not supported for the type {}",
                    value.type_name()
                )));
            }
        });
    }
    Ok(UpdateExpression::legacy(actions))
}

/// Converts `AttributesToGet` to a projection: a non-empty list of distinct names.
pub fn attributes_to_get(names: &[String]) -> Result<Projection> {
    if names.is_empty() {
        return Err(violation(
            Some("[]"),
            "attributesToGet",
            "Member must have length greater than or equal to 1",
        ));
    }
    if let Some((_, name)) = names
        .iter()
        .enumerate()
        .find(|(i, name)| names[..*i].contains(name))
    {
        return Err(invalid(format!(
            "Duplicate value in attribute name: {name}"
        )));
    }
    for name in names {
        crate::value::check_attribute_name(name)?;
    }
    Ok(Projection::attributes(names.iter().cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Item, item_from_json};
    use serde_json::json;

    fn item(j: serde_json::Value) -> Item {
        item_from_json(&j).unwrap()
    }

    #[test]
    fn expected() {
        let e: BTreeMap<String, ExpectedAttributeValue> = serde_json::from_value(json!({
            "a": {"Value": {"S": "x"}},
            "b": {"Exists": false},
            "c": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}
        }))
        .unwrap();
        let c = expected_to_condition(&e, ConditionalOperator::And).unwrap();
        assert!(c.evaluate(&item(json!({"a": {"S": "x"}, "c": {"N": "2"}}))));
        assert!(!c.evaluate(&item(
            json!({"a": {"S": "x"}, "b": {"N": "1"}, "c": {"N": "2"}})
        )));
        let c = expected_to_condition(&e, ConditionalOperator::Or).unwrap();
        assert!(c.evaluate(&item(json!({"b": {"N": "1"}, "c": {"N": "2"}}))));
        for (json, msg) in [
            (
                json!({"a": {}}),
                "Value must be provided when Exists is null for Attribute: a",
            ),
            (
                json!({"a": {"Exists": true}}),
                "Value must be provided when Exists is true for Attribute: a",
            ),
            (
                json!({"a": {"Exists": false, "Value": {"S": "a"}}}),
                "Value cannot be used when Exists is false for Attribute: a",
            ),
            (
                json!({"a": {"ComparisonOperator": "EQ"}}),
                "Invalid number of argument(s) for the EQ ComparisonOperator",
            ),
            (
                json!({"a": {"ComparisonOperator": "NULL", "Exists": true}}),
                "Exists and ComparisonOperator cannot be used together for Attribute: a",
            ),
            (
                json!({"a": {"ComparisonOperator": "LT", "Value": {"SS": ["a"]}}}),
                "ComparisonOperator LT is not valid for SS AttributeValue type",
            ),
        ] {
            let e: BTreeMap<String, ExpectedAttributeValue> = serde_json::from_value(json).unwrap();
            assert_eq!(
                expected_to_condition(&e, ConditionalOperator::And)
                    .unwrap_err()
                    .to_string(),
                format!("{INVALID}{msg}")
            );
        }
    }

    #[test]
    fn enumerations_are_checked_with_dynamodb_messages() {
        let f: BTreeMap<String, LegacyCondition> =
            serde_json::from_value(json!({"a": {"ComparisonOperator": "LIKE"}})).unwrap();
        assert_eq!(
            filter_to_condition(&f, ConditionalOperator::And, "scanFilter")
                .unwrap_err()
                .to_string(),
            "1 validation error detected: Value 'LIKE' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        );
        let k: BTreeMap<String, LegacyCondition> =
            serde_json::from_value(json!({"pk": {"AttributeValueList": [{"S": "h"}]}})).unwrap();
        assert_eq!(
            key_conditions_to_key_condition(&k).unwrap_err().to_string(),
            "1 validation error detected: Value null at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(
            ConditionalOperator::parse(Some("XOR"))
                .unwrap_err()
                .to_string(),
            "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        );
        let u: BTreeMap<String, AttributeValueUpdate> =
            serde_json::from_value(json!({"a": {"Action": "SET", "Value": {"S": "x"}}})).unwrap();
        assert_eq!(
            attribute_updates_to_update(&u).unwrap_err().to_string(),
            "1 validation error detected: Value 'SET' at 'attributeUpdates.a.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
        );
    }

    #[test]
    fn filters() {
        let f: BTreeMap<String, LegacyCondition> = serde_json::from_value(json!({
            "s": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "zz"}]},
            "n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "3"}]},
            "t": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "a"}, {"S": "b"}]}
        }))
        .unwrap();
        let c = filter_to_condition(&f, ConditionalOperator::And, "scanFilter").unwrap();
        assert!(c.evaluate(&item(
            json!({"s": {"S": "abc"}, "n": {"N": "2"}, "t": {"S": "b"}})
        )));
        assert!(!c.evaluate(&item(json!({"n": {"N": "2"}, "t": {"S": "b"}}))));
    }

    #[test]
    fn key_conditions() {
        let k: BTreeMap<String, LegacyCondition> = serde_json::from_value(json!({
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "h"}]},
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "a"}]}
        }))
        .unwrap();
        let (h, r) = key_conditions_to_key_condition(&k)
            .unwrap()
            .resolve("pk", Some("sk"))
            .unwrap();
        assert_eq!(h, AttributeValue::s("h"));
        assert_eq!(r, Some(RangeCondition::BeginsWith(AttributeValue::s("a"))));
        let k: BTreeMap<String, LegacyCondition> =
            serde_json::from_value(json!({"pk": {"ComparisonOperator": "NOT_NULL"}})).unwrap();
        assert_eq!(
            key_conditions_to_key_condition(&k).unwrap_err().to_string(),
            "Attempted conditional constraint is not an indexable operation"
        );
    }

    #[test]
    fn attribute_updates() {
        let u: BTreeMap<String, AttributeValueUpdate> = serde_json::from_value(json!({
            "b": {"Action": "DELETE"},
            "c": {"Action": "DELETE", "Value": {"SS": ["a", "b"]}},
            "d": {"Action": "ADD", "Value": {"N": "5"}},
            "e": {"Action": "ADD", "Value": {"SS": ["a", "b"]}},
            "f": {"Action": "ADD", "Value": {"L": [{"S": "a"}, {"N": "1"}]}},
            "g": {"Value": {"S": "x"}}
        }))
        .unwrap();
        let update = attribute_updates_to_update(&u).unwrap();
        let mut it = item(json!({"b": {"S": "old"}, "f": {"L": [{"S": "z"}]}}));
        update.apply(&mut it).unwrap();
        assert_eq!(
            it,
            item(
                json!({"d": {"N": "5"}, "e": {"SS": ["a", "b"]}, "f": {"L": [{"S": "z"}, {"S": "a"}, {"N": "1"}]}, "g": {"S": "x"}})
            )
        );
        let bad: BTreeMap<String, AttributeValueUpdate> =
            serde_json::from_value(json!({"d": {"Action": "ADD", "Value": {"N": "1"}}})).unwrap();
        let mut it = item(json!({"d": {"NS": ["1"]}}));
        assert_eq!(
            attribute_updates_to_update(&bad)
                .unwrap()
                .apply(&mut it)
                .unwrap_err()
                .to_string(),
            "Type mismatch for attribute to update"
        );
        for (json, msg) in [
            (
                json!({"a": {"Action": "PUT"}}),
                "Only DELETE action is allowed when no attribute value is specified",
            ),
            (
                json!({"a": {"Action": "DELETE", "Value": {"S": "1"}}}),
                "DELETE action with value is not supported for the type S",
            ),
            (
                json!({"a": {"Action": "ADD", "Value": {"B": "Yg=="}}}),
                "ADD action is not supported for the type B",
            ),
        ] {
            let u: BTreeMap<String, AttributeValueUpdate> = serde_json::from_value(json).unwrap();
            assert_eq!(
                attribute_updates_to_update(&u).unwrap_err().to_string(),
                format!("{INVALID}{msg}")
            );
        }
        assert_eq!(
            check_not_mixed(
                &[
                    ("AttributeUpdates", true),
                    ("Expected", true),
                    ("ConditionalOperator", false)
                ],
                &[("UpdateExpression", true), ("ConditionExpression", true)]
            )
            .unwrap_err()
            .to_string(),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}"
        );
    }
}
