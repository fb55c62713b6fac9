//! Adapter between the request parameters and the model crate's expression languages: parses
//! every expression of a request at once (so that unused or undefined names and values are
//! found across all of them) and evaluates them on items.

use nimbus_tables_model::expr::{
    Changes, Condition, ExprKind, ExpressionAttributes, KeyCondition, Projection, RangeCondition,
    UpdateExpression,
};
use nimbus_tables_model::{AttributeValue, Item};

use crate::api::{AttributeNames, AttributeValues};
use crate::catalog::KeySchema;
use crate::error::{Result, TablesError};

/// The expression parameters of one request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ExpressionParams<'a> {
    pub names: Option<&'a AttributeNames>,
    pub values: Option<&'a AttributeValues>,
    pub condition: Option<&'a str>,
    pub update: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub key_condition: Option<&'a str>,
}

/// The parsed expressions of one request.
#[derive(Debug, Default)]
pub(crate) struct Expressions {
    condition: Option<Condition>,
    filter: Option<Condition>,
    update: Option<UpdateExpression>,
    projection: Option<Projection>,
    key_condition: Option<KeyCondition>,
}

impl Expressions {
    /// Parses every expression of `params` and checks the use of names and values.
    pub(crate) fn parse(params: ExpressionParams<'_>) -> Result<Expressions> {
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
            return Err(TablesError::validation(
                "ExpressionAttributeValues can only be specified when using expressions",
            ));
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
            .map(|src| KeyCondition::parse(src, &mut attrs))
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
        Ok(Expressions {
            condition,
            filter,
            update,
            projection,
            key_condition,
        })
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
        let Some(condition) = &self.key_condition else {
            return Ok(None);
        };
        let range = schema.range.as_ref().map(|r| r.name.as_str());
        Ok(Some(condition.resolve(&schema.hash.name, range)?))
    }

    /// The projection, if the request has one.
    pub(crate) fn projection(&self) -> Option<&Projection> {
        self.projection.as_ref()
    }
}
