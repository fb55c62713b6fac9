//! What each function may do to which table, read from the template: the DynamoDB policy
//! templates in `Policies` (`DynamoDBCrudPolicy`, `DynamoDBReadPolicy`, ...), the AWS managed
//! DynamoDB policies, policy statements with `dynamodb:` actions, and
//! `AWS::Serverless::Connector`s (standalone or a function's `Connectors` property).
//!
//! The result is [`TableAccess`] records on the function. Nimbus does not enforce IAM yet;
//! the records are kept in the function's tags and shown in the deploy, so that per-function
//! credentials can enforce them later without reading the template again.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::intrinsics::Context;
use crate::model::{AccessLevel, TableAccess};
use crate::yaml::Node;

fn err(node: &Node, message: impl Into<String>) -> Error {
    Error::template(Some(node.line), message)
}

/// The levels a DynamoDB policy template grants, by template name.
fn policy_template(name: &str) -> Option<&'static [AccessLevel]> {
    use AccessLevel::*;
    Some(match name {
        "DynamoDBCrudPolicy" => &[Read, Write, Delete],
        "DynamoDBReadPolicy" => &[Read],
        "DynamoDBWritePolicy" => &[Write],
        "DynamoDBReconfigurePolicy" => &[Reconfigure],
        "DynamoDBStreamReadPolicy" => &[StreamRead],
        "DynamoDBBackupFullAccessPolicy" => &[Backup],
        "DynamoDBRestoreFromBackupPolicy" => &[Restore],
        _ => return None,
    })
}

/// The levels an AWS managed policy grants on every table.
fn managed_policy(name: &str) -> Option<&'static [AccessLevel]> {
    let name = name.rsplit('/').next().unwrap_or(name);
    Some(match name {
        "AmazonDynamoDBFullAccess" | "AmazonDynamoDBFullAccess_v2" => &AccessLevel::ALL,
        "AmazonDynamoDBReadOnlyAccess" => &[AccessLevel::Read, AccessLevel::StreamRead],
        "AWSLambdaDynamoDBExecutionRole" | "AWSLambdaInvocation-DynamoDB" => {
            &[AccessLevel::StreamRead]
        }
        _ => return None,
    })
}

/// The table an ARN (or a table name) names: `arn:aws:dynamodb:r:a:table/NAME/index/*` is
/// NAME; a wildcard is `*`. `None` for other services.
fn table_of(resource: &str) -> Option<String> {
    if resource == "*" {
        return Some("*".into());
    }
    let rest = resource.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service) = (parts.next()?, parts.next()?);
    if service != "dynamodb" {
        return None;
    }
    let resource = parts.nth(2)?;
    let name = resource.strip_prefix("table/")?.split('/').next()?;
    Some(if name.contains('*') || name.contains('?') {
        "*".into()
    } else {
        name.to_owned()
    })
}

fn grant(out: &mut Vec<TableAccess>, table: String, levels: &[AccessLevel], by: String) {
    out.push(TableAccess {
        table,
        levels: levels.iter().copied().collect(),
        granted_by: vec![by],
    });
}

/// A list or one item, as IAM and SAM accept both.
fn items(value: Json) -> Vec<Json> {
    match value {
        Json::Array(items) => items,
        one => vec![one],
    }
}

