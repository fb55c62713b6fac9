//! The sections of a template: `Parameters`, `Mappings`, `Conditions`, `Globals`, `Resources`
//! and `Outputs`, each entry with the line it starts on.

use crate::error::{Error, Result};
use crate::yaml::{self, Node, Value};

/// The transform that marks a SAM template.
pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";
/// The transform that adds `Fn::Length`, `Fn::ToJsonString` and `Fn::FindInMap` defaults.
pub const LANGUAGE_EXTENSIONS: &str = "AWS::LanguageExtensions";

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: Vec<Parameter>,
    pub mappings: Option<Node>,
    pub conditions: Vec<(String, Node)>,
    pub globals: Option<Node>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<Output>,
    /// `Transform` lists `AWS::LanguageExtensions`.
    pub language_extensions: bool,
}

/// One entry of `Parameters`.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub line: usize,
    /// `String`, `Number`, `CommaDelimitedList`, `List<Number>`, ...
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    /// `MinLength` / `MaxLength` of a String.
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// `MinValue` / `MaxValue` of a Number.
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
}

/// The keys a parameter may have (CloudFormation's `Parameters` section).
const PARAMETER_KEYS: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "Description",
    "MinLength",
    "MaxLength",
    "MinValue",
    "MaxValue",
    "NoEcho",
];

/// A numeric key of a parameter (`MinLength: 3`).
fn parameter_number<T: std::str::FromStr>(node: &Node, name: &str, key: &str) -> Result<Option<T>> {
    match node.get(key) {
        None => Ok(None),
        Some(n) => scalar_text(n)
            .and_then(|t| t.parse().ok())
            .map(Some)
            .ok_or_else(|| {
                Error::template(
                    Some(n.line),
                    format!("{key} of parameter {name} must be a number"),
                )
            }),
    }
}

/// One entry of `Resources`.
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub line: usize,
    pub kind: String,
    /// The `Properties` map (an empty map when absent).
    pub properties: Node,
    pub condition: Option<String>,
    /// The `Metadata` attribute (build instructions: `BuildMethod`, `BuildProperties`, ...).
    pub metadata: Option<Node>,
    /// Resource attributes Nimbus does not honour (`DeletionPolicy: Retain`, ...), with lines.
    pub unsupported_attributes: Vec<(String, usize)>,
}

/// One entry of `Outputs`.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub line: usize,
    pub value: Node,
    pub description: Option<String>,
    pub condition: Option<String>,
}

/// Scalar text of a node (strings, numbers and booleans), as CloudFormation reads it.
pub fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) | Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn entries<'a>(node: &'a Node, section: &str) -> Result<&'a [(String, Node)]> {
    node.as_map().ok_or_else(|| {
        Error::template(
            Some(node.line),
            format!("{section} must be a map, not {}", node.kind()),
        )
    })
}

