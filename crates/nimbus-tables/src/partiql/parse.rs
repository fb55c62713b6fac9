//! The PartiQL dialect DynamoDB accepts, parsed into statements.
//!
//! Written by hand: DynamoDB takes a small slice of PartiQL (one SELECT, INSERT, UPDATE or
//! DELETE over one table, `EXISTS` in transactions) with its own restrictions and error
//! texts. A general PartiQL parser would accept far more than DynamoDB does and its syntax
//! tree would still need this mapping onto DynamoDB's operations.

pub(crate) use nimbus_tables_model::expr::CompareOp as Comparison;
use nimbus_tables_model::{AttributeValue, Number};

use crate::error::{Result, TablesError};

/// A statement, as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statement {
    Select(Select),
    Insert {
        table: String,
        value: Value,
    },
    Update {
        table: String,
        actions: Vec<UpdateAction>,
        condition: Expr,
        returning: Option<Returning>,
    },
    Delete {
        table: String,
        condition: Expr,
        returning: Option<Returning>,
    },
    /// `EXISTS(SELECT ...)`: a condition check, in transactions only.
    Exists(Select),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Select {
    /// `None` for `*`.
    pub(crate) projection: Option<Vec<Path>>,
    pub(crate) table: String,
    pub(crate) index: Option<String>,
    pub(crate) condition: Option<Expr>,
    /// `ORDER BY <path> [ASC|DESC]`: the path and whether it is descending.
    pub(crate) order: Option<(Path, bool)>,
}

/// `RETURNING ALL|MODIFIED OLD|NEW *`, as DynamoDB's `ReturnValues`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returning {
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

impl Returning {
    /// The clause's words, as written: `ALL OLD`.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL OLD",
            Returning::UpdatedOld => "MODIFIED OLD",
            Returning::AllNew => "ALL NEW",
            Returning::UpdatedNew => "MODIFIED NEW",
        }
    }

    pub(crate) fn return_values(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL_OLD",
            Returning::UpdatedOld => "UPDATED_OLD",
            Returning::AllNew => "ALL_NEW",
            Returning::UpdatedNew => "UPDATED_NEW",
        }
    }
}

/// A document path: `a.b[2]."c d"`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path(pub(crate) Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Name(String),
    Index(u32),
}

impl Path {
    /// The attribute name when the path is one top-level name.
    pub(crate) fn single_name(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Step::Name(name)] => Some(name),
            _ => None,
        }
    }

    /// The last name of the path: the name a projected value has in the result.
    pub(crate) fn last_name(&self) -> &str {
        self.0
            .iter()
            .rev()
            .find_map(|step| match step {
                Step::Name(name) => Some(name.as_str()),
                Step::Index(_) => None,
            })
            .unwrap_or_default()
    }
}

/// A value written in the statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Literal(AttributeValue),
    /// The n-th `?`, from 0.
    Parameter(usize),
    Map(Vec<(String, Value)>),
    List(Vec<Value>),
    /// `<<...>>`: a set.
    Bag(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Value(Value),
    Size(Path),
}

/// A condition of a WHERE clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Comparison, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    /// `IS [NOT] MISSING`: whether the path is absent.
    Missing(Path, bool),
    /// `IS [NOT] NULL`: whether the value is a NULL.
    Null(Path, bool),
    /// `begins_with`, `contains`, `attribute_type`.
    Function(&'static str, Vec<Operand>),
}

/// One `SET` or `REMOVE` of an UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UpdateAction {
    Set(Path, SetValue),
    Remove(Path),
}

/// The right-hand side of a `SET`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetValue {
    Operand(Operand),
    Plus(Box<SetValue>, Box<SetValue>),
    Minus(Box<SetValue>, Box<SetValue>),
    ListAppend(Box<SetValue>, Box<SetValue>),
    IfNotExists(Path, Box<SetValue>),
    /// `set_add(path, set)` and `set_delete(path, set)`: DynamoDB's ADD and DELETE actions.
    SetAdd(Path, Value),
    SetDelete(Path, Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Text(String),
    Number(String),
    Parameter,
    Symbol(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => format!("\"{q}\""),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.clone(),
            Token::Parameter => "?".into(),
            Token::Symbol(s) => (*s).into(),
        }
    }
}

