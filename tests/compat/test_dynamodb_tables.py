"""Table control plane: CreateTable, DescribeTable, ListTables, UpdateTable,
DeleteTable, tags, DescribeLimits, DescribeEndpoints.

Sources: DynamoDB API Reference (CreateTable, DescribeTable, TableDescription,
ListTables, UpdateTable, DeleteTable, TagResource, UntagResource,
ListTagsOfResource, DescribeLimits, DescribeEndpoints) and the developer guide
("Supported data types and naming rules", "Service quotas").
"""

import datetime
import re
import time
import uuid

import pytest

from conftest import unique_name, wait_active

ARN_RE = re.compile(r"^arn:aws:dynamodb:us-east-1:\d{12}:table/(?P<name>[A-Za-z0-9_.-]+)$")


def _wait_gone(client, name, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.describe_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            return
        time.sleep(0.05)
    raise AssertionError(f"table {name} still exists {timeout}s after DeleteTable")


def _create(client, name, *, hash=("pk", "S"), range=None, **extra):
    attrs = [{"AttributeName": hash[0], "AttributeType": hash[1]}]
    keys = [{"AttributeName": hash[0], "KeyType": "HASH"}]
    if range:
        attrs.append({"AttributeName": range[0], "AttributeType": range[1]})
        keys.append({"AttributeName": range[0], "KeyType": "RANGE"})
    params = dict(TableName=name, AttributeDefinitions=attrs, KeySchema=keys)
    if "ProvisionedThroughput" not in extra and "BillingMode" not in extra:
        params["BillingMode"] = "PAY_PER_REQUEST"
    params.update(extra)
    return client.create_table(**params)


# --------------------------------------------------------------------------- CreateTable


def test_create_hash_only_table_description(dynamodb, make_table):
    name = unique_name()
    make_table(name=name, wait=False)
    desc = wait_active(dynamodb, name)
    assert desc["TableName"] == name
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert desc["TableStatus"] == "ACTIVE"
    m = ARN_RE.match(desc["TableArn"])
    assert m and m.group("name") == name, desc["TableArn"]
    assert desc["ItemCount"] == 0
    assert desc["TableSizeBytes"] == 0
    assert isinstance(desc["CreationDateTime"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - desc["CreationDateTime"]).total_seconds()) < 300
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # On-demand tables report zero provisioned throughput.
    pt = desc["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 0
    assert pt["WriteCapacityUnits"] == 0
    assert pt["NumberOfDecreasesToday"] == 0
    assert re.match(r"^[0-9a-f-]{36}$", desc["TableId"]), desc.get("TableId")


def test_create_returns_table_description(dynamodb, make_table):
    name = unique_name()
    resp = _create(dynamodb, name, range=("sk", "N"))
    try:
        desc = resp["TableDescription"]
        assert desc["TableName"] == name
        # CreateTable's answer says CREATING, as DynamoDB's does; the table takes requests
        # at once, so DescribeTable already shows it ACTIVE.
        assert desc["TableStatus"] == "CREATING"
        assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        assert desc["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        assert sorted(desc["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ]
        assert ARN_RE.match(desc["TableArn"])
        assert desc["ItemCount"] == 0
    finally:
        wait_active(dynamodb, name)
        dynamodb.delete_table(TableName=name)


@pytest.mark.parametrize("htype,rtype", [("S", "S"), ("N", "B"), ("B", "N")])
def test_create_key_types(dynamodb, make_table, htype, rtype):
    name = make_table(hash=("h", htype), range=("r", rtype))
    desc = dynamodb.describe_table(TableName=name)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
    assert types == {"h": htype, "r": rtype}


def test_create_provisioned(dynamodb, make_table):
    name = make_table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
    )
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    # BillingModeSummary may be absent for a table that was always provisioned;
    # when present it must say PROVISIONED.
    if "BillingModeSummary" in desc:
        assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_create_default_billing_mode_is_provisioned(dynamodb, make_table):
    # BillingMode defaults to PROVISIONED, so throughput alone is enough.
    name = make_table(ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 1
    # A table that never named its billing mode has no summary, as in DynamoDB.
    assert "BillingModeSummary" not in desc


def test_create_provisioned_without_throughput_fails(dynamodb, expect_error):
    name = unique_name()
    expect_error(
        dynamodb.create_table,
        "ValidationException",
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
    )


def test_create_pay_per_request_with_throughput_fails(dynamodb, expect_error):
    expect_error(
        dynamodb.create_table,
        "ValidationException",
        TableName=unique_name(),
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )


def test_create_duplicate_is_resource_in_use(dynamodb, make_table, expect_error):
    name = make_table()
    expect_error(_create, "ResourceInUseException", client=dynamodb, name=name)


def _bad_create(client, expect_error, attrs, keys, **extra):
    params = dict(
        TableName=unique_name(),
        AttributeDefinitions=attrs,
        KeySchema=keys,
        BillingMode="PAY_PER_REQUEST",
    )
    params.update(extra)
    try:
        err = expect_error(client.create_table, "ValidationException", **params)
        # Nothing must have been created.
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.describe_table(TableName=params["TableName"])
        return err
    finally:
        _drop_if_created(client, params["TableName"])


def _drop_if_created(client, name):
    """Clean up after a creation that should have failed but did not."""
    try:
        client.delete_table(TableName=name)
    except Exception:
        pass


def test_create_key_attribute_not_defined(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "other", "AttributeType": "S"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_create_extra_attribute_definition(dynamodb_unvalidated, expect_error):
    # Every AttributeDefinition must be used by the key schema or an index.
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "pk", "AttributeType": "S"},
         {"AttributeName": "unused", "AttributeType": "S"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_create_invalid_attribute_type(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "pk", "AttributeType": "BOOL"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_create_index_key_type_is_checked_with_the_request(dynamodb_unvalidated, make_table,
                                                          expect_error):
    # An index key element's KeyType outside [HASH, RANGE] is a member constraint, reported
    # before the undefined attributes of the same index.
    index = {"IndexName": "TestGSI",
             "KeySchema": [{"AttributeName": "n/a", "KeyType": "HASH"},
                           {"AttributeName": "sth", "KeyType": "SORT"}],
             "Projection": {"ProjectionType": "ALL"}}
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"},
             {"AttributeName": "sk", "AttributeType": "S"}]
    err = _bad_create(dynamodb_unvalidated, expect_error, attrs, keys,
                      GlobalSecondaryIndexes=[index])
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value 'SORT' at "
        "'globalSecondaryIndexes.1.member.keySchema.2.member.keyType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [HASH, RANGE]")
    local = {**index, "IndexName": "TestLSI",
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "SORT"}]}
    err = _bad_create(dynamodb_unvalidated, expect_error, attrs, keys,
                      LocalSecondaryIndexes=[local])
    assert "'localSecondaryIndexes.1.member.keySchema.2.member.keyType'" in \
        err.response["Error"]["Message"]
    table = make_table()
    err = expect_error(dynamodb_unvalidated.update_table, "ValidationException", TableName=table,
                       AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                       GlobalSecondaryIndexUpdates=[{"Create": {
                           "IndexName": "byG", "Projection": {"ProjectionType": "ALL"},
                           "KeySchema": [{"AttributeName": "g", "KeyType": "PARTITION"}]}}])
    assert err.response["Error"]["Message"] == (
        "1 validation error detected: Value 'PARTITION' at "
        "'globalSecondaryIndexUpdates.1.member.create.keySchema.1.member.keyType' failed to "
        "satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]")


