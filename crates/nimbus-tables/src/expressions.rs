//! Adapter between the request parameters and the model crate's expression languages: parses
//! every expression of a request at once (so that unused or undefined names and values are
//! found across all of them), converts the legacy parameters (`Expected`, `AttributeUpdates`,
//! `AttributesToGet`, `KeyConditions`, `QueryFilter`, `ScanFilter`) to the same structures, and
//! evaluates them on items.

use std::collections::BTreeMap;

use nimbus_tables_model::expr::{
    Changes, Condition, ExprKind, ExpressionAttributes, KeyCondition, Operand, Projection,
    RangeCondition, UpdateAction, UpdateExpression,
};
use nimbus_tables_model::legacy::{self, ConditionalOperator};
use nimbus_tables_model::{AttributeValue, Item};

use crate::api::{
    AttributeNames, AttributeValueUpdate, AttributeValues, Condition as LegacyCondition,
    ExpectedAttributeValue,
};
use crate::catalog::{IndexMeta, KeySchema, TableMeta};
use crate::error::{Result, TablesError};

/// The expression parameters of one request, and the legacy parameters they replace.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ExpressionParams<'a> {
    pub names: Option<&'a AttributeNames>,
    pub values: Option<&'a AttributeValues>,
    pub condition: Option<&'a str>,
    pub update: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub key_condition: Option<&'a str>,
    pub attributes_to_get: Option<&'a [String]>,
    pub attribute_updates: Option<&'a BTreeMap<String, AttributeValueUpdate>>,
    pub expected: Option<&'a BTreeMap<String, ExpectedAttributeValue>>,
    pub query_filter: Option<&'a BTreeMap<String, LegacyCondition>>,
    pub scan_filter: Option<&'a BTreeMap<String, LegacyCondition>>,
    pub conditional_operator: Option<&'a str>,
    pub key_conditions: Option<&'a BTreeMap<String, LegacyCondition>>,
    /// The operation's members that use `ExpressionAttributeValues`, as DynamoDB names them
    /// when values come without any of them ("ConditionExpression is null").
    pub value_users: &'static [&'static str],
}

/// The parsed expressions of one request.
#[derive(Debug, Default)]
pub(crate) struct Expressions {
    condition: Option<Condition>,
    filter: Option<Condition>,
    /// The filter came from `QueryFilter` rather than a `FilterExpression`.
    legacy_filter: bool,
    update: Option<UpdateExpression>,
    projection: Option<Projection>,
    /// Legacy `KeyConditions` with an operator a key condition cannot use: reported when the
    /// key condition is matched to the key schema.
    unindexable: Option<String>,
    key_condition: Option<KeyCondition>,
}

impl ExpressionParams<'_> {
    /// Refuses a mix of legacy and expression parameters. One order serves every operation:
    /// each lists its own parameters in this order. `KeyConditions` is the exception DynamoDB
    /// makes: it conflicts only with `KeyConditionExpression`, and a query may combine it with
    /// a `FilterExpression` or a `ProjectionExpression`.
    fn check_not_mixed(&self) -> Result<()> {
        let key_conditions = ("KeyConditions", self.key_conditions.is_some());
        let legacy = [
            ("AttributesToGet", self.attributes_to_get.is_some()),
            ("AttributeUpdates", self.attribute_updates.is_some()),
            ("Expected", self.expected.is_some()),
            ("QueryFilter", self.query_filter.is_some()),
            ("ScanFilter", self.scan_filter.is_some()),
            ("ConditionalOperator", self.conditional_operator.is_some()),
        ];
        let key_condition = ("KeyConditionExpression", self.key_condition.is_some());
        let expressions = [
            ("ProjectionExpression", self.projection.is_some()),
            ("UpdateExpression", self.update.is_some()),
            ("ConditionExpression", self.condition.is_some()),
            ("FilterExpression", self.filter.is_some()),
            key_condition,
        ];
        if legacy.iter().any(|(_, present)| *present) {
            let mut all_legacy = legacy.to_vec();
            all_legacy.push(key_conditions);
            legacy::check_not_mixed(&all_legacy, &expressions)?;
        }
        Ok(legacy::check_not_mixed(
            &[key_conditions],
            &[key_condition],
        )?)
    }
}

