"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Sources: API Reference (PutItem, GetItem, UpdateItem, DeleteItem,
AttributeValue) and developer guide ("Supported data types and naming rules",
"Service, account, and table quotas": 400 KB items, 2048-byte partition keys,
1024-byte sort keys, numbers with 38 digits of precision between 1E-130 and
9.9999999999999999999999999999999999999E+125; "Working with items",
"Projection expressions").
"""

from decimal import Decimal

import pytest

MAX_ITEM = 400 * 1024


@pytest.fixture
def table(make_table):
    return make_table(hash=("pk", "S"))


@pytest.fixture
def table_hr(make_table):
    return make_table(hash=("pk", "S"), range=("sk", "S"))


ALL_TYPES = {
    "pk": {"S": "all"},
    "s": {"S": "hello ☃ 世界"},
    "n": {"N": "-12.5"},
    "b": {"B": b"\x00\x01\xffbin"},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": [{"NULL": True}]}, {"M": {"k": {"BOOL": False}}}]},
    "m": {"M": {"inner": {"M": {"deep": {"S": "v"}}}, "num": {"N": "3"}, "empty": {"M": {}}}},
    "el": {"L": []},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
}


def _norm(v):
    """Sets have no order: compare them as sets."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("SS", "BS"):
                out[k] = frozenset(x)
            elif k == "NS":
                out[k] = frozenset(Decimal(n) for n in x)
            else:
                out[k] = _norm(x)
        return out
    if isinstance(v, list):
        return [_norm(x) for x in v]
    return v


# --------------------------------------------------------------------------- basic CRUD


def test_put_get_all_types(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=ALL_TYPES)
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "all"}})["Item"]
    assert _norm(got) == _norm(ALL_TYPES)


def test_put_response_is_empty_by_default(dynamodb, table):
    resp = dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert "Attributes" not in resp
    assert "ConsumedCapacity" not in resp


def test_put_replaces_whole_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"N": "2"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "z": {"S": "new"}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert got == {"pk": {"S": "a"}, "z": {"S": "new"}}


def test_get_missing_item_has_no_item_member(dynamodb, table):
    resp = dynamodb.get_item(TableName=table, Key={"pk": {"S": "nope"}})
    assert "Item" not in resp


def test_get_consistent_read(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "c"}, "v": {"S": "1"}})
    for consistent in (True, False):
        got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "c"}}, ConsistentRead=consistent)
        assert got["Item"]["v"] == {"S": "1"}


def test_delete_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "d"}})
    resp = dynamodb.delete_item(TableName=table, Key={"pk": {"S": "d"}})
    assert "Attributes" not in resp
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "d"}})


def test_delete_missing_item_succeeds(dynamodb, table):
    resp = dynamodb.delete_item(TableName=table, Key={"pk": {"S": "never"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp


def test_composite_key_items_are_distinct(dynamodb, table_hr):
    for sk in ("a", "b"):
        dynamodb.put_item(TableName=table_hr, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"S": sk}})
    a = dynamodb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"S": "a"}})["Item"]
    b = dynamodb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"S": "b"}})["Item"]
    assert a["v"] == {"S": "a"} and b["v"] == {"S": "b"}


def test_numeric_and_binary_keys(dynamodb, make_table):
    name = make_table(hash=("h", "N"), range=("r", "B"))
    dynamodb.put_item(TableName=name, Item={"h": {"N": "10"}, "r": {"B": b"\x00\xff"}, "v": {"S": "x"}})
    # Numeric key equality is by value, not by spelling.
    got = dynamodb.get_item(TableName=name, Key={"h": {"N": "1E1"}, "r": {"B": b"\x00\xff"}})
    assert got["Item"]["v"] == {"S": "x"}
    assert got["Item"]["h"] == {"N": "10"}


def test_update_item_creates_item(dynamodb, table):
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "u"}},
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "x"}},
    )
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "u"}})["Item"]
    assert got == {"pk": {"S": "u"}, "a": {"S": "x"}}


def test_update_item_without_expression_creates_key_only_item(dynamodb, table):
    dynamodb.update_item(TableName=table, Key={"pk": {"S": "bare"}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "bare"}})["Item"]
    assert got == {"pk": {"S": "bare"}}


# --------------------------------------------------------------------------- ReturnValues


def test_put_return_values_all_old(dynamodb, table):
    resp = dynamodb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "1"}},
                             ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    resp = dynamodb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "2"}},
                             ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": {"S": "r"}, "v": {"N": "1"}}
    resp = dynamodb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "3"}},
                             ReturnValues="NONE")
    assert "Attributes" not in resp


