//! Projection expressions (`a, b.c, d[2]`): which parts of an item to return. Nested paths keep
//! their structure; selected list elements are returned as a shorter list in index order, as
//! DynamoDB does (`d[2], d[5]` gives a list of two elements).

use std::collections::BTreeMap;

use super::parser::{Cat, Parser};
use super::path::{Path, PathElem, check_paths};
use super::{ExprKind, ExpressionAttributes};
use crate::error::Result;
use crate::value::{AttributeValue, Item};

/// A parsed projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The projected paths, in expression order.
    pub paths: Vec<Path>,
}

const PROJECTION_ORDER: &[Cat] = &[Cat::Reserved, Cat::Undefined, Cat::Overlap];

impl Projection {
    /// Parses a `ProjectionExpression`.
    pub fn parse(src: &str, attrs: &mut ExpressionAttributes) -> Result<Projection> {
        let mut p = Parser::new(src, ExprKind::Projection, attrs)?;
        let mut paths = vec![p.path()?];
        while p.eat_punct(",") {
            paths.push(p.path()?);
        }
        if let Some(message) = check_paths(&paths) {
            p.note(Cat::Overlap, message);
        }
        p.finish(PROJECTION_ORDER)?;
        Ok(Projection { paths })
    }

    /// A projection of whole top-level attributes (legacy `AttributesToGet`).
    pub fn attributes(names: impl IntoIterator<Item = String>) -> Projection {
        Projection {
            paths: names.into_iter().map(Path::attr).collect(),
        }
    }

    /// The projected item.
    pub fn apply(&self, item: &Item) -> Item {
        project_paths(item, &self.paths)
    }
}

/// A partial copy of a value, merged from several paths.
enum Tree {
    Leaf(AttributeValue),
    Map(BTreeMap<String, Tree>),
    List(BTreeMap<usize, Tree>),
}

impl Tree {
    fn into_value(self) -> AttributeValue {
        match self {
            Tree::Leaf(v) => v,
            Tree::Map(m) => {
                AttributeValue::M(m.into_iter().map(|(k, t)| (k, t.into_value())).collect())
            }
            Tree::List(l) => AttributeValue::L(l.into_values().map(Tree::into_value).collect()),
        }
    }
}

/// Copies the values at `paths` (those present) into a new item, keeping their nesting.
pub(crate) fn project_paths(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<String, Tree> = BTreeMap::new();
    for path in paths {
        let Some(value) = path.get(item) else {
            continue;
        };
        let Some((PathElem::Attr(first), rest)) = path.0.split_first() else {
            continue;
        };
        let mut slot = root
            .entry(first.clone())
            .or_insert_with(|| empty_for(rest.first()));
        for (i, elem) in rest.iter().enumerate() {
            let next = rest.get(i + 1);
            slot = match (slot, elem) {
                (Tree::Map(m), PathElem::Attr(k)) => {
                    m.entry(k.clone()).or_insert_with(|| empty_for(next))
                }
                (Tree::List(l), PathElem::Index(n)) => {
                    l.entry(*n).or_insert_with(|| empty_for(next))
                }
                // Paths never overlap (checked at parse), so a leaf is never descended into.
                (other, _) => other,
            };
        }
        *slot = Tree::Leaf(value.clone());
    }
    root.into_iter().map(|(k, t)| (k, t.into_value())).collect()
}

fn empty_for(next: Option<&PathElem>) -> Tree {
    match next {
        Some(PathElem::Index(_)) => Tree::List(BTreeMap::new()),
        _ => Tree::Map(BTreeMap::new()),
    }
}
