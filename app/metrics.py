"""Prometheus metrics (prometheus-client), exposed at GET /metrics.

Module-level so several apps in one process (tests) share one registry without clashes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

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
IN_FLIGHT = Gauge("audiovae_requests_in_flight", "HTTP requests being processed")
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
