"""DynamoDB Streams: stream settings on tables, ListStreams, DescribeStream, GetShardIterator
and GetRecords.

Sources: developer guide "Change data capture for DynamoDB Streams" (enabling a stream,
stream ARNs, reading and processing a stream, the note "If you perform a PutItem or
UpdateItem operation that does not change any data in an item, then DynamoDB Streams does
not write a stream record for that operation", "If you disable a stream, any shards that are
open will be closed", "If you disable a stream on a table, the data in the stream will
continue to be readable for 24 hours", "If you disable and then re-enable a stream on the
table, a new stream will be created with a different stream descriptor"); the DynamoDB
Streams API Reference and service model (ListStreams, DescribeStream, GetShardIterator,
GetRecords, Record, StreamRecord, StreamDescription, SequenceNumberRange: "If the
SequenceNumberRange has a StartingSequenceNumber but no EndingSequenceNumber, then the shard
is still open", NextShardIterator "If set to null, the shard has been closed", Limit
"The upper limit is 1000", ShardId 28..65 characters, SequenceNumber 21..40 digits,
ApproximateCreationDateTime "rounded down to the closest second"); DynamoDB API Reference
(StreamSpecification, TableDescription LatestStreamArn / LatestStreamLabel, UpdateTable
"You receive a ValidationException if you try to enable a stream on a table that already
has a stream, or if you try to disable a stream on a table that doesn't have a stream",
DeleteTable "the corresponding stream on that table goes into the DISABLED state").

Choices of this implementation the tests rely on (all allowed by the above): one shard per
stream, records readable as soon as the write returned, StreamStatus ENABLED right after
the table is ACTIVE.
"""

import re
import time
from datetime import timezone
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from conftest import N, S, _client_kwargs, error_code, unique_name, wait_active

VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
LABEL_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?"
STATUS_TIMEOUT = 10.0


def _spec(view_type):
    return {"StreamEnabled": True, "StreamViewType": view_type}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def streams(nimbus_server):
    """boto3 DynamoDB Streams client, same endpoint and credentials as `dynamodb`."""
    return boto3.client("dynamodbstreams", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="module")
def streams_unvalidated(nimbus_server):
    """Streams client without botocore's own checks (Limit >= 1), so the server's are tested."""
    return boto3.client("dynamodbstreams",
                        **_client_kwargs(nimbus_server, parameter_validation=False))


@pytest.fixture
def stream_table(make_table, dynamodb):
    """Factory: a table (hash key pk:S unless told) with a stream of the given view type;
    returns (table name, stream ARN)."""

    def factory(view_type="NEW_AND_OLD_IMAGES", **kwargs):
        name = make_table(StreamSpecification=_spec(view_type), **kwargs)
        return name, dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]

    return factory


@pytest.fixture
def delete_later(dynamodb):
    """Names appended to the yielded list are deleted after the test."""
    names = []
    yield names
    for name in names:
        try:
            dynamodb.delete_table(TableName=name)
        except ClientError:
            pass


# --------------------------------------------------------------------------- helpers


def _shards(streams, arn):
    shards, kwargs = [], {}
    for _ in range(100):
        desc = streams.describe_stream(StreamArn=arn, **kwargs)["StreamDescription"]
        shards += desc["Shards"]
        if "LastEvaluatedShardId" not in desc:
            return shards
        kwargs = {"ExclusiveStartShardId": desc["LastEvaluatedShardId"]}
    raise AssertionError("DescribeStream kept returning LastEvaluatedShardId")


def _iterator(streams, arn, kind="TRIM_HORIZON", seq=None, shard_id=None):
    shard_id = shard_id or _shards(streams, arn)[0]["ShardId"]
    extra = {"SequenceNumber": seq} if seq is not None else {}
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                      ShardIteratorType=kind, **extra)["ShardIterator"]


def _drain(streams, iterator, limit=None, max_calls=200):
    """Reads from the iterator up to the current end of the shard. Returns (records, next
    iterator), the iterator None once the shard is closed and fully read. The end of an
    open shard is two empty answers in a row (GetRecords may answer empty before it)."""
    records, empty = [], 0
    extra = {"Limit": limit} if limit is not None else {}
    for _ in range(max_calls):
        out = streams.get_records(ShardIterator=iterator, **extra)
        assert isinstance(out["Records"], list)
        if limit is not None:
            assert len(out["Records"]) <= limit
        records += out["Records"]
        iterator = out.get("NextShardIterator")
        if iterator is None:
            return records, None
        empty = empty + 1 if not out["Records"] else 0
        if empty >= 2:
            return records, iterator
    raise AssertionError(f"no end of the shard after {max_calls} GetRecords calls")


def _records(streams, arn):
    """Every record of the stream, shards in DescribeStream order, from TRIM_HORIZON."""
    records = []
    for shard in _shards(streams, arn):
        got, _ = _drain(streams, _iterator(streams, arn, shard_id=shard["ShardId"]))
        records += got
    return records


