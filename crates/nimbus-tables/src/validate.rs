//! DynamoDB's input constraint checks and their messages:
//! `1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: ...`.

use crate::error::{Result, TablesError};

/// Collects constraint violations of one request, reported together as DynamoDB does.
#[derive(Debug, Default)]
pub(crate) struct Violations {
    errors: Vec<String>,
}

impl Violations {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records that `value` (already rendered, `None` for null) at `path` broke `constraint`.
    pub(crate) fn add(&mut self, value: Option<&str>, path: &str, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Records that the member at `path` broke `constraint`, without echoing its value (as
    /// DynamoDB words some members' violations, e.g. Query's `Limit`).
    pub(crate) fn add_unechoed(&mut self, path: &str, constraint: &str) {
        self.errors.push(format!(
            "Value at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member.
    pub(crate) fn required<'a, T>(&mut self, value: &'a Option<T>, path: &str) -> Option<&'a T> {
        if value.is_none() {
            self.add(None, path, "Member must not be null");
        }
        value.as_ref()
    }

    /// A string member restricted to `allowed`.
    pub(crate) fn one_of(&mut self, value: Option<&str>, path: &str, allowed: &[&str]) {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            let set = allowed.join(", ");
            self.add(
                Some(v),
                path,
                &format!("Member must satisfy enum value set: [{set}]"),
            );
        }
    }

    /// The `TableName` of an item operation: required, and a valid name unless it is a table
    /// ARN (checked when the table is looked up).
    pub(crate) fn table_name(&mut self, value: Option<&str>) {
        self.table_name_at(value, "tableName");
    }

    /// [`Violations::table_name`] of a member at `path` (the actions of a transaction).
    pub(crate) fn table_name_at(&mut self, value: Option<&str>, path: &str) {
        match value {
            None => self.add(None, path, "Member must not be null"),
            Some(arn) if arn.starts_with("arn:") => {}
            Some(name) => self.name(Some(name), path),
        }
    }

    /// A table name of a member that also takes a table ARN (`TableArn` in the model: an
    /// empty one breaks its own minimum of 1): 3 to 255 characters of `[a-zA-Z0-9_.-]`.
    pub(crate) fn name(&mut self, value: Option<&str>, path: &str) {
        self.check_name(value, path, false);
    }

    /// A member that is a name only (`TableName`, `IndexName`): an empty one breaks the
    /// pattern and the minimum of 3 as well.
    pub(crate) fn strict_name(&mut self, value: Option<&str>, path: &str) {
        self.check_name(value, path, true);
    }

    /// The keys of a map of table names or ARNs (BatchGetItem's `RequestItems`): DynamoDB
    /// reports a bad name as the whole map's, echoing `map` (already rendered). ARNs are
    /// checked when the table is looked up, as for [`Violations::table_name`].
    pub(crate) fn table_keys<'a>(
        &mut self,
        mut names: impl Iterator<Item = &'a String>,
        map: impl FnOnce() -> String,
        path: &str,
    ) {
        let mut probe = Violations::new();
        if names.any(|name| {
            if name.starts_with("arn:") {
                return false;
            }
            probe.check_name(Some(name), "", false);
            !probe.errors.is_empty()
        }) {
            self.add(
                Some(&map()),
                path,
                "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]",
            );
        }
    }

    fn check_name(&mut self, value: Option<&str>, path: &str, strict: bool) {
        let Some(v) = value else { return };
        let pattern_ok = v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !pattern_ok || (strict && v.is_empty()) {
            self.add(
                Some(v),
                path,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        let len = v.chars().count();
        if len < 3 {
            // An empty name breaks the member's own minimum (1: the member also takes ARNs);
            // a short one DynamoDB's minimum for table names.
            let minimum = if len == 0 && !strict { 1 } else { 3 };
            self.add(
                Some(v),
                path,
                &format!("Member must have length greater than or equal to {minimum}"),
            );
        }
        if len > 255 {
            self.add(
                Some(v),
                path,
                "Member must have length less than or equal to 255",
            );
        }
    }

    /// An integer member with bounds.
    pub(crate) fn range(&mut self, value: Option<i64>, path: &str, min: i64, max: Option<i64>) {
        let Some(v) = value else { return };
        if v < min {
            self.add(
                Some(&v.to_string()),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && v > max
        {
            self.add(
                Some(&v.to_string()),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// `Err(ValidationException)` if anything was recorded.
    pub(crate) fn finish(self) -> Result<()> {
        match self.errors.len() {
            0 => Ok(()),
            n => {
                let plural = if n == 1 { "error" } else { "errors" };
                Err(TablesError::Validation(format!(
                    "{n} validation {plural} detected: {}",
                    self.errors.join("; ")
                )))
            }
        }
    }
}

/// The first element of `items` that equals one before it.
pub(crate) fn first_repeated<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find(|(i, item)| items[..*i].contains(item))
        .map(|(_, item)| item)
}

/// The value of a required member, or DynamoDB's single "must not be null" error.
pub(crate) fn required<T>(value: Option<T>, path: &str) -> Result<T> {
    value.ok_or_else(|| {
        TablesError::Validation(format!(
            "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_violations_like_dynamodb() {
        let mut v = Violations::new();
        v.name(Some("a!"), "tableName");
        let Err(TablesError::Validation(message)) = v.finish() else {
            panic!("expected a validation error")
        };
        assert_eq!(
            message,
            "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
        assert!(Violations::new().finish().is_ok());
    }
}
