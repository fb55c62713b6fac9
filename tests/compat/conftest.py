"""Shared fixtures for the protocol compatibility suite.

One server per session. Without ``--url`` the suite starts the Nimbus binary
(``NIMBUS_BIN``, default ``<repo>/target/debug/nimbus``) on free loopback ports
with a fresh data directory; with ``--url`` it talks to an already running
implementation, which is how the tests themselves are checked against another
DynamoDB implementation.

Contract with the binary:

* ``nimbus serve --data-dir DIR --listen 127.0.0.1:P --gateway 127.0.0.1:G``
  serves the AWS API endpoint on P and answers ``GET /_nimbus/health`` with 200
  once ready;
* ``nimbus credentials --json --data-dir DIR`` prints
  ``{"access_key_id": "...", "secret_access_key": "..."}``;
* SIGTERM makes ``serve`` exit with status 0 within 10 seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
HEALTH_PATH = "/_nimbus/health"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def pytest_addoption(parser):
    group = parser.getgroup("nimbus compat")
    group.addoption(
        "--url",
        action="store",
        default=None,
        help="run against an already running implementation at URL instead of starting Nimbus",
    )
    group.addoption(
        "--access-key",
        action="store",
        default=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        help="access key id used with --url (default: $AWS_ACCESS_KEY_ID or 'test')",
    )
    group.addoption(
        "--secret-key",
        action="store",
        default=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        help="secret access key used with --url (default: $AWS_SECRET_ACCESS_KEY or 'test')",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "nimbus_only: needs a server started by the suite itself (restart, data dir, logs); "
        "skipped when --url is given",
    )


def pytest_collection_modifyitems(config, items):
    url = config.getoption("--url")
    if not url:
        return
    skip = pytest.mark.skip(
        reason=f"needs a Nimbus server started by the suite; running against --url {url}"
    )
    for item in items:
        if "nimbus_only" in item.keywords:
            item.add_marker(skip)


@dataclass
class NimbusServer:
    endpoint: str
    access_key: str
    secret_key: str
    region: str
    data_dir: Optional[Path]
    log_path: Optional[Path]
    process: Optional[subprocess.Popen] = None
    # The gateway port (HTTP APIs), when the suite started the server.
    gateway_endpoint: Optional[str] = None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return "<no log>"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_nimbus(tmp_root: Path, reuse: bool = False) -> NimbusServer:
    """Start `nimbus serve` with data in <tmp_root>/data. With reuse=True the data
    dir is expected to exist already (a restart) and the log goes to a new file."""
    binary = os.environ.get("NIMBUS_BIN", str(REPO_ROOT / "target" / "debug" / "nimbus"))
    if not Path(binary).exists():
        pytest.fail(
            f"Nimbus binary not found at {binary}; build it (cargo build) or set NIMBUS_BIN, "
            "or pass --url to run against a running implementation",
            pytrace=False,
        )
    data_dir = tmp_root / "data"
    data_dir.mkdir(exist_ok=reuse)
    log_path = tmp_root / "nimbus.log"
    n = 1
    while log_path.exists():
        n += 1
        log_path = tmp_root / f"nimbus-{n}.log"
    port = _free_port()
    gateway_port = _free_port()
    while gateway_port == port:
        gateway_port = _free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            binary,
            "serve",
            "--data-dir",
            str(data_dir),
            "--listen",
            f"127.0.0.1:{port}",
            "--gateway",
            f"127.0.0.1:{gateway_port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    endpoint = f"http://127.0.0.1:{port}"
    server = NimbusServer(
        endpoint=endpoint,
        access_key="",
        secret_key="",
        region=REGION,
        data_dir=data_dir,
        log_path=log_path,
        process=proc,
        gateway_endpoint=f"http://127.0.0.1:{gateway_port}",
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"nimbus serve exited with status {proc.returncode} during start-up; log tail:\n"
                + server.log_tail(),
                pytrace=False,
            )
        try:
            if requests.get(endpoint + HEALTH_PATH, timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(
                f"nimbus serve did not answer {HEALTH_PATH} with 200 within {START_TIMEOUT_S:.0f}s; "
                "log tail:\n" + server.log_tail(),
                pytrace=False,
            )
        time.sleep(0.1)

    out = subprocess.run(
        [binary, "credentials", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if out.returncode != 0:
        _stop(server)
        pytest.fail(
            f"`nimbus credentials --json` failed ({out.returncode}): {out.stderr}", pytrace=False
        )
    try:
        creds = json.loads(out.stdout)
        server.access_key = creds["access_key_id"]
        server.secret_key = creds["secret_access_key"]
    except (ValueError, KeyError) as e:
        _stop(server)
        pytest.fail(f"`nimbus credentials --json` printed unusable output ({e}): {out.stdout!r}",
                    pytrace=False)
    return server


def _stop(server: NimbusServer) -> Optional[int]:
    proc = server.process
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


@pytest.fixture(scope="session")
def nimbus_server(request):
    url = request.config.getoption("--url")
    if url:
        yield NimbusServer(
            endpoint=url.rstrip("/"),
            access_key=request.config.getoption("--access-key"),
            secret_key=request.config.getoption("--secret-key"),
            region=REGION,
            data_dir=None,
            log_path=None,
        )
        return
    tmp_root = Path(tempfile.mkdtemp(prefix="nimbus-compat-"))
    server = _start_nimbus(tmp_root)
    yield server
    code = _stop(server)
    assert code is not None, (
        f"nimbus serve did not exit within {STOP_TIMEOUT_S:.0f}s of SIGTERM; log tail:\n"
        + server.log_tail()
    )
    assert code == 0, f"nimbus serve exited with status {code} after SIGTERM; log tail:\n" + (
        server.log_tail()
    )
    shutil.rmtree(tmp_root, ignore_errors=True)


def _client_kwargs(server: NimbusServer, **config) -> dict:
    return dict(
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture(scope="session")
def dynamodb(nimbus_server):
    """boto3 DynamoDB client, no retries."""
    return boto3.client("dynamodb", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="session")
def dynamodb_unvalidated(nimbus_server):
    """boto3 DynamoDB client that skips client-side parameter validation, so the
    server's own validation (lengths, ranges, missing members) is what is tested."""
    return boto3.client("dynamodb", **_client_kwargs(nimbus_server, parameter_validation=False))


