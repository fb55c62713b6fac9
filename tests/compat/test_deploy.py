"""`nimbus deploy`, `nimbus stacks` and `nimbus delete-stack` with SAM templates.

The projects under tests/fixtures/sam/ are written like the SAM quick starts (a Python and a
Node.js hello world behind an HTTP API, a CRUD API over a table): each is deployed, called at
the URL its Outputs print, re-deployed unchanged, changed, shrunk and deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

pytestmark = pytest.mark.nimbus_only

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sam"


def binary() -> str:
    return os.environ.get("NIMBUS_BIN") or str(REPO_ROOT / "target" / "debug" / "nimbus")


def server_args(server) -> list[str]:
    return [
        "--data-dir", str(server.data_dir),
        "--listen", server.endpoint.removeprefix("http://"),
        "--gateway", server.gateway_endpoint.removeprefix("http://").rstrip("/"),
    ]


def nimbus(server, *args, timeout=120):
    return subprocess.run([binary(), *args, *server_args(server)],
                          capture_output=True, text=True, timeout=timeout)


def deploy(server, project: Path, stack: str, *extra, ok=True):
    out = nimbus(server, "deploy", str(project / "template.yaml"), "--stack-name", stack, *extra)
    if ok:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def outputs(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\w+) = (\S+)$", stdout, re.M))


def call(url: str, method="GET", **kwargs) -> requests.Response:
    """Calls an `http://{id}.execute-api.localhost:{port}/...` URL through 127.0.0.1."""
    parts = urlsplit(url)
    headers = kwargs.pop("headers", {})
    headers["Host"] = parts.netloc
    target = f"http://127.0.0.1:{parts.port}{parts.path or '/'}"
    return requests.request(method, target, headers=headers, timeout=30, **kwargs)


def project(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def stack_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def aws_client(server, service):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=server.region,
                        aws_access_key_id=server.access_key,
                        aws_secret_access_key=server.secret_key,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def lam(nimbus_server):
    return aws_client(nimbus_server, "lambda")


@pytest.fixture(scope="module")
def ddb(nimbus_server):
    return aws_client(nimbus_server, "dynamodb")


def function_names(lam) -> set[str]:
    return {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_python_hello_world_deploy_change_redeploy_delete(nimbus_server, tmp_path, lam):
    app = project(tmp_path, "python-hello")
    stack = stack_name("py")
    out = deploy(nimbus_server, app, stack)
    assert "create  function  HelloWorldFunction" in out.stdout
    assert "create  http api  ServerlessHttpApi" in out.stdout
    urls = outputs(out.stdout)
    assert urls["HelloWorldApi"].endswith("/hello")
    assert urls["HelloWorldFunction"].startswith("arn:aws:lambda:us-east-1:")
    assert f":role/{stack}-HelloWorldFunctionRole" in urls["HelloWorldFunctionIamRole"]
    name = urls["HelloWorldFunction"].rsplit(":", 1)[1]
    assert re.fullmatch(rf"{stack}-HelloWorldFunction-[A-Z0-9]{{12}}", name), name
    r = call(urls["HelloWorldApi"])
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello world"}

    # Unchanged: nothing is written, the same URL is printed.
    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout
    assert outputs(again.stdout)["HelloWorldApi"] == urls["HelloWorldApi"]

    # A code change updates the function in place, under the same name.
    code = app / "hello_world" / "app.py"
    code.write_text(code.read_text().replace('"hello world"', '"hello again"'))
    changed = deploy(nimbus_server, app, stack)
    assert "update  function  HelloWorldFunction" in changed.stdout, changed.stdout
    assert "(code)" in changed.stdout
    assert call(urls["HelloWorldApi"]).json() == {"message": "hello again"}
    assert name in function_names(lam)

    listed = nimbus(nimbus_server, "stacks")
    assert listed.returncode == 0, listed.stderr
    assert stack in listed.stdout and name in listed.stdout

    gone = nimbus(nimbus_server, "delete-stack", stack)
    assert gone.returncode == 0, gone.stderr
    assert name not in function_names(lam)
    assert call(urls["HelloWorldApi"]).status_code == 404
    assert stack not in nimbus(nimbus_server, "stacks").stdout
    missing = nimbus(nimbus_server, "delete-stack", stack)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_nodejs_hello_world_with_parameter_overrides(nimbus_server, tmp_path):
    app = project(tmp_path, "node-hello")
    stack = stack_name("node")
    out = deploy(nimbus_server, app, stack)
    url = outputs(out.stdout)["HelloWorldApi"]
    r = call(url)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello world", "stack": stack}

    # A parameter changes the configuration (Globals environment), not the code.
    out = deploy(nimbus_server, app, stack, "--parameter-overrides", "Greeting=bonjour")
    assert "(configuration)" in out.stdout, out.stdout
    assert call(url).json() == {"message": "bonjour", "stack": stack}
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_crud_api_over_a_simple_table(nimbus_server, tmp_path, lam, ddb):
    app = project(tmp_path, "crud")
    stack = stack_name("crud")
    out = deploy(nimbus_server, app, stack)
    outs = outputs(out.stdout)
    base, table = outs["ApiUrl"], outs["TableName"]
    assert table.startswith(f"{stack}-ItemsTable-")
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    r = call(f"{base}/items", "PUT", json={"id": "a1", "name": "apple"})
    assert r.status_code == 200, r.text
    assert call(f"{base}/items", "PUT", json={"id": "b2", "name": "banana"}).status_code == 200
    assert call(f"{base}/items/a1").json() == {"id": "a1", "name": "apple"}
    assert [i["id"] for i in call(f"{base}/items").json()] == ["a1", "b2"]
    assert call(f"{base}/items/b2", "DELETE").status_code == 204
    assert call(f"{base}/items/b2").status_code == 404
    # CORS from the HttpApi Globals.
    pre = call(f"{base}/items", "OPTIONS", headers={
        "Origin": "http://example.com", "Access-Control-Request-Method": "PUT"})
    assert pre.headers.get("access-control-allow-origin") in ("*", "http://example.com")

    # Conditions: Stage=prod makes the functions bigger.
    out = deploy(nimbus_server, app, stack, "--parameter-overrides", "Stage=prod")
    put_fn = next(n for n in function_names(lam) if n.startswith(f"{stack}-PutItemFunction-"))
    assert lam.get_function_configuration(FunctionName=put_fn)["MemorySize"] == 512

    # Removing a function (and its route) deletes it; the table and its items stay.
    template = app / "template.yaml"
    text = template.read_text()
    start = text.index("  DeleteItemFunction:")
    end = text.index("Outputs:")
    template.write_text(text[:start] + text[end:])
    out = deploy(nimbus_server, app, stack, "--parameter-overrides", "Stage=prod")
    assert "delete  function  DeleteItemFunction" in out.stdout, out.stdout
    assert "update  http api  ServerlessHttpApi" in out.stdout, out.stdout
    assert not any(n.startswith(f"{stack}-DeleteItemFunction-") for n in function_names(lam))
    assert call(f"{base}/items/a1", "DELETE").status_code == 404
    assert call(f"{base}/items/a1").json()["name"] == "apple"

    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0
    assert table not in ddb.list_tables()["TableNames"]
    assert not any(n.startswith(f"{stack}-") for n in function_names(lam))


def test_a_broken_template_is_refused_with_its_line_and_changes_nothing(nimbus_server, tmp_path,
                                                                        lam):
    app = project(tmp_path, "python-hello")
    stack = stack_name("broken")
    url = outputs(deploy(nimbus_server, app, stack).stdout)["HelloWorldApi"]
    template = app / "template.yaml"
    good = template.read_text()
    before = function_names(lam)

    # A bad intrinsic: the line of the !GetAtt is named.
    template.write_text(good.replace(
        "      Runtime: python3.12\n",
        "      Runtime: python3.12\n      Environment:\n        Variables:\n"
        "          TABLE: !GetAtt NoSuchTable.Arn\n"))
    out = deploy(nimbus_server, app, stack, ok=False)
    assert out.returncode != 0
    line = next(i + 1 for i, l in enumerate(template.read_text().splitlines())
                if "NoSuchTable" in l)
    assert f"Resource HelloWorldFunction (template line {line})" in out.stderr, out.stderr
    assert "NoSuchTable" in out.stderr

    # A missing Handler.
    template.write_text(good.replace("      Handler: app.lambda_handler\n", ""))
    out = deploy(nimbus_server, app, stack, ok=False)
    assert out.returncode != 0
    assert "Resource HelloWorldFunction (template line 15): the function has no Handler" \
        in out.stderr, out.stderr

    # Not YAML at all.
    template.write_text(good + "  Broken: [\n")
    out = deploy(nimbus_server, app, stack, ok=False)
    assert out.returncode != 0 and "invalid YAML" in out.stderr, out.stderr

    assert function_names(lam) == before
    assert call(url).json() == {"message": "hello world"}
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_unsupported_resources_are_reported_and_refused(nimbus_server, tmp_path, lam):
    app = project(tmp_path, "python-hello")
    stack = stack_name("unsup")
    template = app / "template.yaml"
    template.write_text(template.read_text().replace(
        "Resources:\n",
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      VisibilityTimeout: 30\n"))
    out = deploy(nimbus_server, app, stack, "--strict", ok=False)
    assert out.returncode != 0
    assert re.search(r"Queue +AWS::SQS::Queue +\(template line 15\)", out.stderr), out.stderr
    assert not any(n.startswith(f"{stack}-") for n in function_names(lam))
    assert stack not in nimbus(nimbus_server, "stacks").stdout


def test_api_events_deploy_the_implicit_rest_api(nimbus_server, tmp_path):
    # The hello world quick start as `sam init` wrote it before HTTP APIs: an Api event.
    app = project(tmp_path, "python-hello")
    stack = stack_name("rest")
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Type: HttpApi", "Type: Api").replace(
        "${ServerlessHttpApi}", "${ServerlessRestApi}").replace(
        "${AWS::URLSuffix}/hello", "${AWS::URLSuffix}/Prod/hello/"))
    out = deploy(nimbus_server, app, stack)
    assert "create  rest api  ServerlessRestApi" in out.stdout, out.stdout
    url = outputs(out.stdout)["HelloWorldApi"]
    assert url.endswith("/Prod/hello/"), url
    r = call(url)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello world"}
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_a_failed_deploy_rolls_back(nimbus_server, tmp_path, lam, ddb):
    app = project(tmp_path, "python-hello")
    stack = stack_name("rollback")
    url = outputs(deploy(nimbus_server, app, stack).stdout)["HelloWorldApi"]
    tables_before = set(ddb.list_tables()["TableNames"])
    functions_before = function_names(lam)

    # New table (created first), changed code (updated), then a function Lambda refuses.
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Resources:\n", """Resources:
  Extra:
    Type: AWS::Serverless::SimpleTable
  Zbroken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      MemorySize: 1
