//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//!
//! Each statement is carried out by the item operation it stands for, with the statement's
//! paths and values turned into expression attribute names and values, so that validation,
//! conditions, capacity units, indexes and streams are exactly those of the plain API:
//! - `SELECT` is a Query when the WHERE clause has an equality on the partition key (the sort
//!   key condition, if any, becomes the key condition, the rest the filter), a Scan with the
//!   whole clause as its filter otherwise; a projected path comes back under its last name;
//! - `INSERT` is a PutItem on the condition that the key is new (else DuplicateItemException);
//! - `UPDATE` and `DELETE` take the item's key from the WHERE clause's equalities on the key
//!   attributes (all of them are required) and the rest as the condition; an UPDATE applies to
//!   an existing item only;
//! - `EXISTS(SELECT ...)` is a transaction's condition check.
//!
//! BatchExecuteStatement runs up to 25 reads (by full key) or 25 writes, each with its own
//! outcome; ExecuteTransaction runs up to 100 statements as TransactGetItems or
//! TransactWriteItems.

mod parse;

use std::collections::BTreeMap;

use nimbus_tables_model::{AttributeValue, Item};

use crate::Tables;
use crate::api::*;
use crate::catalog::KeySchema;
use crate::error::{Result, TablesError};
use crate::validate::Violations;
use parse::{Comparison, Expr, Operand, Path, Returning, Select, SetValue, Statement, Step};
use parse::{UpdateAction, Value};

/// The longest statement DynamoDB takes, in characters.
const MAX_STATEMENT: usize = 8192;
const MAX_BATCH: usize = 25;
const MAX_TRANSACTION: usize = 100;

const DUPLICATE: &str = "Duplicate primary key exists in table";

