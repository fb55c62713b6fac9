"""{{name}}: items kept in a DynamoDB table, served over an HTTP API.

GET /items lists the items, GET /items/{id} answers one (404 when it is missing) and
POST /items stores the JSON object of the body (an "id" is generated when it has none).
The table's name comes from the TABLE_NAME environment variable that template.yaml sets.
"""

import json
import os
import uuid
from decimal import Decimal

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    route = event.get("routeKey", "")
    if route == "GET /items":
        items = []
        response = table.scan()
        items.extend(response["Items"])
        while "LastEvaluatedKey" in response:
            response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
            items.extend(response["Items"])
        return reply(200, sorted(items, key=lambda item: str(item["id"])))
    if route == "GET /items/{id}":
        item_id = (event.get("pathParameters") or {}).get("id", "")
        item = table.get_item(Key={"id": item_id}).get("Item")
        if item is None:
            return reply(404, {"message": f"no item with id {item_id}"})
        return reply(200, item)
    if route == "POST /items":
        try:
            item = json.loads(event.get("body") or "{}", parse_float=Decimal)
        except json.JSONDecodeError:
            return reply(400, {"message": "the body must be a JSON object"})
        if not isinstance(item, dict):
            return reply(400, {"message": "the body must be a JSON object"})
        item["id"] = str(item.get("id") or uuid.uuid4())
        table.put_item(Item=item)
        return reply(201, item)
    return reply(404, {"message": f"no route {route}"})


def reply(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json; charset=utf-8"},
        "body": json.dumps(body, indent=2, ensure_ascii=False, default=to_json) + "\n",
    }


def to_json(value):
    """DynamoDB numbers arrive as Decimal: integers print as integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
