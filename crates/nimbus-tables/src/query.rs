//! Query and Scan: range scans over a table's items with DynamoDB's paging rules (Limit counts
//! items read before the filter; a page stops after 1 MB of items read), filters, projections,
//! Select, and parallel scan segments.

use std::borrow::Cow;
use std::ops::{Bound, ControlFlow};

use nimbus_store::{Direction, KeyRange, prefix_successor};
use nimbus_tables_model::expr::RangeCondition;
use nimbus_tables_model::{AttributeValue, Item, itemcodec, keycodec};

use crate::api::*;
use crate::capacity::{Consumed, IndexUnits, Report, read_units};
use crate::catalog::{IndexMeta, KeyAttribute};
use crate::error::{Result, TablesError};
use crate::expressions::{ExpressionParams, Expressions};
use crate::items::Table;
use crate::validate::Violations;
use crate::{Tables, keys};

/// Items read per page, in bytes of item size, before a page ends.
const PAGE_BYTES: usize = 1024 * 1024;

/// What a Query or Scan returns of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    Specific,
    Count,
}

/// Checks `Select` against the projection as DynamoDB does (`operation`: Query or Scan).
fn select(
    operation: &str,
    value: Option<&str>,
    projection: Option<&str>,
    index: Option<&str>,
) -> Result<Select> {
    let mut v = Violations::new();
    v.one_of(
        value,
        "select",
        &[
            "SPECIFIC_ATTRIBUTES",
            "COUNT",
            "ALL_ATTRIBUTES",
            "ALL_PROJECTED_ATTRIBUTES",
        ],
    );
    v.finish()?;
    // Query words these as constraint violations; Scan gives the bare phrase.
    let envelope = if operation == "Query" {
        "1 validation error detected: "
    } else {
        ""
    };
    let refuse = |message: String| Err(TablesError::validation(format!("{envelope}{message}")));
    match (value, projection) {
        (Some("ALL_ATTRIBUTES"), Some(p)) => refuse(format!(
            "Cannot specify the {p} when choosing to get ALL_ATTRIBUTES"
        )),
        (Some("COUNT"), Some(p)) => refuse(format!(
            "Cannot specify the {p} when choosing to get only the Count"
        )),
        (Some("ALL_PROJECTED_ATTRIBUTES"), _) if index.is_none() => refuse(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName".into(),
        ),
        (Some("SPECIFIC_ATTRIBUTES"), None) => refuse(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES".into(),
        ),
        (Some("COUNT"), None) => Ok(Select::Count),
        (_, Some(_)) => Ok(Select::Specific),
        _ => Ok(Select::All),
    }
}

/// One page of a Query or Scan.
struct Page {
    items: Vec<Item>,
    count: i64,
    scanned: i64,
    last_key: Option<Item>,
    /// The units of everything read: the table's or index's items, and the table's items
    /// fetched for a local index.
    consumed: Consumed,
    /// Of `consumed`, the units of the items fetched from the table for a local index.
    fetched: f64,
}

/// The shared parameters of reading one page.
struct PageRequest<'a> {
    source: &'a Source<'a>,
    range: KeyRange,
    direction: Direction,
    limit: Option<usize>,
    consistent: bool,
    expressions: &'a Expressions,
    select: Select,
}

/// What a Query or Scan reads: the table, or one of its secondary indexes seen as a table of
/// its own (the index's id and key schema), whose items are the index entries.
struct Source<'a> {
    /// The table read, or whose index is read.
    table: &'a Table,
    view: Cow<'a, Table>,
    index: Option<&'a IndexMeta>,
    /// A local index asked for attributes it does not project: each item is fetched from the
    /// table, before the filter and the projection apply.
    fetch: bool,
}

