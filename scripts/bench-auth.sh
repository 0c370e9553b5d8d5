#!/usr/bin/env bash
# BENCHMARKS.md, accounts: Login cost against Argon2id alone, and authenticated Me throughput
# under h2load against grpc.health.v1 Check (no database, no token) as the same-run baseline.
# Usage: scripts/bench-auth.sh [seconds-per-load-run (default 20)] [connections (default 16)] [streams per connection (default 8)]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-16}
streams=${3:-8}

command -v h2load >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq nghttp2-client >/dev/null; }
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/photovault-bench-XXXXXX)
chmod 755 "$work"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PHOTOVAULT_DATA_DIR="$work/var" PHOTOVAULT_PORT=$port PHOTOVAULT_LOG_LEVEL=info \
PHOTOVAULT_RATE_LOGIN_ACCOUNT=100000/1m PHOTOVAULT_RATE_LOGIN_PEER=100000/1m \
  "$bin/photovault-api" >"$work/api.log" 2>&1 &
api=$!
# A second replica on the same embedded database with the session cache off: every call reads
# the session and account from PostgreSQL, which shows what the cache buys.
uncached_port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'kill -TERM ${uncached:-} 2>/dev/null; wait ${uncached:-} 2>/dev/null; kill -TERM $api 2>/dev/null; wait $api 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
.venv/bin/python - "$port" <<'PY'
import sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}"))
for _ in range(300):
    try:
        if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1: break
    except grpc.RpcError: time.sleep(0.2)
PY

PHOTOVAULT_DATA_DIR="$work/var" PHOTOVAULT_PORT=$uncached_port PHOTOVAULT_LOG_LEVEL=info PHOTOVAULT_AUTH_CACHE_TTL=0s \
  "$bin/photovault-api" >"$work/api-uncached.log" 2>&1 &
uncached=$!
sleep 2

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== Login"
"$bin/photovault-bench" login --server "127.0.0.1:$port"

token=$(.venv/bin/python - "$port" <<'PY'
import sys
sys.path.insert(0, "Tests/EndToEnd")
from reflection_client import ReflectionClient
reply, error = ReflectionClient(f"127.0.0.1:{sys.argv[1]}").call(
    "photovault.v1.AuthService/Login", {"email": "loadtest@example.com", "password": "bench passphrase 2026"})
assert error is None, error
print(reply["access_token"])
PY
)
printf '\x00\x00\x00\x00\x00' > "$work/empty.grpc"   # gRPC frame of an empty message

load() {  # load NAME PORT PATH [extra h2load args…]
  local name=$1 target=$2 path=$3; shift 3
  local common=(-c "$connections" -m "$streams" -t 1 -d "$work/empty.grpc" -H 'content-type: application/grpc' -H 'te: trailers' "$@")
  # A separate warm-up run: h2load's own -w skews the req/s it reports (its MB/s does not move).
  h2load -D 2 "${common[@]}" "http://127.0.0.1:$target$path" > /dev/null
  h2load -D "$duration" "${common[@]}" --log-file "$work/$name.log" "http://127.0.0.1:$target$path" > "$work/$name.out"
  local rps; rps=$(grep -oP 'finished in .*?, \K[0-9.]+(?= req/s)' "$work/$name.out")
  local ok; ok=$(grep -oP 'status codes: \K[0-9]+' "$work/$name.out")
  read -r p50 p99 < <(awk '{print $3}' "$work/$name.log" | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
  printf '%-28s %9.0f calls/s   p50 %6.2f ms   p99 %6.2f ms   (%s responses)\n' "$name" "$rps" "$p50" "$p99" "$ok"
  echo "$rps" > "$work/$name.rps"
}
echo "== load: h2load, $connections connections x $streams streams, ${duration}s each after a 2 s warm-up, 1 client thread"
load health-check "$port" /grpc.health.v1.Health/Check
load me "$port" /photovault.v1.AuthService/Me -H "authorization: Bearer $token"
load me-uncached "$uncached_port" /photovault.v1.AuthService/Me -H "authorization: Bearer $token"
awk -v me="$(cat "$work/me.rps")" -v base="$(cat "$work/health-check.rps")" -v raw="$(cat "$work/me-uncached.rps")" \
  'BEGIN {printf "ratio Me / Health.Check throughput: %.2f; Me with the session cache off / Health.Check: %.2f\n", me/base, raw/base}'
failures=$(cat "$work/api.log" "$work/api-uncached.log" | grep -c "rpc failed" || true)
echo "RPCs that failed during the runs: $failures"
