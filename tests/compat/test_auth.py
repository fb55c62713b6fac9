"""SigV4 verification and protocol dispatch, seen by real AWS clients.

Every AWS API request is signed by botocore (boto3's signer) or by the aws CLI; the server must
accept exactly the right signature and refuse everything else with the AWS error type and status
of the protocol the client speaks: JSON 1.0 ``__type`` with 400 for DynamoDB, ``x-amzn-ErrorType``
with 403 for the REST JSON services.
"""

from __future__ import annotations

import datetime
import json
import socket
import subprocess
import time
from urllib.parse import urlparse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.nimbus_only

JSON10 = "application/x-amz-json-1.0"


def signed(server, target, body=b"{}", *, secret=None, key=None, service="dynamodb",
           region=None, when=None, headers=None):
    """A POST / request signed by botocore's SigV4 signer, ready to send."""
    creds = botocore.credentials.Credentials(key or server.access_key, secret or server.secret_key)
    h = {"Content-Type": JSON10, "X-Amz-Target": target}
    h.update(headers or {})
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                                             headers=h)
    signer = botocore.auth.SigV4Auth(creds, service, region or server.region)
    if when is None:
        signer.add_auth(request)
    else:
        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
    return request.prepare()


def send(prepared):
    return requests.request(prepared.method, prepared.url, headers=dict(prepared.headers),
                            data=prepared.body, timeout=10)


def error_type(response):
    return response.json()["__type"].split("#")[-1]


def client(server, service, **overrides):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=overrides.get("region", server.region),
        aws_access_key_id=overrides.get("key", server.access_key),
        aws_secret_access_key=overrides.get("secret", server.secret_key),
        config=Config(retries={"max_attempts": 1}),
    )


def test_valid_signature_reaches_the_dispatcher(nimbus_server):
    r = send(signed(nimbus_server, "DynamoDB_20120810.NoSuchOperation"))
    assert r.status_code == 400
    assert error_type(r) == "UnknownOperationException"
    assert r.headers["x-amzn-RequestId"]


def test_unknown_target_prefix_is_an_unknown_operation(nimbus_server):
    r = send(signed(nimbus_server, "Frobnicator_20990101.Go"))
    assert r.status_code == 400
    assert error_type(r) == "UnknownOperationException"


def test_malformed_json_is_a_serialization_error(nimbus_server):
    r = send(signed(nimbus_server, "DynamoDB_20120810.ListTables", body=b"{not json"))
    assert r.status_code == 400
    assert error_type(r) == "SerializationException"


def test_wrong_secret_is_an_invalid_signature(nimbus_server):
    dynamodb = client(nimbus_server, "dynamodb", secret="x" * 40)
    with pytest.raises(ClientError) as e:
        dynamodb.list_tables()
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidSignatureException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "signature we calculated does not match" in err["Error"]["Message"]


def test_unknown_key_is_an_unrecognized_client(nimbus_server):
    dynamodb = client(nimbus_server, "dynamodb", key="AKIAIOSFODNN7EXAMPLE")
    with pytest.raises(ClientError) as e:
        dynamodb.list_tables()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_session_token_we_never_issued_is_refused(nimbus_server):
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=nimbus_server.endpoint, region_name=nimbus_server.region,
        aws_access_key_id=nimbus_server.access_key,
        aws_secret_access_key=nimbus_server.secret_key, aws_session_token="made-up-token",
        config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        dynamodb.list_tables()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_expired_and_future_dates_are_refused(nimbus_server):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    for delta, words in ((-20, "Signature expired"), (20, "Signature not yet current")):
        when = now + datetime.timedelta(minutes=delta)
        r = send(signed(nimbus_server, "DynamoDB_20120810.ListTables", when=when))
        assert r.status_code == 400, r.text
        assert error_type(r) == "InvalidSignatureException"
        assert r.json()["message"].startswith(words), r.json()
    # Within the 15-minute skew the signature is accepted.
    when = now - datetime.timedelta(minutes=10)
    r = send(signed(nimbus_server, "DynamoDB_20120810.NoSuchOperation", when=when))
    assert error_type(r) == "UnknownOperationException"


def test_tampered_body_is_refused(nimbus_server):
    prepared = signed(nimbus_server, "DynamoDB_20120810.NoSuchOperation",
                      body=b'{"TableName":"a"}')
    prepared.body = b'{"TableName":"b"}'
    r = send(prepared)
    assert r.status_code == 400
    assert error_type(r) == "InvalidSignatureException"


def test_tampered_signed_header_is_refused(nimbus_server):
    prepared = signed(nimbus_server, "DynamoDB_20120810.NoSuchOperation")
    prepared.headers["X-Amz-Target"] = "DynamoDB_20120810.OtherOperation"
    r = send(prepared)
    assert error_type(r) == "InvalidSignatureException"


