"""The `nimbus` commands on a running server's resources (`functions`, `tables`, `apis`,
`usage`), the local ones (`runtimes`, `init`, `doctor`): text for people, `--json` for scripts,
and errors that say what to do next."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config

pytestmark = pytest.mark.nimbus_only

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("NIMBUS_BIN") or str(REPO_ROOT / "target" / "debug" / "nimbus")

HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "hello from " + context.function_name}
"""


def nimbus(server, *args, timeout=120, check=True):
    """Runs the CLI against `server`; with check=True a non-zero exit fails the test."""
    cmd = [BINARY, *args, "--data-dir", str(server.data_dir),
           "--listen", server.endpoint.removeprefix("http://")]
    if server.gateway_endpoint:
        cmd += ["--gateway", server.gateway_endpoint.removeprefix("http://")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out


def nimbus_json(server, *args, **kwargs):
    return json.loads(nimbus(server, *args, "--json", **kwargs).stdout)


def client(server, service):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=server.region,
                        aws_access_key_id=server.access_key,
                        aws_secret_access_key=server.secret_key,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def table(nimbus_server):
    ddb = client(nimbus_server, "dynamodb")
    name = f"cli-items-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     Tags=[{"Key": "suite", "Value": name}])
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def function(nimbus_server):
    lam = client(nimbus_server, "lambda")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    name = f"cli-fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": buf.getvalue()},
                        MemorySize=256, Environment={"Variables": {"GREETING": "hi"}},
                        Tags={"team": "cli"})
    yield name
    lam.delete_function(FunctionName=name)


@pytest.fixture(scope="module")
def api(nimbus_server, function):
    gw = client(nimbus_server, "apigatewayv2")
    arn = f"arn:aws:lambda:{nimbus_server.region}:000000000000:function:{function}"
    name = f"cli-api-{uuid.uuid4().hex[:8]}"
    created = gw.create_api(Name=name, ProtocolType="HTTP", Target=arn)
    gw.create_route(ApiId=created["ApiId"], RouteKey="GET /hello",
                    Target=[r for r in gw.get_routes(ApiId=created["ApiId"])["Items"]][0]["Target"])
    yield created["ApiId"], name
    gw.delete_api(ApiId=created["ApiId"])


# functions

def test_functions_list_and_get(nimbus_server, function):
    text = nimbus(nimbus_server, "functions").stdout
    header, *rows = text.splitlines()
    assert header.split()[:4] == ["NAME", "RUNTIME", "MEMORY", "TIMEOUT"]
    row = next(r for r in rows if r.startswith(function + " "))
    assert "python3.12" in row and "256 MB" in row and "app.handler" in row

    listed = nimbus_json(nimbus_server, "functions", "list")
    mine = [f for f in listed if f["FunctionName"] == function]
    assert mine and mine[0]["Runtime"] == "python3.12" and mine[0]["MemorySize"] == 256

    text = nimbus(nimbus_server, "functions", "get", function).stdout
    assert "Function:" in text and function in text
    assert "GREETING=hi" in text and "team=cli" in text and "256 MB" in text
    got = nimbus_json(nimbus_server, "functions", "get", function)
    assert got["Configuration"]["FunctionName"] == function
    assert got["Configuration"]["Environment"]["Variables"] == {"GREETING": "hi"}


def test_functions_get_of_a_missing_function_says_what_to_do(nimbus_server):
    out = nimbus(nimbus_server, "functions", "get", "no-such-function", check=False)
    assert out.returncode != 0
    assert "does not exist" in out.stderr and "nimbus functions list" in out.stderr


# tables

def test_tables_list_and_describe(nimbus_server, table):
    text = nimbus(nimbus_server, "tables").stdout
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["NAME", "PARTITION", "KEY"]
    assert any(r.split()[:2] == [table, "id"] for r in rows), text

    listed = nimbus_json(nimbus_server, "tables", "list")
    mine = next(t for t in listed if t["name"] == table)
    assert mine["partition_key"] == "id" and mine["sort_key"] is None
    assert mine["status"] == "ACTIVE" and mine["tags"] == {"suite": table}

    tagged = nimbus(nimbus_server, "tables", "list", "--quiet", "--tag", f"suite={table}").stdout
    assert tagged.split() == [table]
    none = nimbus(nimbus_server, "tables", "list", "--tag", "suite=nothing").stdout
    assert "No table carries suite=nothing" in none

    text = nimbus(nimbus_server, "tables", "describe", table).stdout
    assert "Keys:" in text and "id (S)" in text and "PAY_PER_REQUEST" in text
    assert f"suite={table}" in text
    described = nimbus_json(nimbus_server, "tables", "describe", table)
    assert described["TableName"] == table and described["Tags"] == {"suite": table}


