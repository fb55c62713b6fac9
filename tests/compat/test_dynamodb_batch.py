"""BatchGetItem and BatchWriteItem, and the boto3 resource batch_writer.

Sources: API Reference BatchGetItem ("up to 100 items", "Too many items
requested for the BatchGetItem call", duplicates rejected, UnprocessedKeys)
and BatchWriteItem ("up to 25 put or delete requests", "item keys ... must
not be duplicated", no UpdateItem, UnprocessedItems); BatchWriteItemRequestMap
and WriteRequests (1..25) in the service model.
"""

import pytest

from conftest import unique_name


@pytest.fixture
def table(make_table):
    return make_table(hash=("pk", "S"))


@pytest.fixture
def table2(make_table):
    return make_table(hash=("id", "N"), range=("r", "S"))


def _put(i, **extra):
    return {"PutRequest": {"Item": {"pk": {"S": f"k{i:03d}"}, "v": {"N": str(i)}, **extra}}}


# --------------------------------------------------------------------------- BatchWriteItem


def test_batch_write_25_puts(dynamodb, table):
    resp = dynamodb.batch_write_item(RequestItems={table: [_put(i) for i in range(25)]})
    assert resp["UnprocessedItems"] == {}
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 25


def test_batch_write_puts_and_deletes_across_tables(dynamodb, table, table2):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "gone"}})
    resp = dynamodb.batch_write_item(RequestItems={
        table: [_put(1), {"DeleteRequest": {"Key": {"pk": {"S": "gone"}}}}],
        table2: [{"PutRequest": {"Item": {"id": {"N": "1"}, "r": {"S": "a"}}}}],
    })
    assert resp["UnprocessedItems"] == {}
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "gone"}})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "k001"}})
    assert "Item" in dynamodb.get_item(TableName=table2, Key={"id": {"N": "1"}, "r": {"S": "a"}})


def test_batch_write_delete_missing_is_fine(dynamodb, table):
    resp = dynamodb.batch_write_item(RequestItems={
        table: [{"DeleteRequest": {"Key": {"pk": {"S": "never"}}}}]})
    assert resp["UnprocessedItems"] == {}


def test_batch_write_more_than_25_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 RequestItems={table: [_put(i) for i in range(26)]})
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0


def test_batch_write_more_than_25_across_tables_rejected(dynamodb, table, table2, expect_error):
    other = [{"PutRequest": {"Item": {"id": {"N": str(i)}, "r": {"S": "x"}}}} for i in range(13)]
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 message_prefix="Too many items requested for the BatchWriteItem call",
                 RequestItems={table: [_put(i) for i in range(13)], table2: other})
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0


def test_batch_write_empty_rejected(dynamodb_unvalidated, table, expect_error):
    expect_error(dynamodb_unvalidated.batch_write_item, "ValidationException", RequestItems={table: []})
    expect_error(dynamodb_unvalidated.batch_write_item, "ValidationException", RequestItems={})


def test_batch_write_duplicate_keys_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 message_prefix="Provided list of item keys contains duplicates",
                 RequestItems={table: [_put(1), _put(1)]})
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 message_prefix="Provided list of item keys contains duplicates",
                 RequestItems={table: [_put(2), {"DeleteRequest": {"Key": {"pk": {"S": "k002"}}}}]})
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0


def test_batch_write_duplicate_numeric_keys_by_value(dynamodb, table2, expect_error):
    expect_error(dynamodb.batch_write_item, "ValidationException", RequestItems={table2: [
        {"PutRequest": {"Item": {"id": {"N": "1"}, "r": {"S": "a"}}}},
        {"PutRequest": {"Item": {"id": {"N": "1.0"}, "r": {"S": "a"}}}},
    ]})


def test_batch_write_same_hash_different_range_ok(dynamodb, table2):
    resp = dynamodb.batch_write_item(RequestItems={table2: [
        {"PutRequest": {"Item": {"id": {"N": "1"}, "r": {"S": "a"}}}},
        {"PutRequest": {"Item": {"id": {"N": "1"}, "r": {"S": "b"}}}},
    ]})
    assert resp["UnprocessedItems"] == {}
    assert dynamodb.scan(TableName=table2, Select="COUNT")["Count"] == 2


def test_batch_write_invalid_item_rejects_whole_batch(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 RequestItems={table: [_put(1), {"PutRequest": {"Item": {"nokey": {"S": "x"}}}}]})
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0


def test_batch_write_put_and_delete_in_one_request_rejected(dynamodb_unvalidated, table, expect_error):
    expect_error(dynamodb_unvalidated.batch_write_item, "ValidationException", RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": "a"}}}, "DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]})


def test_batch_write_missing_table(dynamodb, expect_error):
    expect_error(dynamodb.batch_write_item, "ResourceNotFoundException",
                 RequestItems={unique_name("missing"): [_put(1)]})


def test_batch_write_item_size_limit(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_write_item, "ValidationException",
                 RequestItems={table: [_put(1, big={"S": "x" * (400 * 1024)})]})


