"""docker-compose.yml, checked with check-jsonschema and the compose-spec schema, and
against the Dockerfile's serving stage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.deployment import exec_form, run, stage_env, stages, tool, values

COMPOSE = REPO / "docker-compose.yml"


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