"""))
    code = app / "hello_world" / "app.py"
    code.write_text(code.read_text().replace('"hello world"', '"half deployed"'))
    out = deploy(nimbus_server, app, stack, ok=False)
    assert out.returncode != 0
    assert re.search(r"Resource Zbroken \(template line \d+\): ", out.stderr), out.stderr
    assert "rolled back" in out.stderr
    assert set(ddb.list_tables()["TableNames"]) == tables_before
    assert function_names(lam) == functions_before
    assert call(url).json() == {"message": "hello world"}
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_watch_updates_code_without_a_restart(nimbus_server, tmp_path):
    app = project(tmp_path, "python-hello")
    stack = stack_name("watch")
    proc = subprocess.Popen(
        [binary(), "deploy", str(app / "template.yaml"), "--stack-name", stack, "--watch",
         *server_args(nimbus_server)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Watching"):
                break
        url = outputs("".join(lines))["HelloWorldApi"]
        assert call(url).json() == {"message": "hello world"}
        code = app / "hello_world" / "app.py"
        code.write_text(code.read_text().replace('"hello world"', '"watched"'))
        changed_at = time.monotonic()
        while time.monotonic() - changed_at < 10:
            if call(url).json() == {"message": "watched"}:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - changed_at
        assert call(url).json() == {"message": "watched"}
        assert elapsed < 2, f"the change took {elapsed:.2f} s"
        assert proc.stdout.readline().startswith("updated HelloWorldFunction")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


TABLE_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Capacity:
    Type: Number
    Default: 5
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      ProvisionedThroughput:
        ReadCapacityUnits: !Ref Capacity
        WriteCapacityUnits: !Ref Capacity
      Tags:
        - Key: team
          Value: shop
Outputs:
  Name:
    Value: !Ref Orders
"""


