"""The serving image reproduced without Docker: its install in a fresh virtualenv from a
copy of the build context, then its CMD and HEALTHCHECK run."""

from __future__ import annotations

import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path, PurePosixPath

import httpx
import pytest
import soundfile as sf

from app.synthesis.bundle import read_meta
from tests.conftest import DEFAULT_BUNDLE, REPO, free_port
from tests.deployment import (
    build_context,
    exec_form,
    pip_install_args,
    run,
    stage_env,
    stages,
    values,
)


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
