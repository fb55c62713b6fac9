//! Table metadata as kept in the catalog, and its DynamoDB description.

use serde::{Deserialize, Serialize};

use crate::api::{
    AttributeDefinition, BillingModeSummary, KeySchemaElement, OnDemandThroughput, Projection,
    ProvisionedThroughputDescription, SecondaryIndexDescription, SseDescription, SseSpecification,
    StreamSpecification, TableClassSummary, TableDescription, Tag,
};
use crate::error::{Result, TablesError};

/// The type of a key attribute: the model's, stored as `"S"`, `"N"` or `"B"`.
pub use nimbus_tables_model::keycodec::KeyType;

/// Parses an `AttributeType`, if it may be a key type.
pub(crate) fn parse_key_type(s: &str) -> Option<KeyType> {
    match s {
        "S" => Some(KeyType::S),
        "N" => Some(KeyType::N),
        "B" => Some(KeyType::B),
        _ => None,
    }
}

mod key_type_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{KeyType, parse_key_type};

    pub fn serialize<S: Serializer>(kind: &KeyType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyType, D::Error> {
        let text = String::deserialize(d)?;
        parse_key_type(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown key type {text}")))
    }
}

/// One key attribute of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    pub name: String,
    #[serde(with = "key_type_serde")]
    pub kind: KeyType,
}

/// The primary key of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub hash: KeyAttribute,
    pub range: Option<KeyAttribute>,
}

impl KeySchema {
    /// Whether `name` is one of the key attributes.
    pub fn is_key(&self, name: &str) -> bool {
        self.hash.name == name || self.range.as_ref().is_some_and(|r| r.name == name)
    }

    /// The key attributes, hash first.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.hash).chain(self.range.as_ref())
    }
}

/// How a table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    Provisioned,
    PayPerRequest,
}

impl BillingMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

/// Provisioned throughput and its change history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
    pub last_increase: Option<f64>,
    pub last_decrease: Option<f64>,
    pub decreases_today: i64,
}

/// A catalog entry: everything DynamoDB describes about a table, except the counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    pub name: String,
    /// Random id; also the prefix of the table's data.
    pub id: [u8; 16],
    pub key_schema: KeySchema,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub billing_mode: BillingMode,
    /// Whether a request named the billing mode. DynamoDB describes the billing mode of a
    /// provisioned table only then: one created with throughput alone has no summary.
    #[serde(default)]
    pub billing_mode_given: bool,
    pub throughput: Throughput,
    pub last_update_to_pay_per_request: Option<f64>,
    /// Epoch seconds.
    pub created: f64,
    pub tags: Vec<Tag>,
    pub deletion_protection: bool,
    pub table_class: Option<String>,
    pub stream: Option<StreamSpecification>,
    pub sse: Option<SseSpecification>,
    /// The attribute that holds each item's expiry time, while time to live is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Secondary indexes, global and local, in the order they were declared.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// The table's streams, oldest first; the last one is the latest, enabled unless it has
    /// been disabled (`streams.rs`).
    #[serde(default)]
    pub streams: Vec<StreamMeta>,
    /// The request-unit ceilings of an on-demand table (`OnDemandThroughput`), as last set;
    /// kept and described, not enforced.
    #[serde(default)]
    pub on_demand: Option<OnDemandThroughput>,
    /// How the table's item keys order its partitions (`keys.rs`). A catalog entry without it
    /// is a table from before the MD5 order: its keys on disk use FNV-1a.
    #[serde(default)]
    pub partition_order: PartitionOrder,
}

/// The hash that orders a table's partitions, and so the order Scan visits them in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartitionOrder {
    /// FNV-1a of the encoded partition key ([`crate::keys::partition_hash`]): the tables
    /// created before the MD5 order.
    #[default]
    Fnv,
    /// DynamoDB's order ([`crate::keys::md5_partition_hash`]): every table created now.
    Md5,
}

/// A stream of a deleted table, readable (disabled) for a day after the table went away
/// (`streams.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetiredStream {
    pub table: String,
    pub key_schema: KeySchema,
    pub stream: StreamMeta,
}

