//! Evaluation of intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`,
//! `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`, the condition
//! functions) over a [`Node`] tree, producing JSON. Errors carry the line of the failing
//! function. Resources Nimbus does not deploy (an S3 bucket, a queue) are
//! [`Context::placeholders`]: their `Ref` and `Fn::GetAtt` give plausible stand-in values.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::yaml::{Node, Value};

/// A value that is only known once its resource exists (an API's id before it is created).
pub const PENDING: &str = "\u{0}pending";

/// What intrinsics can see.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Parameters and pseudo parameters (`AWS::Region`, ...), by name.
    pub parameters: BTreeMap<String, Json>,
    /// Evaluated conditions.
    pub conditions: BTreeMap<String, bool>,
    pub mappings: Option<Node>,
    /// `Ref` of each resource, by logical id.
    pub refs: BTreeMap<String, Json>,
    /// `Fn::GetAtt` values, by (logical id, attribute).
    pub attributes: BTreeMap<(String, String), Json>,
    /// Resources the template declares (to tell "unknown" from "not resolvable").
    pub declared: BTreeSet<String>,
    /// Resources that are not deployed, by logical id: their attributes are made up.
    pub placeholders: BTreeMap<String, Placeholder>,
    /// The template has the `AWS::LanguageExtensions` transform (`Fn::Length`,
    /// `Fn::ToJsonString`, `Fn::FindInMap` with a `DefaultValue`).
    pub language_extensions: bool,
}

/// A resource Nimbus does not deploy, standing in for `Ref` and `Fn::GetAtt`.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    /// The resource type (`AWS::S3::Bucket`).
    pub kind: String,
    /// Its name: the template's (`BucketName`, `QueueName`, ...) or a stable made-up one.
    pub name: String,
    pub region: String,
    pub account: String,
}

impl Placeholder {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account
        )
    }

    /// What `Ref` gives, as the resource type documents it.
    pub fn reference(&self) -> String {
        let n = &self.name;
        match self.kind.as_str() {
            "AWS::SQS::Queue" => format!(
                "https://sqs.{}.amazonaws.com/{}/{n}",
                self.region, self.account
            ),
            "AWS::SNS::Topic" => self.arn("sns", n),
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                self.arn("states", &format!("stateMachine:{n}"))
            }
            "AWS::Lambda::LayerVersion" | "AWS::Serverless::LayerVersion" => {
                self.arn("lambda", &format!("layer:{n}:1"))
            }
            _ => n.clone(),
        }
    }

    /// What `Fn::GetAtt` gives for `attribute`.
    pub fn attribute(&self, attribute: &str) -> String {
        let n = &self.name;
        let (region, account) = (&self.region, &self.account);
        match (self.kind.as_str(), attribute) {
            ("AWS::S3::Bucket", "Arn") => format!("arn:aws:s3:::{n}"),
            ("AWS::S3::Bucket", "DomainName") => format!("{n}.s3.amazonaws.com"),
            ("AWS::S3::Bucket", "RegionalDomainName") => format!("{n}.s3.{region}.amazonaws.com"),
            ("AWS::S3::Bucket", "WebsiteURL") => {
                format!("http://{n}.s3-website-{region}.amazonaws.com")
            }
            ("AWS::SQS::Queue", "Arn") => self.arn("sqs", n),
            ("AWS::SQS::Queue", "QueueUrl") => self.reference(),
            ("AWS::SQS::Queue", "QueueName") | ("AWS::SNS::Topic", "TopicName") => n.clone(),
            ("AWS::SNS::Topic", "TopicArn") => self.reference(),
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{account}:role/{n}"),
            ("AWS::IAM::Role", "RoleId") => format!("AROA{}", n.to_uppercase()),
            ("AWS::CloudFront::Distribution", "DomainName") => {
                format!("{}.cloudfront.net", n.to_lowercase())
            }
            ("AWS::CloudFront::Distribution", "Id") => n.clone(),
            (_, "Arn") => {
                // AWS::Service::Thing -> arn:aws:service:region:account:thing/name
                let mut parts = self.kind.split("::").skip(1);
                let service = parts.next().unwrap_or("unknown").to_lowercase();
                let thing = parts.next().unwrap_or("resource").to_lowercase();
                self.arn(&service, &format!("{thing}/{n}"))
            }
            (_, attribute) => format!("{n}-{attribute}"),
        }
    }
}

