#!/usr/bin/env bash
# Installs what the tests need and runs every test: formatting, lints, the Rust tests, and the
# protocol compatibility suite with real AWS clients against a freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python test dependencies, pinned, in a venv of the repository.
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (also builds target/debug/nimbus for the suites below)"
cargo test --workspace --locked
echo "== runtime shims (pytest, real interpreters)"
.venv/bin/python -m pytest tests/shims -q
echo "== compatibility suite (pytest, real AWS clients)"
NIMBUS_BIN="$PWD/target/debug/nimbus" .venv/bin/python -m pytest tests/compat "$@"
