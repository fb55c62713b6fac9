//! DynamoDB Streams: the change log of a table, and the `DynamoDBStreams_20120810` API that
//! reads it (ListStreams, DescribeStream, GetShardIterator, GetRecords).
//!
//! A table with `StreamSpecification.StreamEnabled` has a stream ([`StreamMeta`] in its catalog
//! entry). Every item write that changes an item appends one record to the stream's log in the
//! same commit as the item ([`crate::items::mutation_batch`]), so a record exists exactly when
//! its change does, and the log is in commit order: the store numbers the records
//! ([`nimbus_store::Op::Append`]), and the number is the record's `SequenceNumber`. A write that
//! changes nothing (an identical PutItem, a DeleteItem of a missing item, a failed condition)
//! writes no record, as in DynamoDB.
//!
//! Each stream has one shard, open while the stream is enabled; disabling the stream closes it
//! (its `EndingSequenceNumber` is the last record's). Enabling again creates a new stream with
//! a new label. Deleting the table disables its streams, which stay readable under their own
//! key ([`RetiredStream`]). Records are kept [`RETENTION_SECONDS`] (a day), and a disabled
//! stream as long ([`Tables::trim_streams`]).
//!
//! A record is kept in a compact binary form (below) with the images its stream's view type
//! asks for; the record's JSON is written when it is read. A shard iterator is the stream ARN,
//! the stream's id and the number of the next record to read, valid fifteen minutes.
//!
//! ```text
//! record = version:1 (1) | event:1 (1 INSERT, 2 MODIFY, 3 REMOVE) | flags:1 (1: deleted by
//!          time to live) | created:8 (epoch milliseconds) | section*
//! section = tag:1 (b'K' keys, b'N' new image, b'O' old image) | length:4 | item encoding
//! ```

use std::ops::{Bound, ControlFlow};

use nimbus_metering::UsageRecord;
use nimbus_store::{Direction, KeyRange, WriteBatch, append_key, append_number};
use nimbus_tables_model::itemcodec;

use crate::api::*;
use crate::catalog::{RetiredStream, StreamMeta, TableMeta, table_arn};
use crate::error::{Result, TablesError};
use crate::items::Mutation;
use crate::parse::parse_body;
use crate::validate::{Violations, required};
use crate::{Tables, keys, now_millis};

/// How long records and disabled streams are kept (DynamoDB: 24 hours).
pub const RETENTION_SECONDS: f64 = 24.0 * 3600.0;
/// How long a shard iterator is valid (DynamoDB: 15 minutes).
const ITERATOR_LIFETIME_MILLIS: u64 = 15 * 60 * 1000;
/// Most records and bytes one GetRecords returns.
const MAX_RECORDS: i64 = 1000;
const MAX_RECORDS_BYTES: usize = 1024 * 1024;
/// Most streams one ListStreams returns.
const MAX_LIST: i64 = 100;
/// Records one trimming pass visits per stream at most.
const TRIM_VISITS: usize = 10_000;

const VERSION: u8 = 1;
const INSERT: u8 = 1;
const MODIFY: u8 = 2;
const REMOVE: u8 = 3;
const BY_TIME_TO_LIVE: u8 = 1;
const HEADER: usize = 11;

impl TableMeta {
    /// The latest stream, while it is enabled.
    pub(crate) fn enabled_stream(&self) -> Option<&StreamMeta> {
        self.streams.last().filter(|s| s.disabled.is_none())
    }
}

impl StreamMeta {
    /// The new stream that `spec` enables at `now` (epoch seconds) for a table being created
    /// or updated, or `None` when it enables none.
    pub(crate) fn enabled_by(spec: Option<&StreamSpecification>, now: f64) -> Option<StreamMeta> {
        let spec = spec.filter(|s| s.stream_enabled == Some(true))?;
        Some(StreamMeta {
            id: *uuid::Uuid::new_v4().as_bytes(),
            label: label_of(now),
            view_type: spec.stream_view_type.clone()?,
            created: now,
            disabled: None,
        })
    }

    /// `<table ARN>/stream/<label>`.
    pub fn arn(&self, table_arn: &str) -> String {
        format!("{table_arn}/stream/{}", self.label)
    }

    /// The id of the stream's one shard.
    fn shard_id(&self) -> String {
        format!(
            "shardId-{:020}-{}",
            (self.created * 1000.0) as u64,
            hex::encode(&self.id[..4])
        )
    }

    fn status(&self) -> &'static str {
        if self.disabled.is_some() {
            "DISABLED"
        } else {
            "ENABLED"
        }
    }
}

/// A stream label: the creation time in ISO 8601 with milliseconds, without a zone.
fn label_of(epoch_seconds: f64) -> String {
    let nanos = (epoch_seconds * 1000.0) as i128 * 1_000_000;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000".into())
}

