//! CloudWatch Logs over JSON 1.1 (`X-Amz-Target: Logs_20140328.<Op>`), for function logs: a
//! function's log group is `/aws/lambda/{name}` and each execution environment writes one
//! stream, as on Lambda. The operations that read logs and set their retention are served:
//! DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents, PutRetentionPolicy,
//! DeleteRetentionPolicy. `nimbus logs` and the console use them too.

use std::sync::Arc;

use axum::response::Response;
use base64::Engine as _;
use http::StatusCode;
use nimbus_functions::Functions;
use nimbus_functions::logs::{LogEvent, LogQuery, LogStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{AwsError, Protocol};

const P: Protocol = Protocol::Json11;
const GROUP_PREFIX: &str = "/aws/lambda/";
/// The retention values CloudWatch Logs accepts, in days.
const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn error(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(P, StatusCode::BAD_REQUEST, "", code, message)
}

fn no_group() -> AwsError {
    error(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

/// The function of a log group name.
fn function_of(group: &str) -> Result<&str, AwsError> {
    group
        .strip_prefix(GROUP_PREFIX)
        .filter(|f| !f.is_empty() && !f.contains('/'))
        .ok_or_else(no_group)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Request {
    log_group_name: Option<String>,
    log_group_name_prefix: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<u64>,
    end_time: Option<u64>,
    limit: Option<usize>,
    next_token: Option<String>,
    start_from_head: Option<bool>,
    filter_pattern: Option<String>,
    descending: Option<bool>,
    order_by: Option<String>,
    retention_in_days: Option<u32>,
}

/// Runs one CloudWatch Logs operation.
pub async fn handle(
    functions: &Arc<Functions>,
    operation: &str,
    body: &[u8],
) -> Result<Response, AwsError> {
    let request: Request = if body.iter().all(u8::is_ascii_whitespace) {
        Request::default()
    } else {
        serde_json::from_slice(body).map_err(|e| AwsError::serialization(P, e.to_string()))?
    };
    let operation = operation.to_owned();
    let functions = Arc::clone(functions);
    let output = tokio::task::spawn_blocking(move || run(functions.logs(), &operation, request))
        .await
        .map_err(|e| {
            tracing::error!("log operation panicked: {e}");
            AwsError::internal(P)
        })??;
    Ok(crate::json_response(P, output.to_string().into_bytes()))
}

fn io(e: std::io::Error) -> AwsError {
    tracing::error!("reading function logs failed: {e}");
    AwsError::internal(P)
}

fn group_name(r: &Request) -> Result<&str, AwsError> {
    r.log_group_name
        .as_deref()
        .or(r.log_group_identifier.as_deref())
        .ok_or_else(|| error("InvalidParameterException", "logGroupName is required"))
}

fn run(logs: &LogStore, operation: &str, r: Request) -> Result<Value, AwsError> {
    match operation {
        "DescribeLogGroups" => {
            let prefix = r.log_group_name_prefix.as_deref().unwrap_or("");
            let groups: Vec<Value> = logs
                .groups()
                .map_err(io)?
                .into_iter()
                .map(|g| (format!("{GROUP_PREFIX}{}", g.function), g))
                .filter(|(name, _)| name.starts_with(prefix))
                .map(|(name, g)| {
                    let mut v = json!({
                        "logGroupName": name,
                        "creationTime": g.created_ms,
                        "storedBytes": g.stored_bytes,
                        "metricFilterCount": 0,
                        "logGroupClass": "STANDARD",
                    });
                    if let Some(days) = g.retention_days {
                        v["retentionInDays"] = days.into();
                    }
                    v
                })
                .collect();
            Ok(page("logGroups", groups, &r)?)
        }
        "DescribeLogStreams" => {
            let function = function_of(group_name(&r)?)?;
            let prefix = r.log_stream_name_prefix.as_deref().unwrap_or("");
            let mut streams = logs.streams(function).map_err(io)?;
            if streams.is_empty() && logs.retention_days(function).is_none() {
                return Err(no_group());
            }
            streams.retain(|s| s.name.starts_with(prefix));
            if r.order_by.as_deref() == Some("LastEventTime") {
                streams.sort_by_key(|s| s.last_event_ms);
            }
            if r.descending == Some(true) {
                streams.reverse();
            }
            let streams: Vec<Value> = streams
                .into_iter()
                .map(|s| {
                    json!({
                        "logStreamName": s.name,
                        "creationTime": s.first_event_ms,
                        "firstEventTimestamp": s.first_event_ms,
                        "lastEventTimestamp": s.last_event_ms,
                        "lastIngestionTime": s.last_event_ms,
                        "storedBytes": s.stored_bytes,
                    })
                })
                .collect();
            Ok(page("logStreams", streams, &r)?)
        }
        "GetLogEvents" => {
            let function = function_of(group_name(&r)?)?;
            let stream = r
                .log_stream_name
                .clone()
                .ok_or_else(|| error("InvalidParameterException", "logStreamName is required"))?;
            let known = logs.streams(function).map_err(io)?;
            if known.is_empty() {
                return Err(no_group());
            }
            if !known.iter().any(|s| s.name == stream) {
                return Err(error(
                    "ResourceNotFoundException",
                    "The specified log stream does not exist.",
                ));
            }
            let streams = [stream];
            let mut query = LogQuery {
                streams: &streams,
                start_ms: r.start_time.unwrap_or(0),
                end_ms: r.end_time.unwrap_or(u64::MAX),
                limit: r.limit.unwrap_or(10_000).clamp(1, 10_000),
                from_head: r.start_from_head.unwrap_or(false),
            };
            // The tokens this call hands out: `f/<ms>` reads on from that millisecond,
            // `b/<ms>` back from before it.
            if let Some(token) = &r.next_token {
                let invalid = || {
                    error(
                        "InvalidParameterException",
                        "The specified nextToken is invalid.",
                    )
                };
                let (direction, ms) = token.split_once('/').ok_or_else(invalid)?;
                let ms: u64 = ms.parse().map_err(|_| invalid())?;
                match direction {
                    "f" => {
                        query.start_ms = query.start_ms.max(ms);
                        query.from_head = true;
                    }
                    "b" => {
                        query.end_ms = query.end_ms.min(ms);
                        query.from_head = false;
                    }
                    _ => return Err(invalid()),
                }
            }
            let events = logs.events(function, &query).map_err(io)?;
            let last = events
                .last()
                .map(|e| e.timestamp + 1)
                .unwrap_or(query.start_ms);
            let first = events
                .first()
                .map(|e| e.timestamp)
                .unwrap_or(query.start_ms);
            let events: Vec<Value> = events
                .iter()
                .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp}))
                .collect();
            Ok(json!({
                "events": events,
                "nextForwardToken": format!("f/{last:020}"),
                "nextBackwardToken": format!("b/{first:020}"),
            }))
        }
        "FilterLogEvents" => {
            let function = function_of(group_name(&r)?)?;
            let streams = r.log_stream_names.clone().unwrap_or_default();
            let limit = r.limit.unwrap_or(10_000).clamp(1, 10_000);
            let resume = r
                .next_token
                .as_deref()
                .map(decode_token)
                .transpose()?
                .unwrap_or((0, 0));
            let query = LogQuery {
                streams: &streams,
                start_ms: r.start_time.unwrap_or(0).max(resume.0),
                end_ms: r.end_time.unwrap_or(u64::MAX),
                limit: usize::MAX,
                from_head: true,
            };
            let pattern = Pattern::parse(r.filter_pattern.as_deref().unwrap_or(""));
            let mut matched: Vec<&LogEvent> = Vec::new();
            let all = logs.events(function, &query).map_err(io)?;
            // Events of the resume millisecond already returned are skipped by position.
            let mut skip = if resume.0 > 0 { resume.1 } else { 0 };
            let mut next = None;
            for (i, e) in all.iter().enumerate() {
                if e.timestamp == resume.0 && skip > 0 {
                    skip -= 1;
                    continue;
                }
                if !pattern.matches(&e.message) {
                    continue;
                }
                if matched.len() == limit {
                    let same_ms = all[..i]
                        .iter()
                        .rev()
                        .take_while(|p| p.timestamp == e.timestamp)
                        .count();
                    next = Some(encode_token(e.timestamp, same_ms));
                    break;
                }
                matched.push(e);
            }
            let searched: Vec<Value> = {
                let mut names: Vec<&str> = all.iter().map(|e| e.stream.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                names
                    .into_iter()
                    .map(|n| json!({"logStreamName": n, "searchedCompletely": true}))
                    .collect()
            };
            let events: Vec<Value> = matched
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    json!({
                        "logStreamName": e.stream,
                        "timestamp": e.timestamp,
                        "message": e.message,
                        "ingestionTime": e.timestamp,
                        "eventId": format!("{:020}{:010}", e.timestamp, i),
                    })
                })
                .collect();
            let mut out = json!({"events": events, "searchedLogStreams": searched});
            if let Some(token) = next {
                out["nextToken"] = token.into();
            }
            Ok(out)
        }
        "PutRetentionPolicy" => {
            let function = function_of(group_name(&r)?)?;
            let days = r.retention_in_days.unwrap_or(0);
            if !RETENTION_DAYS.contains(&days) {
                return Err(error(
                    "InvalidParameterException",
                    format!(
                        "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
                    ),
                ));
            }
            logs.set_retention_days(function, Some(days)).map_err(io)?;
            Ok(json!({}))
        }
        "DeleteRetentionPolicy" => {
            let function = function_of(group_name(&r)?)?;
            logs.set_retention_days(function, None).map_err(io)?;
            Ok(json!({}))
        }
        other => Err(AwsError::unknown_operation(P, other)),
    }
}

