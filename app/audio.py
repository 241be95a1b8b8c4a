"""Audio in and out of HTTP: decode uploads, encode responses."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from app.contract import AudioDecodeError, Contract, decode_audio, resample, to_mono


def upload_to_waveform(data: bytes, contract: Contract, max_seconds: float) -> np.ndarray:
    """Decode uploaded bytes to mono float32 at the contract's rate, or raise ValueError
    (AudioDecodeError when the bytes are not audio at all)."""
    if not data:
        raise ValueError("the uploaded file is empty")
    samples, rate = decode_audio(data)
    if samples.shape[0] == 0:
        raise ValueError("the uploaded file has no samples")
    seconds = samples.shape[0] / rate
    if seconds > max_seconds:
        raise ValueError(f"the upload is {seconds:.1f} s long; the limit is {max_seconds:g} s")
    if not np.all(np.isfinite(samples)):
        raise ValueError("audio contains NaN or infinite samples")
    return resample(to_mono(samples), rate, contract.sample_rate)


def encode_wav(waveform: np.ndarray, sample_rate: int) -> bytes:
    """PCM16 WAV in memory."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(waveform, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


__all__ = ["AudioDecodeError", "encode_wav", "upload_to_waveform"]