/// The wire form of a record number: DynamoDB's sequence numbers are 21 to 40 digits.
fn sequence_number(n: u64) -> String {
    format!("{n:021}")
}

/// The stream record of `m` (a change: the caller checked that the item changed), created at
/// `now` (epoch milliseconds), with the images `stream`'s view type keeps; `new_bytes` is the
/// encoding of `m.new`, already made for the item's own write.
pub(crate) fn record(
    stream: &StreamMeta,
    m: &Mutation<'_>,
    new_bytes: Option<&[u8]>,
    now: u64,
) -> Vec<u8> {
    let event = match (m.old, m.new) {
        (None, _) => INSERT,
        (Some(_), Some(_)) => MODIFY,
        (Some(_), None) => REMOVE,
    };
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    out.push(event);
    out.push(if m.expired { BY_TIME_TO_LIVE } else { 0 });
    out.extend_from_slice(&now.to_be_bytes());
    section(&mut out, b'K', &itemcodec::encode(&m.key.attributes));
    let view = stream.view_type.as_str();
    if matches!(view, "NEW_IMAGE" | "NEW_AND_OLD_IMAGES")
        && let Some(new) = new_bytes
    {
        section(&mut out, b'N', new);
    }
    if matches!(view, "OLD_IMAGE" | "NEW_AND_OLD_IMAGES")
        && let Some(old) = m.old
    {
        section(&mut out, b'O', &old.bytes);
    }
    out
}

/// Appends one section: its tag, the length of `item` (an item encoding) and `item`.
fn section(out: &mut Vec<u8>, tag: u8, item: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(item.len() as u32).to_be_bytes());
    out.extend_from_slice(item);
}

/// The creation time (epoch milliseconds) of stored record bytes.
fn created_of(bytes: &[u8]) -> Option<u64> {
    let created: [u8; 8] = bytes.get(3..HEADER)?.try_into().ok()?;
    Some(u64::from_be_bytes(created))
}

fn decode_retired(bytes: &[u8]) -> Result<RetiredStream> {
    serde_json::from_slice(bytes)
        .map_err(|e| TablesError::Internal(format!("corrupt retired stream: {e}")))
}

fn corrupt() -> TablesError {
    TablesError::Internal("corrupt stream record".into())
}

/// The wire record of stored bytes, number `n` of a stream of `view_type`.
fn decode_record(bytes: &[u8], n: u64, stream: &StreamMeta, region: &str) -> Result<Record> {
    if bytes.len() < HEADER || bytes[0] != VERSION {
        return Err(corrupt());
    }
    let event = match bytes[1] {
        INSERT => "INSERT",
        MODIFY => "MODIFY",
        REMOVE => "REMOVE",
        _ => return Err(corrupt()),
    };
    let created = created_of(bytes).ok_or_else(corrupt)?;
    let (mut keys, mut new, mut old) = (None, None, None);
    let mut rest = &bytes[HEADER..];
    while let Some((&tag, tail)) = rest.split_first() {
        let (len, tail) = tail.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(*len) as usize;
        let body = tail.get(..len).ok_or_else(corrupt)?;
        let item = itemcodec::decode(body)?;
        match tag {
            b'K' => keys = Some(item),
            b'N' => new = Some(item),
            b'O' => old = Some(item),
            _ => return Err(corrupt()),
        }
        rest = &tail[len..];
    }
    let size = [&keys, &new, &old]
        .iter()
        .filter_map(|i| i.as_ref())
        .map(itemcodec::item_size)
        .sum::<usize>();
    let by_ttl = bytes[2] & BY_TIME_TO_LIVE != 0;
    Ok(Record {
        event_id: Some(format!("{}{n:016x}", hex::encode(&stream.id[..8]))),
        event_name: Some(event.into()),
        event_version: Some("1.1".into()),
        event_source: Some("aws:dynamodb".into()),
        aws_region: Some(region.to_string()),
        dynamodb: Some(StreamRecord {
            approximate_creation_date_time: Some((created / 1000) as f64),
            keys,
            new_image: new,
            old_image: old,
            sequence_number: Some(sequence_number(n)),
            size_bytes: Some(size as i64),
            stream_view_type: Some(stream.view_type.clone()),
        }),
        user_identity: by_ttl.then(|| Identity {
            principal_id: Some("dynamodb.amazonaws.com".into()),
            kind: Some("Service".into()),
        }),
    })
}

/// A position in a stream, as a shard iterator carries it.
#[derive(Debug, Clone, PartialEq)]
struct Iterator {
    arn: String,
    id: [u8; 16],
    /// The number of the next record to read; 0 for the oldest record kept.
    next: u64,
    /// When the iterator was handed out, epoch milliseconds.
    issued: u64,
}

