"""UpdateExpression: SET (with + and -, if_not_exists, list_append), nested
paths and list indexes, REMOVE, ADD, DELETE, and their errors.

Sources: developer guide "Update expressions" (SET, REMOVE, ADD, DELETE,
"Adding elements to a list": an index past the end appends; "Removing
elements from a list": later elements shift; arithmetic on numbers only;
ADD/DELETE on sets), API Reference UpdateItem (key attributes cannot be
updated) and "Comparison operator and function reference".
"""

from decimal import Decimal

import pytest

KEY = {"pk": {"S": "u"}}

BASE = {
    "pk": {"S": "u"},
    "n": {"N": "10"},
    "s": {"S": "text"},
    "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]},
    "m": {"M": {"x": {"N": "1"}, "deep": {"M": {"y": {"S": "Y"}}}}},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
}


@pytest.fixture
def table(dynamodb, make_table):
    name = make_table()
    dynamodb.put_item(TableName=name, Item=BASE)
    return name


def update(dynamodb, table, expr, values=None, names=None, key=KEY, **extra):
    kwargs = dict(TableName=table, Key=key, UpdateExpression=expr, ReturnValues="ALL_NEW")
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    kwargs.update(extra)
    return dynamodb.update_item(**kwargs).get("Attributes", {})


def get(dynamodb, table, key=KEY):
    return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def _set_of(av):
    (t, v), = av.items()
    return t, frozenset(Decimal(x) for x in v) if t == "NS" else frozenset(v)


# --------------------------------------------------------------------------- SET


def test_set_new_and_existing(dynamodb, table):
    item = update(dynamodb, table, "SET s = :v, fresh = :w",
                  {":v": {"S": "new"}, ":w": {"BOOL": False}})
    assert item["s"] == {"S": "new"}
    assert item["fresh"] == {"BOOL": False}
    assert get(dynamodb, table) == item


@pytest.mark.parametrize(
    "expr,values,expected",
    [
        ("SET n = n + :d", {":d": {"N": "5"}}, "15"),
        ("SET n = n - :d", {":d": {"N": "15"}}, "-5"),
        ("SET n = :d + n", {":d": {"N": "0.5"}}, "10.5"),
        ("SET n = :a - :b", {":a": {"N": "1"}, ":b": {"N": "3"}}, "-2"),
        ("SET n = n + n", None, "20"),
        ("SET n = n - :d", {":d": {"N": "10"}}, "0"),
    ],
)
def test_set_arithmetic(dynamodb, table, expr, values, expected):
    item = update(dynamodb, table, expr, values)
    assert item["n"] == {"N": expected}


def test_arithmetic_is_decimal_exact(dynamodb, table):
    update(dynamodb, table, "SET f = :a", {":a": {"N": "0.1"}})
    item = update(dynamodb, table, "SET f = f + :b", {":b": {"N": "0.2"}})
    assert item["f"] == {"N": "0.3"}
    update(dynamodb, table, "SET big = :a", {":a": {"N": "1" + "0" * 37}})
    item = update(dynamodb, table, "SET big = big + :one", {":one": {"N": "1"}})
    assert item["big"] == {"N": "1" + "0" * 36 + "1"}


def test_arithmetic_overflow_rejected(dynamodb, table, expect_error):
    update(dynamodb, table, "SET huge = :h", {":h": {"N": "9.9999999999999999999999999999999999999E+125"}})
    expect_error(update, "ValidationException", dynamodb=dynamodb, table=table,
                 expr="SET huge = huge + :h",
                 values={":h": {"N": "9.9999999999999999999999999999999999999E+125"}})


def test_set_from_other_attribute(dynamodb, table):
    item = update(dynamodb, table, "SET dup = m.deep, head = l[0]")
    assert item["dup"] == {"M": {"y": {"S": "Y"}}}
    assert item["head"] == {"S": "l0"}


def test_if_not_exists(dynamodb, table):
    item = update(dynamodb, table, "SET n = if_not_exists(n, :z), c = if_not_exists(c, :z)",
                  {":z": {"N": "0"}})
    assert item["n"] == {"N": "10"}  # existing kept
    assert item["c"] == {"N": "0"}   # missing set


def test_if_not_exists_counter(dynamodb, table):
    for expected in ("1", "2", "3"):
        item = update(dynamodb, table, "SET hits = if_not_exists(hits, :zero) + :one",
                      {":zero": {"N": "0"}, ":one": {"N": "1"}})
        assert item["hits"] == {"N": expected}


