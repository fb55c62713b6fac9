"""HTTP APIs (API Gateway v2): boto3's apigatewayv2 client creates the APIs, a real HTTP
client calls them through the gateway port, and an echo function returns the event it got so
every field can be checked against the documented 1.0 and 2.0 examples.

Functions are created with boto3's lambda client; the data-plane tests are skipped, saying
so, when the suite runs with --url (the gateway port is then unknown)."""

from __future__ import annotations

import base64
import http.server
import io
import json
import re
import threading
import time
import zipfile

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import _client_kwargs, unique_name

ACCOUNT = "000000000000"

ECHO = r'''
import base64, json, time

def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/error"):
        raise RuntimeError("boom")
    if path.endswith("/plain"):
        return {"hello": "world"}
    if path.endswith("/own-cors"):
        return {"statusCode": 200, "headers": {"access-control-allow-origin": "*"}, "body": "x"}
    if path.endswith("/malformed"):
        return "not a proxy response"
    if path.endswith("/sleep"):
        time.sleep(3)
    if path.endswith("/cookies"):
        return {"statusCode": 201, "cookies": ["a=1", "b=2; Path=/"],
                "headers": {"x-custom": "yes"}, "body": "ok"}
    if path.endswith("/multi"):
        return {"statusCode": 200, "multiValueHeaders": {"x-m": ["1", "2"]}, "body": "m"}
    if path.endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(b"\x00\x01\x02").decode()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
'''

AUTHORIZER = r'''
def handler(event, context):
    token = (event.get("headers") or {}).get("x-token")
    return {"isAuthorized": token == "letmein", "context": {"user": "alice", "n": 7}}
'''


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", source)
    return buf.getvalue()


@pytest.fixture(scope="session")
def apigw(nimbus_server):
    return boto3.client("apigatewayv2", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="session")
def lambda_client(nimbus_server):
    return boto3.client("lambda", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="session")
def gateway_url(nimbus_server):
    if not nimbus_server.gateway_endpoint:
        pytest.skip("the gateway port is only known when the suite starts the server")
    return nimbus_server.gateway_endpoint


def _create_function(lambda_client, source: str) -> str:
    name = unique_name("fn")
    out = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        Handler="index.handler",
        Code={"ZipFile": _zip(source)},
        Timeout=10,
    )
    return out["FunctionArn"]


@pytest.fixture(scope="session")
def echo_arn(lambda_client, gateway_url):
    return _create_function(lambda_client, ECHO)


@pytest.fixture(scope="session")
def authorizer_arn(lambda_client, gateway_url):
    return _create_function(lambda_client, AUTHORIZER)


def call(gateway_url, api_id, method, path, **kwargs):
    headers = kwargs.pop("headers", {})
    port = gateway_url.rsplit(":", 1)[1]
    headers.setdefault("Host", f"{api_id}.execute-api.localhost:{port}")
    return requests.request(method, gateway_url + path, headers=headers, timeout=30, **kwargs)


