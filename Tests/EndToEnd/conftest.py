"""Starts the real photovault-api / photovault-inference binaries for end-to-end tests."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
BIN = Path(os.environ.get("PHOTOVAULT_BIN", ROOT / ".build" / "debug"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(address, process, timeout=90, root_certificate=None):
    """Polls grpc.health.v1 until the server says SERVING."""
    deadline = time.time() + timeout
    channel = (grpc.insecure_channel(address) if root_certificate is None
               else grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=root_certificate)))
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{address} did not become healthy in {timeout}s")
    finally:
        channel.close()


class Server:
    """One running server process with its own data folder and port."""

    def __init__(self, program, data_dir, extra_env=None, log_name="server.log", root_certificate=None):
        self.root_certificate = root_certificate
        self.program = program
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Each server's Prometheus endpoint on its own free port (they default to 9464 / 9465).
        self.metrics_port = free_port()
        self.log_path = self.data_dir / log_name
        self.env = dict(os.environ)
        self.env.update({
            "PHOTOVAULT_DATA_DIR": str(self.data_dir / "var"),
            "PHOTOVAULT_PORT": str(self.port),
            "PHOTOVAULT_INFERENCE_PORT": str(self.port),
            "PHOTOVAULT_METRICS_PORT": str(self.metrics_port),
            "PHOTOVAULT_INFERENCE_METRICS_PORT": str(self.metrics_port),
        })
        if program == "photovault-api":
            # AI analysis off unless a test starts an inference server and points the API at it.
            self.env["PHOTOVAULT_INFERENCE_URLS"] = "none"
        self.env.update(extra_env or {})
        self.process = None

    def start(self, *arguments):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([str(BIN / self.program), *arguments], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until_serving(self.address, self.process, root_certificate=self.root_certificate)
        return self

    def stop(self, timeout=60):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        return self.process.returncode if self.process else None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="photovault-e2e-") as folder:
        os.chmod(folder, 0o755)
        yield Path(folder)


@pytest.fixture
def api(workdir):
    server = Server("photovault-api", workdir, {"PHOTOVAULT_LOG_LEVEL": "info"}).start()
    yield server
    server.stop()
