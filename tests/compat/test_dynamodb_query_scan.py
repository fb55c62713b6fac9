"""Query and Scan: key conditions, sort order, filters, Select, Limit,
pagination, the 1 MB page limit, and parallel scans.

Sources: API Reference Query and Scan (KeyConditionExpression grammar,
ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey, Count and
ScannedCount, Select, Segment/TotalSegments); developer guide "Query
operations" (sort keys ordered by numeric value for N, by UTF-8 bytes for S, by
unsigned bytes for B; "A single Query operation can retrieve a maximum of
1 MB of data"; filters apply after Limit) and "Scan operations" (parallel scan).
"""

from decimal import Decimal

import pytest

NUM_SKS = ["-10", "-1.5", "0", "0.25", "1", "2", "10", "100"]


@pytest.fixture
def num_table(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    # Write out of order so ordering comes from the server.
    for sk in reversed(NUM_SKS):
        dynamodb.put_item(TableName=name, Item={
            "pk": {"S": "p"}, "sk": {"N": sk}, "even": {"BOOL": Decimal(sk) % 2 == 0},
            "filler": {"S": "x" * 10},
        })
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "q"}, "sk": {"N": "5"}})
    return name


@pytest.fixture
def str_table(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "S"))
    for sk in ["b", "a", "ab", "abc", "B", "Z", "é", "z", "a b", "aa"]:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    return name


def q(dynamodb, table, cond, values, **extra):
    return dynamodb.query(TableName=table, KeyConditionExpression=cond,
                          ExpressionAttributeValues=values, **extra)


def sks(resp, t="N"):
    return [i["sk"][t] for i in resp["Items"]]


# --------------------------------------------------------------------------- key conditions


def test_query_partition_ascending_numeric_order(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}})
    assert sks(resp) == NUM_SKS
    assert resp["Count"] == len(NUM_SKS)
    assert resp["ScannedCount"] == len(NUM_SKS)
    assert "LastEvaluatedKey" not in resp


def test_query_descending(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, ScanIndexForward=False)
    assert sks(resp) == list(reversed(NUM_SKS))


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("sk = :v", {":v": {"N": "0.25"}}, ["0.25"]),
        ("sk = :v", {":v": {"N": "2.00"}}, ["2"]),
        ("sk < :v", {":v": {"N": "0"}}, ["-10", "-1.5"]),
        ("sk <= :v", {":v": {"N": "0"}}, ["-10", "-1.5", "0"]),
        ("sk > :v", {":v": {"N": "2"}}, ["10", "100"]),
        ("sk >= :v", {":v": {"N": "2"}}, ["2", "10", "100"]),
        ("sk BETWEEN :a AND :b", {":a": {"N": "-1.5"}, ":b": {"N": "1"}}, ["-1.5", "0", "0.25", "1"]),
        ("sk BETWEEN :a AND :b", {":a": {"N": "3"}, ":b": {"N": "9"}}, []),
        ("sk > :v", {":v": {"N": "-1E+2"}}, NUM_SKS),
    ],
)
def test_query_sort_key_conditions_numeric(dynamodb, num_table, cond, values, expected):
    resp = q(dynamodb, num_table, "pk = :p AND " + cond, {":p": {"S": "p"}, **values})
    assert sks(resp) == expected


def test_query_key_condition_either_order_and_parens(dynamodb, num_table):
    resp = q(dynamodb, num_table, "(sk > :v) AND (pk = :p)", {":p": {"S": "p"}, ":v": {"N": "10"}})
    assert sks(resp) == ["100"]


def test_query_with_attribute_names(dynamodb, num_table):
    resp = dynamodb.query(TableName=num_table, KeyConditionExpression="#p = :p AND #s >= :v",
                          ExpressionAttributeNames={"#p": "pk", "#s": "sk"},
                          ExpressionAttributeValues={":p": {"S": "p"}, ":v": {"N": "10"}})
    assert sks(resp) == ["10", "100"]


