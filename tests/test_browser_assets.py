"""The demo page (`GET /`) and its assets as plain HTTP, and in a built wheel: no browser
needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO


def test_page_and_assets_are_served_with_a_strict_policy(client: httpx.Client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert '<script src="/static/app.js"' in page.text
    for name, media in [("app.js", "text/javascript"), ("style.css", "text/css")]:
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert "http://" not in asset.text and "https://" not in asset.text  # no other origin
    missing = client.get("/static/..%2Fmain.py")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "/" not in client.get("/openapi.json").json()["paths"]  # not part of the API


def test_the_page_ships_in_a_non_editable_install(tmp_path: Path):
    """The image installs the package from a copy of the tree: the static files must go along."""
    pytest.importorskip("setuptools", reason="building a wheel offline needs setuptools")
    tree = tmp_path / "tree"
    for part in ("app", "training"):
        shutil.copytree(REPO / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(tree)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("audio_vae-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for static in sorted((REPO / "app" / "static").iterdir()):
        assert f"app/static/{static.name}" in names
    assert "app/api/pages.py" in names
