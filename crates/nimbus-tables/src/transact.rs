//! Transactions: TransactWriteItems and TransactGetItems.
//!
//! A write transaction is the optimistic write of the single-item operations, over many items
//! at once: every item is read, every condition is evaluated and every update computed in
//! Rust, and one store commit applies all the writes with a check that each item read (the
//! ones only condition-checked too) is unchanged; a conflict reads everything again. So the
//! actions are applied all or none, atomically for every reader. When a condition fails (or an
//! update cannot apply) nothing is written and the answer is `TransactionCanceledException`,
//! with one reason per action in order.
//!
//! A read transaction reads all its items from one snapshot of the store
//! ([`nimbus_store::Store::get_many`]), so it never shows half of a write transaction.
//!
//! `ClientRequestToken` makes a write transaction idempotent for ten minutes, as in DynamoDB:
//! the same token with the same parameters answers as the first call without writing again;
//! with other parameters it is `IdempotentParameterMismatchException`; while the first call
//! with a token runs, another is `TransactionInProgressException`. The tokens are kept in
//! memory (single-node assumption, as the catalog cache): a restart forgets them.
//!
//! Capacity: a transactional write costs twice the units of the plain write, a transactional
//! read twice those of a strongly consistent read.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nimbus_store::Error as StoreError;
use nimbus_tables_model::{Item, itemcodec};

use crate::Tables;
use crate::api::*;
use crate::batch::report_all;
use crate::capacity::{Consumed, Report, read_units, write_units};
use crate::catalog::TableMeta;
use crate::error::{Result, TablesError};
use crate::expressions::{ExpressionParams, Expressions};
use crate::item_ops::{check_collection_metrics, return_old_on_failure};
use crate::items::{
    IndexKeyFault, MAX_ATTEMPTS, Mutation, PrimaryKey, Stored, Table, check_item_size,
    mutation_batch, update_empties_index_key,
};
use crate::validate::{Violations, first_repeated, required};

/// Most actions of one transaction.
const MAX_ACTIONS: usize = 100;
/// How long a `ClientRequestToken` is remembered.
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// What one action of a write transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Put,
    Delete,
    Update,
}

/// One action, validated.
struct Action {
    kind: Kind,
    table: usize,
    key: PrimaryKey,
    /// The item of a Put.
    item: Option<Item>,
    expressions: Expressions,
    return_old: bool,
}

/// Most tokens remembered at once; past it the oldest are forgotten early.
const MAX_TOKENS: usize = 100_000;

/// Remembered write transactions by `ClientRequestToken`, and the tokens in the order they
/// were remembered, so that expired ones leave from the front.
#[derive(Debug, Default)]
pub(crate) struct Tokens(Mutex<TokenMap>);

#[derive(Debug, Default)]
struct TokenMap {
    by_token: HashMap<String, Remembered>,
    order: VecDeque<(Instant, String)>,
    /// Tokens whose first transaction is running.
    running: HashSet<String>,
}

impl TokenMap {
    fn forget_expired(&mut self) {
        while let Some((at, token)) = self.order.front() {
            if at.elapsed() < TOKEN_LIFETIME && self.order.len() <= MAX_TOKENS {
                break;
            }
            // A token remembered again later has a newer entry further back.
            if self.by_token.get(token).is_some_and(|r| r.at == *at) {
                self.by_token.remove(token);
            }
            self.order.pop_front();
        }
    }
}

#[derive(Debug)]
struct Remembered {
    at: Instant,
    /// The request without its token, as JSON.
    request: Vec<u8>,
    output: TransactWriteItemsOutput,
}

/// A token whose transaction is running; dropping it (answered or failed) frees the token.
pub(crate) struct Running<'a> {
    tokens: &'a Tokens,
    token: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut map = self.tokens.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.running.remove(&self.token);
    }
}

/// What a token says about a new call.
enum Token<'a> {
    /// Already answered: the same answer again.
    Answered(TransactWriteItemsOutput),
    /// New: this call runs the transaction.
    Run(Running<'a>),
}