fn err(node: &Node, message: impl Into<String>) -> Error {
    Error::template(Some(node.line), message)
}

/// The function name and argument if `node` is a one-key map naming an intrinsic.
pub fn intrinsic(node: &Node) -> Option<(&str, &Node)> {
    match node.as_map() {
        Some([(key, arg)]) if key == "Ref" || key == "Condition" || key.starts_with("Fn::") => {
            Some((key.as_str(), arg))
        }
        _ => None,
    }
}

/// The string form CloudFormation gives a scalar.
fn text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Context {
    /// Evaluates `node`; `None` is `AWS::NoValue` (the key or item is removed).
    pub fn eval(&self, node: &Node) -> Result<Option<Json>> {
        if let Some((name, arg)) = intrinsic(node) {
            return self.function(node, name, arg);
        }
        Ok(Some(match &node.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number(n),
            Value::String(s) => Json::String(s.clone()),
            Value::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(v) = self.eval(item)? {
                        out.push(v);
                    }
                }
                Json::Array(out)
            }
            Value::Map(entries) => {
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    if let Some(v) = self.eval(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Json::Object(out)
            }
        }))
    }

    /// Evaluates `node` to a value that must exist.
    pub fn value(&self, node: &Node) -> Result<Json> {
        self.eval(node)?
            .ok_or_else(|| err(node, "AWS::NoValue is not allowed here"))
    }

    /// Evaluates `node` to a string.
    pub fn string(&self, node: &Node) -> Result<String> {
        let v = self.value(node)?;
        text(&v).ok_or_else(|| err(node, format!("expected a string, found {v}")))
    }

    fn list(&self, node: &Node) -> Result<Vec<Json>> {
        match self.value(node)? {
            Json::Array(items) => Ok(items),
            other => Err(err(node, format!("expected a list, found {other}"))),
        }
    }

    fn args<'a>(&self, node: &'a Node, name: &str, n: usize) -> Result<&'a [Node]> {
        match &node.value {
            Value::Seq(items) if items.len() == n => Ok(items),
            _ => Err(err(node, format!("{name} takes a list of {n} arguments"))),
        }
    }

    fn function(&self, at: &Node, name: &str, arg: &Node) -> Result<Option<Json>> {
        Ok(Some(match name {
            "Ref" => {
                let target = arg
                    .as_str()
                    .ok_or_else(|| err(arg, "Ref takes the name of a parameter or resource"))?;
                if target == "AWS::NoValue" {
                    return Ok(None);
                }
                self.reference(at, target)?
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match &arg.value {
                    Value::Seq(items) if items.len() == 2 => {
                        (self.string(&items[0])?, self.string(&items[1])?)
                    }
                    Value::String(s) => match s.split_once('.') {
                        Some((r, a)) => (r.to_owned(), a.to_owned()),
                        None => return Err(err(arg, "Fn::GetAtt takes [Resource, Attribute]")),
                    },
                    _ => return Err(err(arg, "Fn::GetAtt takes [Resource, Attribute]")),
                };
                self.attribute(at, &resource, &attribute)?
            }
            "Fn::Sub" => {
                let (template, vars) = match &arg.value {
                    Value::String(s) => (s.clone(), BTreeMap::new()),
                    Value::Seq(items) if items.len() == 2 => {
                        let template = self.string(&items[0])?;
                        let mut vars = BTreeMap::new();
                        for (k, v) in items[1]
                            .as_map()
                            .ok_or_else(|| err(&items[1], "Fn::Sub variables must be a map"))?
                        {
                            vars.insert(k.clone(), self.string(v)?);
                        }
                        (template, vars)
                    }
                    _ => return Err(err(arg, "Fn::Sub takes a string or [string, variables]")),
                };
                Json::String(self.sub(at, &template, &vars)?)
            }
            "Fn::Join" => {
                let args = self.args(arg, "Fn::Join", 2)?;
                let sep = self.string(&args[0])?;
                let parts = self
                    .list(&args[1])?
                    .iter()
                    .map(|v| text(v).ok_or_else(|| err(&args[1], format!("cannot join {v}"))))
                    .collect::<Result<Vec<_>>>()?;
                Json::String(parts.join(&sep))
            }
            "Fn::Select" => {
                let args = self.args(arg, "Fn::Select", 2)?;
                let index: usize = self
                    .string(&args[0])?
                    .parse()
                    .map_err(|_| err(&args[0], "Fn::Select index must be a number"))?;
                let items = self.list(&args[1])?;
                items.get(index).cloned().ok_or_else(|| {
                    err(
                        arg,
                        format!(
                            "Fn::Select index {index} is out of range (list of {})",
                            items.len()
                        ),
                    )
                })?
            }
            "Fn::Split" => {
                let args = self.args(arg, "Fn::Split", 2)?;
                let sep = self.string(&args[0])?;
                let s = self.string(&args[1])?;
                if sep.is_empty() {
                    return Err(err(arg, "Fn::Split delimiter must not be empty"));
                }
                Json::Array(s.split(&sep).map(|p| json!(p)).collect())
            }
            "Fn::If" => {
                let args = self.args(arg, "Fn::If", 3)?;
                let condition = args[0]
                    .as_str()
                    .ok_or_else(|| err(&args[0], "Fn::If takes a condition name first"))?;
                let branch = if self.condition(&args[0], condition)? {
                    &args[1]
                } else {
                    &args[2]
                };
                return self.eval(branch);
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => {
                Json::Bool(self.truth(at)?)
            }
            "Fn::Base64" => {
                use base64::Engine as _;
                Json::String(base64::engine::general_purpose::STANDARD.encode(self.string(arg)?))
            }
            "Fn::GetAZs" => {
                // Any region, or "" for the stack's: three zones, as most regions have.
                let region = match self.string(arg)? {
                    r if r.is_empty() => self
                        .parameters
                        .get("AWS::Region")
                        .and_then(text)
                        .ok_or_else(|| err(arg, "Fn::GetAZs: the region is not known"))?,
                    r => r,
                };
                Json::Array(
                    ["a", "b", "c"]
                        .map(|z| json!(format!("{region}{z}")))
                        .to_vec(),
                )
            }
            "Fn::Length" | "Fn::ToJsonString" if !self.language_extensions => {
                return Err(err(
                    at,
                    format!("{name} needs the AWS::LanguageExtensions transform"),
                ));
            }
            "Fn::Length" => json!(self.list(arg)?.len()),
            "Fn::ToJsonString" => match self.value(arg)? {
                v @ (Json::Object(_) | Json::Array(_)) => Json::String(v.to_string()),
                other => {
                    return Err(err(
                        arg,
                        format!("Fn::ToJsonString takes a map or a list, not {other}"),
                    ));
                }
            },
            "Fn::FindInMap" if self.language_extensions && with_default(arg).is_some() => {
                let (three, default) = with_default(arg)
                    .ok_or_else(|| err(arg, "Fn::FindInMap takes a list of 3 or 4 arguments"))?;
                let default = default.get("DefaultValue").ok_or_else(|| {
                    err(
                        default,
                        "Fn::FindInMap's fourth argument is {DefaultValue: ...}",
                    )
                })?;
                return match self.function(at, "Fn::FindInMap", &three) {
                    Ok(v) => Ok(v),
                    Err(_) => self.eval(default),
                };
            }
            "Fn::FindInMap" => {
                let args = self.args(arg, "Fn::FindInMap", 3)?;
                let keys = [
                    self.string(&args[0])?,
                    self.string(&args[1])?,
                    self.string(&args[2])?,
                ];
                let mut node = self
                    .mappings
                    .as_ref()
                    .ok_or_else(|| err(arg, "Fn::FindInMap: the template has no Mappings"))?;
                for key in &keys {
                    node = node
                        .get(key)
                        .ok_or_else(|| err(arg, format!("Fn::FindInMap: no key {key:?}")))?;
                }
                self.value(node)?
            }
            other => {
                return Err(err(
                    at,
                    format!("intrinsic function {other} is not supported"),
                ));
            }
        }))
    }

    fn reference(&self, at: &Node, target: &str) -> Result<Json> {
        if let Some(p) = self.placeholders.get(target) {
            return Ok(json!(p.reference()));
        }
        let value = self
            .parameters
            .get(target)
            .or_else(|| self.refs.get(target))
            .ok_or_else(|| {
                if self.declared.contains(target) {
                    err(
                        at,
                        format!("Ref {target}: that resource's Ref cannot be resolved here"),
                    )
                } else {
                    err(
                        at,
                        format!("Ref {target}: no parameter or resource has that name"),
                    )
                }
            })?;
        pending_check(at, target, value)
    }

    fn attribute(&self, at: &Node, resource: &str, attribute: &str) -> Result<Json> {
        if let Some(p) = self.placeholders.get(resource) {
            return Ok(json!(p.attribute(attribute)));
        }
        match self
            .attributes
            .get(&(resource.to_owned(), attribute.to_owned()))
        {
            Some(value) => pending_check(at, &format!("{resource}.{attribute}"), value),
            None if self.declared.contains(resource) => Err(err(
                at,
                format!("Fn::GetAtt {resource}.{attribute}: the resource has no such attribute"),
            )),
            None => Err(err(
                at,
                format!("Fn::GetAtt {resource}.{attribute}: no resource has that name"),
            )),
        }
    }

    fn sub(&self, at: &Node, template: &str, vars: &BTreeMap<String, String>) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| err(at, format!("Fn::Sub: unclosed ${{ in {template:?}")))?;
            let name = after[..end].trim();
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(v);
            } else {
                let value = match name.split_once('.') {
                    Some((r, a)) if !self.parameters.contains_key(name) => {
                        self.attribute(at, r, a)?
                    }
                    _ => self.reference(at, name)?,
                };
                out.push_str(&text(&value).ok_or_else(|| {
                    err(
                        at,
                        format!("Fn::Sub: ${{{name}}} is not a string ({value})"),
                    )
                })?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of a named condition.
    pub fn condition(&self, at: &Node, name: &str) -> Result<bool> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| err(at, format!("condition {name:?} is not defined")))
    }

    /// Evaluates a condition function (`Fn::Equals`, `Fn::And`, ..., `Condition`).
    pub fn truth(&self, node: &Node) -> Result<bool> {
        let Some((name, arg)) = intrinsic(node) else {
            return match self.value(node)? {
                Json::Bool(b) => Ok(b),
                Json::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                other => Err(err(node, format!("expected a condition, found {other}"))),
            };
        };
        let items = |min: usize, max: usize| match &arg.value {
            Value::Seq(items) if items.len() >= min && items.len() <= max => Ok(items),
            _ => Err(err(
                arg,
                format!("{name} takes a list of {min} to {max} conditions"),
            )),
        };
        match name {
            "Fn::Equals" => {
                let args = self.args(arg, "Fn::Equals", 2)?;
                let (a, b) = (self.value(&args[0])?, self.value(&args[1])?);
                Ok(a == b || (text(&a).is_some() && text(&a) == text(&b)))
            }
            "Fn::Not" => Ok(!self.truth(&items(1, 1)?[0])?),
            "Fn::And" => {
                for c in items(2, 10)? {
                    if !self.truth(c)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in items(2, 10)? {
                    if self.truth(c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "Condition" => {
                let name = arg
                    .as_str()
                    .ok_or_else(|| err(arg, "Condition takes a condition name"))?;
                self.condition(arg, name)
            }
            _ => match self.value(node)? {
                Json::Bool(b) => Ok(b),
                other => Err(err(node, format!("expected a condition, found {other}"))),
            },
        }
    }

    /// Evaluates the template's `Conditions` in dependency order.
    pub fn evaluate_conditions(&mut self, conditions: &[(String, Node)]) -> Result<()> {
        let mut remaining: Vec<&(String, Node)> = conditions.iter().collect();
        while !remaining.is_empty() {
            let before = remaining.len();
            let mut last_err = None;
            remaining.retain(|(name, node)| match self.truth(node) {
                Ok(v) => {
                    self.conditions.insert(name.clone(), v);
                    false
                }
                Err(e) => {
                    last_err = Some(e);
                    true
                }
            });
            if remaining.len() == before {
                return Err(last_err.unwrap_or_else(|| Error::template(None, "conditions")));
            }
        }
        Ok(())
    }
}

/// `[map, key, key, options]`: the first three as one list, and the options.
fn with_default(arg: &Node) -> Option<(Node, &Node)> {
    match &arg.value {
        Value::Seq(items) if items.len() == 4 => Some((
            Node::new(arg.line, Value::Seq(items[..3].to_vec())),
            &items[3],
        )),
        _ => None,
    }
}

fn pending_check(at: &Node, what: &str, value: &Json) -> Result<Json> {
    if value.as_str() == Some(PENDING) {
        return Err(err(
            at,
            format!(
                "{what} is only known once that resource exists; Nimbus cannot use it here yet"
            ),
        ));
    }
    Ok(value.clone())
}

/// A YAML number as JSON (kept as a string if JSON cannot hold it exactly).
fn number(n: &str) -> Json {
    if let Ok(i) = n.parse::<i64>() {
        return json!(i);
    }
    match n.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(f) => Json::Number(f),
        None => Json::String(n.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn ctx() -> Context {
        let mut c = Context::default();
        c.parameters.insert("Stage".into(), json!("prod"));
        c.parameters
            .insert("AWS::Region".into(), json!("us-east-1"));
        c.refs.insert("Items".into(), json!("s-Items-ABC"));
        c.refs.insert("Api".into(), json!(PENDING));
        c.declared.extend(["Items".to_owned(), "Api".to_owned()]);
        c.attributes.insert(
            ("Items".into(), "Arn".into()),
            json!("arn:aws:dynamodb:us-east-1:000000000000:table/s-Items-ABC"),
        );
        let conditions =
            parse("IsProd: !Equals [!Ref Stage, prod]\nNotProd: !Not [!Condition IsProd]\n")
                .expect("yaml");
        c.evaluate_conditions(conditions.as_map().expect("map"))
            .expect("conditions");
        c
    }

    fn eval(text: &str) -> Result<Option<Json>> {
        ctx().eval(&parse(text).expect("yaml"))
    }

    #[test]
    fn intrinsics_evaluate() {
        let v = eval(
            "a: !Ref Items\nb: !GetAtt Items.Arn\nc: !Sub '${Stage}-${Items}-${!Literal}-${AWS::Region}'\nd: !Join [':', [x, !Ref Stage, 3]]\ne: !If [IsProd, big, small]\nf: !Select [1, !Split [',', 'a,b,c']]\ng: !If [NotProd, x, !Ref AWS::NoValue]\nh: !Sub ['${X}-${Stage}', {X: !Ref Items}]\ni: !Base64 hello\nj: [1, !Ref AWS::NoValue, 2.5]\n",
        )
        .expect("eval")
        .expect("value");
        assert_eq!(
            v,
            json!({
                "a": "s-Items-ABC",
                "b": "arn:aws:dynamodb:us-east-1:000000000000:table/s-Items-ABC",
                "c": "prod-s-Items-ABC-${Literal}-us-east-1",
                "d": "x:prod:3",
                "e": "big",
                "f": "b",
                "h": "s-Items-ABC-prod",
                "i": "aGVsbG8=",
                "j": [1, 2.5],
            })
        );
    }

    #[test]
    fn bad_intrinsics_name_their_line() {
        let e = eval("a: 1\nb: !Ref Nope\n").expect_err("ref");
        assert_eq!(
            e.to_string(),
            "template line 2: Ref Nope: no parameter or resource has that name"
        );
        let e = eval("a:\n  b: !GetAtt Items.Nope\n").expect_err("att");
        assert!(
            e.to_string()
                .starts_with("template line 2: Fn::GetAtt Items.Nope"),
            "{e}"
        );
        let e = eval("x: !If [Missing, a, b]\n").expect_err("cond");
        assert!(e.to_string().contains("condition \"Missing\""), "{e}");
        let e = eval("x: !Select [5, [a]]\n").expect_err("select");
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = eval("x: !Sub 'https://${Api}/'\n").expect_err("pending");
        assert!(e.to_string().contains("only known once"), "{e}");
        let e = eval("x: {\"Fn::Nope\": 1}\n").expect_err("unknown");
        assert!(e.to_string().contains("Fn::Nope is not supported"), "{e}");
    }

    #[test]
    fn more_intrinsics_evaluate() {
        let mut c = ctx();
        c.mappings =
            Some(parse("Sizes:\n  prod: {Memory: 1024}\n  dev: {Memory: 128}\n").expect("maps"));
        let v = c
            .eval(
                &parse(
                    "azs: !GetAZs ''\nother: !Select [1, !GetAZs eu-west-1]\nmem: !FindInMap [Sizes, !Ref Stage, Memory]\nall: !And [!Condition IsProd, !Or [!Equals [a, b], !Not [!Equals [a, b]]]]\njoined: !Join ['', [!Ref 'AWS::Region', '-', !Select [0, !Split ['/', 'x/y']]]]\nsub: !Sub\n  - '${A}.${AWS::Region}'\n  - A: !FindInMap [Sizes, dev, Memory]\n",
                )
                .expect("yaml"),
            )
            .expect("eval")
            .expect("value");
        assert_eq!(
            v,
            json!({
                "azs": ["us-east-1a", "us-east-1b", "us-east-1c"],
                "other": "eu-west-1b",
                "mem": 1024,
                "all": true,
                "joined": "us-east-1-x",
                "sub": "128.us-east-1",
            })
        );
        let e = c
            .eval(&parse("a: 1\nb: !FindInMap [Sizes, test, Memory]\n").expect("yaml"))
            .expect_err("missing key");
        assert_eq!(
            e.to_string(),
            "template line 2: Fn::FindInMap: no key \"test\""
        );
        let e = c
            .eval(&parse("a:\n  - !Split ['', abc]\n").expect("yaml"))
            .expect_err("empty");
        assert!(e.to_string().starts_with("template line 2:"), "{e}");
        let e = c
            .eval(&parse("a: !Join [',', x]\n").expect("yaml"))
            .expect_err("join");
        assert!(e.to_string().contains("expected a list"), "{e}");
    }

    #[test]
    fn each_bad_intrinsic_names_its_line() {
        let cases = [
            (
                "a: 1\nb: !GetAZs [x]\n",
                "template line 2: expected a string",
            ),
            (
                "a: 1\nb: !Sub 'x-${Stage'\n",
                "template line 2: Fn::Sub: unclosed ${",
            ),
            (
                "a: 1\nb: !Sub [x, [y]]\n",
                "template line 2: Fn::Sub variables must be a map",
            ),
            (
                "a: 1\nb: !Sub 1\n",
                "template line 2: Fn::Sub takes a string",
            ),
            (
                "a: 1\nb: !If [IsProd, x]\n",
                "template line 2: Fn::If takes a list of 3",
            ),
            (
                "a: 1\nb: !If [!Ref Stage, x, y]\n",
                "template line 2: Fn::If takes a condition name first",
            ),
            (
                "a: 1\nb: !Select [x, [a]]\n",
                "template line 2: Fn::Select index must be a number",
            ),
            (
                "a: 1\nb: !Join [',']\n",
                "template line 2: Fn::Join takes a list of 2",
            ),
            (
                "a: 1\nb: !Split [',', [a]]\n",
                "template line 2: expected a string",
            ),
            (
                "a: 1\nb: !FindInMap [A, B]\n",
                "template line 2: Fn::FindInMap takes a list of 3",
            ),
            (
                "a: 1\nb: !FindInMap [A, B, C]\n",
                "template line 2: Fn::FindInMap: the template has no Mappings",
            ),
            (
                "a: 1\nb: !GetAtt [Items]\n",
                "template line 2: Fn::GetAtt takes [Resource, Attribute]",
            ),
            ("a: 1\nb: !Ref [x]\n", "template line 2: Ref takes the name"),
            (
                "a: 1\nb: !Base64 [x]\n",
                "template line 2: expected a string",
            ),
            (
                "a: 1\nb: !ImportValue x\n",
                "template line 2: intrinsic function Fn::ImportValue is not supported",
            ),
            (
                "a: 1\nb: !Equals [a]\n",
                "template line 2: Fn::Equals takes a list of 2",
            ),
            (
                "a: 1\nb: !And [!Condition IsProd]\n",
                "template line 2: Fn::And takes a list of 2 to 10",
            ),
            (
                "a: 1\nb: !Not [x]\n",
                "template line 2: expected a condition",
            ),
            (
                "a: 1\nb: !If [Nope, x, y]\n",
                "template line 2: condition \"Nope\" is not defined",
            ),
            (
                "a: 1\nb: [!Ref AWS::NoValue]\nc: !Select [0, !Ref AWS::NoValue]\n",
                "template line 3: AWS::NoValue is not allowed here",
            ),
        ];
        for (text, want) in cases {
            let e = eval(text).expect_err(text);
            assert!(e.to_string().starts_with(want), "{text}: {e}");
        }
    }

    #[test]
    fn language_extensions() {
        let mut c = ctx();
        c.mappings = Some(parse("Sizes:\n  prod: {Memory: 1024}\n").expect("maps"));
        let text = "a: 1\nlen: !Length [a, b, !Ref Stage]\njson: !ToJsonString {k: [1, !Ref Stage]}\nmem: !FindInMap [Sizes, dev, Memory, {DefaultValue: 128}]\nhit: !FindInMap [Sizes, prod, Memory, {DefaultValue: 128}]\n";
        let e = c
            .eval(&parse(text).expect("yaml"))
            .expect_err("no transform");
        assert_eq!(
            e.to_string(),
            "template line 2: Fn::Length needs the AWS::LanguageExtensions transform"
        );
        c.language_extensions = true;
        let v = c
            .eval(&parse(text).expect("yaml"))
            .expect("eval")
            .expect("value");
        assert_eq!(
            v,
            json!({"a": 1, "len": 3, "json": "{\"k\":[1,\"prod\"]}", "mem": 128, "hit": 1024})
        );
        let e = c
            .eval(&parse("a: 1\nb: !ToJsonString x\n").expect("yaml"))
            .expect_err("scalar");
        assert!(
            e.to_string()
                .starts_with("template line 2: Fn::ToJsonString takes"),
            "{e}"
        );
    }

    #[test]
    fn placeholders_stand_in_for_resources_that_are_not_deployed() {
        let mut c = ctx();
        c.placeholders.insert(
            "Topic".into(),
            Placeholder {
                kind: "AWS::SNS::Topic".into(),
                name: "shop-Topic-X".into(),
                region: "us-east-1".into(),
                account: "000000000000".into(),
            },
        );
        c.placeholders.insert(
            "Role".into(),
            Placeholder {
                kind: "AWS::IAM::Role".into(),
                name: "r".into(),
                region: "us-east-1".into(),
                account: "000000000000".into(),
            },
        );
        let v = c
            .eval(&parse("a: !Ref Topic\nb: !GetAtt Topic.TopicName\nc: !GetAtt Role.Arn\nd: !Sub '${Role}:${Topic.TopicName}'\ne: !GetAtt Role.Whatever\n").expect("yaml"))
            .expect("eval")
            .expect("value");
        assert_eq!(
            v,
            json!({
                "a": "arn:aws:sns:us-east-1:000000000000:shop-Topic-X",
                "b": "shop-Topic-X",
                "c": "arn:aws:iam::000000000000:role/r",
                "d": "r:shop-Topic-X",
                "e": "r-Whatever",
            })
        );
    }

    #[test]
    fn condition_cycles_are_errors() {
        let mut c = Context::default();
        let conds = parse("A: !Condition B\nB: !Condition A\n").expect("yaml");
        assert!(c.evaluate_conditions(conds.as_map().expect("map")).is_err());
    }
}
