//! Capacity units by DynamoDB's rules: reads in 4 KB units (half for eventually consistent
//! reads), writes in 1 KB units on the larger of the old and new item, at least one unit each.

use std::collections::BTreeMap;

use crate::api::{Capacity, ConsumedCapacity};
use crate::error::Result;
use crate::validate::Violations;

const READ_UNIT: usize = 4 * 1024;
const WRITE_UNIT: usize = 1024;

/// Read units for reading `bytes` of item data in one request.
pub(crate) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// Write units for writing an item whose old and new sizes are given (0 when absent).
pub(crate) fn write_units(old_size: usize, new_size: usize) -> f64 {
    old_size.max(new_size).div_ceil(WRITE_UNIT).max(1) as f64
}

/// What `ReturnConsumedCapacity` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    None,
    Total,
    Indexes,
}

impl Report {
    /// Records a `ReturnConsumedCapacity` outside the enumeration.
    pub(crate) fn check(v: &mut Violations, value: Option<&str>) {
        v.one_of(
            value,
            "returnConsumedCapacity",
            &["INDEXES", "TOTAL", "NONE"],
        );
    }

    /// Parses `ReturnConsumedCapacity`.
    pub(crate) fn parse(value: Option<&str>) -> Result<Report> {
        let mut v = Violations::new();
        Report::check(&mut v, value);
        v.finish()?;
        Ok(match value {
            Some("TOTAL") => Report::Total,
            Some("INDEXES") => Report::Indexes,
            _ => Report::None,
        })
    }
}

/// Units one request consumed on one secondary index of a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexUnits {
    pub name: String,
    pub global: bool,
    pub units: f64,
}

/// Units consumed on one table by one request: `read` and `write` are the totals, the table's
/// own units and its indexes' together; `indexes` says how much of them each secondary index
/// took (only the indexes the request touched, as DynamoDB lists them).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Consumed {
    pub read: f64,
    pub write: f64,
    pub indexes: Vec<IndexUnits>,
}

impl Consumed {
    pub(crate) fn read(units: f64) -> Consumed {
        Consumed {
            read: units,
            ..Consumed::default()
        }
    }

    pub(crate) fn write(units: f64) -> Consumed {
        Consumed {
            write: units,
            ..Consumed::default()
        }
    }

    /// A write of `table` units on the table and `indexes` on its indexes, each counted
    /// `factor` times (transactions count every write twice).
    pub(crate) fn write_with(table: f64, indexes: Vec<IndexUnits>, factor: f64) -> Consumed {
        let mut consumed = Consumed::write(factor * table);
        for index in indexes {
            consumed.write += factor * index.units;
            consumed.note_index(IndexUnits {
                units: factor * index.units,
                ..index
            });
        }
        consumed
    }

    /// Records that `index.units` of the totals were the index's.
    pub(crate) fn note_index(&mut self, index: IndexUnits) {
        match self.indexes.iter_mut().find(|i| i.name == index.name) {
            Some(known) => known.units += index.units,
            None => self.indexes.push(index),
        }
    }

    pub(crate) fn add(&mut self, other: &Consumed) {
        self.read += other.read;
        self.write += other.write;
        for index in &other.indexes {
            self.note_index(index.clone());
        }
    }

    /// The `ConsumedCapacity` of a transaction, as `report` asks: as [`Consumed::report`], with
    /// the read and write units apart too (DynamoDB splits them for transactions only), in the
    /// totals and, with INDEXES, for the table and each index.
    pub(crate) fn report_split(&self, table: &str, report: Report) -> Option<ConsumedCapacity> {
        let mut c = self.report(table, report)?;
        let (read, write) = (self.read, self.write);
        let total = read + write;
        let split = |capacity: &mut Capacity, share: f64| {
            let part = |units: f64| {
                if total > 0.0 {
                    units * share / total
                } else {
                    0.0
                }
            };
            capacity.read_capacity_units = (read > 0.0).then(|| part(read));
            capacity.write_capacity_units = (write > 0.0).then(|| part(write));
        };
        // A side the transaction did not use is left out, as DynamoDB leaves it out.
        c.read_capacity_units = (read > 0.0).then_some(read);
        c.write_capacity_units = (write > 0.0).then_some(write);
        if let Some(own) = c.table.as_mut() {
            let share = own.capacity_units.unwrap_or_default();
            split(own, share);
        }
        for map in [
            c.global_secondary_indexes.as_mut(),
            c.local_secondary_indexes.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            for capacity in map.values_mut() {
                let share = capacity.capacity_units.unwrap_or_default();
                split(capacity, share);
            }
        }
        Some(c)
    }

