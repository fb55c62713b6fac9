"""Edge rules of the item API that DynamoDB documents or enforces and clients meet in practice.

Sources: developer guide "Update expressions" (elements added past the end of a list are
appended in index order; REMOVE on a missing item), "Expression attribute names" (names start
with a letter), "Condition and filter expressions" (attribute_type), "Service quotas" (document
path nesting of 32 levels, attribute names up to 64 KB, key names up to 255 characters), the
legacy conditional parameters reference (ConditionalOperator needs two or more conditions;
BETWEEN bounds), and the Scan reference (a parallel scan resumes inside its segment).
"""

import re

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name

KEY = {"pk": {"S": "e"}}


@pytest.fixture
def table(dynamodb, make_table):
    return make_table()


def message(err):
    return err.response["Error"]["Message"]


# --------------------------------------------------------------------------- expression parser


def test_deep_parentheses_are_refused_without_harm(dynamodb, table, expect_error):
    dynamodb.put_item(TableName=table, Item={**KEY, "a": {"N": "1"}})
    values = {":v": {"N": "2"}}
    for expr in ("(" * 2000 + "a < :v" + ")" * 2000, "(" * 4000):
        for call, extra in (
            (dynamodb.update_item, {"Key": KEY, "UpdateExpression": "SET b = :v",
                                    "ConditionExpression": expr}),
            (dynamodb.scan, {"FilterExpression": expr}),
        ):
            expect_error(call, "ValidationException", TableName=table,
                         ExpressionAttributeValues=values, **extra)
    # The server is still up and the item unchanged.
    item = dynamodb.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"]
    assert item == {**KEY, "a": {"N": "1"}}


def test_nesting_of_document_paths_stops_at_32(dynamodb, table, expect_error):
    ok = "a" + ".b" * 31
    dynamodb.get_item(TableName=table, Key=KEY, ProjectionExpression=ok)
    err = expect_error(dynamodb.get_item, "ValidationException", TableName=table, Key=KEY,
                       ProjectionExpression=ok + ".c")
    assert "too many nesting levels; nesting levels: 33" in message(err)


def test_bare_names_start_with_a_letter(dynamodb, table, expect_error):
    err = expect_error(dynamodb.update_item, "ValidationException", TableName=table, Key=KEY,
                       UpdateExpression="SET _x = :v", ExpressionAttributeValues={":v": {"N": "1"}})
    assert 'Syntax error; token: "_"' in message(err)
    # Placeholders may: `#_x` and `:_v`.
    dynamodb.update_item(TableName=table, Key=KEY, UpdateExpression="SET #_x = :_v",
                         ExpressionAttributeNames={"#_x": "_x"},
                         ExpressionAttributeValues={":_v": {"N": "1"}})
    assert dynamodb.get_item(TableName=table, Key=KEY)["Item"]["_x"] == {"N": "1"}


def test_attribute_type_of_a_value(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=KEY)
    values = {":v": {"N": "0"}, ":t": {"S": "N"}, ":w": {"S": "S"}}
    dynamodb.update_item(TableName=table, Key=KEY, UpdateExpression="SET a = :v",
                         ConditionExpression="attribute_type(:v, :t)",
                         ExpressionAttributeValues={k: values[k] for k in (":v", ":t")})
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(TableName=table, Key=KEY, UpdateExpression="SET a = :v",
                             ConditionExpression="attribute_type(:v, :w)",
                             ExpressionAttributeValues={k: values[k] for k in (":v", ":w")})


@pytest.mark.parametrize("function", ["if_not_exists", "list_append"])
def test_update_functions_are_not_conditions(dynamodb, table, expect_error, function):
    err = expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=KEY,
                       ConditionExpression=f"{function}(a, a) = :v",
                       ExpressionAttributeValues={":v": {"N": "1"}})
    assert f"The function is not allowed in a condition expression; function: {function}" \
        in message(err)


