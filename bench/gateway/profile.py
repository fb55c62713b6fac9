"""Summarize a `perf record --call-graph dwarf` profile of the Nimbus server: shares of samples
per thread, per leaf symbol (own time) and per Nimbus function on the stack (inclusive time).

Usage: python profile.py PERF_DATA [--top N]   (prints Markdown)
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys

INLINED = " (inlined)"


def clean(symbol: str) -> str:
    symbol = symbol.strip()
    if symbol.endswith(INLINED):
        symbol = symbol[: -len(INLINED)]
    if symbol.startswith("<"):
        # `<Type as Trait>::method` -> `Type::method`
        depth = 0
        for i, ch in enumerate(symbol):
            depth += ch == "<"
            depth -= ch == ">"
            if depth == 0:
                inner, rest = symbol[1:i], symbol[i + 1:]
                top, level = inner, 0
                for j, c in enumerate(inner):
                    level += c == "<"
                    level -= c == ">"
                    if level == 0 and inner.startswith(" as ", j):
                        top = inner[:j]
                        break
                return clean(top) + rest
    # Drop generic arguments, keep the path: a<b<c>>::d -> a<…>::d
    out, depth = [], 0
    for ch in symbol:
        if ch == "<":
            if depth == 0 and out and out[-1] not in "(":
                out.append("<…>")
            depth += 1
            continue
        if ch == ">":
            depth = max(0, depth - 1)
            continue
        if depth == 0:
            out.append(ch)
    text = "".join(out)
    return text if text else symbol


def samples(data: str):
    """(thread name, [frames leaf first]) for every sample."""
    text = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym"],
                          capture_output=True, text=True, errors="replace").stdout
    comm, frames = None, []
    for line in text.splitlines():
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif not line.startswith("\t"):
            if comm is not None:
                yield comm, frames
            parts = line.split()
            comm = " ".join(parts[:-1]) if len(parts) > 1 else parts[0]
            frames = []
        else:
            parts = line.strip().split(None, 1)
            name = parts[1] if len(parts) > 1 else "[unknown]"
            frames.append(("[k] " if parts[0].startswith("ffffffff") else "") + name)
    if comm is not None:
        yield comm, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    total = 0
    in_kernel = 0
    threads = collections.Counter()
    leaf = collections.Counter()
    nimbus = collections.Counter()
    entered = collections.Counter()
    for comm, frames in samples(args.data):
        total += 1
        threads[re.sub(r"\d+$", "", comm)] += 1
        if not frames:
            continue
        in_kernel += frames[0].startswith("[k] ")
        leaf[frames[0][:4] + clean(frames[0][4:]) if frames[0].startswith("[k] ")
             else clean(frames[0])] += 1
        if frames[0].startswith("[k] "):
            caller = next((clean(f) for f in frames if not f.startswith("[k] ") and "::" in f),
                          "[no user frame]")
            entered[caller] += 1
        seen = set()
        for f in frames:
            name = clean(f)
            if "nimbus_" in name and name not in seen:
                seen.add(name)
                nimbus[name] += 1
    if not total:
        print("no samples")
        return 1

    def pct(n: int) -> str:
        return f"{100 * n / total:.1f}%"

    print(f"{total} samples, {pct(in_kernel)} in the kernel")
    print()
    print("| thread | share |")
    print("| --- | ---: |")
    for name, n in threads.most_common(8):
        print(f"| {name} | {pct(n)} |")
    print()
    print("Own time (leaf symbol):")
    print()
    print("| symbol | share |")
    print("| --- | ---: |")
    for name, n in leaf.most_common(args.top):
        print(f"| `{name[:110]}` | {pct(n)} |")
    print()
    print("Kernel time by the first Rust frame above it (who made the system call or was "
          "switched out):")
    print()
    print("| frame | share |")
    print("| --- | ---: |")
    for name, n in entered.most_common(args.top):
        print(f"| `{name[:110]}` | {pct(n)} |")
    print()
    print("Nimbus functions on the stack (inclusive):")
    print()
    print("| function | share |")
    print("| --- | ---: |")
    for name, n in nimbus.most_common(args.top):
        print(f"| `{name[:110]}` | {pct(n)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
