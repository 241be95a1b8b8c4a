"""A small async load generator (httpx): closed loop at a fixed concurrency, or open loop
at a fixed arrival rate, with latency percentiles and real-time factor."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import numpy as np

# A request maker sends one request and says which statuses count as correct.
RequestMaker = Callable[
    [httpx.AsyncClient, random.Random], Awaitable[tuple[httpx.Response, set[int]]]
]


@dataclass
class Sample:
    started: float  # seconds since the run began
    seconds: float
    status: int
    expected: bool
    audio_seconds: float


async def _one(client, make, rng, t0) -> Sample:
    start = time.perf_counter()
    try:
        response, ok = await make(client, rng)
        status = response.status_code
        audio = float(response.headers.get("x-duration-seconds", 0)) if status == 200 else 0.0
    except httpx.HTTPError:
        status, ok, audio = 0, set(), 0.0
    end = time.perf_counter()
    return Sample(start - t0, end - start, status, status in ok, audio)


async def closed_loop(
    url: str, make: RequestMaker, concurrency: int, requests: int, seed: int = 0
) -> tuple[list[Sample], float]:
    """`concurrency` clients, each sending its next request when the last one returns."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    remaining = requests
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        t0 = time.perf_counter()

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                samples.append(await _one(client, make, rng, t0))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return samples, time.perf_counter() - t0


async def open_loop(
    url: str, make: RequestMaker, rate: float, seconds: float, seed: int = 0
) -> tuple[list[Sample], float]:
    """Requests arrive at `rate` per second whatever the server does (how real traffic
    behaves), for `seconds`."""
    rng = random.Random(seed)
    tasks: list[asyncio.Task] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        n = 0
        while (now := time.perf_counter() - t0) < seconds:
            due = n / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(_one(client, make, rng, t0)))
            n += 1
        samples = list(await asyncio.gather(*tasks))
        return samples, time.perf_counter() - t0


def summarise(samples: list[Sample], wall: float) -> dict[str, float]:
    ok = [s for s in samples if s.status == 200]
    latencies = np.array([s.seconds for s in ok]) * 1000 if ok else np.array([np.nan])
    compute = sum(s.seconds for s in ok)
    return {
        "requests": len(samples),
        "ok": len(ok),
        "rejected_503": sum(s.status == 503 for s in samples),
        "unexpected": sum(not s.expected for s in samples),
        "rps": round(len(ok) / wall, 1) if wall else 0.0,
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p95_ms": round(float(np.percentile(latencies, 95)), 1),
        "p99_ms": round(float(np.percentile(latencies, 99)), 1),
        # Seconds of audio produced per second of request time (per request, not per core).
        "rtf": round(sum(s.audio_seconds for s in ok) / compute, 1) if compute else 0.0,
    }