impl Tables {
    pub async fn execute_statement(
        &self,
        input: ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput> {
        let mut v = Violations::new();
        check_statement(&mut v, input.statement.as_deref(), "statement");
        check_parameters(&mut v, input.parameters.as_deref(), "parameters");
        v.range(input.limit, "limit", 1, None);
        check_capacity(&mut v, input.return_consumed_capacity.as_deref());
        v.finish()?;
        let (statement, parameters) = prepare(input.statement, input.parameters)?;
        let request = Request {
            parameters: &parameters,
            consistent_read: input.consistent_read,
            capacity: input.return_consumed_capacity,
            on_failure: input.return_values_on_condition_check_failure,
        };
        match statement {
            Statement::Select(select) => {
                let token = input
                    .next_token
                    .as_deref()
                    .map(|t| decode_token(t, &select))
                    .transpose()?;
                let page = self.select(&select, &request, input.limit, token)?;
                Ok(ExecuteStatementOutput {
                    items: Some(page.items),
                    next_token: page.last_key.as_ref().map(|key| encode_token(&select, key)),
                    consumed_capacity: page.consumed,
                    last_evaluated_key: page.last_key,
                })
            }
            write => {
                let written = self.write(write, &request).await?;
                Ok(ExecuteStatementOutput {
                    items: Some(written.item.into_iter().collect()),
                    consumed_capacity: written.consumed,
                    ..Default::default()
                })
            }
        }
    }

    pub async fn batch_execute_statement(
        &self,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput> {
        let mut v = Violations::new();
        check_list(
            &mut v,
            "statements",
            MAX_BATCH,
            input.statements.as_deref(),
            |s| (s.statement.as_deref(), s.parameters.as_deref()),
        );
        check_capacity(&mut v, input.return_consumed_capacity.as_deref());
        v.finish()?;
        let requests = input.statements.unwrap_or_default();
        let parsed: Vec<Result<(Statement, Vec<AttributeValue>)>> = requests
            .iter()
            .map(|r| prepare(r.statement.clone(), r.parameters.clone()))
            .collect();
        let reads = parsed
            .iter()
            .filter(|p| matches!(p, Ok((Statement::Select(_), _))))
            .count();
        let writes = parsed
            .iter()
            .filter(|p| matches!(p, Ok((s, _)) if !matches!(s, Statement::Select(_))))
            .count();
        if reads > 0 && writes > 0 {
            return Err(TablesError::validation(
                "Statements in a batch must be either all reads or all writes",
            ));
        }
        let mut responses = Vec::with_capacity(requests.len());
        let mut consumed = Vec::new();
        for (request, parsed) in requests.into_iter().zip(parsed) {
            let (table_name, result) = match parsed {
                Ok((statement, parameters)) => {
                    let table = statement_table(&statement).to_owned();
                    let request = Request {
                        parameters: &parameters,
                        consistent_read: request.consistent_read,
                        capacity: input.return_consumed_capacity.clone(),
                        on_failure: request.return_values_on_condition_check_failure,
                    };
                    let result = match statement {
                        Statement::Select(select) => self.batch_read(select, &request),
                        write => self.write(write, &request).await,
                    };
                    (Some(table), result)
                }
                Err(e) => (None, Err(e)),
            };
            responses.push(match result {
                Ok(outcome) => {
                    consumed.extend(outcome.consumed);
                    BatchStatementResponse {
                        table_name,
                        item: outcome.item,
                        ..Default::default()
                    }
                }
                Err(error) => {
                    // A statement refused before it ran names no table.
                    let ran = !matches!(error, TablesError::Validation(_));
                    BatchStatementResponse {
                        error: Some(batch_error(error)?),
                        table_name: table_name.filter(|_| ran),
                        ..Default::default()
                    }
                }
            });
        }
        Ok(BatchExecuteStatementOutput {
            responses: Some(responses),
            consumed_capacity: input
                .return_consumed_capacity
                .as_deref()
                .is_some_and(|c| c != "NONE")
                .then(|| merge_capacity(consumed)),
        })
    }

    pub async fn execute_transaction(
        &self,
        input: ExecuteTransactionInput,
    ) -> Result<ExecuteTransactionOutput> {
        let mut v = Violations::new();
        let list = input.transact_statements.as_deref();
        check_list(&mut v, "transactStatements", MAX_TRANSACTION, list, |s| {
            (s.statement.as_deref(), s.parameters.as_deref())
        });
        check_capacity(&mut v, input.return_consumed_capacity.as_deref());
        v.finish()?;
        let ExecuteTransactionInput {
            transact_statements,
            client_request_token,
            return_consumed_capacity,
        } = input;
        let requests = transact_statements.unwrap_or_default();
        let mut statements = Vec::with_capacity(requests.len());
        for request in requests {
            let (statement, parameters) = prepare(request.statement, request.parameters)?;
            statements.push((
                statement,
                parameters,
                request.return_values_on_condition_check_failure,
            ));
        }
        let reads = statements
            .iter()
            .filter(|(s, ..)| matches!(s, Statement::Select(_)))
            .count();
        if reads > 0 && reads < statements.len() {
            return Err(TablesError::validation(
                "Transaction must contain either all reads or all writes",
            ));
        }
        if reads > 0 {
            self.read_transaction(statements, return_consumed_capacity)
        } else {
            self.write_transaction(statements, client_request_token, return_consumed_capacity)
                .await
                .map(|consumed_capacity| ExecuteTransactionOutput {
                    consumed_capacity,
                    ..Default::default()
                })
        }
    }

    /// A SELECT of ExecuteStatement: a Query on the partition key, or a Scan.
    fn select(
        &self,
        select: &Select,
        request: &Request<'_>,
        limit: Option<i64>,
        start: Option<Item>,
    ) -> Result<Page> {
        let table = self.item_table(Some(&select.table))?;
        let index = match &select.index {
            Some(index) => {
                let index = table
                    .meta
                    .indexes
                    .iter()
                    .find(|i| i.name == *index)
                    .ok_or_else(|| {
                        TablesError::validation("The table does not have the specified index")
                    })?;
                if index.global && request.consistent_read == Some(true) {
                    return Err(TablesError::validation(
                        "Strongly consistent read is not supported on Global Secondary Indexes",
                    ));
                }
                Some(index)
            }
            None => None,
        };
        let schema = index
            .map_or(&table.meta.key_schema, |i| &i.key_schema)
            .clone();
        let mut b = Builder::new(request.parameters);
        let projection = b.projection(select.projection.as_deref());
        let mut conjuncts = Vec::new();
        if let Some(condition) = select.condition.clone() {
            split_and(condition, &mut conjuncts);
        }
        let descending = match &select.order {
            Some((path, descending)) => {
                let on_key = schema
                    .range
                    .as_ref()
                    .is_some_and(|r| path.single_name() == Some(r.name.as_str()))
                    || path.single_name() == Some(schema.hash.name.as_str());
                if !on_key {
                    return Err(TablesError::validation(
                        "Must have at least one key attribute in the ORDER BY clause",
                    ));
                }
                *descending
            }
            None => false,
        };
        let plan = query_plan(&schema, &conjuncts);
        if let Some(index) = index.filter(|i| i.projection != "ALL") {
            let carried = |name: &str| index.projects(&table.meta.key_schema, name);
            // A global index cannot fetch from the table what it does not carry.
            let wanted = select
                .projection
                .iter()
                .flatten()
                .filter_map(|p| match p.0.first() {
                    Some(Step::Name(n)) if !carried(n) => Some(n.as_str()),
                    _ => None,
                });
            let missing: Vec<&str> = wanted.collect();
            if index.global && !missing.is_empty() {
                return Err(TablesError::validation(format!(
                    "One or more parameter values were invalid: Global secondary index {} does not project [{}]",
                    index.name,
                    missing.join(", ")
                )));
            }
            // A read by the index key (an equality, or IN: one read per value) may filter
            // only on what the index carries.
            let keyed = plan.or_else(|| {
                let hash = &schema.hash.name;
                let is_in = |t: &Expr| {
                    matches!(t, Expr::In(Operand::Path(p), _) if p.single_name() == Some(hash.as_str()))
                };
                conjuncts.iter().position(is_in).map(|i| (i, None))
            });
            if let Some((hash, range)) = keyed {
                let mut named = Vec::new();
                for (i, term) in conjuncts.iter().enumerate() {
                    if i != hash && Some(i) != range {
                        top_names(term, &mut named);
                    }
                }
                named.retain(|n| !carried(n));
                named.dedup();
                if !named.is_empty() {
                    return Err(TablesError::validation(format!(
                        "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{}]",
                        index.name,
                        named.join(", ")
                    )));
                }
            }
        }
        let capacity = request.capacity.clone();
        let output = match plan {
            Some((hash, range)) => {
                let mut key = b.key_condition(&conjuncts[hash])?;
                if let Some(range) = range {
                    key = format!("{key} AND {}", b.key_condition(&conjuncts[range])?);
                }
                let filter: Vec<String> = conjuncts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != hash && Some(*i) != range)
                    .map(|(_, c)| b.expr(c))
                    .collect::<Result<_>>()?;
                let (names, values) = b.finish();
                self.query(QueryInput {
                    table_name: Some(select.table.clone()),
                    index_name: select.index.clone(),
                    limit,
                    consistent_read: request.consistent_read,
                    scan_index_forward: Some(!descending),
                    exclusive_start_key: start,
                    return_consumed_capacity: capacity,
                    projection_expression: projection,
                    filter_expression: (!filter.is_empty()).then(|| filter.join(" AND ")),
                    key_condition_expression: Some(key),
                    expression_attribute_names: names,
                    expression_attribute_values: values,
                    ..Default::default()
                })
                .map_err(as_statement)?
            }
            None => {
                if select.order.is_some() {
                    return Err(TablesError::validation(
                        "Must have WHERE clause in the statement when using ORDER BY clause.",
                    ));
                }
                let filter = select.condition.as_ref().map(|c| b.expr(c)).transpose()?;
                let (names, values) = b.finish();
                self.scan(ScanInput {
                    table_name: Some(select.table.clone()),
                    index_name: select.index.clone(),
                    limit,
                    exclusive_start_key: start,
                    return_consumed_capacity: capacity,
                    projection_expression: projection,
                    filter_expression: filter,
                    expression_attribute_names: names,
                    expression_attribute_values: values,
                    consistent_read: request.consistent_read,
                    ..Default::default()
                })
                .map_err(as_statement)?
            }
        };
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| reshape(item, select.projection.as_deref()))
            .collect();
        Ok(Page {
            items,
            last_key: output.last_evaluated_key,
            consumed: output.consumed_capacity,
        })
    }

