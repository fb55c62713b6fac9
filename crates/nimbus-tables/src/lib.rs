//! DynamoDB tables over the storage trait: the table catalog, item operations, query and scan,
//! batches, validation and consumed capacity. Knows nothing of HTTP or of any storage engine.
//!
//! The HTTP layer turns a request into a [`TableOp`] with [`TableOp::parse`] (the operation
//! name from `X-Amz-Target` and the JSON body) and runs it with [`Tables::execute`], which
//! returns the JSON response body, serialized straight from the typed output, or a
//! [`TablesError`] (see `error.rs` for the wire mapping).
//!
//! Threads: operations read the store on the polling thread (reads block on storage) and await
//! their commits ([`nimbus_store::Store::commit_async`]), so a write waiting for its sync parks
//! no thread. Async callers poll point operations ([`TableOp::is_point`]) on their own thread
//! and the others, which scan ranges or read many items, on a blocking thread.
//!
//! Invariants:
//! - The key layout is described in `keys.rs`; a table's data lives under its random id.
//! - Conditional writes are optimistic: read the item, evaluate in Rust, commit with a check
//!   that the item is unchanged, retry on conflict. No lock is held across calls. Batches and
//!   transactions (`transact.rs`) do the same over many items in one commit.
//! - Item count and size counters change in the same commit as the items they count.
//! - Every item operation records its consumed units in the [`UsageSink`], whatever
//!   `ReturnConsumedCapacity` says. Deletions of expired items ([`Tables::expire_items`],
//!   `ttl.rs`) are free, as in DynamoDB, and record nothing.
//! - A table with a stream gets one record per changed item in the item's own commit
//!   (`streams.rs`); the DynamoDB Streams API ([`StreamOp`], [`Tables::execute_stream`]) reads
//!   them.
//! - Table metadata comes from the catalog cache (`cache.rs`, with its single-node assumption);
//!   item commits still check the catalog entry, so no write depends on the cache.

pub mod api;
mod batch;
mod cache;
mod capacity;
mod catalog;
pub mod error;
mod expressions;
mod item_ops;
mod items;
mod keys;
mod op;
mod parse;
mod partiql;
mod query;
mod streams;
mod table_ops;
mod transact;
mod ttl;
mod validate;

use std::sync::Arc;

use nimbus_metering::UsageSink;
use nimbus_store::Store;

pub use catalog::{BillingMode, IndexMeta, KeyAttribute, KeySchema, KeyType, TableMeta};
pub use error::{Result, TablesError};
pub use op::TableOp;
pub use streams::{RETENTION_SECONDS as STREAM_RETENTION_SECONDS, StreamOp};

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
    catalog: cache::CatalogCache,
    ttl_cursors: ttl::Cursors,
    transaction_tokens: transact::Tokens,
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
            catalog: cache::CatalogCache::default(),
            ttl_cursors: ttl::Cursors::default(),
            transaction_tokens: transact::Tokens::default(),
        })
    }

    /// Runs one operation and returns its JSON response body. Reads block the polling thread
    /// on storage; commits are awaited (see the crate doc for where to poll it).
    pub async fn execute(&self, op: TableOp) -> Result<Vec<u8>> {
        match op {
            TableOp::CreateTable(input) => to_json(&self.create_table(input).await?),
            TableOp::DescribeTable(input) => to_json(&self.describe_table(input)?),
            TableOp::ListTables(input) => to_json(&self.list_tables(input)?),
            TableOp::UpdateTable(input) => to_json(&self.update_table(input).await?),
            TableOp::DeleteTable(input) => to_json(&self.delete_table(input).await?),
            // These two have no output shape: DynamoDB answers with an empty body.
            TableOp::TagResource(input) => self.tag_resource(input).await.map(|()| Vec::new()),
            TableOp::UntagResource(input) => self.untag_resource(input).await.map(|()| Vec::new()),
            TableOp::ListTagsOfResource(input) => to_json(&self.list_tags_of_resource(input)?),
            TableOp::UpdateTimeToLive(input) => to_json(&self.update_time_to_live(input).await?),
            TableOp::DescribeTimeToLive(input) => to_json(&self.describe_time_to_live(input)?),
            TableOp::DescribeContinuousBackups(input) => {
                to_json(&self.describe_continuous_backups(input)?)
            }
            TableOp::UpdateContinuousBackups(input) => {
                to_json(&self.update_continuous_backups(input)?)
            }
            TableOp::DescribeLimits(input) => to_json(&self.describe_limits(input)?),
            TableOp::DescribeEndpoints(input) => to_json(&self.describe_endpoints(input)?),
            TableOp::PutItem(input) => to_json(&self.put_item(input).await?),
            TableOp::GetItem(input) => to_json(&self.get_item(input)?),
            TableOp::UpdateItem(input) => to_json(&self.update_item(input).await?),
            TableOp::DeleteItem(input) => to_json(&self.delete_item(input).await?),
            TableOp::Query(input) => to_json(&self.query(input)?),
            TableOp::Scan(input) => to_json(&self.scan(input)?),
            TableOp::BatchGetItem(input) => to_json(&self.batch_get_item(input)?),
            TableOp::BatchWriteItem(input) => to_json(&self.batch_write_item(input).await?),
            TableOp::TransactWriteItems(input) => to_json(&self.transact_write_items(input).await?),
            TableOp::TransactGetItems(input) => to_json(&self.transact_get_items(input)?),
            TableOp::ExecuteStatement(input) => to_json(&self.execute_statement(input).await?),
            TableOp::BatchExecuteStatement(input) => {
                to_json(&self.batch_execute_statement(input).await?)
            }
            TableOp::ExecuteTransaction(input) => to_json(&self.execute_transaction(input).await?),
        }
    }
}

/// The JSON bytes of an output, written straight from its typed form.
fn to_json<T: serde::Serialize>(output: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(output).map_err(|e| TablesError::Internal(format!("encode response: {e}")))
}

/// The current time in epoch milliseconds.
fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The current time in epoch seconds, to the millisecond.
fn now_epoch_seconds() -> f64 {
    now_millis() as f64 / 1000.0
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

    /// Runs `operation` with the JSON `body`; an empty response body is `null`.
    pub(crate) fn call(tables: &Tables, operation: &str, body: Value) -> Result<Value> {
        let op = TableOp::parse(operation, body.to_string().as_bytes())?;
        let bytes = ready(tables.execute(op))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes).expect("responses are JSON"))
    }

    /// The output of `future`, which must be ready at once: over a `MemStore`, commits never
    /// wait.
    pub(crate) fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("a memory-store operation had to wait"),
        }
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