# --------------------------------------------------------------------------- BatchGetItem


def _fill(dynamodb, table, n):
    for start in range(0, n, 25):
        dynamodb.batch_write_item(RequestItems={table: [_put(i) for i in range(start, min(n, start + 25))]})


def test_batch_get_100_keys(dynamodb, table):
    _fill(dynamodb, table, 100)
    keys = [{"pk": {"S": f"k{i:03d}"}} for i in range(100)]
    resp = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}})
    assert resp["UnprocessedKeys"] == {}
    got = resp["Responses"][table]
    assert len(got) == 100
    assert {i["pk"]["S"] for i in got} == {k["pk"]["S"] for k in keys}


def test_batch_get_more_than_100_rejected(dynamodb, table, expect_error):
    keys = [{"pk": {"S": f"k{i:03d}"}} for i in range(101)]
    # One table over the limit fails the KeyList length constraint (1..100).
    err = expect_error(dynamodb.batch_get_item, "ValidationException",
                       RequestItems={table: {"Keys": keys}})
    assert "100" in err.response["Error"]["Message"]


def test_batch_get_more_than_100_across_tables_rejected(dynamodb, table, table2, expect_error):
    expect_error(dynamodb.batch_get_item, "ValidationException",
                 message_prefix="Too many items requested for the BatchGetItem call",
                 RequestItems={
                     table: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(60)]},
                     table2: {"Keys": [{"id": {"N": str(i)}, "r": {"S": "a"}} for i in range(41)]},
                 })


def test_batch_get_missing_keys_are_omitted(dynamodb, table):
    _fill(dynamodb, table, 3)
    resp = dynamodb.batch_get_item(RequestItems={table: {"Keys": [
        {"pk": {"S": "k000"}}, {"pk": {"S": "nope"}}, {"pk": {"S": "k002"}}]}})
    assert sorted(i["pk"]["S"] for i in resp["Responses"][table]) == ["k000", "k002"]
    assert resp["UnprocessedKeys"] == {}


def test_batch_get_nothing_found_lists_table(dynamodb, table):
    resp = dynamodb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "nope"}}]}})
    assert resp["Responses"] == {table: []}


def test_batch_get_duplicate_keys_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_get_item, "ValidationException",
                 message_prefix="Provided list of item keys contains duplicates",
                 RequestItems={table: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}})


def test_batch_get_projection_and_consistent_read(dynamodb, table, table2):
    _fill(dynamodb, table, 2)
    dynamodb.put_item(TableName=table2, Item={"id": {"N": "7"}, "r": {"S": "x"}, "name": {"S": "n"}})
    resp = dynamodb.batch_get_item(RequestItems={
        table: {"Keys": [{"pk": {"S": "k001"}}], "ProjectionExpression": "v", "ConsistentRead": True},
        table2: {"Keys": [{"id": {"N": "7"}, "r": {"S": "x"}}], "ProjectionExpression": "#n",
                 "ExpressionAttributeNames": {"#n": "name"}},
    })
    assert resp["Responses"][table] == [{"v": {"N": "1"}}]
    assert resp["Responses"][table2] == [{"name": {"S": "n"}}]


def test_batch_get_key_schema_mismatch(dynamodb, table, expect_error):
    expect_error(dynamodb.batch_get_item, "ValidationException",
                 RequestItems={table: {"Keys": [{"wrong": {"S": "a"}}]}})


def test_batch_get_missing_table(dynamodb, expect_error):
    expect_error(dynamodb.batch_get_item, "ResourceNotFoundException",
                 RequestItems={unique_name("missing"): {"Keys": [{"pk": {"S": "a"}}]}})


def test_batch_get_empty_keys_rejected(dynamodb_unvalidated, table, expect_error):
    expect_error(dynamodb_unvalidated.batch_get_item, "ValidationException",
                 RequestItems={table: {"Keys": []}})


# --------------------------------------------------------------------------- resource batch_writer


def test_resource_batch_writer(dynamodb_resource, table):
    t = dynamodb_resource.Table(table)
    with t.batch_writer() as writer:
        for i in range(60):
            writer.put_item(Item={"pk": f"w{i}", "n": i})
        writer.delete_item(Key={"pk": "w0"})
    resp = t.scan(Select="COUNT")
    assert resp["Count"] == 59


def test_resource_batch_writer_overwrite_by_pkeys(dynamodb_resource, table):
    t = dynamodb_resource.Table(table)
    with t.batch_writer(overwrite_by_pkeys=["pk"]) as writer:
        writer.put_item(Item={"pk": "same", "n": 1})
        writer.put_item(Item={"pk": "same", "n": 2})
    assert t.get_item(Key={"pk": "same"})["Item"]["n"] == 2


def test_batches_name_tables_by_arn(dynamodb, table):
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    dynamodb.batch_write_item(RequestItems={arn: [_put(7)]})
    out = dynamodb.batch_get_item(RequestItems={arn: {"Keys": [{"pk": {"S": "k007"}}]}})
    assert [item["pk"] for item in out["Responses"][arn]] == [{"S": "k007"}]
