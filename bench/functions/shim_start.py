"""Where a cold start's init time goes: Nimbus' bootstrap shims against a fake Runtime API in
this process, next to the bare interpreter start, in interleaved runs.

    bench/functions/.venv/bin/python bench/functions/shim_start.py [--runs 20] [--cgroup]

For each shim run: spawn to the first `GET /runtime/invocation/next` (the end of init), and
spawn to the hello handler's response being posted (a cold invocation without Nimbus). The
interpreters are the executables Nimbus runs in bench.py (behind a version manager's shim on
PATH, if any; the shim itself is measured too, bare, for information). Environments get the
variables Nimbus sets for them, nothing from this shell.

--cgroup (root, cgroup v1) runs every case a second time inside a cgroup set up as Nimbus sets
up a 128 MB function's (`Cgroup::create_v1` in nimbus-sandbox: a parent group with the default
cpu.shares, a child with cpu.shares 74 and a 128 MB memory limit), to show what the group itself
costs a start on this machine.
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

from bench import NODE_HANDLER, PYTHON_HANDLER, ROOT, dist, find_runtimes

SHIMS = ROOT / "crates" / "nimbus-functions" / "runtimes"
EVENT = b'{"version":"2.0","rawPath":"/hello","headers":{"host":"bench"},"body":null}'


class FakeApi:
    """Answers the first `next` of each run with EVENT and accepts the response; later `next`
    requests are held (the process is killed then). Connections of earlier runs are ignored."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.lock = threading.Lock()
        self.run = 0
        self.reset()
        threading.Thread(target=self.serve, daemon=True).start()

    def reset(self):
        with self.lock:
            self.run += 1
            self.nexts = 0
            self.next_at = 0
            self.response_at = 0
            self.answered = threading.Event()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.handle, args=(conn, self.run), daemon=True).start()

    def handle(self, conn: socket.socket, run: int):
        reader = conn.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                length = 0
                while (header := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    reader.read(length)
                at = time.perf_counter_ns()
                if run != self.run:
                    return
                if line.startswith(b"GET /2018-06-01/runtime/invocation/next"):
                    with self.lock:
                        self.nexts += 1
                        first = self.nexts == 1
                    if not first:
                        return  # held until the process is killed
                    self.next_at = at
                    deadline = int(time.time() * 1000) + 60000
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Lambda-Runtime-Aws-Request-Id: bench-1\r\n"
                        b"Lambda-Runtime-Deadline-Ms: %d\r\n"
                        b"Lambda-Runtime-Invoked-Function-Arn: "
                        b"arn:aws:lambda:us-east-1:000000000000:function:bench\r\n"
                        b"Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
                        b"Content-Length: %d\r\n\r\n" % (deadline, len(EVENT)) + EVENT)
                elif b"/invocation/bench-1/response" in line:
                    self.response_at = at
                    conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n"
                                 b'{"status":"OK"}\n')
                    self.answered.set()
                else:
                    sys.stderr.write(f"unexpected request: {line[:200]!r}\n")
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return