def test_if_not_exists_nested_path(dynamodb, table):
    item = update(dynamodb, table, "SET m.x = if_not_exists(m.x, :v), m.z = if_not_exists(m.z, :v)",
                  {":v": {"N": "99"}})
    assert item["m"]["M"]["x"] == {"N": "1"}
    assert item["m"]["M"]["z"] == {"N": "99"}


def test_list_append(dynamodb, table):
    item = update(dynamodb, table, "SET l = list_append(l, :tail)",
                  {":tail": {"L": [{"S": "l3"}, {"N": "4"}]}})
    assert item["l"]["L"] == [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}, {"S": "l3"}, {"N": "4"}]
    item = update(dynamodb, table, "SET l = list_append(:head, l)", {":head": {"L": [{"S": "h"}]}})
    assert item["l"]["L"][0] == {"S": "h"}
    assert len(item["l"]["L"]) == 6


def test_list_append_to_missing_list(dynamodb, table):
    item = update(dynamodb, table, "SET newl = list_append(if_not_exists(newl, :empty), :v)",
                  {":empty": {"L": []}, ":v": {"L": [{"S": "only"}]}})
    assert item["newl"] == {"L": [{"S": "only"}]}


def test_list_append_two_values(dynamodb, table):
    item = update(dynamodb, table, "SET j = list_append(:a, :b)",
                  {":a": {"L": [{"N": "1"}]}, ":b": {"L": [{"N": "2"}]}})
    assert item["j"] == {"L": [{"N": "1"}, {"N": "2"}]}


# --------------------------------------------------------------------------- nested paths


def test_set_nested_map_paths(dynamodb, table):
    item = update(dynamodb, table, "SET m.x = :v, m.deep.y = :w, m.deep.z = :z",
                  {":v": {"N": "2"}, ":w": {"S": "new"}, ":z": {"NULL": True}})
    assert item["m"] == {"M": {"x": {"N": "2"}, "deep": {"M": {"y": {"S": "new"}, "z": {"NULL": True}}}}}


def test_set_nested_with_names(dynamodb, table):
    item = update(dynamodb, table, "SET #m.#k = :v",
                  {":v": {"S": "dotted"}}, names={"#m": "m", "#k": "a.b"})
    assert item["m"]["M"]["a.b"] == {"S": "dotted"}
    assert "a" not in item["m"]["M"]


def test_set_list_index(dynamodb, table):
    item = update(dynamodb, table, "SET l[1] = :v", {":v": {"S": "new1"}})
    assert item["l"]["L"] == [{"S": "l0"}, {"S": "new1"}, {"S": "l2"}]


def test_set_list_index_past_end_appends(dynamodb, table):
    item = update(dynamodb, table, "SET l[10] = :v", {":v": {"S": "tail"}})
    assert item["l"]["L"] == [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}, {"S": "tail"}]


def test_elements_past_the_end_are_appended_in_index_order_across_clauses(dynamodb, table):
    # l has three elements; ADD l[9] sorts after SET l[5], whatever the clause order.
    item = update(dynamodb, table, "ADD l[9] :set SET l[5] = :s",
                  {":set": {"SS": ["a"]}, ":s": {"S": "five"}})
    assert item["l"]["L"][3:] == [{"S": "five"}, {"SS": ["a"]}]


def test_set_inside_list_element(dynamodb, table):
    update(dynamodb, table, "SET lm = :v", {":v": {"L": [{"M": {"a": {"N": "1"}}}]}})
    item = update(dynamodb, table, "SET lm[0].b = :b", {":b": {"N": "2"}})
    assert item["lm"] == {"L": [{"M": {"a": {"N": "1"}, "b": {"N": "2"}}}]}


def test_set_nested_missing_parent_fails(dynamodb, table, expect_error):
    expect_error(update, "ValidationException",
                 message_prefix="The document path provided in the update expression is invalid for update",
                 dynamodb=dynamodb, table=table, expr="SET nomap.x = :v", values={":v": {"N": "1"}})
    expect_error(update, "ValidationException", dynamodb=dynamodb, table=table,
                 expr="SET m.nope.x = :v", values={":v": {"N": "1"}})


def test_set_path_through_scalar_fails(dynamodb, table, expect_error):
    expect_error(update, "ValidationException", dynamodb=dynamodb, table=table,
                 expr="SET s.x = :v", values={":v": {"N": "1"}})
    expect_error(update, "ValidationException", dynamodb=dynamodb, table=table,
                 expr="SET m[0] = :v", values={":v": {"N": "1"}})


