//! The catalog cache: decoded catalog entries of the tables that item operations touched, so
//! that a GetItem or PutItem neither reads nor decodes the catalog entry of its table.
//!
//! Invariants:
//! - An entry is the decoded form of bytes that were in the store; every catalog write of this
//!   service ([`Tables::forget_table`](crate::Tables) after CreateTable, UpdateTable,
//!   DeleteTable, TagResource, UntagResource) drops the entry once its commit has returned, so
//!   a later request reads the store again.
//! - A load that raced a catalog write is never cached: loads note the generation before they
//!   read the store and insert only if no write has dropped an entry since.
//! - Writes do not trust the cache: every item commit checks that the catalog entry still holds
//!   the bytes the entry was decoded from, so an item never lands in a table that was changed,
//!   deleted or re-created meanwhile; on a conflict the entry is reloaded from the store.
//!
//! Single-node assumption: reads (GetItem, Query, Scan, BatchGetItem) trust the cache, which is
//! exact only while this process is the only writer of the catalog. The embedded store makes
//! that so: its data directory is locked to one process, and one `Tables` serves it. A backend
//! shared by several nodes (PostgreSQL) must validate an entry before a read uses it — compare
//! the stored catalog bytes with the entry's (one point read, no decode) or keep a catalog
//! version key — before this cache may serve reads there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::items::Table;

/// Decoded catalog entries by table name.
#[derive(Debug, Default)]
pub(crate) struct CatalogCache {
    entries: RwLock<HashMap<String, Arc<Table>>>,
    /// Bumped, under the write lock, whenever an entry is dropped for a catalog write.
    generation: AtomicU64,
}

impl CatalogCache {
    /// The cached entry of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Table>> {
        // The map holds plain values: a panic elsewhere cannot leave it half-updated.
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(name).cloned()
    }

    /// The generation to pass to [`CatalogCache::insert`] for a load that starts now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `table`, loaded from the store after [`CatalogCache::generation`] returned
    /// `generation`, unless a catalog write has dropped an entry since.
    pub(crate) fn insert(&self, generation: u64, table: Arc<Table>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(table.meta.name.clone(), table);
        }
    }

    /// Drops the entry of `name` after a write to its catalog entry (whatever its outcome).
    pub(crate) fn forget(&self, name: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use nimbus_metering::Totals;
    use nimbus_store::mem::MemStore;
    use serde_json::json;

    use crate::testing::{call, create};
    use crate::{Tables, TablesConfig};

    fn node(store: &Arc<MemStore>) -> Tables {
        let config = TablesConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            endpoint: "localhost:4566".into(),
        };
        Tables::new(store.clone(), config, Arc::new(Totals::new())).expect("service starts")
    }

    /// A table re-created behind a node's cache (by another service on the same store): the
    /// node's next write conflicts on the catalog entry, reloads it and lands in the new table.
    #[test]
    fn writes_check_the_catalog_behind_the_cache() {
        let store = Arc::new(MemStore::new());
        let (a, b) = (node(&store), node(&store));
        create(&a, "t1x", false);
        let put = |t: &Tables, v: &str| {
            call(
                t,
                "PutItem",
                json!({"TableName": "t1x", "Item": {"pk": {"S": v}}}),
            )
            .unwrap()
        };
        put(&a, "old");
        call(&b, "DeleteTable", json!({"TableName": "t1x"})).unwrap();
        create(&b, "t1x", false);
        put(&a, "new");
        let count = |t: &Tables| {
            let scan = call(t, "Scan", json!({"TableName": "t1x"})).unwrap();
            (scan["Count"].clone(), scan["Items"][0]["pk"]["S"].clone())
        };
        assert_eq!(count(&b), (json!(1), json!("new")));
        assert_eq!(count(&a), (json!(1), json!("new")));
        let desc = call(&b, "DescribeTable", json!({"TableName": "t1x"})).unwrap();
        assert_eq!(desc["Table"]["ItemCount"], 1);
    }

    /// The service's own catalog writes drop the cached entry at once.
    #[test]
    fn own_table_changes_are_seen_at_once() {
        let store = Arc::new(MemStore::new());
        let a = node(&store);
        create(&a, "t1x", false);
        call(
            &a,
            "PutItem",
            json!({"TableName": "t1x", "Item": {"pk": {"S": "x"}}}),
        )
        .unwrap();
        call(&a, "DeleteTable", json!({"TableName": "t1x"})).unwrap();
        let missing = call(
            &a,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "x"}}}),
        );
        assert!(matches!(
            missing,
            Err(crate::TablesError::ResourceNotFound(_))
        ));
        create(&a, "t1x", true);
        let wrong_key = call(
            &a,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "x"}}}),
        );
        assert!(matches!(wrong_key, Err(crate::TablesError::Validation(_))));
    }
}