/// A page of `items` under `key`, with `nextToken` when more remain.
fn page(key: &str, items: Vec<Value>, r: &Request) -> Result<Value, AwsError> {
    let start = match &r.next_token {
        Some(t) => decode_token(t)?.0 as usize,
        None => 0,
    };
    let limit = r.limit.unwrap_or(50).clamp(1, 50);
    let end = (start + limit).min(items.len());
    let mut out = json!({ key: items.get(start..end).unwrap_or_default() });
    if end < items.len() {
        out["nextToken"] = encode_token(end as u64, 0).into();
    }
    Ok(out)
}

fn encode_token(position: u64, extra: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{position}:{extra}"))
}

fn decode_token(token: &str) -> Result<(u64, usize), AwsError> {
    let invalid = || {
        error(
            "InvalidParameterException",
            "The specified nextToken is invalid.",
        )
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (a, b) = text.split_once(':').ok_or_else(invalid)?;
    Ok((
        a.parse().map_err(|_| invalid())?,
        b.parse().map_err(|_| invalid())?,
    ))
}

/// The term subset of CloudWatch's filter pattern syntax: every term must occur, a `-term`
/// must not, `"quoted phrases"` match as a whole, and `?a ?b` matches either.
struct Pattern {
    all: Vec<String>,
    none: Vec<String>,
    any: Vec<String>,
}

impl Pattern {
    fn parse(pattern: &str) -> Pattern {
        let mut terms = Vec::new();
        let mut chars = pattern.trim().chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let mut prefix = String::new();
            if c == '-' || c == '?' {
                prefix.push(c);
                chars.next();
            }
            let mut term = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    term.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    term.push(c);
                    chars.next();
                }
            }
            terms.push((prefix, term));
        }
        let mut p = Pattern {
            all: Vec::new(),
            none: Vec::new(),
            any: Vec::new(),
        };
        for (prefix, term) in terms {
            match prefix.as_str() {
                "-" => p.none.push(term),
                "?" => p.any.push(term),
                _ => p.all.push(term),
            }
        }
        p
    }

    fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns_follow_the_term_syntax() {
        let p = Pattern::parse(r#"ERROR "disk full" -retry"#);
        assert!(p.matches("ERROR: disk full now"));
        assert!(!p.matches("ERROR: disk full, retry"));
        assert!(!p.matches("ERROR: disk"));
        let any = Pattern::parse("?WARN ?ERROR");
        assert!(any.matches("a WARN b"));
        assert!(!any.matches("INFO"));
        assert!(Pattern::parse("").matches("anything"));
    }

    #[test]
    fn tokens_round_trip_and_groups_name_functions() {
        assert_eq!(decode_token(&encode_token(1234, 5)).ok(), Some((1234, 5)));
        assert!(decode_token("garbage!").is_err());
        assert_eq!(function_of("/aws/lambda/f").ok(), Some("f"));
        assert!(function_of("/other/f").is_err());
    }
}
