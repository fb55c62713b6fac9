//! The plan: desired resources against actual ones. Creations come first (tables, functions,
//! APIs, so that what is referred to exists), then updates in the same order, then deletions
//! in the reverse order. An unchanged stack has an empty plan.

use std::collections::BTreeMap;

use crate::model::{Actual, Desired, Kind};

/// What one step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    /// `config`: the configuration hash differs; `code`: the function's package differs.
    Update {
        config: bool,
        code: bool,
    },
    Delete,
}

/// One step of a plan: indexes into the desired and actual lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub change: Change,
    pub desired: Option<usize>,
    pub actual: Option<usize>,
}

/// The steps that make the actual resources the desired ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Compares `desired` with `actual`. `code_sha256` gives each function's package hash (base64
/// SHA-256, as Lambda's `CodeSha256`), by logical id.
pub fn plan(
    desired: &[Desired],
    actual: &[Actual],
    code_sha256: &BTreeMap<String, String>,
) -> Plan {
    let mut matched = vec![false; actual.len()];
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (di, d) in desired.iter().enumerate() {
        let found = actual.iter().enumerate().position(|(ai, a)| {
            !matched[ai]
                && a.logical_id == d.logical_id
                && a.kind == d.kind()
                && d.physical_name().is_none_or(|name| name == a.physical)
        });
        match found {
            None => creates.push((
                d.kind(),
                Step {
                    change: Change::Create,
                    desired: Some(di),
                    actual: None,
                },
            )),
            Some(ai) => {
                matched[ai] = true;
                let a = &actual[ai];
                let config = a.hash.as_deref() != Some(&d.hash);
                let code = d.kind() == Kind::Function
                    && code_sha256.get(&d.logical_id) != a.code_sha256.as_ref();
                if config || code {
                    updates.push((
                        d.kind(),
                        Step {
                            change: Change::Update { config, code },
                            desired: Some(di),
                            actual: Some(ai),
                        },
                    ));
                }
            }
        }
    }
    let mut deletes: Vec<(Kind, Step)> = actual
        .iter()
        .enumerate()
        .filter(|(ai, _)| !matched[*ai])
        .map(|(ai, a)| {
            (
                a.kind,
                Step {
                    change: Change::Delete,
                    desired: None,
                    actual: Some(ai),
                },
            )
        })
        .collect();
    creates.sort_by_key(|(k, _)| *k);
    updates.sort_by_key(|(k, _)| *k);
    deletes.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
    Plan {
        steps: creates
            .into_iter()
            .chain(updates)
            .chain(deletes)
            .map(|(_, s)| s)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiSpec, Spec, TableSpec};

    fn table(id: &str, name: &str, hash: &str) -> Desired {
        Desired {
            logical_id: id.into(),
            line: 1,
            resource_type: "AWS::Serverless::SimpleTable".into(),
            spec: Spec::Table(TableSpec {
                name: name.into(),
                create: Default::default(),
                tags: Default::default(),
                ttl: None,
            }),
            hash: hash.into(),
            replace_hash: String::new(),
        }
    }

    fn api(id: &str, hash: &str) -> Desired {
        Desired {
            logical_id: id.into(),
            line: 1,
            resource_type: "AWS::Serverless::HttpApi".into(),
            spec: Spec::HttpApi(ApiSpec {
                name: "a".into(),
                description: None,
                cors: None,
                routes: Vec::new(),
                stage: "$default".into(),
                tags: Default::default(),
                authorizers: Vec::new(),
            }),
            hash: hash.into(),
            replace_hash: String::new(),
        }
    }

    fn actual(id: &str, kind: Kind, physical: &str, hash: &str) -> Actual {
        Actual {
            logical_id: id.into(),
            kind,
            physical: physical.into(),
            hash: Some(hash.into()),
            replace_hash: None,
            code_sha256: None,
        }
    }

    #[test]
    fn unchanged_stacks_plan_nothing() {
        let desired = [table("T", "s-T-1", "h1"), api("Api", "h2")];
        let actual = [
            actual("Api", Kind::HttpApi, "abc", "h2"),
            actual("T", Kind::Table, "s-T-1", "h1"),
        ];
        assert!(plan(&desired, &actual, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn creates_then_updates_then_deletes() {
        let desired = [api("Api", "new"), table("New", "s-New-1", "h")];
        let actual = [
            actual("Old", Kind::Table, "s-Old-1", "h"),
            actual("Api", Kind::HttpApi, "abc", "old"),
            actual("Gone", Kind::HttpApi, "def", "h"),
        ];
        let p = plan(&desired, &actual, &BTreeMap::new());
        let steps: Vec<(Change, Option<usize>, Option<usize>)> = p
            .steps
            .into_iter()
            .map(|s| (s.change, s.desired, s.actual))
            .collect();
        assert_eq!(
            steps,
            [
                (Change::Create, Some(1), None),
                (
                    Change::Update {
                        config: true,
                        code: false
                    },
                    Some(0),
                    Some(1)
                ),
                (Change::Delete, None, Some(2)),
                (Change::Delete, None, Some(0)),
            ]
        );
    }

    #[test]
    fn a_renamed_resource_is_replaced() {
        let desired = [table("T", "custom", "h")];
        let actual = [actual("T", Kind::Table, "s-T-1", "h")];
        let p = plan(&desired, &actual, &BTreeMap::new());
        let changes: Vec<Change> = p.steps.into_iter().map(|s| s.change).collect();
        assert_eq!(changes, [Change::Create, Change::Delete]);
    }
}
