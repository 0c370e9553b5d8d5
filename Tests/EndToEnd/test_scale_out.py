"""End-to-end scale-out: deploy/scale-out.sh brings up 2 photovault-api and 2 photovault-inference
replicas that share one PostgreSQL, one blob folder and one set of keys. Under a steady load of
uploads (to both API replicas) and searches, one API replica and one inference replica are
killed with SIGKILL. Every upload acknowledged to a client is stored, analysed and found through
the survivor; searches on the survivor never fail; nothing half-written is left behind; and
Ctrl-C stops everything the script started."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import BIN, ROOT
from image_client import IMAGES, StreamingClient, noise_image, run_tool, sha256, wait_for
from test_images import register

SEARCH = "photovault.v1.SearchService/Search"
PHOTOS = 72


def marker(index: int) -> str:
    """A word found in one photo's description only (searched for at the end)."""
    return f"harbour{index:03d}q"


def pg_bin() -> Path:
    return sorted(ROOT.glob(".venv/lib/python*/site-packages/pgserver/pginstall/bin"))[-1]


class ScaleOut:
    """deploy/scale-out.sh running in its own process group, with what it printed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.output = folder.parent / "scale-out.out"
        env = dict(os.environ, PHOTOVAULT_BIN=str(BIN), PHOTOVAULT_WORKERS="2", PHOTOVAULT_INFERENCE_THREADS="1",
                   PHOTOVAULT_LOG_LEVEL="info")
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen([str(ROOT / "deploy" / "scale-out.sh"), "--dir", str(folder)], cwd=ROOT,
                                            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, preexec_fn=self.as_from_a_terminal)
        wait_for(lambda: self.process.poll() is not None or "\nready\n" in self.text(), timeout=400, interval=0.5,
                 what="the scale-out to start")
        assert self.process.poll() is None, f"scale-out.sh exited:\n{self.text()}"
        self.replicas = {}
        for line in self.text().splitlines():
            parts = line.split()
            if parts and parts[0] in ("api-1", "api-2", "inference-1", "inference-2", "postgres"):
                self.replicas[parts[0]] = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
        self.database_url = (folder / "database-url").read_text().strip()

    @staticmethod
    def as_from_a_terminal():
        # A shell started in the background inherits SIGINT ignored, and bash cannot trap a
        # signal ignored on entry; a terminal's user has it at its default.
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def address(self, name: str) -> str:
        return self.replicas[name]["address"]

    def pid(self, name: str) -> int:
        return int(self.replicas[name]["pid"])

    def kill(self, name: str):
        os.kill(self.pid(name), signal.SIGKILL)

    def sql(self, query: str) -> list[str]:
        result = subprocess.run([str(pg_bin() / "psql"), self.database_url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                 "-c", query], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return [line for line in result.stdout.splitlines() if line]

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the whole process group, as a terminal sends it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                raise
        return self.process.returncode


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def make_photos(folder: Path) -> list[bytes]:
    """Distinct small JPEGs: crops of one noise image at different offsets."""
    base = noise_image(folder, "base", 480, 360, seed=11)
    photos = []
    for index in range(PHOTOS):
        path = folder / f"photo{index}.jpg"
        run_tool("vips", "crop", base, f"{path}[Q=85]", (index * 7) % 300, (index * 5) % 220, 176, 132)
        photos.append(path.read_bytes())
    return photos


class Load:
    """Upload threads (two per API replica; a failed call moves to the other replica, as a
    client with both addresses would) and one search thread per API replica."""

    def __init__(self, scale_out: ScaleOut, token: str, photos: list[bytes]):
        self.names = ["api-1", "api-2"]
        self.clients = {name: StreamingClient(scale_out.address(name)) for name in self.names}
        self.token = token
        self.photos = photos
        self.next_photo = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.killed = None  # the API replica killed, set just before the signal
        self.acknowledged = {}  # photo index -> image id
        self.acknowledged_after_kill = 0
        self.upload_failures = []  # (replica, killed already?, status code)
        self.searches = {name: {"before": 0, "after": 0, "failures": []} for name in self.names}
        self.errors = []  # what went wrong inside a thread, for the test to report
        self.threads = [threading.Thread(target=self.guarded, args=(self.upload_loop, self.names[i % 2])) for i in range(4)]
        self.threads += [threading.Thread(target=self.guarded, args=(self.search_loop, name)) for name in self.names]

    def guarded(self, loop, replica):
        try:
            loop(replica)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append(repr(error))

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=300)
        for client in self.clients.values():
            client.close()
        assert not self.errors, self.errors

    def take_photo(self):
        with self.lock:
            if self.next_photo == len(self.photos):
                return None
            self.next_photo += 1
            return self.next_photo - 1

    def other(self, name: str) -> str:
        return self.names[1 - self.names.index(name)]

    def upload_loop(self, replica: str):
        while not self.stop.is_set() and (index := self.take_photo()) is not None:
            # Each photo is sent until one replica acknowledges it: an upload the killed
            # replica had committed comes back from the survivor as a duplicate with its id.
            for attempt in range(4):
                reply, error = self.clients[replica].upload(self.token, self.photos[index], f"IMG_{index:04d}.jpg",
                                                            timeout=120)
                if error is None:
                    break
                with self.lock:
                    self.upload_failures.append((replica, self.killed is not None, error.code()))
                replica = self.other(replica)
            assert error is None, f"photo {index} was refused by both replicas: {error}"
            with self.lock:
                self.acknowledged[index] = reply["image"]["id"]
                if self.killed is not None:
                    self.acknowledged_after_kill += 1
            # The description is set after the upload, on whichever replica answers.
            for attempt in range(4):
                _, error = self.clients[replica].call(f"{IMAGES}/UpdateMetadata", {
                    "image_id": reply["image"]["id"], "description": f"ferry crossing {marker(index)}"}, token=self.token)
                if error is None:
                    break
                replica = self.other(replica)
            assert error is None, error

    def search_loop(self, replica: str):
        while not self.stop.is_set():
            _, error = self.clients[replica].call(SEARCH, {"query": "a ferry crossing the harbour", "page_size": 10},
                                                  token=self.token)
            with self.lock:
                record = self.searches[replica]
                if error is not None:
                    record["failures"].append((self.killed is not None, error.code()))
                else:
                    record["after" if self.killed is not None else "before"] += 1
            if error is not None and self.killed == replica:
                return  # that replica is gone; its client has nothing more to learn
            time.sleep(0.05)


@pytest.fixture
def scale_out(workdir):
    running = ScaleOut(workdir / "scale-out")
    try:
        yield running
    finally:
        running.interrupt()


def test_killing_one_api_and_one_inference_replica_under_load_loses_no_acknowledged_upload(workdir, scale_out):
    photos = make_photos(workdir)
    survivor, victim = "api-1", "api-2"
    admin = StreamingClient(scale_out.address(survivor))
    token = register(admin, "scale@example.com")

    # The token of one replica works on the other (shared JWT keys and sessions).
    other = StreamingClient(scale_out.address(victim))
    _, error = other.call("photovault.v1.AuthService/Me", {}, token=token)
    other.close()
    assert error is None, error

    load = Load(scale_out, token, photos)
    load.start()
    try:
        wait_for(lambda: len(load.acknowledged) >= 12 and all(s["before"] >= 3 for s in load.searches.values()),
                 timeout=180, what="uploads and searches on both replicas")
        with load.lock:
            load.killed = victim
        scale_out.kill(victim)
        scale_out.kill("inference-1")
        # Keep the load on until the survivor has taken uploads and answered searches since.
        wait_for(lambda: load.acknowledged_after_kill >= 12 and load.searches[survivor]["after"] >= 20,
                 timeout=180, what="uploads and searches after the kills")
    finally:
        load.finish()
    print(f"acknowledged {len(load.acknowledged)} uploads, {load.acknowledged_after_kill} after the kills; "
          f"upload failures {load.upload_failures}; searches {load.searches}")

    # The script noticed the deaths and kept the rest serving.
    wait_for(lambda: "api-2 (pid" in scale_out.text() and "inference-1 (pid" in scale_out.text(), timeout=30,
             what="the script reporting the killed replicas")
    assert not alive(scale_out.pid(victim)) and not alive(scale_out.pid("inference-1"))

    # Searches on the survivor never failed; the victim failed only once it was killed.
    assert load.searches[survivor]["failures"] == []
    assert all(after_kill for after_kill, _ in load.searches[victim]["failures"]), load.searches[victim]
    # Uploads failed only on the killed replica, after the kill.
    assert all(replica == victim and after_kill for replica, after_kill, _ in load.upload_failures), load.upload_failures

    # Every acknowledged upload is stored: the survivor returns its exact bytes.
    ids = set(load.acknowledged.values())
    assert len(ids) == len(load.acknowledged)
    for index, image_id in load.acknowledged.items():
        _, body = admin.download(token, image_id)
        assert sha256(body) == sha256(photos[index]), f"photo {index} came back different"

    # ... and analysed: READY, the analyze stage done (jobs the dead replica had leased are
    # taken over when their lease runs out).
    states = admin.wait_until_processed(token, sorted(ids), timeout=300)
    assert set(states.values()) == {"PROCESSING_STATE_READY"}, states
    for image_id in ids:
        reply, error = admin.call(f"{IMAGES}/GetImage", {"image_id": image_id}, token=token)
        assert error is None, error
        analyze = [s for s in reply["image"]["stages"] if s["stage"] == "PROCESSING_STAGE_ANALYZE"]
        assert [s["state"] for s in analyze] == ["STAGE_STATE_DONE"], reply["image"]["stages"]

    # ... and found by the words of its description, set after the upload.
    def found(index):
        reply, error = admin.call(SEARCH, {"query": marker(index), "page_size": 5}, token=token)
        assert error is None, error
        return load.acknowledged[index] in [hit["image"]["id"] for hit in reply.get("hits", [])]
    for index in load.acknowledged:
        wait_for(lambda: found(index), timeout=120, what=f"photo {index} found by its description")

    # Nothing half-written: the images are exactly the acknowledged ones, and no job died.
    assert set(scale_out.sql("SELECT id FROM images")) == ids
    assert scale_out.sql("SELECT count(*) FROM jobs WHERE state = 'dead'") == ["0"]
    # No orphan blob: every stored file is an image's original, preview or thumbnail, or is
    # registered for deletion; every image's blobs are there.
    objects = scale_out.folder / "blobs" / "objects"
    stored = {path.name.replace("~", "/") for path in objects.glob("*/*/*") if path.is_file()}
    referenced = set(scale_out.sql("SELECT unnest(ARRAY[original_key, preview_key, thumbnail_key]) FROM images"))
    garbage = set(scale_out.sql("SELECT blob_key FROM blob_garbage"))
    assert len(referenced) == 3 * len(ids) and referenced <= stored
    assert stored - referenced <= garbage, f"blobs neither referenced nor queued for deletion: {stored - referenced - garbage}"
    # Half-written blob files can only be the killed replica's (the next start sweeps them).
    leftovers = [path.name for path in (scale_out.folder / "blobs" / "tmp").iterdir()]
    assert all(name.startswith(f".blob-{scale_out.pid(victim)}-") for name in leftovers), leftovers
    admin.close()

    # Ctrl-C stops everything the script started.
    assert scale_out.interrupt() == 0, scale_out.text()
    for name in ("api-1", "inference-2"):
        assert not alive(scale_out.pid(name)), f"{name} still runs"
    assert not (scale_out.folder / "postgres" / "data" / "postmaster.pid").exists(), "PostgreSQL still runs"
