"""Legacy conditional parameters: Expected, AttributeUpdates, AttributesToGet,
KeyConditions, QueryFilter, ScanFilter, ConditionalOperator.

Sources: developer guide "Legacy conditional parameters" (and its pages on
each parameter, ComparisonOperator semantics and AttributeValueList arity) and
the rule that legacy and expression parameters cannot be mixed in one request
("Can not use both expression and non-expression parameters in the same
request").
"""

import pytest

from conftest import unique_name

ITEM = {
    "pk": {"S": "p"},
    "sk": {"N": "1"},
    "a": {"N": "5"},
    "s": {"S": "hello"},
    "ss": {"SS": ["x", "y"]},
    "l": {"L": [{"S": "e"}]},
}


@pytest.fixture
def table(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    dynamodb.put_item(TableName=name, Item=ITEM)
    for i in range(2, 6):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "a": {"N": str(i * 10)},
                                                "s": {"S": f"s{i}"}})
    return name


KEY = {"pk": {"S": "p"}, "sk": {"N": "1"}}


# --------------------------------------------------------------------------- Expected


@pytest.mark.parametrize(
    "expected,passes",
    [
        ({"a": {"Value": {"N": "5"}}}, True),
        ({"a": {"Value": {"N": "6"}}}, False),
        ({"a": {"Value": {"N": "5"}, "Exists": True}}, True),
        ({"nothere": {"Exists": False}}, True),
        ({"a": {"Exists": False}}, False),
        ({"a": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "4"}]}}, True),
        ({"a": {"ComparisonOperator": "LE", "AttributeValueList": [{"N": "4"}]}}, False),
        ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]}}, True),
        ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "3"}, {"N": "5"}]}}, True),
        ({"a": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "5"}]}}, False),
        ({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]}}, True),
        ({"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "ll"}]}}, True),
        ({"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "x"}]}}, True),
        ({"ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "x"}]}}, False),
        ({"nothere": {"ComparisonOperator": "NULL"}}, True),
        ({"a": {"ComparisonOperator": "NOT_NULL"}}, True),
        ({"a": {"ComparisonOperator": "NULL"}}, False),
        ({"a": {"Value": {"N": "5"}}, "s": {"Value": {"S": "nope"}}}, False),  # AND by default
    ],
)
def test_expected(dynamodb, table, expected, passes):
    kwargs = dict(TableName=table, Item={**ITEM, "w": {"S": "1"}}, Expected=expected)
    if passes:
        dynamodb.put_item(**kwargs)
        assert dynamodb.get_item(TableName=table, Key=KEY)["Item"]["w"] == {"S": "1"}
    else:
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(**kwargs)
        assert "w" not in dynamodb.get_item(TableName=table, Key=KEY)["Item"]


def test_expected_conditional_operator_or(dynamodb, table):
    dynamodb.delete_item(TableName=table, Key=KEY, ConditionalOperator="OR", Expected={
        "a": {"Value": {"N": "999"}},
        "s": {"Value": {"S": "hello"}},
    })
    assert "Item" not in dynamodb.get_item(TableName=table, Key=KEY)


def test_expected_wrong_arity(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=ITEM, Expected={
        "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}, {"N": "2"}]}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=ITEM, Expected={
        "a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}})


def test_expected_exists_false_with_value_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=ITEM, Expected={
        "a": {"Exists": False, "Value": {"N": "5"}}})


# --------------------------------------------------------------------------- AttributeUpdates


def test_attribute_updates(dynamodb, table):
    resp = dynamodb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_NEW", AttributeUpdates={
        "a": {"Action": "ADD", "Value": {"N": "2"}},
        "s": {"Action": "PUT", "Value": {"S": "new"}},
        "ss": {"Action": "DELETE", "Value": {"SS": ["x"]}},
        "l": {"Action": "DELETE"},
        "added": {"Action": "ADD", "Value": {"SS": ["q"]}},
        "fresh": {"Value": {"BOOL": True}},  # PUT is the default action
    })
    item = resp["Attributes"]
    assert item["a"] == {"N": "7"}
    assert item["s"] == {"S": "new"}
    assert item["ss"] == {"SS": ["y"]}
    assert "l" not in item
    assert item["added"] == {"SS": ["q"]}
    assert item["fresh"] == {"BOOL": True}


def test_attribute_updates_with_expected(dynamodb, table):
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(TableName=table, Key=KEY,
                             AttributeUpdates={"a": {"Action": "PUT", "Value": {"N": "0"}}},
                             Expected={"a": {"Value": {"N": "0"}}})


def test_attribute_updates_key_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.update_item, "ValidationException", TableName=table, Key=KEY,
                 AttributeUpdates={"sk": {"Action": "PUT", "Value": {"N": "9"}}})


# --------------------------------------------------------------------------- AttributesToGet / KeyConditions / filters


def test_attributes_to_get(dynamodb, table):
    got = dynamodb.get_item(TableName=table, Key=KEY, AttributesToGet=["a", "nothere"])["Item"]
    assert got == {"a": {"N": "5"}}


def test_key_conditions(dynamodb, table):
    resp = dynamodb.query(TableName=table, KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
        "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "2"}, {"N": "4"}]},
    })
    assert [i["sk"]["N"] for i in resp["Items"]] == ["2", "3", "4"]


def test_key_conditions_with_attributes_to_get(dynamodb, table):
    resp = dynamodb.query(TableName=table, AttributesToGet=["sk"], KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
        "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "5"}]},
    })
    assert resp["Items"] == [{"sk": {"N": "5"}}]


