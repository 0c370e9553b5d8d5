"""The gain from dynamic batching: 16 concurrent clients each embed one sentence per call against
photovault-inference, first with batching off (PHOTOVAULT_BATCH_MAX=1), then on (the defaults),
each for the same time, in the same run. Prints one JSON line per setting and the ratio."""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "EndToEnd"))
from conftest import Server  # noqa: E402
from reflection_client import ReflectionClient  # noqa: E402


def measure(settings, clients, seconds):
    with tempfile.TemporaryDirectory() as folder:
        server = Server("photovault-inference", folder, settings).start()
        client = ReflectionClient(server.address)
        method = "photovault.inference.v1.InferenceService/EmbedText"
        client.call(method, {"texts": ["warm up"]})
        latencies, errors, lock = [], [], threading.Lock()
        deadline = time.perf_counter() + seconds

        def run(index):
            n = 0
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                _, error = client.call(method, {"texts": [f"client {index} asks about photo {n} of a sunny beach"]})
                with lock:
                    (errors if error else latencies).append((time.perf_counter() - start) * 1000)
                n += 1

        threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
        server.stop()
    latencies.sort()
    return {"calls_per_s": len(latencies) / seconds, "p50_ms": latencies[len(latencies) // 2],
            "p90_ms": latencies[int(len(latencies) * 0.9)], "errors": len(errors)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    arguments = parser.parse_args()
    off = measure({"PHOTOVAULT_BATCH_MAX": "1", "PHOTOVAULT_BATCH_WAIT_MS": "0"}, arguments.clients, arguments.seconds)
    print(json.dumps({"benchmark": "batching_off", "clients": arguments.clients, **off}), flush=True)
    on = measure({}, arguments.clients, arguments.seconds)
    print(json.dumps({"benchmark": "batching_on", "clients": arguments.clients, **on}), flush=True)
    print(json.dumps({"benchmark": "batching_gain", "throughput_ratio": on["calls_per_s"] / off["calls_per_s"]}))


if __name__ == "__main__":
    main()