    /// A SELECT of BatchExecuteStatement: one item, by its full primary key.
    fn batch_read(&self, select: Select, request: &Request<'_>) -> Result<Outcome> {
        let table = self.item_table(Some(&select.table))?;
        if select.index.is_some() {
            return Err(batch_needs_key());
        }
        let Some(condition) = select.condition.clone() else {
            return Err(batch_needs_key());
        };
        // A batch reads items by their full primary key; other conditions filter the item.
        split_key(&table.meta.key_schema, condition, request.parameters)
            .map_err(|_| batch_needs_key())?;
        let page = self.select(&select, request, None, None)?;
        Ok(Outcome {
            item: page.items.into_iter().next(),
            consumed: page.consumed,
        })
    }

    /// An INSERT, UPDATE or DELETE; an EXISTS is refused: it is for transactions only.
    async fn write(&self, statement: Statement, request: &Request<'_>) -> Result<Outcome> {
        if let Statement::Exists(_) = statement {
            return Err(exists_outside_transaction());
        }
        let (action, kind) = self.write_action(statement, request)?;
        let capacity = request.capacity.clone();
        let returning = action.returning;
        let a = action.action;
        let outcome = match kind {
            WriteKind::Insert => self
                .put_item(PutItemInput {
                    table_name: a.table_name,
                    item: a.item,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    return_consumed_capacity: capacity,
                    ..Default::default()
                })
                .await
                .map_err(|e| match e {
                    TablesError::ConditionalCheckFailed { .. } => {
                        TablesError::DuplicateItem(DUPLICATE.into())
                    }
                    other => other,
                })
                .map(|out| Outcome {
                    item: None,
                    consumed: out.consumed_capacity,
                }),
            WriteKind::Update => self
                .update_item(UpdateItemInput {
                    table_name: a.table_name,
                    key: a.key,
                    return_values: returning.map(|r| r.return_values().to_owned()),
                    return_consumed_capacity: capacity,
                    update_expression: a.update_expression,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    return_values_on_condition_check_failure: a
                        .return_values_on_condition_check_failure,
                    ..Default::default()
                })
                .await
                .map(|out| Outcome {
                    item: out.attributes,
                    consumed: out.consumed_capacity,
                }),
            WriteKind::Delete => self
                .delete_item(DeleteItemInput {
                    table_name: a.table_name,
                    key: a.key,
                    return_values: returning.map(|r| r.return_values().to_owned()),
                    return_consumed_capacity: capacity,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    return_values_on_condition_check_failure: a
                        .return_values_on_condition_check_failure,
                    ..Default::default()
                })
                .await
                .map(|out| Outcome {
                    item: out.attributes,
                    consumed: out.consumed_capacity,
                }),
            WriteKind::Check => Err(exists_outside_transaction()),
        };
        outcome.map_err(as_statement)
    }

    /// The item operation a write statement stands for, in TransactWriteItems' terms.
    fn write_action(
        &self,
        statement: Statement,
        request: &Request<'_>,
    ) -> Result<(WriteAction, WriteKind)> {
        let mut b = Builder::new(request.parameters);
        let on_failure = request.on_failure.clone();
        let (kind, table_name, returning, mut action) = match statement {
            Statement::Insert { table, value } => {
                let meta = self.item_table(Some(&table))?;
                let AttributeValue::M(item) = b.evaluate(&value)? else {
                    return Err(TablesError::validation(
                        "Unsupported operation: Insert a non-map value",
                    ));
                };
                item.values().try_for_each(check_depth)?;
                let hash = b.name(&meta.meta.key_schema.hash.name);
                let action = TransactWriteAction {
                    item: Some(item),
                    condition_expression: Some(format!("attribute_not_exists({hash})")),
                    ..Default::default()
                };
                (WriteKind::Insert, table, None, action)
            }
            Statement::Update {
                table,
                actions,
                condition,
                returning,
            } => {
                let meta = self.item_table(Some(&table))?;
                let schema = &meta.meta.key_schema;
                let (key, rest) = split_key(schema, condition, request.parameters)?;
                let update = b.update(&actions)?;
                let mut conditions =
                    vec![format!("attribute_exists({})", b.name(&schema.hash.name))];
                for c in &rest {
                    conditions.push(b.term(c)?);
                }
                let action = TransactWriteAction {
                    key: Some(key),
                    update_expression: Some(update),
                    condition_expression: Some(conditions.join(" AND ")),
                    ..Default::default()
                };
                (WriteKind::Update, table, returning, action)
            }
            Statement::Delete {
                table,
                condition,
                returning,
            } => {
                if let Some(other) = returning.filter(|r| *r != Returning::AllOld) {
                    return Err(TablesError::validation(format!(
                        "Invalid returning clause: RETURNING {} *. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                        other.words()
                    )));
                }
                let meta = self.item_table(Some(&table))?;
                let (key, rest) = split_key(&meta.meta.key_schema, condition, request.parameters)?;
                let action = TransactWriteAction {
                    key: Some(key),
                    condition_expression: b.conjunction(&rest)?,
                    ..Default::default()
                };
                (WriteKind::Delete, table, returning, action)
            }
            Statement::Exists(select) => {
                let meta = self.item_table(Some(&select.table))?;
                let Some(condition) = select.condition else {
                    return Err(no_full_key());
                };
                let (key, rest) = split_key(&meta.meta.key_schema, condition, request.parameters)?;
                let Some(condition) = b.conjunction(&rest)? else {
                    return Err(TablesError::validation(
                        "EXISTS needs a condition besides the primary key",
                    ));
                };
                let action = TransactWriteAction {
                    key: Some(key),
                    condition_expression: Some(condition),
                    ..Default::default()
                };
                (WriteKind::Check, select.table, None, action)
            }
            Statement::Select(_) => {
                return Err(TablesError::validation("A SELECT is not a write"));
            }
        };
        let (names, values) = b.finish();
        action.table_name = Some(table_name);
        action.expression_attribute_names = names;
        action.expression_attribute_values = values;
        action.return_values_on_condition_check_failure = on_failure;
        Ok((WriteAction { action, returning }, kind))
    }

