//! The typed operation enum: one variant per supported DynamoDB operation.

use crate::api::*;
use crate::error::{Result, TablesError};
use crate::parse::parse_body;

macro_rules! table_ops {
    ($($name:ident($input:ty),)*) => {
        /// One DynamoDB request, parsed.
        #[derive(Debug, Clone, PartialEq)]
        pub enum TableOp {
            $($name($input),)*
        }

        impl TableOp {
            /// Parses the body of the operation `operation` (the part of
            /// `X-Amz-Target: DynamoDB_20120810.<Op>` after the dot).
            pub fn parse(operation: &str, body: &[u8]) -> Result<TableOp> {
                match operation {
                    $(stringify!($name) => Ok(TableOp::$name(parse_body(operation, body)?)),)*
                    other => Err(TablesError::UnknownOperation(other.to_string())),
                }
            }

            /// Whether the operation touches at most one item: a few point reads (the item,
            /// and the catalog entry when it is not cached) and at most one commit, which is
            /// awaited. Cheap enough to poll on an async runtime's own thread; the others scan
            /// ranges, read up to a hundred items, or change tables.
            pub fn is_point(&self) -> bool {
                matches!(
                    self,
                    TableOp::GetItem(_)
                        | TableOp::PutItem(_)
                        | TableOp::UpdateItem(_)
                        | TableOp::DeleteItem(_)
                )
            }

            /// The DynamoDB name of the operation.
            pub fn name(&self) -> &'static str {
                match self {
                    $(TableOp::$name(_) => stringify!($name),)*
                }
            }
        }
    };
}

table_ops! {
    CreateTable(CreateTableInput),
    DescribeTable(DescribeTableInput),
    ListTables(ListTablesInput),
    UpdateTable(UpdateTableInput),
    DeleteTable(DeleteTableInput),
    TagResource(TagResourceInput),
    UntagResource(UntagResourceInput),
    ListTagsOfResource(ListTagsOfResourceInput),
    UpdateTimeToLive(UpdateTimeToLiveInput),
    DescribeTimeToLive(DescribeTimeToLiveInput),
    DescribeContinuousBackups(DescribeContinuousBackupsInput),
    UpdateContinuousBackups(UpdateContinuousBackupsInput),
    DescribeLimits(DescribeLimitsInput),
    DescribeEndpoints(DescribeEndpointsRequest),
    PutItem(PutItemInput),
    GetItem(GetItemInput),
    UpdateItem(UpdateItemInput),
    DeleteItem(DeleteItemInput),
    Query(QueryInput),
    Scan(ScanInput),
    BatchGetItem(BatchGetItemInput),
    BatchWriteItem(BatchWriteItemInput),
    TransactWriteItems(TransactWriteItemsInput),
    TransactGetItems(TransactGetItemsInput),
    ExecuteStatement(ExecuteStatementInput),
    BatchExecuteStatement(BatchExecuteStatementInput),
    ExecuteTransaction(ExecuteTransactionInput),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_operations() {
        let op = TableOp::parse("DescribeTable", br#"{"TableName": "Music"}"#).unwrap();
        assert_eq!(op.name(), "DescribeTable");
        assert_eq!(
            op,
            TableOp::DescribeTable(DescribeTableInput {
                table_name: Some("Music".into())
            })
        );
        assert_eq!(
            TableOp::parse("ListTables", b"{}").unwrap().name(),
            "ListTables"
        );
    }

    #[test]
    fn rejects_unknown_operations_and_bad_json() {
        assert!(matches!(
            TableOp::parse("Frobnicate", b"{}"),
            Err(TablesError::UnknownOperation(name)) if name == "Frobnicate"
        ));
        assert!(matches!(
            TableOp::parse("DescribeTable", b"{"),
            Err(TablesError::Serialization(_))
        ));
        assert!(matches!(
            TableOp::parse("DescribeTable", br#"{"TableName": 5}"#),
            Err(TablesError::Serialization(_))
        ));
    }
}