@pytest.mark.parametrize("rv", ["UPDATED_OLD", "UPDATED_NEW", "ALL_NEW"])
def test_put_rejects_other_return_values(dynamodb, table, expect_error, rv):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "r"}}, ReturnValues=rv)


@pytest.mark.parametrize("rv", ["UPDATED_OLD", "UPDATED_NEW", "ALL_NEW"])
def test_delete_rejects_other_return_values(dynamodb, table, expect_error, rv):
    expect_error(dynamodb.delete_item, "ValidationException", TableName=table,
                 Key={"pk": {"S": "r"}}, ReturnValues=rv)


def test_delete_return_values_all_old(dynamodb, table):
    item = {"pk": {"S": "del"}, "a": {"SS": ["x"]}}
    dynamodb.put_item(TableName=table, Item=item)
    resp = dynamodb.delete_item(TableName=table, Key={"pk": {"S": "del"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == item


@pytest.mark.parametrize(
    "rv,expected",
    [
        ("NONE", None),
        ("ALL_OLD", {"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}, "c": {"N": "3"}}),
        ("UPDATED_OLD", {"a": {"N": "1"}, "c": {"N": "3"}}),
        ("ALL_NEW", {"pk": {"S": "k"}, "a": {"N": "10"}, "b": {"N": "2"}, "d": {"N": "4"}}),
        ("UPDATED_NEW", {"a": {"N": "10"}, "d": {"N": "4"}}),
    ],
)
def test_update_return_values(dynamodb, table, rv, expected):
    dynamodb.put_item(TableName=table,
                      Item={"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}, "c": {"N": "3"}})
    resp = dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET a = :ten, d = :four REMOVE c",
        ExpressionAttributeValues={":ten": {"N": "10"}, ":four": {"N": "4"}},
        ReturnValues=rv,
    )
    if expected is None:
        assert "Attributes" not in resp
    else:
        assert resp["Attributes"] == expected


def test_update_return_values_nested_updated_new(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": "n"},
        "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
    })
    resp = dynamodb.update_item(
        TableName=table, Key={"pk": {"S": "n"}},
        UpdateExpression="SET m.x = :v",
        ExpressionAttributeValues={":v": {"N": "5"}},
        ReturnValues="UPDATED_NEW",
    )
    # Only the updated nested attribute comes back, inside its parents.
    assert resp["Attributes"] == {"m": {"M": {"x": {"N": "5"}}}}


def test_update_all_old_on_new_item_is_empty(dynamodb, table):
    resp = dynamodb.update_item(
        TableName=table, Key={"pk": {"S": "fresh"}},
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"N": "1"}},
        ReturnValues="ALL_OLD",
    )
    assert "Attributes" not in resp


# --------------------------------------------------------------------------- empty values


def test_empty_string_and_binary_outside_keys(dynamodb, table):
    item = {
        "pk": {"S": "e"},
        "s": {"S": ""},
        "b": {"B": b""},
        "l": {"L": [{"S": ""}]},
        "m": {"M": {"inner": {"S": ""}}},
    }
    dynamodb.put_item(TableName=table, Item=item)
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "e"}})["Item"] == item


def test_empty_string_key_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException",
                 contains="empty string", TableName=table, Item={"pk": {"S": ""}})
    expect_error(dynamodb.get_item, "ValidationException", TableName=table, Key={"pk": {"S": ""}})


def test_empty_binary_key_rejected(dynamodb, make_table, expect_error):
    name = make_table(hash=("pk", "B"))
    expect_error(dynamodb.put_item, "ValidationException",
                 contains="empty binary", TableName=name, Item={"pk": {"B": b""}})


def test_empty_sort_key_rejected(dynamodb, table_hr, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table_hr,
                 Item={"pk": {"S": "a"}, "sk": {"S": ""}})


@pytest.mark.parametrize("settype", ["SS", "NS", "BS"])
def test_empty_set_rejected(dynamodb, table, expect_error, settype):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "s"}, "x": {settype: []}})


def test_duplicate_set_members_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", contains="duplicates",
                 TableName=table, Item={"pk": {"S": "s"}, "x": {"SS": ["a", "a"]}})
    # Numbers are compared by value.
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "s"}, "x": {"NS": ["1", "1.0"]}})


# --------------------------------------------------------------------------- key validation


def test_put_missing_key_attribute(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException",
                 message_prefix="One or more parameter values were invalid: Missing the key pk",
                 TableName=table, Item={"other": {"S": "x"}})


def test_put_key_type_mismatch(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException",
                 message_prefix="One or more parameter values were invalid: Type mismatch",
                 TableName=table, Item={"pk": {"N": "1"}})


