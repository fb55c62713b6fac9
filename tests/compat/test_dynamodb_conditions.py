"""ConditionExpression on PutItem, UpdateItem and DeleteItem.

Sources: developer guide "Condition expressions" and "Comparison operator and
function reference" (comparators, BETWEEN, IN, AND/OR/NOT precedence,
attribute_exists, attribute_not_exists, attribute_type, begins_with,
contains, size); API Reference PutItem/UpdateItem/DeleteItem
(ConditionalCheckFailedException, ReturnValuesOnConditionCheckFailure).
"""

import pytest

ITEM = {
    "pk": {"S": "c"},
    "a": {"N": "5"},
    "b": {"N": "7"},
    "s": {"S": "mango"},
    "bin": {"B": b"\x05\x06"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["red", "green"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [{"S": "first"}, {"N": "2"}]},
    "m": {"M": {"x": {"S": "X"}, "deep": {"M": {"y": {"N": "1"}}}}},
    "blank": {"S": ""},
}

VALUES = {
    ":n4": {"N": "4"},
    ":n5": {"N": "5"},
    ":n6": {"N": "6"},
    ":n7": {"N": "7"},
    ":n2": {"N": "2"},
    ":n0": {"N": "0"},
    ":s_mango": {"S": "mango"},
    ":s_ma": {"S": "ma"},
    ":s_ng": {"S": "ng"},
    ":s_apple": {"S": "apple"},
    ":s_zebra": {"S": "zebra"},
    ":s_red": {"S": "red"},
    ":s_first": {"S": "first"},
    ":s_5": {"S": "5"},
    ":b_05": {"B": b"\x05"},
    ":b_0506": {"B": b"\x05\x06"},
    ":b_06": {"B": b"\x06"},
    ":t_N": {"S": "N"},
    ":t_S": {"S": "S"},
    ":t_B": {"S": "B"},
    ":t_BOOL": {"S": "BOOL"},
    ":t_NULL": {"S": "NULL"},
    ":t_SS": {"S": "SS"},
    ":t_NS": {"S": "NS"},
    ":t_L": {"S": "L"},
    ":t_M": {"S": "M"},
    ":true": {"BOOL": True},
    ":ss_rg": {"SS": ["green", "red"]},
    ":m": {"M": {"x": {"S": "X"}, "deep": {"M": {"y": {"N": "1"}}}}},
    ":l": {"L": [{"S": "first"}, {"N": "2"}]},
    ":n3": {"N": "3"},
    ":n5_0": {"N": "5.0"},
}

CASES = [
    # comparators on numbers (by value)
    ("a = :n5", True),
    ("a = :n5_0", True),
    ("a = :n4", False),
    ("a <> :n4", True),
    ("a <> :n5", False),
    ("a < :n6", True),
    ("a < :n5", False),
    ("a <= :n5", True),
    ("a <= :n4", False),
    ("a > :n4", True),
    ("a > :n5", False),
    ("a >= :n5", True),
    ("a >= :n6", False),
    # between two attributes
    ("a < b", True),
    ("b <= a", False),
    # strings compare by UTF-8 bytes
    ("s = :s_mango", True),
    ("s > :s_apple", True),
    ("s < :s_zebra", True),
    ("s < :s_apple", False),
    # binary compares unsigned bytewise
    ("bin > :b_05", True),
    ("bin < :b_06", True),
    ("bin = :b_0506", True),
    # different types: never equal, never ordered
    ("a = :s_5", False),
    ("a <> :s_5", True),
    ("a < :s_5", False),
    ("a > :s_5", False),
    # a missing attribute: equality false, inequality true
    ("nothere = :n5", False),
    ("nothere <> :n5", True),
    ("nothere < :n5", False),
    # BETWEEN is inclusive
    ("a BETWEEN :n4 AND :n6", True),
    ("a BETWEEN :n5 AND :n5", True),
    ("a BETWEEN :n6 AND :n7", False),
    ("s BETWEEN :s_apple AND :s_zebra", True),
    ("a BETWEEN :s_apple AND :s_zebra", False),
    # IN
    ("a IN (:n4, :n5)", True),
    ("a IN (:n4, :n6, :n7)", False),
    ("a IN (:n5)", True),
    ("s IN (:s_apple, :s_mango)", True),
    # logic and precedence: NOT > AND > OR
    ("a = :n5 AND b = :n7", True),
    ("a = :n5 AND b = :n6", False),
    ("a = :n4 OR b = :n7", True),
    ("a = :n4 OR b = :n6", False),
    ("NOT a = :n4", True),
    ("NOT a = :n5", False),
    ("a = :n5 OR a = :n6 AND a = :n7", True),
    ("(a = :n5 OR a = :n6) AND a = :n7", False),
    ("NOT a = :n4 AND a = :n4", False),
    ("NOT (a = :n4 AND a = :n4)", True),
    ("(a = :n5)", True),
    ("((a = :n5) AND (b = :n7))", True),
    # a parenthesised operand is accepted; doubled parentheses are not (below)
    ("(a) = :n5", True),
    ("(size(s)) = :n5", True),
    ("(a) BETWEEN (:n4) AND :n6", True),
    ("NOT NOT a = :n5", True),
    # existence
    ("attribute_exists(a)", True),
    ("attribute_exists(nothere)", False),
    ("attribute_not_exists(nothere)", True),
    ("attribute_not_exists(a)", False),
    ("attribute_exists(m.x)", True),
    ("attribute_exists(m.deep.y)", True),
    ("attribute_exists(m.nope)", False),
    ("attribute_exists(l[1])", True),
    ("attribute_exists(l[2])", False),
    ("attribute_exists(z)", True),
    ("attribute_exists(blank)", True),
    ("NOT attribute_exists(nothere)", True),
    # attribute_type
    ("attribute_type(a, :t_N)", True),
    ("attribute_type(a, :t_S)", False),
    ("attribute_type(s, :t_S)", True),
    ("attribute_type(bin, :t_B)", True),
    ("attribute_type(t, :t_BOOL)", True),
    ("attribute_type(z, :t_NULL)", True),
    ("attribute_type(ss, :t_SS)", True),
    ("attribute_type(ns, :t_NS)", True),
    ("attribute_type(l, :t_L)", True),
    ("attribute_type(m, :t_M)", True),
    ("attribute_type(m.deep, :t_M)", True),
    ("attribute_type(nothere, :t_S)", False),
    # begins_with
    ("begins_with(s, :s_ma)", True),
    ("begins_with(s, :s_ng)", False),
    ("begins_with(s, :s_mango)", True),
    ("begins_with(bin, :b_05)", True),
    ("begins_with(bin, :b_06)", False),
    ("begins_with(a, :s_5)", False),
    ("begins_with(l[0], :s_ma)", False),
    # contains
    ("contains(s, :s_ng)", True),
    ("contains(s, :s_apple)", False),
    ("contains(ss, :s_red)", True),
    ("contains(ss, :s_mango)", False),
    ("contains(ns, :n2)", True),
    ("contains(l, :s_first)", True),
    ("contains(l, :n2)", True),
    ("contains(l, :n3)", False),
    # size
    ("size(s) = :n5", True),
    ("size(s) > :n5", False),
    ("size(ss) = :n2", True),
    ("size(l) = :n2", True),
    ("size(m) = :n2", True),
    ("size(bin) = :n2", True),
    ("size(blank) = :n0", True),
    ("size(m.deep) < :n2", True),
    ("size(nothere) = :n0", False),
    # whole-value equality for sets (unordered), lists and maps
    ("ss = :ss_rg", True),
    ("m = :m", True),
    ("l = :l", True),
    ("t = :true", True),
]


def _used_values(expr):
    return {k: v for k, v in VALUES.items() if k in expr.replace("(", " ").replace(")", " ")
            .replace(",", " ").split()}


@pytest.fixture
def table(dynamodb, make_table):
    name = make_table()
    dynamodb.put_item(TableName=name, Item=ITEM)
    return name


def _conditional_put(dynamodb, table, expr, **extra):
    kwargs = dict(
        TableName=table,
        Item={**ITEM, "marker": {"S": "written"}},
        ConditionExpression=expr,
    )
    vals = _used_values(expr)
    if vals:
        kwargs["ExpressionAttributeValues"] = vals
    kwargs.update(extra)
    return dynamodb.put_item(**kwargs)


@pytest.mark.parametrize("expr,passes", CASES, ids=[c[0] for c in CASES])
def test_condition(dynamodb, table, expr, passes):
    if passes:
        _conditional_put(dynamodb, table, expr)
        got = dynamodb.get_item(TableName=table, Key={"pk": ITEM["pk"]})["Item"]
        assert got["marker"] == {"S": "written"}
    else:
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
            _conditional_put(dynamodb, table, expr)
        assert info.value.response["Error"]["Message"] == "The conditional request failed"
        got = dynamodb.get_item(TableName=table, Key={"pk": ITEM["pk"]})["Item"]
        assert "marker" not in got


def test_condition_on_missing_item(dynamodb, table):
    key = {"pk": {"S": "new"}}
    # Against a missing item every attribute is absent.
    dynamodb.put_item(TableName=table, Item=key, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName=table, Item=key, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.delete_item(TableName=table, Key={"pk": {"S": "ghost"}},
                             ConditionExpression="attribute_exists(pk)")


def test_condition_with_attribute_names(dynamodb, table):
    dynamodb.put_item(
        TableName=table,
        Item=ITEM,
        ConditionExpression="#a = :v AND #m.#x = :x",
        ExpressionAttributeNames={"#a": "a", "#m": "m", "#x": "x"},
        ExpressionAttributeValues={":v": {"N": "5"}, ":x": {"S": "X"}},
    )


def test_update_condition(dynamodb, table):
    dynamodb.update_item(
        TableName=table, Key={"pk": ITEM["pk"]},
        UpdateExpression="SET a = a + :one",
        ConditionExpression="a = :five",
        ExpressionAttributeValues={":one": {"N": "1"}, ":five": {"N": "5"}},
    )
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table, Key={"pk": ITEM["pk"]},
            UpdateExpression="SET a = a + :one",
            ConditionExpression="a = :five",
            ExpressionAttributeValues={":one": {"N": "1"}, ":five": {"N": "5"}},
        )
    got = dynamodb.get_item(TableName=table, Key={"pk": ITEM["pk"]})["Item"]
    assert got["a"] == {"N": "6"}


def test_update_condition_on_missing_item_does_not_create(dynamodb, table):
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table, Key={"pk": {"S": "ghost"}},
            UpdateExpression="SET a = :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "ghost"}})


def test_delete_condition(dynamodb, table):
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.delete_item(TableName=table, Key={"pk": ITEM["pk"]},
                             ConditionExpression="a > :n", ExpressionAttributeValues={":n": {"N": "100"}})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": ITEM["pk"]})
    dynamodb.delete_item(TableName=table, Key={"pk": ITEM["pk"]},
                         ConditionExpression="a < :n", ExpressionAttributeValues={":n": {"N": "100"}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": ITEM["pk"]})


# --------------------------------------------------------------------------- ReturnValuesOnConditionCheckFailure


def _fail_kwargs(op, table):
    cond = dict(ConditionExpression="a = :wrong", ExpressionAttributeValues={":wrong": {"N": "0"}})
    if op == "put_item":
        return dict(TableName=table, Item={"pk": ITEM["pk"]}, **cond)
    if op == "delete_item":
        return dict(TableName=table, Key={"pk": ITEM["pk"]}, **cond)
    cond["ExpressionAttributeValues"][":v"] = {"N": "1"}
    return dict(TableName=table, Key={"pk": ITEM["pk"]}, UpdateExpression="SET a = :v", **cond)


@pytest.mark.parametrize("op", ["put_item", "update_item", "delete_item"])
def test_return_values_on_condition_check_failure_all_old(dynamodb, table, op):
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        getattr(dynamodb, op)(**_fail_kwargs(op, table),
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert info.value.response["Item"] == ITEM


@pytest.mark.parametrize("op", ["put_item", "update_item", "delete_item"])
def test_return_values_on_condition_check_failure_none(dynamodb, table, op):
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        getattr(dynamodb, op)(**_fail_kwargs(op, table),
                              ReturnValuesOnConditionCheckFailure="NONE")
    assert "Item" not in info.value.response
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        getattr(dynamodb, op)(**_fail_kwargs(op, table))
    assert "Item" not in info.value.response


def test_return_values_on_failure_missing_item(dynamodb, table):
    # The item does not exist: there is nothing to return.
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as info:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "ghost"}},
                          ConditionExpression="attribute_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert "Item" not in info.value.response


def test_condition_error_wire_shape(ddb_raw, table):
    resp = ddb_raw.call("PutItem", {
        "TableName": table,
        "Item": {"pk": {"S": "c"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    })
    assert resp.status_code == 400
    body = resp.json()
    assert body["__type"].endswith("#ConditionalCheckFailedException")
    assert body.get("message", body.get("Message")) == "The conditional request failed"


# --------------------------------------------------------------------------- invalid conditions


@pytest.mark.parametrize(
    "expr,values",
    [
        ("a BETWEEN :hi AND :lo", {":hi": {"N": "9"}, ":lo": {"N": "1"}}),
        ("attribute_type(a, :bad)", {":bad": {"S": "NUMBER"}}),
        ("size(a)", {}),
        ("a", {}),
        ("begins_with(s)", {}),
        ("unknown_fn(a)", {}),
        ("a = :x AND", {":x": {"N": "1"}}),
        ("a IN ()", {}),
    ],
)
def test_invalid_condition_expressions(dynamodb, table, expect_error, expr, values):
    kwargs = dict(TableName=table, Item=ITEM, ConditionExpression=expr)
    if values:
        kwargs["ExpressionAttributeValues"] = values
    expect_error(dynamodb.put_item, "ValidationException",
                 message_prefix="Invalid ConditionExpression", **kwargs)


@pytest.mark.parametrize("expr", ["((a = :n5))", "a = :n5 AND ((b = :n7))", "((a)) = :n5"])
def test_redundant_parentheses_rejected(dynamodb, table, expect_error, expr):
    # DynamoDB refuses parentheses that wrap an already parenthesised group.
    expect_error(dynamodb.put_item, "ValidationException",
                 message_prefix="Invalid ConditionExpression: The expression has redundant parentheses;",
                 TableName=table, Item=ITEM, ConditionExpression=expr,
                 ExpressionAttributeValues=_used_values(expr))


def test_in_operand_limit(dynamodb, table, expect_error):
    # IN takes at most 100 values.
    values = {f":v{i}": {"N": str(i)} for i in range(101)}
    expr = "a IN (" + ", ".join(values) + ")"
    expect_error(dynamodb.put_item, "ValidationException", TableName=table, Item=ITEM,
                 ConditionExpression=expr, ExpressionAttributeValues=values)
    ok = {k: values[k] for k in list(values)[:100]}
    dynamodb.put_item(TableName=table, Item=ITEM,
                      ConditionExpression="a IN (" + ", ".join(ok) + ")",
                      ExpressionAttributeValues=ok)