    fn read_transaction(
        &self,
        statements: Vec<(Statement, Vec<AttributeValue>, Option<String>)>,
        capacity: Option<String>,
    ) -> Result<ExecuteTransactionOutput> {
        let mut gets = Vec::with_capacity(statements.len());
        let mut projections = Vec::with_capacity(statements.len());
        for (at, (statement, parameters, _)) in statements.into_iter().enumerate() {
            let Statement::Select(select) = statement else {
                return Err(TablesError::Internal("a read that is not a SELECT".into()));
            };
            if select.index.is_some() {
                return Err(TablesError::validation(format!(
                    "Validation failed in TransactStatements[{at}]: Reads on indices are not supported within transactions."
                )));
            }
            let meta = self.item_table(Some(&select.table))?;
            let Some(condition) = select.condition else {
                return Err(no_full_key());
            };
            let (key, rest) = split_key(&meta.meta.key_schema, condition, &parameters)?;
            if !rest.is_empty() {
                return Err(TablesError::validation(
                    "Transaction reads take only the primary key in their WHERE clause",
                ));
            }
            let mut b = Builder::new(&parameters);
            let projection = b.projection(select.projection.as_deref());
            let (names, _) = b.finish();
            gets.push(TransactGetItem {
                get: Some(TransactGet {
                    table_name: Some(select.table),
                    key: Some(key),
                    projection_expression: projection,
                    expression_attribute_names: names,
                }),
            });
            projections.push(select.projection);
        }
        let output = self
            .transact_get_items(TransactGetItemsInput {
                transact_items: Some(gets),
                return_consumed_capacity: capacity,
            })
            .map_err(as_statement)?;
        let responses = output
            .responses
            .unwrap_or_default()
            .into_iter()
            .zip(&projections)
            .map(|(response, projection)| ItemResponse {
                item: response
                    .item
                    .map(|item| reshape(item, projection.as_deref())),
            })
            .collect();
        Ok(ExecuteTransactionOutput {
            responses: Some(responses),
            consumed_capacity: output.consumed_capacity,
        })
    }

    async fn write_transaction(
        &self,
        statements: Vec<(Statement, Vec<AttributeValue>, Option<String>)>,
        client_request_token: Option<String>,
        return_consumed_capacity: Option<String>,
    ) -> Result<Option<Vec<ConsumedCapacity>>> {
        let mut items = Vec::with_capacity(statements.len());
        let mut inserts = Vec::with_capacity(statements.len());
        for (at, (statement, parameters, on_failure)) in statements.into_iter().enumerate() {
            let request = Request {
                parameters: &parameters,
                consistent_read: None,
                capacity: None,
                on_failure,
            };
            if matches!(
                &statement,
                Statement::Update {
                    returning: Some(_),
                    ..
                } | Statement::Delete {
                    returning: Some(_),
                    ..
                }
            ) {
                return Err(TablesError::validation(format!(
                    "Validation failed in TransactStatements[{at}]: RETURNING clause is not supported in ExecuteTransaction."
                )));
            }
            let (action, kind) = self.write_action(statement, &request)?;
            let action = Some(action.action);
            inserts.push(kind == WriteKind::Insert);
            items.push(match kind {
                WriteKind::Insert => TransactWriteItem {
                    put: action,
                    ..Default::default()
                },
                WriteKind::Update => TransactWriteItem {
                    update: action,
                    ..Default::default()
                },
                WriteKind::Delete => TransactWriteItem {
                    delete: action,
                    ..Default::default()
                },
                WriteKind::Check => TransactWriteItem {
                    condition_check: action,
                    ..Default::default()
                },
            });
        }
        let result = self
            .transact_write_items(TransactWriteItemsInput {
                transact_items: Some(items),
                return_consumed_capacity,
                client_request_token,
                ..Default::default()
            })
            .await;
        match result {
            Ok(output) => Ok(output.consumed_capacity),
            Err(TablesError::TransactionCanceled { reasons, .. }) => {
                // An INSERT's condition is that its key is new: its failure is a duplicate.
                let reasons = reasons
                    .into_iter()
                    .zip(&inserts)
                    .map(|(mut reason, insert)| {
                        if *insert && reason.code.as_deref() == Some("ConditionalCheckFailed") {
                            reason.code = Some("DuplicateItem".into());
                            reason.message = Some(DUPLICATE.into());
                        }
                        reason
                    })
                    .collect();
                Err(crate::transact::canceled(reasons))
            }
            Err(other) => Err(as_statement(other)),
        }
    }
}

/// What one statement of a request runs with.
struct Request<'a> {
    parameters: &'a [AttributeValue],
    consistent_read: Option<bool>,
    capacity: Option<String>,
    on_failure: Option<String>,
}