/// The table permissions in a function's `Policies`.
pub fn from_policies(ctx: &Context, policies: &Node) -> Result<Vec<TableAccess>> {
    let mut out = Vec::new();
    // Item by item, so that an error names the line of its policy.
    let nodes: Vec<&Node> = match &policies.value {
        crate::yaml::Value::Seq(list) => list.iter().collect(),
        _ => vec![policies],
    };
    for policies in nodes {
        let Some(policy) = ctx.eval(policies)? else {
            continue;
        };
        match policy {
            Json::String(name) => {
                if let Some(levels) = managed_policy(&name) {
                    grant(
                        &mut out,
                        "*".into(),
                        levels,
                        name.rsplit('/').next().unwrap_or(&name).to_owned(),
                    );
                }
            }
            Json::Object(m) if m.contains_key("Statement") => {
                statements(policies, &m["Statement"], &mut out)?;
            }
            Json::Object(m) => {
                for (name, args) in m {
                    let Some(levels) = policy_template(&name) else {
                        continue;
                    };
                    let table = args
                        .get("TableName")
                        .and_then(|t| match t {
                            Json::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .ok_or_else(|| err(policies, format!("{name} needs a TableName")))?;
                    grant(&mut out, table, levels, name);
                }
            }
            _ => {}
        }
    }
    Ok(merge(out))
}

/// The `dynamodb:` actions of allowing statements, by the tables their resources name.
fn statements(at: &Node, statement: &Json, out: &mut Vec<TableAccess>) -> Result<()> {
    for s in items(statement.clone()) {
        if s.get("Effect").and_then(Json::as_str) != Some("Allow") {
            continue;
        }
        let mut levels = BTreeSet::new();
        for action in items(s.get("Action").cloned().unwrap_or(Json::Null)) {
            let Some(action) = action.as_str() else {
                return Err(err(
                    at,
                    format!("a policy Action must be a string, not {action}"),
                ));
            };
            match action.split_once(':') {
                Some(("dynamodb", "*")) | None if action == "*" || action == "dynamodb:*" => {
                    levels.extend(AccessLevel::ALL);
                }
                Some(("dynamodb", op)) => {
                    if let Some(level) = AccessLevel::of_operation(op) {
                        levels.insert(level);
                    } else if op.contains('*') {
                        // `dynamodb:Get*` and the like: every level with a matching operation.
                        let prefix = op.trim_end_matches('*');
                        levels.extend(
                            AccessLevel::ALL
                                .into_iter()
                                .filter(|l| l.operations().iter().any(|o| o.starts_with(prefix))),
                        );
                    }
                }
                _ => {}
            }
        }
        if levels.is_empty() {
            continue;
        }
        let levels: Vec<AccessLevel> = levels.into_iter().collect();
        for resource in items(s.get("Resource").cloned().unwrap_or(Json::Null)) {
            if let Some(table) = resource.as_str().and_then(table_of) {
                grant(out, table, &levels, "policy statement".into());
            }
        }
    }
    Ok(())
}

/// One table entry per table: levels and sources united.
pub fn merge(list: Vec<TableAccess>) -> Vec<TableAccess> {
    let mut by_table: BTreeMap<String, TableAccess> = BTreeMap::new();
    for a in list {
        match by_table.get_mut(&a.table) {
            Some(e) => {
                e.levels.extend(a.levels);
                for by in a.granted_by {
                    if !e.granted_by.contains(&by) {
                        e.granted_by.push(by);
                    }
                }
            }
            None => {
                by_table.insert(a.table.clone(), a);
            }
        }
    }
    by_table.into_values().collect()
}

/// What the connectors of a template know about its resources.
pub struct Stack<'a> {
    /// Resource type by logical id.
    pub kinds: &'a BTreeMap<String, String>,
    /// Physical names of the stack's functions and tables, by logical id.
    pub names: &'a BTreeMap<String, String>,
}

/// One end of a connector.
enum End {
    /// A resource of this template.
    Id(String),
    /// A resource outside it, by type and ARN (or name).
    External { kind: String, arn: Option<String> },
}

fn end(ctx: &Context, node: &Node, what: &str) -> Result<End> {
    let value = ctx.value(node)?;
    let Json::Object(m) = value else {
        return Err(err(node, format!("the connector's {what} must be a map")));
    };
    if let Some(id) = m.get("Id") {
        return id
            .as_str()
            .map(|s| End::Id(s.to_owned()))
            .ok_or_else(|| err(node, format!("{what}.Id must be a logical id")));
    }
    let kind = m.get("Type").and_then(Json::as_str).ok_or_else(|| {
        err(
            node,
            format!("the connector's {what} needs an Id, or a Type with an Arn"),
        )
    })?;
    let arn = m
        .get("Arn")
        .or_else(|| m.get("Name"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    Ok(End::External {
        kind: kind.to_owned(),
        arn,
    })
}

/// One connector (`props` is its `Properties`; `source` is the function that embeds it, for
/// the `Connectors` property form). Grants go to `out` by function logical id; connectors
/// that grant nothing Nimbus records are described in `notes`.
pub fn connector(
    ctx: &Context,
    stack: &Stack<'_>,
    name: &str,
    props: &Node,
    source: Option<&str>,
    out: &mut BTreeMap<String, Vec<TableAccess>>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let source = match (source, props.get("Source")) {
        (Some(f), None) => End::Id(f.to_owned()),
        (None, Some(node)) => end(ctx, node, "Source")?,
        (Some(_), Some(node)) => {
            return Err(err(
                node,
                "an embedded connector takes no Source (it is the function)",
            ));
        }
        (None, None) => return Err(err(props, format!("connector {name} has no Source"))),
    };
    let destinations = match props.get("Destination") {
        Some(node) => match &node.value {
            crate::yaml::Value::Seq(list) => list
                .iter()
                .map(|d| end(ctx, d, "Destination"))
                .collect::<Result<Vec<_>>>()?,
            _ => vec![end(ctx, node, "Destination")?],
        },
        None => return Err(err(props, format!("connector {name} has no Destination"))),
    };
    let permissions_node = props
        .get("Permissions")
        .ok_or_else(|| err(props, format!("connector {name} has no Permissions")))?;
    let mut levels = BTreeSet::new();
    for p in items(ctx.value(permissions_node)?) {
        match p.as_str() {
            Some("Read") => {
                levels.insert(AccessLevel::Read);
            }
            Some("Write") => {
                levels.extend([AccessLevel::Write, AccessLevel::Delete]);
            }
            _ => {
                return Err(err(
                    permissions_node,
                    format!("connector {name}: Permissions are Read and Write, not {p}"),
                ));
            }
        }
    }
    if levels.is_empty() {
        return Err(err(
            permissions_node,
            format!("connector {name}: Permissions is empty"),
        ));
    }
    let kind_of = |e: &End| -> Result<String> {
        match e {
            End::Id(id) => stack.kinds.get(id).cloned().ok_or_else(|| {
                err(
                    props,
                    format!("connector {name}: no resource {id} in the template"),
                )
            }),
            End::External { kind, .. } => Ok(kind.clone()),
        }
    };
    let source_kind = kind_of(&source)?;
    let function = match &source {
        End::Id(id) if source_kind == "AWS::Serverless::Function" => Some(id.clone()),
        _ => None,
    };
    let levels: Vec<AccessLevel> = levels.into_iter().collect();
    for d in &destinations {
        let dest_kind = kind_of(d)?;
        let table = match d {
            End::Id(id)
                if matches!(
                    dest_kind.as_str(),
                    "AWS::Serverless::SimpleTable" | "AWS::DynamoDB::Table"
                ) =>
            {
                stack.names.get(id).cloned()
            }
            End::External {
                kind,
                arn: Some(arn),
            } if kind == "AWS::DynamoDB::Table" => table_of(arn).or_else(|| Some(arn.clone())),
            _ => None,
        };
        match (&function, table) {
            (Some(f), Some(table)) => out.entry(f.clone()).or_default().push(TableAccess {
                table,
                levels: levels.iter().copied().collect(),
                granted_by: vec![format!("connector {name}")],
            }),
            _ => notes.push(format!(
                "connector {name}: {source_kind} to {dest_kind} grants nothing Nimbus records (it does not enforce IAM)"
            )),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;
    use serde_json::json;

    fn levels(a: &TableAccess) -> Vec<&'static str> {
        a.levels.iter().map(|l| l.name()).collect()
    }

    #[test]
    fn policy_templates_managed_policies_and_statements() {
        let mut ctx = Context::default();
        ctx.refs.insert("Items".into(), json!("shop-Items-X"));
        ctx.declared.insert("Items".into());
        let node = parse(
            "- DynamoDBReadPolicy: {TableName: !Ref Items}\n- DynamoDBWritePolicy: {TableName: !Ref Items}\n- DynamoDBReconfigurePolicy: {TableName: other}\n- AmazonDynamoDBReadOnlyAccess\n- AWSLambdaBasicExecutionRole\n- Statement:\n    - Effect: Allow\n      Action: [dynamodb:GetItem, 'dynamodb:Delete*', s3:GetObject]\n      Resource: arn:aws:dynamodb:us-east-1:000000000000:table/logs/index/*\n",
        )
        .expect("yaml");
        let access = from_policies(&ctx, &node).expect("policies");
        let summary: Vec<(String, Vec<&str>)> = access
            .iter()
            .map(|a| (a.table.clone(), levels(a)))
            .collect();
        assert_eq!(
            summary,
            [
                ("*".to_owned(), vec!["read", "stream-read"]),
                ("logs".to_owned(), vec!["read", "delete", "backup"]),
                ("other".to_owned(), vec!["reconfigure"]),
                ("shop-Items-X".to_owned(), vec!["read", "write"]),
            ]
        );
        assert_eq!(
            access[3].granted_by,
            ["DynamoDBReadPolicy", "DynamoDBWritePolicy"]
        );
        assert_eq!(access[3].tag_value(), "read+write shop-Items-X");
        assert!(access[3].operations().contains("PutItem"));
        assert!(!access[3].operations().contains("DeleteItem"));

        let e = from_policies(
            &ctx,
            &parse("x:\n  - DynamoDBCrudPolicy: {}\n")
                .expect("y")
                .get("x")
                .cloned()
                .expect("x"),
        )
        .expect_err("no table");
        assert_eq!(
            e.to_string(),
            "template line 2: DynamoDBCrudPolicy needs a TableName"
        );
    }

    #[test]
    fn connectors_grant_functions_table_access() {
        let kinds = BTreeMap::from([
            ("Fn".to_owned(), "AWS::Serverless::Function".to_owned()),
            (
                "Items".to_owned(),
                "AWS::Serverless::SimpleTable".to_owned(),
            ),
            ("Bucket".to_owned(), "AWS::S3::Bucket".to_owned()),
        ]);
        let names = BTreeMap::from([("Items".to_owned(), "shop-Items-X".to_owned())]);
        let stack = Stack {
            kinds: &kinds,
            names: &names,
        };
        let ctx = Context::default();
        let mut out = BTreeMap::new();
        let mut notes = Vec::new();
        let props = parse(
            "Source: {Id: Fn}\nDestination:\n  - Id: Items\n  - {Type: AWS::DynamoDB::Table, Arn: 'arn:aws:dynamodb:us-east-1:1:table/ext'}\n  - Id: Bucket\nPermissions: [Read, Write]\n",
        )
        .expect("yaml");
        connector(&ctx, &stack, "Conn", &props, None, &mut out, &mut notes).expect("connector");
        let fn_access = &out["Fn"];
        assert_eq!(fn_access.len(), 2);
        assert_eq!(fn_access[0].tag_value(), "read+write+delete shop-Items-X");
        assert_eq!(fn_access[1].table, "ext");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("AWS::S3::Bucket"), "{notes:?}");

        // The embedded form: the function is the source.
        let embedded = parse("Destination: {Id: Items}\nPermissions: [Read]\n").expect("yaml");
        let mut out = BTreeMap::new();
        connector(
            &ctx,
            &stack,
            "FnReads",
            &embedded,
            Some("Fn"),
            &mut out,
            &mut notes,
        )
        .expect("embedded");
        assert_eq!(out["Fn"][0].tag_value(), "read shop-Items-X");

        let bad = parse("Source: {Id: Fn}\nDestination: {Id: Items}\nPermissions: [Delete]\n")
            .expect("yaml");
        let e = connector(&ctx, &stack, "Bad", &bad, None, &mut out, &mut notes).expect_err("bad");
        assert_eq!(
            e.to_string(),
            "template line 3: connector Bad: Permissions are Read and Write, not \"Delete\""
        );
        let missing = parse("Source: {Id: Nope}\nDestination: {Id: Items}\nPermissions: [Read]\n")
            .expect("yaml");
        let e = connector(&ctx, &stack, "M", &missing, None, &mut out, &mut notes)
            .expect_err("missing");
        assert!(e.to_string().contains("no resource Nope"), "{e}");
    }
}