def test_missing_signature_is_refused(nimbus_server):
    r = requests.post(nimbus_server.endpoint + "/", data=b"{}",
                      headers={"Content-Type": JSON10,
                               "X-Amz-Target": "DynamoDB_20120810.ListTables"}, timeout=10)
    assert r.status_code == 400
    assert error_type(r) == "MissingAuthenticationTokenException"


def test_incomplete_authorization_header_is_refused(nimbus_server):
    r = requests.post(nimbus_server.endpoint + "/", data=b"{}", timeout=10, headers={
        "Content-Type": JSON10, "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request"})
    assert r.status_code == 400
    assert error_type(r) == "IncompleteSignatureException"
    assert "'Signature'" in r.json()["message"]


def test_credential_scope_region_and_service_are_checked(nimbus_server):
    r = send(signed(nimbus_server, "DynamoDB_20120810.ListTables", region="eu-west-3"))
    assert error_type(r) == "InvalidSignatureException"
    assert "region" in r.json()["message"]
    r = send(signed(nimbus_server, "DynamoDB_20120810.ListTables", service="lambda"))
    assert error_type(r) == "InvalidSignatureException"
    assert "service" in r.json()["message"]


def test_presigned_query_string_is_verified(nimbus_server):
    def presigned(expires, secret=None):
        creds = botocore.credentials.Credentials(nimbus_server.access_key,
                                                 secret or nimbus_server.secret_key)
        request = botocore.awsrequest.AWSRequest(
            method="GET", url=nimbus_server.endpoint + "/2015-03-31/no-such-resource")
        botocore.auth.SigV4QueryAuth(creds, "lambda", nimbus_server.region,
                                     expires=expires).add_auth(request)
        return requests.get(request.prepare().url, timeout=10)

    ok = presigned(60)
    assert ok.status_code == 404, ok.text
    assert ok.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    bad = presigned(60, secret="y" * 40)
    assert bad.status_code == 403
    assert bad.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    short = presigned(1)
    time.sleep(2.1)
    late = requests.get(short.url, timeout=10)
    assert late.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert "expired" in late.json()["message"]


def test_rest_services_use_rest_error_shapes(nimbus_server):
    lam = client(nimbus_server, "lambda", secret="z" * 40)
    with pytest.raises(ClientError) as e:
        lam.list_functions()
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidSignatureException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "InvalidSignatureException"
    r = requests.get(nimbus_server.endpoint + "/2015-03-31/functions/", timeout=10)
    assert r.status_code == 403
    assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_oversized_body_is_refused_before_it_is_read(nimbus_server):
    """A client that waits for `100 Continue` is refused without sending its body."""
    url = urlparse(nimbus_server.endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                  b"X-Amz-Target: DynamoDB_20120810.PutItem\r\n"
                  b"Authorization: AWS4-HMAC-SHA256 Credential=" + nimbus_server.access_key.encode() +
                  b"/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00\r\n"
                  b"X-Amz-Date: 20260101T000000Z\r\n"
                  b"Expect: 100-continue\r\nContent-Length: 17000000\r\n\r\n")
        head = s.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head


def test_refusals_of_bodies_sent_whole_keep_the_connection(nimbus_server, ddb_raw):
    """A client that streams its whole body (as SDKs do without Expect) reads the refusal,
    oversized or unsigned, instead of a broken pipe, and its connection serves the next call."""
    import http.client

    import botocore.auth
    import botocore.awsrequest

    url = urlparse(nimbus_server.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    body = b"{" + b" " * (17 << 20) + b"}"
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810.PutItem"}
    signed = botocore.awsrequest.AWSRequest(method="POST", url=nimbus_server.endpoint + "/",
                                            data=body, headers=dict(headers))
    botocore.auth.SigV4Auth(ddb_raw.creds, "dynamodb", nimbus_server.region).add_auth(signed)
    for sent_headers, status in ((headers, 400), (dict(signed.headers), 413)):
        conn.request("POST", "/", body=body, headers=sent_headers)
        refused = conn.getresponse()
        refused.read()
        assert refused.status == status
    conn.request("GET", "/_nimbus/health")
    again = conn.getresponse()
    assert again.status == 200 and again.read() == b'{"status":"ok"}'
    conn.close()


def test_health_needs_no_signature(nimbus_server):
    r = requests.get(nimbus_server.endpoint + "/_nimbus/health", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def aws_cli(server, *args, secret=None):
    import os
    import sys
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID=server.access_key,
               AWS_SECRET_ACCESS_KEY=secret or server.secret_key,
               AWS_DEFAULT_REGION=server.region, AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", server.endpoint, "--output", "json",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_aws_cli_is_verified(nimbus_server):
    ok = aws_cli(nimbus_server, "dynamodb", "list-tables")
    assert ok.returncode == 0, ok.stderr
    assert "TableNames" in json.loads(ok.stdout)
    bad = aws_cli(nimbus_server, "dynamodb", "list-tables", secret="w" * 40)
    assert bad.returncode != 0
    assert "InvalidSignatureException" in bad.stderr
