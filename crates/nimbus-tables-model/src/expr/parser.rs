//! The parser core shared by the expression languages: the token cursor, syntax errors, document
//! paths, placeholders, operands and function calls, and the semantic errors that DynamoDB
//! reports after a successful parse in a fixed order of precedence.

use super::lexer::{Tok, Token, tokenize};
use super::path::{Path, PathElem};
use super::{
    ExprKind, ExpressionAttributes, MAX_EXPRESSION_SIZE, MAX_OPERATORS, Operand, is_reserved_word,
};
use crate::value::MAX_NESTING_DEPTH;

/// The deepest nesting of parentheses an expression may have: one group per operator, and
/// the outermost group.
const MAX_PAREN_DEPTH: usize = MAX_OPERATORS + 1;
use crate::error::{Error, Result};
use crate::value::AttributeValue;

/// Words that are tokens of the expression grammars, never attribute names.
const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE",
];

/// Runs one level of the recursive descent on a fresh stack segment when the current one is
/// nearly used up. Nesting is bounded ([`MAX_PAREN_DEPTH`], [`MAX_OPERATORS`]), but a level
/// takes several frames and unoptimised builds make them large, so the bound alone does not
/// keep a 2 MiB thread stack safe.
pub(crate) fn deeper<T>(level: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, level)
}

/// Kinds of semantic error, in no particular order; each expression kind ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cat {
    Parens,
    UnknownFunction,
    MisusedFunction,
    Reserved,
    Section,
    Undefined,
    Overlap,
    OperandCount,
    Distinct,
    OperandType,
}

pub(crate) struct Parser<'s, 'a> {
    pub src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    pub kind: ExprKind,
    pub attrs: &'a mut ExpressionAttributes,
    errors: Vec<(Cat, String)>,
    pub operators: usize,
}