class BenchCgroup:
    """A cgroup v1 pair like Nimbus' for a 128 MB function; `enter` moves the calling process
    into it (used between fork and exec) the way Nimbus does: "0" into `tasks`, which moves the
    one thread a forked child has without the kernel's whole-thread-group lock (writing the pid
    into `cgroup.procs` takes that lock and waits 10-15 ms for an RCU grace period)."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self):
        if not (self.ROOT / "cpu" / "tasks").exists() or not (self.ROOT / "memory" / "tasks").exists():
            raise SystemExit("--cgroup needs cgroup v1 with the cpu and memory controllers")
        self.parents = [self.ROOT / c / f"nimbus-bench-{os.getpid()}" for c in ("cpu", "memory")]
        self.dirs = [p / "env" for p in self.parents]
        for d in self.dirs:
            d.mkdir(parents=True)
        (self.dirs[0] / "cpu.shares").write_text(str(128 * 1024 // 1769))
        (self.dirs[1] / "memory.limit_in_bytes").write_text(str(128 << 20))

    def enter(self) -> None:
        for d in self.dirs:
            (d / "tasks").write_text("0")

    def remove(self) -> None:
        for d in self.dirs + self.parents:
            try:
                d.rmdir()
            except OSError as e:
                sys.stderr.write(f"cannot remove {d}: {e}\n")


def time_shim(api: FakeApi, argv: list[str], env: dict, cwd: str,
              preexec=None) -> tuple[float, float]:
    """(spawn → first next, spawn → response posted) in ms."""
    api.reset()
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=preexec)
    if not api.answered.wait(30):
        proc.kill()
        raise RuntimeError(f"{argv}: no response within 30 s: {proc.stderr.read()[:500]!r}")
    proc.kill()
    proc.wait()
    return (api.next_at - t0) / 1e6, (api.response_at - t0) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cgroup", action="store_true",
                        help="also run every case in a cgroup like Nimbus' (root, cgroup v1)")
    args = parser.parse_args()
    search_path = os.environ.get("PATH", "/usr/bin:/bin")
    py, node = find_runtimes(search_path)
    api = FakeApi()
    root = Path(tempfile.mkdtemp(prefix="nimbus-shim-start-"))
    task = root / "task"
    task.mkdir()
    (task / "lambda_function.py").write_text(PYTHON_HANDLER)
    (task / "index.mjs").write_text(NODE_HANDLER)
    # What `lambda_env` (environment.rs) and `launch` (runtimes.rs) give a function.
    base = {"PATH": search_path, "HOME": str(root), "TMPDIR": str(root), "LANG": "en_US.UTF-8",
            "TZ": ":UTC", "AWS_LAMBDA_RUNTIME_API": api.address, "LAMBDA_TASK_ROOT": str(task),
            "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1"}
    bare_env = {"PATH": search_path, "HOME": str(root), "LANG": "en_US.UTF-8"}
    py_env = {**base, "_HANDLER": "lambda_function.handler", "PYTHONPATH": str(task),
              "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    node_env = {**base, "_HANDLER": "index.handler", "NODE_PATH": str(task / "node_modules")}
    py_shim = str(SHIMS / "python" / "bootstrap.py")
    node_shim = str(SHIMS / "node" / "bootstrap.cjs")
    cases = [
        ("python -c pass", "exit", [str(py.real), "-c", "pass"], bare_env),
        ("python shim", "shim", [str(py.real), py_shim], py_env),
        ("node -e 0", "exit", [str(node.real), "-e", "0"], bare_env),
        ("node shim, ES module handler", "shim", [str(node.real), node_shim], node_env),
    ]
    if py.real != py.interpreter:
        cases.insert(1, (f"python -c pass via {py.interpreter} (PATH)", "exit",
                         [str(py.interpreter), "-c", "pass"], bare_env))
    group = BenchCgroup() if args.cgroup else None
    if group:
        # A no-op between fork and exec outside the group too, so that both spawn alike.
        cases = [(name, kind, argv, env, lambda: None) for name, kind, argv, env in cases] + [
            (f"{name}, in a cgroup", kind, argv, env, group.enter)
            for name, kind, argv, env in cases]
    else:
        cases = [(name, kind, argv, env, None) for name, kind, argv, env in cases]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in cases}

    def run(kind: str, argv: list[str], env: dict, preexec) -> tuple[float, float]:
        if kind == "exit":
            t0 = time.perf_counter_ns()
            code = subprocess.run(argv, env=env, cwd=str(task), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=preexec).returncode
            if code != 0:
                raise RuntimeError(f"{argv} exited {code}")
            ms = (time.perf_counter_ns() - t0) / 1e6
            return ms, ms
        return time_shim(api, argv, env, str(task), preexec)

    try:
        for _, kind, argv, env, preexec in cases:  # untimed: page cache, bytecode cache
            run(kind, argv, env, preexec)
        for _ in range(args.runs):
            for name, kind, argv, env, preexec in cases:
                samples[name].append(run(kind, argv, env, preexec))
    finally:
        if group:
            group.remove()
    print(f"spawn → exit (bare), spawn → first GET /next and → response posted (shims); "
          f"{args.runs} interleaved runs; load average {open('/proc/loadavg').read().split()[:3]}")
    print()
    print("| case | → next p50 ms | → response p50 / p90 ms | min ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, kind, *_ in cases:
        nexts = dist([n for n, _ in samples[name]])
        answers = dist([r for _, r in samples[name]])
        first = f"{nexts['p50']:.1f}" if kind == "shim" else "—"
        print(f"| {name} | {first} | {answers['p50']:.1f} / {answers['p90']:.1f} | "
              f"{answers['min']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