impl Iterator {
    fn encode(&self) -> String {
        format!(
            "{}|1|{}{:016x}{:016x}",
            self.arn,
            hex::encode(self.id),
            self.next,
            self.issued
        )
    }

    fn decode(text: &str) -> Option<Iterator> {
        let (rest, payload) = text.rsplit_once('|')?;
        let arn = rest.strip_suffix("|1")?;
        if payload.len() != 64 || !payload.is_ascii() {
            return None;
        }
        let id = hex::decode(&payload[..32]).ok()?.try_into().ok()?;
        Some(Iterator {
            arn: arn.to_string(),
            id,
            next: u64::from_str_radix(&payload[32..48], 16).ok()?,
            issued: u64::from_str_radix(&payload[48..64], 16).ok()?,
        })
    }
}

/// The table name and stream label of a stream ARN
/// (`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`).
fn parse_stream_arn<'a>(arn: &'a str, region: &str, account: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:dynamodb:")?;
    let rest = rest.strip_prefix(region)?.strip_prefix(':')?;
    let rest = rest.strip_prefix(account)?.strip_prefix(":table/")?;
    rest.split_once("/stream/")
}

/// Refuses text that is not a stream ARN at all (DynamoDB's ValidationException); a
/// well-formed ARN of a stream that does not exist here is ResourceNotFound instead.
fn check_stream_arn(arn: &str) -> Result<()> {
    let shaped = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":table/"))
        .is_some_and(|(_, rest)| rest.contains("/stream/"));
    if shaped {
        Ok(())
    } else {
        Err(TablesError::validation(format!("Invalid StreamArn: {arn}")))
    }
}

fn stream_not_found(arn: &str) -> TablesError {
    TablesError::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

/// The first and last record numbers of a stream's log, if it has any.
struct Bounds {
    first: Option<u64>,
    last: Option<u64>,
}

impl Bounds {
    /// The number the next record will get (records are numbered from 1).
    fn next(&self) -> u64 {
        self.last.map_or(1, |n| n + 1)
    }

    /// The first number of the shard: the oldest record kept, else the next one.
    fn start(&self) -> u64 {
        self.first.unwrap_or_else(|| self.next())
    }
}

/// One DynamoDB Streams request, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamOp {
    ListStreams(ListStreamsInput),
    DescribeStream(DescribeStreamInput),
    GetShardIterator(GetShardIteratorInput),
    GetRecords(GetRecordsInput),
}

impl StreamOp {
    /// Parses the body of `operation` (the part of `X-Amz-Target:
    /// DynamoDBStreams_20120810.<Op>` after the dot).
    pub fn parse(operation: &str, body: &[u8]) -> Result<StreamOp> {
        Ok(match operation {
            "ListStreams" => StreamOp::ListStreams(parse_body(operation, body)?),
            "DescribeStream" => StreamOp::DescribeStream(parse_body(operation, body)?),
            "GetShardIterator" => StreamOp::GetShardIterator(parse_body(operation, body)?),
            "GetRecords" => StreamOp::GetRecords(parse_body(operation, body)?),
            other => return Err(TablesError::UnknownOperation(other.to_string())),
        })
    }
}

impl Tables {
    /// Runs one DynamoDB Streams operation and returns its JSON response body. Reads block
    /// on storage: run it on a blocking thread.
    pub fn execute_stream(&self, op: StreamOp) -> Result<Vec<u8>> {
        match op {
            StreamOp::ListStreams(input) => crate::to_json(&self.list_streams(input)?),
            StreamOp::DescribeStream(input) => crate::to_json(&self.describe_stream(input)?),
            StreamOp::GetShardIterator(input) => crate::to_json(&self.get_shard_iterator(input)?),
            StreamOp::GetRecords(input) => crate::to_json(&self.get_records(input)?),
        }
    }

    fn log_bounds(&self, stream: &StreamMeta) -> Result<Bounds> {
        let prefix = keys::stream_log(&stream.id);
        let range = KeyRange::prefix(&prefix);
        let edge = |direction| -> Result<Option<u64>> {
            let mut found = None;
            self.store.scan(&range, direction, &mut |key, _| {
                found = append_number(&prefix, key);
                ControlFlow::Break(())
            })?;
            Ok(found)
        };
        Ok(Bounds {
            first: edge(Direction::Forward)?,
            last: edge(Direction::Reverse)?,
        })
    }

