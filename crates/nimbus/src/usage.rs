//! `nimbus usage`: what the running server metered since it started, from
//! `GET /_nimbus/usage` (signed with the service name `nimbus`).

use clap::Args;
use serde_json::Value;

use crate::cli::ServerArgs;
use crate::client::Client;
use crate::commands::runtime;
use crate::config::Config;
use crate::output::{Table, print_json, rest_json, text};

#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: UsageArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let usage = runtime()?.block_on(async {
        let client = Client::new(&config)?;
        let reply = rest_json(&client, "nimbus", "GET", "/_nimbus/usage", None).await?;
        anyhow::ensure!(
            reply.status.is_success(),
            "the server at {} has no usage endpoint; is it an older Nimbus?",
            config.listen
        );
        anyhow::Ok(reply.body)
    })?;
    if args.json {
        return print_json(&usage);
    }
    print!("{}", render(&usage));
    Ok(())
}

fn render(usage: &Value) -> String {
    let entries = |field: &str| -> Vec<(String, Value)> {
        usage[field]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let tables = entries("tables");
    let functions = entries("functions");
    if tables.is_empty() && functions.is_empty() {
        return "No usage recorded since the server started.\n".to_owned();
    }
    let mut out = String::from("Usage since the server started.\n");
    if !tables.is_empty() {
        let mut t = Table::new([
            "TABLE",
            "REQUESTS",
            "READ UNITS",
            "WRITE UNITS",
            "STREAM READ UNITS",
        ]);
        for (name, v) in &tables {
            t.row(vec![
                name.clone(),
                text(&v["requests"]),
                units(&v["read_units"]),
                units(&v["write_units"]),
                units(&v["stream_read_units"]),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    if !functions.is_empty() {
        let mut t = Table::new(["FUNCTION", "INVOCATIONS", "BILLED MS", "GB-SECONDS"]);
        for (name, v) in &functions {
            t.row(vec![
                name.clone(),
                text(&v["invocations"]),
                text(&v["billed_duration_ms"]),
                format!("{:.6}", v["gb_seconds"].as_f64().unwrap_or(0.0)),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    out
}

fn units(v: &Value) -> String {
    format!("{:.1}", v.as_f64().unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn usage_reads_as_two_tables() {
        let text = render(&json!({
            "tables": {"items": {"requests": 3, "read_units": 1.5, "write_units": 2.0}},
            "functions": {"hello": {"invocations": 2, "billed_duration_ms": 41, "gb_seconds": 0.005125}},
        }));
        assert!(text.contains("items  3         1.5         2.0"), "{text}");
        assert!(
            text.contains("hello     2            41         0.005125"),
            "{text}"
        );
        assert_eq!(
            render(&json!({"tables": {}, "functions": {}})),
            "No usage recorded since the server started.\n"
        );
    }
}