def _events(records, key="pk"):
    """[(eventName, key value)] for a table whose hash key is the string `key`."""
    return [(r["eventName"], r["dynamodb"]["Keys"][key]["S"]) for r in records]


def _seq(record):
    return int(record["dynamodb"]["SequenceNumber"])


def _norm(value):
    """An attribute value made comparable: numbers by value, sets without order."""
    (kind, v), = value.items()
    if kind == "N":
        return kind, Decimal(v)
    if kind == "NS":
        return kind, tuple(sorted(Decimal(x) for x in v))
    if kind in ("SS", "BS"):
        return kind, tuple(sorted(bytes(x) if kind == "BS" else x for x in v))
    if kind == "B":
        return kind, bytes(v)
    if kind == "M":
        return kind, _norm_item(v)
    if kind == "L":
        return kind, [_norm(x) for x in v]
    return kind, v


def _norm_item(item):
    return None if item is None else {k: _norm(v) for k, v in item.items()}


def _check_images(record, view_type, old, new):
    body = record["dynamodb"]
    assert body["StreamViewType"] == view_type
    want_new = new if view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
    want_old = old if view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
    assert _norm_item(body.get("NewImage")) == _norm_item(want_new), record
    assert _norm_item(body.get("OldImage")) == _norm_item(want_old), record


def _wait_stream_status(streams, arn, status):
    deadline = time.monotonic() + STATUS_TIMEOUT
    while True:
        desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        if desc["StreamStatus"] == status:
            return desc
        assert time.monotonic() < deadline, f"stream still {desc['StreamStatus']}"
        time.sleep(0.1)


def _list_all_streams(streams, limit=2, **kwargs):
    """Every page of ListStreams; checks the page size and LastEvaluatedStreamArn."""
    found, start = [], {}
    for _ in range(2000):
        page = streams.list_streams(Limit=limit, **kwargs, **start)
        assert len(page["Streams"]) <= limit
        found += page["Streams"]
        last = page.get("LastEvaluatedStreamArn")
        if not last:
            return found
        # "The stream ARN of the item where the operation stopped, inclusive of the
        # previous result set."
        assert page["Streams"] and last == page["Streams"][-1]["StreamArn"]
        start = {"ExclusiveStartStreamArn": last}
    raise AssertionError("ListStreams kept returning LastEvaluatedStreamArn")


def _epoch(dt):
    return dt.timestamp() if dt.tzinfo else dt.replace(tzinfo=timezone.utc).timestamp()


# --------------------------------------------------------------------------- table settings


def test_create_table_with_stream_describes_it(dynamodb, delete_later):
    name = unique_name()
    delete_later.append(name)
    created = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification=_spec("NEW_IMAGE"),
    )["TableDescription"]
    assert created["StreamSpecification"] == _spec("NEW_IMAGE")
    label = created["LatestStreamLabel"]
    assert re.fullmatch(LABEL_RE, label), label
    arn = created["LatestStreamArn"]
    assert re.fullmatch(
        rf"arn:aws:dynamodb:us-east-1:\d{{12}}:table/{re.escape(name)}/stream/{re.escape(label)}",
        arn), arn
    assert arn == created["TableArn"] + "/stream/" + label
    desc = wait_active(dynamodb, name)
    assert desc["StreamSpecification"] == _spec("NEW_IMAGE")
    assert desc["LatestStreamLabel"] == label
    assert desc["LatestStreamArn"] == arn


def test_table_without_stream_has_no_stream_fields(dynamodb, make_table, streams):
    name = make_table()
    desc = dynamodb.describe_table(TableName=name)["Table"]
    for field in ("StreamSpecification", "LatestStreamLabel", "LatestStreamArn"):
        assert field not in desc, desc
    assert streams.list_streams(TableName=name)["Streams"] == []


# --------------------------------------------------------------------------- ListStreams


def test_list_streams_by_table_name(dynamodb, stream_table, streams):
    name, arn = stream_table()
    other, other_arn = stream_table("KEYS_ONLY")
    label = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamLabel"]
    assert streams.list_streams(TableName=name)["Streams"] == [
        {"StreamArn": arn, "TableName": name, "StreamLabel": label}]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=other)["Streams"]] == [
        other_arn]
    everything = streams.list_streams(Limit=100)
    listed = {s["StreamArn"]: s for s in everything["Streams"]}
    if "LastEvaluatedStreamArn" in everything:
        listed = {s["StreamArn"]: s for s in _list_all_streams(streams)}
    assert listed[arn] == {"StreamArn": arn, "TableName": name, "StreamLabel": label}
    assert listed[other_arn]["TableName"] == other


def test_list_streams_paging(stream_table, streams):
    arns = {stream_table("KEYS_ONLY")[1] for _ in range(3)}
    listed = [s["StreamArn"] for s in _list_all_streams(streams, limit=1)]
    assert len(listed) == len(set(listed)), "a stream was listed twice"
    assert arns <= set(listed)