def http_api(apigw, echo_arn, version="2.0", route_keys=("GET /items/{id}",), **api_kwargs):
    api = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP", **api_kwargs)
    integration = apigw.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=echo_arn,
        PayloadFormatVersion=version,
    )
    for key in route_keys:
        apigw.create_route(ApiId=api["ApiId"], RouteKey=key,
                           Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api, integration


# ---- management ----------------------------------------------------------------------------

def test_create_get_update_delete_api(apigw):
    api = apigw.create_api(Name="shop", ProtocolType="HTTP", Description="d",
                           CorsConfiguration={"AllowOrigins": ["*"]}, Tags={"team": "a"})
    assert api["ApiId"] and api["ProtocolType"] == "HTTP"
    assert api["ApiEndpoint"].startswith(f"http://{api['ApiId']}.execute-api.localhost:")
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["CorsConfiguration"] == {"AllowOrigins": ["*"]}
    got = apigw.get_api(ApiId=api["ApiId"])
    assert got["Name"] == "shop" and got["Tags"] == {"team": "a"}
    assert any(a["ApiId"] == api["ApiId"] for a in apigw.get_apis()["Items"])
    upd = apigw.update_api(ApiId=api["ApiId"], Name="shop2")
    assert upd["Name"] == "shop2" and upd["Description"] == "d"
    apigw.delete_api(ApiId=api["ApiId"])
    with pytest.raises(ClientError) as e:
        apigw.get_api(ApiId=api["ApiId"])
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_routes_integrations_stages_deployments(apigw):
    api_id = apigw.create_api(Name="r", ProtocolType="HTTP")["ApiId"]
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:whatever"
    i = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                 PayloadFormatVersion="1.0", TimeoutInMillis=5000)
    assert i["PayloadFormatVersion"] == "1.0" and i["TimeoutInMillis"] == 5000
    assert i["IntegrationMethod"] == "POST" and i["ConnectionType"] == "INTERNET"
    r = apigw.create_route(ApiId=api_id, RouteKey="ANY /files/{proxy+}",
                           Target=f"integrations/{i['IntegrationId']}")
    assert r["RouteKey"] == "ANY /files/{proxy+}" and r["AuthorizationType"] == "NONE"
    assert apigw.get_route(ApiId=api_id, RouteId=r["RouteId"])["Target"] == r["Target"]
    r2 = apigw.update_route(ApiId=api_id, RouteId=r["RouteId"], RouteKey="GET /files/{proxy+}")
    assert r2["RouteKey"] == "GET /files/{proxy+}"
    assert len(apigw.get_routes(ApiId=api_id)["Items"]) == 1
    with pytest.raises(ClientError) as e:
        apigw.create_route(ApiId=api_id, RouteKey="GET /files/{proxy+}")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as e:
        apigw.create_route(ApiId=api_id, RouteKey="GET /{proxy+}/x")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                 PayloadFormatVersion="2.0", TimeoutInMillis=30001)
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    d = apigw.create_deployment(ApiId=api_id)
    assert d["DeploymentStatus"] == "DEPLOYED"
    s = apigw.create_stage(ApiId=api_id, StageName="prod", DeploymentId=d["DeploymentId"],
                           StageVariables={"v": "1"},
                           DefaultRouteSettings={"ThrottlingBurstLimit": 10,
                                                 "ThrottlingRateLimit": 5.0})
    assert s["StageName"] == "prod" and s["StageVariables"] == {"v": "1"}
    assert s["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 10
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == d["DeploymentId"]
    assert [x["StageName"] for x in apigw.get_stages(ApiId=api_id)["Items"]] == ["prod"]
    assert apigw.get_deployments(ApiId=api_id)["Items"][0]["DeploymentId"] == d["DeploymentId"]
    apigw.delete_route(ApiId=api_id, RouteId=r["RouteId"])
    apigw.delete_integration(ApiId=api_id, IntegrationId=i["IntegrationId"])
    apigw.delete_stage(ApiId=api_id, StageName="prod")
    apigw.delete_api(ApiId=api_id)


def test_quick_create_and_authorizers(apigw):
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo"
    api = apigw.create_api(Name="q", ProtocolType="HTTP", Target=arn, RouteKey="GET /hi")
    routes = apigw.get_routes(ApiId=api["ApiId"])["Items"]
    assert [r["RouteKey"] for r in routes] == ["GET /hi"]
    integ = apigw.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert integ["IntegrationType"] == "AWS_PROXY" and integ["PayloadFormatVersion"] == "2.0"
    stage = apigw.get_stage(ApiId=api["ApiId"], StageName="$default")
    assert stage["AutoDeploy"] is True
    a = apigw.create_authorizer(ApiId=api["ApiId"], AuthorizerType="JWT", Name="jwt",
                                IdentitySource=["$request.header.Authorization"],
                                JwtConfiguration={"Issuer": "http://issuer", "Audience": ["x"]})
    assert a["JwtConfiguration"] == {"Issuer": "http://issuer", "Audience": ["x"]}
    tags_arn = f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}"
    apigw.tag_resource(ResourceArn=tags_arn, Tags={"k": "v"})
    assert apigw.get_tags(ResourceArn=tags_arn)["Tags"] == {"k": "v"}
    apigw.untag_resource(ResourceArn=tags_arn, TagKeys=["k"])
    assert apigw.get_tags(ResourceArn=tags_arn)["Tags"] == {}


