"""`nimbus deploy` with the SAM template features real applications use.

One project per feature group under tests/fixtures/sam/, written after the SAM and
CloudFormation documentation: mappings, conditions, parameters and intrinsics (`intrinsics`),
connectors and policy templates over a SimpleTable read by a handler under src/handlers/
through an HTTP API (`connector`), resources of services Nimbus does not run (`others`), and
AutoPublishAlias with a Node.js ES module handler (`alias`). Each is deployed, then checked
through boto3, HTTP calls and the Outputs the deploy prints.
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from test_deploy import (aws_client, call, deploy, function_names, nimbus, outputs, project,
                         stack_name)

pytestmark = pytest.mark.nimbus_only


@pytest.fixture(scope="module")
def lam(nimbus_server):
    return aws_client(nimbus_server, "lambda")


@pytest.fixture(scope="module")
def ddb(nimbus_server):
    return aws_client(nimbus_server, "dynamodb")


def template_project(tmp_path, name, text):
    """A project `name` holding only a template.yaml with `text`; returns the template's path
    (its parent is the project to deploy)."""
    app = tmp_path / name
    app.mkdir()
    template = app / "template.yaml"
    template.write_text(text)
    return template


def invoke(lam, name, qualifier=None):
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    r = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read())


def test_mappings_conditions_parameters_and_intrinsics(nimbus_server, tmp_path, lam, ddb):
    app = project(tmp_path, "intrinsics")
    stack = stack_name("intr")
    out = deploy(nimbus_server, app, stack)
    got = outputs(out.stdout)
    name = got["FunctionName"]
    assert re.fullmatch(rf"{stack}-ConfigFunction-[A-Z0-9]{{12}}", name), name
    assert got["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert got["RoleName"] == f"{stack}-ConfigFunctionRole"
    assert got["RoleArn"] == f"arn:aws:iam::000000000000:role/{stack}-ConfigFunctionRole"
    assert got["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:000000000000:stack/{stack}/")
    assert got["Memory"] == "128"
    assert "ProdTable" not in got  # its Condition is false

    env = invoke(lam, name)
    assert env == {
        "X_LOG_LEVEL": "DEBUG",
        "X_REGION": "us-east-1",
        "X_ACCOUNT": "000000000000",
        "X_STACK": stack,
        "X_STACK_ID": got["StackId"],
        "X_PARTITION": "aws",
        "X_URL_SUFFIX": "amazonaws.com",
        "X_FIRST_AZ": "us-east-1a",
        "X_SECOND_ZONE": "b",
        "X_JOINED": "a+b+c",
        "X_SPLIT": "c",
        "X_B64": base64.b64encode(b"hello").decode(),
        "X_SUB": f"{stack}-dev-team-a",
        "X_SUB_VARS": "team-a-3@us-east-1",
        "X_SIZE": "small",
        "X_TEAM_A_DEV": "yes",
        "X_PROD_OR_B": "no",
        "X_ROLE": got["RoleArn"],
        "X_ZONE_COUNT": "3",
        "X_JSON": '{"stage":"dev","zones":["a","b","c"]}',
        "X_TIER": "standard",
    }
    config = lam.get_function_configuration(FunctionName=name)
    assert config["MemorySize"] == 128
    assert config["TracingConfig"] == {"Mode": "Active"}

    # Overrides flip the conditions: the mapping, the conditional key and resource appear.
    prod = deploy(nimbus_server, app, stack, "--parameter-overrides", "Stage=prod", "Owner=team-b")
    got = outputs(prod.stdout)
    assert got["Memory"] == "256"
    assert got["ProdTable"] in ddb.list_tables()["TableNames"]
    env = invoke(lam, name)
    assert env["X_SIZE"] == "large"
    assert env["X_GONE"] == "present"
    assert env["X_TEAM_A_DEV"] == "no"
    assert env["X_PROD_OR_B"] == "yes"
    assert env["X_LOG_LEVEL"] == "WARN"
    assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == 256

    # Values outside the parameters' constraints are refused with the parameter's line,
    # before anything changes.
    for override, message in [
        ("Owner=ab", "template line 16: parameter Owner is \"ab\", shorter than its MinLength 3"),
        ("Retries=9", "template line 21: parameter Retries is 9, outside its MinValue/MaxValue 1..5"),
        ("Stage=test", "template line 12: parameter Stage is \"test\", not one of its AllowedValues"),
    ]:
        bad = deploy(nimbus_server, app, stack, "--parameter-overrides", override, ok=False)
        assert bad.returncode != 0
        assert message in bad.stderr, bad.stderr
    assert invoke(lam, name)["X_SIZE"] == "large"
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_connectors_and_policies_over_a_simple_table(nimbus_server, tmp_path, lam, ddb):
    app = project(tmp_path, "connector")
    stack = stack_name("conn")
    out = deploy(nimbus_server, app, stack)
    got = outputs(out.stdout)
    table = got["TableName"]
    assert got["TableArn"] == ddb.describe_table(TableName=table)["Table"]["TableArn"]
    assert got["ApiEndpoint"] == got["ItemsApi"].removesuffix("/items")
    assert got["ApiEndpoint"].startswith(f"http://{got['ApiId']}.execute-api.localhost:")
    assert got["GetAllFunctionRole"].endswith(f":role/{stack}-GetAllItemsFunctionRole")

    # The plan shows each function's table access and where it comes from.
    assert (f"may read {table} (connector GetAllReadsItems; recorded, not enforced)"
            in out.stdout), out.stdout
    assert (f"may write+delete+reconfigure {table} "
            "(DynamoDBReconfigurePolicy, connector PutItemFunctionItemsWrite; "
            "recorded, not enforced)") in out.stdout, out.stdout

    # ... and records it on the function, where per-function credentials can read it.
    functions = {f["FunctionName"]: f["FunctionArn"] for f in lam.list_functions()["Functions"]}
    get_all = next(n for n in functions if n.startswith(f"{stack}-GetAllItemsFunction-"))
    put = next(n for n in functions if n.startswith(f"{stack}-PutItemFunction-"))
    assert lam.list_tags(Resource=functions[get_all])["Tags"]["nimbus:table-access:1"] \
        == f"read {table}"
    assert lam.list_tags(Resource=functions[put])["Tags"]["nimbus:table-access:1"] \
        == f"write+delete+reconfigure {table}"
    assert lam.get_function_configuration(FunctionName=get_all)["Handler"] \
        == "src/handlers/get_all.handler"

    # The handlers in src/handlers/ (CodeUri defaults to the template's folder) work through
    # the HTTP API.
    for item in [{"id": "b", "name": "bolt"}, {"id": "a", "name": "anchor"}]:
        r = call(got["ItemsApi"], "POST", json=item)
        assert r.status_code == 201, r.text
    r = call(got["ItemsApi"])
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [{"id": "a", "name": "anchor"}, {"id": "b", "name": "bolt"}]}
    assert call(got["ItemsApi"], "POST", json={"name": "no id"}).status_code == 400
    health = call(got["ApiEndpoint"] + "/health")
    assert health.status_code == 200, health.text
    assert health.json() == {"ok": True, "route": "GET /health"}

    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout

    # Dropping a connector changes the recorded access.
    template = app / "template.yaml"
    text = template.read_text()
    start = text.index("  GetAllReadsItems:")
    template.write_text(text[:start] + text[text.index("Outputs:"):])
    changed = deploy(nimbus_server, app, stack)
    assert "update  function  GetAllItemsFunction" in changed.stdout, changed.stdout
    assert "nimbus:table-access:1" not in lam.list_tags(Resource=functions[get_all])["Tags"]
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


NOT_DEPLOYED = [
    ("UploadsBucket", "AWS::S3::Bucket", 11),
    ("JobsQueue", "AWS::SQS::Queue", 15),
    ("AlertsTopic", "AWS::SNS::Topic", 21),
    ("WorkerRole", "AWS::IAM::Role", 24),
    ("Cdn", "AWS::CloudFront::Distribution", 33),
    ("WorkerFunctionJobs", "SQS event of WorkerFunction", 64),
    ("WorkerFunctionNightly", "Schedule event of WorkerFunction", 69),
]


def test_resources_nimbus_does_not_run_are_listed_and_strict_refuses_them(
        nimbus_server, tmp_path, lam):
    app = project(tmp_path, "others")
    stack = stack_name("others")

    strict = deploy(nimbus_server, app, stack, "--strict", ok=False)
    assert strict.returncode != 0
    assert "--strict" in strict.stderr and "nothing was changed" in strict.stderr, strict.stderr
    for logical_id, kind, line in NOT_DEPLOYED:
        assert re.search(rf"{logical_id} +{re.escape(kind)} +\(template line {line}\)",
                         strict.stderr), strict.stderr
    assert not any(n.startswith(f"{stack}-") for n in function_names(lam))
    assert stack not in nimbus(nimbus_server, "stacks").stdout

    out = deploy(nimbus_server, app, stack)
    for logical_id, kind, line in NOT_DEPLOYED:
        assert re.search(rf"not deployed  {logical_id} +{re.escape(kind)} +\(template line {line}\)",
                         out.stdout), out.stdout
    assert "create  function  WorkerFunction" in out.stdout
    assert "connector WorkerFunctionUploads" in out.stderr  # grants nothing Nimbus records
    got = outputs(out.stdout)
    bucket = got["BucketName"]
    assert re.fullmatch(rf"{stack}-uploadsbucket-[a-z0-9]{{12}}", bucket), bucket
    assert got["QueueUrl"] == "https://sqs.us-east-1.amazonaws.com/000000000000/others-jobs"
    assert got["CdnDomain"].endswith(".cloudfront.net")
    assert got["WorkerRoleArn"].startswith(f"arn:aws:iam::000000000000:role/{stack}-WorkerRole-")

    env = invoke(lam, got["Worker"])
    assert env == {
        "X_BUCKET": bucket,
        "X_BUCKET_ARN": f"arn:aws:s3:::{bucket}",
        "X_QUEUE_URL": got["QueueUrl"],
        "X_QUEUE_ARN": "arn:aws:sqs:us-east-1:000000000000:others-jobs",
        "X_TOPIC": env["X_TOPIC"],
        "X_CDN": got["CdnDomain"],
    }
    assert re.fullmatch(rf"arn:aws:sns:us-east-1:000000000000:{stack}-AlertsTopic-[A-Z0-9]{{12}}",
                        env["X_TOPIC"]), env["X_TOPIC"]

    # The placeholders are stable: a second deploy changes nothing.
    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout
    assert outputs(again.stdout) == got
    listed = nimbus(nimbus_server, "stacks").stdout
    assert f"{stack} (1 resources)" in listed, listed
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_auto_publish_alias_publishes_on_change(nimbus_server, tmp_path, lam):
    app = project(tmp_path, "alias")
    stack = stack_name("alias")
    out = deploy(nimbus_server, app, stack)
    got = outputs(out.stdout)
    name = got["FunctionArn"].rsplit(":", 1)[1]
    assert got["AliasArn"] == f"{got['FunctionArn']}:live"
    assert got["VersionArn"] == f"{got['FunctionArn']}:1"
    assert "alias live -> version 1" in out.stdout, out.stdout
    assert "reserved concurrency 4" in out.stdout, out.stdout
    assert "ProvisionedConcurrencyConfig is accepted but not honoured" in out.stderr, out.stderr
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 4
    config = lam.get_function_configuration(FunctionName=name)
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["Architectures"] == ["x86_64"]

    # The route invokes the alias: the .mjs handler answers from version 1.
    r = call(got["GreetUrl"])
    assert r.status_code == 200, r.text
    assert r.json() == {"greeting": "hello", "version": "1"}

    # Unchanged: no new version.
    again = deploy(nimbus_server, app, stack)
    assert "No changes" in again.stdout, again.stdout
    assert outputs(again.stdout)["VersionArn"] == got["VersionArn"]

    # A configuration change publishes version 2 and moves the alias; version 1 stays.
    changed = deploy(nimbus_server, app, stack, "--parameter-overrides", "Greeting=hi")
    got2 = outputs(changed.stdout)
    assert got2["VersionArn"] == f"{got['FunctionArn']}:2"
    assert "alias live -> version 2" in changed.stdout, changed.stdout
    assert json.loads(invoke(lam, name, "live")["body"]) == {"greeting": "hi", "version": "2"}
    assert json.loads(invoke(lam, name, "1")["body"])["greeting"] == "hello"
    assert call(got["GreetUrl"]).json() == {"greeting": "hi", "version": "2"}

    # A code change publishes too.
    code = app / "src" / "app.mjs"
    code.write_text(code.read_text().replace("greeting:", "greeting2:"))
    changed = deploy(nimbus_server, app, stack, "--parameter-overrides", "Greeting=hi")
    assert outputs(changed.stdout)["VersionArn"] == f"{got['FunctionArn']}:3"
    assert "greeting2" in call(got["GreetUrl"]).json()

    # So does a new architecture, which goes with the code.
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("[x86_64]", "[arm64]"))
    changed = deploy(nimbus_server, app, stack, "--parameter-overrides", "Greeting=hi")
    assert outputs(changed.stdout)["VersionArn"] == f"{got['FunctionArn']}:4"
    assert lam.get_function_configuration(FunctionName=name)["Architectures"] == ["arm64"]
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


def test_a_failed_deploy_moves_the_alias_back(nimbus_server, tmp_path, lam):
    app = project(tmp_path, "alias")
    stack = stack_name("aliasrb")
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("\nOutputs:\n", """
  Zother:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      MemorySize: 128

