"""Function benchmark: cold start, warm invoke latency and warm throughput of Python and Node.js
hello handlers on Nimbus, next to the bare start of the same interpreters in the same run.

Run through `bench/functions/run.sh`, which installs what this script expects. Phases:

1. bare interpreter start: `<python> -c pass` and `node -e 0`, of the executables behind the
   names Nimbus resolves on PATH (the exact `python3.X` of the runtime, else `python3`; `node`):
   when a name on PATH is a version manager's shim (pyenv), the executable it ends in, found by
   asking the interpreter (`sys.executable`, `process.execPath`); the shim itself is measured
   too, for information;
2. Nimbus is started on a fresh data directory, with the directories of those executables first
   on its PATH so that it runs the very executables measured in 1, and two hello functions are
   created with boto3; one first invocation each (excluded: it installs the runtime's AWS SDK
   unless cached);
3. cold starts: before each one the function's configuration is updated (an environment
   variable), which stops its idle environment, so the next Invoke starts a new one. Timed
   client-side from sending a pre-signed Invoke request to reading its answer, on a persistent
   connection; `Init Duration` and `Duration` come from the REPORT line (of the log file for
   plain invocations, of `LogType: Tail` for the tail ones);
4. warm latency: sequential invocations through boto3 (persistent connection), the REPORT
   `Duration` of the same invocations, and wrk replaying pre-signed Invoke requests on one
   connection;
5. warm throughput: wrk at 2, 4, 8 and 16 connections (each point after a warm-up at the same
   concurrency, so the environments it needs already run).

Results go to `--out` as results.json and summary.md; the summary is printed.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/nimbus-bench"
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
NODE_RUNTIMES = {18: "nodejs18.x", 20: "nodejs20.x", 22: "nodejs22.x"}

PYTHON_HANDLER = '''def handler(event, context):
    return {"statusCode": 200, "body": "hello"}
'''
NODE_HANDLER = '''export const handler = async (event) => ({ statusCode: 200, body: "hello" });
'''
EXPECTED = {"statusCode": 200, "body": "hello"}

TARGET_COLD_OVERHEAD_MS = 15.0
TARGET_WARM_P50_MS = 1.0
TARGET_PYTHON_RPS = 3000.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def dist(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


# --------------------------------------------------------------------------------------------
# Interpreters, resolved as Nimbus resolves them (crates/nimbus-functions/src/runtimes.rs)


def which(name: str, search_path: str) -> Path | None:
    for d in search_path.split(":"):
        if not d:
            continue
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def works(path: Path, search_path: str) -> bool:
    try:
        return subprocess.run([str(path), "--version"], env={**os.environ, "PATH": search_path},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except OSError:
        return False


def resolve(name: str, search_path: str) -> Path | None:
    p = which(name, search_path)
    return p if p and works(p, search_path) else None


@dataclass
class Runtime:
    key: str          # "python" or "node"
    runtime: str      # Lambda runtime name
    interpreter: Path  # what the runtime's name resolves to on PATH
    real: Path        # the executable behind it (differs when the name on PATH is a shim); what
                      # Nimbus runs in the benchmark and what the bare start measures
    bare_args: list[str]
    function: str
    handler: str
    files: dict[str, str]


def find_runtimes(search_path: str) -> list[Runtime]:
    out = []
    python3 = resolve("python3", search_path)
    if python3 is None:
        raise RuntimeError("python3 is not on PATH")
    minor = subprocess.run([str(python3), "-c", "import sys; print(sys.version_info[1])"],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, "PATH": search_path}).stdout.strip()
    runtime = f"python3.{minor}"
    if runtime not in PYTHON_RUNTIMES:
        runtime = "python3.12"
    interp = resolve(runtime, search_path) or python3
    real = subprocess.run([str(interp), "-c", "import sys; print(sys.executable)"],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PATH": search_path}).stdout.strip()
    out.append(Runtime("python", runtime, interp, Path(real), ["-c", "pass"],
                       "bench-hello-python", "lambda_function.handler",
                       {"lambda_function.py": PYTHON_HANDLER}))
    node = resolve("node", search_path)
    if node is None:
        raise RuntimeError("node is not on PATH")
    major = int(subprocess.run([str(node), "--version"], capture_output=True, text=True,
                               check=True).stdout.strip().lstrip("v").split(".")[0])
    real = subprocess.run([str(node), "-p", "process.execPath"], capture_output=True, text=True,
                          check=True).stdout.strip()
    out.append(Runtime("node", NODE_RUNTIMES.get(major, "nodejs20.x"), node, Path(real),
                       ["-e", "0"], "bench-hello-node", "index.handler",
                       {"index.mjs": NODE_HANDLER}))
    return out


def time_start(argv: list[str], env: dict, cwd: str) -> float:
    """Milliseconds from spawning `argv` to reaping it."""
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code = proc.wait()
    t1 = time.perf_counter_ns()
    if code != 0:
        raise RuntimeError(f"{argv} exited {code}")
    return (t1 - t0) / 1e6


def nimbus_search_path(runtimes: list[Runtime], search_path: str) -> str:
    """PATH for Nimbus: the executables' directories first, so that the runtimes' names resolve
    to the executables the bare starts measure, not to a version manager's shim."""
    first = []
    for rt in runtimes:
        d = str(rt.real.parent)
        if d not in first:
            first.append(d)
    return ":".join(first + [d for d in search_path.split(":") if d and d not in first])


