"""Lambda layers with boto3's ``lambda`` client, and runtime versions.

Layers: PublishLayerVersion (versions numbered from 1, ARNs
``arn:aws:lambda:{region}:{account}:layer:{name}:{version}``), ListLayers, ListLayerVersions,
GetLayerVersion with a ``Content.Location`` that downloads the zip, GetLayerVersionByArn,
DeleteLayerVersion, the version permissions; functions with ``Layers`` whose handlers import a
Python module from ``python/`` and a Node.js package from ``nodejs/node_modules/`` (by ``require``
and by ES module ``import``), see the files
at ``/opt`` (later layers overwriting earlier ones) while the host's ``/opt`` stays untouched;
Lambda's errors for unknown layer versions and too many layers.

Runtimes: ``python3.14`` and ``nodejs24.x`` are accepted; where this host lacks the exact
interpreter, the nearest installed one runs the function and Nimbus says so (the function's
``StateReason`` and the init log).
"""

from __future__ import annotations

import hashlib
import base64
import json
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import unique_name
from test_lambda_invoke import (
    ROLE,
    build_zip,
    decoded_log,
    invoke,
    lambda_client_for,
    runtime_ready,
    wait_updated,
)

FIRST_USE_READ_TIMEOUT = 600


@pytest.fixture(scope="module")
def lambda_client(nimbus_server):
    return lambda_client_for(nimbus_server)


@pytest.fixture(scope="module")
def lambda_first_use(nimbus_server):
    return lambda_client_for(nimbus_server, read_timeout=FIRST_USE_READ_TIMEOUT)


@pytest.fixture
def cleanup(lambda_client):
    """Collects layer versions and functions to delete after the test."""
    made = {"layers": [], "functions": []}
    yield made
    for name in made["functions"]:
        try:
            lambda_client.delete_function(FunctionName=name)
        except ClientError:
            pass
    for name, version in made["layers"]:
        lambda_client.delete_layer_version(LayerName=name, VersionNumber=version)


def publish(client, cleanup, name: str, files: dict, **params) -> dict:
    resp = client.publish_layer_version(
        LayerName=name, Content={"ZipFile": build_zip(files)}, **params)
    cleanup["layers"].append((name, resp["Version"]))
    return resp


def make(client, first_use, cleanup, nimbus_server, runtime: str, handler: str, files: dict,
         **params) -> str:
    runtime_ready(first_use, nimbus_server.endpoint, runtime)
    name = unique_name("layered")
    client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                           Code={"ZipFile": build_zip(files)}, Timeout=30, **params)
    cleanup["functions"].append(name)
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return name