# ---- data plane ----------------------------------------------------------------------------

def test_v2_event_fields(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn, route_keys=("POST /items/{id}",),
                      )
    r = call(gateway_url, api["ApiId"], "POST",
             "/items/42?parameter1=value1&parameter1=value2&parameter2=value",
             headers={"Header1": "value1", "Cookie": "cookie1; cookie2",
                      "User-Agent": "agent", "Content-Type": "text/plain"},
             data="Hello from Lambda")
    assert r.status_code == 200, r.text
    assert r.headers["apigw-requestid"]
    # Host names are case-insensitive.
    port = gateway_url.rsplit(":", 1)[1]
    upper = call(gateway_url, api["ApiId"], "POST", "/items/1", data="x", headers={
        "Host": f"{api['ApiId'].upper()}.EXECUTE-API.LOCALHOST:{port}"})
    assert upper.status_code == 200, upper.text
    e = r.json()
    assert e["version"] == "2.0"
    assert e["routeKey"] == "POST /items/{id}"
    assert e["rawPath"] == "/items/42"
    assert e["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert e["cookies"] == ["cookie1", "cookie2"]
    assert e["headers"]["header1"] == "value1"
    assert "cookie" not in e["headers"]
    # An X-Ray trace id, as API Gateway adds; no hop-by-hop headers.
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", e["headers"]["x-amzn-trace-id"])
    assert "connection" not in e["headers"]
    assert e["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert e["pathParameters"] == {"id": "42"}
    assert e["body"] == "Hello from Lambda" and e["isBase64Encoded"] is False
    rc = e["requestContext"]
    assert rc["accountId"] == ACCOUNT and rc["apiId"] == api["ApiId"]
    assert rc["domainName"] == f"{api['ApiId']}.execute-api.localhost"
    assert rc["domainPrefix"] == api["ApiId"]
    assert rc["http"] == {"method": "POST", "path": "/items/42", "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "agent"}
    assert rc["requestId"] == r.headers["apigw-requestid"]
    assert rc["routeKey"] == "POST /items/{id}" and rc["stage"] == "$default"
    assert isinstance(rc["timeEpoch"], int) and abs(rc["timeEpoch"] / 1000 - time.time()) < 60
    assert time.strptime(rc["time"], "%d/%b/%Y:%H:%M:%S +0000")


def test_v1_event_fields(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn, version="1.0", route_keys=("GET /my/path",))
    r = call(gateway_url, api["ApiId"], "GET",
             "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
             headers={"Header1": "value1", "User-Agent": "user-agent"})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["version"] == "1.0"
    assert e["resource"] == "/my/path" and e["path"] == "/my/path" and e["httpMethod"] == "GET"
    assert e["headers"]["header1"] == "value1"
    assert e["multiValueHeaders"]["header1"] == ["value1"]
    assert e["queryStringParameters"] == {"parameter1": "value1", "parameter2": "value"}
    assert e["multiValueQueryStringParameters"] == {"parameter1": ["value1", "value2"],
                                                    "parameter2": ["value"]}
    assert e["pathParameters"] is None and e["stageVariables"] is None
    assert e["body"] is None and e["isBase64Encoded"] is False
    rc = e["requestContext"]
    assert rc["httpMethod"] == "GET" and rc["path"] == "/my/path"
    assert rc["resourcePath"] == "/my/path" and rc["stage"] == "$default"
    assert rc["identity"]["sourceIp"] == "127.0.0.1"
    assert rc["identity"]["userAgent"] == "user-agent"
    assert rc["protocol"] == "HTTP/1.1" and rc["extendedRequestId"] == rc["requestId"]
    assert isinstance(rc["requestTimeEpoch"], int)


def test_response_mapping_and_errors(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn, route_keys=("ANY /{proxy+}",))
    a = api["ApiId"]
    r = call(gateway_url, a, "GET", "/plain")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world"}
    # A bare string is the body, without its JSON quotes (payload 2.0's inference).
    r = call(gateway_url, a, "GET", "/malformed")
    assert (r.status_code, r.text) == (200, "not a proxy response")
    r = call(gateway_url, a, "GET", "/cookies")
    assert r.status_code == 201 and r.text == "ok" and r.headers["x-custom"] == "yes"
    assert r.raw.headers.getlist("set-cookie") == ["a=1", "b=2; Path=/"]
    r = call(gateway_url, a, "GET", "/binary")
    assert r.content == b"\x00\x01\x02"
    r = call(gateway_url, a, "GET", "/error")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    r = call(gateway_url, a, "GET", "/")
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    r = call(gateway_url, a, "POST", "/big", data=b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413


def test_v1_multi_value_headers_and_malformed(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn, version="1.0", route_keys=("ANY /{proxy+}",))
    r = call(gateway_url, api["ApiId"], "GET", "/multi")
    assert r.status_code == 200 and r.raw.headers.getlist("x-m") == ["1", "2"]
    r = call(gateway_url, api["ApiId"], "GET", "/malformed")
    assert (r.status_code, r.json()) == (502, {"message": "Internal Server Error"})


def test_malformed_chunked_body_is_a_bad_request(apigw, echo_arn, gateway_url):
    import socket
    api, _ = http_api(apigw, echo_arn, route_keys=("POST /items",))
    host, port = gateway_url.split("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"POST /items HTTP/1.1\r\nHost: {api['ApiId']}.execute-api.localhost:{port}"
                      "\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n").encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400", status_line


def test_named_stage_and_stage_variables(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn)
    apigw.create_stage(ApiId=api["ApiId"], StageName="prod", AutoDeploy=True,
                       StageVariables={"color": "blue"})
    e = call(gateway_url, api["ApiId"], "GET", "/prod/items/7").json()
    assert e["rawPath"] == "/prod/items/7" and e["requestContext"]["stage"] == "prod"
    assert e["stageVariables"] == {"color": "blue"} and e["pathParameters"] == {"id": "7"}


def test_integration_timeout(apigw, echo_arn, gateway_url):
    api = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP")
    i = apigw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                 IntegrationUri=echo_arn, PayloadFormatVersion="2.0",
                                 TimeoutInMillis=500)
    apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /sleep",
                       Target=f"integrations/{i['IntegrationId']}")
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    r = call(gateway_url, api["ApiId"], "GET", "/sleep")
    assert r.status_code == 504


def test_cors_preflight_and_browser_request(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn, route_keys=("GET /items/{id}", "GET /own-cors"),
                      CorsConfiguration={
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type", "authorization"], "MaxAge": 600,
        "AllowCredentials": True})
    r = call(gateway_url, api["ApiId"], "OPTIONS", "/items/1",
             headers={"Origin": "https://app.example",
                      "Access-Control-Request-Method": "GET",
                      "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert r.headers["access-control-allow-headers"] == "content-type,authorization"
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = call(gateway_url, api["ApiId"], "GET", "/items/1",
             headers={"Origin": "https://app.example", "Accept": "application/json",
                      "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                      "Accept-Language": "en-US,en;q=0.5", "Cookie": "session=abc",
                      "Referer": "https://app.example/page"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    e = r.json()
    assert e["cookies"] == ["session=abc"]
    assert e["requestContext"]["http"]["userAgent"].startswith("Mozilla/5.0")
    r = call(gateway_url, api["ApiId"], "OPTIONS", "/items/1",
             headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    # The API's CORS configuration replaces the CORS headers the function sends.
    r = call(gateway_url, api["ApiId"], "GET", "/own-cors",
             headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = call(gateway_url, api["ApiId"], "GET", "/own-cors",
             headers={"Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "https://app.example"


def test_throttling(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn)
    apigw.update_stage(ApiId=api["ApiId"], StageName="$default",
                       DefaultRouteSettings={"ThrottlingBurstLimit": 1,
                                             "ThrottlingRateLimit": 0.01})
    statuses = [call(gateway_url, api["ApiId"], "GET", "/items/1").status_code for _ in range(3)]
    assert statuses[0] == 200 and 429 in statuses[1:]


def test_root_mapping_by_tag(apigw, echo_arn, gateway_url):
    api, _ = http_api(apigw, echo_arn)
    apigw.tag_resource(ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}",
                       Tags={"nimbus:root": "true"})
    r = requests.get(gateway_url + "/items/42", timeout=30)
    assert r.status_code == 200 and r.json()["pathParameters"] == {"id": "42"}
    apigw.delete_api(ApiId=api["ApiId"])


def test_lambda_authorizer_simple_response(apigw, echo_arn, authorizer_arn, gateway_url):
    api, integration = http_api(apigw, echo_arn, route_keys=())
    a = apigw.create_authorizer(ApiId=api["ApiId"], AuthorizerType="REQUEST", Name="lam",
                                AuthorizerUri=authorizer_arn, IdentitySource=["$request.header.x-token"],
                                AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True)
    apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /items/{id}", AuthorizationType="CUSTOM",
                       AuthorizerId=a["AuthorizerId"],
                       Target=f"integrations/{integration['IntegrationId']}")
    assert call(gateway_url, api["ApiId"], "GET", "/items/1").status_code == 401
    r = call(gateway_url, api["ApiId"], "GET", "/items/1", headers={"x-token": "nope"})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = call(gateway_url, api["ApiId"], "GET", "/items/1", headers={"x-token": "letmein"})
    assert r.status_code == 200
    assert r.json()["requestContext"]["authorizer"] == {"lambda": {"user": "alice", "n": 7}}


# ---- AWS_IAM routes: SigV4 for execute-api -------------------------------------------------

def signed_call(server, gateway_url, api_id, method, path, body=b"", secret=None,
                service="execute-api", credentials=None):
    """`path` on the API, signed with botocore's SigV4Auth as the AWS SDKs sign API calls
    (with the server's key, or `credentials`)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    port = gateway_url.rsplit(":", 1)[1]
    host = f"{api_id}.execute-api.localhost:{port}"
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                         headers={"Host": host})
    credentials = credentials or Credentials(server.access_key, secret or server.secret_key)
    SigV4Auth(credentials, service, server.region).add_auth(request)
    return requests.request(method, gateway_url + path, headers=dict(request.headers),
                            data=body, timeout=30)


def test_aws_iam_route_needs_a_valid_signature(apigw, echo_arn, gateway_url, nimbus_server):
    api, integration = http_api(apigw, echo_arn, route_keys=())
    route = apigw.create_route(ApiId=api["ApiId"], RouteKey="POST /items/{id}",
                               AuthorizationType="AWS_IAM",
                               Target=f"integrations/{integration['IntegrationId']}")
    assert route["AuthorizationType"] == "AWS_IAM"
    unsigned = call(gateway_url, api["ApiId"], "POST", "/items/1", data="{}")
    assert (unsigned.status_code, unsigned.json()) == (403, {"message": "Forbidden"})
    wrong = signed_call(nimbus_server, gateway_url, api["ApiId"], "POST", "/items/1", b"{}",
                        secret="not-the-secret")
    assert wrong.status_code == 403
    assert wrong.json()["message"].startswith("The request signature we calculated does not match")
    assert wrong.headers["x-amzn-errortype"] == "InvalidSignatureException"
    other_service = signed_call(nimbus_server, gateway_url, api["ApiId"], "POST", "/items/1",
                                b"{}", service="lambda")
    assert other_service.status_code == 403
    r = signed_call(nimbus_server, gateway_url, api["ApiId"], "POST", "/items/1?x=1", b'{"a":1}')
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["body"] == '{"a":1}'
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == nimbus_server.access_key
    assert iam["accountId"] == ACCOUNT
    assert iam["userArn"] == f"arn:aws:iam::{ACCOUNT}:root"
    # Temporary credentials from STS are the endpoint's too; the event names the role.
    from botocore.credentials import Credentials
    sts = boto3.client("sts", **_client_kwargs(nimbus_server))
    session = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/caller",
                              RoleSessionName="gw")["Credentials"]
    temporary = Credentials(session["AccessKeyId"], session["SecretAccessKey"],
                            session["SessionToken"])
    r = signed_call(nimbus_server, gateway_url, api["ApiId"], "POST", "/items/2", b"{}",
                    credentials=temporary)
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"]["iam"]["userArn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/caller/gw"
    # Turning the route's authorization off opens it again.
    apigw.update_route(ApiId=api["ApiId"], RouteId=route["RouteId"], AuthorizationType="NONE")
    assert call(gateway_url, api["ApiId"], "POST", "/items/1", data="{}").status_code == 200


def test_aws_iam_route_v1_event_names_the_signer(apigw, echo_arn, gateway_url, nimbus_server):
    api, integration = http_api(apigw, echo_arn, version="1.0", route_keys=())
    apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /items/{id}",
                       AuthorizationType="AWS_IAM",
                       Target=f"integrations/{integration['IntegrationId']}")
    r = signed_call(nimbus_server, gateway_url, api["ApiId"], "GET", "/items/7")
    assert r.status_code == 200, r.text
    identity = r.json()["requestContext"]["identity"]
    assert identity["accessKey"] == nimbus_server.access_key
    assert identity["accountId"] == ACCOUNT
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:root"


# ---- JWT with a locally generated key pair ---------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _start_issuer(tls_context=None, jwks_uri=None):
    """An OpenID-style issuer on loopback serving one locally generated RSA key: returns
    (url, sign, server); `server.jwks` is its key set. `jwks_uri` replaces the key location
    its discovery document names."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
           "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
           "e": _b64(numbers.e.to_bytes(3, "big"))}
    state = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": state["url"], "jwks_uri": jwks_uri or state["url"] + "/keys"}
            elif self.path == "/keys":
                body = {"keys": [jwk]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.jwks = {"keys": [jwk]}
    scheme = "http"
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    state["url"] = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def sign(claims, kid="k1"):
        header = {"alg": "RS256", "typ": "JWT", "kid": kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(sig)}"

    return state["url"], sign, server


def _jwt_route(client, api, integration, issuer_url, route_key, **route):
    """A JWT authorizer for `issuer_url` (audience my-app) on a new route of `api`."""
    a = client.create_authorizer(ApiId=api["ApiId"], AuthorizerType="JWT", Name="jwt",
                                 IdentitySource=["$request.header.Authorization"],
                                 JwtConfiguration={"Issuer": issuer_url, "Audience": ["my-app"]})
    client.create_route(ApiId=api["ApiId"], RouteKey=route_key, AuthorizationType="JWT",
                        AuthorizerId=a["AuthorizerId"],
                        Target=f"integrations/{integration['IntegrationId']}", **route)


@pytest.fixture(scope="module")
def issuer():
    url, sign, server = _start_issuer()
    yield url, sign
    server.shutdown()


def test_jwt_authorizer(apigw, echo_arn, gateway_url, issuer):
    url, sign = issuer
    api, integration = http_api(apigw, echo_arn, route_keys=())
    _jwt_route(apigw, api, integration, url, "GET /items/{id}",
               AuthorizationScopes=["items:read"])
    now = int(time.time())
    good = {"iss": url, "aud": "my-app", "sub": "user-1", "exp": now + 600, "iat": now,
            "scope": "items:read profile"}
    r = call(gateway_url, api["ApiId"], "GET", "/items/1")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    r = call(gateway_url, api["ApiId"], "GET", "/items/1",
             headers={"Authorization": f"Bearer {sign(good)}"})
    assert r.status_code == 200, r.text
    jwt = r.json()["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "user-1" and jwt["claims"]["exp"] == str(now + 600)
    assert jwt["scopes"] == ["items:read", "profile"]
    missing_iss = {k: v for k, v in good.items() if k != "iss"}
    # As API Gateway checks them: iss is the issuer, as a string; exp is required; nbf and
    # iat, when present, are not in the future.
    for bad in [dict(good, aud="other"), dict(good, iss="http://elsewhere"),
                dict(good, exp=now - 10), missing_iss, dict(good, iss=5), dict(good, iss=[url]),
                {k: v for k, v in good.items() if k != "exp"}, dict(good, nbf=now + 3600),
                dict(good, iat=now + 3600)]:
        r = call(gateway_url, api["ApiId"], "GET", "/items/1",
                 headers={"Authorization": f"Bearer {sign(bad)}"})
        assert r.status_code == 401, bad
    r = call(gateway_url, api["ApiId"], "GET", "/items/1",
             headers={"Authorization": f"Bearer {sign(dict(good, scope='other'))}"})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = call(gateway_url, api["ApiId"], "GET", "/items/1",
             headers={"Authorization": "Bearer " + sign(good)[:-4] + "AAAA"})
    assert r.status_code == 401


def test_a_remote_issuer_cannot_point_at_local_files(apigw, echo_arn, gateway_url, tmp_path):
    # An issuer whose discovery document names a file:// jwks_uri: the server must not read
    # its own files on a remote issuer's word, even a file holding a valid key set.
    keys = tmp_path / "keys.json"
    url, sign, server = _start_issuer(jwks_uri=f"file://{keys}")
    try:
        keys.write_text(json.dumps(server.jwks))
        token = sign({"iss": url, "aud": "my-app", "exp": int(time.time()) + 600})
        api, integration = http_api(apigw, echo_arn, route_keys=())
        _jwt_route(apigw, api, integration, url, "GET /f")
        r = call(gateway_url, api["ApiId"], "GET", "/f", headers={"Authorization": token})
        assert r.status_code == 401, r.text
    finally:
        server.shutdown()


def _certificates(directory):
    """A local CA and a certificate for 127.0.0.1 signed by it, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(name("nimbus test CA")).issuer_name(name("nimbus test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "leaf.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    return directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key"


@pytest.mark.nimbus_only
def test_jwt_authorizer_with_keys_over_https(tmp_path_factory, monkeypatch):
    """Real issuers publish their keys over https: a server that trusts the issuer's CA
    (through SSL_CERT_FILE) fetches them; the same token is refused when signed by another key."""
    import ssl

    from conftest import _start_nimbus, _stop

    root = tmp_path_factory.mktemp("jwks-https")
    ca, leaf, leaf_key = _certificates(root)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf, leaf_key)
    url, sign, issuer_server = _start_issuer(context)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    server = _start_nimbus(root)
    try:
        lam = boto3.client("lambda", **_client_kwargs(server))
        gw = boto3.client("apigatewayv2", **_client_kwargs(server))
        arn = _create_function(lam, ECHO)
        api, integration = http_api(gw, arn, route_keys=())
        _jwt_route(gw, api, integration, url, "GET /items/{id}")
        now = int(time.time())
        good = {"iss": url, "aud": "my-app", "sub": "user-2", "exp": now + 600, "iat": now}
        r = call(server.gateway_endpoint, api["ApiId"], "GET", "/items/1",
                 headers={"Authorization": f"Bearer {sign(good)}"})
        assert r.status_code == 200, (r.status_code, r.text, server.log_tail())
        assert r.json()["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "user-2"
        _, other_sign, other_server = _start_issuer()
        other_server.shutdown()
        r = call(server.gateway_endpoint, api["ApiId"], "GET", "/items/1",
                 headers={"Authorization": f"Bearer {other_sign(good)}"})
        assert r.status_code == 401
    finally:
        _stop(server)
        issuer_server.shutdown()
