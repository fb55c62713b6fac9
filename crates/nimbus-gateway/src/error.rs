//! Errors of the management operations. `nimbus-aws` maps them, in one place
//! (`apigateway.rs`), to API Gateway's REST error responses:
//!
//! | variant | `x-amzn-ErrorType` | status |
//! | --- | --- | --- |
//! | `NotFound` | `NotFoundException` | 404 |
//! | `BadRequest` | `BadRequestException` | 400 |
//! | `Conflict` | `ConflictException` | 409 |
//! | `Internal` | `InternalServerError` | 500 |
//!
//! Failures of the data plane are not errors of this kind: they are HTTP responses in API
//! Gateway's shape (`{"message": ...}`), built in [`crate::server`].

/// An error of a management operation.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    NotFound {
        message: String,
        /// `Api`, `Route`, `Integration`, `Stage`, `Deployment`, `Authorizer`.
        resource_type: &'static str,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// Storage failed.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

impl From<nimbus_store::Error> for GatewayError {
    fn from(e: nimbus_store::Error) -> Self {
        GatewayError::Internal(e.to_string())
    }
}

impl GatewayError {
    pub fn not_found(resource_type: &'static str, id: &str) -> Self {
        GatewayError::NotFound {
            message: format!("Invalid {resource_type} identifier specified {id}"),
            resource_type,
        }
    }
}