impl<'a> Source<'a> {
    /// The source of a read, with what an index restricts and the key paths of the
    /// expressions checked.
    fn open(
        table: &'a Table,
        index_name: Option<&str>,
        select: Option<&str>,
        expressions: &Expressions,
        consistent: bool,
    ) -> Result<Source<'a>> {
        let mut source = Source::of(table, index_name)?;
        // A projection fetches from the table only what the index does not carry.
        let unprojected = expressions.projection().is_some_and(|p| {
            source.index.is_some_and(|index| {
                p.paths
                    .iter()
                    .any(|path| !index.projects(&table.meta.key_schema, path.top()))
            })
        });
        source.fetch = source.check_read(select, unprojected, consistent)?;
        expressions.check_key_paths(&table.meta)?;
        if let Some(index) = source.index {
            expressions.check_filter_projected(index, &table.meta.key_schema)?;
        }
        Ok(source)
    }

    fn of(table: &'a Table, index_name: Option<&str>) -> Result<Source<'a>> {
        let Some(name) = index_name else {
            return Ok(Source {
                table,
                view: Cow::Borrowed(table),
                index: None,
                fetch: false,
            });
        };
        let index = table
            .meta
            .indexes
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| missing_index(name))?;
        let mut meta = table.meta.clone();
        meta.id = index.id;
        meta.key_schema = index.key_schema.clone();
        meta.indexes = Vec::new();
        Ok(Source {
            table,
            view: Cow::Owned(Table {
                meta,
                catalog_bytes: Vec::new(),
            }),
            index: Some(index),
            fetch: false,
        })
    }

    /// Checks the read options an index restricts; whether the items must be fetched from the
    /// table (`unprojected`: the projection names an attribute the index does not carry).
    fn check_read(
        &self,
        select: Option<&str>,
        unprojected: bool,
        consistent: bool,
    ) -> Result<bool> {
        let Some(index) = self.index else {
            return Ok(false);
        };
        if index.global && consistent {
            return Err(TablesError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if index.projects_all() {
            return Ok(false);
        }
        let all = select == Some("ALL_ATTRIBUTES");
        if index.global && all {
            return Err(TablesError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                index.name
            )));
        }
        Ok(!index.global && (all || unprojected))
    }

    /// The store key of an `ExclusiveStartKey` of an index: exactly the index keys and the
    /// table keys, with their declared types.
    fn index_start(&self, start: &Item) -> Result<Vec<u8>> {
        let table = self.table;
        let invalid = || TablesError::validation("The provided starting key is invalid");
        let index = self.index.ok_or_else(invalid)?;
        let keys: Vec<&KeyAttribute> = index
            .key_schema
            .attributes()
            .chain(table.meta.key_schema.attributes())
            .collect();
        let mut names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if start.len() != names.len() || names.iter().any(|n| !start.contains_key(*n)) {
            return Err(invalid());
        }
        if keys
            .iter()
            .any(|k| keycodec::KeyType::of(&start[&k.name]) != Some(k.kind))
        {
            return Err(TablesError::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            ));
        }
        match table.meta.index_entry(index, start) {
            Ok(Some((_, key))) => Ok(key),
            _ => Err(invalid()),
        }
    }
}

