"""STS on the AWS endpoint: GetCallerIdentity, which scripts and tools call to learn the
account they work in (`aws sts get-caller-identity`, `boto3.client("sts")`), and AssumeRole and
GetSessionToken, whose temporary credentials the other services then accept.

Sources: the STS API reference, GetCallerIdentity (Account, Arn, UserId; the query protocol's
XML answer), AssumeRole (AssumedRoleUser, Credentials, DurationSeconds 900 to 43200,
RoleSessionName's pattern), GetSessionToken, and the error codes common to query-protocol
services (SignatureDoesNotMatch, InvalidClientTokenId, ValidationError).
"""

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import _client_kwargs


@pytest.fixture(scope="module")
def sts(nimbus_server):
    return boto3.client("sts", **_client_kwargs(nimbus_server))


def test_get_caller_identity_names_the_account(sts, dynamodb, make_table):
    identity = sts.get_caller_identity()
    account = identity["Account"]
    assert account.isdigit() and len(account) == 12
    assert identity["Arn"] == f"arn:aws:iam::{account}:root"
    assert identity["UserId"] == account
    assert identity["ResponseMetadata"]["RequestId"]
    # The same account as the resources' ARNs.
    table = make_table()
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    assert arn.split(":")[4] == account


def test_the_aws_cli_asks_too(aws_cli):
    identity = aws_cli("sts", "get-caller-identity")
    assert identity["Arn"].endswith(":root")


def test_refusals_in_the_query_protocol(nimbus_server, sts):
    with pytest.raises(ClientError) as info:
        sts.decode_authorization_message(EncodedMessage="x")
    assert info.value.response["Error"]["Code"] == "InvalidAction"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as info:
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/r", RoleSessionName="a b")
    assert info.value.response["Error"]["Code"] == "ValidationError"
    unvalidated = boto3.client("sts", **_client_kwargs(nimbus_server,
                                                       parameter_validation=False))
    with pytest.raises(ClientError) as info:
        unvalidated.assume_role(RoleArn="arn:aws:iam::000000000000:role/r",
                                RoleSessionName="ok", DurationSeconds=60)
    assert info.value.response["Error"]["Code"] == "ValidationError"
    wrong = boto3.client("sts", **{**_client_kwargs(nimbus_server),
                                   "aws_secret_access_key": "not-the-secret"})
    with pytest.raises(ClientError) as info:
        wrong.get_caller_identity()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _client_with(nimbus_server, service, credentials, **changes):
    kwargs = {**_client_kwargs(nimbus_server),
              "aws_access_key_id": credentials["AccessKeyId"],
              "aws_secret_access_key": credentials["SecretAccessKey"],
              "aws_session_token": credentials["SessionToken"], **changes}
    return boto3.client(service, **kwargs)


def test_assumed_role_credentials_work_everywhere(nimbus_server, sts, make_table):
    role_arn = "arn:aws:iam::000000000000:role/app/reader"
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="test-session", DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert creds["SessionToken"] and creds["SecretAccessKey"]
    assert out["AssumedRoleUser"]["Arn"] == \
        "arn:aws:sts::000000000000:assumed-role/reader/test-session"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":test-session")
    who = _client_with(nimbus_server, "sts", creds).get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    table = make_table()
    dynamodb = _client_with(nimbus_server, "dynamodb", creds)
    assert table in dynamodb.list_tables()["TableNames"]
    _client_with(nimbus_server, "lambda", creds).list_functions()
    # The token belongs to the keys: without it, or with another, they are refused.
    no_token = boto3.client("dynamodb", **{**_client_kwargs(nimbus_server),
                                           "aws_access_key_id": creds["AccessKeyId"],
                                           "aws_secret_access_key": creds["SecretAccessKey"]})
    with pytest.raises(ClientError) as info:
        no_token.list_tables()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    other = _client_with(nimbus_server, "dynamodb", creds, aws_session_token="forged")
    with pytest.raises(ClientError) as info:
        other.list_tables()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    wrong = _client_with(nimbus_server, "dynamodb", creds, aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as info:
        wrong.list_tables()
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_session_token_credentials(nimbus_server, sts):
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    who = _client_with(nimbus_server, "sts", creds).get_caller_identity()
    assert who["Arn"].endswith(":root")