def test_query_string_sort_key_byte_order(dynamodb, str_table):
    resp = q(dynamodb, str_table, "pk = :p", {":p": {"S": "p"}})
    expected = sorted(["b", "a", "ab", "abc", "B", "Z", "é", "z", "a b", "aa"],
                      key=lambda s: s.encode("utf-8"))
    assert sks(resp, "S") == expected


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("begins_with(sk, :v)", {":v": {"S": "a"}}, ["a", "a b", "aa", "ab", "abc"]),
        ("begins_with(sk, :v)", {":v": {"S": "ab"}}, ["ab", "abc"]),
        ("begins_with(sk, :v)", {":v": {"S": "q"}}, []),
        ("sk BETWEEN :a AND :b", {":a": {"S": "a"}, ":b": {"S": "ab"}}, ["a", "a b", "aa", "ab"]),
        ("sk < :v", {":v": {"S": "a"}}, ["B", "Z"]),
        ("sk > :v", {":v": {"S": "z"}}, ["é"]),
    ],
)
def test_query_sort_key_conditions_string(dynamodb, str_table, cond, values, expected):
    resp = q(dynamodb, str_table, "pk = :p AND " + cond, {":p": {"S": "p"}, **values})
    assert sks(resp, "S") == expected


def test_query_binary_sort_key_order(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "B"))
    values = [b"\xff", b"\x00", b"\x7f", b"\x80", b"\x00\x00", b"\x01", b"\x80\x01"]
    for v in values:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"B": v}})
    resp = q(dynamodb, name, "pk = :p", {":p": {"S": "p"}})
    assert sks(resp, "B") == sorted(values)
    resp = q(dynamodb, name, "pk = :p AND begins_with(sk, :b)", {":p": {"S": "p"}, ":b": {"B": b"\x80"}})
    assert sks(resp, "B") == [b"\x80", b"\x80\x01"]
    resp = q(dynamodb, name, "pk = :p AND sk > :b", {":p": {"S": "p"}, ":b": {"B": b"\x7f"}})
    assert sks(resp, "B") == [b"\x80", b"\x80\x01", b"\xff"]


def test_query_numeric_partition_key(dynamodb, make_table):
    name = make_table(hash=("pk", "N"))
    dynamodb.put_item(TableName=name, Item={"pk": {"N": "42"}, "v": {"S": "x"}})
    resp = q(dynamodb, name, "pk = :p", {":p": {"N": "42.0"}})
    assert resp["Count"] == 1 and resp["Items"][0]["v"] == {"S": "x"}


def test_query_empty_partition(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "nobody"}})
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 0


@pytest.mark.parametrize(
    "cond,values",
    [
        ("sk = :v", {":v": {"N": "1"}}),                                     # no partition key
        ("pk < :p", {":p": {"S": "p"}}),                                     # partition needs =
        ("begins_with(pk, :p)", {":p": {"S": "p"}}),
        ("pk = :p OR sk = :v", {":p": {"S": "p"}, ":v": {"N": "1"}}),         # only AND
        ("pk = :p AND sk <> :v", {":p": {"S": "p"}, ":v": {"N": "1"}}),       # no <>
        ("pk = :p AND sk IN (:v)", {":p": {"S": "p"}, ":v": {"N": "1"}}),     # no IN
        ("pk = :p AND begins_with(sk, :v)", {":p": {"S": "p"}, ":v": {"N": "1"}}),  # N sort key
        ("pk = :p AND filler = :v", {":p": {"S": "p"}, ":v": {"S": "x"}}),      # non-key attribute
        ("pk = :p AND sk > :v AND sk < :w", {":p": {"S": "p"}, ":v": {"N": "1"}, ":w": {"N": "9"}}),
        ("pk = :p AND attribute_exists(sk)", {":p": {"S": "p"}}),
        ("pk = :v", {":v": {"N": "1"}}),                                     # wrong key type
        ("NOT pk = :p", {":p": {"S": "p"}}),
    ],
)
def test_query_invalid_key_conditions(dynamodb, num_table, expect_error, cond, values):
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond=cond, values=values)


def test_query_without_key_condition(dynamodb, num_table, expect_error):
    expect_error(dynamodb.query, "ValidationException", TableName=num_table)


def test_filter_on_key_attribute_rejected(dynamodb, num_table, expect_error):
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                 values={":p": {"S": "p"}, ":v": {"N": "1"}}, FilterExpression="sk > :v")


# --------------------------------------------------------------------------- filters, Select


def test_query_filter_counts(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
             FilterExpression="even = :t")
    assert sks(resp) == ["-10", "0", "2", "10", "100"]
    assert resp["Count"] == 5
    assert resp["ScannedCount"] == len(NUM_SKS)


