//! DynamoDB tables over the storage trait: the table catalog, item operations, query and scan,
//! batches, validation and consumed capacity. Knows nothing of HTTP or of any storage engine.
//!
//! The HTTP layer turns a request into a [`TableOp`] with [`TableOp::parse`] (the operation
//! name from `X-Amz-Target` and the JSON body) and runs it with [`Tables::execute`], which
//! returns the JSON response body or a [`TablesError`] (see `error.rs` for the wire mapping).
//! Every method blocks on storage: async callers run it on a blocking thread.
//!
//! Invariants:
//! - The key layout is described in `keys.rs`; a table's data lives under its random id.
//! - Conditional writes are optimistic: read the item, evaluate in Rust, commit with a check
//!   that the item is unchanged, retry on conflict. No lock is held across calls.
//! - Item count and size counters change in the same commit as the items they count.
//! - Every item operation records its consumed units in the [`UsageSink`], whatever
//!   `ReturnConsumedCapacity` says.

pub mod api;
mod batch;
mod capacity;
mod catalog;
pub mod error;
mod expressions;
mod item_ops;
mod items;
mod keys;
mod op;
mod query;
mod table_ops;
mod validate;

use std::sync::Arc;

use nimbus_metering::UsageSink;
use nimbus_store::Store;

pub use catalog::{BillingMode, KeyAttribute, KeySchema, KeyType, TableMeta};
pub use error::{Result, TablesError};
pub use op::TableOp;

/// Configuration of the table service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablesConfig {
    /// Region shown in ARNs, e.g. `us-east-1`.
    pub region: String,
    /// Account id shown in ARNs, twelve digits.
    pub account_id: String,
    /// `host[:port]` at which clients reach this service; returned by DescribeEndpoints.
    pub endpoint: String,
}

/// The DynamoDB service. `Send + Sync`; share it by `Arc`.
pub struct Tables {
    store: Arc<dyn Store>,
    config: TablesConfig,
    usage: Arc<dyn UsageSink>,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Tables {
    /// A service over `store`, recording usage in `usage`.
    pub fn new(
        store: Arc<dyn Store>,
        config: TablesConfig,
        usage: Arc<dyn UsageSink>,
    ) -> Result<Tables> {
        Ok(Tables {
            store,
            config,
            usage,
        })
    }

    /// Runs one operation and returns its JSON response body.
    pub fn execute(&self, op: TableOp) -> Result<serde_json::Value> {
        match op {
            TableOp::CreateTable(input) => to_json(self.create_table(input)?),
            TableOp::DescribeTable(input) => to_json(self.describe_table(input)?),
            TableOp::ListTables(input) => to_json(self.list_tables(input)?),
            TableOp::UpdateTable(input) => to_json(self.update_table(input)?),
            TableOp::DeleteTable(input) => to_json(self.delete_table(input)?),
            TableOp::TagResource(input) => to_json(self.tag_resource(input)?),
            TableOp::UntagResource(input) => to_json(self.untag_resource(input)?),
            TableOp::ListTagsOfResource(input) => to_json(self.list_tags_of_resource(input)?),
            TableOp::DescribeLimits(input) => to_json(self.describe_limits(input)?),
            TableOp::DescribeEndpoints(input) => to_json(self.describe_endpoints(input)?),
            TableOp::PutItem(input) => to_json(self.put_item(input)?),
            TableOp::GetItem(input) => to_json(self.get_item(input)?),
            TableOp::UpdateItem(input) => to_json(self.update_item(input)?),
            TableOp::DeleteItem(input) => to_json(self.delete_item(input)?),
            TableOp::Query(input) => to_json(self.query(input)?),
            TableOp::Scan(input) => to_json(self.scan(input)?),
            TableOp::BatchGetItem(input) => to_json(self.batch_get_item(input)?),
            TableOp::BatchWriteItem(input) => to_json(self.batch_write_item(input)?),
        }
    }
}

fn to_json<T: serde::Serialize>(output: T) -> Result<serde_json::Value> {
    serde_json::to_value(output).map_err(|e| TablesError::Internal(format!("encode response: {e}")))
}

fn now_epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for unit tests: a service over a memory store, and calls by wire JSON.

    use std::sync::Arc;

    use nimbus_metering::Totals;
    use nimbus_store::mem::MemStore;
    use serde_json::{Value, json};

    use crate::{Result, TableOp, Tables, TablesConfig};

    pub(crate) fn service() -> (Tables, Arc<Totals>) {
        let usage = Arc::new(Totals::new());
        let config = TablesConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            endpoint: "localhost:4566".into(),
        };
        let tables =
            Tables::new(Arc::new(MemStore::new()), config, usage.clone()).expect("service starts");
        (tables, usage)
    }

    /// Runs `operation` with the JSON `body`.
    pub(crate) fn call(tables: &Tables, operation: &str, body: Value) -> Result<Value> {
        let op = TableOp::parse(operation, body.to_string().as_bytes())?;
        tables.execute(op)
    }

    /// Creates table `name` with a string hash key `pk` and, if `sort`, a number range key `sk`.
    pub(crate) fn create(tables: &Tables, name: &str, sort: bool) -> Value {
        let mut body = json!({
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        });
        if sort {
            body["KeySchema"]
                .as_array_mut()
                .expect("array")
                .push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
            body["AttributeDefinitions"]
                .as_array_mut()
                .expect("array")
                .push(json!({"AttributeName": "sk", "AttributeType": "N"}));
        }
        call(tables, "CreateTable", body).expect("table created")
    }

    /// The message of a validation error, panicking on anything else.
    pub(crate) fn validation_message(result: Result<Value>) -> String {
        match result {
            Err(crate::TablesError::Validation(message)) => message,
            other => panic!("expected a ValidationException, got {other:?}"),
        }
    }
}
