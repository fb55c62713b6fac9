"""Lambda control plane with boto3's lambda client and the aws CLI.

Sources: the Lambda API Reference (CreateFunction, GetFunction, ListFunctions,
UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction, PublishVersion,
ListVersionsByFunction, the alias operations, PutFunctionConcurrency,
GetAccountSettings, AddPermission/GetPolicy/RemovePermission, TagResource,
Invoke), botocore's lambda service model (shapes, paths, status codes, error
shapes) and its waiters (function_active_v2, function_updated_v2), and the
Lambda quotas page (memory 128-10240 MB, timeout 900 s, /tmp 512-10240 MB,
4 KB of environment variables, 6 MB synchronous payloads, 1000 concurrent
executions with 100 kept unreserved).
"""

import base64
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import _client_kwargs, _start_nimbus, _stop, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER_SOURCE = "def handler(event, context):\n    return event\n"


def make_zip(files=None) -> bytes:
    files = files or {"app.py": HANDLER_SOURCE}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def lam(nimbus_server):
    return boto3.client("lambda", **_client_kwargs(nimbus_server))


@pytest.fixture(scope="module")
def lam_unvalidated(nimbus_server):
    """Skips botocore's own checks (minimums), so the server's validation is tested."""
    return boto3.client("lambda", **_client_kwargs(nimbus_server, parameter_validation=False))


@pytest.fixture
def make_function(lam):
    """Factory: creates a python3.12 function with a unique name; deletes it afterwards."""
    created = []

    def factory(name=None, zip_bytes=None, **extra):
        fname = name or unique_name("fn")
        params = dict(
            FunctionName=fname,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_bytes or make_zip()},
        )
        params.update(extra)
        resp = lam.create_function(**params)
        created.append(fname)
        return resp

    yield factory
    for fname in created:
        try:
            lam.delete_function(FunctionName=fname)
        except lam.exceptions.ResourceNotFoundException:
            pass


