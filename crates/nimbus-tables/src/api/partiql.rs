//! PartiQL shapes: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

use nimbus_tables_model::{AttributeValue, Item};

use super::items::ConsumedCapacity;
use super::transact::ItemResponse;
use super::wire_structs;

wire_structs! {
    /// `ExecuteStatementInput`.
    pub struct ExecuteStatementInput {
        statement: String,
        parameters: Vec<AttributeValue>,
        consistent_read: bool,
        next_token: String,
        return_consumed_capacity: String,
        limit: i64,
        return_values_on_condition_check_failure: String,
    }

    /// `ExecuteStatementOutput`.
    pub struct ExecuteStatementOutput {
        items: Vec<Item>,
        next_token: String,
        consumed_capacity: ConsumedCapacity,
        last_evaluated_key: Item,
    }

    /// `BatchStatementRequest`.
    pub struct BatchStatementRequest {
        statement: String,
        parameters: Vec<AttributeValue>,
        consistent_read: bool,
        return_values_on_condition_check_failure: String,
    }

    /// `BatchExecuteStatementInput`.
    pub struct BatchExecuteStatementInput {
        statements: Vec<BatchStatementRequest>,
        return_consumed_capacity: String,
    }

    /// `BatchStatementError`.
    pub struct BatchStatementError {
        code: String,
        message: String,
        item: Item,
    }

    /// `BatchStatementResponse`.
    pub struct BatchStatementResponse {
        error: BatchStatementError,
        table_name: String,
        item: Item,
    }

    /// `BatchExecuteStatementOutput`.
    pub struct BatchExecuteStatementOutput {
        responses: Vec<BatchStatementResponse>,
        consumed_capacity: Vec<ConsumedCapacity>,
    }

    /// `ParameterizedStatement`.
    pub struct ParameterizedStatement {
        statement: String,
        parameters: Vec<AttributeValue>,
        return_values_on_condition_check_failure: String,
    }

    /// `ExecuteTransactionInput`.
    pub struct ExecuteTransactionInput {
        transact_statements: Vec<ParameterizedStatement>,
        client_request_token: String,
        return_consumed_capacity: String,
    }

    /// `ExecuteTransactionOutput`.
    pub struct ExecuteTransactionOutput {
        responses: Vec<ItemResponse>,
        consumed_capacity: Vec<ConsumedCapacity>,
    }
}
