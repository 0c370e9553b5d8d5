#!/usr/bin/env bash
# Starts PhotoVault on this machine: photovault-inference in the background and
# photovault-api (with the embedded PostgreSQL under ./var) in the foreground.
# Ctrl-C stops both; the API finishes calls in flight and stops PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build -c release --show-bin-path)

"$bin/photovault-inference" &
inference=$!
trap 'kill -TERM $inference 2>/dev/null; wait $inference 2>/dev/null || true' EXIT
"$bin/photovault-api" "$@"
