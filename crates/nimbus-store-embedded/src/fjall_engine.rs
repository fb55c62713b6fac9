//! The [`Engine`] on fjall, a log-structured merge tree with a write-ahead journal.
//!
//! One keyspace, `items`, holds every key. Writes go through fjall's single-writer
//! transaction (reads inside it see its own writes); a durable commit ends with
//! `PersistMode::SyncAll` on the journal before the transaction becomes visible. Reads outside
//! the writer go through a snapshot (`read_tx`), which sees a transaction whole or not at all.
//! fjall fsyncs the directory itself whenever it creates a journal, a table file or its
//! manifest.

use std::ops::Bound;
use std::path::Path;

use fjall::{
    KeyspaceCreateOptions, PersistMode, Readable, SingleWriterTxDatabase, SingleWriterTxKeyspace,
    SingleWriterWriteTx,
};
use nimbus_store::{Direction, KeyRange, Result};

use crate::engine::{Engine, Transaction, Visitor, backend, is_empty_range, slice_bounds};

const KEYSPACE: &str = "items";

/// The longest key fjall stores; it panics on a longer one. No key Nimbus makes from a valid
/// request comes near (DynamoDB's key limits keep them to a few KB), but a store must never
/// take down its writer thread: a longer key is an error to write and absent to read.
const MAX_KEY: usize = u16::MAX as usize;

/// The bounds of `range` as fjall takes them: a bound longer than any stored key is cut to
/// [`MAX_KEY`] bytes, which selects the same keys. For a stored key `x` (at most `MAX_KEY`
/// bytes) and a longer bound `k` whose first `MAX_KEY` bytes are `t`: `x >= k` exactly when
/// `x > t`, and `x <= k` exactly when `x <= t` (`x == t` is a proper prefix of `k`).
fn bounds(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    let (start, end) = slice_bounds(range);
    let start = match start {
        Bound::Included(k) | Bound::Excluded(k) if k.len() > MAX_KEY => {
            Bound::Excluded(&k[..MAX_KEY])
        }
        other => other,
    };
    let end = match end {
        Bound::Included(k) | Bound::Excluded(k) if k.len() > MAX_KEY => {
            Bound::Included(&k[..MAX_KEY])
        }
        other => other,
    };
    (start, end)
}

fn too_long(key: &[u8]) -> nimbus_store::Error {
    backend(
        "write",
        format!(
            "a key of {} bytes is longer than the {MAX_KEY} the engine stores",
            key.len()
        ),
    )
}

pub struct FjallEngine {
    db: SingleWriterTxDatabase,
    items: SingleWriterTxKeyspace,
}

impl FjallEngine {
    /// Opens (or creates) the database in `path` with a block cache of `cache_size` bytes.
    pub fn open(path: &Path, cache_size: u64) -> Result<Self, fjall::Error> {
        let db = SingleWriterTxDatabase::builder(path)
            .cache_size(cache_size)
            .open()?;
        let items = db.keyspace(KEYSPACE, KeyspaceCreateOptions::default)?;
        Ok(FjallEngine { db, items })
    }
}

impl Engine for FjallEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if key.len() > MAX_KEY {
            return Ok(None);
        }
        // Through a snapshot: it ends at the last published commit, so a commit being applied
        // to the memtable is seen whole or not at all (`items.get` reads the newest version of
        // every key, a half-applied batch included).
        let value = self
            .db
            .read_tx()
            .get(&self.items, key)
            .map_err(|e| backend("get", e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let snapshot = self.db.read_tx();
        keys.iter()
            .map(|key| {
                if key.len() > MAX_KEY {
                    return Ok(None);
                }
                let value = snapshot
                    .get(&self.items, key)
                    .map_err(|e| backend("get", e))?;
                Ok(value.map(|v| v.to_vec()))
            })
            .collect()
    }

    fn scan(&self, range: &KeyRange, direction: Direction, visit: &mut Visitor<'_>) -> Result<()> {
        if is_empty_range(range) {
            return Ok(());
        }
        // A snapshot, for the reason given in `get`.
        let iter = self
            .db
            .read_tx()
            .range::<&[u8], _>(&self.items, bounds(range));
        let mut step = |guard: fjall::Guard| {
            let (key, value) = guard.into_inner().map_err(|e| backend("scan", e))?;
            Ok::<_, nimbus_store::Error>(visit(&key, &value))
        };
        match direction {
            Direction::Forward => {
                for guard in iter {
                    if step(guard)?.is_break() {
                        break;
                    }
                }
            }
            Direction::Reverse => {
                for guard in iter.rev() {
                    if step(guard)?.is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn write(
        &self,
        durable: bool,
        apply: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()> {
        let tx = self
            .db
            .write_tx()
            .durability(durable.then_some(PersistMode::SyncAll));
        let mut tx = FjallTx {
            tx,
            items: &self.items,
        };
        apply(&mut tx)?;
        tx.tx.commit().map_err(|e| backend("commit", e))
    }

    fn flush(&self) -> Result<()> {
        self.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| backend("persist journal", e))
    }
}

struct FjallTx<'a> {
    tx: SingleWriterWriteTx<'a>,
    items: &'a SingleWriterTxKeyspace,
}

impl Transaction for FjallTx<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if key.len() > MAX_KEY {
            return Ok(None);
        }
        let value = self
            .tx
            .get(self.items, key)
            .map_err(|e| backend("get in transaction", e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        if key.len() > MAX_KEY {
            return Err(too_long(&key));
        }
        self.tx.insert(self.items, key, value);
        Ok(())
    }

    fn delete(&mut self, key: Vec<u8>) -> Result<()> {
        if key.len() > MAX_KEY {
            return Ok(());
        }
        self.tx.remove(self.items, key);
        Ok(())
    }

    fn delete_range(&mut self, range: &KeyRange) -> Result<()> {
        if is_empty_range(range) {
            return Ok(());
        }
        let keys = self
            .tx
            .range::<&[u8], _>(self.items, bounds(range))
            .map(|guard| guard.key())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| backend("list range to delete", e))?;
        for key in keys {
            self.tx.remove(self.items, key);
        }
        Ok(())
    }

    fn last_key(&mut self, range: &KeyRange) -> Result<Option<Vec<u8>>> {
        if is_empty_range(range) {
            return Ok(None);
        }
        self.tx
            .range::<&[u8], _>(self.items, bounds(range))
            .next_back()
            .map(|guard| guard.key().map(|key| key.to_vec()))
            .transpose()
            .map_err(|e| backend("find the last key of a range", e))
    }
}