impl Expressions {
    /// Parses every expression of `params`, checks the use of names and values, and converts
    /// the legacy parameters.
    pub(crate) fn parse(params: ExpressionParams<'_>) -> Result<Expressions> {
        params.check_not_mixed()?;
        let value_users = params.condition.is_some()
            || params.update.is_some()
            || params.filter.is_some()
            || params.key_condition.is_some();
        if params.names.is_some() && !value_users && params.projection.is_none() {
            return Err(TablesError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if params.values.is_some() && !value_users {
            let null = match params.value_users {
                [] => String::new(),
                [one] => format!(": {one} is null"),
                many => format!(": {} are null", many.join(" and ")),
            };
            return Err(TablesError::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions{null}"
            )));
        }
        let mut attrs = ExpressionAttributes::new(params.names.cloned(), params.values.cloned())?;
        let update = params
            .update
            .map(|src| UpdateExpression::parse(src, &mut attrs))
            .transpose()?;
        let condition = params
            .condition
            .map(|src| Condition::parse(src, ExprKind::Condition, &mut attrs))
            .transpose()?;
        let key_condition = params
            .key_condition
            .map(|src| Condition::parse(src, ExprKind::KeyCondition, &mut attrs))
            .transpose()?;
        let filter = params
            .filter
            .map(|src| Condition::parse(src, ExprKind::Filter, &mut attrs))
            .transpose()?;
        let projection = params
            .projection
            .map(|src| Projection::parse(src, &mut attrs))
            .transpose()?;
        attrs.check_unused()?;
        // Unused names and values are reported before the shape of the key condition.
        let key_condition = key_condition
            .map(KeyCondition::from_condition)
            .transpose()?;
        let mut expressions = Expressions {
            condition,
            filter,
            legacy_filter: false,
            update,
            projection,
            key_condition,
            unindexable: None,
        };
        expressions.convert_legacy(&params)?;
        Ok(expressions)
    }

