//! The item store of a table: primary keys (validated and encoded), reading items, and
//! committing item writes together with the table counters, optimistically.

use std::collections::BTreeMap;
use std::sync::Arc;

use nimbus_metering::UsageRecord;
use nimbus_store::{Error as StoreError, WriteBatch};
use nimbus_tables_model::keycodec;
use nimbus_tables_model::{AttributeValue, Item, itemcodec};

use crate::api::ItemCollectionMetrics;
use crate::capacity::{Consumed, IndexUnits, write_units};
use crate::catalog::{Counters, IndexMeta, KeyAttribute, PartitionOrder, TableMeta};
use crate::error::{Result, TablesError};
use crate::{Tables, keys, streams};

/// Most attempts of an optimistic write before giving up.
pub(crate) const MAX_ATTEMPTS: usize = 64;
/// Largest item, in DynamoDB's item size.
pub(crate) const MAX_ITEM_SIZE: usize = 400 * 1024;
const MAX_HASH_KEY: usize = 2048;
const MAX_RANGE_KEY: usize = 1024;

/// A table as seen by an item operation: its catalog entry and the stored bytes of that entry
/// (checked at commit, so that a write never lands in a table deleted meanwhile).
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub meta: TableMeta,
    pub catalog_bytes: Vec<u8>,
}

/// The primary key of one item, validated against the key schema and encoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrimaryKey {
    /// The key attributes only.
    pub attributes: Item,
    /// Hash of the encoded partition key (orders the data, picks the counter stripe).
    pub hash: u32,
    /// The item's key in the store.
    pub store_key: Vec<u8>,
}

/// An item as read from the store.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub bytes: Vec<u8>,
    pub item: Item,
    pub size: usize,
}

/// One planned item write: what was read, and what replaces it (`None` deletes).
#[derive(Debug)]
pub(crate) struct Mutation<'a> {
    pub table: &'a Table,
    pub key: &'a PrimaryKey,
    pub old: Option<&'a Stored>,
    pub new: Option<&'a Item>,
    /// The deletion of an expired item by the time-to-live pass (its stream record names
    /// DynamoDB as the one who deleted it).
    pub expired: bool,
}

/// The error for a key that does not match the schema.
pub(crate) fn key_mismatch() -> TablesError {
    TablesError::validation("The provided key element does not match the schema")
}

impl Tables {
    /// The table named by an item operation, or ResourceNotFoundException; from the catalog
    /// cache when it has the table (see `cache.rs`).
    pub(crate) fn item_table(&self, raw_name: Option<&str>) -> Result<Arc<Table>> {
        let name = self.table_name(raw_name)?;
        match self.catalog.get(&name) {
            Some(table) => Ok(table),
            None => self.load_table(&name),
        }
    }

    /// Reads the catalog entry of `name` from the store and caches it.
    pub(crate) fn load_table(&self, name: &str) -> Result<Arc<Table>> {
        let generation = self.catalog.generation();
        let (meta, catalog_bytes) = self
            .find_table(name)?
            .ok_or_else(TablesError::table_not_found)?;
        let table = Arc::new(Table {
            meta,
            catalog_bytes,
        });
        self.catalog.insert(generation, Arc::clone(&table));
        Ok(table)
    }

    /// Reads the item at `key`.
    pub(crate) fn read_item(&self, key: &PrimaryKey) -> Result<Option<Stored>> {
        match self.store.get(&key.store_key)? {
            Some(bytes) => Ok(Some(decode_stored(bytes)?)),
            None => Ok(None),
        }
    }

    /// Reads the items at `keys` all as of one moment (one snapshot of the store).
    pub(crate) fn read_items_together(&self, keys: &[&PrimaryKey]) -> Result<Vec<Option<Stored>>> {
        let keys: Vec<&[u8]> = keys.iter().map(|key| &key.store_key[..]).collect();
        self.store
            .get_many(&keys)?
            .into_iter()
            .map(|bytes| bytes.map(decode_stored).transpose())
            .collect()
    }

