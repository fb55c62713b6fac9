//! BatchGetItem and BatchWriteItem. Every write of a BatchWriteItem is applied in one store
//! commit, so nothing is ever left unprocessed.

use std::collections::BTreeMap;
use std::sync::Arc;

use nimbus_tables_model::Item;

use crate::Tables;
use crate::api::*;
use crate::capacity::{Consumed, Report, read_units, write_units};
use crate::error::{Result, TablesError};
use crate::expressions::{ExpressionParams, Expressions};
use crate::item_ops::check_collection_metrics;
use crate::items::{MAX_ATTEMPTS, Mutation, PrimaryKey, Stored, Table, check_item_size};
use crate::validate::{Violations, first_repeated, required};

/// Most keys of one BatchGetItem.
const MAX_GET_KEYS: usize = 100;
/// Most requests of one BatchWriteItem.
const MAX_WRITES: usize = 25;
/// The most characters of a request echoed in a validation message.
const ECHO_LIMIT: usize = 4096;
/// Largest BatchGetItem response, in item size; the rest is returned as unprocessed.
const MAX_GET_BYTES: usize = 16 * 1024 * 1024;

fn duplicates() -> TablesError {
    TablesError::validation("Provided list of item keys contains duplicates")
}

/// The `ConsumedCapacity` list of a batch or transaction, one entry per table.
/// With `split` (transactions), read and write units apart too ([`Consumed::report_split`]).
pub(crate) fn report_all(
    consumed: &BTreeMap<String, Consumed>,
    report: Report,
    split: bool,
) -> Option<Vec<ConsumedCapacity>> {
    (report != Report::None).then(|| {
        consumed
            .iter()
            .filter_map(|(table, c)| {
                if split {
                    c.report_split(table, report)
                } else {
                    c.report(table, report)
                }
            })
            .collect()
    })
}

