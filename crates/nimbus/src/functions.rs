//! `nimbus functions`: the running server's functions, through the Lambda API.

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::ServerArgs;
use crate::client::Client;
use crate::commands::{encode, runtime};
use crate::config::Config;
use crate::output::{self, Table, print_fields, print_json, rest_json, text};

#[derive(Debug, Args)]
pub struct FunctionsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<FunctionsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum FunctionsCommand {
    /// List functions with their runtime, memory, timeout and handler (the default).
    #[command(after_help = "Examples:\n  nimbus functions list\n  nimbus functions list --json")]
    List,
    /// Show one function's configuration, environment, concurrency and tags.
    #[command(
        after_help = "Examples:\n  nimbus functions get my-function\n  nimbus functions get my-function --json"
    )]
    Get {
        /// Function name or ARN.
        name: String,
    },
}

pub fn run(args: FunctionsArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    runtime()?.block_on(async {
        let client = Client::new(&config)?;
        match args.command.unwrap_or(FunctionsCommand::List) {
            FunctionsCommand::List => list(&client, args.json).await,
            FunctionsCommand::Get { name } => get(&client, &name, args.json).await,
        }
    })
}

async fn list(client: &Client, json: bool) -> anyhow::Result<()> {
    let mut functions: Vec<Value> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut path = "/2015-03-31/functions/".to_owned();
        if let Some(m) = &marker {
            path.push_str(&format!("?Marker={}", encode(m)));
        }
        let page = rest_json(client, "lambda", "GET", &path, None).await?.body;
        functions.extend(page["Functions"].as_array().into_iter().flatten().cloned());
        marker = page["NextMarker"].as_str().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    if json {
        return print_json(&Value::Array(functions));
    }
    if functions.is_empty() {
        println!(
            "No functions. Create one with `aws lambda create-function` or deploy a SAM template with `nimbus deploy`."
        );
        return Ok(());
    }
    let mut out = Table::new([
        "NAME",
        "RUNTIME",
        "MEMORY",
        "TIMEOUT",
        "HANDLER",
        "LAST MODIFIED",
    ]);
    for f in &functions {
        out.row(vec![
            text(&f["FunctionName"]),
            text(&f["Runtime"]),
            format!("{} MB", text(&f["MemorySize"])),
            format!("{} s", text(&f["Timeout"])),
            text(&f["Handler"]),
            text(&f["LastModified"]),
        ]);
    }
    out.print()
}

async fn get(client: &Client, name: &str, json: bool) -> anyhow::Result<()> {
    let path = format!("/2015-03-31/functions/{}", encode(name));
    let reply = rest_json(client, "lambda", "GET", &path, None).await?;
    if reply.status == http::StatusCode::NOT_FOUND {
        anyhow::bail!(
            "function {name:?} does not exist; list functions with `nimbus functions list`"
        );
    }
    let body = reply.body;
    if json {
        return print_json(&body);
    }
    let c = &body["Configuration"];
    let pairs = |v: &Value| {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    print_fields(&[
        ("Function", text(&c["FunctionName"])),
        ("ARN", text(&c["FunctionArn"])),
        ("Runtime", text(&c["Runtime"])),
        ("Handler", text(&c["Handler"])),
        ("Memory", format!("{} MB", text(&c["MemorySize"]))),
        ("Timeout", format!("{} s", text(&c["Timeout"]))),
        ("State", text(&c["State"])),
        ("Version", text(&c["Version"])),
        (
            "Code size",
            output::bytes(c["CodeSize"].as_u64().unwrap_or(0)),
        ),
        ("Code SHA-256", text(&c["CodeSha256"])),
        ("Environment", pairs(&c["Environment"]["Variables"])),
        (
            "Reserved concurrency",
            text(&body["Concurrency"]["ReservedConcurrentExecutions"]),
        ),
        ("Last modified", text(&c["LastModified"])),
        ("Tags", pairs(&body["Tags"])),
    ])
}