def test_list_streams_limit_validation(streams_unvalidated, expect_error):
    # Limit: "Valid Range: Minimum value of 1"; "The upper limit is 100."
    expect_error(streams_unvalidated.list_streams, "ValidationException", Limit=0)
    expect_error(streams_unvalidated.list_streams, "ValidationException", Limit=101)


# --------------------------------------------------------------------------- DescribeStream


def test_describe_stream(dynamodb, stream_table, streams):
    before = time.time()
    name, arn = stream_table("NEW_IMAGE", range=("sk", "N"))
    table = dynamodb.describe_table(TableName=name)["Table"]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamArn"] == arn
    assert desc["StreamLabel"] == table["LatestStreamLabel"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "NEW_IMAGE"
    assert desc["TableName"] == name
    assert desc["KeySchema"] == table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    created = _epoch(desc["CreationRequestDateTime"])
    assert before - 5 <= created <= time.time() + 5
    assert len(desc["Shards"]) == 1
    shard = desc["Shards"][0]
    assert 28 <= len(shard["ShardId"]) <= 65, shard
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    assert start.isdecimal() and 21 <= len(start) <= 40, start
    # An open shard: StartingSequenceNumber without EndingSequenceNumber.
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def test_describe_stream_unknown_arn(dynamodb, stream_table, streams, expect_error):
    name, arn = stream_table()
    missing = unique_name("missing")
    bogus = arn.replace(f":table/{name}/", f":table/{missing}/")
    assert bogus != arn
    expect_error(streams.describe_stream, "ResourceNotFoundException", StreamArn=bogus)


# --------------------------------------------------------------------------- records


def test_record_fields(dynamodb, stream_table, streams):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    before = int(time.time())
    dynamodb.put_item(TableName=name, Item={"pk": S("a"), "v": N(1)})
    dynamodb.update_item(TableName=name, Key={"pk": S("a")}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": N(2)})
    dynamodb.delete_item(TableName=name, Key={"pk": S("a")})
    after = time.time()
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    ids = set()
    for r in records:
        assert isinstance(r["eventID"], str) and r["eventID"]
        ids.add(r["eventID"])
        assert isinstance(r["eventVersion"], str) and r["eventVersion"]
        assert r["eventSource"] == "aws:dynamodb"
        assert r["awsRegion"] == "us-east-1"
        # userIdentity is for deletions by Time to Live only.
        assert "userIdentity" not in r
        body = r["dynamodb"]
        assert body["Keys"] == {"pk": S("a")}
        seq = body["SequenceNumber"]
        assert seq.isdecimal() and 21 <= len(seq) <= 40, seq
        assert isinstance(body["SizeBytes"], int) and body["SizeBytes"] > 0
        assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        created = body["ApproximateCreationDateTime"]
        # "in UNIX epoch time format and rounded down to the closest second"
        assert created.microsecond == 0, created
        assert before - 1 <= _epoch(created) <= after + 1, created
    assert len(ids) == 3, "eventID is not unique"


def test_event_names_follow_the_writes(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a"), "v": N(1)})        # new item
    dynamodb.put_item(TableName=name, Item={"pk": S("a"), "v": N(2)})        # replaced
    dynamodb.update_item(TableName=name, Key={"pk": S("a")},                  # changed
                         UpdateExpression="SET w = :w", ExpressionAttributeValues={":w": S("x")})
    dynamodb.update_item(TableName=name, Key={"pk": S("b")},                  # made by update
                         UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": N(1)})
    dynamodb.delete_item(TableName=name, Key={"pk": S("a")})
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})                    # new again
    assert _events(_records(streams, arn)) == [
        ("INSERT", "a"), ("MODIFY", "a"), ("MODIFY", "a"), ("INSERT", "b"), ("REMOVE", "a"),
        ("INSERT", "a")]


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_images_per_view_type(dynamodb, stream_table, streams, view_type):
    name, arn = stream_table(view_type, range=("sk", "N"))
    key = {"pk": S("p"), "sk": N(1)}
    first = {**key, "a": S("x"), "n": N(1)}
    dynamodb.put_item(TableName=name, Item=first)
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="SET b = :b",
                         ExpressionAttributeValues={":b": {"L": [N(1), S("two")]}})
    second = {**first, "b": {"L": [N(1), S("two")]}}
    third = {**key, "c": {"SS": ["s"]}}
    dynamodb.put_item(TableName=name, Item=third)
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="REMOVE c")
    dynamodb.delete_item(TableName=name, Key=key)
    expected = [
        ("INSERT", None, first),
        ("MODIFY", first, second),
        ("MODIFY", second, third),
        ("MODIFY", third, key),        # an item left with its key only still has an image
        ("REMOVE", key, None),
    ]
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == [e[0] for e in expected]
    for record, (_, old, new) in zip(records, expected):
        assert record["dynamodb"]["Keys"] == key
        _check_images(record, view_type, old, new)


