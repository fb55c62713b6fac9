"""Lambda invocations end to end with boto3's ``lambda`` client.

Functions are created from zips built here, from the sources in ``tests/fixtures/`` or from
inline strings, then invoked: payload round trip, ``LogType: Tail`` and the platform's
START/END/REPORT lines, code and configuration updates, versions and aliases (weighted
routing too), reserved concurrency and throttling, timeouts, memory limits, init errors,
handler errors, asynchronous invocations and their retries, ``DryRun``, payload limits, the
environment variables Lambda documents, and handlers that read a table of this server through
the AWS SDKs the runtimes provide (boto3; the AWS SDK for JavaScript v3 from CommonJS and from
an ES module).

Expected behaviour is Lambda's, as documented in the Lambda developer guide and in the botocore
service model (error codes, HTTP statuses, ``Reason`` of throttles, payload quotas).
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import stat
import threading
import time
import zipfile
from pathlib import Path
from typing import Optional, Union

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import REPO_ROOT, _client_kwargs, _start_nimbus, _stop, error_code, unique_name

FIXTURES = REPO_ROOT / "tests" / "fixtures"
ROLE = "arn:aws:iam::123456789012:role/nimbus-compat-lambda"
PYTHON_RUNTIME = "python3.12"
NODE_RUNTIME = "nodejs20.x"
# A runtime's first environment on a server installs that runtime's AWS SDK (boto3, or the
# AWS SDK for JavaScript v3) before it starts: the invocation that pays for it may take minutes.
FIRST_USE_READ_TIMEOUT = 600
READ_TIMEOUT = 120
THROTTLED = "ReservedFunctionConcurrentInvocationLimitExceeded"


# ---------------------------------------------------------------------------------------------
# Packages


def _add_file(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(*sources: Union[Path, dict], exclude: tuple = ()) -> bytes:
    """A deployment package: each source is a directory (its content goes at the root of the
    zip; ``exclude`` lists relative paths left out) or a ``{name: text or bytes}`` dict.
    File modes are kept (``bootstrap`` from a dict is executable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for source in sources:
            if isinstance(source, dict):
                for name, content in source.items():
                    data = content.encode() if isinstance(content, str) else content
                    _add_file(zf, name, data, 0o755 if name == "bootstrap" else 0o644)
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


def echo_zip(tag: Optional[str] = None) -> bytes:
    extra = {"tag.txt": tag} if tag is not None else {}
    return build_zip(FIXTURES / "lambda-python-echo", extra)


def dynamodb_zip() -> bytes:
    return build_zip(FIXTURES / "lambda-python-dynamodb")


# ---------------------------------------------------------------------------------------------
# Clients and functions


def lambda_client_for(server, read_timeout: float = READ_TIMEOUT):
    """boto3 Lambda client, no retries (a throttle must reach the test)."""
    return boto3.client(
        "lambda", **_client_kwargs(server, read_timeout=read_timeout, connect_timeout=10)
    )


@pytest.fixture(scope="module")
def lambda_client(nimbus_server):
    return lambda_client_for(nimbus_server)


@pytest.fixture(scope="module")
def lambda_first_use(nimbus_server):
    return lambda_client_for(nimbus_server, read_timeout=FIRST_USE_READ_TIMEOUT)


_RUNTIMES_READY: set = set()

_WARM_UP_CODE = {
    "python": {"warm.py": "def handler(event, context):\n    return {'ready': True}\n"},
    "node": {"warm.js": "exports.handler = async () => ({ ready: true });\n"},
}


def runtime_ready(client, endpoint: str, runtime: str) -> None:
    """The first environment of a runtime family on a server may install that runtime's SDK
    first: start one with a long read timeout, once per server, before the tests that time
    their invocations."""
    family = "python" if runtime.startswith("python") else "node" if runtime.startswith(
        "nodejs") else None
    if family is None or (endpoint, family) in _RUNTIMES_READY:
        return
    name = unique_name("warm")
    client.create_function(
        FunctionName=name, Runtime=runtime, Role=ROLE, Handler="warm.handler",
        Code={"ZipFile": build_zip(_WARM_UP_CODE[family])}, Timeout=30,
    )
    try:
        client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        resp = client.invoke(FunctionName=name, Payload=b"{}")
        body = resp["Payload"].read()
        assert "FunctionError" not in resp, body
        assert json.loads(body) == {"ready": True}
    finally:
        client.delete_function(FunctionName=name)
    _RUNTIMES_READY.add((endpoint, family))


@pytest.fixture
def make_function(nimbus_server, lambda_client, lambda_first_use):
    """Factory: ``make_function(zip, handler="app.handler", runtime=PYTHON_RUNTIME, **params)``
    creates a function with a unique name, waits until it is Active and returns its name;
    ``make_function.arns[name]`` is its ARN. Every function made is deleted after the test."""
    created: list[str] = []
    arns: dict[str, str] = {}

    def factory(code: bytes, handler: str = "app.handler", runtime: str = PYTHON_RUNTIME,
                name: Optional[str] = None, **params) -> str:
        runtime_ready(lambda_first_use, nimbus_server.endpoint, runtime)
        fname = name or unique_name("fn")
        request = dict(FunctionName=fname, Runtime=runtime, Role=ROLE, Handler=handler,
                       Code={"ZipFile": code}, Timeout=30, MemorySize=128)
        request.update(params)
        resp = lambda_client.create_function(**request)
        created.append(fname)
        arns[fname] = resp["FunctionArn"]
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=fname, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        return fname

    factory.arns = arns
    yield factory
    for fname in created:
        try:
            lambda_client.delete_function(FunctionName=fname)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


def wait_updated(client, name: str) -> None:
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def invoke(client, name: str, payload=None, raw: Optional[bytes] = None, **params) -> dict:
    """Invoke and read the payload: adds ``Body`` (bytes) and ``Json`` (parsed, or None)."""
    if raw is None:
        raw = json.dumps(payload).encode() if payload is not None else b""
    resp = client.invoke(FunctionName=name, Payload=raw, **params)
    body = resp["Payload"].read()
    resp["Body"] = body
    resp["Json"] = json.loads(body) if body else None
    return resp


def decoded_log(resp: dict) -> str:
    assert "LogResult" in resp, f"no LogResult in {sorted(resp)}"
    return base64.b64decode(resp["LogResult"]).decode()


def report_line(log: str, request_id: str) -> str:
    lines = [line for line in log.splitlines() if line.startswith(f"REPORT RequestId: {request_id}")]
    assert len(lines) == 1, f"expected one REPORT line for {request_id}:\n{log}"
    return lines[0]


def report_fields(report: str) -> dict:
    """``{"Duration": "12.34 ms", "Billed Duration": "13 ms", ...}`` of a REPORT line."""
    fields = {}
    for part in report.split("\t")[1:]:
        key, _, value = part.partition(": ")
        fields[key.strip()] = value.strip()
    return fields


def expect_function_error(resp: dict, error_type: str) -> dict:
    assert resp["StatusCode"] == 200, resp["StatusCode"]
    assert resp.get("FunctionError") == "Unhandled", (resp.get("FunctionError"), resp["Body"])
    body = resp["Json"]
    assert isinstance(body, dict), resp["Body"]
    assert body.get("errorType") == error_type, body
    return body


def poll(fn, timeout: float, interval: float = 0.2):
    """Calls fn until it returns something truthy, or returns its last answer at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Synchronous invocation


def test_invoke_round_trip(lambda_client, make_function):
    name = make_function(echo_zip())
    event = {"message": "héllo wörld", "n": 42, "f": 2.5,
             "nested": {"list": [1, None, True, "x"], "empty": {}}}
    resp = invoke(lambda_client, name, event)
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp, resp["Body"]
    assert "LogResult" not in resp
    out = resp["Json"]
    assert out["echo"] == event
    assert out["function_name"] == name
    assert out["function_version"] == "$LATEST"
    assert out["invoked_function_arn"] == make_function.arns[name]
    assert out["memory_limit_in_mb"] == "128"
    assert 0 < out["remaining_ms"] <= 30_000

    # Any JSON value is an event; no payload at all is an empty object.
    assert invoke(lambda_client, name, [1, "two"])["Json"]["echo"] == {"value": [1, "two"]}
    assert invoke(lambda_client, name, "text")["Json"]["echo"] == {"value": "text"}
    assert invoke(lambda_client, name)["Json"]["echo"] == {}

    # By ARN too.
    resp = invoke(lambda_client, make_function.arns[name], {"k": "v"})
    assert resp["StatusCode"] == 200 and resp["Json"]["echo"] == {"k": "v"}


def test_log_tail_platform_lines(lambda_client, make_function):
    name = make_function(echo_zip(), MemorySize=256)
    first = invoke(lambda_client, name, {"print": "first line from the handler"}, LogType="Tail")
    assert "FunctionError" not in first, first["Body"]
    rid = first["Json"]["request_id"]
    log = decoded_log(first)
    assert "first line from the handler" in log, log
    start = log.find(f"START RequestId: {rid} Version: $LATEST")
    end = log.find(f"END RequestId: {rid}")
    report = report_line(log, rid)
    assert 0 <= start < end < log.find("REPORT RequestId: " + rid), log
    fields = report_fields(report)
    duration = float(re.fullmatch(r"([\d.]+) ms", fields["Duration"]).group(1))
    billed = int(re.fullmatch(r"(\d+) ms", fields["Billed Duration"]).group(1))
    assert billed >= math.floor(duration) and billed >= 1, report
    assert fields["Memory Size"] == "256 MB", report
    used = int(re.fullmatch(r"(\d+) MB", fields["Max Memory Used"]).group(1))
    assert 1 <= used <= 256, report
    assert re.fullmatch(r"[\d.]+ ms", fields["Init Duration"]), report

    # Warm: same environment, no init.
    second = invoke(lambda_client, name, {"print": "second line"}, LogType="Tail")
    rid2 = second["Json"]["request_id"]
    assert rid2 != rid
    assert second["Json"]["pid"] == first["Json"]["pid"]
    assert second["Json"]["invocations_in_environment"] == 2
    log2 = decoded_log(second)
    assert "second line" in log2 and f"START RequestId: {rid2}" in log2, log2
    assert f"END RequestId: {rid2}" in log2, log2
    fields2 = report_fields(report_line(log2, rid2))
    assert "Init Duration" not in fields2, log2
    assert {"Duration", "Billed Duration", "Memory Size", "Max Memory Used"} <= set(fields2)

    # Without LogType: Tail there is no log in the answer.
    assert "LogResult" not in invoke(lambda_client, name, {})

    # The tail is the last 4 KB of the log.
    long = invoke(lambda_client, name, {"print_kb": 12}, LogType="Tail")
    rid3 = long["Json"]["request_id"]
    tail = base64.b64decode(long["LogResult"])
    assert len(tail) <= 4096, len(tail)
    text = tail.decode()
    assert "filler line 00191" in text and "filler line 00000" not in text, text[:300]
    assert text.rstrip("\n").splitlines()[-1].startswith(f"REPORT RequestId: {rid3}"), text[-300:]


def test_log_tail_holds_every_line_printed_just_before_the_return(lambda_client, make_function):
    """Output reaches Nimbus through pipes read by other tasks, and the response can overtake
    it: the tail must still end with what the handler printed last, on stdout and stderr,
    invocation after invocation."""
    python = make_function(build_zip({"app.py": (
        "import sys\n"
        "def handler(event, context):\n"
        "    for i in range(event['lines']):\n"
        "        print(f'out {event[\"n\"]} {i}')\n"
        "    print(f'last err {event[\"n\"]}', file=sys.stderr)\n"
        "    print(f'last out {event[\"n\"]}')\n"
        "    return event['n']\n")}))
    node = make_function(build_zip({"index.js": (
        "exports.handler = async (event) => {\n"
        "  for (let i = 0; i < event.lines; i++) console.log(`out ${event.n} ${i}`);\n"
        "  console.error(`last err ${event.n}`);\n"
        "  console.log(`last out ${event.n}`);\n"
        "  return event.n;\n"
        "};\n")}), handler="index.handler", runtime=NODE_RUNTIME)
    for name in (python, node):
        for n in range(15):
            resp = invoke(lambda_client, name, {"n": n, "lines": 40}, LogType="Tail")
            assert resp["Json"] == n, resp["Body"]
            log = decoded_log(resp)
            assert f"last out {n}\n" in log and f"last err {n}\n" in log, (name, n, log[-600:])
            assert log.index(f"last out {n}") < log.index("END RequestId:"), log[-600:]


def test_client_context_reaches_the_handler(lambda_client, make_function):
    name = make_function(echo_zip())
    context = {
        "client": {"installation_id": "install-1", "app_title": "Nimbus tests",
                   "app_version_name": "1.0", "app_version_code": "1",
                   "app_package_name": "dev.nimbus.tests"},
        "custom": {"tenant": "t-42", "flags": [1, 2]},
        "env": {"platform": "linux", "locale": "en_US"},
    }
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    out = invoke(lambda_client, name, {}, ClientContext=encoded)["Json"]
    assert out["client_context"] == {
        "custom": {"tenant": "t-42", "flags": [1, 2]},
        "env": {"platform": "linux", "locale": "en_US"},
        "client": {"app_title": "Nimbus tests"},
    }, out["client_context"]
    assert invoke(lambda_client, name, {})["Json"]["client_context"] is None


# ---------------------------------------------------------------------------------------------
# Updates, versions, aliases


def test_update_code_answers_with_new_code(lambda_client, make_function):
    name = make_function(echo_zip(tag="build-1"))
    first = invoke(lambda_client, name, {})
    assert first["Json"]["tag"] == "build-1"  # a warm environment of build 1 now exists
    lambda_client.update_function_code(FunctionName=name, ZipFile=echo_zip(tag="build-2"))
    wait_updated(lambda_client, name)
    second = invoke(lambda_client, name, {})
    assert "FunctionError" not in second, second["Body"]
    assert second["Json"]["tag"] == "build-2"
    assert second["ExecutedVersion"] == "$LATEST"


def test_update_configuration_environment(lambda_client, make_function):
    name = make_function(echo_zip(), Environment={"Variables": {"GREETING": "hello"}})
    ask = {"env": ["GREETING", "OTHER", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]}
    before = invoke(lambda_client, name, ask)["Json"]
    assert before["env"] == {"GREETING": "hello", "OTHER": None,
                             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
    lambda_client.update_function_configuration(
        FunctionName=name, MemorySize=256,
        Environment={"Variables": {"GREETING": "bonjour", "OTHER": "x=y"}})
    wait_updated(lambda_client, name)
    after = invoke(lambda_client, name, ask)["Json"]
    assert after["env"] == {"GREETING": "bonjour", "OTHER": "x=y",
                            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}
    assert after["memory_limit_in_mb"] == "256"


def test_versions_and_aliases(lambda_client, make_function):
    name = make_function(echo_zip(tag="one"))
    arn = make_function.arns[name]
    v1 = lambda_client.publish_version(FunctionName=name)["Version"]
    assert v1 == "1"
    lambda_client.update_function_code(FunctionName=name, ZipFile=echo_zip(tag="two"))
    wait_updated(lambda_client, name)
    v2 = lambda_client.publish_version(FunctionName=name)["Version"]
    assert v2 == "2"
    for version in (v1, v2):
        lambda_client.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    ask = {"env": ["AWS_LAMBDA_FUNCTION_VERSION"]}
    for qualifier, tag in (("1", "one"), ("2", "two"), ("$LATEST", "two")):
        resp = invoke(lambda_client, name, ask, Qualifier=qualifier)
        assert "FunctionError" not in resp, resp["Body"]
        assert resp["ExecutedVersion"] == qualifier
        out = resp["Json"]
        assert out["tag"] == tag
        assert out["function_version"] == qualifier
        assert out["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == qualifier
        assert out["invoked_function_arn"] == f"{arn}:{qualifier}"
    unqualified = invoke(lambda_client, name, {})
    assert unqualified["ExecutedVersion"] == "$LATEST"
    assert unqualified["Json"]["invoked_function_arn"] == arn
    # A qualified ARN names the version too.
    assert invoke(lambda_client, f"{arn}:1", {})["Json"]["tag"] == "one"

    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    resp = invoke(lambda_client, name, {}, Qualifier="live")
    assert resp["ExecutedVersion"] == "1"
    assert resp["Json"]["tag"] == "one"
    assert resp["Json"]["invoked_function_arn"] == f"{arn}:live"
    assert resp["Json"]["function_version"] == "1"

    # Weighted alias: half of the invocations go to version 2.
    lambda_client.update_alias(
        FunctionName=name, Name="live", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {"1": 0, "2": 0}
    for _ in range(40):
        resp = invoke(lambda_client, name, {}, Qualifier="live")
        assert "FunctionError" not in resp, resp["Body"]
        version = resp["ExecutedVersion"]
        assert version in seen, version
        assert resp["Json"]["tag"] == {"1": "one", "2": "two"}[version]
        assert resp["Json"]["invoked_function_arn"] == f"{arn}:live"
        seen[version] += 1
    assert seen["1"] > 0 and seen["2"] > 0, seen

    with pytest.raises(ClientError) as info:
        invoke(lambda_client, name, {}, Qualifier="9")
    assert error_code(info.value) == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# ---------------------------------------------------------------------------------------------
# Concurrency


def _throttle(exc: ClientError) -> None:
    assert error_code(exc) == "TooManyRequestsException", exc.response
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert exc.response.get("Reason") == THROTTLED, exc.response
    # Lambda says when to try again; botocore reads the header into retryAfterSeconds.
    assert int(exc.response["retryAfterSeconds"]) >= 1, exc.response


def test_reserved_concurrency_zero_throttles(lambda_client, make_function):
    name = make_function(echo_zip())
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as info:
        invoke(lambda_client, name, {})
    _throttle(info.value)
    # Asynchronous invocations of a throttled function are queued, not refused.
    queued = invoke(lambda_client, name, {"queued": True}, InvocationType="Event")
    assert queued["StatusCode"] == 202
    lambda_client.delete_function_concurrency(FunctionName=name)
    resp = invoke(lambda_client, name, {"after": "unthrottled"})
    assert resp["StatusCode"] == 200 and resp["Json"]["echo"] == {"after": "unthrottled"}


def test_reserved_concurrency_one_throttles_the_second_parallel_invocation(
        lambda_client, make_function):
    name = make_function(echo_zip())
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def call(i: int) -> None:
        barrier.wait()
        try:
            results[i] = invoke(lambda_client, name, {"sleep": 2, "i": i})
        except ClientError as e:
            results[i] = e

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in results if isinstance(r, ClientError)]
    answers = [r for r in results if isinstance(r, dict)]
    assert len(errors) == 1 and len(answers) == 1, results
    _throttle(errors[0])
    assert "FunctionError" not in answers[0], answers[0]["Body"]
    # Once the first one is done the function runs again.
    assert invoke(lambda_client, name, {"i": 2})["Json"]["echo"] == {"i": 2}


# ---------------------------------------------------------------------------------------------
# Failures


def test_timeout_kills_the_invocation_and_the_next_one_works(lambda_client, make_function):
    name = make_function(echo_zip(), Timeout=1)
    warm = invoke(lambda_client, name, {})  # the init phase is not part of the timeout
    assert "FunctionError" not in warm, warm["Body"]
    started = time.monotonic()
    resp = invoke(lambda_client, name, {"sleep": 3}, LogType="Tail")
    took = time.monotonic() - started
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled", resp["Body"]
    assert "Task timed out after 1.00 seconds" in resp["Json"]["errorMessage"], resp["Json"]
    assert took < 2.9, f"the caller waited {took:.1f}s for a 1 s timeout"
    log = decoded_log(resp)
    assert "Task timed out after 1.00 seconds" in log, log
    assert "REPORT RequestId: " in log, log

    after = invoke(lambda_client, name, {"sleep": 0})
    assert "FunctionError" not in after, after["Body"]
    assert after["Json"]["echo"] == {"sleep": 0}


def test_memory_limit_exceeded_is_out_of_memory(lambda_client, make_function):
    name = make_function(echo_zip(), MemorySize=128, Timeout=60)
    resp = invoke(lambda_client, name, {"allocate_mb": 400}, LogType="Tail")
    body = expect_function_error(resp, "Runtime.OutOfMemory")
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed"), body
    # As on Lambda, REPORT says the whole memory was used, and names the error type.
    report = report_line(decoded_log(resp), resp["ResponseMetadata"]["RequestId"])
    assert "Max Memory Used: 128 MB" in report and "Runtime.OutOfMemory" in report, report
    # The environment was replaced: the next invocation runs.
    after = invoke(lambda_client, name, {"allocate_mb": 16})
    assert "FunctionError" not in after, after["Body"]


def test_init_error_syntax(lambda_client, make_function):
    name = make_function(build_zip({"app.py": "def handler(event, context)\n    return 1\n"}))
    for _ in range(2):  # every new environment tries init again, and fails again
        body = expect_function_error(invoke(lambda_client, name, {}),
                                     "Runtime.UserCodeSyntaxError")
        assert "Syntax error in module 'app'" in body["errorMessage"], body


def test_init_error_handler_not_found(lambda_client, make_function):
    name = make_function(echo_zip(), handler="app.no_such_handler")
    body = expect_function_error(invoke(lambda_client, name, {}), "Runtime.HandlerNotFound")
    assert "no_such_handler" in body["errorMessage"], body


def test_response_too_large(lambda_client, make_function):
    name = make_function(echo_zip(), MemorySize=512, Timeout=10)
    body = expect_function_error(invoke(lambda_client, name, {"respond_mb": 7}),
                                 "Function.ResponseSizeTooLarge")
    assert "exceeded maximum allowed payload size" in body["errorMessage"], body
    after = invoke(lambda_client, name, {"after": 1})
    assert "FunctionError" not in after and after["Json"]["echo"] == {"after": 1}


def test_error_too_large_ends_the_invocation_at_once(lambda_client, make_function):
    # An error over the payload limit is answered like an oversized response, not held until
    # the function's timeout.
    code = "def handler(event, context):\n    raise Exception('m' * 7 * 1024 * 1024)\n"
    name = make_function(build_zip({"app.py": code}), MemorySize=512, Timeout=20)
    started = time.monotonic()
    expect_function_error(invoke(lambda_client, name, {}), "Function.ResponseSizeTooLarge")
    assert time.monotonic() - started < 10


def test_init_error_missing_module(lambda_client, make_function):
    code = "import nimbus_no_such_module\n\n\ndef handler(event, context):\n    return 1\n"
    name = make_function(build_zip({"app.py": code}))
    resp = invoke(lambda_client, name, {}, LogType="Tail")
    body = expect_function_error(resp, "Runtime.ImportModuleError")
    assert body["errorMessage"] == (
        "Unable to import module 'app': No module named 'nimbus_no_such_module'"), body
    # The log of the failed invocation comes back too: the runtime's error, then the report.
    log = decoded_log(resp)
    assert "Unable to import module 'app'" in log, log
    assert "REPORT RequestId: " in log, log


def test_handler_exception(lambda_client, make_function):
    name = make_function(echo_zip())
    first = invoke(lambda_client, name, {})
    resp = invoke(lambda_client, name, {"raise": "bad input"})
    body = expect_function_error(resp, "ValueError")
    assert body["errorMessage"] == "bad input"
    trace = body["stackTrace"]
    assert isinstance(trace, list) and trace and all(isinstance(x, str) for x in trace), body
    assert any("app.py" in frame and "handler" in frame for frame in trace), trace
    # A handled exception does not end the environment.
    after = invoke(lambda_client, name, {})
    assert "FunctionError" not in after
    assert after["Json"]["pid"] == first["Json"]["pid"]


# ---------------------------------------------------------------------------------------------
# Invocation types, payload checks


def test_event_invocation_runs_the_function(lambda_client, make_function, make_table, dynamodb):
    table = make_table()
    name = make_function(dynamodb_zip(), handler="app.mark")
    marker = unique_name("marker")
    resp = invoke(lambda_client, name, {"table": table, "marker": marker}, InvocationType="Event")
    assert resp["StatusCode"] == 202
    assert resp["Body"] == b""
    assert "FunctionError" not in resp

    def marked():
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": marker}},
                                 ConsistentRead=True).get("Item")

    item = poll(marked, timeout=60)
    assert item is not None, "the asynchronous invocation wrote no marker within 60 s"
    assert item["request_id"]["S"]


RETRY_DELAY_S = 1


@pytest.fixture(scope="module")
def retry_server(tmp_path_factory):
    """A server of its own whose asynchronous retries wait RETRY_DELAY_S and 2 * RETRY_DELAY_S
    seconds instead of Lambda's one and two minutes (``--async-retry-delay``)."""
    root = tmp_path_factory.mktemp("nimbus-async-retries")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NIMBUS_ASYNC_RETRY_DELAY", str(RETRY_DELAY_S))
        server = _start_nimbus(root)
    yield server
    code = _stop(server)
    assert code == 0, f"exit status {code} after SIGTERM; log tail:\n{server.log_tail()}"


def _keyed_table(dynamodb, prefix: str) -> str:
    """A new on-demand table keyed by the string `pk`."""
    table = unique_name(prefix)
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return table


@pytest.mark.nimbus_only
def test_event_invocation_is_retried_twice(retry_server):
    """Lambda runs a failed asynchronous invocation at most two more times."""
    client = lambda_client_for(retry_server, read_timeout=FIRST_USE_READ_TIMEOUT)
    dynamodb = boto3.client("dynamodb", **_client_kwargs(retry_server))
    table = _keyed_table(dynamodb, "attempts")
    runtime_ready(client, retry_server.endpoint, PYTHON_RUNTIME)
    name = unique_name("flaky")
    client.create_function(FunctionName=name, Runtime=PYTHON_RUNTIME, Role=ROLE,
                           Handler="app.flaky", Code={"ZipFile": dynamodb_zip()}, Timeout=30)
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    # Fails on attempts 1 and 2, succeeds on the third; the other one always fails.
    for key, succeed_on in (("third-time-lucky", 3), ("never", 99)):
        resp = invoke(client, name, {"table": table, "key": key, "succeed_on": succeed_on},
                      InvocationType="Event")
        assert resp["StatusCode"] == 202

    def attempts(key: str) -> int:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": key}},
                                 ConsistentRead=True).get("Item")
        return int(item["attempts"]["N"]) if item else 0

    # Attempts at t, t + d and t + 3d.
    wait = 3 * RETRY_DELAY_S + 30
    assert poll(lambda: attempts("third-time-lucky") >= 3 and attempts("never") >= 3,
                timeout=wait), (attempts("third-time-lucky"), attempts("never"))
    time.sleep(4 * RETRY_DELAY_S + 2)  # long enough for a fourth attempt, if one came
    assert attempts("third-time-lucky") == 3
    assert attempts("never") == 3


