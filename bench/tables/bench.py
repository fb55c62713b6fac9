"""Table benchmark: PutItem, GetItem and Query throughput and latency of Nimbus against dynalite,
moto and a bare hyper server (the machine's HTTP floor), driven by wrk replaying pre-signed
requests. Query pages of a global secondary index (QueryIndex), TransactWriteItems, PutItem into
a table with a stream (PutItemStream) and pages of stream records (GetRecords, DynamoDB Streams)
are measured too when `--ops` names them.

Run through `bench/tables/run.sh`, which installs the tools this script expects. Every server is
started here, seeded, checked for correct answers, measured and stopped; results go to
`--out` as results.json and summary.md, and the summary is printed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REGION = "us-east-1"
TARGET_PREFIX = "DynamoDB_20120810."

PUT_TABLE = "bench_put"
GET_TABLE = "bench_items"
QUERY_TABLE = "bench_query"
QUERY_PARTITION = "p0"
QUERY_PAGE = 100
INDEXED_TABLE = "bench_indexed"
INDEX = "byGroup"
GROUP = "g0"
TX_TABLE = "bench_tx"
STREAM_TABLE = "bench_stream"
STREAMS_PREFIX = "DynamoDBStreams_20120810."
# Distinct GetRecords requests: iterators at this many different positions of the stream.
STREAM_ITERATORS = 200
# Per target: the shard iterators GetRecords replays (made by seed_for, used by sign_requests).
ITERATORS: dict[str, list[str]] = {}

# QueryIndex: Query pages of a global secondary index (one index partition, as Query reads one
# table partition). TransactWriteItems: two Puts in one transaction. PutItemStream: PutItem into
# a table whose stream keeps new and old images. GetRecords: pages of 100 stream records.
OPS = ("PutItem", "GetItem", "Query", "QueryIndex", "TransactWriteItems", "PutItemStream",
       "GetRecords")
# What a run measures unless `--ops` says otherwise.
DEFAULT_OPS = ("PutItem", "GetItem", "Query")
# Payload characters: a 170-character string makes each item ~200 bytes by DynamoDB's size rules
# (attribute names plus values).
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payload(i: int, length: int = 170) -> str:
    start = i % len(ALPHABET)
    text = (ALPHABET * 4)[start : start + len(ALPHABET)]
    return (text * (length // len(text) + 1))[:length]


def get_item(i: int) -> dict:
    return {
        "pk": {"S": f"item{i:08d}"},
        "payload": {"S": payload(i)},
        "n": {"N": str(i)},
        "flag": {"BOOL": i % 2 == 0},
    }


def put_item(i: int) -> dict:
    item = get_item(i)
    item["pk"] = {"S": f"put{i:08d}"}
    return item


def query_item(i: int) -> dict:
    return {
        "pk": {"S": QUERY_PARTITION},
        "sk": {"S": f"s{i:08d}"},
        "payload": {"S": payload(i, 165)},
        "n": {"N": str(i)},
    }


def indexed_item(i: int) -> dict:
    return {
        "pk": {"S": f"i{i:08d}"},
        "grp": {"S": GROUP},
        "sk": {"S": f"s{i:08d}"},
        "payload": {"S": payload(i, 160)},
    }


def tx_items(i: int) -> list[dict]:
    return [{"pk": {"S": f"tx{i:08d}{side}"}, "payload": {"S": payload(i)}} for side in "ab"]


def item_size(item: dict) -> int:
    """DynamoDB's item size for the attribute types used here."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        (kind, v), = value.items()
        if kind == "S":
            size += len(v.encode())
        elif kind == "N":
            digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
            size += (digits + 1) // 2 + 1
        elif kind == "BOOL":
            size += 1
    return size


# --------------------------------------------------------------------------------------------
# Targets


