"""The photovault CLI against a real photovault-api: login, whoami (with automatic refresh), logout."""

import json
import os
import stat
import subprocess

from conftest import BIN, ROOT
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


def test_unreachable_server_is_one_sentence_with_its_own_exit_status(workdir):
    home = workdir / "home"
    home.mkdir()
    result = cli(None, home, "login", "--server", "127.0.0.1:1", "--email", "x@example.com", "--password-stdin", stdin="whatever pass\n")
    assert result.returncode == 4, (result.returncode, result.stderr)
    assert result.stderr.startswith("photovault: ") and "(UNAVAILABLE)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
