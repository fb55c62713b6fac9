"""Gateway benchmark: what the HTTP API gateway adds to a warm `provided` Rust function, next to
the same function called through the Lambda Invoke API and a bare hyper hello-world server, all
started by the same run on the same machine.

Run through `bench/gateway/run.sh`, which installs and builds what this script expects. Steps:

1. start the bare server (`floor/`) and `nimbus serve` (fresh data directory, free ports);
2. create the function (provided.al2023, the `handler/` binary as `bootstrap`) and an HTTP API
   with boto3: route `GET /hello`, AWS_PROXY integration with payload format 2.0, `$default`
   stage with auto-deploy; check all three targets answer `hello`;
3. for each round and each connection count (1, then 16), measure the bare server, the Invoke
   API and the gateway route one after the other, each with wrk for `--duration` seconds after a
   `--warmup` at the same concurrency. wrk replays raw requests from a file for all three (the
   same Lua script, so the client's cost is the same): `GET /hello` to the bare server,
   `GET /hello` with `Host: {apiId}.execute-api.localhost:{port}` to the gateway, and Invoke
   requests pre-signed with botocore (SigV4, valid 15 minutes) carrying a payload 2.0 event of the
   gateway's shape, so the function receives the same bytes both ways. Before each timed point,
   `conns` concurrent requests run to completion (twice): an invocation whose client goes away
   when wrk stops loses its environment, and this starts the ones the point needs;
4. optionally (`--perf`), `perf record --call-graph dwarf` on the server during an extra
   gateway run at each connection count, reported as the hottest functions.

Results go to `--out` as results.json and summary.md; the summary is printed.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
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
FUNCTION = "bench-gateway-hello"
TARGET_ADDED_P50_US = 200.0
TARGETS = ("bare", "invoke", "gateway")
LABELS = {"bare": "bare hyper server", "invoke": "Invoke API (function alone)",
          "gateway": "gateway route (GET /hello)"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------------
# Servers


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

    def start(self) -> None:
        cmd = [str(self.binary), "serve", "--data-dir", str(self.data), "--listen", self.host,
               "--gateway", f"127.0.0.1:{self.gateway}",
               "--max-environments", str(self.args.max_environments),
               "--idle-timeout", "3600", "--log-level", self.args.log_level]
        log(f"start nimbus: {' '.join(cmd)}")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_http(self.port, "/_nimbus/health", self.proc, "nimbus")

    def client(self, service: str):
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.url,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 0}, read_timeout=120))


class Floor:
    def __init__(self, binary: Path, logdir: Path):
        self.port = free_port()
        log_file = open(logdir / "floor.log", "wb")
        self.proc = subprocess.Popen([str(binary), f"127.0.0.1:{self.port}"], stdout=log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(self.port, "/hello", self.proc, "the bare server")


# --------------------------------------------------------------------------------------------
# The function and the API


def package(bootstrap: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, bootstrap.read_bytes())
    return buf.getvalue()


def create_function(nimbus: Nimbus, bootstrap: Path, memory: int) -> str:
    lam = nimbus.client("lambda")
    out = lam.create_function(FunctionName=FUNCTION, Runtime="provided.al2023", Role=ROLE,
                              Handler="bootstrap", Code={"ZipFile": package(bootstrap)},
                              MemorySize=memory, Timeout=30)
    for _ in range(200):
        c = lam.get_function_configuration(FunctionName=FUNCTION)
        if c.get("State", "Active") == "Active" and c.get("LastUpdateStatus", "Successful") == "Successful":
            return out["FunctionArn"]
        time.sleep(0.05)
    raise RuntimeError(f"{FUNCTION} never became Active/Successful")


def create_api(nimbus: Nimbus, function_arn: str) -> str:
    apigw = nimbus.client("apigatewayv2")
    api = apigw.create_api(Name="bench-gateway", ProtocolType="HTTP")
    integration = apigw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                           IntegrationUri=function_arn,
                                           PayloadFormatVersion="2.0")
    apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /hello",
                       Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api["ApiId"]


def gateway_event(api_id: str, host: str) -> dict:
    """A payload 2.0 event of the shape the gateway sends for wrk's `GET /hello`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "version": "2.0", "routeKey": "GET /hello", "rawPath": "/hello", "rawQueryString": "",
        "headers": {"host": host},
        "requestContext": {
            "accountId": "000000000000", "apiId": api_id, "domainName": host.split(":")[0],
            "domainPrefix": api_id,
            "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": ""},
            "requestId": "AAAAAAAAAAAAAAA=", "routeKey": "GET /hello", "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }


def sign_invoke(nimbus: Nimbus, payload: dict) -> bytes:
    path = f"/2015-03-31/functions/{FUNCTION}/invocations"
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Host": nimbus.host, "Content-Type": "application/json",
               "X-Amz-Invocation-Type": "RequestResponse"}
    request = AWSRequest(method="POST", url=nimbus.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(nimbus.access_key, nimbus.secret_key), "lambda", REGION).add_auth(request)
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def get(host: str) -> bytes:
    return f"GET /hello HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def send_raw(port: int, raw: bytes) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        line, _, rest = raw.partition(b"\r\n")
        s.sendall(line + b"\r\nConnection: close\r\n" + rest)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, body


def environment_starts(nimbus: Nimbus) -> int:
    """REPORT lines with an Init Duration in the function's log files: environments started."""
    root = nimbus.data / "functions" / "logs" / FUNCTION
    if not root.is_dir():
        return -1
    return sum(f.read_text(errors="replace").count("Init Duration")
               for f in root.iterdir() if f.is_file())


# --------------------------------------------------------------------------------------------
# CPU accounting (as bench/functions)

TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> int:
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return fields[0] + fields[1] + fields[2]


def proc_stat(pid: int) -> tuple[int, int] | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def children_of(pid: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = proc_stat(int(name))
            if s and s[0] == pid:
                n += 1
    return n


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
# wrk


@dataclass
class Point:
    target: str
    conns: int
    round: int
    duration_s: float
    requests: int = 0
    rps: float = 0.0
    p50_us: float = 0.0
    p90_us: float = 0.0
    p99_us: float = 0.0
    max_us: float = 0.0
    mean_us: float = 0.0
    errors: int = 0
    failed: str = ""
    server_cores: float = 0.0
    env_cores: float = 0.0
    wrk_cores: float = 0.0
    other_cores: float = 0.0
    environments: int = 0
    starts: int = 0


def run_wrk(port: int, conns: int, duration: float, request_file: Path) -> tuple[dict | None, str, float]:
    threads = min(conns, 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{max(1, round(duration))}s",
           "--timeout", "10s", "-s", str(HERE.parent / "common" / "replay.lua"), f"http://127.0.0.1:{port}",
           "--", str(request_file), str(threads)]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    wall = time.monotonic() - t0
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRK_RESULT ")), None)
    if out.returncode != 0 or line is None:
        return None, f"wrk exited {out.returncode}: {out.stderr.strip()[:300]}", wall
    return json.loads(line[len("WRK_RESULT "):]), "", wall


def measure(target: str, port: int, server_pid: int, conns: int, rnd: int, duration: float,
            warmup: float, request_file: Path, raw: bytes, nimbus: Nimbus) -> Point:
    point = Point(target, conns, rnd, duration)
    if warmup > 0:
        run_wrk(port, conns, warmup, request_file)
    prime(port, raw, conns)
    starts0 = environment_starts(nimbus)
    busy0, (srv0, env0), wrk0 = busy_ticks(), tree_ticks(server_pid), os.times()
    r, failed, wall = run_wrk(port, conns, duration, request_file)
    busy1, (srv1, env1), wrk1 = busy_ticks(), tree_ticks(server_pid), os.times()
    point.server_cores = (srv1 - srv0) / TICKS / wall
    point.env_cores = max(0.0, (env1 - env0) / TICKS / wall)
    point.wrk_cores = (wrk1.children_user + wrk1.children_system
                       - wrk0.children_user - wrk0.children_system) / wall
    point.other_cores = max(0.0, (busy1 - busy0) / TICKS / wall - point.server_cores
                            - point.env_cores - point.wrk_cores)
    point.environments = children_of(server_pid)
    point.starts = environment_starts(nimbus) - starts0
    if r is None:
        point.failed = failed
        log(f"  round {rnd} c={conns:<2} {target:8} FAILED {failed}")
        return point
    seconds = r["duration_us"] / 1e6
    point.requests = r["requests"]
    point.rps = r["requests"] / seconds if seconds else 0.0
    point.p50_us, point.p90_us, point.p99_us, point.max_us = (
        float(r[k]) for k in ("p50_us", "p90_us", "p99_us", "max_us"))
    point.mean_us = r["mean_us"]
    point.errors = (r["status_errors"] + r["connect_errors"] + r["read_errors"]
                    + r["write_errors"] + r["timeouts"])
    log(f"  round {rnd} c={conns:<2} {target:8} {point.rps:8.0f} req/s  p50 {point.p50_us:6.0f} µs  "
        f"p90 {point.p90_us:6.0f} µs  p99 {point.p99_us:7.0f} µs  cores: server "
        f"{point.server_cores:.2f} env {point.env_cores:.2f} wrk {point.wrk_cores:.2f} other "
        f"{point.other_cores:.2f}  environments {point.environments} (started during the point: "
        f"{point.starts})  errors {point.errors}")
    return point


def perf_profile(server_pid: int, target: str, port: int, conns: int, seconds: float,
                 request_file: Path, out: Path) -> str:
    """`perf record --call-graph dwarf` on the server while wrk drives `target`; summarized by
    profile.py into perf-<target>-c<conns>.md."""
    data = out / f"perf-{target}-c{conns}.data"
    perf = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,16384",
                             "-o", str(data), "-p", str(server_pid), "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    run_wrk(port, conns, seconds - 1, request_file)
    perf.wait(timeout=seconds + 60)
    summary = out / f"perf-{target}-c{conns}.md"
    r = subprocess.run([sys.executable, str(HERE / "profile.py"), str(data)],
                       capture_output=True, text=True, timeout=900)
    summary.write_text(r.stdout + r.stderr)
    log(f"  perf {target} c={conns}: {summary}")
    return str(summary)


def prime(port: int, raw: bytes, conns: int) -> None:
    """`conns` concurrent requests that run to completion, twice: wrk ends with requests in
    flight, and an invocation whose client goes away loses its environment, so this starts
    the environments the next point needs before it is timed."""
    for _ in range(2):
        threads = [threading.Thread(target=send_raw, args=(port, raw)) for _ in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


# --------------------------------------------------------------------------------------------
# Report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(points: list[Point], conns_list: list[int]) -> dict:
    """Per target and connection count: the median over rounds of each figure."""
    out: dict = {}
    for c in conns_list:
        for t in TARGETS:
            ps = [p for p in points if p.target == t and p.conns == c and not p.failed]
            out[f"{t}/c{c}"] = {
                "rounds": len(ps),
                **{k: median([getattr(p, k) for p in ps])
                   for k in ("rps", "p50_us", "p90_us", "p99_us", "mean_us", "server_cores",
                             "env_cores", "wrk_cores", "other_cores")},
                "errors": sum(p.errors for p in ps),
            }
    return out


def report(meta: dict, points: list[Point], conns_list: list[int]) -> tuple[str, list[str], dict]:
    s = summarize(points, conns_list)
    lo, hi = min(conns_list), max(conns_list)
    lines = [f"Gateway benchmark — {meta['date']} — {meta['machine']}",
             f"load average before: {meta['loadavg_before']}, after: {meta['loadavg_after']}; "
             f"run took {meta['elapsed_s']} s; {meta['wrk']}; function {meta['function']}; "
             f"commit {meta['commit']}", ""]
    lines += ["### Every point", "",
              "| round | conns | target | req/s | p50 µs | p90 µs | p99 µs | errors | "
              "CPU cores server/env/wrk/other | environments started |",
              "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for p in points:
        if p.failed:
            lines.append(f"| {p.round} | {p.conns} | {p.target} | failed: {p.failed[:80]} | | | | | | |")
            continue
        lines.append(f"| {p.round} | {p.conns} | {p.target} | {p.rps:,.0f} | {p.p50_us:,.0f} | "
                     f"{p.p90_us:,.0f} | {p.p99_us:,.0f} | {p.errors} | {p.server_cores:.2f}/"
                     f"{p.env_cores:.2f}/{p.wrk_cores:.2f}/{p.other_cores:.2f} | {p.starts} |")
    lines += ["", f"### Median over {meta['rounds']} rounds", "",
              "| target | conns | req/s | p50 µs | p90 µs | p99 µs | errors | CPU µs per request "
              "server/env |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for c in conns_list:
        for t in TARGETS:
            m = s[f"{t}/c{c}"]
            per = (f"{m['server_cores'] * 1e6 / m['rps']:.0f}/{m['env_cores'] * 1e6 / m['rps']:.0f}"
                   if m["rps"] else "—")
            lines.append(f"| {LABELS[t]} | {c} | {m['rps']:,.0f} | {m['p50_us']:,.0f} | "
                         f"{m['p90_us']:,.0f} | {m['p99_us']:,.0f} | {m['errors']} | {per} |")
    g, i, b = s[f"gateway/c{lo}"], s[f"invoke/c{lo}"], s[f"bare/c{lo}"]
    gh, ih, bh = s[f"gateway/c{hi}"], s[f"invoke/c{hi}"], s[f"bare/c{hi}"]
    added = g["p50_us"] - i["p50_us"]
    over_bare = g["p50_us"] - b["p50_us"]
    # Per round too: the difference of points measured seconds apart.
    per_round = []
    for r in range(1, meta["rounds"] + 1):
        gp = next((p for p in points if p.target == "gateway" and p.conns == lo and p.round == r
                   and not p.failed), None)
        ip = next((p for p in points if p.target == "invoke" and p.conns == lo and p.round == r
                   and not p.failed), None)
        if gp and ip:
            per_round.append(gp.p50_us - ip.p50_us)
    figures = {
        "added_p50_us": added, "added_p50_us_per_round": per_round,
        "over_bare_p50_us": over_bare,
        "throughput_ratio_gateway_bare": gh["rps"] / bh["rps"] if bh["rps"] else float("nan"),
        "throughput_ratio_gateway_invoke": gh["rps"] / ih["rps"] if ih["rps"] else float("nan"),
        "throughput_ratio_invoke_bare": ih["rps"] / bh["rps"] if bh["rps"] else float("nan"),
    }
    lines += ["", "### Figures", "",
              f"- gateway added latency, p50(gateway) − p50(Invoke API) at c={lo}: "
              f"{g['p50_us']:.0f} − {i['p50_us']:.0f} = **{added:.0f} µs** "
              f"(per round: {', '.join(f'{x:.0f}' for x in per_round)} µs)",
              f"- p50(gateway) − p50(bare server) at c={lo}: {g['p50_us']:.0f} − {b['p50_us']:.0f} = "
              f"**{over_bare:.0f} µs**",
              f"- throughput at c={hi}: gateway {gh['rps']:,.0f} req/s, Invoke API {ih['rps']:,.0f}, "
              f"bare {bh['rps']:,.0f}; gateway/bare = **{figures['throughput_ratio_gateway_bare']:.3f}** "
              f"(gateway/Invoke {figures['throughput_ratio_gateway_invoke']:.2f}, Invoke/bare "
              f"{figures['throughput_ratio_invoke_bare']:.3f})", ""]
    state = "PASS" if added < TARGET_ADDED_P50_US else "MISS"
    verdicts = [f"{state}  gateway added p50 < {TARGET_ADDED_P50_US:.0f} µs: p50(gateway) "
                f"{g['p50_us']:.0f} µs − p50(Invoke API) {i['p50_us']:.0f} µs = {added:.0f} µs"]
    lines += ["Target:", "", "```", *verdicts, "```"]
    return "\n".join(lines), verdicts, {"medians": s, "figures": figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--nimbus", type=Path, default=ROOT / "target" / "release" / "nimbus")
    parser.add_argument("--floor", type=Path,
                        default=HERE / "floor" / "target" / "release" / "nimbus-bench-gateway-floor")
    parser.add_argument("--bootstrap", type=Path,
                        default=HERE / "handler" / "target" / "release" / "bootstrap")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk point")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of wrk before each point")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of (bare, Invoke, gateway) at each connection count")
    parser.add_argument("--conns", default="1,16")
    parser.add_argument("--memory", type=int, default=1769,
                        help="function memory in MB (1769 MB: one vCPU's CPU weight)")
    parser.add_argument("--max-environments", type=int, default=1024)
    parser.add_argument("--log-level", default="warn")
    parser.add_argument("--perf", action="store_true",
                        help="after the rounds, profile the server with perf during runs of the gateway "
                             "(lowest and highest connection count) and the Invoke API (lowest)")
    parser.add_argument("--perf-seconds", type=float, default=8)
    args = parser.parse_args()
    conns_list = [int(c) for c in args.conns.split(",")]
    lo, hi = min(conns_list), max(conns_list)

    args.out.mkdir(parents=True, exist_ok=True)
    logdir = args.out / "logs"
    logdir.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=args.out))
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}",
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
        "rounds": args.rounds,
        "commit": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                 capture_output=True, text=True).stdout.strip(),
        "wrk": f"wrk -c {{{args.conns}}} -t min(c,2) -d {args.duration:g}s after a "
               f"{args.warmup:g}s warm-up",
        "function": f"provided.al2023, Rust lambda_runtime, {args.memory} MB",
    }
    started = time.time()
    floor = None
    nimbus = Nimbus(args.nimbus, scratch, logdir, args)
    points: list[Point] = []
    profiles = {}
    try:
        floor = Floor(args.floor, logdir)
        nimbus.start()
        arn = create_function(nimbus, args.bootstrap, args.memory)
        api_id = create_api(nimbus, arn)
        gw_host = f"{api_id}.execute-api.localhost:{nimbus.gateway}"
        log(f"function {arn}; API {api_id}: http://{gw_host}/hello")

        requests = {
            "bare": (floor.port, floor.proc.pid, [get(f"127.0.0.1:{floor.port}")]),
            "invoke": (nimbus.port, nimbus.proc.pid,
                       [sign_invoke(nimbus, gateway_event(api_id, gw_host)) for _ in range(16)]),
            "gateway": (nimbus.gateway, nimbus.proc.pid, [get(gw_host)]),
        }
        files = {}
        for t, (port, _, raws) in requests.items():
            files[t] = scratch / f"{t}.requests"
            files[t].write_bytes(b"".join(r + b"\0" for r in raws))
            t0 = time.perf_counter()
            status, body = send_raw(port, raws[0])
            ms = (time.perf_counter() - t0) * 1000
            log(f"  check {t}: HTTP {status} {body[:80]!r} ({ms:.1f} ms)")
            ok = (json.loads(body) == {"statusCode": 200, "body": "hello"} if t == "invoke"
                  else body == b"hello")
            if status != 200 or not ok:
                raise RuntimeError(f"{t}: unexpected answer HTTP {status} {body[:300]!r}")

        for c in conns_list:
            for rnd in range(1, args.rounds + 1):
                order = TARGETS if rnd % 2 else tuple(reversed(TARGETS))
                for t in order:
                    port, pid, _ = requests[t]
                    points.append(measure(t, port, pid, c, rnd, args.duration, args.warmup,
                                          files[t], requests[t][2][0], nimbus))
        meta["environment_starts"] = environment_starts(nimbus)
        log(f"  environment starts (REPORT lines with Init Duration): {meta['environment_starts']}")
        if args.perf:
            log("== perf on the server during gateway runs")
            for t, c in (("gateway", lo), ("invoke", lo), ("gateway", hi)):
                port, pid, raws = requests[t]
                prime(port, raws[0], c)
                profiles[f"{t}/c{c}"] = perf_profile(pid, t, port, c, args.perf_seconds,
                                                     files[t], args.out)
    finally:
        stop(nimbus.proc)
        stop(floor.proc if floor else None)
        shutil.rmtree(scratch, ignore_errors=True)
    meta["elapsed_s"] = round(time.time() - started, 1)
    meta["loadavg_after"] = open("/proc/loadavg").read().split()[:3]

    summary, verdicts, derived = report(meta, points, conns_list)
    (args.out / "results.json").write_text(json.dumps({
        "meta": meta, "points": [p.__dict__ for p in points], **derived,
        "verdicts": verdicts, "perf": profiles,
    }, indent=2, default=str))
    (args.out / "summary.md").write_text(summary + "\n")
    print()
    print(summary)
    print()
    print(f"results: {args.out} (run took {meta['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
