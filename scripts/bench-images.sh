#!/usr/bin/env bash
# BENCHMARKS.md, images: (1) upload throughput over loopback and photovault-api's peak RSS growth
# for 1, 20 and 100 MiB files, against photovault-bench's upload sink (same client, same bytes,
# same gRPC transport, bytes dropped) as the same-run baseline; (2) derivative cost per
# 12-megapixel JPEG against vipsthumbnail; (3) images per second through the whole ingest path
# with 2 workers, against libvips alone doing the same decodes on 2 threads.
# Usage: scripts/bench-images.sh [images for the ingest run (default 50)] [repetitions (default 3)]
# KEEP=1 keeps the work folder (fixtures, server logs); PHOTOVAULT_BIN=<folder> uses binaries
# already built there instead of building in release mode (for trying the script out only).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50}
repetitions=${2:-3}

if [ -z "${PHOTOVAULT_BIN:-}" ]; then
  swift build -c release --product photovault-api >/dev/null
  swift build -c release --product photovault-bench >/dev/null
fi
bin=${PHOTOVAULT_BIN:-$(swift build -c release --show-bin-path)}
work=$(mktemp -d /tmp/photovault-bench-images-XXXXXX)
chmod 755 "$work"
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_healthy() {  # wait_healthy PORT PID LOG
  .venv/bin/python - "$1" "$2" <<'PY' || { echo "photovault-api did not become healthy; its log:"; tail -20 "$3"; exit 1; }
import os, sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}"))
deadline = time.time() + 300
while time.time() < deadline:
    try:
        os.kill(int(sys.argv[2]), 0)
    except ProcessLookupError:
        sys.exit("photovault-api exited")
    try:
        if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1: sys.exit(0)
    except grpc.RpcError: pass
    time.sleep(0.2)
sys.exit("timed out")
PY
}
wait_listening() {  # wait_listening PORT
  .venv/bin/python -c 'import socket, sys, time
for _ in range(300):
    try: socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError: time.sleep(0.1)
sys.exit("the upload sink did not start")' "$1"
}
cleanup() {
  for pid in ${api:-} ${sink:-}; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, libvips $(vips --version | cut -d- -f2)"
echo "== fixtures (vips gaussnoise; exiftool makes each copy's bytes distinct, so none is a duplicate)"
.venv/bin/python - "$work" "$count" "$repetitions" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "Tests/EndToEnd")
from image_client import noise_image, run_tool
work, count, repetitions = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# PNGs of noise stay near their raw size: 680x680 ~ 1 MiB, 2870x2870 ~ 20 MiB, 6800x6700 ~ 100 MiB (46 MP).
for label, side in [("1mib", (680, 680)), ("20mib", (2870, 2870)), ("100mib", (6800, 6700))]:
    base = noise_image(work, label, *side, seed=len(label))
    for index in range(repetitions + (1 if label == "1mib" else 0)):  # an extra 1 MiB copy for warm-ups
        target = work / f"{label}-{index}.png"
        run_tool("vips", "copy", base, f"{target}[compression=1]")
        run_tool("exiftool", "-q", "-q", "-overwrite_original", f"-Comment=copy {index}", target)
    base.unlink()
# 12-megapixel JPEGs, photo-like sizes (blurred noise), each one brightness level apart.
bands = []
for band in range(3):
    run_tool("vips", "gaussnoise", work / f"n{band}.v", 4000, 3000, "--mean", 128, "--sigma", 60, "--seed", band + 1)
    run_tool("vips", "gaussblur", work / f"n{band}.v", work / f"b{band}.v", 1.2)
    run_tool("vips", "cast", work / f"b{band}.v", work / f"c{band}.v", "uchar")
    bands.append(str(work / f"c{band}.v"))
run_tool("vips", "bandjoin", " ".join(bands), work / "j.v")
run_tool("vips", "copy", work / "j.v", work / "12mp.v", "--interpretation", "srgb")
(work / "ingest").mkdir()
for index in range(count):
    run_tool("vips", "linear", work / "12mp.v", f"{work / 'ingest' / f'img-{index:03d}.jpg'}[Q=90]",
             1, index + 1, "--uchar")
