"""The OpenAI-compatible route's figures against a running server: how early a 10-digit
number's first audio byte arrives (streamed as made), and what a single digit costs
through /v1/audio/speech against /generate, the same requests interleaved.

    python -m benchmarks speech [--repeats 20]    (a fresh serve command; prints the rows)
"""

from __future__ import annotations

import statistics
import time

import httpx

from benchmarks.streams import WAV_HEADER, time_to_bytes

NUMBER = "415-555-1234"  # 10 digits


def _speech(digits: str, fmt: str, seed_voice: str = "alloy") -> dict:
    return {"model": "tts-1", "input": digits, "voice": seed_voice, "response_format": fmt}


def _first_and_last(client: httpx.Client, fmt: str) -> tuple[float, float]:
    """Seconds to the first audio byte (past a WAV header) and to the last."""
    skip = WAV_HEADER if fmt == "wav" else 0
    return time_to_bytes(client, skip, "POST", "/v1/audio/speech", json=_speech(NUMBER, fmt))


def _timed(client: httpx.Client, path: str, **request) -> float:
    start = time.perf_counter()
    client.post(path, **request).raise_for_status()
    return time.perf_counter() - start


def speech_rows(url: str, repeats: int = 10) -> dict:
    rows: dict = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        for fmt in ("pcm", "mp3"):
            _first_and_last(client, fmt)  # warm
            times = [_first_and_last(client, fmt) for _ in range(repeats)]
            first = 1000 * statistics.median(t[0] for t in times)
            last = 1000 * statistics.median(t[1] for t in times)
            rows[f"10_digits_{fmt}"] = {
                "first_audio_ms": round(first, 1),
                "last_byte_ms": round(last, 1),
                "first_over_last": round(first / last, 3),
            }
        for fmt in ("wav", "mp3"):
            speech, generate = [], []
            for i in range(repeats + 1):  # interleaved, the first pair warms both paths
                digit = str(i % 10)
                speech.append(_timed(client, "/v1/audio/speech", json=_speech(digit, fmt)))
                params = {"digit": digit, "format": fmt}
                generate.append(_timed(client, "/generate", params=params))
            s_ms = 1000 * statistics.median(speech[1:])
            g_ms = 1000 * statistics.median(generate[1:])
            rows[f"1_digit_{fmt}"] = {
                "speech_ms": round(s_ms, 1),
                "generate_ms": round(g_ms, 1),
                "speech_over_generate": round(s_ms / g_ms, 3),
            }
    return rows


def markdown(rows: dict) -> list[str]:
    lines = ["", "| POST /v1/audio/speech | figure |", "|---|---|"]
    for name, row in rows.items():
        if "first_audio_ms" in row:
            lines.append(
                f"| {name}: first audio byte / last byte | {row['first_audio_ms']} / "
                f"{row['last_byte_ms']} ms ({row['first_over_last']}) |"
            )
        else:
            lines.append(
                f"| {name}: speech / generate | {row['speech_ms']} / {row['generate_ms']} ms "
                f"({row['speech_over_generate']}x) |"
            )
    return lines