def test_elements_past_the_end_of_a_list_are_appended_in_index_order(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={**KEY, "l": {"L": [{"S": "x"}]}})
    values = {f":v{i}": {"S": f"v{i}"} for i in range(4)}
    got = dynamodb.update_item(
        TableName=table, Key=KEY, ReturnValues="ALL_NEW",
        UpdateExpression="SET l[84] = :v0, l[37] = :v1, l[17] = :v2, l[50] = :v3",
        ExpressionAttributeValues=values,
    )["Attributes"]["l"]["L"]
    assert [v["S"] for v in got] == ["x", "v2", "v1", "v3", "v0"]


# --------------------------------------------------------------------------- missing items


@pytest.mark.parametrize("update", [
    {"UpdateExpression": "REMOVE a"},
    {"UpdateExpression": "REMOVE a.b[2]"},
    {"UpdateExpression": "DELETE s :s", "ExpressionAttributeValues": {":s": {"SS": ["x"]}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
])
def test_removing_from_a_missing_item_creates_nothing(dynamodb, table, update):
    out = dynamodb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_NEW", **update)
    assert "Attributes" not in out
    assert "Item" not in dynamodb.get_item(TableName=table, Key=KEY, ConsistentRead=True)
    # An update without actions still creates the key-only item.
    dynamodb.update_item(TableName=table, Key=KEY)
    assert dynamodb.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"] == KEY


# --------------------------------------------------------------------------- names


def test_attribute_names_up_to_64_kb(dynamodb, table, expect_error):
    long_ok = "n" * 65535
    dynamodb.put_item(TableName=table, Item={**KEY, long_ok: {"N": "1"}})
    too_long = "n" * 65536
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={**KEY, too_long: {"N": "1"}}, contains="65536")
    expect_error(dynamodb.get_item, "ValidationException", TableName=table, Key=KEY,
                 ProjectionExpression="#n", ExpressionAttributeNames={"#n": too_long},
                 contains="65536")
    expect_error(dynamodb.get_item, "ValidationException", TableName=table, Key=KEY,
                 AttributesToGet=[too_long], contains="65536")


def test_key_names_up_to_255_characters(dynamodb_unvalidated, make_table, expect_error):
    make_table(hash=("h" * 255, "S"), range=("r" * 255, "N"))
    err = expect_error(
        dynamodb_unvalidated.create_table, "ValidationException", TableName="long-key-name",
        KeySchema=[{"AttributeName": "h" * 256, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "keySchema.1.member.attributeName" in message(err)
    assert "Member must have length less than or equal to 255" in message(err)


@pytest.mark.parametrize("names, fragment", [
    ([], "Member must have length greater than or equal to 1"),
    (["a", "a"], "Duplicate value in attribute name: a"),
])
def test_attributes_to_get_is_a_list_of_distinct_names(dynamodb_unvalidated, table,
                                                       expect_error, names, fragment):
    client = dynamodb_unvalidated
    for call, extra in ((client.get_item, {"Key": KEY}), (client.scan, {}),
                        (client.query, {"KeyConditions": {"pk": {
                            "ComparisonOperator": "EQ", "AttributeValueList": [{"S": "e"}]}}})):
        err = expect_error(call, "ValidationException", TableName=table,
                           AttributesToGet=names, **extra)
        assert fragment in message(err)


# --------------------------------------------------------------------------- legacy parameters


def test_key_conditions_combine_with_filter_and_projection_expressions(dynamodb, table,
                                                                        expect_error):
    for i in range(3):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "x": {"N": str(i)}})
    out = dynamodb.query(
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k2"}]}},
        FilterExpression="x > :z", ProjectionExpression="x",
        ExpressionAttributeValues={":z": {"N": "1"}},
    )
    assert out["Items"] == [{"x": {"N": "2"}}]
    # Only KeyConditionExpression conflicts with KeyConditions.
    err = expect_error(
        dynamodb.query, "ValidationException", TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k2"}]}},
        KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": {"S": "k2"}},
    )
    assert "{KeyConditions}" in message(err) and "{KeyConditionExpression}" in message(err)


def test_conditional_operator_needs_two_conditions(dynamodb, table, expect_error):
    one = {"a": {"Exists": False}}
    err = expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=KEY,
                       Expected=one, ConditionalOperator="OR")
    assert message(err) == ("ConditionalOperator can only be used when Filter or Expected "
                            "has two or more elements")
    err = expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=KEY,
                       ConditionalOperator="AND")
    assert message(err) == "ConditionalOperator cannot be used without Filter or Expected"


