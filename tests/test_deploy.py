"""Deployment: the Dockerfile, docker-compose.yml and deploy/k8s/, checked with real tools
(hadolint, check-jsonschema with the compose-spec schema, kubernetes-validate) and by
reproducing the serving image's install in a fresh virtualenv, then running its CMD and
HEALTHCHECK. No Docker engine is needed."""

from __future__ import annotations

import http.server
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path, PurePosixPath

import httpx
import pytest
import soundfile as sf
import yaml
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from app.synthesis.bundle import read_meta
from tests.conftest import DEFAULT_BUNDLE, REPO, free_port

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "docker-compose.yml"
K8S = REPO / "deploy" / "k8s"
K8S_VERSIONS = ["1.30.0", "1.37.0"]  # the oldest we claim and kubernetes-validate's newest


def tool(name: str) -> str:
    """A validator installed by the dev extra, next to this interpreter (or on PATH)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} not found: install the dev extra (pip install -e '.[dev]')"
    return found


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    print(f"$ {shlex.join(cmd)}\n{result.stdout}{result.stderr}(exit {result.returncode})")
    return result


# ---------- the Dockerfile ----------


def stages() -> dict[str, list[dict]]:
    """The Dockerfile's instructions, grouped by stage name (FROM ... AS name), in order."""
    parsed = DockerfileParser(str(DOCKERFILE), env_replace=False)
    out: dict[str, list[dict]] = {}
    current: list[dict] | None = None
    for ins in parsed.structure:
        if ins["instruction"] == "FROM":
            words = ins["value"].split()
            assert len(words) == 3 and words[1].upper() == "AS", f"unnamed stage: {ins}"
            current = out.setdefault(words[2], [])
        if current is not None and ins["instruction"] != "COMMENT":
            current.append(ins)
    return out