def test_tables_put_then_scan(nimbus_server, table):
    out = nimbus(nimbus_server, "tables", "put", table, "--item",
                 '{"id": "p1", "name": "Put", "n": 3}')
    assert "Put" in out.stdout and table in out.stdout
    nimbus(nimbus_server, "tables", "put", table, "--item",
           '{"id": {"S": "p2"}, "n": {"N": "4"}}')
    items = {i["id"]: i for i in nimbus_json(nimbus_server, "tables", "scan", table)}
    assert items["p1"] == {"id": "p1", "name": "Put", "n": 3}
    assert items["p2"] == {"id": "p2", "n": 4}
    typed = nimbus_json(nimbus_server, "tables", "scan", table, "--dynamodb-json")
    assert {"id": {"S": "p2"}, "n": {"N": "4"}} in typed


def test_tables_load_then_scan(nimbus_server, table, tmp_path):
    plain = [{"id": f"l{i:03}", "n": i, "tags": ["a"], "nested": {"ok": True}} for i in range(60)]
    path = tmp_path / "items.json"
    path.write_text(json.dumps(plain))
    out = nimbus(nimbus_server, "tables", "load", table, str(path))
    assert out.stdout.strip() == f"Loaded 60 items into {table}."
    # Loading again replaces the same items: still 60 of them.
    assert nimbus_json(nimbus_server, "tables", "load", table, str(path)) == {
        "table": table, "loaded": 60}
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps([{"id": {"S": "d1"}, "set": {"SS": ["x", "y"]}}]))
    nimbus(nimbus_server, "tables", "load", table, str(typed))

    items = {i["id"]: i for i in nimbus_json(nimbus_server, "tables", "scan", table)}
    assert all(items[p["id"]] == p for p in plain)
    assert sorted(items["d1"]["set"]) == ["x", "y"]
    ddb = client(nimbus_server, "dynamodb")
    assert ddb.get_item(TableName=table, Key={"id": {"S": "l042"}})["Item"]["n"] == {"N": "42"}

    text = nimbus(nimbus_server, "tables", "scan", table, "--limit", "5")
    header, *rows = text.stdout.splitlines()
    assert header.split()[0] == "id" and len(rows) == 5
    assert "5 items" in text.stderr
    limited = nimbus_json(nimbus_server, "tables", "scan", table, "--limit", "7")
    assert len(limited) == 7


def test_tables_errors_say_what_to_do(nimbus_server, tmp_path):
    out = nimbus(nimbus_server, "tables", "describe", "no-such-table", check=False)
    assert out.returncode != 0 and "nimbus tables list" in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "an array"')
    out = nimbus(nimbus_server, "tables", "load", "whatever", str(bad), check=False)
    assert out.returncode != 0 and "not valid JSON" in out.stderr
    out = nimbus(nimbus_server, "tables", "put", "whatever", "--item", "[1]", check=False)
    assert out.returncode != 0 and "JSON object" in out.stderr