def code_of(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def status_of(exc: ClientError) -> int:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_function_answers_the_configuration(lam, make_function):
    zip_bytes = make_zip()
    name = unique_name("create")
    resp = make_function(
        name=name,
        zip_bytes=zip_bytes,
        Description="first",
        Environment={"Variables": {"GREETING": "hello"}},
        Tags={"team": "core"},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert resp["Runtime"] == "python3.12"
    assert resp["Role"] == ROLE
    assert resp["Handler"] == "app.handler"
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["CodeSha256"] == sha256_b64(zip_bytes)
    assert resp["Description"] == "first"
    assert resp["Timeout"] == 3
    assert resp["MemorySize"] == 128
    assert resp["Version"] == "$LATEST"
    assert resp["Environment"] == {"Variables": {"GREETING": "hello"}}
    assert resp["TracingConfig"] == {"Mode": "PassThrough"}
    assert resp["State"] == "Active"
    assert resp["LastUpdateStatus"] == "Successful"
    assert resp["PackageType"] == "Zip"
    assert resp["Architectures"] == ["x86_64"]
    assert resp["EphemeralStorage"] == {"Size": 512}
    assert resp["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert resp["RevisionId"]
    assert resp["LastModified"].endswith("+0000")

    with pytest.raises(ClientError) as info:
        make_function(name=name)
    assert code_of(info.value) == "ResourceConflictException"
    assert status_of(info.value) == 409
    assert info.value.response["Error"]["Message"] == f"Function already exist: {name}"


def test_waiters_pass(lam, make_function):
    name = make_function()["FunctionName"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.get_waiter("function_active").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.get_waiter("function_exists").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.get_waiter("function_updated").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def test_get_function_with_code_location(lam, make_function):
    zip_bytes = make_zip({"app.py": HANDLER_SOURCE, "data.txt": "x" * 1000})
    name = make_function(zip_bytes=zip_bytes, Tags={"k": "v"})["FunctionName"]
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Code"]["RepositoryType"] == "S3"
    assert got["Tags"] == {"k": "v"}
    assert "Concurrency" not in got
    downloaded = requests.get(got["Code"]["Location"], timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.content == zip_bytes

    tampered = got["Code"]["Location"].replace("token=", "token=00")
    assert requests.get(tampered, timeout=30).status_code == 403

    config = lam.get_function_configuration(FunctionName=name)
    assert config["CodeSha256"] == sha256_b64(zip_bytes)
    arn = got["Configuration"]["FunctionArn"]
    assert lam.get_function_configuration(FunctionName=arn)["FunctionName"] == name
    partial = f"000000000000:function:{name}"
    assert lam.get_function(FunctionName=partial)["Configuration"]["FunctionArn"] == arn


def test_missing_function_is_not_found(lam):
    name = unique_name("missing")
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName=name)
    assert code_of(info.value) == "ResourceNotFoundException"
    assert status_of(info.value) == 404
    assert info.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )
    # Lambda's model spells this error's member `Message`, which botocore also lifts out.
    assert info.value.response["Message"] == info.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function_configuration(FunctionName=name, Qualifier="7")
    assert info.value.response["Error"]["Message"].endswith(f"function:{name}:7")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


def test_list_functions_paginates(lam, make_function):
    names = {make_function()["FunctionName"] for _ in range(3)}
    seen = []
    marker = None
    while True:
        kwargs = {"MaxItems": 1}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        assert len(page["Functions"]) <= 1
        # Lambda answers the state only to GetFunction and GetFunctionConfiguration.
        assert not any("State" in f or "LastUpdateStatus" in f for f in page["Functions"])
        seen.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
        if not marker:
            break
    assert names <= set(seen)
    assert len(seen) == len(set(seen))

    paginated = [
        f["FunctionName"]
        for p in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for f in p["Functions"]
    ]
    assert paginated == seen


def test_list_functions_all_versions(lam, make_function):
    name = make_function(Publish=True)["FunctionName"]
    listed = [
        f
        for p in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
        for f in p["Functions"]
        if f["FunctionName"] == name
    ]
    assert [f["Version"] for f in listed] == ["$LATEST", "1"]
    assert listed[1]["FunctionArn"].endswith(f"function:{name}:1")
    plain = [
        f
        for p in lam.get_paginator("list_functions").paginate()
        for f in p["Functions"]
        if f["FunctionName"] == name
    ]
    assert [f["Version"] for f in plain] == ["$LATEST"]


def test_update_code_and_configuration(lam, make_function):
    created = make_function()
    name = created["FunctionName"]
    new_zip = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    assert updated["CodeSha256"] == sha256_b64(new_zip)
    assert updated["CodeSize"] == len(new_zip)
    assert updated["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    got = lam.get_function(FunctionName=name)
    assert requests.get(got["Code"]["Location"], timeout=30).content == new_zip

    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName=name, ZipFile=new_zip, RevisionId="stale")
    assert code_of(info.value) == "PreconditionFailedException"
    assert status_of(info.value) == 412

    config = lam.update_function_configuration(
        FunctionName=name,
        MemorySize=1024,
        Timeout=900,
        Description="tuned",
        Handler="app.other",
        Runtime="python3.13",
        Environment={"Variables": {"AA": "1", "B_2": "2"}},
        EphemeralStorage={"Size": 10240},
        TracingConfig={"Mode": "Active"},
        LoggingConfig={"LogFormat": "JSON"},
        RevisionId=updated["RevisionId"],
    )
    assert config["MemorySize"] == 1024
    assert config["Timeout"] == 900
    assert config["Description"] == "tuned"
    assert config["Handler"] == "app.other"
    assert config["Runtime"] == "python3.13"
    assert config["Environment"] == {"Variables": {"AA": "1", "B_2": "2"}}
    assert config["EphemeralStorage"] == {"Size": 10240}
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["LoggingConfig"]["LogFormat"] == "JSON"
    assert config["CodeSha256"] == sha256_b64(new_zip)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})

    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(
            FunctionName=name, MemorySize=256, RevisionId=updated["RevisionId"]
        )
    assert code_of(info.value) == "PreconditionFailedException"

    cleared = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {}})
    assert "Environment" not in cleared or cleared["Environment"].get("Variables") in (None, {})

    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName=name, ZipFile=b"not a zip")
    assert code_of(info.value) == "InvalidParameterValueException"


