"""Audio in: decode a file or bytes (soundfile), mix to mono and resample (soxr HQ), as
librosa.load does."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr


class AudioDecodeError(ValueError):
    """The bytes or file could not be decoded as audio."""


def _with_soundfile(read, source: str | Path | bytes | BinaryIO):
    """Call a soundfile reader, turning its several failure types into AudioDecodeError."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return read(source)
    except sf.LibsndfileError as exc:
        raise AudioDecodeError(f"not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioDecodeError(f"not a readable audio file ({exc})") from exc


def audio_info(source: str | Path | bytes | BinaryIO):
    """The header only (rate, channels, frames): no sample is decoded."""
    return _with_soundfile(sf.info, source)


def decode_audio(source: str | Path | bytes | BinaryIO) -> tuple[np.ndarray, int]:
    """Decode a file path or in-memory bytes into float32 [frames, channels] and its rate."""
    data, rate = _with_soundfile(lambda s: sf.read(s, dtype="float32", always_2d=True), source)
    return data, int(rate)


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average channels, as librosa.to_mono does: [frames, channels] -> [frames]."""
    return data.mean(axis=1, dtype=np.float32) if data.ndim == 2 else data.astype(np.float32)


def resample(y: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample with soxr HQ, the resampler librosa.load uses by default."""
    if orig_rate == target_rate:
        return y.astype(np.float32, copy=False)
    return soxr.resample(y, orig_rate, target_rate, quality="HQ").astype(np.float32)
