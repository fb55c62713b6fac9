//! Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

use std::sync::Arc;

use nimbus_tables_model::Item;
use nimbus_tables_model::expr::Changes;
use nimbus_tables_model::keycodec::KeyType;

use crate::Tables;
use crate::api::*;
use crate::capacity::{Consumed, Report, read_units, write_units};
use crate::error::{Result, TablesError};
use crate::expressions::{ExpressionParams, Expressions};
use crate::items::{
    IndexKeyFault, MAX_ATTEMPTS, Mutation, PrimaryKey, Stored, Table, check_item_size,
    update_empties_index_key,
};
use crate::validate::{Violations, required};

/// `ReturnValues` of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

impl ReturnValues {
    fn check(v: &mut Violations, value: Option<&str>) {
        v.one_of(
            value,
            "returnValues",
            &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
        );
    }

    /// Parses `ReturnValues`; PutItem and DeleteItem allow only `NONE` and `ALL_OLD`.
    fn parse(value: Option<&str>, update: bool) -> Result<ReturnValues> {
        let mut v = Violations::new();
        ReturnValues::check(&mut v, value);
        v.finish()?;
        let parsed = match value {
            None | Some("NONE") => ReturnValues::None,
            Some("ALL_OLD") => ReturnValues::AllOld,
            Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
            Some("ALL_NEW") => ReturnValues::AllNew,
            _ => ReturnValues::UpdatedNew,
        };
        if !update && !matches!(parsed, ReturnValues::None | ReturnValues::AllOld) {
            return Err(TablesError::validation(
                "Return values set to invalid value",
            ));
        }
        Ok(parsed)
    }
}

fn check_on_failure(v: &mut Violations, value: Option<&str>) {
    v.one_of(
        value,
        "returnValuesOnConditionCheckFailure",
        &["ALL_OLD", "NONE"],
    );
}

/// Whether `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
pub(crate) fn return_old_on_failure(value: Option<&str>) -> Result<bool> {
    let mut v = Violations::new();
    check_on_failure(&mut v, value);
    v.finish()?;
    Ok(value == Some("ALL_OLD"))
}

fn check_metrics(v: &mut Violations, value: Option<&str>) {
    v.one_of(value, "returnItemCollectionMetrics", &["SIZE", "NONE"]);
}

/// Refuses `ReturnItemCollectionMetrics` values outside the enumeration.
pub(crate) fn check_collection_metrics(value: Option<&str>) -> Result<()> {
    let mut v = Violations::new();
    check_metrics(&mut v, value);
    v.finish()
}

/// The condition-check failure, carrying the old item when asked.
fn condition_failed(old: Option<&Stored>, return_old: bool) -> TablesError {
    TablesError::condition_failed(old.filter(|_| return_old).map(|s| s.item.clone()))
}

/// The parameters every single-item write shares, as given.
struct WriteParams<'a> {
    return_values: Option<&'a str>,
    consumed: Option<&'a str>,
    on_failure: Option<&'a str>,
    metrics: Option<&'a str>,
    /// UpdateItem (which allows every `ReturnValues`).
    update: bool,
    expressions: ExpressionParams<'a>,
}

/// The parameters every single-item write shares, checked.
struct WriteOptions {
    return_values: ReturnValues,
    /// `ReturnItemCollectionMetrics: SIZE`.
    metrics: bool,
    report: Report,
    return_old: bool,
    expressions: Expressions,
}

/// The [`WriteParams`] of a PutItem, DeleteItem or UpdateItem input.
macro_rules! write_params {
    ($input:expr) => {
        write_params!($input, false, None, None)
    };
    ($input:expr, $is_update:expr, $update:expr, $attribute_updates:expr) => {
        WriteParams {
            return_values: $input.return_values.as_deref(),
            consumed: $input.return_consumed_capacity.as_deref(),
            on_failure: $input.return_values_on_condition_check_failure.as_deref(),
            metrics: $input.return_item_collection_metrics.as_deref(),
            update: $is_update,
            expressions: ExpressionParams {
                names: $input.expression_attribute_names.as_ref(),
                values: $input.expression_attribute_values.as_ref(),
                condition: $input.condition_expression.as_deref(),
                expected: $input.expected.as_ref(),
                conditional_operator: $input.conditional_operator.as_deref(),
                update: $update,
                attribute_updates: $attribute_updates,
                value_users: if $is_update {
                    &["UpdateExpression", "ConditionExpression"]
                } else {
                    &["ConditionExpression"]
                },
                ..ExpressionParams::default()
            },
        }
    };
}