def test_tables_update_in_place_and_are_replaced_for_new_keys(nimbus_server, tmp_path, ddb):
    app = tmp_path / "tables"
    app.mkdir()
    (app / "template.yaml").write_text(TABLE_TEMPLATE)
    stack = stack_name("tables")
    name = outputs(deploy(nimbus_server, app, stack).stdout)["Name"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "o1"}})
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    tags = ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"]
    assert {"Key": "team", "Value": "shop"} in tags
    assert {"Key": "nimbus:stack-name", "Value": stack} in tags

    out = deploy(nimbus_server, app, stack, "--parameter-overrides", "Capacity=7")
    assert "update  table" in out.stdout, out.stdout
    assert outputs(out.stdout)["Name"] == name
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "o1"}})

    # A new key schema needs a new table: created under a new name, the old one deleted.
    (app / "template.yaml").write_text(TABLE_TEMPLATE.replace("pk", "sku"))
    out = deploy(nimbus_server, app, stack)
    new_name = outputs(out.stdout)["Name"]
    assert new_name != name and new_name.startswith(f"{stack}-Orders-")
    assert name not in ddb.list_tables()["TableNames"]
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0
    assert new_name not in ddb.list_tables()["TableNames"]


def test_an_explicit_http_api_with_a_named_stage(nimbus_server, tmp_path):
    app = project(tmp_path, "python-hello")
    stack = stack_name("explicit")
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Resources:\n", """Resources:
  MyApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: v1
      CorsConfiguration:
        AllowOrigins: ['http://example.com']
        AllowMethods: [GET]
""").replace("            Method: get\n", "            Method: get\n            ApiId: !Ref MyApi\n")
        .replace("${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/hello",
                 "${MyApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/hello"))
    out = deploy(nimbus_server, app, stack)
    assert "ServerlessHttpApi" not in out.stdout
    assert "create  http api  MyApi" in out.stdout
    url = outputs(out.stdout)["HelloWorldApi"]
    assert url.endswith("/v1/hello")
    r = call(url, headers={"Origin": "http://example.com"})
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello world"}
    assert r.headers.get("access-control-allow-origin") == "http://example.com"
    assert "No changes" in deploy(nimbus_server, app, stack).stdout
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0
