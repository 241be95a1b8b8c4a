"""Prometheus metrics (prometheus-client), exposed at GET /metrics.

Module-level so several apps in one process (tests) share one registry without clashes.
With $PROMETHEUS_MULTIPROC_DIR set (python -m app.serve sets it before any worker starts),
every worker writes its values there and each scrape adds all workers' values up.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "audiovae_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "audiovae_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
# livesum: the in-flight requests of the workers alive now (a dead worker's are dropped).
IN_FLIGHT = Gauge(
    "audiovae_requests_in_flight", "HTTP requests being processed", multiprocess_mode="livesum"
)
STAGE = Histogram(
    "audiovae_stage_duration_seconds",
    "CPU time per synthesis stage (decode, encode, inversion, features, resample, encoding)",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
REJECTED = Counter("audiovae_rejected_total", "requests refused for capacity", ["reason"])
STREAMS = Counter(
    "audiovae_streams_total",
    "streamed responses by how they ended: completed, or disconnected (the client hung up "
    "and the remaining digits were not made)",
    ["outcome"],
)


def observe_stage(stage: str, seconds: float) -> None:
    STAGE.labels(stage).observe(seconds)


@contextmanager
def timed(stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        observe_stage(stage, time.perf_counter() - start)


def _multiproc_dir() -> Path | None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(folder) if folder else None


def exposition() -> bytes:
    """The Prometheus text of this process, or of all workers in multiprocess mode."""
    if _multiproc_dir() is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_started() -> None:
    """Drop the live gauges of workers that died without a clean shutdown (a crash, a kill):
    uvicorn replaces such a worker, and its replacement clears up after it."""
    folder = _multiproc_dir()
    if folder is None:
        return
    pids = {
        int(m[1])
        for f in folder.glob("gauge_live*_*.db")
        if (m := re.search(r"_(\d+)\.db$", f.name))
    }
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(folder))


def worker_stopping() -> None:
    """This worker's live gauges leave the sums (its counters and histograms stay)."""
    folder = _multiproc_dir()
    if folder is not None:
        multiprocess.mark_process_dead(os.getpid(), str(folder))
