"""Harness for the runtime bootstrap shims (fixtures live in conftest.py).

A small threaded fake of the Lambda Runtime API (the server is not what these
tests check; the shims are) and helpers that start the real shim processes,
`python3 bootstrap.py` and `node bootstrap.cjs`, against handler files written
to a temporary task root.
"""

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNTIMES = REPO / "crates" / "nimbus-functions" / "runtimes"
PYTHON_BOOTSTRAP = RUNTIMES / "python" / "bootstrap.py"
NODE_BOOTSTRAP = RUNTIMES / "node" / "bootstrap.cjs"

PREFIX = "/2018-06-01/runtime"
FUNCTION_NAME = "shim-test"
REGION = "us-east-1"
ARN = "arn:aws:lambda:%s:123456789012:function:%s" % (REGION, FUNCTION_NAME)

WAIT = float(os.environ.get("SHIM_TEST_WAIT", "20"))


class Result(object):
    def __init__(self, kind, body, headers):
        self.kind = kind  # "response" or "error"
        self.raw = body
        self.headers = headers

    @property
    def json(self):
        return json.loads(self.raw)

    def __repr__(self):
        return "Result(%s, %r)" % (self.kind, self.raw[:400])


class FakeRuntimeApi(object):
    """Serves one execution environment: a queue of invocations handed out by
    `GET /invocation/next`, and the results posted back."""

    def __init__(self, close_connections=False):
        # close_connections: answer every request with `Connection: close`,
        # so that the shim has to reconnect for each request.
        self.close_connections = close_connections
        self.events = queue.Queue()
        self.results = {}
        self.init_errors = []
        self.cond = threading.Condition()
        self.next_times = []  # perf_counter() of each `next` request
        self.connections = set()  # client ports seen
        self.requests = []  # (method, path)
        self.closed = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    return self.rfile.read(length)
                if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return b""

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if api.close_connections:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _send_framed(self, status, body, headers, framing):
                """Answers with the body sent `chunked` (in pieces, with a
                chunk extension and a trailer) or delimited by `close`."""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if framing == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    step = max(1, len(body) // 3 + 1)
                    for i in range(0, len(body), step):
                        piece = body[i:i + step]
                        self.wfile.write(b"%x;piece=%d\r\n" % (len(piece), i) + piece + b"\r\n")
                    self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
                else:  # close
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True

            def do_GET(self):
                api.requests.append(("GET", self.path))
                api.connections.add(self.client_address[1])
                if self.path != PREFIX + "/invocation/next":
                    return self._send(404, b'{"errorType":"NotFound"}')
                with api.cond:
                    api.next_times.append(time.perf_counter())
                    api.cond.notify_all()
                while True:
                    if api.closed:
                        self.close_connection = True
                        return
                    try:
                        request_id, body, headers, status, framing = api.events.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                if framing == "length":
                    self._send(status, body, headers)
                else:
                    self._send_framed(status, body, headers, framing)

            def do_POST(self):
                api.requests.append(("POST", self.path))
                api.connections.add(self.client_address[1])
                body = self._body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    with api.cond:
                        api.init_errors.append(Result("init_error", body, headers))
                        api.cond.notify_all()
                    return self._send(202, b'{"status":"OK"}')
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    with api.cond:
                        api.results[parts[1]] = Result(parts[2], body, headers)
                        api.cond.notify_all()
                    return self._send(202, b'{"status":"OK"}')
                self._send(404, b"{}")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a shim process killed mid-request is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.closed = True
        self.server.shutdown()
        self.server.server_close()

    def enqueue(self, event, timeout_ms=3000, client_context=None, identity=None,
                trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
                raw=None, content_type="application/json", request_id=None,
                status=200, framing="length"):
        """Queues the answer to a `next` request. framing: how its body is
        delimited, "length" (Content-Length), "chunked" or "close"."""
        request_id = request_id or str(uuid.uuid4())
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + timeout_ms),
            "Lambda-Runtime-Invoked-Function-Arn": ARN,
        }
        if content_type:
            headers["Content-Type"] = content_type
        if trace_id:
            headers["Lambda-Runtime-Trace-Id"] = trace_id
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = client_context
        if identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(identity)
        body = raw if raw is not None else json.dumps(event).encode()
        self.events.put((request_id, body, headers, status, framing))
        return request_id

    def wait_result(self, request_id, timeout=WAIT):
        deadline = time.time() + timeout
        with self.cond:
            while request_id not in self.results:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("no result for %s within %ss" % (request_id, timeout))
                self.cond.wait(left)
            return self.results[request_id]

    def invoke(self, event=None, **kw):
        timeout = kw.pop("wait", WAIT)
        return self.wait_result(self.enqueue(event, **kw), timeout)

    def wait_init_error(self, timeout=WAIT):
        deadline = time.time() + timeout
        with self.cond:
            while not self.init_errors:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("no init error within %ss" % timeout)
                self.cond.wait(left)
            return self.init_errors[0]

    def wait_next(self, count=1, timeout=WAIT):
        deadline = time.time() + timeout
        with self.cond:
            while len(self.next_times) < count:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("no `next` request within %ss" % timeout)
                self.cond.wait(left)
            return self.next_times[count - 1]


class Environment(object):
    """One shim process with its task root and fake Runtime API."""

    def __init__(self, runtime, task_root, handler, api, extra_env=None, bootstrap=None):
        self.runtime = runtime
        self.task_root = Path(task_root)
        self.api = api
        self.stdout_path = self.task_root.parent / ("stdout-%s.log" % uuid.uuid4().hex[:8])
        self.stderr_path = self.task_root.parent / ("stderr-%s.log" % uuid.uuid4().hex[:8])
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + FUNCTION_NAME,
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIDNIMBUSTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "token",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        }
        if runtime == "python":
            env["PYTHONPATH"] = str(self.task_root)
            argv = [python_binary(), str(bootstrap or PYTHON_BOOTSTRAP)]
        else:
            env["NODE_PATH"] = str(self.task_root / "node_modules")
            argv = [node_binary(), str(bootstrap or NODE_BOOTSTRAP)]
        env.update(extra_env or {})
        self.stdout = open(self.stdout_path, "wb")
        self.stderr = open(self.stderr_path, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, cwd=str(self.task_root), env=env,
            stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=self.stderr,
        )

    def startup_ms(self):
        return (self.api.wait_next(1) - self.started) * 1000

    def invoke(self, event=None, **kw):
        return self.api.invoke(event, **kw)

    def wait_exit(self, timeout=WAIT):
        return self.proc.wait(timeout)

    def output(self):
        self.stdout.flush()
        return self.stdout_path.read_bytes().decode("utf-8", "replace")

    def errors(self):
        return self.stderr_path.read_bytes().decode("utf-8", "replace")

    def wait_output(self, needle, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.output():
                return self.output()
            time.sleep(0.02)
        raise AssertionError("%r not in output:\n%s\nstderr:\n%s" % (needle, self.output(), self.errors()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.stdout.close()
        self.stderr.close()


def python_binary():
    """The interpreter the Python shim runs on: $SHIM_PYTHON, else this one."""
    return os.environ.get("SHIM_PYTHON") or sys.executable


def node_binary():
    """The Node.js binary: $SHIM_NODE, else `node` on PATH."""
    return os.environ.get("SHIM_NODE") or shutil.which("node") or "node"


def baseline_ms(argv, runs=5):
    """Median wall time of a no-op run of an interpreter, for comparison."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def write_files(root, files):
    for name, text in files.items():
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def b64json(obj):
    return base64.b64encode(json.dumps(obj).encode()).decode()
