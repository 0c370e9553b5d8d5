"""Streaming calls on top of the reflection-only client: client streams (Upload, UploadChunks)
and server streams (Download, WatchImages), with message classes learnt through reflection.
Shared by the image end-to-end tests and scripts/bench-images.sh."""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import grpc
from google.protobuf import json_format
from google.protobuf.message_factory import GetMessageClass

from reflection_client import ReflectionClient

MIB = 1024 * 1024
IMAGES = "photovault.v1.ImageService"


class StreamingClient(ReflectionClient):
    """ReflectionClient plus streaming RPCs. Requests may be dicts or messages made with
    `request()`; streamed replies are protobuf messages (bytes stay bytes, no base64)."""

    def on_channel(self, address: str) -> "StreamingClient":
        """A client for another server that shares this one's reflected descriptors (for a
        server without reflection, such as photovault-bench's upload sink)."""
        other = object.__new__(StreamingClient)
        other.channel = grpc.insecure_channel(address)
        other.database, other.pool, other.lock = self.database, self.pool, self.lock
        return other

    def classes(self, method: str):
        service_name, method_name = method.split("/")
        with self.lock:
            descriptor = self.pool.FindServiceByName(service_name).FindMethodByName(method_name)
            return GetMessageClass(descriptor.input_type), GetMessageClass(descriptor.output_type)

    def request(self, method: str, **fields):
        """A request message of `method`, e.g. request(".../Upload", chunk=b"...")."""
        return self.classes(method)[0](**fields)

    def _message(self, request_class, request):
        return request if not isinstance(request, dict) else json_format.ParseDict(request, request_class())

    @staticmethod
    def _metadata(token):
        return [("authorization", f"Bearer {token}")] if token else None

    def client_stream(self, method: str, requests, token: str | None = None, timeout: float = 300):
        """Streams `requests` (an iterable); returns (reply dict, None) or (None, grpc.RpcError)."""
        request_class, reply_class = self.classes(method)
        stub = self.channel.stream_unary(f"/{method}", request_serializer=lambda m: m.SerializeToString(),
                                         response_deserializer=reply_class.FromString)
        messages = (self._message(request_class, request) for request in requests)
        try:
            reply = stub(messages, metadata=self._metadata(token), timeout=timeout)
        except grpc.RpcError as error:
            return None, error
        return json_format.MessageToDict(reply, preserving_proto_field_name=True), None

    def server_stream(self, method: str, request, token: str | None = None, timeout: float = 300):
        """The reply stream of `method` (an iterator of messages; raises grpc.RpcError)."""
        request_class, reply_class = self.classes(method)
        stub = self.channel.unary_stream(f"/{method}", request_serializer=lambda m: m.SerializeToString(),
                                         response_deserializer=reply_class.FromString)
        return stub(self._message(request_class, request), metadata=self._metadata(token), timeout=timeout)

    # ImageService conveniences.

    def upload(self, token: str, data: bytes, file_name: str, chunk_size: int = MIB, timeout: float = 300):
        """Upload: a header, then chunks of at most `chunk_size` bytes."""
        method = f"{IMAGES}/Upload"

        def requests():
            yield self.request(method, header={"file_name": file_name, "declared_size": len(data)})
            view = memoryview(data)
            for start in range(0, len(data), chunk_size):
                yield self.request(method, chunk=bytes(view[start:start + chunk_size]))

        return self.client_stream(method, requests(), token=token, timeout=timeout)

    def upload_file(self, token: str, path: Path, file_name: str | None = None, chunk_size: int = MIB, timeout: float = 600):
        """Upload of a file read chunk by chunk (never whole in memory)."""
        method = f"{IMAGES}/Upload"
        size = os.path.getsize(path)

        def requests():
            yield self.request(method, header={"file_name": file_name or Path(path).name, "declared_size": size})
            with open(path, "rb") as file:
                while chunk := file.read(chunk_size):
                    yield self.request(method, chunk=chunk)

        return self.client_stream(method, requests(), token=token, timeout=timeout)

    def download(self, token: str, image_id: str, variant: str = "IMAGE_VARIANT_ORIGINAL", timeout: float = 300):
        """(header dict, bytes) of a whole variant; raises grpc.RpcError."""
        header, parts = None, []
        for message in self.server_stream(f"{IMAGES}/Download", {"image_id": image_id, "variant": variant},
                                          token=token, timeout=timeout):
            if message.WhichOneof("payload") == "header":
                assert header is None, "the header must come once"
                header = json_format.MessageToDict(message.header, preserving_proto_field_name=True)
            else:
                assert header is not None, "the header must come first"
                parts.append(message.chunk)
        return header, b"".join(parts)

    def wait_until_processed(self, token: str, image_ids, timeout: float = 300):
        """Follows WatchImages until every image is READY or FAILED; returns {id: state}."""
        states = {}
        for event in self.server_stream(f"{IMAGES}/WatchImages", {"image_ids": list(image_ids)}, token=token,
                                        timeout=timeout):
            reply = json_format.MessageToDict(event, preserving_proto_field_name=True)
            states[reply["image_id"]] = reply.get("state", "PROCESSING_STATE_UNSPECIFIED")
        return states


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def run_tool(*arguments, cwd=None):
    """Runs vips / exiftool; fails with their output."""
    result = subprocess.run([str(a) for a in arguments], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, arguments))} failed: {result.stdout}{result.stderr}")
    return result.stdout


def noise_image(folder: Path, name: str, width: int, height: int, seed: int = 1) -> Path:
    """An 8-bit sRGB image of Gaussian noise (so encoders produce realistic amounts of data),
    in vips' own format; save it with `vips copy base.v out.jpg[Q=90]` etc."""
    bands = []
    for band in range(3):
        noise, cast = folder / f"{name}-noise{band}.v", folder / f"{name}-band{band}.v"
        run_tool("vips", "gaussnoise", noise, width, height, "--mean", 128, "--sigma", 40, "--seed", seed * 10 + band)
        run_tool("vips", "cast", noise, cast, "uchar")
        noise.unlink()
        bands.append(str(cast))
    joined, base = folder / f"{name}-joined.v", folder / f"{name}.v"
    run_tool("vips", "bandjoin", " ".join(bands), joined)
    run_tool("vips", "copy", joined, base, "--interpretation", "srgb")
    for path in [*bands, joined]:
        Path(path).unlink()
    return base


def wait_for(condition, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"{what} not met within {timeout}s")
        time.sleep(interval)
