"""A real `uvicorn app.main:create_app --factory` process on a free loopback port.
Used by the tests and the benchmarks alike."""

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


class Server:
    def __init__(
        self, bundle: Path, env: dict[str, str] | None = None, extra_args: list[str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "AUDIOVAE_BUNDLE_PATH": str(bundle), **(env or {})}
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
                   *(extra_args or [])]  # fmt: skip
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

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

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
