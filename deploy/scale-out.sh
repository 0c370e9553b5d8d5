#!/usr/bin/env bash
# The scale-out of DESIGN §6 on one machine: one PostgreSQL (pgserver's binaries from .venv,
# on 127.0.0.1 with a generated password), one blob store (a local folder both API replicas
# share; or S3 when PHOTOVAULT_S3_BUCKET and its settings are set), 2 photovault-inference replicas and
# 2 photovault-api replicas that share the database, the blobs, the master key file and the
# JWT keys, each API listing both inference replicas in PHOTOVAULT_INFERENCE_URLS.
#
#   deploy/scale-out.sh [--dir DIR] [--base-port N] [--bin DIR]
#
#   --dir DIR        where everything lives (default ./var/scale-out; reused on the next run,
#                    so the library survives a restart)
#   --base-port N    API on N and N+1, inference on N+10 and N+11, their metrics on N+20…N+23,
#                    PostgreSQL on N+30 (default: free ports picked at start)
#   --bin DIR        the built binaries (default PHOTOVAULT_BIN, else .build/release when
#                    photovault-api is there, else .build/debug)
#
# It prints one line per process (name, address, pid, metrics, log), then "ready". A replica
# that dies is reported and the others keep serving. Ctrl-C (SIGINT) or SIGTERM stops
# everything: the API replicas finish their calls, then inference, then PostgreSQL.
# Every other PHOTOVAULT_* variable in the environment reaches every replica (e.g.
# PHOTOVAULT_WORKERS, PHOTOVAULT_S3_BUCKET with its endpoint and credentials).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

