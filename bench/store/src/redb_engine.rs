//! The storage engine that lost the comparison, kept here to rerun it: redb 4, a copy-on-write
//! B-tree in one file. A durable commit is `Durability::Immediate` (one `fdatasync` of the
//! file); redb never fsyncs the directory, which `EmbeddedStore::open` does after creating the
//! file.

use std::path::Path;

use nimbus_store::{Direction, KeyRange, Result};
use nimbus_store_embedded::engine::{
    Engine, Transaction, Visitor, backend, is_empty_range, slice_bounds,
};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition};

const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");

pub struct RedbEngine {
    db: Database,
}

impl RedbEngine {
    pub fn open(path: &Path, cache_size: u64) -> Result<Self, redb::Error> {
        let db = Database::builder()
            .set_cache_size(cache_size as usize)
            .create(path)?;
        // Create the table once, so readers can open it before the first write.
        let tx = db.begin_write()?;
        tx.open_table(ITEMS)?;
        tx.commit()?;
        Ok(RedbEngine { db })
    }
}

impl Engine for RedbEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read().map_err(|e| backend("begin read", e))?;
        let table = tx.open_table(ITEMS).map_err(|e| backend("open table", e))?;
        let value = table.get(key).map_err(|e| backend("get", e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn scan(&self, range: &KeyRange, direction: Direction, visit: &mut Visitor<'_>) -> Result<()> {
        if is_empty_range(range) {
            return Ok(());
        }
        let tx = self.db.begin_read().map_err(|e| backend("begin read", e))?;
        let table = tx.open_table(ITEMS).map_err(|e| backend("open table", e))?;
        let iter = table
            .range::<&[u8]>(slice_bounds(range))
            .map_err(|e| backend("scan", e))?;
        let mut step = |item: Result<_, redb::StorageError>| {
            let (k, v): (redb::AccessGuard<&[u8]>, redb::AccessGuard<&[u8]>) =
                item.map_err(|e| backend("scan", e))?;
            Ok::<_, nimbus_store::Error>(visit(k.value(), v.value()))
        };
        match direction {
            Direction::Forward => {
                for item in iter {
                    if step(item)?.is_break() {
                        break;
                    }
                }
            }
            Direction::Reverse => {
                for item in iter.rev() {
                    if step(item)?.is_break() {
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
        let mut tx = self
            .db
            .begin_write()
            .map_err(|e| backend("begin write", e))?;
        let durability = if durable {
            Durability::Immediate
        } else {
            Durability::None
        };
        tx.set_durability(durability)
            .map_err(|e| backend("set durability", e))?;
        {
            let table = tx.open_table(ITEMS).map_err(|e| backend("open table", e))?;
            apply(&mut RedbTx { table })?;
        }
        tx.commit().map_err(|e| backend("commit", e))
    }

    fn flush(&self) -> Result<()> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| backend("begin write", e))?;
        tx.commit().map_err(|e| backend("commit", e))
    }
}

struct RedbTx<'a> {
    table: Table<'a, &'static [u8], &'static [u8]>,
}

impl Transaction for RedbTx<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.table.get(key).map_err(|e| backend("get", e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        self.table
            .insert(key.as_slice(), value.as_slice())
            .map_err(|e| backend("insert", e))?;
        Ok(())
    }

    fn delete(&mut self, key: Vec<u8>) -> Result<()> {
        self.table
            .remove(key.as_slice())
            .map_err(|e| backend("remove", e))?;
        Ok(())
    }

    fn delete_range(&mut self, range: &KeyRange) -> Result<()> {
        if is_empty_range(range) {
            return Ok(());
        }
        self.table
            .retain_in::<&[u8], _>(slice_bounds(range), |_, _| false)
            .map_err(|e| backend("delete range", e))
    }
}
