//! Table-level shapes: create, describe, list, update, delete, tags, time to live, limits,
//! endpoints.

use super::wire_structs;

wire_structs! {
    /// `KeySchemaElement`.
    pub struct KeySchemaElement {
        attribute_name: String,
        /// `HASH` or `RANGE`.
        key_type: String,
    }

    /// `AttributeDefinition`.
    pub struct AttributeDefinition {
        attribute_name: String,
        /// `S`, `N` or `B`.
        attribute_type: String,
    }

    /// `ProvisionedThroughput` (input).
    pub struct ProvisionedThroughput {
        read_capacity_units: i64,
        write_capacity_units: i64,
    }

    /// `ProvisionedThroughputDescription`.
    pub struct ProvisionedThroughputDescription {
        last_increase_date_time: f64,
        last_decrease_date_time: f64,
        number_of_decreases_today: i64,
        read_capacity_units: i64,
        write_capacity_units: i64,
    }

    /// `BillingModeSummary`.
    pub struct BillingModeSummary {
        billing_mode: String,
        last_update_to_pay_per_request_date_time: f64,
    }

    /// `Tag`.
    pub struct Tag {
        key: String,
        value: String,
    }

    /// `StreamSpecification`.
    pub struct StreamSpecification {
        stream_enabled: bool,
        stream_view_type: String,
    }

    /// `SSESpecification`.
    pub struct SseSpecification {
        enabled: bool,
        #[serde(rename = "SSEType")]
        sse_type: String,
        #[serde(rename = "KMSMasterKeyId")]
        kms_master_key_id: String,
    }

    /// `SSEDescription`.
    pub struct SseDescription {
        status: String,
        #[serde(rename = "SSEType")]
        sse_type: String,
        #[serde(rename = "KMSMasterKeyArn")]
        kms_master_key_arn: String,
    }

    /// `TableClassSummary`.
    pub struct TableClassSummary {
        table_class: String,
        last_update_date_time: f64,
    }

    /// `OnDemandThroughput`.
    pub struct OnDemandThroughput {
        max_read_request_units: i64,
        max_write_request_units: i64,
    }

    /// `WarmThroughput` (input).
    pub struct WarmThroughput {
        read_units_per_second: i64,
        write_units_per_second: i64,
    }

    /// `TableWarmThroughputDescription`.
    pub struct TableWarmThroughputDescription {
        read_units_per_second: i64,
        write_units_per_second: i64,
        status: String,
    }

    /// `TableDescription`.
    pub struct TableDescription {
        attribute_definitions: Vec<AttributeDefinition>,
        table_name: String,
        key_schema: Vec<KeySchemaElement>,
        table_status: String,
        creation_date_time: f64,
        provisioned_throughput: ProvisionedThroughputDescription,
        table_size_bytes: i64,
        item_count: i64,
        table_arn: String,
        table_id: String,
        billing_mode_summary: BillingModeSummary,
        stream_specification: StreamSpecification,
        latest_stream_label: String,
        latest_stream_arn: String,
        #[serde(rename = "SSEDescription")]
        sse_description: SseDescription,
        table_class_summary: TableClassSummary,
        deletion_protection_enabled: bool,
        on_demand_throughput: OnDemandThroughput,
        warm_throughput: TableWarmThroughputDescription,
        global_secondary_indexes: Vec<SecondaryIndexDescription>,
        local_secondary_indexes: Vec<SecondaryIndexDescription>,
    }

    /// `Projection`.
    pub struct Projection {
        /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
        projection_type: String,
        non_key_attributes: Vec<String>,
    }

    /// `GlobalSecondaryIndex` and `LocalSecondaryIndex` of CreateTable (a local one has no
    /// throughput).
    pub struct SecondaryIndex {
        index_name: String,
        key_schema: Vec<KeySchemaElement>,
        projection: Projection,
        provisioned_throughput: ProvisionedThroughput,
        on_demand_throughput: OnDemandThroughput,
    }

    /// `GlobalSecondaryIndexUpdate`: one of `Create`, `Delete` (only `IndexName`) and
    /// `Update` (`IndexName` and `ProvisionedThroughput`).
    pub struct GlobalSecondaryIndexUpdate {
        create: SecondaryIndex,
        delete: SecondaryIndex,
        update: SecondaryIndex,
    }

    /// `GlobalSecondaryIndexDescription` and `LocalSecondaryIndexDescription`.
    pub struct SecondaryIndexDescription {
        index_name: String,
        key_schema: Vec<KeySchemaElement>,
        projection: Projection,
        /// Global indexes only: always `ACTIVE`.
        index_status: String,
        provisioned_throughput: ProvisionedThroughputDescription,
        index_size_bytes: i64,
        item_count: i64,
        index_arn: String,
    }

    /// `CreateTableInput`.
    pub struct CreateTableInput {
        attribute_definitions: Vec<AttributeDefinition>,
        table_name: String,
        key_schema: Vec<KeySchemaElement>,
        local_secondary_indexes: Vec<SecondaryIndex>,
        global_secondary_indexes: Vec<SecondaryIndex>,
        billing_mode: String,
        provisioned_throughput: ProvisionedThroughput,
        stream_specification: StreamSpecification,
        #[serde(rename = "SSESpecification")]
        sse_specification: SseSpecification,
        tags: Vec<Tag>,
        table_class: String,
        deletion_protection_enabled: bool,
        warm_throughput: WarmThroughput,
        resource_policy: String,
        on_demand_throughput: OnDemandThroughput,
    }

    /// `CreateTableOutput`.
    pub struct CreateTableOutput {
        table_description: TableDescription,
    }

    /// `DescribeTableInput`.
    pub struct DescribeTableInput {
        table_name: String,
    }

    /// `DescribeTableOutput`.
    pub struct DescribeTableOutput {
        table: TableDescription,
    }

    /// `ListTablesInput`.
    pub struct ListTablesInput {
        exclusive_start_table_name: String,
        limit: i64,
    }

    /// `ListTablesOutput`.
    pub struct ListTablesOutput {
        table_names: Vec<String>,
        last_evaluated_table_name: String,
    }

    /// `UpdateTableInput`.
    pub struct UpdateTableInput {
        attribute_definitions: Vec<AttributeDefinition>,
        table_name: String,
        billing_mode: String,
        provisioned_throughput: ProvisionedThroughput,
        global_secondary_index_updates: Vec<GlobalSecondaryIndexUpdate>,
        stream_specification: StreamSpecification,
        #[serde(rename = "SSESpecification")]
        sse_specification: SseSpecification,
        replica_updates: Vec<serde_json::Value>,
        table_class: String,
        deletion_protection_enabled: bool,
        on_demand_throughput: OnDemandThroughput,
        warm_throughput: WarmThroughput,
    }

    /// `UpdateTableOutput`.
    pub struct UpdateTableOutput {
        table_description: TableDescription,
    }

    /// `DeleteTableInput`.
    pub struct DeleteTableInput {
        table_name: String,
    }

    /// `DeleteTableOutput`.
    pub struct DeleteTableOutput {
        table_description: TableDescription,
    }

    /// `TagResourceInput`.
    pub struct TagResourceInput {
        resource_arn: String,
        tags: Vec<Tag>,
    }

    /// `UntagResourceInput`.
    pub struct UntagResourceInput {
        resource_arn: String,
        tag_keys: Vec<String>,
    }

    /// `ListTagsOfResourceInput`.
    pub struct ListTagsOfResourceInput {
        resource_arn: String,
        next_token: String,
    }

    /// `ListTagsOfResourceOutput`.
    pub struct ListTagsOfResourceOutput {
        tags: Vec<Tag>,
        next_token: String,
    }

    /// `TimeToLiveSpecification`.
    pub struct TimeToLiveSpecification {
        attribute_name: String,
        enabled: bool,
    }

    /// `UpdateTimeToLiveInput`.
    pub struct UpdateTimeToLiveInput {
        table_name: String,
        time_to_live_specification: TimeToLiveSpecification,
    }

    /// `UpdateTimeToLiveOutput`.
    pub struct UpdateTimeToLiveOutput {
        time_to_live_specification: TimeToLiveSpecification,
    }

    /// `DescribeTimeToLiveInput`.
    pub struct DescribeTimeToLiveInput {
        table_name: String,
    }

    /// `TimeToLiveDescription`.
    pub struct TimeToLiveDescription {
        /// `ENABLED` or `DISABLED` (Nimbus applies a change at once: never `ENABLING` or
        /// `DISABLING`).
        time_to_live_status: String,
        attribute_name: String,
    }

    /// `DescribeTimeToLiveOutput`.
    pub struct DescribeTimeToLiveOutput {
        time_to_live_description: TimeToLiveDescription,
    }

    /// `PointInTimeRecoverySpecification`.
    pub struct PointInTimeRecoverySpecification {
        point_in_time_recovery_enabled: bool,
        recovery_period_in_days: i64,
    }

    /// `DescribeContinuousBackupsInput`.
    pub struct DescribeContinuousBackupsInput {
        table_name: String,
    }

    /// `UpdateContinuousBackupsInput`.
    pub struct UpdateContinuousBackupsInput {
        table_name: String,
        point_in_time_recovery_specification: PointInTimeRecoverySpecification,
    }

    /// `PointInTimeRecoveryDescription`.
    pub struct PointInTimeRecoveryDescription {
        point_in_time_recovery_status: String,
    }

    /// `ContinuousBackupsDescription`.
    pub struct ContinuousBackupsDescription {
        continuous_backups_status: String,
        point_in_time_recovery_description: PointInTimeRecoveryDescription,
    }

    /// `DescribeContinuousBackupsOutput` and `UpdateContinuousBackupsOutput`.
    pub struct ContinuousBackupsOutput {
        continuous_backups_description: ContinuousBackupsDescription,
    }

    /// `DescribeLimitsInput` (no members).
    pub struct DescribeLimitsInput {}

    /// `DescribeLimitsOutput`.
    pub struct DescribeLimitsOutput {
        account_max_read_capacity_units: i64,
        account_max_write_capacity_units: i64,
        table_max_read_capacity_units: i64,
        table_max_write_capacity_units: i64,
    }

    /// `DescribeEndpointsRequest` (no members).
    pub struct DescribeEndpointsRequest {}

    /// `Endpoint`.
    pub struct Endpoint {
        address: String,
        cache_period_in_minutes: i64,
    }

    /// `DescribeEndpointsResponse`.
    pub struct DescribeEndpointsResponse {
        endpoints: Vec<Endpoint>,
    }
}
