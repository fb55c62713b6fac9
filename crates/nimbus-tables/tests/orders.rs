//! A realistic sequence through the public entry points: an orders table with a composite key,
//! conditional creates, counters updated by expressions, a query by customer, a paged scan,
//! batches, and table deletion.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use nimbus_metering::Totals;
use nimbus_store::mem::MemStore;
use nimbus_tables::{TableOp, Tables, TablesConfig, TablesError};
use serde_json::{Value, json};

/// Runs one operation to completion: over a `MemStore` nothing ever waits, so one poll does.
fn call(tables: &Tables, operation: &str, body: Value) -> Result<Value, TablesError> {
    let op = TableOp::parse(operation, body.to_string().as_bytes())?;
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(bytes) = std::pin::pin!(tables.execute(op)).poll(&mut cx) else {
        panic!("{operation} waited on a memory store");
    };
    Ok(serde_json::from_slice(&bytes?).expect("responses are JSON"))
}

#[test]
fn orders_workflow() -> Result<(), TablesError> {
    let usage = Arc::new(Totals::new());
    let config = TablesConfig {
        region: "eu-west-1".into(),
        account_id: "123456789012".into(),
        endpoint: "127.0.0.1:4566".into(),
    };
    let t = Tables::new(Arc::new(MemStore::new()), config, usage.clone())?;

    call(
        &t,
        "CreateTable",
        json!({
            "TableName": "Orders",
            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                          {"AttributeName": "order", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"},
                                     {"AttributeName": "order", "AttributeType": "N"}],
            "BillingMode": "PAY_PER_REQUEST",
            "Tags": [{"Key": "team", "Value": "shop"}],
        }),
    )?;

    // Orders are created only once.
    for (customer, order, total) in [("ann", 1, "10"), ("ann", 2, "25.5"), ("bob", 1, "7")] {
        call(
            &t,
            "PutItem",
            json!({
                "TableName": "Orders",
                "Item": {"customer": {"S": customer}, "order": {"N": order.to_string()},
                         "total": {"N": total}, "status": {"S": "NEW"}},
                "ConditionExpression": "attribute_not_exists(customer)",
            }),
        )?;
    }
    let duplicate = call(
        &t,
        "PutItem",
        json!({
            "TableName": "Orders",
            "Item": {"customer": {"S": "ann"}, "order": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(customer)",
        }),
    );
    assert!(matches!(
        duplicate,
        Err(TablesError::ConditionalCheckFailed { .. })
    ));

    // Ship one order, counting shipments; reserved words go through names.
    let shipped = call(
        &t,
        "UpdateItem",
        json!({
            "TableName": "Orders",
            "Key": {"customer": {"S": "ann"}, "order": {"N": "2"}},
            "UpdateExpression": "SET #s = :shipped ADD shipments :one",
            "ConditionExpression": "#s = :new",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":shipped": {"S": "SHIPPED"}, ":new": {"S": "NEW"}, ":one": {"N": "1"}},
            "ReturnValues": "UPDATED_NEW",
            "ReturnConsumedCapacity": "TOTAL",
        }),
    )?;
    assert_eq!(
        shipped["Attributes"],
        json!({"status": {"S": "SHIPPED"}, "shipments": {"N": "1"}})
    );
    assert_eq!(shipped["ConsumedCapacity"]["CapacityUnits"], 1.0);

    // Ann's orders, newest first, only the shipped ones.
    let page = call(
        &t,
        "Query",
        json!({
            "TableName": "Orders",
            "KeyConditionExpression": "customer = :c AND #o >= :first",
            "FilterExpression": "#s = :shipped",
            "ProjectionExpression": "#o, #s",
            "ExpressionAttributeNames": {"#o": "order", "#s": "status"},
            "ExpressionAttributeValues": {":c": {"S": "ann"}, ":first": {"N": "1"}, ":shipped": {"S": "SHIPPED"}},
            "ScanIndexForward": false,
        }),
    )?;
    assert_eq!(page["Count"], 1);
    assert_eq!(page["ScannedCount"], 2);
    assert_eq!(
        page["Items"],
        json!([{"order": {"N": "2"}, "status": {"S": "SHIPPED"}}])
    );

    // Batches: archive bob's order and add two more in one request.
    call(
        &t,
        "BatchWriteItem",
        json!({"RequestItems": {"Orders": [
            {"DeleteRequest": {"Key": {"customer": {"S": "bob"}, "order": {"N": "1"}}}},
            {"PutRequest": {"Item": {"customer": {"S": "cid"}, "order": {"N": "1"}, "total": {"N": "3"}}}},
            {"PutRequest": {"Item": {"customer": {"S": "cid"}, "order": {"N": "2"}, "total": {"N": "4"}}}},
        ]}}),
    )?;
    let batch = call(
        &t,
        "BatchGetItem",
        json!({"RequestItems": {"Orders": {
            "Keys": [{"customer": {"S": "cid"}, "order": {"N": "2"}}, {"customer": {"S": "bob"}, "order": {"N": "1"}}],
            "ProjectionExpression": "#t",
        "ExpressionAttributeNames": {"#t": "total"},
        }}}),
    )?;
    assert_eq!(batch["Responses"]["Orders"], json!([{"total": {"N": "4"}}]));

    // A paged scan sees every order once; the table description counts them.
    let mut seen = 0;
    let mut body = json!({"TableName": "Orders", "Limit": 2});
    loop {
        let page = call(&t, "Scan", body.clone())?;
        seen += page["Count"].as_i64().unwrap_or(0);
        match page.get("LastEvaluatedKey") {
            Some(last) => body["ExclusiveStartKey"] = last.clone(),
            None => break,
        }
    }
    assert_eq!(seen, 4);
    let desc = call(&t, "DescribeTable", json!({"TableName": "Orders"}))?;
    assert_eq!(desc["Table"]["ItemCount"], 4);
    assert_eq!(
        desc["Table"]["TableArn"],
        "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders"
    );
    let tags = call(
        &t,
        "ListTagsOfResource",
        json!({"ResourceArn": desc["Table"]["TableArn"]}),
    )?;
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "shop"}]));

    // Every item operation was metered.
    let (tables, _) = usage.snapshot();
    assert!(tables["Orders"].write_units >= 7.0);
    assert!(tables["Orders"].read_units > 0.0);

    call(&t, "DeleteTable", json!({"TableName": "Orders"}))?;
    let gone = call(&t, "Scan", json!({"TableName": "Orders"}));
    assert!(matches!(gone, Err(TablesError::ResourceNotFound(_))));
    Ok(())
}
