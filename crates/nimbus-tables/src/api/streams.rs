//! DynamoDB Streams shapes (`dynamodbstreams/2012-08-10/service-2.json`): ListStreams,
//! DescribeStream, GetShardIterator and GetRecords.

use nimbus_tables_model::Item;
use serde::{Deserialize, Serialize};

use super::tables::KeySchemaElement;
use super::wire_structs;

wire_structs! {
    /// `ListStreamsInput`.
    pub struct ListStreamsInput {
        table_name: String,
        limit: i64,
        exclusive_start_stream_arn: String,
    }

    /// `Stream`: one entry of ListStreams.
    pub struct StreamSummary {
        stream_arn: String,
        table_name: String,
        stream_label: String,
    }

    /// `ListStreamsOutput`.
    pub struct ListStreamsOutput {
        streams: Vec<StreamSummary>,
        last_evaluated_stream_arn: String,
    }

    /// `ShardFilter`.
    pub struct ShardFilter {
        #[serde(rename = "Type")]
        kind: String,
        shard_id: String,
    }

    /// `DescribeStreamInput`.
    pub struct DescribeStreamInput {
        stream_arn: String,
        limit: i64,
        exclusive_start_shard_id: String,
        shard_filter: ShardFilter,
    }

    /// `SequenceNumberRange`.
    pub struct SequenceNumberRange {
        starting_sequence_number: String,
        ending_sequence_number: String,
    }

    /// `Shard`.
    pub struct Shard {
        shard_id: String,
        sequence_number_range: SequenceNumberRange,
        parent_shard_id: String,
    }

    /// `StreamDescription`.
    pub struct StreamDescription {
        stream_arn: String,
        stream_label: String,
        /// `ENABLED` or `DISABLED`.
        stream_status: String,
        stream_view_type: String,
        creation_request_date_time: f64,
        table_name: String,
        key_schema: Vec<KeySchemaElement>,
        shards: Vec<Shard>,
        last_evaluated_shard_id: String,
    }

    /// `DescribeStreamOutput`.
    pub struct DescribeStreamOutput {
        stream_description: StreamDescription,
    }

    /// `GetShardIteratorInput`.
    pub struct GetShardIteratorInput {
        stream_arn: String,
        shard_id: String,
        /// `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER` or `AFTER_SEQUENCE_NUMBER`.
        shard_iterator_type: String,
        sequence_number: String,
        timestamp: f64,
    }

    /// `GetShardIteratorOutput`.
    pub struct GetShardIteratorOutput {
        shard_iterator: String,
    }

    /// `GetRecordsInput`.
    pub struct GetRecordsInput {
        shard_iterator: String,
        limit: i64,
    }

    /// `GetRecordsOutput`.
    pub struct GetRecordsOutput {
        records: Vec<Record>,
        next_shard_iterator: String,
    }

    /// `StreamRecord`: the change itself.
    pub struct StreamRecord {
        approximate_creation_date_time: f64,
        keys: Item,
        new_image: Item,
        old_image: Item,
        sequence_number: String,
        size_bytes: i64,
        stream_view_type: String,
    }

    /// `Identity`: who made a change other than a request (time to live).
    pub struct Identity {
        principal_id: String,
        #[serde(rename = "Type")]
        kind: String,
    }
}

/// `Record`: one change of a stream. Its own members are camelCase on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "eventID", default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(
        rename = "eventVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_version: Option<String>,
    #[serde(
        rename = "eventSource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_source: Option<String>,
    #[serde(rename = "awsRegion", default, skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<StreamRecord>,
    #[serde(
        rename = "userIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_identity: Option<Identity>,
}