/// The ValidationException DynamoDB gives a statement it cannot read.
pub(crate) fn malformed(detail: impl std::fmt::Display) -> TablesError {
    TablesError::validation(format!(
        "Statement wasn't well formed, can't be processed: {detail}"
    ))
}

const SYMBOLS: [&str; 20] = [
    "<<", ">>", "<=", ">=", "<>", "!=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">",
    "+", "-",
];

fn tokens(text: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(out);
        };
        if c == '\'' || c == '"' {
            let (body, after) = quoted(rest, c)?;
            out.push(if c == '\'' {
                Token::Text(body)
            } else {
                Token::Quoted(body)
            });
            rest = after;
        } else if c.is_ascii_digit() {
            let end = number_end(rest);
            out.push(Token::Number(rest[..end].to_owned()));
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(Token::Word(rest[..end].to_owned()));
            rest = &rest[end..];
        } else if c == '?' {
            out.push(Token::Parameter);
            rest = &rest[1..];
        } else if c == '*' {
            out.push(Token::Symbol("*"));
            rest = &rest[1..];
        } else if let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            out.push(Token::Symbol(if *symbol == "!=" { "<>" } else { symbol }));
            rest = &rest[symbol.len()..];
        } else {
            return Err(malformed(format!("Unexpected character: {c}")));
        }
    }
}

/// The body of a quoted string or name starting at `text` (a doubled quote stands for
/// itself) and what follows it.
fn quoted(text: &str, quote: char) -> Result<(String, &str)> {
    let mut body = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, next)| *next == quote) {
                chars.next();
                body.push(quote);
                continue;
            }
            return Ok((body, &text[i + 1..]));
        }
        body.push(c);
    }
    Err(malformed("Unterminated quoted text"))
}

/// Where a number literal starting at `text` ends: digits, a fraction, an exponent.
fn number_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = digits(0);
    if end < bytes.len() && bytes[end] == b'.' && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        end = digits(end + 1);
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut i = end + 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            end = digits(i);
        }
    }
    end
}

/// Parses one statement, and counts its `?`s (numbered in order).
pub(crate) fn parse(text: &str) -> Result<(Statement, usize)> {
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
        parameters: 0,
        depth: 0,
    };
    let statement = parser.statement()?;
    if let Some(extra) = parser.peek() {
        return Err(malformed(format!("Unexpected token: {}", extra.describe())));
    }
    Ok((statement, parser.parameters))
}

/// How deep conditions, values and SET terms may nest (parentheses, NOT, lists and maps):
/// well past the 32 levels an item may have, and shallow enough that parsing, and dropping,
/// what was parsed stays far from the end of the stack.
const MAX_DEPTH: usize = 100;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    parameters: usize,
    depth: usize,
}

impl Parser {
    /// Runs `parse` one nesting level deeper, refusing statements nested past [`MAX_DEPTH`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(malformed("The statement is nested too deeply"));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn unexpected(&self) -> TablesError {
        match self.peek() {
            Some(token) => malformed(format!("Unexpected token: {}", token.describe())),
            None => malformed("Unexpected end of statement"),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn keyword(&mut self, keyword: &str) -> Result<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = self.is_symbol(symbol);
        if found {
            self.at += 1;
        }
        found
    }