impl WriteParams<'_> {
    /// Checks every member as DynamoDB does before it looks the table up: the constraint
    /// violations together (`TableName`, the required `target` member, the enumerations),
    /// then the expressions.
    fn parse(self, table_name: Option<&str>, target: (&str, bool)) -> Result<WriteOptions> {
        let mut v = Violations::new();
        v.table_name(table_name);
        if !target.1 {
            v.add(None, target.0, "Member must not be null");
        }
        ReturnValues::check(&mut v, self.return_values);
        Report::check(&mut v, self.consumed);
        check_on_failure(&mut v, self.on_failure);
        check_metrics(&mut v, self.metrics);
        v.finish()?;
        let return_values = ReturnValues::parse(self.return_values, self.update)?;
        let report = Report::parse(self.consumed)?;
        let return_old = return_old_on_failure(self.on_failure)?;
        check_collection_metrics(self.metrics)?;
        Ok(WriteOptions {
            return_values,
            metrics: self.metrics == Some("SIZE"),
            report,
            return_old,
            expressions: Expressions::parse(self.expressions)?,
        })
    }
}

impl WriteOptions {
    /// The output of PutItem and DeleteItem: the old item when `ALL_OLD` asked for it.
    fn old_output(
        &self,
        written: Written,
        table: &Table,
        metrics: Option<ItemCollectionMetrics>,
    ) -> PutItemOutput {
        PutItemOutput {
            attributes: written
                .old
                .filter(|_| self.return_values == ReturnValues::AllOld)
                .map(|s| s.item),
            consumed_capacity: written.consumed.report(&table.meta.name, self.report),
            item_collection_metrics: metrics,
        }
    }
}

/// What a conditional write did.
struct Written {
    old: Option<Stored>,
    new: Option<Item>,
    consumed: Consumed,
}

impl Tables {
    /// Reads the item at `key`, lets `decide` compute its replacement (`None` deletes, `Err`
    /// refuses), and commits it if nothing changed meanwhile; retries otherwise.
    async fn conditional_write(
        &self,
        table: &mut Arc<Table>,
        key_item: &Item,
        from_item: bool,
        operation: &'static str,
        options: &WriteOptions,
        mut decide: impl FnMut(Option<&Stored>) -> Result<Option<Item>>,
    ) -> Result<Written> {
        for _ in 0..MAX_ATTEMPTS {
            let key = if from_item {
                table.meta.key_from_item(key_item)?
            } else {
                table.meta.key_from_key(key_item)?
            };
            let old = self.read_item(&key)?;
            let decided = if options
                .expressions
                .condition_holds(old.as_ref().map(|s| &s.item))
            {
                decide(old.as_ref())
            } else {
                Err(condition_failed(old.as_ref(), options.return_old))
            };
            let new = match decided {
                Ok(new) => new,
                Err(e) => {
                    if matches!(e, TablesError::ConditionalCheckFailed { .. }) {
                        let size = old.as_ref().map_or(0, |s| s.size);
                        self.record_usage(
                            &table.meta.name,
                            operation,
                            &Consumed::write(write_units(size, 0)),
                        );
                    }
                    return Err(e);
                }
            };
            let new_size = match &new {
                Some(item) => check_item_size(item).map_err(|e| match e {
                    TablesError::Validation(m)
                        if operation == "UpdateItem" && m.starts_with("Item size has") =>
                    {
                        TablesError::validation(
                            "Item size to update has exceeded the maximum allowed size",
                        )
                    }
                    other => other,
                })?,
                None => 0,
            };
            let mutation = Mutation {
                table,
                key: &key,
                old: old.as_ref(),
                new: new.as_ref(),
                expired: false,
            };
            if let Some(index_units) = self.commit_mutations(&[mutation]).await? {
                let old_size = old.as_ref().map_or(0, |s| s.size);
                let indexes = index_units.into_iter().next().unwrap_or_default();
                let consumed = Consumed::write_with(write_units(old_size, new_size), indexes, 1.0);
                self.record_usage(&table.meta.name, operation, &consumed);
                return Ok(Written { old, new, consumed });
            }
            self.refresh_table(table)?;
        }
        Err(TablesError::Internal("item kept changing".into()))
    }