def test_create_two_hash_keys(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}],
        [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "HASH"}],
    )


def test_create_range_without_hash(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "a", "AttributeType": "S"}],
        [{"AttributeName": "a", "KeyType": "RANGE"}],
    )


def test_create_range_before_hash(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}],
        [{"AttributeName": "b", "KeyType": "RANGE"}, {"AttributeName": "a", "KeyType": "HASH"}],
    )


def test_create_three_key_elements(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": n, "AttributeType": "S"} for n in "abc"],
        [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"},
         {"AttributeName": "c", "KeyType": "RANGE"}],
    )


def test_create_empty_key_schema(dynamodb_unvalidated, expect_error):
    _bad_create(
        dynamodb_unvalidated, expect_error,
        [{"AttributeName": "a", "AttributeType": "S"}],
        [],
    )


# --------------------------------------------------------------------------- table names


@pytest.mark.parametrize(
    "name",
    ["ab", "x" * 256, "has space", "bad/slash", "bad:colon", "émoji", "a*b"],
    ids=["too-short", "too-long", "space", "slash", "colon", "non-ascii", "star"],
)
def test_invalid_table_names(dynamodb_unvalidated, expect_error, name):
    try:
        expect_error(
            dynamodb_unvalidated.create_table,
            "ValidationException",
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    finally:
        _drop_if_created(dynamodb_unvalidated, name)


def test_valid_table_name_charset_and_lengths(dynamodb, make_table):
    short = make_table(name="A" + uuid.uuid4().hex[:2])  # exactly 3 characters
    assert len(short) == 3
    long_name = ("T_.-" + unique_name("")).ljust(255, "x")
    assert len(long_name) == 255
    made = make_table(name=long_name)
    assert dynamodb.describe_table(TableName=made)["Table"]["TableName"] == long_name


def test_table_names_are_case_sensitive(dynamodb, make_table):
    base = "case" + unique_name("")
    lower = make_table(name=base.lower())
    upper = make_table(name=base.upper())
    assert lower != upper
    dynamodb.put_item(TableName=lower, Item={"pk": {"S": "only-lower"}})
    assert "Item" not in dynamodb.get_item(TableName=upper, Key={"pk": {"S": "only-lower"}})


def test_table_name_too_long_on_describe(dynamodb_unvalidated, expect_error):
    expect_error(dynamodb_unvalidated.describe_table, "ValidationException", TableName="y" * 256)


# --------------------------------------------------------------------------- Describe / Delete


def test_describe_missing_table(dynamodb, expect_error):
    expect_error(
        dynamodb.describe_table,
        "ResourceNotFoundException",
        message_prefix="Requested resource not found",
        TableName=unique_name("missing"),
    )


def test_missing_table_item_operations(dynamodb, expect_error):
    name = unique_name("missing")
    key = {"pk": {"S": "a"}}
    expect_error(dynamodb.get_item, "ResourceNotFoundException", TableName=name, Key=key)
    expect_error(dynamodb.put_item, "ResourceNotFoundException", TableName=name, Item=key)
    expect_error(dynamodb.delete_item, "ResourceNotFoundException", TableName=name, Key=key)
    expect_error(dynamodb.scan, "ResourceNotFoundException", TableName=name)


def test_delete_table(dynamodb):
    name = unique_name()
    _create(dynamodb, name)
    wait_active(dynamodb, name)
    desc = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] in ("DELETING", "ACTIVE")
    assert ARN_RE.match(desc["TableArn"])
    # DynamoDB's DeleteTable answer carries no schema and no creation time.
    for absent in ("KeySchema", "AttributeDefinitions", "CreationDateTime"):
        assert absent not in desc, absent
    assert desc["ItemCount"] == 0 and desc["TableSizeBytes"] == 0
    _wait_gone(dynamodb, name)
    names = dynamodb.list_tables()["TableNames"]
    assert name not in names


