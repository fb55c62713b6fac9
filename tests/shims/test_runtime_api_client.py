"""The shims' own HTTP/1.1 clients of the Runtime API (both runtimes): body framings, large
bodies, header encodings and error answers, against the fake Runtime API."""

import hashlib
import json

import pytest

PYTHON_DIGEST = """
import hashlib
def handler(event, context):
    data = event["data"]
    return {"len": len(data), "sha": hashlib.sha256(data.encode("utf-8")).hexdigest()}
"""

NODE_DIGEST = """
const crypto = require('node:crypto');
exports.handler = async (event) => ({
  len: event.data.length,
  sha: crypto.createHash('sha256').update(event.data, 'utf8').digest('hex'),
});
"""

PYTHON_CONTEXT = """
def handler(event, context):
    return {"custom": context.client_context.custom,
            "identity": context.identity.cognito_identity_id}
"""

NODE_CONTEXT = """
exports.handler = async (event, context) => ({
  custom: context.clientContext.custom,
  identity: context.identity.cognitoIdentityId,
});
"""

RUNTIMES = ["python", "node"]


def start(spawn, runtime, python_code, node_code, **kw):
    if runtime == "python":
        return spawn("python", {"app.py": python_code}, "app.handler", **kw)
    return spawn("node", {"index.js": node_code}, "index.handler", **kw)


def digest(data):
    return {"len": len(data), "sha": hashlib.sha256(data.encode("utf-8")).hexdigest()}


# Three million characters (near 5 MB of UTF-8, 9 MB as ASCII-only JSON) of one-, two- and
# three-byte UTF-8 characters, so that chunk and read boundaries fall inside characters.
LARGE = "abc\u00e9\u4e2d" * 600000


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_event_framings_large_and_small(spawn, runtime, framing):
    env = start(spawn, runtime, PYTHON_DIGEST, NODE_DIGEST)
    for data in ("small \u00e9", LARGE):
        res = env.invoke({"data": data}, framing=framing)
        assert res.kind == "response", res
        assert res.json == digest(data)
    # After a chunked body (with extensions and a trailer) the connection is reused; after a
    # close-delimited one the shim has reconnected.
    env.api.wait_next(3)
    assert len(env.api.connections) == (3 if framing == "close" else 1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_large_response(spawn, runtime):
    env = start(spawn, runtime, "def handler(e, c):\n    return e['data'] * 2\n",
                "exports.handler = async (e) => e.data + e.data;\n")
    res = env.invoke({"data": LARGE})
    assert res.kind == "response"
    assert int(res.headers["content-length"]) == len(res.raw)
    assert res.json == LARGE * 2


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_client_context_and_identity_in_utf8(spawn, runtime):
    # Nimbus' Runtime API sends the decoded client context as it is, UTF-8 bytes included.
    env = start(spawn, runtime, PYTHON_CONTEXT, NODE_CONTEXT)
    context = {"custom": {"city": "Z\u00fcrich \u6771\u4eac \U0001f600"}, "env": {}, "client": {}}
    wire = json.dumps(context, ensure_ascii=False).encode("utf-8").decode("latin-1")
    res = env.invoke({}, client_context=wire, identity={"cognitoIdentityId": "id-\u00e9"})
    assert res.json == {"custom": context["custom"], "identity": "id-\u00e9"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_error_answer_to_next_ends_the_runtime(spawn, runtime):
    env = start(spawn, runtime, PYTHON_DIGEST, NODE_DIGEST)
    env.api.enqueue(None, status=500, raw=b'{"errorType":"ServiceException"}')
    assert env.wait_exit() == 1
    assert "500" in env.errors()
    assert "ServiceException" in env.errors()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unreachable_runtime_api_ends_the_runtime(spawn, runtime):
    env = start(spawn, runtime, PYTHON_DIGEST, NODE_DIGEST)
    env.api.close()
    env.api.enqueue({"data": ""})  # never served: the server is gone
    assert env.wait_exit() == 1
    assert "nimbus runtime" in env.errors()
