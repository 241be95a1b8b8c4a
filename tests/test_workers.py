"""The serve command (python -m app.serve): one worker per core by default, and /metrics
that counts every request exactly once whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from app.serve import available_cpus, cgroup_cpus
from tests.audio_checks import audio_bytes
from tests.conftest import DEFAULT_BUNDLE, Server
from tests.factory import vowel
from tests.scrape import sample


def test_cgroup_cpu_limits_are_read(tmp_path: Path):
    assert cgroup_cpus(tmp_path) is None  # no limit files: no limit
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpus(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpus(tmp_path) == 1.5
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("200000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cgroup_cpus(v1) == 2.0
    assert 1 <= available_cpus() <= len(__import__("os").sched_getaffinity(0))


def generate_counts_by_pid(folder: Path) -> Counter:
    """POST /generate 200s each worker has counted, read from its own multiprocess file."""
    counts: Counter = Counter()
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if name == "audiovae_requests_total" and labels.get("route") == "/generate":
                counts[pid] += value
    return counts


async def burst(url: str, requests: int, voice: str | None = None) -> list[int]:
    """Requests 8 at a time, each on a new connection, so the kernel spreads them over the
    workers' shared socket; in `voice` if given."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:
        statuses = []
        for start in range(0, requests, 8):
            params = [
                {"digit": i % 10} | ({"voice": voice} if voice else {})
                for i in range(start, start + 8)
            ]
            batch = [c.post("/generate", params=p) for p in params]
            statuses += [r.status_code for r in await asyncio.gather(*batch)]
        return statuses


def test_two_workers_every_scrape_counts_each_request_once(tmp_path: Path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left by an earlier run")  # must be cleaned
    server = Server(
        DEFAULT_BUNDLE,
        {"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        serve_command=True,
    )
    try:
        server.wait_ready()
        server.wait_workers(2)
        assert len(server.workers()) == 2
        assert not (folder / "counter_1.db").exists()
        # No AUDIOVAE_VOICE_SECRET: the command made one key for both workers, so a voice
        # made by one is spoken by the other (every request below is in it).
        assert "AUDIOVAE_VOICE_SECRET is unset" in server.output()
        tone = audio_bytes(vowel(180.0, 0.4, 16_000), 16_000)
        made = httpx.post(f"{server.url}/v1/voices", files={"file": ("a.wav", tone)}, timeout=60)
        assert made.status_code == 201, made.text
        requests = 48
        assert asyncio.run(burst(server.url, requests, made.json()["id"])) == [200] * requests
        # Both workers answered some: each keeps its own counts...
        by_pid = generate_counts_by_pid(folder)
        assert len([n for n in by_pid.values() if n > 0]) == 2, by_pid
        assert sum(by_pid.values()) == requests
        # ...and every scrape, whichever worker answers it, adds them all up.
        for _ in range(8):
            with httpx.Client(
                base_url=server.url, limits=httpx.Limits(max_keepalive_connections=0)
            ) as c:
                text = c.get("/metrics").text
            labels = {"method": "POST", "route": "/generate", "status": "200"}
            assert sample(text, "audiovae_requests_total", **labels) == requests
            assert (
                sample(
                    text,
                    "audiovae_request_duration_seconds_count",
                    method="POST",
                    route="/generate",
                )
                == requests
            )
            assert sample(text, "audiovae_requests_in_flight") == 1  # this scrape, nothing else
    finally:
        server.stop()
    # Workers that exit take their live gauges with them; counts stay for the next scrape.
    assert not list(folder.glob("gauge_livesum_*.db"))
    assert list(folder.glob("counter_*.db"))


@pytest.mark.parametrize(("env", "expected"), [({}, None), ({"WEB_CONCURRENCY": "1"}, 1)])
def test_one_worker_per_core_unless_set(env, expected):
    server = Server(DEFAULT_BUNDLE, env, serve_command=True)
    try:
        server.wait_ready()
        workers = expected or available_cpus()
        server.wait_workers(workers)
        assert len(server.workers()) == workers
        if workers == 1:
            assert server.workers() == [server.process.pid]  # no supervisor: one process
        assert httpx.post(f"{server.url}/generate?digit=2", timeout=60).status_code == 200
        metrics = httpx.get(f"{server.url}/metrics").text
        assert sample(metrics, "audiovae_requests_total", route="/generate", status="200") == 1
    finally:
        server.stop()