Outputs:
"""))
    got = outputs(deploy(nimbus_server, app, stack).stdout)
    name = got["FunctionArn"].rsplit(":", 1)[1]
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"

    # The greeter is updated first (a new version, the alias moved), then Lambda refuses the
    # other function's memory size: the deploy is undone, the alias points at version 1 again.
    template.write_text(template.read_text().replace("MemorySize: 128", "MemorySize: 1"))
    out = deploy(nimbus_server, app, stack, "--parameter-overrides", "Greeting=bye", ok=False)
    assert out.returncode != 0
    assert re.search(r"Resource Zother \(template line \d+\): ", out.stderr), out.stderr
    assert "rolled back" in out.stderr, out.stderr
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"] \
        == {"GREETING": "hello"}
    assert json.loads(invoke(lam, name, "live")["body"])["greeting"] == "hello"
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


TABLE_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Sessions:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
      SSESpecification: {SSEEnabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
Outputs:
  TableName:
    Value: !Ref Sessions
"""


def test_table_time_to_live_and_encryption(nimbus_server, tmp_path, ddb):
    """A CloudFormation table's TimeToLiveSpecification is applied (and removed with the
    property), its SSESpecification reaches the table, and PointInTimeRecoverySpecification
    is accepted with a warning."""
    template = template_project(tmp_path, "sessions", TABLE_TEMPLATE)
    app = template.parent
    stack = stack_name("ttl")
    out = deploy(nimbus_server, app, stack)
    assert "PointInTimeRecoverySpecification is accepted but not honoured" in out.stdout \
        + out.stderr
    table = outputs(out.stdout)["TableName"]
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    assert ddb.describe_table(TableName=table)["Table"]["SSEDescription"]["Status"] == "ENABLED"

    template.write_text(TABLE_TEMPLATE.replace(
        "      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}\n", ""))
    deploy(nimbus_server, app, stack)
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


STREAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Events:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
Outputs:
  TableName:
    Value: !Ref Events
"""


def test_table_stream_follows_the_template(nimbus_server, tmp_path, ddb):
    """A table's StreamSpecification gives it a stream whose records can be read; a new
    StreamViewType on redeploy replaces the stream (DynamoDB refuses a second enabled stream,
    so the deploy disables the old one first); removing the property disables it."""
    template = template_project(tmp_path, "events", STREAM_TEMPLATE)
    app = template.parent
    stack = stack_name("stream")
    out = deploy(nimbus_server, app, stack)
    table = outputs(out.stdout)["TableName"]
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["StreamSpecification"] == {"StreamEnabled": True,
                                                 "StreamViewType": "NEW_IMAGE"}
    first = described["LatestStreamArn"]
    ddb.put_item(TableName=table, Item={"id": {"S": "e1"}})
    streams = aws_client(nimbus_server, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=first)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(StreamArn=first, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [r["dynamodb"]["NewImage"] for r in records] == [{"id": {"S": "e1"}}]

    template.write_text(STREAM_TEMPLATE.replace("NEW_IMAGE", "KEYS_ONLY"))
    deploy(nimbus_server, app, stack)
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    assert described["LatestStreamArn"] != first
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"

    template.write_text(STREAM_TEMPLATE.replace(
        "      StreamSpecification: {StreamViewType: NEW_IMAGE}\n", ""))
    deploy(nimbus_server, app, stack)
    assert "StreamSpecification" not in ddb.describe_table(TableName=table)["Table"]
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0


INDEXED_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
        - {AttributeName: INDEXKEY, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: INDEXNAME
          KeySchema:
            - {AttributeName: INDEXKEY, KeyType: HASH}
          Projection: {ProjectionType: ALL}
Outputs:
  TableName:
    Value: !Ref Orders
"""


def test_table_global_indexes_follow_the_template(nimbus_server, tmp_path, ddb):
    """Global secondary indexes are created with the table, and a changed template adds and
    removes them on the existing table (its items stay)."""
    template = template_project(tmp_path, "indexed", INDEXED_TEMPLATE.replace(
        "INDEXKEY", "customer").replace("INDEXNAME", "byCustomer"))
    app = template.parent
    stack = stack_name("gsi")
    table = outputs(deploy(nimbus_server, app, stack).stdout)["TableName"]
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "customer": {"S": "c1"},
                                        "status": {"S": "open"}})
    indexes = ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in indexes] == ["byCustomer"]

    template.write_text(INDEXED_TEMPLATE.replace("INDEXKEY", "status")
                        .replace("INDEXNAME", "byStatus"))
    out = deploy(nimbus_server, app, stack)
    assert outputs(out.stdout)["TableName"] == table
    indexes = ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in indexes] == ["byStatus"]
    found = ddb.query(TableName=table, IndexName="byStatus",
                      KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": {"S": "open"}})["Items"]
    assert [i["id"]["S"] for i in found] == ["1"]
    assert nimbus(nimbus_server, "delete-stack", stack).returncode == 0
