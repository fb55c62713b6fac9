//! Update expressions: `SET a = :v, b = a + :n, c = if_not_exists(c, :z), d = list_append(d, :l)
//! REMOVE x, y[1] ADD n :inc, s :set DELETE s :subset`. Clauses come in any order, each at most
//! once; no two action paths may overlap or conflict.
//!
//! [`UpdateExpression::apply`] follows DynamoDB: every `SET` value is computed from the item as
//! it was before the update; list elements removed by index refer to the original positions;
//! `SET` on an index past the end of a list appends; `ADD` works on numbers and sets (and
//! creates the attribute), `DELETE` removes elements from a set (and the attribute when the set
//! becomes empty). Refusing updates of key attributes is the service's check.

use std::collections::BTreeSet;

use super::parser::{Cat, OperandOrCall, Parser};
use super::path::{Path, check_paths};
use super::projection::project_paths;
use super::{ExprKind, ExpressionAttributes, Operand};
use crate::error::{Error, Result};
use crate::value::{AttributeValue, Item, MAX_NESTING_DEPTH, MSG_NESTING, depth};

/// One action of an update.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`.
    Set(Path, Operand),
    /// `REMOVE path`.
    Remove(Path),
    /// `ADD path :value` (number or set).
    Add(Path, AttributeValue),
    /// `DELETE path :set`.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        }
    }
}

/// A parsed update.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateExpression {
    /// The actions, in expression order.
    pub actions: Vec<UpdateAction>,
    /// Built from legacy `AttributeUpdates`: type mismatches are reported in its words.
    legacy: bool,
}

/// What an applied update touched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    /// The paths written by the update's actions.
    pub paths: Vec<Path>,
    /// The top-level attributes those paths start at.
    pub attributes: BTreeSet<String>,
}

impl Changes {
    /// The updated parts of `item` (for `UPDATED_OLD` on the old item and `UPDATED_NEW` on the
    /// new one).
    pub fn project(&self, item: &Item) -> Item {
        project_paths(item, &self.paths)
    }
}

const UPDATE_ORDER: &[Cat] = &[
    Cat::Reserved,
    Cat::UnknownFunction,
    Cat::Section,
    Cat::Undefined,
    Cat::Overlap,
    Cat::OperandCount,
    Cat::OperandType,
];

const MSG_MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const MSG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const MSG_PATH: &str = "The document path provided in the update expression is invalid for update";

impl UpdateExpression {
    /// Parses an `UpdateExpression`.
    pub fn parse(src: &str, attrs: &mut ExpressionAttributes) -> Result<UpdateExpression> {
        let mut p = Parser::new(src, ExprKind::Update, attrs)?;
        let mut actions = Vec::new();
        let mut seen = Vec::new();
        loop {
            let section = ["SET", "REMOVE", "ADD", "DELETE"]
                .into_iter()
                .find(|k| p.peek().is_keyword(k));
            let Some(section) = section else {
                return Err(p.syntax_error());
            };
            p.advance();
            if seen.contains(&section) {
                p.note(
                    Cat::Section,
                    format!(
                        "The \"{section}\" section can only be used once in an update expression;"
                    ),
                );
            }
            seen.push(section);
            loop {
                actions.push(action(&mut p, section)?);
                if !p.eat_punct(",") {
                    break;
                }
            }
            if p.at_end() {
                break;
            }
        }
        if let Some(message) = check_paths(actions.iter().map(UpdateAction::path)) {
            p.note(Cat::Overlap, message);
        }
        p.finish(UPDATE_ORDER)?;
        Ok(UpdateExpression::new(actions))
    }

    /// An update of the given actions (as an expression would give them).
    pub fn new(actions: Vec<UpdateAction>) -> UpdateExpression {
        UpdateExpression {
            actions,
            legacy: false,
        }
    }

    /// An update converted from legacy `AttributeUpdates`.
    pub fn legacy(actions: Vec<UpdateAction>) -> UpdateExpression {
        UpdateExpression {
            actions,
            legacy: true,
        }
    }

    /// Applies the update to `item` (an empty item when none exists yet). All or nothing: on
    /// error `item` is left as it was.
    pub fn apply(&self, item: &mut Item) -> Result<Changes> {
        let mut updated = item.clone();
        let changes = self
            .apply_actions(item, &mut updated)
            .map_err(|e| match e {
                Error::Validation(m) if self.legacy && m == MSG_TYPE => {
                    Error::validation("Type mismatch for attribute to update")
                }
                other => other,
            })?;
        *item = updated;
        Ok(changes)
    }

