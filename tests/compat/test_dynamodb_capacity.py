"""ReturnConsumedCapacity: TOTAL, INDEXES, NONE, with DynamoDB's unit rules.

Sources: developer guide "Read/write capacity mode" and "Item sizes and
formats": one read unit per 4 KB (strongly consistent), half for eventually
consistent reads, one write unit per 1 KB, sizes rounded up; GetItem of a
missing item still consumes; Query and Scan sum the sizes of all items read
and round once per request; BatchGetItem rounds each item separately;
UpdateItem charges the larger of the before and after sizes; API Reference
ConsumedCapacity.

Sizes here use only string attributes so that item sizes are exact:
size = sum(len(name) + len(value)) in UTF-8 bytes.
"""

import pytest

KB = 1024


def item_of(pk, size, sk=None):
    """An item of exactly `size` bytes."""
    item = {"pk": {"S": pk}}
    used = 2 + len(pk)
    if sk is not None:
        item["sk"] = {"S": sk}
        used += 2 + len(sk)
    fill = size - used - 1  # attribute name "d"
    assert fill >= 0
    item["d"] = {"S": "x" * fill}
    return item


@pytest.fixture
def table(make_table):
    return make_table(hash=("pk", "S"))


@pytest.fixture
def table_hr(make_table):
    return make_table(hash=("pk", "S"), range=("sk", "S"))


def units(resp):
    cc = resp["ConsumedCapacity"]
    return cc["CapacityUnits"]


def test_none_and_default_omit_consumed_capacity(dynamodb, table):
    assert "ConsumedCapacity" not in dynamodb.put_item(TableName=table, Item=item_of("a", 10))
    assert "ConsumedCapacity" not in dynamodb.put_item(TableName=table, Item=item_of("a", 10),
                                                       ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}},
                                                       ReturnConsumedCapacity="NONE")


@pytest.mark.parametrize("size,expected", [(3 + 1, 1.0), (KB, 1.0), (KB + 1, 2.0), (2 * KB, 2.0),
                                           (10 * KB + 1, 11.0)])
