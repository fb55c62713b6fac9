"""Expression validation errors shared by every expression parameter.

Sources: developer guide "Expression attribute names", "Expression attribute
values", "Reserved words in DynamoDB", "Service quotas" (expression strings up
to 4 KB, nesting up to 32 levels) and the ValidationException messages DynamoDB
returns for them ("Value provided in ExpressionAttributeNames unused in
expressions", "An expression attribute name used in the document path is not
defined", "Attribute name is a reserved keyword", "Syntax error; token").
"""

import pytest

ITEM = {"pk": {"S": "e"}, "a": {"N": "1"}, "name": {"S": "reserved"}, "m": {"M": {"x": {"N": "2"}}}}


@pytest.fixture
def table(dynamodb, make_table):
    name = make_table()
    dynamodb.put_item(TableName=name, Item=ITEM)
    return name


def _validation(expect_error, fn, prefix=None, contains=None, **kwargs):
    return expect_error(fn, "ValidationException", message_prefix=prefix, contains=contains, **kwargs)


# --------------------------------------------------------------------------- unused / undefined


def test_unused_attribute_name(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.get_item,
                prefix="Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression="a",
                ExpressionAttributeNames={"#x": "a"})


def test_unused_attribute_value(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item,
                prefix="Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
                TableName=table, Item=ITEM, ConditionExpression="a = :v",
                ExpressionAttributeValues={":v": {"N": "1"}, ":unused": {"N": "2"}})


def test_names_used_across_expressions_count(dynamodb, table):
    # A name used in any of the request's expressions counts as used.
    dynamodb.update_item(
        TableName=table, Key={"pk": {"S": "e"}},
        UpdateExpression="SET #a = :v",
        ConditionExpression="attribute_exists(#m)",
        ExpressionAttributeNames={"#a": "a", "#m": "m"},
        ExpressionAttributeValues={":v": {"N": "3"}},
    )


def test_undefined_attribute_name(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.update_item,
                prefix="Invalid UpdateExpression: An expression attribute name used in the document "
                       "path is not defined; attribute name: #nope",
                TableName=table, Key={"pk": {"S": "e"}}, UpdateExpression="SET #nope = :v",
                ExpressionAttributeValues={":v": {"N": "1"}})


def test_undefined_attribute_value(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item,
                prefix="Invalid ConditionExpression: An expression attribute value used in expression "
                       "is not defined; attribute value: :nope",
                TableName=table, Item=ITEM, ConditionExpression="a = :nope")


def test_undefined_value_without_any_values(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.update_item, contains=":v",
                TableName=table, Key={"pk": {"S": "e"}}, UpdateExpression="SET a = :v")


def test_empty_names_map(dynamodb_unvalidated, table, expect_error):
    _validation(expect_error, dynamodb_unvalidated.get_item,
                contains="ExpressionAttributeNames must not be empty",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression="a",
                ExpressionAttributeNames={})


def test_empty_values_map(dynamodb_unvalidated, table, expect_error):
    _validation(expect_error, dynamodb_unvalidated.put_item,
                contains="ExpressionAttributeValues must not be empty",
                TableName=table, Item=ITEM, ConditionExpression="attribute_exists(a)",
                ExpressionAttributeValues={})


def test_names_without_expression(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.get_item,
                prefix="ExpressionAttributeNames can only be specified when using expressions",
                TableName=table, Key={"pk": {"S": "e"}}, ExpressionAttributeNames={"#a": "a"})


def test_values_without_expression(dynamodb, table, expect_error):
    # The message names the operation's expressions that would use the values.
    values = {":a": {"N": "1"}}
    prefix = "ExpressionAttributeValues can only be specified when using expressions: "
    _validation(expect_error, dynamodb.put_item, prefix=prefix + "ConditionExpression is null",
                TableName=table, Item=ITEM, ExpressionAttributeValues=values)
    _validation(expect_error, dynamodb.update_item,
                prefix=prefix + "UpdateExpression and ConditionExpression are null",
                TableName=table, Key={"pk": {"S": "e"}}, ExpressionAttributeValues=values)
    _validation(expect_error, dynamodb.scan, prefix=prefix + "FilterExpression is null",
                TableName=table, ExpressionAttributeValues=values)
    _validation(expect_error, dynamodb.query,
                prefix=prefix + "FilterExpression and KeyConditionExpression are null",
                TableName=table, ExpressionAttributeValues=values,
                KeyConditions={"pk": {"ComparisonOperator": "EQ",
                                      "AttributeValueList": [{"S": "e"}]}})


def test_name_placeholder_must_start_with_hash(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.get_item, contains="ExpressionAttributeNames",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression="#a",
                ExpressionAttributeNames={"#a": "a", "b": "a"})


def test_value_placeholder_must_start_with_colon(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item, contains="ExpressionAttributeValues",
                TableName=table, Item=ITEM, ConditionExpression="a = :v",
                ExpressionAttributeValues={":v": {"N": "1"}, "v": {"N": "1"}})