struct Page {
    items: Vec<Item>,
    last_key: Option<Item>,
    consumed: Option<ConsumedCapacity>,
}

struct Outcome {
    item: Option<Item>,
    consumed: Option<ConsumedCapacity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Insert,
    Update,
    Delete,
    Check,
}

struct WriteAction {
    action: TransactWriteAction,
    returning: Option<Returning>,
}

fn check_statement(v: &mut Violations, statement: Option<&str>, path: &str) {
    match statement {
        None => v.add(None, path, "Member must not be null"),
        Some(s) if s.is_empty() => v.add(
            Some(s),
            path,
            "Member must have length greater than or equal to 1",
        ),
        Some(s) if s.chars().count() > MAX_STATEMENT => v.add(
            Some(s),
            path,
            &format!("Member must have length less than or equal to {MAX_STATEMENT}"),
        ),
        Some(_) => {}
    }
}

/// A list of statements of BatchExecuteStatement or ExecuteTransaction: required, 1 to `max`
/// long, each statement and its parameters (as `parts` finds them in a member) well-formed.
fn check_list<T>(
    v: &mut Violations,
    name: &str,
    max: usize,
    members: Option<&[T]>,
    parts: impl Fn(&T) -> (Option<&str>, Option<&[AttributeValue]>),
) {
    let Some(members) = members else {
        v.add(None, name, "Member must not be null");
        return;
    };
    if members.is_empty() {
        v.add_unechoed(name, "Member must have length greater than or equal to 1");
    } else if members.len() > max {
        v.add_unechoed(
            name,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
    for (i, member) in members.iter().enumerate() {
        let (statement, parameters) = parts(member);
        let at = format!("{name}.{}.member", i + 1);
        check_statement(v, statement, &format!("{at}.statement"));
        check_parameters(v, parameters, &format!("{at}.parameters"));
    }
}

fn check_capacity(v: &mut Violations, capacity: Option<&str>) {
    v.one_of(
        capacity,
        "returnConsumedCapacity",
        &["INDEXES", "TOTAL", "NONE"],
    );
}

fn check_parameters(v: &mut Violations, parameters: Option<&[AttributeValue]>, path: &str) {
    if parameters.is_some_and(<[AttributeValue]>::is_empty) {
        v.add_unechoed(path, "Member must have length greater than or equal to 1");
    }
}

/// Parses a statement and checks that it has as many `?`s as `parameters`.
fn prepare(
    statement: Option<String>,
    parameters: Option<Vec<AttributeValue>>,
) -> Result<(Statement, Vec<AttributeValue>)> {
    let (parsed, count) = parse::parse(&statement.unwrap_or_default())?;
    let parameters = parameters.unwrap_or_default();
    if count != parameters.len() {
        return Err(TablesError::validation(
            "Number of parameters in request and statement don't match.",
        ));
    }
    Ok((parsed, parameters))
}

fn statement_table(statement: &Statement) -> &str {
    match statement {
        Statement::Select(s) | Statement::Exists(s) => &s.table,
        Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. } => table,
    }
}

fn exists_outside_transaction() -> TablesError {
    TablesError::validation("EXISTS can only be used in a transaction")
}

fn batch_needs_key() -> TablesError {
    TablesError::validation(
        "Select statements within BatchExecuteStatement must specify the primary key in the where clause.",
    )
}

fn no_full_key() -> TablesError {
    TablesError::validation(
        "Where clause does not contain a mandatory equality on all key attributes",
    )
}

/// The top-level AND terms of `expr`, in order.
fn split_and(expr: Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::And(a, b) => {
            split_and(*a, out);
            split_and(*b, out);
        }
        other => out.push(other),
    }
}

/// The value `expr` sets `name` equal to, if it is `name = value` (either way round).
fn equality<'e>(expr: &'e Expr, name: &str) -> Option<&'e Value> {
    match expr {
        Expr::Compare(Operand::Path(p), Comparison::Eq, Operand::Value(v))
        | Expr::Compare(Operand::Value(v), Comparison::Eq, Operand::Path(p))
            if p.single_name() == Some(name) =>
        {
            Some(v)
        }
        _ => None,
    }
}

/// The primary key `condition`'s equalities give, and the conditions left.
fn split_key(
    schema: &KeySchema,
    condition: Expr,
    parameters: &[AttributeValue],
) -> Result<(Item, Vec<Expr>)> {
    let mut rest = Vec::new();
    split_and(condition, &mut rest);
    let mut key = Item::new();
    for attribute in schema.attributes() {
        let at = rest
            .iter()
            .position(|c| equality(c, &attribute.name).is_some())
            .ok_or_else(no_full_key)?;
        let term = rest.remove(at);
        let value = equality(&term, &attribute.name).ok_or_else(no_full_key)?;
        key.insert(attribute.name.clone(), evaluate(value, parameters)?);
    }
    Ok((key, rest))
}

/// Which terms of a SELECT's WHERE clause make the key condition of a Query: the partition
/// key's equality and one condition on the sort key. `None` when the clause has no equality
/// on the partition key, or names a key attribute elsewhere (a Query's filter may not): the
/// SELECT is then a Scan.
fn query_plan(schema: &KeySchema, terms: &[Expr]) -> Option<(usize, Option<usize>)> {
    let hash = terms
        .iter()
        .position(|t| equality(t, &schema.hash.name).is_some())?;
    let range = schema.range.as_ref().and_then(|r| {
        terms
            .iter()
            .enumerate()
            .position(|(i, t)| i != hash && is_range_condition(t, &r.name))
    });
    let keys: Vec<&str> = schema.attributes().map(|a| a.name.as_str()).collect();
    let filter_names_key = terms
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != hash && Some(*i) != range)
        .any(|(_, t)| names_any(t, &keys));
    (!filter_names_key).then_some((hash, range))
}

