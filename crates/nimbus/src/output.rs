//! How the commands that talk to a running server print: aligned text tables for people,
//! JSON for scripts, and the REST call helper they share.

use std::io::Write;

use anyhow::bail;
use serde_json::Value;

use crate::client::{Client, describe_error};

/// Text columns, aligned on the widest cell. The last column is not padded.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut out = String::new();
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                out.push_str(cell);
                if i + 1 < widths.len() {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&mut self.headers.iter().map(String::as_str));
        for row in &self.rows {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        out
    }

    pub fn print(&self) -> anyhow::Result<()> {
        std::io::stdout()
            .lock()
            .write_all(self.render().as_bytes())?;
        Ok(())
    }
}

/// Prints `value` as indented JSON.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints `label: value` lines aligned on the longest label, skipping empty values.
pub fn print_fields(fields: &[(&str, String)]) -> anyhow::Result<()> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut out = std::io::stdout().lock();
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        writeln!(out, "{:width$} {v}", format!("{k}:"))?;
    }
    Ok(())
}

/// A byte count for people: `512 B`, `1.5 KB`, `3.2 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A string field of a JSON object, or `""`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The outcome of a REST call whose body is JSON.
pub struct Reply {
    pub status: http::StatusCode,
    pub body: Value,
}

/// Calls a DynamoDB operation (JSON 1.0), returning the response body.
pub async fn dynamodb(client: &Client, operation: &str, body: &Value) -> anyhow::Result<Value> {
    let target = format!("DynamoDB_20120810.{operation}");
    let response = client
        .rest(
            "dynamodb",
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", &target),
            ],
            serde_json::to_vec(body)?,
        )
        .await?;
    let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    if !response.status.is_success() {
        let described = describe_error(&response, &value);
        bail!("{described}{}", auth_hint(&described));
    }
    Ok(value)
}

/// Sends a signed REST call and decodes its JSON body. Errors other than 404 (which the caller
/// turns into a message naming the missing resource) become `Code: message`.
pub async fn rest_json(
    client: &Client,
    service: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Reply> {
    let (headers, bytes): (&[(&str, &str)], Vec<u8>) = match body {
        Some(b) => (
            &[("content-type", "application/json")],
            serde_json::to_vec(b)?,
        ),
        None => (&[], Vec::new()),
    };
    let response = client.rest(service, method, path, headers, bytes).await?;
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    if !response.status.is_success() && response.status != http::StatusCode::NOT_FOUND {
        let described = describe_error(&response, &body);
        bail!("{described}{}", auth_hint(&described));
    }
    Ok(Reply {
        status: response.status,
        body,
    })
}

/// What to do when the server refuses the CLI's signature (`described` is `Code: message`).
pub fn auth_hint(described: &str) -> &'static str {
    const REFUSED: [&str; 3] = [
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
    ];
    if REFUSED.iter().any(|code| described.starts_with(code)) {
        " (the CLI signs with the key pair in <data-dir>/credentials.json: pass the server's \
         --data-dir, or run the command where `nimbus serve` runs)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_sizes_read_well() {
        let mut t = Table::new(["NAME", "ITEMS"]);
        t.row(vec!["items".into(), "3".into()]);
        t.row(vec!["a-longer-name".into(), "12".into()]);
        assert_eq!(
            t.render(),
            "NAME           ITEMS\nitems          3\na-longer-name  12\n"
        );
        assert_eq!(bytes(12), "12 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MB");
    }
}
