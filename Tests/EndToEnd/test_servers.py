"""End-to-end: the real binaries, the embedded PostgreSQL, and a client that knows only the address."""

import concurrent.futures
import os
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from conftest import BIN, ROOT, Server
from reflection_client import ReflectionClient

PASSWORD = "a long passphrase 42"


def pg_running(data_dir: Path) -> bool:
    return (data_dir / "var" / "postgres" / "data" / "postmaster.pid").exists()


def test_a_reflection_only_client_signs_up_logs_in_refreshes_and_logs_out(api):
    client = ReflectionClient(api.address)
    try:
        services = client.services()
        for name in ["photovault.v1.AuthService", "photovault.v1.ImageService", "grpc.health.v1.Health"]:
            assert name in services

        signup, error = client.call("photovault.v1.AuthService/Register",
                                    {"email": "Grace@Example.com", "password": PASSWORD, "name": "Grace Hopper"})
        assert error is None, error
        assert signup["user"]["email"] == "grace@example.com"
        assert signup["user"]["role"] == "ROLE_ADMIN"

        login, error = client.call("photovault.v1.AuthService/Login", {"email": "grace@example.com", "password": PASSWORD})
        assert error is None, error
        me, error = client.call("photovault.v1.AuthService/Me", {}, token=login["access_token"])
        assert error is None and me["user"]["name"] == "Grace Hopper"

        refreshed, error = client.call("photovault.v1.AuthService/Refresh", {"refresh_token": login["refresh_token"]})
        assert error is None and refreshed["refresh_token"] != login["refresh_token"]

        _, error = client.call("photovault.v1.AuthService/Logout", {}, token=refreshed["access_token"])
        assert error is None
        _, error = client.call("photovault.v1.AuthService/Me", {}, token=refreshed["access_token"])
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED

        _, error = client.call("photovault.v1.AuthService/Login", {"email": "grace@example.com", "password": "wrong one!!"})
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error.details() == "The e-mail address or the password is wrong."

        # Every service answers through reflection alone: a new library has no people yet.
        people, error = client.call("photovault.v1.PeopleService/ListPeople", {}, token=signup["access_token"])
        assert error is None and not people.get("people")
    finally:
        client.close()

    log = api.log()
    assert "request_id=" in log
    assert PASSWORD not in log and signup["access_token"] not in log


def test_sigterm_lets_calls_in_flight_finish_loses_nothing_and_stops_postgres(workdir):
    server = Server("photovault-api", workdir).start()
    assert pg_running(workdir)
    client = ReflectionClient(server.address)
    emails = [f"user{index}@example.com" for index in range(12)]

    def register(email):
        return client.call("photovault.v1.AuthService/Register", {"email": email, "password": PASSWORD, "name": "U"})

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = {pool.submit(register, email): email for email in emails}
        # Argon2id keeps each sign-up busy for tens of milliseconds: stop while they run.
        time.sleep(0.05)
        server.process.send_signal(__import__("signal").SIGTERM)
        outcomes = {futures[future]: future.result() for future in concurrent.futures.as_completed(futures)}
    assert server.process.wait(timeout=60) == 0
    client.close()
    assert not pg_running(workdir), "the embedded PostgreSQL should stop with the API"

    acknowledged = [email for email, (reply, error) in outcomes.items() if error is None]
    print("acknowledged", len(acknowledged), "of", len(outcomes))
    assert acknowledged, "some sign-ups were in flight when SIGTERM came and should have finished"
    for email, (reply, error) in outcomes.items():
        if error is not None:
            assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), (email, error)

    # Every sign-up the client saw succeed is there after a restart (the data folder is reused).
    server = Server("photovault-api", workdir).start()
    client = ReflectionClient(server.address)
    try:
        for email in acknowledged:
            _, error = client.call("photovault.v1.AuthService/Login", {"email": email, "password": PASSWORD})
            assert error is None, (email, error)
    finally:
        client.close()
        server.stop()
    assert "finishing calls in flight" in server.log()


