"""Secondary indexes: global and local, declared at CreateTable, read with Query and Scan.

Sources: DynamoDB API Reference (CreateTable, GlobalSecondaryIndex, LocalSecondaryIndex,
Projection, Query and Scan with IndexName, GlobalSecondaryIndexDescription) and the developer
guide ("Using Global Secondary Indexes", "Local Secondary Indexes"): indexes are sparse (an item
without the index key is not in it), keep the projected attributes, are kept up to date by
every write, refuse strongly consistent reads when global, and answer a local index query for
attributes it does not project by fetching them from the table.
"""

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from conftest import N, S, error_code, error_message, unique_name


@pytest.fixture
def orders(dynamodb):
    name = unique_name("orders")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "created", "AttributeType": "N"},
            {"AttributeName": "price", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "byStatus",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                          {"AttributeName": "created", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "byPrice",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "price", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )
    yield name
    deleted = dynamodb.delete_table(TableName=name)["TableDescription"]
    # DeleteTable's answer leaves the indexes out, as it does the key schema.
    for absent in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "KeySchema"):
        assert absent not in deleted, absent


def _order(pk, sk, **attrs):
    item = {"pk": S(pk), "sk": S(sk)}
    for k, v in attrs.items():
        item[k] = N(v) if isinstance(v, int) else S(v)
    return item