impl Tokens {
    /// The remembered answer of `token`, or the right to run its transaction. A call while
    /// the token's first transaction runs is `TransactionInProgressException`.
    fn claim(&self, token: &str, request: &[u8]) -> Result<Token<'_>> {
        // The map holds plain values: a panic elsewhere cannot leave it half-updated.
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.forget_expired();
        match map.by_token.get(token) {
            Some(r) if r.request == request => return Ok(Token::Answered(r.output.clone())),
            Some(_) => {
                return Err(TablesError::IdempotentParameterMismatch(
                    "Request token was already used with different request parameters".into(),
                ));
            }
            None => {}
        }
        if !map.running.insert(token.to_owned()) {
            return Err(TablesError::TransactionInProgress(
                "Transaction is ongoing for the request token".into(),
            ));
        }
        Ok(Token::Run(Running {
            tokens: self,
            token: token.to_owned(),
        }))
    }

    fn remember(&self, token: String, request: Vec<u8>, output: TransactWriteItemsOutput) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let at = Instant::now();
        map.order.push_back((at, token.clone()));
        map.by_token.insert(
            token,
            Remembered {
                at,
                request,
                output,
            },
        );
        map.forget_expired();
    }
}

/// `transactItems` must hold 1 to 100 actions.
fn check_count(count: usize) -> Result<()> {
    let bound = match count {
        0 => "greater than or equal to 1".to_owned(),
        n if n > MAX_ACTIONS => format!("less than or equal to {MAX_ACTIONS}"),
        _ => return Ok(()),
    };
    Err(TablesError::validation(format!(
        "1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: Member must have length {bound}"
    )))
}

/// One action of TransactWriteItems, checked: ready to run, or refused for its item's fault.
enum Prepared {
    Ready(Box<Action>),
    Invalid(String),
}

fn reason(code: &str, message: Option<String>, item: Option<Item>) -> CancellationReason {
    CancellationReason {
        item,
        code: Some(code.into()),
        message,
    }
}

/// The answer to a repeated TransactWriteItems: the first call's, except that its units are
/// read units, spent reading the items to find the transaction already applied (DynamoDB:
/// "subsequent calls with the same client token return the number of read capacity units
/// consumed in reading the item").
fn replayed(mut output: TransactWriteItemsOutput) -> TransactWriteItemsOutput {
    let as_read = |c: &mut Capacity| {
        c.read_capacity_units = c.capacity_units;
        c.write_capacity_units = None;
    };
    for consumed in output.consumed_capacity.iter_mut().flatten() {
        consumed.read_capacity_units = consumed.capacity_units;
        consumed.write_capacity_units = None;
        consumed.table.iter_mut().for_each(as_read);
        for indexes in [
            consumed.global_secondary_indexes.as_mut(),
            consumed.local_secondary_indexes.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            indexes.values_mut().for_each(as_read);
        }
    }
    output
}

pub(crate) fn canceled(reasons: Vec<CancellationReason>) -> TablesError {
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r.code.as_deref().unwrap_or("None"))
        .collect();
    TablesError::TransactionCanceled {
        message: format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        reasons,
    }
}

/// The cancellation of a transaction of `count` actions for the fault (`message`) of the one
/// at `failed`: its ValidationError reason, None for the others.
fn cancel_at(count: usize, failed: usize, message: String) -> TablesError {
    let reasons = (0..count)
        .map(|i| {
            if i == failed {
                reason("ValidationError", Some(message.clone()), None)
            } else {
                reason("None", None, None)
            }
        })
        .collect();
    canceled(reasons)
}

impl Tables {
    /// The table of `name`, loaded once per transaction; its index in `tables`.
    fn transaction_table(&self, tables: &mut Vec<Arc<Table>>, name: Option<&str>) -> Result<usize> {
        let table = self.item_table(name)?;
        if let Some(index) = tables.iter().position(|t| t.meta.id == table.meta.id) {
            return Ok(index);
        }
        tables.push(table);
        Ok(tables.len() - 1)
    }

