"""Latency of one durable journal append on this disk, by strategy.

Each strategy appends N records of --record bytes to a fresh file and makes each one durable
before the next, the way one group commit does; strategies run interleaved, round after round,
so background load on the disk falls on all of them alike. Prints p50/p90/p99 per strategy.

    python3 bench/tables/sync_latency.py [--dir DIR] [--rounds 5] [-n 200] [--record 4096]

Strategies:
  append+fsync          O_APPEND growth, fsync (file size and blocks change: metadata commit)
  sparse+fsync          fjall's journal: set_len (a sparse file), writes into the hole, fsync
  sparse+fdatasync      the same with fdatasync (blocks are still allocated: metadata commit)
  fallocated+fsync      set_len, then fallocate over the whole journal (blocks reserved as
                        unwritten extents; writing converts them), fsync
  fallocated+fdatasync  the same with fdatasync
  zeroed+fdatasync      a journal written with zeros ahead of time, overwritten, fdatasync
                        (no allocation, no size change: only the data and a cache flush)

--dir must be on the disk under test (default: a temporary folder beside this script).
"""

import argparse
import os
import statistics
import tempfile
import time

PREALLOC = 8 << 20


def strategy(name: str, path: str):
    flags = os.O_CREAT | os.O_TRUNC | os.O_WRONLY
    if name == "append+fsync":
        return os.open(path, flags | os.O_APPEND), os.fsync
    fd = os.open(path, flags)
    if name.startswith("sparse"):
        os.ftruncate(fd, PREALLOC)
    elif name.startswith("fallocated"):
        os.ftruncate(fd, PREALLOC)
        os.posix_fallocate(fd, 0, PREALLOC)
        os.fsync(fd)
    else:
        chunk = b"\0" * (1 << 20)
        for _ in range(PREALLOC >> 20):
            os.write(fd, chunk)
        os.fsync(fd)
        os.lseek(fd, 0, os.SEEK_SET)
    return fd, os.fdatasync if name.endswith("fdatasync") else os.fsync


def measure(name: str, folder: str, n: int, record: bytes) -> list[float]:
    path = os.path.join(folder, name.replace("+", "_"))
    fd, sync = strategy(name, path)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(fd, record)
            sync(fd)
            times.append((time.perf_counter() - t0) * 1e3)
    finally:
        os.close(fd)
        os.unlink(path)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", type=int, default=200, help="appends per strategy and round")
    parser.add_argument("--record", type=int, default=4096,
                        help="bytes per append (16 PutItems of ~200 bytes with framing ≈ 4 KiB)")
    args = parser.parse_args()
    names = ["append+fsync", "sparse+fsync", "sparse+fdatasync", "fallocated+fsync",
             "fallocated+fdatasync", "zeroed+fdatasync"]
    record = b"x" * args.record
    results: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="sync-latency-") as folder:
        for _ in range(args.rounds):
            for name in names:
                results[name] += measure(name, folder, args.n, record)
    print(f"{args.rounds} rounds x {args.n} appends of {args.record} bytes; ms per durable append")
    for name in names:
        t = sorted(results[name])
        q = lambda p: t[min(len(t) - 1, int(len(t) * p))]  # noqa: E731
        print(f"  {name:18} p50 {statistics.median(t):6.3f}  p90 {q(0.9):6.3f}  "
              f"p99 {q(0.99):6.3f}  mean {statistics.fmean(t):6.3f}")


if __name__ == "__main__":
    main()
