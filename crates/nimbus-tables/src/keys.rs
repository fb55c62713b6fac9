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
//! Items are ordered first by a 32-bit hash of the partition key, then by the encoded key. A
//! partition is therefore one contiguous range (Query is a range scan), and Scan visits
//! partitions in hash order, which lets parallel Scan split the hash space into contiguous
//! segments. Counters are striped by the same hash so that concurrent writes to different
//! partitions rarely contend on one counter key.
//!
//! Which hash is the table's [`PartitionOrder`](crate::catalog::PartitionOrder), kept in its
//! catalog entry: tables are created with [`md5_partition_hash`], which visits partitions in
//! the order DynamoDB's Scan does; tables from before it keep [`partition_hash`].

use md5::{Digest, Md5};
use nimbus_store::KeyRange;
use nimbus_tables_model::{AttributeValue, Number};

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

/// The hash that orders partitions as DynamoDB's Scan visits them: the first four bytes of the
/// MD5 of `Outliers` followed by the key value's bytes (a string's UTF-8, a binary's bytes, a
/// number's base-100 form: [`number_bytes`]). Part of the on-disk format of the tables created
/// with it: never change it.
pub(crate) fn md5_partition_hash(value: &AttributeValue) -> u32 {
    let mut md5 = Md5::new();
    md5.update(b"Outliers");
    match value {
        AttributeValue::S(s) => md5.update(s.as_bytes()),
        AttributeValue::B(b) => md5.update(b),
        AttributeValue::N(n) => md5.update(number_bytes(n)),
        // Key values are S, N or B; others never reach here.
        _ => {}
    }
    let digest = md5.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A number as DynamoDB hashes it: a sign-and-exponent byte, then the significant digits in
/// pairs (base 100, a leading zero digit added when the exponent is odd), each pair stored as
/// its value plus one; a negative number complements the exponent byte, stores each pair as
/// 101 minus its value, and ends with 102 when it has fewer than 20 pairs. Zero is 0x80.
/// Written here because it is this one hash's input, not a format any crate provides.
fn number_bytes(n: &Number) -> Vec<u8> {
    if n.is_zero() {
        return vec![0x80];
    }
    let exponent = n.scientific_exponent() + 1;
    let odd = exponent % 2 != 0;
    let mut digits: Vec<u8> = n.digits().bytes().map(|d| d - b'0').collect();
    if odd {
        digits.insert(0, 0);
    }
    let head = (exponent + i32::from(odd)) / 2 - 64;
    let mut out = Vec::with_capacity(digits.len() / 2 + 3);
    // Truncated to a byte, as the format keeps it.
    out.push(if n.is_negative() { !head } else { head } as u8);
    for pair in digits.chunks(2) {
        let value = pair[0] * 10 + pair.get(1).copied().unwrap_or(0);
        out.push(if n.is_negative() {
            101 - value
        } else {
            value + 1
        });
    }
    if n.is_negative() && out.len() - 1 < 20 {
        out.push(102);
    }
    out
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

    /// The first three bytes of the MD5 order, against the values DynamoDB's order gives (as
    /// dynalite, which reproduces it, computes them).
    #[test]
    fn md5_order_matches_dynamodbs() {
        let s = |v: &str| AttributeValue::S(v.into());
        let n = |v: &str| AttributeValue::N(Number::parse(v).expect("number"));
        for (value, prefix) in [
            (s("A"), 0x0cb5bb),
            (s("B"), 0x2a5fbc),
            (s("a"), 0xf6558e),
            (s("1"), 0x48e6ac),
            (n("0"), 0xce212d),
            (n("1"), 0xc3a031),
            (n("-1"), 0x0267df),
            (n("7"), 0x0275cc),
            (n("10"), 0x3c465f),
            (n("99"), 0xff3ca7),
            (n("100"), 0x6840bd),
            (n("-100"), 0x1326ef),
            (n("1.5"), 0x8158bd),
            (n("-2.25"), 0x124043),
            (n("3.14159"), 0xfbe1c2),
            (n("0.00001"), 0x1df6c5),
            (n("12345678901234567890"), 0xb957d4),
        ] {
            assert_eq!(md5_partition_hash(&value) >> 8, prefix, "{value:?}");
        }
    }
}