    /// Fills in what the legacy parameters say (never mixed with expressions, so nothing is
    /// overwritten).
    fn convert_legacy(&mut self, params: &ExpressionParams<'_>) -> Result<()> {
        let op = ConditionalOperator::parse(params.conditional_operator)?;
        if params.conditional_operator.is_some() {
            let sizes = [
                params.expected.map(|m| m.len()),
                params.query_filter.map(|m| m.len()),
                params.scan_filter.map(|m| m.len()),
            ];
            if sizes.iter().all(Option::is_none) {
                return Err(TablesError::validation(
                    "ConditionalOperator cannot be used without Filter or Expected",
                ));
            }
            if sizes.iter().flatten().any(|&n| n < 2) {
                return Err(TablesError::validation(
                    "ConditionalOperator can only be used when Filter or Expected has two or more elements",
                ));
            }
        }
        if let Some(expected) = params.expected {
            self.condition = Some(legacy::expected_to_condition(expected, op)?);
        }
        if let Some(filter) = params.query_filter {
            self.filter = Some(legacy::filter_to_condition(filter, op, "queryFilter")?);
            self.legacy_filter = true;
        }
        if let Some(filter) = params.scan_filter {
            self.filter = Some(legacy::filter_to_condition(filter, op, "scanFilter")?);
        }
        if let Some(updates) = params.attribute_updates {
            self.update = Some(legacy::attribute_updates_to_update(updates)?);
        }
        if let Some(names) = params.attributes_to_get {
            self.projection = Some(legacy::attributes_to_get(names)?);
        }
        if let Some(conditions) = params.key_conditions {
            match legacy::key_conditions_to_key_condition(conditions) {
                Ok(condition) => self.key_condition = Some(condition),
                // DynamoDB finds a non-indexable operator only when it matches the conditions
                // to the key schema, after the table, index and starting key checks.
                Err(nimbus_tables_model::Error::Validation(m))
                    if m.contains("not an indexable operation") =>
                {
                    self.unindexable = Some(m);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Whether the condition holds for `item` (`None`: no such item). True without one.
    pub(crate) fn condition_holds(&self, item: Option<&Item>) -> bool {
        let empty = Item::new();
        self.condition
            .as_ref()
            .is_none_or(|c| c.evaluate(item.unwrap_or(&empty)))
    }

    /// Whether the filter keeps `item`. True without one.
    pub(crate) fn filter_keeps(&self, item: &Item) -> bool {
        self.filter.as_ref().is_none_or(|c| c.evaluate(item))
    }

    /// Applies the update expression to `item`; returns what it changed.
    pub(crate) fn apply_update(&self, item: &mut Item) -> Result<Changes> {
        match &self.update {
            Some(update) => Ok(update.apply(item)?),
            None => Ok(Changes::default()),
        }
    }

    /// Whether there is an update whose actions (at least one) all take away: REMOVE, or
    /// DELETE from a set.
    /// Whether the update sets the top-level attribute `name` to a value read from the item
    /// (`SET x = y`, `SET x = if_not_exists(...)`), whose type is known only when it runs.
    pub(crate) fn update_copies_into(&self, name: &str) -> bool {
        self.update.as_ref().is_some_and(|u| {
            u.actions.iter().any(|a| match a {
                UpdateAction::Set(path, operand) => {
                    path.is_top_level()
                        && path.top() == name
                        && matches!(operand, Operand::Path(_) | Operand::IfNotExists(..))
                }
                _ => false,
            })
        })
    }

    pub(crate) fn update_only_removes(&self) -> bool {
        self.update.as_ref().is_some_and(|u| {
            !u.actions.is_empty()
                && u.actions
                    .iter()
                    .all(|a| matches!(a, UpdateAction::Remove(_) | UpdateAction::Delete(..)))
        })
    }

    /// Refuses a document path into a key attribute of the table or of one of its indexes
    /// (`pk.a`, `pk[0]`) in any expression: keys are scalars.
    pub(crate) fn check_key_paths(&self, table: &TableMeta) -> Result<()> {
        let conditions = self.condition.iter().chain(&self.filter);
        let paths = conditions
            .flat_map(|c| c.paths())
            .chain(
                self.update
                    .iter()
                    .flat_map(|u| u.actions.iter().map(|a| a.path())),
            )
            .chain(self.projection.iter().flat_map(|p| p.paths.iter()));
        for path in paths.filter(|p| !p.is_top_level()) {
            let top = path.top();
            let kind = if table.key_schema.is_key(top) {
                "Key"
            } else if table.indexes.iter().any(|i| i.key_schema.is_key(top)) {
                "IndexKey"
            } else {
                continue;
            };
            return Err(TablesError::validation(format!(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: {kind}: {top}"
            )));
        }
        Ok(())
    }

    /// Refuses an update expression that would change a key attribute.
    pub(crate) fn check_update_spares_key(&self, schema: &KeySchema) -> Result<()> {
        let actions = self.update.iter().flat_map(|u| u.actions.iter());
        match actions
            .map(|a| a.path().top())
            .find(|name| schema.is_key(name))
        {
            Some(name) => Err(TablesError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
            ))),
            None => Ok(()),
        }
    }

    /// The key condition of a Query matched to the key schema: the partition key value and the
    /// condition on the sort key.
    pub(crate) fn key_condition(
        &self,
        schema: &KeySchema,
    ) -> Result<Option<(AttributeValue, Option<RangeCondition>)>> {
        if let Some(message) = &self.unindexable {
            return Err(TablesError::validation(message.clone()));
        }
        let Some(condition) = &self.key_condition else {
            return Ok(None);
        };
        let range = schema.range.as_ref().map(|r| r.name.as_str());
        Ok(Some(condition.resolve(&schema.hash.name, range)?))
    }

    /// Refuses a Query filter on a key attribute, as DynamoDB does.
    pub(crate) fn check_filter_spares_key(&self, schema: &KeySchema) -> Result<()> {
        let paths = self.filter.iter().flat_map(|f| f.paths());
        let Some(key) = paths.map(|p| p.top()).find(|name| schema.is_key(name)) else {
            return Ok(());
        };
        let parameter = if self.legacy_filter {
            "QueryFilter"
        } else {
            "Filter Expression"
        };
        Err(TablesError::validation(format!(
            "{parameter} can only contain non-primary key attributes: Primary key attribute: {key}"
        )))
    }

    /// Refuses a filter on an attribute a local index does not project. DynamoDB refuses it
    /// even when the read fetches whole items from the table, which a local index allows, so
    /// that the filter can run before those fetches.
    pub(crate) fn check_filter_projected(
        &self,
        index: &IndexMeta,
        table: &KeySchema,
    ) -> Result<()> {
        if index.global || index.projects_all() {
            return Ok(());
        }
        let paths = self.filter.iter().flat_map(|f| f.paths());
        let Some(name) = paths
            .map(|p| p.top())
            .find(|name| !index.projects(table, name))
        else {
            return Ok(());
        };
        Err(TablesError::validation(format!(
            "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{name}]",
            index.name
        )))
    }

    /// The projection, if the request has one.
    pub(crate) fn projection(&self) -> Option<&Projection> {
        self.projection.as_ref()
    }
}