def test_publish_list_get_download_delete(lambda_client, cleanup):
    name = unique_name("deps")
    files = {"python/deps_a.py": "VALUE = 'a'\n"}
    first = publish(lambda_client, cleanup, name, files, Description="first",
                    CompatibleRuntimes=["python3.12", "python3.13"],
                    CompatibleArchitectures=["x86_64"], LicenseInfo="MIT")
    assert first["Version"] == 1
    assert first["LayerArn"] == f"arn:aws:lambda:us-east-1:{first['LayerArn'].split(':')[4]}:layer:{name}"
    assert first["LayerVersionArn"] == f"{first['LayerArn']}:1"
    assert first["CompatibleRuntimes"] == ["python3.12", "python3.13"]
    assert first["LicenseInfo"] == "MIT"
    zip_bytes = build_zip(files)
    assert first["Content"]["CodeSize"] == len(zip_bytes)
    assert first["Content"]["CodeSha256"] == base64.b64encode(
        hashlib.sha256(zip_bytes).digest()).decode()
    second = publish(lambda_client, cleanup, name, {"python/deps_b.py": "VALUE = 'b'\n"},
                     CompatibleRuntimes=["nodejs20.x"])
    assert second["Version"] == 2

    got = lambda_client.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["Description"] == "first"
    download = requests.get(got["Content"]["Location"], timeout=30)
    assert download.status_code == 200
    assert download.content == zip_bytes
    by_arn = lambda_client.get_layer_version_by_arn(Arn=first["LayerVersionArn"])
    assert by_arn["Version"] == 1 and by_arn["Description"] == "first"

    versions = lambda_client.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1], "newest first"
    only_python = lambda_client.list_layer_versions(LayerName=name,
                                                    CompatibleRuntime="python3.12")
    assert [v["Version"] for v in only_python["LayerVersions"]] == [1]
    layers = {layer["LayerName"]: layer for layer in lambda_client.list_layers()["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    python_layers = {layer["LayerName"]: layer
                     for layer in lambda_client.list_layers(CompatibleRuntime="python3.13")["Layers"]}
    assert python_layers[name]["LatestMatchingVersion"]["Version"] == 1

    added = lambda_client.add_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="everyone", Action="lambda:GetLayerVersion",
        Principal="*")
    assert json.loads(added["Statement"])["Sid"] == "everyone"
    policy = json.loads(lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["everyone"]
    lambda_client.remove_layer_version_permission(LayerName=name, VersionNumber=1,
                                                  StatementId="everyone")

    lambda_client.delete_layer_version(LayerName=name, VersionNumber=1)
    cleanup["layers"].remove((name, 1))
    with pytest.raises(ClientError) as err:
        lambda_client.get_layer_version(LayerName=name, VersionNumber=1)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Numbers are never reused.
    third = publish(lambda_client, cleanup, name, files)
    assert third["Version"] == 3


PY_HANDLER = """
import os, sys
import deps_a, shared

def handler(event, context):
    return {
        "deps": deps_a.VALUE,
        "shared": shared.WHO,
        "opt": sorted(os.listdir("/opt")),
        "opt_file": os.path.isfile("/opt/python/deps_a.py"),
        "bin": os.path.isfile("/opt/bin/tool"),
        "path": os.environ["PATH"].split(":")[-1],
    }
"""


@pytest.mark.nimbus_only
def test_python_function_imports_from_its_layers(nimbus_server, lambda_client, lambda_first_use,
                                                 cleanup):
    first = publish(lambda_client, cleanup, unique_name("base"), {
        "python/deps_a.py": "VALUE = 'from a layer'\n",
        "python/shared.py": "WHO = 'first'\n",
    })
    second = publish(lambda_client, cleanup, unique_name("over"), {
        "python/shared.py": "WHO = 'second'\n",
        "bin/tool": "#!/bin/sh\necho tool\n",
    })
    layers = [first["LayerVersionArn"], second["LayerVersionArn"]]
    name = make(lambda_client, lambda_first_use, cleanup, nimbus_server, "python3.12",
                "app.handler", {"app.py": PY_HANDLER}, Layers=layers)
    config = lambda_client.get_function(FunctionName=name)["Configuration"]
    assert config["Layers"] == [
        {"Arn": first["LayerVersionArn"], "CodeSize": first["Content"]["CodeSize"]},
        {"Arn": second["LayerVersionArn"], "CodeSize": second["Content"]["CodeSize"]},
    ]
    resp = invoke(lambda_client, name, {})
    assert "FunctionError" not in resp, resp["Body"]
    out = resp["Json"]
    assert out["deps"] == "from a layer"
    assert out["shared"] == "second", "a later layer overwrites an earlier one"
    assert out["opt"] == ["bin", "python"]
    assert out["opt_file"] and out["bin"]
    assert out["path"] == "/opt/bin"
    # The mount is the function's own: the host's /opt is untouched.
    assert not Path("/opt/python/deps_a.py").exists()

    # Moving to another layer version takes effect on the next cold start.
    third = publish(lambda_client, cleanup, unique_name("base"), {
        "python/deps_a.py": "VALUE = 'updated'\n",
        "python/shared.py": "WHO = 'third'\n",
    })
    lambda_client.update_function_configuration(FunctionName=name,
                                                Layers=[third["LayerVersionArn"]])
    wait_updated(lambda_client, name)
    out = invoke(lambda_client, name, {})["Json"]
    assert (out["deps"], out["shared"], out["opt"]) == ("updated", "third", ["python"])
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in config["Layers"]] == [third["LayerVersionArn"]]


