#!/usr/bin/env bash
# The gateway benchmark: a warm `provided` Rust function behind an HTTP API route, next to the
# same function through the Invoke API and a bare hyper hello-world server, driven by wrk.
# Installs what it needs on first run (wrk, a boto3 venv), builds the handler, the bare server
# and nimbus in release mode, writes bench/results/gateway-<time>/ and prints the summary.
#
#   bench/gateway/run.sh [bench.py options]     e.g. --rounds 1 --duration 5, or --perf
#
# Not part of the test suite. A full run takes about 5 minutes on 2 cores after the builds.
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

say "building the function (bench/gateway/handler, lambda_runtime) and the bare server"
(cd handler && cargo build --release --quiet)
(cd floor && cargo build --release --quiet)

# NIMBUS_BIN names an already built binary to measure instead of building one.
if [ -n "${NIMBUS_BIN:-}" ]; then
    nimbus="$NIMBUS_BIN"
else
    say "building nimbus (release)"
    (cd "$root" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo build --release -p nimbus)
    nimbus="${CARGO_TARGET_DIR:-$root/target}/release/nimbus"
fi

out="$root/bench/results/gateway-$(date -u +%Y%m%dT%H%M%SZ)"
say "running; results in $out"
exec .venv/bin/python bench.py --out "$out" --nimbus "$nimbus" "$@"
