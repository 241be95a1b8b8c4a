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