    /// The `ItemCollectionMetrics` of a write to the item collection (the partition) of `key`,
    /// or `None` when the table has no local secondary index: DynamoDB reports item
    /// collections only for those tables. The size estimate is a lower and an upper bound in
    /// GB, from the bytes the collection's items take in the store, read for the requests that
    /// ask (`ReturnItemCollectionMetrics: SIZE`) only.
    pub(crate) fn collection_metrics(
        &self,
        meta: &TableMeta,
        key: &PrimaryKey,
    ) -> Result<Option<ItemCollectionMetrics>> {
        if meta.indexes.iter().all(|index| index.global) {
            return Ok(None);
        }
        let hash_name = &meta.key_schema.hash.name;
        let Some(value) = key.attributes.get(hash_name) else {
            return Ok(None);
        };
        let (_, prefix) = meta.partition_prefix(value)?;
        let mut bytes = 0usize;
        self.store.scan(
            &nimbus_store::KeyRange::prefix(&prefix),
            nimbus_store::Direction::Forward,
            &mut |k, v| {
                bytes += k.len() + v.len();
                std::ops::ControlFlow::Continue(())
            },
        )?;
        let lower = (bytes as f64 / GIB).floor();
        Ok(Some(ItemCollectionMetrics {
            item_collection_key: Some([(hash_name.clone(), value.clone())].into()),
            size_estimate_range_gb: Some(vec![lower, lower + 1.0]),
        }))
    }

