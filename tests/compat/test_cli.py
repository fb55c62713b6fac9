"""The `nimbus` command line against a running server: `invoke` and `logs`."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import uuid
import zipfile

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.nimbus_only

HANDLER = """
def handler(event, context):
    print("cli-marker", event.get("n"))
    return {"doubled": event.get("n", 0) * 2}
"""


def nimbus(server, *args, timeout=60):
    binary = os.environ.get("NIMBUS_BIN") or str(
        __import__("pathlib").Path(__file__).resolve().parents[2] / "target" / "debug" / "nimbus")
    listen = server.endpoint.removeprefix("http://")
    return subprocess.run([binary, *args, "--data-dir", str(server.data_dir), "--listen", listen],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def function(nimbus_server):
    client = boto3.client("lambda", endpoint_url=nimbus_server.endpoint,
                          region_name=nimbus_server.region,
                          aws_access_key_id=nimbus_server.access_key,
                          aws_secret_access_key=nimbus_server.secret_key,
                          config=Config(retries={"max_attempts": 1}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    client.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                           Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": buf.getvalue()})
    yield name
    client.delete_function(FunctionName=name)


def test_invoke_prints_the_result_and_the_log(nimbus_server, function):
    out = nimbus(nimbus_server, "invoke", function, "--payload", '{"n": 21}', "--log")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"doubled": 42}
    assert "cli-marker 21" in out.stderr
    assert "REPORT RequestId:" in out.stderr


def test_invoke_of_a_missing_function_says_so(nimbus_server):
    out = nimbus(nimbus_server, "invoke", "no-such-function")
    assert out.returncode != 0
    assert "ResourceNotFoundException" in out.stderr


def test_logs_show_the_functions_lines(nimbus_server, function):
    assert nimbus(nimbus_server, "invoke", function, "--payload", '{"n": 7}').returncode == 0
    out = nimbus(nimbus_server, "logs", function, "--since", "1h")
    assert out.returncode == 0, out.stderr
    assert "cli-marker 7" in out.stdout
    assert "START RequestId:" in out.stdout
    filtered = nimbus(nimbus_server, "logs", function, "--since", "1h", "--filter", "REPORT")
    lines = [l for l in filtered.stdout.splitlines() if l.strip()]
    assert lines and all("REPORT" in l for l in lines), filtered.stdout


def test_logs_through_the_cloudwatch_logs_api(nimbus_server, function):
    logs = boto3.client("logs", endpoint_url=nimbus_server.endpoint,
                        region_name=nimbus_server.region,
                        aws_access_key_id=nimbus_server.access_key,
                        aws_secret_access_key=nimbus_server.secret_key)
    assert nimbus(nimbus_server, "invoke", function, "--payload", '{"n": 1}').returncode == 0
    group = f"/aws/lambda/{function}"
    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert streams and streams[0]["logStreamName"].split("/")[3].startswith("[$LATEST]")
    page = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                               startFromHead=True)
    events = page["events"]
    assert any(e["message"].startswith("START RequestId:") for e in events)
    # The environment's first line names its runtime version, as Lambda's do.
    assert re.fullmatch(r"INIT_START Runtime Version: \w+:[\w.]+\.v1\t"
                        r"Runtime Version ARN: arn:aws:lambda:[\w-]+::runtime:[0-9a-f]{64}\n?",
                        events[0]["message"]), events[0]
    # The forward token reads on from where the page ended: nothing new yet, the same token.
    again = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                                nextToken=page["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == page["nextForwardToken"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                            nextToken="not-a-token")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=group, logStreamName="2020/01/01/[$LATEST]none")
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 7
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName="/aws/lambda/never-existed")
