"""REST APIs (API Gateway v1): boto3's apigateway client builds an API by hand (resources,
methods, an AWS_PROXY integration with a Python echo function, a deployment, a stage), then a
real HTTP client calls it through the gateway port, by Host header, and checks the REST proxy
event the function echoes back, route selection, binary bodies and the error answers.

The data-plane tests are skipped, saying so, when the suite runs with --url (the gateway port
is then unknown)."""

from __future__ import annotations

import base64
import json
import time

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import _client_kwargs, unique_name
from test_gateway import _create_function

ACCOUNT = "000000000000"
REGION = "us-east-1"

ECHO = r'''
import base64, json, time

def handler(event, context):
    path = event.get("path") or ""
    if path.endswith("/error"):
        raise RuntimeError("boom")
    if path.endswith("/malformed"):
        return "not a proxy response"
    if path.endswith("/slow"):
        time.sleep(3)
    if path.endswith("/nostatus"):
        return {"body": "no status code"}
    if path.endswith("/floatstatus"):
        return {"statusCode": 201.0, "body": "created"}
    if path.endswith("/extra"):
        return {"statusCode": 200, "wrongValue": "x"}
    if path.endswith("/objectbody"):
        return {"statusCode": 200, "body": {"a": 1}}
    if path.endswith("/multi"):
        return {"statusCode": 200, "headers": {"x-one": "1"},
                "multiValueHeaders": {"x-m": ["a", "b"]}, "body": "m"}
    if path.endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "isBase64Encoded": True, "body": base64.b64encode(b"\x89PNG\x00\x01").decode()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
'''


@pytest.fixture(scope="module")
def apigw(nimbus_server):
    return boto3.client("apigateway", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="module")
def lambda_client(nimbus_server):
    return boto3.client("lambda", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="module")
def gateway_url(nimbus_server):
    if not nimbus_server.gateway_endpoint:
        pytest.skip("the gateway port is only known when the suite starts the server")
    return nimbus_server.gateway_endpoint


@pytest.fixture(scope="module")
def echo_arn(lambda_client, gateway_url):
    return _create_function(lambda_client, ECHO)


def uri(fn_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


def add(apigw, api_id, parent_id, path_part):
    return apigw.create_resource(restApiId=api_id, parentId=parent_id, pathPart=path_part)["id"]


def proxy_method(apigw, api_id, resource_id, method, fn_arn):
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(fn_arn))


def call(gateway_url, api_id, method, path, **kwargs):
    headers = kwargs.pop("headers", {})
    port = gateway_url.rsplit(":", 1)[1]
    headers.setdefault("Host", f"{api_id}.execute-api.localhost:{port}")
    return requests.request(method, gateway_url + path, headers=headers, timeout=40, **kwargs)


@pytest.fixture(scope="module")
def shop(apigw, echo_arn):
    """/items (GET, POST), /items/{id} (GET), /files/{proxy+} (ANY), /mock (GET, MOCK), with
    image/png as a binary media type, deployed to stage `test` with a stage variable."""
    api = apigw.create_rest_api(name=unique_name("shop"), binaryMediaTypes=["image/png"],
                                tags={"team": "a"})
    api_id, root = api["id"], api["rootResourceId"]
    items = add(apigw, api_id, root, "items")
    item = add(apigw, api_id, items, "{id}")
    files = add(apigw, api_id, root, "files")
    proxy = add(apigw, api_id, files, "{proxy+}")
    mock = add(apigw, api_id, root, "mock")
    slow = add(apigw, api_id, root, "slow")
    proxy_method(apigw, api_id, items, "GET", echo_arn)
    proxy_method(apigw, api_id, items, "POST", echo_arn)
    proxy_method(apigw, api_id, item, "GET", echo_arn)
    proxy_method(apigw, api_id, proxy, "ANY", echo_arn)
    apigw.put_method(restApiId=api_id, resourceId=slow, httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=slow, httpMethod="GET",
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(echo_arn),
                          timeoutInMillis=1000)
    apigw.put_method(restApiId=api_id, resourceId=mock, httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=mock, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=mock, httpMethod="GET",
                              statusCode="200",
                              responseParameters={"method.response.header.X-Mock": False})
    apigw.put_integration_response(
        restApiId=api_id, resourceId=mock, httpMethod="GET", statusCode="200",
        responseParameters={"method.response.header.X-Mock": "'yes'"},
        responseTemplates={"application/json": '{"mocked": true}'})
    deployment = apigw.create_deployment(restApiId=api_id, stageName="test",
                                         variables={"env": "testing"})
    return {"id": api_id, "root": root, "items": items, "item": item, "proxy": proxy,
            "deployment": deployment["id"]}


