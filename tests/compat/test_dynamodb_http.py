"""HTTP around the DynamoDB protocol: compressed requests and answers, browser access (CORS),
the `GET /` health check and the `Server` header.

Sources: RFC 9110 (Content-Encoding, Accept-Encoding with quality values; "deflate" is the
zlib format), RFC 1952 (gzip members), the Fetch standard (CORS preflight), and DynamoDB's
observed behaviour: request bodies in gzip or deflate are accepted, an undecodable body is a
500 that writes nothing, answers over 4 KB are compressed for a client that accepts it with
x-amz-crc32 over the compressed bytes, and `GET /` answers `healthy: <host>`.
"""

import gzip
import json
import zlib

import botocore.auth
import botocore.awsrequest
import pytest
import requests

from conftest import unique_name


@pytest.fixture
def table(make_table):
    return make_table()


def put_body(table, value):
    return json.dumps({"TableName": table, "Item": {"pk": {"S": "k"}, "v": {"S": value}}}).encode()


def stored(dynamodb, table):
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("gzip", lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:])),  # two gzip members
])
def test_compressed_request_bodies_are_decoded(dynamodb, ddb_raw, table, encoding, encode):
    value = unique_name("v")
    response = ddb_raw.call("PutItem", None, raw_body=encode(put_body(table, value)),
                            headers={"Content-Encoding": encoding})
    assert response.status_code == 200, response.text
    assert stored(dynamodb, table)["v"] == {"S": value}


@pytest.mark.parametrize("encoding, body", [
    ("garbage", None),
    ("gzip", b"not gzip at all"),
    ("gzip", "truncated"),
    ("deflate", None),
    ("gzip", b""),
])
def test_undecodable_request_bodies_write_nothing(dynamodb, ddb_raw, table, encoding, body):
    plain = put_body(table, "never")
    if body is None:
        body = plain
    elif body == "truncated":
        body = gzip.compress(plain)[:-5]
    response = ddb_raw.call("PutItem", None, raw_body=body, headers={"Content-Encoding": encoding})
    assert response.status_code == 500, response.text
    assert response.json()["__type"].endswith("InternalServerError")
    assert stored(dynamodb, table) is None


def send_raw(ddb_raw, table, accept):
    """GetItem with the answer's bytes as sent (requests would otherwise decompress them)."""

    body = json.dumps({"TableName": table, "Key": {"pk": {"S": "k"}}}).encode()
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=ddb_raw.server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "DynamoDB_20120810.GetItem", "Accept-Encoding": accept})
    botocore.auth.SigV4Auth(ddb_raw.creds, "dynamodb", ddb_raw.server.region).add_auth(request)
    prepared = request.prepare()
    response = requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers),
                             stream=True, timeout=30)
    return response, response.raw.read(decode_content=False)


@pytest.mark.parametrize("accept, coding", [
    ("gzip", "gzip"),
    ("deflate", "deflate"),
    ("br, deflate, gzip", "deflate"),
    ("*, gzip;q=0.5", "deflate"),
    ("identity", None),
    ("br", None),
    ("gzip;q=0", None),
])
def test_large_answers_are_compressed_when_accepted(dynamodb, ddb_raw, table, accept, coding):
    value = "x" * 6000
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": value}})
    response, sent = send_raw(ddb_raw, table, accept)
    assert response.status_code == 200
    assert int(response.headers["x-amz-crc32"]) == zlib.crc32(sent)
    assert response.headers.get("Content-Encoding") == coding
    plain = {"gzip": gzip.decompress, "deflate": zlib.decompress, None: bytes}[coding](sent)
    assert json.loads(plain)["Item"]["v"]["S"] == value
    if coding:
        assert len(sent) * 10 < len(plain)


def test_small_answers_are_not_compressed(dynamodb, ddb_raw, table):
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "small"}})
    response, sent = send_raw(ddb_raw, table, "gzip")
    assert "Content-Encoding" not in response.headers
    assert json.loads(sent)["Item"]["v"]["S"] == "small"


def test_cors_preflight_and_origin(nimbus_server):
    url = nimbus_server.endpoint + "/"
    asked = {"Origin": "http://example.com", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type, x-amz-target, authorization"}
    preflight = requests.options(url, headers=asked, timeout=10)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == asked["Access-Control-Request-Headers"]
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    # A cross-origin call (here unsigned, so refused) still carries the CORS answer.
    call = requests.post(url, headers={"Origin": "http://example.com"}, timeout=10)
    assert call.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-RequestId" in call.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Max-Age" not in call.headers
    # Without an Origin there is no CORS header at all.
    for plain in (requests.options(url, timeout=10), requests.post(url, timeout=10)):
        assert not any(h.lower().startswith("access-control-") for h in plain.headers)


def test_root_health_check_and_server_header(nimbus_server, ddb_raw):
    response = requests.get(nimbus_server.endpoint + "/", timeout=10)
    assert response.status_code == 200
    host = nimbus_server.endpoint.split("://", 1)[1]
    assert response.text == f"healthy: {host}"
    assert ddb_raw.call("ListTables", {}).headers["Server"] == "Server"
    assert requests.get(nimbus_server.endpoint + "/other", timeout=10).status_code == 404
