//! Document paths (`a.b[2].c`) and reading and writing through them.

use std::fmt;

use crate::value::{AttributeValue, Item};

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElem {
    /// A map key (or, first in the path, a top-level attribute name).
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path. The first element is always an [`PathElem::Attr`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElem>);

/// Why a write through a path failed: DynamoDB's "document path ... is invalid for update".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPath;

impl Path {
    /// A path of one top-level attribute.
    pub fn attr(name: impl Into<String>) -> Path {
        Path(vec![PathElem::Attr(name.into())])
    }

    /// The top-level attribute the path starts with.
    pub fn top(&self) -> &str {
        match self.0.first() {
            Some(PathElem::Attr(a)) => a,
            _ => "",
        }
    }

    /// Whether the path is a single top-level attribute.
    pub fn is_top_level(&self) -> bool {
        self.0.len() == 1
    }

    /// The value at this path, if any.
    pub fn get<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (first, rest) = self.0.split_first()?;
        let PathElem::Attr(name) = first else {
            return None;
        };
        let mut cur = item.get(name)?;
        for elem in rest {
            cur = step(cur, elem)?;
        }
        Some(cur)
    }

    /// Writes `value` at this path. The parent must exist and be of the right kind; a list index
    /// past the end appends.
    pub fn set(&self, item: &mut Item, value: AttributeValue) -> Result<(), InvalidPath> {
        let Some((last, parents)) = self.0.split_last() else {
            return Err(InvalidPath);
        };
        if parents.is_empty() {
            let PathElem::Attr(name) = last else {
                return Err(InvalidPath);
            };
            item.insert(name.clone(), value);
            return Ok(());
        }
        let parent = Path(parents.to_vec()).get_mut(item).ok_or(InvalidPath)?;
        match (parent, last) {
            (AttributeValue::M(m), PathElem::Attr(k)) => {
                m.insert(k.clone(), value);
            }
            (AttributeValue::L(l), PathElem::Index(i)) => {
                if *i < l.len() {
                    l[*i] = value;
                } else {
                    l.push(value);
                }
            }
            _ => return Err(InvalidPath),
        }
        Ok(())
    }

    /// Removes the value at this path and returns it. A missing top-level attribute, map key or
    /// list element is not an error; a missing or mistyped parent is.
    pub fn remove(&self, item: &mut Item) -> Result<Option<AttributeValue>, InvalidPath> {
        let Some((last, parents)) = self.0.split_last() else {
            return Err(InvalidPath);
        };
        if parents.is_empty() {
            let PathElem::Attr(name) = last else {
                return Err(InvalidPath);
            };
            return Ok(item.remove(name));
        }
        let parent = Path(parents.to_vec()).get_mut(item).ok_or(InvalidPath)?;
        match (parent, last) {
            (AttributeValue::M(m), PathElem::Attr(k)) => Ok(m.remove(k)),
            (AttributeValue::L(l), PathElem::Index(i)) => Ok((*i < l.len()).then(|| l.remove(*i))),
            _ => Err(InvalidPath),
        }
    }

    fn get_mut<'a>(&self, item: &'a mut Item) -> Option<&'a mut AttributeValue> {
        let (first, rest) = self.0.split_first()?;
        let PathElem::Attr(name) = first else {
            return None;
        };
        let mut cur = item.get_mut(name)?;
        for elem in rest {
            cur = match (cur, elem) {
                (AttributeValue::M(m), PathElem::Attr(k)) => m.get_mut(k)?,
                (AttributeValue::L(l), PathElem::Index(i)) => l.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// How two paths of one expression relate: DynamoDB rejects overlapping paths (one is a
    /// prefix of the other) and conflicting ones (one indexes a list where the other reads a map).
    pub fn relation(&self, other: &Path) -> PathRelation {
        for (a, b) in self.0.iter().zip(&other.0) {
            match (a, b) {
                (PathElem::Attr(_), PathElem::Index(_))
                | (PathElem::Index(_), PathElem::Attr(_)) => {
                    return PathRelation::Conflict;
                }
                _ if a != b => return PathRelation::Disjoint,
                _ => {}
            }
        }
        PathRelation::Overlap
    }
}

/// See [`Path::relation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRelation {
    /// Independent paths.
    Disjoint,
    /// One path is a prefix of the other (or they are equal).
    Overlap,
    /// The paths treat the same value as both a list and a map.
    Conflict,
}

fn step<'a>(value: &'a AttributeValue, elem: &PathElem) -> Option<&'a AttributeValue> {
    match (value, elem) {
        (AttributeValue::M(m), PathElem::Attr(k)) => m.get(k),
        (AttributeValue::L(l), PathElem::Index(i)) => l.get(*i),
        _ => None,
    }
}

impl fmt::Display for Path {
    /// DynamoDB's rendering in error messages: `[a, b, [2]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, elem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match elem {
                PathElem::Attr(a) => f.write_str(a)?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str("]")
    }
}

/// Checks a list of paths pairwise as DynamoDB does for update and projection expressions:
/// the first overlapping pair wins over any conflicting pair. Returns the message, without the
/// `Invalid ...Expression: ` prefix.
pub(crate) fn check_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Option<String> {
    let mut seen: Vec<&Path> = Vec::new();
    let mut conflict = None;
    for path in paths {
        for earlier in &seen {
            match earlier.relation(path) {
                PathRelation::Overlap => {
                    return Some(format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {path}"
                    ));
                }
                PathRelation::Conflict if conflict.is_none() => {
                    conflict = Some(format!(
                        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {path}"
                    ));
                }
                _ => {}
            }
        }
        seen.push(path);
    }
    conflict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(elems: &[&str]) -> Path {
        Path(
            elems
                .iter()
                .map(|e| match e.parse::<usize>() {
                    Ok(i) => PathElem::Index(i),
                    Err(_) => PathElem::Attr((*e).to_owned()),
                })
                .collect(),
        )
    }

    #[test]
    fn set_get_remove() {
        let mut item = Item::new();
        p(&["a"]).set(&mut item, AttributeValue::L(vec![])).unwrap();
        p(&["a", "5"])
            .set(&mut item, AttributeValue::s("x"))
            .unwrap();
        assert_eq!(p(&["a", "0"]).get(&item), Some(&AttributeValue::s("x")));
        assert_eq!(
            p(&["a", "b"]).set(&mut item, AttributeValue::Null),
            Err(InvalidPath)
        );
        assert_eq!(
            p(&["z", "b"]).set(&mut item, AttributeValue::Null),
            Err(InvalidPath)
        );
        assert_eq!(p(&["a", "3"]).remove(&mut item), Ok(None));
        assert_eq!(
            p(&["a", "0"]).remove(&mut item),
            Ok(Some(AttributeValue::s("x")))
        );
        assert_eq!(p(&["z", "0"]).remove(&mut item), Err(InvalidPath));
        assert_eq!(p(&["zz"]).remove(&mut item), Ok(None));
    }

    #[test]
    fn overlap_and_conflict() {
        assert_eq!(
            check_paths(&[p(&["a"]), p(&["a", "b"])]).unwrap(),
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
        assert_eq!(
            check_paths(&[p(&["a", "c"]), p(&["a", "1"])]).unwrap(),
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]"
        );
        assert_eq!(check_paths(&[p(&["a", "1"]), p(&["a", "2"])]), None);
    }
}
