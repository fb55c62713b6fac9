"""The items API: one Lambda handler behind three HTTP API routes, reading and writing a
DynamoDB table with boto3. Nothing in it is specific to Nimbus.

    GET  /items        every item, sorted by id
    GET  /items/{id}   one item, or 404 {"error": ...}
    POST /items        stores the JSON object of the body; 201 with the stored item

Answers are indented JSON, so a browser shows them readably.
"""

import json
import os
import uuid
from decimal import Decimal

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ITEMS_TABLE"])


class ItemEncoder(json.JSONEncoder):
    """DynamoDB numbers come back as Decimal, sets as set."""

    def default(self, o):
        if isinstance(o, Decimal):
            return int(o) if o % 1 == 0 else float(o)
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        if isinstance(o, (bytes, bytearray)):
            return o.decode("utf-8", "replace")
        return super().default(o)


def respond(status, payload):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps(payload, cls=ItemEncoder, indent=2, ensure_ascii=False) + "\n",
    }


def list_items(event):
    items, kwargs = [], {}
    while True:
        page = TABLE.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda item: (len(item["id"]), item["id"]))
    return respond(200, {"items": items, "count": len(items)})


def get_item(event):
    item_id = (event.get("pathParameters") or {}).get("id", "")
    found = TABLE.get_item(Key={"id": item_id}).get("Item")
    if found is None:
        return respond(404, {"error": "NotFound", "message": f"There is no item {item_id!r}."})
    return respond(200, found)


def create_item(event):
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8")
    try:
        item = json.loads(body, parse_float=Decimal)
    except ValueError:
        item = None
    if not isinstance(item, dict):
        return respond(400, {"error": "BadRequest", "message": "Send a JSON object."})
    item["id"] = str(item.get("id") or uuid.uuid4().hex[:8])
    TABLE.put_item(Item=item)
    return respond(201, item)


ROUTES = {
    "GET /items": list_items,
    "GET /items/{id}": get_item,
    "POST /items": create_item,
}


def handler(event, context):
    route = ROUTES.get(event.get("routeKey"))
    if route is None:
        return respond(404, {"error": "NotFound", "message": "Try GET /items or GET /items/42."})
    return route(event)
