"""Time to the first audio byte and to the last, streamed (stream=true) and not, for
numbers of 1, 10 and 32 digits, one request at a time against a running server."""

from __future__ import annotations

import statistics
import time

import httpx

LENGTHS = (1, 10, 32)
WAV_HEADER = 44  # bytes before the first sample of a (streamed or whole) PCM16 WAV


def _digits(n: int) -> str:
    return ("4155551234" * 4)[:n]


def time_to_bytes(
    client: httpx.Client, skip: int, method: str, path: str, **request
) -> tuple[float, float]:
    """Seconds from sending a request to the first byte past `skip` (a header), and to the
    last byte."""
    start = time.perf_counter()
    first, received = None, 0
    with client.stream(method, path, **request) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            received += len(chunk)
            if first is None and received > skip:
                first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start


def _one(client: httpx.Client, digits: str, stream: bool, seed: int) -> tuple[float, float]:
    """Seconds to the first byte past the WAV header, and to the last byte."""
    params = {"digits": digits, "seed": seed, **({"stream": "true"} if stream else {})}
    return time_to_bytes(client, WAV_HEADER, "POST", "/generate", params=params)


def first_and_last_byte(url: str, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Median milliseconds to the first audio byte and to the last, per length and mode,
    with the ratio the streaming issue asks about (first / last)."""
    rows = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        for n in LENGTHS:
            for stream in (False, True):
                _one(client, _digits(n), stream, 0)  # warm the path
                times = [_one(client, _digits(n), stream, seed) for seed in range(1, repeats + 1)]
                first = 1000 * statistics.median(t[0] for t in times)
                last = 1000 * statistics.median(t[1] for t in times)
                rows[f"{n}_digits_{'streamed' if stream else 'whole'}"] = {
                    "digits": n,
                    "streamed": stream,
                    "first_audio_ms": round(first, 1),
                    "last_byte_ms": round(last, 1),
                    "first_over_last": round(first / last, 3) if last else 0.0,
                }
    return rows
