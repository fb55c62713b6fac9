//! Errors of the table service.
//!
//! Each variant is one error a DynamoDB client can branch on. The HTTP layer maps them, in one
//! place, to the DynamoDB JSON error body `{"__type": "<prefix>#<Name>", "message": ...}`:
//!
//! | variant | `__type` | HTTP status |
//! | --- | --- | --- |
//! | [`TablesError::Validation`] | `com.amazon.coral.validate#ValidationException` | 400 |
//! | [`TablesError::Serialization`] | `com.amazon.coral.service#SerializationException` | 400 |
//! | [`TablesError::UnknownOperation`] | `com.amazon.coral.service#UnknownOperationException` | 400 |
//! | [`TablesError::ResourceNotFound`] | `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` | 400 |
//! | [`TablesError::ResourceInUse`] | `com.amazonaws.dynamodb.v20120810#ResourceInUseException` | 400 |
//! | [`TablesError::ConditionalCheckFailed`] | `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` | 400 |
//! | [`TablesError::DuplicateItem`] | `com.amazonaws.dynamodb.v20120810#DuplicateItemException` | 400 |
//! | [`TablesError::LimitExceeded`] | `com.amazonaws.dynamodb.v20120810#LimitExceededException` | 400 |
//! | [`TablesError::ItemCollectionSizeLimitExceeded`] | `com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException` | 400 |
//! | [`TablesError::TransactionCanceled`] | `com.amazonaws.dynamodb.v20120810#TransactionCanceledException` | 400 |
//! | [`TablesError::IdempotentParameterMismatch`] | `com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException` | 400 |
//! | [`TablesError::TransactionInProgress`] | `com.amazonaws.dynamodb.v20120810#TransactionInProgressException` | 400 |
//! | [`TablesError::TableNotFound`] | `com.amazonaws.dynamodb.v20120810#TableNotFoundException` | 400 |
//! | [`TablesError::ContinuousBackupsUnavailable`] | `com.amazonaws.dynamodb.v20120810#ContinuousBackupsUnavailableException` | 400 |
//! | [`TablesError::ExpiredIterator`] | `com.amazonaws.dynamodb.v20120810#ExpiredIteratorException` | 400 |
//! | [`TablesError::TrimmedDataAccess`] | `com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException` | 400 |
//! | [`TablesError::Internal`] | `com.amazonaws.dynamodb.v20120810#InternalServerError` | 500 |
//!
//! `ConditionalCheckFailed` carries the old item when the request asked for
//! `ReturnValuesOnConditionCheckFailure: ALL_OLD`; the body then has an extra `"Item"` member
//! holding it in DynamoDB JSON. `TransactionCanceled` carries one `CancellationReason` per
//! action of the transaction, sent as the extra member `CancellationReasons`. `Internal` is a storage failure: SDKs retry it, it is logged
//! once by the HTTP layer, and its message is not shown to clients beyond a generic text.

use nimbus_tables_model::Item;

