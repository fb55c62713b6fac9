//! Errors of the function service. Each variant is one error a Lambda client can branch on;
//! `nimbus-aws` maps them, in one place, to Lambda's REST error responses:
//!
//! | variant | `x-amzn-ErrorType` | status |
//! | --- | --- | --- |
//! | `ResourceNotFound` | `ResourceNotFoundException` | 404 |
//! | `ResourceConflict` | `ResourceConflictException` | 409 |
//! | `InvalidParameterValue` | `InvalidParameterValueException` | 400 |
//! | `Validation` | `ValidationException` | 400 |
//! | `InvalidRequestContent` | `InvalidRequestContentException` | 400 |
//! | `RequestTooLarge` | `RequestTooLargeException` | 413 |
//! | `TooManyRequests` | `TooManyRequestsException` (+ `Reason`) | 429 |
//! | `PreconditionFailed` | `PreconditionFailedException` | 412 |
//! | `Service` | `ServiceException` | 500 |
//!
//! A function that fails is not an error of the service: the invocation succeeds with
//! `X-Amz-Function-Error` (see [`crate::model::InvokeOutput`]).

/// An error of a function operation.
#[derive(Debug, thiserror::Error)]
pub enum FunctionsError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidRequestContent(String),
    #[error("{0}")]
    RequestTooLarge(String),
    /// Over the function's reserved concurrency or the global limit.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        /// `ReservedFunctionConcurrentInvocationLimitExceeded` or
        /// `ConcurrentInvocationLimitExceeded`.
        reason: &'static str,
    },
    #[error("{0}")]
    PreconditionFailed(String),
    /// Storage or process management failed (HTTP 500).
    #[error("internal error: {0}")]
    Service(String),
}

pub type Result<T, E = FunctionsError> = std::result::Result<T, E>;

impl From<nimbus_store::Error> for FunctionsError {
    fn from(e: nimbus_store::Error) -> Self {
        FunctionsError::Service(e.to_string())
    }
}