def test_put_missing_sort_key(dynamodb, table_hr, expect_error):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table_hr,
                 Item={"pk": {"S": "a"}})


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"N": "1"}},
        {"other": {"S": "a"}},
        {"pk": {"S": "a"}, "extra": {"S": "b"}},
        {},
    ],
    ids=["wrong-type", "wrong-name", "extra-attr", "empty"],
)
def test_get_key_must_match_schema(dynamodb, table, expect_error, key):
    expect_error(dynamodb.get_item, "ValidationException",
                 message_prefix="The provided key element does not match the schema",
                 TableName=table, Key=key)


def test_get_composite_key_missing_sort(dynamodb, table_hr, expect_error):
    expect_error(dynamodb.get_item, "ValidationException",
                 message_prefix="The provided key element does not match the schema",
                 TableName=table_hr, Key={"pk": {"S": "a"}})


def test_delete_key_must_match_schema(dynamodb, table, expect_error):
    expect_error(dynamodb.delete_item, "ValidationException", TableName=table,
                 Key={"pk": {"S": "a"}, "x": {"S": "b"}})


def test_attribute_value_with_two_types(dynamodb_unvalidated, table, expect_error):
    expect_error(dynamodb_unvalidated.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "a"}, "v": {"S": "x", "N": "1"}})


def test_attribute_value_with_no_type(dynamodb_unvalidated, table, expect_error):
    expect_error(dynamodb_unvalidated.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "a"}, "v": {}})


def test_null_false_is_taken_as_null(dynamodb, table):
    # DynamoDB used to refuse {"NULL": false}; it now stores a null, read back as true.
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"NULL": False}})
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"]
    assert item == {"pk": {"S": "a"}, "v": {"NULL": True}}


def test_partition_key_size_limit(dynamodb, table, expect_error):
    ok = "k" * 2048
    dynamodb.put_item(TableName=table, Item={"pk": {"S": ok}})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": ok}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "k" * 2049}})
    # The limit is in UTF-8 bytes: 683 three-byte characters are 2049 bytes.
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "€" * 683}})


def test_sort_key_size_limit(dynamodb, table_hr, expect_error):
    dynamodb.put_item(TableName=table_hr, Item={"pk": {"S": "a"}, "sk": {"S": "s" * 1024}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table_hr,
                 Item={"pk": {"S": "a"}, "sk": {"S": "s" * 1025}})


def test_binary_key_size_limit(dynamodb, make_table, expect_error):
    name = make_table(hash=("pk", "B"))
    dynamodb.put_item(TableName=name, Item={"pk": {"B": b"\x01" * 2048}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=name,
                 Item={"pk": {"B": b"\x01" * 2049}})


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "given,canonical",
    [
        ("1.50", "1.5"),
        ("007", "7"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("1.0e-3", "0.001"),
        ("+5", "5"),
        ("-00.100", "-0.1"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ],
)
def test_number_canonical_form(dynamodb, table, given, canonical):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "num"}, "n": {"N": given}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "num"}})["Item"]["n"]["N"]
    assert got == canonical


def test_number_38_digits_of_precision(dynamodb, table):
    values = [
        "1234567890123456789012345678901234567.8",  # 38 significant digits
        "-0.12345678901234567890123456789012345678",
        "99999999999999999999999999999999999999",
    ]
    for i, v in enumerate(values):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"p{i}"}, "n": {"N": v}})
        got = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"p{i}"}})["Item"]["n"]["N"]
        assert Decimal(got) == Decimal(v)
        assert got.lstrip("-").lstrip("0.").replace(".", "") == v.lstrip("-").lstrip("0.").replace(".", "")


def test_number_more_than_38_digits_rejected(dynamodb, table, expect_error):
    expect_error(dynamodb.put_item, "ValidationException",
                 contains="38 significant digits",
                 TableName=table,
                 Item={"pk": {"S": "x"}, "n": {"N": "1234567890123456789012345678901234567891"}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "x"}, "n": {"N": "0.123456789012345678901234567890123456789"}})


def test_trailing_zeros_do_not_count_as_precision(dynamodb, table):
    v = "1" + "0" * 60  # 1E60: one significant digit
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "z"}, "n": {"N": v}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "z"}})["Item"]["n"]["N"]
    assert Decimal(got) == Decimal(v)


@pytest.mark.parametrize(
    "value",
    ["9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
     "1E-130", "-1E-130"],
)
def test_number_range_limits_accepted(dynamodb, table, value):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "r"}, "n": {"N": value}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"]["n"]["N"]
    assert Decimal(got) == Decimal(value)


@pytest.mark.parametrize("value,word", [("1E126", "overflow"), ("-1E126", "overflow"),
                                        ("1E-131", "underflow"), ("-1E-131", "underflow")])
def test_number_out_of_range_rejected(dynamodb, table, expect_error, value, word):
    err = expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                       Item={"pk": {"S": "r"}, "n": {"N": value}})
    assert word in err.response["Error"]["Message"].lower()