    /// Commits `mutations` atomically, with the counters they change, and returns the write
    /// units each mutation's secondary indexes consumed; `Ok(None)` when something changed
    /// since it was read (the caller reads again and retries). The counters are changed by
    /// [`nimbus_store::Op::Add`], so writes to items that share a counter stripe never conflict
    /// on it.
    pub(crate) async fn commit_mutations(
        &self,
        mutations: &[Mutation<'_>],
    ) -> Result<Option<Vec<Vec<IndexUnits>>>> {
        let (batch, index_units) = mutation_batch(mutations)?;
        match self.store.commit_async(batch).await {
            Ok(()) => Ok(Some(index_units)),
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-reads the catalog entry of `table` after a conflict; ResourceNotFound if it is gone.
    pub(crate) fn refresh_table(&self, table: &mut Arc<Table>) -> Result<()> {
        *table = self.load_table(&table.meta.name)?;
        Ok(())
    }

    /// Records the units an item operation consumed.
    pub(crate) fn record_usage(&self, table: &str, operation: &'static str, consumed: &Consumed) {
        self.usage.record(UsageRecord::TableRequest {
            table: table.to_string(),
            operation,
            read_units: consumed.read,
            write_units: consumed.write,
        });
    }
}

/// One item's entry in a secondary index: its store key, its partition's hash and the
/// projected item.
struct IndexEntry {
    hash: u32,
    key: Vec<u8>,
    projected: Item,
}

impl IndexEntry {
    fn of(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Result<Option<IndexEntry>> {
        Ok(meta
            .index_entry(index, item)?
            .map(|(hash, key)| IndexEntry {
                hash,
                key,
                projected: index.project(&meta.key_schema, item),
            }))
    }

    fn size(&self) -> usize {
        itemcodec::item_size(&self.projected)
    }
}

/// The write batch of `mutations`: a check that each table's catalog entry and each item are
/// as read, the item writes, the writes of their secondary index entries, and the counter
/// deltas of the tables and indexes; and the write units each mutation's indexes consume, by
/// DynamoDB's rules: per index, nothing when no projected attribute changes (and nothing is
/// written), else the projected item in 1 KB units, plus the old entry's removal as a write
/// of its own when the index key changes. Refuses a new item whose index key has the wrong
/// type.
pub(crate) fn mutation_batch(
    mutations: &[Mutation<'_>],
) -> Result<(WriteBatch, Vec<Vec<IndexUnits>>)> {
    let mut index_units = Vec::with_capacity(mutations.len());
    let mut batch = WriteBatch::new();
    let mut deltas: BTreeMap<Vec<u8>, Counters> = BTreeMap::new();
    let mut checked_tables: Vec<&[u8; 16]> = Vec::new();
    let mut now_millis = None;
    for m in mutations {
        let meta = &m.table.meta;
        if !checked_tables.contains(&&meta.id) {
            checked_tables.push(&meta.id);
            batch.check_equals(keys::catalog(&meta.name), m.table.catalog_bytes.clone());
        }
        batch.check(m.key.store_key.clone(), m.old.map(|s| s.bytes.clone()));
        let delta = deltas.entry(keys::stats(&meta.id, m.key.hash)).or_default();
        if let Some(old) = m.old {
            delta.items -= 1;
            delta.bytes -= old.size as i64;
        }
        // A stream gets a record of each change (sets compare in any order), made from the
        // encodings the write has anyway.
        let stream = meta.enabled_stream();
        let mut record = |new_bytes: Option<&[u8]>| {
            if let Some(stream) = stream {
                let now = *now_millis.get_or_insert_with(crate::now_millis);
                batch.append(
                    keys::stream_log(&stream.id),
                    streams::record(stream, m, new_bytes, now),
                );
            }
        };
        match m.new {
            Some(item) => {
                let bytes = itemcodec::encode(item);
                if stream.is_some()
                    && m.old
                        .is_none_or(|old| old.bytes != bytes && old.item != *item)
                {
                    record(Some(&bytes));
                }
                delta.items += 1;
                delta.bytes += itemcodec::item_size(item) as i64;
                batch.put(m.key.store_key.clone(), bytes);
            }
            None if m.old.is_some() => {
                record(None);
                batch.delete(m.key.store_key.clone());
            }
            None => {}
        }
        let mut units = Vec::new();
        for index in &meta.indexes {
            // A stored item was checked when it was written: its entry is well-formed.
            let old = m
                .old
                .and_then(|old| IndexEntry::of(meta, index, &old.item).ok().flatten());
            let new = match m.new {
                Some(item) => IndexEntry::of(meta, index, item)?,
                None => None,
            };
            let same_key = matches!((&old, &new), (Some(o), Some(n)) if o.key == n.key);
            if same_key && old.as_ref().map(|o| &o.projected) == new.as_ref().map(|n| &n.projected)
            {
                continue;
            }
            if old.is_none() && new.is_none() {
                continue;
            }
            let mut spent = 0.0;
            if let Some(old) = &old {
                let delta = deltas.entry(keys::stats(&index.id, old.hash)).or_default();
                delta.items -= 1;
                delta.bytes -= old.size() as i64;
                if !same_key {
                    batch.delete(old.key.clone());
                    spent += write_units(old.size(), 0);
                }
            }
            if let Some(new) = new {
                let size = new.size();
                let delta = deltas.entry(keys::stats(&index.id, new.hash)).or_default();
                delta.items += 1;
                delta.bytes += size as i64;
                spent += match &old {
                    Some(old) if same_key => write_units(old.size(), size),
                    _ => write_units(size, 0),
                };
                batch.put(new.key, itemcodec::encode(&new.projected));
            }
            units.push(IndexUnits {
                name: index.name.clone(),
                global: index.global,
                units: spent,
            });
        }
        index_units.push(units);
    }
    for (stats_key, delta) in deltas {
        if delta != Counters::default() {
            batch.add(stats_key, delta.deltas());
        }
    }
    Ok((batch, index_units))
}

/// Decodes stored item bytes.
pub(crate) fn decode_stored(bytes: Vec<u8>) -> Result<Stored> {
    let item = itemcodec::decode(&bytes)?;
    Ok(Stored::of(bytes, item))
}

impl Stored {
    /// An item already decoded from its stored `bytes`.
    pub(crate) fn of(bytes: Vec<u8>, item: Item) -> Stored {
        let size = itemcodec::item_size(&item);
        Stored { bytes, item, size }
    }
}

impl TableMeta {
    /// The key attributes of the table's indexes, with their declared types.
    pub(crate) fn index_key_attributes(&self) -> Vec<(String, keycodec::KeyType)> {
        self.indexes
            .iter()
            .flat_map(|index| index.key_schema.attributes())
            .map(|attr| (attr.name.clone(), attr.kind))
            .collect()
    }

    /// The primary key given as a `Key` parameter: exactly the key attributes, with their
    /// declared types.
    pub(crate) fn key_from_key(&self, key: &Item) -> Result<PrimaryKey> {
        let expected = 1 + usize::from(self.key_schema.range.is_some());
        if key.len() != expected {
            return Err(key_mismatch());
        }
        self.key_from_put_request(key)
    }

    /// The primary key of a whole item (PutItem): the key attributes must be present with
    /// their declared types.
    pub(crate) fn key_from_item(&self, item: &Item) -> Result<PrimaryKey> {
        for attr in self.key_schema.attributes() {
            match item.get(&attr.name) {
                None => {
                    return Err(TablesError::validation(format!(
                        "One or more parameter values were invalid: Missing the key {} in the item",
                        attr.name
                    )));
                }
                Some(value) if keycodec::KeyType::of(value) != Some(attr.kind) => {
                    return Err(TablesError::validation(format!(
                        "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                        attr.name,
                        attr.kind.name(),
                        value.type_name()
                    )));
                }
                Some(_) => {}
            }
        }
        self.primary_key(item)
    }

    /// The primary key of an item in a BatchWriteItem `PutRequest`: as for PutItem, except
    /// that a missing or mistyped key attribute gets the batch path's message, "The provided
    /// key element does not match the schema" (the message of a wrong `Key` too).
    pub(crate) fn key_from_put_request(&self, item: &Item) -> Result<PrimaryKey> {
        let matches = self.key_schema.attributes().all(|attr| {
            item.get(&attr.name)
                .is_some_and(|v| keycodec::KeyType::of(v) == Some(attr.kind))
        });
        if !matches {
            return Err(key_mismatch());
        }
        self.primary_key(item)
    }

    /// Encodes the key attributes of `item` (already type-checked), enforcing the empty-value
    /// and size rules for keys.
    fn primary_key(&self, item: &Item) -> Result<PrimaryKey> {
        let mut attributes = Item::new();
        let mut encoded = Vec::new();
        let mut partition_len = 0;
        let mut hash = 0;
        for (i, attr) in self.key_schema.attributes().enumerate() {
            let value = item.get(&attr.name).ok_or_else(key_mismatch)?;
            check_key_value(
                attr,
                value,
                if i == 0 { MAX_HASH_KEY } else { MAX_RANGE_KEY },
            )?;
            keycodec::encode_key_value(value, &mut encoded)?;
            if i == 0 {
                partition_len = encoded.len();
                hash = self.partition_hash(value, &encoded);
            }
            attributes.insert(attr.name.clone(), value.clone());
        }
        let (partition, sort) = encoded.split_at(partition_len);
        Ok(PrimaryKey {
            attributes,
            hash,
            store_key: keys::item(&self.id, hash, partition, sort),
        })
    }

    /// The hash of the partition key `value` (`encoded` by [`keycodec`]) in this table's
    /// [`PartitionOrder`].
    fn partition_hash(&self, value: &AttributeValue, encoded: &[u8]) -> u32 {
        match self.partition_order {
            PartitionOrder::Fnv => keys::partition_hash(encoded),
            PartitionOrder::Md5 => keys::md5_partition_hash(value),
        }
    }

    /// The store key of the partition `value` of the hash key, and its hash.
    pub(crate) fn partition_prefix(&self, value: &AttributeValue) -> Result<(u32, Vec<u8>)> {
        check_key_value(&self.key_schema.hash, value, MAX_HASH_KEY)?;
        let mut encoded = Vec::new();
        keycodec::encode_key_value(value, &mut encoded)?;
        let hash = self.partition_hash(value, &encoded);
        Ok((hash, keys::item(&self.id, hash, &encoded, &[])))
    }

    /// The store key of `item`'s entry in `index` and the hash of its partition; `None` when
    /// the item lacks an index key attribute (indexes are sparse). An index key of another
    /// type than declared, or an empty one, is refused as DynamoDB refuses the write.
    pub(crate) fn index_entry(
        &self,
        index: &IndexMeta,
        item: &Item,
    ) -> Result<Option<(u32, Vec<u8>)>> {
        let mut encoded = Vec::new();
        let mut partition_len = 0;
        let mut hash = 0;
        for (i, attr) in index.key_schema.attributes().enumerate() {
            let Some(value) = item.get(&attr.name) else {
                return Ok(None);
            };
            if let Some(fault) = index_key_fault(index, attr, value) {
                return Err(fault.into_error());
            }
            // An index key has the size limits of a table key.
            check_key_value(
                attr,
                value,
                if i == 0 { MAX_HASH_KEY } else { MAX_RANGE_KEY },
            )?;
            keycodec::encode_key_value(value, &mut encoded)?;
            if i == 0 {
                partition_len = encoded.len();
                hash = self.partition_hash(value, &encoded);
            }
        }
        // The table's key makes the entry of each item unique.
        for attr in self.key_schema.attributes() {
            let value = item.get(&attr.name).ok_or_else(key_mismatch)?;
            keycodec::encode_key_value(value, &mut encoded)?;
        }
        let (partition, rest) = encoded.split_at(partition_len);
        Ok(Some((hash, keys::item(&index.id, hash, partition, rest))))
    }

    /// The refusal of an empty key value in `item` (a `Key`, or with `indexes` a whole item and
    /// its secondary index keys), if it has one. DynamoDB checks this with the request's input,
    /// before a transaction runs: inside TransactWriteItems it is the whole request's
    /// ValidationException, where a key of the wrong type is one action's cancellation reason.
    pub(crate) fn empty_key_value(&self, item: &Item, indexes: bool) -> Option<TablesError> {
        let typed = |attr: &KeyAttribute| {
            item.get(&attr.name)
                .filter(|v| keycodec::KeyType::of(v) == Some(attr.kind))
                .and_then(empty_kind)
        };
        if let Some((attr, what)) = self
            .key_schema
            .attributes()
            .find_map(|attr| typed(attr).map(|what| (attr, what)))
        {
            return Some(empty_key(what, attr));
        }
        if !indexes {
            return None;
        }
        // Only an empty index key: one of the wrong type is a fault of the action, found later.
        self.indexes.iter().find_map(|index| {
            index.key_schema.attributes().find_map(|attr| {
                match index_key_fault(index, attr, item.get(&attr.name)?) {
                    Some(IndexKeyFault::Empty(_, refusal)) => Some(refusal),
                    _ => None,
                }
            })
        })
    }

    /// The first fault of `item`'s secondary index key values, if any (an item without an
    /// index's key attributes is simply not in that index).
    pub(crate) fn index_key_fault(&self, item: &Item) -> Option<IndexKeyFault> {
        self.indexes.iter().find_map(|index| {
            index.key_schema.attributes().find_map(|attr| {
                item.get(&attr.name)
                    .and_then(|value| index_key_fault(index, attr, value))
            })
        })
    }

    /// The key attributes of `item` (for LastEvaluatedKey).
    pub(crate) fn key_of(&self, item: &Item) -> Item {
        self.key_schema
            .attributes()
            .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
            .collect()
    }
}

/// Bytes in a GB, as item collection sizes are estimated.
const GIB: f64 = (1u64 << 30) as f64;

/// Why a value cannot be a secondary index key.
pub(crate) enum IndexKeyFault {
    /// Another type than the index declares: the message.
    Mistyped(String),
    /// An empty string or binary: the kind, "string" or "binary", and the refusal a whole item
    /// (PutItem) gets.
    Empty(&'static str, TablesError),
}

impl IndexKeyFault {
    /// The refusal of a write whose item has this fault.
    pub(crate) fn into_error(self) -> TablesError {
        match self {
            IndexKeyFault::Mistyped(message) => TablesError::validation(message),
            IndexKeyFault::Empty(_, error) => error,
        }
    }
}

fn index_key_fault(
    index: &IndexMeta,
    attr: &KeyAttribute,
    value: &AttributeValue,
) -> Option<IndexKeyFault> {
    if keycodec::KeyType::of(value) != Some(attr.kind) {
        return Some(IndexKeyFault::Mistyped(format!(
            "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
            attr.name,
            attr.kind.name(),
            value.type_name(),
            index.name
        )));
    }
    empty_kind(value).map(|what| IndexKeyFault::Empty(what, empty_index_key(what, index, attr)))
}

/// The refusal of an update expression that leaves an index key empty (DynamoDB words it
/// apart from an empty index key in a whole item).
pub(crate) fn update_empties_index_key(what: &str) -> TablesError {
    TablesError::validation(format!(
        "One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty {what} value."
    ))
}

/// "string" or "binary" for an empty S or B value: the kinds a key value may not leave empty.
fn empty_kind(value: &AttributeValue) -> Option<&'static str> {
    match value {
        AttributeValue::S(s) => s.is_empty().then_some("string"),
        AttributeValue::B(b) => b.is_empty().then_some("binary"),
        _ => None,
    }
}

fn empty_key(what: &str, attr: &KeyAttribute) -> TablesError {
    TablesError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {}",
        attr.name
    ))
}

fn empty_index_key(what: &str, index: &IndexMeta, attr: &KeyAttribute) -> TablesError {
    TablesError::validation(format!(
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {what} value. IndexName: {}, IndexKey: {}",
        index.name, attr.name
    ))
}

/// DynamoDB's rules for one key value: not empty, not too large.
fn check_key_value(attr: &KeyAttribute, value: &AttributeValue, max: usize) -> Result<()> {
    let len = match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => return Ok(()),
    };
    if let Some(what) = empty_kind(value) {
        return Err(empty_key(what, attr));
    }
    if len > max {
        return Err(TablesError::validation(if max == MAX_HASH_KEY {
            format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{MAX_HASH_KEY} bytes"
            )
        } else {
            format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_KEY} bytes"
            )
        }));
    }
    Ok(())
}

