//! DynamoDB over JSON 1.0: `X-Amz-Target: DynamoDB_20120810.<Op>` to a [`TableOp`] and
//! `DynamoDBStreams_20120810.<Op>` to a [`StreamOp`], executed by the table service, and the
//! one mapping from [`TablesError`] to DynamoDB's error bodies and
//! statuses.
//!
//! Where an operation runs. Point operations ([`TableOp::is_point`]: GetItem, PutItem,
//! UpdateItem, DeleteItem) run on the runtime thread that serves the connection: their reads
//! are point lookups that the embedded engine answers from its memtables and block cache (at
//! worst one block read through the OS page cache), costing a few microseconds, less than the
//! two thread wake-ups of a hand-off to the blocking pool, which took a quarter of a GetItem's
//! CPU; their commit is awaited ([`nimbus_store::Store::commit_async`]), so a write waiting for
//! the group's fsync parks no thread. Every other operation (Query and Scan pages of up to
//! 1 MB, batches of up to 100 items, table operations) still runs on the blocking pool, where
//! a long read cannot hold up other connections.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::Response;
use http::StatusCode;
use nimbus_tables::{StreamOp, TableOp, Tables, TablesError};

use crate::error::{AwsError, DYNAMODB, Protocol, VALIDATE};

/// Runs one DynamoDB operation.
pub async fn handle(
    tables: &Arc<Tables>,
    operation: &str,
    body: &[u8],
) -> Result<Response, AwsError> {
    let op = TableOp::parse(operation, body).map_err(to_aws)?;
    let result = if op.is_point() {
        CatchPanic(Box::pin(tables.execute(op)))
            .await
            .map_err(|_| {
                tracing::error!("table operation panicked");
                AwsError::internal(Protocol::Json10)
            })?
    } else {
        let tables = Arc::clone(tables);
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(tables.execute(op)))
            .await
            .map_err(|e| {
                tracing::error!("table operation panicked: {e}");
                AwsError::internal(Protocol::Json10)
            })?
    };
    let body = result.map_err(to_aws)?;
    Ok(crate::json_response(Protocol::Json10, body))
}

/// Runs one DynamoDB Streams operation (`DynamoDBStreams_20120810.<Op>`) on the blocking
/// pool: its reads scan stream logs.
pub async fn handle_streams(
    tables: &Arc<Tables>,
    operation: &str,
    body: &[u8],
) -> Result<Response, AwsError> {
    let op = StreamOp::parse(operation, body).map_err(to_aws)?;
    let tables = Arc::clone(tables);
    let body = tokio::task::spawn_blocking(move || tables.execute_stream(op))
        .await
        .map_err(|e| {
            tracing::error!("stream operation panicked: {e}");
            AwsError::internal(Protocol::Json10)
        })?
        .map_err(to_aws)?;
    Ok(crate::json_response(Protocol::Json10, body))
}

/// A future whose panic becomes `Err`, as a panic on the blocking pool becomes a join error:
/// the request gets a 500 and the connection lives on.
struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The one mapping from table errors to DynamoDB error responses.
pub fn to_aws(err: TablesError) -> AwsError {
    let p = Protocol::Json10;
    let bad = StatusCode::BAD_REQUEST;
    match err {
        TablesError::Validation(m) => AwsError::new(p, bad, VALIDATE, "ValidationException", m),
        TablesError::Serialization(m) => AwsError::serialization(p, m),
        TablesError::UnknownOperation(op) => AwsError::unknown_operation(p, &op),
        TablesError::ResourceNotFound(m) => {
            AwsError::new(p, bad, DYNAMODB, "ResourceNotFoundException", m)
        }
        TablesError::ResourceInUse(m) => {
            AwsError::new(p, bad, DYNAMODB, "ResourceInUseException", m)
        }
        TablesError::ConditionalCheckFailed { message, item } => {
            let e = AwsError::new(p, bad, DYNAMODB, "ConditionalCheckFailedException", message);
            match item {
                Some(item) => with_member(e, "Item", &item),
                None => e,
            }
        }
        TablesError::DuplicateItem(m) => {
            AwsError::new(p, bad, DYNAMODB, "DuplicateItemException", m)
        }
        TablesError::LimitExceeded(m) => {
            AwsError::new(p, bad, DYNAMODB, "LimitExceededException", m)
        }
        TablesError::ItemCollectionSizeLimitExceeded(m) => AwsError::new(
            p,
            bad,
            DYNAMODB,
            "ItemCollectionSizeLimitExceededException",
            m,
        ),
        TablesError::TransactionCanceled { message, reasons } => {
            let e = AwsError::new(p, bad, DYNAMODB, "TransactionCanceledException", message);
            with_member(e, "CancellationReasons", &reasons)
        }
        TablesError::TableNotFound(m) => {
            AwsError::new(p, bad, DYNAMODB, "TableNotFoundException", m)
        }
        TablesError::ContinuousBackupsUnavailable(m) => {
            AwsError::new(p, bad, DYNAMODB, "ContinuousBackupsUnavailableException", m)
        }
        TablesError::TransactionInProgress(m) => {
            AwsError::new(p, bad, DYNAMODB, "TransactionInProgressException", m)
        }
        TablesError::IdempotentParameterMismatch(m) => {
            AwsError::new(p, bad, DYNAMODB, "IdempotentParameterMismatchException", m)
        }
        TablesError::ExpiredIterator(m) => {
            AwsError::new(p, bad, DYNAMODB, "ExpiredIteratorException", m)
        }
        TablesError::TrimmedDataAccess(m) => {
            AwsError::new(p, bad, DYNAMODB, "TrimmedDataAccessException", m)
        }
        TablesError::Internal(m) => {
            tracing::error!("table operation failed: {m}");
            AwsError::new(
                p,
                StatusCode::INTERNAL_SERVER_ERROR,
                DYNAMODB,
                "InternalServerError",
                "Internal server error",
            )
        }
    }
}

/// `e` with one more member in its body. DynamoDB spells the message `Message` in the errors
/// that carry one (an old item, cancellation reasons), `message` elsewhere.
fn with_member(mut e: AwsError, name: &str, value: &impl serde::Serialize) -> AwsError {
    match serde_json::to_value(value) {
        Ok(value) => {
            let mut extra = serde_json::Map::new();
            extra.insert(name.into(), value);
            e.extra = Some(extra);
            e.message_key = "Message";
        }
        Err(err) => tracing::error!("cannot serialize the {name} of an error: {err}"),
    }
    e
}