@pytest.mark.parametrize("bounds", [[{"N": "5"}, {"N": "2"}], [{"S": "a"}, {"N": "3"}]])
def test_legacy_between_bounds_are_checked(dynamodb, table, expect_error, bounds):
    between = {"ComparisonOperator": "BETWEEN", "AttributeValueList": bounds}
    expect_error(dynamodb.scan, "ValidationException", TableName=table, ScanFilter={"x": between})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=KEY,
                 Expected={"x": between})
    if bounds[0].keys() == bounds[1].keys():
        expect_error(dynamodb.put_item, "ValidationException",
                     "The BETWEEN condition was provided a range where the lower bound is greater"
                     " than the upper bound", TableName=table, Item=KEY, Expected={"x": between})


# --------------------------------------------------------------------------- scans and tags


def test_parallel_scan_resumes_only_inside_its_segment(dynamodb, table, expect_error):
    for i in range(40):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"s{i}"}})
    first = dynamodb.scan(TableName=table, Segment=0, TotalSegments=2)["Items"]
    second = dynamodb.scan(TableName=table, Segment=1, TotalSegments=2)["Items"]
    assert first and second
    err = expect_error(dynamodb.scan, "ValidationException", TableName=table, Segment=1,
                       TotalSegments=2, ExclusiveStartKey=first[0])
    assert "Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment" \
        in message(err)
    # Resuming inside the segment returns only the rest of that segment.
    rest = dynamodb.scan(TableName=table, Segment=0, TotalSegments=2,
                         ExclusiveStartKey=first[0])["Items"]
    assert rest == first[1:]