def _zip_of(files):
    """A zip of `files` ({name: text}), names written as given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize(
    "extra, code, fragment",
    [
        ({"MemorySize": 127}, "ValidationException", "greater than or equal to 128"),
        ({"MemorySize": 10241}, "ValidationException", "less than or equal to 10240"),
        ({"Timeout": 0}, "ValidationException", "greater than or equal to 1"),
        ({"Timeout": 901}, "ValidationException", "less than or equal to 900"),
        ({"EphemeralStorage": {"Size": 511}}, "ValidationException", "ephemeralStorage.size"),
        ({"EphemeralStorage": {"Size": 10241}}, "ValidationException", "ephemeralStorage.size"),
        ({"Description": "d" * 257}, "ValidationException", "description"),
        ({"Runtime": "python4.0"}, "InvalidParameterValueException",
         "Value python4.0 at 'runtime' failed to satisfy constraint"),
        ({"Runtime": "python2.7"}, "InvalidParameterValueException", "no longer supported"),
        ({"Handler": None}, "InvalidParameterValueException", "Runtime and Handler are mandatory"),
        ({"Role": "not-a-role"}, "ValidationException", "at 'role'"),
        ({"Architectures": ["sparc"]}, "ValidationException", "architectures"),
        ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "InvalidParameterValueException",
         "Reserved keys used in this request: AWS_REGION"),
        ({"Environment": {"Variables": {"BIG": "x" * 4096}}}, "InvalidParameterValueException",
         "exceeded the 4KB limit"),
        ({"Environment": {"Variables": {"A": "1"}}}, "ValidationException",
         "Map keys must satisfy constraint"),
        ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException", "Could not unzip"),
        # Entries that could not be extracted: refused now, not at every invocation.
        ({"Code": {"ZipFile": _zip_of({"../evil.py": "x"})}}, "InvalidParameterValueException",
         "Could not unzip"),
        ({"Code": {"ZipFile": _zip_of({"a": "file", "a/b.py": "x"})}},
         "InvalidParameterValueException", "Could not unzip"),
    ],
)
def test_create_function_validation(lam_unvalidated, extra, code, fragment):
    params = dict(
        FunctionName=unique_name("bad"),
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip()},
    )
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(ClientError) as info:
        lam_unvalidated.create_function(**params)
    assert code_of(info.value) == code, info.value.response["Error"]
    assert status_of(info.value) == 400
    assert fragment in info.value.response["Error"]["Message"]
    assert info.value.response["Error"].get("Type", "User") == "User"


def test_provided_runtime_and_arm64(lam, make_function):
    resp = make_function(
        Runtime="provided.al2023",
        Handler="bootstrap",
        Architectures=["arm64"],
        zip_bytes=make_zip({"bootstrap": "#!/bin/sh\n"}),
        MemorySize=10240,
        Timeout=1,
    )
    assert resp["Architectures"] == ["arm64"]
    assert resp["Runtime"] == "provided.al2023"
    assert resp["MemorySize"] == 10240


def test_versions(lam, make_function):
    created = make_function(Publish=True)
    name = created["FunctionName"]
    assert created["Version"] == "1"
    assert created["FunctionArn"].endswith(f"function:{name}:1")

    again = lam.publish_version(FunctionName=name)
    assert again["Version"] == "1", "unchanged code and configuration publish nothing new"

    lam.update_function_configuration(FunctionName=name, MemorySize=512)
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName=name, CodeSha256="wrong")
    assert code_of(info.value) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName=name, RevisionId="stale")
    assert code_of(info.value) == "PreconditionFailedException"

    v2 = lam.publish_version(
        FunctionName=name, Description="second", CodeSha256=created["CodeSha256"]
    )
    assert v2["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v2["Version"] == "2"
    assert v2["Description"] == "second"
    assert v2["MemorySize"] == 512
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["MemorySize"] == 128
    assert lam.get_function_configuration(FunctionName=f"{name}:2")["MemorySize"] == 512

    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(f"function:{name}:$LATEST")
    page = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    assert len(page["Versions"]) == 2 and page["NextMarker"]
    rest = lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2"]

    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert code_of(info.value) == "InvalidParameterValueException"
    lam.delete_function(FunctionName=name, Qualifier="1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name, Qualifier="1")
    lam.update_function_configuration(FunctionName=name, MemorySize=640)
    assert lam.publish_version(FunctionName=name)["Version"] == "3", "numbers are not reused"
    # A new description of $LATEST is a change worth a version; publishing again is not.
    lam.update_function_configuration(FunctionName=name, Description="described")
    v4 = lam.publish_version(FunctionName=name)
    assert (v4["Version"], v4["Description"]) == ("4", "described")
    assert lam.publish_version(FunctionName=name)["Version"] == "4"


def test_aliases(lam, make_function):
    name = make_function(Publish=True)["FunctionName"]
    lam.update_function_configuration(FunctionName=name, Timeout=30)
    lam.publish_version(FunctionName=name)

    alias = lam.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        Description="production",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert alias["RevisionId"]

    with pytest.raises(ClientError) as info:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert code_of(info.value) == "ResourceConflictException"
    with pytest.raises(ClientError) as info:
        lam.create_alias(FunctionName=name, Name="bad", FunctionVersion="9")
    assert code_of(info.value) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        lam.create_alias(
            FunctionName=name, Name="heavy", FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}},
        )
    assert code_of(info.value) == "ValidationException"

    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["Description"] == "production"
    config = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert config["Version"] == "1"
    assert config["FunctionArn"].endswith(f"function:{name}:live")

    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert code_of(info.value) == "ResourceConflictException"

    updated = lam.update_alias(
        FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={},
        RevisionId=got["RevisionId"],
    )
    assert updated["FunctionVersion"] == "2"
    assert "RoutingConfig" not in updated or not updated["RoutingConfig"].get(
        "AdditionalVersionWeights"
    )
    with pytest.raises(ClientError) as info:
        lam.update_alias(FunctionName=name, Name="live", RevisionId=got["RevisionId"])
    assert code_of(info.value) == "PreconditionFailedException"

    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    names = [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]]
    assert names == ["beta", "live"]
    only_two = lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]
    assert [a["Name"] for a in only_two] == ["live"]

    deleted = lam.delete_alias(FunctionName=name, Name="beta")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        lam.get_alias(FunctionName=name, Name="beta")
    assert code_of(info.value) == "ResourceNotFoundException"


def test_concurrency_and_account_settings(lam, make_function):
    name = make_function()["FunctionName"]
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    before = lam.get_account_settings()
    limit = before["AccountLimit"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["CodeSizeZipped"] == 52428800
    assert limit["CodeSizeUnzipped"] == 262144000
    assert limit["TotalCodeSize"] > 0
    assert before["AccountUsage"]["FunctionCount"] >= 1
    assert before["AccountUsage"]["TotalCodeSize"] > 0

    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
    assert put["ReservedConcurrentExecutions"] == 10
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 10
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 10}
    after = lam.get_account_settings()["AccountLimit"]
    assert after["UnreservedConcurrentExecutions"] == limit["UnreservedConcurrentExecutions"] - 10

    with pytest.raises(ClientError) as info:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1000)
    assert code_of(info.value) == "InvalidParameterValueException"
    assert "below its minimum value of [100]" in info.value.response["Error"]["Message"]

    deleted = lam.delete_function_concurrency(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None


def test_permissions(lam, make_function):
    created = make_function()
    name = created["FunctionName"]
    with pytest.raises(ClientError) as info:
        lam.get_policy(FunctionName=name)
    assert code_of(info.value) == "ResourceNotFoundException"

    source = "arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/items"
    added = lam.add_permission(
        FunctionName=name,
        StatementId="apigw",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source,
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(added["Statement"])
    assert statement["Sid"] == "apigw"
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == created["FunctionArn"]
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": source}}

    with pytest.raises(ClientError) as info:
        lam.add_permission(
            FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
        )
    assert code_of(info.value) == "ResourceConflictException"

    policy = lam.get_policy(FunctionName=name)
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == ["apigw"]
    assert policy["RevisionId"]

    removed = lam.remove_permission(FunctionName=name, StatementId="apigw")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        lam.remove_permission(FunctionName=name, StatementId="apigw")
    assert code_of(info.value) == "ResourceNotFoundException"


def test_tags(lam, make_function):
    created = make_function(Tags={"a": "1"})
    arn = created["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1"}
    resp = lam.tag_resource(Resource=arn, Tags={"b": "2", "c": "3"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2", "c": "3"}
    lam.untag_resource(Resource=arn, TagKeys=["a", "c"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    assert lam.get_function(FunctionName=created["FunctionName"])["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as info:
        lam.list_tags(Resource=arn + "-missing")
    assert code_of(info.value) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        lam.tag_resource(Resource=arn, Tags={})
    assert code_of(info.value) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as info:
        lam.untag_resource(Resource=arn, TagKeys=[])
    assert code_of(info.value) == "ValidationException"
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_list_functions_refuses_an_unknown_function_version(lam_unvalidated):
    with pytest.raises(ClientError) as info:
        lam_unvalidated.list_functions(FunctionVersion="latest")
    assert code_of(info.value) == "ValidationException"
    assert "enum value set: [ALL]" in info.value.response["Error"]["Message"]


def test_delete_function(lam, make_function):
    name = make_function(Publish=True)["FunctionName"]
    resp = lam.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.list_versions_by_function(FunctionName=name)
    # The name is free again.
    make_function(name=name)


def test_invoke_missing_function_and_payload_limit(lam, make_function):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName=unique_name("missing"), Payload=b"{}")
    assert code_of(info.value) == "ResourceNotFoundException"
    assert status_of(info.value) == 404
    # An invocation names a version: the missing one is $LATEST.
    assert info.value.response["Error"]["Message"].endswith(":$LATEST")

    name = make_function()["FunctionName"]
    big = b'"' + b"x" * (7 * 1024 * 1024) + b'"'
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName=name, Payload=big)
    assert code_of(info.value) == "RequestTooLargeException"
    assert status_of(info.value) == 413


def test_aws_cli_list_functions(aws_cli, make_function):
    name = make_function()["FunctionName"]
    out = aws_cli("lambda", "list-functions")
    assert name in [f["FunctionName"] for f in out["Functions"]]
    got = aws_cli("lambda", "get-function-configuration", "--function-name", name)
    assert got["Runtime"] == "python3.12"


@pytest.mark.nimbus_only
def test_functions_survive_restart():
    root = Path(tempfile.mkdtemp(prefix="nimbus-lambda-restart-"))
    zip_bytes = make_zip()
    server = _start_nimbus(root)
    try:
        client = boto3.client("lambda", **_client_kwargs(server))
        client.create_function(
            FunctionName="durable", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": zip_bytes}, Publish=True, Tags={"keep": "yes"},
        )
        client.create_alias(FunctionName="durable", Name="live", FunctionVersion="1")
        client.put_function_concurrency(FunctionName="durable", ReservedConcurrentExecutions=5)
    finally:
        code = _stop(server)
    assert code == 0, server.log_tail()
    again = _start_nimbus(root, reuse=True)
    try:
        client = boto3.client("lambda", **_client_kwargs(again))
        got = client.get_function(FunctionName="durable")
        assert got["Configuration"]["CodeSha256"] == sha256_b64(zip_bytes)
        assert got["Tags"] == {"keep": "yes"}
        assert got["Concurrency"] == {"ReservedConcurrentExecutions": 5}
        assert requests.get(got["Code"]["Location"], timeout=30).content == zip_bytes
        assert client.get_alias(FunctionName="durable", Name="live")["FunctionVersion"] == "1"
        versions = client.list_versions_by_function(FunctionName="durable")["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    finally:
        assert _stop(again) == 0, again.log_tail()


def test_function_names_and_arns_are_checked(lam_unvalidated, make_function):
    name = make_function()["FunctionName"]
    for bad in ("invalid:function:name", "12345:function:" + name):
        with pytest.raises(ClientError) as info:
            lam_unvalidated.get_function(FunctionName=bad)
        assert code_of(info.value) == "ValidationException", bad
    too_long = "arn:aws:lambda:us-east-1:000000000000:function:" + "n" * 95
    with pytest.raises(ClientError) as info:
        lam_unvalidated.get_function(FunctionName=too_long)
    assert "length less than or equal to 140" in info.value.response["Error"]["Message"]
    elsewhere = f"arn:aws:lambda:eu-central-1:000000000000:function:{name}"
    with pytest.raises(ClientError) as info:
        lam_unvalidated.get_function(FunctionName=elsewhere)
    assert code_of(info.value) == "ResourceNotFoundException"
    assert info.value.response["Error"]["Message"] == (
        "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')")
