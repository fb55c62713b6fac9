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
echo "== browser test (Debian's chromium driven by playwright-core)"
if [[ ! -x /usr/bin/chromium ]]; then
  sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
nimbus_bin="$PWD/target/debug/nimbus"
(cd tests/browser && NIMBUS_BIN="$nimbus_bin" node --test)