@pytest.fixture(scope="session")
def dynamodb_resource(nimbus_server):
    return boto3.resource("dynamodb", **_client_kwargs(nimbus_server))


class RawDynamoDB:
    """Signed JSON 1.0 requests without any SDK shaping, for wire-level checks."""

    def __init__(self, server: NimbusServer):
        self.server = server
        self.creds = botocore.credentials.Credentials(server.access_key, server.secret_key)
        self.session = requests.Session()

    def call(self, operation: str, body, *, target_prefix="DynamoDB_20120810", raw_body=None,
             content_type="application/x-amz-json-1.0", headers=None):
        data = raw_body if raw_body is not None else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        headers = {
            "Content-Type": content_type,
            "X-Amz-Target": f"{target_prefix}.{operation}",
            **(headers or {}),
        }
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.endpoint + "/", data=data, headers=headers
        )
        botocore.auth.SigV4Auth(self.creds, "dynamodb", self.server.region).add_auth(req)
        prepared = req.prepare()
        return self.session.post(
            prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=30
        )


@pytest.fixture(scope="session")
def ddb_raw(nimbus_server):
    return RawDynamoDB(nimbus_server)


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def S(v):
    """A string AttributeValue in DynamoDB JSON."""
    return {"S": v}


def N(v):
    """A number AttributeValue in DynamoDB JSON."""
    return {"N": str(v)}


@pytest.fixture
def table_name():
    return unique_name()


@pytest.fixture
def make_table(dynamodb):
    """Factory: ``make_table(hash=("pk", "S"), range=("sk", "N"), **extra)`` creates a
    PAY_PER_REQUEST table with a unique name, waits until it is ACTIVE and returns
    its name. Every table made is deleted after the test."""
    created: list[str] = []

    def factory(hash=("pk", "S"), range=None, name=None, wait=True, **extra) -> str:
        tname = name or unique_name()
        attrs = [{"AttributeName": hash[0], "AttributeType": hash[1]}]
        keys = [{"AttributeName": hash[0], "KeyType": "HASH"}]
        if range is not None:
            attrs.append({"AttributeName": range[0], "AttributeType": range[1]})
            keys.append({"AttributeName": range[0], "KeyType": "RANGE"})
        params = dict(
            TableName=tname,
            AttributeDefinitions=extra.pop("AttributeDefinitions", attrs),
            KeySchema=keys,
        )
        if "ProvisionedThroughput" not in extra:
            params["BillingMode"] = "PAY_PER_REQUEST"
        params.update(extra)
        dynamodb.create_table(**params)
        created.append(tname)
        if wait:
            wait_active(dynamodb, tname)
        return tname

    yield factory
    for tname in created:
        try:
            dynamodb.delete_table(TableName=tname)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass


def wait_active(client, name: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} not ACTIVE after {timeout}s: {desc['TableStatus']}")
        time.sleep(0.05)


@pytest.fixture
def aws_cli(nimbus_server, tmp_path):
    """Run the ``aws`` CLI (v1, from tests/requirements.txt) against the server.

    ``aws_cli("dynamodb", "list-tables")`` returns the parsed JSON output (or None
    for empty output); ``check=False`` returns the CompletedProcess instead."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_")
    }
    env.update(
        AWS_ACCESS_KEY_ID=nimbus_server.access_key,
        AWS_SECRET_ACCESS_KEY=nimbus_server.secret_key,
        AWS_DEFAULT_REGION=nimbus_server.region,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    aws = shutil.which("aws", path=str(Path(sys.executable).parent))
    base = [aws] if aws else [sys.executable, "-m", "awscli"]

    def run(*args: str, check: bool = True, timeout: float = 60):
        cmd = base + ["--endpoint-url", nimbus_server.endpoint, "--output", "json", *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if not check:
            return proc
        assert proc.returncode == 0, (
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}\n{proc.stdout}"
        )
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    return run


def error_code(exc) -> str:
    return exc.response["Error"]["Code"]


def error_message(exc) -> str:
    return exc.response["Error"].get("Message", "")


@pytest.fixture
def expect_error():
    """``expect_error(fn, "ValidationException", message_prefix=None, **kwargs)``
    calls fn(**kwargs), asserts it raised a ClientError with that code (and
    message prefix when given, case-sensitive) and returns the ClientError."""
    from botocore.exceptions import ClientError

    def check(fn: Callable, code: str, message_prefix: Optional[str] = None,
              contains: Optional[str] = None, **kwargs):
        with pytest.raises(ClientError) as info:
            fn(**kwargs)
        err = info.value
        assert error_code(err) == code, (error_code(err), error_message(err))
        if message_prefix is not None:
            assert error_message(err).startswith(message_prefix), error_message(err)
        if contains is not None:
            assert contains in error_message(err), error_message(err)
        return err

    return check
