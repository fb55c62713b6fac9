//! The storage trait of Nimbus.
//!
//! Everything Nimbus keeps (table items, catalogs, function code metadata, gateway
//! configuration) goes through [`Store`]: one ordered key space of byte keys and byte values,
//! with range scans in both directions and atomic multi-key write batches guarded by
//! conditions. Callers build their own key prefixes; the store knows nothing of DynamoDB,
//! Lambda or HTTP.
//!
//! Invariants every backend upholds:
//! - [`Store::commit`] is atomic: either every check holds and every operation is applied, or
//!   nothing is applied and [`Error::Conflict`] is returned.
//! - When `commit` returns `Ok`, the batch is durable (it survives a power cut), unless the
//!   backend was opened in an explicitly non-durable mode.
//! - Reads see every batch whose `commit` has returned.
//! - [`Store::commit_async`] has the same meaning as `commit`; it only lets an async caller
//!   wait for the sync without parking a thread.
//!
//! This crate never depends on a backend: the embedded engine and later PostgreSQL live in
//! their own crates and are chosen by the binary. [`mem::MemStore`] is the reference
//! implementation of the contract, used by unit tests of the layers above.

pub mod mem;

use std::future::Future;
use std::ops::{Bound, ControlFlow};
use std::pin::Pin;

/// Errors of a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A check of the batch did not hold; nothing was written. `index` is the position of
    /// the first failing check in [`WriteBatch::checks`].
    #[error("condition {index} of the write batch did not hold")]
    Conflict { index: usize },
    /// The backend failed (I/O, corruption, closed). Callers report it as an internal error.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Scan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
}

/// A range of keys, bounds on raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        let start = Bound::Included(prefix.to_vec());
        let end = match prefix_successor(prefix) {
            Some(next) => Bound::Excluded(next),
            None => Bound::Unbounded,
        };
        KeyRange { start, end }
    }

    /// The two bounds, owned, as ordered maps' `range` takes them.
    pub fn bounds(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        (self.start.clone(), self.end.clone())
    }

    /// Whether `key` lies inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// The smallest byte string greater than every string that starts with `prefix`, if any.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < 0xff {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

/// A condition checked atomically with the writes of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The key has no value.
    Absent(Vec<u8>),
    /// The key holds exactly this value.
    Equals(Vec<u8>, Vec<u8>),
}

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// Delete every key in the range.
    DeleteRange(KeyRange),
    /// Add each delta to the big-endian signed 64-bit integer at the same position of the
    /// value (a missing key counts as zeros; the value grows to hold every delta; sums wrap).
    /// Counters changed this way need no check, so concurrent batches that update the same
    /// counter never conflict on it. It cannot fail: bytes after the last whole integer of
    /// the old value are dropped.
    Add(Vec<u8>, Vec<i64>),
    /// Put the value at `prefix ++ n`, `n` a big-endian `u64` one greater than the largest
    /// `n` already under the prefix (1 for the first), so a forward scan of the prefix visits
    /// the appends in commit order: a log whose order the store decides, not the caller.
    /// Numbers may skip (a failed commit can use some up) but never repeat or go back, as
    /// long as the log keeps its last entry (see [`append_key`]). Never conflicts.
    Append(Vec<u8>, Vec<u8>),
}

/// The key of entry `n` of the log under `prefix` (see [`Op::Append`]), and the number of a
/// key under it. A backend finds the next number from the last key under the prefix, so
/// whoever trims a log keeps its newest entry.
pub fn append_key(prefix: &[u8], n: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&n.to_be_bytes());
    key
}

/// The entry number of `key`, a key of the log under `prefix`; `None` for any other key.
pub fn append_number(prefix: &[u8], key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.strip_prefix(prefix)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The value `current` (a run of big-endian `i64`) after [`Op::Add`] of `deltas`.
pub fn add_to_counters(current: Option<&[u8]>, deltas: &[i64]) -> Vec<u8> {
    let current = current.unwrap_or_default();
    let n = (current.len() / 8).max(deltas.len());
    let mut out = Vec::with_capacity(n * 8);
    for i in 0..n {
        let old = current
            .get(i * 8..i * 8 + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, i64::from_be_bytes);
        let sum = old.wrapping_add(deltas.get(i).copied().unwrap_or(0));
        out.extend_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Checks and writes applied atomically by [`Store::commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub checks: Vec<Check>,
    pub ops: Vec<Op>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn check_absent(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.checks.push(Check::Absent(key.into()));
        self
    }
    pub fn check_equals(
        &mut self,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.checks.push(Check::Equals(key.into(), value.into()));
        self
    }
    /// Check that `key` holds `expected` (`None`: holds nothing).
    pub fn check(&mut self, key: impl Into<Vec<u8>>, expected: Option<Vec<u8>>) -> &mut Self {
        match expected {
            Some(v) => self.check_equals(key, v),
            None => self.check_absent(key),
        }
    }
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Put(key.into(), value.into()));
        self
    }
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Delete(key.into()));
        self
    }
    pub fn delete_range(&mut self, range: KeyRange) -> &mut Self {
        self.ops.push(Op::DeleteRange(range));
        self
    }
    /// Adds `deltas` to the integers stored at `key` (see [`Op::Add`]).
    pub fn add(&mut self, key: impl Into<Vec<u8>>, deltas: Vec<i64>) -> &mut Self {
        self.ops.push(Op::Add(key.into(), deltas));
        self
    }
    /// Appends `value` to the log under `prefix` (see [`Op::Append`]).
    pub fn append(&mut self, prefix: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Append(prefix.into(), value.into()));
        self
    }
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.ops.is_empty()
    }
}

/// Visits one key-value pair of a scan; `Break` stops the scan.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// A commit in flight: resolves to what [`Store::commit`] would have returned.
pub type Commit = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;

/// The storage contract. Methods block, except [`Store::commit_async`]: async callers run the
/// others on a blocking thread, or inline when the backend answers them from memory (the
/// embedded engine's point reads; see `nimbus-aws/src/dynamodb.rs`).
pub trait Store: Send + Sync + 'static {
    /// The value of `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The values of `keys`, in their order, all as of one moment: a commit changing several
    /// of them is seen whole or not at all.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>>;

    /// Visits the pairs of `range` in `direction` until the visitor breaks or the range ends.
    fn scan(&self, range: &KeyRange, direction: Direction, visit: &mut Visitor<'_>) -> Result<()>;

    /// Applies `batch` atomically if all its checks hold; durable when it returns `Ok`.
    fn commit(&self, batch: WriteBatch) -> Result<()>;

    /// [`Store::commit`] for async callers: hands `batch` over and returns at once; the
    /// future resolves when the batch is durable (or refused). It must not block the polling
    /// thread on I/O; a backend whose commit never waits (the memory store) may resolve it
    /// on the spot. The batch is handed over by this call: dropping the future does not
    /// withdraw it, it only stops waiting for the answer.
    fn commit_async(&self, batch: WriteBatch) -> Commit;

    /// Makes everything committed so far durable and flushes caches; called at shutdown.
    fn flush(&self) -> Result<()>;
}