def test_an_unreachable_server_is_named(nimbus_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = subprocess.run([BINARY, "tables", "--data-dir", str(nimbus_server.data_dir),
                          "--listen", f"127.0.0.1:{port}"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0
    assert f"cannot reach Nimbus at http://127.0.0.1:{port}" in out.stderr
    assert "nimbus serve" in out.stderr


def test_a_data_dir_without_credentials_is_named(nimbus_server, tmp_path):
    out = subprocess.run([BINARY, "usage", "--data-dir", str(tmp_path / "none"),
                          "--listen", nimbus_server.endpoint.removeprefix("http://")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "no credentials in" in out.stderr
    assert not (tmp_path / "none").exists()


# apis

def test_apis_list_and_get(nimbus_server, api):
    api_id, name = api
    text = nimbus(nimbus_server, "apis").stdout
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "PROTOCOL"]
    row = next(r for r in rows if r.startswith(api_id))
    assert name in row and "HTTP" in row and "execute-api.localhost" in row

    listed = nimbus_json(nimbus_server, "apis", "list")
    assert any(a["apiId"] == api_id and a["name"] == name for a in listed)

    text = nimbus(nimbus_server, "apis", "get", api_id).stdout
    assert "API:" in text and api_id in text and "$default" in text
    assert "GET /hello" in text and "function:cli-fn-" in text
    # By name, as JSON, with routes and stages.
    got = nimbus_json(nimbus_server, "apis", "get", name)
    assert got["apiId"] == api_id
    assert {r["routeKey"] for r in got["routes"]} == {"$default", "GET /hello"}
    assert [s["stageName"] for s in got["stages"]] == ["$default"]

    out = nimbus(nimbus_server, "apis", "get", "no-such-api", check=False)
    assert out.returncode != 0 and "nimbus apis list" in out.stderr


# usage

def test_usage_counts_table_requests_and_invocations(nimbus_server, function, table):
    for i in range(3):
        nimbus(nimbus_server, "tables", "put", table, "--item", json.dumps({"id": f"u{i}"}))
    for _ in range(2):
        out = nimbus(nimbus_server, "invoke", function)
        assert "hello from" in out.stdout

    usage = nimbus_json(nimbus_server, "usage")
    t = usage["tables"][table]
    assert t["requests"] >= 3 and t["write_units"] >= 3.0
    f = usage["functions"][function]
    assert f["invocations"] >= 2 and f["billed_duration_ms"] >= 2
    assert f["gb_seconds"] == pytest.approx(f["billed_duration_ms"] / 1000 * 0.25)

    text = nimbus(nimbus_server, "usage").stdout
    assert "TABLE" in text and "WRITE UNITS" in text and "GB-SECONDS" in text
    row = next(l for l in text.splitlines() if l.startswith(function))
    assert row.split()[1] == str(f["invocations"])


def test_usage_is_signed_with_the_nimbus_service_name(nimbus_server):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import requests

    creds = botocore.credentials.Credentials(nimbus_server.access_key, nimbus_server.secret_key)
    url = nimbus_server.endpoint + "/_nimbus/usage"
    assert requests.get(url, timeout=10).status_code == 403
    for service, status in (("nimbus", 200), ("dynamodb", 403)):
        req = botocore.awsrequest.AWSRequest(method="GET", url=url)
        botocore.auth.SigV4Auth(creds, service, nimbus_server.region).add_auth(req)
        prepared = req.prepare()
        resp = requests.get(prepared.url, headers=dict(prepared.headers), timeout=10)
        assert resp.status_code == status, resp.text
        if status == 200:
            assert set(resp.json()) == {"tables", "functions"}


# runtimes and doctor (local: the data directory only)

def test_runtimes_install_and_list(nimbus_server):
    installed = nimbus_json(nimbus_server, "runtimes", "install", "--python", timeout=600)
    assert installed == [{"sdk": installed[0]["sdk"], "installed": True,
                          "newly_installed": installed[0]["newly_installed"]}]
    assert installed[0]["sdk"].startswith("boto3 ")
    again = nimbus(nimbus_server, "runtimes", "install", "--python").stdout
    assert "already installed" in again

    listed = {r["runtime"]: r for r in nimbus_json(nimbus_server, "runtimes")}
    assert set(listed) >= {"python3.12", "nodejs20.x", "provided.al2023"}
    py = listed["python3.12"]
    assert py["sdk"]["installed"] is True and py["interpreter"]
    assert py["exact"] or "runs it" in py["note"]
    assert listed["provided.al2023"]["sdk"] is None

    text = nimbus(nimbus_server, "runtimes").stdout
    row = next(l for l in text.splitlines() if l.startswith("python3.12 "))
    assert "boto3" in row and "installed" in row


def test_doctor_reports_interpreters_and_sdks(nimbus_server):
    text = nimbus(nimbus_server, "doctor").stdout
    lines = {l[5:].split("  ")[0].strip(): l for l in text.splitlines()}
    assert "runtime python3.12" in lines
    line = lines["runtime python3.12"]
    assert line.startswith(("ok ", "warn")), line
    assert ("runs on" in line) if line.startswith("ok") else ("substitute" in line), line
    assert "Python SDK" in lines and "Node.js SDK" in lines


def test_help_has_examples():
    for command in ("functions", "tables", "apis", "usage", "runtimes", "init"):
        out = subprocess.run([BINARY, command, "--help"], capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0 and "Examples:" in out.stdout, command
    out = subprocess.run([BINARY, "tables", "load", "--help"], capture_output=True, text=True)
    assert "nimbus tables load items seed.json" in out.stdout


# init

class _SamLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics: `!Ref X` loads as {"Ref": "X"}."""


_SamLoader.add_multi_constructor(
    "!", lambda loader, tag, node: {tag: loader.construct_scalar(node)
                                    if isinstance(node, yaml.ScalarNode)
                                    else loader.construct_sequence(node)
                                    if isinstance(node, yaml.SequenceNode)
                                    else loader.construct_mapping(node)})


@pytest.mark.parametrize("runtime,handler", [("python3.12", "src/app.py"),
                                             ("nodejs20.x", "src/app.mjs")])
def test_init_scaffolds_a_project_that_parses(tmp_path, runtime, handler):
    project = tmp_path / "shop"
    out = subprocess.run([BINARY, "init", str(project), "--runtime", runtime],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "nimbus deploy template.yaml --stack-name shop" in out.stdout

    template = yaml.load((project / "template.yaml").read_text(), Loader=_SamLoader)
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    resources = template["Resources"]
    assert resources["Api"]["Type"] == "AWS::Serverless::HttpApi"
    assert resources["ItemsTable"]["Type"] == "AWS::Serverless::SimpleTable"
    fn = resources["ItemsFunction"]["Properties"]
    assert fn["Runtime"] == runtime
    assert fn["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "ItemsTable"}
    events = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in fn["Events"].values()}
    assert events == {("GET", "/items"), ("GET", "/items/{id}"), ("POST", "/items")}
    assert "{{" not in (project / "README.md").read_text()

    source = project / handler
    if runtime.startswith("python"):
        subprocess.run(["python3", "-m", "py_compile", str(source)], check=True)
        assert "import boto3" in source.read_text()
    else:
        if not shutil.which("node"):
            pytest.skip("node is not installed")
        subprocess.run(["node", "--check", str(source)], check=True)
        assert "@aws-sdk/lib-dynamodb" in source.read_text()

    again = subprocess.run([BINARY, "init", str(project)], capture_output=True, text=True)
    assert again.returncode != 0 and "--force" in again.stderr


def test_the_example_template_parses():
    example = REPO_ROOT / "examples" / "items-api"
    template = yaml.load((example / "template.yaml").read_text(), Loader=_SamLoader)
    api = template["Resources"]["ItemsApi"]
    assert api["Properties"]["Tags"] == {"nimbus:root": "true"}
    subprocess.run(["python3", "-m", "py_compile", str(example / "src" / "app.py")], check=True)
    seed = json.loads((example / "seed.json").read_text())
    assert "42" in [item["id"] for item in seed]


# serve with a relative data directory (the default `./.nimbus` of the quick start)

def test_python_functions_run_with_a_relative_data_dir(tmp_path):
    import time

    import requests

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    listen, gateway = (f"127.0.0.1:{p}" for p in ports)
    flags = ["--data-dir", "rel-data", "--listen", listen, "--gateway", gateway]
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([BINARY, "serve", *flags], cwd=tmp_path, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://{listen}/_nimbus/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (
                (tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        keys = json.loads(subprocess.run([BINARY, "credentials", "--json", *flags], cwd=tmp_path,
                                         capture_output=True, text=True, check=True).stdout)
        lam = boto3.client("lambda", endpoint_url=f"http://{listen}", region_name="us-east-1",
                           aws_access_key_id=keys["access_key_id"],
                           aws_secret_access_key=keys["secret_access_key"],
                           config=Config(retries={"max_attempts": 1}))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
        lam.create_function(FunctionName="rel", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/r",
                            Code={"ZipFile": buf.getvalue()})
        out = subprocess.run([BINARY, "invoke", "rel", *flags], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout) == {"ok": True}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
