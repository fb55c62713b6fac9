//! Condition and filter expressions (`a = :v AND NOT attribute_exists(b)`), and key condition
//! expressions, which are conditions of a restricted shape.
//!
//! Precedence as documented: `NOT` binds tighter than `AND`, which binds tighter than `OR`.
//! Evaluation follows DynamoDB: a missing attribute or operands of different types make a
//! comparison false (and `<>` true), never an error; ordering (`<`, `BETWEEN`) is defined on
//! numbers, strings and binaries only.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::parser::{Cat, OperandOrCall, Parser};
use super::path::Path;
use super::{ExprKind, ExpressionAttributes, MAX_IN_OPERANDS, Operand};
use crate::error::{Error, Result};
use crate::value::{AttributeValue, Item, TYPE_NAMES};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as expressions write it.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// The operator written `p`.
    pub fn from_symbol(p: &str) -> Option<CompareOp> {
        Some(match p {
            "=" => CompareOp::Eq,
            "<>" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            _ => return None,
        })
    }

    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            other => other,
        }
    }
}

/// A condition, from a `ConditionExpression`, a `FilterExpression` or a legacy parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `a op b`.
    Compare(CompareOp, Operand, Operand),
    /// `a BETWEEN b AND c`.
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`.
    In(Operand, Vec<Operand>),
    /// `x AND y`.
    And(Box<Condition>, Box<Condition>),
    /// `x OR y`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT x`.
    Not(Box<Condition>),
    /// `attribute_exists(path)`.
    Exists(Path),
    /// `attribute_not_exists(path)`.
    NotExists(Path),
    /// `attribute_type(path, :type)`; the first operand may also be a value.
    AttributeType(Operand, Operand),
    /// `begins_with(a, b)`.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`.
    Contains(Operand, Operand),
    /// Always true (an empty legacy condition).
    True,
}

const CONDITION_ORDER: &[Cat] = &[
    Cat::Parens,
    Cat::UnknownFunction,
    Cat::MisusedFunction,
    Cat::Reserved,
    Cat::Undefined,
    Cat::OperandCount,
    Cat::Distinct,
    Cat::OperandType,
];

impl Condition {
    /// Every document path the condition reads, in expression order.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Condition::Compare(_, a, b)
            | Condition::BeginsWith(a, b)
            | Condition::Contains(a, b) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
            Condition::Between(a, b, c) => {
                for o in [a, b, c] {
                    o.collect_paths(out);
                }
            }
            Condition::In(a, list) => {
                a.collect_paths(out);
                list.iter().for_each(|o| o.collect_paths(out));
            }
            Condition::And(x, y) | Condition::Or(x, y) => {
                x.collect_paths(out);
                y.collect_paths(out);
            }
            Condition::Not(x) => x.collect_paths(out),
            Condition::Exists(p) | Condition::NotExists(p) => out.push(p),
            Condition::AttributeType(a, o) => {
                a.collect_paths(out);
                o.collect_paths(out);
            }
            Condition::True => {}
        }
    }

    /// Parses a condition or filter expression (`kind` names the parameter in errors).
    pub fn parse(src: &str, kind: ExprKind, attrs: &mut ExpressionAttributes) -> Result<Condition> {
        let mut p = Parser::new(src, kind, attrs)?;
        let c = or_expr(&mut p)?;
        p.finish(CONDITION_ORDER)?;
        Ok(c)
    }

    /// Whether `item` satisfies the condition (a missing item is an empty one).
    pub fn evaluate(&self, item: &Item) -> bool {
        match self {
            Condition::True => true,
            Condition::Compare(op, a, b) => compare(
                *op,
                value_of(a, item).as_deref(),
                value_of(b, item).as_deref(),
            ),
            Condition::Between(x, lo, hi) => {
                let x = value_of(x, item);
                compare(CompareOp::Ge, x.as_deref(), value_of(lo, item).as_deref())
                    && compare(CompareOp::Le, x.as_deref(), value_of(hi, item).as_deref())
            }
            Condition::In(x, list) => {
                let x = value_of(x, item);
                list.iter()
                    .any(|o| compare(CompareOp::Eq, x.as_deref(), value_of(o, item).as_deref()))
            }
            Condition::And(a, b) => a.evaluate(item) && b.evaluate(item),
            Condition::Or(a, b) => a.evaluate(item) || b.evaluate(item),
            Condition::Not(a) => !a.evaluate(item),
            Condition::Exists(p) => p.get(item).is_some(),
            Condition::NotExists(p) => p.get(item).is_none(),
            Condition::AttributeType(a, t) => {
                match (value_of(a, item).as_deref(), value_of(t, item).as_deref()) {
                    (Some(v), Some(AttributeValue::S(t))) => v.type_name() == t,
                    _ => false,
                }
            }
            Condition::BeginsWith(a, b) => {
                match (value_of(a, item).as_deref(), value_of(b, item).as_deref()) {
                    (Some(AttributeValue::S(a)), Some(AttributeValue::S(b))) => {
                        a.starts_with(b.as_str())
                    }
                    (Some(AttributeValue::B(a)), Some(AttributeValue::B(b))) => a.starts_with(b),
                    _ => false,
                }
            }
            Condition::Contains(a, b) => {
                match (value_of(a, item).as_deref(), value_of(b, item).as_deref()) {
                    (Some(a), Some(b)) => contains(a, b),
                    _ => false,
                }
            }
        }
    }
}

