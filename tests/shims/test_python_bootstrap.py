"""The python3.x bootstrap shim against a fake Runtime API."""

import json
import re
import shutil
import statistics
import subprocess

from shimharness import (ARN, FUNCTION_NAME, PYTHON_BOOTSTRAP, b64json, baseline_ms,
                         python_binary)


def py(spawn, code, handler="app.handler", files=None, env=None, bootstrap=None):
    all_files = {"app.py": code}
    all_files.update(files or {})
    return spawn("python", all_files, handler, env, bootstrap=bootstrap)


ECHO = """
def handler(event, context):
    return {"got": event}
"""


def test_event_in_response_out(spawn):
    env = py(spawn, ECHO)
    res = env.invoke({"a": [1, 2, {"b": None}], "s": "\u00e9\u4e2d"})
    assert res.kind == "response"
    assert res.headers.get("content-type") == "application/json"
    assert res.json == {"got": {"a": [1, 2, {"b": None}], "s": "\u00e9\u4e2d"}}


def test_return_values_of_every_json_kind(spawn):
    env = py(spawn, """
RESULTS = [None, 1, 1.5, "text", [1, "x"], True, {"k": (1, 2)}]
state = {"i": 0}
def handler(event, context):
    value = RESULTS[state["i"]]
    state["i"] += 1
    return value
""")
    got = [env.invoke({}).json for _ in range(7)]
    assert got == [None, 1, 1.5, "text", [1, "x"], True, {"k": [1, 2]}]


def test_bytes_are_sent_unchanged(spawn):
    env = py(spawn, "def handler(e, c):\n    return b'\\x00raw'\n")
    res = env.invoke({})
    assert res.kind == "response"
    assert res.raw == b"\x00raw"
    assert res.headers.get("content-type") == "application/unknown"


def test_decimal_is_a_json_number(spawn):
    env = py(spawn, """
from decimal import Decimal
def handler(event, context):
    return {"price": Decimal("12.50"), "big": Decimal("12345678901234567890.123"),
            "list": [Decimal("1"), Decimal("-0.001")], "nan": Decimal("NaN")}
""")
    res = env.invoke({})
    assert res.kind == "response", res
    text = res.raw.decode()
    assert '"price": 12.50' in text
    assert '"big": 12345678901234567890.123' in text
    assert '"list": [1, -0.001]' in text
    assert '"nan": NaN' in text


def test_unserializable_result_is_a_marshal_error(spawn):
    env = py(spawn, """
import datetime
def handler(event, context):
    return {"when": datetime.datetime(2024, 1, 1)}
""")
    res = env.invoke({})
    assert res.kind == "error"
    body = res.json
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"] == (
        "Unable to marshal response: Object of type datetime is not JSON serializable")
    assert body["stackTrace"] == []
    assert res.headers.get("lambda-runtime-function-error-type") == "Runtime.MarshalError"
    # and the environment stays usable
    assert env.invoke({}).kind == "error"