impl Tables {
    pub fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        let requests = required(input.request_items, "requestItems")?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let mut v = Violations::new();
        v.table_keys(
            requests.keys(),
            || serde_json::to_string(&requests).unwrap_or_default(),
            "requestItems",
        );
        v.finish()?;
        // The KeyList of one table holds 1 to 100 keys (a member constraint); the whole call
        // reads at most 100 items.
        for (name, request) in &requests {
            let keys = request.keys.as_ref().map_or(1, Vec::len);
            let bound = match keys {
                0 => "greater than or equal to 1".to_owned(),
                n if n > MAX_GET_KEYS => format!("less than or equal to {MAX_GET_KEYS}"),
                _ => continue,
            };
            return Err(TablesError::validation(format!(
                "1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed to satisfy constraint: Member must have length {bound}"
            )));
        }
        let total: usize = requests
            .values()
            .map(|r| r.keys.as_ref().map_or(0, Vec::len))
            .sum();
        if total > MAX_GET_KEYS {
            return Err(TablesError::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        if requests.is_empty() {
            return Err(TablesError::validation(
                "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        // Expression and non-expression projections do not mix in one request, even on
        // different tables.
        let uses = |expression: bool| {
            requests.values().any(|r| {
                if expression {
                    r.projection_expression.is_some() || r.expression_attribute_names.is_some()
                } else {
                    r.attributes_to_get.is_some()
                }
            })
        };
        if uses(true) && uses(false) {
            return Err(TablesError::validation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
            ));
        }
        // Validate everything before reading anything.
        let mut plans = Vec::new();
        for (name, request) in &requests {
            // The expressions are checked before the table is looked up, as in DynamoDB.
            let expressions = Expressions::parse(ExpressionParams {
                names: request.expression_attribute_names.as_ref(),
                projection: request.projection_expression.as_deref(),
                attributes_to_get: request.attributes_to_get.as_deref(),
                ..ExpressionParams::default()
            })?;
            let keys = required(
                request.keys.as_ref(),
                &format!("requestItems.{name}.member.keys"),
            )?;
            // Equal keys are refused before the table is looked up, as in DynamoDB.
            if first_repeated(keys).is_some() {
                return Err(duplicates());
            }
            let table = self.item_table(Some(name))?;
            expressions.check_key_paths(&table.meta)?;
            let mut primaries: Vec<PrimaryKey> = Vec::with_capacity(keys.len());
            for key in keys {
                let primary = table.meta.key_from_key(key)?;
                if primaries.iter().any(|p| p.store_key == primary.store_key) {
                    return Err(duplicates());
                }
                primaries.push(primary);
            }
            plans.push((name.clone(), table, request, expressions, primaries));
        }

        let mut responses: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        let mut unprocessed: BTreeMap<String, KeysAndAttributes> = BTreeMap::new();
        let mut consumed: BTreeMap<String, Consumed> = BTreeMap::new();
        let mut bytes = 0usize;
        for (name, table, request, expressions, primaries) in plans {
            let consistent = request.consistent_read.unwrap_or(false);
            let found = responses.entry(name.clone()).or_default();
            let mut used = Consumed::default();
            for primary in primaries {
                // An item that would take the answer past 16 MB is left for the next call.
                let stored = if bytes < MAX_GET_BYTES {
                    self.read_item(&primary)?
                } else {
                    None
                };
                let size = stored.as_ref().map_or(0, |s| s.size);
                if bytes >= MAX_GET_BYTES || (bytes > 0 && bytes + size > MAX_GET_BYTES) {
                    unprocessed
                        .entry(name.clone())
                        .or_insert_with(|| KeysAndAttributes {
                            keys: Some(Vec::new()),
                            ..request.clone()
                        })
                        .keys
                        .get_or_insert_with(Vec::new)
                        .push(primary.attributes);
                    continue;
                }
                used.add(&Consumed::read(read_units(size, consistent)));
                bytes += size;
                if let Some(stored) = stored {
                    found.push(match expressions.projection() {
                        Some(p) => p.apply(&stored.item),
                        None => stored.item,
                    });
                }
            }
            self.record_usage(&table.meta.name, "BatchGetItem", &used);
            consumed.entry(name).or_default().add(&used);
        }
        Ok(BatchGetItemOutput {
            responses: Some(responses),
            unprocessed_keys: Some(unprocessed),
            consumed_capacity: report_all(&consumed, report, false),
        })
    }

    pub async fn batch_write_item(
        &self,
        input: BatchWriteItemInput,
    ) -> Result<BatchWriteItemOutput> {
        let requests = required(input.request_items, "requestItems")?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        check_collection_metrics(input.return_item_collection_metrics.as_deref())?;
        let metrics = input.return_item_collection_metrics.as_deref() == Some("SIZE");
        // Each table's list holds 1 to 25 requests (a member constraint); the whole call makes
        // at most 25.
        if requests.is_empty() {
            return Err(TablesError::validation(
                "The requestItems parameter is required for BatchWriteItem",
            ));
        }
        if requests
            .values()
            .any(|list| list.is_empty() || list.len() > MAX_WRITES)
        {
            // DynamoDB echoes the whole map, its Java rendering; ours is the requests' JSON,
            // cut short: the message of a 16 MB request would be as large.
            let mut echo = requests
                .iter()
                .map(|(name, list)| {
                    let list = serde_json::to_string(list).unwrap_or_default();
                    format!("{name}={list}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            if let Some((cut, _)) = echo.char_indices().nth(ECHO_LIMIT) {
                echo.truncate(cut);
                echo.push_str("...");
            }
            return Err(TablesError::validation(format!(
                "1 validation error detected: Value '{{{echo}}}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_WRITES}, Member must have length greater than or equal to 1]"
            )));
        }
        if requests.values().map(Vec::len).sum::<usize>() > MAX_WRITES {
            return Err(TablesError::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        // What needs no table first (as DynamoDB: a malformed request is refused before any
        // table is looked up), then every request against its table, then read, then commit
        // everything at once.
        for request in requests.values().flatten() {
            if let Some(item) = request.put_request.as_ref().and_then(|p| p.item.as_ref()) {
                check_item_size(item)?;
            }
        }
        let mut tables: Vec<Arc<Table>> = Vec::new();
        let mut writes: Vec<(usize, PrimaryKey, Option<Item>)> = Vec::new();
        for (name, list) in &requests {
            let table = self.item_table(Some(name))?;
            let index = tables.len();
            for request in list {
                let (key, new) = match (&request.put_request, &request.delete_request) {
                    (Some(put), None) => {
                        let item = required(put.item.clone(), "item")?;
                        let key = table.meta.key_from_put_request(&item)?;
                        check_item_size(&item)?;
                        (key, Some(item))
                    }
                    (None, Some(delete)) => {
                        let key = required(delete.key.as_ref(), "key")?;
                        (table.meta.key_from_key(key)?, None)
                    }
                    _ => {
                        return Err(TablesError::validation(
                            "One or more parameter values were invalid: A WriteRequest must contain exactly one of PutRequest or DeleteRequest",
                        ));
                    }
                };
                if writes.iter().any(|(_, k, _)| k.store_key == key.store_key) {
                    return Err(duplicates());
                }
                writes.push((index, key, new));
            }
            tables.push(table);
        }
        for _ in 0..MAX_ATTEMPTS {
            let olds: Vec<Option<Stored>> = writes
                .iter()
                .map(|(_, key, _)| self.read_item(key))
                .collect::<Result<_>>()?;
            let mutations: Vec<Mutation<'_>> = writes
                .iter()
                .zip(&olds)
                .map(|((index, key, new), old)| Mutation {
                    table: &tables[*index],
                    key,
                    old: old.as_ref(),
                    new: new.as_ref(),
                    expired: false,
                })
                .collect();
            if let Some(index_units) = self.commit_mutations(&mutations).await? {
                let mut consumed: BTreeMap<String, Consumed> = BTreeMap::new();
                for (((index, _, new), old), index_units) in
                    writes.iter().zip(&olds).zip(index_units)
                {
                    let new_size = new
                        .as_ref()
                        .map_or(0, nimbus_tables_model::itemcodec::item_size);
                    let units = write_units(old.as_ref().map_or(0, |s| s.size), new_size);
                    consumed
                        .entry(tables[*index].meta.name.clone())
                        .or_default()
                        .add(&Consumed::write_with(units, index_units, 1.0));
                }
                for (table, used) in &consumed {
                    self.record_usage(table, "BatchWriteItem", used);
                }
                let mut collections: BTreeMap<String, Vec<ItemCollectionMetrics>> = BTreeMap::new();
                for (index, key, _) in writes.iter().filter(|_| metrics) {
                    let meta = &tables[*index].meta;
                    if let Some(m) = self.collection_metrics(meta, key)? {
                        collections.entry(meta.name.clone()).or_default().push(m);
                    }
                }
                return Ok(BatchWriteItemOutput {
                    unprocessed_items: Some(BTreeMap::new()),
                    item_collection_metrics: (!collections.is_empty()).then_some(collections),
                    consumed_capacity: report_all(&consumed, report, false),
                });
            }
            for table in &mut tables {
                self.refresh_table(table)?;
            }
        }
        Err(TablesError::Internal("items kept changing".into()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::testing::{call, create, service, validation_message};

    fn key(i: usize) -> Value {
        json!({"pk": {"S": format!("k{i}")}})
    }

    #[test]
    fn batch_write_then_get() {
        let (t, _) = service();
        create(&t, "t1x", false);
        let puts: Vec<Value> = (0..25)
            .map(|i| json!({"PutRequest": {"Item": {"pk": {"S": format!("k{i}")}, "v": {"N": i.to_string()}}}}))
            .collect();
        let out = call(
            &t,
            "BatchWriteItem",
            json!({"RequestItems": {"t1x": puts}, "ReturnConsumedCapacity": "TOTAL"}),
        )
        .unwrap();
        assert_eq!(out["UnprocessedItems"], json!({}));
        assert_eq!(
            out["ConsumedCapacity"],
            json!([{"TableName": "t1x", "CapacityUnits": 25.0}])
        );
        let keys: Vec<Value> = (0..3)
            .map(key)
            .chain([json!({"pk": {"S": "absent"}})])
            .collect();
        let got = call(
            &t,
            "BatchGetItem",
            json!({"RequestItems": {"t1x": {"Keys": keys, "ConsistentRead": true}}}),
        )
        .unwrap();
        assert_eq!(got["Responses"]["t1x"].as_array().map(Vec::len), Some(3));
        assert_eq!(got["UnprocessedKeys"], json!({}));
        let desc = call(&t, "DescribeTable", json!({"TableName": "t1x"})).unwrap();
        assert_eq!(desc["Table"]["ItemCount"], 25);

        let deletes: Vec<Value> = (0..10)
            .map(|i| json!({"DeleteRequest": {"Key": key(i)}}))
            .collect();
        call(
            &t,
            "BatchWriteItem",
            json!({"RequestItems": {"t1x": deletes}}),
        )
        .unwrap();
        let desc = call(&t, "DescribeTable", json!({"TableName": "t1x"})).unwrap();
        assert_eq!(desc["Table"]["ItemCount"], 15);
    }

    #[test]
    fn batch_limits_and_duplicates() {
        let (t, _) = service();
        create(&t, "t1x", false);
        let puts: Vec<Value> = (0..26)
            .map(|i| json!({"PutRequest": {"Item": key(i)}}))
            .collect();
        assert!(
            validation_message(call(
                &t,
                "BatchWriteItem",
                json!({"RequestItems": {"t1x": puts}})
            ))
            .contains("25")
        );
        let dup = vec![
            json!({"PutRequest": {"Item": key(1)}}),
            json!({"DeleteRequest": {"Key": key(1)}}),
        ];
        assert_eq!(
            validation_message(call(
                &t,
                "BatchWriteItem",
                json!({"RequestItems": {"t1x": dup}})
            )),
            "Provided list of item keys contains duplicates"
        );
        let keys: Vec<Value> = (0..101).map(key).collect();
        assert_eq!(
            validation_message(call(
                &t,
                "BatchGetItem",
                json!({"RequestItems": {"t1x": {"Keys": keys}}})
            )),
            "1 validation error detected: Value at 'RequestItems.t1x.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100"
        );
        assert_eq!(
            validation_message(call(
                &t,
                "BatchGetItem",
                json!({"RequestItems": {"t1x": {"Keys": [key(1), key(1)]}}})
            )),
            "Provided list of item keys contains duplicates"
        );
        // A failed batch writes nothing.
        let bad = vec![
            json!({"PutRequest": {"Item": key(1)}}),
            json!({"PutRequest": {"Item": {"pk": {"N": "1"}}}}),
        ];
        assert!(call(&t, "BatchWriteItem", json!({"RequestItems": {"t1x": bad}})).is_err());
        let got = call(&t, "GetItem", json!({"TableName": "t1x", "Key": key(1)})).unwrap();
        assert_eq!(got, json!({}));
    }
}
