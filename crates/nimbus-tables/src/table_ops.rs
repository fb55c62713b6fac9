//! Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, tags,
//! UpdateTimeToLive, DescribeTimeToLive, DescribeLimits and DescribeEndpoints.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use nimbus_store::{Direction, Error as StoreError, WriteBatch};
use nimbus_tables_model::itemcodec;

use crate::api::*;
use crate::catalog::{
    BillingMode, Counters, IndexMeta, KeyAttribute, KeySchema, PartitionOrder, RetiredStream,
    StreamMeta, TableMeta, Throughput, parse_key_type,
};
use crate::error::{Result, TablesError};
use crate::validate::{Violations, first_repeated, required};
use crate::{Tables, keys, now_epoch_seconds};

/// Most attempts of an optimistic catalog update before giving up.
const MAX_ATTEMPTS: usize = 64;
/// Most tags a table may carry.
const MAX_TAGS: usize = 50;

const ACTIVE: &str = "ACTIVE";
/// What the answer to CreateTable says, as DynamoDB's always does.
const CREATING: &str = "CREATING";
/// What the answer to UpdateTable says, as DynamoDB's does; the change is done when it is sent
/// and DescribeTable shows the table ACTIVE again.
const UPDATING: &str = "UPDATING";

impl Tables {
    /// Validates `TableName` (a name, or a table ARN of this region and account) and returns
    /// the table name.
    pub(crate) fn table_name(&self, raw: Option<&str>) -> Result<String> {
        let raw = required(raw, "tableName")?;
        if let Some(name) = self.name_from_arn(raw) {
            return Ok(name.to_string());
        }
        let mut v = Violations::new();
        v.name(Some(raw), "tableName");
        v.finish()?;
        Ok(raw.to_string())
    }