/// A stream of a table's changes: its records live under its own random id (`keys.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub id: [u8; 16],
    /// The creation time in ISO 8601 with milliseconds, as DynamoDB labels streams.
    pub label: String,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    pub view_type: String,
    /// Epoch seconds.
    pub created: f64,
    /// When the stream was disabled (epoch seconds); its records stay readable a day.
    pub disabled: Option<f64>,
}

/// A secondary index: its entries live under their own random id, like a table's items, keyed
/// by the index key and then the table's primary key (`items.rs`, `index_entry`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    pub id: [u8; 16],
    /// Global (any key) or local (the table's hash key, another sort key).
    pub global: bool,
    pub key_schema: KeySchema,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// The attributes an `INCLUDE` projection adds to the keys.
    pub non_key_attributes: Vec<String>,
    /// A global index's provisioned throughput (zero on demand).
    pub throughput: Throughput,
}

impl IndexMeta {
    /// Whether the index holds every attribute of an item.
    pub fn projects_all(&self) -> bool {
        self.projection == "ALL"
    }

    /// The part of `item` the index keeps: everything, or the index and table keys and the
    /// included attributes.
    pub fn project(
        &self,
        table: &KeySchema,
        item: &nimbus_tables_model::Item,
    ) -> nimbus_tables_model::Item {
        if self.projects_all() {
            return item.clone();
        }
        item.iter()
            .filter(|(name, _)| self.projects(table, name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the index keeps the attribute `name` of an item of a table with key `table`.
    pub fn projects(&self, table: &KeySchema, name: &str) -> bool {
        self.projects_all()
            || self.key_schema.is_key(name)
            || table.is_key(name)
            || self.non_key_attributes.iter().any(|n| n == name)
    }
}

/// Item count and total item size of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub items: i64,
    pub bytes: i64,
}

impl Counters {
    /// These counters as the deltas of a [`nimbus_store::Op::Add`] on a stripe, whose value is
    /// the two counters as big-endian `i64`, as [`Counters::decode`] reads them.
    pub(crate) fn deltas(self) -> Vec<i64> {
        vec![self.items, self.bytes]
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Counters> {
        let (items, bytes) = bytes
            .split_first_chunk::<8>()
            .and_then(|(items, rest)| Some((items, rest.first_chunk::<8>()?)))
            .ok_or_else(|| TablesError::Internal("corrupt table counters".into()))?;
        Ok(Counters {
            items: i64::from_be_bytes(*items),
            bytes: i64::from_be_bytes(*bytes),
        })
    }
}

impl TableMeta {
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| TablesError::Internal(format!("encode catalog: {e}")))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<TableMeta> {
        serde_json::from_slice(bytes)
            .map_err(|e| TablesError::Internal(format!("corrupt catalog entry: {e}")))
    }

    /// `arn:aws:dynamodb:{region}:{account}:table/{name}`.
    pub fn arn(&self, region: &str, account: &str) -> String {
        table_arn(region, account, &self.name)
    }

    /// The table id as DynamoDB shows it (a UUID).
    pub fn table_id(&self) -> String {
        uuid::Uuid::from_bytes(self.id).hyphenated().to_string()
    }

    /// The `TableDescription` of this table.
    /// `index_counters` are those of `self.indexes`, in order (missing ones count zero).
    pub fn describe(
        &self,
        status: &str,
        counters: Counters,
        index_counters: &[Counters],
        region: &str,
        account: &str,
    ) -> TableDescription {
        let key_schema = key_schema_elements(&self.key_schema);
        let arn = self.arn(region, account);
        let (mut global, mut local) = (Vec::new(), Vec::new());
        for (i, index) in self.indexes.iter().enumerate() {
            let c = index_counters.get(i).copied().unwrap_or_default();
            let t = &index.throughput;
            let description = SecondaryIndexDescription {
                index_name: Some(index.name.clone()),
                key_schema: Some(key_schema_elements(&index.key_schema)),
                projection: Some(Projection {
                    projection_type: Some(index.projection.clone()),
                    non_key_attributes: (!index.non_key_attributes.is_empty())
                        .then(|| index.non_key_attributes.clone()),
                }),
                // A new table's indexes are created with it.
                index_status: index.global.then(|| {
                    if status == "CREATING" {
                        "CREATING"
                    } else {
                        "ACTIVE"
                    }
                    .into()
                }),
                provisioned_throughput: index.global.then_some(ProvisionedThroughputDescription {
                    last_increase_date_time: t.last_increase,
                    last_decrease_date_time: t.last_decrease,
                    number_of_decreases_today: Some(t.decreases_today),
                    read_capacity_units: Some(t.read),
                    write_capacity_units: Some(t.write),
                }),
                index_size_bytes: Some(c.bytes),
                item_count: Some(c.items),
                index_arn: Some(format!("{arn}/index/{}", index.name)),
            };
            if index.global {
                global.push(description);
            } else {
                local.push(description);
            }
        }
        let t = &self.throughput;
        let pay_per_request = self.billing_mode == BillingMode::PayPerRequest;
        TableDescription {
            attribute_definitions: Some(self.attribute_definitions.clone()),
            table_name: Some(self.name.clone()),
            key_schema: Some(key_schema),
            table_status: Some(status.into()),
            creation_date_time: Some(self.created),
            provisioned_throughput: Some(ProvisionedThroughputDescription {
                last_increase_date_time: t.last_increase,
                last_decrease_date_time: t.last_decrease,
                number_of_decreases_today: Some(t.decreases_today),
                read_capacity_units: Some(if pay_per_request { 0 } else { t.read }),
                write_capacity_units: Some(if pay_per_request { 0 } else { t.write }),
            }),
            table_size_bytes: Some(counters.bytes),
            item_count: Some(counters.items),
            table_arn: Some(arn.clone()),
            table_id: Some(self.table_id()),
            billing_mode_summary: (pay_per_request || self.billing_mode_given).then(|| {
                BillingModeSummary {
                    billing_mode: Some(self.billing_mode.as_str().into()),
                    last_update_to_pay_per_request_date_time: self
                        .last_update_to_pay_per_request
                        .or(pay_per_request.then_some(self.created)),
                }
            }),
            stream_specification: self
                .stream
                .clone()
                .filter(|s| s.stream_enabled == Some(true)),
            latest_stream_label: self.streams.last().map(|s| s.label.clone()),
            latest_stream_arn: self
                .streams
                .last()
                .map(|s| s.arn(&self.arn(region, account))),
            sse_description: self
                .sse
                .as_ref()
                .filter(|s| s.enabled == Some(true))
                .map(|s| SseDescription {
                    status: Some("ENABLED".into()),
                    sse_type: Some(s.sse_type.clone().unwrap_or_else(|| "KMS".into())),
                    kms_master_key_arn: Some(format!(
                        "arn:aws:kms:{region}:{account}:key/{}",
                        s.kms_master_key_id.as_deref().unwrap_or("aws/dynamodb")
                    )),
                }),
            table_class_summary: self.table_class.as_ref().map(|c| TableClassSummary {
                table_class: Some(c.clone()),
                last_update_date_time: None,
            }),
            deletion_protection_enabled: Some(self.deletion_protection),
            on_demand_throughput: self.on_demand.clone(),
            warm_throughput: None,
            global_secondary_indexes: (!global.is_empty()).then_some(global),
            local_secondary_indexes: (!local.is_empty()).then_some(local),
        }
    }
}

/// `arn:aws:dynamodb:{region}:{account}:table/{name}`, also of a deleted table's stream.
pub(crate) fn table_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
}

impl KeySchema {
    /// The key schema as DynamoDB lists it.
    pub(crate) fn describe(&self) -> Vec<KeySchemaElement> {
        key_schema_elements(self)
    }
}

/// A key schema as DynamoDB lists it.
fn key_schema_elements(schema: &KeySchema) -> Vec<KeySchemaElement> {
    schema
        .attributes()
        .zip(["HASH", "RANGE"])
        .map(|(attr, kind)| KeySchemaElement {
            attribute_name: Some(attr.name.clone()),
            key_type: Some(kind.into()),
        })
        .collect()
}
