"""Audio in and out of HTTP: check and decode uploads, encode responses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.audio.contract import Contract
from app.audio.decoding import AudioDecodeError, audio_info, decode_audio, resample, to_mono
from app.audio.formats import AudioWriter, output_rate

MIN_RATE, MAX_RATE = 1_000, 384_000
MAX_CHANNELS = 32


class UploadTooLarge(ValueError):
    """The upload is longer than the configured limit (413)."""


@dataclass(frozen=True)
class UploadInfo:
    sample_rate: int
    channels: int
    seconds: float


def probe(data: bytes, max_seconds: float) -> UploadInfo:
    """Read only the header: refuse what is not audio, odd rates, too many channels or too
    long a clip before decoding a single sample (a small FLAC can hold hours of silence)."""
    if not data:
        raise ValueError("the uploaded file is empty")
    info = audio_info(data)
    if not MIN_RATE <= info.samplerate <= MAX_RATE:
        raise ValueError(f"sample rate {info.samplerate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise ValueError(f"{info.channels} channels; at most {MAX_CHANNELS} are accepted")
    seconds = info.frames / info.samplerate
    if seconds > max_seconds:
        raise UploadTooLarge(f"the upload is {seconds:.1f} s long; the limit is {max_seconds:g} s")
    return UploadInfo(info.samplerate, info.channels, seconds)


def upload_to_waveform(data: bytes, contract: Contract, max_seconds: float) -> np.ndarray:
    """Decode uploaded bytes to mono float32 at the contract's rate, or raise: AudioDecodeError
    (not audio), UploadTooLarge (too long), ValueError (unusable content)."""
    probe(data, max_seconds)
    samples, rate = decode_audio(data)
    if samples.shape[0] == 0:
        raise ValueError("the uploaded file has no samples")
    if not np.all(np.isfinite(samples)):
        raise ValueError("audio contains NaN or infinite samples")
    waveform = resample(to_mono(samples), rate, contract.sample_rate)
    if len(waveform) < contract.hop_length:
        seconds = contract.hop_length / contract.sample_rate
        raise ValueError(f"the clip is too short; at least {seconds * 1000:.0f} ms is needed")
    return waveform


def encode(waveform: np.ndarray, rate: int, fmt: str = "wav", out_rate: int | None = None) -> bytes:
    """One waveform at `rate` as a whole file in `fmt` (app/audio/formats.py), at `out_rate` or the
    format's default rate."""
    return AudioWriter(fmt, rate, output_rate(fmt, out_rate, rate)).whole([waveform])


__all__ = ["AudioDecodeError", "UploadTooLarge", "encode", "upload_to_waveform"]
