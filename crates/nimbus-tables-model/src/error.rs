//! The one error type of this crate.
//!
//! DynamoDB reports malformed requests in two ways, and the service must tell them apart:
//! a JSON document of the wrong shape (a string where a list belongs, an unknown type key) is a
//! `SerializationException`; a well-formed document whose values break a rule (an empty set, a
//! number with 39 digits, a syntax error in an expression) is a `ValidationException`. The
//! messages carried here are DynamoDB's own texts, ready to be put in the wire body as they are.

/// Errors of the DynamoDB data model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request JSON has the wrong shape: DynamoDB's `SerializationException`.
    #[error("{0}")]
    Serialization(String),
    /// A value or an expression breaks one of DynamoDB's rules: `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// Stored bytes (an encoded item or key) are corrupt. Never caused by a client request:
    /// the service reports it as an internal error.
    #[error("corrupt encoding: {0}")]
    Corrupt(&'static str),
}

impl Error {
    /// A `ValidationException` with DynamoDB's message.
    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    /// A `SerializationException` with DynamoDB's message.
    pub fn serialization(message: impl Into<String>) -> Self {
        Error::Serialization(message.into())
    }

    /// The message as DynamoDB would put it in the error body.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