@pytest.mark.parametrize("value", ["abc", "", "1.2.3", "--1", "0x10", "Infinity", "NaN", " 1"])
def test_invalid_number_rejected(dynamodb, table, expect_error, value):
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "bad"}, "n": {"N": value}})


def test_number_set_canonicalised(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "ns"}, "s": {"NS": ["1.0", "2e1", "-0.50"]}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "ns"}})["Item"]["s"]["NS"]
    assert sorted(got) == sorted(["1", "20", "-0.5"])


# --------------------------------------------------------------------------- item size


def test_item_size_limit_exact(dynamodb, table, expect_error):
    # Item size = UTF-8 length of attribute names + value lengths.
    # "pk" + "a" = 3 bytes, "d" = 1 byte, so the value may be MAX_ITEM - 4 bytes.
    fill = MAX_ITEM - 4
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "d": {"S": "x" * fill}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert len(got["d"]["S"]) == fill
    expect_error(dynamodb.put_item, "ValidationException",
                 message_prefix="Item size has exceeded the maximum allowed size",
                 TableName=table, Item={"pk": {"S": "b"}, "d": {"S": "x" * (fill + 1)}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "b"}})


def test_item_size_counts_binary_and_names(dynamodb, table, expect_error):
    name = "n" * 1000
    fill = MAX_ITEM - 3 - len(name)
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, name: {"B": b"\x00" * fill}})
    expect_error(dynamodb.put_item, "ValidationException", TableName=table,
                 Item={"pk": {"S": "a"}, name: {"B": b"\x00" * (fill + 1)}})


def test_update_cannot_grow_item_past_limit(dynamodb, table, expect_error):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "g"}, "d": {"S": "x" * 300_000}})
    expect_error(dynamodb.update_item, "ValidationException",
                 "Item size to update has exceeded the maximum allowed size", TableName=table,
                 Key={"pk": {"S": "g"}}, UpdateExpression="SET e = :e",
                 ExpressionAttributeValues={":e": {"S": "y" * 200_000}})
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "g"}})["Item"]
    assert "e" not in got


# --------------------------------------------------------------------------- ProjectionExpression


@pytest.fixture
def projected(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": "p"},
        "a": {"S": "A"},
        "b": {"N": "2"},
        "m": {"M": {"x": {"S": "X"}, "y": {"M": {"z": {"N": "26"}}}}},
        "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"M": {"q": {"S": "Q"}}}]},
        "name": {"S": "reserved"},
        "dot.ted": {"S": "D"},
    })
    return table


@pytest.mark.parametrize(
    "proj,names,expected",
    [
        ("a", None, {"a": {"S": "A"}}),
        ("a, b", None, {"a": {"S": "A"}, "b": {"N": "2"}}),
        ("pk, absentattr", None, {"pk": {"S": "p"}}),
        ("m.x", None, {"m": {"M": {"x": {"S": "X"}}}}),
        ("m.y.z", None, {"m": {"M": {"y": {"M": {"z": {"N": "26"}}}}}}),
        ("m.x, m.y.z", None, {"m": {"M": {"x": {"S": "X"}, "y": {"M": {"z": {"N": "26"}}}}}}),
        ("l[1]", None, {"l": {"L": [{"S": "l1"}]}}),
        ("l[0], l[2].q", None, {"l": {"L": [{"S": "l0"}, {"M": {"q": {"S": "Q"}}}]}}),
        ("l[9]", None, {}),
        ("m.nope", None, {}),
        ("#n", {"#n": "name"}, {"name": {"S": "reserved"}}),
        ("#d", {"#d": "dot.ted"}, {"dot.ted": {"S": "D"}}),
        ("#m.#x", {"#m": "m", "#x": "x"}, {"m": {"M": {"x": {"S": "X"}}}}),
    ],
)
def test_projection_expression(dynamodb, projected, proj, names, expected):
    kwargs = dict(TableName=projected, Key={"pk": {"S": "p"}}, ProjectionExpression=proj)
    if names:
        kwargs["ExpressionAttributeNames"] = names
    resp = dynamodb.get_item(**kwargs)
    assert resp.get("Item", {}) == expected


def test_projection_overlapping_paths_rejected(dynamodb, projected, expect_error):
    expect_error(dynamodb.get_item, "ValidationException", TableName=projected,
                 Key={"pk": {"S": "p"}}, ProjectionExpression="m, m.x")


def test_projection_duplicate_path_rejected(dynamodb, projected, expect_error):
    expect_error(dynamodb.get_item, "ValidationException", TableName=projected,
                 Key={"pk": {"S": "p"}}, ProjectionExpression="a, a")
