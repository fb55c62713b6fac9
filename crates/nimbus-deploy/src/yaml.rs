//! Template text to a [`Node`] tree that keeps the source line of every value. The short
//! intrinsic tags (`!Ref x`, `!GetAtt a.b`, `!Sub ...`) become their long forms
//! (`{"Ref": "x"}`, `{"Fn::GetAtt": ["a", "b"]}`) so that later stages see one shape.
//! JSON templates parse too, since JSON is YAML.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::{Error, Result};

/// A template value and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, kept as written (CloudFormation passes numbers as strings in many places).
    Number(String),
    String(String),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn new(line: usize, value: Value) -> Node {
        Node { line, value }
    }

    /// The value of `key` if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// Parses one YAML (or JSON) document.
pub fn parse(text: &str) -> Result<Node> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, false)
        .map_err(|e| Error::Template {
            line: Some(e.marker().line()),
            message: format!("invalid YAML: {}", e.info()),
        })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    builder
        .root
        .ok_or_else(|| Error::template(None, "the template is empty"))
}

/// A container being built, with the tag it carried.
enum Open {
    Seq {
        line: usize,
        tag: Option<Tag>,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        tag: Option<Tag>,
        anchor: usize,
        entries: Vec<(String, Node)>,
        /// The pending key and its line.
        key: Option<(String, usize)>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    anchors: std::collections::HashMap<usize, Node>,
    error: Option<Error>,
}

impl Builder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(Error::template(Some(line), message));
        }
    }

    /// Adds a finished value to the container on top (or makes it the root).
    /// A value under a key takes the key's line: that is the line a reader looks for.
    fn push(&mut self, mut node: Node) {
        let line = node.line;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                Some((k, key_line)) => {
                    if entries.iter().any(|(existing, _)| *existing == k) {
                        self.fail(key_line, format!("duplicate key {k:?}"));
                    } else {
                        node.line = key_line;
                        entries.push((k, node));
                    }
                }
                None => match node.value {
                    Value::String(s) | Value::Number(s) => *key = Some((s, line)),
                    Value::Bool(b) => *key = Some((b.to_string(), line)),
                    Value::Null => *key = Some((String::new(), line)),
                    _ => self.fail(line, "a map key must be a scalar".to_owned()),
                },
            },
        }
    }

    fn finish(&mut self, line: usize, tag: Option<Tag>, anchor: usize, value: Value) {
        let node = match apply_tag(tag, Node::new(line, value)) {
            Ok(node) => node,
            Err(err) => {
                if self.error.is_none() {
                    self.error = Some(err);
                }
                Node::new(line, Value::Null)
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = if style == TScalarStyle::Plain {
                    plain_scalar(text)
                } else {
                    Value::String(text)
                };
                self.finish(line, tag, anchor, value);
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Open::Seq {
                line,
                tag,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, tag) => self.stack.push(Open::Map {
                line,
                tag,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq {
                    line,
                    tag,
                    anchor,
                    items,
                }) => self.finish(line, tag, anchor, Value::Seq(items)),
                Some(Open::Map {
                    line,
                    tag,
                    anchor,
                    entries,
                    ..
                }) => self.finish(line, tag, anchor, Value::Map(entries)),
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push(node),
                None => self.fail(line, "unknown alias".to_owned()),
            },
            _ => {}
        }
    }
}

/// YAML 1.2 core schema resolution of an unquoted scalar.
fn plain_scalar(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        t if is_number(t) => Value::Number(text),
        _ => Value::String(text),
    }
}

fn is_number(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    !body.is_empty()
        && body.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && t.parse::<f64>().is_ok()
}

/// The short-form tags CloudFormation accepts, and their long names.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("If", "Fn::If"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Base64", "Fn::Base64"),
    ("FindInMap", "Fn::FindInMap"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Cidr", "Fn::Cidr"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
];

fn apply_tag(tag: Option<Tag>, node: Node) -> Result<Node> {
    let Some(tag) = tag else { return Ok(node) };
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        // Core-schema tags (`!!str`, `!!int`): keep the value.
        return Ok(match (tag.suffix.as_str(), node.value) {
            ("str", Value::Number(s)) => Node::new(node.line, Value::String(s)),
            (_, value) => Node::new(node.line, value),
        });
    }
    if tag.handle != "!" {
        return Err(Error::template(
            Some(node.line),
            format!("unknown YAML tag {}{}", tag.handle, tag.suffix),
        ));
    }
    let Some((_, long)) = SHORT_FORMS.iter().find(|(short, _)| *short == tag.suffix) else {
        return Err(Error::template(
            Some(node.line),
            format!("unknown intrinsic function !{}", tag.suffix),
        ));
    };
    let line = node.line;
    let value = if *long == "Fn::GetAtt" {
        // `!GetAtt Resource.Attribute` is the string form of `[Resource, Attribute]`.
        match node.value {
            Value::String(s) => match s.split_once('.') {
                Some((resource, attribute)) => Value::Seq(vec![
                    Node::new(line, Value::String(resource.to_owned())),
                    Node::new(line, Value::String(attribute.to_owned())),
                ]),
                None => {
                    return Err(Error::template(
                        Some(line),
                        format!("!GetAtt {s:?} must be Resource.Attribute"),
                    ));
                }
            },
            other => other,
        }
    } else {
        node.value
    };
    Ok(Node::new(
        line,
        Value::Map(vec![((*long).to_owned(), Node::new(line, value))]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms_with_lines() {
        let doc = parse(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Table: !Ref Items\n      Arn: !GetAtt Items.Arn\n      Url: !Sub 'https://${Api}/'\n      Count: 3\n      Quoted: \"3\"\n",
        )
        .expect("parse");
        let props = doc
            .get("Resources")
            .and_then(|r| r.get("Fn"))
            .and_then(|f| f.get("Properties"))
            .expect("props");
        assert_eq!(props.line, 4);
        let table = props.get("Table").expect("table");
        assert_eq!(table.line, 5);
        assert_eq!(table.get("Ref").and_then(Node::as_str), Some("Items"));
        let arn = props
            .get("Arn")
            .and_then(|a| a.get("Fn::GetAtt"))
            .expect("arn");
        assert!(matches!(&arn.value, Value::Seq(items) if items.len() == 2));
        assert_eq!(
            props.get("Count").map(|c| &c.value),
            Some(&Value::Number("3".into()))
        );
        assert_eq!(
            props.get("Quoted").map(|c| &c.value),
            Some(&Value::String("3".into()))
        );
    }

    #[test]
    fn bad_yaml_and_tags_name_their_line() {
        let err = parse("a: 1\nb: !Nope x\n").expect_err("tag");
        assert_eq!(
            err.to_string(),
            "template line 2: unknown intrinsic function !Nope"
        );
        let err = parse("a: [1\nb: 2\n").expect_err("yaml");
        assert!(err.to_string().contains("invalid YAML"), "{err}");
        let err = parse("a: 1\na: 2\n").expect_err("dup");
        assert!(err.to_string().contains("duplicate key"), "{err}");
    }

    #[test]
    fn json_templates_parse() {
        let doc =
            parse("{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}").expect("json");
        assert!(doc.get("Resources").and_then(|r| r.get("T")).is_some());
    }
}
