"""The DynamoDB JSON 1.0 wire protocol as clients see it: headers, error
bodies, unknown operations, malformed requests, and durability across a
restart of a suite-started server.

Sources: AWS JSON 1.0 protocol (X-Amz-Target, application/x-amz-json-1.0,
error bodies with "__type" and "message"), DynamoDB API Reference "Common
Errors" (UnknownOperationException, SerializationException, HTTP 400), and
the x-amz-crc32 response header that the AWS SDKs verify.
"""

import re
import tempfile
import zlib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from conftest import _start_nimbus, _stop, unique_name


def test_success_headers(ddb_raw):
    resp = ddb_raw.call("ListTables", {"Limit": 1})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert resp.headers.get("x-amzn-RequestId")
    crc = resp.headers.get("x-amz-crc32")
    assert crc is not None, "x-amz-crc32 header missing"
    assert int(crc) == zlib.crc32(resp.content) & 0xFFFFFFFF
    assert "TableNames" in resp.json()


def test_error_headers_and_body(ddb_raw):
    resp = ddb_raw.call("DescribeTable", {"TableName": unique_name("missing")})
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert resp.headers.get("x-amzn-RequestId")
    body = resp.json()
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert body.get("message", body.get("Message")).startswith("Requested resource not found")


def test_validation_error_type(ddb_raw):
    resp = ddb_raw.call("CreateTable", {"TableName": "x"})
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#ValidationException")


def test_request_ids_differ(ddb_raw):
    a = ddb_raw.call("ListTables", {}).headers.get("x-amzn-RequestId")
    b = ddb_raw.call("ListTables", {}).headers.get("x-amzn-RequestId")
    assert a and b and a != b
    # DynamoDB's request ids are 52 characters of digits and capital letters.
    assert re.fullmatch(r"[0-9A-Z]{52}", a), a


def test_unknown_operation(ddb_raw):
    resp = ddb_raw.call("NoSuchOperation", {})
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#UnknownOperationException")


def test_malformed_json(ddb_raw):
    resp = ddb_raw.call("ListTables", None, raw_body=b"{not json")
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#SerializationException")
    # DynamoDB spells this message with a capital M.
    assert resp.json()["Message"]


def test_empty_body_list_tables(ddb_raw):
    resp = ddb_raw.call("ListTables", {})
    assert resp.status_code == 200


def test_no_body_at_all(ddb_raw):
    # Every SDK sends "{}" for an operation without input; nothing at all is not JSON.
    resp = ddb_raw.call("ListTables", None, raw_body=b"")
    assert resp.status_code == 400
    assert resp.json() == {"__type": "com.amazon.coral.service#SerializationException"}


MAP = "Start of structure or map found where not expected"
FIELD = "Unexpected field type"
VALUE = "Unexpected value type in payload"
MODEL = "com.amazonaws.dynamodb.v20120810"


