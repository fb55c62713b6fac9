"""STS on the AWS endpoint: GetCallerIdentity, which scripts and tools call to learn the
account they work in (`aws sts get-caller-identity`, `boto3.client("sts")`).

Sources: the STS API reference, GetCallerIdentity (Account, Arn, UserId; the query protocol's
XML answer), and the error codes common to query-protocol services (SignatureDoesNotMatch,
InvalidClientTokenId).
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
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/r", RoleSessionName="session")
    assert info.value.response["Error"]["Code"] == "InvalidAction"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    wrong = boto3.client("sts", **{**_client_kwargs(nimbus_server),
                                   "aws_secret_access_key": "not-the-secret"})
    with pytest.raises(ClientError) as info:
        wrong.get_caller_identity()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
