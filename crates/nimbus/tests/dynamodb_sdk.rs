//! The official AWS SDK for Rust (`aws-sdk-dynamodb` through `aws-config`) against a freshly
//! started `nimbus serve`: the table lifecycle and the item, query, scan and batch operations
//! that an application uses, with the SDK's typed errors.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
    WriteRequest,
};

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Sets come back in no particular order; sort them so that items compare by value.
fn normalized(v: &AttributeValue) -> AttributeValue {
    match v {
        AttributeValue::Ss(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ss(x)
        }
        AttributeValue::Ns(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ns(x)
        }
        AttributeValue::Bs(x) => {
            let mut x = x.clone();
            x.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(x)
        }
        AttributeValue::L(x) => AttributeValue::L(x.iter().map(normalized).collect()),
        AttributeValue::M(x) => AttributeValue::M(normalized_item(x)),
        other => other.clone(),
    }
}

fn normalized_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), normalized(v)))
        .collect()
}

fn key(pk: &str, sk: i64) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), n(sk))])
}

async fn create_table(client: &Client, name: &str) {
    let out = client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .expect("key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    let desc = out.table_description().expect("table description");
    assert_eq!(desc.table_name(), Some(name));
    // A new table may start CREATING; wait until it is ACTIVE, as an application would.
    for _ in 0..100 {
        let table = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .expect("DescribeTable")
            .table
            .expect("table");
        if table.table_status() == Some(&TableStatus::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("table {name} did not become ACTIVE");
}

#[tokio::test]
async fn official_rust_sdk_drives_the_table_and_item_operations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let server = common::Server::start(&data_dir);
    let client =
        common::dynamodb_client(&server.endpoint_url(), common::credentials(&data_dir), true).await;

    let table = "sdk_items";
    create_table(&client, table).await;

    // PutItem with every attribute type, then GetItem returns it unchanged.
    let item: Item = HashMap::from([
        ("pk".to_owned(), s("user#1")),
        ("sk".to_owned(), n(1)),
        ("name".to_owned(), s("Ada Lovelace ✓")),
        ("count".to_owned(), n(41)),
        ("ratio".to_owned(), n("-0.000125")),
        (
            "big".to_owned(),
            n("12345678901234567890123456789012345678"),
        ),
        (
            "blob".to_owned(),
            AttributeValue::B(Blob::new(vec![0u8, 1, 2, 254, 255])),
        ),
        ("active".to_owned(), AttributeValue::Bool(true)),
        ("nothing".to_owned(), AttributeValue::Null(true)),
        (
            "tags".to_owned(),
            AttributeValue::L(vec![s("a"), n(2), AttributeValue::Bool(false)]),
        ),
        (
            "nested".to_owned(),
            AttributeValue::M(HashMap::from([
                ("leaf".to_owned(), s("x")),
                (
                    "deeper".to_owned(),
                    AttributeValue::M(HashMap::from([(
                        "list".to_owned(),
                        AttributeValue::L(vec![AttributeValue::Null(true)]),
                    )])),
                ),
            ])),
        ),
        (
            "colors".to_owned(),
            AttributeValue::Ss(vec!["red".into(), "green".into(), "blue".into()]),
        ),
        (
            "primes".to_owned(),
            AttributeValue::Ns(vec!["2".into(), "3".into(), "5".into(), "7.5".into()]),
        ),
        (
            "gone".to_owned(),
            s("removed by the update expression below"),
        ),
    ]);
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item.clone()))
        .send()
        .await
        .expect("PutItem");
    let got = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("item is present");
    assert_eq!(normalized_item(&got), normalized_item(&item));

    // A missing key: GetItem succeeds with no item.
    let missing = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("user#1", 999)))
        .send()
        .await
        .expect("GetItem of a missing key");
    assert!(missing.item.is_none());

    // UpdateItem with SET, arithmetic, list_append, a nested path, REMOVE and ADD; ALL_NEW.
    let updated = client
        .update_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .update_expression(
            "SET #c = #c + :one, tags = list_append(tags, :more), nested.leaf = :leaf \
             REMOVE gone ADD colors :violet",
        )
        .condition_expression("attribute_exists(pk) AND #c = :expected")
        .expression_attribute_names("#c", "count")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":expected", n(41))
        .expression_attribute_values(":more", AttributeValue::L(vec![s("z")]))
        .expression_attribute_values(":leaf", s("y"))
        .expression_attribute_values(":violet", AttributeValue::Ss(vec!["violet".into()]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("UpdateItem")
        .attributes
        .expect("ALL_NEW attributes");
    let mut expected = item.clone();
    expected.remove("gone");
    expected.insert("count".into(), n(42));
    expected.insert(
        "tags".into(),
        AttributeValue::L(vec![s("a"), n(2), AttributeValue::Bool(false), s("z")]),
    );
    if let Some(AttributeValue::M(nested)) = expected.get_mut("nested") {
        nested.insert("leaf".into(), s("y"));
    }
    expected.insert(
        "colors".into(),
        AttributeValue::Ss(vec![
            "red".into(),
            "green".into(),
            "blue".into(),
            "violet".into(),
        ]),
    );
    assert_eq!(normalized_item(&updated), normalized_item(&expected));

    // UPDATED_OLD returns only the changed attributes, as they were.
    let old = client
        .update_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .update_expression("SET active = :f")
        .expression_attribute_values(":f", AttributeValue::Bool(false))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await
        .expect("UpdateItem UPDATED_OLD")
        .attributes
        .expect("UPDATED_OLD attributes");
    assert_eq!(
        old,
        HashMap::from([("active".to_owned(), AttributeValue::Bool(true))])
    );
    expected.insert("active".into(), AttributeValue::Bool(false));

    // A failing ConditionExpression is the SDK's ConditionalCheckFailedException, and with
    // ReturnValuesOnConditionCheckFailure it carries the item as it is.
    let err = client
        .put_item()
        .table_name(table)
        .item("pk", s("user#1"))
        .item("sk", n(1))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("the item exists, so the condition fails");
    let err = err.into_service_error();
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(ccf) =
        err
    else {
        unreachable!()
    };
    assert_eq!(
        ccf.item.as_ref().map(normalized_item),
        Some(normalized_item(&expected)),
        "ConditionalCheckFailedException carries the existing item"
    );
    let err = client
        .update_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .update_expression("SET #c = :zero")
        .condition_expression("#c < :limit")
        .expression_attribute_names("#c", "count")
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":limit", n(10))
        .send()
        .await
        .expect_err("count is 42, so the condition fails")
        .into_service_error();
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    // The failed writes changed nothing.
    let got = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("item");
    assert_eq!(normalized_item(&got), normalized_item(&expected));

    // BatchWriteItem: 25 items (the per-call maximum) under one partition key.
    let requests: Vec<WriteRequest> = (0..25)
        .map(|i| {
            let mut item = key("orders", i);
            item.insert("amount".into(), n(i * 10));
            item.insert("label".into(), s(&format!("order {i}")));
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put request"),
                )
                .build()
        })
        .collect();
    let out = client
        .batch_write_item()
        .request_items(table, requests)
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(
        out.unprocessed_items.unwrap_or_default().is_empty(),
        "no unprocessed items"
    );

    // Query with a key condition, paged by Limit and LastEvaluatedKey.
    let mut pages = 0;
    let mut seen = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":p", s("orders"))
            .expression_attribute_values(":lo", n(3))
            .expression_attribute_values(":hi", n(20))
            .limit(5)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("Query");
        pages += 1;
        assert!(out.count() <= 5, "a page holds at most Limit items");
        assert_eq!(out.count() as usize, out.items().len());
        for item in out.items() {
            let Some(AttributeValue::N(sk)) = item.get("sk") else {
                panic!("item without a numeric sort key: {item:?}");
            };
            let sk: i64 = sk.parse().expect("sort key");
            assert_eq!(item.get("amount"), Some(&n(sk * 10)));
            seen.push(sk);
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => {
                assert_eq!(k.len(), 2, "LastEvaluatedKey is the table key: {k:?}");
                start = Some(k);
            }
            _ => break,
        }
        assert!(pages < 20, "Query pagination does not end");
    }
    assert_eq!(seen, (3..=20).collect::<Vec<_>>(), "ascending, complete");
    assert!(pages >= 4, "18 items at 5 per page take at least 4 pages");

    // The same through the SDK's paginator, descending, with a filter and a projection.
    let items: Vec<Item> = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :p AND sk >= :lo")
        .filter_expression("amount > :min")
        .projection_expression("sk, #l")
        .expression_attribute_names("#l", "label")
        .expression_attribute_values(":p", s("orders"))
        .expression_attribute_values(":lo", n(10))
        .expression_attribute_values(":min", n(150))
        .scan_index_forward(false)
        .limit(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("Query paginator");
    let sks: Vec<AttributeValue> = items
        .iter()
        .map(|i| i.get("sk").cloned().expect("sk"))
        .collect();
    assert_eq!(sks, (16..25).rev().map(n).collect::<Vec<_>>());
    assert!(
        items
            .iter()
            .all(|i| i.len() == 2 && i.contains_key("label")),
        "projection keeps only sk and label: {items:?}"
    );

    // Scan sees every item exactly once, across pages.
    let scanned: Vec<Item> = client
        .scan()
        .table_name(table)
        .limit(7)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("Scan");
    assert_eq!(scanned.len(), 26);
    let mut keys: Vec<(String, String)> = scanned
        .iter()
        .map(|i| match (i.get("pk"), i.get("sk")) {
            (Some(AttributeValue::S(p)), Some(AttributeValue::N(s))) => (p.clone(), s.clone()),
            _ => panic!("scanned item without its key: {i:?}"),
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 26, "no item is returned twice");
    let count = client
        .scan()
        .table_name(table)
        .filter_expression("attribute_exists(amount)")
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .expect("Scan COUNT");
    assert_eq!(count.count(), 25);

    // DeleteItem returns the old item with ALL_OLD; a second delete finds nothing.
    let old = client
        .delete_item()
        .table_name(table)
        .set_key(Some(key("orders", 7)))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem")
        .attributes
        .expect("ALL_OLD attributes");
    assert_eq!(old.get("label"), Some(&s("order 7")));
    let again = client
        .delete_item()
        .table_name(table)
        .set_key(Some(key("orders", 7)))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem of a missing item");
    assert!(again.attributes.unwrap_or_default().is_empty());
    let err = client
        .delete_item()
        .table_name(table)
        .set_key(Some(key("orders", 8)))
        .condition_expression("amount = :wrong")
        .expression_attribute_values(":wrong", n(-1))
        .send()
        .await
        .expect_err("condition fails")
        .into_service_error();
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    let gone = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("orders", 7)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    assert!(gone.item.is_none());

    // DescribeTable tells the key schema and attribute definitions.
    let desc = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("table");
    assert_eq!(desc.table_name(), Some(table));
    assert_eq!(desc.table_status(), Some(&TableStatus::Active));
    let schema: Vec<(&str, &KeyType)> = desc
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(schema, [("pk", &KeyType::Hash), ("sk", &KeyType::Range)]);
    let mut defs: Vec<(&str, &ScalarAttributeType)> = desc
        .attribute_definitions()
        .iter()
        .map(|d| (d.attribute_name(), d.attribute_type()))
        .collect();
    defs.sort_by_key(|d| d.0);
    assert_eq!(
        defs,
        [
            ("pk", &ScalarAttributeType::S),
            ("sk", &ScalarAttributeType::N)
        ]
    );
    assert!(
        desc.table_arn()
            .is_some_and(|arn| arn.starts_with("arn:aws:dynamodb:us-east-1:")
                && arn.ends_with(&format!(":table/{table}"))),
        "{:?}",
        desc.table_arn()
    );

    // ListTables, also paged one name at a time.
    create_table(&client, "sdk_other").await;
    let names = client
        .list_tables()
        .send()
        .await
        .expect("ListTables")
        .table_names
        .unwrap_or_default();
    assert_eq!(names, ["sdk_items", "sdk_other"]);
    let paged: Vec<String> = client
        .list_tables()
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListTables paginator");
    assert_eq!(paged, ["sdk_items", "sdk_other"]);

    // CreateTable of an existing name is ResourceInUseException.
    let err = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("the table exists")
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    // DeleteTable, then the table is gone: ResourceNotFoundException everywhere.
    client
        .delete_table()
        .table_name(table)
        .send()
        .await
        .expect("DeleteTable");
    let err = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect_err("table deleted")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("user#1", 1)))
        .send()
        .await
        .expect_err("table deleted")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = client
        .put_item()
        .table_name("never_created")
        .set_item(Some(key("a", 1)))
        .send()
        .await
        .expect_err("no such table")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = client
        .delete_table()
        .table_name(table)
        .send()
        .await
        .expect_err("already deleted")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let names = client
        .list_tables()
        .send()
        .await
        .expect("ListTables")
        .table_names
        .unwrap_or_default();
    assert_eq!(names, ["sdk_other"]);

    // A signature made with the wrong secret is refused.
    let wrong = aws_credential_types::Credentials::new(
        common::credentials(&data_dir).access_key_id(),
        "0000000000000000000000000000000000000000",
        None,
        None,
        "wrong",
    );
    let bad = common::dynamodb_client(&server.endpoint_url(), wrong, false).await;
    let err = bad
        .list_tables()
        .send()
        .await
        .expect_err("wrong secret key");
    let code = aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err);
    assert_eq!(code, Some("InvalidSignatureException"), "{err:?}");

    let status = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "graceful exit: {status:?}");
    assert_eq!(common::error_lines(&data_dir), Vec::<String>::new());
}