def bare_starts(runtimes: list[Runtime], runs: int, search_path: str) -> dict:
    """Interleaved runs of each executable (and of the shim on PATH in front of it, if any), in
    a scratch directory with only PATH set, as an environment's process is started."""
    env = {"PATH": search_path, "HOME": tempfile.gettempdir(), "LANG": "en_US.UTF-8"}
    cwd = tempfile.mkdtemp(prefix="nimbus-bench-bare-")
    samples: dict[str, list[float]] = {}
    cases = []
    for rt in runtimes:
        cases.append((rt.key, [str(rt.real), *rt.bare_args]))
        if rt.real != rt.interpreter:
            cases.append((f"{rt.key}-on-PATH", [str(rt.interpreter), *rt.bare_args]))
    for _, argv in cases:  # one untimed run each: page cache
        time_start(argv, env, cwd)
    for _ in range(runs):
        for key, argv in cases:
            samples.setdefault(key, []).append(time_start(argv, env, cwd))
    shutil.rmtree(cwd, ignore_errors=True)
    return {k: {"argv": next(a for kk, a in cases if kk == k), **dist(v), "samples": v}
            for k, v in samples.items()}


# --------------------------------------------------------------------------------------------
# Nimbus


class Nimbus:
    def __init__(self, binary: Path, workdir: Path, logdir: Path, args):
        self.binary = binary
        self.data = workdir / "data"
        self.port = free_port()
        self.gateway = free_port()
        self.log_path = logdir / "nimbus.log"
        self.args = args
        self.proc: subprocess.Popen | None = None
        out = subprocess.run([str(binary), "credentials", "--json", "--data-dir", str(self.data)],
                             check=True, capture_output=True, text=True).stdout
        pair = json.loads(out)
        self.access_key = pair["access_key_id"]
        self.secret_key = pair["secret_access_key"]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self, search_path: str) -> None:
        cmd = [str(self.binary), "serve", "--data-dir", str(self.data), "--listen", self.host,
               "--gateway", f"127.0.0.1:{self.gateway}",
               "--max-environments", str(self.args.max_environments),
               "--idle-timeout", "3600", "--log-level", self.args.log_level]
        log(f"start nimbus: {' '.join(cmd)}")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PATH": search_path},
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nimbus exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/_nimbus/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nimbus did not become ready within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self):
        return boto3.client(
            "lambda", region_name=REGION, endpoint_url=self.url,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 0}, read_timeout=120,
                          max_pool_connections=4))

    def reports(self, function: str) -> list[tuple[int, str, dict]]:
        """(epoch ms, stream, fields) of every REPORT line in the function's log files."""
        out = []
        root = self.data / "functions" / "logs" / function
        if not root.is_dir():
            return out
        for path in sorted(root.iterdir()):
            if path.name.startswith("."):
                continue
            for line in path.read_text(errors="replace").splitlines():
                ts, _, message = line.partition("\t")
                if message.startswith("REPORT ") and ts.isdigit():
                    out.append((int(ts), path.name, parse_report(message)))
        return out


def parse_report(line: str) -> dict:
    fields = {}
    for name, key in (("Duration", "duration_ms"), ("Init Duration", "init_ms"),
                      ("Billed Duration", "billed_ms"), ("Max Memory Used", "memory_mb")):
        m = re.search(rf"(?:^|\t){re.escape(name)}: ([0-9.]+)", line.replace("\\t", "\t"))
        if m:
            fields[key] = float(m.group(1))
    return fields


def package(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, text)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Pre-signed Invoke requests