def test_images_keep_every_attribute_type(dynamodb, stream_table, streams):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    item = {
        "pk": S("all"),
        "s": S("text \u00fc\u00f1\u00ee"), "empty": S(""), "n": N("-12.5"),
        "big": N("12345678901234567890123456789012345678"), "b": {"B": b"\x00\xff\x10"},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "nul": {"NULL": True},
        "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["3", "-1", "2.5"]},
        "bs": {"BS": [b"\x02", b"\x01"]},
        "m": {"M": {"leaf": S("v"), "deep": {"M": {"l": {"L": [N(1), S("x")]}}},
                    "e": {"M": {}}}},
        "l": {"L": [S("a"), N(2), {"M": {"k": {"BOOL": False}}}, {"L": []}, {"NULL": True},
                    {"SS": ["z"]}, {"B": b"\x07"}]},
    }
    dynamodb.put_item(TableName=name, Item=item)
    dynamodb.update_item(
        TableName=name, Key={"pk": S("all")},
        UpdateExpression=("SET n = n + :one, m.leaf = :w, l[1] = :twenty, added = :new "
                          "REMOVE nul ADD ns :more DELETE bs :b1"),
        ExpressionAttributeValues={":one": N(1), ":w": S("w"), ":twenty": N(20),
                                   ":new": {"L": [N(0)]}, ":more": {"NS": ["4"]},
                                   ":b1": {"BS": [b"\x01"]}})
    updated = {k: v for k, v in item.items() if k != "nul"}
    updated.update({
        "n": N("-11.5"),
        "m": {"M": {**item["m"]["M"], "leaf": S("w")}},
        "l": {"L": [S("a"), N(20), *item["l"]["L"][2:]]},
        "added": {"L": [N(0)]},
        "ns": {"NS": ["3", "-1", "2.5", "4"]},
        "bs": {"BS": [b"\x02"]},
    })
    # The table agrees with the expected image.
    got = dynamodb.get_item(TableName=name, Key={"pk": S("all")}, ConsistentRead=True)["Item"]
    assert _norm_item(got) == _norm_item(updated)
    dynamodb.delete_item(TableName=name, Key={"pk": S("all")})
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    _check_images(records[0], "NEW_AND_OLD_IMAGES", None, item)
    _check_images(records[1], "NEW_AND_OLD_IMAGES", item, updated)
    _check_images(records[2], "NEW_AND_OLD_IMAGES", updated, None)


def test_streams_are_per_table(dynamodb, stream_table, streams):
    a, arn_a = stream_table()
    b, arn_b = stream_table()
    assert arn_a != arn_b
    dynamodb.put_item(TableName=b, Item={"pk": S("only-b")})
    dynamodb.put_item(TableName=a, Item={"pk": S("only-a")})
    assert _events(_records(streams, arn_a)) == [("INSERT", "only-a")]
    assert _events(_records(streams, arn_b)) == [("INSERT", "only-b")]


# --------------------------------------------------------------------------- iterators