def test_delete_missing_table(dynamodb, expect_error):
    expect_error(dynamodb.delete_table, "ResourceNotFoundException", TableName=unique_name("gone"))


def test_recreate_after_delete_is_empty(dynamodb):
    name = unique_name()
    _create(dynamodb, name)
    wait_active(dynamodb, name)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "x"}})
    dynamodb.delete_table(TableName=name)
    _wait_gone(dynamodb, name)
    _create(dynamodb, name, hash=("other", "N"))
    try:
        desc = wait_active(dynamodb, name)
        assert desc["KeySchema"] == [{"AttributeName": "other", "KeyType": "HASH"}]
        assert dynamodb.scan(TableName=name)["Items"] == []
    finally:
        dynamodb.delete_table(TableName=name)


def test_deletion_protection(dynamodb, expect_error):
    name = unique_name()
    _create(dynamodb, name, DeletionProtectionEnabled=True)
    wait_active(dynamodb, name)
    try:
        assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
        expect_error(dynamodb.delete_table, "ValidationException", TableName=name)
        dynamodb.describe_table(TableName=name)  # still there
    finally:
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        wait_active(dynamodb, name)
        dynamodb.delete_table(TableName=name)


# --------------------------------------------------------------------------- ListTables


def test_list_tables_pagination(dynamodb, make_table):
    prefix = unique_name("lst")
    names = sorted(make_table(name=f"{prefix}-{i}") for i in range(5))
    # Walk the whole list one name at a time.
    seen = []
    kwargs = {"Limit": 1}
    while True:
        page = dynamodb.list_tables(**kwargs)
        assert len(page["TableNames"]) <= 1
        seen.extend(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            break
        assert page["LastEvaluatedTableName"] == page["TableNames"][-1]
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    mine = [n for n in seen if n.startswith(prefix)]
    assert mine == names
    # Table names come back in ascending order.
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))


