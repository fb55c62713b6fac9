//! Commands that work against a running server: `invoke` and `logs`.

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::cli::{InvokeArgs, LogsArgs};
use crate::client::{Client, describe_error};
use crate::config::Config;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime")
}

/// Percent-encodes one path segment or query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `nimbus invoke`.
pub fn invoke(args: InvokeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let payload = match args.payload.as_deref() {
        None => b"{}".to_vec(),
        Some(p) => match p.strip_prefix('@') {
            Some(file) => std::fs::read(file).with_context(|| format!("read {file}"))?,
            None => p.as_bytes().to_vec(),
        },
    };
    serde_json::from_slice::<Value>(&payload).context("the payload must be JSON")?;
    let mut path = format!(
        "/2015-03-31/functions/{}/invocations",
        encode(&args.function)
    );
    if let Some(q) = &args.qualifier {
        path.push_str(&format!("?Qualifier={}", encode(q)));
    }
    let kind = if args.asynchronous {
        "Event"
    } else {
        "RequestResponse"
    };
    let log_type = if args.log { "Tail" } else { "None" };
    runtime()?.block_on(async {
        let client = Client::new(&config)?;
        let response = client
            .rest(
                "lambda",
                "POST",
                &path,
                &[
                    ("x-amz-invocation-type", kind),
                    ("x-amz-log-type", log_type),
                ],
                payload,
            )
            .await?;
        if !response.status.is_success() {
            let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            bail!("{}", describe_error(&response, &body));
        }
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(log) = header("x-amz-log-result") {
            let text = base64::engine::general_purpose::STANDARD
                .decode(log)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            eprint!("{text}");
        }
        if args.asynchronous {
            println!("queued ({})", response.status);
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        out.write_all(&response.body)?;
        writeln!(out)?;
        if let Some(error) = header("x-amz-function-error") {
            bail!(
                "the function failed ({error}); see its log with `nimbus logs {}`",
                args.function
            );
        }
        Ok(())
    })
}

/// `30s`, `10m`, `2h`, `1d` as a duration.
fn parse_since(s: &str) -> anyhow::Result<Duration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .with_context(|| format!("invalid --since {s:?}: use e.g. 30s, 10m, 2h, 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("invalid --since {s:?}: use e.g. 30s, 10m, 2h, 1d"),
    };
    Ok(Duration::from_secs(secs))
}

/// `nimbus logs`.
pub fn logs(args: LogsArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let since = parse_since(&args.since)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let group = format!("/aws/lambda/{}", args.function);
    runtime()?.block_on(async {
        let client = Client::new(&config)?;
        let mut start = now_ms.saturating_sub(since.as_millis() as u64);
        let mut seen: HashSet<(u64, String, String)> = HashSet::new();
        loop {
            let mut token: Option<String> = None;
            loop {
                let mut request = json!({"logGroupName": group, "startTime": start});
                if let Some(f) = &args.filter {
                    request["filterPattern"] = f.clone().into();
                }
                if let Some(t) = &token {
                    request["nextToken"] = t.clone().into();
                }
                let page = client
                    .json("logs", "Logs_20140328.FilterLogEvents", "1.1", &request)
                    .await?;
                let mut out = std::io::stdout().lock();
                for e in page["events"].as_array().into_iter().flatten() {
                    let ts = e["timestamp"].as_u64().unwrap_or(0);
                    let stream = e["logStreamName"].as_str().unwrap_or("").to_owned();
                    let message = e["message"].as_str().unwrap_or("").to_owned();
                    if !seen.insert((ts, stream.clone(), message.clone())) {
                        continue;
                    }
                    if args.json {
                        writeln!(out, "{e}")?;
                    } else {
                        let short = stream.rsplit(']').next().unwrap_or(&stream);
                        let short = &short[..short.len().min(8)];
                        writeln!(out, "{} {short} {message}", format_ms(ts))?;
                    }
                    start = start.max(ts);
                }
                token = page["nextToken"].as_str().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            if !args.follow {
                return Ok(());
            }
            // Keep only the last millisecond's events to drop repeats on the next poll.
            seen.retain(|(ts, _, _)| *ts >= start);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

fn format_ms(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_encodings() {
        assert_eq!(parse_since("10m").ok(), Some(Duration::from_secs(600)));
        assert_eq!(parse_since("2h").ok(), Some(Duration::from_secs(7200)));
        assert!(parse_since("ten").is_err());
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
