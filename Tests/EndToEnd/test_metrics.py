"""End-to-end: both servers' Prometheus endpoints, scraped and read by prometheus_client's own text parser."""

import urllib.error
import urllib.request

import grpc
from conftest import Server
from image_client import StreamingClient, noise_image, run_tool
from prometheus_client.parser import text_string_to_metric_families
from reflection_client import ReflectionClient

PASSWORD = "a long passphrase 42"


def scrape(server):
    """Every sample of the server's /metrics, as {(name, frozenset(labels)): value}, and the families."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {}
    for family in families.values():
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, families


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_the_api_exposes_rpc_job_and_storage_metrics(api, workdir):
    client = StreamingClient(api.address)
    try:
        signup, error = client.call("photovault.v1.AuthService/Register",
                                    {"email": "metrics@example.com", "password": PASSWORD, "name": "M"})
        assert error is None, error
        token = signup["access_token"]
        base = noise_image(workdir, "photo", 320, 240)
        jpeg = workdir / "photo.jpg"
        run_tool("vips", "copy", base, f"{jpeg}[Q=90]")
        data = jpeg.read_bytes()
        uploaded, error = client.upload(token, data, "photo.jpg")
        assert error is None, error
        assert client.wait_until_processed(token, [uploaded["image"]["id"]])[uploaded["image"]["id"]] == "PROCESSING_STATE_READY"
        _, error = client.call("photovault.v1.AlbumService/CreateAlbum", {"title": "Metrics"}, token=token)
        assert error is None, error
        _, error = client.call("photovault.v1.AlbumService/GetAlbum", {"album_id": "00000000-0000-0000-0000-000000000000"}, token=token)
        assert error.code() == grpc.StatusCode.NOT_FOUND
    finally:
        client.close()

    samples, families = scrape(api)
    album = {"service": "photovault.v1.AlbumService"}
    assert value(samples, "photovault_rpc_requests_total", method="CreateAlbum", code="OK", **album) == 1
    assert value(samples, "photovault_rpc_requests_total", method="GetAlbum", code="NOT_FOUND", **album) == 1
    assert value(samples, "photovault_rpc_requests_total", service="photovault.v1.ImageService", method="Upload", code="OK") == 1
    assert families["photovault_rpc_duration_seconds"].type == "histogram"
    assert value(samples, "photovault_rpc_duration_seconds_count", method="CreateAlbum", code="OK", **album) == 1
    assert value(samples, "photovault_rpc_duration_seconds_bucket", method="CreateAlbum", code="OK", le="+Inf", **album) == 1
    assert value(samples, "photovault_job_duration_seconds_count", kind="derivatives", outcome="succeeded") == 1
    assert value(samples, "photovault_jobs", kind="derivatives", state="queued") == 0
    assert value(samples, "photovault_stored_bytes", kind="original") == len(data)
    assert value(samples, "photovault_stored_bytes", kind="derivative") > 0
    assert value(samples, "photovault_images") == 1

    # Anything but GET /metrics is refused.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{api.metrics_port}/other", timeout=10)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as refused:
        assert refused.code == 404


def test_the_inference_server_exposes_batch_sizes_and_latency(workdir):
    server = Server("photovault-inference", workdir).start()
    client = ReflectionClient(server.address)
    try:
        for texts in (["a dog on the beach"], ["a cat", "two cats", "three cats"]):
            reply, error = client.call("photovault.inference.v1.InferenceService/EmbedText", {"texts": texts})
            assert error is None, error
        samples, families = scrape(server)
    finally:
        client.close()
        assert server.stop() == 0
    assert families["photovault_inference_batch_size"].type == "histogram"
    assert value(samples, "photovault_inference_batch_size_count", model="text") == 2
    assert value(samples, "photovault_inference_batch_size_sum", model="text") == 4
    assert value(samples, "photovault_inference_batch_duration_seconds_count", model="text") == 2
    assert value(samples, "photovault_rpc_requests_total", service="photovault.inference.v1.InferenceService",
                 method="EmbedText", code="OK") == 2