def test_sequence_numbers_increase_within_the_shard_range(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    for i in range(5):
        dynamodb.put_item(TableName=name, Item={"pk": S(f"k{i}")})
    records = _records(streams, arn)
    assert _events(records) == [("INSERT", f"k{i}") for i in range(5)]
    seqs = [_seq(r) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5, seqs
    shard = _shards(streams, arn)[0]
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    assert int(start) <= seqs[0]
    # Reading at StartingSequenceNumber reads the whole shard.
    got, _ = _drain(streams, _iterator(streams, arn, "AT_SEQUENCE_NUMBER", start,
                                       shard["ShardId"]))
    assert [_seq(r) for r in got] == seqs


def test_iterator_types(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    for k in ("a", "b", "c"):
        dynamodb.put_item(TableName=name, Item={"pk": S(k)})
    records, _ = _drain(streams, _iterator(streams, arn, "TRIM_HORIZON"))
    assert _events(records) == [("INSERT", "a"), ("INSERT", "b"), ("INSERT", "c")]
    s1, s2, s3 = (r["dynamodb"]["SequenceNumber"] for r in records)

    def read(kind, seq=None):
        return [k for _, k in _events(_drain(streams, _iterator(streams, arn, kind, seq))[0])]

    assert read("AT_SEQUENCE_NUMBER", s1) == ["a", "b", "c"]
    assert read("AT_SEQUENCE_NUMBER", s2) == ["b", "c"]
    assert read("AFTER_SEQUENCE_NUMBER", s1) == ["b", "c"]
    assert read("AFTER_SEQUENCE_NUMBER", s2) == ["c"]
    assert read("AFTER_SEQUENCE_NUMBER", s3) == []
    assert read("LATEST") == []
    assert read("TRIM_HORIZON") == ["a", "b", "c"]


def test_latest_sees_only_later_writes(dynamodb, stream_table, streams):
    name, arn = stream_table("NEW_IMAGE")
    dynamodb.put_item(TableName=name, Item={"pk": S("early")})
    latest = _iterator(streams, arn, "LATEST")
    dynamodb.put_item(TableName=name, Item={"pk": S("late1")})
    dynamodb.put_item(TableName=name, Item={"pk": S("early"), "v": N(1)})
    records, nxt = _drain(streams, latest)
    assert _events(records) == [("INSERT", "late1"), ("MODIFY", "early")]
    assert nxt is not None


def test_get_records_limit_pages_in_order(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    for i in range(5):
        dynamodb.put_item(TableName=name, Item={"pk": S(f"k{i}")})
    everything, _ = _drain(streams, _iterator(streams, arn), limit=1000)
    paged, _ = _drain(streams, _iterator(streams, arn), limit=2)
    assert _events(paged) == _events(everything) == [("INSERT", f"k{i}") for i in range(5)]
    assert [r["dynamodb"]["SequenceNumber"] for r in paged] == [
        r["dynamodb"]["SequenceNumber"] for r in everything]
    single = streams.get_records(ShardIterator=_iterator(streams, arn), Limit=1)
    assert len(single["Records"]) <= 1
    assert "NextShardIterator" in single


def test_reading_past_the_end_then_new_writes(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})
    out = streams.get_records(ShardIterator=_iterator(streams, arn))
    assert _events(out["Records"]) == [("INSERT", "a")]
    # Past the end of an open shard: no records, and an iterator to go on with.
    out = streams.get_records(ShardIterator=out["NextShardIterator"])
    assert out["Records"] == []
    out = streams.get_records(ShardIterator=out["NextShardIterator"])
    assert out["Records"] == []
    assert out["NextShardIterator"]
    dynamodb.put_item(TableName=name, Item={"pk": S("b")})
    records, nxt = _drain(streams, out["NextShardIterator"])
    assert _events(records) == [("INSERT", "b")]
    assert nxt is not None


# --------------------------------------------------------------------------- writes without records


def test_unchanged_put_and_update_write_no_record(dynamodb, stream_table, streams):
    # "If you perform a PutItem or UpdateItem operation that does not change any data in an
    # item, then DynamoDB Streams does not write a stream record for that operation."
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    item = {"pk": S("a"), "n": N(1), "tags": {"SS": ["x", "y"]}, "m": {"M": {"k": S("v")}}}
    dynamodb.put_item(TableName=name, Item=item)
    dynamodb.put_item(TableName=name, Item={**item, "tags": {"SS": ["y", "x"]}})
    dynamodb.update_item(TableName=name, Key={"pk": S("a")},
                         UpdateExpression="SET n = :n, m.k = :v",
                         ExpressionAttributeValues={":n": N(1), ":v": S("v")})
    dynamodb.update_item(TableName=name, Key={"pk": S("a")}, UpdateExpression="REMOVE nothere")
    dynamodb.update_item(TableName=name, Key={"pk": S("a")}, UpdateExpression="SET n = :n",
                         ExpressionAttributeValues={":n": N(2)})
    records = _records(streams, arn)
    assert _events(records) == [("INSERT", "a"), ("MODIFY", "a")]
    _check_images(records[1], "NEW_AND_OLD_IMAGES", item, {**item, "n": N(2)})


def test_delete_of_missing_item_writes_no_record(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.delete_item(TableName=name, Key={"pk": S("never")})
    dynamodb.put_item(TableName=name, Item={"pk": S("gone")})
    dynamodb.delete_item(TableName=name, Key={"pk": S("gone")})
    dynamodb.delete_item(TableName=name, Key={"pk": S("gone")})
    dynamodb.put_item(TableName=name, Item={"pk": S("marker")})
    assert _events(_records(streams, arn)) == [
        ("INSERT", "gone"), ("REMOVE", "gone"), ("INSERT", "marker")]


def test_failed_condition_writes_no_record(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a"), "v": N(1)})
    failing = [
        lambda: dynamodb.put_item(TableName=name, Item={"pk": S("a"), "v": N(2)},
                                  ConditionExpression="attribute_not_exists(pk)"),
        lambda: dynamodb.update_item(TableName=name, Key={"pk": S("a")},
                                     UpdateExpression="SET v = :two",
                                     ConditionExpression="v = :two",
                                     ExpressionAttributeValues={":two": N(2)}),
        lambda: dynamodb.delete_item(TableName=name, Key={"pk": S("a")},
                                     ConditionExpression="attribute_not_exists(v)"),
        lambda: dynamodb.put_item(TableName=name, Item={"pk": S("b")},
                                  ConditionExpression="attribute_exists(pk)"),
    ]
    for call in failing:
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info.value) == "ConditionalCheckFailedException"
    dynamodb.put_item(TableName=name, Item={"pk": S("marker")})
    assert _events(_records(streams, arn)) == [("INSERT", "a"), ("INSERT", "marker")]


def test_batch_write_item_one_record_per_changed_item(dynamodb, stream_table, streams):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    dynamodb.put_item(TableName=name, Item={"pk": S("old"), "v": N(1)})
    dynamodb.put_item(TableName=name, Item={"pk": S("gone"), "v": N(1)})
    out = dynamodb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": {"pk": S("n1")}}},
        {"PutRequest": {"Item": {"pk": S("n2")}}},
        {"PutRequest": {"Item": {"pk": S("old"), "v": N(2)}}},
        {"DeleteRequest": {"Key": {"pk": S("gone")}}},
        {"DeleteRequest": {"Key": {"pk": S("missing")}}},
    ]})
    assert out["UnprocessedItems"] == {}
    records = _records(streams, arn)
    assert _events(records[:2]) == [("INSERT", "old"), ("INSERT", "gone")]
    assert sorted(_events(records[2:])) == sorted([
        ("INSERT", "n1"), ("INSERT", "n2"), ("MODIFY", "old"), ("REMOVE", "gone")])
    by_key = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in records[2:]}
    _check_images(by_key["old"], "NEW_AND_OLD_IMAGES",
                  {"pk": S("old"), "v": N(1)}, {"pk": S("old"), "v": N(2)})
    _check_images(by_key["gone"], "NEW_AND_OLD_IMAGES", {"pk": S("gone"), "v": N(1)}, None)