for name in [*(f"n{b}.v" for b in range(3)), *(f"b{b}.v" for b in range(3)), *(f"c{b}.v" for b in range(3)), "j.v", "12mp.v"]:
    (work / name).unlink()
sizes = {p.name: p.stat().st_size for p in sorted(work.glob("*-0.png"))}
jpegs = [p.stat().st_size for p in (work / "ingest").iterdir()]
print("  " + ", ".join(f"{name}: {size / 2**20:.1f} MiB" for name, size in sizes.items())
      + f"; {count} JPEGs 4000x3000, {sum(jpegs) / len(jpegs) / 2**20:.1f} MiB each on average")
PY

echo "== derivatives of one 12-megapixel JPEG: photovault-bench derivatives (no server running)"
"$bin/photovault-bench" derivatives "$work/ingest/img-000.jpg" --repetitions 10

# PHOTOVAULT_WORKERS=0 would keep derivative jobs out of the way, but the API then stops at
# start-up (JobWorkers returns at once and ServiceGroup takes that for a failure); with one
# worker, each upload's derivatives are made (and waited for) before the next upload starts.
echo "== uploads: a fresh photovault-api per file size (PHOTOVAULT_WORKERS=1; one 1 MiB warm-up upload first; each upload's derivatives done before the next), against the upload sink"
sink_port=$(free_port)
"$bin/photovault-bench" upload-sink --port "$sink_port" >"$work/sink.log" 2>&1 &
sink=$!
wait_listening "$sink_port"
for label in 1mib 20mib 100mib; do
port=$(free_port)
PHOTOVAULT_DATA_DIR="$work/var-upload-$label" PHOTOVAULT_PORT=$port PHOTOVAULT_WORKERS=1 PHOTOVAULT_LOG_LEVEL=notice \
  "$bin/photovault-api" >"$work/api-upload-$label.log" 2>&1 &
api=$!
wait_healthy "$port" "$api" "$work/api-upload-$label.log"
.venv/bin/python - "$work" "$port" "$sink_port" "$api" "$repetitions" "$label" <<'PY'
import statistics, sys, threading, time
from pathlib import Path
sys.path.insert(0, "Tests/EndToEnd")
from image_client import StreamingClient
work, port, sink_port, pid, repetitions, label = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]

def status():
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # MiB
    return fields

def timed_upload(client, path, token=None, measure=False):
    """(MB/s, peak RSS growth of the upload in MiB, seconds, peak RSS growth up to the end of
    its derivative job in MiB). VmHWM is reset (clear_refs 5) before the upload and VmRSS
    sampled every 20 ms; read again at once when the reply arrives, before the derivative job
    has got going."""
    peak, done = [0.0], threading.Event()
    if measure:
        before = status()["VmRSS"]
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], status()["VmRSS"])
                time.sleep(0.02)
        sampler = threading.Thread(target=sample)
        sampler.start()
    start = time.perf_counter()
    reply, error = client.upload_file(token, path)
    elapsed = time.perf_counter() - start
    assert error is None, error
    assert int(reply["image"]["byte_size"]) == path.stat().st_size and not reply.get("duplicate"), reply
    growth = derivatives = None
    if measure:
        done.set()
        growth = max(peak[0], status()["VmHWM"]) - before
        sampler.join()
        assert client.wait_until_processed(token, [reply["image"]["id"]]) == {reply["image"]["id"]: "PROCESSING_STATE_READY"}
        derivatives = status()["VmHWM"] - before
    return path.stat().st_size / elapsed / 1e6, growth, elapsed, derivatives