impl Template {
    /// Parses template text.
    pub fn parse(text: &str) -> Result<Template> {
        let root = yaml::parse(text)?;
        let top = entries(&root, "the template")?;
        for (key, node) in top {
            if !matches!(
                key.as_str(),
                "AWSTemplateFormatVersion"
                    | "Transform"
                    | "Description"
                    | "Metadata"
                    | "Parameters"
                    | "Mappings"
                    | "Conditions"
                    | "Globals"
                    | "Resources"
                    | "Outputs"
            ) {
                return Err(Error::template(
                    Some(node.line),
                    format!("unknown template section {key:?}"),
                ));
            }
        }
        let mut language_extensions = false;
        if let Some(transform) = root.get("Transform") {
            let names: Vec<String> = match &transform.value {
                Value::Seq(items) => items.iter().filter_map(scalar_text).collect(),
                _ => scalar_text(transform).into_iter().collect(),
            };
            if let Some(other) = names
                .iter()
                .find(|n| *n != SAM_TRANSFORM && *n != LANGUAGE_EXTENSIONS)
            {
                return Err(Error::template(
                    Some(transform.line),
                    format!(
                        "transform {other:?} is not supported (only {SAM_TRANSFORM} and {LANGUAGE_EXTENSIONS})"
                    ),
                ));
            }
            language_extensions = names.iter().any(|n| n == LANGUAGE_EXTENSIONS);
        }

        let mut parameters = Vec::new();
        if let Some(section) = root.get("Parameters") {
            for (name, node) in entries(section, "Parameters")? {
                for (key, value) in entries(node, "a parameter")? {
                    if !PARAMETER_KEYS.contains(&key.as_str()) {
                        return Err(Error::template(
                            Some(value.line),
                            format!("parameter {name} has an unknown key {key}"),
                        ));
                    }
                }
                let kind = node.get("Type").and_then(scalar_text).ok_or_else(|| {
                    Error::template(Some(node.line), format!("parameter {name} has no Type"))
                })?;
                let allowed_values = match node.get("AllowedValues").map(|n| &n.value) {
                    Some(Value::Seq(items)) => items.iter().filter_map(scalar_text).collect(),
                    _ => Vec::new(),
                };
                let default = match node.get("Default") {
                    None => None,
                    Some(d) => Some(match &d.value {
                        Value::Seq(items) => items
                            .iter()
                            .filter_map(scalar_text)
                            .collect::<Vec<_>>()
                            .join(","),
                        _ => scalar_text(d).ok_or_else(|| {
                            Error::template(
                                Some(d.line),
                                format!("the Default of parameter {name} must be a scalar"),
                            )
                        })?,
                    }),
                };
                parameters.push(Parameter {
                    name: name.clone(),
                    line: node.line,
                    kind,
                    default,
                    allowed_values,
                    min_length: parameter_number(node, name, "MinLength")?,
                    max_length: parameter_number(node, name, "MaxLength")?,
                    min_value: parameter_number(node, name, "MinValue")?,
                    max_value: parameter_number(node, name, "MaxValue")?,
                });
            }
        }

        let conditions = match root.get("Conditions") {
            Some(section) => entries(section, "Conditions")?.to_vec(),
            None => Vec::new(),
        };

        let section = root
            .get("Resources")
            .ok_or_else(|| Error::template(None, "the template has no Resources"))?;
        let mut resources = Vec::new();
        for (logical_id, node) in entries(section, "Resources")? {
            if logical_id.starts_with("Fn::ForEach") {
                return Err(Error::template(
                    Some(node.line),
                    "Fn::ForEach is not supported: write the resources out",
                ));
            }
            if logical_id.is_empty() || !logical_id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Error::template(
                    Some(node.line),
                    format!("logical id {logical_id:?} must be alphanumeric"),
                ));
            }
            let kind = node
                .get("Type")
                .and_then(Node::as_str)
                .ok_or_else(|| Error::Resource {
                    logical_id: logical_id.clone(),
                    line: Some(node.line),
                    message: "has no Type".into(),
                })?;
            let properties = match node.get("Properties") {
                Some(p) if p.as_map().is_some() => p.clone(),
                Some(p) => {
                    return Err(Error::Resource {
                        logical_id: logical_id.clone(),
                        line: Some(p.line),
                        message: format!("Properties must be a map, not {}", p.kind()),
                    });
                }
                None => Node::new(node.line, Value::Map(Vec::new())),
            };
            let mut unsupported_attributes = Vec::new();
            for (key, value) in node.as_map().unwrap_or_default() {
                let honoured = match key.as_str() {
                    "Type" | "Properties" | "Condition" | "DependsOn" | "Metadata" => true,
                    "DeletionPolicy" | "UpdateReplacePolicy" => {
                        scalar_text(value).as_deref() == Some("Delete")
                    }
                    _ => false,
                };
                if !honoured {
                    unsupported_attributes.push((key.clone(), value.line));
                }
            }
            resources.push(Resource {
                logical_id: logical_id.clone(),
                line: node.line,
                kind: kind.to_owned(),
                properties,
                condition: node.get("Condition").and_then(scalar_text),
                metadata: node.get("Metadata").cloned(),
                unsupported_attributes,
            });
        }

        let mut outputs = Vec::new();
        if let Some(section) = root.get("Outputs") {
            for (name, node) in entries(section, "Outputs")? {
                let value = node.get("Value").cloned().ok_or_else(|| {
                    Error::template(Some(node.line), format!("output {name} has no Value"))
                })?;
                outputs.push(Output {
                    name: name.clone(),
                    line: node.line,
                    value,
                    description: node.get("Description").and_then(scalar_text),
                    condition: node.get("Condition").and_then(scalar_text),
                });
            }
        }

        Ok(Template {
            parameters,
            mappings: root.get("Mappings").cloned(),
            conditions,
            globals: root.get("Globals").cloned(),
            resources,
            outputs,
            language_extensions,
        })
    }
}