/// The value of an operand in a condition: `None` when the path is missing or the function
/// does not apply (size of a number).
pub(crate) fn value_of<'a>(op: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Operand::Path(p) => p.get(item).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let n = match value_of(inner, item)?.as_ref() {
                // DynamoDB counts a string's UTF-16 code units.
                AttributeValue::S(s) => s.encode_utf16().count(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::M(m) => m.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N((n as i64).into())))
        }
        _ => None,
    }
}

/// Order of two values of the same orderable type (N, S, B).
pub(crate) fn order(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(op: CompareOp, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Eq => a == b,
        CompareOp::Ne => a != b,
        _ => order(a, b).is_some_and(|o| match op {
            CompareOp::Lt => o.is_lt(),
            CompareOp::Le => o.is_le(),
            CompareOp::Gt => o.is_gt(),
            _ => o.is_ge(),
        }),
    }
}

fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(h), AttributeValue::S(n)) => h.contains(n.as_str()),
        (AttributeValue::B(h), AttributeValue::B(n)) => {
            n.is_empty() || h.windows(n.len()).any(|w| w == n.as_slice())
        }
        (AttributeValue::Ss(h), AttributeValue::S(n)) => h.contains(n),
        (AttributeValue::Ns(h), AttributeValue::N(n)) => h.contains(n),
        (AttributeValue::Bs(h), AttributeValue::B(n)) => h.contains(n),
        (AttributeValue::L(h), n) => h.contains(n),
        _ => false,
    }
}

fn or_expr(p: &mut Parser<'_, '_>) -> Result<Condition> {
    binary(p, "OR", and_expr, Condition::Or)
}

fn and_expr(p: &mut Parser<'_, '_>) -> Result<Condition> {
    binary(p, "AND", not_expr, Condition::And)
}

/// `operand (keyword operand)*`, left-associative.
fn binary(
    p: &mut Parser<'_, '_>,
    keyword: &str,
    operand: fn(&mut Parser<'_, '_>) -> Result<Condition>,
    join: fn(Box<Condition>, Box<Condition>) -> Condition,
) -> Result<Condition> {
    let mut left = operand(p)?;
    while p.eat_keyword(keyword) {
        p.count_operator()?;
        left = join(Box::new(left), Box::new(operand(p)?));
    }
    Ok(left)
}

fn not_expr(p: &mut Parser<'_, '_>) -> Result<Condition> {
    if p.eat_keyword("NOT") {
        p.count_operator()?;
        return Ok(Condition::Not(Box::new(not_expr(p)?)));
    }
    primary(p)
}

