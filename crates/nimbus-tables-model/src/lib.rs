//! The DynamoDB data model, pure and without I/O: attribute values and their JSON wire form,
//! numbers with DynamoDB's 38 digits, order-preserving key encoding, the compact binary item
//! encoding, item sizes, the expression languages (condition, filter, update, projection, key
//! condition) and the legacy parameters converted to the same structures. Knows nothing of
//! storage or HTTP.
//!
//! | module | owns |
//! | --- | --- |
//! | [`value`] | `AttributeValue`, `Item`, the JSON wire form and its validation |
//! | [`number`] | `Number`: 38 significant digits, exponent -130..=125, exact add/subtract |
//! | [`keycodec`] | order-preserving, self-delimiting key encoding (Query = range scan) |
//! | [`itemcodec`] | compact binary item encoding; DynamoDB item sizes |
//! | [`expr`] | expression parsers, evaluation, `#name`/`:value` tracking |
//! | [`wire`] | DynamoDB's `SerializationException` texts for JSON of the wrong type |
//! | [`legacy`] | `Expected`, `AttributeUpdates`, `KeyConditions`, filters, `AttributesToGet` |
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
pub mod wire;

pub use error::{Error, Result};
pub use number::Number;
pub use value::{AttributeValue, Item};