    /// The stream an ARN names, of a table or of a deleted table (kept a day), or
    /// ResourceNotFoundException.
    fn stream_of(&self, arn: &str) -> Result<RetiredStream> {
        check_stream_arn(arn)?;
        let (table, label) = parse_stream_arn(arn, &self.config.region, &self.config.account_id)
            .ok_or_else(|| stream_not_found(arn))?;
        if let Some((meta, _)) = self.find_table(table)?
            && let Some(stream) = meta.streams.iter().find(|s| s.label == label)
        {
            return Ok(RetiredStream {
                table: meta.name.clone(),
                key_schema: meta.key_schema.clone(),
                stream: stream.clone(),
            });
        }
        match self.store.get(&keys::retired_stream(table, label))? {
            Some(bytes) => decode_retired(&bytes),
            None => Err(stream_not_found(arn)),
        }
    }

    /// The streams of deleted tables still kept, of `table` or of all.
    fn retired_streams(&self, table: Option<&str>) -> Result<Vec<RetiredStream>> {
        let mut found = Vec::new();
        self.store.scan(
            &keys::retired_streams(table),
            Direction::Forward,
            &mut |_, bytes| {
                found.push(decode_retired(bytes));
                ControlFlow::Continue(())
            },
        )?;
        found.into_iter().collect()
    }

    pub fn list_streams(&self, input: ListStreamsInput) -> Result<ListStreamsOutput> {
        let mut v = Violations::new();
        v.range(input.limit, "limit", 1, Some(MAX_LIST));
        if let Some(name) = &input.table_name {
            v.name(Some(name), "tableName");
        }
        v.finish()?;
        let limit = input.limit.unwrap_or(MAX_LIST) as usize;
        // Streams of tables and of deleted tables, by table name and then age.
        let mut all: Vec<(f64, StreamSummary)> = Vec::new();
        let mut add = |table: &str, stream: &StreamMeta| {
            let table_arn = table_arn(&self.config.region, &self.config.account_id, table);
            all.push((
                stream.created,
                StreamSummary {
                    stream_arn: Some(stream.arn(&table_arn)),
                    table_name: Some(table.to_string()),
                    stream_label: Some(stream.label.clone()),
                },
            ));
        };
        let metas = match &input.table_name {
            Some(name) => self
                .find_table(name)?
                .map(|(meta, _)| Ok(meta))
                .into_iter()
                .collect(),
            None => self.table_entries()?,
        };
        let table_found = !metas.is_empty();
        for meta in metas {
            let meta = meta?;
            for stream in &meta.streams {
                add(&meta.name, stream);
            }
        }
        let retired = self.retired_streams(input.table_name.as_deref())?;
        if let Some(name) = &input.table_name
            && !table_found
            && retired.is_empty()
        {
            return Err(TablesError::ResourceNotFound(format!(
                "Requested resource not found: Table: {name} not found"
            )));
        }
        for r in &retired {
            add(&r.table, &r.stream);
        }
        all.sort_by(|(a_created, a), (b_created, b)| {
            a.table_name
                .cmp(&b.table_name)
                .then(a_created.total_cmp(b_created))
        });
        let all: Vec<StreamSummary> = all.into_iter().map(|(_, s)| s).collect();
        if let Some(arn) = &input.exclusive_start_stream_arn {
            check_stream_arn(arn)?;
        }
        let start = match &input.exclusive_start_stream_arn {
            Some(arn) => all
                .iter()
                .position(|s| s.stream_arn.as_deref() == Some(arn))
                .map_or(0, |i| i + 1),
            None => 0,
        };
        let page: Vec<_> = all.iter().skip(start).take(limit).cloned().collect();
        let more = start + page.len() < all.len();
        Ok(ListStreamsOutput {
            last_evaluated_stream_arn: if more {
                page.last().and_then(|s| s.stream_arn.clone())
            } else {
                None
            },
            streams: Some(page),
        })
    }

    pub fn describe_stream(&self, input: DescribeStreamInput) -> Result<DescribeStreamOutput> {
        let mut v = Violations::new();
        v.required(&input.stream_arn, "streamArn");
        v.range(input.limit, "limit", 1, Some(MAX_LIST));
        v.finish()?;
        let arn = required(input.stream_arn, "streamArn")?;
        let RetiredStream {
            table,
            key_schema,
            stream,
        } = self.stream_of(&arn)?;
        let bounds = self.log_bounds(&stream)?;
        let shard_id = stream.shard_id();
        // The one shard has no parent and no children: a CHILD_SHARDS filter finds none, and a
        // page that starts after it is empty.
        let listed = input.exclusive_start_shard_id.is_none()
            && input.shard_filter.as_ref().and_then(|f| f.kind.as_deref()) != Some("CHILD_SHARDS");
        let shards = if listed {
            vec![Shard {
                shard_id: Some(shard_id),
                sequence_number_range: Some(SequenceNumberRange {
                    starting_sequence_number: Some(sequence_number(bounds.start())),
                    ending_sequence_number: stream.disabled.and(bounds.last).map(sequence_number),
                }),
                parent_shard_id: None,
            }]
        } else {
            Vec::new()
        };
        Ok(DescribeStreamOutput {
            stream_description: Some(StreamDescription {
                stream_arn: Some(arn),
                stream_label: Some(stream.label.clone()),
                stream_status: Some(stream.status().into()),
                stream_view_type: Some(stream.view_type.clone()),
                creation_request_date_time: Some(stream.created),
                table_name: Some(table),
                key_schema: Some(key_schema.describe()),
                shards: Some(shards),
                last_evaluated_shard_id: None,
            }),
        })
    }