def test_limit_applies_before_filter(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
             FilterExpression="even = :t", Limit=3)
    # Evaluated -10, -1.5, 0; two of them match.
    assert resp["ScannedCount"] == 3
    assert sks(resp) == ["-10", "0"]
    assert resp["Count"] == 2
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "0"}}


def test_filter_matching_nothing_still_paginates(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}, ":x": {"S": "nope"}},
             FilterExpression="filler = :x", Limit=2)
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 2
    assert "LastEvaluatedKey" in resp


def test_select_count(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == len(NUM_SKS)
    assert resp["ScannedCount"] == len(NUM_SKS)


def test_select_count_with_filter(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
             Select="COUNT", FilterExpression="even = :t")
    assert "Items" not in resp and resp["Count"] == 5


def test_select_specific_attributes(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}},
             Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk")
    assert resp["Items"][0] == {"sk": {"N": "-10"}}
    # ProjectionExpression alone implies SPECIFIC_ATTRIBUTES.
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, ProjectionExpression="even")
    assert resp["Items"][0] == {"even": {"BOOL": True}}


def test_select_all_attributes(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Select="ALL_ATTRIBUTES", Limit=1)
    assert set(resp["Items"][0]) == {"pk", "sk", "even", "filler"}


def test_select_conflicts(dynamodb, num_table, expect_error):
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                 values={":p": {"S": "p"}}, Select="ALL_ATTRIBUTES", ProjectionExpression="sk")
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                 values={":p": {"S": "p"}}, Select="SPECIFIC_ATTRIBUTES")
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                 values={":p": {"S": "p"}}, Select="COUNT", ProjectionExpression="sk")


# --------------------------------------------------------------------------- pagination


def test_query_limit_pagination(dynamodb, num_table):
    seen, start, pages = [], None, 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Limit=3, **extra)
        pages += 1
        assert resp["Count"] <= 3
        seen += sks(resp)
        start = resp.get("LastEvaluatedKey")
        if not start:
            break
        assert start == {"pk": {"S": "p"}, "sk": resp["Items"][-1]["sk"]}
    assert seen == NUM_SKS
    assert pages == 3


def test_limit_reached_exactly_returns_last_evaluated_key(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Limit=len(NUM_SKS))
    assert resp["Count"] == len(NUM_SKS)
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "100"}}
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}},
             ExclusiveStartKey=resp["LastEvaluatedKey"])
    assert resp["Items"] == [] and "LastEvaluatedKey" not in resp


def test_query_descending_pagination(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Limit=2, ScanIndexForward=False)
    assert sks(resp) == ["100", "10"]
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "p"}}, Limit=2, ScanIndexForward=False,
             ExclusiveStartKey=resp["LastEvaluatedKey"])
    assert sks(resp) == ["2", "1"]


def test_query_paginator(dynamodb, num_table):
    pages = list(dynamodb.get_paginator("query").paginate(
        TableName=num_table, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}}, PaginationConfig={"PageSize": 3}))
    assert [len(p["Items"]) for p in pages][:3] == [3, 3, 2]
    assert [i["sk"]["N"] for p in pages for i in p["Items"]] == NUM_SKS


def test_invalid_limit(dynamodb_unvalidated, num_table, expect_error):
    expect_error(dynamodb_unvalidated.query, "ValidationException", TableName=num_table,
                 KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=0)


def test_exclusive_start_key_must_match_schema(dynamodb, num_table, expect_error):
    expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                 values={":p": {"S": "p"}}, ExclusiveStartKey={"pk": {"S": "p"}})


@pytest.mark.parametrize(
    "start,message",
    [
        ({"pk": {"S": "p"}}, "The provided starting key is invalid"),
        ({"pk": {"S": "p"}, "sk": {"S": "1"}}, "The provided starting key is invalid"),
        ({"pk": {"S": "p"}, "sk": {"N": "1"}, "x": {"S": "1"}}, "The provided starting key is invalid"),
        ({"pk": {"S": "other"}, "sk": {"N": "1"}},
         "The provided starting key is outside query boundaries based on provided conditions"),
        ({"pk": {"S": "p"}, "sk": {"N": "-10"}},
         "The provided starting key does not match the range key predicate"),
    ],
)
def test_query_exclusive_start_key_checked_against_query(dynamodb, num_table, expect_error, start, message):
    # Query checks the starting key against the key schema, the queried partition and the
    # sort key condition, with shorter messages than Scan's.
    err = expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table,
                       cond="pk = :p AND sk > :v", values={":p": {"S": "p"}, ":v": {"N": "0"}},
                       ExclusiveStartKey=start)
    assert err.response["Error"]["Message"] == message