fn primary(p: &mut Parser<'_, '_>) -> Result<Condition> {
    if p.peek().is_punct("(") && !operand_in_parens(p) {
        p.advance();
        p.note_redundant_parens();
        let c = super::parser::deeper(|| or_expr(p))?;
        p.expect_punct(")")?;
        return Ok(c);
    }
    let lhs = p.operand_or_call()?;
    let tok = p.peek().clone();
    if let Some(op) = ["=", "<>", "<", "<=", ">", ">="]
        .iter()
        .find(|s| tok.is_punct(s))
        .and_then(|s| CompareOp::from_symbol(s))
    {
        p.advance();
        p.count_operator()?;
        let a = to_operand(p, lhs);
        let rhs = p.operand_or_call()?;
        let b = to_operand(p, rhs);
        if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
            p.check_type(op.symbol(), &a, &["N", "S", "B"]);
            p.check_type(op.symbol(), &b, &["N", "S", "B"]);
        }
        check_distinct(p, op.symbol(), &a, &b);
        return Ok(Condition::Compare(op, a, b));
    }
    if p.eat_keyword("BETWEEN") {
        p.count_operator()?;
        let x = to_operand(p, lhs);
        let lo = p.operand_or_call()?;
        let lo = to_operand(p, lo);
        if !p.eat_keyword("AND") {
            return Err(p.syntax_error());
        }
        let hi = p.operand_or_call()?;
        let hi = to_operand(p, hi);
        for o in [&x, &lo, &hi] {
            p.check_type("BETWEEN", o, &["N", "S", "B"]);
        }
        check_between_bounds(p, &lo, &hi);
        return Ok(Condition::Between(x, lo, hi));
    }
    if p.eat_keyword("IN") {
        p.count_operator()?;
        let x = to_operand(p, lhs);
        p.expect_punct("(")?;
        let mut list = Vec::new();
        loop {
            let o = p.operand_or_call()?;
            list.push(to_operand(p, o));
            if !p.eat_punct(",") {
                break;
            }
        }
        p.expect_punct(")")?;
        if list.len() > MAX_IN_OPERANDS {
            return Err(p.kind.error(format!(
                "The IN operator is provided with too many operands; number of operands: {}",
                list.len()
            )));
        }
        return Ok(Condition::In(x, list));
    }
    match lhs {
        OperandOrCall::Call(name, args) => Ok(boolean_function(p, &name, args)),
        OperandOrCall::Operand(_) => Err(p.syntax_error()),
    }
}

/// At `(`: whether the group is an operand, as in `(a) = :v` or `(size(a)) > :n`: the group
/// is followed by a comparison, `BETWEEN` or `IN`.
fn operand_in_parens(p: &Parser<'_, '_>) -> bool {
    let Some(close) = p.matching_paren(0) else {
        return false;
    };
    let next = p.peek_at(close + 1);
    ["=", "<>", "<", "<=", ">", ">="]
        .iter()
        .any(|s| next.is_punct(s))
        || next.is_keyword("BETWEEN")
        || next.is_keyword("IN")
}

fn check_distinct(p: &mut Parser<'_, '_>, name: &str, a: &Operand, b: &Operand) {
    if let (Operand::Path(x), Operand::Path(y)) = (a, b)
        && x == y
    {
        p.note(
            Cat::Distinct,
            format!("The first operand must be distinct from the remaining operands for this operator or function; operator: {name}, first operand: {x}"),
        );
    }
}

