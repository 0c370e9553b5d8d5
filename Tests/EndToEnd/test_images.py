"""End-to-end images: an independent client (grpcio through reflection only, no .proto files)
uploads real photos whose metadata was written by exiftool, reads back the exact metadata and
byte-identical originals, gets derivatives, and cannot see another user's images; and a
resumable upload survives `kill -9` of photovault-api without leaving orphans."""

import datetime
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import grpc
import pytest
from conftest import ROOT, Server
from image_client import IMAGES, MIB, StreamingClient, noise_image, run_tool, sha256, sha256_file, wait_for

PASSWORD = "a long passphrase 42"


def register(client, email):
    reply, error = client.call("photovault.v1.AuthService/Register", {"email": email, "password": PASSWORD, "name": email})
    assert error is None, error
    return reply["access_token"]


def utc(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def exif_tags(taken, offset, latitude, longitude, altitude, make, model, extra=()):
    """exiftool arguments for a capture time with its offset, a GPS position and a camera."""
    return [
        f"-DateTimeOriginal={taken}", f"-OffsetTimeOriginal={offset}",
        f"-GPSLatitude={abs(latitude)}", f"-GPSLatitudeRef={'N' if latitude >= 0 else 'S'}",
        f"-GPSLongitude={abs(longitude)}", f"-GPSLongitudeRef={'E' if longitude >= 0 else 'W'}",
        f"-GPSAltitude={abs(altitude)}", f"-GPSAltitudeRef#={0 if altitude >= 0 else 1}",
        f"-Make={make}", f"-Model={model}", *extra,
    ]


# What each photo is made of and what the server must read back from it. Local capture times
# and offsets are chosen so that UTC falls on another day or year for some of them.
PHOTOS = {
    "eiffel.jpg": dict(
        save="[Q=90]", size=(640, 480), format="IMAGE_FORMAT_JPEG", content_type="image/jpeg",
        exif=exif_tags("2024:07:14 21:30:15", "+02:00", 48.8584, 2.2945, 35, "Canon", "Canon EOS R5",
                       ["-LensModel=RF24-70mm F2.8 L IS USM", "-FNumber=2.8", "-ExposureTime=1/250", "-ISO=400",
                        "-FocalLength=35", "-Orientation#=6"]),
        taken_utc="2024-07-14T19:30:15+00:00", offset=120, gps=(48.8584, 2.2945, 35.0),
        camera=("Canon", "Canon EOS R5"),
        # Orientation 6 (rotate 90° clockwise): the Image's width and height are swapped.
        dimensions=(480, 640), orientation=6,
        settings=dict(lens="RF24-70mm F2.8 L IS USM", f_number=2.8, exposure_time_seconds=0.004, iso=400, focal_length_mm=35.0)),
    "dead-sea.png": dict(
        save="", size=(500, 400), format="IMAGE_FORMAT_PNG", content_type="image/png",
        exif=exif_tags("2022:02:28 08:00:00", "+09:00", 31.5590, 35.4732, -430, "FUJIFILM", "X-T4"),
        taken_utc="2022-02-27T23:00:00+00:00", offset=540, gps=(31.5590, 35.4732, -430.0),
        camera=("FUJIFILM", "X-T4"), dimensions=(500, 400), orientation=1),
    "santiago.webp": dict(
        save="[Q=85]", size=(320, 240), format="IMAGE_FORMAT_WEBP", content_type="image/webp",
        exif=exif_tags("2021:06:01 22:00:00", "-04:00", -33.4489, -70.6693, 570, "Google", "Pixel 8"),
        taken_utc="2021-06-02T02:00:00+00:00", offset=-240, gps=(-33.4489, -70.6693, 570.0),
        camera=("Google", "Pixel 8"), dimensions=(320, 240), orientation=1),
    "st-johns.heic": dict(
        save="[compression=hevc,Q=60]", size=(512, 384), format="IMAGE_FORMAT_HEIC", content_type="image/heic",
        exif=exif_tags("2023:12:31 23:45:00", "-03:30", 47.5615, -52.7126, 12.5, "Apple", "iPhone 15 Pro"),
        taken_utc="2024-01-01T03:15:00+00:00", offset=-210, gps=(47.5615, -52.7126, 12.5),
        camera=("Apple", "iPhone 15 Pro"), dimensions=(512, 384), orientation=1),
}


def make_photos(folder: Path):
    """Writes every photo of PHOTOS with vips, then its EXIF with exiftool; returns {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for seed, (name, photo) in enumerate(PHOTOS.items(), start=1):
        width, height = photo["size"]
        base = noise_image(folder, Path(name).stem, width, height, seed=seed)
        target = folder / name
        run_tool("vips", "copy", base, f"{target}{photo['save']}")
        base.unlink()
        run_tool("exiftool", "-q", "-q", "-overwrite_original", *photo["exif"], target)
        paths[name] = target
    return paths


@pytest.fixture(scope="module")
def library():
    """One server for the module, a user who uploaded every photo through Upload, and the replies."""
    with tempfile.TemporaryDirectory(prefix="photovault-e2e-images-") as name:
        folder = Path(name)
        os.chmod(folder, 0o755)
        yield from serve_library(folder)


def serve_library(folder: Path):
    photos = make_photos(folder / "photos")
    server = Server("photovault-api", folder, {"PHOTOVAULT_LOG_LEVEL": "info", "PHOTOVAULT_WORKERS": "2"})
    client = None
    try:
        server.start()
        client = StreamingClient(server.address)
        token = register(client, "ada@example.com")
        uploads = {}
        for name, path in photos.items():
            # Chunks of 64 KiB, so that even these small files arrive in several messages.
            reply, error = client.upload(token, path.read_bytes(), name, chunk_size=64 * 1024)
            assert error is None, (name, error)
            uploads[name] = reply
        yield dict(server=server, client=client, token=token, photos=photos, uploads=uploads)
    finally:
        if client:
            client.close()
        assert server.stop() == 0, server.log()[-3000:]


def test_uploaded_photos_read_back_their_exact_metadata(library):
    client, token = library["client"], library["token"]
    for name, photo in PHOTOS.items():
        upload = library["uploads"][name]
        assert upload.get("duplicate", False) is False
        data = library["photos"][name].read_bytes()
        reply, error = client.call(f"{IMAGES}/GetImage", {"image_id": upload["image"]["id"]}, token=token)
        assert error is None, (name, error)
        image = reply["image"]
        assert image["file_name"] == name
        assert image["format"] == photo["format"], name
        assert int(image["byte_size"]) == len(data)
        assert image["sha256"] == sha256(data)
        assert (image["width"], image["height"]) == photo["dimensions"], name
        assert utc(image["taken_at"]) == datetime.datetime.fromisoformat(photo["taken_utc"]), name
        assert image["taken_at_offset_minutes"] == photo["offset"], name
        assert not image.get("taken_at_overridden", False)
        latitude, longitude, altitude = photo["gps"]
        assert abs(image["gps"]["point"]["latitude"] - latitude) < 1e-6, (name, image["gps"])
        assert abs(image["gps"]["point"]["longitude"] - longitude) < 1e-6, (name, image["gps"])
        assert abs(image["gps"]["altitude_m"] - altitude) < 1e-6, (name, image["gps"])
        assert (image["exif"]["make"], image["exif"]["model"]) == photo["camera"], name
        assert image["exif"].get("orientation", 0) == photo["orientation"], name
        for field, expected in photo.get("settings", {}).items():
            actual = image["exif"][field]
            assert (abs(actual - expected) < 1e-9) if isinstance(expected, float) else actual == expected, (name, field, actual)
        # The local capture time is taken_at plus the offset, as the proto says.
        local = utc(image["taken_at"]) + datetime.timedelta(minutes=image["taken_at_offset_minutes"])
        assert local.strftime("%Y:%m:%d %H:%M:%S") == next(a for a in photo["exif"] if a.startswith("-DateTimeOriginal="))[18:]


def test_downloads_return_byte_identical_originals(library):
    client, token = library["client"], library["token"]
    for name, photo in PHOTOS.items():
        data = library["photos"][name].read_bytes()
        header, body = client.download(token, library["uploads"][name]["image"]["id"])
        assert sha256(body) == sha256(data), name
        assert header["content_type"] == photo["content_type"], (name, header)
        assert int(header["total_size"]) == len(data) == int(header["length"])
        assert header["file_name"] == name


def test_the_same_bytes_again_are_a_duplicate(library):
    client, token = library["client"], library["token"]
    name = "eiffel.jpg"
    reply, error = client.upload(token, library["photos"][name].read_bytes(), "copy-of-eiffel.jpg")
    assert error is None, error
    assert reply["duplicate"] is True
    assert reply["image"]["id"] == library["uploads"][name]["image"]["id"]


def test_every_photo_gets_a_jpeg_preview_and_a_webp_thumbnail(library):
    client, token = library["client"], library["token"]
    ids = {library["uploads"][name]["image"]["id"]: name for name in PHOTOS}
    states = client.wait_until_processed(token, ids, timeout=120)
    assert states == {image_id: "PROCESSING_STATE_READY" for image_id in ids}, states
    for image_id, name in ids.items():
        reply, _ = client.call(f"{IMAGES}/GetImage", {"image_id": image_id}, token=token)
        assert reply["image"]["processing_state"] == "PROCESSING_STATE_READY"
        width, height = PHOTOS[name]["dimensions"]
        header, preview = client.download(token, image_id, "IMAGE_VARIANT_PREVIEW")
        assert header["content_type"] == "image/jpeg" and preview[:3] == b"\xff\xd8\xff", name
        # Never enlarged, and upright: the JPEG's orientation 6 is applied.
        assert (header["width"], header["height"]) == (width, height), (name, header)
        assert int(header["total_size"]) == len(preview)
        header, thumbnail = client.download(token, image_id, "IMAGE_VARIANT_THUMBNAIL")
        assert header["content_type"] == "image/webp", name
        assert thumbnail[:4] == b"RIFF" and thumbnail[8:12] == b"WEBP", name
        assert max(header["width"], header["height"]) == 250, (name, header)
        assert (header["width"] > header["height"]) == (width > height), (name, header)
        # Metadata stripped: no camera name, no GPS in the derivatives.
        for derivative in (preview, thumbnail):
            assert PHOTOS[name]["camera"][1].encode() not in derivative and b"Exif" not in derivative, name


def test_a_second_user_gets_not_found_for_every_image_rpc_on_the_first_users_images(library):
    client, token = library["client"], library["token"]
    other = register(client, "mallory@example.com")
    # A session of the first user's, for the session RPCs.
    session, error = client.call(f"{IMAGES}/CreateUploadSession", {"file_name": "x.jpg", "total_size": 10}, token=token)
    assert error is None, error
    session_id = session["session_id"]

    def not_found(error, what):
        assert error is not None and error.code() == grpc.StatusCode.NOT_FOUND, (what, error)

    for name in PHOTOS:
        image_id = library["uploads"][name]["image"]["id"]
        for method, request in [
            ("GetImage", {"image_id": image_id}),
            ("UpdateMetadata", {"image_id": image_id, "caption": "mine now"}),
            ("DeleteImage", {"image_id": image_id}),
            ("DeleteImage", {"image_id": image_id, "permanent": True}),
            ("RestoreImage", {"image_id": image_id}),
        ]:
            _, error = client.call(f"{IMAGES}/{method}", request, token=other)
            not_found(error, (method, name))
        for variant in ["IMAGE_VARIANT_ORIGINAL", "IMAGE_VARIANT_PREVIEW", "IMAGE_VARIANT_THUMBNAIL"]:
            with pytest.raises(grpc.RpcError) as raised:
                client.download(other, image_id, variant)
            not_found(raised.value, ("Download", variant, name))
        with pytest.raises(grpc.RpcError) as raised:
            client.wait_until_processed(other, [image_id], timeout=30)
        not_found(raised.value, ("WatchImages", name))
    for method, request in [("GetUploadSession", {"session_id": session_id}), ("FinishUpload", {"session_id": session_id})]:
        _, error = client.call(f"{IMAGES}/{method}", request, token=other)
        not_found(error, method)
    method = f"{IMAGES}/UploadChunks"
    _, error = client.client_stream(method, [client.request(method, session_id=session_id, offset=0, data=b"0123456789")], token=other)
    not_found(error, "UploadChunks")
    listing, error = client.call(f"{IMAGES}/ListImages", {}, token=other)
    assert error is None and listing.get("images", []) == []

    # Nothing of the first user's changed.
    listing, _ = client.call(f"{IMAGES}/ListImages", {}, token=token)
    assert sorted(image["file_name"] for image in listing["images"]) == sorted(PHOTOS)
    assert all(not image.get("caption") and "deleted_at" not in image for image in listing["images"])
    state, error = client.call(f"{IMAGES}/GetUploadSession", {"session_id": session_id}, token=token)
    assert error is None and int(state.get("bytes_received", 0)) == 0


# kill -9 in the middle of a resumable upload.

PART = 8 * MIB  # ImageLimits.sessionPartSize: the server makes bytes durable in parts of this size.


def psql(data: Path, sql: str) -> list[str]:
    """Runs SQL on the embedded PostgreSQL through its Unix socket (trust authentication)."""
    bin_folder = sorted(ROOT.glob(".venv/lib/python*/site-packages/pgserver/pginstall/bin"))[-1]
    result = subprocess.run(
        [str(bin_folder / "psql"), "-h", str(data / "postgres" / "run"), "-p", "5432", "-U", "photovault", "-d", "photovault",
         "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def stored_blob_keys(data: Path) -> set[str]:
    """Keys of the files in the local blob store (objects/<hex>/<hex>/<key with / as ~>)."""
    objects = data / "blobs" / "objects"
    return {path.name.replace("~", "/") for path in objects.glob("*/*/*") if path.is_file()}


def stop_postgres(data: Path):
    bin_folder = sorted(ROOT.glob(".venv/lib/python*/site-packages/pgserver/pginstall/bin"))[-1]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run([*as_owner, str(bin_folder / "pg_ctl"), "-D", str(data / "postgres" / "data"), "-m", "fast", "-w", "stop"],
                   capture_output=True, timeout=120)


def test_kill_9_during_a_resumable_upload_resumes_from_the_last_durable_part_and_leaves_no_orphans(workdir):
    data = workdir / "var"
    # A real image of about 26 MiB: noise compresses badly, so PNG stays near its raw size.
    base = noise_image(workdir, "large", 3200, 3200, seed=7)
    source = workdir / "large.png"
    run_tool("vips", "copy", base, f"{source}[compression=1]")
    base.unlink()
    total = source.stat().st_size
    assert total > 3 * PART, f"the test image should span at least 4 parts, it is {total} bytes"
    source_bytes = source.read_bytes()

    servers = []

    def start(log_name):
        server = Server("photovault-api", workdir, {"PHOTOVAULT_WORKERS": "2"}, log_name=log_name)
        servers.append(server)
        return server.start()

    try:
        crash_and_resume(workdir, data, source_bytes, start)
    finally:
        for server in servers:
            server.stop()
        # Only needed when an assertion failed midway and left the server running.
        stop_postgres(data)


def crash_and_resume(workdir: Path, data: Path, source_bytes: bytes, start):
    total = len(source_bytes)
    server = start("server.log")
    client = StreamingClient(server.address)
    token = register(client, "crash@example.com")
    session, error = client.call(f"{IMAGES}/CreateUploadSession",
                                 {"file_name": "large.png", "total_size": total, "sha256": sha256(source_bytes)}, token=token)
    assert error is None, error
    session_id = session["session_id"]
    method = f"{IMAGES}/UploadChunks"

    # The stream runs in the background in 64 KiB messages; the generator counts what grpc took.
    sent = {"bytes": 0}
    outcome = {}

    def chunks(start):
        for offset in range(start, total, 64 * 1024):
            piece = source_bytes[offset:offset + 64 * 1024]
            yield client.request(method, session_id=session_id, offset=offset, data=piece)
            sent["bytes"] = offset + len(piece)
            time.sleep(0.002)  # about 30 MB/s at most, so that the kill lands mid-stream

    def stream():
        outcome["reply"], outcome["error"] = client.client_stream(method, chunks(0), token=token, timeout=120)

    streamer = threading.Thread(target=stream)
    streamer.start()
    def durable_bytes():
        state, error = client.call(f"{IMAGES}/GetUploadSession", {"session_id": session_id}, token=token)
        assert error is None, error
        return int(state.get("bytes_received", 0))

    # Kill once the server has made at least one part durable and the client is well into the next one.
    wait_for(lambda: sent["bytes"] >= PART + 3 * MIB and durable_bytes() >= PART,
             timeout=120, interval=0.05, what="a durable part and 3 MiB more sent")
    dead_pid = server.process.pid
    os.kill(dead_pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    streamer.join(timeout=60)
    client.close()
    assert outcome["error"] is not None, "the stream cannot have succeeded: the server was killed"
    assert sent["bytes"] < total, "the kill should land in the middle of the stream"
    dead_staging = list((data / "tmp").glob(f"{dead_pid}-*"))
    assert dead_staging, "the killed process's staging folder is still there before the restart"
    print(f"killed after {sent['bytes']} of {total} bytes sent; staging left behind:",
          [str(p.relative_to(data)) for folder in dead_staging for p in folder.iterdir()])

    # Restart on the same data folder: the PostgreSQL the killed process left running is adopted
    # (reused, and stopped by its new owner).
    server = start("server-2.log")
    assert "adopting the embedded PostgreSQL of a process that is gone" in server.log(), server.log()[-3000:]
    assert not list((data / "tmp").glob(f"{dead_pid}-*")), "the dead process's staging files must be removed at start-up"
    client = StreamingClient(server.address)
    state, error = client.call(f"{IMAGES}/GetUploadSession", {"session_id": session_id}, token=token)
    assert error is None, error
    received = int(state["bytes_received"])
    print(f"after the restart the session holds {received} bytes ({received / PART:g} parts)")
    assert 0 < received < total and received % PART == 0, received
    assert state["state"] == "UPLOAD_SESSION_STATE_OPEN"
    # Every part row has its blob, and the parts are exactly the session's durable bytes.
    part_keys = set(psql(data, f"SELECT blob_key FROM upload_session_parts WHERE session_id = '{session_id}'"))
    assert len(part_keys) == received // PART and part_keys <= stored_blob_keys(data)

    # A resumed stream at the wrong offset is refused with where to resume.
    _, error = client.client_stream(method, [client.request(method, session_id=session_id, offset=0, data=source_bytes[:10])],
                                    token=token)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and str(received) in error.details(), error
    reply, error = client.client_stream(method, chunks(received), token=token, timeout=120)
    assert error is None, error
    assert int(reply["bytes_received"]) == total
    finished, error = client.call(f"{IMAGES}/FinishUpload", {"session_id": session_id}, token=token)
    assert error is None, error
    image_id = finished["image"]["id"]
    assert finished["image"]["sha256"] == sha256(source_bytes)
    _, body = client.download(token, image_id)
    assert sha256(body) == sha256(source_bytes)
    assert client.wait_until_processed(token, [image_id], timeout=180) == {image_id: "PROCESSING_STATE_READY"}

    # No orphans: every stored blob is the image's original, preview or thumbnail, or is
    # queued for deletion in blob_garbage; no part row remains.
    referenced = set(psql(data, "SELECT unnest(ARRAY[original_key, preview_key, thumbnail_key]) FROM images"))
    garbage = set(psql(data, "SELECT blob_key FROM blob_garbage"))
    stored = stored_blob_keys(data)
    assert len(referenced) == 3 and referenced <= stored
    assert stored - referenced <= garbage, f"blobs neither referenced nor queued for deletion: {stored - referenced - garbage}"
    assert psql(data, "SELECT count(*) FROM upload_session_parts") == ["0"]
    assert psql(data, "SELECT count(*) FROM images") == ["1"]
    client.close()
    assert server.stop() == 0
    # The restarted API adopted the PostgreSQL whose starter was killed, so it stopped it too.
    assert not (data / "postgres" / "data" / "postmaster.pid").exists(), "the orphaned PostgreSQL was left running"

    # The purge job runs at start-up: afterwards only the image's blobs remain.
    server = start("server-3.log")
    due = lambda: psql(data, "SELECT count(*) FROM blob_garbage WHERE not_before <= now()") == ["0"]
    wait_for(due, timeout=60, what="the start-up purge of due blobs")
    stored = stored_blob_keys(data)
    assert not [key for key in stored if key.startswith("sessions/")], stored
    # A part stored in the instant between its rename and its row would wait in blob_garbage
    # for the claim window (1 h) before it goes; anything else is an orphan.
    waiting = set(psql(data, "SELECT blob_key FROM blob_garbage"))
    assert stored - referenced <= waiting and not waiting & referenced, (stored, referenced, waiting)
    assert not list((data / "blobs" / "tmp").iterdir()), "no half-written blob files"
    assert [p.name for p in (data / "tmp").iterdir()] == [p.name for p in (data / "tmp").glob(f"{server.process.pid}-*")]
    assert server.stop() == 0


def test_sigterm_ends_open_watch_streams_and_the_server_exits(workdir):
    server = Server("photovault-api", workdir).start()
    client = StreamingClient(server.address)
    token = register(client, "watcher@example.com")
    stream = client.server_stream(f"{IMAGES}/WatchImages", {}, token=token, timeout=120)
    ended = {}

    def follow():
        try:
            for _ in stream:
                pass
            ended["how"] = "finished"
        except grpc.RpcError as error:
            ended["how"] = error.code()

    watcher = threading.Thread(target=follow)
    watcher.start()
    time.sleep(1)
    code = server.stop(timeout=60)  # raises TimeoutExpired if the open stream holds shutdown up
    watcher.join(timeout=10)
    assert code == 0, "the server must exit cleanly with a watch stream open"
    assert not watcher.is_alive()
    assert ended.get("how") == "finished", ended
    client.close()