# ---- management ----------------------------------------------------------------------------

def test_rest_api_lifecycle(apigw):
    api = apigw.create_rest_api(name="books", description="d",
                                endpointConfiguration={"types": ["REGIONAL"]})
    assert api["id"] and api["rootResourceId"]
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert api["apiKeySource"] == "HEADER" and api["disableExecuteApiEndpoint"] is False
    assert api["createdDate"].year >= 2024
    assert any(a["id"] == api["id"] for a in apigw.get_rest_apis()["items"])
    upd = apigw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/name", "value": "books2"},
        {"op": "replace", "path": "/description", "value": "new"},
        {"op": "add", "path": "/binaryMediaTypes/image~1gif"},
        {"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "EDGE"},
    ])
    assert upd["endpointConfiguration"]["types"] == ["EDGE"]
    assert (upd["name"], upd["description"]) == ("books2", "new")
    assert upd["binaryMediaTypes"] == ["image/gif"]
    assert apigw.get_rest_api(restApiId=api["id"])["name"] == "books2"
    resources = apigw.get_resources(restApiId=api["id"])["items"]
    assert resources == [{"id": api["rootResourceId"], "path": "/"}]
    apigw.delete_rest_api(restApiId=api["id"])
    with pytest.raises(ClientError) as e:
        apigw.get_rest_api(restApiId=api["id"])
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_lists_page_with_limit_and_position(apigw):
    """GetRestApis and GetResources take `limit` (1 to 500) and hand back a `position` while
    more remain; boto3's paginators follow it."""
    apis = [apigw.create_rest_api(name=unique_name("page")) for _ in range(3)]
    try:
        first = apigw.get_rest_apis(limit=1)
        assert len(first["items"]) == 1 and first.get("position"), first
        second = apigw.get_rest_apis(limit=1, position=first["position"])
        assert len(second["items"]) == 1
        assert second["items"][0]["id"] != first["items"][0]["id"]
        pages = list(apigw.get_paginator("get_rest_apis").paginate(
            PaginationConfig={"PageSize": 2}))
        assert all(len(p["items"]) <= 2 for p in pages)
        seen = [a["id"] for p in pages for a in p["items"]]
        assert len(seen) == len(set(seen))
        assert {a["id"] for a in apis} <= set(seen)
        assert "position" not in pages[-1]

        api = apis[0]
        for part in ("a", "b", "c"):
            add(apigw, api["id"], api["rootResourceId"], part)
        pages = list(apigw.get_paginator("get_resources").paginate(
            restApiId=api["id"], PaginationConfig={"PageSize": 3}))
        assert [len(p["items"]) for p in pages] == [3, 1]
        paths = sorted(r["path"] for p in pages for r in p["items"])
        assert paths == ["/", "/a", "/b", "/c"]

        for bad in ({"limit": 0}, {"limit": 501}, {"position": "nope"}):
            with pytest.raises(ClientError) as e:
                apigw.get_rest_apis(**bad)
            assert e.value.response["Error"]["Code"] == "BadRequestException", bad
    finally:
        for api in apis:
            apigw.delete_rest_api(restApiId=api["id"])


