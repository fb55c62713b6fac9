//! Time to live: deleting the items whose expiry time has passed, in tables that enabled it
//! (UpdateTimeToLive, in `table_ops.rs`).
//!
//! As in DynamoDB, an item expires when its time-to-live attribute is a top-level number of
//! epoch seconds lower than the current time, and no more than five years lower; any other
//! value (a string, a set, a time further back) leaves the item alone. Expired items are
//! deleted in the background, some time after they expire: until then reads still return
//! them. Deleting is free (no consumed units are recorded), and each deletion is an ordinary
//! optimistic write: it checks that the item is still the one found expired, so an item
//! rewritten meanwhile is left for the next pass to judge.
//!
//! A pass ([`Tables::expire_items`]) visits at most [`VISITS_PER_PASS`] items of each table,
//! going on where the previous pass stopped, so that a large table costs each pass the same
//! and is covered over several.

use std::collections::HashMap;
use std::ops::{Bound, ControlFlow};
use std::sync::{Arc, Mutex, PoisonError};

use nimbus_store::Direction;
use nimbus_tables_model::{AttributeValue, itemcodec};

use crate::error::Result;
use crate::items::{Mutation, Stored};
use crate::{Tables, keys};

/// Items of one table a pass reads at most.
pub const VISITS_PER_PASS: usize = 20_000;

/// Expiry times further back than this are not expiry times (DynamoDB: five years).
const OLDEST_EXPIRY_SECONDS: f64 = 5.0 * 365.0 * 24.0 * 3600.0;

/// Where the next pass over each table starts: the last key the previous pass visited.
#[derive(Debug, Default)]
pub(crate) struct Cursors(Mutex<HashMap<[u8; 16], Vec<u8>>>);

impl Cursors {
    fn get(&self, table: &[u8; 16]) -> Option<Vec<u8>> {
        // The map holds plain values: a panic elsewhere cannot leave it half-updated.
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(table).cloned()
    }

    fn set(&self, table: [u8; 16], last: Option<Vec<u8>>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match last {
            Some(key) => map.insert(table, key),
            None => map.remove(&table),
        };
    }
}

/// Whether an item whose time-to-live attribute is `value` has expired at `now` (epoch
/// seconds).
pub(crate) fn expired(value: Option<&AttributeValue>, now: f64) -> bool {
    match value {
        Some(AttributeValue::N(n)) => {
            let at = n.to_f64();
            at < now && at >= now - OLDEST_EXPIRY_SECONDS
        }
        _ => false,
    }
}

impl Tables {
    /// One pass of time to live at `now` (epoch seconds) over every table that enabled it:
    /// deletes the expired items found and returns how many were deleted.
    pub async fn expire_items(&self, now: f64) -> Result<usize> {
        let tables: Vec<String> = self
            .table_entries()?
            .into_iter()
            .flatten()
            .filter(|meta| meta.ttl_attribute.is_some())
            .map(|meta| meta.name)
            .collect();
        let mut deleted = 0;
        for name in tables {
            // Gone or changed since the catalog was read: the next pass sees it as it is.
            let Ok(table) = self.load_table(&name) else {
                continue;
            };
            deleted += self.expire_table(&table, now).await?;
        }
        Ok(deleted)
    }

