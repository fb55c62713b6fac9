"""A smoke path with the `aws` CLI (v1): the tool people use by hand must work
unchanged against the endpoint.

Sources: AWS CLI command reference for `aws dynamodb` (create-table,
wait table-exists, put-item, get-item, query, scan, delete-table).
"""

import json

from conftest import unique_name


def test_cli_table_lifecycle(aws_cli, dynamodb):
    name = unique_name("cli")
    out = aws_cli("dynamodb", "create-table", "--table-name", name,
                  "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
                  "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
                  "--billing-mode", "PAY_PER_REQUEST")
    try:
        assert out["TableDescription"]["TableName"] == name
        aws_cli("dynamodb", "wait", "table-exists", "--table-name", name)
        assert name in aws_cli("dynamodb", "list-tables")["TableNames"]

        for sk in (3, 1, 2):
            item = {"pk": {"S": "cli"}, "sk": {"N": str(sk)}, "msg": {"S": f"hello {sk}"}}
            assert aws_cli("dynamodb", "put-item", "--table-name", name, "--item", json.dumps(item)) is None

        got = aws_cli("dynamodb", "get-item", "--table-name", name,
                      "--key", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "2"}}))
        assert got["Item"]["msg"] == {"S": "hello 2"}

        res = aws_cli("dynamodb", "query", "--table-name", name,
                      "--key-condition-expression", "pk = :p AND sk >= :s",
                      "--expression-attribute-values", json.dumps({":p": {"S": "cli"}, ":s": {"N": "2"}}))
        assert [i["sk"]["N"] for i in res["Items"]] == ["2", "3"]
        assert res["Count"] == 2

        # The CLI paginates Scan on its own with --page-size.
        res = aws_cli("dynamodb", "scan", "--table-name", name, "--page-size", "1")
        assert res["Count"] == 3 and len(res["Items"]) == 3

        res = aws_cli("dynamodb", "update-item", "--table-name", name,
                      "--key", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "1"}}),
                      "--update-expression", "SET msg = :m",
                      "--expression-attribute-values", json.dumps({":m": {"S": "changed"}}),
                      "--return-values", "UPDATED_NEW")
        assert res["Attributes"] == {"msg": {"S": "changed"}}

        aws_cli("dynamodb", "delete-item", "--table-name", name,
                "--key", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "1"}}))
        got = aws_cli("dynamodb", "get-item", "--table-name", name,
                      "--key", json.dumps({"pk": {"S": "cli"}, "sk": {"N": "1"}}))
        assert got is None or "Item" not in got
    finally:
        aws_cli("dynamodb", "delete-table", "--table-name", name, check=False)
    proc = aws_cli("dynamodb", "describe-table", "--table-name", name, check=False)
    # Either already gone, or still DELETING on an asynchronous implementation.
    if proc.returncode == 0:
        assert json.loads(proc.stdout)["Table"]["TableStatus"] == "DELETING"
    else:
        assert "ResourceNotFoundException" in proc.stderr


def test_cli_error_exit_code(aws_cli):
    proc = aws_cli("dynamodb", "describe-table", "--table-name", unique_name("nope"), check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr


def test_cli_conditional_failure(aws_cli, make_table):
    name = make_table()
    item = json.dumps({"pk": {"S": "x"}})
    aws_cli("dynamodb", "put-item", "--table-name", name, "--item", item)
    proc = aws_cli("dynamodb", "put-item", "--table-name", name, "--item", item,
                   "--condition-expression", "attribute_not_exists(pk)", check=False)
    assert proc.returncode != 0
    assert "ConditionalCheckFailedException" in proc.stderr
