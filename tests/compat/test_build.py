"""Builds in `nimbus deploy` and `nimbus build`, as `sam build` does them.

Each project under tests/fixtures/sam/ is written in the shape `sam init` produces and needs a
different builder: `python-deps` (pip, requirements.txt), `node-esm` (npm ci, an ES module
handler), `ts-esbuild` (TypeScript bundled by esbuild) and `makefile-provided` (make builds a
custom runtime's bootstrap). Their `Api` events are not deployed yet, so the functions are
called through the Lambda API. The builders are the real tools (pip, npm, esbuild, make) with
the real package registries.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

import test_deploy as deploy_helpers
from test_deploy import FIXTURES, binary, outputs, project, server_args
from test_deploy_rest import call

pytestmark = pytest.mark.nimbus_only


def nimbus(server, *args, timeout=300):
    """The CLI against `server`; builds can take minutes on a first run."""
    return deploy_helpers.nimbus(server, *args, timeout=timeout)


def deploy(server, app: Path, stack: str):
    return nimbus(server, "deploy", str(app / "template.yaml"), "--stack-name", stack)


@pytest.fixture(scope="module")
def lam(nimbus_server):
    return boto3.client("lambda", endpoint_url=nimbus_server.endpoint,
                        region_name=nimbus_server.region,
                        aws_access_key_id=nimbus_server.access_key,
                        aws_secret_access_key=nimbus_server.secret_key,
                        config=Config(retries={"max_attempts": 1}, read_timeout=60))


def invoke(lam, name: str) -> dict:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps({"path": "/hello"}).encode())
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def answer(lam, name: str) -> dict:
    """The body of a proxy answer (a JSON string), or the whole answer of a custom runtime."""
    payload = invoke(lam, name)
    if "statusCode" in payload:
        assert payload["statusCode"] == 200, payload
        return json.loads(payload["body"])
    return payload


CASES = {
    "python-deps": ("python3.13", "pip", {"message": "hello world", "six": "1.17.0"}),
    "node-esm": ("nodejs20.x", "npm", {"message": "hello world", "timeout": "3 seconds"}),
    "ts-esbuild": ("nodejs20.x", "esbuild", {"message": "hello world", "timeout": "3 seconds"}),
    "makefile-provided": ("provided.al2023", "makefile", None),
}


@pytest.mark.parametrize("fixture", list(CASES))
def test_each_builder_deploys_a_working_function_then_caches(nimbus_server, tmp_path, lam,
                                                             fixture):
    runtime, method, expected = CASES[fixture]
    app = project(tmp_path, fixture)
    stack = f"build-{uuid.uuid4().hex[:6]}"
    out = deploy(nimbus_server, app, stack)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(
        rf"^Building HelloWorldFunction \({re.escape(runtime)}, {method}\)… done in [0-9.]+ s$",
        out.stdout, re.M), out.stdout
    assert "create  function  HelloWorldFunction" in out.stdout, out.stdout
    printed = outputs(out.stdout)
    name = printed["HelloWorldFunction"].rsplit(":", 1)[1]
    got = answer(lam, name)
    if expected is None:
        assert got["message"] == "hello from make", got
        assert got["event"] == {"path": "/hello"}, got
    else:
        assert got == expected
        # The Api event made the REST API whose URL the Outputs print: GET it as a browser would.
        url = printed["HelloWorldApi"]
        assert re.fullmatch(r"http://\w+\.execute-api\.localhost:\d+/Prod/hello/", url), url
        response = call(url)
        assert response.status_code == 200, response.text
        assert response.json() == expected

    artifact = app / ".nimbus" / "build" / "HelloWorldFunction"
    if fixture == "node-esm":
        # Production dependencies only.
        assert (artifact / "node_modules" / "ms" / "package.json").is_file()
        assert not (artifact / "node_modules" / "is-number").exists()
    if fixture == "ts-esbuild":
        assert sorted(p.name for p in artifact.iterdir()) == ["app.js", "app.js.map"]
        # Sourcemap: true turns source maps on in Node.js, as SAM does.
        env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        assert env["NODE_OPTIONS"] == "--enable-source-maps", env
    if fixture == "makefile-provided":
        assert os.access(artifact / "bootstrap", os.X_OK)

    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    again = deploy(nimbus_server, app, stack)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Building HelloWorldFunction ({runtime}, {method})… cached" in again.stdout, \
        again.stdout
    assert "No changes" in again.stdout, again.stdout
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha

    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_a_changed_source_is_rebuilt_and_a_failed_build_changes_nothing(nimbus_server, tmp_path,
                                                                        lam):
    app = project(tmp_path, "python-deps")
    stack = f"build-fail-{uuid.uuid4().hex[:6]}"
    out = deploy(nimbus_server, app, stack)
    assert out.returncode == 0, out.stdout + out.stderr
    name = outputs(out.stdout)["HelloWorldFunction"].rsplit(":", 1)[1]

    code = app / "hello_world" / "app.py"
    code.write_text(code.read_text().replace('"hello world"', '"hello again"'))
    out = deploy(nimbus_server, app, stack)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Building HelloWorldFunction (python3.13, pip)… done in" in out.stdout, out.stdout
    assert "update  function  HelloWorldFunction" in out.stdout, out.stdout
    assert answer(lam, name) == {"message": "hello again", "six": "1.17.0"}
    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]

    # A requirement that does not exist: pip's own error, the function named, nothing applied.
    (app / "hello_world" / "requirements.txt").write_text(
        "six==1.17.0\nnimbus-no-such-package-4f2a==0.0.1\n")
    code.write_text(code.read_text().replace('"hello again"', '"never deployed"'))
    bad = deploy(nimbus_server, app, stack)
    assert bad.returncode != 0, bad.stdout
    assert "Building HelloWorldFunction (python3.13, pip)… failed" in bad.stdout, bad.stdout
    assert "Resource HelloWorldFunction (template line 15)" in bad.stderr, bad.stderr
    assert "No matching distribution found for nimbus-no-such-package-4f2a" in bad.stderr, \
        bad.stderr
    assert "Deploying stack" not in bad.stdout
    assert answer(lam, name) == {"message": "hello again", "six": "1.17.0"}
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha
    # The last good build is still the cached one.
    cached = app / ".nimbus" / "build" / "HelloWorldFunction" / "app.py"
    assert "hello again" in cached.read_text()

    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_nimbus_build_json_without_a_server(tmp_path):
    app = project(tmp_path, "python-deps")
    # A function without a build in the same template is reported as such.
    shutil.copytree(FIXTURES / "python-hello" / "hello_world", app / "plain")
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Outputs:", """  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: plain/
      Handler: app.lambda_handler
      Runtime: python3.12

