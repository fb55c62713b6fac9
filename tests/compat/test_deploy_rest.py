"""`nimbus deploy` of a SAM app with a REST API (API Gateway v1): the rest-crud project
(tests/fixtures/sam/rest-crud, in the shape `sam init` produces) is deployed, called at the URL
its Outputs print, re-deployed unchanged, changed, and deleted with its stack."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from test_deploy import deploy, nimbus, outputs, project, stack_name

pytestmark = pytest.mark.nimbus_only


def call(url: str, method="GET", **kwargs) -> requests.Response:
    """Calls an `http://{id}.execute-api.localhost:{port}/...` URL through 127.0.0.1."""
    parts = urlsplit(url)
    headers = kwargs.pop("headers", {})
    headers["Host"] = parts.netloc
    target = f"http://127.0.0.1:{parts.port}{parts.path or '/'}"
    if parts.query:
        target += "?" + parts.query
    return requests.request(method, target, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def apigw(nimbus_server):
    return boto3.client("apigateway", endpoint_url=nimbus_server.endpoint,
                        region_name=nimbus_server.region,
                        aws_access_key_id=nimbus_server.access_key,
                        aws_secret_access_key=nimbus_server.secret_key,
                        config=Config(retries={"max_attempts": 1}))


def test_rest_crud_deploy_call_redeploy_delete(nimbus_server, tmp_path, apigw):
    app = project(tmp_path, "rest-crud")
    stack = stack_name("restcrud")
    out = deploy(nimbus_server, app, stack)
    assert "create  rest api  ServerlessRestApi" in out.stdout, out.stdout
    assert "warning" not in out.stderr, out.stderr
    # The connector's Read and Write become the put function's table permissions.
    granted = r"may read\+write\S* \S*SampleTable\S* \(connector \w*SampleTableConn"
    assert re.search(granted, out.stdout), out.stdout
    outs = outputs(out.stdout)
    base = outs["WebEndpoint"]
    m = re.fullmatch(r"http://(\w+)\.execute-api\.localhost:\d+/Prod/", base)
    assert m, base
    api_id = m.group(1)

    # The implicit API as SAM makes it: named after the stack, stages Prod and Stage, tags.
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["name"] == stack
    assert api["tags"]["nimbus:stack-name"] == stack
    assert api["tags"]["nimbus:logical-id"] == "ServerlessRestApi"
    stages = sorted(s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"])
    assert stages == ["Prod", "Stage"]
    resources = apigw.get_resources(restApiId=api_id)["items"]
    paths = {r["path"]: sorted(r.get("resourceMethods", {})) for r in resources}
    assert paths == {"/": ["GET", "POST"], "/{id}": ["GET"]}
    # `!GetAtt ServerlessRestApi.RootResourceId` in Outputs is the id of `/`.
    assert outs["RootResourceId"] == next(r["id"] for r in resources if r["path"] == "/")

    # create, list, get
    r = call(base, "POST", json={"id": "1", "name": "pen"})
    assert r.status_code == 201, r.text
    assert r.json()["item"] == {"id": "1", "name": "pen"}
    assert call(base, "POST", json={"id": "2", "name": "ink"}).status_code == 201
    assert call(base, "POST", data="nope").status_code == 400
    listed = call(base)
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == ["1", "2"]
    got = call(base + "1")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["item"] == {"id": "1", "name": "pen"}
    # The REST proxy event's fields, as the function saw them.
    assert body["servedBy"] == {
        "resource": "/{id}",
        "path": "/1",
        "httpMethod": "GET",
        "pathParameters": {"id": "1"},
        "stage": "Prod",
        "resourcePath": "/{id}",
        "requestPath": "/Prod/1",
    }
    assert listed.json()["servedBy"]["resource"] == "/"
    assert call(base + "3").status_code == 404
    # The `Stage` stage serves the same deployment; other methods are missing tokens.
    stage_url = base.replace("/Prod/", "/Stage/")
    assert call(stage_url + "2").json()["item"]["name"] == "ink"
    assert call(base + "1", "DELETE").status_code == 403

    # Unchanged: nothing is written, the same URL is printed.
    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout
    assert outputs(again.stdout)["WebEndpoint"] == base
    assert outputs(again.stdout)["RootResourceId"] == outs["RootResourceId"]

    # A new route and CORS change the API in place: same id, same URL, new method served,
    # preflights answered by the OPTIONS methods SAM's Cors adds.
    template = app / "template.yaml"
    text = template.read_text().replace("Globals:\n", "Globals:\n  Api:\n"
                                        "    EndpointConfiguration: REGIONAL\n    Cors:\n"
                                        "      AllowOrigin: \"'*'\"\n"
                                        "      AllowHeaders: \"'Content-Type'\"\n")
    template.write_text(text.replace(
        "            Path: /{id}\n            Method: GET\n",
        "            Path: /{id}\n            Method: GET\n"
        "        Head:\n          Type: Api\n          Properties:\n"
        "            Path: /items/{id}\n            Method: GET\n"))
    changed = deploy(nimbus_server, app, stack)
    assert "update  rest api  ServerlessRestApi" in changed.stdout, changed.stdout
    assert outputs(changed.stdout)["WebEndpoint"] == base
    assert outputs(changed.stdout)["RootResourceId"] == outs["RootResourceId"]
    r = call(base + "items/2")
    assert r.status_code == 200, r.text
    assert r.json()["servedBy"]["resource"] == "/items/{id}"
    assert call(base + "1").status_code == 200
    pre = call(base, "OPTIONS", headers={"Origin": "http://example.com",
                                         "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200, pre.text
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert pre.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS,POST"
    assert pre.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert apigw.get_rest_api(restApiId=api_id)["endpointConfiguration"]["types"] == ["REGIONAL"]

    listed_apis = nimbus(nimbus_server, "apis")
    assert listed_apis.returncode == 0, listed_apis.stderr
    assert api_id in listed_apis.stdout and "REST" in listed_apis.stdout
    assert f"{api_id}.execute-api.localhost" in listed_apis.stdout
    as_json = nimbus(nimbus_server, "apis", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    mine = next(a for a in json.loads(as_json.stdout) if a["apiId"] == api_id)
    assert mine["protocolType"] == "REST" and mine["stages"] == ["Prod", "Stage"]
    assert base in mine["urls"]

    shown = nimbus(nimbus_server, "apis", "get", api_id)
    assert shown.returncode == 0, shown.stderr
    assert "/items/{id}" in shown.stdout and "REST" in shown.stdout

    # A change the server refuses (two variable path parts side by side) is rolled back:
    # the stages serve what they served before.
    deployments = {s["stageName"]: s["deploymentId"]
                   for s in apigw.get_stages(restApiId=api_id)["item"]}
    broken = template.read_text().replace(
        "            Path: /items/{id}\n", "            Path: /{other}/x\n")
    template.write_text(broken)
    failed = deploy(nimbus_server, app, stack, ok=False)
    assert failed.returncode != 0
    assert "ServerlessRestApi" in failed.stderr and "rolled back" in failed.stderr, failed.stderr
    assert {s["stageName"]: s["deploymentId"]
            for s in apigw.get_stages(restApiId=api_id)["item"]} == deployments
    assert call(base + "items/2").status_code == 200
    assert call(base + "1").json()["item"]["name"] == "pen"

    gone = nimbus(nimbus_server, "delete-stack", stack)
    assert gone.returncode == 0, gone.stderr
    assert "delete  rest api  ServerlessRestApi" in gone.stdout
    assert api_id not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert call(base).status_code == 404


IAM_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      Auth:
        DefaultAuthorizer: AWS_IAM
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        Private:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /private
            Method: get
        Public:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /public
            Method: get
            Auth:
              Authorizer: NONE
Outputs:
  Base:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/live/"
"""


def test_sam_api_default_authorizer_aws_iam(nimbus_server, tmp_path, apigw):
    from test_gateway import signed_call
    app = project(tmp_path, "python-hello")
    (app / "template.yaml").write_text(IAM_TEMPLATE)
    out = deploy(nimbus_server, app, stack_name("iam"))
    assert "not enforced" not in out.stderr, out.stderr
    base = outputs(out.stdout)["Base"]
    api_id = re.fullmatch(r"http://(\w+)\.execute-api\.localhost:\d+/live/", base).group(1)
    resources = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    kinds = {r["path"]: r["resourceMethods"]["GET"]["authorizationType"]
             for r in resources if r.get("resourceMethods")}
    assert kinds == {"/private": "AWS_IAM", "/public": "NONE"}
    assert call(base + "public").status_code == 200
    unsigned = call(base + "private")
    assert (unsigned.status_code, unsigned.json()) == (
        403, {"message": "Missing Authentication Token"})
    gateway = f"http://127.0.0.1:{urlsplit(base).port}"
    signed = signed_call(nimbus_server, gateway, api_id, "GET", "/live/private")
    assert signed.status_code == 200, signed.text
