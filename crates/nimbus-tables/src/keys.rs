//! The key layout of the table service inside the shared store.
//!
//! ```text
//! tables/c/<table name>                          -> catalog entry (TableMeta, JSON)
//! tables/s/<table id:16><stripe:1>               -> item count and size of one stripe
//! tables/d/<table id:16><hash:4><key encoding>   -> item (binary item encoding)
//! tables/d/<index id:16><hash:4><index key encoding><table key encoding>
//!                                                -> the item's projection in a secondary index
//! tables/r/<stream id:16><number:8>              -> one stream record (`streams.rs`), numbered
//!                                                   by the store (`Op::Append`)
//! tables/x/<table name>/<stream label>           -> a stream of a deleted table (RetiredStream,
//!                                                   JSON), kept a day
//! ```
//!
//! A secondary index is laid out as a table of its own under its own random id (its
//! counters too), keyed by the index key and then the table key, which makes each item's
//! entry unique.
//!
//! The data of a table lives under its random 16-byte id, never under its name: DeleteTable is
//! one catalog delete plus two range deletes, and a table re-created with the same name starts
//! from an empty prefix even if a late writer raced the delete.
//!
//! Items are ordered first by a 32-bit hash of the encoded partition key, then by the encoded
//! key. A partition is therefore one contiguous range (Query is a range scan), and Scan visits
//! partitions in hash order, which lets parallel Scan split the hash space into contiguous
//! segments. Counters are striped by the same hash so that concurrent writes to different
//! partitions rarely contend on one counter key.

use nimbus_store::KeyRange;

const CATALOG: &[u8] = b"tables/c/";
const STATS: &[u8] = b"tables/s/";
const DATA: &[u8] = b"tables/d/";
const STREAMS: &[u8] = b"tables/r/";
const RETIRED: &[u8] = b"tables/x/";

/// Number of counter stripes per table.
pub(crate) const STRIPES: u8 = 16;

/// The stable 32-bit hash (FNV-1a) of an encoded partition key. Part of the on-disk format:
/// never change it.
pub(crate) fn partition_hash(encoded_partition_key: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in encoded_partition_key {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The prefix of the records of the stream `id`, the log [`nimbus_store::Op::Append`] writes.
pub(crate) fn stream_log(id: &[u8; 16]) -> Vec<u8> {
    [STREAMS, id].concat()
}

/// The key of the stream `label` of the deleted table `table`.
pub(crate) fn retired_stream(table: &str, label: &str) -> Vec<u8> {
    [RETIRED, table.as_bytes(), b"/", label.as_bytes()].concat()
}

/// Every retired stream, or those of the deleted table `table`.
pub(crate) fn retired_streams(table: Option<&str>) -> KeyRange {
    match table {
        Some(name) => KeyRange::prefix(&[RETIRED, name.as_bytes(), b"/"].concat()),
        None => KeyRange::prefix(RETIRED),
    }
}

/// Catalog key of the table `name`.
pub(crate) fn catalog(name: &str) -> Vec<u8> {
    [CATALOG, name.as_bytes()].concat()
}

/// Every catalog key.
pub(crate) fn catalog_range() -> KeyRange {
    KeyRange::prefix(CATALOG)
}

/// The table name of a catalog key.
pub(crate) fn table_name_of(catalog_key: &[u8]) -> Option<&str> {
    catalog_key
        .strip_prefix(CATALOG)
        .and_then(|name| std::str::from_utf8(name).ok())
}

/// Counter key of one stripe of a table.
pub(crate) fn stats(table_id: &[u8; 16], hash: u32) -> Vec<u8> {
    // The low bits of the hash pick the stripe; the high bits order the data.
    let stripe = (hash % u32::from(STRIPES)) as u8;
    [STATS, table_id.as_slice(), &[stripe]].concat()
}

/// Every counter key of a table.
pub(crate) fn stats_range(table_id: &[u8; 16]) -> KeyRange {
    KeyRange::prefix(&[STATS, table_id.as_slice()].concat())
}

/// Prefix of every item of a table.
pub(crate) fn data_prefix(table_id: &[u8; 16]) -> Vec<u8> {
    [DATA, table_id.as_slice()].concat()
}

/// Every item of a table.
pub(crate) fn data_range(table_id: &[u8; 16]) -> KeyRange {
    KeyRange::prefix(&data_prefix(table_id))
}

/// Store key of an item: table prefix, partition hash, encoded partition key, then the
/// encoded sort key (empty for a hash-only table).
pub(crate) fn item(table_id: &[u8; 16], hash: u32, partition: &[u8], sort: &[u8]) -> Vec<u8> {
    let mut key = data_prefix(table_id);
    key.extend_from_slice(&hash.to_be_bytes());
    key.extend_from_slice(partition);
    key.extend_from_slice(sort);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_keys_round_trip() {
        let key = catalog("Music");
        assert_eq!(table_name_of(&key), Some("Music"));
        assert!(catalog_range().contains(&key));
    }

    #[test]
    fn tables_do_not_share_data() {
        let a = [1u8; 16];
        let b = [2u8; 16];
        let key = item(&a, 7, b"pk", b"sk");
        assert!(data_range(&a).contains(&key));
        assert!(!data_range(&b).contains(&key));
        assert!(!stats_range(&a).contains(&key));
        assert!(stats_range(&a).contains(&stats(&a, 12345)));
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(partition_hash(b""), 0x811c_9dc5);
        assert_eq!(partition_hash(b"a"), 0xe40c_292c);
    }
}
