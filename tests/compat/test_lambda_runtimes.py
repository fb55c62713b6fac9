"""AWS's own runtime interface clients as the runtime loop of ``provided.al2023`` functions.

The same hello/echo function, three times, each started by the package's ``bootstrap``:

* Python: ``awslambdaric`` (the version pinned in tests/requirements.txt), installed into the
  package with pip (``tests/fixtures/lambda-python-ric``);
* Node.js: ``aws-lambda-ric`` (pinned in the fixture's package.json and lock file), installed
  with npm, which builds its native addon (``tests/fixtures/lambda-node-ric``);
* Rust: a binary built on the ``lambda_runtime`` crate (``tests/fixtures/lambda-rust-hello``,
  built with cargo into ``target/fixtures`` so that the build is cached across runs).

Each is invoked twice (the second time warm), then made to fail: the error comes back as
``FunctionError: Unhandled`` with the body the runtime client posted.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Union

import boto3
import pytest

from conftest import REPO_ROOT, _client_kwargs, unique_name

FIXTURES = REPO_ROOT / "tests" / "fixtures"
ROLE = "arn:aws:iam::123456789012:role/nimbus-compat-lambda"
RUNTIME = "provided.al2023"
BUILD_TIMEOUT = 1200  # the first Rust build and the first native build of aws-lambda-ric


def _add_file(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(*sources: Union[Path, tuple], exclude: tuple = ()) -> bytes:
    """A deployment package from directories (content at the zip root, ``exclude`` names
    relative paths to leave out) and ``(path, name_in_zip)`` pairs of single files. File modes
    are kept."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for source in sources:
            if isinstance(source, tuple):
                path, name = source
                _add_file(zf, name, Path(path).read_bytes(), stat.S_IMODE(Path(path).stat().st_mode))
                continue
            root = Path(source)
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root).as_posix()
                if path.is_dir() or "__pycache__" in path.parts:
                    continue
                if any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in exclude):
                    continue
                _add_file(zf, rel, path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    return buf.getvalue()


def _run_build(cmd: list, what: str, **kwargs) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"building {what} took more than {BUILD_TIMEOUT}s", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(f"building {what} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                    f"{proc.stderr[-6000:]}", pytrace=False)


# ---------------------------------------------------------------------------------------------
# Builds of the three packages (once per session; the outputs are cached on disk)


def python_ric_package() -> bytes:
    fixture = FIXTURES / "lambda-python-ric"
    env = dict(os.environ, PYTHON=sys.executable)
    # The wheel must suit the python3 that runs the function (the one on PATH).
    python3 = shutil.which("python3")
    if python3:
        out = subprocess.run([python3, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        host = out.stdout.strip()
        if out.returncode == 0 and host != "%d.%d" % sys.version_info[:2]:
            env["PIP_ARGS"] = f"--python-version {host} --only-binary=:all:"
    _run_build(["sh", str(fixture / "build.sh")], "the awslambdaric package", env=env)
    return build_zip((fixture / "app.py", "app.py"), (fixture / "bootstrap", "bootstrap"),
                     fixture / "package", exclude=("bin",))


def node_ric_package() -> bytes:
    fixture = FIXTURES / "lambda-node-ric"
    # cmake comes from pip (tests/requirements.txt), next to this interpreter.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    _run_build(["sh", str(fixture / "build.sh")], "the aws-lambda-ric package",
               env=dict(os.environ, PATH=path))
    ric = fixture / "node_modules" / "aws-lambda-ric"
    files = [(fixture / name, name) for name in ("index.js", "bootstrap", "package.json")]
    for name in ("index.mjs", "package.json", "rapid-client.node"):
        files.append((ric / name, f"node_modules/aws-lambda-ric/{name}"))
    return build_zip(*files)


def rust_package() -> bytes:
    fixture = FIXTURES / "lambda-rust-hello"
    target = REPO_ROOT / "target" / "fixtures"
    _run_build(["cargo", "build", "--release", "--locked", "--manifest-path",
                str(fixture / "Cargo.toml")], "the lambda_runtime bootstrap",
               env=dict(os.environ, CARGO_TARGET_DIR=str(target)))
    return build_zip((target / "release" / "bootstrap", "bootstrap"))


PACKAGES = {
    "python": ("app.handler", python_ric_package),
    "node": ("index.handler", node_ric_package),
    "rust": ("hello", rust_package),
}


@pytest.fixture(scope="session")
def built_packages():
    """Zips built once per session, by runtime client name."""
    return {}


@pytest.fixture(scope="module")
def lambda_client(nimbus_server):
    return boto3.client("lambda", **_client_kwargs(nimbus_server, read_timeout=120,
                                                   connect_timeout=10))


@pytest.fixture
def ric_function(lambda_client, built_packages, request):
    """``ric_function(client_name)`` creates the hello function on that runtime client and
    returns (name, arn); deleted after the test."""
    created = []

    def factory(client_name: str):
        handler, build = PACKAGES[client_name]
        if client_name not in built_packages:
            built_packages[client_name] = build()
        name = unique_name(f"ric-{client_name}")
        resp = lambda_client.create_function(
            FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=handler,
            Code={"ZipFile": built_packages[client_name]}, Timeout=30, MemorySize=256)
        created.append(name)
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        return name, resp["FunctionArn"]

    yield factory
    for name in created:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


def invoke(client, name: str, payload, **params) -> dict:
    resp = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **params)
    body = resp["Payload"].read()
    resp["Body"] = body
    resp["Json"] = json.loads(body) if body else None
    return resp


def report_of(resp: dict, request_id: str) -> str:
    log = base64.b64decode(resp["LogResult"]).decode()
    lines = [x for x in log.splitlines() if x.startswith(f"REPORT RequestId: {request_id}")]
    assert len(lines) == 1, log
    return lines[0]


@pytest.mark.parametrize("client_name", ["python", "node", "rust"])
def test_runtime_client_hello(lambda_client, ric_function, client_name):
    name, arn = ric_function(client_name)
    event = {"name": "nimbus", "n": 1, "nested": {"ok": True}}

    first = invoke(lambda_client, name, event, LogType="Tail")
    assert first["StatusCode"] == 200
    assert "FunctionError" not in first, first["Body"]
    assert first["ExecutedVersion"] == "$LATEST"
    out = first["Json"]
    assert out["hello"] == "nimbus"
    assert out["echo"] == event
    assert out["runtime"] == client_name
    assert out["function_arn"] == arn
    log = base64.b64decode(first["LogResult"]).decode()
    assert f"hello from {client_name}, request {out['request_id']}" in log, log
    assert "Init Duration" in report_of(first, out["request_id"])

    second = invoke(lambda_client, name, {"name": "again"}, LogType="Tail")
    assert "FunctionError" not in second, second["Body"]
    again = second["Json"]
    assert again["hello"] == "again" and again["echo"] == {"name": "again"}
    assert again["request_id"] != out["request_id"]
    assert again["pid"] == out["pid"], "the second invocation did not reuse the environment"
    assert "Init Duration" not in report_of(second, again["request_id"])


@pytest.mark.parametrize("client_name", ["python", "node", "rust"])
def test_runtime_client_error(lambda_client, ric_function, client_name):
    name, _ = ric_function(client_name)
    ok = invoke(lambda_client, name, {})
    assert "FunctionError" not in ok, ok["Body"]

    resp = invoke(lambda_client, name, {"fail": "it broke"})
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled", resp["Body"]
    body = resp["Json"]
    assert body["errorType"] == "HelloError", body
    assert body["errorMessage"] == "it broke", body
    if client_name == "python":
        # awslambdaric: {errorMessage, errorType, requestId, stackTrace}
        assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}, body
        assert re.fullmatch(r"[0-9a-f-]{36}", body["requestId"]), body
        assert any("app.py" in frame for frame in body["stackTrace"]), body
    elif client_name == "node":
        # aws-lambda-ric: {errorType, errorMessage, trace}
        assert set(body) == {"errorType", "errorMessage", "trace"}, body
        assert any("index.js" in line for line in body["trace"]), body
    else:
        # lambda_runtime: the Diagnostic the handler returned
        assert body == {"errorType": "HelloError", "errorMessage": "it broke"}

    # The error ended the invocation, not the environment.
    after = invoke(lambda_client, name, {"name": "after"})
    assert "FunctionError" not in after, after["Body"]
    assert after["Json"]["hello"] == "after"
    assert after["Json"]["pid"] == ok["Json"]["pid"]
