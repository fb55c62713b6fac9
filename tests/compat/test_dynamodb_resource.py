"""The boto3 resource API (Table objects, Key/Attr conditions, Decimal and
Binary types), as application code written for AWS uses it.

Sources: boto3 DynamoDB resource documentation (Table.put_item, get_item,
update_item, query, scan; boto3.dynamodb.conditions Key and Attr; numbers as
decimal.Decimal, binary as boto3.dynamodb.types.Binary).
"""

from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary


@pytest.fixture
def table(dynamodb_resource, make_table):
    return dynamodb_resource.Table(make_table(hash=("pk", "S"), range=("sk", "S")))


def test_table_attributes(table):
    table.load()
    assert table.table_status == "ACTIVE"
    assert table.key_schema == [{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert table.table_arn.endswith(":table/" + table.name)
    assert table.item_count == 0


def test_put_get_python_types(table):
    item = {
        "pk": "u#1", "sk": "profile",
        "name": "Ada", "age": 36, "score": Decimal("99.5"), "active": True, "nothing": None,
        "tags": {"a", "b"}, "nums": {Decimal(1), Decimal(2)}, "blob": Binary(b"\x00\x01"),
        "blobs": {Binary(b"\x01"), Binary(b"\x02")},
        "nested": {"list": [1, "two", {"three": Decimal("3.0")}], "empty": {}},
    }
    table.put_item(Item=item)
    got = table.get_item(Key={"pk": "u#1", "sk": "profile"})["Item"]
    assert got["name"] == "Ada"
    assert got["age"] == Decimal(36) and isinstance(got["age"], Decimal)
    assert got["score"] == Decimal("99.5")
    assert got["active"] is True
    assert got["nothing"] is None
    assert got["tags"] == {"a", "b"}
    assert got["nums"] == {Decimal(1), Decimal(2)}
    assert got["blob"] == Binary(b"\x00\x01")
    assert got["blobs"] == {Binary(b"\x01"), Binary(b"\x02")}
    assert got["nested"] == {"list": [Decimal(1), "two", {"three": Decimal(3)}], "empty": {}}


def test_update_item_counter_and_return(table):
    table.put_item(Item={"pk": "c", "sk": "x", "n": 1})
    resp = table.update_item(
        Key={"pk": "c", "sk": "x"},
        UpdateExpression="SET n = n + :d, #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": 41, ":s": "done"},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {"pk": "c", "sk": "x", "n": Decimal(42), "status": "done"}


def test_conditional_put_with_attr(table):
    table.put_item(Item={"pk": "c", "sk": "x", "v": 1})
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "c", "sk": "x", "v": 2}, ConditionExpression=Attr("pk").not_exists())
    table.put_item(Item={"pk": "c", "sk": "x", "v": 3}, ConditionExpression=Attr("v").eq(1) & Attr("w").not_exists())
    assert table.get_item(Key={"pk": "c", "sk": "x"})["Item"]["v"] == 3


@pytest.fixture
def filled(table):
    with table.batch_writer() as w:
        for i in range(10):
            w.put_item(Item={"pk": "order", "sk": f"2024-01-{i + 1:02d}", "amount": Decimal(i) / 2,
                             "state": "paid" if i % 2 else "open"})
        w.put_item(Item={"pk": "order", "sk": "note", "amount": 0})
        w.put_item(Item={"pk": "other", "sk": "2024-01-01", "amount": 1})
    return table


def test_query_key_and_begins_with(filled):
    resp = filled.query(KeyConditionExpression=Key("pk").eq("order") & Key("sk").begins_with("2024-01-0"))
    assert [i["sk"] for i in resp["Items"]] == [f"2024-01-{d:02d}" for d in range(1, 10)]


def test_query_key_between_and_reverse(filled):
    resp = filled.query(KeyConditionExpression=Key("pk").eq("order") & Key("sk").between("2024-01-03", "2024-01-05"),
                        ScanIndexForward=False)
    assert [i["sk"] for i in resp["Items"]] == ["2024-01-05", "2024-01-04", "2024-01-03"]


def test_query_with_attr_filter(filled):
    resp = filled.query(KeyConditionExpression=Key("pk").eq("order"),
                        FilterExpression=Attr("state").eq("paid") & Attr("amount").gte(Decimal("2")))
    assert [i["sk"] for i in resp["Items"]] == ["2024-01-06", "2024-01-08", "2024-01-10"]
    assert resp["ScannedCount"] == 11


def test_scan_with_attr_conditions(filled):
    resp = filled.scan(FilterExpression=Attr("state").not_exists() | Attr("amount").lt(Decimal("0.5")))
    assert sorted((i["pk"], i["sk"]) for i in resp["Items"]) == [
        ("order", "2024-01-01"), ("order", "note"), ("other", "2024-01-01")]
    resp = filled.scan(FilterExpression=Attr("sk").is_in(["note", "2024-01-02"]) & Attr("pk").ne("other"))
    assert resp["Count"] == 2


def test_query_count_and_limit(filled):
    resp = filled.query(KeyConditionExpression=Key("pk").eq("order"), Select="COUNT")
    assert resp["Count"] == 11
    resp = filled.query(KeyConditionExpression=Key("pk").eq("order"), Limit=4)
    assert len(resp["Items"]) == 4 and resp["LastEvaluatedKey"] == {"pk": "order", "sk": "2024-01-04"}


def test_delete_item_return_old(filled):
    resp = filled.delete_item(Key={"pk": "order", "sk": "note"}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": "order", "sk": "note", "amount": Decimal(0)}
    assert "Item" not in filled.get_item(Key={"pk": "order", "sk": "note"})
