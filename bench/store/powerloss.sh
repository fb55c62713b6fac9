#!/usr/bin/env bash
# Manual power-cut check of the embedded store's fsync discipline (not part of the test suite).
# Needs root, /dev/fuse, Debian `fuse3` and PyPI `mfusepy`, and the shared powerloss_fs.py.
#
#   CARGO_TARGET_DIR=/work/target-store cargo build --release --manifest-path bench/store/Cargo.toml
#   bench/store/powerloss.sh [fjall|redb] [cuts]
#
# Each round mounts the store's directory on powerloss_fs.py (--strict-dirs: a create or rename
# is lost unless its directory was fsynced), lets `crash-writer` commit durable puts and log
# each acknowledged one, cuts the power (every unsynced byte and directory change is dropped),
# then reopens the store from what reached the "disk" and checks every acknowledged item.
set -euo pipefail
engine=${1:-fjall}
cuts=${2:-5}
tools=${POWERLOSS_TOOLS:-/work/shared/tools}
bin=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/nimbus-store-bench}
work=$(mktemp -d)
mkdir -p "$work/back" "$work/mnt"
trap 'fusermount3 -uz "$work/mnt" 2>/dev/null || true' EXIT

for round in $(seq 1 "$cuts"); do
    python3 "$tools/powerloss_fs.py" mount "$work/back" "$work/mnt" --strict-dirs \
        --pidfile "$work/pid" 2>>"$work/fs.log" &
    for _ in $(seq 100); do mountpoint -q "$work/mnt" && break; sleep 0.1; done
    "$bin" crash-writer "$engine" "$work/mnt/store" >>"$work/acked" 2>>"$work/writer.log" &
    writer=$!
    sleep $((1 + round % 3))
    python3 "$tools/powerloss_fs.py" cut "$work/mnt" "$work/pid"
    kill -9 "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    python3 "$tools/powerloss_fs.py" recover "$work/back"
    echo "cut $round: $(wc -l <"$work/acked") acknowledged so far"
    "$bin" check-acked "$engine" "$work/back/store" "$work/acked"
done
rm -rf "$work"