    /// The `ConsumedCapacity` member of a response, as `report` asks.
    pub(crate) fn report(&self, table: &str, report: Report) -> Option<ConsumedCapacity> {
        let total = self.read + self.write;
        let units = |u: f64| Capacity {
            capacity_units: Some(u),
            ..Capacity::default()
        };
        match report {
            Report::None => None,
            Report::Total => Some(ConsumedCapacity {
                table_name: Some(table.to_string()),
                capacity_units: Some(total),
                ..ConsumedCapacity::default()
            }),
            Report::Indexes => {
                let of = |global: bool| {
                    let map: BTreeMap<String, Capacity> = self
                        .indexes
                        .iter()
                        .filter(|i| i.global == global)
                        .map(|i| (i.name.clone(), units(i.units)))
                        .collect();
                    (!map.is_empty()).then_some(map)
                };
                let on_indexes: f64 = self.indexes.iter().map(|i| i.units).sum();
                Some(ConsumedCapacity {
                    table_name: Some(table.to_string()),
                    capacity_units: Some(total),
                    table: Some(units(total - on_indexes)),
                    global_secondary_indexes: of(true),
                    local_secondary_indexes: of(false),
                    ..ConsumedCapacity::default()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_dynamodb_rules() {
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(10, false), 0.5);
        assert_eq!(write_units(0, 0), 1.0);
        assert_eq!(write_units(1024, 10), 1.0);
        assert_eq!(write_units(10, 1025), 2.0);
        assert_eq!(write_units(3000, 10), 3.0);
    }

    #[test]
    fn reports_as_asked() {
        let c = Consumed::read(0.5);
        assert_eq!(c.report("t", Report::None), None);
        let total = c.report("t", Report::Total).unwrap();
        assert_eq!(total.capacity_units, Some(0.5));
        assert!(total.table.is_none());
        let indexes = c.report("t", Report::Indexes).unwrap();
        assert_eq!(indexes.table.unwrap().capacity_units, Some(0.5));
        assert!(Report::parse(Some("SOME")).is_err());
    }

    #[test]
    fn index_units_are_listed_per_index_and_taken_from_the_table() {
        let on = |name: &str, global: bool, units: f64| IndexUnits {
            name: name.to_string(),
            global,
            units,
        };
        let mut c = Consumed::write_with(1.0, vec![on("g", true, 2.0)], 2.0);
        c.add(&Consumed::write_with(
            1.0,
            vec![on("g", true, 1.0), on("l", false, 1.0)],
            1.0,
        ));
        assert_eq!(c.write, 2.0 + 4.0 + 1.0 + 1.0 + 1.0);
        let total = c.report("t", Report::Total).unwrap();
        assert_eq!(total.capacity_units, Some(9.0));
        assert!(total.global_secondary_indexes.is_none());
        let indexes = c.report("t", Report::Indexes).unwrap();
        assert_eq!(indexes.capacity_units, Some(9.0));
        assert_eq!(indexes.table.unwrap().capacity_units, Some(3.0));
        let global = indexes.global_secondary_indexes.unwrap();
        assert_eq!(global["g"].capacity_units, Some(5.0));
        let local = indexes.local_secondary_indexes.unwrap();
        assert_eq!(local["l"].capacity_units, Some(1.0));
        // A write that touched no index lists none.
        let plain = Consumed::write(1.0).report("t", Report::Indexes).unwrap();
        assert!(
            plain.global_secondary_indexes.is_none() && plain.local_secondary_indexes.is_none()
        );
    }
}
