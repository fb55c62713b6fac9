//! Capacity units by DynamoDB's rules: reads in 4 KB units (half for eventually consistent
//! reads), writes in 1 KB units on the larger of the old and new item, at least one unit each.

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

/// Units consumed on one table by one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Consumed {
    pub read: f64,
    pub write: f64,
}

impl Consumed {
    pub(crate) fn read(units: f64) -> Consumed {
        Consumed {
            read: units,
            write: 0.0,
        }
    }

    pub(crate) fn write(units: f64) -> Consumed {
        Consumed {
            read: 0.0,
            write: units,
        }
    }

    pub(crate) fn add(&mut self, other: &Consumed) {
        self.read += other.read;
        self.write += other.write;
    }

    /// The `ConsumedCapacity` member of a response, as `report` asks.
    pub(crate) fn report(&self, table: &str, report: Report) -> Option<ConsumedCapacity> {
        let total = self.read + self.write;
        match report {
            Report::None => None,
            Report::Total => Some(ConsumedCapacity {
                table_name: Some(table.to_string()),
                capacity_units: Some(total),
                ..ConsumedCapacity::default()
            }),
            Report::Indexes => Some(ConsumedCapacity {
                table_name: Some(table.to_string()),
                capacity_units: Some(total),
                table: Some(Capacity {
                    capacity_units: Some(total),
                    ..Capacity::default()
                }),
                ..ConsumedCapacity::default()
            }),
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
}