impl Tables {
    /// Reads one page of `request.range`.
    fn read_page(&self, request: PageRequest<'_>) -> Result<Page> {
        let mut page = Page {
            items: Vec::new(),
            count: 0,
            scanned: 0,
            last_key: None,
            consumed: Consumed::default(),
            fetched: 0.0,
        };
        let mut bytes = 0usize;
        let mut failure = None;
        let source = request.source;
        let meta = &source.view.meta;
        // Reading an index: the table's keys complete LastEvaluatedKey.
        let primary = source.index.map(|_| &source.table.meta.key_schema);
        let fetch = source.fetch.then_some(source.table);
        let keep = |page: &mut Page, item: Item| {
            if request.expressions.filter_keeps(&item) {
                page.count += 1;
                match (request.select, request.expressions.projection()) {
                    (Select::Count, _) => {}
                    (_, Some(p)) => page.items.push(p.apply(&item)),
                    (_, None) => page.items.push(item),
                }
            }
        };
        let mut entries = Vec::new();
        self.store
            .scan(&request.range, request.direction, &mut |_, value| {
                let item = match itemcodec::decode(value) {
                    Ok(item) => item,
                    Err(e) => {
                        failure = Some(e.into());
                        return ControlFlow::Break(());
                    }
                };
                page.scanned += 1;
                bytes += itemcodec::item_size(&item);
                let full = request.limit.is_some_and(|l| page.scanned as usize >= l)
                    || bytes >= PAGE_BYTES;
                if full {
                    let mut last = meta.key_of(&item);
                    if let Some(primary) = primary {
                        last.extend(primary.attributes().filter_map(|a| {
                            item.get(&a.name).map(|v| (a.name.clone(), v.clone()))
                        }));
                    }
                    page.last_key = Some(last);
                }
                if fetch.is_some() {
                    entries.push(item);
                } else {
                    keep(&mut page, item);
                }
                if full {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(table) = fetch {
            // After the scan, not inside it: each entry's item is read from the table, and
            // each such read is charged on its own, rounded up as a GetItem is.
            for entry in entries {
                let key = table.meta.key_from_key(&table.meta.key_of(&entry))?;
                if let Some(stored) = self.read_item(&key)? {
                    page.fetched += read_units(stored.size, request.consistent);
                    keep(&mut page, stored.item);
                }
            }
        }
        page.consumed = Consumed::read(read_units(bytes, request.consistent) + page.fetched);
        Ok(page)
    }

    pub fn query(&self, input: QueryInput) -> Result<QueryOutput> {
        // As DynamoDB: the members' constraints together, then the expressions, then the table.
        let mut v = Violations::new();
        v.table_name(input.table_name.as_deref());
        v.strict_name(input.index_name.as_deref(), "indexName");
        // Query words this one apart from Scan (whose message echoes `'0' at 'limit'`).
        if input.limit.is_some_and(|limit| limit < 1) {
            v.add_unechoed("Limit", "Member must have value greater than or equal to 1");
        }
        Report::check(&mut v, input.return_consumed_capacity.as_deref());
        v.finish()?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let expressions = Expressions::parse(ExpressionParams {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            projection: input.projection_expression.as_deref(),
            filter: input.filter_expression.as_deref(),
            key_condition: input.key_condition_expression.as_deref(),
            attributes_to_get: input.attributes_to_get.as_deref(),
            query_filter: input.query_filter.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
            key_conditions: input.key_conditions.as_ref(),
            value_users: &["FilterExpression", "KeyConditionExpression"],
            ..ExpressionParams::default()
        })?;
        let select = select(
            "Query",
            input.select.as_deref(),
            projection_name(&input.projection_expression, &input.attributes_to_get),
            input.index_name.as_deref(),
        )?;
        let table = self.item_table(input.table_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        let source = Source::open(
            &table,
            input.index_name.as_deref(),
            input.select.as_deref(),
            &expressions,
            consistent,
        )?;
        let view = source.view.as_ref();
        let (hash, condition) = expressions.key_condition(&view.meta.key_schema)?.ok_or_else(|| {
            TablesError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            )
        })?;
        expressions.check_filter_spares_key(&view.meta.key_schema)?;
        let mut range =
            key_condition_range(view, &hash, condition.as_ref(), source.index.is_some())?;
        let forward = input.scan_index_forward.unwrap_or(true);
        if let Some(start) = &input.exclusive_start_key {
            let start = match source.index {
                None => query_starting_key(&table, start, &hash, condition.as_ref())?,
                Some(index) => {
                    let key = source.index_start(start)?;
                    if start.get(&index.key_schema.hash.name) != Some(&hash) {
                        return Err(TablesError::validation(
                            "The provided starting key is outside query boundaries based on provided conditions",
                        ));
                    }
                    key
                }
            };
            if forward {
                range.start = Bound::Excluded(start);
            } else {
                range.end = Bound::Excluded(start);
            }
        }
        let page = self.read_page(PageRequest {
            source: &source,
            range,
            direction: if forward {
                Direction::Forward
            } else {
                Direction::Reverse
            },
            limit: input.limit.map(|l| l as usize),
            consistent,
            expressions: &expressions,
            select,
        })?;
        Ok(self.page_output(&source, page, select, report, "Query"))
    }

    pub fn scan(&self, input: ScanInput) -> Result<ScanOutput> {
        let mut v = Violations::new();
        v.table_name(input.table_name.as_deref());
        v.strict_name(input.index_name.as_deref(), "indexName");
        Report::check(&mut v, input.return_consumed_capacity.as_deref());
        v.range(input.limit, "limit", 1, None);
        v.range(input.total_segments, "totalSegments", 1, Some(1_000_000));
        v.range(input.segment, "segment", 0, Some(999_999));
        v.finish()?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let expressions = Expressions::parse(ExpressionParams {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            projection: input.projection_expression.as_deref(),
            filter: input.filter_expression.as_deref(),
            attributes_to_get: input.attributes_to_get.as_deref(),
            scan_filter: input.scan_filter.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
            value_users: &["FilterExpression"],
            ..ExpressionParams::default()
        })?;
        let select = select(
            "Scan",
            input.select.as_deref(),
            projection_name(&input.projection_expression, &input.attributes_to_get),
            input.index_name.as_deref(),
        )?;
        let table = self.item_table(input.table_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        let source = Source::open(
            &table,
            input.index_name.as_deref(),
            input.select.as_deref(),
            &expressions,
            consistent,
        )?;
        let view = source.view.as_ref();
        let mut range = segment_range(view, input.segment, input.total_segments)?;
        if let Some(start) = &input.exclusive_start_key {
            let start = match source.index {
                None => starting_key(&table, start)?,
                Some(_) => source.index_start(start)?,
            };
            // A parallel scan resumes only inside its own segment.
            if let (Some(segment), Some(total)) = (input.segment, input.total_segments)
                && !range.contains(&start)
            {
                return Err(TablesError::validation(format!(
                    "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
                )));
            }
            range.start = Bound::Excluded(start);
        }
        let page = self.read_page(PageRequest {
            source: &source,
            range,
            direction: Direction::Forward,
            limit: input.limit.map(|l| l as usize),
            consistent,
            expressions: &expressions,
            select,
        })?;
        Ok(self.page_output(&source, page, select, report, "Scan"))
    }

    fn page_output(
        &self,
        source: &Source<'_>,
        page: Page,
        select: Select,
        report: Report,
        operation: &'static str,
    ) -> QueryOutput {
        let table = source.table;
        self.record_usage(&table.meta.name, operation, &page.consumed);
        // The units of an index read are the index's; the table's are only those of the items
        // fetched from it (for a local index's unprojected attributes).
        let mut consumed = page.consumed.clone();
        if let Some(index) = source.index {
            consumed.note_index(IndexUnits {
                name: index.name.clone(),
                global: index.global,
                units: page.consumed.read - page.fetched,
            });
        }
        let consumed = consumed.report(&table.meta.name, report);
        QueryOutput {
            items: (select != Select::Count).then_some(page.items),
            count: Some(page.count),
            scanned_count: Some(page.scanned),
            last_evaluated_key: page.last_key,
            consumed_capacity: consumed,
        }
    }
}

/// Which projection parameter a request used, by its wire name.
fn projection_name(
    expression: &Option<String>,
    attributes_to_get: &Option<Vec<String>>,
) -> Option<&'static str> {
    if expression.is_some() {
        Some("ProjectionExpression")
    } else if attributes_to_get.is_some() {
        Some("AttributesToGet")
    } else {
        None
    }
}

fn missing_index(index: &str) -> TablesError {
    TablesError::validation(format!(
        "The table does not have the specified index: {index}"
    ))
}

/// The store key of a Query's `ExclusiveStartKey`, which must be a key of the table inside
/// the queried partition and satisfy the sort key condition.
fn query_starting_key(
    table: &Table,
    start: &Item,
    hash: &AttributeValue,
    condition: Option<&RangeCondition>,
) -> Result<Vec<u8>> {
    let key = match table.meta.key_from_key(start) {
        Ok(key) => key,
        Err(TablesError::Validation(_)) => {
            return Err(TablesError::validation(
                "The provided starting key is invalid",
            ));
        }
        Err(e) => return Err(e),
    };
    let schema = &table.meta.key_schema;
    if key.attributes.get(&schema.hash.name) != Some(hash) {
        return Err(TablesError::validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        ));
    }
    let sort = schema
        .range
        .as_ref()
        .and_then(|r| key.attributes.get(&r.name));
    if let (Some(condition), Some(sort)) = (condition, sort)
        && !condition.matches(sort)
    {
        return Err(TablesError::validation(
            "The provided starting key does not match the range key predicate",
        ));
    }
    Ok(key.store_key)
}

/// The store key of a Scan's `ExclusiveStartKey`.
fn starting_key(table: &Table, start: &Item) -> Result<Vec<u8>> {
    match table.meta.key_from_key(start) {
        Ok(key) => Ok(key.store_key),
        Err(TablesError::Validation(message)) => Err(TablesError::validation(format!(
            "The provided starting key is invalid: {message}"
        ))),
        Err(e) => Err(e),
    }
}

fn type_mismatch() -> TablesError {
    TablesError::validation(
        "One or more parameter values were invalid: Condition parameter type does not match schema type",
    )
}

/// The store range of the items a key condition selects. `suffixed`: the keys are index
/// entries, which continue after the sort key with the table's key, so a bound that must take
/// in every entry of one sort key value goes past all of them.
fn key_condition_range(
    table: &Table,
    hash_value: &AttributeValue,
    condition: Option<&RangeCondition>,
    suffixed: bool,
) -> Result<KeyRange> {
    let schema = &table.meta.key_schema;
    if keycodec::KeyType::of(hash_value) != Some(schema.hash.kind) {
        return Err(type_mismatch());
    }
    let (_, partition) = table.meta.partition_prefix(hash_value)?;
    let partition_end = match prefix_successor(&partition) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    let (Some(condition), Some(range_attr)) = (condition, schema.range.as_ref()) else {
        return Ok(KeyRange::prefix(&partition));
    };
    let at = |value: &AttributeValue| -> Result<Vec<u8>> {
        if keycodec::KeyType::of(value) != Some(range_attr.kind) {
            return Err(type_mismatch());
        }
        let mut key = partition.clone();
        keycodec::encode_key_value(value, &mut key)?;
        Ok(key)
    };
    let start = Bound::Included(partition.clone());
    // Just after every key that is `key` or starts with it.
    let past = |key: Vec<u8>| -> Bound<Vec<u8>> {
        if !suffixed {
            return Bound::Excluded(key);
        }
        match prefix_successor(&key) {
            Some(end) => Bound::Included(end),
            None => Bound::Unbounded,
        }
    };
    // Up to every key that is `key` or starts with it.
    let through = |key: Vec<u8>| -> Bound<Vec<u8>> {
        if !suffixed {
            return Bound::Included(key);
        }
        match prefix_successor(&key) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        }
    };
    Ok(match condition {
        RangeCondition::Eq(v) => {
            let key = at(v)?;
            KeyRange {
                start: Bound::Included(key.clone()),
                end: through(key),
            }
        }
        RangeCondition::Lt(v) => KeyRange {
            start,
            end: Bound::Excluded(at(v)?),
        },
        RangeCondition::Le(v) => KeyRange {
            start,
            end: through(at(v)?),
        },
        RangeCondition::Gt(v) => KeyRange {
            start: past(at(v)?),
            end: partition_end,
        },
        RangeCondition::Ge(v) => KeyRange {
            start: Bound::Included(at(v)?),
            end: partition_end,
        },
        RangeCondition::Between(low, high) => KeyRange {
            start: Bound::Included(at(low)?),
            end: through(at(high)?),
        },
        RangeCondition::BeginsWith(prefix) => {
            if range_attr.kind == keycodec::KeyType::N {
                return Err(TablesError::validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                ));
            }
            at(prefix)?;
            let mut key = partition.clone();
            key.extend_from_slice(&keycodec::encode_prefix(prefix)?);
            KeyRange::prefix(&key)
        }
    })
}

