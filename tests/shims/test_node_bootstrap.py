"""The nodejs bootstrap shim against a fake Runtime API."""

import json
import re
import statistics
import time

from shimharness import ARN, FUNCTION_NAME, b64json, baseline_ms, node_binary

LOG_LINE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\t%s\t%s"


def node(spawn, files, handler="index.handler", env=None):
    return spawn("node", files, handler, env)


def test_cjs_sync_return_is_ignored_and_answers_null(spawn):
    # A non-async handler that neither calls back nor returns a promise
    # answers null once the event loop is empty, as on AWS.
    env = node(spawn, {"index.js": "exports.handler = (event) => ({ got: event });\n"})
    res = env.invoke({"a": 1})
    assert res.kind == "response"
    assert res.json is None


def test_cjs_async_handler(spawn):
    env = node(spawn, {"index.js": "exports.handler = async (event) => ({ got: event, s: '\u00e9' });\n"})
    res = env.invoke({"a": [1, 2]})
    assert res.kind == "response"
    assert res.json == {"got": {"a": [1, 2]}, "s": "\u00e9"}


def test_promise_returning_handler(spawn):
    env = node(spawn, {"index.js": """
exports.handler = function (event) {
  return new Promise((resolve) => setTimeout(() => resolve({ later: event.n }), 50));
};
"""})
    assert env.invoke({"n": 3}).json == {"later": 3}


def test_undefined_result_is_null(spawn):
    env = node(spawn, {"index.mjs": "export const handler = async () => undefined;\n"})
    res = env.invoke({})
    assert res.kind == "response" and res.raw == b"null"


def test_esm_mjs(spawn):
    env = node(spawn, {"index.mjs": """
import { helper } from './lib/helper.mjs';
export const handler = async (event) => helper(event);
""", "lib/helper.mjs": "export const helper = (e) => ({ esm: true, e });\n"})
    assert env.invoke({"x": 1}).json == {"esm": True, "e": {"x": 1}}


def test_esm_js_with_package_type_module(spawn):
    env = node(spawn, {
        "package.json": json.dumps({"type": "module"}),
        "app.js": "export async function handler(event) { return { typeModule: typeof require }; }\n",
    }, "app.handler")
    assert env.invoke({}).json == {"typeModule": "undefined"}


def test_package_type_module_found_in_parent_folder(spawn):
    env = node(spawn, {
        "package.json": json.dumps({"type": "module"}),
        "src/handlers/list.js": "export const handler = async () => import.meta.url.endsWith('/src/handlers/list.js');\n",
    }, "src/handlers/list.handler")
    assert env.invoke({}).json is True


def test_js_with_commonjs_package_type(spawn):
    env = node(spawn, {
        "package.json": json.dumps({"type": "commonjs"}),
        "index.js": "exports.handler = async () => typeof require;\n",
    })
    assert env.invoke({}).json == "function"


def test_cjs_extension(spawn):
    env = node(spawn, {
        "package.json": json.dumps({"type": "module"}),
        "legacy.cjs": "module.exports.handler = async () => ({ cjs: typeof module });\n",
    }, "legacy.handler")
    assert env.invoke({}).json == {"cjs": "object"}


def test_nested_handler_path_and_property(spawn):
    env = node(spawn, {
        "src/handlers/items.js": """
const store = require('../lib/store');
module.exports = { api: { get: async (event) => store.get(event.id) } };
""",
        "src/lib/store.js": "exports.get = (id) => ({ id, from: 'store' });\n",
    }, "src/handlers/items.api.get")
    assert env.invoke({"id": 42}).json == {"id": 42, "from": "store"}


def test_node_path_for_commonjs(spawn, tmp_path):
    layer = tmp_path / "layer" / "nodejs" / "node_modules" / "shared-dep"
    layer.mkdir(parents=True)
    (layer / "index.js").write_text("exports.name = 'from NODE_PATH';\n")
    env = node(spawn, {
        "index.js": "const dep = require('shared-dep');\nexports.handler = async () => dep.name;\n",
    }, env={"NODE_PATH": str(layer.parent)})
    assert env.invoke({}).json == "from NODE_PATH"


def test_callback_handler(spawn):
    env = node(spawn, {"index.js": """
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { cb: event.n }), 20);
};
"""})
    assert env.invoke({"n": 1}).json == {"cb": 1}
    assert env.invoke({"n": 2}).json == {"cb": 2}


