//! `nimbus tables`: list, describe, scan, put and load items of the running server's tables,
//! through the DynamoDB API.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::cli::ServerArgs;
use crate::client::Client;
use crate::commands::runtime;
use crate::config::Config;
use crate::item_json;
use crate::output::{self, Table, dynamodb, print_fields, print_json, text};

/// The most items one BatchWriteItem takes.
const BATCH_SIZE: usize = 25;
/// How often unprocessed items of one batch are sent again before giving up.
const BATCH_RETRIES: u32 = 8;
/// The widest cell of `scan`'s text output.
const CELL_WIDTH: usize = 40;

#[derive(Debug, Args)]
pub struct TablesArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<TablesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// List tables with their keys, item counts and sizes (the default).
    #[command(
        after_help = "Examples:\n  nimbus tables list\n  nimbus tables list --json\n  nimbus tables list --quiet --tag nimbus:stack-name=items-api --tag nimbus:logical-id=ItemsTable"
    )]
    List {
        /// Only tables carrying this tag (KEY=VALUE); repeat to require several.
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Vec<String>,
        /// Print only the names, one per line.
        #[arg(long, short = 'q', conflicts_with = "json")]
        quiet: bool,
    },
    /// Show one table: keys, indexes, item count, size, ARN, tags.
    #[command(
        after_help = "Examples:\n  nimbus tables describe items\n  nimbus tables describe items --json"
    )]
    Describe {
        /// Table name.
        name: String,
    },
    /// Print a table's items.
    #[command(
        after_help = "Examples:\n  nimbus tables scan items\n  nimbus tables scan items --limit 10\n  nimbus tables scan items --json > items.json"
    )]
    Scan {
        /// Table name.
        name: String,
        /// Print at most this many items.
        #[arg(long)]
        limit: Option<usize>,
        /// With --json, print items in DynamoDB JSON ({"id": {"S": "42"}}) instead of plain JSON.
        #[arg(long)]
        dynamodb_json: bool,
    },
    /// Write one item (replacing the item with the same key).
    #[command(
        after_help = "Examples:\n  nimbus tables put items --item '{\"id\": \"42\", \"name\": \"Towel\"}'\n  nimbus tables put items --item '{\"id\": {\"S\": \"42\"}}'\n  nimbus tables put items --item @item.json"
    )]
    Put {
        /// Table name.
        name: String,
        /// The item: plain JSON or DynamoDB JSON, or @file to read it from a file.
        #[arg(long)]
        item: String,
        /// How to read the item: auto, plain or dynamodb.
        #[arg(long, default_value = "auto", value_parser = ["auto", "plain", "dynamodb"])]
        format: String,
    },
    /// Write the items of a JSON file (an array of items), 25 per BatchWriteItem.
    #[command(
        after_help = "The file holds a JSON array of items in plain JSON ([{\"id\": \"42\", \"price\": 9.5}])\nor DynamoDB JSON ([{\"id\": {\"S\": \"42\"}}]), or the output of a scan ({\"Items\": [...]}).\nItems replace those with the same key, so loading a file twice is harmless.\n\nExamples:\n  nimbus tables load items seed.json\n  nimbus tables load items - < seed.json\n  nimbus tables load items export.json --format dynamodb"
    )]
    Load {
        /// Table name.
        name: String,
        /// The JSON file, or - for standard input.
        file: String,
        /// How to read the items: auto, plain or dynamodb.
        #[arg(long, default_value = "auto", value_parser = ["auto", "plain", "dynamodb"])]
        format: String,
    },
}

pub fn run(args: TablesArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let json = args.json;
    let command = args.command.unwrap_or(TablesCommand::List {
        tag: Vec::new(),
        quiet: false,
    });
    runtime()?.block_on(async {
        let client = Client::new(&config)?;
        match command {
            TablesCommand::List { tag, quiet } => list(&client, &tag, json, quiet).await,
            TablesCommand::Describe { name } => describe(&client, &name, json).await,
            TablesCommand::Scan {
                name,
                limit,
                dynamodb_json,
            } => scan(&client, &name, limit, json, dynamodb_json).await,
            TablesCommand::Put { name, item, format } => {
                put(&client, &name, &item, &format, json).await
            }
            TablesCommand::Load { name, file, format } => {
                load(&client, &name, &file, &format, json).await
            }
        }
    })
}

/// DescribeTable, with a message that says how to find the right name.
async fn describe_table(client: &Client, name: &str) -> anyhow::Result<Value> {
    let out = dynamodb(client, "DescribeTable", &json!({"TableName": name}))
        .await
        .map_err(|e| not_found(e, name))?;
    Ok(out["Table"].clone())
}

fn not_found(e: anyhow::Error, name: &str) -> anyhow::Error {
    if e.to_string().starts_with("ResourceNotFoundException") {
        anyhow::anyhow!("table {name:?} does not exist; list tables with `nimbus tables list`")
    } else {
        e
    }
}

