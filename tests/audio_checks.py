"""Assertions on what the service returns."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def audio_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


def read_audio(content: bytes) -> tuple[np.ndarray, int, sf._SoundFileInfo]:
    info = sf.info(io.BytesIO(content))
    samples, rate = sf.read(io.BytesIO(content), dtype="float32")
    return samples, rate, info


def assert_good_clip(content: bytes, rate: int, samples: int | None = None, fmt: str = "WAV"):
    """Valid PCM16 mono audio of the right rate (and length), neither silent nor clipped."""
    audio, actual_rate, info = read_audio(content)
    assert (actual_rate, info.subtype, info.format, audio.ndim) == (rate, "PCM_16", fmt, 1)
    if samples is not None:
        assert len(audio) == samples
    peak = np.abs(audio).max()
    assert 0.5 < peak < 0.99, f"silent or clipped: peak {peak}"
    assert np.sqrt(np.mean(audio**2)) > 0.01
    return audio


def assert_problem(response, status: int, says: str) -> dict:
    """An application/problem+json error with the given status and a detail that says why."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    assert says.lower() in body["detail"].lower(), body["detail"]
    return body


def ffmpeg_decode(content: bytes) -> tuple[np.ndarray, int]:
    """Decode with ffmpeg (Debian's `ffmpeg`) to mono int16 samples and their rate; skips
    the calling test when ffmpeg is not installed."""
    import json
    import shutil
    import subprocess

    import pytest

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", "-i", "pipe:0"],
        input=content, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    rate = int(json.loads(probe.stdout)["streams"][0]["sample_rate"])
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "pipe:1"],
        input=content, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    return np.frombuffer(decoded.stdout, "<i2"), rate
