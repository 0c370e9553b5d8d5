"""Static checks of deploy/: what can be checked without a Docker engine, a cluster or systemd.
Each check is a mistake an operator would otherwise meet at deploy time: a misspelt PHOTOVAULT_*
variable (silently ignored), a probe on a port the container does not open, a Secret key or a
Compose secret that does not exist, a Dockerfile stage copied from but never built."""

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

DEPLOY = ROOT / "deploy"


def known_variables() -> set[str]:
    """Every PHOTOVAULT_* name the sources read (plus the ones only the README documents)."""
    names = set()
    for path in (ROOT / "Sources").rglob("*.swift"):
        names |= set(re.findall(r"PHOTOVAULT_[A-Z0-9_]+", path.read_text(errors="replace")))
    return names


def k8s_objects():
    objects = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        objects += [(path.name, document) for document in yaml.safe_load_all(path.read_text()) if document]
    return objects


def containers(objects):
    for name, document in objects:
        if document["kind"] == "Deployment":
            for container in document["spec"]["template"]["spec"]["containers"]:
                yield document, container


def test_every_photovault_variable_in_deploy_is_one_the_servers_read():
    known = known_variables()
    used = {}
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".yaml", ".service", ".example", ".sh", ".Dockerfile"}:
            for name in re.findall(r"PHOTOVAULT_[A-Z0-9_]+", path.read_text()):
                used.setdefault(name, set()).add(path.name)
    # Names the scripts read for themselves, not the servers.
    own = {"PHOTOVAULT_BIN", "PHOTOVAULT_PYTHON"}
    unknown = {name: sorted(files) for name, files in used.items() if name not in known | own}
    assert not unknown, f"variables no server reads: {unknown}"


def test_kubernetes_objects_have_what_their_kind_requires():
    objects = k8s_objects()
    kinds = sorted(document["kind"] for _, document in objects)
    assert kinds == ["Deployment", "Deployment", "Deployment", "HorizontalPodAutoscaler", "Namespace", "Secret",
                     "Secret", "Secret", "Service", "Service"], kinds
    for name, document in objects:
        assert document.get("apiVersion") and document.get("metadata", {}).get("name"), (name, document)
        if document["kind"] == "Deployment":
            spec = document["spec"]
            labels = spec["template"]["metadata"]["labels"]
            assert spec["selector"]["matchLabels"].items() <= labels.items(), name
    deployments = {d["metadata"]["name"]: d for _, d in objects if d["kind"] == "Deployment"}
    for _, document in objects:
        if document["kind"] == "Service":
            selector = document["spec"]["selector"].items()
            matched = [n for n, d in deployments.items() if selector <= d["spec"]["template"]["metadata"]["labels"].items()]
            assert matched, f"Service {document['metadata']['name']} selects no pods"
            for port in document["spec"]["ports"]:
                for deployment in (deployments[n] for n in matched):
                    names = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
                    assert port["targetPort"] in names, (document["metadata"]["name"], port)
        if document["kind"] == "HorizontalPodAutoscaler":
            assert document["spec"]["scaleTargetRef"]["name"] in deployments


def test_kubernetes_probes_and_metrics_use_the_ports_the_servers_open():
    objects = k8s_objects()
    secrets = {d["metadata"]["name"]: set(d["stringData"]) for _, d in objects if d["kind"] == "Secret"}
    known = known_variables()
    for deployment, container in containers(objects):
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e for e in container["env"]}
        assert set(env) <= known, set(env) - known
        grpc_port = int(env.get("PHOTOVAULT_PORT", env.get("PHOTOVAULT_INFERENCE_PORT"))["value"])
        metrics_port = int(env.get("PHOTOVAULT_METRICS_PORT", env.get("PHOTOVAULT_INFERENCE_METRICS_PORT"))["value"])
        assert ports == {"grpc": grpc_port, "metrics": metrics_port}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == grpc_port, (deployment["metadata"]["name"], probe)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == metrics_port
        # Listening on 0.0.0.0, or the probes and the other pods could not reach it.
        hosts = [e["value"] for n, e in env.items() if n.endswith("HOST")]
        assert hosts and set(hosts) == {"0.0.0.0"}, hosts
        for variable in env.values():
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["key"] in secrets[reference["name"]], reference
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
    gpu = [c for d, c in containers(objects) if "nvidia.com/gpu" in c["resources"].get("limits", {})]
    assert len(gpu) == 1 and {e["name"]: e.get("value") for e in gpu[0]["env"]}["PHOTOVAULT_INFERENCE_DEVICE"] == "cuda"
    api = next(c for d, c in containers(objects) if d["metadata"]["name"] == "photovault-api")
    key_files = {e["name"]: e["value"] for e in api["env"] if e["name"].endswith("_FILE")}
    mount = next(m["mountPath"] for m in api["volumeMounts"] if m["name"] == "keys")
    assert {Path(path).parent for path in key_files.values()} == {Path(mount)}
    assert {Path(path).name for path in key_files.values()} <= secrets["photovault-keys"]


def test_compose_file_is_complete():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "api", "inference", "inference-gpu"}
    assert services["postgres"]["image"] == "pgvector/pgvector:pg16"
    assert services["inference-gpu"]["profiles"] == ["gpu"]
    devices = services["inference-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    for name, service in services.items():
        assert "healthcheck" in service, name
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), name
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")  # what make-secrets.sh writes
    known = known_variables()
    api_environment = services["api"]["environment"]
    assert {n for n in api_environment if n.startswith("PHOTOVAULT_")} <= known
    # The default inference list names the CPU service on its port.
    assert "inference:50052" in api_environment["PHOTOVAULT_INFERENCE_URLS"]
    assert api_environment["PHOTOVAULT_MASTER_KEY_FILE"] == "/run/secrets/master_keys"


def test_make_secrets_writes_files_the_servers_accept(tmp_path):
    subprocess.run([str(DEPLOY / "make-secrets.sh"), str(tmp_path)], check=True, capture_output=True)
    master = [line.split() for line in (tmp_path / "master-keys").read_text().splitlines() if not line.startswith("#")]
    jwt = [line.split() for line in (tmp_path / "jwt-keys").read_text().splitlines() if not line.startswith("#")]
    assert [(version, len(base64.b64decode(key))) for version, key in master] == [("1", 32)]
    assert [(kid, len(base64.b64decode(key))) for kid, key in jwt] == [("k1", 32)]
    assert re.fullmatch(r"[0-9a-f]{48}\n", (tmp_path / "postgres-password").read_text())
    # A second run keeps what exists.
    before = (tmp_path / "master-keys").read_text()
    subprocess.run([str(DEPLOY / "make-secrets.sh"), str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "master-keys").read_text() == before


@pytest.mark.parametrize("dockerfile", ["api.Dockerfile", "inference.Dockerfile"])
def test_dockerfile_stages_copied_from_are_built(dockerfile):
    text = (DEPLOY / "docker" / dockerfile).read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", text, flags=re.M))
    copied = set(re.findall(r"--from=(\S+)", text))
    assert copied <= stages, copied - stages
    assert re.search(r"^USER photovault", text, flags=re.M), "runs as an unprivileged user"
    assert (DEPLOY / "docker" / f"{dockerfile}.dockerignore").is_file()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(tmp_path):
    # verify also checks that ExecStart exists: point it at the built binaries.
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        target = tmp_path / unit.name
        target.write_text(unit.read_text().replace("/usr/local/bin/", f"{ROOT / '.build' / 'debug'}/"))
        units.append(str(target))
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_scale_out_script_parses():
    assert subprocess.run(["bash", "-n", str(DEPLOY / "scale-out.sh")]).returncode == 0
