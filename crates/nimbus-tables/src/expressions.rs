//! Adapter between the request parameters and the model crate's expression languages: parses
//! every expression of a request at once (so that unused or undefined names and values are
//! found across all of them) and evaluates them on items.
//!
//! Until the model's expression parsers land, a request that carries an expression is refused
//! with a ValidationException saying so; requests without expressions work fully.

use nimbus_tables_model::{AttributeValue, Item};

use crate::api::{AttributeNames, AttributeValues};
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
    _private: (),
}

impl Expressions {
    /// Parses every expression of `params` and checks the use of names and values.
    pub(crate) fn parse(params: ExpressionParams<'_>) -> Result<Expressions> {
        let any = params.condition.is_some()
            || params.update.is_some()
            || params.projection.is_some()
            || params.filter.is_some()
            || params.key_condition.is_some();
        if params.names.is_some() && !any {
            return Err(TablesError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if params.values.is_some()
            && params.condition.is_none()
            && params.update.is_none()
            && params.filter.is_none()
            && params.key_condition.is_none()
        {
            return Err(TablesError::validation(
                "ExpressionAttributeValues can only be specified when using expressions",
            ));
        }
        if any {
            return Err(TablesError::validation(
                "Expressions are not supported yet by this server",
            ));
        }
        Ok(Expressions { _private: () })
    }

    /// Whether the condition holds for `item` (`None`: no such item). True without one.
    pub(crate) fn condition_holds(&self, _item: Option<&Item>) -> Result<bool> {
        Ok(true)
    }

    /// Whether the filter keeps `item`. True without one.
    pub(crate) fn filter_keeps(&self, _item: &Item) -> Result<bool> {
        Ok(true)
    }

    /// Applies the update expression to `item`; returns the updated top-level paths as a
    /// projection to cut `UPDATED_OLD`/`UPDATED_NEW` with.
    pub(crate) fn apply_update(&self, _item: &mut Item) -> Result<Projection> {
        Ok(Projection::default())
    }

    /// The name of a key attribute the update expression would change, if any.
    pub(crate) fn updated_key_attribute(&self, _is_key: &dyn Fn(&str) -> bool) -> Option<String> {
        None
    }

    /// The key condition of a Query, resolved to values.
    pub(crate) fn key_condition(&self) -> Option<&KeyCondition> {
        None
    }

    /// The projection, if the request has one.
    pub(crate) fn projection(&self) -> Option<&Projection> {
        None
    }
}

/// A set of document paths to keep of an item.
#[derive(Debug, Default, Clone)]
pub(crate) struct Projection {
    _private: (),
}

impl Projection {
    /// The parts of `item` on the paths.
    pub(crate) fn apply(&self, _item: &Item) -> Item {
        Item::new()
    }
}

/// A Query's key condition with its values resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyCondition {
    /// Name of the hash key attribute the condition names, and its value.
    pub hash: (String, AttributeValue),
    /// Name of the range key attribute and its condition.
    pub range: Option<(String, RangeCondition)>,
}

/// The condition on the sort key.
// Built from the model's key-condition parser once it lands.
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RangeCondition {
    Eq(AttributeValue),
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}
