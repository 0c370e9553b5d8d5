"""End-to-end master keys: the first start creates a private key file and says to back it up;
`photovault-api keys rotate` re-wraps every data key and stored photos stay readable; an API
replica with no job workers serves and stops cleanly."""

import os
import stat
import subprocess

from conftest import BIN, ROOT, Server
from image_client import StreamingClient, noise_image, run_tool, sha256

PASSWORD = "a long passphrase 42"


def test_keys_rotate_rewraps_data_keys_and_photos_stay_readable(workdir):
    data = workdir / "var"
    server = Server("photovault-api", workdir, {"PHOTOVAULT_WORKERS": "0"}).start()
    client = StreamingClient(server.address)
    client.call("photovault.v1.AuthService/Register", {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})
    signin, error = client.call("photovault.v1.AuthService/Login", {"email": "ada@example.com", "password": PASSWORD})
    assert error is None, error
    token = signin["access_token"]
    photo = workdir / "photo.png"
    run_tool("vips", "copy", noise_image(workdir, "base", 120, 80), str(photo))
    original = photo.read_bytes()
    uploaded, error = client.upload(token, original, "photo.png")
    assert error is None, error
    image_id = uploaded["image"]["id"]
    client.close()
    assert server.stop() == 0, "an API replica with PHOTOVAULT_WORKERS=0 serves and stops cleanly"

    key_file = data / "master-keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "BACK IT UP" in server.log_path.read_text()
    before = key_file.read_text()

    env = dict(os.environ, PHOTOVAULT_DATA_DIR=str(data))
    rotated = subprocess.run([str(BIN / "photovault-api"), "keys", "rotate"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    assert "master key rotated" in rotated.stderr and "rewrapped=1" in rotated.stderr
    after = key_file.read_text()
    assert after.startswith(before) and after.splitlines()[-1].startswith("2 ")

    server = Server("photovault-api", workdir, {"PHOTOVAULT_WORKERS": "0"}, log_name="server-2.log").start()
    client = StreamingClient(server.address)
    header, downloaded = client.download(token, image_id)
    assert sha256(downloaded) == sha256(original) and header["content_type"] == "image/png"
    client.close()
    assert server.stop() == 0
