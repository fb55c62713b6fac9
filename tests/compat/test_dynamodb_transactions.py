"""Transactions: TransactWriteItems and TransactGetItems.

Sources: DynamoDB API Reference (TransactWriteItems, TransactGetItems, CancellationReason,
TransactionCanceledException, IdempotentParameterMismatchException) and the developer guide
("Amazon DynamoDB Transactions: How it works"): all actions succeed or none does; a failed
condition cancels the transaction with one reason per action, in order; one item may appear in
one action only; a ClientRequestToken makes the call idempotent for ten minutes; transactional
reads and writes cost twice the capacity units of plain ones.
"""

import threading

import pytest
from botocore.exceptions import ClientError

from conftest import N, S, error_code, error_message, unique_name


@pytest.fixture
def two_tables(make_table):
    return make_table(), make_table(range=("sk", "S"))


def _get(dynamodb, table, key):
    return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def test_actions_over_two_tables_apply_together(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("stock"), "n": N(5)})
    dynamodb.put_item(TableName=a, Item={"pk": S("gone")})
    dynamodb.put_item(TableName=a, Item={"pk": S("guard"), "open": {"BOOL": True}})
    out = dynamodb.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": a, "Key": {"pk": S("stock")},
                        "UpdateExpression": "SET n = n - :one",
                        "ConditionExpression": "n >= :one",
                        "ExpressionAttributeValues": {":one": N(1)}}},
            {"Put": {"TableName": b, "Item": {"pk": S("order"), "sk": S("1"), "qty": N(1)},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Delete": {"TableName": a, "Key": {"pk": S("gone")}}},
            {"ConditionCheck": {"TableName": a, "Key": {"pk": S("guard")},
                                "ConditionExpression": "#o = :t",
                                "ExpressionAttributeNames": {"#o": "open"},
                                "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert _get(dynamodb, a, {"pk": S("stock")})["n"] == N(4)
    assert _get(dynamodb, b, {"pk": S("order"), "sk": S("1")})["qty"] == N(1)
    assert _get(dynamodb, a, {"pk": S("gone")}) is None
    assert _get(dynamodb, a, {"pk": S("guard")}) == {"pk": S("guard"), "open": {"BOOL": True}}
    # Two units per 1 KB item written (or checked): three on table a, one on table b.
    units = {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]}
    assert units == {a: 6.0, b: 2.0}


def test_a_failed_condition_cancels_everything(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("stock"), "n": N(0)})
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": b, "Item": {"pk": S("order"), "sk": S("2")}}},
            {"Update": {"TableName": a, "Key": {"pk": S("stock")},
                        "UpdateExpression": "SET n = n - :one",
                        "ConditionExpression": "n >= :one",
                        "ExpressionAttributeValues": {":one": N(1)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    err = info.value
    assert error_code(err) == "TransactionCanceledException"
    assert error_message(err) == ("Transaction cancelled, please refer cancellation reasons "
                                  "for specific reasons [None, ConditionalCheckFailed]")
    reasons = err.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Message"] == "The conditional request failed"
    assert reasons[1]["Item"] == {"pk": S("stock"), "n": N(0)}
    assert _get(dynamodb, b, {"pk": S("order"), "sk": S("2")}) is None
    assert _get(dynamodb, a, {"pk": S("stock")})["n"] == N(0)


def test_an_update_that_cannot_apply_is_a_validation_reason(dynamodb, make_table):
    table = make_table()
    dynamodb.put_item(TableName=table, Item={"pk": S("x"), "s": S("text")})
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": S("x")},
                        "UpdateExpression": "SET s = s + :one",
                        "ExpressionAttributeValues": {":one": N(1)}}},
        ])
    assert error_code(info.value) == "TransactionCanceledException"
    assert info.value.response["CancellationReasons"][0]["Code"] == "ValidationError"


def test_request_validation(dynamodb, dynamodb_unvalidated, make_table, expect_error):
    table = make_table()
    put = {"Put": {"TableName": table, "Item": {"pk": S("same")}}}
    expect_error(dynamodb.transact_write_items, "ValidationException",
                 "Transaction request cannot include multiple operations on one item",
                 TransactItems=[put, {"Delete": {"TableName": table,
                                                 "Key": {"pk": S("same")}}}])
    expect_error(dynamodb.transact_write_items, "ValidationException",
                 "TransactItems can only contain one of Check, Put, Update or Delete",
                 TransactItems=[{**put, "Delete": {"TableName": table,
                                                   "Key": {"pk": S("other")}}}])
    expect_error(dynamodb_unvalidated.transact_write_items, "ValidationException",
                 TransactItems=[{}])
    many = [{"Put": {"TableName": table, "Item": {"pk": S(f"k{i}")}}} for i in range(101)]
    expect_error(dynamodb_unvalidated.transact_write_items, "ValidationException",
                 contains="less than or equal to 100", TransactItems=many)
    expect_error(dynamodb.transact_write_items, "ResourceNotFoundException",
                 TransactItems=[{"Put": {"TableName": unique_name("missing"),
                                         "Item": {"pk": S("a")}}}])
    # An item or key that breaks the table's rules cancels the transaction: its action gets
    # the ValidationError reason, the others None (those after it are not looked at).
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": S("fine")}}},
            {"Put": {"TableName": table, "Item": {"pk": N(7)}}},
            {"Delete": {"TableName": table, "Key": {"other": S("a")}}},
        ])
    assert error_code(info.value) == "TransactionCanceledException"
    reasons = info.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError", "None"]
    assert "Type mismatch for key" in reasons[1]["Message"]
    assert "Message" not in reasons[0] and "Message" not in reasons[2]
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(
            TransactItems=[{"Delete": {"TableName": table, "Key": {"other": S("a")}}}])
    [only] = info.value.response["CancellationReasons"]
    assert only == {"Code": "ValidationError",
                    "Message": "The provided key element does not match the schema"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": S("fine")})
    # A hundred actions are allowed.
    dynamodb.transact_write_items(TransactItems=many[:100])
    assert dynamodb.describe_table(TableName=table)["Table"]["ItemCount"] == 100
    # The 4 MB limit is on what the transaction carries: fifty puts of ~100 KB exceed it...
    big = [{"Put": {"TableName": table, "Item": {"pk": S(f"big{i}"), "x": S("x" * 100_000)}}}
           for i in range(50)]
    expect_error(dynamodb.transact_write_items, "ValidationException",
                 contains="size cannot exceed", TransactItems=big)
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": S("big0")})
    # ...while deleting the same items, written outside a transaction, carries only keys.
    for action in big:
        dynamodb.put_item(**action["Put"])
    dynamodb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": table, "Key": {"pk": S(f"big{i}")}}} for i in range(50)])
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": S("big0")})


def test_client_request_token_makes_the_call_idempotent(dynamodb, make_table):
    table = make_table()
    token = unique_name("token")
    add = [{"Update": {"TableName": table, "Key": {"pk": S("counter")},
                       "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": N(1)}}}]
    for _ in range(3):
        dynamodb.transact_write_items(TransactItems=add, ClientRequestToken=token)
    assert _get(dynamodb, table, {"pk": S("counter")})["n"] == N(1)
    add[0]["Update"]["ExpressionAttributeValues"][":one"] = N(2)
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(TransactItems=add, ClientRequestToken=token)
    assert error_code(info.value) == "IdempotentParameterMismatchException"
    dynamodb.transact_write_items(TransactItems=add, ClientRequestToken=unique_name("token"))
    assert _get(dynamodb, table, {"pk": S("counter")})["n"] == N(3)