/// An error of a table operation.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    /// The request is well-formed JSON but semantically invalid (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// The body is not JSON, or JSON of the wrong shape (`SerializationException`).
    #[error("{0}")]
    Serialization(String),
    /// The `X-Amz-Target` names no DynamoDB operation (`UnknownOperationException`).
    #[error("unknown operation {0}")]
    UnknownOperation(String),
    /// The table (or index, or ARN) does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The table already exists or is being changed (`ResourceInUseException`).
    #[error("{0}")]
    ResourceInUse(String),
    /// A `ConditionExpression` (or `Expected`) did not hold (`ConditionalCheckFailedException`).
    #[error("{message}")]
    ConditionalCheckFailed {
        message: String,
        /// The item as it was, when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
        item: Option<Item>,
    },
    /// A PartiQL INSERT found its key taken (`DuplicateItemException`).
    #[error("{0}")]
    DuplicateItem(String),
    /// An account or table limit was reached (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// An item collection grew past its size limit (`ItemCollectionSizeLimitExceededException`).
    #[error("{0}")]
    ItemCollectionSizeLimitExceeded(String),
    /// A transaction was not applied (`TransactionCanceledException`): one reason per action,
    /// in order, `Code: None` for the actions that would have succeeded.
    #[error("{message}")]
    TransactionCanceled {
        message: String,
        reasons: Vec<crate::api::CancellationReason>,
    },
    /// A `ClientRequestToken` was reused with other parameters
    /// (`IdempotentParameterMismatchException`).
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    /// A transaction with the same `ClientRequestToken` is still running
    /// (`TransactionInProgressException`).
    #[error("{0}")]
    TransactionInProgress(String),
    /// The table of a backup operation does not exist (`TableNotFoundException`: the backup
    /// operations' own error for it).
    #[error("{0}")]
    TableNotFound(String),
    /// Point-in-time recovery cannot be enabled (`ContinuousBackupsUnavailableException`).
    #[error("{0}")]
    ContinuousBackupsUnavailable(String),
    /// A stream's shard iterator is older than its fifteen minutes (`ExpiredIteratorException`).
    #[error("{0}")]
    ExpiredIterator(String),
    /// A stream position was trimmed away, past the day records are kept
    /// (`TrimmedDataAccessException`).
    #[error("{0}")]
    TrimmedDataAccess(String),
    /// Storage failed or stored bytes are unreadable (`InternalServerError`, HTTP 500).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = TablesError> = std::result::Result<T, E>;

impl TablesError {
    /// A `ValidationException` with `message`.
    pub fn validation(message: impl Into<String>) -> Self {
        TablesError::Validation(message.into())
    }

    /// The `ResourceNotFoundException` DynamoDB returns for item operations on a missing table.
    pub fn table_not_found() -> Self {
        TablesError::ResourceNotFound("Requested resource not found".into())
    }

    /// The plain `ConditionalCheckFailedException`.
    pub fn condition_failed(item: Option<Item>) -> Self {
        TablesError::ConditionalCheckFailed {
            message: "The conditional request failed".into(),
            item,
        }
    }

    /// The DynamoDB error name (the part of `__type` after `#`).
    pub fn type_name(&self) -> &'static str {
        match self {
            TablesError::Validation(_) => "ValidationException",
            TablesError::Serialization(_) => "SerializationException",
            TablesError::UnknownOperation(_) => "UnknownOperationException",
            TablesError::ResourceNotFound(_) => "ResourceNotFoundException",
            TablesError::ResourceInUse(_) => "ResourceInUseException",
            TablesError::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            TablesError::DuplicateItem(_) => "DuplicateItemException",
            TablesError::LimitExceeded(_) => "LimitExceededException",
            TablesError::ItemCollectionSizeLimitExceeded(_) => {
                "ItemCollectionSizeLimitExceededException"
            }
            TablesError::TransactionCanceled { .. } => "TransactionCanceledException",
            TablesError::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            TablesError::TransactionInProgress(_) => "TransactionInProgressException",
            TablesError::TableNotFound(_) => "TableNotFoundException",
            TablesError::ContinuousBackupsUnavailable(_) => "ContinuousBackupsUnavailableException",
            TablesError::ExpiredIterator(_) => "ExpiredIteratorException",
            TablesError::TrimmedDataAccess(_) => "TrimmedDataAccessException",
            TablesError::Internal(_) => "InternalServerError",
        }
    }
}

impl From<nimbus_store::Error> for TablesError {
    fn from(e: nimbus_store::Error) -> Self {
        TablesError::Internal(e.to_string())
    }
}

impl From<nimbus_tables_model::Error> for TablesError {
    fn from(e: nimbus_tables_model::Error) -> Self {
        match e {
            nimbus_tables_model::Error::Serialization(m) => TablesError::Serialization(m),
            nimbus_tables_model::Error::Validation(m) => TablesError::Validation(m),
            nimbus_tables_model::Error::Corrupt(what) => {
                TablesError::Internal(format!("corrupt stored data: {what}"))
            }
        }
    }
}
