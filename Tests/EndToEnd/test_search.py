"""End-to-end: the real photovault-api and photovault-inference binaries, the API pointed at the
inference server, and a client that knows only the address. The inference server is killed
while photos arrive and started again; every photo is analysed and found by meaning."""

import signal

from conftest import Server
from image_client import StreamingClient, noise_image, run_tool, wait_for
from test_images import register

DESCRIPTIONS = [
    "my children playing by the sea",
    "a plate of spaghetti at our favourite restaurant",
    "scanned tax paperwork for the accountant",
]


def test_photos_uploaded_during_an_inference_outage_are_analysed_and_found(workdir):
    # The offline defaults of a fresh install: MiniLM and dlib (the golden tiny CLIP and BLIP
    # would add random tags and captions, which is what the Swift pipeline tests check).
    inference_port_holder = Server("photovault-inference", workdir / "inference", log_name="inference.log")
    inference = inference_port_holder.start()
    api = Server("photovault-api", workdir / "api", {
        "PHOTOVAULT_INFERENCE_URLS": inference.address,
        "PHOTOVAULT_WORKERS": "2",
    }).start()
    client = StreamingClient(api.address)
    try:
        token = register(client, "owner@example.com")
        # The outage: kill -9, no goodbye.
        inference.process.send_signal(signal.SIGKILL)
        inference.process.wait()

        ids = []
        for index in range(6):
            base = noise_image(workdir, f"photo{index}", 160 + index, 120, seed=index + 1)
            path = workdir / f"photo{index}.jpg"
            run_tool("vips", "copy", base, f"{path}[Q=85]")
            reply, error = client.upload(token, path.read_bytes(), f"IMG_{index:04d}.jpg")
            assert error is None, error
            ids.append(reply["image"]["id"])
            if index < len(DESCRIPTIONS):
                _, error = client.call("photovault.v1.ImageService/UpdateMetadata",
                                       {"image_id": ids[-1], "description": DESCRIPTIONS[index]}, token=token)
                assert error is None, error

        def analyze_stages():
            stages = []
            for image_id in ids:
                reply, error = client.call("photovault.v1.ImageService/GetImage", {"image_id": image_id}, token=token)
                assert error is None, error
                stages += [s for s in reply["image"].get("stages", []) if s["stage"] == "PROCESSING_STAGE_ANALYZE"]
            return stages

        # Every photo waits for inference, saying so, with no attempt spent and nothing failed.
        wait_for(lambda: len([s for s in analyze_stages() if s.get("error", "").startswith("Waiting:")]) == len(ids),
                 timeout=120, what="every analysis waiting")
        assert all(s["state"] == "STAGE_STATE_PENDING" for s in analyze_stages())
        # Words are searchable during the outage (full text needs no model).
        found, error = client.call("photovault.v1.SearchService/Search", {"query": "spaghetti"}, token=token)
        assert error is None, error
        assert [hit["image"]["id"] for hit in found["hits"]] == [ids[1]]

        # Inference comes back on the same port: everything resumes by itself.
        inference = inference_port_holder.start()
        states = client.wait_until_processed(token, ids, timeout=300)
        assert set(states.values()) == {"PROCESSING_STATE_READY"}, states
        for stage in analyze_stages():
            assert stage["state"] == "STAGE_STATE_DONE"

        def text_indexed():
            reply, error = client.call("photovault.v1.SearchService/Search", {"query": "kids at the beach"}, token=token)
            assert error is None, error
            hits = reply.get("hits", [])
            return hits and hits[0]["image"]["id"] == ids[0] and any(
                s["signal"] == "SEARCH_SIGNAL_TEXT_EMBEDDING" for s in hits[0]["signals"])
        wait_for(text_indexed, timeout=120, what="the beach photo found by meaning")

        # Without CLIP there are no image embeddings, and SimilarImages says so.
        _, error = client.call("photovault.v1.SearchService/SimilarImages", {"image_id": ids[0]}, token=token)
        assert error.code().name == "FAILED_PRECONDITION" and "no image embedding" in error.details()
        # Nothing died on the way: the outage cost no job its attempts.
        dead, error = client.call("photovault.v1.AdminService/ListJobs", {"state": "JOB_STATE_DEAD"}, token=token)
        assert error is None, error
        assert not dead.get("jobs"), dead
    finally:
        client.close()
        assert api.stop() == 0
        inference_port_holder.stop()