impl<'s, 'a> Parser<'s, 'a> {
    /// Checks emptiness and size, and tokenizes.
    pub fn new(src: &'s str, kind: ExprKind, attrs: &'a mut ExpressionAttributes) -> Result<Self> {
        if src.len() > MAX_EXPRESSION_SIZE {
            return Err(kind.error(format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            )));
        }
        if src.trim().is_empty() {
            return Err(kind.error("The expression can not be empty;"));
        }
        let parser = Parser {
            src,
            toks: tokenize(src),
            pos: 0,
            kind,
            attrs,
            errors: Vec::new(),
            operators: 0,
        };
        parser.check_nesting()?;
        Ok(parser)
    }

    /// Refuses parentheses nested deeper than [`MAX_PAREN_DEPTH`] before the recursive descent
    /// meets them, so that no expression within the size limit can exhaust the stack. Deeper
    /// nesting can only come from redundant parentheses (every group that is not redundant
    /// holds an operator of its own, and an expression has at most [`MAX_OPERATORS`]), so that
    /// is the error, or the syntax error of the first unclosed `(`.
    fn check_nesting(&self) -> Result<()> {
        let mut depth = 0usize;
        let mut deepest = 0usize;
        for t in &self.toks {
            if t.is_punct("(") {
                depth += 1;
                deepest = deepest.max(depth);
            } else if t.is_punct(")") {
                depth = depth.saturating_sub(1);
            }
        }
        if deepest <= MAX_PAREN_DEPTH {
            return Ok(());
        }
        if depth > 0 {
            // An unclosed `(`: the parse would end at the end of the input, after the last token.
            let last = self.toks.len().checked_sub(2).map(|i| &self.toks[i]);
            return Err(self.kind.error(format!(
                "Syntax error; token: \"<EOF>\", near: \"{}\"",
                last.map_or("", |t| t.text(self.src))
            )));
        }
        Err(self.kind.error("The expression has redundant parentheses;"))
    }

    pub fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    pub fn peek_at(&self, ahead: usize) -> &Token {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)]
    }

    pub fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub fn at_end(&self) -> bool {
        self.peek().tok == Tok::Eof
    }

    /// The syntax error at the current token, quoted as DynamoDB does: the token, and the
    /// source from the token before it to the token after it (`token: "b", near: "a b c"`).
    pub fn syntax_error(&self) -> Error {
        let cur = self.peek();
        let prev = self.pos.checked_sub(1).map(|i| &self.toks[i]);
        let near = if cur.tok == Tok::Eof {
            prev.map_or("", |p| &self.src[p.start..p.end])
        } else {
            let start = prev.map_or(cur.start, |p| p.start);
            let next = self.peek_at(1);
            let end = if next.tok == Tok::Eof {
                cur.end
            } else {
                next.end
            };
            &self.src[start..end]
        };
        self.kind.error(format!(
            "Syntax error; token: \"{}\", near: \"{}\"",
            cur.text(self.src),
            near
        ))
    }

    pub fn expect_punct(&mut self, p: &str) -> Result<()> {
        if self.peek().is_punct(p) {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub fn eat_punct(&mut self, p: &str) -> bool {
        let hit = self.peek().is_punct(p);
        if hit {
            self.advance();
        }
        hit
    }

    pub fn eat_keyword(&mut self, word: &str) -> bool {
        let hit = self.peek().is_keyword(word);
        if hit {
            self.advance();
        }
        hit
    }

    /// Records a semantic error; the first of each kind is kept.
    pub fn note(&mut self, cat: Cat, message: String) {
        if !self.errors.iter().any(|(c, _)| *c == cat) {
            self.errors.push((cat, message));
        }
    }

    /// Counts one operator or function against DynamoDB's limit.
    pub fn count_operator(&mut self) -> Result<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.kind.error(format!(
                "The expression contains too many operators; operator count: {}",
                self.operators
            )));
        }
        Ok(())
    }

    /// Ends the parse: input must be consumed, then the highest-ranked semantic error wins.
    pub fn finish(&mut self, order: &[Cat]) -> Result<()> {
        if !self.at_end() {
            return Err(self.syntax_error());
        }
        for cat in order {
            if let Some((_, m)) = self.errors.iter().find(|(c, _)| c == cat) {
                return Err(self.kind.error(m));
            }
        }
        Ok(())
    }

    /// Whether the current token starts a function call (`name(`).
    pub fn at_function(&self) -> bool {
        matches!(self.peek().tok, Tok::Ident(_)) && self.peek_at(1).is_punct("(")
    }

    /// `path := elem ('.' elem | '[' int ']')*`.
    pub fn path(&mut self) -> Result<Path> {
        let mut elems = vec![self.path_elem()?];
        loop {
            if self.eat_punct(".") {
                elems.push(self.path_elem()?);
            } else if self.peek().is_punct("[") {
                self.advance();
                let index = match &self.peek().tok {
                    Tok::Int(digits) => digits.parse::<usize>().ok(),
                    _ => None,
                };
                let Some(index) = index else {
                    return Err(self.syntax_error());
                };
                self.advance();
                self.expect_punct("]")?;
                elems.push(PathElem::Index(index));
            } else if elems.len() > MAX_NESTING_DEPTH {
                return Err(self.kind.error(format!(
                    "The document path has too many nesting levels; nesting levels: {}",
                    elems.len()
                )));
            } else {
                return Ok(Path(elems));
            }
        }
    }

    fn path_elem(&mut self) -> Result<PathElem> {
        match self.peek().tok.clone() {
            Tok::Ident(word)
                if word.starts_with(|c: char| c.is_ascii_alphabetic())
                    && !KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) =>
            {
                self.advance();
                if is_reserved_word(&word) {
                    self.note(
                        Cat::Reserved,
                        format!("Attribute name is a reserved keyword; reserved keyword: {word}"),
                    );
                }
                Ok(PathElem::Attr(word))
            }
            Tok::Name(placeholder) => {
                self.advance();
                match self.attrs.resolve_name(&placeholder) {
                    Some(name) => Ok(PathElem::Attr(name)),
                    None => {
                        self.note(
                            Cat::Undefined,
                            format!(
                                "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                            ),
                        );
                        Ok(PathElem::Attr(placeholder))
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// `:value`, resolved (an undefined one is noted and read as NULL to keep parsing).
    pub fn value(&mut self) -> Result<AttributeValue> {
        let Tok::Value(placeholder) = self.peek().tok.clone() else {
            return Err(self.syntax_error());
        };
        self.advance();
        Ok(match self.attrs.resolve_value(&placeholder) {
            Some(v) => v,
            None => {
                self.note(
                    Cat::Undefined,
                    format!("An expression attribute value used in expression is not defined; attribute value: {placeholder}"),
                );
                AttributeValue::Null
            }
        })
    }

    /// With `(` at lookahead `at`: the lookahead of its matching `)`, if any.
    pub fn matching_paren(&self, at: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = at;
        loop {
            let t = self.peek_at(i);
            if t.tok == Tok::Eof {
                return None;
            }
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            i += 1;
        }
    }

    /// Just after a `(`, with another `(` next: notes redundant parentheses when the inner
    /// group closes right before the outer one, as in `((a = b))` or `((a))`.
    pub fn note_redundant_parens(&mut self) {
        if self.peek().is_punct("(")
            && let Some(close) = self.matching_paren(0)
            && self.peek_at(close + 1).is_punct(")")
        {
            self.note(
                Cat::Parens,
                "The expression has redundant parentheses;".to_owned(),
            );
        }
    }

    /// `operand := path | :value | function(args) | ( operand )`; function calls are returned
    /// as their name and arguments for the caller (which knows the functions of its language)
    /// to check.
    pub fn operand_or_call(&mut self) -> Result<OperandOrCall> {
        if self.eat_punct("(") {
            self.note_redundant_parens();
            let inner = deeper(|| self.operand_or_call())?;
            self.expect_punct(")")?;
            return Ok(inner);
        }
        if self.at_function() {
            let Tok::Ident(name) = self.advance().tok else {
                return Err(self.syntax_error());
            };
            self.advance(); // (
            self.count_operator()?;
            let mut args = vec![deeper(|| self.operand_or_call())?];
            while self.eat_punct(",") {
                args.push(deeper(|| self.operand_or_call())?);
            }
            self.expect_punct(")")?;
            return Ok(OperandOrCall::Call(name, args));
        }
        match self.peek().tok {
            Tok::Value(_) => Ok(OperandOrCall::Operand(Operand::Value(self.value()?))),
            _ => Ok(OperandOrCall::Operand(Operand::Path(self.path()?))),
        }
    }

    /// Checks a function's argument count; returns false (and notes the error) when wrong.
    pub fn check_arity(&mut self, name: &str, args: &[OperandOrCall], arity: usize) -> bool {
        if args.len() == arity {
            return true;
        }
        self.note(
            Cat::OperandCount,
            format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            ),
        );
        false
    }

    /// Notes "requires a document path" unless `op` is a path.
    pub fn require_path(&mut self, name: &str, op: &Operand) -> Option<Path> {
        match op {
            Operand::Path(p) => Some(p.clone()),
            _ => {
                self.note(
                    Cat::OperandType,
                    format!("Operator or function requires a document path; operator or function: {name}"),
                );
                None
            }
        }
    }

    /// Notes a wrong operand type when `op`'s type is known and not in `allowed`.
    pub fn check_type(&mut self, name: &str, op: &Operand, allowed: &[&str]) {
        if let Some(t) = op.static_type()
            && !allowed.contains(&t)
        {
            self.note(
                Cat::OperandType,
                format!("Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"),
            );
        }
    }
}

/// A parsed operand, or a function call still to be interpreted.
#[derive(Debug, Clone)]
pub(crate) enum OperandOrCall {
    Operand(Operand),
    Call(String, Vec<OperandOrCall>),
}
