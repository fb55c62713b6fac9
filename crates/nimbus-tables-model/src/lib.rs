//! The DynamoDB data model, pure and without I/O: attribute values and their JSON wire form,
//! numbers with DynamoDB's 38 digits, order-preserving key encoding, the compact binary item
//! encoding, item sizes, and the expression languages (condition, update, projection, key
//! condition). Knows nothing of storage or HTTP.
//!
//! Every error is an [`Error`]: `Serialization` and `Validation` carry DynamoDB's own messages
//! for `SerializationException` and `ValidationException`; `Corrupt` is for stored bytes.

pub mod error;
pub mod expr;
pub mod itemcodec;
pub mod keycodec;
pub mod legacy;
pub mod number;
pub mod value;

pub use error::{Error, Result};
pub use number::Number;
pub use value::{AttributeValue, Item};