def test_transact_write_items_records(dynamodb, stream_table, streams):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    for k in ("upd", "del", "chk"):
        dynamodb.put_item(TableName=name, Item={"pk": S(k), "v": N(1)})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"pk": S("new"), "v": N(1)}}},
        {"Update": {"TableName": name, "Key": {"pk": S("upd")}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": N(2)}}},
        {"Delete": {"TableName": name, "Key": {"pk": S("del")}}},
        {"ConditionCheck": {"TableName": name, "Key": {"pk": S("chk")},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ])
    # A cancelled transaction changes nothing and writes nothing.
    with pytest.raises(ClientError) as info:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": S("never")}}},
            {"Update": {"TableName": name, "Key": {"pk": S("upd")},
                        "UpdateExpression": "SET v = :v", "ConditionExpression": "v = :v",
                        "ExpressionAttributeValues": {":v": N(99)}}},
        ])
    assert error_code(info.value) == "TransactionCanceledException"
    dynamodb.put_item(TableName=name, Item={"pk": S("marker")})
    records = _records(streams, arn)
    assert _events(records[:3]) == [("INSERT", "upd"), ("INSERT", "del"), ("INSERT", "chk")]
    assert sorted(_events(records[3:6])) == sorted([
        ("INSERT", "new"), ("MODIFY", "upd"), ("REMOVE", "del")])
    assert _events(records[6:]) == [("INSERT", "marker")]
    by_key = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in records[3:6]}
    _check_images(by_key["upd"], "NEW_AND_OLD_IMAGES",
                  {"pk": S("upd"), "v": N(1)}, {"pk": S("upd"), "v": N(2)})


# --------------------------------------------------------------------------- errors


def test_get_records_malformed_iterator(streams, expect_error):
    expect_error(streams.get_records, "ValidationException",
                 ShardIterator="not-an-iterator-" + "x" * 48)


def test_get_records_limit_out_of_range(stream_table, streams, streams_unvalidated):
    name, arn = stream_table("KEYS_ONLY")
    iterator = _iterator(streams, arn, "LATEST")
    assert streams.get_records(ShardIterator=iterator, Limit=1000)["Records"] == []
    for limit in (0, -1):
        with pytest.raises(ClientError) as info:
            streams_unvalidated.get_records(ShardIterator=iterator, Limit=limit)
        assert error_code(info.value) == "ValidationException"
    # "The upper limit is 1000." DynamoDB answers ValidationException; the service model's
    # LimitExceededException also names "GetRecords was called with a value of more than
    # 1000 for the limit request parameter", so either is the documented answer.
    with pytest.raises(ClientError) as info:
        streams.get_records(ShardIterator=iterator, Limit=1001)
    assert error_code(info.value) in ("ValidationException", "LimitExceededException")