def test_concurrent_calls_with_one_token_apply_once(dynamodb, make_table):
    # While the first call with a token runs, another is TransactionInProgressException; the
    # transaction applies once whatever the interleaving.
    table = make_table()
    token = unique_name("token")
    add = [{"Update": {"TableName": table, "Key": {"pk": S(f"c{i}")},
                       "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": N(1)}}} for i in range(25)]
    codes = []

    def call():
        try:
            dynamodb.transact_write_items(TransactItems=add, ClientRequestToken=token)
            codes.append("ok")
        except ClientError as err:
            codes.append(error_code(err))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "ok" in codes and set(codes) <= {"ok", "TransactionInProgressException"}, codes
    assert {_get(dynamodb, table, {"pk": S(f"c{i}")})["n"]["N"] for i in range(25)} == {"1"}


def test_transact_get_items(dynamodb, two_tables):
    a, b = two_tables
    dynamodb.put_item(TableName=a, Item={"pk": S("one"), "x": N(1), "y": N(2)})
    dynamodb.put_item(TableName=b, Item={"pk": S("two"), "sk": S("s"), "z": S("zed")})
    out = dynamodb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": a, "Key": {"pk": S("one")}, "ProjectionExpression": "#x",
                     "ExpressionAttributeNames": {"#x": "x"}}},
            {"Get": {"TableName": a, "Key": {"pk": S("absent")}}},
            {"Get": {"TableName": b, "Key": {"pk": S("two"), "sk": S("s")}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == [
        {"Item": {"x": N(1)}},
        {},
        {"Item": {"pk": S("two"), "sk": S("s"), "z": S("zed")}},
    ]
    units = {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]}
    assert units == {a: 4.0, b: 2.0}


def test_resource_api_and_atomicity_under_concurrency(dynamodb, dynamodb_resource, make_table):
    """Transfers between two accounts in transactions, while transactional reads check that
    the total never changes."""
    table = make_table()
    accounts = dynamodb_resource.Table(table)
    accounts.put_item(Item={"pk": "alice", "balance": 100})
    accounts.put_item(Item={"pk": "bob", "balance": 0})
    client = dynamodb_resource.meta.client
    errors = []

    def transfer():
        for _ in range(40):
            try:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": "alice"},
                                "UpdateExpression": "SET balance = balance - :v",
                                "ConditionExpression": "balance >= :v",
                                "ExpressionAttributeValues": {":v": 1}}},
                    {"Update": {"TableName": table, "Key": {"pk": "bob"},
                                "UpdateExpression": "SET balance = balance + :v",
                                "ExpressionAttributeValues": {":v": 1}}},
                ])
            except ClientError as e:  # pragma: no cover - reported below
                errors.append(e)

    workers = [threading.Thread(target=transfer) for _ in range(2)]
    for w in workers:
        w.start()
    totals = set()
    while any(w.is_alive() for w in workers):
        out = dynamodb.transact_get_items(TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": S("alice")}}},
            {"Get": {"TableName": table, "Key": {"pk": S("bob")}}},
        ])
        totals.add(sum(int(r["Item"]["balance"]["N"]) for r in out["Responses"]))
    for w in workers:
        w.join()
    assert not errors, errors
    assert totals == {100}
    assert accounts.get_item(Key={"pk": "bob"}, ConsistentRead=True)["Item"]["balance"] == 80