def test_failed_update_changes_nothing(dynamodb, table, expect_error):
    # The SET would succeed alone; the ADD on a string fails, and the item stays as it was.
    before = get(dynamodb, table)
    expect_error(update, "ValidationException",
                 message_prefix="An operand in the update expression has an incorrect data type",
                 dynamodb=dynamodb, table=table, expr="SET fresh = :v ADD s :v", values={":v": {"N": "1"}})
    assert get(dynamodb, table) == before


# --------------------------------------------------------------------------- REMOVE


def test_remove(dynamodb, table):
    item = update(dynamodb, table, "REMOVE s, m.x, nothere, m.deep.nothere")
    assert "s" not in item
    assert item["m"] == {"M": {"deep": {"M": {"y": {"S": "Y"}}}}}


def test_remove_list_elements_shifts(dynamodb, table):
    item = update(dynamodb, table, "REMOVE l[0], l[2]")
    assert item["l"] == {"L": [{"S": "l1"}]}


def test_remove_list_index_past_end_is_noop(dynamodb, table):
    item = update(dynamodb, table, "REMOVE l[7]")
    assert len(item["l"]["L"]) == 3


# --------------------------------------------------------------------------- ADD / DELETE


def test_add_number(dynamodb, table):
    item = update(dynamodb, table, "ADD n :d, newn :d", {":d": {"N": "-2.5"}})
    assert item["n"] == {"N": "7.5"}
    assert item["newn"] == {"N": "-2.5"}


def test_add_to_missing_item_creates_it(dynamodb, table):
    key = {"pk": {"S": "counter"}}
    update(dynamodb, table, "ADD c :one", {":one": {"N": "1"}}, key=key)
    update(dynamodb, table, "ADD c :one", {":one": {"N": "1"}}, key=key)
    assert get(dynamodb, table, key)["c"] == {"N": "2"}


@pytest.mark.parametrize(
    "attr,value,expected",
    [
        ("ss", {"SS": ["c", "d"]}, {"SS": ["a", "b", "c", "d"]}),
        ("ns", {"NS": ["2", "3.0"]}, {"NS": ["1", "2", "3"]}),
        ("bs", {"BS": [b"\x03"]}, {"BS": [b"\x01", b"\x02", b"\x03"]}),
        ("newset", {"SS": ["z"]}, {"SS": ["z"]}),
    ],
)
def test_add_to_set(dynamodb, table, attr, value, expected):
    item = update(dynamodb, table, f"ADD {attr} :v", {":v": value})
    assert _set_of(item[attr]) == _set_of(expected)


@pytest.mark.parametrize(
    "attr,value,expected",
    [
        ("ss", {"SS": ["a", "zz"]}, {"SS": ["b", "c"]}),
        ("ns", {"NS": ["1.0"]}, {"NS": ["2"]}),
        ("bs", {"BS": [b"\x02"]}, {"BS": [b"\x01"]}),
    ],
)
def test_delete_from_set(dynamodb, table, attr, value, expected):
    item = update(dynamodb, table, f"DELETE {attr} :v", {":v": value})
    assert _set_of(item[attr]) == _set_of(expected)


def test_delete_all_elements_removes_attribute(dynamodb, table):
    item = update(dynamodb, table, "DELETE ss :v", {":v": {"SS": ["a", "b", "c"]}})
    assert "ss" not in item


def test_delete_from_missing_attribute_is_noop(dynamodb, table):
    item = update(dynamodb, table, "DELETE nothere :v", {":v": {"SS": ["a"]}})
    assert "nothere" not in item


def test_all_clauses_together_any_order(dynamodb, table):
    item = update(
        dynamodb, table,
        "DELETE ss :del ADD n :one REMOVE s SET fresh = :f",
        {":del": {"SS": ["a"]}, ":one": {"N": "1"}, ":f": {"S": "F"}},
    )
    assert _set_of(item["ss"]) == _set_of({"SS": ["b", "c"]})
    assert item["n"] == {"N": "11"}
    assert "s" not in item
    assert item["fresh"] == {"S": "F"}


def test_clause_keywords_case_insensitive(dynamodb, table):
    item = update(dynamodb, table, "set fresh = :f remove s", {":f": {"S": "F"}})
    assert item["fresh"] == {"S": "F"} and "s" not in item


# --------------------------------------------------------------------------- errors