/// Whether `expr` is a condition a Query takes on the sort key `name`.
fn is_range_condition(expr: &Expr, name: &str) -> bool {
    let is_key = |o: &Operand| matches!(o, Operand::Path(p) if p.single_name() == Some(name));
    let is_value = |o: &Operand| matches!(o, Operand::Value(_));
    match expr {
        Expr::Compare(l, op, r) => {
            *op != Comparison::Ne && ((is_key(l) && is_value(r)) || (is_value(l) && is_key(r)))
        }
        Expr::Between(o, low, high) => is_key(o) && is_value(low) && is_value(high),
        Expr::Function("begins_with", args) => is_key(&args[0]) && is_value(&args[1]),
        _ => false,
    }
}

/// The top-level attribute names `expr` refers to, in order, repeats included.
fn top_names<'e>(expr: &'e Expr, out: &mut Vec<&'e str>) {
    fn path<'p>(p: &'p Path, out: &mut Vec<&'p str>) {
        if let Some(Step::Name(n)) = p.0.first() {
            out.push(n);
        }
    }
    fn operand<'o>(o: &'o Operand, out: &mut Vec<&'o str>) {
        if let Operand::Path(p) | Operand::Size(p) = o {
            path(p, out);
        }
    }
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            top_names(a, out);
            top_names(b, out);
        }
        Expr::Not(a) => top_names(a, out),
        Expr::Compare(l, _, r) => {
            operand(l, out);
            operand(r, out);
        }
        Expr::Between(a, b, c) => [a, b, c].into_iter().for_each(|o| operand(o, out)),
        Expr::In(a, list) => std::iter::once(a).chain(list).for_each(|o| operand(o, out)),
        Expr::Missing(p, _) | Expr::Null(p, _) => path(p, out),
        Expr::Function(_, args) => args.iter().for_each(|o| operand(o, out)),
    }
}

/// Whether `expr` refers to any of the top-level attributes `names`.
fn names_any(expr: &Expr, names: &[&str]) -> bool {
    let mut found = Vec::new();
    top_names(expr, &mut found);
    found.iter().any(|n| names.contains(n))
}

/// The value a statement's value stands for.
fn evaluate(value: &Value, parameters: &[AttributeValue]) -> Result<AttributeValue> {
    Ok(match value {
        Value::Literal(v) => v.clone(),
        Value::Parameter(i) => parameters.get(*i).cloned().ok_or_else(|| {
            TablesError::validation("Number of parameters in request and statement don't match.")
        })?,
        Value::Map(members) => {
            let mut map = Item::new();
            for (name, v) in members {
                map.insert(name.clone(), evaluate(v, parameters)?);
            }
            AttributeValue::M(map)
        }
        Value::List(members) => AttributeValue::L(
            members
                .iter()
                .map(|v| evaluate(v, parameters))
                .collect::<Result<_>>()?,
        ),
        Value::Bag(members) => {
            let values: Vec<AttributeValue> = members
                .iter()
                .map(|v| evaluate(v, parameters))
                .collect::<Result<_>>()?;
            set_of(values)?
        }
    })
}

/// Refuses a value nested deeper than an item may hold, as the plain API refuses it when it
/// reads the value from JSON: a statement builds its values without that reading.
fn check_depth(value: &AttributeValue) -> Result<()> {
    use nimbus_tables_model::value::{MAX_NESTING_DEPTH, MSG_NESTING, depth};
    if depth(value) > MAX_NESTING_DEPTH {
        return Err(TablesError::validation(MSG_NESTING));
    }
    Ok(())
}

/// The set a bag of values makes: all strings, all numbers or all binaries, no repeats.
fn set_of(values: Vec<AttributeValue>) -> Result<AttributeValue> {
    let set = match values.first() {
        None => {
            return Err(TablesError::validation(
                "One or more parameter values were invalid: An set  may not be empty",
            ));
        }
        Some(AttributeValue::S(_)) => AttributeValue::Ss(members(values, |v| match v {
            AttributeValue::S(s) => Some(s),
            _ => None,
        })?),
        Some(AttributeValue::N(_)) => AttributeValue::Ns(members(values, |v| match v {
            AttributeValue::N(n) => Some(n),
            _ => None,
        })?),
        Some(AttributeValue::B(_)) => AttributeValue::Bs(members(values, |v| match v {
            AttributeValue::B(b) => Some(b),
            _ => None,
        })?),
        Some(_) => return Err(invalid_set()),
    };
    Ok(set)
}

fn invalid_set() -> TablesError {
    TablesError::validation(
        "One or more parameter values were invalid: a set must hold values of one type: strings, numbers or binaries, with no duplicates",
    )
}

/// The members of a set, each taken out of its value by `take`; all of one type, no repeats.
fn members<T: PartialEq>(
    values: Vec<AttributeValue>,
    take: fn(AttributeValue) -> Option<T>,
) -> Result<Vec<T>> {
    let set: Vec<T> = values
        .into_iter()
        .map(|v| take(v).ok_or_else(invalid_set))
        .collect::<Result<_>>()?;
    if crate::validate::first_repeated(&set).is_some() {
        return Err(invalid_set());
    }
    Ok(set)
}

/// An item as a SELECT returns it: whole, or each projected path's value under its last name.
fn reshape(item: Item, projection: Option<&[Path]>) -> Item {
    let Some(paths) = projection else {
        return item;
    };
    let mut out = Item::new();
    for path in paths {
        if let Some(value) = value_at(&item, path) {
            out.insert(path.last_name().to_owned(), value.clone());
        }
    }
    out
}

