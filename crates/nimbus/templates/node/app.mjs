// {{name}}: items kept in a DynamoDB table, served over an HTTP API.
//
// GET /items lists the items, GET /items/{id} answers one (404 when it is missing) and
// POST /items stores the JSON object of the body (an "id" is generated when it has none).
// The table's name comes from the TABLE_NAME environment variable that template.yaml sets.

import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";

const table = process.env.TABLE_NAME;
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  const route = event.routeKey ?? "";
  if (route === "GET /items") {
    const items = [];
    let start;
    do {
      const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    items.sort((a, b) => String(a.id).localeCompare(String(b.id)));
    return reply(200, items);
  }
  if (route === "GET /items/{id}") {
    const id = event.pathParameters?.id ?? "";
    const { Item } = await db.send(new GetCommand({ TableName: table, Key: { id } }));
    if (!Item) {
      return reply(404, { message: `no item with id ${id}` });
    }
    return reply(200, Item);
  }
  if (route === "POST /items") {
    let item;
    try {
      const body = event.isBase64Encoded
        ? Buffer.from(event.body ?? "", "base64").toString("utf8")
        : event.body;
      item = JSON.parse(body || "{}");
    } catch {
      return reply(400, { message: "the body must be a JSON object" });
    }
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      return reply(400, { message: "the body must be a JSON object" });
    }
    item.id = String(item.id || randomUUID());
    await db.send(new PutCommand({ TableName: table, Item: item }));
    return reply(201, item);
  }
  return reply(404, { message: `no route ${route}` });
};

function reply(statusCode, body) {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(body, (_, v) => (v instanceof Set ? [...v] : v), 2) + "\n",
  };
}