    pub fn get_shard_iterator(
        &self,
        input: GetShardIteratorInput,
    ) -> Result<GetShardIteratorOutput> {
        let mut v = Violations::new();
        v.required(&input.stream_arn, "streamArn");
        v.required(&input.shard_id, "shardId");
        v.required(&input.shard_iterator_type, "shardIteratorType");
        v.one_of(
            input.shard_iterator_type.as_deref(),
            "shardIteratorType",
            &[
                "TRIM_HORIZON",
                "LATEST",
                "AT_SEQUENCE_NUMBER",
                "AFTER_SEQUENCE_NUMBER",
            ],
        );
        if let Some(n) = input.sequence_number.as_deref() {
            if n.len() < 21 {
                v.add(
                    Some(n),
                    "sequenceNumber",
                    "Member must have length greater than or equal to 21",
                );
            }
            if n.len() > 40 {
                v.add(
                    Some(n),
                    "sequenceNumber",
                    "Member must have length less than or equal to 40",
                );
            }
        }
        v.finish()?;
        let arn = required(input.stream_arn, "streamArn")?;
        let kind = required(input.shard_iterator_type, "shardIteratorType")?;
        let stream = self.stream_of(&arn)?.stream;
        if input.shard_id.as_deref() != Some(stream.shard_id().as_str()) {
            return Err(TablesError::ResourceNotFound(format!(
                "Requested resource not found: Shard does not exist: {}",
                input.shard_id.unwrap_or_default()
            )));
        }
        let number = |text: Option<&str>| -> Result<u64> {
            let text = text.ok_or_else(|| {
                TablesError::validation(format!(
                    "A sequence number must be given with the shard iterator type {kind}"
                ))
            })?;
            text.parse::<u64>()
                .map_err(|_| TablesError::validation(format!("Invalid SequenceNumber: {text}")))
        };
        if let Some(n) = &input.sequence_number
            && (kind == "TRIM_HORIZON" || kind == "LATEST")
        {
            return Err(TablesError::validation(format!(
                "A sequence number ({n}) cannot be given with the shard iterator type {kind}"
            )));
        }
        let next = match kind.as_str() {
            "TRIM_HORIZON" => 0,
            "LATEST" => self.log_bounds(&stream)?.next(),
            "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
                let bounds = self.log_bounds(&stream)?;
                let n = number(input.sequence_number.as_deref())?;
                let after = kind == "AFTER_SEQUENCE_NUMBER";
                if n < bounds.start() && bounds.first.is_some() {
                    return Err(TablesError::TrimmedDataAccess(format!(
                        "The sequence number {} is beyond the trim horizon of the shard",
                        sequence_number(n)
                    )));
                }
                // The shard's starting number is valid even before its first record.
                if n == 0 || n > bounds.last.unwrap_or(0).max(bounds.start()) {
                    return Err(TablesError::validation(format!(
                        "Invalid SequenceNumber for the shard: {} is not a sequence number of {}",
                        sequence_number(n),
                        stream.shard_id()
                    )));
                }
                if after { n + 1 } else { n }
            }
            _ => {
                return Err(TablesError::validation(format!(
                    "The shard iterator type {kind} is not supported by DynamoDB Streams"
                )));
            }
        };
        let iterator = Iterator {
            arn,
            id: stream.id,
            next,
            issued: now_millis(),
        };
        Ok(GetShardIteratorOutput {
            shard_iterator: Some(iterator.encode()),
        })
    }

    pub fn get_records(&self, input: GetRecordsInput) -> Result<GetRecordsOutput> {
        let mut v = Violations::new();
        v.required(&input.shard_iterator, "shardIterator");
        v.range(input.limit, "limit", 1, Some(MAX_RECORDS));
        if let Some(text) = &input.shard_iterator
            && (text.is_empty() || text.len() > 2048)
        {
            let constraint = if text.is_empty() {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 2048"
            };
            v.add(Some(text), "shardIterator", constraint);
        }
        v.finish()?;
        let text = required(input.shard_iterator, "shardIterator")?;
        let iterator = Iterator::decode(&text)
            .ok_or_else(|| TablesError::validation("Invalid ShardIterator"))?;
        let now = now_millis();
        if now.saturating_sub(iterator.issued) > ITERATOR_LIFETIME_MILLIS {
            return Err(TablesError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {}",
                iterator.issued, now
            )));
        }
        let RetiredStream { table, stream, .. } = self.stream_of(&iterator.arn)?;
        if stream.id != iterator.id {
            return Err(stream_not_found(&iterator.arn));
        }
        let prefix = keys::stream_log(&stream.id);
        let limit = input.limit.unwrap_or(MAX_RECORDS) as usize;
        let mut records = Vec::new();
        let mut last_read = None;
        let mut bytes_read = 0usize;
        let mut failure = None;
        let mut more = false;
        let range = KeyRange {
            start: Bound::Included(append_key(&prefix, iterator.next)),
            end: KeyRange::prefix(&prefix).end,
        };
        self.store
            .scan(&range, Direction::Forward, &mut |key, bytes| {
                let Some(n) = append_number(&prefix, key) else {
                    return ControlFlow::Continue(());
                };
                if records.len() >= limit
                    || (bytes_read > 0 && bytes_read + bytes.len() > MAX_RECORDS_BYTES)
                {
                    more = true;
                    return ControlFlow::Break(());
                }
                match decode_record(bytes, n, &stream, &self.config.region) {
                    Ok(record) => {
                        bytes_read += bytes.len();
                        records.push(record);
                        last_read = Some(n);
                        ControlFlow::Continue(())
                    }
                    Err(e) => {
                        failure = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })?;
        if let Some(e) = failure {
            return Err(e);
        }
        let next = match last_read {
            Some(n) => n + 1,
            None => iterator.next,
        };
        // A closed shard read to its end has no next iterator.
        let closed_and_done = stream.disabled.is_some() && !more;
        let next_shard_iterator = (!closed_and_done).then(|| {
            Iterator {
                next,
                issued: now,
                ..iterator
            }
            .encode()
        });
        self.usage.record(UsageRecord::StreamRead {
            table,
            read_units: 1.0,
        });
        Ok(GetRecordsOutput {
            records: Some(records),
            next_shard_iterator,
        })
    }

    /// Deletes stream records older than [`RETENTION_SECONDS`] (keeping each log's newest
    /// record, from which the store numbers the next) and streams disabled longer ago than
    /// that. Returns how many records were deleted.
    pub async fn trim_streams(&self, now: f64) -> Result<usize> {
        let metas = self
            .table_entries()?
            .into_iter()
            .flatten()
            .filter(|meta| !meta.streams.is_empty());
        let cutoff = now - RETENTION_SECONDS;
        let mut trimmed = 0;
        for retired in self.retired_streams(None)? {
            let stream = &retired.stream;
            if stream.disabled.is_some_and(|at| at < cutoff) {
                let mut batch = WriteBatch::new();
                batch
                    .delete(keys::retired_stream(&retired.table, &stream.label))
                    .delete_range(KeyRange::prefix(&keys::stream_log(&stream.id)));
                self.store.commit_async(batch).await?;
            } else {
                trimmed += self.trim_log(stream, (cutoff * 1000.0) as u64).await?;
            }
        }
        for meta in metas {
            let gone: Vec<[u8; 16]> = meta
                .streams
                .iter()
                .filter(|s| s.disabled.is_some_and(|at| at < cutoff))
                .map(|s| s.id)
                .collect();
            if !gone.is_empty() {
                self.forget_streams(&meta.name, &gone).await?;
            }
            for stream in meta.streams.iter().filter(|s| !gone.contains(&s.id)) {
                trimmed += self.trim_log(stream, (cutoff * 1000.0) as u64).await?;
            }
        }
        Ok(trimmed)
    }

    /// Removes the streams `ids` from the catalog entry of `table`, with their records.
    async fn forget_streams(&self, table: &str, ids: &[[u8; 16]]) -> Result<()> {
        let mut removed = Vec::new();
        let result = self
            .update_catalog(table, |meta| {
                removed = meta
                    .streams
                    .iter()
                    .filter(|s| ids.contains(&s.id))
                    .map(|s| s.id)
                    .collect();
                meta.streams.retain(|s| !ids.contains(&s.id));
                Ok(())
            })
            .await;
        match result {
            Ok(_) => {}
            // The table went away meanwhile: DeleteTable deleted the records.
            Err(TablesError::ResourceNotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut batch = WriteBatch::new();
        for id in removed {
            batch.delete_range(KeyRange::prefix(&keys::stream_log(&id)));
        }
        self.store.commit_async(batch).await?;
        Ok(())
    }

    /// Deletes the records of `stream` created before `cutoff` (epoch milliseconds), except
    /// the newest record of the log.
    async fn trim_log(&self, stream: &StreamMeta, cutoff: u64) -> Result<usize> {
        let prefix = keys::stream_log(&stream.id);
        let mut old = 0usize;
        let mut last_old = None;
        let mut first_newer = None;
        self.store.scan(
            &KeyRange::prefix(&prefix),
            Direction::Forward,
            &mut |key, bytes| {
                if old < TRIM_VISITS && created_of(bytes).is_some_and(|at| at < cutoff) {
                    old += 1;
                    last_old = Some(key.to_vec());
                    ControlFlow::Continue(())
                } else {
                    first_newer = Some(key.to_vec());
                    ControlFlow::Break(())
                }
            },
        )?;
        // Up to the first newer record; when every record is old, all but the newest.
        let (end, deleted) = match (first_newer, last_old) {
            (Some(newer), _) => (newer, old),
            (None, Some(last)) => (last, old - 1),
            (None, None) => return Ok(0),
        };
        if deleted == 0 {
            return Ok(0);
        }
        let mut batch = WriteBatch::new();
        batch.delete_range(KeyRange {
            start: Bound::Included(prefix),
            end: Bound::Excluded(end),
        });
        self.store.commit_async(batch).await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_refuse_garbage() {
        let it = Iterator {
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000"
                .into(),
            id: [7; 16],
            next: 42,
            issued: 1_700_000_000_000,
        };
        assert_eq!(Iterator::decode(&it.encode()), Some(it.clone()));
        assert_eq!(Iterator::decode("garbage"), None);
        assert_eq!(Iterator::decode(&format!("{}|1|zz", it.arn)), None);
        let mut text = it.encode();
        text.pop();
        assert_eq!(Iterator::decode(&text), None);
    }

    #[test]
    fn labels_are_iso_times_with_milliseconds() {
        assert_eq!(label_of(1_700_000_000.123), "2023-11-14T22:13:20.123");
        assert_eq!(sequence_number(7), "000000000000000000007");
    }

    #[test]
    fn stream_arns_name_table_and_label() {
        let arn =
            "arn:aws:dynamodb:us-east-1:000000000000:table/t.1/stream/2026-01-01T00:00:00.000";
        assert_eq!(
            parse_stream_arn(arn, "us-east-1", "000000000000"),
            Some(("t.1", "2026-01-01T00:00:00.000"))
        );
        assert_eq!(parse_stream_arn(arn, "eu-west-1", "000000000000"), None);
        assert_eq!(
            parse_stream_arn(
                "arn:aws:dynamodb:us-east-1:000000000000:table/t",
                "us-east-1",
                "000000000000"
            ),
            None
        );
    }

    use serde_json::{Value, json};

    use crate::testing::{call, ready, service};

    fn stream_call(tables: &Tables, operation: &str, body: Value) -> Result<Value> {
        let op = StreamOp::parse(operation, body.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&tables.execute_stream(op)?).expect("JSON"))
    }

    /// Every record of the stream `arn`, from its oldest.
    fn records(tables: &Tables, arn: &str) -> Vec<Value> {
        let shard = stream_call(tables, "DescribeStream", json!({"StreamArn": arn})).unwrap()
            ["StreamDescription"]["Shards"][0]["ShardId"]
            .clone();
        let mut it = stream_call(
            tables,
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .unwrap()["ShardIterator"]
            .clone();
        let mut all = Vec::new();
        loop {
            let page = stream_call(
                tables,
                "GetRecords",
                json!({"ShardIterator": it, "Limit": 2}),
            )
            .unwrap();
            let got = page["Records"].as_array().unwrap().clone();
            if got.is_empty() {
                return all;
            }
            all.extend(got);
            it = page["NextShardIterator"].clone();
            if it.is_null() {
                // A closed shard read to its end.
                return all;
            }
        }
    }

    /// Creates table `name` (string hash key `pk`) with a stream of `view`; returns the
    /// stream's ARN.
    fn create_with_stream(tables: &Tables, name: &str, view: &str) -> String {
        let created = call(
            tables,
            "CreateTable",
            json!({
                "TableName": name,
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": view},
            }),
        )
        .unwrap();
        created["TableDescription"]["LatestStreamArn"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn events(records: &[Value]) -> Vec<String> {
        records
            .iter()
            .map(|r| r["eventName"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn changes_are_recorded_in_order_with_the_images_of_the_view_type() {
        let (tables, _) = service();
        let arn = create_with_stream(&tables, "st1", "NEW_AND_OLD_IMAGES");
        let put = |item: Value| {
            call(
                &tables,
                "PutItem",
                json!({"TableName": "st1", "Item": item}),
            )
            .unwrap()
        };
        put(json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
        // The same item again, and a set in another order: no change, no record.
        put(json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
        put(json!({"pk": {"S": "a"}, "v": {"N": "2"}, "s": {"SS": ["x", "y"]}}));
        put(json!({"pk": {"S": "a"}, "v": {"N": "2"}, "s": {"SS": ["y", "x"]}}));
        call(
            &tables,
            "DeleteItem",
            json!({"TableName": "st1", "Key": {"pk": {"S": "a"}}}),
        )
        .unwrap();
        call(
            &tables,
            "DeleteItem",
            json!({"TableName": "st1", "Key": {"pk": {"S": "a"}}}),
        )
        .unwrap();
        let got = records(&tables, &arn);
        assert_eq!(events(&got), ["INSERT", "MODIFY", "REMOVE"]);
        assert_eq!(
            got[1]["dynamodb"]["OldImage"],
            json!({"pk": {"S": "a"}, "v": {"N": "1"}})
        );
        assert_eq!(got[1]["dynamodb"]["NewImage"]["v"], json!({"N": "2"}));
        assert!(got[0]["dynamodb"].get("OldImage").is_none());
        assert!(got[2]["dynamodb"].get("NewImage").is_none());
        let numbers: Vec<u64> = got
            .iter()
            .map(|r| {
                r["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        assert!(got.iter().all(|r| r.get("userIdentity").is_none()));
    }

    #[test]
    fn expiry_deletions_name_the_service_and_a_deleted_table_keeps_its_stream_a_day() {
        let (tables, _) = service();
        let arn = create_with_stream(&tables, "st2", "KEYS_ONLY");
        call(&tables, "UpdateTimeToLive", json!({"TableName": "st2", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})).unwrap();
        let now = crate::now_epoch_seconds();
        let exp = format!("{}", now as u64 - 10);
        call(
            &tables,
            "PutItem",
            json!({"TableName": "st2", "Item": {"pk": {"S": "k"}, "exp": {"N": exp}}}),
        )
        .unwrap();
        assert_eq!(ready(tables.expire_items(now)).unwrap(), 1);
        let got = records(&tables, &arn);
        assert_eq!(events(&got), ["INSERT", "REMOVE"]);
        assert_eq!(
            got[1]["userIdentity"],
            json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
        );
        assert_eq!(got[1]["dynamodb"]["Keys"], json!({"pk": {"S": "k"}}));

        call(&tables, "DeleteTable", json!({"TableName": "st2"})).unwrap();
        let described = stream_call(&tables, "DescribeStream", json!({"StreamArn": arn})).unwrap();
        assert_eq!(described["StreamDescription"]["StreamStatus"], "DISABLED");
        assert_eq!(records(&tables, &arn).len(), 2);
        let listed = stream_call(&tables, "ListStreams", json!({"TableName": "st2"})).unwrap();
        assert_eq!(listed["Streams"][0]["StreamArn"], arn.as_str());
        // A day later the stream and its records are gone.
        ready(tables.trim_streams(now + RETENTION_SECONDS + 10.0)).unwrap();
        assert!(matches!(
            stream_call(&tables, "DescribeStream", json!({"StreamArn": arn})),
            Err(TablesError::ResourceNotFound(_))
        ));
        let mut left = 0;
        tables
            .store
            .scan(
                &KeyRange::prefix(b"tables/r/"),
                Direction::Forward,
                &mut |_, _| {
                    left += 1;
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn trimming_keeps_the_newest_record_and_numbering_goes_on() {
        let (tables, _) = service();
        let arn = create_with_stream(&tables, "st3", "NEW_IMAGE");
        for k in ["a", "b", "c"] {
            call(
                &tables,
                "PutItem",
                json!({"TableName": "st3", "Item": {"pk": {"S": k}}}),
            )
            .unwrap();
        }
        let later = crate::now_epoch_seconds() + RETENTION_SECONDS + 10.0;
        assert_eq!(ready(tables.trim_streams(later)).unwrap(), 2);
        let left = records(&tables, &arn);
        assert_eq!(left.len(), 1);
        assert_eq!(
            left[0]["dynamodb"]["SequenceNumber"],
            "000000000000000000003"
        );
        call(
            &tables,
            "PutItem",
            json!({"TableName": "st3", "Item": {"pk": {"S": "d"}}}),
        )
        .unwrap();
        let left = records(&tables, &arn);
        assert_eq!(
            left[1]["dynamodb"]["SequenceNumber"],
            "000000000000000000004"
        );
    }
}
