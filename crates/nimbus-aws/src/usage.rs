//! `GET /_nimbus/usage`: the metering totals since the server started, read-only. Signed like
//! every AWS call, with the service name `nimbus` in the credential scope.
//!
//! ```json
//! {"tables": {"Music": {"requests": 3, "read_units": 1.5, "write_units": 2.0,
//!                       "stream_read_units": 0.0}},
//!  "functions": {"hello": {"invocations": 2, "billed_duration_ms": 41, "gb_seconds": 0.0051}}}
//! ```

use axum::response::Response;
use http::Method;
use nimbus_metering::Totals;
use serde_json::{Map, Value, json};

use crate::error::{AwsError, Protocol};

/// Runs one `/_nimbus/...` operation.
pub fn handle(totals: &Totals, parts: &http::request::Parts) -> Result<Response, AwsError> {
    match (&parts.method, parts.uri.path().trim_end_matches('/')) {
        (&Method::GET, "/_nimbus/usage") => {
            let body = serde_json::to_vec(&report(totals)).map_err(|e| {
                tracing::error!("cannot serialize usage totals: {e}");
                AwsError::internal(Protocol::RestJson)
            })?;
            Ok(crate::json_response(Protocol::RestJson, body))
        }
        (method, path) => Err(AwsError::unknown_operation(
            Protocol::RestJson,
            &format!("{method} {path}"),
        )),
    }
}

/// The totals in the wire shape: request units per table, invocations and compute per function.
pub fn report(totals: &Totals) -> Value {
    let (tables, functions) = totals.snapshot();
    let tables: Map<String, Value> = tables
        .into_iter()
        .map(|(name, t)| {
            let v = json!({
                "requests": t.requests,
                "read_units": t.read_units,
                "write_units": t.write_units,
                "stream_read_units": t.stream_read_units,
            });
            (name, v)
        })
        .collect();
    let functions: Map<String, Value> = functions
        .into_iter()
        .map(|(name, f)| {
            let v = json!({
                "invocations": f.requests,
                "billed_duration_ms": f.billed_duration_ms,
                "gb_seconds": f.gb_seconds,
            });
            (name, v)
        })
        .collect();
    json!({ "tables": tables, "functions": functions })
}

#[cfg(test)]
mod tests {
    use nimbus_metering::{UsageRecord, UsageSink};

    use super::*;

    #[test]
    fn report_names_units_per_table_and_compute_per_function() {
        let totals = Totals::new();
        totals.record(UsageRecord::TableRequest {
            table: "t".into(),
            operation: "PutItem",
            read_units: 0.0,
            write_units: 1.0,
        });
        totals.record(UsageRecord::Invocation {
            function: "f".into(),
            billed_duration_ms: 2000,
            memory_mb: 256,
            max_memory_used_mb: 30,
        });
        let r = report(&totals);
        assert_eq!(r["tables"]["t"]["write_units"], 1.0);
        totals.record(UsageRecord::StreamRead {
            table: "t".into(),
            read_units: 1.0,
        });
        let r = report(&totals);
        assert_eq!(r["tables"]["t"]["stream_read_units"], 1.0);
        assert_eq!(r["tables"]["t"]["requests"], 1);
        assert_eq!(r["functions"]["f"]["invocations"], 1);
        assert_eq!(r["functions"]["f"]["gb_seconds"], 0.5);
    }
}
