//! Transaction shapes: TransactWriteItems and TransactGetItems.

use std::collections::BTreeMap;

use nimbus_tables_model::Item;
use nimbus_tables_model::expr::ExpressionAttributes;

use super::items::{AttributeNames, AttributeValues, ConsumedCapacity, ItemCollectionMetrics};
use super::wire_structs;

wire_structs! {
    /// `ConditionCheck`, `Put`, `Delete` and `Update` of a `TransactWriteItem`: one shape
    /// with the members of all four (`Item` for Put, `Key` for the others,
    /// `UpdateExpression` for Update).
    pub struct TransactWriteAction {
        table_name: String,
        key: Item,
        item: Item,
        update_expression: String,
        condition_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
        return_values_on_condition_check_failure: String,
    }

    /// `TransactWriteItem`: exactly one action.
    pub struct TransactWriteItem {
        condition_check: TransactWriteAction,
        put: TransactWriteAction,
        delete: TransactWriteAction,
        update: TransactWriteAction,
    }

    /// `TransactWriteItemsInput`.
    pub struct TransactWriteItemsInput {
        transact_items: Vec<TransactWriteItem>,
        return_consumed_capacity: String,
        return_item_collection_metrics: String,
        client_request_token: String,
    }

    /// `TransactWriteItemsOutput`.
    pub struct TransactWriteItemsOutput {
        consumed_capacity: Vec<ConsumedCapacity>,
        item_collection_metrics: BTreeMap<String, Vec<ItemCollectionMetrics>>,
    }

    /// `Get` of a `TransactGetItem`.
    pub struct TransactGet {
        table_name: String,
        key: Item,
        projection_expression: String,
        expression_attribute_names: AttributeNames,
    }

    /// `TransactGetItem`.
    pub struct TransactGetItem {
        get: TransactGet,
    }

    /// `TransactGetItemsInput`.
    pub struct TransactGetItemsInput {
        transact_items: Vec<TransactGetItem>,
        return_consumed_capacity: String,
    }

    /// `ItemResponse`: the item, absent when there is none.
    pub struct ItemResponse {
        item: Item,
    }

    /// `TransactGetItemsOutput`.
    pub struct TransactGetItemsOutput {
        consumed_capacity: Vec<ConsumedCapacity>,
        responses: Vec<ItemResponse>,
    }

    /// `CancellationReason`: `Code` is `None` for an action that would have succeeded.
    pub struct CancellationReason {
        item: Item,
        code: String,
        message: String,
    }
}
