//! Item-level shapes: single-item operations, query, scan, batches, consumed capacity.

use std::collections::BTreeMap;

pub use nimbus_tables_model::legacy::{
    AttributeValueUpdate, ExpectedAttributeValue, LegacyCondition as Condition,
};
use nimbus_tables_model::{AttributeValue, Item};

use nimbus_tables_model::expr::ExpressionAttributes;

use super::wire_structs;

/// `ExpressionAttributeNameMap`.
pub type AttributeNames = BTreeMap<String, String>;
/// `ExpressionAttributeValueMap`.
pub type AttributeValues = BTreeMap<String, AttributeValue>;

wire_structs! {
    /// `Capacity`.
    pub struct Capacity {
        read_capacity_units: f64,
        write_capacity_units: f64,
        capacity_units: f64,
    }

    /// `ConsumedCapacity`.
    pub struct ConsumedCapacity {
        table_name: String,
        capacity_units: f64,
        read_capacity_units: f64,
        write_capacity_units: f64,
        table: Capacity,
        local_secondary_indexes: BTreeMap<String, Capacity>,
        global_secondary_indexes: BTreeMap<String, Capacity>,
    }

    /// `ItemCollectionMetrics`.
    pub struct ItemCollectionMetrics {
        item_collection_key: Item,
        #[serde(rename = "SizeEstimateRangeGB")]
        size_estimate_range_gb: Vec<f64>,
    }

    /// `PutItemInput`.
    pub struct PutItemInput {
        table_name: String,
        item: Item,
        expected: BTreeMap<String, ExpectedAttributeValue>,
        return_values: String,
        return_consumed_capacity: String,
        return_item_collection_metrics: String,
        conditional_operator: String,
        condition_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
        return_values_on_condition_check_failure: String,
    }

    /// `PutItemOutput`, and the members of `UpdateItemOutput` and `DeleteItemOutput`.
    pub struct PutItemOutput {
        attributes: Item,
        consumed_capacity: ConsumedCapacity,
        item_collection_metrics: ItemCollectionMetrics,
    }

    /// `GetItemInput`.
    pub struct GetItemInput {
        table_name: String,
        key: Item,
        attributes_to_get: Vec<String>,
        consistent_read: bool,
        return_consumed_capacity: String,
        projection_expression: String,
        expression_attribute_names: AttributeNames,
    }

    /// `GetItemOutput`.
    pub struct GetItemOutput {
        item: Item,
        consumed_capacity: ConsumedCapacity,
    }

    /// `UpdateItemInput`.
    pub struct UpdateItemInput {
        table_name: String,
        key: Item,
        attribute_updates: BTreeMap<String, AttributeValueUpdate>,
        expected: BTreeMap<String, ExpectedAttributeValue>,
        conditional_operator: String,
        return_values: String,
        return_consumed_capacity: String,
        return_item_collection_metrics: String,
        update_expression: String,
        condition_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
        return_values_on_condition_check_failure: String,
    }

    /// `DeleteItemInput`.
    pub struct DeleteItemInput {
        table_name: String,
        key: Item,
        expected: BTreeMap<String, ExpectedAttributeValue>,
        conditional_operator: String,
        return_values: String,
        return_consumed_capacity: String,
        return_item_collection_metrics: String,
        condition_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
        return_values_on_condition_check_failure: String,
    }

    /// `QueryInput`.
    pub struct QueryInput {
        table_name: String,
        index_name: String,
        select: String,
        attributes_to_get: Vec<String>,
        limit: i64,
        consistent_read: bool,
        key_conditions: BTreeMap<String, Condition>,
        query_filter: BTreeMap<String, Condition>,
        conditional_operator: String,
        scan_index_forward: bool,
        exclusive_start_key: Item,
        return_consumed_capacity: String,
        projection_expression: String,
        filter_expression: String,
        key_condition_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
    }

    /// `QueryOutput` and `ScanOutput` (same members).
    pub struct QueryOutput {
        items: Vec<Item>,
        count: i64,
        scanned_count: i64,
        last_evaluated_key: Item,
        consumed_capacity: ConsumedCapacity,
    }

    /// `ScanInput`.
    pub struct ScanInput {
        table_name: String,
        index_name: String,
        attributes_to_get: Vec<String>,
        limit: i64,
        select: String,
        scan_filter: BTreeMap<String, Condition>,
        conditional_operator: String,
        exclusive_start_key: Item,
        return_consumed_capacity: String,
        total_segments: i64,
        segment: i64,
        projection_expression: String,
        filter_expression: String,
        expression_attribute_names: AttributeNames,
        #[serde(deserialize_with = "ExpressionAttributes::deserialize_values")]
        expression_attribute_values: AttributeValues,
        consistent_read: bool,
    }

    /// `KeysAndAttributes`.
    pub struct KeysAndAttributes {
        keys: Vec<Item>,
        attributes_to_get: Vec<String>,
        consistent_read: bool,
        projection_expression: String,
        expression_attribute_names: AttributeNames,
    }

    /// `BatchGetItemInput`.
    pub struct BatchGetItemInput {
        request_items: BTreeMap<String, KeysAndAttributes>,
        return_consumed_capacity: String,
    }

    /// `BatchGetItemOutput`.
    pub struct BatchGetItemOutput {
        responses: BTreeMap<String, Vec<Item>>,
        unprocessed_keys: BTreeMap<String, KeysAndAttributes>,
        consumed_capacity: Vec<ConsumedCapacity>,
    }

    /// `PutRequest`.
    pub struct PutRequest {
        item: Item,
    }

    /// `DeleteRequest`.
    pub struct DeleteRequest {
        key: Item,
    }

    /// `WriteRequest`.
    pub struct WriteRequest {
        put_request: PutRequest,
        delete_request: DeleteRequest,
    }

    /// `BatchWriteItemInput`.
    pub struct BatchWriteItemInput {
        request_items: BTreeMap<String, Vec<WriteRequest>>,
        return_consumed_capacity: String,
        return_item_collection_metrics: String,
    }

    /// `BatchWriteItemOutput`.
    pub struct BatchWriteItemOutput {
        unprocessed_items: BTreeMap<String, Vec<WriteRequest>>,
        item_collection_metrics: BTreeMap<String, Vec<ItemCollectionMetrics>>,
        consumed_capacity: Vec<ConsumedCapacity>,
    }
}

/// `ScanOutput` has the members of [`QueryOutput`].
pub type ScanOutput = QueryOutput;

/// `UpdateItemOutput` has the members of [`PutItemOutput`].
pub type UpdateItemOutput = PutItemOutput;
/// `DeleteItemOutput` has the members of [`PutItemOutput`].
pub type DeleteItemOutput = PutItemOutput;