dir=${SCALE_OUT_DIR:-var/scale-out}
base_port=${SCALE_OUT_BASE_PORT:-}
bin=${PHOTOVAULT_BIN:-}
while (($#)); do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale-out: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  bin=.build/release
  [ -x "$bin/photovault-api" ] || bin=.build/debug
fi
for program in photovault-api photovault-inference; do
  [ -x "$bin/$program" ] || { echo "scale-out: no $bin/$program; build first (swift build -c release)." >&2; exit 1; }
done
python=${PHOTOVAULT_PYTHON:-.venv/bin/python}
[ -x "$python" ] || { echo "scale-out: no $python; run scripts/setup.sh first." >&2; exit 1; }
pg_bin=${PHOTOVAULT_PG_BIN:-$(ls -d .venv/lib/python3*/site-packages/pgserver/pginstall/bin 2>/dev/null | tail -n 1)}
[ -x "$pg_bin/pg_ctl" ] || { echo "scale-out: no pgserver binaries in .venv; run scripts/setup.sh (or set PHOTOVAULT_PG_BIN)." >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$(cd "$bin" && pwd)

# PostgreSQL refuses to run as root: then its commands run as an unprivileged account.
as_postgres=()
pg_account=${PHOTOVAULT_PG_USER:-postgres}
if [ "$(id -u)" -eq 0 ]; then
  id "$pg_account" >/dev/null 2>&1 || { echo "scale-out: PostgreSQL cannot run as root and there is no '$pg_account' account (scripts/setup.sh creates it)." >&2; exit 1; }
  as_postgres=(runuser -u "$pg_account" --)
fi

free_ports() {  # N free TCP ports on 127.0.0.1
  "$python" - "$1" <<'EOF'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}
if [ -n "$base_port" ]; then
  ports=($base_port $((base_port + 1)) $((base_port + 10)) $((base_port + 11)) \
         $((base_port + 20)) $((base_port + 21)) $((base_port + 22)) $((base_port + 23)) $((base_port + 30)))
else
  read -r -a ports <<<"$(free_ports 9)"
fi
api_ports=("${ports[0]}" "${ports[1]}")
inference_ports=("${ports[2]}" "${ports[3]}")
api_metrics=("${ports[4]}" "${ports[5]}")
inference_metrics=("${ports[6]}" "${ports[7]}")
pg_port=${ports[8]}

names=()      # every process we started, in start order
declare -A pids addresses reported
pg_data=$dir/postgres/data

stop_all() {
  local status=$?
  # A second Ctrl-C must not cut the shutdown short (PostgreSQL would be left running); each
  # wait below is bounded.
  trap '' INT TERM
  trap - EXIT
  echo "scale-out: stopping"
  # API replicas first (they finish calls in flight), then inference, then the database.
  for kind in api inference; do
    for name in "${names[@]}"; do
      [[ $name == $kind-* ]] && kill -TERM "${pids[$name]}" 2>/dev/null || true
    done
    for name in "${names[@]}"; do
      [[ $name == $kind-* ]] || continue
      for _ in $(seq 600); do kill -0 "${pids[$name]}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pids[$name]}" 2>/dev/null || true
      wait "${pids[$name]}" 2>/dev/null || true
    done
  done
  if [ -f "$pg_data/postmaster.pid" ]; then
    "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  echo "scale-out: stopped"
  exit "$status"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

wait_serving() {  # name address pid: polls grpc.health.v1 until SERVING, or fails
  "$python" - "$@" <<'EOF' || { echo "scale-out: $1 did not start; the end of its log:" >&2; tail -n 20 "$dir/$1.log" >&2; exit 1; }
import os, sys, time
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
name, address, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))
deadline = time.time() + 180
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    try:
        if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
            sys.exit(0)
    except grpc.RpcError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}

start() {  # name address [VAR=value …] program: starts it in the background, logging to DIR/name.log
  local name=$1 address=$2
  shift 2
  env "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  names+=("$name")
  pids[$name]=$!
  addresses[$name]=$address
}

# One PostgreSQL on 127.0.0.1, password authentication, as the unprivileged account.
mkdir -p "$dir/postgres"
chmod 700 "$dir/postgres"
[ ${#as_postgres[@]} -eq 0 ] || chown "$pg_account" "$dir/postgres"
if [ ! -f "$dir/postgres/password" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/postgres/password")
fi
pg_password=$(cat "$dir/postgres/password")
if [ ! -f "$pg_data/PG_VERSION" ]; then
  pwfile=$dir/postgres/initdb-password
  (umask 077; printf '%s\n' "$pg_password" >"$pwfile")
  [ ${#as_postgres[@]} -eq 0 ] || chown "$pg_account" "$pwfile"
  "${as_postgres[@]}" "$pg_bin/initdb" -D "$pg_data" -U photovault --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-instructions >"$dir/postgres/initdb.log" 2>&1 \
    || { rm -f "$pwfile"; cat "$dir/postgres/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
fi
if "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
  # Left running by a run that was killed: restart it on this run's port.
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null
fi
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/postgres/postgres.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/postgres -c max_connections=200" start >/dev/null
export PGPASSWORD=$pg_password
if [ -z "$("$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U photovault -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'photovault'")" ]; then
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U photovault photovault
fi
unset PGPASSWORD
database_url="postgres://photovault:$pg_password@127.0.0.1:$pg_port/photovault"
(umask 077; printf '%s\n' "$database_url" >"$dir/database-url")

# The keys every API replica shares: without the same master keys one replica could not read
# what the other stored, and without the same JWT keys a token would work on one replica only.
mkdir -p "$dir/keys" "$dir/blobs"
chmod 700 "$dir/keys"
if [ ! -f "$dir/keys/master-keys" ]; then
  (umask 077; printf '# PhotoVault master keys (scale-out). BACK THIS FILE UP.\n1 %s\n' "$(head -c 32 /dev/urandom | base64)" >"$dir/keys/master-keys")
fi
if [ ! -f "$dir/keys/jwt-keys" ]; then
  (umask 077; printf '# access-token signing keys: kid base64secret, the first signs\nk1 %s\n' "$(head -c 32 /dev/urandom | base64)" >"$dir/keys/jwt-keys")
fi

# Two inference replicas; on one machine they share the cores.
threads=${PHOTOVAULT_INFERENCE_THREADS:-$(( ($(nproc) + 1) / 2 ))}
inference_urls=""
for i in 0 1; do
  name=inference-$((i + 1))
  start "$name" "127.0.0.1:${inference_ports[$i]}" \
    PHOTOVAULT_INFERENCE_HOST=127.0.0.1 PHOTOVAULT_INFERENCE_PORT="${inference_ports[$i]}" \
    PHOTOVAULT_INFERENCE_METRICS_PORT="${inference_metrics[$i]}" PHOTOVAULT_INFERENCE_THREADS="$threads" \
    "$bin/photovault-inference"
  inference_urls+="${inference_urls:+,}127.0.0.1:${inference_ports[$i]}"
done
for name in inference-1 inference-2; do wait_serving "$name" "${addresses[$name]}" "${pids[$name]}"; done

# Two API replicas: one database, one blob store, the same keys, both inference replicas.
for i in 0 1; do
  name=api-$((i + 1))
  mkdir -p "$dir/$name"
  start "$name" "127.0.0.1:${api_ports[$i]}" \
    PHOTOVAULT_HOST=127.0.0.1 PHOTOVAULT_PORT="${api_ports[$i]}" PHOTOVAULT_METRICS_PORT="${api_metrics[$i]}" \
    PHOTOVAULT_DATABASE_URL="$database_url" PHOTOVAULT_DATA_DIR="$dir/$name" \
    PHOTOVAULT_BLOB_DIR="${PHOTOVAULT_BLOB_DIR:-$dir/blobs}" \
    PHOTOVAULT_MASTER_KEY_FILE="$dir/keys/master-keys" PHOTOVAULT_JWT_KEYS_FILE="$dir/keys/jwt-keys" \
    PHOTOVAULT_INFERENCE_URLS="$inference_urls" \
    "$bin/photovault-api"
done
for name in api-1 api-2; do wait_serving "$name" "${addresses[$name]}" "${pids[$name]}"; done

metrics() { case $1 in api-1) echo "${api_metrics[0]}" ;; api-2) echo "${api_metrics[1]}" ;;
  inference-1) echo "${inference_metrics[0]}" ;; inference-2) echo "${inference_metrics[1]}" ;; esac; }
echo "PhotoVault scale-out in $dir (Ctrl-C stops everything):"
for name in api-1 api-2 inference-1 inference-2; do
  echo "  $name address=${addresses[$name]} pid=${pids[$name]} metrics=http://127.0.0.1:$(metrics "$name")/metrics log=$dir/$name.log"
done
echo "  postgres address=127.0.0.1:$pg_port url-file=$dir/database-url log=$dir/postgres/postgres.log"
echo "  blobs folder=${PHOTOVAULT_BLOB_DIR:-$dir/blobs}${PHOTOVAULT_S3_BUCKET:+ (unused: S3 bucket $PHOTOVAULT_S3_BUCKET)}"
echo "  keys master=$dir/keys/master-keys jwt=$dir/keys/jwt-keys (back the master keys up)"
echo "ready"

# Report replicas that die; the others keep serving until Ctrl-C.
while :; do
  sleep 1 &
  wait $! || true
  for name in "${names[@]}"; do
    if [ -z "${reported[$name]:-}" ] && ! kill -0 "${pids[$name]}" 2>/dev/null; then
      status=0
      wait "${pids[$name]}" 2>/dev/null || status=$?
      echo "scale-out: $name (pid ${pids[$name]}) exited with status $status; the others keep serving"
      reported[$name]=1
    fi
  done
done
