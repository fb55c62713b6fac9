"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

Sources: DynamoDB API Reference (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction,
BatchStatementRequest, BatchStatementResponse, BatchStatementError, ParameterizedStatement,
ItemResponse, DuplicateItemException, TransactionCanceledException) and the developer guide
section "PartiQL - a SQL-compatible query language for Amazon DynamoDB" (data types; SELECT,
INSERT, UPDATE and DELETE statements; operators and functions; batch operations;
transactions).

What the tests rely on: strings are single-quoted (a quote inside is doubled), sets are
written <<...>>; INSERT of an existing key is DuplicateItemException; a SELECT with an
equality on the partition key reads one partition (sort-key conditions narrow it, other
conditions filter, ORDER BY orders it), without one it scans the table; UPDATE and DELETE
name one item by its full primary key, an UPDATE whose WHERE matches no item is
ConditionalCheckFailedException, a DELETE of a missing item succeeds and deletes nothing;
RETURNING ALL OLD / ALL NEW return the item in Items; a batch holds at most 25 statements and
is all reads or all writes, each statement answered in order with its own error; a
transaction is all reads or all writes, and fails as a whole with TransactionCanceledException
when one of its writes fails.
"""

import pytest
from botocore.exceptions import ClientError

from conftest import N, S, error_code, unique_name


def _get(dynamodb, table, key):
    return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def _run(dynamodb, statement, params=None, **extra):
    args = dict(Statement=statement, **extra)
    if params:
        args["Parameters"] = params
    return dynamodb.execute_statement(**args)


def _fail(fn, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    return info.value


@pytest.fixture
def table(make_table):
    return make_table()


@pytest.fixture
def sorted_table(make_table):
    """A table with hash key pk (S) and sort key sk (S)."""
    return make_table(range=("sk", "S"))


def _fill(dynamodb, table, pk="p", sks=("a", "b", "c", "d", "e")):
    """Items (pk, sk) for each sort key, with n = 1, 2, ... in sort-key order, plus one item in
    another partition that no single-partition read may return."""
    dynamodb.put_item(TableName=table, Item={"pk": S(pk + "-other"), "sk": S(sks[0]), "n": N(1)})
    for i, sk in enumerate(sks, start=1):
        dynamodb.put_item(TableName=table, Item={"pk": S(pk), "sk": S(sk), "n": N(i)})


def _sks(items):
    return [item["sk"]["S"] for item in items]


# --- INSERT -----------------------------------------------------------------------------


def test_insert_creates_item_with_partiql_types(dynamodb, table):
    out = _run(dynamodb, f"INSERT INTO \"{table}\" VALUE "
                         "{'pk': 'a', 'n': 1, 'l': [1, 'x'], 'm': {'k': true}, 's': <<'a','b'>>}")
    assert not out.get("Items")
    item = _get(dynamodb, table, {"pk": S("a")})
    assert item["pk"] == S("a")
    assert item["n"] == N(1)
    assert item["l"] == {"L": [N(1), S("x")]}
    assert item["m"] == {"M": {"k": {"BOOL": True}}}
    assert sorted(item["s"]["SS"]) == ["a", "b"]
    assert set(item) == {"pk", "n", "l", "m", "s"}


def test_insert_number_set_null_and_false(dynamodb, table):
    _run(dynamodb, f"INSERT INTO \"{table}\" VALUE "
                   "{'pk': 'a', 'ns': <<1, 2.5>>, 'z': NULL, 'f': FALSE}")
    item = _get(dynamodb, table, {"pk": S("a")})
    assert sorted(float(x) for x in item["ns"]["NS"]) == [1.0, 2.5]
    assert item["z"] == {"NULL": True}
    assert item["f"] == {"BOOL": False}


def test_insert_doubled_quote_is_one_quote(dynamodb, table):
    _run(dynamodb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'q', 'text': 'it''s here'}}")
    assert _get(dynamodb, table, {"pk": S("q")})["text"] == S("it's here")


def test_insert_existing_key_is_duplicate_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "v": S("old")})
    err = _fail(dynamodb.execute_statement,
                Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'v': 'new'}}")
    assert error_code(err) == "DuplicateItemException"
    assert _get(dynamodb, table, {"pk": S("a")}) == {"pk": S("a"), "v": S("old")}


def test_insert_with_parameters(dynamodb, table):
    _run(dynamodb, f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'n': ?, 'tags': ?}}",
         [S("p1"), N(42), {"SS": ["x", "y"]}])
    item = _get(dynamodb, table, {"pk": S("p1")})
    assert item["n"] == N(42)
    assert sorted(item["tags"]["SS"]) == ["x", "y"]


# --- SELECT -----------------------------------------------------------------------------


def test_select_star_by_partition_key(dynamodb, table):
    item = {"pk": S("a"), "n": N(1), "x": S("y")}
    dynamodb.put_item(TableName=table, Item=item)
    dynamodb.put_item(TableName=table, Item={"pk": S("b"), "n": N(2)})
    out = _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'")
    assert out["Items"] == [item]


def test_select_no_match_returns_empty_items(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    out = _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'nothing'")
    assert out["Items"] == []


def test_select_projection_list(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1), "other": S("z")})
    out = _run(dynamodb, f"SELECT pk, n FROM \"{table}\" WHERE pk = 'a'")
    assert out["Items"] == [{"pk": S("a"), "n": N(1)}]
    # Attribute names may also be written as double-quoted identifiers.
    out = _run(dynamodb, f"SELECT \"n\" FROM \"{table}\" WHERE \"pk\" = 'a'")
    assert out["Items"] == [{"n": N(1)}]


def test_select_nested_path_projection(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={
        "pk": S("a"), "m": {"M": {"k": S("v"), "other": N(1)}}, "x": N(2)})
    out = _run(dynamodb, f"SELECT m.k FROM \"{table}\" WHERE pk = 'a'")
    assert out["Items"] == [{"k": S("v")}]


def test_select_with_string_parameter(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1)})
    dynamodb.put_item(TableName=table, Item={"pk": S("b"), "n": N(2)})
    out = _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = ?", [S("b")])
    assert out["Items"] == [{"pk": S("b"), "n": N(2)}]


def test_select_with_number_key_parameter(dynamodb, make_table):
    table = make_table(hash=("id", "N"))
    dynamodb.put_item(TableName=table, Item={"id": N(7), "v": S("seven")})
    dynamodb.put_item(TableName=table, Item={"id": N(8), "v": S("eight")})
    out = _run(dynamodb, f"SELECT v FROM \"{table}\" WHERE id = ?", [N(7)])
    assert out["Items"] == [{"v": S("seven")}]


def test_select_sort_key_greater_than(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table)
    out = _run(dynamodb, f"SELECT * FROM \"{sorted_table}\" WHERE pk = ? AND sk > ?",
               [S("p"), S("b")])
    assert _sks(out["Items"]) == ["c", "d", "e"]


def test_select_sort_key_between(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table)
    out = _run(dynamodb,
               f"SELECT * FROM \"{sorted_table}\" WHERE pk = 'p' AND sk BETWEEN 'b' AND 'd'")
    assert _sks(out["Items"]) == ["b", "c", "d"]


def test_select_begins_with_sort_key(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table, sks=("pa", "pb", "qa", "x"))
    out = _run(dynamodb,
               f"SELECT * FROM \"{sorted_table}\" WHERE pk = 'p' AND begins_with(sk, 'p')")
    assert _sks(out["Items"]) == ["pa", "pb"]


def test_select_non_key_condition_filters_partition(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table, sks=[f"s{i}" for i in range(1, 9)])
    out = _run(dynamodb, f"SELECT * FROM \"{sorted_table}\" WHERE pk = 'p' AND n > 5")
    assert [item["n"] for item in out["Items"]] == [N(6), N(7), N(8)]


def test_select_order_by_sort_key_desc(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table)
    out = _run(dynamodb, f"SELECT * FROM \"{sorted_table}\" WHERE pk = 'p' ORDER BY sk DESC")
    assert _sks(out["Items"]) == ["e", "d", "c", "b", "a"]


def test_select_without_partition_key_scans_with_filter(dynamodb, table):
    for pk, n in (("a", 3), ("b", 4), ("c", 3), ("d", 5)):
        dynamodb.put_item(TableName=table, Item={"pk": S(pk), "n": N(n)})
    out = _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE n = 3")
    assert sorted(item["pk"]["S"] for item in out["Items"]) == ["a", "c"]
    # Without a WHERE clause every item is returned.
    out = _run(dynamodb, f"SELECT * FROM \"{table}\"")
    assert sorted(item["pk"]["S"] for item in out["Items"]) == ["a", "b", "c", "d"]


def test_select_partition_key_in_list(dynamodb, table):
    for pk in ("a", "b", "c"):
        dynamodb.put_item(TableName=table, Item={"pk": S(pk)})
    out = _run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE pk IN ['a', 'c', 'zzz']")
    assert sorted(item["pk"]["S"] for item in out["Items"]) == ["a", "c"]


def test_select_is_missing(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("with"), "flag": {"BOOL": True}})
    dynamodb.put_item(TableName=table, Item={"pk": S("without")})
    out = _run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE flag IS MISSING")
    assert out["Items"] == [{"pk": S("without")}]


def test_select_contains_and_attribute_type(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "v": S("hello world")})
    dynamodb.put_item(TableName=table, Item={"pk": S("b"), "v": S("goodbye")})
    dynamodb.put_item(TableName=table, Item={"pk": S("c"), "v": N(5)})
    out = _run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE contains(v, 'world')")
    assert out["Items"] == [{"pk": S("a")}]
    out = _run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE attribute_type(v, 'N')")
    assert out["Items"] == [{"pk": S("c")}]


def test_select_limit_and_next_token_page_through_partition(dynamodb, sorted_table):
    _fill(dynamodb, sorted_table)
    statement = f"SELECT * FROM \"{sorted_table}\" WHERE pk = 'p'"
    seen, pages, token = [], 0, None
    while True:
        kwargs = {"Limit": 2}
        if token:
            kwargs["NextToken"] = token
        out = _run(dynamodb, statement, **kwargs)
        pages += 1
        assert len(out["Items"]) <= 2
        seen.extend(_sks(out["Items"]))
        token = out.get("NextToken")
        if not token:
            break
        assert pages < 10, "NextToken never ran out"
    assert sorted(seen) == ["a", "b", "c", "d", "e"]
    assert len(seen) == 5
    assert pages >= 3


def test_select_return_consumed_capacity_total(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    out = _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'",
               ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == table
    assert out["ConsumedCapacity"]["CapacityUnits"] > 0


# --- UPDATE -----------------------------------------------------------------------------


def test_update_set_value(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1), "keep": S("k")})
    out = _run(dynamodb, f"UPDATE \"{table}\" SET n = 5 WHERE pk = 'a'")
    assert not out.get("Items")
    assert _get(dynamodb, table, {"pk": S("a")}) == {"pk": S("a"), "n": N(5), "keep": S("k")}


def test_update_set_arithmetic_and_several_clauses(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(10), "c": N(3)})
    _run(dynamodb, f"UPDATE \"{table}\" SET n = n + 1 SET c = c - 2 WHERE pk = 'a'")
    item = _get(dynamodb, table, {"pk": S("a")})
    assert item["n"] == N(11)
    assert item["c"] == N(1)


def test_update_set_nested_map_path(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "m": {"M": {"k": S("v")}}})
    _run(dynamodb, f"UPDATE \"{table}\" SET m.z = 5 WHERE pk = 'a'")
    assert _get(dynamodb, table, {"pk": S("a")})["m"] == {"M": {"k": S("v"), "z": N(5)}}


def test_update_remove_attribute(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1), "keep": S("k")})
    _run(dynamodb, f"UPDATE \"{table}\" REMOVE n WHERE pk = 'a'")
    assert _get(dynamodb, table, {"pk": S("a")}) == {"pk": S("a"), "keep": S("k")}


def test_update_list_append_and_set_add(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={
        "pk": S("a"), "l": {"L": [N(1)]}, "s": {"SS": ["x"]}})
    _run(dynamodb, f"UPDATE \"{table}\" SET l = list_append(l, [2]) "
                   "SET s = set_add(s, <<'y'>>) WHERE pk = 'a'")
    item = _get(dynamodb, table, {"pk": S("a")})
    assert item["l"] == {"L": [N(1), N(2)]}
    assert sorted(item["s"]["SS"]) == ["x", "y"]


def test_update_with_parameters(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1)})
    _run(dynamodb, f"UPDATE \"{table}\" SET n = ? WHERE pk = ?", [N(9), S("a")])
    assert _get(dynamodb, table, {"pk": S("a")})["n"] == N(9)


def test_update_missing_item_is_conditional_check_failed(dynamodb, table):
    err = _fail(dynamodb.execute_statement,
                Statement=f"UPDATE \"{table}\" SET n = 5 WHERE pk = 'ghost'")
    assert error_code(err) == "ConditionalCheckFailedException"
    assert _get(dynamodb, table, {"pk": S("ghost")}) is None


def test_update_false_extra_condition_leaves_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1)})
    err = _fail(dynamodb.execute_statement,
                Statement=f"UPDATE \"{table}\" SET n = 5 WHERE pk = 'a' AND n = 99")
    assert error_code(err) == "ConditionalCheckFailedException"
    assert _get(dynamodb, table, {"pk": S("a")})["n"] == N(1)


def test_update_without_full_key_is_validation_error(dynamodb, make_table):
    table = make_table(range=("sk", "S"))
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "sk": S("1"), "n": N(1)})
    err = _fail(dynamodb.execute_statement,
                Statement=f"UPDATE \"{table}\" SET n = 5 WHERE pk = 'a'")
    assert error_code(err) == "ValidationException"
    err = _fail(dynamodb.execute_statement,
                Statement=f"UPDATE \"{table}\" SET n = 5 WHERE n = 1")
    assert error_code(err) == "ValidationException"
    assert _get(dynamodb, table, {"pk": S("a"), "sk": S("1")})["n"] == N(1)


def test_update_returning_all_new(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1), "keep": S("k")})
    out = _run(dynamodb, f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'a' RETURNING ALL NEW *")
    assert out["Items"] == [{"pk": S("a"), "n": N(2), "keep": S("k")}]


def test_update_returning_all_old(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1), "keep": S("k")})
    out = _run(dynamodb, f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'a' RETURNING ALL OLD *")
    assert out["Items"] == [{"pk": S("a"), "n": N(1), "keep": S("k")}]
    assert _get(dynamodb, table, {"pk": S("a")})["n"] == N(2)


# --- DELETE -----------------------------------------------------------------------------


def test_delete_removes_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    dynamodb.put_item(TableName=table, Item={"pk": S("b")})
    out = _run(dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'a'")
    assert not out.get("Items")
    assert _get(dynamodb, table, {"pk": S("a")}) is None
    assert _get(dynamodb, table, {"pk": S("b")}) == {"pk": S("b")}


def test_delete_missing_item_succeeds(dynamodb, table):
    out = _run(dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'ghost'")
    assert not out.get("Items")
    assert _get(dynamodb, table, {"pk": S("ghost")}) is None


def test_delete_false_extra_condition_keeps_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1)})
    err = _fail(dynamodb.execute_statement,
                Statement=f"DELETE FROM \"{table}\" WHERE pk = 'a' AND n = 2")
    assert error_code(err) == "ConditionalCheckFailedException"
    assert _get(dynamodb, table, {"pk": S("a")}) == {"pk": S("a"), "n": N(1)}


def test_delete_returning_all_old(dynamodb, make_table):
    table = make_table(range=("sk", "S"))
    item = {"pk": S("a"), "sk": S("1"), "v": S("gone")}
    dynamodb.put_item(TableName=table, Item=item)
    out = _run(dynamodb,
               f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1' RETURNING ALL OLD *")
    assert out["Items"] == [item]
    assert _get(dynamodb, table, {"pk": S("a"), "sk": S("1")}) is None


# --- statement errors -------------------------------------------------------------------


def test_syntax_error_is_validation_exception(dynamodb, table):
    for statement in (f"SELEC * FROM \"{table}\"",
                      f"SELECT * FROM \"{table}\" WHERE",
                      f"INSERT INTO \"{table}\" VALUE {{'pk': 'a'"):
        err = _fail(dynamodb.execute_statement, Statement=statement)
        assert error_code(err) == "ValidationException", statement


def test_unknown_table_is_resource_not_found(dynamodb):
    missing = unique_name("missing")
    err = _fail(dynamodb.execute_statement,
                Statement=f"SELECT * FROM \"{missing}\" WHERE pk = 'a'")
    assert error_code(err) == "ResourceNotFoundException"
    err = _fail(dynamodb.execute_statement,
                Statement=f"INSERT INTO \"{missing}\" VALUE {{'pk': 'a'}}")
    assert error_code(err) == "ResourceNotFoundException"


# --- BatchExecuteStatement --------------------------------------------------------------


def test_batch_inserts_answer_in_order(dynamodb, table):
    out = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'i': ?}}",
         "Parameters": [S(f"k{i}"), N(i)]}
        for i in range(3)
    ])
    responses = out["Responses"]
    assert len(responses) == 3
    for r in responses:
        assert "Error" not in r
        assert r["TableName"] == table
    for i in range(3):
        assert _get(dynamodb, table, {"pk": S(f"k{i}")})["i"] == N(i)


def test_batch_selects_return_items_in_order(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "v": N(1)})
    dynamodb.put_item(TableName=table, Item={"pk": S("b"), "v": N(2)})
    out = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'b'"},
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'missing'"},
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = ?", "Parameters": [S("a")]},
    ])
    first, second, third = out["Responses"]
    assert first["Item"] == {"pk": S("b"), "v": N(2)}
    assert "Item" not in second and "Error" not in second
    assert third["Item"] == {"pk": S("a"), "v": N(1)}


def test_batch_duplicate_insert_fails_alone(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("dup"), "v": S("old")})
    out = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'x1'}}"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'dup', 'v': 'new'}}"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'x2'}}"},
    ])
    first, second, third = out["Responses"]
    assert "Error" not in first and "Error" not in third
    assert second["Error"]["Code"] == "DuplicateItem"
    assert _get(dynamodb, table, {"pk": S("x1")}) == {"pk": S("x1")}
    assert _get(dynamodb, table, {"pk": S("x2")}) == {"pk": S("x2")}
    assert _get(dynamodb, table, {"pk": S("dup")})["v"] == S("old")


def test_batch_update_of_missing_item_is_conditional_check_failed(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a"), "n": N(1)})
    out = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'a'"},
        {"Statement": f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'ghost'"},
    ])
    first, second = out["Responses"]
    assert "Error" not in first
    assert second["Error"]["Code"] == "ConditionalCheckFailed"
    assert _get(dynamodb, table, {"pk": S("a")})["n"] == N(2)
    assert _get(dynamodb, table, {"pk": S("ghost")}) is None


def test_batch_mixing_reads_and_writes_is_rejected(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    err = _fail(dynamodb.batch_execute_statement, Statements=[
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b'}}"},
    ])
    assert error_code(err) == "ValidationException"
    assert _get(dynamodb, table, {"pk": S("b")}) is None


def test_batch_more_than_25_statements_is_rejected(dynamodb_unvalidated, table):
    statements = [{"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'k{i}'}}"}
                  for i in range(26)]
    err = _fail(dynamodb_unvalidated.batch_execute_statement, Statements=statements)
    assert error_code(err) == "ValidationException"
    assert _get(dynamodb_unvalidated, table, {"pk": S("k0")}) is None


# --- ExecuteTransaction -----------------------------------------------------------------


@pytest.fixture
def two_tables(make_table):
    return make_table(), make_table(range=("sk", "S"))


def test_transaction_writes_across_two_tables_apply_together(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("stock"), "n": N(5)})
    dynamodb.put_item(TableName=a, Item={"pk": S("gone")})
    dynamodb.execute_transaction(TransactStatements=[
        {"Statement": f"UPDATE \"{a}\" SET n = n - 1 WHERE pk = 'stock'"},
        {"Statement": f"INSERT INTO \"{b}\" VALUE {{'pk': 'order', 'sk': ?, 'qty': ?}}",
         "Parameters": [S("1"), N(1)]},
        {"Statement": f"DELETE FROM \"{a}\" WHERE pk = 'gone'"},
    ])
    assert _get(dynamodb, a, {"pk": S("stock")})["n"] == N(4)
    assert _get(dynamodb, b, {"pk": S("order"), "sk": S("1")})["qty"] == N(1)
    assert _get(dynamodb, a, {"pk": S("gone")}) is None


def test_transaction_update_of_missing_item_cancels_everything(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("stock"), "n": N(5)})
    err = _fail(dynamodb.execute_transaction, TransactStatements=[
        {"Statement": f"UPDATE \"{a}\" SET n = n - 1 WHERE pk = 'stock'"},
        {"Statement": f"INSERT INTO \"{b}\" VALUE {{'pk': 'order', 'sk': '2'}}"},
        {"Statement": f"UPDATE \"{a}\" SET n = 1 WHERE pk = 'ghost'"},
    ])
    assert error_code(err) == "TransactionCanceledException"
    reasons = err.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
    assert _get(dynamodb, a, {"pk": S("stock")})["n"] == N(5)
    assert _get(dynamodb, b, {"pk": S("order"), "sk": S("2")}) is None
    assert _get(dynamodb, a, {"pk": S("ghost")}) is None


def test_transaction_insert_of_existing_key_cancels_everything(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=b, Item={"pk": S("dup"), "sk": S("1"), "v": S("old")})
    err = _fail(dynamodb.execute_transaction, TransactStatements=[
        {"Statement": f"INSERT INTO \"{a}\" VALUE {{'pk': 'fresh'}}"},
        {"Statement": f"INSERT INTO \"{b}\" VALUE {{'pk': 'dup', 'sk': '1', 'v': 'new'}}"},
    ])
    assert error_code(err) == "TransactionCanceledException"
    reasons = err.response["CancellationReasons"]
    assert len(reasons) == 2
    assert reasons[0]["Code"] == "None"
    assert reasons[1]["Code"] in ("DuplicateItem", "ConditionalCheckFailed")
    assert _get(dynamodb, a, {"pk": S("fresh")}) is None
    assert _get(dynamodb, b, {"pk": S("dup"), "sk": S("1")})["v"] == S("old")


def test_transaction_of_selects_returns_items_in_order(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("one"), "x": N(1)})
    dynamodb.put_item(TableName=b, Item={"pk": S("two"), "sk": S("s"), "z": S("zed")})
    out = dynamodb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT * FROM \"{b}\" WHERE pk = 'two' AND sk = 's'"},
        {"Statement": f"SELECT * FROM \"{a}\" WHERE pk = ?", "Parameters": [S("one")]},
    ])
    assert [r["Item"] for r in out["Responses"]] == [
        {"pk": S("two"), "sk": S("s"), "z": S("zed")},
        {"pk": S("one"), "x": N(1)},
    ]


def test_transaction_mixing_select_and_write_is_rejected(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    err = _fail(dynamodb.execute_transaction, TransactStatements=[
        {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b'}}"},
    ])
    assert error_code(err) == "ValidationException"
    assert _get(dynamodb, table, {"pk": S("b")}) is None


# --- Index reads, EXISTS, returned values, parameters ------------------------------------------


def test_select_from_a_global_index_reads_by_its_key(dynamodb, make_table):
    t = make_table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    for pk, g in (("a", "red"), ("b", "blue"), ("c", "red")):
        dynamodb.put_item(TableName=t, Item={"pk": S(pk), "g": S(g)})
    out = _run(dynamodb, f'SELECT pk FROM "{t}"."by-g" WHERE g = ?', [S("red")])
    assert sorted(i["pk"]["S"] for i in out["Items"]) == ["a", "c"]
    assert error_code(_fail(_run, dynamodb=dynamodb, statement=f'SELECT * FROM "{t}"."nope" WHERE g = \'red\'')) == "ValidationException"


def test_parameters_must_match_the_placeholders(dynamodb, table):
    e = _fail(_run, dynamodb=dynamodb, statement=f"SELECT * FROM \"{table}\" WHERE pk = ?")
    assert error_code(e) == "ValidationException"
    e = _fail(_run, dynamodb=dynamodb, statement=f"SELECT * FROM \"{table}\" WHERE pk = 'a'",
              params=[S("a")])
    assert error_code(e) == "ValidationException"


def test_update_returning_modified_new_returns_only_the_changed_attributes(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("k"), "a": N(1), "b": S("same")})
    out = _run(dynamodb, f"UPDATE \"{table}\" SET a = 2 WHERE pk = 'k' RETURNING MODIFIED NEW *")
    assert out["Items"] == [{"a": N(2)}]


def test_update_set_delete_removes_members_from_a_set(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("k"), "s": {"SS": ["x", "y", "z"]}})
    _run(dynamodb, f"UPDATE \"{table}\" SET s = set_delete(s, <<'x', 'z'>>) WHERE pk = 'k'")
    assert _get(dynamodb, table, {"pk": S("k")})["s"] == {"SS": ["y"]}


def test_batch_error_returns_the_item_when_asked(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("k"), "n": N(1)})
    out = dynamodb.batch_execute_statement(Statements=[{
        "Statement": f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'k' AND n = 5",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }])
    error = out["Responses"][0]["Error"]
    assert error["Code"] == "ConditionalCheckFailed"
    assert error["Item"] == {"pk": S("k"), "n": N(1)}


def test_batch_reports_consumed_capacity_per_table(dynamodb, table):
    out = dynamodb.batch_execute_statement(
        Statements=[{"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': '{k}'}}"} for k in "abc"],
        ReturnConsumedCapacity="TOTAL",
    )
    assert [c["TableName"] for c in out["ConsumedCapacity"]] == [table]
    assert out["ConsumedCapacity"][0]["CapacityUnits"] == 3.0


def test_batch_capacity_by_index_sums_every_statement(dynamodb, make_table):
    t = make_table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    out = dynamodb.batch_execute_statement(
        Statements=[{"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': '{k}', 'g': 'x'}}"}
                    for k in "abc"],
        ReturnConsumedCapacity="INDEXES",
    )
    [capacity] = out["ConsumedCapacity"]
    assert capacity["CapacityUnits"] == 6.0
    assert capacity["Table"]["CapacityUnits"] == 3.0
    assert capacity["GlobalSecondaryIndexes"] == {"by-g": {"CapacityUnits": 3.0}}


def test_transaction_exists_checks_a_condition_without_writing(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("guard"), "open": {"BOOL": True}})
    dynamodb.execute_transaction(TransactStatements=[
        {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'guard' AND \"open\" = true)"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'one'}}"},
    ])
    assert _get(dynamodb, table, {"pk": S("one")}) is not None
    assert _get(dynamodb, table, {"pk": S("guard")}) == {"pk": S("guard"), "open": {"BOOL": True}}
    e = _fail(dynamodb.execute_transaction, TransactStatements=[
        {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'guard' AND \"open\" = false)"},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'two'}}"},
    ])
    assert error_code(e) == "TransactionCanceledException"
    codes = [r["Code"] for r in e.response["CancellationReasons"]]
    assert codes == ["ConditionalCheckFailed", "None"]
    assert _get(dynamodb, table, {"pk": S("two")}) is None


def test_transaction_insert_of_an_existing_key_is_a_duplicate(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("taken")})
    e = _fail(dynamodb.execute_transaction, TransactStatements=[
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'taken'}}"},
    ])
    assert [r["Code"] for r in e.response["CancellationReasons"]] == ["DuplicateItem"]


def test_exists_outside_a_transaction_is_refused(dynamodb, table):
    e = _fail(_run, dynamodb=dynamodb,
              statement=f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'a' AND b = 1)")
    assert error_code(e) == "ValidationException"


def test_batch_write_returns_the_item_its_returning_clause_asks_for(dynamodb, table):
    dynamodb.put_item(TableName=table, Item={"pk": S("k"), "n": N(1)})
    out = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'k' RETURNING ALL OLD *"},
    ])
    assert out["Responses"][0]["Item"] == {"pk": S("k"), "n": N(1)}


def test_a_global_index_read_names_only_what_the_index_carries(dynamodb, make_table):
    t = make_table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kept"]},
        }],
    )
    dynamodb.put_item(TableName=t, Item={"pk": S("a"), "g": S("x"), "kept": N(1), "other": N(2)})
    out = _run(dynamodb, f'SELECT kept FROM "{t}"."by-g" WHERE g = \'x\'')
    assert out["Items"] == [{"kept": N(1)}]
    for statement in (
        f'SELECT other FROM "{t}"."by-g" WHERE g = \'x\'',
        f'SELECT * FROM "{t}"."by-g" WHERE g = \'x\' AND other = 2',
    ):
        assert error_code(_fail(_run, dynamodb=dynamodb, statement=statement)) == "ValidationException"


def test_writes_cannot_name_an_index_and_names_have_at_most_two_parts(dynamodb, table):
    for statement in (
        f'UPDATE "{table}"."ix" SET a = 1 WHERE pk = \'k\'',
        f'DELETE FROM "{table}"."ix" WHERE pk = \'k\'',
        f'INSERT INTO "{table}"."ix" VALUE {{\'pk\': \'k\'}}',
        f'SELECT * FROM "{table}"."ix"."more" WHERE pk = \'k\'',
        'SELECT * FROM "" WHERE pk = \'k\'',
    ):
        assert error_code(_fail(_run, dynamodb=dynamodb, statement=statement)) == "ValidationException"


def test_values_nest_no_deeper_than_an_item_may(dynamodb, table):
    # An item holds at most 32 levels of lists and maps, however the value is written.
    deep = "[" * 33 + "1" + "]" * 33
    for statement in (
        f"INSERT INTO \"{table}\" VALUE {{'pk': 'k', 'a': {deep}}}",
        f"UPDATE \"{table}\" SET a = {deep} WHERE pk = 'k'",
    ):
        assert error_code(_fail(_run, dynamodb=dynamodb, statement=statement)) == "ValidationException"
    assert _get(dynamodb, table, {"pk": S("k")}) is None
    ok = "[" * 32 + "1" + "]" * 32
    _run(dynamodb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'k', 'a': {ok}}}")
    assert _get(dynamodb, table, {"pk": S("k")})["pk"] == S("k")


def test_a_deeply_nested_statement_is_refused(dynamodb, table):
    statement = f"SELECT * FROM \"{table}\" WHERE " + "(" * 2000 + "a = 1" + ")" * 2000
    assert error_code(_fail(_run, dynamodb=dynamodb, statement=statement)) == "ValidationException"
    statement = f"SELECT * FROM \"{table}\" WHERE " + "NOT " * 2000 + "a = 1"
    assert error_code(_fail(_run, dynamodb=dynamodb, statement=statement)) == "ValidationException"
    # The server is still there.
    assert _run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'x'")["Items"] == []