def _query_all(dynamodb, **params):
    items, pages = [], 0
    while True:
        out = dynamodb.query(**params)
        items += out["Items"]
        pages += 1
        if "LastEvaluatedKey" not in out:
            return items, pages
        params["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def test_describe_shows_the_indexes(dynamodb, orders):
    table = dynamodb.describe_table(TableName=orders)["Table"]
    [gsi] = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "byStatus"
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
    assert gsi["KeySchema"] == [{"AttributeName": "status", "KeyType": "HASH"},
                                {"AttributeName": "created", "KeyType": "RANGE"}]
    assert gsi["IndexArn"] == table["TableArn"] + "/index/byStatus"
    [lsi] = table["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "byPrice" and "IndexStatus" not in lsi
    assert lsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_global_index_query_is_sparse_projected_and_kept_up_to_date(dynamodb, orders):
    dynamodb.put_item(TableName=orders, Item=_order("c1", "o1", status="open", created=3,
                                                    title="three", note="n", price=30))
    dynamodb.put_item(TableName=orders, Item=_order("c1", "o2", status="open", created=1,
                                                    title="one", price=10))
    dynamodb.put_item(TableName=orders, Item=_order("c2", "o1", status="shipped", created=2,
                                                    title="two", price=20))
    dynamodb.put_item(TableName=orders, Item=_order("c3", "o1", title="no status"))
    out = dynamodb.query(TableName=orders, IndexName="byStatus",
                         KeyConditionExpression="#s = :s",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": S("open")})
    # Ordered by the index sort key; only the keys and the included attribute.
    assert out["Items"] == [
        {"pk": S("c1"), "sk": S("o2"), "status": S("open"), "created": N(1), "title": S("one")},
        {"pk": S("c1"), "sk": S("o1"), "status": S("open"), "created": N(3),
         "title": S("three")},
    ]
    # Moving an item to another status moves its entry; deleting removes it.
    dynamodb.update_item(TableName=orders, Key={"pk": S("c1"), "sk": S("o1")},
                         UpdateExpression="SET #s = :t",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":t": S("shipped")})
    dynamodb.delete_item(TableName=orders, Key={"pk": S("c1"), "sk": S("o2")})
    shipped = dynamodb.query(TableName=orders, IndexName="byStatus",
                             KeyConditionExpression="#s = :s AND created > :c",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": S("shipped"), ":c": N(1)},
                             ScanIndexForward=False)
    assert [i["title"]["S"] for i in shipped["Items"]] == ["three", "two"]
    opened = dynamodb.query(TableName=orders, IndexName="byStatus",
                            KeyConditionExpression="#s = :s",
                            ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":s": S("open")})
    assert opened["Items"] == []
    # Scan of the index: only the items that have its keys.
    scanned = dynamodb.scan(TableName=orders, IndexName="byStatus")
    assert sorted(i["title"]["S"] for i in scanned["Items"]) == ["three", "two"]
    gsi = dynamodb.describe_table(TableName=orders)["Table"]["GlobalSecondaryIndexes"][0]
    assert gsi["ItemCount"] == 2


def test_index_writes_consume_capacity(dynamodb, orders):
    key = {"pk": S("c9"), "sk": S("o1")}

    def units(out):
        return out["ConsumedCapacity"]["CapacityUnits"]

    # The table, the global index (it has status and created) and the local one (price).
    put = dynamodb.put_item(TableName=orders, ReturnConsumedCapacity="TOTAL",
                            Item=_order("c9", "o1", status="open", created=1, price=5))
    assert units(put) == 3.0
    # A change of an attribute no index projects writes the table only.
    note = dynamodb.update_item(TableName=orders, Key=key, ReturnConsumedCapacity="TOTAL",
                                UpdateExpression="SET note = :n",
                                ExpressionAttributeValues={":n": S("x")})
    assert units(note) == 1.0
    # A new global index key: its old entry is deleted and a new one written.
    moved = dynamodb.update_item(TableName=orders, Key=key, ReturnConsumedCapacity="TOTAL",
                                 UpdateExpression="SET #s = :s",
                                 ExpressionAttributeNames={"#s": "status"},
                                 ExpressionAttributeValues={":s": S("shipped")})
    assert units(moved) == 3.0


def test_pages_of_an_index_with_equal_sort_keys(dynamodb, orders):
    for i in range(7):
        dynamodb.put_item(TableName=orders, Item=_order(f"c{i % 3}", f"o{i}", status="open",
                                                        created=5, title=f"t{i}"))
    items, pages = _query_all(dynamodb, TableName=orders, IndexName="byStatus", Limit=2,
                              KeyConditionExpression="#s = :s AND created = :c",
                              ExpressionAttributeNames={"#s": "status"},
                              ExpressionAttributeValues={":s": S("open"), ":c": N(5)})
    assert sorted(i["title"]["S"] for i in items) == [f"t{i}" for i in range(7)]
    assert pages == 4
    first = dynamodb.query(TableName=orders, IndexName="byStatus", Limit=1,
                           KeyConditionExpression="#s = :s",
                           ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": S("open")})
    assert set(first["LastEvaluatedKey"]) == {"status", "created", "pk", "sk"}


def test_local_index_fetches_what_it_does_not_project(dynamodb, dynamodb_resource, orders):
    for sk, price in [("a", 30), ("b", 10), ("c", 20)]:
        dynamodb.put_item(TableName=orders, Item=_order("c1", sk, price=price, title=sk,
                                                        status="open", created=1))
    keys_only = dynamodb.query(TableName=orders, IndexName="byPrice",
                               KeyConditionExpression="pk = :p AND price >= :min",
                               ExpressionAttributeValues={":p": S("c1"), ":min": N(15)},
                               ConsistentRead=True)
    assert keys_only["Items"] == [
        {"pk": S("c1"), "sk": S("c"), "price": N(20)},
        {"pk": S("c1"), "sk": S("a"), "price": N(30)},
    ]
    table = dynamodb_resource.Table(orders)
    full = table.query(IndexName="byPrice", Select="ALL_ATTRIBUTES",
                       KeyConditionExpression=Key("pk").eq("c1") & Key("price").lt(25))
    assert [(i["sk"], i["title"]) for i in full["Items"]] == [("b", "b"), ("c", "c")]
    titles = table.query(IndexName="byPrice", ProjectionExpression="title",
                         KeyConditionExpression=Key("pk").eq("c1"))
    assert titles["Items"] == [{"title": "b"}, {"title": "c"}, {"title": "a"}]
    # A filter may not use what the index does not project, even when the read fetches
    # whole items; the table's sort key, projected into every index, is allowed.
    for select in ({}, {"Select": "ALL_ATTRIBUTES"}):
        with pytest.raises(ClientError) as info:
            dynamodb.query(TableName=orders, IndexName="byPrice",
                           KeyConditionExpression="pk = :p", FilterExpression="title = :t",
                           ExpressionAttributeValues={":p": S("c1"), ":t": S("a")}, **select)
        assert error_code(info.value) == "ValidationException"
        assert "byPrice does not project" in error_message(info.value)
    by_sk = dynamodb.query(TableName=orders, IndexName="byPrice",
                           KeyConditionExpression="pk = :p", FilterExpression="sk = :s",
                           ExpressionAttributeValues={":p": S("c1"), ":s": S("a")})
    assert [i["sk"] for i in by_sk["Items"]] == [S("a")]


def test_index_read_rules(dynamodb, orders, expect_error):
    query = dict(TableName=orders, IndexName="byStatus", KeyConditionExpression="#s = :s",
                 ExpressionAttributeNames={"#s": "status"},
                 ExpressionAttributeValues={":s": S("open")})
    expect_error(dynamodb.query, "ValidationException",
                 "Consistent reads are not supported on global secondary indexes",
                 ConsistentRead=True, **query)
    expect_error(dynamodb.query, "ValidationException",
                 contains="Select type ALL_ATTRIBUTES is not supported for global secondary "
                          "index byStatus", Select="ALL_ATTRIBUTES", **query)
    expect_error(dynamodb.query, "ValidationException",
                 "The table does not have the specified index: nope",
                 **{**query, "IndexName": "nope"})
    dynamodb.query(Select="ALL_PROJECTED_ATTRIBUTES", **query)


def test_writes_check_index_key_types(dynamodb, orders, expect_error):
    expect_error(dynamodb.put_item, "ValidationException",
                 contains="Type mismatch for Index Key status Expected: S Actual: N "
                          "IndexName: byStatus",
                 TableName=orders, Item=_order("c1", "x", status=5))
    expect_error(dynamodb.put_item, "ValidationException",
                 contains="A value specified for a secondary index key is not supported",
                 TableName=orders, Item=_order("c1", "x", status=""))
    # An index partition key has a table key's size limit, 2048 bytes; the item is not
    # written. A key of 64 KB is refused the same way, and the table keeps taking writes.
    dynamodb.put_item(TableName=orders, Item=_order("c1", "big", status="s" * 2048))
    for size in (2049, 65536):
        expect_error(dynamodb.put_item, "ValidationException", contains="2048",
                     TableName=orders, Item=_order("c1", "too-big", status="s" * size))
        assert "Item" not in dynamodb.get_item(TableName=orders,
                                               Key={"pk": S("c1"), "sk": S("too-big")})
    dynamodb.put_item(TableName=orders, Item=_order("c1", "after", status="fine"))
    # Batches and transactions keep the indexes too.
    dynamodb.batch_write_item(RequestItems={orders: [
        {"PutRequest": {"Item": _order("b1", "o", status="batched", created=1)}}]})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": orders, "Item": _order("t1", "o", status="batched", created=2)}}])
    out = dynamodb.query(TableName=orders, IndexName="byStatus",
                         KeyConditionExpression="#s = :s",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": S("batched")})
    assert [i["pk"]["S"] for i in out["Items"]] == ["b1", "t1"]


def test_index_sort_key_limit_and_values_kept_from_before_the_index(dynamodb, make_table,
                                                                    expect_error):
    table = make_table()
    # Written before the index exists: "g" of the wrong type, and a sort key too long for it.
    dynamodb.put_item(TableName=table, Item={"pk": S("typed"), "g": N(1), "s": S("a")})
    dynamodb.put_item(TableName=table, Item={"pk": S("long"), "g": S("x"), "s": S("a" * 1025)})
    dynamodb.put_item(TableName=table, Item={"pk": S("fits"), "g": S("x"), "s": S("a" * 1024)})
    dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "s", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byG",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "s", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}])
    # The index leaves out the items it cannot hold.
    found, _ = _query_all(dynamodb, TableName=table, IndexName="byG",
                          KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": S("x")})
    assert [i["pk"] for i in found] == [S("fits")]
    # A sort key over 1024 bytes is refused on writes.
    expect_error(dynamodb.put_item, "ValidationException", contains="1024",
                 TableName=table, Item={"pk": S("new"), "g": S("x"), "s": S("a" * 1025)})
    # An update that keeps an index key of the wrong type cannot be indexed either.
    expect_error(dynamodb.update_item, "ValidationException",
                 "The update expression attempted to update the secondary index key to "
                 "unsupported type", TableName=table, Key={"pk": S("typed")},
                 UpdateExpression="SET note = :v", ExpressionAttributeValues={":v": N(2)})
    # So does one that copies a wrong-typed value from another attribute into an index key.
    dynamodb.put_item(TableName=table, Item={"pk": S("copy"), "n": N(5)})
    expect_error(dynamodb.update_item, "ValidationException",
                 "The update expression attempted to update the secondary index key to "
                 "unsupported type", TableName=table, Key={"pk": S("copy")},
                 UpdateExpression="SET g = n")
    # Replacing the value makes the item writable again.
    dynamodb.update_item(TableName=table, Key={"pk": S("typed")}, UpdateExpression="SET g = :g",
                         ExpressionAttributeValues={":g": S("y")})


def test_create_table_index_validation(dynamodb):
    base = dict(BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    lsi = [{"IndexName": "lsi1",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "x", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"},
             {"AttributeName": "x", "AttributeType": "S"}]
    cases = [
        (dict(AttributeDefinitions=attrs, LocalSecondaryIndexes=lsi),
         "Table KeySchema does not have a range key"),
        # Checked before the index's attributes are looked for in the definitions.
        (dict(AttributeDefinitions=attrs[:1], LocalSecondaryIndexes=lsi),
         "Table KeySchema does not have a range key"),
        (dict(AttributeDefinitions=attrs),
         "Number of attributes in KeySchema does not exactly match"),
        (dict(AttributeDefinitions=attrs, GlobalSecondaryIndexes=[
            {"IndexName": "gsi", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["y"]}}]),
         "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"),
        (dict(AttributeDefinitions=attrs, GlobalSecondaryIndexes=[
            {"IndexName": "gsi", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}}] * 2),
         "Duplicate index name: gsi"),
    ]
    for params, message in cases:
        with pytest.raises(ClientError) as info:
            dynamodb.create_table(TableName=unique_name("bad"), **base, **params)
        assert error_code(info.value) == "ValidationException"
        assert message in error_message(info.value), error_message(info.value)
    with pytest.raises(ClientError) as info:
        dynamodb.create_table(
            TableName=unique_name("bad"), AttributeDefinitions=attrs,
            KeySchema=base["KeySchema"],
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            GlobalSecondaryIndexes=[
                {"IndexName": "gsi", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}}])
    assert "ProvisionedThroughput must be specified for index: gsi" in error_message(info.value)
    # INCLUDE names the attributes it adds, each once.
    for non_key, expected in (([], "NonKeyAttributes"), (["a", "a"], "Duplicate")):
        projection = {"ProjectionType": "INCLUDE"}
        if non_key:
            projection["NonKeyAttributes"] = non_key
        with pytest.raises(ClientError) as info:
            dynamodb.create_table(
                TableName=unique_name("bad"), AttributeDefinitions=attrs,
                KeySchema=base["KeySchema"], BillingMode="PAY_PER_REQUEST",
                GlobalSecondaryIndexes=[
                    {"IndexName": "gsi", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                     "Projection": projection}])
        assert error_code(info.value) == "ValidationException"
        assert expected in error_message(info.value)


def test_global_index_added_to_and_removed_from_a_table(dynamodb, make_table, expect_error):
    table = make_table(range=("sk", "S"))
    for i in range(150):
        item = {"pk": S(f"p{i % 4}"), "sk": S(f"s{i:03}")}
        if i % 3:
            item["color"] = S("red" if i % 2 else "blue")
        dynamodb.put_item(TableName=table, Item=item)
    out = dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byColor",
            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    )
    [gsi] = out["TableDescription"]["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "byColor" and gsi["ItemCount"] == 100
    red, _ = _query_all(dynamodb, TableName=table, IndexName="byColor",
                        KeyConditionExpression="color = :c",
                        ExpressionAttributeValues={":c": S("red")})
    assert len(red) == 50 and all(set(i) == {"pk", "sk", "color"} for i in red)
    # Writes after the index was added keep it.
    dynamodb.put_item(TableName=table, Item={"pk": S("new"), "sk": S("x"), "color": S("red")})
    assert len(_query_all(dynamodb, TableName=table, IndexName="byColor",
                          KeyConditionExpression="color = :c",
                          ExpressionAttributeValues={":c": S("red")})[0]) == 51
    dynamodb.update_table(TableName=table,
                          GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byColor"}}])
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert "GlobalSecondaryIndexes" not in described
    assert {d["AttributeName"] for d in described["AttributeDefinitions"]} == {"pk", "sk"}
    expect_error(dynamodb.query, "ValidationException",
                 "The table does not have the specified index: byColor",
                 TableName=table, IndexName="byColor", KeyConditionExpression="color = :c",
                 ExpressionAttributeValues={":c": S("red")})


def test_index_read_checks_and_capacity(dynamodb, ddb_raw, orders, expect_error):
    dynamodb.put_item(TableName=orders, Item=_order("c1", "o1", status="open", created=1,
                                                    price=3))
    query = dict(TableName=orders, IndexName="byStatus", KeyConditionExpression="#s = :s",
                 ExpressionAttributeNames={"#s": "status"},
                 ExpressionAttributeValues={":s": S("open")})
    # Units of an index read are the index's.
    out = dynamodb.query(ReturnConsumedCapacity="INDEXES", **query)
    capacity = out["ConsumedCapacity"]
    assert capacity["CapacityUnits"] == 0.5
    assert capacity["Table"] == {"CapacityUnits": 0.0}
    assert capacity["GlobalSecondaryIndexes"] == {"byStatus": {"CapacityUnits": 0.5}}
    # A starting key must be exactly the index and table keys, with their types.
    good = {"status": S("open"), "created": N(1), "pk": S("c1"), "sk": S("o1")}
    dynamodb.query(ExclusiveStartKey=good, **query)
    expect_error(dynamodb.query, "ValidationException", "The provided starting key is invalid",
                 ExclusiveStartKey={**good, "extra": S("x")}, **query)
    expect_error(dynamodb.query, "ValidationException",
                 "The provided starting key is invalid: The provided key element does not "
                 "match the schema", ExclusiveStartKey={**good, "sk": N(1)}, **query)
    # An index name is checked like any name before anything is looked up.
    response = ddb_raw.call("Query", {"TableName": orders, "IndexName": ""})
    message = response.json()["message"]
    assert message.startswith("2 validation errors detected: "), message
    assert "Value '' at 'indexName'" in message
    # Two conditions neither of which is on the index's hash key.
    unnamed = {k: v for k, v in query.items() if k != "ExpressionAttributeNames"}
    expect_error(dynamodb.query, "ValidationException", "Query key condition not supported",
                 **{**unnamed, "KeyConditionExpression": "pk = :s AND title = :s"})
    expect_error(dynamodb.query, "ValidationException",
                 "Query condition missed key schema element: created",
                 **{**query, "KeyConditionExpression": "#s = :s AND title = :s"})
    # An update giving an index key the wrong type is a type mismatch, as for PutItem.
    expect_error(dynamodb.update_item, "ValidationException",
                 contains="Type mismatch for Index Key status Expected: S Actual: N",
                 TableName=orders, Key={"pk": S("c1"), "sk": S("o1")},
                 UpdateExpression="SET #s = :n", ExpressionAttributeNames={"#s": "status"},
                 ExpressionAttributeValues={":n": N(1)})


def test_key_attributes_are_not_document_paths(dynamodb, orders, expect_error):
    key = {"pk": S("c1"), "sk": S("o1")}
    prefix = ("Key attributes must be scalars; list random access '[]' and map lookup '.' are "
              "not allowed: ")
    expect_error(dynamodb.get_item, "ValidationException", prefix + "Key: pk",
                 TableName=orders, Key=key, ProjectionExpression="pk.x")
    expect_error(dynamodb.scan, "ValidationException", prefix + "IndexKey: status",
                 TableName=orders, FilterExpression="attribute_exists(#s.a)",
                 ExpressionAttributeNames={"#s": "status"})
    expect_error(dynamodb.update_item, "ValidationException", prefix + "IndexKey: price",
                 TableName=orders, Key=key, UpdateExpression="SET price[1] = :v",
                 ExpressionAttributeValues={":v": N(1)})


def test_global_index_updates_are_checked_first(dynamodb, make_table, expect_error):
    missing = unique_name("missing")
    expect_error(dynamodb.update_table, "ValidationException",
                 "One or more parameter values were invalid: Only one global secondary index "
                 "update per index is allowed simultaneously. Index: abc",
                 TableName=missing, GlobalSecondaryIndexUpdates=[
                     {"Delete": {"IndexName": "abc"}}, {"Delete": {"IndexName": "abc"}}])
    expect_error(dynamodb.update_table, "ValidationException", "At least one of",
                 TableName=make_table(), GlobalSecondaryIndexUpdates=[])
    table = make_table()
    create = {"KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
              "Projection": {"ProjectionType": "ALL"}}
    x = [{"AttributeName": "x", "AttributeType": "S"}]
    expect_error(dynamodb.update_table, "ValidationException", contains="only one of Create",
                 TableName=table, AttributeDefinitions=x, GlobalSecondaryIndexUpdates=[
                     {"Create": {"IndexName": "idx_a", **create}, "Delete": {"IndexName": "idx_b"}}])
    # One index is created or deleted at a time.
    expect_error(dynamodb.update_table, "LimitExceededException",
                 "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                 "simultaneously per table", TableName=table, AttributeDefinitions=x,
                 GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "idx_a", **create}},
                                              {"Create": {"IndexName": "idx_b", **create}}])
    assert "GlobalSecondaryIndexes" not in dynamodb.describe_table(TableName=table)["Table"]
    # An attribute keeps the type it was defined with.
    dynamodb.update_table(TableName=table, AttributeDefinitions=x,
                          GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "idx_a", **create}}])
    expect_error(dynamodb.update_table, "ValidationException", contains="redefined",
                 TableName=table, AttributeDefinitions=[{"AttributeName": "x",
                                                         "AttributeType": "N"}],
                 GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "idx_b", **create}}])
    # The request defines the new index's key attributes, even ones the table knows.
    expect_error(dynamodb.update_table, "ValidationException",
                 contains="Some index key attributes are not defined in AttributeDefinitions",
                 TableName=table,
                 GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "idx_b", **create}}])