fn value_at<'i>(item: &'i Item, path: &Path) -> Option<&'i AttributeValue> {
    let mut steps = path.0.iter();
    let Some(Step::Name(first)) = steps.next() else {
        return None;
    };
    let mut value = item.get(first)?;
    for step in steps {
        value = match (step, value) {
            (Step::Name(name), AttributeValue::M(map)) => map.get(name)?,
            (Step::Index(i), AttributeValue::L(list)) => list.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(value)
}

/// A statement's fault as DynamoDB words it: without the name of the expression the
/// statement became.
fn as_statement(error: TablesError) -> TablesError {
    const EXPRESSIONS: [&str; 5] = [
        "Invalid FilterExpression: ",
        "Invalid KeyConditionExpression: ",
        "Invalid ConditionExpression: ",
        "Invalid UpdateExpression: ",
        "Invalid ProjectionExpression: ",
    ];
    match error {
        TablesError::Validation(message) => {
            let plain = EXPRESSIONS
                .iter()
                .find_map(|prefix| message.strip_prefix(prefix))
                .map(str::to_owned);
            TablesError::Validation(plain.unwrap_or(message))
        }
        other => other,
    }
}

/// A NextToken: the page's LastEvaluatedKey, in hex of its JSON.
/// The token names the table and index it was read from: it continues that read only.
fn encode_token(select: &Select, key: &Item) -> String {
    let json = serde_json::json!({
        "table": select.table,
        "index": select.index,
        "key": nimbus_tables_model::value::item_to_json(key),
    });
    hex::encode(json.to_string())
}

fn decode_token(token: &str, select: &Select) -> Result<Item> {
    let invalid = || TablesError::validation("Given NextToken is not valid for this statement");
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let same_read = json["table"].as_str() == Some(select.table.as_str())
        && json["index"].as_str() == select.index.as_deref();
    if !same_read {
        return Err(invalid());
    }
    nimbus_tables_model::value::item_from_json(&json["key"]).map_err(|_| invalid())
}

/// A batch statement's failure as its response's `Error`; a failure of the service itself
/// stays the request's.
fn batch_error(error: TablesError) -> Result<BatchStatementError> {
    let (code, item) = match error {
        TablesError::ConditionalCheckFailed { ref item, .. } => {
            ("ConditionalCheckFailed", item.clone())
        }
        TablesError::DuplicateItem(_) => ("DuplicateItem", None),
        TablesError::ResourceNotFound(_) => ("ResourceNotFound", None),
        TablesError::Validation(_) | TablesError::Serialization(_) => ("ValidationError", None),
        TablesError::ItemCollectionSizeLimitExceeded(_) => {
            ("ItemCollectionSizeLimitExceeded", None)
        }
        TablesError::TransactionInProgress(_) => ("TransactionConflict", None),
        other => return Err(other),
    };
    Ok(BatchStatementError {
        code: Some(code.into()),
        message: Some(error.to_string()),
        item,
    })
}

/// One ConsumedCapacity per table, summed.
fn merge_capacity(all: Vec<ConsumedCapacity>) -> Vec<ConsumedCapacity> {
    let mut by_table: BTreeMap<String, ConsumedCapacity> = BTreeMap::new();
    for c in all {
        let name = c.table_name.clone().unwrap_or_default();
        match by_table.get_mut(&name) {
            None => {
                by_table.insert(name, c);
            }
            Some(total) => {
                add(&mut total.capacity_units, c.capacity_units);
                add(&mut total.read_capacity_units, c.read_capacity_units);
                add(&mut total.write_capacity_units, c.write_capacity_units);
                add_part(&mut total.table, c.table);
                add_parts(
                    &mut total.local_secondary_indexes,
                    c.local_secondary_indexes,
                );
                add_parts(
                    &mut total.global_secondary_indexes,
                    c.global_secondary_indexes,
                );
            }
        }
    }
    by_table.into_values().collect()
}

fn add(a: &mut Option<f64>, b: Option<f64>) {
    if let Some(b) = b {
        *a = Some(a.unwrap_or(0.0) + b);
    }
}

/// Adds the units of one part (the table, an index) to its total.
fn add_part(total: &mut Option<Capacity>, part: Option<Capacity>) {
    let Some(part) = part else { return };
    match total {
        None => *total = Some(part),
        Some(t) => {
            add(&mut t.capacity_units, part.capacity_units);
            add(&mut t.read_capacity_units, part.read_capacity_units);
            add(&mut t.write_capacity_units, part.write_capacity_units);
        }
    }
}

/// Adds the units of each index to its total, by index name.
fn add_parts(
    totals: &mut Option<BTreeMap<String, Capacity>>,
    parts: Option<BTreeMap<String, Capacity>>,
) {
    for (name, part) in parts.into_iter().flatten() {
        let mut entry = totals.get_or_insert_with(BTreeMap::new).remove(&name);
        add_part(&mut entry, Some(part));
        if let (Some(map), Some(entry)) = (totals.as_mut(), entry) {
            map.insert(name, entry);
        }
    }
}

/// Builds DynamoDB expressions from a statement's parts, naming every attribute `#pN` and
/// every value `:pN`.
struct Builder<'a> {
    parameters: &'a [AttributeValue],
    names: BTreeMap<String, String>,
    values: BTreeMap<String, AttributeValue>,
}