def test_callback_waits_for_empty_event_loop(spawn):
    env = node(spawn, {"index.js": """
let finished = false;
exports.handler = (event, context, callback) => {
  finished = false;
  setTimeout(() => { finished = true; console.log('timer done'); }, 300);
  callback(null, 'early');
};
exports.check = async () => finished;
"""})
    start = time.time()
    res = env.invoke({})
    elapsed = time.time() - start
    assert res.json == "early"
    assert elapsed >= 0.28, elapsed  # the answer waited for the timer
    assert "timer done" in env.output()


def test_callback_without_waiting_for_empty_loop(spawn):
    env = node(spawn, {"index.js": """
let n = 0;
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  n += 1;
  const mine = n;
  setTimeout(() => console.log('late timer ' + mine), 4000);
  callback(null, { n: mine, flag: context.callbackWaitsForEmptyEventLoop });
};
"""})
    start = time.time()
    assert env.invoke({}).json == {"n": 1, "flag": False}
    assert env.invoke({}).json == {"n": 2, "flag": False}
    assert time.time() - start < 3.5  # neither waited for its timer
    env.wait_output("late timer 1", timeout=10)


def test_pending_timer_does_not_hang_next_async_invocation(spawn):
    env = node(spawn, {"index.js": """
exports.handler = async (event) => {
  setTimeout(() => {}, 10000);
  return event.n;
};
"""})
    start = time.time()
    assert [env.invoke({"n": i}).json for i in range(3)] == [0, 1, 2]
    assert time.time() - start < 8


def test_callback_error(spawn):
    env = node(spawn, {"index.js": """
exports.handler = (event, context, callback) => callback(new TypeError('bad input'));
"""})
    res = env.invoke({})
    assert res.kind == "error"
    body = res.json
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "bad input"
    assert body["trace"][0] == "TypeError: bad input"
    assert "index.js" in body["trace"][1]
    assert res.headers.get("lambda-runtime-function-error-type") == "TypeError"


def test_callback_with_string_error(spawn):
    env = node(spawn, {"index.js": "exports.handler = (e, c, cb) => cb('just a string');\n"})
    body = env.invoke({}).json
    assert body == {"errorType": "string", "errorMessage": "just a string", "trace": []}


def test_legacy_context_methods(spawn):
    env = node(spawn, {"index.js": """
exports.handler = (event, context) => {
  if (event.op === 'succeed') context.succeed({ ok: 1 });
  else if (event.op === 'fail') context.fail(new Error('failed'));
  else if (event.op === 'failnull') context.fail();
  else context.done(null, 'done');
  context.succeed('second call is ignored');
};
"""})
    assert env.invoke({"op": "succeed"}).json == {"ok": 1}
    res = env.invoke({"op": "fail"})
    assert res.kind == "error" and res.json["errorMessage"] == "failed"
    res = env.invoke({"op": "failnull"})
    assert res.kind == "error" and res.json["errorType"] == "string"
    assert res.json["errorMessage"] == "handled"
    assert env.invoke({"op": "done"}).json == "done"


def test_thrown_error_and_error_log_line(spawn):
    env = node(spawn, {"index.mjs": """
class OrderNotFound extends Error {
  constructor(id) { super(`order ${id} not found`); this.name = 'OrderNotFound'; this.code = 404; }
}
export const handler = async (event) => { throw new OrderNotFound(event.id); };
"""})
    request_id = env.api.enqueue({"id": 7})
    res = env.api.wait_result(request_id)
    body = res.json
    assert res.kind == "error"
    assert body["errorType"] == "OrderNotFound"
    assert body["errorMessage"] == "order 7 not found"
    assert body["trace"][0] == "OrderNotFound: order 7 not found"
    assert any("index.mjs" in line for line in body["trace"])
    out = env.wait_output("Invoke Error")
    assert re.search(LOG_LINE % (request_id, "ERROR", "Invoke Error \t") + r'\{"errorType":"OrderNotFound","errorMessage":"order 7 not found","code":404', out)
    assert env.invoke({"id": 8}).kind == "error"  # still serving


def test_sync_throw(spawn):
    env = node(spawn, {"index.js": "exports.handler = () => { throw new RangeError('sync'); };\n"})
    res = env.invoke({})
    assert res.json["errorType"] == "RangeError" and res.json["errorMessage"] == "sync"