# A value of the wrong JSON type is a SerializationException whose text names the token found
# and the model's Java type; lists, maps and structures have texts that depend on whether they
# are a field or a member of a list or map. These texts are what DynamoDB answers (the AWS-
# recorded test suites of DynamoDB emulators check them the same way).
@pytest.mark.parametrize("operation, body, message", [
    ("ListTables", {"ExclusiveStartTableName": True}, "TRUE_VALUE cannot be converted to String"),
    ("ListTables", {"ExclusiveStartTableName": 34.56}, "DECIMAL_VALUE cannot be converted to String"),
    ("ListTables", {"ExclusiveStartTableName": []}, "Unrecognized collection type class java.lang.String"),
    ("ListTables", {"ExclusiveStartTableName": {}}, MAP),
    ("ListTables", {"Limit": "23"}, "STRING_VALUE cannot be converted to Integer"),
    ("ListTables", {"Limit": False}, "FALSE_VALUE cannot be converted to Integer"),
    ("GetItem", {"ConsistentRead": "23"}, "Unexpected token received from parser"),
    ("GetItem", {"ConsistentRead": 23}, "NUMBER_VALUE cannot be converted to Boolean"),
    ("GetItem", {"AttributesToGet": 23}, FIELD),
    ("GetItem", {"AttributesToGet": {}}, MAP),
    ("GetItem", {"Key": True}, FIELD),
    ("GetItem", {"Key": []},
     f"Unrecognized collection type java.util.Map<java.lang.String, {MODEL}.AttributeValue>"),
    ("GetItem", {"Key": {"a": "23"}}, VALUE),
    ("GetItem", {"Key": {"a": []}}, f"Unrecognized collection type class {MODEL}.AttributeValue"),
    ("GetItem", {"Key": {"a": {"S": 23}}}, "NUMBER_VALUE cannot be converted to String"),
    ("GetItem", {"Key": {"a": {"B": True}}}, "only base-64-encoded strings are convertible to bytes"),
    ("GetItem", {"Key": {"a": {"B": "23456"}}},
     "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
    ("GetItem", {"Key": {"a": {"BOOL": 34.56}}}, "DECIMAL_VALUE cannot be converted to Boolean"),
    ("GetItem", {"Key": {"a": {"L": [23]}}}, VALUE),
    ("GetItem", {"Key": {"a": {"M": 23}}}, FIELD),
    ("GetItem", {"Key": {"a": {"SS": [True]}}}, "TRUE_VALUE cannot be converted to String"),
    ("GetItem", {"ExpressionAttributeNames": []},
     "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>"),
    ("PutItem", {"Expected": {"a": "23"}}, VALUE),
    ("PutItem", {"Expected": {"a": []}},
     f"Unrecognized collection type class {MODEL}.ExpectedAttributeValue"),
    ("PutItem", {"Expected": {"a": {"Value": "23"}}}, FIELD),
    ("PutItem", {"Expected": {"a": {"Value": {"L": ["23"]}}}}, VALUE),
    ("PutItem", {"ExpressionAttributeValues": 23}, FIELD),
    ("CreateTable", {"ProvisionedThroughput": True}, FIELD),
    ("CreateTable", {"ProvisionedThroughput": []},
     f"Unrecognized collection type class {MODEL}.ProvisionedThroughput"),
    ("CreateTable", {"ProvisionedThroughput": {"ReadCapacityUnits": "23"}},
     "STRING_VALUE cannot be converted to Long"),
    ("CreateTable", {"KeySchema": ["23"]}, VALUE),
    ("CreateTable", {"GlobalSecondaryIndexes": [[]]},
     f"Unrecognized collection type class {MODEL}.GlobalSecondaryIndex"),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": ["23"]}}},
     "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class "
     "java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
     "java.lang.Class are in module java.base of loader 'bootstrap')"),
    ("BatchWriteItem", {"RequestItems": []},
     f"Unrecognized collection type java.util.Map<java.lang.String, "
     f"java.util.List<{MODEL}.WriteRequest>>"),
    ("TagResource", {"Tags": [[]]}, f"Unrecognized collection type class {MODEL}.Tag"),
])
def test_wrong_json_types_are_serialization_errors(ddb_raw, operation, body, message):
    resp = ddb_raw.call(operation, body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"__type": "com.amazon.coral.service#SerializationException",
                           "Message": message}


def test_binary_is_base64_on_the_wire(ddb_raw, make_table):
    name = make_table(hash=("pk", "B"))
    resp = ddb_raw.call("PutItem", {"TableName": name, "Item": {"pk": {"B": "AAH/"}, "v": {"BS": ["AQ=="]}}})
    assert resp.status_code == 200, resp.text
    got = ddb_raw.call("GetItem", {"TableName": name, "Key": {"pk": {"B": "AAH/"}}}).json()
    assert got["Item"]["pk"] == {"B": "AAH/"}
    assert got["Item"]["v"] == {"BS": ["AQ=="]}


def test_numbers_are_strings_on_the_wire(ddb_raw, make_table):
    name = make_table()
    ddb_raw.call("PutItem", {"TableName": name, "Item": {"pk": {"S": "n"}, "v": {"N": "1.50"}}})
    got = ddb_raw.call("GetItem", {"TableName": name, "Key": {"pk": {"S": "n"}}}).json()
    assert isinstance(got["Item"]["v"]["N"], str)


def test_creation_date_time_is_epoch_seconds(ddb_raw, make_table):
    name = make_table()
    body = ddb_raw.call("DescribeTable", {"TableName": name}).json()
    assert isinstance(body["Table"]["CreationDateTime"], (int, float))
    assert body["Table"]["CreationDateTime"] > 1_600_000_000


@pytest.mark.nimbus_only
def test_data_survives_restart():
    """A second, private server: write, stop with SIGTERM, start again on the
    same data dir, read back."""
    root = Path(tempfile.mkdtemp(prefix="nimbus-restart-"))
    server = _start_nimbus(root)
    try:
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=server.region,
                              aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                              config=Config(retries={"max_attempts": 1}))
        client.create_table(TableName="durable", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        client.put_item(TableName="durable", Item={"pk": {"S": "k"}, "v": {"N": "42"}})
    finally:
        code = _stop(server)
    assert code == 0, server.log_tail()
    again = _start_nimbus(root, reuse=True)
    try:
        client = boto3.client("dynamodb", endpoint_url=again.endpoint, region_name=again.region,
                              aws_access_key_id=again.access_key, aws_secret_access_key=again.secret_key,
                              config=Config(retries={"max_attempts": 1}))
        item = client.get_item(TableName="durable", Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
        assert item == {"pk": {"S": "k"}, "v": {"N": "42"}}
    finally:
        assert _stop(again) == 0, again.log_tail()