    async fn expire_table(&self, table: &Arc<crate::items::Table>, now: f64) -> Result<usize> {
        let Some(attribute) = table.meta.ttl_attribute.as_deref() else {
            return Ok(0);
        };
        let mut range = keys::data_range(&table.meta.id);
        if let Some(after) = self.ttl_cursors.get(&table.meta.id) {
            range.start = Bound::Excluded(after);
        }
        let mut found: Vec<Stored> = Vec::new();
        let mut visited = 0;
        let mut last = None;
        let mut error = None;
        self.store
            .scan(&range, Direction::Forward, &mut |key, bytes| {
                visited += 1;
                last = Some(key.to_vec());
                match itemcodec::decode(bytes) {
                    Ok(item) if expired(item.get(attribute), now) => {
                        found.push(Stored::of(bytes.to_vec(), item));
                    }
                    Ok(_) => {}
                    Err(e) => error = Some(e.into()),
                }
                if error.is_some() || visited >= VISITS_PER_PASS {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?;
        if let Some(e) = error {
            return Err(e);
        }
        // A pass that reached the end of the table starts the next one from the beginning.
        let finished = visited < VISITS_PER_PASS;
        self.ttl_cursors
            .set(table.meta.id, if finished { None } else { last });
        let mut deleted = 0;
        for stored in &found {
            let key = table.meta.key_from_item(&stored.item)?;
            let mutation = Mutation {
                table,
                key: &key,
                old: Some(stored),
                new: None,
                expired: true,
            };
            if self.commit_mutations(&[mutation]).await?.is_some() {
                deleted += 1;
            }
        }
        if deleted > 0 {
            tracing::debug!(table = %table.meta.name, deleted, "expired items deleted");
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use nimbus_tables_model::number::Number;
    use serde_json::json;

    use super::*;
    use crate::testing::{call, ready, service};

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).expect("number"))
    }

    #[test]
    fn only_recent_past_epoch_seconds_have_expired() {
        let now = 1_800_000_000.0;
        assert!(expired(Some(&n("1799999999")), now));
        assert!(expired(Some(&n("1799999999.5")), now));
        assert!(
            !expired(Some(&n("1800000000")), now),
            "expires after, not at, now"
        );
        assert!(!expired(Some(&n("1800000001")), now));
        // More than five years back: not an expiry time (milliseconds, a year number...).
        assert!(!expired(Some(&n("1600000000")), now));
        assert!(!expired(Some(&n("2024")), now));
        assert!(!expired(Some(&AttributeValue::S("1".into())), now));
        assert!(!expired(None, now));
    }

    #[test]
    fn a_pass_deletes_the_expired_items_of_tables_with_time_to_live_only() {
        let (tables, usage) = service();
        for name in ["with", "without"] {
            call(
                &tables,
                "CreateTable",
                json!({
                    "TableName": name,
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                }),
            )
            .expect("create");
        }
        call(
            &tables,
            "UpdateTimeToLive",
            json!({"TableName": "with",
            "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}}),
        )
        .expect("enable");
        let now = 1_800_000_000.0;
        for table in ["with", "without"] {
            for (pk, exp) in [
                ("old", json!({"N": "1799999000"})),
                ("new", json!({"N": "1800001000"})),
                ("text", json!({"S": "1799999000"})),
            ] {
                call(
                    &tables,
                    "PutItem",
                    json!({"TableName": table,
                    "Item": {"pk": {"S": pk}, "exp": exp}}),
                )
                .expect("put");
            }
        }
        let units_before = usage.snapshot();
        assert_eq!(ready(tables.expire_items(now)).expect("pass"), 1);
        assert_eq!(
            usage.snapshot(),
            units_before,
            "time to live deletes for free"
        );
        let keys = |table: &str| {
            let out = call(&tables, "Scan", json!({"TableName": table})).expect("scan");
            let mut keys: Vec<String> = out["Items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["pk"]["S"].as_str().expect("pk").to_owned())
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(keys("with"), ["new", "text"]);
        assert_eq!(keys("without"), ["new", "old", "text"]);
        let described = call(&tables, "DescribeTable", json!({"TableName": "with"})).expect("d");
        assert_eq!(described["Table"]["ItemCount"], 2);
        // Nothing more to do; after disabling, nothing is deleted.
        assert_eq!(ready(tables.expire_items(now)).expect("pass"), 0);
        call(
            &tables,
            "UpdateTimeToLive",
            json!({"TableName": "with",
            "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": false}}),
        )
        .expect("disable");
        assert_eq!(ready(tables.expire_items(now + 10_000.0)).expect("pass"), 0);
    }
}