api = StreamingClient(f"127.0.0.1:{port}")
reply, error = api.call("photovault.v1.AuthService/Register", {"email": "uploader@example.com", "password": "bench passphrase 2026", "name": "B"})
assert error is None, error
token = reply["access_token"]
timed_upload(api, work / f"1mib-{repetitions}.png", token, measure=True)  # warm-up
sink = api.on_channel(f"127.0.0.1:{sink_port}")
rest = status()["VmRSS"]
runs = [timed_upload(api, work / f"{label}-{index}.png", token, measure=True) for index in range(repetitions)]
sinks = [timed_upload(sink, work / f"{label}-0.png") for _ in range(repetitions)]
speed, sink_speed = statistics.median(r[0] for r in runs), statistics.median(s[0] for s in sinks)
seconds = statistics.median(r[2] for r in runs)
print(f"  {label:>6}: API {speed:6.1f} MB/s (median of {repetitions}, {seconds * 1000:.0f} ms per upload; runs "
      + ", ".join(f"{r[0]:.1f}" for r in runs) + f"), sink {sink_speed:6.1f} MB/s, ratio API/sink {speed / sink_speed:.2f}")
print(f"          API VmRSS at rest after the warm-up {rest:.1f} MiB; peak RSS growth during each upload "
      + ", ".join(f"{r[1]:.1f}" for r in runs) + " MiB (first one from rest: " + f"{runs[0][1]:.1f}); up to the end of each derivative job "
      + ", ".join(f"{r[3]:.1f}" for r in runs) + f" MiB; VmRSS afterwards {status()['VmRSS']:.1f} MiB")
PY
kill -TERM $api; wait $api 2>/dev/null || true
api=
done
kill -TERM $sink; wait $sink 2>/dev/null || true
sink=

echo "== ingest: $count distinct 12-megapixel JPEGs, photovault-api with PHOTOVAULT_WORKERS=2, 2 client threads, until all READY"
port=$(free_port)
PHOTOVAULT_DATA_DIR="$work/var-ingest" PHOTOVAULT_PORT=$port PHOTOVAULT_WORKERS=2 PHOTOVAULT_LOG_LEVEL=notice \
  "$bin/photovault-api" >"$work/api-ingest.log" 2>&1 &
api=$!
wait_healthy "$port" "$api" "$work/api-ingest.log"
.venv/bin/python - "$work" "$port" <<'PY'
import concurrent.futures, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, "Tests/EndToEnd")
from image_client import StreamingClient
work, port = Path(sys.argv[1]), sys.argv[2]
files = sorted((work / "ingest").iterdir())
client = StreamingClient(f"127.0.0.1:{port}")
reply, error = client.call("photovault.v1.AuthService/Register", {"email": "ingest@example.com", "password": "bench passphrase 2026", "name": "I"})
assert error is None, error
token = reply["access_token"]

def upload(path):
    reply, error = client.upload_file(token, path)
    assert error is None and not reply.get("duplicate"), (path, error, reply)
    return reply["image"]["id"]

start = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    ids = list(pool.map(upload, files))
uploaded = time.perf_counter() - start
states = client.wait_until_processed(token, ids, timeout=1800)
total = time.perf_counter() - start
assert set(states.values()) == {"PROCESSING_STATE_READY"}, states
rate = len(files) / total

# Baseline: libvips alone doing what ingest decodes, on 2 threads: a full decode (the upload's
# validation), then the preview and the thumbnail with vipsthumbnail.
def vips_only(path):
    out = work / f"baseline-{path.stem}"
    subprocess.run(["vips", "avg", path], check=True, capture_output=True)
    subprocess.run(["vipsthumbnail", path, "-s", "1440", "-o", f"{out}.jpg[Q=80,strip]"], check=True)
    subprocess.run(["vipsthumbnail", path, "-s", "250", "-o", f"{out}.webp[Q=75,strip]"], check=True)

start = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    list(pool.map(vips_only, files))
baseline = len(files) / (time.perf_counter() - start)
print(f"  PhotoVault: {len(files)} images READY in {total:.1f} s = {rate:.2f} images/s (uploads alone took {uploaded:.1f} s)")
print(f"  libvips alone (vips avg + vipsthumbnail x2 per image, 2 at a time): {baseline:.2f} images/s")
print(f"  ratio PhotoVault / libvips alone: {rate / baseline:.2f}")
PY