NODE_HANDLERS = {
    # CommonJS finds layer packages through NODE_PATH.
    "index.js": """
const fs = require('fs');
const pkg = require('layerpkg');
exports.handler = async () => ({
  pkg: pkg.name,
  file: fs.existsSync('/opt/nodejs/node_modules/layerpkg/index.js'),
});
""",
    # ES modules ignore NODE_PATH; Lambda resolves their imports from layers since Node.js 18.
    "index.mjs": """
import fs from 'node:fs';
import pkg from 'layerpkg';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const handler = async () => ({
  pkg: pkg.name,
  file: fs.existsSync('/opt/nodejs/node_modules/layerpkg/index.js'),
  sdk: typeof DynamoDBClient,
});
""",
}


@pytest.mark.nimbus_only
@pytest.mark.parametrize("handler_file", sorted(NODE_HANDLERS))
def test_node_function_imports_a_package_from_its_layer(nimbus_server, lambda_client,
                                                        lambda_first_use, cleanup, handler_file):
    layer = publish(lambda_client, cleanup, unique_name("nodedeps"), {
        "nodejs/node_modules/layerpkg/index.js": "module.exports = { name: 'layerpkg' };\n",
        "nodejs/node_modules/layerpkg/package.json": '{"name": "layerpkg", "main": "index.js"}\n',
    })
    name = make(lambda_client, lambda_first_use, cleanup, nimbus_server, "nodejs20.x",
                "index.handler", {handler_file: NODE_HANDLERS[handler_file]},
                Layers=[layer["LayerVersionArn"]])
    resp = invoke(lambda_client, name, {})
    assert "FunctionError" not in resp, resp["Body"]
    expected = {"pkg": "layerpkg", "file": True}
    if handler_file.endswith(".mjs"):
        expected["sdk"] = "function"
    assert resp["Json"] == expected


def test_unknown_layer_versions_and_too_many_layers_are_refused(lambda_client, cleanup):
    layer = publish(lambda_client, cleanup, unique_name("real"), {"python/x.py": "X = 1\n"})
    missing = layer["LayerVersionArn"].rsplit(":", 1)[0] + ":99"
    common = dict(FunctionName=unique_name("nolayer"), Runtime="python3.12", Role=ROLE,
                  Handler="app.handler",
                  Code={"ZipFile": build_zip({"app.py": "def handler(e, c):\n    return 1\n"})})
    with pytest.raises(ClientError) as err:
        lambda_client.create_function(Layers=[missing], **common)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert missing in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        lambda_client.create_function(Layers=[layer["LayerVersionArn"]] * 6, **common)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lambda_client.get_layer_version(LayerName=unique_name("none"), VersionNumber=1)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


VERSION_HANDLERS = {
    "python3.14": ("app.handler", {"app.py": (
        "import sys, boto3\n"
        "def handler(event, context):\n"
        "    return {'version': '%d.%d' % sys.version_info[:2], 'boto3': boto3.__version__}\n")}),
    "nodejs24.x": ("app.handler", {"app.mjs": (
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\n"
        "export const handler = async () => ({ version: process.versions.node.split('.')[0],\n"
        "  sdk: typeof DynamoDBClient });\n")}),
}


@pytest.mark.nimbus_only
@pytest.mark.parametrize("runtime", sorted(VERSION_HANDLERS))
def test_newest_runtimes_run_on_the_nearest_interpreter(nimbus_server, lambda_client,
                                                        lambda_first_use, cleanup, runtime):
    handler, files = VERSION_HANDLERS[runtime]
    runtime_ready(lambda_first_use, nimbus_server.endpoint, runtime)
    name = unique_name("newest")
    created = lambda_client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                            Handler=handler, Code={"ZipFile": build_zip(files)},
                                            Timeout=30)
    cleanup["functions"].append(name)
    assert created["Runtime"] == runtime
    resp = invoke(lambda_client, name, {}, LogType="Tail")
    assert "FunctionError" not in resp, resp["Body"]
    wanted = runtime.removeprefix("python").removeprefix("nodejs").removesuffix(".x")
    ran = resp["Json"]["version"]
    if runtime.startswith("python"):
        assert resp["Json"]["boto3"]
    else:
        assert resp["Json"]["sdk"] == "function"
    log = decoded_log(resp)
    if ran == wanted:
        assert "StateReason" not in created
        assert "is not installed" not in log
    else:
        # Substituted: said in the function's configuration and in its init log.
        assert runtime in created["StateReason"] and "runs it" in created["StateReason"], created
        assert f"NIMBUS: {runtime} is not installed on this host" in log, log