    /// Applies the actions to `item`, a copy of `original` (from which `SET` values come).
    fn apply_actions(&self, original: &Item, item: &mut Item) -> Result<Changes> {
        // Every SET and ADD value is computed from the original item. The paths of one update
        // never overlap, so the order of the writes matters only for indexes past the end of a
        // list: those elements are appended in index order, whichever clause wrote them, as
        // DynamoDB does.
        let mut writes = Vec::new();
        for action in &self.actions {
            match action {
                UpdateAction::Set(path, op) => writes.push((path, eval(op, original)?)),
                UpdateAction::Add(path, v) => writes.push((path, added(path.get(original), v)?)),
                _ => {}
            }
        }
        writes.sort_by_key(|(path, _)| *path);
        for (path, v) in writes {
            path.set(item, v).map_err(|_| Error::validation(MSG_PATH))?;
        }
        let mut removes = Vec::new();
        for action in &self.actions {
            match action {
                UpdateAction::Set(..) | UpdateAction::Add(..) => {}
                UpdateAction::Remove(path) => removes.push(path),
                UpdateAction::Delete(path, v) => delete(item, path, v)?,
            }
        }
        // Later list positions first, so that each index refers to the original list.
        removes.sort_by(|a, b| b.cmp(a));
        for path in removes {
            path.remove(item).map_err(|_| Error::validation(MSG_PATH))?;
        }
        let paths: Vec<Path> = self.actions.iter().map(|a| a.path().clone()).collect();
        let attributes: BTreeSet<String> = paths.iter().map(|p| p.top().to_owned()).collect();
        if attributes
            .iter()
            .filter_map(|a| item.get(a))
            .any(|v| depth(v) > MAX_NESTING_DEPTH)
        {
            return Err(Error::validation(MSG_NESTING));
        }
        Ok(Changes { paths, attributes })
    }
}

fn action(p: &mut Parser<'_, '_>, section: &str) -> Result<UpdateAction> {
    let path = p.path()?;
    match section {
        "SET" => {
            p.expect_punct("=")?;
            let value = if p.eat_punct("(") {
                let v = set_value(p)?;
                p.expect_punct(")")?;
                v
            } else {
                set_value(p)?
            };
            Ok(UpdateAction::Set(path, value))
        }
        "REMOVE" => Ok(UpdateAction::Remove(path)),
        _ => {
            let value = p.value()?;
            let allowed: &[&str] = if section == "ADD" {
                &["N", "SS", "NS", "BS"]
            } else {
                &["SS", "NS", "BS"]
            };
            if !allowed.contains(&value.type_name()) {
                let long = match value.type_name() {
                    "S" => "STRING",
                    "N" => "NUMBER",
                    "B" => "BINARY",
                    "BOOL" => "BOOLEAN",
                    "L" => "LIST",
                    "M" => "MAP",
                    other => other,
                };
                p.note(
                    Cat::OperandType,
                    format!("Incorrect operand type for operator or function; operator: {section}, operand type: {long}"),
                );
            }
            Ok(if section == "ADD" {
                UpdateAction::Add(path, value)
            } else {
                UpdateAction::Delete(path, value)
            })
        }
    }
}

fn set_value(p: &mut Parser<'_, '_>) -> Result<Operand> {
    let a = update_operand(p)?;
    let plus = p.peek().is_punct("+");
    if !plus && !p.peek().is_punct("-") {
        return Ok(a);
    }
    p.advance();
    p.count_operator()?;
    let b = update_operand(p)?;
    let name = if plus { "+" } else { "-" };
    p.check_type(name, &a, &["N"]);
    p.check_type(name, &b, &["N"]);
    let (a, b) = (Box::new(a), Box::new(b));
    Ok(if plus {
        Operand::Plus(a, b)
    } else {
        Operand::Minus(a, b)
    })
}

fn update_operand(p: &mut Parser<'_, '_>) -> Result<Operand> {
    if p.eat_punct("(") {
        let o = update_operand(p)?;
        p.expect_punct(")")?;
        return Ok(o);
    }
    let o = p.operand_or_call()?;
    Ok(convert(p, o))
}

