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