def test_scan_exclusive_start_key_checked_against_schema(dynamodb, num_table, expect_error):
    expect_error(dynamodb.scan, "ValidationException",
                 message_prefix="The provided starting key is invalid: The provided key element does not match the schema",
                 TableName=num_table, ExclusiveStartKey={"pk": {"S": "p"}, "bad": {"N": "1"}})


def test_select_specific_attributes_needs_projection(dynamodb, num_table, expect_error):
    # Query wraps the phrase in the "1 validation error detected:" envelope; Scan does not.
    msg = "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
    err = expect_error(q, "ValidationException", dynamodb=dynamodb, table=num_table, cond="pk = :p",
                       values={":p": {"S": "p"}}, Select="SPECIFIC_ATTRIBUTES")
    assert err.response["Error"]["Message"] == "1 validation error detected: " + msg
    err = expect_error(dynamodb.scan, "ValidationException", TableName=num_table, Select="SPECIFIC_ATTRIBUTES")
    assert err.response["Error"]["Message"] == msg
    resp = dynamodb.scan(TableName=num_table, Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["sk"])
    assert all(set(item) == {"sk"} for item in resp["Items"])


def test_one_megabyte_page_limit(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    blob = "x" * (100 * 1024)
    for i in range(15):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "d": {"S": blob}})
    first = q(dynamodb, name, "pk = :p", {":p": {"S": "big"}})
    assert 1 < first["Count"] < 15
    assert "LastEvaluatedKey" in first
    assert first["ScannedCount"] == first["Count"]
    total = first["Count"]
    start = first["LastEvaluatedKey"]
    while start:
        page = q(dynamodb, name, "pk = :p", {":p": {"S": "big"}}, ExclusiveStartKey=start)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
    assert total == 15
    scan = dynamodb.scan(TableName=name)
    assert 1 < scan["Count"] < 15 and "LastEvaluatedKey" in scan
    # The limit is on data read, so it also applies to Select=COUNT.
    count = q(dynamodb, name, "pk = :p", {":p": {"S": "big"}}, Select="COUNT")
    assert count["Count"] < 15 and "LastEvaluatedKey" in count


# --------------------------------------------------------------------------- Scan


@pytest.fixture
def scan_table(dynamodb, make_table):
    name = make_table(hash=("pk", "S"), range=("sk", "N"))
    for p in range(20):
        for s in range(3):
            dynamodb.put_item(TableName=name, Item={
                "pk": {"S": f"p{p:02d}"}, "sk": {"N": str(s)}, "n": {"N": str(p * 3 + s)}})
    return name


def _all_keys(items):
    return [(i["pk"]["S"], i["sk"]["N"]) for i in items]


def test_scan_returns_everything(dynamodb, scan_table):
    resp = dynamodb.scan(TableName=scan_table)
    assert resp["Count"] == 60 and resp["ScannedCount"] == 60
    assert len(set(_all_keys(resp["Items"]))) == 60
    assert "LastEvaluatedKey" not in resp


def test_scan_items_within_partition_sorted(dynamodb, scan_table):
    keys = _all_keys(dynamodb.scan(TableName=scan_table)["Items"])
    by_pk = {}
    for pk, sk in keys:
        by_pk.setdefault(pk, []).append(Decimal(sk))
    for v in by_pk.values():
        assert v == sorted(v)


def test_scan_filter_counts(dynamodb, scan_table):
    resp = dynamodb.scan(TableName=scan_table, FilterExpression="n < :v",
                         ExpressionAttributeValues={":v": {"N": "10"}})
    assert resp["Count"] == 10 and resp["ScannedCount"] == 60
    # Key attributes may be used in a Scan filter.
    resp = dynamodb.scan(TableName=scan_table, FilterExpression="sk = :z",
                         ExpressionAttributeValues={":z": {"N": "0"}}, Select="COUNT")
    assert resp["Count"] == 20 and "Items" not in resp