fn convert(p: &mut Parser<'_, '_>, o: OperandOrCall) -> Operand {
    let (name, args) = match o {
        OperandOrCall::Operand(op) => return op,
        OperandOrCall::Call(name, args) => (name, args),
    };
    let known = name == "if_not_exists" || name == "list_append";
    if !known {
        p.note(
            Cat::UnknownFunction,
            format!("Invalid function name; function: {name}"),
        );
    }
    let arity_ok = known && p.check_arity(&name, &args, 2);
    let ops: Vec<Operand> = args.into_iter().map(|a| convert(p, a)).collect();
    let mut ops = ops.into_iter();
    let (Some(a), Some(b), true) = (ops.next(), ops.next(), arity_ok) else {
        return Operand::Value(AttributeValue::Null);
    };
    if name == "if_not_exists" {
        match p.require_path(&name, &a) {
            Some(path) => Operand::IfNotExists(path, Box::new(b)),
            None => Operand::Value(AttributeValue::Null),
        }
    } else {
        p.check_type(&name, &a, &["L"]);
        p.check_type(&name, &b, &["L"]);
        Operand::ListAppend(Box::new(a), Box::new(b))
    }
}

/// The value of a `SET` operand against the item before the update.
fn eval(op: &Operand, item: &Item) -> Result<AttributeValue> {
    match op {
        Operand::Path(p) => p
            .get(item)
            .cloned()
            .ok_or_else(|| Error::validation(MSG_MISSING)),
        Operand::Value(v) => Ok(v.clone()),
        Operand::IfNotExists(p, default) => match p.get(item) {
            Some(v) => Ok(v.clone()),
            None => eval(default, item),
        },
        Operand::ListAppend(a, b) => match (eval(a, item)?, eval(b, item)?) {
            (AttributeValue::L(mut a), AttributeValue::L(b)) => {
                a.extend(b);
                Ok(AttributeValue::L(a))
            }
            _ => Err(Error::validation(MSG_TYPE)),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => match (eval(a, item)?, eval(b, item)?) {
            (AttributeValue::N(x), AttributeValue::N(y)) => {
                let n = if matches!(op, Operand::Plus(..)) {
                    x.checked_add(&y)?
                } else {
                    x.checked_sub(&y)?
                };
                Ok(AttributeValue::N(n))
            }
            _ => Err(Error::validation(MSG_TYPE)),
        },
        Operand::Size(_) => Err(Error::validation(MSG_TYPE)),
    }
}

/// The value `ADD` leaves at a path holding `current`.
fn added(current: Option<&AttributeValue>, v: &AttributeValue) -> Result<AttributeValue> {
    Ok(match (current, v) {
        (None, _) => v.clone(),
        (Some(AttributeValue::N(x)), AttributeValue::N(y)) => AttributeValue::N(x.checked_add(y)?),
        (Some(AttributeValue::Ss(x)), AttributeValue::Ss(y)) => AttributeValue::Ss(union(x, y)),
        (Some(AttributeValue::Ns(x)), AttributeValue::Ns(y)) => AttributeValue::Ns(union(x, y)),
        (Some(AttributeValue::Bs(x)), AttributeValue::Bs(y)) => AttributeValue::Bs(union(x, y)),
        _ => return Err(Error::validation(MSG_TYPE)),
    })
}

fn delete(item: &mut Item, path: &Path, v: &AttributeValue) -> Result<()> {
    let new = match (path.get(item), v) {
        (None, _) => {
            // Nothing to delete from, but the parent must still be a valid place.
            return path
                .remove(item)
                .map(|_| ())
                .map_err(|_| Error::validation(MSG_PATH));
        }
        (Some(AttributeValue::Ss(x)), AttributeValue::Ss(y)) => {
            AttributeValue::Ss(difference(x, y))
        }
        (Some(AttributeValue::Ns(x)), AttributeValue::Ns(y)) => {
            AttributeValue::Ns(difference(x, y))
        }
        (Some(AttributeValue::Bs(x)), AttributeValue::Bs(y)) => {
            AttributeValue::Bs(difference(x, y))
        }
        _ => return Err(Error::validation(MSG_TYPE)),
    };
    let empty = match &new {
        AttributeValue::Ss(s) => s.is_empty(),
        AttributeValue::Ns(s) => s.is_empty(),
        AttributeValue::Bs(s) => s.is_empty(),
        _ => false,
    };
    let result = if empty {
        path.remove(item).map(|_| ())
    } else {
        path.set(item, new)
    };
    result.map_err(|_| Error::validation(MSG_PATH))
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}