/// The store range of one segment of a parallel scan: a contiguous slice of the hash space.
fn segment_range(table: &Table, segment: Option<i64>, total: Option<i64>) -> Result<KeyRange> {
    let (segment, total) = match (segment, total) {
        (None, None) => return Ok(keys::data_range(&table.meta.id)),
        (Some(_), None) => {
            return Err(TablesError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ));
        }
        (None, Some(_)) => {
            return Err(TablesError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ));
        }
        (Some(s), Some(t)) => (s as u64, t as u64),
    };
    if segment >= total {
        return Err(TablesError::validation(format!(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
        )));
    }
    let prefix = keys::data_prefix(&table.meta.id);
    let bound = |s: u64| -> Vec<u8> {
        // The first hash of segment `s`: ceil(s * 2^32 / total).
        let first = (s << 32).div_ceil(total);
        let mut key = prefix.clone();
        key.extend_from_slice(&(first as u32).to_be_bytes());
        key
    };
    let start = Bound::Included(bound(segment));
    let end = if segment + 1 == total {
        match prefix_successor(&prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        }
    } else {
        Bound::Excluded(bound(segment + 1))
    };
    Ok(KeyRange { start, end })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{Value, json};

    use crate::testing::{call, create, service, validation_message};

    fn fill(t: &crate::Tables, n: usize) {
        for i in 0..n {
            call(t, "PutItem", json!({"TableName": "t1x", "Item": {"pk": {"S": format!("p{}", i % 7)}, "sk": {"N": i.to_string()}, "n": {"N": i.to_string()}}})).unwrap();
        }
    }

    fn keys_of(page: &Value) -> Vec<(String, String)> {
        page["Items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| (i["pk"]["S"].to_string(), i["sk"]["N"].to_string()))
            .collect()
    }

    #[test]
    fn scan_pages_with_limit() {
        let (t, _) = service();
        create(&t, "t1x", true);
        fill(&t, 20);
        let mut seen = Vec::new();
        let mut body = json!({"TableName": "t1x", "Limit": 6});
        loop {
            let page = call(&t, "Scan", body.clone()).unwrap();
            assert!(page["Count"].as_i64().unwrap() <= 6);
            seen.extend(keys_of(&page));
            match page.get("LastEvaluatedKey") {
                Some(last) => body["ExclusiveStartKey"] = last.clone(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20);
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 20);
        let count = call(&t, "Scan", json!({"TableName": "t1x", "Select": "COUNT"})).unwrap();
        assert_eq!(count["Count"], 20);
        assert_eq!(count["ScannedCount"], 20);
        assert!(count.get("Items").is_none());
    }

    #[test]
    fn parallel_scan_segments_partition_the_table() {
        let (t, _) = service();
        create(&t, "t1x", true);
        fill(&t, 40);
        let mut all = Vec::new();
        for segment in 0..4 {
            let mut body =
                json!({"TableName": "t1x", "Segment": segment, "TotalSegments": 4, "Limit": 3});
            loop {
                let page = call(&t, "Scan", body.clone()).unwrap();
                all.extend(keys_of(&page));
                match page.get("LastEvaluatedKey") {
                    Some(last) => body["ExclusiveStartKey"] = last.clone(),
                    None => break,
                }
            }
        }
        assert_eq!(all.len(), 40);
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 40);
        assert!(
            validation_message(call(
                &t,
                "Scan",
                json!({"TableName": "t1x", "Segment": 4, "TotalSegments": 4})
            ))
            .contains("must be less than")
        );
        assert!(
            validation_message(call(&t, "Scan", json!({"TableName": "t1x", "Segment": 1})))
                .contains("TotalSegments")
        );
    }

    #[test]
    fn select_and_index_validation() {
        let (t, _) = service();
        create(&t, "t1x", true);
        assert_eq!(
            validation_message(call(
                &t,
                "Scan",
                json!({"TableName": "t1x", "Select": "ALL_PROJECTED_ATTRIBUTES"})
            )),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        );
        assert_eq!(
            validation_message(call(
                &t,
                "Scan",
                json!({"TableName": "t1x", "IndexName": "byX"})
            )),
            "The table does not have the specified index: byX"
        );
        assert_eq!(
            validation_message(call(&t, "Query", json!({"TableName": "t1x"}))),
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        );
    }

    #[test]
    fn query_key_conditions_order_and_filter() {
        let (t, _) = service();
        create(&t, "t1x", true);
        fill(&t, 35);
        let query = |expr: &str, values: Value, extra: Value| {
            let mut body = json!({"TableName": "t1x", "KeyConditionExpression": expr,
                "ExpressionAttributeValues": values});
            for (k, v) in extra.as_object().into_iter().flatten() {
                body[k] = v.clone();
            }
            call(&t, "Query", body).unwrap()
        };
        // p0 holds sk 0, 7, 14, 21, 28.
        let all = query("pk = :p", json!({":p": {"S": "p0"}}), json!({}));
        assert_eq!(all["Count"], 5);
        assert_eq!(all["Items"][1]["sk"], json!({"N": "7"}));
        let reverse = query(
            "pk = :p",
            json!({":p": {"S": "p0"}}),
            json!({"ScanIndexForward": false}),
        );
        assert_eq!(reverse["Items"][0]["sk"], json!({"N": "28"}));
        let between = query(
            "pk = :p AND sk BETWEEN :a AND :b",
            json!({":p": {"S": "p0"}, ":a": {"N": "7"}, ":b": {"N": "21"}}),
            json!({}),
        );
        assert_eq!(between["Count"], 3);
        let greater = query(
            "pk = :p AND sk > :a",
            json!({":p": {"S": "p0"}, ":a": {"N": "7"}}),
            json!({}),
        );
        assert_eq!(greater["Count"], 3);
        let filtered = query(
            "pk = :p",
            json!({":p": {"S": "p0"}, ":x": {"N": "10"}}),
            json!({"FilterExpression": "n > :x", "Limit": 4}),
        );
        assert_eq!(filtered["Count"], 2);
        assert_eq!(filtered["ScannedCount"], 4);
        assert_eq!(
            filtered["LastEvaluatedKey"],
            json!({"pk": {"S": "p0"}, "sk": {"N": "21"}})
        );
        let rest = query(
            "pk = :p",
            json!({":p": {"S": "p0"}}),
            json!({"ExclusiveStartKey": filtered["LastEvaluatedKey"].clone()}),
        );
        assert_eq!(rest["Count"], 1);
        let start = |key: Value, condition: &str| {
            let body = json!({"TableName": "t1x", "KeyConditionExpression": condition,
                "ExpressionAttributeValues": {":p": {"S": "p0"}, ":a": {"N": "7"}},
                "ExclusiveStartKey": key});
            validation_message(call(&t, "Query", body))
        };
        assert_eq!(
            start(json!({"pk": {"S": "p0"}}), "pk = :p AND sk > :a"),
            "The provided starting key is invalid"
        );
        assert_eq!(
            start(
                json!({"pk": {"S": "p1"}, "sk": {"N": "8"}}),
                "pk = :p AND sk > :a"
            ),
            "The provided starting key is outside query boundaries based on provided conditions"
        );
        assert_eq!(
            start(
                json!({"pk": {"S": "p0"}, "sk": {"N": "7"}}),
                "pk = :p AND sk > :a"
            ),
            "The provided starting key does not match the range key predicate"
        );
        let on_key = call(
            &t,
            "Query",
            json!({"TableName": "t1x", "KeyConditionExpression": "pk = :p",
            "FilterExpression": "sk > :x", "ExpressionAttributeValues": {":p": {"S": "p0"}, ":x": {"N": "1"}}}),
        );
        assert_eq!(
            validation_message(on_key),
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
        );
        let mismatch = call(
            &t,
            "Query",
            json!({"TableName": "t1x", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"N": "1"}}}),
        );
        assert!(validation_message(mismatch).contains("does not match schema type"));
    }
}