@pytest.mark.nimbus_only
def test_event_invoke_config_sets_retries_and_destinations(retry_server):
    """MaximumRetryAttempts 0: one attempt; OnFailure and OnSuccess functions get the
    invocation records."""
    client = lambda_client_for(retry_server, read_timeout=FIRST_USE_READ_TIMEOUT)
    dynamodb = boto3.client("dynamodb", **_client_kwargs(retry_server))
    table = _keyed_table(dynamodb, "outcomes")
    runtime_ready(client, retry_server.endpoint, PYTHON_RUNTIME)
    names = {}
    for handler in ("flaky", "record"):
        names[handler] = unique_name(handler)
        client.create_function(FunctionName=names[handler], Runtime=PYTHON_RUNTIME, Role=ROLE,
                               Handler=f"app.{handler}", Code={"ZipFile": dynamodb_zip()},
                               Timeout=30)
        client.get_waiter("function_active_v2").wait(
            FunctionName=names[handler], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    record_arn = client.get_function(FunctionName=names["record"])["Configuration"]["FunctionArn"]
    flaky = names["flaky"]
    with pytest.raises(ClientError) as info:
        client.get_function_event_invoke_config(FunctionName=flaky)
    assert error_code(info.value) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        client.put_function_event_invoke_config(FunctionName=flaky, MaximumRetryAttempts=3)
    assert error_code(info.value) == "ValidationException"
    with pytest.raises(ClientError) as info:
        client.put_function_event_invoke_config(
            FunctionName=flaky, DestinationConfig={"OnFailure": {"Destination": "nope"}})
    assert error_code(info.value) == "InvalidParameterValueException"
    config = client.put_function_event_invoke_config(
        FunctionName=flaky, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": record_arn},
                           "OnSuccess": {"Destination": record_arn}})
    assert config["FunctionArn"].endswith(f":function:{flaky}:$LATEST")
    assert config["MaximumRetryAttempts"] == 0 and "LastModified" in config
    updated = client.update_function_event_invoke_config(FunctionName=flaky,
                                                         MaximumEventAgeInSeconds=600)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 600)
    listed = client.list_function_event_invoke_configs(FunctionName=flaky)
    assert len(listed["FunctionEventInvokeConfigs"]) == 1

    for key, succeed_on in (("fails", 99), ("works", 1)):
        invoke(client, flaky, {"table": table, "key": key, "succeed_on": succeed_on},
               InvocationType="Event")

    def item(key):
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": key}},
                                 ConsistentRead=True).get("Item")

    assert poll(lambda: item("record-fails") and item("record-works"), timeout=60), \
        (item("record-fails"), item("record-works"))
    failed = item("record-fails")
    assert failed["condition"]["S"] == "RetriesExhausted"
    assert failed["function_error"]["S"] == "Unhandled"
    assert item("record-works")["condition"]["S"] == "Success"
    time.sleep(3 * RETRY_DELAY_S + 1)  # long enough for a retry, if one came
    assert item("fails")["attempts"]["N"] == "1"
    client.delete_function_event_invoke_config(FunctionName=flaky)
    assert client.list_function_event_invoke_configs(
        FunctionName=flaky)["FunctionEventInvokeConfigs"] == []


