"""The DynamoDB JSON 1.0 wire protocol as clients see it: headers, error
bodies, unknown operations, malformed requests, and durability across a
restart of a suite-started server.

Sources: AWS JSON 1.0 protocol (X-Amz-Target, application/x-amz-json-1.0,
error bodies with "__type" and "message"), DynamoDB API Reference "Common
Errors" (UnknownOperationException, SerializationException, HTTP 400), and
the x-amz-crc32 response header that the AWS SDKs verify.
"""

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