def test_invalid_value_in_values_map(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item,
                prefix="ExpressionAttributeValues contains invalid value",
                TableName=table, Item=ITEM, ConditionExpression="a = :v",
                ExpressionAttributeValues={":v": {"SS": []}})


# --------------------------------------------------------------------------- reserved words


@pytest.mark.parametrize("word", ["name", "NAME", "Date", "status", "count", "key"])
def test_reserved_word_in_projection(dynamodb, table, expect_error, word):
    _validation(expect_error, dynamodb.get_item,
                contains="ProjectionExpression: Attribute name is a reserved keyword; "
                         f"reserved keyword: {word}",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression=word)


def test_reserved_word_in_condition_and_update(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item,
                prefix="Invalid ConditionExpression: Attribute name is a reserved keyword",
                TableName=table, Item=ITEM, ConditionExpression="attribute_exists(name)")
    _validation(expect_error, dynamodb.update_item,
                prefix="Invalid UpdateExpression: Attribute name is a reserved keyword",
                TableName=table, Key={"pk": {"S": "e"}}, UpdateExpression="SET name = :v",
                ExpressionAttributeValues={":v": {"S": "x"}})


def test_reserved_word_inside_path(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.get_item, contains="reserved keyword",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression="m.name")


def test_reserved_word_through_name_placeholder(dynamodb, table):
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression="#n",
                            ExpressionAttributeNames={"#n": "name"})["Item"]
    assert got == {"name": {"S": "reserved"}}


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    "expr",
    ["a = = :v", "a =", "(a = :v", "a = :v)", "a == :v", "a = :v AND AND a = :v", "a ! :v",
     "= :v", "a = :v a = :v", "a BETWEEN :v", "a IN :v"],
)
def test_condition_syntax_errors(dynamodb, table, expect_error, expr):
    _validation(expect_error, dynamodb.put_item,
                prefix="Invalid ConditionExpression: Syntax error; token:",
                TableName=table, Item=ITEM, ConditionExpression=expr,
                ExpressionAttributeValues={":v": {"N": "1"}})


@pytest.mark.parametrize("expr", ["a,", ",a", "a b", "a..b", "a[x]", "a[-1]", "a.", "#", ":v"])
def test_projection_syntax_errors(dynamodb, table, expect_error, expr):
    _validation(expect_error, dynamodb.get_item, prefix="Invalid ProjectionExpression",
                TableName=table, Key={"pk": {"S": "e"}}, ProjectionExpression=expr)


def test_function_names_are_case_sensitive(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item, prefix="Invalid ConditionExpression",
                TableName=table, Item=ITEM, ConditionExpression="ATTRIBUTE_EXISTS(a)")


def test_function_wrong_arity(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item, prefix="Invalid ConditionExpression",
                TableName=table, Item=ITEM, ConditionExpression="attribute_exists(a, m)")


def test_update_functions_not_allowed_in_condition(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.put_item, prefix="Invalid ConditionExpression",
                TableName=table, Item=ITEM,
                ConditionExpression="if_not_exists(a, :v) = :v",
                ExpressionAttributeValues={":v": {"N": "1"}})


def test_condition_functions_not_allowed_in_update(dynamodb, table, expect_error):
    _validation(expect_error, dynamodb.update_item, prefix="Invalid UpdateExpression",
                TableName=table, Key={"pk": {"S": "e"}},
                UpdateExpression="SET a = size(m)")


# --------------------------------------------------------------------------- limits


def test_expression_length_limit(dynamodb, table, expect_error):
    base = "attribute_exists(a)"
    ok = base + " " * (4096 - len(base))
    assert len(ok) == 4096
    dynamodb.put_item(TableName=table, Item=ITEM, ConditionExpression=ok)
    _validation(expect_error, dynamodb.put_item, TableName=table, Item=ITEM,
                ConditionExpression=ok + " ")


def test_long_projection_expression_rejected(dynamodb, table, expect_error):
    names = {f"#n{i}": f"attr{i}" for i in range(800)}
    proj = ", ".join(names)
    assert len(proj) > 4096
    _validation(expect_error, dynamodb.get_item, TableName=table, Key={"pk": {"S": "e"}},
                ProjectionExpression=proj, ExpressionAttributeNames=names)


def _nested(depth):
    v = {"S": "leaf"}
    for _ in range(depth):
        v = {"M": {"k": v}}
    return v


def test_nesting_depth_limit(dynamodb, table, expect_error):
    # Up to 32 levels of nested documents are supported.
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "d": _nested(30)})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "deep"}})["Item"]
    assert got["d"] == _nested(30)
    _validation(expect_error, dynamodb.put_item, TableName=table,
                Item={"pk": {"S": "deep2"}, "d": _nested(40)})


def test_error_response_shape(ddb_raw, table):
    resp = ddb_raw.call("PutItem", {"TableName": table, "Item": ITEM, "ConditionExpression": "a = = :v",
                                    "ExpressionAttributeValues": {":v": {"N": "1"}}})
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    body = resp.json()
    assert body["__type"].endswith("#ValidationException"), body
    msg = body.get("message", body.get("Message"))
    assert msg.startswith("Invalid ConditionExpression: Syntax error; token:"), msg
