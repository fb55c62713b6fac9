"""`nimbus deploy` with layers: tests/fixtures/sam/python-layer has a function that imports a
module from a local `AWS::Serverless::LayerVersion` (its own `Layers: [!Ref ...]`) and another
from an `AWS::Lambda::LayerVersion` given to every function through `Globals`, and from a third built by make (`Metadata:
BuildMethod: makefile`). The layers are
published, the function runs with both at `/opt`, an unchanged redeploy changes nothing, and a
changed layer is published as a new version which the function moves to; with
`RetentionPolicy: Delete` the superseded version is deleted.
"""

from __future__ import annotations

import pytest

from test_deploy import aws_client, call, deploy, nimbus, outputs, project, stack_name

pytestmark = pytest.mark.nimbus_only


def test_function_with_local_layers_deploys_and_follows_layer_changes(nimbus_server, tmp_path):
    lam = aws_client(nimbus_server, "lambda")
    app = project(tmp_path, "python-layer")
    stack = stack_name("layer")
    out = deploy(nimbus_server, app, stack)
    assert "publish layer     GreetingLayer" in out.stdout, out.stdout
    assert "publish layer     ToolsLayer" in out.stdout, out.stdout
    urls = outputs(out.stdout)
    r = call(urls["HelloWorldApi"])
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello from a layer", "shout": "HELLO FROM A LAYER!",
                        "stamp": "made by make",
                        "opt": ["greeting.py", "stamp.py", "tools.py"]}
    assert "Built layer BuiltLayer (makefile)" in out.stdout, out.stdout

    name = urls["HelloWorldFunction"].rsplit(":", 1)[1]
    layers = lam.get_function_configuration(FunctionName=name)["Layers"]
    arns = [layer["Arn"] for layer in layers]
    # Globals' layers first, then the function's own, as SAM merges lists.
    assert arns[0].split(":")[-2:] == [f"{stack}-ToolsLayer", "1"], arns
    assert arns[1].split(":")[-2:] == [f"{stack}-GreetingLayer", "1"], arns
    assert urls["GreetingLayerArn"] == arns[1], "an output's Ref of a layer is its version ARN"
    greeting = lam.get_layer_version_by_arn(Arn=arns[1])
    assert greeting["Description"] == "The greeting module"
    assert greeting["CompatibleRuntimes"] == ["python3.12"]

    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout
    assert "publish layer" not in again.stdout

    module = app / "layers" / "greeting" / "python" / "greeting.py"
    module.write_text('MESSAGE = "hello from version two"\n')
    changed = deploy(nimbus_server, app, stack)
    assert "publish layer     GreetingLayer" in changed.stdout, changed.stdout
    assert "ToolsLayer" not in changed.stdout
    assert "publish layer     BuiltLayer" not in changed.stdout, "an unchanged build"
    assert "update  function  HelloWorldFunction" in changed.stdout, changed.stdout
    assert call(urls["HelloWorldApi"]).json()["message"] == "hello from version two"
    arns = [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=name)["Layers"]]
    assert arns[1].endswith(f"{stack}-GreetingLayer:2"), arns
    # The old version is retained (RetentionPolicy: Retain, SAM's default).
    versions = lam.list_layer_versions(LayerName=f"{stack}-GreetingLayer")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]

    # RetentionPolicy: Delete removes the superseded version once the function moved.
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("RetentionPolicy: Retain",
                                                     "RetentionPolicy: Delete"))
    module.write_text('MESSAGE = "hello from version three"\n')
    third = deploy(nimbus_server, app, stack)
    assert f"delete  layer     {stack}-GreetingLayer:2" in third.stdout, third.stdout
    assert call(urls["HelloWorldApi"]).json()["message"] == "hello from version three"
    versions = lam.list_layer_versions(LayerName=f"{stack}-GreetingLayer")["LayerVersions"]
    assert [v["Version"] for v in versions] == [3, 1]

    gone = nimbus(nimbus_server, "delete-stack", stack)
    assert gone.returncode == 0, gone.stderr
