"""The Dockerfile read as data, and the validators the dev extra installs: shared by the
test_deploy_* modules."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from tests.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


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


def build_context() -> set[str]:
    """The files `docker build .` sends, by docker-py's implementation of .dockerignore."""
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    return {p for p in exclude_paths(str(REPO), patterns) if (REPO / p).is_file()}