def test_put_item_write_units(dynamodb, table, size, expected):
    resp = dynamodb.put_item(TableName=table, Item=item_of("a", size), ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["TableName"] == table
    assert units(resp) == expected


@pytest.mark.parametrize(
    "size,consistent,expected",
    [(100, False, 0.5), (100, True, 1.0), (4 * KB, True, 1.0), (4 * KB + 1, True, 2.0),
     (4 * KB + 1, False, 1.0), (9 * KB, True, 3.0), (9 * KB, False, 1.5)],
)
def test_get_item_read_units(dynamodb, table, size, consistent, expected):
    dynamodb.put_item(TableName=table, Item=item_of("a", size))
    resp = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=consistent,
                             ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["TableName"] == table
    assert units(resp) == expected


def test_get_missing_item_still_consumes(dynamodb, table):
    resp = dynamodb.get_item(TableName=table, Key={"pk": {"S": "none"}}, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 0.5
    resp = dynamodb.get_item(TableName=table, Key={"pk": {"S": "none"}}, ConsistentRead=True,
                             ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 1.0


def test_projection_does_not_reduce_read_units(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=item_of("a", 9 * KB))
    resp = dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ProjectionExpression="pk",
                             ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 3.0


def test_update_item_charges_larger_of_before_and_after(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=item_of("a", 3 * KB))
    resp = dynamodb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="REMOVE d",
                                ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 3.0
    resp = dynamodb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET d = :v",
                                ExpressionAttributeValues={":v": {"S": "x" * (2 * KB)}},
                                ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 3.0  # 3 + 1 + 2048 bytes -> 3 KB


def test_delete_item_units(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=item_of("a", 2 * KB + 5))
    resp = dynamodb.delete_item(TableName=table, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 3.0
    resp = dynamodb.delete_item(TableName=table, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 1.0  # deleting a missing item still costs one unit


def test_put_overwrite_charges_larger_item(dynamodb, table):
    dynamodb.put_item(TableName=table, Item=item_of("a", 3 * KB))
    resp = dynamodb.put_item(TableName=table, Item=item_of("a", 100), ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 3.0


def test_indexes_mode_reports_table(dynamodb, table):
    resp = dynamodb.put_item(TableName=table, Item=item_of("a", 2 * KB), ReturnConsumedCapacity="INDEXES")
    cc = resp["ConsumedCapacity"]
    assert cc["TableName"] == table
    assert cc["CapacityUnits"] == 2.0
    assert cc["Table"]["CapacityUnits"] == 2.0


@pytest.fixture
def indexed(make_table):
    return make_table(
        hash=("pk", "S"), range=("sk", "S"),
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "color", "rank")],
        GlobalSecondaryIndexes=[{
            "IndexName": "byColor",
            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "byRank",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "rank", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )


def test_indexes_mode_lists_each_index_a_write_touched(dynamodb, indexed):
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    both = {**key, "color": {"S": "red"}, "rank": {"S": "r1"}}
    cc = dynamodb.put_item(TableName=indexed, Item=both,
                           ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 3.0
    assert cc["Table"] == {"CapacityUnits": 1.0}
    assert cc["GlobalSecondaryIndexes"] == {"byColor": {"CapacityUnits": 1.0}}
    assert cc["LocalSecondaryIndexes"] == {"byRank": {"CapacityUnits": 1.0}}
    # TOTAL gives the same sum without the breakdown.
    cc = dynamodb.put_item(TableName=indexed, Item=both,
                           ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert cc == {"TableName": indexed, "CapacityUnits": 1.0}
    # A new GSI key: the old entry is deleted and the new one written, one unit each; the
    # local index's entry is unchanged, so it is not listed.
    cc = dynamodb.update_item(TableName=indexed, Key=key, UpdateExpression="SET color = :c",
                              ExpressionAttributeValues={":c": {"S": "blue"}},
                              ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 3.0
    assert cc["Table"] == {"CapacityUnits": 1.0}
    assert cc["GlobalSecondaryIndexes"] == {"byColor": {"CapacityUnits": 2.0}}
    assert "LocalSecondaryIndexes" not in cc
    # An item outside both indexes touches neither.
    cc = dynamodb.put_item(TableName=indexed, Item={"pk": {"S": "b"}, "sk": {"S": "1"}},
                           ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 1.0 and cc["Table"] == {"CapacityUnits": 1.0}
    assert "GlobalSecondaryIndexes" not in cc and "LocalSecondaryIndexes" not in cc
    # Deleting the item removes both its entries.
    cc = dynamodb.delete_item(TableName=indexed, Key=key,
                              ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 3.0
    assert cc["GlobalSecondaryIndexes"] == {"byColor": {"CapacityUnits": 1.0}}
    assert cc["LocalSecondaryIndexes"] == {"byRank": {"CapacityUnits": 1.0}}


def test_indexes_mode_in_batches_and_transactions(dynamodb, indexed):
    item = lambda sk: {"pk": {"S": "a"}, "sk": {"S": sk}, "color": {"S": "red"}}
    out = dynamodb.batch_write_item(
        RequestItems={indexed: [{"PutRequest": {"Item": item(s)}} for s in ("1", "2")]},
        ReturnConsumedCapacity="INDEXES")
    [cc] = out["ConsumedCapacity"]
    assert cc["TableName"] == indexed and cc["CapacityUnits"] == 4.0
    assert cc["Table"] == {"CapacityUnits": 2.0}
    assert cc["GlobalSecondaryIndexes"] == {"byColor": {"CapacityUnits": 2.0}}
    assert "LocalSecondaryIndexes" not in cc
    # A transaction counts every write twice, on the indexes too.
    out = dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": indexed, "Item": item("3")}}],
        ReturnConsumedCapacity="INDEXES")
    [cc] = out["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 4.0
    assert cc["Table"]["CapacityUnits"] == 2.0
    assert cc["GlobalSecondaryIndexes"]["byColor"]["CapacityUnits"] == 2.0


def test_a_local_index_read_fetches_from_the_table_only_what_it_lacks(dynamodb, indexed):
    dynamodb.put_item(TableName=indexed, Item={"pk": {"S": "a"}, "sk": {"S": "1"},
                                               "rank": {"S": "r1"}, "note": {"S": "x"}})
    query = dict(TableName=indexed, IndexName="byRank",
                 KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                 ReturnConsumedCapacity="INDEXES")
    # The index's own attributes: read from the index alone.
    cc = dynamodb.query(ProjectionExpression="#r, sk", ExpressionAttributeNames={"#r": "rank"},
                        **query)["ConsumedCapacity"]
    assert cc["LocalSecondaryIndexes"] == {"byRank": {"CapacityUnits": 0.5}}
    assert cc.get("Table", {}).get("CapacityUnits", 0.0) == 0.0
    # An attribute the index does not carry: each item is fetched from the table too.
    out = dynamodb.query(ProjectionExpression="note", **query)
    assert out["Items"] == [{"note": {"S": "x"}}]
    assert out["ConsumedCapacity"]["Table"]["CapacityUnits"] == 0.5
    # Each fetch is charged on its own, rounded up as a GetItem is: three small items cost
    # three half units, where their bytes together would round to one.
    for sk in ("2", "3"):
        dynamodb.put_item(TableName=indexed, Item={"pk": {"S": "a"}, "sk": {"S": sk},
                                                   "rank": {"S": "r" + sk}, "note": {"S": "y"}})
    out = dynamodb.query(ProjectionExpression="note", **query)
    assert len(out["Items"]) == 3
    assert out["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.5
    assert dynamodb.query(ProjectionExpression="note", Limit=1, **query)[
        "ConsumedCapacity"]["Table"]["CapacityUnits"] == 0.5


def test_single_item_operations_report_no_read_write_split(dynamodb, table):
    # DynamoDB reports ReadCapacityUnits / WriteCapacityUnits only for transactions; item
    # operations, Query and Scan give the aggregate CapacityUnits alone, in both modes.
    key = {"pk": {"S": "a"}}
    for mode in ("TOTAL", "INDEXES"):
        for resp in (
            dynamodb.put_item(TableName=table, Item=item_of("a", 10), ReturnConsumedCapacity=mode),
            dynamodb.get_item(TableName=table, Key=key, ReturnConsumedCapacity=mode),
            dynamodb.scan(TableName=table, ReturnConsumedCapacity=mode),
            dynamodb.delete_item(TableName=table, Key=key, ReturnConsumedCapacity=mode),
        ):
            cc = resp["ConsumedCapacity"]
            assert "ReadCapacityUnits" not in cc and "WriteCapacityUnits" not in cc
            assert ("Table" in cc) == (mode == "INDEXES")


def _fill_partition(dynamodb, table, n, size):
    for i in range(n):
        dynamodb.put_item(TableName=table, Item=item_of("q", size, sk=f"{i:02d}"))


def test_query_sums_then_rounds(dynamodb, table_hr):
    _fill_partition(dynamodb, table_hr, 10, KB)  # 10 KB read in total
    resp = dynamodb.query(TableName=table_hr, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "q"}},
                          ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert resp["Count"] == 10
    assert units(resp) == 3.0
    resp = dynamodb.query(TableName=table_hr, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "q"}}, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 1.5


def test_query_filter_does_not_reduce_units(dynamodb, table_hr):
    _fill_partition(dynamodb, table_hr, 8, KB)  # 8 KB
    resp = dynamodb.query(TableName=table_hr, KeyConditionExpression="pk = :p",
                          FilterExpression="attribute_not_exists(d)",
                          ExpressionAttributeValues={":p": {"S": "q"}},
                          ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert resp["Count"] == 0
    assert units(resp) == 2.0


def test_query_small_result_minimum(dynamodb, table_hr):
    _fill_partition(dynamodb, table_hr, 2, 10)
    resp = dynamodb.query(TableName=table_hr, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "q"}}, ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 0.5
    resp = dynamodb.query(TableName=table_hr, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "nobody"}},
                          ReturnConsumedCapacity="TOTAL")
    assert units(resp) == 0.5


def test_scan_units(dynamodb, table):
    for i in range(6):
        dynamodb.put_item(TableName=table, Item=item_of(f"s{i}", 2 * KB))  # 12 KB
    resp = dynamodb.scan(TableName=table, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert units(resp) == 3.0
    resp = dynamodb.scan(TableName=table, ReturnConsumedCapacity="TOTAL", Select="COUNT")
    assert units(resp) == 1.5


def test_batch_get_rounds_each_item(dynamodb, table):
    for i in range(3):
        dynamodb.put_item(TableName=table, Item=item_of(f"b{i}", KB))
    resp = dynamodb.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": {"S": f"b{i}"}} for i in range(3)]}},
        ReturnConsumedCapacity="TOTAL")
    caps = resp["ConsumedCapacity"]
    assert isinstance(caps, list) and len(caps) == 1
    assert caps[0]["TableName"] == table
    assert caps[0]["CapacityUnits"] == 1.5
    resp = dynamodb.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": {"S": f"b{i}"}} for i in range(3)], "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"][0]["CapacityUnits"] == 3.0


def test_batch_write_units_per_table(dynamodb, table, table_hr):
    resp = dynamodb.batch_write_item(RequestItems={
        table: [{"PutRequest": {"Item": item_of("w1", KB + 1)}},
                {"PutRequest": {"Item": item_of("w2", 10)}}],
        table_hr: [{"PutRequest": {"Item": item_of("w", 10, sk="s")}}],
    }, ReturnConsumedCapacity="TOTAL")
    caps = {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}
    assert caps == {table: 3.0, table_hr: 1.0}


def test_batch_none_omits(dynamodb, table):
    resp = dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item_of("z", 10)}}]})
    assert "ConsumedCapacity" not in resp


def test_item_collection_metrics_on_tables_with_a_local_index(dynamodb, indexed, table_hr):
    # Asked with SIZE, a write to a table with a local secondary index reports its item
    # collection: the partition key and a size estimate in GB (lower and upper bound).
    item = {"pk": {"S": "coll"}, "sk": {"S": "1"}, "rank": {"S": "r"}}
    want = {"ItemCollectionKey": {"pk": {"S": "coll"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    out = dynamodb.put_item(TableName=indexed, Item=item, ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == want
    out = dynamodb.update_item(TableName=indexed, Key={"pk": {"S": "coll"}, "sk": {"S": "1"}},
                               UpdateExpression="SET n = :n",
                               ExpressionAttributeValues={":n": {"N": "1"}},
                               ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == want
    out = dynamodb.batch_write_item(
        RequestItems={indexed: [{"PutRequest": {"Item": {**item, "sk": {"S": "2"}}}}],
                      table_hr: [{"PutRequest": {"Item": {"pk": {"S": "x"}, "sk": {"S": "y"}}}}]},
        ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == {indexed: [want]}
    out = dynamodb.delete_item(TableName=indexed, Key={"pk": {"S": "coll"}, "sk": {"S": "1"}},
                               ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == want
    # A transaction reports the collections it wrote to, per table; a check writes none.
    other = {"ItemCollectionKey": {"pk": {"S": "coll2"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    out = dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": indexed, "Item": {**item, "sk": {"S": "3"}}}},
        {"Put": {"TableName": indexed, "Item": {**item, "pk": {"S": "coll2"}}}},
        {"ConditionCheck": {"TableName": indexed, "Key": {"pk": {"S": "coll3"}, "sk": {"S": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": table_hr, "Item": {"pk": {"S": "x"}, "sk": {"S": "t"}}}},
    ], ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == {indexed: [want, other]}
    # Not asked, or no local index: no metrics.
    out = dynamodb.put_item(TableName=indexed, Item=item, ReturnItemCollectionMetrics="NONE")
    assert "ItemCollectionMetrics" not in out
    out = dynamodb.put_item(TableName=table_hr, Item={"pk": {"S": "x"}, "sk": {"S": "z"}},
                            ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in out
