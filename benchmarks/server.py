"""A real uvicorn process on a free loopback port: `uvicorn app.main:create_app --factory`
(one process), or the serve command `python -m app.serve` (a worker per core, shared
metrics) with `serve_command=True`. Used by the tests and the benchmarks alike."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Server:
    def __init__(
        self,
        bundle: Path,
        env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        serve_command: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "AUDIOVAE_BUNDLE_PATH": str(bundle), **(env or {})}
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        if serve_command:
            command = [sys.executable, "-m", "app.serve", *where]
        else:
            command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                       *where, "--no-access-log"]  # fmt: skip
        command += extra_args or []
        # A file, not a pipe: an undrained pipe would block a chatty server.
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")  # noqa: SIM115 closed in stop()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll /readyz until it answers 200; returns seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.TransportError:
                pass
            time.sleep(0.02)  # polling interval while the process starts
        raise TimeoutError(f"server not ready after {timeout} s")

    def wait_workers(self, count: int, timeout: float = 60.0) -> None:
        """Wait until `count` workers have finished their start-up (each logs it once):
        /readyz answers as soon as the first one is ready."""
        deadline = time.monotonic() + timeout
        while self.output().count("Application startup complete") < count:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} workers not ready after {timeout} s")
            time.sleep(0.05)  # polling interval while the workers start

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def workers(self) -> list[int]:
        """Worker process ids: the supervisor's children, or the process itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        # multiprocessing's resource tracker is a child too, but runs no app
        return [p for p in pids if "uvicorn" in _cmdline(p) or "spawn_main" in _cmdline(p)] or [
            self.process.pid
        ]

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
