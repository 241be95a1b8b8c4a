"""The serve command's two operational faults, against real processes: a bundle that
cannot load exits non-zero whatever the worker count, and a worker killed mid-request
(SIGKILL) is replaced while the other worker's requests are answered."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEFAULT_BUNDLE, Server

SLOW = {"model": "tts-1", "input": "4155551234" * 3, "voice": "onyx",
        "response_format": "pcm", "speed": 0.5}  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_bundle_exits_non_zero(tmp_path: Path, workers: int):
    server = Server(tmp_path / "no-bundle", extra_args=["--workers", str(workers)],
                    serve_command=True)  # fmt: skip
    code = server.process.wait(timeout=90)
    output = server.stop()
    assert code == 3, output
    assert "no-bundle: bundle folder does not exist" in output
    if workers > 1:
        assert "could not start" in output


def owner(port: int, pids: list[int]) -> int | None:
    """The worker holding the server side of the TCP connection from local `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes:
                    return pid
            except OSError:
                continue
    return None


def test_killed_worker_is_replaced_and_the_others_answer():
    server = Server(DEFAULT_BUNDLE, {"WEB_CONCURRENCY": "2"}, serve_command=True)
    streams: list[tuple[httpx.Client, Iterator[bytes], int | None]] = []
    try:
        server.wait_ready()
        server.wait_workers(2)
        workers = server.workers()
        assert len(workers) == 2
        # Streams in progress (first bytes read) until each worker holds one.
        deadline = time.monotonic() + 60
        while {pid for *_, pid in streams} != set(workers):
            assert time.monotonic() < deadline, "requests did not reach both workers"
            client = httpx.Client(base_url=server.url, timeout=120)
            response = client.send(client.build_request("POST", "/v1/audio/speech", json=SLOW),
                                   stream=True)  # fmt: skip
            assert response.status_code == 200
            chunks = response.iter_raw()
            assert next(chunks)
            port = response.extensions["network_stream"].get_extra_info("socket").getsockname()[1]
            streams.append((client, chunks, owner(port, workers)))
        victim = streams[0][2]
        os.kill(victim, signal.SIGKILL)
        for client, chunks, pid in streams:
            if pid == victim:
                with pytest.raises(httpx.HTTPError):
                    b"".join(chunks)
            else:  # the other worker's requests finish, whole
                data = b"".join(chunks)
                assert len(data) > 2 * 24_000 * 5, len(data)
            client.close()
        # The supervisor starts a replacement, which loads the bundle and serves.
        server.wait_workers(3, timeout=90)
        deadline = time.monotonic() + 30
        while victim in server.workers() or len(server.workers()) != 2:
            assert time.monotonic() < deadline, server.workers()
            time.sleep(0.05)  # polling interval while the supervisor notices
        # The next 50 requests, each on a new connection, all succeed.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=server.url, timeout=60, limits=limits) as c:
            body = {**SLOW, "input": "7", "speed": 1.0}
            statuses = [c.post("/v1/audio/speech", json=body).status_code for _ in range(50)]
        assert statuses == [200] * 50
        assert "died" in server.output()
    finally:
        for client, *_ in streams:
            client.close()
        server.stop()