Outputs:"""))

    def build():
        out = subprocess.run([binary(), "build", str(template), "--json"],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout), out.stderr

    first, progress = build()
    assert "Building HelloWorldFunction (python3.13, pip)… done in" in progress, progress
    assert Path(first["build_dir"]).resolve() == (app / ".nimbus" / "build").resolve()
    by_id = {f["logical_id"]: f for f in first["functions"]}
    assert by_id["HelloWorldFunction"]["method"] == "pip"
    assert by_id["HelloWorldFunction"]["cached"] is False
    artifact = Path(by_id["HelloWorldFunction"]["artifact"])
    assert (artifact / "six.py").is_file() and (artifact / "app.py").is_file()
    assert by_id["PlainFunction"]["method"] is None
    assert by_id["PlainFunction"]["artifact"] is None

    second, progress = build()
    assert "Building HelloWorldFunction (python3.13, pip)… cached" in progress, progress
    assert {f["logical_id"]: f for f in second["functions"]}["HelloWorldFunction"]["cached"] \
        is True


def test_watch_rebuilds_a_changed_function(nimbus_server, tmp_path, lam):
    app = project(tmp_path, "node-esm")
    stack = f"build-watch-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [binary(), "deploy", str(app / "template.yaml"), "--stack-name", stack, "--watch",
         *server_args(nimbus_server)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Reading the output blocks; a deploy that never gets there must not hang the suite.
    guard = threading.Timer(240, proc.kill)
    guard.start()
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Watching"):
                break
        text = "".join(lines)
        assert "Building HelloWorldFunction (nodejs20.x, npm)… done in" in text, text
        name = outputs(text)["HelloWorldFunction"].rsplit(":", 1)[1]
        code = app / "hello-world" / "app.mjs"
        code.write_text(code.read_text().replace("'hello world'", "'watched'"))
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("updated HelloWorldFunction"):
                break
        text = "".join(lines)
        assert "Building HelloWorldFunction (nodejs20.x, npm)… done in" in text, text
        assert answer(lam, name) == {"message": "watched", "timeout": "3 seconds"}
    finally:
        guard.cancel()
        proc.terminate()
        proc.wait(timeout=10)
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_esbuild_comes_from_the_tools_cache_when_the_project_has_none(tmp_path):
    app = tmp_path / "plain-js"
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.mjs").write_text(
        "import { shout } from './shout.mjs';\n"
        "export const handler = async (event) => ({ statusCode: 200, body: shout(event.name) });\n")
    (app / "src" / "shout.mjs").write_text(
        "export const shout = (s) => `${s.toUpperCase()}!`;\n")
    (app / "template.yaml").write_text("""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  ShoutFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Format: esm
        OutExtension:
          - .js=.mjs
""")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([binary(), "build", str(app), "--json"], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    tools = tmp_path / "cache" / "nimbus" / "tools"
    assert [p.name for p in tools.iterdir() if not p.name.startswith(".")] \
        == ["esbuild-0.25.9"]
    artifact = Path(json.loads(out.stdout)["functions"][0]["artifact"])
    assert sorted(p.name for p in artifact.iterdir()) == ["app.mjs"]
    # The handler entry was bundled (shout.mjs inlined) as an ES module.
    run = subprocess.run(
        ["node", "--input-type=module", "-e",
         f"import {{ handler }} from '{artifact / 'app.mjs'}';"
         "console.log(JSON.stringify(await handler({name: 'hi'})));"],
        capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"statusCode": 200, "body": "HI!"}


def test_a_missing_tool_says_what_to_install(tmp_path):
    app = project(tmp_path, "node-esm")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    out = subprocess.run([binary(), "build", str(app)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PATH=str(empty)))
    assert out.returncode != 0
    assert "HelloWorldFunction" in out.stderr, out.stderr
    assert "npm not found: install Node.js" in out.stderr, out.stderr
