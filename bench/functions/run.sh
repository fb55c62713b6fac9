#!/usr/bin/env bash
# The function benchmark: bare interpreter start, cold start, warm invoke latency and warm
# throughput of Python and Node.js hello handlers on Nimbus. Installs what it needs on first
# run, writes bench/results/functions-<time>/ and prints the summary.
#
#   bench/functions/run.sh [bench.py options]     e.g. --cold-rounds 5 --duration 3
#
# Not part of the test suite. A full run takes about 4 minutes on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

say() { printf '\n== %s\n' "$*"; }

if ! command -v wrk >/dev/null; then
    say "installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk
    else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi
fi

if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv/.installed ]; then
    say "creating the Python venv (boto3)"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    touch .venv/.installed
fi

# NIMBUS_BIN names an already built binary to measure instead of building one.
if [ -n "${NIMBUS_BIN:-}" ]; then
    nimbus="$NIMBUS_BIN"
else
    say "building nimbus (release)"
    (cd "$root" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo build --release -p nimbus)
    nimbus="${CARGO_TARGET_DIR:-$root/target}/release/nimbus"
fi

out="$root/bench/results/functions-$(date -u +%Y%m%dT%H%M%SZ)"
say "running; results in $out"
exec .venv/bin/python bench.py --out "$out" --nimbus "$nimbus" "$@"
