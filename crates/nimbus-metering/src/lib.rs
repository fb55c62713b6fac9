//! Usage metering: the records every service emits for what it consumed, and the sinks that
//! keep them. Services compute their usage numbers (request units, billed duration, GB-seconds)
//! at the moment of the event and hand them to a [`UsageSink`]; prices, reports and Prometheus
//! metrics are built on the totals. Knows nothing of HTTP, storage engines or services' internals.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// One metered event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UsageRecord {
    /// A table request: read and write request units by DynamoDB's rules.
    TableRequest {
        table: String,
        operation: &'static str,
        read_units: f64,
        write_units: f64,
    },
    /// A DynamoDB Streams read: one streams read request unit per GetRecords call (which
    /// returns up to 1 MB), billed apart from the table's own units.
    StreamRead { table: String, read_units: f64 },
    /// A function invocation.
    Invocation {
        function: String,
        billed_duration_ms: u64,
        memory_mb: u32,
        max_memory_used_mb: u32,
    },
}

/// Where services send usage records. Implementations must not block for long.
pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, record: UsageRecord);
}

/// Running totals per table and per function, kept in memory.
#[derive(Debug, Default)]
pub struct Totals {
    inner: Mutex<TotalsInner>,
}

/// Accumulated usage of one resource.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ResourceTotals {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
    /// DynamoDB Streams read request units of a table's streams.
    pub stream_read_units: f64,
    pub billed_duration_ms: u64,
    /// Configured memory times billed duration, in GB-seconds.
    pub gb_seconds: f64,
}

#[derive(Debug, Default)]
struct TotalsInner {
    tables: BTreeMap<String, ResourceTotals>,
    functions: BTreeMap<String, ResourceTotals>,
}

impl Totals {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the totals: (tables, functions).
    pub fn snapshot(
        &self,
    ) -> (
        BTreeMap<String, ResourceTotals>,
        BTreeMap<String, ResourceTotals>,
    ) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.tables.clone(), inner.functions.clone())
    }
}

impl UsageSink for Totals {
    fn record(&self, record: UsageRecord) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match record {
            UsageRecord::TableRequest {
                table,
                read_units,
                write_units,
                ..
            } => {
                let t = inner.tables.entry(table).or_default();
                t.requests += 1;
                t.read_units += read_units;
                t.write_units += write_units;
            }
            UsageRecord::StreamRead { table, read_units } => {
                inner.tables.entry(table).or_default().stream_read_units += read_units;
            }
            UsageRecord::Invocation {
                function,
                billed_duration_ms,
                memory_mb,
                ..
            } => {
                let t = inner.functions.entry(function).or_default();
                t.requests += 1;
                t.billed_duration_ms += billed_duration_ms;
                t.gb_seconds += f64::from(memory_mb) / 1024.0 * billed_duration_ms as f64 / 1000.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up() {
        let t = Totals::new();
        for _ in 0..2 {
            t.record(UsageRecord::TableRequest {
                table: "t".into(),
                operation: "GetItem",
                read_units: 0.5,
                write_units: 0.0,
            });
        }
        t.record(UsageRecord::Invocation {
            function: "f".into(),
            billed_duration_ms: 1000,
            memory_mb: 512,
            max_memory_used_mb: 40,
        });
        let (tables, functions) = t.snapshot();
        assert_eq!(tables["t"].requests, 2);
        assert_eq!(tables["t"].read_units, 1.0);
        assert_eq!(functions["f"].gb_seconds, 0.5);
    }
}