impl<'a> Builder<'a> {
    fn new(parameters: &'a [AttributeValue]) -> Self {
        Builder {
            parameters,
            names: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }

    /// The expression attribute names and values, `None` when there are none.
    fn finish(self) -> (Option<AttributeNames>, Option<AttributeValues>) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }

    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| *n == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#p{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn path(&mut self, path: &Path) -> String {
        let mut out = String::new();
        for step in &path.0 {
            match step {
                Step::Name(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.name(name));
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// The ProjectionExpression of a SELECT's paths; `None` for `*`.
    fn projection(&mut self, paths: Option<&[Path]>) -> Option<String> {
        let paths: Vec<String> = paths?.iter().map(|p| self.path(p)).collect();
        Some(paths.join(", "))
    }

    fn evaluate(&self, value: &Value) -> Result<AttributeValue> {
        evaluate(value, self.parameters)
    }

    fn value(&mut self, value: &Value) -> Result<String> {
        let value = self.evaluate(value)?;
        check_depth(&value)?;
        let placeholder = format!(":p{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        Ok(placeholder)
    }

    fn operand(&mut self, operand: &Operand) -> Result<String> {
        Ok(match operand {
            Operand::Path(p) => self.path(p),
            Operand::Value(v) => self.value(v)?,
            Operand::Size(p) => format!("size({})", self.path(p)),
        })
    }

    fn expr(&mut self, expr: &Expr) -> Result<String> {
        Ok(match expr {
            // Parentheses only where precedence needs them (NOT binds tighter than AND, AND
            // than OR): the expression stays within the size expressions may have.
            Expr::And(a, b) => format!("{} AND {}", self.term(a)?, self.term(b)?),
            Expr::Or(a, b) => format!("{} OR {}", self.expr(a)?, self.expr(b)?),
            Expr::Not(a) => match **a {
                Expr::And(..) | Expr::Or(..) => format!("NOT ({})", self.expr(a)?),
                _ => format!("NOT {}", self.expr(a)?),
            },
            Expr::Compare(l, op, r) => {
                format!("{} {} {}", self.operand(l)?, op.symbol(), self.operand(r)?)
            }
            Expr::Between(a, low, high) => format!(
                "{} BETWEEN {} AND {}",
                self.operand(a)?,
                self.operand(low)?,
                self.operand(high)?
            ),
            Expr::In(a, list) => {
                let left = self.operand(a)?;
                let list: Vec<String> = list
                    .iter()
                    .map(|o| self.operand(o))
                    .collect::<Result<_>>()?;
                format!("{left} IN ({})", list.join(", "))
            }
            Expr::Missing(p, negated) => {
                let function = if *negated {
                    "attribute_exists"
                } else {
                    "attribute_not_exists"
                };
                format!("{function}({})", self.path(p))
            }
            Expr::Null(p, negated) => {
                let path = self.path(p);
                let null = self.value(&Value::Literal(AttributeValue::S("NULL".into())))?;
                let test = format!("attribute_type({path}, {null})");
                if *negated {
                    format!("NOT {test}")
                } else {
                    test
                }
            }
            Expr::Function(name, args) => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| self.operand(a))
                    .collect::<Result<_>>()?;
                format!("{name}({})", args.join(", "))
            }
        })
    }

    /// `expr` as a term of an AND.
    fn term(&mut self, expr: &Expr) -> Result<String> {
        Ok(match expr {
            Expr::Or(..) => format!("({})", self.expr(expr)?),
            _ => self.expr(expr)?,
        })
    }

    /// A key condition, with the key attribute on the left as a Query wants it.
    fn key_condition(&mut self, expr: &Expr) -> Result<String> {
        match expr {
            Expr::Compare(l @ Operand::Value(_), op, r @ Operand::Path(_)) => {
                self.expr(&Expr::Compare(r.clone(), op.flipped(), l.clone()))
            }
            other => self.expr(other),
        }
    }

    /// The terms joined with AND, or `None` for no terms.
    fn conjunction(&mut self, terms: &[Expr]) -> Result<Option<String>> {
        if terms.is_empty() {
            return Ok(None);
        }
        let parts: Vec<String> = terms.iter().map(|t| self.term(t)).collect::<Result<_>>()?;
        Ok(Some(parts.join(" AND ")))
    }

    fn set_value(&mut self, value: &SetValue) -> Result<String> {
        Ok(match value {
            SetValue::Operand(o) => self.operand(o)?,
            SetValue::Plus(a, b) => format!("{} + {}", self.set_value(a)?, self.set_value(b)?),
            SetValue::Minus(a, b) => format!("{} - {}", self.set_value(a)?, self.set_value(b)?),
            SetValue::ListAppend(a, b) => {
                format!(
                    "list_append({}, {})",
                    self.set_value(a)?,
                    self.set_value(b)?
                )
            }
            SetValue::IfNotExists(p, v) => {
                format!("if_not_exists({}, {})", self.path(p), self.set_value(v)?)
            }
            SetValue::SetAdd(..) | SetValue::SetDelete(..) => {
                return Err(TablesError::validation(
                    "set_add and set_delete must be the whole value of a SET",
                ));
            }
        })
    }

    /// The UpdateExpression of an UPDATE's actions.
    fn update(&mut self, actions: &[UpdateAction]) -> Result<String> {
        let (mut set, mut remove, mut add, mut delete) = (vec![], vec![], vec![], vec![]);
        for action in actions {
            match action {
                UpdateAction::Set(path, SetValue::SetAdd(of, value))
                | UpdateAction::Set(path, SetValue::SetDelete(of, value)) => {
                    if path != of {
                        return Err(TablesError::validation(
                            "set_add and set_delete must change the attribute they are assigned to",
                        ));
                    }
                    let clause = format!("{} {}", self.path(path), self.value(value)?);
                    if matches!(action, UpdateAction::Set(_, SetValue::SetAdd(..))) {
                        add.push(clause);
                    } else {
                        delete.push(clause);
                    }
                }
                UpdateAction::Set(path, value) => {
                    let target = self.path(path);
                    set.push(format!("{target} = {}", self.set_value(value)?));
                }
                UpdateAction::Remove(path) => remove.push(self.path(path)),
            }
        }
        let mut clauses = Vec::new();
        for (keyword, parts) in [
            ("SET", set),
            ("REMOVE", remove),
            ("ADD", add),
            ("DELETE", delete),
        ] {
            if !parts.is_empty() {
                clauses.push(format!("{keyword} {}", parts.join(", ")));
            }
        }
        Ok(clauses.join(" "))
    }
}
