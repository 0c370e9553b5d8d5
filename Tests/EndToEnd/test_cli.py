"""The photovault CLI against a real photovault-api: login, whoami (with automatic refresh), logout."""

import json
import os
import stat
import subprocess
import time

from conftest import BIN, ROOT, Server
from reflection_client import ReflectionClient

PASSWORD = "a long passphrase 42"


def cli(api, home, *arguments, stdin=None):
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME="")
    env.pop("XDG_CONFIG_HOME")
    return subprocess.run([str(BIN / "photovault"), *arguments], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_login_whoami_refresh_and_logout(api, workdir):
    client = ReflectionClient(api.address)
    _, error = client.call("photovault.v1.AuthService/Register", {"email": "cli@example.com", "password": PASSWORD, "name": "Cli User"})
    assert error is None
    client.close()
    home = workdir / "home"
    home.mkdir()

    result = cli(api, home, "whoami")
    assert result.returncode == 3
    assert "You are not signed in; run `photovault login` first." in result.stderr

    result = cli(api, home, "login", "--server", api.address, "--email", "cli@example.com", "--password-stdin", stdin="wrong password\n")
    assert result.returncode == 3
    assert "The e-mail address or the password is wrong. (UNAUTHENTICATED)" in result.stderr

    result = cli(api, home, "login", "--server", api.address, "--email", "cli@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "Signed in to" in result.stdout
    credentials = home / ".config" / "photovault" / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.parent.stat().st_mode) == 0o700

    result = cli(api, home, "whoami", "--json")
    assert result.returncode == 0, result.stderr
    me = json.loads(result.stdout)
    assert me["email"] == "cli@example.com" and me["role"] == "admin" and me["server"] == api.address

    # A refused access token is refreshed automatically and the new pair saved.
    saved = json.loads(credentials.read_text())
    saved["accessToken"] = "not-a-token"
    credentials.write_text(json.dumps(saved))
    result = cli(api, home, "whoami")
    assert result.returncode == 0, result.stderr
    assert "Cli User <cli@example.com>, admin" in result.stdout
    refreshed = json.loads(credentials.read_text())
    assert refreshed["accessToken"] != "not-a-token" and refreshed["refreshToken"] != saved["refreshToken"]

    result = cli(api, home, "logout")
    assert result.returncode == 0 and not credentials.exists()


def test_register_creates_an_account_signs_in_and_refuses_a_weak_password(api, workdir):
    home = workdir / "home"
    home.mkdir()
    result = cli(api, home, "register", "--server", api.address, "--email", "New@Example.com", "--name", "New User",
                 "--password-stdin", stdin="password\n")
    assert result.returncode == 5 and "(INVALID_ARGUMENT)" in result.stderr and "password" in result.stderr
    assert not (home / ".config" / "photovault" / "credentials.json").exists()

    account = json.loads(cli(api, home, "register", "--server", api.address, "--email", "New@Example.com", "--name", "New User",
                             "--password-stdin", "--json", stdin=PASSWORD + "\n").stdout)
    assert account == {"email": "new@example.com", "name": "New User", "role": "admin", "server": api.address}
    me = run_json(api, home, "whoami")
    assert me["email"] == "new@example.com" and me["role"] == "admin"
    again = cli(api, home, "register", "--server", api.address, "--email", "new@example.com", "--name", "Twice",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode != 0 and "already" in again.stderr


def test_unreachable_server_is_one_sentence_with_its_own_exit_status(workdir):
    home = workdir / "home"
    home.mkdir()
    result = cli(None, home, "login", "--server", "127.0.0.1:1", "--email", "x@example.com", "--password-stdin", stdin="whatever pass\n")
    assert result.returncode == 4, (result.returncode, result.stderr)
    assert result.stderr.startswith("photovault: ") and "(UNAVAILABLE)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# The rest of the CLI: uploads (folders, concurrency, resume after Ctrl-C, duplicates), the
# image, search, album, dashboard and admin commands, --json everywhere, errors and exit codes.

import re
import shutil
import signal

from image_client import MIB, noise_image, run_tool, sha256_file, wait_for

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def signed_in(api, workdir, email="owner@example.com", name="Owner"):
    """A registered account and a HOME whose CLI is signed in to it."""
    client = ReflectionClient(api.address)
    _, error = client.call("photovault.v1.AuthService/Register", {"email": email, "password": PASSWORD, "name": name})
    assert error is None, error
    client.close()
    home = workdir / f"home-{email.split('@')[0]}"
    home.mkdir()
    result = cli(api, home, "login", "--server", api.address, "--email", email, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    return home


def run_json(api, home, *arguments):
    result = cli(api, home, *arguments, "--json")
    assert result.returncode == 0, (arguments, result.returncode, result.stderr)
    return json.loads(result.stdout)


def make_photos(folder, count, width=320, height=240, seed=1, prefix="IMG_", suffix=".jpg", quality=90):
    """`count` photos of distinct content: crops at different places of one noise picture."""
    folder.mkdir(parents=True, exist_ok=True)
    base = noise_image(folder.parent, f"base-{folder.name}-{seed}", width + count, height + count, seed=seed)
    paths = []
    for index in range(count):
        path = folder / f"{prefix}{index:04d}{suffix}"
        options = f"[Q={quality}]" if suffix == ".jpg" else ""
        run_tool("vips", "crop", base, f"{path}{options}", index, count - index, width, height)
        paths.append(path)
    base.unlink()
    return paths


def test_upload_of_a_folder_lists_every_photo_and_skips_what_is_not_one(api, workdir):
    home = signed_in(api, workdir)
    folder = workdir / "photos"
    photos = make_photos(folder, 24)
    nested = make_photos(folder / "2024" / "june", 6, seed=2, prefix="DSC_")
    (folder / "notes.txt").write_text("not a photo\n")
    (folder / "fake.jpg").write_text("a text file wearing a .jpg name\n")
    total = sum(p.stat().st_size for p in photos + nested)

    result = cli(api, home, "upload", str(folder), "--jobs", "4")
    assert result.returncode == 0, result.stderr
    # stdout is a pipe here: plain lines, one per file, and no progress bar.
    assert "\r" not in result.stdout and "\x1b" not in result.stdout + result.stderr
    done = [line for line in result.stdout.splitlines() if re.match(r"^\[\s*\d+/30\] uploaded ", line)]
    assert len(done) == 30, result.stdout
    assert "skipped" in result.stdout and "notes.txt: not an image by its name" in result.stdout
    assert "fake.jpg: its bytes are not an image's" in result.stdout
    assert "Summary: 30 uploaded, 0 already uploaded, 0 duplicates, 2 skipped (not images), 0 failed." in result.stdout

    listing = run_json(api, home, "ls", "--all")
    assert len(listing["images"]) == 30
    names = {image["file_name"] for image in listing["images"]}
    assert names == {p.name for p in photos + nested}
    assert {image["sha256"] for image in listing["images"]} == {sha256_file(p) for p in photos + nested}
    assert sum(int(image["byte_size"]) for image in listing["images"]) == total

    # Again: everything is already there, and nothing is sent (the expired access token is
    # refreshed on the way).
    credentials = home / ".config" / "photovault" / "credentials.json"
    saved = json.loads(credentials.read_text())
    saved["accessToken"], saved["accessTokenExpiresAt"] = "expired", "2020-01-01T00:00:00Z"
    credentials.write_text(json.dumps(saved))
    again = run_json(api, home, "upload", str(folder), "--jobs", "4")
    assert again["already_uploaded"] == 30 and again["uploaded"] == 0 and again["bytes_sent"] == 0
    assert json.loads(credentials.read_text())["refreshToken"] != saved["refreshToken"]
    assert sorted(s["path"].rsplit("/", 1)[-1] for s in again["skipped"]) == ["fake.jpg", "notes.txt"]

    # Duplicates are skipped without sending: a copy under another name, twins within one run.
    extra = workdir / "extra"
    extra.mkdir()
    shutil.copy(photos[0], extra / "copy-of-first.jpg")
    fresh = make_photos(workdir / "fresh", 1, seed=3)[0]
    shutil.copy(fresh, extra / "new.jpg")
    shutil.copy(fresh, extra / "new-twin.jpg")
    summary = run_json(api, home, "upload", str(extra))
    assert summary["already_uploaded"] == 1 and summary["uploaded"] == 1 and summary["duplicates"] == 1
    assert summary["bytes_sent"] == fresh.stat().st_size
    assert len(run_json(api, home, "ls", "--all")["images"]) == 31


def test_an_interrupted_upload_resumes_without_sending_finished_files_again(api, workdir):
    home = signed_in(api, workdir)
    folder = workdir / "big"
    # Sent in name order with --jobs 1: three small photos, one of about 19 MB (a noise PNG hardly
    # not compress), four small ones. Ctrl-C comes while the large one is on its way.
    first = make_photos(folder, 3, prefix="A_", suffix=".png", width=400, height=300)
    large = make_photos(folder, 1, prefix="B_", suffix=".png", width=2900, height=2900, seed=2)[0]
    last = make_photos(folder, 4, prefix="C_", suffix=".png", width=400, height=300, seed=3)
    photos = first + [large] + last
    sizes = {p.name: p.stat().st_size for p in photos}
    total = sum(sizes.values())
    assert sizes[large.name] > 16 * MIB

    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    process = subprocess.Popen([str(BIN / "photovault"), "upload", str(folder), "--jobs", "1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished = []
    for line in process.stdout:
        match = re.match(r"^\[\s*\d+/8\] uploaded .*/(A_\d+\.png) ", line)
        if match:
            finished.append(match.group(1))
        if len(finished) == 3:
            break
    # The large photo's session, from the CLI's resume state: wait until the server holds a part.
    state = home / ".config" / "photovault" / "uploads"
    session_id = wait_for(lambda: next((json.loads(f.read_text())["sessionID"] for f in state.glob("*.json")
                                        if json.loads(f.read_text())["path"].endswith(large.name)), None),
                          timeout=120, what="the large photo's upload session")
    token = json.loads((home / ".config" / "photovault" / "credentials.json").read_text())["accessToken"]
    client = ReflectionClient(api.address)

    def received():
        reply, error = client.call("photovault.v1.ImageService/GetUploadSession", {"session_id": session_id}, token=token)
        assert error is None, error
        return int(reply.get("bytes_received", 0)) >= 8 * MIB
    wait_for(received, timeout=120, what="8 MiB of the large photo stored")
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 130, stderr
    assert "Interrupted; run the same command again to resume." in stderr
    assert re.search(r"Summary: 3 uploaded, .* 1 interrupted, 4 not started\.", rest), rest
    assert sorted(image["file_name"] for image in run_json(api, home, "ls", "--all")["images"]) == sorted(finished)
    reply, _ = client.call("photovault.v1.ImageService/GetUploadSession", {"session_id": session_id}, token=token)
    kept = int(reply["bytes_received"])
    client.close()

    summary = run_json(api, home, "upload", str(folder), "--jobs", "1")
    assert summary["failed"] == 0 and summary["interrupted"] is False
    # Finished files are not sent again; the large one continues where the server stopped.
    # (Every counter and each file's result are shown if this fails: it once counted 4 uploads.)
    counters = {key: value for key, value in summary.items() if key != "files"}
    results = [(f["path"].rsplit("/", 1)[-1], f["result"], f.get("reason")) for f in summary["files"]]
    assert summary["already_uploaded"] == 3 and summary["uploaded"] == 5 and summary["resumed"] == 1, (counters, results)
    entry = next(f for f in summary["files"] if f["path"].endswith(large.name))
    assert entry["result"] == "uploaded" and entry["reason"] == "resumed"
    assert entry["bytes_sent"] == sizes[large.name] - kept
    assert summary["bytes_sent"] == total - sum(sizes[name] for name in finished) - kept
    listing = run_json(api, home, "ls", "--all")["images"]
    assert sorted(image["file_name"] for image in listing) == sorted(sizes)
    assert {image["sha256"] for image in listing} == {sha256_file(p) for p in photos}
    # Nothing of the interrupted run is left for the next one.
    assert list(state.glob("*.json")) == []


def test_image_album_search_dashboard_and_admin_commands(api, workdir):
    home = signed_in(api, workdir)
    photos = make_photos(workdir / "photos", 3)
    summary = run_json(api, home, "upload", str(workdir / "photos"))
    ids = {entry["path"].rsplit("/", 1)[-1]: entry["image_id"] for entry in summary["files"]}
    first, second, third = (ids[p.name] for p in photos)

    shown = run_json(api, home, "show", first)
    assert shown["id"] == first and shown["file_name"] == photos[0].name and shown["sha256"] == sha256_file(photos[0])
    human = cli(api, home, "show", first)
    assert human.returncode == 0 and photos[0].name in human.stdout and "sha256" in human.stdout

    target = workdir / "downloads" / "copy.jpg"
    target.parent.mkdir()
    saved = run_json(api, home, "download", first, "-o", str(target))
    assert saved["path"] == str(target) and target.read_bytes() == photos[0].read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["copy.jpg"]
    result = cli(api, home, "download", second, "-o", str(target.parent))
    assert result.returncode == 0, result.stderr
    assert (target.parent / photos[1].name).read_bytes() == photos[1].read_bytes()

    edited = run_json(api, home, "edit", first, "--caption", "a red bicycle leaning on a harbour wall",
                      "--description", "Saturday morning", "--add-tag", "bicycle", "--taken-at", "2021-05-04T10:30:00+02:00")
    assert edited["caption"] == "a red bicycle leaning on a harbour wall" and edited["description"] == "Saturday morning"
    assert edited["taken_at"] == "2021-05-04T08:30:00Z" and edited["taken_at_offset_minutes"] == 120
    assert any(tag["name"] == "bicycle" for tag in edited["tags"])
    edited = run_json(api, home, "edit", first, "--remove-tag", "bicycle")
    assert not any(tag["name"] == "bicycle" for tag in edited.get("tags", []))

    # Full text (inference is off in these tests) finds the described photo once it is indexed.
    def found():
        hits = run_json(api, home, "search", "bicycle", "harbour").get("hits", [])
        return [hit["image"]["id"] for hit in hits]
    assert wait_for(found, timeout=60, what="the caption indexed") == [first]
    assert run_json(api, home, "search", "bicycle", "--from", "2021-01-01", "--to", "2021-12-31")["hits"][0]["image"]["id"] == first
    assert run_json(api, home, "search", "bicycle", "--from", "2022-01-01").get("hits", []) == []
    human = cli(api, home, "search", "bicycle")
    assert human.returncode == 0 and first in human.stdout

    removed = run_json(api, home, "rm", second)
    assert removed["results"][0]["image_id"] == second and "deleted_at" in removed["results"][0]
    assert second not in {i["id"] for i in run_json(api, home, "ls")["images"]}
    assert [i["id"] for i in run_json(api, home, "ls", "--trashed")["images"]] == [second]
    restored = run_json(api, home, "restore", second)
    assert restored["results"][0]["image"]["id"] == second
    assert second in {i["id"] for i in run_json(api, home, "ls")["images"]}
    result = cli(api, home, "rm", third, "--permanent")
    assert result.returncode == 0 and "for good" in result.stdout
    assert len(run_json(api, home, "ls", "--include-trashed")["images"]) == 2

    album = run_json(api, home, "albums", "create", "Harbour", "--description", "boats", "--image", first)["album"]
    refused = cli(api, home, "albums", "add", album["id"], second, UNKNOWN_ID)
    assert refused.returncode == 6 and UNKNOWN_ID in refused.stderr and "(NOT_FOUND)" in refused.stderr
    added = run_json(api, home, "albums", "add", album["id"], second)
    assert added["added_count"] == 1 and added["album"]["image_count"] == 2
    albums = run_json(api, home, "albums", "list")["albums"]
    assert [(a["title"], a["image_count"]) for a in albums] == [("Harbour", 2)]
    content = run_json(api, home, "albums", "show", album["id"])
    assert {i["id"] for i in content["images"]} == {first, second}
    assert run_json(api, home, "albums", "rename", album["id"], "Harbour walk")["title"] == "Harbour walk"
    assert run_json(api, home, "albums", "remove", album["id"], second)["album"]["image_count"] == 1
    # Uploading into an album: new photos and ones already there both end up in it.
    more = make_photos(workdir / "more", 1, seed=5)
    shutil.copy(photos[1], workdir / "more" / "again.jpg")
    summary = run_json(api, home, "upload", str(workdir / "more"), "--album", album["id"])
    assert summary["uploaded"] == 1 and summary["already_uploaded"] == 1
    assert run_json(api, home, "albums", "show", album["id"])["album"]["image_count"] == 3

    stats = run_json(api, home, "dashboard", "stats")
    assert stats["image_count"] == 3 and stats["album_count"] == 1
    human = cli(api, home, "dashboard")
    assert human.returncode == 0 and re.search(r"^photos\s+3$", human.stdout, re.M)

    users = run_json(api, home, "admin", "users")["users"]
    assert [u["email"] for u in users] == ["owner@example.com"] and users[0]["role"] == "ROLE_ADMIN"
    human = cli(api, home, "admin", "users", "list")
    assert human.returncode == 0 and "owner@example.com" in human.stdout and "admin" in human.stdout

    # Every other command's --json parses too.
    for arguments in [
        ["whoami"], ["ls", "--all", "--order", "taken-asc"], ["albums", "by-date", "--granularity", "month"],
        ["albums", "by-location"], ["albums", "generate"], ["dashboard", "activity"], ["dashboard", "storage"],
        ["dashboard", "locations"], ["admin", "jobs", "list"], ["search", "--has-faces"],
        ["albums", "update", album["id"], "--sort", "added-desc"], ["albums", "delete", album["id"]],
    ]:
        run_json(api, home, *arguments)


def test_errors_are_one_sentence_with_documented_exit_statuses(api, workdir):
    home = signed_in(api, workdir)

    result = cli(api, home, "show", UNKNOWN_ID)
    assert result.returncode == 6
    assert result.stderr.startswith("photovault: ") and result.stderr.strip().endswith("(NOT_FOUND)")
    assert len(result.stderr.strip().splitlines()) == 1
    result = cli(api, home, "show", UNKNOWN_ID, "--json")
    assert result.returncode == 6
    error = json.loads(result.stdout)["error"]
    assert error["status"] == "NOT_FOUND" and error["exit_status"] == 6 and error["message"].endswith("(NOT_FOUND)")

    result = cli(api, home, "show", "not-an-id")
    assert result.returncode == 5 and "(INVALID_ARGUMENT)" in result.stderr
    # Likeness to a photo that is not there.
    result = cli(api, home, "search", "--similar-to", UNKNOWN_ID)
    assert result.returncode == 6 and "(NOT_FOUND)" in result.stderr

    result = cli(api, home, "ls", "--server", "127.0.0.1:1")
    assert result.returncode == 4 and "(UNAVAILABLE)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    stranger = workdir / "stranger"
    stranger.mkdir()
    result = cli(api, stranger, "ls", "--json")
    assert result.returncode == 3 and json.loads(result.stdout)["error"]["exit_status"] == 3
    assert "run `photovault login` first" in result.stderr

    result = cli(api, home, "ls", "--order", "sideways")
    assert result.returncode == 2 and "--order must be" in result.stderr
    result = cli(api, home, "upload")
    assert result.returncode == 2
    result = cli(api, home, "upload", "--jobs", "0", str(workdir), "--json")
    assert result.returncode == 2 and "error" in json.loads(result.stdout)

    # A photo that does not exist: the run goes on and ends with status 9 and the reason.
    photos = make_photos(workdir / "photos", 1)
    result = cli(api, home, "upload", str(photos[0]), str(workdir / "missing.jpg"))
    assert result.returncode == 9, result.stderr
    assert "1 uploaded" in result.stdout and "missing.jpg: No such file or folder." in result.stdout

    # A person merged into themselves: the server's sentence, status 5.
    person = "0b9c3c52-4a55-4d7e-9d1d-6a7a5d1b0c11"
    result = cli(api, home, "people", "merge", person, person)
    assert result.returncode == 5 and "(INVALID_ARGUMENT)" in result.stderr and "themselves" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = cli(api, home, "people", "reassign-face", person, person, "--nobody")
    assert result.returncode == 2 and "exactly one of" in result.stderr
    # A link whose token the server never issued: the server's sentence, status 6.
    result = cli(api, home, "events", "find-me", str(photos[0]), "--link", "https://photos.example.com/s/abc123?x=1", "--json")
    assert result.returncode == 6 and json.loads(result.stdout)["error"]["status"] == "NOT_FOUND"


def astronaut_variants(folder):
    """scikit-image's astronaut (Eileen Collins) at three scales and a darker copy."""
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = sorted(ROOT.glob(".venv/lib/python*/site-packages/skimage/data/astronaut.png"))[-1]
    for index, scale in enumerate(["1.0", "0.8", "0.65"]):
        run_tool("vips", "resize", astronaut, f"{folder / f'eileen-{index}.jpg'}[Q=90]", scale)
    run_tool("vips", "linear", astronaut, f"{folder / 'eileen-dark.jpg'}[Q=90]", "0.7", "0")
    return sorted(folder.glob("*.jpg"))


def test_people_commands_name_and_correct_the_people_found_in_real_photos(workdir):
    inference = Server("photovault-inference", workdir / "inference", log_name="inference.log").start()
    api = Server("photovault-api", workdir / "api", {"PHOTOVAULT_INFERENCE_URLS": inference.address}).start()
    try:
        home = signed_in(api, workdir)
        photos = astronaut_variants(workdir / "eileen")
        result = cli(api, home, "upload", str(workdir / "eileen"))
        assert result.returncode == 0, result.stderr
        deadline = time.time() + 120
        while True:
            people = run_json(api, home, "people", "list")["people"]
            if (people and people[0]["photo_count"] == len(photos)) or time.time() > deadline:
                break
            time.sleep(1)
        assert len(people) == 1 and people[0]["photo_count"] == 4, people
        person = people[0]["id"]

        renamed = run_json(api, home, "people", "rename", person, "Eileen Collins")
        assert renamed["name"] == "Eileen Collins"
        shown = cli(api, home, "people", "show", person)
        assert shown.returncode == 0 and "Eileen Collins" in shown.stdout
        images = run_json(api, home, "people", "images", person)["images"]
        assert len(images) == 4 and all(len(entry["faces"]) == 1 for entry in images)

        # The darker copy is taken away by hand and stays away after a full recluster.
        face = images[0]["faces"][0]["id"]
        moved = run_json(api, home, "people", "reassign-face", face, "--nobody")
        assert moved["face"]["assigned_by_user"] and "person" not in moved
        queued = run_json(api, home, "people", "recluster", "--full")
        assert queued["face_count"] == 3 and queued["job_id"]
        deadline = time.time() + 60
        while time.time() < deadline:
            jobs = run_json(api, home, "admin", "jobs", "--kind", "recluster_faces")
            if any(job["state"] == "JOB_STATE_SUCCEEDED" for job in jobs["jobs"]):
                break
            time.sleep(0.5)
        after = run_json(api, home, "people", "show", person)
        assert after["name"] == "Eileen Collins" and after["photo_count"] == 3

        albums = run_json(api, home, "albums", "list", "--kind", "person")["albums"]
        assert [album["title"] for album in albums] == ["Eileen Collins"] and albums[0]["image_count"] == 3
        dashboard = run_json(api, home, "dashboard", "people")
        assert dashboard["people"][0]["name"] == "Eileen Collins"

        # An event of these photos, shared by a link; a guest finds herself from a selfie.
        event = run_json(api, home, "events", "create", "Space camp", "--location", "Houston")
        photo_ids = [entry["image"]["id"] for entry in images]
        added = run_json(api, home, "events", "add-images", str(event["id"]), *photo_ids)
        assert added["added_count"] == 4
        link = run_json(api, home, "events", "share", "create", str(event["id"]))
        assert len(link["token"]) >= 43 and not link.get("has_password")
        guest = workdir / "guest"
        guest.mkdir()
        url = f"https://photos.example.com/s/{link['token']}"
        found = run_json(api, guest, "events", "find-me", str(photos[1]), "--link", url, "--server", api.address)
        assert sorted(match["image"]["id"] for match in found["matches"]) == sorted(photo_ids)
        links = run_json(api, home, "events", "share", "list", str(event["id"]))["links"]
        assert [entry["id"] for entry in links] == [link["id"]] and "token" not in links[0]
        run_json(api, home, "events", "share", "revoke", link["id"])
        refused = cli(api, guest, "events", "find-me", str(photos[1]), "--link", url, "--server", api.address)
        assert refused.returncode == 6 and "(NOT_FOUND)" in refused.stderr
    finally:
        api.stop()
        inference.stop()
