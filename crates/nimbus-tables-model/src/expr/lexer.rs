//! Tokenizer shared by all expression languages. Tokens keep their byte span in the source so
//! that syntax errors can quote them the way DynamoDB does (`token: "x", near: "SET x"`).

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word: attribute name, function name or keyword (`AND`, `SET`, ...).
    Ident(String),
    /// `#name`.
    Name(String),
    /// `:value`.
    Value(String),
    /// An unsigned decimal integer (list index).
    Int(String),
    /// Punctuation and operators: `( ) [ ] , . = <> < <= > >= + -`, or any other character,
    /// which the parser then reports as a syntax error.
    Punct(&'static str),
    /// A character no rule accepts; always a syntax error.
    Other(char),
    /// End of input.
    Eof,
}

/// A token and its byte span in the source.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token as DynamoDB quotes it in a syntax error.
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        if self.tok == Tok::Eof {
            "<EOF>"
        } else {
            &source[self.start..self.end]
        }
    }

    /// Whether this is the keyword `word` (keywords are case-insensitive).
    pub fn is_keyword(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(q) if *q == p)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `source` into tokens, always ending with [`Tok::Eof`].
pub(crate) fn tokenize(source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let word = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, from: usize| {
            let mut end = from;
            while let Some(&(i, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            end
        };
        let tok = match c {
            '#' | ':' => {
                chars.next();
                let end = word(&mut chars, start + 1);
                let text = source[start..end].to_owned();
                // A lone `#` or `:` is not a placeholder.
                let tok = match c {
                    _ if end == start + 1 => Tok::Other(c),
                    '#' => Tok::Name(text),
                    _ => Tok::Value(text),
                };
                out.push(Token { tok, start, end });
                continue;
            }
            c if c.is_ascii_digit() => {
                let end = word(&mut chars, start);
                let text = &source[start..end];
                let tok = if text.bytes().all(|b| b.is_ascii_digit()) {
                    Tok::Int(text.to_owned())
                } else {
                    Tok::Ident(text.to_owned())
                };
                out.push(Token { tok, start, end });
                continue;
            }
            // A bare name starts with a letter: DynamoDB reads a leading `_` as a token of its
            // own, a syntax error (placeholders, above, may start with one).
            c if c.is_ascii_alphabetic() => {
                let end = word(&mut chars, start);
                out.push(Token {
                    tok: Tok::Ident(source[start..end].to_owned()),
                    start,
                    end,
                });
                continue;
            }
            _ => {
                chars.next();
                let next = chars.peek().map(|&(_, n)| n);
                let two = match (c, next) {
                    ('<', Some('>')) => Some("<>"),
                    ('<', Some('=')) => Some("<="),
                    ('>', Some('=')) => Some(">="),
                    _ => None,
                };
                if let Some(p) = two {
                    chars.next();
                    out.push(Token {
                        tok: Tok::Punct(p),
                        start,
                        end: start + 2,
                    });
                    continue;
                }
                match c {
                    '(' => Tok::Punct("("),
                    ')' => Tok::Punct(")"),
                    '[' => Tok::Punct("["),
                    ']' => Tok::Punct("]"),
                    ',' => Tok::Punct(","),
                    '.' => Tok::Punct("."),
                    '=' => Tok::Punct("="),
                    '<' => Tok::Punct("<"),
                    '>' => Tok::Punct(">"),
                    '+' => Tok::Punct("+"),
                    '-' => Tok::Punct("-"),
                    other => Tok::Other(other),
                }
            }
        };
        out.push(Token {
            tok,
            start,
            end: start + c.len_utf8(),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: source.len(),
        end: source.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let toks: Vec<Tok> = tokenize("a.b[12] <> :v AND #n>=x_1")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            toks,
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("."),
                Tok::Ident("b".into()),
                Tok::Punct("["),
                Tok::Int("12".into()),
                Tok::Punct("]"),
                Tok::Punct("<>"),
                Tok::Value(":v".into()),
                Tok::Ident("AND".into()),
                Tok::Name("#n".into()),
                Tok::Punct(">="),
                Tok::Ident("x_1".into()),
                Tok::Eof,
            ]
        );
    }
}
