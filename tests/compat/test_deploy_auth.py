"""`nimbus deploy` of SAM HTTP APIs with `Auth` (a JWT authorizer, a Lambda REQUEST authorizer
and `AWS_IAM`, as `Auth.Authorizers`, `DefaultAuthorizer` and events' `Auth.Authorizer` declare
them) and of functions with `FunctionUrlConfig` and `EventInvokeConfig`. The deployed API is
called through the gateway port: each route answers only what its authorizer lets through.
What Nimbus cannot enforce is refused rather than left open."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from test_deploy import aws_client, deploy, outputs, project, stack_name
from test_deploy_rest import call
from test_gateway import _start_issuer, signed_call

pytestmark = pytest.mark.nimbus_only

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        EnableIamAuthorizer: true
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            AuthorizationScopes: [items:read]
            JwtConfiguration:
              issuer: ISSUER
              audience: [my-app]
          Gate:
            FunctionArn: !GetAtt Gatekeeper.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity:
              Headers: [x-token]
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Events:
        Items:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /items, Method: get}
        Gated:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /gated
            Method: get
            Auth: {Authorizer: Gate}
        Signed:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /signed
            Method: get
            Auth: {Authorizer: AWS_IAM}
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /open
            Method: get
            Auth: {Authorizer: NONE}
  Gatekeeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: gate/
Outputs:
  Url:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/"
"""

ECHO = """\
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""

GATE = """\
def handler(event, context):
    token = (event.get("headers") or {}).get("x-token")
    return {"isAuthorized": token == "letmein", "context": {"user": "alice"}}
"""


@pytest.fixture(scope="module")
def issuer():
    url, sign, server = _start_issuer()
    yield url, sign
    server.shutdown()


@pytest.fixture
def app(tmp_path, issuer):
    app = project(tmp_path, "python-hello")
    (app / "template.yaml").write_text(TEMPLATE.replace("ISSUER", issuer[0]))
    for name, source in (("echo", ECHO), ("gate", GATE)):
        (app / name).mkdir()
        (app / name / "app.py").write_text(source)
    return app


@pytest.fixture(scope="module")
def apigw(nimbus_server):
    return aws_client(nimbus_server, "apigatewayv2")


def test_http_api_authorizers_from_sam(nimbus_server, app, issuer, apigw):
    url, sign = issuer
    stack = stack_name("auth")
    out = deploy(nimbus_server, app, stack)
    base = outputs(out.stdout)["Url"]
    api_id = urlsplit(base).hostname.split(".")[0]
    authorizers = {a["Name"]: a for a in apigw.get_authorizers(ApiId=api_id)["Items"]}
    assert authorizers["Jwt"]["AuthorizerType"] == "JWT"
    assert authorizers["Jwt"]["JwtConfiguration"] == {"Issuer": url, "Audience": ["my-app"]}
    assert authorizers["Gate"]["AuthorizerType"] == "REQUEST"
    assert authorizers["Gate"]["IdentitySource"] == ["$request.header.x-token"]
    routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api_id)["Items"]}
    assert routes["GET /items"]["AuthorizationType"] == "JWT"
    assert routes["GET /items"]["AuthorizationScopes"] == ["items:read"]
    assert routes["GET /gated"]["AuthorizationType"] == "CUSTOM"
    assert routes["GET /signed"]["AuthorizationType"] == "AWS_IAM"
    assert routes["GET /open"]["AuthorizationType"] == "NONE"

    # The default JWT authorizer, with its scopes.
    assert call(base + "items").status_code == 401
    now = int(time.time())
    claims = {"iss": url, "aud": "my-app", "sub": "u1", "exp": now + 600, "iat": now}
    no_scope = call(base + "items", headers={"Authorization": f"Bearer {sign(claims)}"})
    assert no_scope.status_code == 403
    token = sign({**claims, "scope": "items:read"})
    r = call(base + "items", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["jwt"]["claims"]["sub"] == "u1"
    # The Lambda authorizer.
    assert call(base + "gated").status_code == 401
    assert call(base + "gated", headers={"x-token": "nope"}).status_code == 403
    r = call(base + "gated", headers={"x-token": "letmein"})
    assert (r.status_code, r.json()) == (200, {"lambda": {"user": "alice"}})
    # AWS_IAM and an open route.
    assert call(base + "signed").status_code == 403
    gateway = f"http://127.0.0.1:{urlsplit(base).port}"
    r = signed_call(nimbus_server, gateway, api_id, "GET", "/signed")
    assert r.status_code == 200, r.text
    assert r.json()["iam"]["accessKey"] == nimbus_server.access_key
    assert call(base + "open").status_code == 200

    # Dropping the authorizers opens the routes again, in place.
    template = app / "template.yaml"
    text = template.read_text()
    auth_block = text[text.index("      Auth:\n        EnableIam"):text.index("  Echo:")]
    text = text.replace(auth_block, "      Description: no authorizers\n")
    text = text.replace("            Auth: {Authorizer: Gate}\n", "")
    template.write_text(text)
    again = deploy(nimbus_server, app, stack)
    assert outputs(again.stdout)["Url"] == base
    assert apigw.get_authorizers(ApiId=api_id)["Items"] == []
    assert call(base + "items").status_code == 200
    assert call(base + "gated").status_code == 200
    assert call(base + "signed").status_code == 403


def test_auth_nimbus_cannot_enforce_is_refused(nimbus_server, app):
    template = app / "template.yaml"
    template.write_text(template.read_text().replace(
        "        EnableIamAuthorizer: true\n",
        "        EnableIamAuthorizer: true\n        ResourcePolicy: {AwsAccountWhitelist: ['1']}\n"))
    out = deploy(nimbus_server, app, stack_name("authno"), ok=False)
    assert out.returncode != 0
    assert "Auth.ResourcePolicy is not supported" in out.stdout + out.stderr


URL_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      FunctionUrlConfig:
        AuthType: NONE
        Cors:
          AllowOrigins: ["https://example.com"]
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 120
        DestinationConfig:
          OnFailure:
            Type: Lambda
            Destination: !GetAtt Gatekeeper.Arn
  Gatekeeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: gate/
      Handler: app.handler
      Runtime: python3.12
Outputs:
  Url:
    Value: !GetAtt HelloUrl.FunctionUrl
"""