async fn tags(client: &Client, arn: &str) -> anyhow::Result<Map<String, Value>> {
    let mut tags = Map::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({"ResourceArn": arn});
        if let Some(t) = &token {
            request["NextToken"] = t.clone().into();
        }
        let page = dynamodb(client, "ListTagsOfResource", &request).await?;
        for t in page["Tags"].as_array().into_iter().flatten() {
            tags.insert(text(&t["Key"]), t["Value"].clone());
        }
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            return Ok(tags);
        }
    }
}

/// `hash (S), range (N)`.
fn key_summary(table: &Value) -> String {
    let types: Map<String, Value> = table["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (text(&d["AttributeName"]), d["AttributeType"].clone()))
        .collect();
    table["KeySchema"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let name = text(&k["AttributeName"]);
            let t = types.get(&name).map(text).unwrap_or_default();
            format!("{name} ({t})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_names(table: &Value) -> Vec<String> {
    table["KeySchema"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| text(&k["AttributeName"]))
        .collect()
}

/// One table in the JSON of `list`.
fn summary(table: &Value, tags: Map<String, Value>) -> Value {
    let keys = key_names(table);
    json!({
        "name": table["TableName"],
        "status": table["TableStatus"],
        "partition_key": keys.first(),
        "sort_key": keys.get(1),
        "item_count": table["ItemCount"],
        "size_bytes": table["TableSizeBytes"],
        "arn": table["TableArn"],
        "tags": tags,
    })
}

async fn list(
    client: &Client,
    tag_filters: &[String],
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let filters: Vec<(&str, &str)> = tag_filters
        .iter()
        .map(|t| {
            t.split_once('=')
                .with_context(|| format!("--tag {t:?}: write KEY=VALUE"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut request = json!({});
        if let Some(s) = &start {
            request["ExclusiveStartTableName"] = s.clone().into();
        }
        let page = dynamodb(client, "ListTables", &request).await?;
        names.extend(
            page["TableNames"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text),
        );
        start = page["LastEvaluatedTableName"].as_str().map(str::to_owned);
        if start.is_none() {
            break;
        }
    }
    let mut tables = Vec::new();
    for name in names {
        // A table deleted between the listing and now is simply left out.
        let Ok(table) = describe_table(client, &name).await else {
            continue;
        };
        let tags = tags(client, &text(&table["TableArn"])).await?;
        if filters
            .iter()
            .all(|(k, v)| tags.get(*k).and_then(Value::as_str) == Some(*v))
        {
            tables.push(summary(&table, tags));
        }
    }
    if json {
        return print_json(&Value::Array(tables));
    }
    if quiet {
        for t in &tables {
            println!("{}", text(&t["name"]));
        }
        return Ok(());
    }
    if tables.is_empty() {
        if filters.is_empty() {
            println!("No tables. Create one with `aws dynamodb create-table` or `nimbus deploy`.");
        } else {
            println!("No table carries {}.", tag_filters.join(" and "));
        }
        return Ok(());
    }
    let mut out = Table::new([
        "NAME",
        "PARTITION KEY",
        "SORT KEY",
        "ITEMS",
        "SIZE",
        "STATUS",
    ]);
    for t in &tables {
        out.row(vec![
            text(&t["name"]),
            text(&t["partition_key"]),
            text(&t["sort_key"]),
            text(&t["item_count"]),
            output::bytes(t["size_bytes"].as_u64().unwrap_or(0)),
            text(&t["status"]),
        ]);
    }
    out.print()
}

async fn describe(client: &Client, name: &str, json: bool) -> anyhow::Result<()> {
    let mut table = describe_table(client, name).await?;
    let tags = tags(client, &text(&table["TableArn"])).await?;
    if json {
        table["Tags"] = Value::Object(tags);
        return print_json(&table);
    }
    let indexes = |field: &str| {
        table[field]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| format!("{} [{}]", text(&i["IndexName"]), key_summary_of(i, &table)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let billing = table["BillingModeSummary"]["BillingMode"]
        .as_str()
        .unwrap_or("PROVISIONED")
        .to_owned();
    let stream = match table["StreamSpecification"]["StreamEnabled"].as_bool() {
        Some(true) => text(&table["StreamSpecification"]["StreamViewType"]),
        _ => String::new(),
    };
    let tags = tags
        .iter()
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect::<Vec<_>>()
        .join(", ");
    print_fields(&[
        ("Table", text(&table["TableName"])),
        ("Status", text(&table["TableStatus"])),
        ("Keys", key_summary(&table)),
        ("Items", text(&table["ItemCount"])),
        (
            "Size",
            output::bytes(table["TableSizeBytes"].as_u64().unwrap_or(0)),
        ),
        ("Billing", billing),
        ("Global indexes", indexes("GlobalSecondaryIndexes")),
        ("Local indexes", indexes("LocalSecondaryIndexes")),
        ("Stream", stream),
        ("ARN", text(&table["TableArn"])),
        ("Tags", tags),
    ])
}

/// The keys of an index, typed from the table's attribute definitions.
fn key_summary_of(index: &Value, table: &Value) -> String {
    key_summary(&json!({
        "KeySchema": index["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
    }))
}

async fn scan(
    client: &Client,
    name: &str,
    limit: Option<usize>,
    json: bool,
    dynamodb_json: bool,
) -> anyhow::Result<()> {
    let table = describe_table(client, name).await?;
    let mut items: Vec<Value> = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut request = json!({"TableName": name});
        if let Some(k) = &start {
            request["ExclusiveStartKey"] = k.clone();
        }
        if let Some(n) = limit {
            request["Limit"] = (n - items.len().min(n)).max(1).into();
        }
        let page = dynamodb(client, "Scan", &request).await?;
        items.extend(page["Items"].as_array().into_iter().flatten().cloned());
        start = page.get("LastEvaluatedKey").cloned();
        if start.is_none() || limit.is_some_and(|n| items.len() >= n) {
            break;
        }
    }
    if let Some(n) = limit {
        items.truncate(n);
    }
    if json {
        let items = if dynamodb_json {
            items
        } else {
            items.iter().map(item_json::to_plain_item).collect()
        };
        return print_json(&Value::Array(items));
    }
    if items.is_empty() {
        println!(
            "Table {name} is empty. Add items with `nimbus tables put {name} --item '{{...}}'` or `nimbus tables load {name} FILE.json`."
        );
        return Ok(());
    }
    let plain: Vec<Value> = items.iter().map(item_json::to_plain_item).collect();
    let keys = key_names(&table);
    let others: BTreeSet<&String> = plain
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys())
        .filter(|k| !keys.contains(k))
        .collect();
    let columns: Vec<String> = keys
        .iter()
        .cloned()
        .chain(others.into_iter().cloned())
        .collect();
    let mut out = Table::new(columns.iter().cloned());
    for item in &plain {
        out.row(columns.iter().map(|c| cell(&item[c.as_str()])).collect());
    }
    out.print()?;
    eprintln!(
        "{} item{}",
        plain.len(),
        if plain.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// A value in one line of at most [`CELL_WIDTH`] characters.
fn cell(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.replace(['\n', '\t'], " "),
        other => other.to_string(),
    };
    if s.chars().count() > CELL_WIDTH {
        s.chars().take(CELL_WIDTH - 1).collect::<String>() + "…"
    } else {
        s
    }
}

fn read_arg(value: &str) -> anyhow::Result<String> {
    match value.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("read {file}")),
        None => Ok(value.to_owned()),
    }
}

async fn put(
    client: &Client,
    name: &str,
    item: &str,
    format: &str,
    json: bool,
) -> anyhow::Result<()> {
    let item = item_json::parse_item(&read_arg(item)?, format)?;
    dynamodb(client, "PutItem", &json!({"TableName": name, "Item": item}))
        .await
        .map_err(|e| not_found(e, name))?;
    let plain = item_json::to_plain_item(&item);
    if json {
        return print_json(&json!({"table": name, "item": plain}));
    }
    println!("Put {plain} into {name}.");
    Ok(())
}

async fn load(
    client: &Client,
    name: &str,
    file: &str,
    format: &str,
    json: bool,
) -> anyhow::Result<()> {
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin()).context("read standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("read {file}"))?
    };
    let items = item_json::parse_items(&text, format).with_context(|| format!("read {file}"))?;
    // Fail early, with a clear message, when the table does not exist.
    describe_table(client, name).await?;
    let mut loaded = 0;
    for chunk in items.chunks(BATCH_SIZE) {
        let mut requests: Vec<Value> = chunk
            .iter()
            .map(|item| json!({"PutRequest": {"Item": item}}))
            .collect();
        let mut attempt = 0;
        while !requests.is_empty() {
            let out = dynamodb(
                client,
                "BatchWriteItem",
                &json!({"RequestItems": {name: requests}}),
            )
            .await
            .with_context(|| format!("write items {}..{}", loaded, loaded + chunk.len()))?;
            requests = out["UnprocessedItems"][name]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if requests.is_empty() {
                break;
            }
            attempt += 1;
            if attempt > BATCH_RETRIES {
                bail!(
                    "the server left {} items unprocessed after {BATCH_RETRIES} retries; \
                     {loaded} items were loaded before this batch — run the load again",
                    requests.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
        }
        loaded += chunk.len();
    }
    if json {
        return print_json(&json!({"table": name, "loaded": loaded}));
    }
    println!(
        "Loaded {loaded} item{} into {name}.",
        if loaded == 1 { "" } else { "s" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_cells_read_well() {
        let table = json!({
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
        });
        assert_eq!(key_summary(&table), "pk (S), sk (N)");
        assert_eq!(cell(&json!("a\nb")), "a b");
        assert_eq!(cell(&json!({"w": 1})), "{\"w\":1}");
        assert_eq!(cell(&json!("x".repeat(50))).chars().count(), CELL_WIDTH);
    }
}