fn check_between_bounds(p: &mut Parser<'_, '_>, lo: &Operand, hi: &Operand) {
    let (Operand::Value(l), Operand::Value(h)) = (lo, hi) else {
        return;
    };
    let show = |v: &AttributeValue| {
        let json = v.to_json();
        let inner = json.get(v.type_name()).map(|x| match x {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        format!(
            "AttributeValue: {{{}:{}}}",
            v.type_name(),
            inner.unwrap_or_default()
        )
    };
    let message = if l.type_name() != h.type_name() {
        "The BETWEEN operator requires same data type for lower and upper bounds"
    } else if order(l, h).is_some_and(Ordering::is_gt) {
        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"
    } else {
        return;
    };
    p.note(
        Cat::OperandType,
        format!(
            "{message}; lower bound operand: {}, upper bound operand: {}",
            show(l),
            show(h)
        ),
    );
}

const BOOLEAN_FUNCTIONS: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
];

/// Interprets an operand position in a condition: only `size` may be called there.
fn to_operand(p: &mut Parser<'_, '_>, o: OperandOrCall) -> Operand {
    match o {
        OperandOrCall::Operand(op) => op,
        OperandOrCall::Call(name, args) if name == "size" => {
            if !p.check_arity("size", &args, 1) {
                return Operand::Value(AttributeValue::Null);
            }
            let mut args = args;
            let arg = args.remove(0);
            let inner = to_operand(p, arg);
            if let Some(t) = inner.static_type()
                && matches!(t, "N" | "BOOL" | "NULL")
            {
                p.check_type("size", &inner, &[]);
            }
            Operand::Size(Box::new(inner))
        }
        OperandOrCall::Call(name, args) => {
            if BOOLEAN_FUNCTIONS.contains(&name.as_str()) {
                p.note(
                    Cat::MisusedFunction,
                    format!("The function is not allowed to be used this way in an expression; function: {name}"),
                );
            } else if matches!(name.as_str(), "if_not_exists" | "list_append") {
                p.note(
                    Cat::MisusedFunction,
                    format!(
                        "The function is not allowed in a condition expression; function: {name}"
                    ),
                );
            } else {
                p.note(
                    Cat::UnknownFunction,
                    format!("Invalid function name; function: {name}"),
                );
            }
            for a in args {
                to_operand(p, a);
            }
            Operand::Value(AttributeValue::Null)
        }
    }
}

/// A function call in condition position.
fn boolean_function(p: &mut Parser<'_, '_>, name: &str, args: Vec<OperandOrCall>) -> Condition {
    if name == "size" {
        p.note(
            Cat::MisusedFunction,
            "The function is not allowed to be used this way in an expression; function: size"
                .to_owned(),
        );
    }
    if name == "size" || !BOOLEAN_FUNCTIONS.contains(&name) {
        to_operand(p, OperandOrCall::Call(name.to_owned(), args));
        return Condition::True;
    }
    let arity = if name.starts_with("attribute_") && name != "attribute_type" {
        1
    } else {
        2
    };
    let arity_ok = p.check_arity(name, &args, arity);
    let ops: Vec<Operand> = args.into_iter().map(|a| to_operand(p, a)).collect();
    if !arity_ok {
        return Condition::True;
    }
    let mut ops = ops.into_iter();
    let (a, b) = (ops.next(), ops.next());
    let Some(a) = a else { return Condition::True };
    if let Some(b) = &b {
        check_distinct(p, name, &a, b);
    }
    match (name, b) {
        ("attribute_exists", _) => p
            .require_path(name, &a)
            .map_or(Condition::True, Condition::Exists),
        ("attribute_not_exists", _) => p
            .require_path(name, &a)
            .map_or(Condition::True, Condition::NotExists),
        ("attribute_type", Some(t)) => {
            // DynamoDB also takes a value as the first operand: `attribute_type(:v, :t)`.
            let subject = match a {
                Operand::Value(_) => Some(a),
                _ => p.require_path(name, &a).map(Operand::Path),
            };
            match &t {
                Operand::Value(AttributeValue::S(s)) if !TYPE_NAMES.contains(&s.as_str()) => p.note(
                    Cat::OperandType,
                    format!("Invalid attribute type name found; type: {s}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"),
                ),
                Operand::Value(AttributeValue::S(_)) => {}
                Operand::Value(_) => p.check_type(name, &t, &["S"]),
                _ => p.note(
                    Cat::OperandType,
                    format!("Incorrect operand type for operator or function; operator or function: {name}, operand type: {{NS,SS,L,BS,N,M,B,BOOL,NULL,S}}"),
                ),
            }
            subject.map_or(Condition::True, |a| Condition::AttributeType(a, t))
        }
        ("begins_with", Some(b)) => {
            p.check_type(name, &a, &["S", "B"]);
            p.check_type(name, &b, &["S", "B"]);
            Condition::BeginsWith(a, b)
        }
        (_, Some(b)) => Condition::Contains(a, b),
        _ => Condition::True,
    }
}

/// The condition on the range key in a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeCondition {
    /// `sk = :v`
    Eq(AttributeValue),
    /// `sk < :v`
    Lt(AttributeValue),
    /// `sk <= :v`
    Le(AttributeValue),
    /// `sk > :v`
    Gt(AttributeValue),
    /// `sk >= :v`
    Ge(AttributeValue),
    /// `sk BETWEEN :a AND :b`
    Between(AttributeValue, AttributeValue),
    /// `begins_with(sk, :p)`
    BeginsWith(AttributeValue),
}