@dataclass
class Target:
    name: str
    label: str
    note: str
    port: int = 0
    access_key: str = "AKIDBENCHMARK0000000"
    secret_key: str = "benchmark-secret-key"
    is_dynamodb: bool = True
    proc: subprocess.Popen | None = None
    workdir: Path | None = None
    log_file: object = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/"

    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Anything to do before the process starts."""

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, logdir: Path, scratch: Path) -> None:
        self.port = free_port()
        self.workdir = scratch / self.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        self.log_file = open(logdir / f"{self.name}.log", "wb")
        cmd = self.command()
        log(f"start {self.name}: {' '.join(cmd)}")
        self.proc = subprocess.Popen(
            cmd, stdout=self.log_file, stderr=subprocess.STDOUT, cwd=self.workdir,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see its log")
            if self.ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def client(self):
        session = botocore.session.get_session()
        return session.create_client(
            "dynamodb", region_name=REGION, endpoint_url=self.url.rstrip("/"),
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 10, "mode": "standard"},
                          read_timeout=120, max_pool_connections=16),
        )


class Nimbus(Target):
    def __init__(self, binary: Path):
        super().__init__("nimbus", "Nimbus",
                         "release build, embedded store, durable writes (journal + fsync), SigV4 verified")
        self.binary = binary

    def prepare(self) -> None:
        out = subprocess.run(
            [str(self.binary), "credentials", "--json", "--data-dir", str(self.workdir / "data")],
            check=True, capture_output=True, text=True,
        ).stdout
        pair = json.loads(out)
        self.access_key = pair["access_key_id"]
        self.secret_key = pair["secret_access_key"]

    def command(self) -> list[str]:
        return [str(self.binary), "serve", "--data-dir", str(self.workdir / "data"),
                "--listen", self.host, "--gateway", f"127.0.0.1:{free_port()}"]

    def ready(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/_nimbus/health")
            return conn.getresponse().status == 200
        except OSError:
            return False


class Dynalite(Target):
    def __init__(self, on_disk: bool):
        if on_disk:
            super().__init__("dynalite-disk", "dynalite (disk)",
                             "dynalite 4.0.0 with --path (LevelDB on disk, no fsync per write); "
                             "checks that a signature is present, does not verify it")
        else:
            super().__init__("dynalite-mem", "dynalite (memory)",
                             "dynalite 4.0.0 without --path (in memory); "
                             "checks that a signature is present, does not verify it")
        self.on_disk = on_disk

    def command(self) -> list[str]:
        cmd = ["node", str(HERE / "node_modules" / "dynalite" / "cli.js"),
               "--host", "127.0.0.1", "--port", str(self.port),
               "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
        if self.on_disk:
            cmd += ["--path", str(self.workdir / "data")]
        return cmd


class Moto(Target):
    def __init__(self):
        super().__init__("moto", "moto", "moto 5.2.5 server (Flask/Werkzeug, in memory, "
                         "does not verify signatures)")

    def command(self) -> list[str]:
        return [str(HERE / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]


class Floor(Target):
    def __init__(self, binary: Path):
        super().__init__("floor", "floor (bare hyper)",
                         "hyper 1 server that reads each request and answers with a fixed 313-byte "
                         "GetItem-shaped body, for every operation (so for Query it is the floor of "
                         "the request side only)")
        self.binary = binary
        self.is_dynamodb = False

    def command(self) -> list[str]:
        return [str(self.binary), self.host]


# --------------------------------------------------------------------------------------------
# Requests


def op_body(op: str, i: int, rng: random.Random) -> dict:
    if op == "PutItem":
        return {"TableName": PUT_TABLE, "Item": put_item(i)}
    if op == "GetItem":
        return {"TableName": GET_TABLE, "Key": {"pk": get_item(i)["pk"]}}
    if op == "Query":
        return {
            "TableName": QUERY_TABLE,
            "KeyConditionExpression": "pk = :p AND sk >= :s",
            "ExpressionAttributeValues": {":p": {"S": QUERY_PARTITION},
                                          ":s": {"S": f"s{i:08d}"}},
            "Limit": QUERY_PAGE,
        }
    if op == "QueryIndex":
        return {
            "TableName": INDEXED_TABLE,
            "IndexName": INDEX,
            "KeyConditionExpression": "grp = :g AND sk >= :s",
            "ExpressionAttributeValues": {":g": {"S": GROUP}, ":s": {"S": f"s{i:08d}"}},
            "Limit": QUERY_PAGE,
        }
    if op == "PutItemStream":
        return {"TableName": STREAM_TABLE, "Item": put_item(i)}
    if op == "TransactWriteItems":
        return {"TransactItems": [{"Put": {"TableName": TX_TABLE, "Item": item}}
                                  for item in tx_items(i)]}
    raise ValueError(op)


@dataclass
class Signed:
    headers: list[tuple[str, str]]
    body: bytes

    def raw(self) -> bytes:
        head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers) + "\r\n"
        return head.encode() + self.body


def sign_requests(target: Target, op: str, indices: list[int]) -> list[Signed]:
    auth = SigV4Auth(Credentials(target.access_key, target.secret_key), "dynamodb", REGION)
    rng = random.Random(7)
    out = []
    operation = {"QueryIndex": "Query", "PutItemStream": "PutItem"}.get(op, op)
    prefix = STREAMS_PREFIX if op == "GetRecords" else TARGET_PREFIX
    for i in indices:
        if op == "GetRecords":
            # The floor answers anything: it gets a stand-in iterator.
            iterators = ITERATORS.get(target.name) or ["none"]
            body_json = {"ShardIterator": iterators[i % len(iterators)], "Limit": QUERY_PAGE}
        else:
            body_json = op_body(op, i, rng)
        body = json.dumps(body_json, separators=(",", ":")).encode()
        request = AWSRequest(method="POST", url=target.url, data=body, headers={
            "Host": target.host,
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": prefix + operation,
        })
        auth.add_auth(request)
        headers = [(k, v) for k, v in request.headers.items()]
        headers.append(("Content-Length", str(len(body))))
        out.append(Signed(headers, body))
    return out


def send(target: Target, signed: Signed) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)
    conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
    for k, v in signed.headers:
        conn.putheader(k, v)
    conn.endheaders(signed.body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


# --------------------------------------------------------------------------------------------
# Tables: creation, seeding, checks


def create_tables(client) -> None:
    specs = [
        (PUT_TABLE, [("pk", "HASH")]),
        (GET_TABLE, [("pk", "HASH")]),
        (QUERY_TABLE, [("pk", "HASH"), ("sk", "RANGE")]),
        (TX_TABLE, [("pk", "HASH")]),
    ]
    for name, keys in specs:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            BillingMode="PAY_PER_REQUEST",
        )
    client.create_table(
        TableName=INDEXED_TABLE,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"}
                              for k in ("pk", "grp", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )
    specs.append((INDEXED_TABLE, []))
    try:
        client.create_table(
            TableName=STREAM_TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        specs.append((STREAM_TABLE, []))
    except Exception as e:  # noqa: BLE001 - the stream operations' checks then fail, reported
        log(f"  no table with a stream: {e}")
    for name, _ in specs:
        for _ in range(600):
            status = client.describe_table(TableName=name)["Table"]["TableStatus"]
            if status == "ACTIVE":
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"table {name} never became ACTIVE")


def seed(client, table: str, items: list[dict]) -> None:
    batches = [items[i : i + 25] for i in range(0, len(items), 25)]

    def write(batch):
        pending = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        for attempt in range(50):
            unprocessed = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if not unprocessed:
                return
            pending = unprocessed
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"seeding {table}: items still unprocessed after retries")

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, batches))


def check(target: Target, op: str, signed: list[Signed], indices: list[int], client) -> None:
    """Sends a few of the pre-signed requests and checks the answers are right."""
    picks = sorted({0, 1, len(signed) // 2, len(signed) - 1})
    for p in picks:
        status, data = send(target, signed[p])
        if status != 200:
            raise RuntimeError(f"{target.name} {op}: HTTP {status}: {data[:300]!r}")
        if not target.is_dynamodb:
            continue
        answer = json.loads(data)
        i = indices[p]
        if op == "GetItem":
            if answer.get("Item") != get_item(i):
                raise RuntimeError(f"{target.name} GetItem item{i:08d}: wrong item {data[:300]!r}")
        elif op == "Query":
            items = answer.get("Items", [])
            if answer.get("Count") != QUERY_PAGE or len(items) != QUERY_PAGE:
                raise RuntimeError(f"{target.name} Query: {len(items)} items, not {QUERY_PAGE}")
            if items[0] != query_item(i) or "LastEvaluatedKey" not in answer:
                raise RuntimeError(f"{target.name} Query: wrong first item or no LastEvaluatedKey")
        elif op == "PutItem":
            got = client.get_item(TableName=PUT_TABLE, Key={"pk": put_item(i)["pk"]},
                                  ConsistentRead=True)
            if got.get("Item") != put_item(i):
                raise RuntimeError(f"{target.name} PutItem put{i:08d}: not readable afterwards")
        elif op == "QueryIndex":
            items = answer.get("Items", [])
            if len(items) != QUERY_PAGE or items[0] != indexed_item(i):
                raise RuntimeError(f"{target.name} QueryIndex: {len(items)} items or wrong first")
        elif op == "PutItemStream":
            got = client.get_item(TableName=STREAM_TABLE, Key={"pk": put_item(i)["pk"]},
                                  ConsistentRead=True)
            if got.get("Item") != put_item(i):
                raise RuntimeError(f"{target.name} PutItemStream put{i:08d}: not readable")
        elif op == "GetRecords":
            records = answer.get("Records", [])
            if len(records) != QUERY_PAGE or any("Keys" not in r["dynamodb"] for r in records):
                raise RuntimeError(f"{target.name} GetRecords: {len(records)} records "
                                   f"({data[:200]!r})")
        elif op == "TransactWriteItems":
            for item in tx_items(i):
                got = client.get_item(TableName=TX_TABLE, Key={"pk": item["pk"]},
                                      ConsistentRead=True)
                if got.get("Item") != item:
                    raise RuntimeError(f"{target.name} TransactWriteItems: {item['pk']} missing")


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class Point:
    target: str
    op: str
    conns: int
    threads: int
    duration_s: float
    requests: int = 0
    ops_per_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    error_sample: str = ""
    failed: str = ""
    # CPU used during the point, in cores: by the server, by wrk, and by everything else on the
    # machine (other work that competed with the measurement).
    server_cores: float = 0.0
    wrk_cores: float = 0.0
    other_cores: float = 0.0
    # With --repeat: ops/s of every round; the point itself is the median round.
    rounds: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts

    @property
    def cpu_us_per_op(self) -> float:
        """Server CPU time per request: steadier than ops/s when other work shares the machine."""
        return self.server_cores * 1e6 / self.ops_per_s if self.ops_per_s else 0.0


TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> int:
    """CPU ticks the whole machine spent running processes (user, nice, system); interrupt time
    is left out, since loopback networking for the benchmark itself lands there."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return fields[0] + fields[1] + fields[2]