def test_a_deployment_needs_an_integration_on_every_method(apigw):
    api = apigw.create_rest_api(name="half-built")
    res = add(apigw, api["id"], api["rootResourceId"], "items")
    apigw.put_method(restApiId=api["id"], resourceId=res, httpMethod="GET",
                     authorizationType="NONE")
    with pytest.raises(ClientError) as e:
        apigw.create_deployment(restApiId=api["id"], stageName="dev")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert e.value.response["Error"]["Message"] == "No integration defined for method"
    apigw.delete_rest_api(restApiId=api["id"])
    with pytest.raises(ClientError) as e:
        apigw.get_rest_api(restApiId=api["id"])
    assert e.value.response["Error"]["Message"].startswith("Invalid API identifier specified")
    assert e.value.response["Error"]["Message"].endswith(f":{api['id']}")


def test_resources_methods_integrations(apigw, echo_arn):
    api = apigw.create_rest_api(name=unique_name("r"))
    api_id, root = api["id"], api["rootResourceId"]
    users = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="users")
    assert (users["path"], users["pathPart"], users["parentId"]) == ("/users", "users", root)
    user = apigw.create_resource(restApiId=api_id, parentId=users["id"], pathPart="{id}")
    assert user["path"] == "/users/{id}"
    m = apigw.put_method(restApiId=api_id, resourceId=user["id"], httpMethod="GET",
                         authorizationType="NONE", requestParameters={
                             "method.request.path.id": True})
    assert m["httpMethod"] == "GET" and m["apiKeyRequired"] is False
    # A method that needs an authorizer is refused without a valid one, not left open.
    for kind in ("CUSTOM", "COGNITO_USER_POOLS"):
        with pytest.raises(ClientError) as info:
            apigw.put_method(restApiId=api_id, resourceId=users["id"], httpMethod="GET",
                             authorizationType=kind, authorizerId="nope12")
        assert info.value.response["Error"]["Code"] == "BadRequestException"
        assert "Invalid authorizer ID specified" in info.value.response["Error"]["Message"]
    i = apigw.put_integration(restApiId=api_id, resourceId=user["id"], httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(echo_arn))
    assert i["type"] == "AWS_PROXY" and i["timeoutInMillis"] == 29000
    assert i["passthroughBehavior"] == "WHEN_NO_MATCH" and i["uri"] == uri(echo_arn)
    assert apigw.get_integration(restApiId=api_id, resourceId=user["id"],
                                 httpMethod="GET")["httpMethod"] == "POST"
    got = apigw.get_method(restApiId=api_id, resourceId=user["id"], httpMethod="GET")
    assert got["methodIntegration"]["type"] == "AWS_PROXY"
    embedded = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    by_path = {r["path"]: r for r in embedded}
    assert set(by_path) == {"/", "/users", "/users/{id}"}
    assert by_path["/users/{id}"]["resourceMethods"]["GET"]["methodIntegration"]["uri"] \
        == uri(echo_arn)
    plain = apigw.get_resource(restApiId=api_id, resourceId=user["id"])
    assert plain["resourceMethods"] == {"GET": {}}
    apigw.put_method_response(restApiId=api_id, resourceId=user["id"], httpMethod="GET",
                              statusCode="200")
    # errors: unknown ids, duplicates, bad input
    for call_, code in [
        (lambda: apigw.create_resource(restApiId=api_id, parentId=root, pathPart="users"),
         "ConflictException"),
        (lambda: apigw.create_resource(restApiId=api_id, parentId="nope", pathPart="x"),
         "NotFoundException"),
        (lambda: apigw.create_resource(restApiId=api_id, parentId=root, pathPart="a b"),
         "BadRequestException"),
        (lambda: apigw.put_method(restApiId=api_id, resourceId=user["id"], httpMethod="GET",
                                  authorizationType="NONE"), "ConflictException"),
        (lambda: apigw.put_integration(restApiId=api_id, resourceId=users["id"],
                                       httpMethod="GET", type="AWS_PROXY",
                                       integrationHttpMethod="POST", uri=uri(echo_arn)),
         "NotFoundException"),
        (lambda: apigw.put_integration(restApiId=api_id, resourceId=user["id"],
                                       httpMethod="GET", type="AWS_PROXY",
                                       integrationHttpMethod="POST", uri=uri(echo_arn),
                                       timeoutInMillis=30000), "BadRequestException"),
        (lambda: apigw.get_rest_api(restApiId="doesnotexist"), "NotFoundException"),
        (lambda: apigw.create_stage(restApiId=api_id, stageName="s", deploymentId="nope"),
         "BadRequestException"),
    ]:
        with pytest.raises(ClientError) as e:
            call_()
        assert e.value.response["Error"]["Code"] == code
    apigw.delete_method(restApiId=api_id, resourceId=user["id"], httpMethod="GET")
    with pytest.raises(ClientError) as e:
        apigw.get_method(restApiId=api_id, resourceId=user["id"], httpMethod="GET")
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    apigw.delete_resource(restApiId=api_id, resourceId=users["id"])
    paths = [r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]]
    assert paths == ["/"]
    apigw.delete_rest_api(restApiId=api_id)