@dataclass
class Signed:
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def raw(self) -> bytes:
        head = f"POST {self.path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in self.headers) + "\r\n"
        return head.encode() + self.body


def sign_invoke(nimbus: Nimbus, function: str, payload: dict, tail: bool = False) -> Signed:
    path = f"/2015-03-31/functions/{function}/invocations"
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Host": nimbus.host, "Content-Type": "application/json",
               "X-Amz-Invocation-Type": "RequestResponse"}
    if tail:
        headers["X-Amz-Log-Type"] = "Tail"
    request = AWSRequest(method="POST", url=nimbus.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(nimbus.access_key, nimbus.secret_key), "lambda", REGION).add_auth(request)
    out = [(k, v) for k, v in request.headers.items()]
    out.append(("Content-Length", str(len(body))))
    return Signed(path, out, body)


class Conn:
    """One persistent HTTP/1.1 connection that sends pre-signed requests."""

    def __init__(self, nimbus: Nimbus):
        self.conn = http.client.HTTPConnection("127.0.0.1", nimbus.port, timeout=60)

    def send(self, signed: Signed) -> tuple[float, int, dict, bytes]:
        """(ms from sending to the last byte of the answer, status, headers, body)."""
        t0 = time.perf_counter_ns()
        self.conn.putrequest("POST", signed.path, skip_host=True, skip_accept_encoding=True)
        for k, v in signed.headers:
            self.conn.putheader(k, v)
        self.conn.endheaders(signed.body)
        response = self.conn.getresponse()
        data = response.read()
        t1 = time.perf_counter_ns()
        return (t1 - t0) / 1e6, response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def close(self) -> None:
        self.conn.close()


def check_answer(status: int, headers: dict, body: bytes, what: str) -> None:
    if status != 200 or "x-amz-function-error" in headers:
        raise RuntimeError(f"{what}: HTTP {status} {headers.get('x-amz-function-error')}: "
                           f"{body[:300]!r}")
    if json.loads(body) != EXPECTED:
        raise RuntimeError(f"{what}: unexpected answer {body[:300]!r}")


# --------------------------------------------------------------------------------------------
# CPU accounting

TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> int:
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return fields[0] + fields[1] + fields[2]


def proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime) of one process."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_ticks(root: int) -> tuple[int, int]:
    """(ticks of `root` itself, ticks of its live descendants: the environments)."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = proc_stat(int(name))
            if s:
                stats[int(name)] = s
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    own = stats.get(root, (0, 0))[1]
    rest, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        rest += stats[pid][1]
        todo.extend(children.get(pid, []))
    return own, rest


# --------------------------------------------------------------------------------------------
# Phases


def create_functions(lam, runtimes: list[Runtime]) -> None:
    for rt in runtimes:
        lam.create_function(FunctionName=rt.function, Runtime=rt.runtime, Role=ROLE,
                            Handler=rt.handler, Code={"ZipFile": package(rt.files)},
                            MemorySize=128, Timeout=30)
        wait_updated(lam, rt.function)


def wait_updated(lam, function: str) -> None:
    for _ in range(200):
        c = lam.get_function_configuration(FunctionName=function)
        if c.get("State", "Active") == "Active" and c.get("LastUpdateStatus", "Successful") == "Successful":
            return
        time.sleep(0.05)
    raise RuntimeError(f"{function} never became Active/Successful")


def first_invocations(nimbus: Nimbus, runtimes: list[Runtime]) -> dict:
    out = {}
    conn = Conn(nimbus)
    for rt in runtimes:
        ms, status, headers, body = conn.send(sign_invoke(nimbus, rt.function, {"first": True}))
        check_answer(status, headers, body, f"{rt.function} first invocation")
        out[rt.key] = ms
        log(f"  {rt.key}: first invocation (runtime SDK check or install, code extraction, "
            f"cold start) {ms:.1f} ms")
    conn.close()
    return out


def cold_starts(nimbus: Nimbus, lam, runtimes: list[Runtime], rounds: int, settle: float,
                search_path: str) -> dict:
    """`rounds` cold invocations per runtime and mode (plain, LogType Tail), interleaved; before
    each plain one, a bare start of the same interpreter (paired: the same load falls on both)."""
    results = {rt.key: {"plain": [], "tail": [], "bare": []} for rt in runtimes}
    bare_env = {"PATH": search_path, "HOME": tempfile.gettempdir(), "LANG": "en_US.UTF-8"}
    bare_cwd = tempfile.mkdtemp(prefix="nimbus-bench-bare-")
    conn = Conn(nimbus)
    for i in range(rounds):
        for mode in ("plain", "tail"):
            for rt in (runtimes if i % 2 == 0 else list(reversed(runtimes))):
                lam.update_function_configuration(
                    FunctionName=rt.function,
                    Environment={"Variables": {"BENCH_ROUND": f"{mode}-{i}"}})
                wait_updated(lam, rt.function)
                signed = sign_invoke(nimbus, rt.function, {"round": i}, tail=(mode == "tail"))
                time.sleep(settle)  # the drained environment exits; the machine is quiet
                if mode == "plain":
                    results[rt.key]["bare"].append(
                        time_start([str(rt.real), *rt.bare_args], bare_env, bare_cwd))
                start_ms = time.time() * 1000
                ms, status, headers, body = conn.send(signed)
                end_ms = time.time() * 1000
                check_answer(status, headers, body, f"{rt.function} cold {mode} round {i}")
                sample = {"client_ms": ms, "start_epoch_ms": start_ms, "end_epoch_ms": end_ms}
                if mode == "tail":
                    text = base64.b64decode(headers.get("x-amz-log-result", "")).decode(
                        errors="replace")
                    report = next((l for l in text.splitlines() if l.startswith("REPORT ")), "")
                    sample.update(parse_report(report))
                results[rt.key][mode].append(sample)
    conn.close()
    shutil.rmtree(bare_cwd, ignore_errors=True)
    # Plain invocations: Init Duration and Duration from the REPORT line of the log file.
    time.sleep(0.5)
    for rt in runtimes:
        reports = nimbus.reports(rt.function)
        for sample in results[rt.key]["plain"]:
            match = [f for ts, _, f in reports
                     if "init_ms" in f and sample["start_epoch_ms"] - 2 <= ts <= sample["end_epoch_ms"] + 2]
            if len(match) == 1:
                sample.update(match[0])
    summary = {}
    for rt in runtimes:
        entry = {"bare_paired": dist(results[rt.key]["bare"]),
                 "paired_overhead": dist([s["client_ms"] - b for s, b in
                                          zip(results[rt.key]["plain"], results[rt.key]["bare"])])}
        for mode in ("plain", "tail"):
            samples = results[rt.key][mode]
            entry[mode] = {
                "client": dist([s["client_ms"] for s in samples]),
                "init": dist([s["init_ms"] for s in samples if "init_ms" in s]),
                "duration": dist([s["duration_ms"] for s in samples if "duration_ms" in s]),
                "outside": dist([s["client_ms"] - s["init_ms"] - s["duration_ms"]
                                 for s in samples if "init_ms" in s and "duration_ms" in s]),
                "samples": samples,
            }
            log(f"  {rt.key:6} cold {mode:5}: client p50 {entry[mode]['client']['p50']:7.1f} ms "
                f"p90 {entry[mode]['client']['p90']:7.1f} ms; Init Duration p50 "
                f"{entry[mode]['init']['p50']:7.1f} ms; Duration p50 "
                f"{entry[mode]['duration']['p50']:6.2f} ms; outside the environment p50 "
                f"{entry[mode]['outside']['p50']:6.2f} ms")
        log(f"  {rt.key:6} bare start paired with the plain cold starts: p50 "
            f"{entry['bare_paired']['p50']:.1f} ms; cold − bare per pair: p50 "
            f"{entry['paired_overhead']['p50']:.1f} ms")
        summary[rt.key] = entry
    return summary


def warm_boto3(nimbus: Nimbus, runtimes: list[Runtime], count: int) -> dict:
    """Sequential boto3 invocations (one persistent connection) and, for the same invocations,
    the REPORT Duration from the log files."""
    out = {}
    lam = nimbus.client()
    payload = json.dumps({"hello": "world"}).encode()
    for rt in runtimes:
        for _ in range(20):
            lam.invoke(FunctionName=rt.function, Payload=payload)
        samples = []
        t_begin = time.time() * 1000
        for _ in range(count):
            t0 = time.perf_counter_ns()
            r = lam.invoke(FunctionName=rt.function, Payload=payload)
            body = r["Payload"].read()
            samples.append((time.perf_counter_ns() - t0) / 1e6)
            if r["StatusCode"] != 200 or "FunctionError" in r:
                raise RuntimeError(f"{rt.function}: {r['StatusCode']} {body[:200]!r}")
        t_end = time.time() * 1000
        time.sleep(0.3)
        durations = [f["duration_ms"] for ts, _, f in nimbus.reports(rt.function)
                     if t_begin <= ts <= t_end + 5 and "init_ms" not in f and "duration_ms" in f]
        out[rt.key] = {"client": dist(samples), "report_duration": dist(durations)}
        log(f"  {rt.key:6} boto3 sequential x{count}: p50 {out[rt.key]['client']['p50']:.3f} ms "
            f"p99 {out[rt.key]['client']['p99']:.3f} ms; REPORT Duration p50 "
            f"{out[rt.key]['report_duration']['p50']:.3f} ms (n={len(durations)})")
    return out


def warm_http(nimbus: Nimbus, runtimes: list[Runtime], count: int) -> dict:
    """Sequential pre-signed invocations from Python's http.client (no signing, no boto3)."""
    out = {}
    conn = Conn(nimbus)
    for rt in runtimes:
        signed = sign_invoke(nimbus, rt.function, {"hello": "world"})
        for _ in range(20):
            conn.send(signed)
        samples = []
        for _ in range(count):
            ms, status, headers, body = conn.send(signed)
            if status != 200:
                raise RuntimeError(f"{rt.function}: HTTP {status} {body[:200]!r}")
            samples.append(ms)
        out[rt.key] = dist(samples)
        log(f"  {rt.key:6} http.client pre-signed x{count}: p50 {out[rt.key]['p50']:.3f} ms "
            f"p99 {out[rt.key]['p99']:.3f} ms")
    conn.close()
    return out


