"""End-to-end: the real photovault-inference binary with the default models of scripts/setup.sh,
and a Python grpcio client that knows only the address."""

import base64
import concurrent.futures
import math
import struct
import zlib
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from conftest import ROOT, Server
from reflection_client import ReflectionClient

SERVICE = "photovault.inference.v1.InferenceService"
ASTRONAUT = next((ROOT / ".venv" / "lib").glob("python3*/site-packages/skimage/data/astronaut.png"))


def png(width, height, rows=None):
    """A real PNG: grey pixels, or just a header announcing the size when rows is None."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if rows is None:
        return header
    return header + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def inference(tmp_path_factory):
    server = Server("photovault-inference", tmp_path_factory.mktemp("inference"),
                    {"PHOTOVAULT_TEXT_QUEUE_LIMIT": "64"}).start()
    client = ReflectionClient(server.address)
    yield server, client
    client.close()
    assert server.stop() == 0


def test_a_sentence_gets_a_384_dimensional_unit_vector(inference):
    _, client = inference
    reply, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["A dog runs along the beach at sunset."]})
    assert error is None, error
    assert reply["model"] == "all-MiniLM-L6-v2" and reply["dim"] == 384
    values = reply["embeddings"][0]["values"]
    assert len(values) == 384
    assert abs(math.sqrt(sum(v * v for v in values)) - 1) < 1e-4

    reply, error = client.call(f"{SERVICE}/EmbedText", {"texts": [
        "A dog runs along the beach at sunset.", "A puppy plays on the sand by the sea.", "The tax report is due on Friday."]})
    assert error is None
    a, b, c = (row["values"] for row in reply["embeddings"])
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))
    assert dot(a, b) > dot(a, c) + 0.3


def test_the_astronaut_photo_gets_one_face_box_on_the_face(inference):
    _, client = inference
    image = base64.b64encode(ASTRONAUT.read_bytes()).decode()
    reply, error = client.call(f"{SERVICE}/Analyze", {"image": image, "tasks": ["TASK_FACES"]})
    assert error is None, error
    assert reply["image_width"] == 512 and reply["image_height"] == 512
    assert len(reply["faces"]) == 1
    face = reply["faces"][0]
    box = face["box"]
    assert 140 < box["x"] < 200 and 40 < box["y"] < 100
    assert 190 < box["x"] + box["width"] / 2 < 240 and 80 < box["y"] + box["height"] / 2 < 140
    assert len(face["landmarks"]) == 5 and len(face["descriptor"]) == 128
    assert not face.get("too_small", False) and not face.get("too_blurry", False)
    assert face["model"] == "dlib_hog+resnet128"


def test_models_without_weights_are_reported_not_fatal(inference):
    _, client = inference
    reply, error = client.call(f"{SERVICE}/ListModels", {})
    assert error is None
    models = {model["name"]: model for model in reply["models"]}
    assert models["all-MiniLM-L6-v2"]["loaded"] and models["all-MiniLM-L6-v2"]["embedding_dim"] == 384
    assert models["all-MiniLM-L6-v2"]["device"] == "cpu" and models["all-MiniLM-L6-v2"]["dtype"] == "float32"
    assert models["dlib_hog+resnet128"]["loaded"]
    assert not models["clip-vit-b-32"].get("loaded", False) and models["clip-vit-b-32"]["error"]

    # All four image tasks: faces answer, the tasks of absent models are listed as errors.
    image = base64.b64encode(ASTRONAUT.read_bytes()).decode()
    reply, error = client.call(f"{SERVICE}/Analyze", {"image": image})
    assert error is None and len(reply["faces"]) == 1
    assert {e["task"] for e in reply["errors"]} == {"TASK_IMAGE_EMBEDDING", "TASK_CAPTION", "TASK_TAGS"}
    _, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["a cat"], "kind": "TEXT_EMBEDDING_KIND_CLIP_TEXT"})
    assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("image, message", [
    (b"this is not an image at all", "image: the bytes are not a JPEG, PNG or WebP image (or the header is damaged)."),
    (png(0, 0), "image: the image is 0×0 pixels: it has no pixels."),
    (png(10_000, 10_000), "image: the image is 10000×10000 pixels, more than the limit of 50000000 pixels."),
    (b"", "image: no bytes were sent."),
])
def test_bad_images_get_invalid_argument_with_a_sentence(inference, image, message):
    server, client = inference
    _, error = client.call(f"{SERVICE}/Analyze", {"image": base64.b64encode(image).decode(), "tasks": ["TASK_FACES"]})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == message
    assert server.process.poll() is None


def test_a_real_hundred_megapixel_png_is_refused_without_decoding(inference):
    server, client = inference
    rows = (b"\x00" + b"\x80" * 10_000) * 10_000  # 100 MP grey, about 100 KB compressed
    _, error = client.call(f"{SERVICE}/Analyze", {"image": base64.b64encode(png(10_000, 10_000, rows)).decode()})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "10000×10000" in error.details()
    assert server.process.poll() is None


def test_empty_and_megabyte_texts_get_invalid_argument(inference):
    server, client = inference
    _, error = client.call(f"{SERVICE}/EmbedText", {"texts": []})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details() == "texts: at least one text is needed."
    _, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["fine", ""]})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details() == "texts[1] is empty."
    _, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["x" * (1024 * 1024)]})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "texts[0] is 1048576 bytes, more than the limit of 65536 bytes."
    reply, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["still serving"]})
    assert error is None and len(reply["embeddings"]) == 1


def test_a_full_queue_answers_resource_exhausted_and_the_server_recovers(inference):
    server, client = inference
    texts = [f"sentence number {i} about a holiday by the lake with friends and family" for i in range(64)]

    def embed(_):
        return client.call(f"{SERVICE}/EmbedText", {"texts": texts}, timeout=120)[1]

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        errors = list(pool.map(embed, range(12)))
    codes = [error.code() if error else None for error in errors]
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes and None in codes
    refused = next(error for error in errors if error)
    assert refused.details() == "The text model's queue is full (64 waiting); retry shortly."
    _, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["after the storm"]})
    assert error is None


def test_a_broken_model_folder_is_reported_and_the_server_still_serves(tmp_path):
    broken = tmp_path / "broken-minilm"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "bert"}')
    server = Server("photovault-inference", tmp_path, {"PHOTOVAULT_TEXT_MODEL_DIR": str(broken)}).start()
    client = ReflectionClient(server.address)
    try:
        reply, error = client.call(f"{SERVICE}/ListModels", {})
        minilm = next(model for model in reply["models"] if model["name"] == "all-MiniLM-L6-v2")
        assert not minilm.get("loaded", False)
        assert minilm["error"] == f"{broken}/config.json: 'vocab_size' is missing or not an integer."
        _, error = client.call(f"{SERVICE}/EmbedText", {"texts": ["hello"]})
        assert error.code() == grpc.StatusCode.UNAVAILABLE and "all-MiniLM-L6-v2 is not loaded" in error.details()
        # Health detail: the service serves, the broken model is NOT_SERVING, the loaded one SERVING.
        health = health_pb2_grpc.HealthStub(client.channel)
        check = lambda name: health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
        assert check("") == health_pb2.HealthCheckResponse.SERVING
        assert check(f"{SERVICE}/all-MiniLM-L6-v2") == health_pb2.HealthCheckResponse.NOT_SERVING
        assert check(f"{SERVICE}/dlib_hog+resnet128") == health_pb2.HealthCheckResponse.SERVING
    finally:
        client.close()
    assert server.stop() == 0


def test_with_a_clip_folder_analyze_answers_image_embeddings_and_tags_and_embedtext_clip_vectors(tmp_path):
    import json
    fixtures = ROOT / "Tests" / "InferenceTests" / "Fixtures"
    reference = json.loads((fixtures / "tiny-clip.json").read_text())
    server = Server("photovault-inference", tmp_path, {"PHOTOVAULT_CLIP_MODEL_DIR": str(fixtures / "tiny-clip")}).start()
    client = ReflectionClient(server.address)
    try:
        reply, _ = client.call(f"{SERVICE}/ListModels", {})
        clip = next(model for model in reply["models"] if model["name"] == "clip-vit-b-32")
        assert clip["loaded"] and clip["embedding_dim"] == 24 and clip["tasks"] == [
            "TASK_IMAGE_EMBEDDING", "TASK_TAGS", "TASK_TEXT_EMBEDDING"]

        image = base64.b64encode((fixtures / "clip-large.png").read_bytes()).decode()
        reply, error = client.call(f"{SERVICE}/Analyze", {
            "image": image, "tasks": ["TASK_IMAGE_EMBEDDING", "TASK_TAGS"],
            "candidate_labels": ["astronaut", "dog", "beach"], "max_tags": 2})
        assert error is None, error
        values = reply["image_embedding"]["values"]
        assert reply["image_embedding"]["dim"] == 24
        assert max(abs(a - b) for a, b in zip(values, reference["image_vectors"][1])) < 1e-4
        assert len(reply["tags"]) == 2 and reply["tags"][0]["score"] >= reply["tags"][1]["score"]
        assert {tag["label"] for tag in reply["tags"]} <= {"astronaut", "dog", "beach"}
        assert "errors" not in reply

        reply, error = client.call(f"{SERVICE}/Analyze", {"image": image, "tasks": ["TASK_TAGS"]})
        assert error is None and len(reply["tags"]) == 10
        scores = [tag["score"] for tag in reply["tags"]]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-5  # the best ten of seventy labels

        reply, error = client.call(f"{SERVICE}/EmbedText", {"texts": reference["texts"], "kind": "TEXT_EMBEDDING_KIND_CLIP_TEXT"})
        assert error is None and reply["model"] == "clip-vit-b-32"
        for row, expected in zip(reply["embeddings"], reference["text_vectors"]):
            assert max(abs(a - b) for a, b in zip(row["values"], expected)) < 1e-4

        _, error = client.call(f"{SERVICE}/Analyze", {"image": image, "tasks": ["TASK_TAGS"], "max_tags": 101})
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT

        # Odd shapes: a single pixel is enlarged and embedded; a 1 × 20000 strip is refused for
        # CLIP with a sentence (its resize would need gigabytes), while faces still answer.
        tiny = base64.b64encode(png(1, 1, b"\x00\x80")).decode()
        reply, error = client.call(f"{SERVICE}/Analyze", {"image": tiny, "tasks": ["TASK_IMAGE_EMBEDDING", "TASK_FACES"]})
        assert error is None and reply["image_embedding"]["dim"] == 24 and "faces" not in reply
        strip = base64.b64encode(png(20_000, 1, b"\x00" + b"\x80" * 20_000)).decode()
        reply, error = client.call(f"{SERVICE}/Analyze", {"image": strip, "tasks": ["TASK_IMAGE_EMBEDDING", "TASK_FACES"]})
        assert error is None and reply["image_width"] == 20000
        assert reply["errors"] == [{"task": "TASK_IMAGE_EMBEDDING", "message":
                                    "CLIP failed: the image is 20000×1 pixels, too elongated to resize for the model."}]
        assert server.process.poll() is None
    finally:
        client.close()
    assert server.stop() == 0


def test_with_a_blip_folder_analyze_answers_captions_with_and_without_a_prompt(tmp_path):
    import json
    fixtures = ROOT / "Tests" / "InferenceTests" / "Fixtures"
    reference = {case["prompt"]: case["text"] for case in json.loads((fixtures / "tiny-blip.json").read_text())["cases"]}
    server = Server("photovault-inference", tmp_path, {"PHOTOVAULT_CAPTION_MODEL_DIR": str(fixtures / "tiny-blip")}).start()
    client = ReflectionClient(server.address)
    try:
        image = base64.b64encode((fixtures / "clip-large.png").read_bytes()).decode()
        for prompt, text in reference.items():
            reply, error = client.call(f"{SERVICE}/Analyze", {"image": image, "tasks": ["TASK_CAPTION"], "caption_prompt": prompt})
            assert error is None, error
            assert reply["caption"] == {"text": text, "model": "blip-image-captioning-base"}
        _, error = client.call(f"{SERVICE}/Analyze", {"image": image, "tasks": ["TASK_CAPTION"], "caption_prompt": "x" * 300})
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        client.close()
    assert server.stop() == 0