impl RangeCondition {
    /// Whether a range key value satisfies the condition.
    pub fn matches(&self, v: &AttributeValue) -> bool {
        let cmp = |op, b: &AttributeValue| compare(op, Some(v), Some(b));
        match self {
            RangeCondition::Eq(b) => cmp(CompareOp::Eq, b),
            RangeCondition::Lt(b) => cmp(CompareOp::Lt, b),
            RangeCondition::Le(b) => cmp(CompareOp::Le, b),
            RangeCondition::Gt(b) => cmp(CompareOp::Gt, b),
            RangeCondition::Ge(b) => cmp(CompareOp::Ge, b),
            RangeCondition::Between(lo, hi) => cmp(CompareOp::Ge, lo) && cmp(CompareOp::Le, hi),
            RangeCondition::BeginsWith(prefix) => {
                Condition::BeginsWith(Operand::Value(v.clone()), Operand::Value(prefix.clone()))
                    .evaluate(&Item::new())
            }
        }
    }

    /// The values the condition holds (for key type checks in the service).
    pub fn values(&self) -> Vec<&AttributeValue> {
        match self {
            RangeCondition::Between(a, b) => vec![a, b],
            RangeCondition::Eq(v)
            | RangeCondition::Lt(v)
            | RangeCondition::Le(v)
            | RangeCondition::Gt(v)
            | RangeCondition::Ge(v)
            | RangeCondition::BeginsWith(v) => vec![v],
        }
    }
}

/// A parsed key condition: one or two predicates, each on one top-level attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    /// Attribute name and predicate, in expression order.
    pub parts: Vec<(String, RangeCondition)>,
}

impl KeyCondition {
    /// Parses a `KeyConditionExpression`.
    pub fn parse(src: &str, attrs: &mut ExpressionAttributes) -> Result<KeyCondition> {
        let cond = Condition::parse(src, ExprKind::KeyCondition, attrs)?;
        KeyCondition::from_condition(cond)
    }

    /// The key condition that a parsed `KeyConditionExpression` states, or why it is not one.
    /// DynamoDB checks the use of names and values in between, so callers may too.
    pub fn from_condition(cond: Condition) -> Result<KeyCondition> {
        let kind = ExprKind::KeyCondition;
        let mut conjuncts = Vec::new();
        flatten_and(cond, &mut conjuncts)?;
        if conjuncts.len() > 2 {
            return Err(kind.error("The expression contains too many conditions; only one condition per key is allowed"));
        }
        let mut parts = Vec::new();
        for c in conjuncts {
            let (path, pred) = key_predicate(c)?;
            if !path.is_top_level() {
                return Err(Error::validation(
                    "KeyConditionExpressions cannot have conditions on nested attributes",
                ));
            }
            let name = path.top().to_owned();
            if parts.iter().any(|(n, _)| *n == name) {
                return Err(Error::validation(
                    "KeyConditionExpressions must only contain one condition per key",
                ));
            }
            parts.push((name, pred));
        }
        Ok(KeyCondition { parts })
    }