def test_dry_run(lambda_client, make_function):
    name = make_function(echo_zip())
    resp = invoke(lambda_client, name, {"x": 1}, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert resp["Body"] == b""
    assert "FunctionError" not in resp
    with pytest.raises(ClientError) as info:
        invoke(lambda_client, unique_name("missing"), {}, InvocationType="DryRun")
    assert error_code(info.value) == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def _too_large(exc: ClientError) -> None:
    assert error_code(exc) == "RequestTooLargeException", exc.response
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def _json_string_of(size: int) -> bytes:
    return b'"' + b"x" * (size - 2) + b'"'


def test_payload_limits(lambda_client, make_function):
    name = make_function(echo_zip())
    # Synchronous: at most 6 MB.
    with pytest.raises(ClientError) as info:
        invoke(lambda_client, name, raw=_json_string_of(7 * 1024 * 1024))
    _too_large(info.value)
    # Asynchronous: at most 1 MB (the Invoke documentation of the service model).
    resp = invoke(lambda_client, name, raw=_json_string_of(300 * 1024), InvocationType="Event")
    assert resp["StatusCode"] == 202
    with pytest.raises(ClientError) as info:
        invoke(lambda_client, name, raw=_json_string_of(1200 * 1024), InvocationType="Event")
    _too_large(info.value)
    # A payload under the limit still works.
    big = "y" * (1024 * 1024)
    resp = invoke(lambda_client, name, {"big": big})
    assert "FunctionError" not in resp and resp["Json"]["echo"]["big"] == big


def test_invalid_json_payload(lambda_client, make_function):
    name = make_function(echo_zip())
    for invocation_type in ("RequestResponse", "Event"):
        with pytest.raises(ClientError) as info:
            invoke(lambda_client, name, raw=b"{not json", InvocationType=invocation_type)
        assert error_code(info.value) == "InvalidRequestContentException", info.value.response
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ---------------------------------------------------------------------------------------------
# The environment of a function


def test_environment_variables(lambda_client, make_function, nimbus_server):
    name = make_function(echo_zip(), MemorySize=192,
                         Environment={"Variables": {"MY_SETTING": "on"}})
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "MY_SETTING",
    ]
    out = invoke(lambda_client, name, {"env": names})["Json"]
    env = out["env"]
    missing = [n for n in names if not env.get(n)]
    assert not missing, f"unset in the function: {missing}"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == nimbus_server.region
    assert env["AWS_DEFAULT_REGION"] == nimbus_server.region
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{PYTHON_RUNTIME}"
    assert env["MY_SETTING"] == "on"
    # A session of the function's role, as on Lambda, not the node's long-term key.
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA"), env["AWS_ACCESS_KEY_ID"]
    assert env["AWS_ACCESS_KEY_ID"] != nimbus_server.access_key
    assert env["AWS_SECRET_ACCESS_KEY"] != nimbus_server.secret_key
    sts = boto3.client("sts", **{**_client_kwargs(nimbus_server),
                                 "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
                                 "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
                                 "aws_session_token": env["AWS_SESSION_TOKEN"]})
    assert sts.get_caller_identity()["Arn"].endswith(f":assumed-role/nimbus-compat-lambda/{name}")
    # The code is in the task root, which is the working directory.
    assert out["cwd"] == env["LAMBDA_TASK_ROOT"], out
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        assert env[key].startswith("http"), env[key]
        if nimbus_server.process is not None:
            assert env[key].rstrip("/") == nimbus_server.endpoint, (key, env[key])