/// Refuses an item larger than DynamoDB allows.
pub(crate) fn check_item_size(item: &Item) -> Result<usize> {
    for name in item.keys() {
        nimbus_tables_model::value::check_attribute_name(name)?;
    }
    let size = itemcodec::item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(TablesError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use nimbus_store::WriteBatch;
    use serde_json::json;

    use crate::catalog::PartitionOrder;
    use crate::keys;
    use crate::testing::{call, create, ready, service};

    /// A table whose catalog entry predates the MD5 order keeps FNV-1a for its keys, and every
    /// operation finds its items; a new table takes the MD5 order.
    #[test]
    fn tables_from_before_the_md5_order_keep_their_keys() {
        let (t, _) = service();
        create(&t, "old", true);
        create(&t, "new", true);
        let (mut meta, _) = t.find_table("old").expect("read").expect("exists");
        assert_eq!(meta.partition_order, PartitionOrder::Md5);
        meta.partition_order = PartitionOrder::Fnv;
        let mut batch = WriteBatch::new();
        batch.put(keys::catalog("old"), meta.encode().expect("encodes"));
        ready(t.store.commit_async(batch)).expect("catalog rewritten");
        t.catalog.forget("old");
        // A catalog entry without the member reads as FNV-1a.
        let mut entry: serde_json::Value =
            serde_json::from_slice(&meta.encode().expect("encodes")).expect("json");
        entry
            .as_object_mut()
            .expect("object")
            .remove("partition_order");
        let decoded: crate::catalog::TableMeta =
            serde_json::from_value(entry).expect("an older entry decodes");
        assert_eq!(decoded.partition_order, PartitionOrder::Fnv);

        for table in ["old", "new"] {
            for pk in ["a", "b", "c", "d"] {
                for sk in 1..=3 {
                    let item = json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}});
                    call(&t, "PutItem", json!({"TableName": table, "Item": item})).expect("put");
                }
            }
            let got = call(
                &t,
                "GetItem",
                json!({"TableName": table, "Key": {"pk": {"S": "c"}, "sk": {"N": "2"}}}),
            )
            .expect("get");
            assert_eq!(got["Item"]["pk"], json!({"S": "c"}));
            let query = call(
                &t,
                "Query",
                json!({"TableName": table, "KeyConditionExpression": "pk = :p",
                       "ExpressionAttributeValues": {":p": {"S": "b"}}}),
            )
            .expect("query");
            assert_eq!(query["Count"], json!(3));
            let scan = call(&t, "Scan", json!({"TableName": table})).expect("scan");
            assert_eq!(scan["Count"], json!(12));
        }
        // The keys on disk: FNV-1a of the encoded partition key for the old table, the MD5
        // order for the new one.
        let item = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
        let item: nimbus_tables_model::Item = serde_json::from_value(item).expect("item");
        let value = item.get("pk").expect("pk");
        let mut encoded = Vec::new();
        nimbus_tables_model::keycodec::encode_key_value(value, &mut encoded).expect("encodes");
        let old = t.item_table(Some("old")).expect("old");
        let new = t.item_table(Some("new")).expect("new");
        assert_eq!(
            old.meta.key_from_item(&item).expect("key").hash,
            keys::partition_hash(&encoded)
        );
        assert_eq!(
            new.meta.key_from_item(&item).expect("key").hash,
            keys::md5_partition_hash(value)
        );
    }
}