    /// The table name in a table ARN of this region and account.
    fn name_from_arn<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let prefix = format!(
            "arn:aws:dynamodb:{}:{}:table/",
            self.config.region, self.config.account_id
        );
        arn.strip_prefix(&prefix).filter(|n| !n.contains('/'))
    }

    /// The catalog entry of `name` and its stored bytes, if the table exists.
    pub(crate) fn find_table(&self, name: &str) -> Result<Option<(TableMeta, Vec<u8>)>> {
        match self.store.get(&keys::catalog(name))? {
            Some(bytes) => Ok(Some((TableMeta::decode(&bytes)?, bytes))),
            None => Ok(None),
        }
    }

    /// The catalog entry of `name`, or DescribeTable's ResourceNotFoundException.
    fn existing_table(&self, name: &str) -> Result<(TableMeta, Vec<u8>)> {
        self.find_table(name)?.ok_or_else(|| {
            TablesError::ResourceNotFound(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })
    }

    /// Item count and size of a table, summed over its stripes.
    pub(crate) fn counters(&self, meta: &TableMeta) -> Result<Counters> {
        self.counters_of(&meta.id)
    }

    /// The counters kept under `id`: a table's or an index's.
    fn counters_of(&self, id: &[u8; 16]) -> Result<Counters> {
        let mut total = Counters::default();
        let mut corrupt = None;
        self.store.scan(
            &keys::stats_range(id),
            Direction::Forward,
            &mut |_, value| match Counters::decode(value) {
                Ok(c) => {
                    total.items += c.items;
                    total.bytes += c.bytes;
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    corrupt = Some(e);
                    ControlFlow::Break(())
                }
            },
        )?;
        match corrupt {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }

    fn description(&self, meta: &TableMeta, status: &str) -> Result<TableDescription> {
        let counters = self.counters(meta)?;
        let index_counters = meta
            .indexes
            .iter()
            .map(|index| self.counters_of(&index.id))
            .collect::<Result<Vec<_>>>()?;
        Ok(meta.describe(
            status,
            counters,
            &index_counters,
            &self.config.region,
            &self.config.account_id,
        ))
    }

    /// Commits a batch that writes the catalog entry of `name`, then drops the cached entry
    /// (whatever the outcome: a failed commit may still have been applied).
    async fn commit_catalog(&self, name: &str, batch: WriteBatch) -> nimbus_store::Result<()> {
        let result = self.store.commit_async(batch).await;
        self.catalog.forget(name);
        result
    }

    /// Applies `change` to the catalog entry of `name` with optimistic retries; returns the
    /// new entry.
    pub(crate) async fn update_catalog(
        &self,
        name: &str,
        mut change: impl FnMut(&mut TableMeta) -> Result<()>,
    ) -> Result<TableMeta> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut meta, old) = self.existing_table(name)?;
            change(&mut meta)?;
            let mut batch = WriteBatch::new();
            batch
                .check_equals(keys::catalog(name), old)
                .put(keys::catalog(name), meta.encode()?);
            match self.commit_catalog(name, batch).await {
                Ok(()) => return Ok(meta),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TablesError::Internal(format!(
            "catalog entry of {name} kept changing"
        )))
    }

    /// Every catalog entry, decoded (an undecodable one as its error, for the caller to skip
    /// or report).
    pub(crate) fn table_entries(&self) -> Result<Vec<Result<TableMeta>>> {
        let mut entries = Vec::new();
        self.store.scan(
            &keys::catalog_range(),
            Direction::Forward,
            &mut |_, bytes| {
                entries.push(TableMeta::decode(bytes));
                ControlFlow::Continue(())
            },
        )?;
        Ok(entries)
    }

    pub async fn create_table(&self, input: CreateTableInput) -> Result<CreateTableOutput> {
        if input.table_name.is_none() {
            return Err(TablesError::validation(
                "The parameter 'TableName' is required but was not present in the request",
            ));
        }
        let mut v = Violations::new();
        v.required(&input.attribute_definitions, "attributeDefinitions");
        v.required(&input.key_schema, "keySchema");
        v.required(&input.table_name, "tableName");
        v.name(input.table_name.as_deref(), "tableName");
        if let Some(schema) = &input.key_schema {
            let len = schema.len() as i64;
            if !(1..=2).contains(&len) {
                let constraint = if len < 1 {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 2"
                };
                // Echoed as DynamoDB renders the list (its Java objects' text).
                let echo = schema
                    .iter()
                    .map(|e| {
                        format!(
                            "KeySchemaElement(attributeName={}, keyType={})",
                            e.attribute_name.as_deref().unwrap_or("null"),
                            e.key_type.as_deref().unwrap_or("null")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                v.add(Some(&format!("[{echo}]")), "keySchema", constraint);
            }
            key_schema_constraints(&mut v, "keySchema", schema);
        }
        for (i, def) in input.attribute_definitions.iter().flatten().enumerate() {
            let path = format!("attributeDefinitions.{}.member", i + 1);
            v.required(&def.attribute_name, &format!("{path}.attributeName"));
            key_name_length(&mut v, &def.attribute_name, &path);
            v.required(&def.attribute_type, &format!("{path}.attributeType"));
            v.one_of(
                def.attribute_type.as_deref(),
                &format!("{path}.attributeType"),
                &["B", "N", "S"],
            );
        }
        for (list, kind) in [
            (&input.global_secondary_indexes, "globalSecondaryIndexes"),
            (&input.local_secondary_indexes, "localSecondaryIndexes"),
        ] {
            for (i, index) in list.iter().flatten().enumerate() {
                index_constraints(&mut v, &format!("{kind}.{}.member", i + 1), index);
            }
        }
        check_billing(
            &mut v,
            input.billing_mode.as_deref(),
            input.table_class.as_deref(),
            input.provisioned_throughput.as_ref(),
        );
        v.finish()?;

        let (Some(name), Some(schema), Some(definitions)) = (
            input.table_name,
            input.key_schema,
            input.attribute_definitions,
        ) else {
            return Err(TablesError::Internal("validated members missing".into()));
        };

        let billing_mode = billing_mode(
            input.billing_mode.as_deref(),
            input.provisioned_throughput.as_ref(),
        )?;
        let key_schema = key_schema(&schema, &definitions)?;
        for (list, kind) in [
            (&input.local_secondary_indexes, "LocalSecondaryIndexes"),
            (&input.global_secondary_indexes, "GlobalSecondaryIndexes"),
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                return Err(TablesError::validation(format!(
                    "One or more parameter values were invalid: List of {kind} is empty"
                )));
            }
        }
        let indexes = secondary_indexes(
            input
                .global_secondary_indexes
                .as_deref()
                .unwrap_or_default(),
            input.local_secondary_indexes.as_deref().unwrap_or_default(),
            &key_schema,
            &definitions,
            billing_mode,
            &[],
        )?;
        let tags = input.tags.unwrap_or_default();
        validate_tags(&tags)?;
        if let Some(stream) = &input.stream_specification {
            validate_stream(stream, true)?;
        }

        let throughput = match &input.provisioned_throughput {
            Some(p) if billing_mode == BillingMode::Provisioned => Throughput {
                read: p.read_capacity_units.unwrap_or(0),
                write: p.write_capacity_units.unwrap_or(0),
                ..Throughput::default()
            },
            _ => Throughput::default(),
        };
        let created = now_epoch_seconds();
        let streams = StreamMeta::enabled_by(input.stream_specification.as_ref(), created)
            .into_iter()
            .collect();
        let meta = TableMeta {
            name: name.clone(),
            id: *uuid::Uuid::new_v4().as_bytes(),
            key_schema,
            attribute_definitions: definitions,
            billing_mode,
            billing_mode_given: input.billing_mode.is_some(),
            throughput,
            last_update_to_pay_per_request: None,
            created,
            tags,
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
            table_class: input.table_class,
            stream: input.stream_specification,
            sse: input.sse_specification,
            ttl_attribute: None,
            indexes,
            streams,
            on_demand: input.on_demand_throughput,
            partition_order: PartitionOrder::Md5,
        };
        let mut batch = WriteBatch::new();
        batch
            .check_absent(keys::catalog(&name))
            .put(keys::catalog(&name), meta.encode()?);
        match self.commit_catalog(&name, batch).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(TablesError::ResourceInUse(format!(
                    "Table already exists: {name}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(table = %name, "table created");
        // The table takes requests at once, so DescribeTable shows it ACTIVE; the answer to
        // CreateTable itself says CREATING, as DynamoDB's always does.
        Ok(CreateTableOutput {
            table_description: Some(meta.describe(
                CREATING,
                Counters::default(),
                &[],
                &self.config.region,
                &self.config.account_id,
            )),
        })
    }

    pub fn describe_table(&self, input: DescribeTableInput) -> Result<DescribeTableOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        let (meta, _) = self.existing_table(&name)?;
        Ok(DescribeTableOutput {
            table: Some(self.description(&meta, ACTIVE)?),
        })
    }

    pub fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        let mut v = Violations::new();
        v.range(input.limit, "limit", 1, Some(100));
        v.strict_name(
            input.exclusive_start_table_name.as_deref(),
            "exclusiveStartTableName",
        );
        v.finish()?;
        let limit = input.limit.unwrap_or(100) as usize;
        let mut range = keys::catalog_range();
        if let Some(start) = &input.exclusive_start_table_name {
            range.start = Bound::Excluded(keys::catalog(start));
        }
        let mut names = Vec::new();
        let mut more = false;
        self.store.scan(&range, Direction::Forward, &mut |key, _| {
            if names.len() == limit {
                more = true;
                return ControlFlow::Break(());
            }
            if let Some(name) = keys::table_name_of(key) {
                names.push(name.to_string());
            }
            ControlFlow::Continue(())
        })?;
        let last = if more { names.last().cloned() } else { None };
        Ok(ListTablesOutput {
            table_names: Some(names),
            last_evaluated_table_name: last,
        })
    }

    pub async fn update_table(&self, input: UpdateTableInput) -> Result<UpdateTableOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        let mut v = Violations::new();
        for (i, update) in input
            .global_secondary_index_updates
            .iter()
            .flatten()
            .enumerate()
        {
            if let Some(create) = &update.create {
                let path = format!("globalSecondaryIndexUpdates.{}.member.create", i + 1);
                index_constraints(&mut v, &path, create);
            }
        }
        check_billing(
            &mut v,
            input.billing_mode.as_deref(),
            input.table_class.as_deref(),
            input.provisioned_throughput.as_ref(),
        );
        v.finish()?;
        if input.replica_updates.is_some() {
            return Err(TablesError::validation(
                "One or more parameter values were invalid: Replicas are not supported",
            ));
        }
        // Whether anything but global indexes changes.
        let others = input.provisioned_throughput.is_some()
            || input.billing_mode.is_some()
            || input.stream_specification.is_some()
            || input.sse_specification.is_some()
            || input.table_class.is_some()
            || input.deletion_protection_enabled.is_some()
            || input.on_demand_throughput.is_some()
            || input.warm_throughput.is_some();
        if let Some(updates) = &input.global_secondary_index_updates {
            // Checked before the table is looked up.
            let named = |u: &GlobalSecondaryIndexUpdate| {
                [&u.create, &u.delete, &u.update]
                    .into_iter()
                    .flatten()
                    .find_map(|i| i.index_name.clone())
            };
            for update in updates {
                let given = [
                    update.create.is_some(),
                    update.delete.is_some(),
                    update.update.is_some(),
                ];
                if given.iter().filter(|g| **g).count() > 1 {
                    return Err(TablesError::validation(
                        "One or more parameter values were invalid: only one of Create, Update or Delete can be given in one GlobalSecondaryIndexUpdate",
                    ));
                }
            }
            let names: Vec<String> = updates.iter().filter_map(named).collect();
            if let Some(twice) = first_repeated(&names) {
                return Err(TablesError::validation(format!(
                    "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: {twice}"
                )));
            }
            if updates.is_empty() && !others {
                return Err(nothing_to_update());
            }
            let online = updates
                .iter()
                .filter(|u| u.create.is_some() || u.delete.is_some())
                .count();
            if online > 1 {
                return Err(TablesError::LimitExceeded(
                    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
                ));
            }
            self.update_global_indexes(
                &name,
                updates,
                input.attribute_definitions.as_deref().unwrap_or_default(),
            )
            .await?;
            if !others {
                let (meta, _) = self.existing_table(&name)?;
                return Ok(UpdateTableOutput {
                    table_description: Some(self.description(&meta, UPDATING)?),
                });
            }
        }
        if !others {
            return Err(nothing_to_update());
        }
        if let Some(stream) = &input.stream_specification {
            validate_stream(stream, false)?;
        }
        let now = now_epoch_seconds();
        let meta = self.update_catalog(&name, |meta| {
            let mode = match input.billing_mode.as_deref() {
                Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
                Some(_) => BillingMode::Provisioned,
                None => meta.billing_mode,
            };
            match (mode, &input.provisioned_throughput) {
                (BillingMode::PayPerRequest, Some(_)) => {
                    return Err(TablesError::validation(
                        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                (BillingMode::Provisioned, None) if meta.billing_mode != mode => {
                    return Err(TablesError::validation(
                        "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                    ));
                }
                (BillingMode::Provisioned, Some(p)) => {
                    change_throughput(meta, p, mode, now)?;
                }
                _ => {}
            }
            if mode == BillingMode::PayPerRequest && meta.billing_mode != mode {
                meta.last_update_to_pay_per_request = Some(now);
                meta.throughput.read = 0;
                meta.throughput.write = 0;
            }
            meta.billing_mode = mode;
            meta.billing_mode_given |= input.billing_mode.is_some();
            if let Some(protect) = input.deletion_protection_enabled {
                meta.deletion_protection = protect;
            }
            if let Some(limits) = &input.on_demand_throughput {
                let kept = meta.on_demand.get_or_insert_with(OnDemandThroughput::default);
                if limits.max_read_request_units.is_some() {
                    kept.max_read_request_units = limits.max_read_request_units;
                }
                if limits.max_write_request_units.is_some() {
                    kept.max_write_request_units = limits.max_write_request_units;
                }
            }
            if let Some(class) = &input.table_class {
                meta.table_class = Some(class.clone());
            }
            if let Some(stream) = &input.stream_specification {
                change_stream(meta, stream, now)?;
            }
            if let Some(sse) = &input.sse_specification {
                meta.sse = Some(sse.clone());
            }
            Ok(())
        })
        .await?;
        Ok(UpdateTableOutput {
            table_description: Some(self.description(&meta, UPDATING)?),
        })
    }

    /// Creates, deletes and changes global secondary indexes, in order. A new index is filled
    /// from the table's items before the call returns (so it is `ACTIVE` at once).
    async fn update_global_indexes(
        &self,
        name: &str,
        updates: &[GlobalSecondaryIndexUpdate],
        definitions: &[AttributeDefinition],
    ) -> Result<()> {
        for update in updates {
            match (&update.create, &update.delete, &update.update) {
                (Some(create), None, None) => {
                    let index = self.create_global_index(name, create, definitions).await?;
                    self.fill_index(name, &index).await?;
                }
                (None, Some(delete), None) => {
                    let index_name = required(delete.index_name.as_deref(), "indexName")?;
                    self.delete_global_index(name, index_name).await?;
                }
                (None, None, Some(change)) => {
                    let index_name = required(change.index_name.as_deref(), "indexName")?;
                    self.update_catalog(name, |meta| {
                        let billing = meta.billing_mode;
                        let index = meta
                            .indexes
                            .iter_mut()
                            .find(|i| i.global && i.name == index_name)
                            .ok_or_else(|| missing_index(index_name))?;
                        if let Some(p) = &change.provisioned_throughput {
                            if billing == BillingMode::PayPerRequest {
                                return Err(TablesError::validation(format!(
                                    "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: {index_name} when BillingMode is PAY_PER_REQUEST"
                                )));
                            }
                            index.throughput.read = p.read_capacity_units.unwrap_or(0);
                            index.throughput.write = p.write_capacity_units.unwrap_or(0);
                        }
                        Ok(())
                    })
                    .await?;
                }
                _ => {
                    return Err(TablesError::validation(
                        "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds a global index to the catalog; every write from then on keeps it.
    async fn create_global_index(
        &self,
        name: &str,
        create: &SecondaryIndex,
        definitions: &[AttributeDefinition],
    ) -> Result<IndexMeta> {
        // The request defines the new index's key attributes itself, even those the table
        // already knows.
        let keys: Vec<&str> = create
            .key_schema
            .iter()
            .flatten()
            .filter_map(|k| k.attribute_name.as_deref())
            .collect();
        let defined: Vec<&str> = definitions
            .iter()
            .filter_map(|d| d.attribute_name.as_deref())
            .collect();
        if keys.iter().any(|k| !defined.contains(k)) {
            return Err(TablesError::validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                defined.join(", ")
            )));
        }
        let mut created = None;
        self.update_catalog(name, |meta| {
            let mut merged = meta.attribute_definitions.clone();
            for def in definitions {
                match merged
                    .iter()
                    .find(|d| d.attribute_name == def.attribute_name)
                {
                    Some(known) if known.attribute_type != def.attribute_type => {
                        return Err(TablesError::validation(format!(
                            "One or more parameter values were invalid: Attributes cannot be redefined: the type of attribute {} is already defined",
                            def.attribute_name.as_deref().unwrap_or_default()
                        )));
                    }
                    Some(_) => {}
                    None => merged.push(def.clone()),
                }
            }
            let [index] = <[IndexMeta; 1]>::try_from(secondary_indexes(
                std::slice::from_ref(create),
                &[],
                &meta.key_schema,
                &merged,
                meta.billing_mode,
                &meta.indexes,
            )?)
            .map_err(|_| TablesError::Internal("one index expected".into()))?;
            meta.attribute_definitions = merged;
            meta.indexes.push(index.clone());
            created = Some(index);
            Ok(())
        })
        .await?;
        created.ok_or_else(|| TablesError::Internal("the index was not created".into()))
    }

    /// Writes the entries of the table's items into a new index, a page at a time. Each page
    /// commits with checks that its items and the catalog are as read and that no entry was
    /// written meanwhile (by a concurrent write, which keeps the index already), so nothing is
    /// counted twice; a conflict reads the page again.
    async fn fill_index(&self, name: &str, index: &IndexMeta) -> Result<()> {
        const PAGE: usize = 100;
        let mut after: Option<Vec<u8>> = None;
        'pages: loop {
            for _ in 0..MAX_ATTEMPTS {
                let (meta, catalog_bytes) = self.existing_table(name)?;
                if !meta.indexes.iter().any(|i| i.id == index.id) {
                    return Ok(());
                }
                let mut range = keys::data_range(&meta.id);
                if let Some(key) = &after {
                    range.start = Bound::Excluded(key.clone());
                }
                let mut page: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
                self.store.scan(&range, Direction::Forward, &mut |k, v| {
                    page.push((k.to_vec(), v.to_vec()));
                    if page.len() >= PAGE {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })?;
                let Some((last, _)) = page.last() else {
                    return Ok(());
                };
                let last = last.clone();
                let mut batch = WriteBatch::new();
                batch.check_equals(keys::catalog(name), catalog_bytes);
                let mut deltas: BTreeMap<Vec<u8>, Counters> = BTreeMap::new();
                for (key, bytes) in &page {
                    let item = itemcodec::decode(bytes)?;
                    // An item whose index key has the wrong type stays out of the index.
                    let Ok(Some((hash, entry))) = meta.index_entry(index, &item) else {
                        continue;
                    };
                    if self.store.get(&entry)?.is_some() {
                        continue;
                    }
                    let projected = index.project(&meta.key_schema, &item);
                    let delta = deltas.entry(keys::stats(&index.id, hash)).or_default();
                    delta.items += 1;
                    delta.bytes += itemcodec::item_size(&projected) as i64;
                    batch
                        .check(key.clone(), Some(bytes.clone()))
                        .check_absent(entry.clone())
                        .put(entry, itemcodec::encode(&projected));
                }
                for (stats, delta) in deltas {
                    batch.add(stats, delta.deltas());
                }
                match self.store.commit_async(batch).await {
                    Ok(()) => {
                        let full = page.len() >= PAGE;
                        after = Some(last);
                        if full {
                            continue 'pages;
                        }
                        return Ok(());
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            return Err(TablesError::Internal(format!(
                "the items of {name} kept changing while its index was filled"
            )));
        }
    }

    /// Removes a global index and its entries, and the attribute definitions no key uses
    /// any more.
    async fn delete_global_index(&self, name: &str, index_name: &str) -> Result<()> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut meta, old) = self.existing_table(name)?;
            let position = meta
                .indexes
                .iter()
                .position(|i| i.name == index_name)
                .ok_or_else(|| missing_index(index_name))?;
            if !meta.indexes[position].global {
                return Err(TablesError::validation(format!(
                    "One or more parameter values were invalid: Local secondary index {index_name} cannot be deleted"
                )));
            }
            let index = meta.indexes.remove(position);
            let used: Vec<String> = meta
                .key_schema
                .attributes()
                .chain(meta.indexes.iter().flat_map(|i| i.key_schema.attributes()))
                .map(|a| a.name.clone())
                .collect();
            meta.attribute_definitions
                .retain(|d| d.attribute_name.as_ref().is_some_and(|n| used.contains(n)));
            let mut batch = WriteBatch::new();
            batch
                .check_equals(keys::catalog(name), old)
                .put(keys::catalog(name), meta.encode()?)
                .delete_range(keys::data_range(&index.id))
                .delete_range(keys::stats_range(&index.id));
            match self.commit_catalog(name, batch).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TablesError::Internal(format!(
            "catalog entry of {name} kept changing"
        )))
    }

    pub async fn delete_table(&self, input: DeleteTableInput) -> Result<DeleteTableOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        for _ in 0..MAX_ATTEMPTS {
            let (meta, old) = self.existing_table(&name)?;
            if meta.deletion_protection {
                return Err(TablesError::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            let mut description = self.description(&meta, "DELETING")?;
            // DynamoDB's answer to DeleteTable leaves out the schema, the indexes and the
            // creation time.
            description.key_schema = None;
            description.attribute_definitions = None;
            description.creation_date_time = None;
            description.global_secondary_indexes = None;
            description.local_secondary_indexes = None;
            let mut batch = WriteBatch::new();
            batch
                .check_equals(keys::catalog(&name), old)
                .delete(keys::catalog(&name))
                .delete_range(keys::data_range(&meta.id))
                .delete_range(keys::stats_range(&meta.id));
            for index in &meta.indexes {
                batch
                    .delete_range(keys::data_range(&index.id))
                    .delete_range(keys::stats_range(&index.id));
            }
            // The table's streams stay readable, disabled, for a day (`streams.rs`).
            let now = now_epoch_seconds();
            for stream in &meta.streams {
                let retired = RetiredStream {
                    table: name.clone(),
                    key_schema: meta.key_schema.clone(),
                    stream: StreamMeta {
                        disabled: stream.disabled.or(Some(now)),
                        ..stream.clone()
                    },
                };
                let bytes = serde_json::to_vec(&retired)
                    .map_err(|e| TablesError::Internal(format!("encode stream: {e}")))?;
                batch.put(keys::retired_stream(&name, &stream.label), bytes);
            }
            match self.commit_catalog(&name, batch).await {
                Ok(()) => {
                    tracing::info!(table = %name, "table deleted");
                    return Ok(DeleteTableOutput {
                        table_description: Some(description),
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TablesError::Internal(format!(
            "catalog entry of {name} kept changing"
        )))
    }

    /// The table name of a resource ARN given to the tagging operations.
    fn tagged_table(&self, arn: Option<&str>) -> Result<String> {
        let arn = required(arn, "resourceArn")?;
        let name = self.name_from_arn(arn).ok_or_else(|| {
            if arn.starts_with("arn:aws:dynamodb:") && arn.contains(":table/") {
                TablesError::ResourceNotFound(format!(
                    "Requested resource not found: ResourcArn: {arn} not found"
                ))
            } else if !arn.starts_with("arn:") {
                TablesError::validation(format!(
                    "One or more parameter values were invalid: ARNs must start with 'arn:': {arn}"
                ))
            } else {
                TablesError::validation(format!(
                    "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
                ))
            }
        })?;
        if self.find_table(name)?.is_none() {
            return Err(TablesError::ResourceNotFound(format!(
                "Requested resource not found: ResourcArn: {arn} not found"
            )));
        }
        Ok(name.to_string())
    }

    pub async fn tag_resource(&self, input: TagResourceInput) -> Result<()> {
        let name = self.tagged_table(input.resource_arn.as_deref())?;
        let tags = required(input.tags, "tags")?;
        if tags.is_empty() {
            return Err(TablesError::validation(
                "Atleast one Tag needs to be provided as Input.",
            ));
        }
        validate_tags(&tags)?;
        self.update_catalog(&name, |meta| {
            for tag in &tags {
                match meta.tags.iter_mut().find(|t| t.key == tag.key) {
                    Some(existing) => existing.value = tag.value.clone(),
                    None => meta.tags.push(tag.clone()),
                }
            }
            if meta.tags.len() > MAX_TAGS {
                return Err(too_many_tags());
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Enables or disables time to live; expired items are then deleted by
    /// [`Tables::expire_items`].
    pub async fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        let spec = required(input.time_to_live_specification, "timeToLiveSpecification")?;
        let mut v = Violations::new();
        v.required(&spec.enabled, "timeToLiveSpecification.enabled");
        v.required(
            &spec.attribute_name,
            "timeToLiveSpecification.attributeName",
        );
        if let Some(attribute) = &spec.attribute_name {
            let length = attribute.chars().count();
            if length == 0 {
                v.add(
                    Some(attribute),
                    "timeToLiveSpecification.attributeName",
                    "Member must have length greater than or equal to 1",
                );
            } else if length > 255 {
                v.add(
                    Some(attribute),
                    "timeToLiveSpecification.attributeName",
                    "Member must have length less than or equal to 255",
                );
            }
        }
        v.finish()?;
        let (Some(enabled), Some(attribute)) = (spec.enabled, spec.attribute_name) else {
            return Err(TablesError::Internal("checked members are missing".into()));
        };
        self.update_catalog(&name, |meta| match (&meta.ttl_attribute, enabled) {
            (Some(_), true) => Err(TablesError::validation("TimeToLive is already enabled")),
            (None, false) => Err(TablesError::validation("TimeToLive is already disabled")),
            // Disabling names the attribute that is enabled.
            (Some(current), false) if *current != attribute => {
                Err(TablesError::validation(format!(
                    "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
                )))
            }
            _ => {
                meta.ttl_attribute = enabled.then(|| attribute.clone());
                Ok(())
            }
        })
        .await?;
        tracing::info!(table = %name, enabled, attribute = %attribute, "time to live changed");
        // Disabling answers without the attribute name, as DynamoDB does.
        Ok(UpdateTimeToLiveOutput {
            time_to_live_specification: Some(TimeToLiveSpecification {
                attribute_name: enabled.then_some(attribute),
                enabled: Some(enabled),
            }),
        })
    }

    pub fn describe_time_to_live(
        &self,
        input: DescribeTimeToLiveInput,
    ) -> Result<DescribeTimeToLiveOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        let (meta, _) = self.existing_table(&name)?;
        let status = if meta.ttl_attribute.is_some() {
            "ENABLED"
        } else {
            "DISABLED"
        };
        Ok(DescribeTimeToLiveOutput {
            time_to_live_description: Some(TimeToLiveDescription {
                time_to_live_status: Some(status.into()),
                attribute_name: meta.ttl_attribute,
            }),
        })
    }

    /// Nimbus keeps no backups: continuous backups and point-in-time recovery are described
    /// as they are, disabled.
    pub fn describe_continuous_backups(
        &self,
        input: DescribeContinuousBackupsInput,
    ) -> Result<ContinuousBackupsOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        self.backed_up_table(&name)?;
        Ok(no_backups())
    }

    /// Disabling point-in-time recovery succeeds (it is off); enabling it is refused.
    pub fn update_continuous_backups(
        &self,
        input: UpdateContinuousBackupsInput,
    ) -> Result<ContinuousBackupsOutput> {
        let name = self.table_name(input.table_name.as_deref())?;
        let spec = required(
            input.point_in_time_recovery_specification,
            "pointInTimeRecoverySpecification",
        )?;
        let enable = required(
            spec.point_in_time_recovery_enabled,
            "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
        )?;
        self.backed_up_table(&name)?;
        if enable {
            return Err(TablesError::ContinuousBackupsUnavailable(format!(
                "Point in time recovery cannot be enabled for table {name}: Nimbus keeps no backups"
            )));
        }
        Ok(no_backups())
    }

    /// The backup operations name a missing table with their own error.
    fn backed_up_table(&self, name: &str) -> Result<()> {
        match self.find_table(name)? {
            Some(_) => Ok(()),
            None => Err(TablesError::TableNotFound(format!(
                "Table not found: {name}"
            ))),
        }
    }

    pub async fn untag_resource(&self, input: UntagResourceInput) -> Result<()> {
        let name = self.tagged_table(input.resource_arn.as_deref())?;
        let keys = required(input.tag_keys, "tagKeys")?;
        if keys.is_empty() {
            return Err(TablesError::validation(
                "Atleast one Tag Key needs to be provided as Input.",
            ));
        }
        self.update_catalog(&name, |meta| {
            meta.tags
                .retain(|t| !keys.iter().any(|k| Some(k) == t.key.as_ref()));
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput> {
        let name = self.tagged_table(input.resource_arn.as_deref())?;
        let (meta, _) = self.existing_table(&name)?;
        Ok(ListTagsOfResourceOutput {
            tags: Some(meta.tags),
            next_token: None,
        })
    }

    pub fn describe_limits(&self, _input: DescribeLimitsInput) -> Result<DescribeLimitsOutput> {
        Ok(DescribeLimitsOutput {
            account_max_read_capacity_units: Some(80_000),
            account_max_write_capacity_units: Some(80_000),
            table_max_read_capacity_units: Some(40_000),
            table_max_write_capacity_units: Some(40_000),
        })
    }

    pub fn describe_endpoints(
        &self,
        _input: DescribeEndpointsRequest,
    ) -> Result<DescribeEndpointsResponse> {
        Ok(DescribeEndpointsResponse {
            endpoints: Some(vec![Endpoint {
                address: Some(self.config.endpoint.clone()),
                cache_period_in_minutes: Some(1440),
            }]),
        })
    }
}

/// The constraints on BillingMode, TableClass and ProvisionedThroughput.
fn check_billing(
    v: &mut Violations,
    billing_mode: Option<&str>,
    table_class: Option<&str>,
    throughput: Option<&ProvisionedThroughput>,
) {
    v.one_of(
        billing_mode,
        "billingMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    v.one_of(
        table_class,
        "tableClass",
        &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
    );
    if let Some(p) = throughput {
        v.required(
            &p.write_capacity_units,
            "provisionedThroughput.writeCapacityUnits",
        );
        v.range(
            p.write_capacity_units,
            "provisionedThroughput.writeCapacityUnits",
            1,
            None,
        );
        v.required(
            &p.read_capacity_units,
            "provisionedThroughput.readCapacityUnits",
        );
        v.range(
            p.read_capacity_units,
            "provisionedThroughput.readCapacityUnits",
            1,
            None,
        );
    }
}

/// The billing mode of a new table, checked against its throughput.
fn billing_mode(
    mode: Option<&str>,
    throughput: Option<&ProvisionedThroughput>,
) -> Result<BillingMode> {
    if mode == Some("PAY_PER_REQUEST") {
        if throughput.is_some() {
            return Err(TablesError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        return Ok(BillingMode::PayPerRequest);
    }
    let Some(p) = throughput else {
        return Err(TablesError::validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ));
    };
    for (units, what) in [
        (p.read_capacity_units, "ReadCapacityUnits"),
        (p.write_capacity_units, "WriteCapacityUnits"),
    ] {
        if let Some(units) = units
            && units > 1_000_000_000_000
        {
            return Err(TablesError::validation(format!(
                "Given value {units} for {what} is out of bounds"
            )));
        }
    }
    Ok(BillingMode::Provisioned)
}

/// Checks the KeySchema of a table or an index against AttributeDefinitions as DynamoDB does
/// and builds the key schema. That every definition is a key of the table or of an index is
/// checked by [`secondary_indexes`].
fn key_schema(
    schema: &[KeySchemaElement],
    definitions: &[AttributeDefinition],
) -> Result<KeySchema> {
    let names: Vec<&str> = schema
        .iter()
        .map(|k| k.attribute_name.as_deref().unwrap_or_default())
        .collect();
    let defined: Vec<&str> = definitions
        .iter()
        .map(|d| d.attribute_name.as_deref().unwrap_or_default())
        .collect();
    if let Some(name) = first_repeated(&defined) {
        return Err(TablesError::validation(format!(
            "Attribute Name is duplicated: {name}"
        )));
    }
    if names.len() > defined.len() {
        return Err(TablesError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    if names.iter().any(|n| !defined.contains(n)) {
        return Err(TablesError::validation(format!(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            names.join(", "),
            defined.join(", ")
        )));
    }
    if names.len() == 2 && names[0] == names[1] {
        return Err(TablesError::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    if schema[0].key_type.as_deref() != Some("HASH") {
        return Err(TablesError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = schema.get(1)
        && second.key_type.as_deref() != Some("RANGE")
    {
        return Err(TablesError::validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    let attribute = |name: &str| -> Result<KeyAttribute> {
        let kind = definitions
            .iter()
            .find(|d| d.attribute_name.as_deref() == Some(name))
            .and_then(|d| d.attribute_type.as_deref())
            .and_then(parse_key_type)
            .ok_or_else(|| {
                TablesError::validation(format!(
                    "One or more parameter values were invalid: Invalid attribute type for key attribute {name}"
                ))
            })?;
        Ok(KeyAttribute {
            name: name.to_string(),
            kind,
        })
    };
    Ok(KeySchema {
        hash: attribute(names[0])?,
        range: names.get(1).map(|n| attribute(n)).transpose()?,
    })
}

fn no_backups() -> ContinuousBackupsOutput {
    ContinuousBackupsOutput {
        continuous_backups_description: Some(ContinuousBackupsDescription {
            continuous_backups_status: Some("DISABLED".into()),
            point_in_time_recovery_description: Some(PointInTimeRecoveryDescription {
                point_in_time_recovery_status: Some("DISABLED".into()),
            }),
        }),
    }
}

fn nothing_to_update() -> TablesError {
    TablesError::validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
    )
}

fn missing_index(name: &str) -> TablesError {
    TablesError::ResourceNotFound(format!(
        "Requested resource not found: Index: {name} not found"
    ))
}

fn attribute_count_mismatch() -> TablesError {
    TablesError::validation(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
    )
}

/// Most local and global secondary indexes of one table.
const MAX_LOCAL_INDEXES: usize = 5;
const MAX_GLOBAL_INDEXES: usize = 20;

/// The secondary indexes of a CreateTable (or an UpdateTable's Create), whose member constraints
/// the request's checks have passed ([`index_constraints`]), checked further as DynamoDB does;
/// then every attribute definition must be a key of the table or of an index.
fn secondary_indexes(
    global: &[SecondaryIndex],
    local: &[SecondaryIndex],
    table: &KeySchema,
    definitions: &[AttributeDefinition],
    billing: BillingMode,
    existing: &[IndexMeta],
) -> Result<Vec<IndexMeta>> {
    let invalid = |m: String| {
        TablesError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    if local.len() > MAX_LOCAL_INDEXES {
        return Err(invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL_INDEXES}"
        )));
    }
    if global.len() + existing.iter().filter(|i| i.global).count() > MAX_GLOBAL_INDEXES {
        return Err(invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
        )));
    }
    let mut indexes: Vec<IndexMeta> = Vec::new();
    let all = global
        .iter()
        .map(|i| (true, i))
        .chain(local.iter().map(|i| (false, i)));
    for (is_global, index) in all {
        // The members were checked with the request's ([`index_constraints`]).
        let (Some(name), Some(schema), Some(projection)) =
            (&index.index_name, &index.key_schema, &index.projection)
        else {
            return Err(TablesError::Internal("checked members are missing".into()));
        };
        if existing.iter().any(|i| i.name == *name) {
            return Err(invalid(format!(
                "Attempting to create an index which already exists: {name}"
            )));
        }
        if indexes.iter().any(|i| i.name == *name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        if !(1..=2).contains(&schema.len()) {
            return Err(invalid(format!("Invalid KeySchema for index: {name}")));
        }
        if !is_global && table.range.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex".into(),
            ));
        }
        let key_schema = key_schema(schema, definitions)?;
        if !is_global {
            if key_schema.range.is_none() {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            }
            if key_schema.hash.name != table.hash.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                    key_schema.hash.name, table.hash.name
                )));
            }
        }
        let kind = match projection.projection_type.as_deref() {
            Some(kind) => kind.to_owned(),
            None => return Err(invalid("Unknown ProjectionType: null".into())),
        };
        let non_key = projection.non_key_attributes.clone().unwrap_or_default();
        if kind != "INCLUDE" && projection.non_key_attributes.is_some() {
            return Err(invalid(format!(
                "ProjectionType is {kind}, but NonKeyAttributes is specified"
            )));
        }
        if kind == "INCLUDE" && non_key.is_empty() {
            return Err(invalid(
                "ProjectionType is INCLUDE, but NonKeyAttributes is not specified".into(),
            ));
        }
        if let Some(repeated) = non_key
            .iter()
            .enumerate()
            .find_map(|(i, a)| non_key[..i].contains(a).then_some(a))
        {
            return Err(invalid(format!(
                "Duplicate attribute name in NonKeyAttributes of index {name}: {repeated}"
            )));
        }
        let mut throughput = Throughput::default();
        if is_global {
            match (billing, &index.provisioned_throughput) {
                (BillingMode::Provisioned, None) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput must be specified for index: {name}"
                    )));
                }
                (BillingMode::Provisioned, Some(p)) => {
                    throughput.read = p.read_capacity_units.unwrap_or(0);
                    throughput.write = p.write_capacity_units.unwrap_or(0);
                }
                (BillingMode::PayPerRequest, Some(_)) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )));
                }
                (BillingMode::PayPerRequest, None) => {}
            }
        }
        indexes.push(IndexMeta {
            name: name.clone(),
            id: *uuid::Uuid::new_v4().as_bytes(),
            global: is_global,
            key_schema,
            projection: kind,
            non_key_attributes: non_key,
            throughput,
        });
    }
    let mut used: Vec<&str> = table.attributes().map(|a| a.name.as_str()).collect();
    for index in existing.iter().chain(&indexes) {
        for attr in index.key_schema.attributes() {
            if !used.contains(&attr.name.as_str()) {
                used.push(&attr.name);
            }
        }
    }
    if used.len() != definitions.len() {
        return Err(attribute_count_mismatch());
    }
    Ok(indexes)
}

fn validate_tags(tags: &[Tag]) -> Result<()> {
    let mut v = Violations::new();
    for (i, tag) in tags.iter().enumerate() {
        let path = format!("tags.{}.member", i + 1);
        if let Some(key) = v.required(&tag.key, &format!("{path}.key")) {
            let len = key.chars().count();
            if !(1..=128).contains(&len) {
                v.add(
                    Some(key),
                    &format!("{path}.key"),
                    "Member must have length between 1 and 128",
                );
            }
        }
        if let Some(value) = v.required(&tag.value, &format!("{path}.value"))
            && value.chars().count() > 256
        {
            v.add(
                Some(value),
                &format!("{path}.value"),
                "Member must have length less than or equal to 256",
            );
        }
    }
    v.finish()?;
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    for (i, tag) in tags.iter().enumerate() {
        let key = tag.key.as_deref().unwrap_or_default();
        let value = tag.value.as_deref().unwrap_or_default();
        if !key.chars().all(tag_char) {
            return Err(TablesError::validation(format!(
                "The Tag Key provided is invalid, Key: {key}"
            )));
        }
        if !value.chars().all(tag_char) {
            return Err(TablesError::validation(format!(
                "The Tag Value provided is invalid, Value: {value}"
            )));
        }
        if key.starts_with("aws:") {
            return Err(TablesError::validation(format!(
                "Tag Key cannot be prefixed with aws:, Key: {key}"
            )));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(TablesError::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )));
        }
    }
    Ok(())
}

/// Key attribute names are 1 to 255 characters long (other attribute names up to 64 KB).
/// The member constraints of one index of CreateTable (`globalSecondaryIndexes.N.member`,
/// `localSecondaryIndexes.N.member`) or of an UpdateTable `Create`, which DynamoDB checks with
/// the rest of the request's before anything else.
fn index_constraints(v: &mut Violations, path: &str, index: &SecondaryIndex) {
    v.required(&index.index_name, &format!("{path}.indexName"));
    v.strict_name(index.index_name.as_deref(), &format!("{path}.indexName"));
    let schema_path = format!("{path}.keySchema");
    if let Some(schema) = v.required(&index.key_schema, &schema_path) {
        key_schema_constraints(v, &schema_path, schema);
    }
    v.required(&index.projection, &format!("{path}.projection"));
    if let Some(p) = &index.projection {
        v.one_of(
            p.projection_type.as_deref(),
            &format!("{path}.projection.projectionType"),
            &["ALL", "KEYS_ONLY", "INCLUDE"],
        );
    }
}

/// The member constraints of each element of the key schema at `path` (the table's or an
/// index's): a name of 1 to 255 characters and a KeyType of HASH or RANGE.
fn key_schema_constraints(v: &mut Violations, path: &str, schema: &[KeySchemaElement]) {
    for (i, element) in schema.iter().enumerate() {
        let member = format!("{path}.{}.member", i + 1);
        v.required(&element.attribute_name, &format!("{member}.attributeName"));
        key_name_length(v, &element.attribute_name, &member);
        v.required(&element.key_type, &format!("{member}.keyType"));
        v.one_of(
            element.key_type.as_deref(),
            &format!("{member}.keyType"),
            &["HASH", "RANGE"],
        );
    }
}

fn key_name_length(v: &mut Violations, name: &Option<String>, member: &str) {
    let Some(name) = name else { return };
    let constraint = match name.chars().count() {
        0 => "Member must have length greater than or equal to 1",
        1..=255 => return,
        _ => "Member must have length less than or equal to 255",
    };
    v.add(Some(name), &format!("{member}.attributeName"), constraint);
}

/// What DynamoDB allows in tag keys and values: letters, white space and numbers in any
/// script, and `+ - = . _ : /`.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "+-=._:/".contains(c)
}

/// More than [`MAX_TAGS`] on one table: DynamoDB refuses it as invalid input, not as a limit.
fn too_many_tags() -> TablesError {
    TablesError::validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

/// Checks a `StreamSpecification` of CreateTable (`creating`) or UpdateTable.
fn validate_stream(stream: &StreamSpecification, creating: bool) -> Result<()> {
    let mut v = Violations::new();
    v.required(&stream.stream_enabled, "streamSpecification.streamEnabled");
    v.one_of(
        stream.stream_view_type.as_deref(),
        "streamSpecification.streamViewType",
        &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"],
    );
    v.finish()?;
    match (stream.stream_enabled, &stream.stream_view_type) {
        (Some(true), None) => Err(TablesError::validation(
            "One or more parameter values were invalid: You must specify a StreamViewType when enabling a stream",
        )),
        (Some(false), Some(_)) if creating => Err(TablesError::validation(
            "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified",
        )),
        (Some(false), Some(_)) => Err(TablesError::validation(
            "One or more parameter values were invalid: You cannot modify the StreamViewType when disabling a stream",
        )),
        _ => Ok(()),
    }
}

/// Enables a new stream or disables the enabled one, as `spec` asks; DynamoDB refuses to
/// enable a second stream or to disable a stream the table does not have.
fn change_stream(meta: &mut TableMeta, spec: &StreamSpecification, now: f64) -> Result<()> {
    let enabled = meta.enabled_stream().is_some();
    match spec.stream_enabled {
        Some(true) if enabled => Err(TablesError::validation(format!(
            "Table already has an enabled stream: TableName: {}",
            meta.name
        ))),
        Some(false) if !enabled => Err(TablesError::validation(format!(
            "Table has no stream to disable: TableName: {}",
            meta.name
        ))),
        _ => {
            match StreamMeta::enabled_by(Some(spec), now) {
                Some(stream) => meta.streams.push(stream),
                None => {
                    if let Some(latest) = meta.streams.last_mut() {
                        latest.disabled = Some(now);
                    }
                }
            }
            meta.stream = Some(spec.clone());
            Ok(())
        }
    }
}

/// Applies a throughput change to a provisioned table.
fn change_throughput(
    meta: &mut TableMeta,
    requested: &ProvisionedThroughput,
    mode: BillingMode,
    now: f64,
) -> Result<()> {
    let read = requested
        .read_capacity_units
        .unwrap_or(meta.throughput.read);
    let write = requested
        .write_capacity_units
        .unwrap_or(meta.throughput.write);
    let t = &mut meta.throughput;
    if meta.billing_mode == mode && read == t.read && write == t.write {
        return Err(TablesError::validation(format!(
            "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
            t.read, t.write
        )));
    }
    if meta.billing_mode == mode {
        if read > t.read || write > t.write {
            t.last_increase = Some(now);
        }
        if read < t.read || write < t.write {
            t.last_decrease = Some(now);
            t.decreases_today += 1;
        }
    }
    t.read = read;
    t.write = write;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::TablesError;
    use crate::testing::{call, create, service, validation_message};

    #[test]
    fn create_describe_list_delete() {
        let (t, _) = service();
        let created = create(&t, "Music", true);
        let desc = &created["TableDescription"];
        assert_eq!(desc["TableStatus"], "CREATING");
        assert_eq!(
            desc["TableArn"],
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
        );
        assert_eq!(desc["KeySchema"][1]["KeyType"], "RANGE");
        assert_eq!(desc["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(desc["ProvisionedThroughput"]["ReadCapacityUnits"], 0);
        assert_eq!(desc["ItemCount"], 0);
        assert!(desc["CreationDateTime"].is_f64());

        let described = call(&t, "DescribeTable", json!({"TableName": "Music"})).unwrap();
        assert_eq!(described["Table"]["TableId"], desc["TableId"]);
        let by_arn = call(
            &t,
            "DescribeTable",
            json!({"TableName": "arn:aws:dynamodb:us-east-1:000000000000:table/Music"}),
        )
        .unwrap();
        assert_eq!(by_arn["Table"]["TableName"], "Music");

        assert!(matches!(
            call(&t, "CreateTable", json!({
                "TableName": "Music", "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            })),
            Err(TablesError::ResourceInUse(m)) if m == "Table already exists: Music"
        ));

        let deleted = call(&t, "DeleteTable", json!({"TableName": "Music"})).unwrap();
        assert_eq!(deleted["TableDescription"]["TableStatus"], "DELETING");
        assert!(matches!(
            call(&t, "DescribeTable", json!({"TableName": "Music"})),
            Err(TablesError::ResourceNotFound(m)) if m == "Requested resource not found: Table: Music not found"
        ));
        assert!(matches!(
            call(&t, "DeleteTable", json!({"TableName": "Music"})),
            Err(TablesError::ResourceNotFound(_))
        ));
    }

    #[test]
    fn list_tables_pages() {
        let (t, _) = service();
        for name in ["ccc", "aaa", "bbb"] {
            create(&t, name, false);
        }
        let all = call(&t, "ListTables", json!({})).unwrap();
        assert_eq!(all, json!({"TableNames": ["aaa", "bbb", "ccc"]}));
        let first = call(&t, "ListTables", json!({"Limit": 2})).unwrap();
        assert_eq!(
            first,
            json!({"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"})
        );
        let rest = call(&t, "ListTables", json!({"ExclusiveStartTableName": "bbb"})).unwrap();
        assert_eq!(rest, json!({"TableNames": ["ccc"]}));
        let message = validation_message(call(&t, "ListTables", json!({"Limit": 0})));
        assert_eq!(
            message,
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    fn create_body(keys: serde_json::Value, defs: serde_json::Value) -> serde_json::Value {
        json!({"TableName": "t1x", "BillingMode": "PAY_PER_REQUEST", "KeySchema": keys, "AttributeDefinitions": defs})
    }

    #[test]
    fn create_table_validation() {
        let (t, _) = service();
        let hash = json!([{"AttributeName": "pk", "KeyType": "HASH"}]);
        let cases = [
            (
                create_body(
                    hash.clone(),
                    json!([{"AttributeName": "x", "AttributeType": "S"}]),
                ),
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]",
            ),
            (
                create_body(
                    hash.clone(),
                    json!([{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}]),
                ),
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ),
            (
                create_body(
                    hash.clone(),
                    json!([{"AttributeName": "pk", "AttributeType": "BOOL"}]),
                ),
                "1 validation error detected: Value 'BOOL' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
            ),
            (
                create_body(
                    json!([{"AttributeName": "pk", "KeyType": "RANGE"}]),
                    json!([{"AttributeName": "pk", "AttributeType": "S"}]),
                ),
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(validation_message(call(&t, "CreateTable", body)), expected);
        }

        let mut provisioned = create_body(
            hash.clone(),
            json!([{"AttributeName": "pk", "AttributeType": "S"}]),
        );
        provisioned["BillingMode"] = json!("PROVISIONED");
        assert_eq!(
            validation_message(call(&t, "CreateTable", provisioned.clone())),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        );
        let mut on_demand = provisioned.clone();
        on_demand["BillingMode"] = json!("PAY_PER_REQUEST");
        on_demand["ProvisionedThroughput"] =
            json!({"ReadCapacityUnits": 1, "WriteCapacityUnits": 1});
        assert_eq!(
            validation_message(call(&t, "CreateTable", on_demand)),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        );
        let mut bad_name = provisioned.clone();
        bad_name["TableName"] = json!("a");
        assert_eq!(
            validation_message(call(&t, "CreateTable", bad_name)),
            "1 validation error detected: Value 'a' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
        let mut with_gsi = provisioned.clone();
        with_gsi["BillingMode"] = json!("PAY_PER_REQUEST");
        with_gsi
            .as_object_mut()
            .map(|m| m.remove("ProvisionedThroughput"));
        with_gsi["GlobalSecondaryIndexes"] = json!([]);
        assert_eq!(
            validation_message(call(&t, "CreateTable", with_gsi)),
            "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty"
        );
        assert_eq!(
            validation_message(call(&t, "CreateTable", json!({"TableName": "abc"}))),
            "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; Value null at 'keySchema' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn update_table_changes_billing_and_throughput() {
        let (t, _) = service();
        create(&t, "Music", false);
        let updated = call(
            &t,
            "UpdateTable",
            json!({"TableName": "Music", "BillingMode": "PROVISIONED",
                   "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
        )
        .unwrap();
        let desc = &updated["TableDescription"];
        assert_eq!(desc["BillingModeSummary"]["BillingMode"], "PROVISIONED");
        assert_eq!(desc["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
        let same = call(
            &t,
            "UpdateTable",
            json!({"TableName": "Music", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
        );
        assert!(
            validation_message(same)
                .starts_with("The provisioned throughput for the table will not change.")
        );
        let lower = call(
            &t,
            "UpdateTable",
            json!({"TableName": "Music", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 5}}),
        )
        .unwrap();
        assert_eq!(
            lower["TableDescription"]["ProvisionedThroughput"]["NumberOfDecreasesToday"],
            1
        );
        assert!(
            validation_message(call(&t, "UpdateTable", json!({"TableName": "Music"})))
                .starts_with("At least one of")
        );
        assert!(matches!(
            call(
                &t,
                "UpdateTable",
                json!({"TableName": "Nope", "BillingMode": "PAY_PER_REQUEST"})
            ),
            Err(TablesError::ResourceNotFound(_))
        ));
    }

    #[test]
    fn deletion_protection_blocks_delete() {
        let (t, _) = service();
        create(&t, "Music", false);
        call(
            &t,
            "UpdateTable",
            json!({"TableName": "Music", "DeletionProtectionEnabled": true}),
        )
        .unwrap();
        let message = validation_message(call(&t, "DeleteTable", json!({"TableName": "Music"})));
        assert!(message.contains("protected against deletion"));
        call(
            &t,
            "UpdateTable",
            json!({"TableName": "Music", "DeletionProtectionEnabled": false}),
        )
        .unwrap();
        call(&t, "DeleteTable", json!({"TableName": "Music"})).unwrap();
    }

    #[test]
    fn tags_by_arn() {
        let (t, _) = service();
        create(&t, "Music", false);
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Music";
        call(&t, "TagResource", json!({"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})).unwrap();
        call(
            &t,
            "TagResource",
            json!({"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "3"}]}),
        )
        .unwrap();
        call(
            &t,
            "UntagResource",
            json!({"ResourceArn": arn, "TagKeys": ["b"]}),
        )
        .unwrap();
        let tags = call(&t, "ListTagsOfResource", json!({"ResourceArn": arn})).unwrap();
        assert_eq!(tags, json!({"Tags": [{"Key": "a", "Value": "3"}]}));
        assert!(matches!(
            call(
                &t,
                "ListTagsOfResource",
                json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Nope"})
            ),
            Err(TablesError::ResourceNotFound(_))
        ));
        assert!(matches!(
            call(
                &t,
                "TagResource",
                json!({"ResourceArn": "bogus", "Tags": []})
            ),
            Err(TablesError::Validation(_))
        ));
    }

    #[test]
    fn limits_and_endpoints() {
        let (t, _) = service();
        let limits = call(&t, "DescribeLimits", json!({})).unwrap();
        assert_eq!(limits["TableMaxReadCapacityUnits"], 40000);
        let endpoints = call(&t, "DescribeEndpoints", json!({})).unwrap();
        assert_eq!(
            endpoints,
            json!({"Endpoints": [{"Address": "localhost:4566", "CachePeriodInMinutes": 1440}]})
        );
    }
}