WRAPPED_APP = """
import os


def handler(event, context):
    return {"wrapped_by": os.environ.get("WRAPPED_BY")}
"""


def test_exec_wrapper_starts_the_runtime(lambda_client, make_function):
    """``AWS_LAMBDA_EXEC_WRAPPER`` names a script that Lambda's managed runtimes start through,
    with the runtime's own command as its arguments: here a script in the package that sets a
    variable and execs the runtime."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _add_file(zf, "app.py", WRAPPED_APP.encode(), 0o644)
        _add_file(zf, "wrapper.sh",
                  b'#!/bin/sh\nexport WRAPPED_BY="$0"\nexec "$@"\n', 0o755)
    name = make_function(buf.getvalue(), Environment={
        "Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}})
    wrapped_by = invoke(lambda_client, name, {})["Json"]["wrapped_by"]
    assert wrapped_by and wrapped_by.endswith("/wrapper.sh"), wrapped_by


def _seed_item(dynamodb, table: str) -> str:
    key = unique_name("item")
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": key}, "n": {"N": "7"}, "s": {"S": "héllo"}, "l": {"L": [{"BOOL": True}]}})
    return key


def test_python_handler_reads_a_table_with_boto3(lambda_client, make_function, make_table,
                                                 dynamodb):
    table = make_table()
    key = _seed_item(dynamodb, table)
    name = make_function(dynamodb_zip(), handler="app.read")
    resp = invoke(lambda_client, name, {"table": table, "key": key})
    assert "FunctionError" not in resp, resp["Body"]
    assert resp["Json"]["item"] == {
        "pk": {"S": key}, "n": {"N": "7"}, "s": {"S": "héllo"}, "l": {"L": [{"BOOL": True}]}}
    missing = invoke(lambda_client, name, {"table": table, "key": "absent"})
    assert missing["Json"]["item"] is None


@pytest.mark.parametrize("handler,module", [("require.handler", "commonjs"),
                                            ("import.handler", "esm")])
def test_node_handler_reads_a_table_with_the_js_sdk(lambda_client, make_function, make_table,
                                                    dynamodb, handler, module):
    table = make_table()
    key = _seed_item(dynamodb, table)
    name = make_function(build_zip(FIXTURES / "lambda-node-dynamodb"), handler=handler,
                         runtime=NODE_RUNTIME)
    resp = invoke(lambda_client, name, {"table": table, "key": key})
    assert "FunctionError" not in resp, resp["Body"]
    assert resp["Json"] == {"item": {"pk": key, "n": 7, "s": "héllo", "l": [True]},
                            "module": module}


def test_client_disconnect_lets_the_invocation_finish(nimbus_server, lambda_client,
                                                        make_function):
    """A caller that goes away mid-invocation must not kill the environment nor leak its
    concurrency: with reserved concurrency 1, the next invocations still run."""
    import socket
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    name = make_function(echo_zip())
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    invoke(lambda_client, name, {"warm": 1})
    url = f"{nimbus_server.endpoint}/2015-03-31/functions/{name}/invocations"
    request = AWSRequest(method="POST", url=url, data=json.dumps({"sleep": 1}).encode())
    SigV4Auth(Credentials(nimbus_server.access_key, nimbus_server.secret_key), "lambda",
              nimbus_server.region).add_auth(request)
    prepared = request.prepare()
    host, port = nimbus_server.endpoint.removeprefix("http://").split(":")
    path = prepared.url.split(nimbus_server.endpoint, 1)[1]
    head = f"POST {path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in prepared.headers.items()) + "\r\n"
    with socket.create_connection((host, int(port))) as s:
        s.sendall(head.encode() + prepared.body)
        time.sleep(0.3)  # the invocation is running; now the client goes away
    time.sleep(1.5)
    for n in range(3):
        out = invoke(lambda_client, name, {"n": n}, LogType="Tail")
        assert "FunctionError" not in out, out["Body"]
        assert "Init Duration" not in decoded_log(out), "the warm environment survived"


# ---------------------------------------------------------------------------------------------
# Details of an invocation that clients and log tools rely on

DETAILS_APP = '''
import json, os, sys, time

def handler(event, context):
    if event.get("exit") is not None:
        sys.exit(event["exit"])
    if event.get("size"):
        return "a" * event["size"]
    if event.get("sleep"):
        time.sleep(event["sleep"])
    import logging
    logging.getLogger().debug("debug line")
    logging.getLogger().info("info line")
    return {
        "request_id": context.aws_request_id,
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "LD_LIBRARY_PATH",
            "LAMBDA_TASK_ROOT")},
    }
'''


def test_the_invocation_carries_the_api_request_id(lambda_client, make_function):
    name = make_function(build_zip({"app.py": DETAILS_APP}))
    resp = invoke(lambda_client, name, {}, LogType="Tail")
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert resp["Json"]["request_id"] == request_id
    assert f"START RequestId: {request_id} " in decoded_log(resp)
    env = resp["Json"]["env"]
    assert env["AWS_LAMBDA_LOG_FORMAT"] is None and env["AWS_LAMBDA_LOG_LEVEL"] is None
    task_root = env["LAMBDA_TASK_ROOT"]
    assert env["LD_LIBRARY_PATH"].split(":")[:2] == [task_root, f"{task_root}/lib"]
    # Event and DryRun answers name no executed version: nothing ran yet.
    for kind in ("Event", "DryRun"):
        raw = lambda_client.invoke(FunctionName=name, InvocationType=kind, Payload=b"{}")
        assert "x-amz-executed-version" not in raw["ResponseMetadata"]["HTTPHeaders"], kind


def test_logging_config_reaches_the_runtime(lambda_client, make_function):
    name = make_function(build_zip({"app.py": DETAILS_APP}),
                         LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    resp = invoke(lambda_client, name, {}, LogType="Tail")
    assert resp["Json"]["env"]["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert resp["Json"]["env"]["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"
    records = [json.loads(line) for line in decoded_log(resp).splitlines()
               if line.startswith("{")]
    assert {"debug line", "info line"} <= {r.get("message") for r in records}, records


def test_lambda_limits_and_messages(lambda_client, make_function):
    name = make_function(build_zip({"app.py": DETAILS_APP}), Timeout=1, MemorySize=512)
    # 6,291,458 bytes of JSON: within Lambda's 6,291,556-byte response limit.
    ok = invoke(lambda_client, name, {"size": 6 * 1024 * 1024})
    assert "FunctionError" not in ok and len(ok["Body"]) == 6 * 1024 * 1024 + 2
    big = expect_function_error(invoke(lambda_client, name, {"size": 6 * 1024 * 1024 + 100}),
                                "Function.ResponseSizeTooLarge")
    assert big["errorMessage"] == (
        "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
    slow = invoke(lambda_client, name, {"sleep": 3})
    request_id = slow["ResponseMetadata"]["RequestId"]
    assert slow["Json"] == {"errorType": "Sandbox.Timedout", "errorMessage":
                            f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"}
    quiet = expect_function_error(invoke(lambda_client, name, {"exit": 0}), "Runtime.ExitError")
    assert quiet["errorMessage"].endswith("Error: Runtime exited without providing a reason")
    loud = expect_function_error(invoke(lambda_client, name, {"exit": 3}), "Runtime.ExitError")
    assert loud["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
