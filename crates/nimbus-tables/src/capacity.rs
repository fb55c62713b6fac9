//! Capacity units by DynamoDB's rules.