    pub async fn transact_write_items(
        &self,
        mut input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        let token = input.client_request_token.take();
        // What the token stands for: every parameter but the token itself.
        let fingerprint = match &token {
            Some(_) => serde_json::to_vec(&input)
                .map_err(|e| TablesError::Internal(format!("encode request: {e}")))?,
            None => Vec::new(),
        };
        let entries = required(input.transact_items.take(), "transactItems")?;
        check_count(entries.len())?;
        let mut v = Violations::new();
        for (i, entry) in entries.iter().enumerate() {
            for (member, action) in [
                ("conditionCheck", &entry.condition_check),
                ("put", &entry.put),
                ("delete", &entry.delete),
                ("update", &entry.update),
            ] {
                if let Some(action) = action {
                    let path = format!("transactItems.{}.member.{member}.tableName", i + 1);
                    v.table_name_at(action.table_name.as_deref(), &path);
                }
            }
        }
        v.finish()?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        check_collection_metrics(input.return_item_collection_metrics.as_deref())?;
        let metrics = input.return_item_collection_metrics.as_deref() == Some("SIZE");
        if let Some(token) = &token {
            let mut v = Violations::new();
            if token.is_empty() || token.chars().count() > 36 {
                v.add(
                    Some(token),
                    "clientRequestToken",
                    "Member must have length less than or equal to 36",
                );
            }
            v.finish()?;
        }
        // Held until this call returns: meanwhile another call with the token is refused
        // with TransactionInProgressException.
        let _running = match &token {
            Some(token) => match self.transaction_tokens.claim(token, &fingerprint)? {
                Token::Answered(output) => return Ok(replayed(output)),
                Token::Run(running) => Some(running),
            },
            None => None,
        };

        check_payload(&entries)?;
        let mut tables: Vec<Arc<Table>> = Vec::new();
        let mut actions: Vec<Action> = Vec::with_capacity(entries.len());
        // The first action whose item or key breaks the table's rules, and why.
        let mut invalid: Option<(usize, String)> = None;
        for (position, entry) in entries.iter().enumerate() {
            let present = [
                (Kind::Check, &entry.condition_check),
                (Kind::Put, &entry.put),
                (Kind::Delete, &entry.delete),
                (Kind::Update, &entry.update),
            ];
            let mut given = present.iter().filter(|(_, a)| a.is_some());
            let (kind, action) = match (given.next(), given.next()) {
                (Some((kind, Some(action))), None) => (*kind, action),
                (None, _) => {
                    return Err(TablesError::validation(
                        "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
                    ));
                }
                _ => {
                    return Err(TablesError::validation(
                        "TransactItems can only contain one of Check, Put, Update or Delete",
                    ));
                }
            };
            match self.transaction_action(&mut tables, kind, action)? {
                Prepared::Ready(action) => actions.push(*action),
                Prepared::Invalid(message) => {
                    invalid.get_or_insert((position, message));
                }
            }
        }
        // An item that breaks the table's rules cancels the transaction, once every action
        // has passed the request's own checks; the actions after it are not evaluated.
        if let Some((failed, message)) = invalid {
            return Err(cancel_at(entries.len(), failed, message));
        }
        let keys: Vec<&Vec<u8>> = actions.iter().map(|a| &a.key.store_key).collect();
        if first_repeated(&keys).is_some() {
            return Err(TablesError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }

        for _ in 0..MAX_ATTEMPTS {
            let olds: Vec<Option<Stored>> = actions
                .iter()
                .map(|a| self.read_item(&a.key))
                .collect::<Result<_>>()?;
            let mut reasons = Vec::with_capacity(actions.len());
            let mut news: Vec<Option<Item>> = Vec::with_capacity(actions.len());
            let mut failed = false;
            for (action, old) in actions.iter().zip(&olds) {
                let outcome = decide(action, &tables[action.table].meta, old.as_ref());
                match outcome {
                    Ok(new) => {
                        reasons.push(reason("None", None, None));
                        news.push(new);
                    }
                    Err(Refusal::Cancel(r)) => {
                        failed = true;
                        reasons.push(r);
                        news.push(None);
                    }
                    Err(Refusal::Request(error)) => return Err(error),
                }
            }
            if failed {
                return Err(canceled(reasons));
            }
            let mut mutations = Vec::new();
            for ((action, old), new) in actions.iter().zip(&olds).zip(&news) {
                if action.kind != Kind::Check {
                    mutations.push(Mutation {
                        table: &tables[action.table],
                        key: &action.key,
                        old: old.as_ref(),
                        new: new.as_ref(),
                        expired: false,
                    });
                }
            }
            let (mut batch, index_units) = mutation_batch(&mutations)?;
            for (action, old) in actions.iter().zip(&olds) {
                if action.kind == Kind::Check {
                    let table = &tables[action.table];
                    batch
                        .check_equals(
                            crate::keys::catalog(&table.meta.name),
                            table.catalog_bytes.clone(),
                        )
                        .check(
                            action.key.store_key.clone(),
                            old.as_ref().map(|s| s.bytes.clone()),
                        );
                }
            }
            match self.store.commit_async(batch).await {
                Ok(()) => {}
                Err(StoreError::Conflict { .. }) => {
                    for table in &mut tables {
                        self.refresh_table(table)?;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let mut consumed: BTreeMap<String, Consumed> = BTreeMap::new();
            // The mutations, and so their index units, are the actions other than checks.
            let mut index_units = index_units.into_iter();
            for ((action, old), new) in actions.iter().zip(&olds).zip(&news) {
                let old_size = old.as_ref().map_or(0, |s| s.size);
                let new_size = new.as_ref().map_or(0, itemcodec::item_size);
                // A condition check writes nothing, in the table or its indexes.
                let indexes = match action.kind {
                    Kind::Check => Vec::new(),
                    _ => index_units.next().unwrap_or_default(),
                };
                consumed
                    .entry(tables[action.table].meta.name.clone())
                    .or_default()
                    .add(&Consumed::write_with(
                        write_units(old_size, new_size),
                        indexes,
                        2.0,
                    ));
            }
            for (table, used) in &consumed {
                self.record_usage(table, "TransactWriteItems", used);
            }
            // The item collections the transaction wrote to, for tables with local indexes.
            let mut collections: BTreeMap<String, Vec<ItemCollectionMetrics>> = BTreeMap::new();
            for action in actions.iter().filter(|a| metrics && a.kind != Kind::Check) {
                let meta = &tables[action.table].meta;
                if let Some(m) = self.collection_metrics(meta, &action.key)? {
                    collections.entry(meta.name.clone()).or_default().push(m);
                }
            }
            let output = TransactWriteItemsOutput {
                consumed_capacity: report_all(&consumed, report, true),
                item_collection_metrics: (!collections.is_empty()).then_some(collections),
            };
            if let Some(token) = token {
                self.transaction_tokens
                    .remember(token, fingerprint, output.clone());
            }
            return Ok(output);
        }
        Err(TablesError::Internal("items kept changing".into()))
    }

    /// Validates one action of a write transaction.
    fn transaction_action(
        &self,
        tables: &mut Vec<Arc<Table>>,
        kind: Kind,
        action: &TransactWriteAction,
    ) -> Result<Prepared> {
        if kind == Kind::Check {
            required(action.condition_expression.as_ref(), "conditionExpression")?;
        }
        if kind == Kind::Update {
            required(action.update_expression.as_ref(), "updateExpression")?;
        }
        let expressions = Expressions::parse(ExpressionParams {
            names: action.expression_attribute_names.as_ref(),
            values: action.expression_attribute_values.as_ref(),
            condition: action.condition_expression.as_deref(),
            update: action.update_expression.as_deref(),
            ..ExpressionParams::default()
        })?;
        let return_old =
            return_old_on_failure(action.return_values_on_condition_check_failure.as_deref())?;
        let table = self.transaction_table(tables, action.table_name.as_deref())?;
        let meta = &tables[table].meta;
        expressions.check_key_paths(meta)?;
        let item = match kind {
            Kind::Put => Some(required(action.item.clone(), "item")?),
            _ => None,
        };
        let empty = match &item {
            Some(item) => meta.empty_key_value(item, true),
            None => action
                .key
                .as_ref()
                .and_then(|key| meta.empty_key_value(key, false)),
        };
        if let Some(refused) = empty {
            return Err(refused);
        }
        let key = match &item {
            Some(item) => meta.key_from_item(item).and_then(|key| {
                check_item_size(item)?;
                Ok(key)
            }),
            None => meta.key_from_key(required(action.key.as_ref(), "key")?),
        };
        // The item's or key's own faults are the action's, reported as its cancellation
        // reason; the others are the request's.
        let key = match key {
            Ok(key) => key,
            Err(TablesError::Validation(message)) => return Ok(Prepared::Invalid(message)),
            Err(other) => return Err(other),
        };
        if kind == Kind::Update {
            expressions.check_update_spares_key(&meta.key_schema)?;
        }
        Ok(Prepared::Ready(Box::new(Action {
            kind,
            table,
            key,
            item,
            expressions,
            return_old,
        })))
    }

    pub fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        let entries = required(input.transact_items, "transactItems")?;
        check_count(entries.len())?;
        let mut v = Violations::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Some(get) = &entry.get {
                let path = format!("transactItems.{}.member.get.tableName", i + 1);
                v.table_name_at(get.table_name.as_deref(), &path);
            }
        }
        v.finish()?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let mut tables: Vec<Arc<Table>> = Vec::new();
        let mut gets: Vec<(usize, PrimaryKey, Expressions)> = Vec::with_capacity(entries.len());
        // The first Get whose key does not fit its table, and why: as for a write transaction,
        // that cancels the transaction once every Get has passed the request's own checks.
        let mut invalid: Option<(usize, String)> = None;
        for (position, entry) in entries.iter().enumerate() {
            let get = required(entry.get.as_ref(), "get")?;
            let expressions = Expressions::parse(ExpressionParams {
                names: get.expression_attribute_names.as_ref(),
                projection: get.projection_expression.as_deref(),
                ..ExpressionParams::default()
            })?;
            let table = self.transaction_table(&mut tables, get.table_name.as_deref())?;
            expressions.check_key_paths(&tables[table].meta)?;
            let key = required(get.key.as_ref(), "key")?;
            let meta = &tables[table].meta;
            if let Some(refused) = meta.empty_key_value(key, false) {
                return Err(refused);
            }
            match meta.key_from_key(key) {
                Ok(key) => gets.push((table, key, expressions)),
                Err(TablesError::Validation(message)) => {
                    invalid.get_or_insert((position, message));
                }
                Err(other) => return Err(other),
            }
        }
        let keys: Vec<&Vec<u8>> = gets.iter().map(|(_, key, _)| &key.store_key).collect();
        if first_repeated(&keys).is_some() {
            return Err(TablesError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        if let Some((failed, message)) = invalid {
            return Err(cancel_at(entries.len(), failed, message));
        }
        // One snapshot for every key: the items as they all were at one moment, never half of
        // a transaction that wrote several of them.
        let keys: Vec<&PrimaryKey> = gets.iter().map(|(_, key, _)| key).collect();
        let items = self.read_items_together(&keys)?;
        let total: usize = items.iter().flatten().map(|s| s.size).sum();
        if total > 4 * 1024 * 1024 {
            return Err(TablesError::validation(
                "Total size of all items exceeds the 4 MB limit of a transaction",
            ));
        }
        let mut consumed: BTreeMap<String, Consumed> = BTreeMap::new();
        let mut responses = Vec::with_capacity(items.len());
        for ((table, _, expressions), stored) in gets.iter().zip(items) {
            let size = stored.as_ref().map_or(0, |s| s.size);
            consumed
                .entry(tables[*table].meta.name.clone())
                .or_default()
                .add(&Consumed::read(2.0 * read_units(size, true)));
            let item = stored.map(|s| match expressions.projection() {
                Some(p) => p.apply(&s.item),
                None => s.item,
            });
            responses.push(ItemResponse { item });
        }
        for (table, used) in &consumed {
            self.record_usage(table, "TransactGetItems", used);
        }
        Ok(TransactGetItemsOutput {
            consumed_capacity: report_all(&consumed, report, true),
            responses: Some(responses),
        })
    }
}

/// Why an action of TransactWriteItems does not apply.
enum Refusal {
    /// The action's cancellation reason; the transaction is cancelled.
    Cancel(CancellationReason),
    /// The whole request's error.
    Request(TablesError),
}

/// The new item of `action` over `old` in `meta`'s table (`None`: no write, or a delete), or
/// why it does not apply.
fn decide(
    action: &Action,
    meta: &TableMeta,
    old: Option<&Stored>,
) -> Result<Option<Item>, Refusal> {
    if !action.expressions.condition_holds(old.map(|s| &s.item)) {
        return Err(Refusal::Cancel(reason(
            "ConditionalCheckFailed",
            Some("The conditional request failed".into()),
            old.filter(|_| action.return_old).map(|s| s.item.clone()),
        )));
    }
    let invalid =
        |e: TablesError| Refusal::Cancel(reason("ValidationError", Some(e.to_string()), None));
    let new = match action.kind {
        Kind::Check | Kind::Delete => return Ok(None),
        Kind::Put => action.item.clone(),
        // As UpdateItem: actions that only take away do not create a missing item.
        Kind::Update if old.is_none() && action.expressions.update_only_removes() => {
            return Ok(None);
        }
        Kind::Update => {
            let mut item = match old {
                Some(stored) => stored.item.clone(),
                None => action.key.attributes.clone(),
            };
            action
                .expressions
                .apply_update(&mut item)
                .map_err(invalid)?;
            check_item_size(&item).map_err(invalid)?;
            Some(item)
        }
    };
    // An index key of the wrong type is the action's fault; an empty one (which an update
    // expression can make) fails the whole request, as DynamoDB answers.
    match new.as_ref().and_then(|item| meta.index_key_fault(item)) {
        Some(IndexKeyFault::Mistyped(message)) => Err(invalid(TablesError::validation(message))),
        Some(IndexKeyFault::Empty(what, _)) if action.kind == Kind::Update => {
            Err(Refusal::Request(update_empties_index_key(what)))
        }
        Some(IndexKeyFault::Empty(_, error)) => Err(Refusal::Request(error)),
        None => Ok(new),
    }
}

/// The most data one TransactWriteItems may carry: DynamoDB limits the transaction's payload
/// (the items it puts, the keys and values it names), not the size of the items it touches, so
/// deleting many large items in one transaction is allowed.
const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

fn check_payload(entries: &[TransactWriteItem]) -> Result<()> {
    let actions = entries.iter().flat_map(|e| {
        [&e.condition_check, &e.put, &e.delete, &e.update]
            .into_iter()
            .flatten()
    });
    let mut total = 0;
    for action in actions {
        for item in [
            &action.item,
            &action.key,
            &action.expression_attribute_values,
        ]
        .into_iter()
        .flatten()
        {
            total += itemcodec::item_size(item);
        }
    }
    if total > MAX_PAYLOAD {
        return Err(TablesError::validation(
            "Transaction payload size cannot exceed 4 MB",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_answer_the_same_request_refuse_another_and_stay_bounded() {
        let tokens = Tokens::default();
        let output = TransactWriteItemsOutput::default();
        let answered = |t: &Tokens, token: &str, request: &[u8]| {
            matches!(t.claim(token, request), Ok(Token::Answered(_)))
        };
        let new = |t: &Tokens, token: &str, request: &[u8]| {
            matches!(t.claim(token, request), Ok(Token::Run(_)))
        };
        {
            let first = tokens.claim("t", b"a").expect("claim");
            assert!(matches!(first, Token::Run(_)));
            // While the first call runs, another with the token is refused.
            assert!(matches!(
                tokens.claim("t", b"a"),
                Err(TablesError::TransactionInProgress(_))
            ));
            tokens.remember("t".into(), b"a".to_vec(), output.clone());
        }
        assert!(answered(&tokens, "t", b"a"));
        assert!(matches!(
            tokens.claim("t", b"b"),
            Err(TablesError::IdempotentParameterMismatch(_))
        ));
        // A call that failed frees its token.
        drop(tokens.claim("u", b"a"));
        assert!(new(&tokens, "u", b"a"));
        for i in 0..MAX_TOKENS {
            tokens.remember(format!("k{i}"), Vec::new(), output.clone());
        }
        // The oldest went when the map grew past its bound; the newest stay.
        assert!(new(&tokens, "t", b"a"));
        assert!(answered(&tokens, "k5", b""));
        let map = tokens.0.lock().expect("lock");
        assert_eq!(map.by_token.len(), MAX_TOKENS);
        assert_eq!(map.order.len(), MAX_TOKENS);
        assert!(map.running.is_empty());
    }
}
