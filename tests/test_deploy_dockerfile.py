"""The Dockerfile and .dockerignore, checked with hadolint and by reading the stages: a
lean, non-root serving image built from a small context. No Docker engine is needed."""

from __future__ import annotations

from dockerfile_parse import DockerfileParser

from tests.conftest import REPO
from tests.deployment import (
    DOCKERFILE,
    build_context,
    exec_form,
    pip_install_args,
    run,
    stage_env,
    stages,
    tool,
    values,
)


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