    /// Whether one of the conditions is on `name`.
    fn names_key(&self, name: &str) -> bool {
        self.parts.iter().any(|(n, _)| n == name)
    }

    /// Matches the condition to the key schema: the hash key value, and the range condition.
    pub fn resolve(
        &self,
        hash: &str,
        range: Option<&str>,
    ) -> Result<(AttributeValue, Option<RangeCondition>)> {
        let mut hash_value = None;
        let mut range_cond = None;
        for (name, pred) in &self.parts {
            if name == hash {
                match pred {
                    RangeCondition::Eq(v) => hash_value = Some(v.clone()),
                    _ => return Err(Error::validation("Query key condition not supported")),
                }
            } else if Some(name.as_str()) == range {
                range_cond = Some(pred.clone());
            } else if self.parts.len() > 1 && (range.is_none() || !self.names_key(hash)) {
                // Two conditions that cannot be the hash and the sort key.
                return Err(Error::validation("Query key condition not supported"));
            } else {
                // The hash key is missed first; with it given, the sort key.
                let missed = if self.names_key(hash) {
                    range.unwrap_or(hash)
                } else {
                    hash
                };
                return Err(Error::validation(format!(
                    "Query condition missed key schema element: {missed}"
                )));
            }
        }
        let Some(hash_value) = hash_value else {
            return Err(Error::validation(format!(
                "Query condition missed key schema element: {hash}"
            )));
        };
        Ok((hash_value, range_cond))
    }
}

fn flatten_and(c: Condition, out: &mut Vec<Condition>) -> Result<()> {
    match c {
        Condition::And(a, b) => {
            flatten_and(*a, out)?;
            flatten_and(*b, out)
        }
        Condition::Or(..) => {
            Err(ExprKind::KeyCondition.error("Invalid operator used in KeyConditionExpression: OR"))
        }
        Condition::Not(..) => {
            Err(ExprKind::KeyCondition
                .error("Invalid operator used in KeyConditionExpression: NOT"))
        }
        other => {
            out.push(other);
            Ok(())
        }
    }
}

fn key_predicate(c: Condition) -> Result<(Path, RangeCondition)> {
    let unsupported = |what: &str| {
        ExprKind::KeyCondition.error(format!(
            "Invalid operator used in KeyConditionExpression: {what}"
        ))
    };
    let (op, path, value) = match c {
        Condition::Compare(op, Operand::Path(p), Operand::Value(v)) => (op, p, v),
        Condition::Compare(op, Operand::Value(v), Operand::Path(p)) => (op.flipped(), p, v),
        Condition::Compare(CompareOp::Ne, ..) => return Err(unsupported("<>")),
        Condition::Between(Operand::Path(p), Operand::Value(lo), Operand::Value(hi)) => {
            return Ok((p, RangeCondition::Between(lo, hi)));
        }
        Condition::BeginsWith(Operand::Path(p), Operand::Value(v)) => {
            return Ok((p, RangeCondition::BeginsWith(v)));
        }
        Condition::In(..) => return Err(unsupported("IN")),
        Condition::Exists(_) => return Err(unsupported("attribute_exists")),
        Condition::NotExists(_) => return Err(unsupported("attribute_not_exists")),
        Condition::AttributeType(..) => return Err(unsupported("attribute_type")),
        Condition::Contains(..) => return Err(unsupported("contains")),
        Condition::Compare(_, Operand::Path(_), Operand::Path(_)) => {
            return Err(Error::validation(
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
            ));
        }
        _ => return Err(Error::validation("Query key condition not supported")),
    };
    let pred = match op {
        CompareOp::Eq => RangeCondition::Eq(value),
        CompareOp::Lt => RangeCondition::Lt(value),
        CompareOp::Le => RangeCondition::Le(value),
        CompareOp::Gt => RangeCondition::Gt(value),
        CompareOp::Ge => RangeCondition::Ge(value),
        CompareOp::Ne => return Err(unsupported("<>")),
    };
    Ok((path, pred))
}