def test_deployments_stages_and_tags(apigw, shop):
    api_id = shop["id"]
    stage = apigw.get_stage(restApiId=api_id, stageName="test")
    assert stage["deploymentId"] == shop["deployment"]
    assert stage["variables"] == {"env": "testing"}
    deployments = apigw.get_deployments(restApiId=api_id)["items"]
    assert shop["deployment"] in [d["id"] for d in deployments]
    other = apigw.create_stage(restApiId=api_id, stageName="extra",
                               deploymentId=shop["deployment"], description="x",
                               tags={"k": "v"})
    assert other["stageName"] == "extra" and other["tags"] == {"k": "v"}
    with pytest.raises(ClientError) as e:
        apigw.create_stage(restApiId=api_id, stageName="extra", deploymentId=shop["deployment"])
    assert e.value.response["Error"]["Code"] == "ConflictException"
    upd = apigw.update_stage(restApiId=api_id, stageName="extra", patchOperations=[
        {"op": "replace", "path": "/variables/color", "value": "blue"},
        {"op": "replace", "path": "/description", "value": "y"},
    ])
    assert upd["variables"] == {"color": "blue"} and upd["description"] == "y"
    upd = apigw.update_stage(restApiId=api_id, stageName="extra", patchOperations=[
        {"op": "remove", "path": "/variables/color"}])
    assert upd.get("variables", {}) == {}
    upd = apigw.update_stage(restApiId=api_id, stageName="extra", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}])
    assert upd["methodSettings"]["*/*"] == {"throttlingRateLimit": 100.0,
                                           "metricsEnabled": True}
    names = sorted(s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"])
    assert names == ["extra", "test"]
    with pytest.raises(ClientError) as e:
        apigw.delete_deployment(restApiId=api_id, deploymentId=shop["deployment"])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    apigw.delete_stage(restApiId=api_id, stageName="extra")
    with pytest.raises(ClientError) as e:
        apigw.get_stage(restApiId=api_id, stageName="extra")
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    apigw.tag_resource(resourceArn=arn, tags={"owner": "me"})
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"team": "a", "owner": "me"}
    apigw.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"owner": "me"}


def test_aws_cli(aws_cli, shop):
    apis = aws_cli("apigateway", "get-rest-apis")
    assert shop["id"] in [a["id"] for a in apis["items"]]
    stages = aws_cli("apigateway", "get-stages", "--rest-api-id", shop["id"])
    assert "test" in [s["stageName"] for s in stages["item"]]
    proc = aws_cli("apigateway", "get-rest-api", "--rest-api-id", "nope", check=False)
    assert proc.returncode != 0 and "NotFoundException" in proc.stderr


# ---- data plane ----------------------------------------------------------------------------