def test_tagging_answers_with_an_empty_body(dynamodb, table, ddb_raw):
    """TagResource and UntagResource have no output shape: the body is empty, not `{}`."""
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    for target, body in (
        ("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}),
        ("UntagResource", {"ResourceArn": arn, "TagKeys": ["k"]}),
    ):
        response = ddb_raw.call(target, body)
        assert response.status_code == 200, response.text
        assert response.content == b""


@pytest.mark.parametrize("item", [{"other": {"S": "x"}}, {"pk": {"N": "1"}}])
def test_batch_put_with_a_wrong_key_does_not_match_the_schema(dynamodb, table, expect_error,
                                                              item):
    err = expect_error(dynamodb.batch_write_item, "ValidationException",
                       RequestItems={table: [{"PutRequest": {"Item": item}}]})
    assert message(err) == "The provided key element does not match the schema"


# --------------------------------------------------------------------------- order of checks


def test_query_select_messages(dynamodb_unvalidated, table, expect_error):
    client = dynamodb_unvalidated
    key = {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": {":k": {"S": "e"}}}
    err = expect_error(client.query, "ValidationException", TableName=table, Select="count", **key)
    assert message(err).endswith(
        "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
        "ALL_PROJECTED_ATTRIBUTES]")
    err = expect_error(client.query, "ValidationException", TableName=table,
                       Select="ALL_PROJECTED_ATTRIBUTES", **key)
    assert message(err) == ("1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used "
                            "only when Querying using an IndexName")
    err = expect_error(client.query, "ValidationException", TableName=table, Select="COUNT",
                       ProjectionExpression="a", **key)
    assert message(err) == ("1 validation error detected: Cannot specify the "
                            "ProjectionExpression when choosing to get only the Count")
    # Scan says the same without the envelope.
    err = expect_error(client.scan, "ValidationException", TableName=table, Select="COUNT",
                       ProjectionExpression="a")
    assert message(err) == "Cannot specify the ProjectionExpression when choosing to get only the Count"


def test_unused_names_come_before_the_key_condition_shape(dynamodb, table, expect_error):
    err = expect_error(dynamodb.query, "ValidationException", TableName=table,
                       KeyConditionExpression="#p = pk2",
                       ExpressionAttributeNames={"#p": "pk", "#unused": "x"})
    assert "unused in expressions: keys: {#unused}" in message(err)
    err = expect_error(dynamodb.query, "ValidationException", TableName=table,
                       KeyConditionExpression="#p = pk2", ExpressionAttributeNames={"#p": "pk"})
    assert message(err) == ("Invalid condition in KeyConditionExpression: Multiple attribute "
                            "names used in one condition")


def test_batch_get_checks_expressions_before_tables(dynamodb, expect_error):
    err = expect_error(dynamodb.batch_get_item, "ValidationException", RequestItems={
        "no-such-table": {"Keys": [{"pk": {"S": "a"}}], "ProjectionExpression": "#a",
                          "ExpressionAttributeNames": {"#a": "a", "#unused": "b"}}})
    assert "unused in expressions" in message(err)


def test_empty_table_name(dynamodb_unvalidated, expect_error):
    err = expect_error(dynamodb_unvalidated.describe_table, "ValidationException", TableName="")
    assert message(err).endswith("Member must have length greater than or equal to 1")


def test_condition_failure_with_the_old_item_spells_message_with_a_capital(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={**KEY, "a": {"N": "1"}})
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        dynamodb.put_item(TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    response = info.value.response
    assert response["Item"] == {**KEY, "a": {"N": "1"}}
    assert response["Error"]["Message"] == "The conditional request failed"
    assert "message" not in response
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        dynamodb.put_item(TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)")
    assert info.value.response["message"] == "The conditional request failed"


def _validation(response):
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["__type"].endswith("#ValidationException"), body
    return body.get("message") or body.get("Message")


def test_requests_are_validated_before_the_table_is_looked_up(ddb_raw):
    """DynamoDB checks a request's members (all constraint violations together), its
    expressions and its items before it looks for the table: a malformed request on a table
    that does not exist is a ValidationException, not ResourceNotFoundException."""
    missing = unique_name("missing")
    message = _validation(ddb_raw.call("GetItem", {}))
    assert message.startswith("2 validation errors detected: "), message
    assert "Value null at 'tableName'" in message and "Value null at 'key'" in message
    message = _validation(ddb_raw.call("DeleteItem", {
        "TableName": "abc;", "ReturnConsumedCapacity": "hi", "ReturnValues": "hi"}))
    assert message.startswith("4 validation errors detected: "), message
    assert "Value null at 'key'" in _validation(ddb_raw.call("DeleteItem", {"TableName": missing}))
    assert "Invalid ConditionExpression" in _validation(ddb_raw.call("DeleteItem", {
        "TableName": missing, "Key": {"pk": {"S": "a"}}, "ConditionExpression": ""}))
    assert "Item size has exceeded" in _validation(ddb_raw.call("PutItem", {
        "TableName": missing, "Item": {"pk": {"S": "a"}, "d": {"S": "x" * 410_000}}}))
    assert "Item size has exceeded" in _validation(ddb_raw.call("BatchWriteItem", {
        "RequestItems": {missing: [{"PutRequest": {"Item": {"d": {"S": "x" * 410_000}}}}]}}))
    assert _validation(ddb_raw.call("BatchGetItem", {"RequestItems": {missing: {
        "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}}})) == \
        "Provided list of item keys contains duplicates"
    # Query words its Limit violation without the value, Scan with it.
    assert _validation(ddb_raw.call("Query", {"TableName": missing, "Limit": 0})) == (
        "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member "
        "must have value greater than or equal to 1")
    assert "Value '0' at 'limit'" in _validation(
        ddb_raw.call("Scan", {"TableName": missing, "Limit": 0}))


def test_key_values_longer_than_any_key_find_nothing_and_harm_nothing(dynamodb, make_table):
    # Sort key conditions far longer than a key may be: refused or no match, never a server
    # error, and the table keeps working.
    table = make_table(range=("sk", "S"))
    huge = "x" * 70_000
    for params in (
        {"KeyConditionExpression": "pk = :p AND begins_with(sk, :v)"},
        {"KeyConditionExpression": "pk = :p AND sk >= :v"},
        {"KeyConditionExpression": "pk = :p AND sk BETWEEN :p AND :v"},
    ):
        try:
            out = dynamodb.query(TableName=table, ExpressionAttributeValues={
                ":p": {"S": "a"}, ":v": {"S": huge}}, **params)
            assert out["Items"] == [], params
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ValidationException", params
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})["Item"]


def test_request_level_messages(dynamodb_unvalidated, make_table, expect_error):
    # The wording DynamoDB gives today for malformed requests of the batch, transaction and
    # table operations.
    ddb = dynamodb_unvalidated
    table = make_table()
    err = expect_error(ddb.batch_write_item, "ValidationException", RequestItems={})
    assert err.response["Error"]["Message"] == \
        "The requestItems parameter is required for BatchWriteItem"
    many = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(26)]
    message = expect_error(ddb.batch_write_item, "ValidationException",
                           RequestItems={table: many}).response["Error"]["Message"]
    assert re.fullmatch(
        r"1 validation error detected: Value '\{" + re.escape(table) + r"=\[.+\]\}' at "
        r"'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        r"\[Member must have length less than or equal to 25, Member must have length greater "
        r"than or equal to 1\]", message, re.S), message
    err = expect_error(ddb.batch_get_item, "ValidationException", RequestItems={})
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1")
    err = expect_error(ddb.batch_get_item, "ValidationException",
                       RequestItems={table: {"Keys": []}})
    assert err.response["Error"]["Message"] == (
        f"1 validation error detected: Value at 'RequestItems.{table}.member.Keys' failed to "
        "satisfy constraint: Member must have length greater than or equal to 1")
    err = expect_error(ddb.batch_get_item, "ValidationException",
                       RequestItems={"bad!name": {"Keys": [{"pk": {"S": "a"}}]}})
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value '{\"bad!name\":{\"Keys\":[{\"pk\":{\"S\":\"a\"}}]}}' "
        "at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 255, Member must have length greater "
        "than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")
    other = make_table()
    expect_error(ddb.batch_get_item, "ValidationException", RequestItems={
        table: {"Keys": [{"pk": {"S": "a"}}], "ProjectionExpression": "pk"},
        other: {"Keys": [{"pk": {"S": "a"}}], "AttributesToGet": ["pk"]}})
    err = expect_error(ddb.transact_write_items, "ValidationException", TransactItems=[])
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'TransactItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1")
    err = expect_error(ddb.transact_write_items, "ValidationException", TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
        {"Delete": {"TableName": "bad!name", "Key": {"pk": {"S": "a"}}}}])
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value 'bad!name' at 'transactItems.2.member.delete."
        "tableName' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: [a-zA-Z0-9_.-]+")
    err = expect_error(ddb.transact_get_items, "ValidationException", TransactItems=[
        {"Get": {"TableName": "bad!name", "Key": {"pk": {"S": "a"}}}}])
    assert "'transactItems.1.member.get.tableName'" in err.response["Error"]["Message"]
    # CreateTable.
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"},
            {"AttributeName": "extra", "KeyType": "RANGE"}]
    err = expect_error(ddb.create_table, "ValidationException", TableName=unique_name(),
                       KeySchema=keys, BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), "
        "KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=extra, "
        "keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length "
        "less than or equal to 2")
    err = expect_error(ddb.create_table, "ValidationException", TableName=unique_name(),
                       KeySchema=keys[:1], BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       StreamSpecification={"StreamEnabled": False,
                                            "StreamViewType": "NEW_AND_OLD_IMAGES"})
    assert err.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Table is being created with a stream "
        "disabled, UpdateViewType should not be specified")
    # Query: a condition on neither key misses the partition key.
    ranged = make_table(range=("sk", "S"))
    err = expect_error(ddb.query, "ValidationException", TableName=ranged,
                       KeyConditionExpression="attr1 = :v",
                       ExpressionAttributeValues={":v": {"S": "x"}})
    assert err.response["Error"]["Message"] == "Query condition missed key schema element: pk"