@dataclass
class Point:
    runtime: str
    conns: int
    threads: int
    duration_s: float
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    error_detail: str = ""
    failed: str = ""
    server_cores: float = 0.0
    env_cores: float = 0.0
    wrk_cores: float = 0.0
    other_cores: float = 0.0
    environments: int = 0


def run_wrk(nimbus: Nimbus, conns: int, duration: float, request_file: Path) -> tuple[dict | None, str, float]:
    threads = min(conns, 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{max(1, round(duration))}s", "--timeout", "10s",
           "-s", str(HERE.parent / "common" / "replay.lua"), nimbus.url, "--", str(request_file), str(threads)]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    wall = time.monotonic() - t0
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRK_RESULT ")), None)
    if out.returncode != 0 or line is None:
        return None, f"wrk exited {out.returncode}: {out.stderr.strip()[:300]}", wall
    return json.loads(line[len("WRK_RESULT "):]), "", wall


def live_environments(pid: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = proc_stat(int(name))
            if s and s[0] == pid:
                n += 1
    return n


def warm_wrk(nimbus: Nimbus, runtimes: list[Runtime], conns_list: list[int], duration: float,
             warmup: float, scratch: Path) -> list[Point]:
    points = []
    for rt in runtimes:
        signed = [sign_invoke(nimbus, rt.function, {"hello": "world", "i": i}) for i in range(64)]
        request_file = scratch / f"{rt.key}.requests"
        with open(request_file, "wb") as f:
            for s in signed:
                f.write(s.raw() + b"\0")
        for c in conns_list:
            point = Point(rt.key, c, min(c, 2), duration)
            run_wrk(nimbus, c, warmup, request_file)  # the environments this concurrency needs
            pid = nimbus.proc.pid
            busy0, (srv0, env0), wrk0 = busy_ticks(), tree_ticks(pid), os.times()
            r, failed, wall = run_wrk(nimbus, c, duration, request_file)
            busy1, (srv1, env1), wrk1 = busy_ticks(), tree_ticks(pid), os.times()
            point.server_cores = (srv1 - srv0) / TICKS / wall
            point.env_cores = max(0.0, (env1 - env0) / TICKS / wall)
            point.wrk_cores = (wrk1.children_user + wrk1.children_system
                               - wrk0.children_user - wrk0.children_system) / wall
            point.other_cores = max(0.0, (busy1 - busy0) / TICKS / wall - point.server_cores
                                    - point.env_cores - point.wrk_cores)
            point.environments = live_environments(pid)
            if r is None:
                point.failed = failed
                log(f"  {rt.key:6} c={c:<3} FAILED {failed}")
                points.append(point)
                continue
            seconds = r["duration_us"] / 1e6
            point.requests = r["requests"]
            point.rps = r["requests"] / seconds if seconds else 0.0
            point.p50_ms, point.p90_ms, point.p99_ms, point.max_ms = (
                r[k] / 1000 for k in ("p50_us", "p90_us", "p99_us", "max_us"))
            point.errors = (r["status_errors"] + r["connect_errors"] + r["read_errors"]
                            + r["write_errors"] + r["timeouts"])
            if point.errors:
                try:
                    conn = Conn(nimbus)
                    _, status, _, body = conn.send(signed[0])
                    conn.close()
                    point.error_detail = f"HTTP {status}: {body[:200].decode(errors='replace')}"
                except OSError as e:
                    point.error_detail = f"{type(e).__name__}: {e}"
            log(f"  {rt.key:6} c={c:<3} {point.rps:8.0f} invokes/s  p50 {point.p50_ms:7.3f} ms  "
                f"p99 {point.p99_ms:7.3f} ms  cores: server {point.server_cores:.2f} "
                f"environments {point.env_cores:.2f} wrk {point.wrk_cores:.2f} other "
                f"{point.other_cores:.2f}  errors {point.errors} {point.error_detail}")
            points.append(point)
        request_file.unlink()
    return points


# --------------------------------------------------------------------------------------------
# Report


def f1(x: float) -> str:
    return "—" if x != x else f"{x:.1f}"


def f2(x: float) -> str:
    return "—" if x != x else f"{x:.2f}"


def f3(x: float) -> str:
    return "—" if x != x else f"{x:.3f}"


def projected(p: Point) -> float:
    """Invokes/s if server, environments and wrk had the machine's cores to themselves: the CPU
    they used per invoke, divided into all cores (an upper bound: it ignores idle gaps)."""
    used = p.server_cores + p.env_cores + p.wrk_cores
    return (os.cpu_count() or 1) * p.rps / used if used else float("nan")


def report(meta: dict, runtimes: list[Runtime], bare: dict, first: dict, cold: dict,
           boto: dict, http_seq: dict, points: list[Point]) -> tuple[str, list[str]]:
    lines = [f"Function benchmark — {meta['date']} — {meta['machine']}",
             f"load average before: {meta['loadavg_before']}, after: {meta['loadavg_after']}; "
             f"run took {meta['elapsed_s']} s", ""]

    lines += ["### Bare interpreter start (spawn to exit, N=%d)" % meta["bare_runs"], "",
              "| interpreter | command | p50 ms | p90 ms | min ms |",
              "| --- | --- | ---: | ---: | ---: |"]
    for key, b in bare.items():
        lines.append(f"| {key} | `{' '.join(b['argv'])}` | {f1(b['p50'])} | {f1(b['p90'])} | "
                     f"{f1(b['min'])} |")
    lines.append("")

    lines += [f"### Cold start (N={meta['cold_rounds']} per runtime and mode; a configuration "
              "update before each forces a new environment; client-side, pre-signed Invoke on a "
              "persistent connection)", "",
              "| runtime | mode | client p50 ms | client p90 ms | Init Duration p50 / p90 ms | "
              "Duration p50 ms | outside env p50 ms |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for rt in runtimes:
        for mode in ("plain", "tail"):
            c = cold[rt.key][mode]
            lines.append(
                f"| {rt.key} ({rt.runtime}) | {'LogType Tail' if mode == 'tail' else 'plain'} | "
                f"{f1(c['client']['p50'])} | {f1(c['client']['p90'])} | "
                f"{f1(c['init']['p50'])} / {f1(c['init']['p90'])} | {f2(c['duration']['p50'])} | "
                f"{f2(c['outside']['p50'])} |")
    lines += ["", "Overhead above the bare interpreter start (plain cold invocations):", "",
              "| runtime | cold p50 ms | bare p50 ms, paired runs | overhead p50 ms | "
              "per-pair difference p50 / p90 ms | cold/bare | bare p50 ms, N=%d phase |"
              % meta["bare_runs"],
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for rt in runtimes:
        c = cold[rt.key]
        cp, bp = c["plain"]["client"]["p50"], c["bare_paired"]["p50"]
        lines.append(f"| {rt.key} | {f1(cp)} | {f1(bp)} | {f1(cp - bp)} | "
                     f"{f1(c['paired_overhead']['p50'])} / {f1(c['paired_overhead']['p90'])} | "
                     f"{cp / bp:.2f}× | {f1(bare[rt.key]['p50'])} |")
    lines.append("")
    lines.append("First invocation of each function (excluded above): " + ", ".join(
        f"{k} {v:.0f} ms" for k, v in first.items()))
    lines.append("")

    lines += ["### Warm invoke latency (sequential, one persistent connection)", "",
              "| runtime | driver | n | p50 ms | p90 ms | p99 ms |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for rt in runtimes:
        b = boto[rt.key]["client"]
        d = boto[rt.key]["report_duration"]
        h = http_seq[rt.key]
        w = next((p for p in points if p.runtime == rt.key and p.conns == 1), None)
        lines.append(f"| {rt.key} | boto3 `invoke` | {b['n']} | {f3(b['p50'])} | {f3(b['p90'])} | "
                     f"{f3(b['p99'])} |")
        lines.append(f"| {rt.key} | http.client, pre-signed | {h['n']} | {f3(h['p50'])} | "
                     f"{f3(h['p90'])} | {f3(h['p99'])} |")
        if w and not w.failed:
            lines.append(f"| {rt.key} | wrk -c1, pre-signed | {w.requests} | {f3(w.p50_ms)} | "
                         f"{f3(w.p90_ms)} | {f3(w.p99_ms)} |")
        lines.append(f"| {rt.key} | REPORT Duration (inside the environment, boto3 run) | "
                     f"{d['n']} | {f3(d['p50'])} | {f3(d['p90'])} | {f3(d['p99'])} |")
    lines.append("")

    lines += ["### Warm throughput (wrk replaying pre-signed Invoke requests)", "",
              "| runtime | conns | invokes/s | p50 ms | p99 ms | errors | live environments (all functions) | "
              "CPU cores server/environments/wrk/other | CPU µs per invoke server/environments "
              "| invokes/s if the 2 cores were ours |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |"]
    for p in points:
        if p.failed:
            lines.append(f"| {p.runtime} | {p.conns} | failed | | | {p.failed[:100]} | | |")
            continue
        lines.append(f"| {p.runtime} | {p.conns} | {p.rps:,.0f} | {f3(p.p50_ms)} | "
                     f"{f3(p.p99_ms)} | {p.errors} | {p.environments} | {p.server_cores:.2f}/"
                     f"{p.env_cores:.2f}/{p.wrk_cores:.2f}/{p.other_cores:.2f} | "
                     f"{p.server_cores * 1e6 / p.rps:.0f}/{p.env_cores * 1e6 / p.rps:.0f} | "
                     f"{projected(p):,.0f} |")
    lines.append("")

    verdicts = []

    def verdict(text: str, ok: bool | None, detail: str) -> None:
        state = "—" if ok is None else ("PASS" if ok else "MISS")
        verdicts.append(f"{state:4}  {text}: {detail}")

    for rt in runtimes:
        c = cold[rt.key]["plain"]["client"]["p50"]
        b = cold[rt.key]["bare_paired"]["p50"]
        over = c - b
        verdict(f"{rt.key} cold start overhead p50 < {TARGET_COLD_OVERHEAD_MS:.0f} ms above bare",
                over < TARGET_COLD_OVERHEAD_MS if c == c else None,
                f"cold {c:.1f} ms − bare {b:.1f} ms = {over:.1f} ms (per-pair p50 "
                f"{cold[rt.key]['paired_overhead']['p50']:.1f} ms; cold/bare {c / b:.2f}×)")
    for rt in runtimes:
        w = next((p for p in points if p.runtime == rt.key and p.conns == 1 and not p.failed), None)
        bb = boto[rt.key]["client"]["p50"]
        if w:
            verdict(f"{rt.key} warm invoke p50 < {TARGET_WARM_P50_MS:.0f} ms (Invoke API)",
                    w.p50_ms < TARGET_WARM_P50_MS,
                    f"wrk -c1 p50 {w.p50_ms:.3f} ms (boto3 p50 {bb:.3f} ms, of which client "
                    f"{bb - w.p50_ms:.3f} ms)")
        else:
            verdict(f"{rt.key} warm invoke p50 < 1 ms", None, "not measured")
    py = [p for p in points if p.runtime == "python" and not p.failed and not p.errors]
    if py:
        best = max(py, key=lambda p: p.rps)
        verdict(f"python warm throughput ≥ {TARGET_PYTHON_RPS:,.0f} invokes/s",
                best.rps >= TARGET_PYTHON_RPS,
                f"best {best.rps:,.0f} invokes/s at c={best.conns} "
                f"({best.rps / TARGET_PYTHON_RPS:.2f}× target)")
    else:
        verdict("python warm throughput ≥ 3,000 invokes/s", None, "not measured cleanly")
    lines += ["Targets:", "", "```", *verdicts, "```", ""]
    lines += ["Executables (Nimbus runs them and the bare starts measure them): " + "; ".join(
        f"{rt.runtime} → {rt.real} (on PATH: {rt.interpreter})" for rt in runtimes)]
    return "\n".join(lines), verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--nimbus", type=Path, default=ROOT / "target" / "release" / "nimbus")
    parser.add_argument("--bare-runs", type=int, default=30)
    parser.add_argument("--cold-rounds", type=int, default=20)
    parser.add_argument("--cold-settle", type=float, default=0.3,
                        help="seconds between forcing a new environment and the cold invocation")
    parser.add_argument("--warm-count", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=8, help="seconds per wrk point")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of wrk before each point")
    parser.add_argument("--conns", default="1,2,4,8,16")
    parser.add_argument("--max-environments", type=int, default=64)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--sdk-cache", type=Path, default=HERE / ".cache" / "runtimes",
                        help="runtime SDKs installed by an earlier run, copied into the data "
                             "directory so the first invocation does not download them")
    args = parser.parse_args()
    conns_list = [int(c) for c in args.conns.split(",")]

    args.out.mkdir(parents=True, exist_ok=True)
    logdir = args.out / "logs"
    logdir.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=args.out))
    search_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}",
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
        "bare_runs": args.bare_runs,
        "cold_rounds": args.cold_rounds,
        "warm_count": args.warm_count,
        "wrk": f"-c {{{args.conns}}} -t min(c,2) -d {args.duration}s after {args.warmup}s warm-up",
    }
    started = time.time()
    runtimes = find_runtimes(search_path)
    for rt in runtimes:
        log(f"{rt.runtime}: {rt.real} (on PATH: {rt.interpreter})")

    log(f"== bare interpreter start, {args.bare_runs} runs each")
    bare = bare_starts(runtimes, args.bare_runs, search_path)
    for key, b in bare.items():
        log(f"  {key:12} p50 {b['p50']:6.1f} ms  p90 {b['p90']:6.1f} ms  ({' '.join(b['argv'])})")

    nimbus = Nimbus(args.nimbus, scratch, logdir, args)
    runtimes_dir = nimbus.data / "runtimes"
    for family in ("python", "node"):
        if (args.sdk_cache / family).is_dir() and not (runtimes_dir / family).exists():
            shutil.copytree(args.sdk_cache / family, runtimes_dir / family, symlinks=True)
    try:
        nimbus.start(nimbus_search_path(runtimes, search_path))
        lam = nimbus.client()
        create_functions(lam, runtimes)
        log("== first invocations")
        first = first_invocations(nimbus, runtimes)
        for family in ("python", "node"):
            installed = runtimes_dir / family
            marked = installed.is_dir() and any(m.name.startswith((".boto3-", ".sdk-"))
                                                for m in installed.iterdir())
            if marked and not (args.sdk_cache / family).exists():
                args.sdk_cache.mkdir(parents=True, exist_ok=True)
                shutil.copytree(runtimes_dir / family, args.sdk_cache / family, symlinks=True)
        log(f"== cold starts, {args.cold_rounds} per runtime and mode")
        cold = cold_starts(nimbus, lam, runtimes, args.cold_rounds, args.cold_settle,
                           search_path)
        log(f"== warm latency, {args.warm_count} sequential invocations")
        boto = warm_boto3(nimbus, runtimes, args.warm_count)
        http_seq = warm_http(nimbus, runtimes, args.warm_count)
        log("== warm throughput (wrk)")
        points = warm_wrk(nimbus, runtimes, conns_list, args.duration, args.warmup, scratch)
    finally:
        nimbus.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    meta["elapsed_s"] = round(time.time() - started, 1)
    meta["loadavg_after"] = open("/proc/loadavg").read().split()[:3]

    summary, verdicts = report(meta, runtimes, bare, first, cold, boto, http_seq, points)
    (args.out / "results.json").write_text(json.dumps({
        "meta": meta,
        "runtimes": [{"key": rt.key, "runtime": rt.runtime, "interpreter": str(rt.interpreter),
                      "executable": str(rt.real)} for rt in runtimes],
        "bare": bare, "first_invocation_ms": first, "cold": cold, "warm_boto3": boto,
        "warm_http": http_seq, "points": [p.__dict__ for p in points], "verdicts": verdicts,
    }, indent=2, default=str))
    (args.out / "summary.md").write_text(summary + "\n")
    print()
    print(summary)
    print()
    print(f"results: {args.out} (run took {meta['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
