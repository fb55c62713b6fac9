#!/usr/bin/env bash
# Builds Nimbus, starts it with its data in ./.nimbus, deploys the example stack
# (examples/items-api), loads its seed items, and prints the URL to open. The server stays in
# the foreground until Ctrl-C, which stops it cleanly. Running it again is harmless: the deploy
# and the load are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=items-api
TEMPLATE=examples/items-api/template.yaml
SEED=examples/items-api/seed.json
export NIMBUS_DATA_DIR=${NIMBUS_DATA_DIR:-./.nimbus}
export NIMBUS_LISTEN=${NIMBUS_LISTEN:-127.0.0.1:4566}
export NIMBUS_GATEWAY=${NIMBUS_GATEWAY:-127.0.0.1:8080}
URL="http://${NIMBUS_GATEWAY}/items/42"

echo "== building nimbus (release; the first build takes a few minutes)"
cargo build --release --locked --bin nimbus
nimbus="${CARGO_TARGET_DIR:-target}/release/nimbus"

mkdir -p "$NIMBUS_DATA_DIR"
log="$NIMBUS_DATA_DIR/serve.log"
steps="$NIMBUS_DATA_DIR/run.log"
: >"$steps"

echo "== starting nimbus serve (log: $log)"
# The server's own output goes to its log until the example answers, so the first URL on this
# terminal is the one to open.
"$nimbus" serve >"$log" 2>&1 &
server=$!
stop() {
  trap - INT TERM EXIT
  if kill -0 "$server" 2>/dev/null; then
    echo
    echo "== stopping nimbus"
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

fail() {
  echo "run.sh: $*" >&2
  echo "---- last lines of $log" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
}

for _ in $(seq 1 120); do
  kill -0 "$server" 2>/dev/null || fail "nimbus serve exited (is another server using $NIMBUS_LISTEN, $NIMBUS_GATEWAY or $NIMBUS_DATA_DIR?)"
  curl -sf "http://${NIMBUS_LISTEN}/_nimbus/health" >/dev/null && break
  sleep 0.5
done
curl -sf "http://${NIMBUS_LISTEN}/_nimbus/health" >/dev/null || fail "nimbus serve did not become healthy"

echo "== installing the Python SDK (boto3) for functions, once"
if ! "$nimbus" runtimes install --python >>"$steps" 2>&1; then
  echo "warning: could not install boto3 (see $steps); the first invocation will try again" >&2
fi

echo "== deploying $TEMPLATE as stack $STACK"
"$nimbus" deploy "$TEMPLATE" --stack-name "$STACK" >>"$steps" 2>&1 ||
  { cat "$steps" >&2; fail "nimbus deploy failed"; }

table=$("$nimbus" tables list --quiet --tag "nimbus:stack-name=$STACK" --tag nimbus:logical-id=ItemsTable)
[[ -n $table ]] || fail "the stack $STACK has no table ItemsTable after the deploy"
table=${table%%$'\n'*}
echo "== loading $SEED into $table"
"$nimbus" tables load "$table" "$SEED"

# The first request starts the function (a cold start); make it before a browser does.
for _ in $(seq 1 120); do
  curl -sf --max-time 30 "$URL" >/dev/null && break
  kill -0 "$server" 2>/dev/null || fail "nimbus serve exited"
  sleep 1
done

echo
echo "Open $URL in your browser"
echo
echo "The whole list is at /items; add one with:"
echo "  curl -X POST http://${NIMBUS_GATEWAY}/items -d '{\"name\": \"Peanuts\", \"price\": 1}'"
echo "Look inside (in another terminal):"
echo "  $nimbus tables scan $table"
echo "  $nimbus functions; $nimbus apis; $nimbus usage"
echo
echo "---- deploy"
cat "$steps"
echo "---- nimbus serve (Ctrl-C stops it)"
cat "$log"
tail -n 0 -f "$log" --pid="$server" &
wait "$server"
