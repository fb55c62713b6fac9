#!/usr/bin/env bash
# The table benchmark: PutItem, GetItem and Query on Nimbus, dynalite, moto and a bare hyper
# server (the HTTP floor), driven by wrk replaying pre-signed requests. Installs what it needs on
# first run, writes bench/results/tables-<time>/ and prints the summary.
#
#   bench/tables/run.sh [bench.py options]     e.g. --duration 5 --targets nimbus,floor
#
# Not part of the test suite. A full run takes about 6 minutes on 2 cores, plus the builds.
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

if [ ! -x node_modules/.bin/dynalite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing dynalite (npm ci)"
    npm ci --no-audit --no-fund
fi

if [ ! -x .venv/bin/moto_server ] || [ requirements.txt -nt .venv/.installed ]; then
    say "creating the Python venv (moto, botocore)"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    touch .venv/.installed
fi

say "building the floor server"
# Into its own target folder, where bench.py looks for it, whatever CARGO_TARGET_DIR says.
(cd floor && CARGO_TARGET_DIR="$here/floor/target" cargo build --release --quiet)

say "building nimbus (release)"
(cd "$root" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo build --release -p nimbus)
nimbus="${CARGO_TARGET_DIR:-$root/target}/release/nimbus"

out="$root/bench/results/tables-$(date -u +%Y%m%dT%H%M%SZ)"
say "running; results in $out"
exec .venv/bin/python bench.py --out "$out" --nimbus "$nimbus" "$@"