def test_get_shard_iterator_validation(dynamodb, stream_table, streams, expect_error):
    name, arn = stream_table("KEYS_ONLY")
    shard_id = _shards(streams, arn)[0]["ShardId"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        expect_error(streams.get_shard_iterator, "ValidationException",
                     StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind)
    expect_error(streams.get_shard_iterator, "ValidationException",
                 StreamArn=arn, ShardId=shard_id, ShardIteratorType="SOMEWHERE")
    # The shard's own starting number is a position even before its first record.
    start = _shards(streams, arn)[0]["SequenceNumberRange"]["StartingSequenceNumber"]
    at_start = _iterator(streams, arn, "AT_SEQUENCE_NUMBER", seq=start)
    _iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", seq=start)
    # ...but TRIM_HORIZON and LATEST take no sequence number.
    for kind in ("TRIM_HORIZON", "LATEST"):
        expect_error(streams.get_shard_iterator, "ValidationException", StreamArn=arn,
                     ShardId=shard_id, ShardIteratorType=kind, SequenceNumber=start)
    dynamodb.put_item(TableName=name, Item={"pk": S("first")})
    records = streams.get_records(ShardIterator=at_start)["Records"]
    assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": S("first")}]


def test_malformed_stream_arns_are_validation_errors(stream_table, streams, expect_error):
    name, arn = stream_table("KEYS_ONLY")
    shard_id = _shards(streams, arn)[0]["ShardId"]
    bogus = "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf"
    expect_error(streams.describe_stream, "ValidationException", StreamArn=bogus)
    expect_error(streams.get_shard_iterator, "ValidationException",
                 StreamArn=bogus, ShardId=shard_id, ShardIteratorType="LATEST")
    expect_error(streams.list_streams, "ValidationException",
                 TableName=name, ExclusiveStartStreamArn=bogus)


def test_get_shard_iterator_unknown_shard_or_stream(stream_table, streams, expect_error):
    name, arn = stream_table("KEYS_ONLY")
    shard_id = _shards(streams, arn)[0]["ShardId"]
    bogus_shard = "shardId-00000000000000000000-00000000"
    assert bogus_shard != shard_id
    expect_error(streams.get_shard_iterator, "ResourceNotFoundException",
                 StreamArn=arn, ShardId=bogus_shard, ShardIteratorType="TRIM_HORIZON")
    bogus_arn = arn.replace(f":table/{name}/", f":table/{unique_name('missing')}/")
    expect_error(streams.get_shard_iterator, "ResourceNotFoundException",
                 StreamArn=bogus_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")


# --------------------------------------------------------------------------- UpdateTable


def test_update_table_enables_a_stream(dynamodb, make_table, streams):
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": S("before")})
    dynamodb.update_table(TableName=name, StreamSpecification=_spec("NEW_IMAGE"))
    desc = wait_active(dynamodb, name)
    assert desc["StreamSpecification"] == _spec("NEW_IMAGE")
    label, arn = desc["LatestStreamLabel"], desc["LatestStreamArn"]
    assert re.fullmatch(LABEL_RE, label), label
    assert arn == desc["TableArn"] + "/stream/" + label
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]
    dynamodb.put_item(TableName=name, Item={"pk": S("after")})
    dynamodb.update_item(TableName=name, Key={"pk": S("before")}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": N(1)})
    records = _records(streams, arn)
    assert _events(records) == [("INSERT", "after"), ("MODIFY", "before")]
    _check_images(records[1], "NEW_IMAGE", None, {"pk": S("before"), "v": N(1)})


def test_update_table_stream_validation(dynamodb, make_table, stream_table, expect_error):
    name, arn = stream_table("KEYS_ONLY")
    # "You receive a ValidationException if you try to enable a stream on a table that
    # already has a stream, or if you try to disable a stream on a table that doesn't have
    # a stream."
    for view_type in ("KEYS_ONLY", "NEW_IMAGE"):
        expect_error(dynamodb.update_table, "ValidationException",
                     TableName=name, StreamSpecification=_spec(view_type))
    assert dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"] == arn
    plain = make_table()
    expect_error(dynamodb.update_table, "ValidationException",
                 TableName=plain, StreamSpecification={"StreamEnabled": False})
    expect_error(dynamodb.update_table, "ValidationException",
                 TableName=plain, StreamSpecification=_spec("EVERYTHING"))
    assert "LatestStreamArn" not in dynamodb.describe_table(TableName=plain)["Table"]


def test_disabled_stream_stays_readable(dynamodb, stream_table, streams):
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})
    dynamodb.put_item(TableName=name, Item={"pk": S("b")})
    early = _iterator(streams, arn)
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    table = wait_active(dynamodb, name)
    # The table has no enabled stream any more; the latest stream is still the old one.
    assert table.get("StreamSpecification", {"StreamEnabled": False})["StreamEnabled"] is False
    assert table.get("LatestStreamArn", arn) == arn
    dynamodb.put_item(TableName=name, Item={"pk": S("c")})
    desc = _wait_stream_status(streams, arn, "DISABLED")
    assert desc["StreamViewType"] == "KEYS_ONLY" and desc["TableName"] == name
    # "If you disable a stream, any shards that are open will be closed."
    records = _records(streams, arn)
    assert _events(records) == [("INSERT", "a"), ("INSERT", "b")]
    for shard in desc["Shards"]:
        span = shard["SequenceNumberRange"]
        assert span["EndingSequenceNumber"].isdecimal(), shard
        assert int(span["StartingSequenceNumber"]) <= int(span["EndingSequenceNumber"])
    span = desc["Shards"][0]["SequenceNumberRange"]
    assert int(span["StartingSequenceNumber"]) <= _seq(records[0])
    assert _seq(records[-1]) <= int(span["EndingSequenceNumber"])
    # An iterator from before the disabling reads the same records, then the closed shard
    # ends: NextShardIterator "If set to null, the shard has been closed".
    got, nxt = _drain(streams, early)
    assert _events(got) == [("INSERT", "a"), ("INSERT", "b")]
    assert nxt is None
    assert arn in [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]]