    /// The item collection metrics of a write to `key`, when the request asked for them.
    fn metrics_if(
        &self,
        asked: bool,
        table: &Table,
        key: &PrimaryKey,
    ) -> Result<Option<ItemCollectionMetrics>> {
        if asked {
            self.collection_metrics(&table.meta, key)
        } else {
            Ok(None)
        }
    }

    pub async fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput> {
        let options = write_params!(input)
            .parse(input.table_name.as_deref(), ("item", input.item.is_some()))?;
        let item = required(input.item, "item")?;
        check_item_size(&item)?;
        let mut table = self.item_table(input.table_name.as_deref())?;
        options.expressions.check_key_paths(&table.meta)?;
        let primary = table.meta.key_from_item(&item)?;
        let written = self
            .conditional_write(&mut table, &item, true, "PutItem", &options, |_| {
                Ok(Some(item.clone()))
            })
            .await?;
        let metrics = self.metrics_if(options.metrics, &table, &primary)?;
        Ok(options.old_output(written, &table, metrics))
    }

    pub async fn delete_item(&self, input: DeleteItemInput) -> Result<DeleteItemOutput> {
        let options = write_params!(input)
            .parse(input.table_name.as_deref(), ("key", input.key.is_some()))?;
        let mut table = self.item_table(input.table_name.as_deref())?;
        options.expressions.check_key_paths(&table.meta)?;
        let key = required(input.key, "key")?;
        let primary = table.meta.key_from_key(&key)?;
        let written = self
            .conditional_write(&mut table, &key, false, "DeleteItem", &options, |_| {
                Ok(None)
            })
            .await?;
        let metrics = self.metrics_if(options.metrics, &table, &primary)?;
        Ok(options.old_output(written, &table, metrics))
    }

    pub async fn update_item(&self, input: UpdateItemInput) -> Result<UpdateItemOutput> {
        let options = write_params!(
            input,
            true,
            input.update_expression.as_deref(),
            input.attribute_updates.as_ref()
        )
        .parse(input.table_name.as_deref(), ("key", input.key.is_some()))?;
        let mut table = self.item_table(input.table_name.as_deref())?;
        options.expressions.check_key_paths(&table.meta)?;
        let key = required(input.key, "key")?;
        let expressions = &options.expressions;
        let primary = table.meta.key_from_key(&key)?;
        expressions.check_update_spares_key(&table.meta.key_schema)?;
        let mut changes = None;
        let index_keys = table.meta.index_key_attributes();
        let current = Arc::clone(&table);
        let written = self
            .conditional_write(&mut table, &key, false, "UpdateItem", &options, |old| {
                // Actions that only take away do not create a missing item (nor fail on its
                // missing paths); an update without actions creates the key-only item.
                if old.is_none() && expressions.update_only_removes() {
                    changes = Some(Changes::default());
                    return Ok(None);
                }
                let mut item = match old {
                    Some(stored) => stored.item.clone(),
                    None => primary.attributes.clone(),
                };
                changes = Some(expressions.apply_update(&mut item)?);
                // An index key whose wrong type comes from the item itself, not from the
                // request: kept from before the index existed, or copied from another
                // attribute. DynamoDB words this apart from a type mismatch in the request
                // (a value, an AttributeUpdates value, arithmetic), which the index check
                // reports as for PutItem.
                let kept_wrong = index_keys.iter().any(|(name, kind)| {
                    item.get(name).is_some_and(|value| {
                        KeyType::of(value) != Some(*kind)
                            && (old.and_then(|o| o.item.get(name)) == Some(value)
                                || expressions.update_copies_into(name))
                    })
                });
                if kept_wrong {
                    return Err(TablesError::validation(
                        "The update expression attempted to update the secondary index key to unsupported type",
                    ));
                }
                if let Some(IndexKeyFault::Empty(what, _)) = current.meta.index_key_fault(&item) {
                    return Err(update_empties_index_key(what));
                }
                Ok(Some(item))
            })
            .await?;
        let changed = |item: &Item| changes.as_ref().map(|c| c.project(item));
        let attributes = match options.return_values {
            ReturnValues::None => None,
            ReturnValues::AllOld => written.old.map(|s| s.item),
            ReturnValues::AllNew => written.new,
            ReturnValues::UpdatedOld => written.old.as_ref().and_then(|s| changed(&s.item)),
            ReturnValues::UpdatedNew => written.new.as_ref().and_then(changed),
        }
        .filter(|item| !item.is_empty());
        Ok(UpdateItemOutput {
            attributes,
            consumed_capacity: written.consumed.report(&table.meta.name, options.report),
            item_collection_metrics: self.metrics_if(options.metrics, &table, &primary)?,
        })
    }