def test_function_url_config_from_sam(nimbus_server, app):
    lam = aws_client(nimbus_server, "lambda")
    (app / "template.yaml").write_text(URL_TEMPLATE)
    stack = stack_name("url")
    out = deploy(nimbus_server, app, stack)
    assert "not honoured" not in out.stderr, out.stderr
    url = outputs(out.stdout)["Url"]
    assert "lambda-url.localhost" in url, out.stdout
    r = call(url, headers={"Origin": "https://example.com"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://example.com"
    name = next(f["FunctionName"] for f in lam.list_functions()["Functions"]
                if f["FunctionName"].startswith(f"{stack}-Hello"))
    config = lam.get_function_url_config(FunctionName=name, Qualifier="live")
    assert config["FunctionUrl"] == url and config["AuthType"] == "NONE"
    settings = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    assert (settings["MaximumRetryAttempts"], settings["MaximumEventAgeInSeconds"]) == (1, 120)
    assert ":function:" in settings["DestinationConfig"]["OnFailure"]["Destination"]
    # Without FunctionUrlConfig the URL goes away.
    template = app / "template.yaml"
    text = template.read_text()
    cut = text[text.index("      FunctionUrlConfig:"):text.index("  Gatekeeper:")]
    template.write_text(text.replace(cut, "").replace(
        "Outputs:\n  Url:\n    Value: !GetAtt HelloUrl.FunctionUrl\n", ""))
    deploy(nimbus_server, app, stack)
    assert call(url).status_code == 404
    assert lam.list_function_event_invoke_configs(
        FunctionName=name)["FunctionEventInvokeConfigs"] == []