def test_reenabling_creates_a_new_stream(dynamodb, stream_table, streams):
    name, old_arn = stream_table("KEYS_ONLY")
    old_label = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamLabel"]
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    wait_active(dynamodb, name)
    _wait_stream_status(streams, old_arn, "DISABLED")
    dynamodb.update_table(TableName=name, StreamSpecification=_spec("NEW_IMAGE"))
    table = wait_active(dynamodb, name)
    assert table["StreamSpecification"] == _spec("NEW_IMAGE")
    new_arn, new_label = table["LatestStreamArn"], table["LatestStreamLabel"]
    assert new_arn != old_arn and new_label != old_label
    assert new_arn == table["TableArn"] + "/stream/" + new_label
    dynamodb.put_item(TableName=name, Item={"pk": S("b")})
    assert _events(_records(streams, old_arn)) == [("INSERT", "a")]
    records = _records(streams, new_arn)
    assert _events(records) == [("INSERT", "b")]
    _check_images(records[0], "NEW_IMAGE", None, {"pk": S("b")})
    listed = streams.list_streams(TableName=name)["Streams"]
    assert sorted(s["StreamArn"] for s in listed) == sorted([old_arn, new_arn])
    assert {s["StreamArn"]: s["StreamLabel"] for s in listed} == {
        old_arn: old_label, new_arn: new_label}
    assert streams.describe_stream(StreamArn=old_arn)["StreamDescription"][
        "StreamStatus"] == "DISABLED"
    new = streams.describe_stream(StreamArn=new_arn)["StreamDescription"]
    assert new["StreamStatus"] == "ENABLED" and new["StreamViewType"] == "NEW_IMAGE"


def test_deleting_the_table_disables_its_stream(dynamodb, stream_table, streams):
    # DeleteTable: "the corresponding stream on that table goes into the DISABLED state,
    # and the stream is automatically deleted after 24 hours."
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})
    dynamodb.delete_table(TableName=name)
    desc = _wait_stream_status(streams, arn, "DISABLED")
    assert "EndingSequenceNumber" in desc["Shards"][0]["SequenceNumberRange"]
    assert _events(_records(streams, arn)) == [("INSERT", "a")]


# --------------------------------------------------------------------------- boto3 resource


def test_resource_table_writes_read_back(dynamodb_resource, stream_table, streams):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    table = dynamodb_resource.Table(name)
    assert table.latest_stream_arn == arn
    assert table.stream_specification == _spec("NEW_AND_OLD_IMAGES")
    table.put_item(Item={"pk": "r1", "n": Decimal(1), "tags": {"a", "b"}})
    table.update_item(Key={"pk": "r1"}, UpdateExpression="SET n = n + :one",
                      ExpressionAttributeValues={":one": 1})
    with table.batch_writer() as batch:
        batch.put_item(Item={"pk": "r2", "nested": {"l": [1, "x"]}})
        batch.delete_item(Key={"pk": "r1"})
    records = _records(streams, arn)
    assert _events(records[:2]) == [("INSERT", "r1"), ("MODIFY", "r1")]
    assert sorted(_events(records[2:])) == [("INSERT", "r2"), ("REMOVE", "r1")]
    des = TypeDeserializer()

    def image(record, which):
        return {k: des.deserialize(v) for k, v in record["dynamodb"][which].items()}

    assert image(records[1], "OldImage") == {"pk": "r1", "n": 1, "tags": {"a", "b"}}
    assert image(records[1], "NewImage") == {"pk": "r1", "n": 2, "tags": {"a", "b"}}
    by_key = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in records[2:]}
    assert image(by_key["r2"], "NewImage") == {"pk": "r2", "nested": {"l": [1, "x"]}}
    assert image(by_key["r1"], "OldImage") == {"pk": "r1", "n": 2, "tags": {"a", "b"}}
    assert "NewImage" not in by_key["r1"]["dynamodb"]


# --------------------------------------------------------------------------- metering


def _usage(server):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import requests

    creds = botocore.credentials.Credentials(server.access_key, server.secret_key)
    req = botocore.awsrequest.AWSRequest(method="GET", url=server.endpoint + "/_nimbus/usage")
    botocore.auth.SigV4Auth(creds, "nimbus", server.region).add_auth(req)
    prepared = req.prepare()
    return requests.get(prepared.url, headers=dict(prepared.headers), timeout=10).json()


def test_get_records_is_metered_in_stream_read_units(nimbus_server, dynamodb, stream_table,
                                                     streams):
    # "Each GetRecords API call is billed as a streams read request unit": apart from the
    # table's own read and write units.
    name, arn = stream_table("KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"pk": S("a")})
    before = _usage(nimbus_server)["tables"].get(name, {}).get("stream_read_units", 0.0)
    iterator = _iterator(streams, arn)
    for _ in range(3):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    usage = _usage(nimbus_server)["tables"][name]
    assert usage["stream_read_units"] == before + 3
    assert usage["write_units"] >= 1.0