    pub fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput> {
        // As DynamoDB: the members' constraints together, then the expressions, then the table.
        let mut v = Violations::new();
        v.table_name(input.table_name.as_deref());
        v.required(&input.key, "key");
        Report::check(&mut v, input.return_consumed_capacity.as_deref());
        v.finish()?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let expressions = Expressions::parse(ExpressionParams {
            names: input.expression_attribute_names.as_ref(),
            projection: input.projection_expression.as_deref(),
            attributes_to_get: input.attributes_to_get.as_deref(),
            ..ExpressionParams::default()
        })?;
        let table = self.item_table(input.table_name.as_deref())?;
        expressions.check_key_paths(&table.meta)?;
        let key = required(input.key, "key")?;
        let primary = table.meta.key_from_key(&key)?;
        let consistent = input.consistent_read.unwrap_or(false);
        let stored = self.read_item(&primary)?;
        let consumed = Consumed::read(read_units(
            stored.as_ref().map_or(0, |s| s.size),
            consistent,
        ));
        self.record_usage(&table.meta.name, "GetItem", &consumed);
        let item = stored.map(|s| match expressions.projection() {
            Some(p) => p.apply(&s.item),
            None => s.item,
        });
        Ok(GetItemOutput {
            item,
            consumed_capacity: consumed.report(&table.meta.name, report),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::TablesError;
    use crate::testing::{call, create, service, validation_message};

    #[test]
    fn put_get_delete_round_trip() {
        let (t, usage) = service();
        create(&t, "t1x", false);
        let item = json!({"pk": {"S": "a"}, "n": {"N": "1.50"}, "l": {"L": [{"NULL": true}]}});
        let put = call(&t, "PutItem", json!({"TableName": "t1x", "Item": item})).unwrap();
        assert_eq!(put, json!({}));
        let got = call(
            &t,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}}}),
        )
        .unwrap();
        assert_eq!(got["Item"]["n"], json!({"N": "1.5"}));
        let old = call(
            &t,
            "PutItem",
            json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}}, "ReturnValues": "ALL_OLD",
                   "ReturnConsumedCapacity": "TOTAL"}),
        )
        .unwrap();
        assert_eq!(old["Attributes"]["n"], json!({"N": "1.5"}));
        assert_eq!(
            old["ConsumedCapacity"],
            json!({"TableName": "t1x", "CapacityUnits": 1.0})
        );
        let deleted = call(
            &t,
            "DeleteItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}}, "ReturnValues": "ALL_OLD"}),
        )
        .unwrap();
        assert_eq!(deleted["Attributes"], json!({"pk": {"S": "a"}}));
        let missing = call(
            &t,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}}, "ReturnConsumedCapacity": "INDEXES"}),
        )
        .unwrap();
        assert_eq!(
            missing,
            json!({"ConsumedCapacity": {"TableName": "t1x", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}})
        );
        let (tables, _) = usage.snapshot();
        assert_eq!(tables["t1x"].requests, 5);
        assert_eq!(tables["t1x"].write_units, 3.0);
    }

    #[test]
    fn counters_follow_writes() {
        let (t, _) = service();
        create(&t, "t1x", true);
        for i in 0..5 {
            call(&t, "PutItem", json!({"TableName": "t1x", "Item": {"pk": {"S": "p"}, "sk": {"N": i.to_string()}, "v": {"S": "xxxx"}}})).unwrap();
        }
        call(
            &t,
            "PutItem",
            json!({"TableName": "t1x", "Item": {"pk": {"S": "p"}, "sk": {"N": "0"}}}),
        )
        .unwrap();
        call(
            &t,
            "DeleteItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "p"}, "sk": {"N": "4"}}}),
        )
        .unwrap();
        call(
            &t,
            "DeleteItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "p"}, "sk": {"N": "9"}}}),
        )
        .unwrap();
        let desc = call(&t, "DescribeTable", json!({"TableName": "t1x"})).unwrap();
        assert_eq!(desc["Table"]["ItemCount"], 4);
        // "pk"+"p" = 3, "sk" + a one-digit number = 2 + 2 (zero: 2 + 1), "v"+"xxxx" = 5.
        assert_eq!(desc["Table"]["TableSizeBytes"], 6 + 3 * 12);
    }

    #[test]
    fn recreated_table_is_empty() {
        let (t, _) = service();
        create(&t, "t1x", false);
        call(
            &t,
            "PutItem",
            json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}}}),
        )
        .unwrap();
        call(&t, "DeleteTable", json!({"TableName": "t1x"})).unwrap();
        create(&t, "t1x", false);
        let got = call(
            &t,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}}}),
        )
        .unwrap();
        assert_eq!(got, json!({}));
        let desc = call(&t, "DescribeTable", json!({"TableName": "t1x"})).unwrap();
        assert_eq!(desc["Table"]["ItemCount"], 0);
    }

    #[test]
    fn update_without_expression_creates_key_item() {
        let (t, _) = service();
        create(&t, "t1x", false);
        let out = call(
            &t,
            "UpdateItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "u"}}, "ReturnValues": "ALL_NEW"}),
        )
        .unwrap();
        assert_eq!(out["Attributes"], json!({"pk": {"S": "u"}}));
    }

    #[test]
    fn key_validation() {
        let (t, _) = service();
        create(&t, "t1x", true);
        let cases = [
            (
                json!({"pk": {"S": "a"}}),
                "The provided key element does not match the schema",
            ),
            (
                json!({"pk": {"S": "a"}, "sk": {"S": "1"}}),
                "The provided key element does not match the schema",
            ),
            (
                json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "1"}}),
                "The provided key element does not match the schema",
            ),
            (
                json!({"pk": {"S": ""}, "sk": {"N": "1"}}),
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
            ),
        ];
        for (key, message) in cases {
            assert_eq!(
                validation_message(call(&t, "GetItem", json!({"TableName": "t1x", "Key": key}))),
                message
            );
        }
        assert_eq!(
            validation_message(call(
                &t,
                "PutItem",
                json!({"TableName": "t1x", "Item": {"sk": {"N": "1"}}})
            )),
            "One or more parameter values were invalid: Missing the key pk in the item"
        );
        assert_eq!(
            validation_message(call(
                &t,
                "PutItem",
                json!({"TableName": "t1x", "Item": {"pk": {"N": "1"}, "sk": {"N": "1"}}})
            )),
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        );
        let long = "k".repeat(2049);
        assert!(
            validation_message(call(
                &t,
                "PutItem",
                json!({"TableName": "t1x", "Item": {"pk": {"S": long}, "sk": {"N": "1"}}})
            ))
            .contains("Size of hashkey")
        );
        let big = "x".repeat(400 * 1024);
        assert_eq!(
            validation_message(call(
                &t,
                "PutItem",
                json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "d": {"S": big}}})
            )),
            "Item size has exceeded the maximum allowed size"
        );
        assert!(matches!(
            call(&t, "GetItem", json!({"TableName": "nope", "Key": {"pk": {"S": "a"}}})),
            Err(TablesError::ResourceNotFound(m)) if m == "Requested resource not found"
        ));
    }

    #[test]
    fn return_values_rules() {
        let (t, _) = service();
        create(&t, "t1x", false);
        for rv in ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"] {
            let body = json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}}, "ReturnValues": rv});
            assert_eq!(
                validation_message(call(&t, "PutItem", body)),
                "Return values set to invalid value"
            );
            let body = json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}}, "ReturnValues": rv});
            assert_eq!(
                validation_message(call(&t, "DeleteItem", body)),
                "Return values set to invalid value"
            );
        }
        let body = json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}}, "ReturnValues": "SOME"});
        assert!(
            validation_message(call(&t, "PutItem", body))
                .contains("Member must satisfy enum value set")
        );
    }

    #[test]
    fn legacy_and_expression_parameters_do_not_mix() {
        let (t, _) = service();
        create(&t, "t1x", false);
        let body = json!({"TableName": "t1x", "Item": {"pk": {"S": "a"}},
            "Expected": {"a": {"Exists": false}}, "ConditionExpression": "attribute_not_exists(a)"});
        assert_eq!(
            validation_message(call(&t, "PutItem", body)),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
        );
    }

    #[test]
    fn conditions_and_failure_item() {
        let (t, _) = service();
        create(&t, "t1x", false);
        let item = json!({"pk": {"S": "a"}, "a": {"N": "1"}});
        call(&t, "PutItem", json!({"TableName": "t1x", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"})).unwrap();
        let again = call(
            &t,
            "PutItem",
            json!({"TableName": "t1x", "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        );
        match again {
            Err(TablesError::ConditionalCheckFailed {
                message,
                item: Some(old),
            }) => {
                assert_eq!(message, "The conditional request failed");
                assert_eq!(serde_json::to_value(old).unwrap(), item);
            }
            other => panic!("expected a failed condition, got {other:?}"),
        }
        let delete = call(
            &t,
            "DeleteItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}}),
        );
        assert!(matches!(
            delete,
            Err(TablesError::ConditionalCheckFailed { item: None, .. })
        ));
        let unused = call(
            &t,
            "DeleteItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"N": "2"}, ":w": {"N": "3"}}}),
        );
        assert_eq!(
            validation_message(unused),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
        );
    }

    #[test]
    fn update_expressions_and_return_values() {
        let (t, _) = service();
        create(&t, "t1x", false);
        call(&t, "PutItem", json!({"TableName": "t1x", "Item": {"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}, "c": {"N": "3"}}})).unwrap();
        let body = |rv: &str| {
            json!({"TableName": "t1x", "Key": {"pk": {"S": "k"}},
            "UpdateExpression": "SET a = a + :one, d = :four REMOVE c",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":four": {"N": "4"}}, "ReturnValues": rv})
        };
        let old = call(&t, "UpdateItem", body("UPDATED_OLD")).unwrap();
        assert_eq!(old["Attributes"], json!({"a": {"N": "1"}, "c": {"N": "3"}}));
        let new = call(&t, "UpdateItem", body("UPDATED_NEW")).unwrap();
        assert_eq!(new["Attributes"], json!({"a": {"N": "3"}, "d": {"N": "4"}}));
        let all = call(&t, "UpdateItem", body("ALL_NEW")).unwrap();
        assert_eq!(
            all["Attributes"],
            json!({"pk": {"S": "k"}, "a": {"N": "4"}, "b": {"N": "2"}, "d": {"N": "4"}})
        );
        let key_update = call(
            &t,
            "UpdateItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "k"}},
            "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}),
        );
        assert_eq!(
            validation_message(key_update),
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
        );
        let missing = call(
            &t,
            "UpdateItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "new"}},
            "UpdateExpression": "SET a = :v", "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        );
        assert!(matches!(
            missing,
            Err(TablesError::ConditionalCheckFailed { .. })
        ));
        let got = call(
            &t,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "new"}}}),
        )
        .unwrap();
        assert_eq!(got, json!({}));
        let projected = call(
            &t,
            "GetItem",
            json!({"TableName": "t1x", "Key": {"pk": {"S": "k"}},
            "ProjectionExpression": "#a, b", "ExpressionAttributeNames": {"#a": "a"}}),
        )
        .unwrap();
        assert_eq!(projected["Item"], json!({"a": {"N": "4"}, "b": {"N": "2"}}));
    }
}
