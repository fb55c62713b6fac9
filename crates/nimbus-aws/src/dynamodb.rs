//! DynamoDB over JSON 1.0: `X-Amz-Target: DynamoDB_20120810.<Op>` to a [`TableOp`], executed by
//! the table service on a blocking thread, and the one mapping from [`TablesError`] to
//! DynamoDB's error bodies and statuses.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use nimbus_tables::{TableOp, Tables, TablesError};

use crate::error::{AwsError, DYNAMODB, Protocol, VALIDATE};

/// Runs one DynamoDB operation.
pub async fn handle(
    tables: &Arc<Tables>,
    operation: &str,
    body: &[u8],
) -> Result<Response, AwsError> {
    let op = TableOp::parse(operation, body).map_err(to_aws)?;
    let tables = Arc::clone(tables);
    let result = tokio::task::spawn_blocking(move || tables.execute(op))
        .await
        .map_err(|e| {
            tracing::error!("table operation panicked: {e}");
            AwsError::internal(Protocol::Json10)
        })?;
    let output = result.map_err(to_aws)?;
    let body = serde_json::to_vec(&output).map_err(|e| {
        tracing::error!("cannot serialize a table response: {e}");
        AwsError::internal(Protocol::Json10)
    })?;
    Ok(crate::json_response(Protocol::Json10, body))
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
            let mut e = AwsError::new(p, bad, DYNAMODB, "ConditionalCheckFailedException", message);
            if let Some(item) = item {
                match serde_json::to_value(&item) {
                    Ok(value) => {
                        let mut extra = serde_json::Map::new();
                        extra.insert("Item".into(), value);
                        e.extra = Some(extra);
                    }
                    Err(err) => tracing::error!("cannot serialize the old item: {err}"),
                }
            }
            e
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