def process_ticks(pid: int) -> int:
    """CPU ticks of one process (all its threads) and its reaped children."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime


def run_wrk(target: Target, op: str, conns: int, duration: int, request_file: Path,
            signed: list[Signed]) -> Point:
    threads = min(conns, 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", "10s",
           "-s", str(HERE.parent / "common" / "replay.lua"), target.url, "--", str(request_file), str(threads)]
    point = Point(target.name, op, conns, threads, duration)
    pid = target.proc.pid if target.proc else 0
    busy0, server0, wrk0 = busy_ticks(), process_ticks(pid), os.times()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    wall = time.monotonic() - t0
    busy1, server1, wrk1 = busy_ticks(), process_ticks(pid), os.times()
    point.server_cores = (server1 - server0) / TICKS / wall
    point.wrk_cores = (wrk1.children_user + wrk1.children_system
                       - wrk0.children_user - wrk0.children_system) / wall
    point.other_cores = max(0.0, (busy1 - busy0) / TICKS / wall
                            - point.server_cores - point.wrk_cores)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRK_RESULT ")), None)
    if out.returncode != 0 or line is None:
        point.failed = f"wrk exited {out.returncode}: {out.stderr.strip()[:300]}"
        log(f"  {target.name} {op} c={conns}: FAILED {point.failed}")
        return point
    r = json.loads(line[len("WRK_RESULT "):])
    seconds = r["duration_us"] / 1e6
    point.requests = r["requests"]
    point.ops_per_s = r["requests"] / seconds if seconds else 0.0
    point.p50_ms, point.p90_ms, point.p99_ms, point.max_ms = (
        r[k] / 1000 for k in ("p50_us", "p90_us", "p99_us", "max_us"))
    point.non_2xx = r["status_errors"]
    point.socket_errors = r["connect_errors"] + r["read_errors"] + r["write_errors"]
    point.timeouts = r["timeouts"]
    if point.errors:
        # Replay one request by hand so the report shows what the errors were.
        try:
            status, data = send(target, signed[0])
            point.error_sample = f"HTTP {status}: {data[:200].decode(errors='replace')}"
        except OSError as e:
            point.error_sample = f"{type(e).__name__}: {e}"
    err = f"  ERRORS non-2xx={point.non_2xx} socket={point.socket_errors} " \
          f"timeouts={point.timeouts} {point.error_sample}" if point.errors else ""
    log(f"  {target.name:14} {op:8} c={conns:<3} {point.ops_per_s:10.0f} ops/s  "
        f"p50 {point.p50_ms:8.3f} ms  p99 {point.p99_ms:8.3f} ms  cpu server "
        f"{point.server_cores:.2f} wrk {point.wrk_cores:.2f} other {point.other_cores:.2f}{err}")
    return point


# --------------------------------------------------------------------------------------------
# The run: every target up at once, each point measured target after target


def op_indices(op: str, args) -> list[int]:
    n = args.requests
    if op in ("PutItem", "TransactWriteItems", "PutItemStream"):
        return list(range(n))
    if op == "GetRecords":
        return [i % STREAM_ITERATORS for i in range(n)]
    if op == "GetItem":
        indices = [i % args.items for i in range(n)]
        random.Random(1).shuffle(indices)
        return indices
    span = args.query_items - QUERY_PAGE + 1
    return [(i * 7919) % span for i in range(n)]


def seed_for(op: str, target: Target, client, args) -> None:
    if op == "GetItem":
        t0 = time.time()
        seed(client, GET_TABLE, [get_item(i) for i in range(args.items)])
        log(f"  {target.name}: seeded {args.items} items into {GET_TABLE} "
            f"in {time.time() - t0:.1f} s")
    elif op == "QueryIndex":
        t0 = time.time()
        seed(client, INDEXED_TABLE, [indexed_item(i) for i in range(args.query_items)])
        log(f"  {target.name}: seeded {args.query_items} items into index {INDEX} of "
            f"{INDEXED_TABLE} in {time.time() - t0:.1f} s")
    elif op == "GetRecords":
        t0 = time.time()
        items = [query_item(i) for i in range(args.query_items)]
        for item in items:
            item["pk"] = {"S": item["sk"]["S"]}
        seed(client, STREAM_TABLE, items)
        ITERATORS[target.name] = stream_iterators(target, client)
        log(f"  {target.name}: {args.query_items} writes to {STREAM_TABLE}, "
            f"{len(ITERATORS[target.name])} iterators in {time.time() - t0:.1f} s")
    elif op == "Query":
        t0 = time.time()
        seed(client, QUERY_TABLE, [query_item(i) for i in range(args.query_items)])
        log(f"  {target.name}: seeded {args.query_items} items into partition "
            f"{QUERY_PARTITION} of {QUERY_TABLE} in {time.time() - t0:.1f} s")


def stream_iterators(target: Target, client) -> list[str]:
    """Shard iterators at STREAM_ITERATORS different records of the stream table, each with at
    least a page of records after it."""
    session = botocore.session.get_session()
    streams = session.create_client(
        "dynamodbstreams", region_name=REGION, endpoint_url=target.url.rstrip("/"),
        aws_access_key_id=target.access_key, aws_secret_access_key=target.secret_key)
    arn = client.describe_table(TableName=STREAM_TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    numbers = []
    while it:
        page = streams.get_records(ShardIterator=it, Limit=1000)
        numbers += [r["dynamodb"]["SequenceNumber"] for r in page["Records"]]
        if not page["Records"]:
            break
        it = page.get("NextShardIterator")
    starts = numbers[: max(1, len(numbers) - QUERY_PAGE)]
    step = max(1, len(starts) // STREAM_ITERATORS)
    return [streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="AT_SEQUENCE_NUMBER",
                                       SequenceNumber=n)["ShardIterator"]
            for n in starts[::step][:STREAM_ITERATORS]]


def run_all(targets: list[Target], args, logdir: Path, scratch: Path) -> list[Point]:
    """Starts every target, then for each operation seeds, signs and checks on each, and measures
    each concurrency on one target after another, so that background load on the machine falls
    on all of them alike. Signatures are made per operation, well within their 15 minutes."""
    points: list[Point] = []
    live: list[tuple[Target, object]] = []

    def settings(t: Target) -> tuple[int, list[int]]:
        if t.name == "moto":
            return args.moto_duration, args.moto_conns
        return args.duration, args.conns

    for t in targets:
        duration, conns_list = settings(t)
        try:
            t.start(logdir, scratch)
            client = t.client() if t.is_dynamodb else None
            if client:
                create_tables(client)
            live.append((t, client))
        except Exception as e:  # noqa: BLE001 - reported in the results, the run goes on
            log(f"{t.name}: could not start: {e}")
            t.stop()
            for op in args.ops:
                for c in conns_list:
                    points.append(Point(t.name, op, c, min(c, 2), duration, failed=str(e)))

    for op in args.ops:
        log(f"== {op}")
        indices = op_indices(op, args)
        ready: list[tuple[Target, Path, list[Signed]]] = []
        for t, client in live:
            duration, conns_list = settings(t)
            try:
                if client:
                    seed_for(op, t, client, args)
                signed = sign_requests(t, op, indices)
                request_file = scratch / f"{t.name}-{op}.requests"
                with open(request_file, "wb") as f:
                    for s in signed:
                        f.write(s.raw() + b"\0")
                check(t, op, signed, indices, client)
                ready.append((t, request_file, signed))
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                log(f"  {t.name} {op}: CHECK FAILED: {e}")
                for c in conns_list:
                    points.append(Point(t.name, op, c, min(c, 2), duration,
                                        failed=f"check failed: {e}"))
        log(f"  {len(ready)} targets answer {op} correctly; measuring")
        for c in sorted(set(args.conns) | set(args.moto_conns)):
            # Rounds go target after target, so a burst of other work on the machine falls on
            # one round of each rather than on every round of one.
            rounds: dict[str, list[Point]] = {}
            for _ in range(args.repeat):
                for t, request_file, signed in ready:
                    duration, conns_list = settings(t)
                    if c in conns_list:
                        rounds.setdefault(t.name, []).append(
                            run_wrk(t, op, c, duration, request_file, signed))
            for measured in rounds.values():
                points.append(median_round(measured))
        for _, request_file, _ in ready:
            request_file.unlink()
    return points


def median_round(measured: list[Point]) -> Point:
    """The round with the median throughput (a failed round, if any, stands for the point)."""
    failed = [p for p in measured if p.failed or p.errors]
    if failed or len(measured) == 1:
        return (failed or measured)[0]
    ordered = sorted(measured, key=lambda p: p.ops_per_s)
    point = ordered[len(ordered) // 2]
    point.rounds = [p.ops_per_s for p in measured]
    return point


# --------------------------------------------------------------------------------------------
# Report


def fmt_ops(p: Point | None) -> str:
    if p is None:
        return "—"
    if p.failed:
        return "failed"
    return f"{p.ops_per_s:,.0f}"


def ratio(a: Point | None, b: Point | None) -> str:
    if not a or not b or a.failed or b.failed or not b.ops_per_s:
        return "—"
    return f"{a.ops_per_s / b.ops_per_s:.2f}×"


def best_dynalite(find, op: str, c: int) -> Point | None:
    options = [p for p in (find("dynalite-mem", op, c), find("dynalite-disk", op, c))
               if p and not p.failed]
    return max(options, key=lambda p: p.ops_per_s) if options else None


def report(points: list[Point], targets: list[Target], meta: dict) -> tuple[str, list[str]]:
    def find(name, op, c):
        return next((p for p in points if p.target == name and p.op == op and p.conns == c), None)

    lines = []
    lines.append(f"Table benchmark — {meta['date']} — {meta['machine']}")
    lines.append(f"wrk {meta['wrk_args']}; {meta['requests']} distinct pre-signed requests per "
                 f"operation and target; ~{meta['item_bytes']}-byte items; load before: "
                 f"{meta['loadavg_before']}")
    lines.append("")
    conns_all = sorted({p.conns for p in points})
    for op in (op for op in OPS if any(p.op == op for p in points)):
        detail = {
            "Query": f" (pages of {QUERY_PAGE} items)",
            "QueryIndex": f" (pages of {QUERY_PAGE} items of a global secondary index)",
            "TransactWriteItems": " (two Puts per transaction)",
            "PutItemStream": " (into a table with a NEW_AND_OLD_IMAGES stream)",
            "GetRecords": f" (pages of {QUERY_PAGE} stream records)",
        }.get(op, "")
        lines.append(f"### {op}{detail}")
        lines.append("")
        lines.append("| conns | target | ops/s | p50 ms | p99 ms | errors | server CPU µs/op | "
                     "CPU cores server/wrk/other |")
        lines.append("| ---: | --- | ---: | ---: | ---: | --- | ---: | --- |")
        for c in conns_all:
            for t in targets:
                p = find(t.name, op, c)
                if p is None:
                    continue
                if p.failed:
                    lines.append(f"| {c} | {t.label} | failed | | | {p.failed[:120]} | | |")
                    continue
                errs = "0" if not p.errors else (
                    f"**{p.errors}** (non-2xx {p.non_2xx}, socket {p.socket_errors}, "
                    f"timeouts {p.timeouts})")
                lines.append(f"| {c} | {t.label} | {fmt_ops(p)} | {p.p50_ms:.2f} | "
                             f"{p.p99_ms:.2f} | {errs} | {p.cpu_us_per_op:.0f} | "
                             f"{p.server_cores:.2f}/{p.wrk_cores:.2f}/"
                             f"{p.other_cores:.2f} |")
        lines.append("")
        lines.append("| conns | Nimbus/dynalite (mem) | Nimbus/dynalite (disk) | Nimbus/moto | "
                     "Nimbus/floor |")
        lines.append("| ---: | ---: | ---: | ---: | ---: |")
        for c in conns_all:
            nim = find("nimbus", op, c)
            lines.append(f"| {c} | {ratio(nim, find('dynalite-mem', op, c))} | "
                         f"{ratio(nim, find('dynalite-disk', op, c))} | "
                         f"{ratio(nim, find('moto', op, c))} | {ratio(nim, find('floor', op, c))} |")
        lines.append("")

    verdicts = []

    def verdict(text, ok, detail):
        state = "—" if ok is None else ("PASS" if ok else "MISS")
        verdicts.append(f"{state:4}  {text}: {detail}")

    nim_get = find("nimbus", "GetItem", 16)
    nim_put = find("nimbus", "PutItem", 16)
    floor_get = find("floor", "GetItem", 16)
    dyn_get = best_dynalite(find, "GetItem", 16)
    dyn_put = best_dynalite(find, "PutItem", 16)

    def usable(p):
        return p is not None and not p.failed and not p.errors

    if usable(nim_get) and usable(floor_get):
        r = nim_get.ops_per_s / floor_get.ops_per_s
        verdict("GetItem @16 ≥ 0.5× floor", r >= 0.5,
                f"{nim_get.ops_per_s:,.0f} vs {floor_get.ops_per_s:,.0f} ops/s = {r:.2f}×")
    else:
        verdict("GetItem @16 ≥ 0.5× floor", None, "not measured cleanly")
    if usable(nim_get) and dyn_get:
        r = nim_get.ops_per_s / dyn_get.ops_per_s
        verdict("GetItem @16 ≥ 3× dynalite", r >= 3,
                f"{nim_get.ops_per_s:,.0f} vs {dyn_get.ops_per_s:,.0f} ops/s "
                f"({dyn_get.target}, the faster mode) = {r:.2f}×")
    else:
        verdict("GetItem @16 ≥ 3× dynalite", None, "not measured cleanly")
    if usable(nim_put) and dyn_put:
        r = nim_put.ops_per_s / dyn_put.ops_per_s
        verdict("PutItem @16 ≥ 3× dynalite", r >= 3,
                f"{nim_put.ops_per_s:,.0f} vs {dyn_put.ops_per_s:,.0f} ops/s "
                f"({dyn_put.target}, the faster mode) = {r:.2f}×")
    else:
        verdict("PutItem @16 ≥ 3× dynalite", None, "not measured cleanly")
    if usable(nim_get):
        verdict("GetItem @16 p99 < 2 ms", nim_get.p99_ms < 2.0, f"p99 {nim_get.p99_ms:.2f} ms")
    else:
        verdict("GetItem @16 p99 < 2 ms", None, "not measured cleanly")

    lines.append("Targets (at 16 connections; informational):")
    lines.append("")
    lines.append("```")
    lines.extend(verdicts)
    lines.append("```")
    lines.append("")
    lines.append("Targets measured:")
    lines.append("")
    for t in targets:
        lines.append(f"- {t.label}: {t.note}")
    return "\n".join(lines), verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--nimbus", type=Path, default=ROOT / "target" / "release" / "nimbus")
    parser.add_argument("--floor", type=Path,
                        default=HERE / "floor" / "target" / "release" / "nimbus-bench-floor")
    parser.add_argument("--targets", default="nimbus,dynalite-mem,dynalite-disk,moto,floor")
    parser.add_argument("--duration", type=int, default=8, help="seconds per point")
    parser.add_argument("--moto-duration", type=int, default=5, help="seconds per moto point")
    parser.add_argument("--conns", default="1,16,64")
    parser.add_argument("--ops", default=",".join(DEFAULT_OPS),
                        help="operations to measure, e.g. GetItem (for profiling one of them)")
    parser.add_argument("--moto-conns", default="1,16,64")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds per point, target after target; the median round is kept")
    parser.add_argument("--requests", type=int, default=10_000,
                        help="distinct pre-signed requests per operation")
    parser.add_argument("--items", type=int, default=10_000, help="items seeded for GetItem")
    parser.add_argument("--query-items", type=int, default=1_000,
                        help="items seeded in the one Query partition")
    args = parser.parse_args()
    args.conns = [int(c) for c in args.conns.split(",")]
    args.moto_conns = [int(c) for c in args.moto_conns.split(",")]
    args.ops = [op for op in OPS if op in args.ops.split(",")]

    makers = {
        "nimbus": lambda: Nimbus(args.nimbus),
        "dynalite-mem": lambda: Dynalite(on_disk=False),
        "dynalite-disk": lambda: Dynalite(on_disk=True),
        "moto": Moto,
        "floor": lambda: Floor(args.floor),
    }
    targets = [makers[name]() for name in args.targets.split(",")]

    args.out.mkdir(parents=True, exist_ok=True)
    logdir = args.out / "logs"
    logdir.mkdir(exist_ok=True)
    # Data directories live on the same disk as the repository (not a tmpfs), so durable writes
    # pay for a real fsync.
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=args.out))
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}",
        "wrk_args": f"-c {{{','.join(map(str, args.conns))}}} -t min(c,2) -d {args.duration}s "
                    f"(moto: -c {{{','.join(map(str, args.moto_conns))}}} -d {args.moto_duration}s)"
                    + (f", median of {args.repeat} rounds" if args.repeat > 1 else ""),
        "requests": args.requests,
        "item_bytes": item_size(get_item(1)),
        "query_item_bytes": item_size(query_item(1)),
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
    }
    started = time.time()
    try:
        points = run_all(targets, args, logdir, scratch)
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    meta["elapsed_s"] = round(time.time() - started, 1)
    meta["loadavg_after"] = open("/proc/loadavg").read().split()[:3]

    summary, verdicts = report(points, targets, meta)
    (args.out / "results.json").write_text(json.dumps({
        "meta": meta,
        "targets": [{"name": t.name, "label": t.label, "note": t.note} for t in targets],
        "points": [{**p.__dict__, "errors": p.errors, "cpu_us_per_op": p.cpu_us_per_op}
                   for p in points],
        "verdicts": verdicts,
    }, indent=2))
    (args.out / "summary.md").write_text(summary + "\n")
    print()
    print(summary)
    print()
    print(f"results: {args.out} (run took {meta['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
