"""Time to live: UpdateTimeToLive, DescribeTimeToLive, and the deletion of expired items.

Sources: DynamoDB API Reference (UpdateTimeToLive, DescribeTimeToLive,
TimeToLiveSpecification, TimeToLiveDescription) and the developer guide ("Time to Live"):
an item expires when its TTL attribute is a top-level Number of epoch seconds lower than the
current time (and not more than five years lower); expired items are deleted in the
background and show up in reads until then; other values are ignored.
"""

import time

from conftest import unique_name

# Nimbus deletes expired items within a few seconds; DynamoDB within days.
DELETION_TIMEOUT = 20.0


def _spec(attribute, enabled):
    return {"AttributeName": attribute, "Enabled": enabled}


def test_enable_describe_disable(dynamodb, make_table, expect_error):
    name = make_table()
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    out = dynamodb.update_time_to_live(TableName=name,
                                       TimeToLiveSpecification=_spec("expires", True))
    assert out["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    expect_error(dynamodb.update_time_to_live, "ValidationException",
                 "TimeToLive is already enabled",
                 TableName=name, TimeToLiveSpecification=_spec("expires", True))
    # Disabling must name the attribute that is enabled.
    expect_error(dynamodb.update_time_to_live, "ValidationException",
                 "TimeToLive is active on a different AttributeName",
                 TableName=name, TimeToLiveSpecification=_spec("other", False))
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"][
        "TimeToLiveStatus"] == "ENABLED"
    # Disabling answers without the attribute name.
    out = dynamodb.update_time_to_live(TableName=name,
                                       TimeToLiveSpecification=_spec("expires", False))
    assert out["TimeToLiveSpecification"] == {"Enabled": False}
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    expect_error(dynamodb.update_time_to_live, "ValidationException",
                 "TimeToLive is already disabled",
                 TableName=name, TimeToLiveSpecification=_spec("expires", False))


def test_validation_and_missing_tables(dynamodb, dynamodb_unvalidated, make_table,
                                       expect_error):
    name = make_table()
    # The model's length constraint (1..255) answers before any rule of TTL's own.
    expect_error(dynamodb_unvalidated.update_time_to_live, "ValidationException",
                 "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName'"
                 " failed to satisfy constraint: Member must have length greater than or equal to 1",
                 TableName=name, TimeToLiveSpecification=_spec("", True))
    err = expect_error(dynamodb_unvalidated.update_time_to_live, "ValidationException",
                       "2 validation errors detected: ",
                       TableName=name, TimeToLiveSpecification={})
    assert "Value null at 'timeToLiveSpecification.enabled'" in str(err)
    assert "Value null at 'timeToLiveSpecification.attributeName'" in str(err)
    missing = unique_name("missing")
    for call, params in [
        (dynamodb.update_time_to_live,
         {"TimeToLiveSpecification": _spec("expires", True)}),
        (dynamodb.describe_time_to_live, {}),
    ]:
        expect_error(call, "ResourceNotFoundException",
                     f"Requested resource not found: Table: {missing} not found",
                     TableName=missing, **params)


def test_expired_items_are_deleted(dynamodb, make_table):
    name = make_table()
    now = int(time.time())
    items = {
        "expired": {"N": str(now - 60)},
        "later": {"N": str(now + 3600)},
        "text": {"S": str(now - 60)},
        "ancient": {"N": str(now - 6 * 365 * 24 * 3600)},
    }
    for pk, expires in items.items():
        dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "expires": expires})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "none"}})
    # Expired but still readable while time to live is off.
    assert "Item" in dynamodb.get_item(TableName=name, Key={"pk": {"S": "expired"}})
    dynamodb.update_time_to_live(TableName=name,
                                 TimeToLiveSpecification=_spec("expires", True))
    deadline = time.monotonic() + DELETION_TIMEOUT
    while "Item" in dynamodb.get_item(TableName=name, Key={"pk": {"S": "expired"}},
                                      ConsistentRead=True):
        assert time.monotonic() < deadline, "the expired item was not deleted"
        time.sleep(0.2)
    left = sorted(i["pk"]["S"] for i in dynamodb.scan(TableName=name)["Items"])
    assert left == ["ancient", "later", "none", "text"]
    assert dynamodb.describe_table(TableName=name)["Table"]["ItemCount"] == 4