@pytest.fixture
def colored(make_table):
    """A table with a global index on `color`."""
    return make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "byColor",
                                 "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def test_an_empty_key_value_refuses_the_whole_request(dynamodb, colored, expect_error):
    # An empty key value fails the request's input validation, before the transaction runs:
    # a plain ValidationException, not a cancellation reason (a key of the wrong type is one).
    table = colored
    empty_pk = ("One or more parameter values are not valid. The AttributeValue for a key "
                "attribute cannot contain an empty string value. Key: pk")
    update = {"Update": {"TableName": table, "Key": {"pk": S("")},
                         "UpdateExpression": "SET n = :v",
                         "ExpressionAttributeValues": {":v": N(0)}}}
    err = expect_error(dynamodb.transact_write_items, "ValidationException", TransactItems=[update])
    assert error_message(err) == empty_pk
    assert "CancellationReasons" not in err.response
    for action in ({"Delete": {"TableName": table, "Key": {"pk": S("")}}},
                   {"ConditionCheck": {"TableName": table, "Key": {"pk": S("")},
                                       "ConditionExpression": "attribute_exists(pk)"}},
                   {"Put": {"TableName": table, "Item": {"pk": S("")}}}):
        err = expect_error(dynamodb.transact_write_items, "ValidationException",
                           TransactItems=[action])
        assert error_message(err) == empty_pk
    # An empty index key in a Put item too.
    err = expect_error(dynamodb.transact_write_items, "ValidationException",
                       TransactItems=[{"Put": {"TableName": table,
                                               "Item": {"pk": S("a"), "color": S("")}}}])
    assert error_message(err) == (
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: byColor, IndexKey: color")
    # The empty key of a later action wins over the wrong-typed key of an earlier one: every
    # action passes the input checks before any is evaluated.
    err = expect_error(dynamodb.transact_write_items, "ValidationException", TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": N(1)}}}, update])
    assert error_message(err) == empty_pk
    assert dynamodb.scan(TableName=table)["Count"] == 0


def test_index_key_faults_in_a_transaction(dynamodb, colored, expect_error):
    table = colored
    mistyped = ("One or more parameter values were invalid: Type mismatch for Index Key color "
                "Expected: S Actual: N IndexName: byColor")
    # A wrong-typed index key is the action's cancellation reason, from a Put or an Update.
    for action in ({"Put": {"TableName": table, "Item": {"pk": S("a"), "color": N(5)}}},
                   {"Update": {"TableName": table, "Key": {"pk": S("a")},
                               "UpdateExpression": "SET color = :v",
                               "ExpressionAttributeValues": {":v": N(5)}}}):
        with pytest.raises(ClientError) as info:
            dynamodb.transact_write_items(TransactItems=[action])
        assert error_code(info.value) == "TransactionCanceledException"
        assert info.value.response["CancellationReasons"] == [
            {"Code": "ValidationError", "Message": mistyped}]
    # An update that empties an index key fails the whole request, worded for updates; so
    # does the same UpdateItem.
    empties = ("One or more parameter values are not valid. The update expression attempted "
               "to update a secondary index key to a value that is not supported. The "
               "AttributeValue for a key attribute cannot contain an empty string value.")
    update = {"TableName": table, "Key": {"pk": S("a")}, "UpdateExpression": "SET color = :v",
              "ExpressionAttributeValues": {":v": S("")}}
    err = expect_error(dynamodb.transact_write_items, "ValidationException",
                       TransactItems=[{"Update": update}])
    assert error_message(err) == empties
    err = expect_error(dynamodb.update_item, "ValidationException", **update)
    assert error_message(err) == empties
    assert dynamodb.scan(TableName=table)["Count"] == 0


def test_transact_get_items_key_checks_and_capacity(dynamodb, make_table, expect_error):
    table = make_table()
    dynamodb.put_item(TableName=table, Item={"pk": S("a")})
    get = {"Get": {"TableName": table, "Key": {"pk": S("a")}}}
    expect_error(dynamodb.transact_get_items, "ValidationException",
                 "Transaction request cannot include multiple operations on one item",
                 TransactItems=[get, get])
    # A key that does not fit the table is the Get's cancellation reason.
    with pytest.raises(ClientError) as info:
        dynamodb.transact_get_items(TransactItems=[get, {"Get": {"TableName": table, "Key": {}}}])
    assert error_code(info.value) == "TransactionCanceledException"
    assert [r["Code"] for r in info.value.response["CancellationReasons"]] == \
        ["None", "ValidationError"]
    # Transactions give the read and write units apart.
    out = dynamodb.transact_get_items(TransactItems=[get], ReturnConsumedCapacity="INDEXES")
    [cc] = out["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 2.0 and cc["ReadCapacityUnits"] == 2.0
    assert cc["Table"]["ReadCapacityUnits"] == 2.0
    out = dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {"pk": S("b")}}}],
        ReturnConsumedCapacity="TOTAL")
    [cc] = out["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 2.0 and cc["WriteCapacityUnits"] == 2.0
    # A side the transaction did not use is left out.
    assert "ReadCapacityUnits" not in cc
    assert "WriteCapacityUnits" not in dynamodb.transact_get_items(
        TransactItems=[get], ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"][0]


def test_a_replayed_write_reports_read_units(dynamodb, make_table):
    # A repeated call with the same ClientRequestToken changes nothing and reports the units
    # spent reading the items, not writing them.
    table = make_table()
    args = dict(
        TransactItems=[{"Put": {"TableName": table, "Item": {"pk": S("once")}}}],
        ClientRequestToken=unique_name("token"),
        ReturnConsumedCapacity="TOTAL",
    )
    [first] = dynamodb.transact_write_items(**args)["ConsumedCapacity"]
    [again] = dynamodb.transact_write_items(**args)["ConsumedCapacity"]
    assert first["WriteCapacityUnits"] == 2.0 and "ReadCapacityUnits" not in first
    assert again["ReadCapacityUnits"] == 2.0 and "WriteCapacityUnits" not in again
