"""Where a cold start's init time goes: spawn to the first `GET /runtime/invocation/next` of
Nimbus' bootstrap shims, against a fake Runtime API in this process, next to the bare
interpreter start, in interleaved runs.

    bench/functions/.venv/bin/python bench/functions/shim_start.py [--runs 20]
        [--node-sdk DIR]   a node_modules holder for NIMBUS_NODE_SDK_DIR (default: the SDK
                           cached by bench.py in bench/functions/.cache/runtimes/node)

Cases: the bare interpreter (`-c pass`, `-e 0`), the shim with the hello handler, and for Node
the shim with and without NIMBUS_NODE_SDK_DIR (which registers an ES module resolve hook), and
for Python the shim run by the executable behind a PATH shim (pyenv) as well.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import HERE, NODE_HANDLER, PYTHON_HANDLER, ROOT, dist, find_runtimes, time_start

SHIMS = ROOT / "crates" / "nimbus-functions" / "runtimes"


class FakeApi:
    """Accepts connections and records when the first request line arrives on each; never
    answers (the process under test is killed then)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.arrived = threading.Event()
        self.at = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.read, args=(conn,), daemon=True).start()

    def read(self, conn):
        data = b""
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        if data.startswith(b"GET /2018-06-01/runtime/invocation/next"):
            self.at = time.perf_counter_ns()
            self.arrived.set()
        else:
            sys.stderr.write(f"unexpected request: {data[:200]!r}\n")
        self.conns = getattr(self, "conns", []) + [conn]


def time_to_next(api: FakeApi, argv: list[str], env: dict, cwd: str) -> float:
    api.arrived.clear()
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not api.arrived.wait(30):
        proc.kill()
        raise RuntimeError(f"{argv}: no /next within 30 s: {proc.stderr.read()[:500]!r}")
    ms = (api.at - t0) / 1e6
    proc.kill()
    proc.wait()
    return ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--node-sdk", type=Path, default=HERE / ".cache" / "runtimes" / "node")
    args = parser.parse_args()
    search_path = os.environ.get("PATH", "/usr/bin:/bin")
    py, node = find_runtimes(search_path)
    api = FakeApi()
    root = Path(tempfile.mkdtemp(prefix="nimbus-shim-start-"))
    task = root / "task"
    task.mkdir()
    (task / "lambda_function.py").write_text(PYTHON_HANDLER)
    (task / "index.mjs").write_text(NODE_HANDLER)
    base = {"PATH": search_path, "HOME": str(root), "TMPDIR": str(root), "LANG": "en_US.UTF-8",
            "TZ": ":UTC", "AWS_LAMBDA_RUNTIME_API": api.address, "LAMBDA_TASK_ROOT": str(task),
            "AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1"}
    py_env = {**base, "_HANDLER": "lambda_function.handler", "PYTHONPATH": str(task),
              "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    node_env = {**base, "_HANDLER": "index.handler",
                "NODE_PATH": f"{task / 'node_modules'}:{args.node_sdk / 'node_modules'}"}
    node_sdk_env = {**node_env, "NIMBUS_NODE_SDK_DIR": str(args.node_sdk / "node_modules")}
    py_shim = str(SHIMS / "python" / "bootstrap.py")
    node_shim = str(SHIMS / "node" / "bootstrap.mjs")
    cases = [
        ("python -c pass", "exit", [str(py.interpreter), "-c", "pass"], base),
        ("python shim → /next", "next", [str(py.interpreter), py_shim], py_env),
        ("node -e 0", "exit", [str(node.interpreter), "-e", "0"], base),
        ("node shim → /next, no SDK hook", "next", [str(node.interpreter), node_shim], node_env),
    ]
    if args.node_sdk.is_dir():
        cases.append(("node shim → /next, SDK hook (as Nimbus)", "next",
                      [str(node.interpreter), node_shim], node_sdk_env))
    if py.real != py.interpreter:
        cases[1:1] = [("python (executable) -c pass", "exit", [str(py.real), "-c", "pass"], base),
                      ("python (executable) shim → /next", "next", [str(py.real), py_shim],
                       py_env)]
    samples: dict[str, list[float]] = {name: [] for name, *_ in cases}
    def run(kind: str, argv: list[str], env: dict) -> float:
        if kind == "exit":
            return time_start(argv, env, str(task))
        return time_to_next(api, argv, env, str(task))

    for _, kind, argv, env in cases:  # untimed: page cache
        run(kind, argv, env)
    for _ in range(args.runs):
        for name, kind, argv, env in cases:
            samples[name].append(run(kind, argv, env))
    print(f"spawn → exit (bare) or spawn → first GET /next (shim), {args.runs} interleaved runs; "
          f"load average {open('/proc/loadavg').read().split()[:3]}")
    print()
    print("| case | p50 ms | p90 ms | min ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in samples.items():
        d = dist(values)
        print(f"| {name} | {d['p50']:.1f} | {d['p90']:.1f} | {d['min']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