def values(stage: list[dict], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def exec_form(stage: list[dict], instruction: str) -> list[str]:
    """The JSON array of the stage's last CMD (or the CMD of its HEALTHCHECK)."""
    value = values(stage, instruction)[-1]
    if instruction == "HEALTHCHECK":
        value = value[value.index("CMD") + len("CMD") :]
    words = json.loads(value)
    assert isinstance(words, list), f"{instruction} must use the exec (JSON) form"
    return words


def stage_env(stage: list[dict]) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in values(stage, "ENV"):
        env.update(dict(word.split("=", 1) for word in shlex.split(value)))
    return env


def pip_install_args(stage: list[dict]) -> list[str]:
    """The arguments of the stage's one `pip install`, as the Dockerfile writes them."""
    installs = []
    for value in values(stage, "RUN"):
        for command in value.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                installs.append(words[2:])
    assert len(installs) == 1, f"expected one pip install, got {installs}"
    return installs[0]


def test_hadolint_passes_on_the_dockerfile():
    # Strictest threshold: not even "info" findings, and no rules ignored (no config, no
    # inline `# hadolint ignore`).
    assert "hadolint ignore" not in DOCKERFILE.read_text()
    assert not list(REPO.glob(".hadolint.y*ml"))
    result = run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        cwd=REPO,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_fails_a_bad_variant():
    """The linter really runs: the same Dockerfile plus a typical mistake is rejected."""
    bad = DOCKERFILE.read_text() + "RUN apt-get update && apt-get install -y curl\n"
    result = run([tool("hadolint"), "--no-color", "-"], input=bad, cwd=REPO)
    assert result.returncode != 0
    assert "DL3008" in result.stdout  # unpinned apt package


def test_serving_stage_is_lean_non_root_and_last():
    all_stages = stages()
    assert list(all_stages)[-1] == "serve", "a plain `docker build .` must build the API image"
    build, serve, train = all_stages["build"], all_stages["serve"], all_stages["train"]

    # The serving venv gets the serve extra only; the train stage the train extra.
    assert pip_install_args(build)[-1] == "./[serve]"
    assert pip_install_args(train)[-1] == "./[train]"
    assert "--no-cache-dir" in pip_install_args(build)
    # The final stage installs nothing (no pip, no apt, so no compiler): it copies the venv.
    assert not [v for v in values(serve, "RUN") if "pip" in v or "apt" in v]
    assert "--from=build /opt/venv /opt/venv" in values(serve, "COPY")
    base = values(serve, "FROM")[0].split()[0]
    global_args = DockerfileParser(str(DOCKERFILE)).structure
    default_base = next(i["value"] for i in global_args if i["instruction"] == "ARG")
    assert base == "${PYTHON_IMAGE}" and default_base.startswith("PYTHON_IMAGE=python:3.11-slim")

    user = values(serve, "USER")[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, "numeric non-root uid (runAsNonRoot can check it)"
    assert values(serve, "EXPOSE") == ["8000"]
    assert "models/default/ models/default/" in values(serve, "COPY")

    cmd = exec_form(serve, "CMD")
    assert cmd[:3] == ["python", "-m", "app.serve"]  # the README's serve command
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == "8000"
    assert "--workers" not in cmd, "workers: $WEB_CONCURRENCY, else one per core"
    assert "WEB_CONCURRENCY" not in stage_env(serve)
    # The metrics folder exists in the image, owned by the service's user.
    metrics_dir = stage_env(serve)["PROMETHEUS_MULTIPROC_DIR"]
    assert any(f"-o {user} -g {user}" in v and metrics_dir in v for v in values(serve, "RUN"))

    check = exec_form(serve, "HEALTHCHECK")
    assert check[:2] == ["python", "-c"] and "/readyz" in check[2] and "curl" not in check[2]


def build_context() -> set[str]:
    """The files `docker build .` sends, by docker-py's implementation of .dockerignore."""
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    return {p for p in exclude_paths(str(REPO), patterns) if (REPO / p).is_file()}


def copy_sources() -> set[str]:
    return {
        src.rstrip("/")
        for stage in stages().values()
        for value in values(stage, "COPY")
        if not value.startswith("--from")
        for src in value.split()[:-1]
    }


def test_dockerignore_keeps_the_context_small():
    context = build_context()
    kept_out = (".git/", ".venv/", ".cache/", "data/", "runs/", "reports/", "tests/", ".env")
    assert not [p for p in context if p.startswith(kept_out) or p.endswith((".wav", ".pyc"))]
    assert sum((REPO / p).stat().st_size for p in context) < 30e6  # the bundle is ~9 MB
    # ...and everything the Dockerfile copies is in it (nothing it needs is ignored).
    for src in copy_sources():
        on_disk = [src] if (REPO / src).is_file() else files_under(src)
        assert on_disk and set(on_disk) <= context, f"{src}: missing from the build context"
    assert {"pyproject.toml", "README.md", "app", "models/default"} <= copy_sources()


def files_under(folder: str) -> list[str]:
    return [
        str(path.relative_to(REPO))
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]


# ---------- docker-compose.yml ----------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def check_compose(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with the compose-spec schema it vendors (no network needed)."""
    return run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        cwd=REPO,
    )


def test_compose_file_matches_the_compose_spec_schema():
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_compose_schema_check_rejects_mistakes(tmp_path):
    """The schema check can fail: misspelt keys and a wrong type are caught."""
    for mutate in [
        lambda c: c["services"]["api"].update(restart_policy="always"),
        lambda c: c["services"]["api"]["healthcheck"].update(intervall="15s"),
        lambda c: c["services"]["train"].update(profiles="train"),
    ]:
        data = compose()
        mutate(data)
        path = tmp_path / "docker-compose.yml"
        path.write_text(yaml.safe_dump(data))
        assert check_compose(path).returncode != 0


def test_compose_semantics():
    services = compose()["services"]
    assert set(services) == {"api", "train"}
    # `docker compose up` without arguments starts the services without a profile: the API.
    assert [name for name, s in services.items() if not s.get("profiles")] == ["api"]
    assert services["train"]["profiles"] == ["train"]

    api = services["api"]
    serve = stages()["serve"]
    assert api["build"] == {"context": ".", "target": "serve"}
    assert [p.rsplit(":", 1)[1] for p in api["ports"]] == ["8000"]
    assert api["healthcheck"]["test"] == ["CMD", *exec_form(serve, "HEALTHCHECK")]
    assert api["restart"] in {"always", "unless-stopped"}
    limits = api["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and limits["memory"]
    assert {"path": ".env", "required": False} in api["env_file"]
    # Workers: one per core unless the shell sets WEB_CONCURRENCY; their metrics on a tmpfs
    # at the image's folder, writable by the image's user.
    assert api["environment"]["WEB_CONCURRENCY"] is None
    metrics_dir = stage_env(serve)["PROMETHEUS_MULTIPROC_DIR"]
    assert api["environment"]["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir
    uid = values(serve, "USER")[-1].split(":")[0]
    mount = next(t for t in api["tmpfs"] if t.startswith(f"{metrics_dir}:"))
    assert f"uid={uid}" in mount

    # ./models is mounted read-only where the image keeps its bundles, so the default bundle
    # (models/default, relative to WORKDIR) is served from the host's folder.
    models = f"{values(serve, 'WORKDIR')[-1]}/models"
    mounts = {m["target"]: m for m in api["volumes"]}
    assert mounts[models]["source"] == "./models" and mounts[models]["read_only"] is True
    assert api["environment"]["AUDIOVAE_BUNDLE_PATH"].endswith("models/default}")

    train = services["train"]
    assert train["build"] == {"context": ".", "target": "train"}
    mounts = {m["target"]: m for m in train["volumes"]}
    assert mounts[models]["source"] == "./models" and not mounts[models].get("read_only")
    assert mounts["/data"]["read_only"] is True
    command = train["command"]
    assert command[0] == "fit"
    assert command[command.index("--data") + 1].startswith("/data/")
    assert command[command.index("--out") + 1].startswith("models/")  # i.e. inside the mount
    assert values(stages()["train"], "WORKDIR")[-1] == values(serve, "WORKDIR")[-1]


# ---------- deploy/k8s ----------


def manifests() -> dict[str, dict]:
    docs = [d for f in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())]
    return {d["kind"]: d for d in docs if d}


def validate_k8s(paths: list[Path], version: str) -> subprocess.CompletedProcess:
    return run([tool("kubernetes-validate"), "--strict", "-k", version, *map(str, paths)], cwd=REPO)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_k8s_manifests_match_the_kubernetes_schemas(version):
    files = sorted(K8S.glob("*.yaml"))
    assert len(files) >= 3
    result = validate_k8s(files, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(files)


def test_k8s_validation_rejects_mistakes(tmp_path):
    """Strict validation can fail: a misspelt probe and a string replica count are caught."""
    for mutate in [
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(livenesProbe={}),
        lambda d: d["spec"].update(replicas="2"),
    ]:
        deployment = manifests()["Deployment"]
        mutate(deployment)
        path = tmp_path / "deployment.yaml"
        path.write_text(yaml.safe_dump(deployment))
        assert validate_k8s([path], K8S_VERSIONS[-1]).returncode != 0


def test_k8s_probes_limits_and_security():
    kinds = manifests()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(kinds)
    deployment = kinds["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    serve = stages()["serve"]

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(values(serve, "EXPOSE")[0])}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])

    uid = int(values(serve, "USER")[-1].split(":")[0])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # With a read-only root, /tmp (upload spooling) and the workers' metrics folder must be
    # writable emptyDirs (the latter in memory).
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    env = {e["name"]: e.get("value") for e in container["env"]}
    metrics_dir = stage_env(serve)["PROMETHEUS_MULTIPROC_DIR"]
    assert env["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir and "WEB_CONCURRENCY" not in env
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == metrics_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["emptyDir"]["medium"] == "Memory"

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = kinds["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    hpa = kinds["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


# ---------- the serving image, reproduced without Docker ----------


def copy_like_docker(stage: list[dict], dest_root: Path) -> None:
    """Carry out the stage's COPY instructions from the build context (.dockerignore applied)."""
    context = build_context()
    for value in values(stage, "COPY"):
        if value.startswith("--from"):
            continue
        *sources, dest = value.split()
        assert dest.endswith("/"), f"COPY {value}: expected a folder destination"
        for src in (source.rstrip("/") for source in sources):
            if (REPO / src).is_file():  # COPY file dest/ -> dest/file
                files = {src: PurePosixPath(src).name}
            else:  # COPY folder/ dest/ -> the folder's contents into dest/
                prefix = f"{src}/"
                files = {p: p[len(prefix) :] for p in context if p.startswith(prefix)}
            assert files and set(files) <= context, f"COPY {value}: {src} not in the context"
            for path, rel in files.items():
                target = dest_root / PurePosixPath(dest) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / path, target)


class Answer503(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.slow
def test_serving_image_install_runs_cmd_and_healthcheck(tmp_path):
    all_stages = stages()
    build, serve = all_stages["build"], all_stages["serve"]

    # build stage: a clean copy of what the Dockerfile copies, a fresh venv, `pip install
    # ./[serve]` (not editable), with the Dockerfile's arguments.
    src = tmp_path / "src"
    copy_like_docker(build, src)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    args = [a for a in pip_install_args(build) if a != "--no-cache-dir"]  # a cache is fine here
    pip = [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", *args]
    assert run(pip, cwd=src).returncode == 0

    # serve stage: the runtime folder holds only the bundle; the code comes from the venv.
    workdir = tmp_path / "srv"
    copy_like_docker(serve, workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIOVAE_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    env.update({k: v for k, v in stage_env(serve).items() if k != "PATH"})
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    python = str(venv / "bin" / "python")

    no_tf = run([python, "-c", "import tensorflow"], cwd=workdir, env=env)
    assert no_tf.returncode != 0 and "No module named 'tensorflow'" in no_tf.stderr
    where = run([python, "-c", "import app; print(app.__file__)"], cwd=workdir, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), "app must come from the install"
    serve_help = run([python, "-m", "app.serve", "--help"], cwd=workdir, env=env)
    assert "WEB_CONCURRENCY" in serve_help.stdout  # how the image sets its worker count
    # compose and Kubernetes mount a tmpfs at the image's metrics folder; here, a fresh one
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")

    # The image's CMD, on a loopback port instead of 0.0.0.0:8000.
    port = free_port()
    cmd = exec_form(serve, "CMD")
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[0] = shutil.which(cmd[0], path=env["PATH"])
    env["WEB_CONCURRENCY"] = "2"  # as compose on 2 cores: two workers, one metrics folder
    assert Path(cmd[0]).is_relative_to(venv)
    check = exec_form(serve, "HEALTHCHECK")
    assert ":8000/readyz" in check[2]
    check[2] = check[2].replace(":8000/", f":{port}/")

    server = subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"server exited:\n{server.stdout.read()}"
            assert time.monotonic() < deadline, "server not ready after 60 s"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling while the process starts

        assert run(check, cwd=workdir, env=env).returncode == 0

        response = httpx.post(f"http://127.0.0.1:{port}/generate", params={"digit": 3}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "audio/wav"
        contract = read_meta(DEFAULT_BUNDLE).contract
        info = sf.info(io.BytesIO(response.content))
        samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
        assert (info.format, info.subtype, rate) == ("WAV", "PCM_16", contract["sample_rate"])
        assert samples.shape == (contract["clip_samples"],)
        assert abs(samples).max() > 0.1, "silent"
        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'audiovae_requests_total{method="POST",route="/generate",status="200"} 1.0' in scrape
        assert list(Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db"))
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()

    # Not ready: nothing listening (the server is down), or a 503 from /readyz.
    assert run(check, cwd=workdir, env=env).returncode != 0
    unready = http.server.HTTPServer(("127.0.0.1", port), Answer503)
    thread = threading.Thread(target=unready.serve_forever, daemon=True)
    thread.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 503
        assert run(check, cwd=workdir, env=env).returncode != 0
    finally:
        unready.shutdown()
        unready.server_close()
