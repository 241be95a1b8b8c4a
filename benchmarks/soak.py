"""Soak: mixed traffic at ~70 % of measured capacity for N minutes, plus a trickle of bad
inputs; reports unexpected errors, p99 per minute and resident memory at start and end."""

from __future__ import annotations

import asyncio
import io
import json
import random
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from benchmarks.load import closed_loop, open_loop, summarise
from benchmarks.server import REPO, Server


def _upload() -> bytes:
    t = np.arange(16_000) / 16_000
    voice = 0.4 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t)) + 0.2 * np.sin(
        2 * np.pi * 660 * t
    )
    buffer = io.BytesIO()
    sf.write(buffer, voice.astype(np.float32), 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


UPLOAD = _upload()  # 1 s at 16 kHz


# 503 + Retry-After is the designed answer to overload: counted apart, not as an error.
OK = {200, 503}


async def mixed_request(client: httpx.AsyncClient, rng: random.Random):
    """60 % one digit, 20 % a 3-5 digit sequence, 15 % /reconstruct, 5 % bad input."""
    roll = rng.random()
    if roll < 0.60:
        return await client.post("/generate", params={"digit": rng.randrange(10)}), OK
    if roll < 0.80:
        digits = "".join(str(rng.randrange(10)) for _ in range(rng.randint(3, 5)))
        return await client.post("/generate", json={"digits": digits}), OK
    if roll < 0.95:
        files = {"file": ("clip.wav", UPLOAD, "audio/wav")}
        return await client.post("/reconstruct", files=files), OK
    bad = rng.choice(
        [
            lambda: client.post("/generate", params={"digit": 12}),
            lambda: client.post(
                "/reconstruct", files={"file": ("x.wav", b"not audio", "audio/wav")}
            ),
            lambda: client.post("/generate", json=[1]),
        ]
    )
    return await bad(), {413, 415, 422, 503}


def soak(minutes: float, out: Path, bundle: Path = REPO / "models" / "default") -> dict:
    server = Server(bundle)
    try:
        server.wait_ready()
        samples, wall = asyncio.run(closed_loop(server.url, mixed_request, 4, 200, seed=1))
        capacity = summarise(samples, wall)["rps"]
        rate = 0.7 * capacity
        rss_start = server.rss_mb()
        samples, wall = asyncio.run(
            open_loop(server.url, mixed_request, rate, minutes * 60, seed=2)
        )
        rss_end = server.rss_mb()
    finally:
        server.stop()
    per_minute = []
    for minute in range(int(np.ceil(minutes))):
        window = [s for s in samples if minute * 60 <= s.started < (minute + 1) * 60]
        if window:
            per_minute.append({"minute": minute + 1, **summarise(window, 60.0)})
    result = {
        "capacity_rps": capacity,
        "offered_rps": round(rate, 1),
        "minutes": minutes,
        "overall": summarise(samples, wall),
        "per_minute": per_minute,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_growth_pct": round(100 * (rss_end - rss_start) / rss_start, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def report(result: dict) -> str:
    overall = result["overall"]
    lines = [
        f"capacity (mixed traffic, concurrency 4): {result['capacity_rps']} req/s; "
        f"offered {result['offered_rps']} req/s for {result['minutes']} min",
        f"requests {overall['requests']}, unexpected statuses {overall['unexpected']}, "
        f"503s {overall['rejected_503']}",
        f"resident memory {result['rss_mb_start']} MB -> {result['rss_mb_end']} MB "
        f"({result['rss_growth_pct']:+.1f} %)",
        "",
        "| minute | requests | unexpected | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for m in result["per_minute"]:
        lines.append(
            f"| {m['minute']} | {m['requests']} | {m['unexpected']} "
            f"| {m['p50_ms']} | {m['p99_ms']} |"
        )
    return "\n".join(lines)
