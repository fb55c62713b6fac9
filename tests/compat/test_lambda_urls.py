"""Function URLs: boto3's lambda client manages URL configurations (the 2021-10-31 operations),
and a real HTTP client calls the URLs on the gateway port, by Host header, the way a browser
reaches `https://{urlId}.lambda-url.{region}.on.aws/`: the function gets the HTTP API 2.0 event
and its answer is mapped as API Gateway maps it; `AWS_IAM` URLs need a SigV4 signature for the
service `lambda`; CORS answers preflights."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from test_gateway import (  # noqa: F401 (fixtures)
    ACCOUNT,
    _create_function,
    gateway_url,
    lambda_client,
)

ECHO = r'''
import json
def handler(event, context):
    if event["rawPath"] == "/fail":
        raise RuntimeError("boom")
    return {"statusCode": 201, "headers": {"x-fn": "yes"}, "body": json.dumps(event)}
'''


@pytest.fixture(scope="module")
def lam(lambda_client):
    return lambda_client


@pytest.fixture(scope="module")
def echo(lam, gateway_url):
    return _create_function(lam, ECHO).rsplit(":", 1)[1]


def call(gateway_url, url, method="GET", path="/", **kwargs):
    """Calls function URL `url` through the gateway port, by Host header."""
    headers = kwargs.pop("headers", {})
    headers["Host"] = urlsplit(url).netloc
    return requests.request(method, gateway_url + path, headers=headers, timeout=30, **kwargs)


def signed(nimbus_server, gateway_url, url, path="/", secret=None, service="lambda"):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    host = urlsplit(url).netloc
    request = AWSRequest(method="GET", url=f"http://{host}{path}", headers={"Host": host})
    SigV4Auth(Credentials(nimbus_server.access_key, secret or nimbus_server.secret_key),
              service, nimbus_server.region).add_auth(request)
    return requests.get(gateway_url + path, headers=dict(request.headers), timeout=30)


def test_url_config_lifecycle(lam, echo):
    created = lam.create_function_url_config(FunctionName=echo, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = created["FunctionUrl"]
    assert re.fullmatch(r"http://[a-z0-9]{32}\.lambda-url\.localhost:\d+/", url), url
    assert created["FunctionArn"].endswith(f":function:{echo}")
    assert (created["AuthType"], created["InvokeMode"]) == ("NONE", "BUFFERED")
    got = lam.get_function_url_config(FunctionName=echo)
    assert got["FunctionUrl"] == url and "LastModifiedTime" in got
    with pytest.raises(ClientError) as info:
        lam.create_function_url_config(FunctionName=echo, AuthType="NONE")
    assert info.value.response["Error"]["Code"] == "ResourceConflictException"
    updated = lam.update_function_url_config(
        FunctionName=echo, AuthType="AWS_IAM",
        Cors={"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"]})
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"]["AllowOrigins"] == ["https://example.com"]
    listed = lam.list_function_url_configs(FunctionName=echo)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]
    lam.delete_function_url_config(FunctionName=echo)
    with pytest.raises(ClientError) as info:
        lam.get_function_url_config(FunctionName=echo)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_url_config_validation(lam, echo):
    with pytest.raises(ClientError) as info:
        lam.create_function_url_config(FunctionName=echo, AuthType="NONE", Qualifier="1")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as info:
        lam.create_function_url_config(FunctionName=echo, AuthType="NONE", Qualifier="nope")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        lam.create_function_url_config(FunctionName="missing-fn", AuthType="NONE")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_public_url_invokes_with_the_2_0_event(lam, echo, gateway_url):
    url = lam.create_function_url_config(FunctionName=echo, AuthType="NONE")["FunctionUrl"]
    try:
        r = call(gateway_url, url, "POST", "/items/42?a=1&a=2", data="hello",
                 headers={"Content-Type": "text/plain", "Cookie": "c1=v1"})
        assert r.status_code == 201, r.text
        assert r.headers["x-fn"] == "yes"
        assert r.headers["x-amzn-requestid"]
        event = r.json()
        url_id = urlsplit(url).hostname.split(".")[0]
        assert event["version"] == "2.0" and event["routeKey"] == "$default"
        assert (event["rawPath"], event["rawQueryString"]) == ("/items/42", "a=1&a=2")
        assert event["queryStringParameters"] == {"a": "1,2"}
        assert event["cookies"] == ["c1=v1"]
        assert event["body"] == "hello" and event["isBase64Encoded"] is False
        rc = event["requestContext"]
        assert (rc["apiId"], rc["domainPrefix"]) == (url_id, url_id)
        assert rc["accountId"] == "anonymous"
        assert rc["http"]["method"] == "POST" and rc["http"]["path"] == "/items/42"
        failed = call(gateway_url, url, "GET", "/fail")
        assert failed.status_code == 502
    finally:
        lam.delete_function_url_config(FunctionName=echo)
    assert call(gateway_url, url).status_code == 404


def test_iam_url_needs_a_lambda_signature(lam, echo, gateway_url, nimbus_server):
    url = lam.create_function_url_config(FunctionName=echo, AuthType="AWS_IAM")["FunctionUrl"]
    try:
        unsigned = call(gateway_url, url)
        assert (unsigned.status_code, unsigned.json()) == (403, {"Message": "Forbidden"})
        assert signed(nimbus_server, gateway_url, url, secret="wrong").status_code == 403
        assert signed(nimbus_server, gateway_url, url, service="execute-api").status_code == 403
        r = signed(nimbus_server, gateway_url, url, "/who")
        assert r.status_code == 201, r.text
        rc = r.json()["requestContext"]
        assert rc["accountId"] == ACCOUNT
        assert rc["authorizer"]["iam"]["accessKey"] == nimbus_server.access_key
    finally:
        lam.delete_function_url_config(FunctionName=echo)


def test_alias_url_and_cors(lam, echo, gateway_url):
    version = lam.publish_version(FunctionName=echo)["Version"]
    lam.create_alias(FunctionName=echo, Name="live", FunctionVersion=version)
    created = lam.create_function_url_config(
        FunctionName=echo, Qualifier="live", AuthType="NONE",
        Cors={"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"],
              "MaxAge": 60})
    url = created["FunctionUrl"]
    assert created["FunctionArn"].endswith(f":function:{echo}:live")
    pre = call(gateway_url, url, "OPTIONS", "/x", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "https://example.com"
    r = call(gateway_url, url, "GET", "/x", headers={"Origin": "https://example.com"})
    assert r.status_code == 201
    assert r.headers["Access-Control-Allow-Origin"] == "https://example.com"
    # Deleting the alias takes its URL with it.
    lam.delete_alias(FunctionName=echo, Name="live")
    assert call(gateway_url, url).status_code == 404