def test_query_filter(dynamodb, table):
    resp = dynamodb.query(
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={"a": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "30"}]}},
    )
    assert [i["sk"]["N"] for i in resp["Items"]] == ["3", "4", "5"]
    assert resp["ScannedCount"] == 5


def test_query_filter_or(dynamodb, table):
    resp = dynamodb.query(
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={
            "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "5"}]},
            "s": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "s4"}]},
        },
        ConditionalOperator="OR",
    )
    assert [i["sk"]["N"] for i in resp["Items"]] == ["1", "4"]


@pytest.mark.parametrize(
    "cond,count",
    [
        ({"a": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "30"}]}}, 2),
        ({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "s"}]}}, 4),
        ({"ss": {"ComparisonOperator": "NOT_NULL"}}, 1),
        ({"ss": {"ComparisonOperator": "NULL"}}, 4),
        ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "20"}, {"N": "50"}]}}, 2),
        ({"s": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "hello"}]}}, 4),
    ],
)
def test_scan_filter(dynamodb, table, cond, count):
    resp = dynamodb.scan(TableName=table, ScanFilter=cond)
    assert resp["Count"] == count
    assert resp["ScannedCount"] == 5


def test_query_filter_on_key_attribute_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.query, "ValidationException",
                 message_prefix="QueryFilter can only contain non-primary key attributes: Primary key attribute: sk",
                 TableName=table,
                 KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
                 QueryFilter={"sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}})


def test_unknown_comparison_operator_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.scan, "ValidationException",
                 contains="Member must satisfy enum value set",
                 TableName=table, ScanFilter={"a": {"ComparisonOperator": "LIKE", "AttributeValueList": [{"N": "1"}]}})


# --------------------------------------------------------------------------- mixing is rejected


MIX = "Can not use both expression and non-expression parameters in the same request"


def test_mix_expected_and_condition_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", message_prefix=MIX, TableName=table, Item=ITEM,
                 Expected={"a": {"Exists": True, "Value": {"N": "5"}}},
                 ConditionExpression="attribute_exists(a)")


def test_mix_attribute_updates_and_update_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.update_item, "ValidationException", message_prefix=MIX, TableName=table, Key=KEY,
                 AttributeUpdates={"a": {"Action": "PUT", "Value": {"N": "1"}}},
                 UpdateExpression="SET b = :b", ExpressionAttributeValues={":b": {"N": "1"}})


def test_mix_attributes_to_get_and_projection(dynamodb, table, expect_error):
    expect_error(dynamodb.get_item, "ValidationException", message_prefix=MIX, TableName=table, Key=KEY,
                 AttributesToGet=["a"], ProjectionExpression="s")


def test_mix_key_conditions_and_key_condition_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.query, "ValidationException", message_prefix=MIX, TableName=table,
                 KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
                 KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})


def test_mix_query_filter_and_filter_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.query, "ValidationException", message_prefix=MIX, TableName=table,
                 KeyConditionExpression="pk = :p",
                 QueryFilter={"a": {"ComparisonOperator": "NOT_NULL"}},
                 FilterExpression="attribute_exists(a)",
                 ExpressionAttributeValues={":p": {"S": "p"}})


def test_mix_scan_filter_and_filter_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.scan, "ValidationException", message_prefix=MIX, TableName=table,
                 ScanFilter={"a": {"ComparisonOperator": "NOT_NULL"}},
                 FilterExpression="attribute_exists(a)")


def test_mix_scan_filter_and_projection_expression(dynamodb, table, expect_error):
    expect_error(dynamodb.scan, "ValidationException", message_prefix=MIX, TableName=table,
                 ScanFilter={"a": {"ComparisonOperator": "NOT_NULL"}},
                 ProjectionExpression="a")


def test_conditional_operator_with_expression_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", message_prefix=MIX, TableName=table, Item=ITEM,
                 ConditionalOperator="OR", ConditionExpression="attribute_exists(a)")


def test_unindexable_key_conditions_are_reported_after_the_table_and_index(
        dynamodb, make_table, expect_error):
    table = make_table()
    unindexable = {"pk": {"ComparisonOperator": "NULL"}}
    expect_error(dynamodb.query, "ResourceNotFoundException", TableName=unique_name("missing"),
                 KeyConditions=unindexable)
    expect_error(dynamodb.query, "ValidationException",
                 "The table does not have the specified index: whatever",
                 TableName=table, IndexName="whatever", KeyConditions=unindexable)
    expect_error(dynamodb.query, "ValidationException",
                 "Attempted conditional constraint is not an indexable operation",
                 TableName=table, KeyConditions=unindexable)