def _err(expect_error, dynamodb, table, expr, values=None, prefix=None, contains=None, key=KEY):
    err = expect_error(update, "ValidationException", message_prefix=prefix, contains=contains,
                       dynamodb=dynamodb, table=table, expr=expr, values=values, key=key)
    # A rejected update changes nothing.
    assert get(dynamodb, table) == BASE
    return err


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET s = :v REMOVE s", {":v": {"S": "x"}}),
        ("SET s = :v, s = :w", {":v": {"S": "x"}, ":w": {"S": "y"}}),
        ("SET m = :v, m.x = :w", {":v": {"M": {}}, ":w": {"N": "1"}}),
        ("REMOVE m.deep SET m.deep.y = :v", {":v": {"S": "x"}}),
        ("SET l[0] = :v REMOVE l[0]", {":v": {"S": "x"}}),
        ("ADD n :v SET n = :v", {":v": {"N": "1"}}),
    ],
)
def test_overlapping_paths(dynamodb, table, expect_error, expr, values):
    _err(expect_error, dynamodb, table, expr, values,
         contains="Two document paths overlap with each other")


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET s = s + :one", {":one": {"N": "1"}}),
        ("SET n = n + :str", {":str": {"S": "1"}}),
        ("SET n = n - :set", {":set": {"NS": ["1"]}}),
        ("ADD s :one", {":one": {"N": "1"}}),
        ("ADD ss :num", {":num": {"N": "1"}}),
        ("ADD ss :ns", {":ns": {"NS": ["1"]}}),
        ("DELETE ss :ns", {":ns": {"NS": ["1"]}}),
        ("DELETE n :ns", {":ns": {"NS": ["1"]}}),
        ("SET l = list_append(l, :s)", {":s": {"S": "x"}}),
        ("SET s = list_append(s, :l)", {":l": {"L": []}}),
    ],
)
def test_wrong_operand_types(dynamodb, table, expect_error, expr, values):
    _err(expect_error, dynamodb, table, expr, values)


@pytest.mark.parametrize(
    "expr,values",
    [
        ("ADD l :l", {":l": {"L": [{"S": "x"}]}}),
        ("ADD m :s", {":s": {"S": "x"}}),
        ("DELETE ss :s", {":s": {"S": "a"}}),
        ("ADD n :b", {":b": {"BOOL": True}}),
    ],
)
def test_add_delete_operand_must_be_number_or_set(dynamodb, table, expect_error, expr, values):
    err = _err(expect_error, dynamodb, table, expr, values)
    assert "operand" in err.response["Error"]["Message"]


def test_arithmetic_on_missing_attribute(dynamodb, table, expect_error):
    _err(expect_error, dynamodb, table, "SET nothere = nothere + :one", {":one": {"N": "1"}},
         prefix="The provided expression refers to an attribute that does not exist in the item")


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET pk = :v", {":v": {"S": "other"}}),
        ("REMOVE pk", None),
    ],
)
def test_cannot_update_key_attribute(dynamodb, table, expect_error, expr, values):
    _err(expect_error, dynamodb, table, expr, values,
         prefix="One or more parameter values were invalid: Cannot update attribute pk. "
                "This attribute is part of the key")


def test_cannot_add_to_key_attribute(dynamodb, table, expect_error):
    _err(expect_error, dynamodb, table, "ADD pk :v", {":v": {"SS": ["x"]}})


def test_cannot_update_sort_key(dynamodb, make_table, expect_error):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    dynamodb.put_item(TableName=name, Item=key)
    expect_error(dynamodb.update_item, "ValidationException",
                 message_prefix="One or more parameter values were invalid: Cannot update attribute sk",
                 TableName=name, Key=key, UpdateExpression="SET sk = :v",
                 ExpressionAttributeValues={":v": {"N": "2"}})


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET a = :v SET b = :v", {":v": {"N": "1"}}),
        ("REMOVE s REMOVE n", None),
        ("SET", None),
        ("", None),
        ("SET a :v", {":v": {"N": "1"}}),
        ("SET a = :v,", {":v": {"N": "1"}}),
        ("REMOVE", None),
        ("ADD n", None),
        ("UPSERT a = :v", {":v": {"N": "1"}}),
        ("SET a = :v + :v + :v", {":v": {"N": "1"}}),
    ],
    ids=["set-twice", "remove-twice", "bare-set", "empty", "missing-eq", "trailing-comma",
         "bare-remove", "add-no-value", "unknown-clause", "three-operands"],
)
def test_update_expression_syntax_errors(dynamodb, table, expect_error, expr, values):
    _err(expect_error, dynamodb, table, expr, values)


def test_set_result_must_be_valid_item(dynamodb, table, expect_error):
    # Removing every element of a set through SET is not possible: an empty set is invalid.
    _err(expect_error, dynamodb, table, "SET ss = :e", {":e": {"SS": []}})
