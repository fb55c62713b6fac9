//! The seam between the group-commit writer and a storage engine.
//!
//! An [`Engine`] reads from any thread and applies writes inside one transaction at a time;
//! the writer thread of [`EmbeddedStore`](crate::EmbeddedStore) is its only writer, so the
//! checks it evaluates inside a [`Transaction`] cannot race with another write.

use std::ops::Bound;

pub use nimbus_store::Visitor;
use nimbus_store::{Direction, KeyRange, Result};

/// A storage engine under the group-commit writer.
pub trait Engine: Send + Sync + 'static {
    /// The value of `key` as of the last committed transaction.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The values of `keys` as of one committed transaction, as [`nimbus_store::Store::get_many`].
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>>;

    /// Visits a consistent snapshot of `range` in `direction`, as [`nimbus_store::Store::scan`].
    fn scan(&self, range: &KeyRange, direction: Direction, visit: &mut Visitor<'_>) -> Result<()>;

    /// Runs `apply` inside one write transaction and commits it atomically. With `durable`,
    /// the transaction is on stable storage when this returns. If `apply` fails, nothing of
    /// the transaction is committed.
    fn write(
        &self,
        durable: bool,
        apply: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()>;

    /// Makes every committed transaction durable.
    fn flush(&self) -> Result<()>;
}

/// The open write transaction of an [`Engine`]. Reads see the transaction's own writes.
pub trait Transaction {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()>;
    fn delete(&mut self, key: Vec<u8>) -> Result<()>;
    fn delete_range(&mut self, range: &KeyRange) -> Result<()>;
    /// The greatest key in `range`, if any.
    fn last_key(&mut self, range: &KeyRange) -> Result<Option<Vec<u8>>>;
}

/// The bounds of `range` as borrowed slices, the shape engines' range calls take.
pub fn slice_bounds(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (
        range.start.as_ref().map(Vec::as_slice),
        range.end.as_ref().map(Vec::as_slice),
    )
}

/// Whether `range` holds no key at all (start after end, or an empty interval). Engines'
/// range calls may panic on such bounds, so callers answer these without asking.
pub fn is_empty_range(range: &KeyRange) -> bool {
    match (&range.start, &range.end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

/// A backend error that names the step that failed.
pub fn backend(step: &str, error: impl std::fmt::Display) -> nimbus_store::Error {
    nimbus_store::Error::Backend(format!("{step}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_ranges() {
        let r = |start, end| KeyRange { start, end };
        let inc = |k: &[u8]| Bound::Included(k.to_vec());
        let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
        assert!(is_empty_range(&r(inc(b"b"), inc(b"a"))));
        assert!(!is_empty_range(&r(inc(b"a"), inc(b"a"))));
        assert!(is_empty_range(&r(inc(b"a"), exc(b"a"))));
        assert!(is_empty_range(&r(exc(b"a"), inc(b"a"))));
        assert!(!is_empty_range(&r(exc(b"a"), Bound::Unbounded)));
        assert!(!is_empty_range(&KeyRange::prefix(&[0xff])));
    }
}