def test_unserializable_result(spawn):
    env = node(spawn, {"index.js": "exports.handler = async () => ({ big: 10n });\n"})
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorMessage"] == "Unable to stringify response body"


def test_context_fields(spawn):
    env = node(spawn, {"index.js": """
exports.handler = async (event, context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  identity: context.identity === undefined ? 'undefined' : context.identity,
  clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  trace: process.env._X_AMZN_TRACE_ID,
  cwd: process.cwd(),
});
"""})
    request_id = env.api.enqueue({}, timeout_ms=60000)
    body = env.api.wait_result(request_id).json
    assert body["functionName"] == FUNCTION_NAME
    assert body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"] == ARN
    assert body["memoryLimitInMB"] == "256"  # a string, as on AWS
    assert body["awsRequestId"] == request_id
    assert body["logGroupName"] == "/aws/lambda/" + FUNCTION_NAME
    assert body["logStreamName"].startswith("2024/01/01/")
    assert body["identity"] == "undefined"
    assert body["clientContext"] == "undefined"
    assert 30000 < body["remaining"] <= 60000
    assert body["waits"] is True
    assert body["trace"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert body["cwd"] == str(env.task_root)


def test_client_context_and_identity(spawn):
    env = node(spawn, {"index.js": "exports.handler = async (e, c) => [c.clientContext, c.identity];\n"})
    cc = {"client": {"installation_id": "inst-1"}, "custom": {"k": "v"}, "env": {"locale": "en"}}
    ident = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
    assert env.invoke({}, client_context=json.dumps(cc), identity=ident).json == [cc, ident]
    assert env.invoke({}, client_context=b64json(cc), identity=ident).json == [cc, ident]


def test_remaining_time_decreases(spawn):
    env = node(spawn, {"index.js": """
exports.handler = async (e, context) => {
  const first = context.getRemainingTimeInMillis();
  await new Promise((r) => setTimeout(r, 200));
  return [first, context.getRemainingTimeInMillis()];
};
"""})
    first, second = env.invoke({}, timeout_ms=60000).json
    assert 0 < first <= 60000
    assert 150 <= first - second <= 2500


def test_warm_process_keeps_module_state_and_connection(spawn):
    env = node(spawn, {"index.mjs": """
let count = 0;
export const handler = async () => ({ n: ++count, pid: process.pid });
"""})
    results = [env.invoke({}).json for _ in range(5)]
    assert [r["n"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r["pid"] for r in results}) == 1
    env.api.wait_next(6)
    assert len(env.api.connections) == 1


def test_reconnects_when_the_server_closes_connections(spawn):
    env = spawn("node", {"index.js": "exports.handler = async (e) => e.i;\n"}, "index.handler",
                close_connections=True)
    assert [env.invoke({"i": i}).json for i in range(3)] == [0, 1, 2]
    assert len(env.api.connections) >= 6


def test_unhandled_rejection_fails_the_invocation_and_exits(spawn):
    env = node(spawn, {"index.js": """
exports.handler = async () => {
  Promise.reject(new Error('nobody listens'));
  await new Promise((r) => setTimeout(r, 200));
  return 'unreachable';
};
"""})
    request_id = env.api.enqueue({})
    res = env.api.wait_result(request_id)
    assert res.kind == "error"
    assert res.json["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert res.json["errorMessage"] == "Error: nobody listens"
    assert env.wait_exit() == 128
    assert "Unhandled Promise Rejection" in env.output()


def test_uncaught_exception_fails_the_invocation_and_exits(spawn):
    env = node(spawn, {"index.js": """
exports.handler = (event, context, callback) => {
  setTimeout(() => { throw new Error('from a timer'); }, 10);
};
"""})
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorType"] == "Error"
    assert res.json["errorMessage"] == "from a timer"
    assert env.wait_exit() == 129


def test_async_handler_that_never_settles(spawn):
    env = node(spawn, {"index.js": "exports.handler = async () => new Promise(() => {});\n"})
    res = env.invoke({})
    assert res.kind == "error"
    assert res.json["errorType"] == "Runtime.NodeJsExit"
    # the environment keeps serving
    assert env.invoke({}).json["errorType"] == "Runtime.NodeJsExit"


def init_error(spawn, files, handler="index.handler"):
    env = node(spawn, files, handler)
    err = env.api.wait_init_error()
    assert env.wait_exit() != 0
    assert err.headers.get("lambda-runtime-function-error-type") == err.json["errorType"]
    return err.json, env


def test_init_error_missing_module(spawn):
    body, env = init_error(spawn, {"other.js": ""})
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'index'\nRequire stack:\n- ")
    assert "Uncaught Exception" in env.output()


def test_init_error_missing_dependency(spawn):
    body, _ = init_error(spawn, {"index.js": "require('left-pad-nowhere');\nexports.handler = async () => 1;\n"})
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'left-pad-nowhere'")


def test_init_error_handler_not_found(spawn):
    body, _ = init_error(spawn, {"index.js": "exports.other = async () => 1;\n"})
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.handler is undefined or not exported"


def test_init_error_handler_not_a_function(spawn):
    body, _ = init_error(spawn, {"index.mjs": "export const handler = 42;\n"})
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.handler is not a function"


def test_init_error_malformed_handler(spawn):
    body, _ = init_error(spawn, {"index.js": ""}, "index")
    assert body["errorType"] == "Runtime.MalformedHandlerName"
    assert body["errorMessage"] == "Bad handler"
    body, _ = init_error(spawn, {"index.js": ""}, "../index.handler")
    assert body["errorType"] == "Runtime.MalformedHandlerName"


def test_init_error_syntax_cjs_and_esm(spawn):
    body, _ = init_error(spawn, {"index.js": "exports.handler = async () => {;\n"})
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("SyntaxError: ")
    body, _ = init_error(spawn, {"index.mjs": "export const handler = async () => {;\n"})
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"


def test_init_error_thrown_at_load(spawn):
    body, _ = init_error(spawn, {"index.mjs": "throw new Error('no config');\n"})
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "no config"
    assert body["trace"][0] == "Error: no config"


def test_console_format(spawn):
    env = node(spawn, {"index.js": """
console.log('at init');
exports.handler = async (event) => {
  console.log('hello %s', event.who, { n: 1 });
  console.info('info');
  console.warn('warn');
  console.error('error', new Error('shown'));
  console.debug('debug');
  console.log('multi\\nline');
  return 1;
};
"""})
    request_id = env.api.enqueue({"who": "world"})
    env.api.wait_result(request_id)
    out = env.wait_output("multi")
    assert re.search(LOG_LINE % ("undefined", "INFO", "at init"), out)
    assert re.search(LOG_LINE % (request_id, "INFO", r"hello world \{ n: 1 \}"), out)
    assert re.search(LOG_LINE % (request_id, "INFO", "info") + "\n", out)
    assert re.search(LOG_LINE % (request_id, "WARN", "warn") + "\n", out)
    assert re.search(LOG_LINE % (request_id, "ERROR", "error Error: shown\r    at "), out)
    assert re.search(LOG_LINE % (request_id, "DEBUG", "debug") + "\n", out)
    assert re.search(LOG_LINE % (request_id, "INFO", "multi\rline") + "\n", out)


def test_console_level_filter_and_json_format(spawn):
    env = node(spawn, {"index.js": """
exports.handler = async () => {
  console.debug('hidden debug');
  console.info('hidden info');
  console.warn('kept warn', { k: 1 });
  console.error({ structured: true });
  return 1;
};
"""}, env={"AWS_LAMBDA_LOG_LEVEL": "warn", "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    request_id = env.api.enqueue({})
    env.api.wait_result(request_id)
    out = env.wait_output("structured")
    assert "hidden" not in out
    records = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    warn = [r for r in records if r["level"] == "WARN"][0]
    assert warn["message"] == "kept warn { k: 1 }"
    assert warn["requestId"] == request_id
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", warn["timestamp"])
    err = [r for r in records if r["level"] == "ERROR"][0]
    assert err["message"] == {"structured": True}


def test_startup_time(spawn):
    """Start-up, process spawn to the first `next` request (printed)."""
    times = []
    for _ in range(5):
        env = node(spawn, {"index.mjs": "export const handler = async (e) => e;\n"})
        times.append(env.startup_ms())
        env.invoke({})
    base = baseline_ms([node_binary(), "-e", "0"])
    print("\nnode bootstrap start-up to first next: median %.1f ms, min %.1f ms (%s);"
          " `node -e 0` start to exit: median %.1f ms"
          % (statistics.median(times), min(times), ", ".join("%.0f" % t for t in times), base))
    assert min(times) < 3000
