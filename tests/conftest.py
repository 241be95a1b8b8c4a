"""Shared fixtures: the FSDD copy, a real uvicorn server, a tiny trained bundle."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
FSDD = Path(os.environ.get("AUDIOVAE_FSDD", REPO.parent / "shared" / "data" / "fsdd"))
DEFAULT_BUNDLE = REPO / "models" / "default"


@pytest.fixture(scope="session")
def fsdd() -> Path:
    if not (FSDD / "recordings").is_dir():
        pytest.skip(f"FSDD recordings not found at {FSDD} (set AUDIOVAE_FSDD to its folder)")
    return FSDD


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `uvicorn app.main:create_app --factory` process on a loopback port."""

    def __init__(self, bundle: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "AUDIOVAE_BUNDLE_PATH": str(bundle), **(env or {})}
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]  # fmt: skip
        # A file, not a pipe: an undrained pipe would block a chatty server.
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")  # noqa: SIM115 closed in stop()
        self.process = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling interval while the process starts, not a test delay
        raise TimeoutError(f"server not ready after {timeout} s")

    def stop(self) -> str:
        """Stop the process (if still running) and return everything it printed."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.output()
        self.log.close()
        return output


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    srv = Server(DEFAULT_BUNDLE)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as c:
        yield c