def test_list_tables_exclusive_start(dynamodb, make_table):
    prefix = unique_name("lse")
    names = sorted(make_table(name=f"{prefix}-{i}") for i in range(3))
    page = dynamodb.list_tables(ExclusiveStartTableName=names[0], Limit=2)
    assert page["TableNames"] == names[1:3]


def test_list_tables_paginator(dynamodb, make_table):
    prefix = unique_name("lsp")
    names = sorted(make_table(name=f"{prefix}-{i}") for i in range(4))
    pages = list(
        dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
    )
    assert all(len(p["TableNames"]) <= 2 for p in pages)
    allnames = [n for p in pages for n in p["TableNames"]]
    assert [n for n in allnames if n.startswith(prefix)] == names


def test_list_tables_limit_bounds(dynamodb_unvalidated, expect_error):
    expect_error(dynamodb_unvalidated.list_tables, "ValidationException", Limit=0)
    expect_error(dynamodb_unvalidated.list_tables, "ValidationException", Limit=101)
    dynamodb_unvalidated.list_tables(Limit=100)


# --------------------------------------------------------------------------- UpdateTable


def test_update_billing_mode_and_throughput(dynamodb, make_table):
    name = make_table()
    desc = dynamodb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
    )["TableDescription"]
    assert desc["TableName"] == name
    # The answer says UPDATING, as DynamoDB's does; the change is already made.
    assert desc["TableStatus"] == "UPDATING"
    desc = wait_active(dynamodb, name)
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 6
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"

    dynamodb.update_table(
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 8, "WriteCapacityUnits": 9},
    )
    desc = wait_active(dynamodb, name)
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 8
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 9


def test_update_to_pay_per_request(dynamodb, make_table):
    name = make_table(ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    desc = wait_active(dynamodb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_keeps_items(dynamodb, make_table):
    name = make_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "keep"}, "v": {"N": "1"}})
    dynamodb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    wait_active(dynamodb, name)
    item = dynamodb.get_item(TableName=name, Key={"pk": {"S": "keep"}})["Item"]
    assert item == {"pk": {"S": "keep"}, "v": {"N": "1"}}


def test_update_missing_table(dynamodb, expect_error):
    expect_error(
        dynamodb.update_table,
        "ResourceNotFoundException",
        TableName=unique_name("missing"),
        BillingMode="PAY_PER_REQUEST",
    )


def test_update_table_nothing_to_update(dynamodb, make_table, expect_error):
    name = make_table()
    expect_error(dynamodb.update_table, "ValidationException", TableName=name)


# --------------------------------------------------------------------------- tags


def test_tags_roundtrip(dynamodb, make_table):
    name = make_table(Tags=[{"Key": "team", "Value": "core"}])
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "core"}]

    dynamodb.tag_resource(
        ResourceArn=arn,
        Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "edge"}],
    )
    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "edge"},  # overwritten
    ]

    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "test"}]


def test_tags_empty_value_allowed(dynamodb, make_table):
    name = make_table()
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "flag", "Value": ""}])
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "flag", "Value": ""}]


def test_list_tags_none(dynamodb, make_table):
    name = make_table()
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    assert dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []


def test_tags_missing_resource(dynamodb, expect_error):
    some_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{unique_name('missing')}"
    expect_error(dynamodb.list_tags_of_resource, "ResourceNotFoundException", ResourceArn=some_arn)
    expect_error(
        dynamodb.tag_resource,
        "ResourceNotFoundException",
        ResourceArn=some_arn,
        Tags=[{"Key": "a", "Value": "b"}],
    )