def test_scan_limit_pagination(dynamodb, scan_table):
    seen, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        resp = dynamodb.scan(TableName=scan_table, Limit=7, **extra)
        assert resp["ScannedCount"] <= 7
        seen += _all_keys(resp["Items"])
        start = resp.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk"}
    assert len(seen) == 60 and len(set(seen)) == 60


def test_scan_paginator(dynamodb, scan_table):
    pages = list(dynamodb.get_paginator("scan").paginate(
        TableName=scan_table, PaginationConfig={"PageSize": 25}))
    keys = [k for p in pages for k in _all_keys(p["Items"])]
    assert len(keys) == 60 and len(set(keys)) == 60
    assert len(pages) >= 3


@pytest.mark.parametrize("total", [1, 2, 3, 7, 100])
def test_parallel_scan_covers_every_item_once(dynamodb, scan_table, total):
    seen = []
    for seg in range(total):
        start = None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            resp = dynamodb.scan(TableName=scan_table, Segment=seg, TotalSegments=total, Limit=10, **extra)
            seen += _all_keys(resp["Items"])
            start = resp.get("LastEvaluatedKey")
            if not start:
                break
    assert len(seen) == 60
    assert len(set(seen)) == 60


def test_parallel_scan_keeps_partition_together(dynamodb, scan_table):
    owner = {}
    for seg in range(4):
        for pk, _ in _all_keys(dynamodb.scan(TableName=scan_table, Segment=seg, TotalSegments=4)["Items"]):
            assert owner.setdefault(pk, seg) == seg


@pytest.mark.parametrize(
    "params",
    [
        {"Segment": 0},
        {"TotalSegments": 2},
        {"Segment": 2, "TotalSegments": 2},
        {"Segment": -1, "TotalSegments": 2},
        {"Segment": 0, "TotalSegments": 0},
        {"Segment": 0, "TotalSegments": 1000001},
    ],
)
def test_parallel_scan_invalid_segments(dynamodb_unvalidated, scan_table, expect_error, params):
    expect_error(dynamodb_unvalidated.scan, "ValidationException", TableName=scan_table, **params)


def test_scan_consistent_read_and_projection(dynamodb, scan_table):
    resp = dynamodb.scan(TableName=scan_table, ConsistentRead=True, ProjectionExpression="n",
                         FilterExpression="n = :v", ExpressionAttributeValues={":v": {"N": "59"}})
    assert resp["Items"] == [{"n": {"N": "59"}}]


def test_scan_visits_partitions_in_dynamodbs_order(dynamodb, make_table):
    # DynamoDB's Scan visits partitions in the order of a hash of the partition key, which
    # test suites checked against it lock in (for example two partitions "A" and "B": all of
    # "A" first). The expected orders are DynamoDB's, as dynalite reproduces them.
    strings = make_table(hash=("pk", "S"))
    for pk in ["A", "B", "C", "D", "E", "F", "a", "b", "1", "2"]:
        dynamodb.put_item(TableName=strings, Item={"pk": {"S": pk}})
    scanned = [i["pk"]["S"] for i in dynamodb.scan(TableName=strings)["Items"]]
    assert scanned == ["A", "2", "B", "E", "1", "F", "b", "C", "D", "a"]
    numbers = make_table(hash=("pk", "N"))
    values = ["0", "1", "-1", "10", "100", "1.5", "-2.25", "12345678901234567890", "0.00001",
              "7", "99", "-100", "3.14159"]
    for pk in values:
        dynamodb.put_item(TableName=numbers, Item={"pk": {"N": pk}})
    scanned = [Decimal(i["pk"]["N"]) for i in dynamodb.scan(TableName=numbers)["Items"]]
    assert scanned == [Decimal(v) for v in ["-1", "7", "-2.25", "-100", "0.00001", "10", "100",
                                            "1.5", "12345678901234567890", "1", "0", "3.14159",
                                            "99"]]
    # Pages follow the same order.
    first = dynamodb.scan(TableName=strings, Limit=3)
    rest = dynamodb.scan(TableName=strings, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [i["pk"]["S"] for i in first["Items"] + rest["Items"]] == \
        ["A", "2", "B", "E", "1", "F", "b", "C", "D", "a"]