def test_context_fields(spawn):
    env = py(spawn, """
import os
def handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": context.client_context,
        "remaining": context.get_remaining_time_in_millis(),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "cwd": os.getcwd(),
    }
""")
    request_id = env.api.enqueue({}, timeout_ms=60000)
    res = env.api.wait_result(request_id)
    body = res.json
    assert body["function_name"] == FUNCTION_NAME
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == ARN
    assert body["memory_limit_in_mb"] == "256"  # a string, as on AWS
    assert body["aws_request_id"] == request_id
    assert body["log_group_name"] == "/aws/lambda/" + FUNCTION_NAME
    assert body["log_stream_name"].startswith("2024/01/01/")
    assert body["identity"] == [None, None]
    assert body["client_context"] is None
    assert 30000 < body["remaining"] <= 60000
    assert body["trace"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert body["cwd"] == str(env.task_root)


def test_trace_id_env_is_removed_when_absent(spawn):
    env = py(spawn, "import os\ndef handler(e, c):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n")
    assert env.invoke({}).json.startswith("Root=")
    assert env.invoke({}, trace_id=None).json is None


def test_client_context_and_identity(spawn):
    env = py(spawn, """
def handler(event, context):
    cc = context.client_context
    return {
        "installation_id": cc.client.installation_id,
        "app_title": cc.client.app_title,
        "app_package_name": cc.client.app_package_name,
        "custom": cc.custom,
        "env": cc.env,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
    }
""")
    cc = {"client": {"installation_id": "inst-1", "app_title": "Shop"},
          "custom": {"tenant": "t1"}, "env": {"platform": "Android"}}
    ident = {"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"}
    expected = {"installation_id": "inst-1", "app_title": "Shop", "app_package_name": None,
                "custom": {"tenant": "t1"}, "env": {"platform": "Android"},
                "identity": ["us-east-1:abc", "us-east-1:pool"]}
    # JSON text, as the Runtime API carries it
    assert env.invoke({}, client_context=json.dumps(cc), identity=ident).json == expected
    # the base64 form of the Invoke API is accepted too
    assert env.invoke({}, client_context=b64json(cc), identity=ident).json == expected


def test_remaining_time_decreases(spawn):
    env = py(spawn, """
import time
def handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    second = context.get_remaining_time_in_millis()
    return [first, second, type(first).__name__]
""")
    first, second, kind = env.invoke({}, timeout_ms=60000).json
    assert kind == "int"
    assert 0 < first <= 60000
    assert 150 <= first - second <= 2500
    # past the deadline it is 0, never negative
    assert env.invoke({}, timeout_ms=-50).json[0] == 0


def test_warm_process_keeps_module_state(spawn):
    env = py(spawn, """
import os
COUNT = {"n": 0}
def handler(event, context):
    COUNT["n"] += 1
    return {"n": COUNT["n"], "pid": os.getpid()}
""")
    results = [env.invoke({}).json for _ in range(5)]
    assert [r["n"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r["pid"] for r in results}) == 1
    assert env.proc.poll() is None


def test_persistent_connection(spawn):
    env = py(spawn, ECHO)
    for _ in range(4):
        env.invoke({})
    env.api.wait_next(5)
    assert len(env.api.connections) == 1


def test_reconnects_when_the_server_closes_connections(spawn):
    env = spawn("python", {"app.py": ECHO}, "app.handler", close_connections=True)
    assert [env.invoke({"i": i}).json for i in range(3)] == [{"got": {"i": i}} for i in range(3)]
    assert len(env.api.connections) >= 6


def test_handler_exception(spawn):
    env = py(spawn, """
class OrderNotFound(Exception):
    pass

def lookup(order_id):
    raise OrderNotFound("order %s not found" % order_id)

def handler(event, context):
    return lookup(event["id"])
""")
    request_id = env.api.enqueue({"id": 42})
    res = env.api.wait_result(request_id)
    assert res.kind == "error"
    body = res.json
    assert body["errorType"] == "OrderNotFound"
    assert body["errorMessage"] == "order 42 not found"
    assert body["requestId"] == request_id
    trace = body["stackTrace"]
    assert len(trace) == 2
    assert re.match(r'  File ".*/app.py", line 9, in handler\n    return lookup\(event\["id"\]\)\n', trace[0])
    assert 'in lookup' in trace[1]
    assert "bootstrap.py" not in "".join(trace)
    assert "_nimbus_runtime" not in "".join(trace)
    assert res.headers.get("lambda-runtime-function-error-type") == "OrderNotFound"
    out = env.wait_output("[ERROR] OrderNotFound: order 42 not found")
    line = [l for l in out.split("\n") if l.startswith("[ERROR] OrderNotFound")][0]
    assert "\rTraceback (most recent call last):\r\u00a0\u00a0File " in line
    # the next invocation still works
    assert env.invoke({"id": 1}).kind == "error"
    assert env.proc.poll() is None


def test_malformed_event_is_an_unmarshal_error(spawn):
    env = py(spawn, ECHO)
    res = env.invoke(raw=b"{not json")
    assert res.kind == "error"
    assert res.json["errorType"] == "Runtime.UnmarshalError"
    assert res.json["errorMessage"].startswith("Unable to unmarshal input: ")


def init_error(spawn, files, handler):
    env = spawn("python", files, handler)
    err = env.api.wait_init_error()
    assert env.wait_exit() == 1
    assert err.headers.get("lambda-runtime-function-error-type") == err.json["errorType"]
    return err.json, env


def test_init_error_missing_module(spawn):
    body, env = init_error(spawn, {"other.py": ""}, "app.handler")
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'app'"
    assert body["stackTrace"] == []
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'app'" in env.output()


def test_init_error_missing_dependency(spawn):
    body, _ = init_error(spawn, {"app.py": "import requests_nowhere\ndef handler(e, c): pass\n"},
                         "app.handler")
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'requests_nowhere'"


def test_init_error_handler_not_found(spawn):
    body, _ = init_error(spawn, {"app.py": "def other(e, c): pass\n"}, "app.handler")
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_init_error_malformed_handler(spawn):
    body, _ = init_error(spawn, {"app.py": ""}, "app")
    assert body["errorType"] == "Runtime.MalformedHandlerName"
    assert body["errorMessage"] == "Bad handler 'app': not enough values to unpack (expected 2, got 1)"


def test_init_error_syntax(spawn):
    body, _ = init_error(spawn, {"app.py": "def handler(e, c)\n    return 1\n"}, "app.handler")
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app': ")
    assert re.match(r'  File ".*/app.py" Line 1\n    def handler\(e, c\)', body["stackTrace"][0])


def test_init_error_builtin_module(spawn):
    body, _ = init_error(spawn, {}, "sys.handler")
    assert body["errorType"] == "Runtime.BuiltInModuleConflict"
    assert body["errorMessage"] == "Cannot use built-in module sys as a handler module"


def test_init_error_exception_at_import(spawn):
    body, _ = init_error(spawn, {"app.py": "raise RuntimeError('no config')\n"}, "app.handler")
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "no config"
    assert 'app.py", line 1, in <module>' in "".join(body["stackTrace"])


def test_nested_handler_path(spawn):
    env = spawn("python", {
        "src/handlers/get_all.py": "from src.lib.util import tag\ndef handler(e, c):\n    return tag(e)\n",
        "src/lib/util.py": "def tag(e):\n    return {'tagged': e, 'module': __name__}\n",
    }, "src/handlers/get_all.handler")
    assert env.invoke({"x": 1}).json == {"tagged": {"x": 1}, "module": "src.lib.util"}


def test_dotted_handler_path(spawn):
    env = spawn("python", {"pkg/__init__.py": "", "pkg/mod.py": "def handler(e, c):\n    return __name__\n"},
                "pkg.mod.handler")
    assert env.invoke({}).json == "pkg.mod"


def test_module_named_like_the_bootstrap_dir_contents_is_user_code(spawn):
    # The bootstrap's own directory must not shadow modules of the task root.
    env = spawn("python", {"bootstrap_helper.py": "X = 1\n",
                           "app.py": "import sys\ndef handler(e, c):\n    return sys.path[0]\n"},
                "app.handler")
    assert env.invoke({}).json == str(env.task_root)


def test_runtime_directory_is_not_on_sys_path(spawn):
    env = py(spawn, "import sys\ndef handler(e, c):\n    return sys.path\n")
    path = env.invoke({}).json
    assert path[0] == str(env.task_root)
    assert str(PYTHON_BOOTSTRAP.parent) not in path


def test_runtime_bytecode_is_cached_but_not_user_code(spawn, tmp_path):
    """The runtime module is loaded from its cached bytecode from the second start on, also
    under PYTHONDONTWRITEBYTECODE, which still holds for user code."""
    shim = tmp_path / "shim"
    shutil.copytree(PYTHON_BOOTSTRAP.parent, shim, ignore=shutil.ignore_patterns("__pycache__"))
    code = "import sys\ndef handler(e, c):\n    return sys.dont_write_bytecode\n"
    env_vars = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONVERBOSE": "1"}
    first = py(spawn, code, env=env_vars, bootstrap=shim / "bootstrap.py")
    assert first.invoke({}).json is True
    cached = list((shim / "__pycache__").glob("_nimbus_runtime.*.pyc"))
    assert len(cached) == 1
    second = py(spawn, code, env=env_vars, bootstrap=shim / "bootstrap.py")
    assert second.invoke({}).json is True
    assert "code object from '%s'" % cached[0] in second.errors()
    assert not (second.task_root / "__pycache__").exists()


JSON_CODEC_CHECK = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import _nimbus_runtime as rt
assert rt._C_JSON is not None, "the _json fast path is off on this interpreter"

def outcome(fn, *args, **kw):
    try:
        value = fn(*args, **kw)
    except BaseException as e:
        return ("raised", type(e).__name__, str(e))
    return ("value", repr(value))

documents = [
    '{"a": [1, -2.5e-3, 1e400, -0.0, true, false, null], "b": {"c": "\\u00e9\\ud83d\\ude00"}}',
    ' \t\n [1, 2] \r\n', '"just a string"', '123456789012345678901234567890', 'NaN',
    '[Infinity, -Infinity]', '{"dup": 1, "dup": 2}', '"\u4e2d\u6587"', '[]', '{}',
    '', '   ', '[1,]', '{"a" 1}', '1 2', '"\x01"', '[1] x', '\ufeff[1]', '{"a": [}', 'nul',
    '"\\ud800"', '\f[1]', '[1]\f', '[' * 100 + ']' * 100,
]
inputs = []
for doc in documents:
    inputs += [doc, doc.encode("utf-8", "surrogatepass")]
inputs += ['[1, "\u00e9"]'.encode("utf-16"), '[1]'.encode("utf-16-le"), b'\xef\xbb\xbf[1]',
           b'[1, "\xff"]', b'1\x00', bytearray(b'[3]'), 42, None]
for data in inputs:
    mine, theirs = outcome(rt._json_loads, data), outcome(json.loads, data)
    assert mine == theirs, (data, mine, theirs)

class Str(str): pass
class Num(float): pass
class Int(int): pass
circular = []
circular.append(circular)
objects = [
    {"a": [1, 2.5, float("nan"), float("inf"), None, True], "\u00e9": "\u4e2d\U0001f600\x00\n"},
    {1: "int key", 2.5: "float key", True: "bool key", None: "none key"}, (1, 2), "top \u00e9",
    Str("sub"), Num(1.5), Int(7), [Str("x"), {Str("k"): Num(2.0)}], object(), {"s": {1, 2}},
    {(1, 2): "tuple key"}, circular, 10 ** 30, -0.0, [], {},
]
def default(obj):
    if isinstance(obj, set):
        return sorted(obj)
    raise TypeError("no %s" % type(obj).__name__)
for obj in objects:
    for ascii_only in (True, False):
        for dflt in (None, default):
            mine = outcome(rt._json_dumps, obj, default=dflt, ensure_ascii=ascii_only)
            theirs = outcome(json.dumps, obj, default=dflt, ensure_ascii=ascii_only)
            assert mine == theirs, (obj, ascii_only, dflt, mine, theirs)
print("ok", len(inputs), len(objects))
"""


def test_json_codec_matches_the_json_module():
    """The runtime's JSON functions (the `_json` accelerator without the json package) give
    json's results and json's errors, on the interpreter the shim runs on."""
    out = subprocess.run([python_binary(), "-c", JSON_CODEC_CHECK, str(PYTHON_BOOTSTRAP.parent)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")


def test_print_and_logging_format(spawn):
    env = py(spawn, """
import logging
logger = logging.getLogger()
logger.setLevel(logging.INFO)
logging.getLogger("app.sub").warning("at import")
def handler(event, context):
    print("plain print")
    logger.info("info %s", event["n"])
    logging.getLogger("app.sub").debug("hidden")
    return 1
""")
    request_id = env.api.enqueue({"n": 7})
    env.api.wait_result(request_id)
    out = env.wait_output("info 7")
    assert "plain print\n" in out
    assert re.search(r"^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\tat import\n", out, re.M)
    assert re.search(r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tinfo 7\n" % request_id, out, re.M)
    assert "hidden" not in out


def test_log_level_from_environment(spawn):
    env = py(spawn, """
import logging
def handler(event, context):
    logging.debug("debug line")
    logging.info("info line")
    return 1
""", env={"AWS_LAMBDA_LOG_LEVEL": "debug"})
    env.invoke({})
    out = env.wait_output("info line")
    assert "[DEBUG]\t" in out and "debug line" in out

    quiet = py(spawn, "import logging\ndef handler(e, c):\n    logging.warning('warn line')\n    logging.info('no')\n",
               env={"AWS_LAMBDA_LOG_LEVEL": "WARN"})
    quiet.invoke({})
    assert "[WARNING]" in quiet.wait_output("warn line")
    assert "\tno\n" not in quiet.output()


def test_logging_imported_lazily_inside_handler(spawn):
    env = py(spawn, """
def handler(event, context):
    import logging
    logging.getLogger().warning("late")
    return 1
""")
    request_id = env.api.enqueue({})
    env.api.wait_result(request_id)
    assert re.search(r"^\[WARNING\]\t\S+Z\t%s\tlate\n" % request_id, env.wait_output("late"), re.M)


def test_json_log_format(spawn):
    env = py(spawn, """
import logging
def handler(event, context):
    logging.getLogger("orders").warning("json line", extra={"order": 5})
    return 1
""", env={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    request_id = env.api.enqueue({})
    env.api.wait_result(request_id)
    out = env.wait_output("json line")
    record = json.loads([l for l in out.splitlines() if "json line" in l][0])
    assert record["level"] == "WARNING"
    assert record["message"] == "json line"
    assert record["logger"] == "orders"
    assert record["requestId"] == request_id
    assert record["order"] == 5
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", record["timestamp"])


def test_handler_calling_sys_exit_ends_the_environment(spawn):
    env = py(spawn, "import sys\ndef handler(e, c):\n    sys.exit(3)\n")
    env.api.enqueue({})
    assert env.wait_exit() == 3


def test_startup_time(spawn):
    """Start-up, process spawn to the first `next` request (printed)."""
    times = []
    for _ in range(5):
        env = py(spawn, ECHO)
        times.append(env.startup_ms())
        env.invoke({})
    base = baseline_ms([python_binary(), "-c", "pass"])
    print("\npython bootstrap start-up to first next: median %.1f ms, min %.1f ms (%s);"
          " `%s -c pass` start to exit: median %.1f ms"
          % (statistics.median(times), min(times), ", ".join("%.0f" % t for t in times),
             python_binary(), base))
    assert min(times) < 2000