def test_tag_rules(dynamodb, dynamodb_unvalidated, make_table, expect_error):
    arn = dynamodb.describe_table(TableName=make_table())["Table"]["TableArn"]

    def refused(message_part, tags):
        err = expect_error(dynamodb_unvalidated.tag_resource, "ValidationException", ResourceArn=arn, Tags=tags)
        assert message_part in err.response["Error"]["Message"], err.response["Error"]

    refused("Tag Key provided is invalid", [{"Key": "hi!", "Value": "x"}])
    refused("Tag Value provided is invalid", [{"Key": "k", "Value": "<b>"}])
    refused("prefixed with aws:", [{"Key": "aws:owner", "Value": "x"}])
    refused("Duplicate Tag Key", [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    refused("Atleast one Tag", [])
    refused("Number of Tags exceed", [{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    # Letters and numbers of any script, white space and + - = . _ : / are allowed.
    fine = [{"Key": "Größe 1+1=2", "Value": "a.b_c:d/e-f"}, {"Key": "名前", "Value": ""}]
    dynamodb.tag_resource(ResourceArn=arn, Tags=fine)
    got = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(fine, key=lambda t: t["Key"])
    # 48 more make 50, the most a table holds; one more is refused and changes nothing.
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"n{i}", "Value": "v"} for i in range(48)])
    refused("Number of Tags exceed", [{"Key": "one-too-many", "Value": "v"}])
    assert len(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 50
    err = expect_error(dynamodb_unvalidated.untag_resource, "ValidationException",
                       ResourceArn=arn, TagKeys=[])
    assert "Atleast one Tag Key" in err.response["Error"]["Message"]
    err = expect_error(
        dynamodb_unvalidated.tag_resource, "ValidationException", ResourceArn="not-an-arn",
        Tags=fine,
    )
    assert "ARNs must start with 'arn:'" in err.response["Error"]["Message"]


def test_duplicate_attribute_definition(dynamodb, expect_error):
    err = expect_error(
        dynamodb.create_table,
        "ValidationException",
        TableName=unique_name("dup"),
        KeySchema=[{"AttributeName": "xyz", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "xyz", "AttributeType": "S"},
            {"AttributeName": "xyz", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    assert err.response["Error"]["Message"] == "Attribute Name is duplicated: xyz"


# --------------------------------------------------------------------------- limits / endpoints


def test_describe_limits(dynamodb):
    limits = dynamodb.describe_limits()
    for field in (
        "AccountMaxReadCapacityUnits",
        "AccountMaxWriteCapacityUnits",
        "TableMaxReadCapacityUnits",
        "TableMaxWriteCapacityUnits",
    ):
        assert isinstance(limits[field], int) and limits[field] > 0, (field, limits)
    assert limits["TableMaxReadCapacityUnits"] <= limits["AccountMaxReadCapacityUnits"]
    assert limits["TableMaxWriteCapacityUnits"] <= limits["AccountMaxWriteCapacityUnits"]


def test_describe_endpoints(dynamodb):
    endpoints = dynamodb.describe_endpoints()["Endpoints"]
    assert len(endpoints) >= 1
    for ep in endpoints:
        assert isinstance(ep["Address"], str) and ep["Address"]
        assert isinstance(ep["CachePeriodInMinutes"], int) and ep["CachePeriodInMinutes"] > 0


def test_list_tables_start_name_is_a_table_name(ddb_raw):
    # ExclusiveStartTableName is a TableName (3 to 255 of [a-zA-Z0-9_.-]), not a TableArn.
    resp = ddb_raw.call("ListTables", {"ExclusiveStartTableName": ""})
    assert resp.status_code == 400
    message = resp.json()["message"]
    assert message.startswith("2 validation errors detected: "), message
    assert "Member must satisfy regular expression pattern" in message
    assert "Member must have length greater than or equal to 3" in message


def test_continuous_backups_are_described_as_disabled(dynamodb, make_table, expect_error):
    """Nimbus keeps no backups: DescribeContinuousBackups says so (tools such as Terraform read
    it for every table), disabling point-in-time recovery succeeds and enabling it is
    refused. A missing table is the backup operations' TableNotFoundException."""
    table = make_table()
    disabled = {"ContinuousBackupsStatus": "DISABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    out = dynamodb.describe_continuous_backups(TableName=table)
    assert out["ContinuousBackupsDescription"] == disabled
    out = dynamodb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert out["ContinuousBackupsDescription"] == disabled
    expect_error(dynamodb.update_continuous_backups, "ContinuousBackupsUnavailableException",
                 TableName=table,
                 PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    missing = unique_name("missing")
    expect_error(dynamodb.describe_continuous_backups, "TableNotFoundException",
                 f"Table not found: {missing}", TableName=missing)


def test_on_demand_throughput_is_kept_and_described(dynamodb, make_table):
    table = make_table(OnDemandThroughput={"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": 5})
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["OnDemandThroughput"] == {"MaxReadRequestUnits": 10,
                                               "MaxWriteRequestUnits": 5}
    dynamodb.update_table(TableName=table, OnDemandThroughput={"MaxWriteRequestUnits": 7})
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["OnDemandThroughput"] == {"MaxReadRequestUnits": 10,
                                               "MaxWriteRequestUnits": 7}
    plain = make_table()
    assert "OnDemandThroughput" not in dynamodb.describe_table(TableName=plain)["Table"]