    fn symbol(&mut self, symbol: &str) -> Result<()> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn statement(&mut self) -> Result<Statement> {
        if self.eat_keyword("SELECT") {
            return Ok(Statement::Select(self.select_rest()?));
        }
        if self.eat_keyword("EXISTS") {
            self.symbol("(")?;
            self.keyword("SELECT")?;
            let select = self.select_rest()?;
            self.symbol(")")?;
            return Ok(Statement::Exists(select));
        }
        if self.eat_keyword("INSERT") {
            self.keyword("INTO")?;
            let (table, index) = self.table_ref()?;
            if index.is_some() {
                return Err(TablesError::validation(
                    "FROM clause may only contain a single table name",
                ));
            }
            self.keyword("VALUE")?;
            let value = self.value()?;
            return Ok(Statement::Insert { table, value });
        }
        if self.eat_keyword("UPDATE") {
            let table = self.table_only()?;
            let mut actions = Vec::new();
            loop {
                if self.eat_keyword("SET") {
                    loop {
                        let path = self.path()?;
                        self.symbol("=")?;
                        actions.push(UpdateAction::Set(path, self.set_value()?));
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                } else if self.eat_keyword("REMOVE") {
                    loop {
                        actions.push(UpdateAction::Remove(self.path()?));
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                } else {
                    break;
                }
            }
            if actions.is_empty() {
                return Err(self.unexpected());
            }
            self.keyword("WHERE")?;
            let condition = self.expr()?;
            let returning = self.returning()?;
            return Ok(Statement::Update {
                table,
                actions,
                condition,
                returning,
            });
        }
        if self.eat_keyword("DELETE") {
            self.keyword("FROM")?;
            let table = self.table_only()?;
            self.keyword("WHERE")?;
            let condition = self.expr()?;
            let returning = self.returning()?;
            return Ok(Statement::Delete {
                table,
                condition,
                returning,
            });
        }
        Err(malformed("Expected data manipulation"))
    }

    /// `table` or `table.index`, each part bare or quoted.
    fn table_ref(&mut self) -> Result<(String, Option<String>)> {
        let mut parts = vec![self.name()?];
        while self.eat_symbol(".") {
            parts.push(self.name()?);
        }
        if parts.len() > 2 {
            return Err(TablesError::validation(
                "A path may contain at most 2 components in the FROM clause",
            ));
        }
        if parts.iter().any(String::is_empty) {
            return Err(TablesError::validation(
                "Path component cannot be an empty string",
            ));
        }
        let index = (parts.len() == 2).then(|| parts.remove(1));
        Ok((parts.remove(0), index))
    }

    /// The table of an UPDATE or DELETE, which cannot work on an index.
    fn table_only(&mut self) -> Result<String> {
        match self.table_ref()? {
            (table, None) => Ok(table),
            (_, Some(_)) => Err(TablesError::validation(
                "This operation is not supported on an index",
            )),
        }
    }

    fn select_rest(&mut self) -> Result<Select> {
        let projection = if self.eat_symbol("*") {
            None
        } else {
            let mut paths = vec![self.path()?];
            while self.eat_symbol(",") {
                paths.push(self.path()?);
            }
            Some(paths)
        };
        self.keyword("FROM")?;
        let (table, index) = self.table_ref()?;
        let condition = if self.eat_keyword("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let order = if self.eat_keyword("ORDER") {
            self.keyword("BY")?;
            let path = self.path()?;
            let descending = if self.eat_keyword("DESC") {
                true
            } else {
                self.eat_keyword("ASC");
                false
            };
            Some((path, descending))
        } else {
            None
        };
        Ok(Select {
            projection,
            table,
            index,
            condition,
            order,
        })
    }

    fn returning(&mut self) -> Result<Option<Returning>> {
        if !self.eat_keyword("RETURNING") {
            return Ok(None);
        }
        let all = if self.eat_keyword("ALL") {
            true
        } else {
            self.keyword("MODIFIED")?;
            false
        };
        let returning = if self.eat_keyword("OLD") {
            if all {
                Returning::AllOld
            } else {
                Returning::UpdatedOld
            }
        } else {
            self.keyword("NEW")?;
            if all {
                Returning::AllNew
            } else {
                Returning::UpdatedNew
            }
        };
        self.symbol("*")?;
        Ok(Some(returning))
    }

    /// A table, index or attribute name: bare or in double quotes.
    fn name(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            Some(Token::Quoted(q)) => {
                let q = q.clone();
                self.at += 1;
                Ok(q)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn path(&mut self) -> Result<Path> {
        let mut steps = vec![Step::Name(self.name()?)];
        loop {
            if self.eat_symbol(".") {
                steps.push(Step::Name(self.name()?));
            } else if self.eat_symbol("[") {
                let index = match self.next() {
                    Some(Token::Number(n)) => n
                        .parse::<u32>()
                        .map_err(|_| malformed(format!("Invalid list index: {n}")))?,
                    _ => {
                        self.at -= 1;
                        return Err(self.unexpected());
                    }
                };
                self.symbol("]")?;
                steps.push(Step::Index(index));
            } else {
                return Ok(Path(steps));
            }
        }
    }

    fn expr(&mut self) -> Result<Expr> {
        self.nested(Self::expr_inner)
    }

    fn expr_inner(&mut self) -> Result<Expr> {
        let mut left = self.and_expr()?;
        while self.eat_keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr> {
        let mut left = self.not_expr()?;
        while self.eat_keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not_expr()?));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr> {
        self.nested(Self::not_expr_inner)
    }

    fn not_expr_inner(&mut self) -> Result<Expr> {
        if self.eat_keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr> {
        if self.eat_symbol("(") {
            let inner = self.expr()?;
            self.symbol(")")?;
            return Ok(inner);
        }
        for (name, function) in [
            ("begins_with", "begins_with"),
            ("contains", "contains"),
            ("attribute_type", "attribute_type"),
        ] {
            if self.is_keyword(name) && self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) {
                self.at += 2;
                let mut args = vec![self.operand()?];
                while self.eat_symbol(",") {
                    args.push(self.operand()?);
                }
                self.symbol(")")?;
                if args.len() != 2 {
                    return Err(malformed(format!(
                        "Incorrect number of arguments for function {name}"
                    )));
                }
                return Ok(Expr::Function(function, args));
            }
        }
        let left = self.operand()?;
        if self.eat_keyword("BETWEEN") {
            let low = self.operand()?;
            self.keyword("AND")?;
            let high = self.operand()?;
            return Ok(Expr::Between(left, low, high));
        }
        if self.eat_keyword("IN") {
            let close = if self.eat_symbol("[") {
                "]"
            } else {
                self.symbol("(")?;
                ")"
            };
            let mut list = vec![self.operand()?];
            while self.eat_symbol(",") {
                list.push(self.operand()?);
            }
            self.symbol(close)?;
            return Ok(Expr::In(left, list));
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            let Operand::Path(path) = left else {
                return Err(malformed("IS needs a document path on its left"));
            };
            if self.eat_keyword("MISSING") {
                return Ok(Expr::Missing(path, negated));
            }
            self.keyword("NULL")?;
            return Ok(Expr::Null(path, negated));
        }
        let comparison = match self.peek() {
            Some(Token::Symbol(s)) => Comparison::from_symbol(s),
            _ => None,
        }
        .ok_or_else(|| self.unexpected())?;
        self.at += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(left, comparison, right))
    }

    fn operand(&mut self) -> Result<Operand> {
        if self.is_keyword("size") && self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) {
            self.at += 2;
            let path = self.path()?;
            self.symbol(")")?;
            return Ok(Operand::Size(path));
        }
        match self.peek() {
            Some(Token::Word(w)) if !is_literal_word(w) => Ok(Operand::Path(self.path()?)),
            Some(Token::Quoted(_)) => Ok(Operand::Path(self.path()?)),
            _ => Ok(Operand::Value(self.value()?)),
        }
    }

    fn set_value(&mut self) -> Result<SetValue> {
        self.nested(Self::set_value_inner)
    }

    fn set_value_inner(&mut self) -> Result<SetValue> {
        let mut left = self.set_term()?;
        loop {
            if self.eat_symbol("+") {
                left = SetValue::Plus(Box::new(left), Box::new(self.set_term()?));
            } else if self.eat_symbol("-") {
                left = SetValue::Minus(Box::new(left), Box::new(self.set_term()?));
            } else {
                return Ok(left);
            }
        }
    }

    fn set_term(&mut self) -> Result<SetValue> {
        let function = match self.peek() {
            Some(Token::Word(w)) if self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) => {
                w.to_ascii_lowercase()
            }
            _ => return Ok(SetValue::Operand(self.operand()?)),
        };
        self.at += 2;
        let term = match function.as_str() {
            "list_append" => {
                let a = self.set_value()?;
                self.symbol(",")?;
                SetValue::ListAppend(Box::new(a), Box::new(self.set_value()?))
            }
            "if_not_exists" => {
                let path = self.path()?;
                self.symbol(",")?;
                SetValue::IfNotExists(path, Box::new(self.set_value()?))
            }
            "set_add" | "set_delete" => {
                let path = self.path()?;
                self.symbol(",")?;
                let value = self.value()?;
                if function == "set_add" {
                    SetValue::SetAdd(path, value)
                } else {
                    SetValue::SetDelete(path, value)
                }
            }
            "size" => {
                self.at -= 2;
                return Ok(SetValue::Operand(self.operand()?));
            }
            other => return Err(malformed(format!("Unsupported function: {other}"))),
        };
        self.symbol(")")?;
        Ok(term)
    }

    fn value(&mut self) -> Result<Value> {
        self.nested(Self::value_inner)
    }

    fn value_inner(&mut self) -> Result<Value> {
        let Some(token) = self.next() else {
            return Err(malformed("Unexpected end of statement"));
        };
        Ok(match token {
            Token::Parameter => {
                self.parameters += 1;
                Value::Parameter(self.parameters - 1)
            }
            Token::Text(text) => Value::Literal(AttributeValue::S(text)),
            Token::Number(n) => Value::Literal(number(&n)?),
            Token::Symbol("-") => match self.next() {
                Some(Token::Number(n)) => Value::Literal(number(&format!("-{n}"))?),
                _ => {
                    self.at -= 1;
                    return Err(self.unexpected());
                }
            },
            Token::Word(w) if w.eq_ignore_ascii_case("TRUE") => {
                Value::Literal(AttributeValue::Bool(true))
            }
            Token::Word(w) if w.eq_ignore_ascii_case("FALSE") => {
                Value::Literal(AttributeValue::Bool(false))
            }
            Token::Word(w) if w.eq_ignore_ascii_case("NULL") => {
                Value::Literal(AttributeValue::Null)
            }
            Token::Symbol("{") => {
                let mut members = Vec::new();
                if !self.eat_symbol("}") {
                    loop {
                        let key = match self.next() {
                            Some(Token::Text(k) | Token::Quoted(k) | Token::Word(k)) => k,
                            _ => {
                                self.at -= 1;
                                return Err(self.unexpected());
                            }
                        };
                        self.symbol(":")?;
                        members.push((key, self.value()?));
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    self.symbol("}")?;
                }
                Value::Map(members)
            }
            Token::Symbol(open @ ("[" | "<<")) => {
                let close = if open == "[" { "]" } else { ">>" };
                let mut members = Vec::new();
                if !self.eat_symbol(close) {
                    loop {
                        members.push(self.value()?);
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    self.symbol(close)?;
                }
                if open == "[" {
                    Value::List(members)
                } else {
                    Value::Bag(members)
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.unexpected());
            }
        })
    }
}

fn is_literal_word(word: &str) -> bool {
    ["TRUE", "FALSE", "NULL"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

fn number(text: &str) -> Result<AttributeValue> {
    Ok(AttributeValue::N(Number::parse(text)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Literal(AttributeValue::S(v.into()))
    }

    fn name(n: &str) -> Path {
        Path(vec![Step::Name(n.into())])
    }

    #[test]
    fn reads_a_select_with_keys_filters_and_order() {
        let (parsed, _) = parse(
            r#"select a, "b c".d[2] FROM "Music"."ix" WHERE pk = ? AND (n >= 1.5e2 OR NOT x IS MISSING) ORDER BY sk DESC"#,
        )
        .unwrap();
        let Statement::Select(select) = parsed else {
            panic!("not a select: {parsed:?}")
        };
        assert_eq!(select.table, "Music");
        assert_eq!(select.index.as_deref(), Some("ix"));
        assert_eq!(
            select.projection.unwrap()[1],
            Path(vec![
                Step::Name("b c".into()),
                Step::Name("d".into()),
                Step::Index(2)
            ])
        );
        assert_eq!(select.order, Some((name("sk"), true)));
        let Some(Expr::And(first, _)) = select.condition else {
            panic!("no AND")
        };
        assert_eq!(
            *first,
            Expr::Compare(
                Operand::Path(name("pk")),
                Comparison::Eq,
                Operand::Value(Value::Parameter(0))
            )
        );
    }

    #[test]
    fn reads_values_of_every_kind() {
        let (parsed, _) = parse(
            "INSERT INTO t VALUE {'pk': 'it''s', 'n': -3, 'l': [1, true, null], 'm': {'k': ?}, 's': <<'a', 'b'>>}",
        )
        .unwrap();
        let Statement::Insert { table, value } = parsed else {
            panic!("not an insert")
        };
        assert_eq!(table, "t");
        let Value::Map(members) = value else {
            panic!("not a map")
        };
        assert_eq!(members[0], ("pk".into(), s("it's")));
        assert_eq!(
            members[1].1,
            Value::Literal(AttributeValue::N(Number::parse("-3").unwrap()))
        );
        assert_eq!(
            members[2].1,
            Value::List(vec![
                Value::Literal(AttributeValue::N(Number::parse("1").unwrap())),
                Value::Literal(AttributeValue::Bool(true)),
                Value::Literal(AttributeValue::Null),
            ])
        );
        assert_eq!(
            members[3].1,
            Value::Map(vec![("k".into(), Value::Parameter(0))])
        );
        assert_eq!(members[4].1, Value::Bag(vec![s("a"), s("b")]));
    }

    #[test]
    fn reads_updates_and_deletes() {
        let (parsed, _) = parse(
            "UPDATE \"t\" SET a = a + 1, b = list_append(b, [2]) SET c = set_add(c, <<'x'>>) REMOVE d WHERE pk = 'k' RETURNING MODIFIED NEW *",
        )
        .unwrap();
        let Statement::Update {
            actions, returning, ..
        } = parsed
        else {
            panic!("not an update")
        };
        assert_eq!(actions.len(), 4);
        assert_eq!(actions[3], UpdateAction::Remove(name("d")));
        assert!(matches!(
            actions[2],
            UpdateAction::Set(_, SetValue::SetAdd(..))
        ));
        assert_eq!(returning, Some(Returning::UpdatedNew));
        let (parsed, _) = parse("DELETE FROM t WHERE pk = 1 RETURNING ALL OLD *").unwrap();
        assert!(matches!(
            parsed,
            Statement::Delete {
                returning: Some(Returning::AllOld),
                ..
            }
        ));
        assert!(matches!(
            parse("EXISTS(SELECT * FROM t WHERE pk = 1 AND a IS MISSING)")
                .unwrap()
                .0,
            Statement::Exists(_)
        ));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "SELECTT * FROMM t",
            "SELECT * FROM",
            "SELECT * FROM t WHERE",
            "SELECT * FROM t WHERE a =",
            "INSERT INTO t VALUE {'a' 1}",
            "UPDATE t WHERE pk = 1",
            "DELETE t WHERE pk = 1",
            "SELECT * FROM t WHERE a = 'open",
            "SELECT * FROM t extra",
            "SELECT * FROM t WHERE a # 1",
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(
                error.starts_with("Statement wasn't well formed, can't be processed: "),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn refuses_nesting_past_its_limit_without_exhausting_the_stack() {
        let deep = |open: &str, close: &str, n: usize| {
            format!(
                "SELECT * FROM t WHERE a = {}1{}",
                open.repeat(n),
                close.repeat(n)
            )
        };
        assert!(parse(&deep("[", "]", 90)).is_ok());
        for statement in [
            deep("[", "]", 5000),
            deep("{'k': ", "}", 3000),
            format!(
                "SELECT * FROM t WHERE {}a = 1{}",
                "(".repeat(5000),
                ")".repeat(5000)
            ),
            format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(5000)),
            format!(
                "UPDATE t SET a = {}b{} WHERE pk = 1",
                "list_append(".repeat(3000),
                ", [1])".repeat(3000)
            ),
        ] {
            let error = parse(&statement).unwrap_err().to_string();
            assert!(
                error.ends_with("The statement is nested too deeply"),
                "{error}"
            );
        }
    }

    #[test]
    fn counts_parameters() {
        let (_, count) = parse("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN [?, ?]").unwrap();
        assert_eq!(count, 3);
    }
}