def test_bad_configuration_is_refused_with_one_sentence_per_value(workdir):
    env = dict(os.environ, PHOTOVAULT_PORT="seventy", PHOTOVAULT_SMTP_URL="smtp://mail.example.com",
               PHOTOVAULT_SMTP_TLS="maybe", PHOTOVAULT_DATA_DIR=str(workdir / "var"))
    result = subprocess.run([str(BIN / "photovault-api")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PHOTOVAULT_PORT must be a whole number from 0 to 65535, not 'seventy'." in result.stderr
    assert "PHOTOVAULT_SMTP_TLS must be starttls, tls or none, not 'maybe'." in result.stderr
    assert not (workdir / "var").exists(), "nothing should be created for a configuration that is refused"


def test_migrate_applies_the_schema_and_exits(workdir):
    env = dict(os.environ, PHOTOVAULT_DATA_DIR=str(workdir / "var"))
    result = subprocess.run([str(BIN / "photovault-api"), "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "applied migration" in result.stderr and "accounts" in result.stderr
    assert not pg_running(workdir)
    again = subprocess.run([str(BIN / "photovault-api"), "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "applied migration" not in again.stderr


def test_inference_server_answers_health_reflection_and_lists_its_models(workdir):
    server = Server("photovault-inference", workdir).start()
    client = ReflectionClient(server.address)
    try:
        assert "photovault.inference.v1.InferenceService" in client.services()
        reply, error = client.call("photovault.inference.v1.InferenceService/ListModels", {})
        assert error is None and "all-MiniLM-L6-v2" in [model["name"] for model in reply["models"]]
    finally:
        client.close()
    assert server.stop() == 0


def test_with_a_certificate_the_api_speaks_tls_only(workdir):
    certificate, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(certificate),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    root = certificate.read_bytes()
    server = Server("photovault-api", workdir, {"PHOTOVAULT_TLS_CERT": str(certificate), "PHOTOVAULT_TLS_KEY": str(key)},
                    root_certificate=root).start()
    try:
        secure = ReflectionClient(server.address, root_certificate=root)
        reply, error = secure.call("photovault.v1.AuthService/Register", {"email": "tls@example.com", "password": PASSWORD, "name": "T"})
        assert error is None, error
        secure.close()
        from grpc_health.v1 import health_pb2, health_pb2_grpc
        with grpc.insecure_channel(server.address) as plain:
            with pytest.raises(grpc.RpcError) as refused:
                health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        home = workdir / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home))
        login = subprocess.run([str(BIN / "photovault"), "login", "--server", server.address, "--tls-ca", str(certificate),
                                "--email", "tls@example.com", "--password-stdin"], input=PASSWORD + "\n", env=env,
                               capture_output=True, text=True, timeout=60)
        assert login.returncode == 0, login.stderr
    finally:
        assert server.stop() == 0


def test_half_a_tls_configuration_is_refused(workdir):
    env = dict(os.environ, PHOTOVAULT_TLS_CERT="/nonexistent.pem", PHOTOVAULT_DATA_DIR=str(workdir / "var"))
    result = subprocess.run([str(BIN / "photovault-api")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PHOTOVAULT_TLS_CERT and PHOTOVAULT_TLS_KEY must be set together" in result.stderr


def embedded_postgres(workdir, action):
    """Runs pg_ctl on the API's embedded PostgreSQL: "stop" (immediately) or "start"."""
    pg_ctl = sorted(ROOT.glob(".venv/lib/python*/site-packages/pgserver/pginstall/bin/pg_ctl"))[-1]
    data = workdir / "var" / "postgres" / "data"
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if action == "stop":
        arguments = ["-m", "immediate", "-w", "stop"]
    else:
        socket_dir = workdir / "var" / "postgres" / "run"
        arguments = ["-l", str(workdir / "var" / "postgres" / "postgres.log"),
                     "-o", f"-c listen_addresses='' -k {socket_dir} -p 5432", "-w", "start"]
    subprocess.run([*as_owner, str(pg_ctl), "-D", str(data), *arguments], check=True, capture_output=True)


def test_a_database_outage_is_unavailable_and_the_api_recovers(workdir):
    server = Server("photovault-api", workdir).start()
    client = ReflectionClient(server.address)
    try:
        _, error = client.call("photovault.v1.AuthService/Register", {"email": "outage@example.com", "password": PASSWORD, "name": "O"})
        assert error is None
        embedded_postgres(workdir, "stop")

        _, error = client.call("photovault.v1.AuthService/Login", {"email": "outage@example.com", "password": PASSWORD}, timeout=30)
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error
        assert error.details() == "The database is unavailable right now; retry shortly."

        embedded_postgres(workdir, "start")
        deadline = time.time() + 30
        while True:
            _, error = client.call("photovault.v1.AuthService/Login", {"email": "outage@example.com", "password": PASSWORD})
            if error is None or time.time() > deadline:
                break
            time.sleep(0.5)
        assert error is None, error
    finally:
        client.close()
        server.stop()


def test_sigterm_stops_the_api_while_its_database_is_down(workdir):
    # Stopped right after start, PostgreSQL goes away in the middle of the first places load and
    # under the notification listener; neither may keep the process from stopping.
    server = Server("photovault-api", workdir).start()
    embedded_postgres(workdir, "stop")
    time.sleep(1)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=30)
    assert "photovault-api shutting down" in server.log()