def test_proxy_event_fields(gateway_url, shop):
    r = call(gateway_url, shop["id"], "GET", "/test/items/42?a=1&a=2&b=x",
             headers={"User-Agent": "rest-test", "X-Multi": "one"})
    assert r.status_code == 200, r.text
    assert r.headers["x-amzn-RequestId"] and r.headers["x-amz-apigw-id"]
    e = r.json()
    assert "version" not in e
    assert e["resource"] == "/items/{id}"
    assert e["path"] == "/items/42"
    assert e["httpMethod"] == "GET"
    # Header names in the case clients send them.
    assert e["headers"]["User-Agent"] == "rest-test"
    assert e["headers"]["Host"].startswith(f"{shop['id']}.execute-api.localhost")
    assert e["headers"]["X-Forwarded-Proto"] == "http"
    assert e["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert "Connection" not in e["headers"]
    assert e["multiValueHeaders"]["X-Multi"] == ["one"]
    assert e["queryStringParameters"] == {"a": "2", "b": "x"}
    assert e["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert e["pathParameters"] == {"id": "42"}
    assert e["stageVariables"] == {"env": "testing"}
    assert e["body"] is None and e["isBase64Encoded"] is False
    rc = e["requestContext"]
    assert rc["accountId"] == ACCOUNT
    assert rc["apiId"] == shop["id"]
    assert rc["resourceId"] == shop["item"]
    assert rc["resourcePath"] == "/items/{id}"
    assert rc["httpMethod"] == "GET"
    assert rc["path"] == "/test/items/42"
    assert rc["stage"] == "test"
    assert rc["deploymentId"] == shop["deployment"]
    assert rc["requestId"] == r.headers["x-amzn-RequestId"]
    assert rc["extendedRequestId"] == r.headers["x-amz-apigw-id"]
    assert isinstance(rc["requestTimeEpoch"], int) and "/" in rc["requestTime"]
    assert rc["protocol"] == "HTTP/1.1"
    assert rc["domainName"].startswith(f"{shop['id']}.execute-api.localhost")
    assert rc["identity"]["sourceIp"] == "127.0.0.1"
    assert rc["identity"]["userAgent"] == "rest-test"
    assert rc["identity"]["apiKey"] is None and rc["identity"]["user"] is None


def test_post_body_and_no_query(gateway_url, shop):
    r = call(gateway_url, shop["id"], "POST", "/test/items", json={"name": "pen"})
    assert r.status_code == 200
    e = r.json()
    assert e["resource"] == "/items" and e["httpMethod"] == "POST"
    assert json.loads(e["body"]) == {"name": "pen"} and e["isBase64Encoded"] is False
    assert e["queryStringParameters"] is None
    assert e["multiValueQueryStringParameters"] is None
    assert e["pathParameters"] is None


def test_greedy_proxy_and_any(gateway_url, shop):
    for method in ["GET", "PUT", "DELETE", "PATCH"]:
        r = call(gateway_url, shop["id"], method, "/test/files/a/b/c.txt")
        assert r.status_code == 200, (method, r.text)
        e = r.json()
        assert e["resource"] == "/files/{proxy+}" and e["httpMethod"] == method
        assert e["pathParameters"] == {"proxy": "a/b/c.txt"}
        assert e["requestContext"]["resourceId"] == shop["proxy"]
    # REST APIs pass path parameters on as sent, percent-encoding included.
    e = call(gateway_url, shop["id"], "GET", "/test/files/user/a%2Bb@x.com").json()
    assert e["pathParameters"] == {"proxy": "user/a%2Bb@x.com"}
    e = call(gateway_url, shop["id"], "GET", "/test/items/a%20b").json()
    assert e["pathParameters"] == {"id": "a%20b"}


def test_unknown_paths_methods_and_stages_are_missing_tokens(gateway_url, shop):
    for method, path in [
        ("GET", "/test/nothing"),
        ("DELETE", "/test/items"),      # the resource exists, the method does not
        ("PUT", "/test/items/42"),
        ("GET", "/test/files"),         # {proxy+} needs one segment at least
        ("GET", "/nostage/items"),
        ("GET", "/"),
        ("GET", "/test"),
    ]:
        r = call(gateway_url, shop["id"], method, path)
        assert r.status_code == 403, (method, path, r.status_code)
        assert r.json() == {"message": "Missing Authentication Token"}
        assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_function_errors_and_malformed_answers(gateway_url, shop):
    # REST APIs' rules: any member besides statusCode, headers, multiValueHeaders, body and
    # isBase64Encoded, or a body that is not a string, makes the answer malformed.
    for path in ["/test/files/error", "/test/files/malformed", "/test/files/extra",
                 "/test/files/objectbody"]:
        r = call(gateway_url, shop["id"], "GET", path)
        assert r.status_code == 502, (path, r.text)
        assert r.json() == {"message": "Internal server error"}
    # ... while statusCode may be left out: 200.
    r = call(gateway_url, shop["id"], "GET", "/test/files/nostatus")
    assert (r.status_code, r.text) == (200, "no status code")
    # A whole number written as a float (201.0) is that status.
    r = call(gateway_url, shop["id"], "GET", "/test/files/floatstatus")
    assert (r.status_code, r.text) == (201, "created")


def test_literal_resources_beside_a_greedy_one(apigw, gateway_url, echo_arn):
    api_id = apigw.create_rest_api(name=unique_name("siblings"))["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    proxy = add(apigw, api_id, root, "{proxy+}")
    health = add(apigw, api_id, root, "health")
    with pytest.raises(ClientError) as info:
        add(apigw, api_id, root, "{other}")  # one variable path part per parent
    assert info.value.response["Error"]["Code"] == "BadRequestException"
    for resource in (proxy, health):
        proxy_method(apigw, api_id, resource, "GET", echo_arn)
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert call(gateway_url, api_id, "GET", "/test/health").json()["resource"] == "/health"
    event = call(gateway_url, api_id, "GET", "/test/health/more").json()
    assert (event["resource"], event["pathParameters"]) == ("/{proxy+}", {"proxy": "health/more"})


def test_aws_iam_method_needs_a_valid_signature(apigw, gateway_url, echo_arn, nimbus_server):
    from test_gateway import signed_call
    api_id = apigw.create_rest_api(name=unique_name("iam"))["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    items = add(apigw, api_id, root, "items")
    apigw.put_method(restApiId=api_id, resourceId=items, httpMethod="POST",
                     authorizationType="AWS_IAM")
    apigw.put_integration(restApiId=api_id, resourceId=items, httpMethod="POST",
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(echo_arn))
    apigw.create_deployment(restApiId=api_id, stageName="test")
    unsigned = call(gateway_url, api_id, "POST", "/test/items", data="{}")
    assert (unsigned.status_code, unsigned.json()) == (
        403, {"message": "Missing Authentication Token"})
    assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    wrong = signed_call(nimbus_server, gateway_url, api_id, "POST", "/test/items", b"{}",
                        secret="not-the-secret")
    assert wrong.status_code == 403
    assert wrong.headers["x-amzn-errortype"] == "InvalidSignatureException"
    r = signed_call(nimbus_server, gateway_url, api_id, "POST", "/test/items", b'{"n":2}')
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["body"] == '{"n":2}'
    identity = event["requestContext"]["identity"]
    assert identity["accessKey"] == nimbus_server.access_key
    assert identity["accountId"] == ACCOUNT
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_update_method_turns_iam_on_and_off(apigw, gateway_url, echo_arn, nimbus_server):
    from test_gateway import signed_call
    api_id = apigw.create_rest_api(name=unique_name("toggle"))["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    items = add(apigw, api_id, root, "items")
    proxy_method(apigw, api_id, items, "GET", echo_arn)
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert call(gateway_url, api_id, "GET", "/test/items").status_code == 200
    updated = apigw.update_method(
        restApiId=api_id, resourceId=items, httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
                         {"op": "replace", "path": "/operationName", "value": "ListItems"}])
    assert (updated["authorizationType"], updated["operationName"]) == ("AWS_IAM", "ListItems")
    assert apigw.get_method(restApiId=api_id, resourceId=items,
                            httpMethod="GET")["authorizationType"] == "AWS_IAM"
    # A stage serves its deployment: the change counts once deployed.
    assert call(gateway_url, api_id, "GET", "/test/items").status_code == 200
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert call(gateway_url, api_id, "GET", "/test/items").status_code == 403
    assert signed_call(nimbus_server, gateway_url, api_id, "GET", "/test/items").status_code == 200
    with pytest.raises(ClientError) as info:
        apigw.update_method(restApiId=api_id, resourceId=items, httpMethod="GET",
                            patchOperations=[{"op": "replace", "path": "/authorizationType",
                                              "value": "CUSTOM"}])
    assert info.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as info:
        apigw.update_method(restApiId=api_id, resourceId=items, httpMethod="POST",
                            patchOperations=[{"op": "replace", "path": "/operationName",
                                              "value": "x"}])
    assert info.value.response["Error"]["Code"] == "NotFoundException"
    apigw.update_method(restApiId=api_id, resourceId=items, httpMethod="GET",
                        patchOperations=[{"op": "replace", "path": "/authorizationType",
                                          "value": "NONE"}])
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert call(gateway_url, api_id, "GET", "/test/items").status_code == 200


def test_response_headers_and_binary(gateway_url, shop):
    r = call(gateway_url, shop["id"], "GET", "/test/files/multi")
    assert r.status_code == 200 and r.text == "m"
    assert r.headers["x-one"] == "1" and r.headers["x-m"] == "a, b"
    assert r.headers["content-type"] == "application/json"
    # Accept names a binary media type: the base64 body is decoded.
    r = call(gateway_url, shop["id"], "GET", "/test/files/binary",
             headers={"Accept": "image/png"})
    assert r.status_code == 200 and r.content == b"\x89PNG\x00\x01"
    # A binary request body reaches the function base64-encoded; a text one as text.
    r = call(gateway_url, shop["id"], "POST", "/test/files/upload", data=b"\x00\xffraw",
             headers={"Content-Type": "image/png"})
    e = r.json()
    assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == b"\x00\xffraw"
    r = call(gateway_url, shop["id"], "POST", "/test/files/upload", data=b"plain",
             headers={"Content-Type": "application/octet-stream"})
    e = r.json()
    assert e["isBase64Encoded"] is False and e["body"] == "plain"


def test_integration_timeout(gateway_url, shop):
    started = time.monotonic()
    r = call(gateway_url, shop["id"], "GET", "/test/slow")
    assert r.status_code == 504
    assert r.json() == {"message": "Endpoint request timed out"}
    assert time.monotonic() - started < 2.5


def test_mock_integration(gateway_url, shop):
    r = call(gateway_url, shop["id"], "GET", "/test/mock")
    assert r.status_code == 200
    assert r.json() == {"mocked": True} and r.headers["X-Mock"] == "yes"


def test_a_stage_serves_its_deployment(apigw, gateway_url, echo_arn):
    api = apigw.create_rest_api(name=unique_name("snap"))
    api_id, root = api["id"], api["rootResourceId"]
    a = add(apigw, api_id, root, "a")
    proxy_method(apigw, api_id, a, "GET", echo_arn)
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    b = add(apigw, api_id, root, "b")
    proxy_method(apigw, api_id, b, "GET", echo_arn)
    # Not deployed yet: the stage still serves the first snapshot.
    assert call(gateway_url, api_id, "GET", "/v1/a").status_code == 200
    assert call(gateway_url, api_id, "GET", "/v1/b").status_code == 403
    second = apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert apigw.get_stage(restApiId=api_id, stageName="v1")["deploymentId"] == second["id"]
    assert call(gateway_url, api_id, "GET", "/v1/b").status_code == 200
    apigw.delete_rest_api(restApiId=api_id)
    assert call(gateway_url, api_id, "GET", "/v1/a").status_code == 404
