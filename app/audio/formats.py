"""Output formats: what each `format` is, which one an Accept header asks for, and one
writer that turns float32 pieces at the model's rate into encoded bytes, streamed or whole.

Streamed and whole responses go through the same writer with the same pieces (the
resampler is a soxr.ResampleStream either way), so they carry the same samples by
construction; only a streamed WAV's header differs (sizes 0xFFFFFFFF, "unknown length")."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from app.audio.live import LIVE, LiveEncoder

UNKNOWN = 0xFFFFFFFF  # a RIFF or data size that says "until the end of the stream"


@dataclass(frozen=True)
class OutputFormat:
    media_type: str
    streams: bool  # sent piece by piece with stream=true
    default_rate: int | None = None  # None: the model's rate
    rates: tuple[int, ...] | None = None  # the only rates the encoder takes; None: any
    libsndfile: str = ""  # the libsndfile version that writes it (docs/api.md)


FORMATS: dict[str, OutputFormat] = {
    "wav": OutputFormat("audio/wav", streams=True),
    "flac": OutputFormat("audio/flac", streams=False, libsndfile="1.0.0"),
    "mp3": OutputFormat(
        "audio/mpeg",
        streams=False,
        rates=(8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
        libsndfile="1.1.0",
    ),
    "ogg": OutputFormat(
        "audio/ogg",
        streams=False,
        rates=(8_000, 12_000, 16_000, 24_000, 48_000),
        libsndfile="1.0.29",
    ),
    # G.711 u-law in a WAV container (format tag 7, RFC 2361's codec number).
    "mulaw": OutputFormat("audio/wav; codecs=7", streams=True, default_rate=8_000),
    # Raw signed 16-bit little-endian mono; no header, the rate is in X-Sample-Rate.
    # (audio/L16 would say big-endian, RFC 2586.)
    "pcm": OutputFormat("audio/pcm", streams=True),
}

# Formats only POST /v1/audio/speech offers: AAC in ADTS frames (what OpenAI's speech API
# sends), by PyAV (app/audio/live.py); libsndfile has no AAC.
SPEECH_ONLY: dict[str, OutputFormat] = {
    "aac": OutputFormat(
        "audio/aac",
        streams=False,
        rates=(8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    ),
}
ALL_FORMATS = {**FORMATS, **SPEECH_ONLY}

# Accept media ranges -> formats. An Accept header that names none of these (and no
# wildcard) cannot be satisfied.
_NAMES = {
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/flac": "flac", "audio/x-flac": "flac",
    "audio/mpeg": "mp3", "audio/mp3": "mp3",
    "audio/ogg": "ogg", "audio/opus": "ogg",
    "audio/pcm": "pcm",
}  # fmt: skip


def output_rate(fmt: str, asked: int | None, model_rate: int) -> int:
    """The rate a response is encoded at: the asked one (or the format's default, or the
    model's), raised to the nearest the encoder takes (Opus: 8/12/16/24/48 kHz)."""
    spec = ALL_FORMATS[fmt]
    rate = asked or spec.default_rate or model_rate
    if spec.rates and rate not in spec.rates:
        rate = min((r for r in spec.rates if r >= rate), default=spec.rates[-1])
    return rate


def _accepted(media_range: str) -> tuple[set[str], int, float]:
    """One Accept element -> (formats it names, specificity, q)."""
    kind, *params = (part.strip() for part in media_range.split(";"))
    values = {}
    for param in params:
        key, _, value = param.partition("=")
        values[key.strip().lower()] = value.strip().strip('"').lower()
    try:
        q = float(values.pop("q", "1"))
    except ValueError:
        q = 0.0
    kind = kind.lower()
    if kind in ("*/*", "audio/*"):
        return set(FORMATS), 0 if kind == "*/*" else 1, q
    name = _NAMES.get(kind)
    codec = values.get("codecs", values.get("codec"))
    allowed = {"wav": (None, "1", "7"), "ogg": (None, "opus")}.get(name or "", (None,))
    if codec not in allowed:
        name = None  # a codec we do not make, e.g. audio/ogg; codecs=vorbis
    elif name == "wav" and codec == "7":
        name = "mulaw"
    return ({name} if name else set()), 2, q


def negotiate(accept: str | None) -> str | None:
    """The format an Accept header prefers (RFC 9110: the most specific range that matches
    a format gives its q; ties go to the order of FORMATS, WAV first); None if it accepts
    none of them."""
    if not accept or not accept.strip():
        return "wav"
    ranges = [_accepted(part) for part in accept.split(",") if part.strip()]
    best, best_q = None, 0.0
    for name in FORMATS:
        matching = [(specificity, q) for names, specificity, q in ranges if name in names]
        q = max(matching)[1] if matching else 0.0
        if q > best_q:
            best, best_q = name, q
    return best


def wav_header(fmt: str, rate: int, frames: int | None) -> bytes:
    """The RIFF header libsndfile writes for mono PCM16 or u-law WAV; `frames=None` gives
    a streaming header whose sizes are 0xFFFFFFFF."""
    if fmt == "wav":
        fmt_chunk = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
        extra, width = b"", 2
    else:  # u-law: a non-PCM tag needs cbSize and a 'fact' chunk with the frame count
        fmt_chunk = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)
        extra = b"fact" + struct.pack("<II", 4, UNKNOWN if frames is None else frames)
        width = 1
    data = None if frames is None else frames * width
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk + extra
    riff = UNKNOWN if data is None else len(body) + 8 + data + data % 2
    return (
        b"RIFF" + struct.pack("<I", riff) + body + b"data"
        + struct.pack("<I", UNKNOWN if data is None else data)
    )  # fmt: skip


def quantise(y: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> little-endian int16, rounded (every format starts from these)."""
    return np.round(np.clip(y, -1.0, 1.0) * 32767).astype("<i2")


def _ulaw(pcm: np.ndarray, rate: int) -> bytes:
    """G.711 u-law bytes of int16 samples, by libsndfile."""
    if not len(pcm):
        return b""
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format="RAW", subtype="ULAW")
    return buffer.getvalue()


_WHOLE = {"flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "OPUS")}


class AudioWriter:
    """float32 pieces at `in_rate` -> one response in `fmt` at `out_rate`.

    Streamed: `stream_header()`, then `feed(piece)` for each piece, then `flush()`.
    Whole: `whole(pieces)`, which does the same and then prepends the sized header (WAV,
    u-law) or hands the samples to libsndfile's encoder (FLAC, MP3, Ogg Opus).
    `live=True` (and AAC always): FLAC, MP3, Ogg Opus and AAC are encoded piece by piece
    by PyAV (app/audio/live.py), so they stream too."""

    def __init__(self, fmt: str, in_rate: int, out_rate: int, live: bool = False) -> None:
        self.fmt, self.rate, self.frames = fmt, out_rate, 0
        use_live = fmt in LIVE and (live or fmt not in _WHOLE)
        self._live = LiveEncoder(fmt, out_rate) if use_live else None
        self._resampler = (
            soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
            if in_rate != out_rate
            else None
        )
        self._kept: list[np.ndarray] = []  # whole-file formats encode at the end

    @property
    def media_type(self) -> str:
        return ALL_FORMATS[self.fmt].media_type

    def stream_header(self) -> bytes:
        return wav_header(self.fmt, self.rate, None) if self.fmt in ("wav", "mulaw") else b""

    def _encode(self, y: np.ndarray) -> bytes:
        pcm = quantise(y)
        self.frames += len(pcm)
        if self.fmt == "mulaw":
            return _ulaw(pcm, self.rate)
        if self.fmt in ("wav", "pcm"):
            return pcm.tobytes()
        if self._live is not None:
            return self._live.feed(pcm)
        self._kept.append(pcm)
        return b""

    def feed(self, piece: np.ndarray) -> bytes:
        if self._resampler is not None:
            piece = self._resampler.resample_chunk(piece.astype(np.float32, copy=False))
        return self._encode(piece)

    def flush(self) -> bytes:
        """What the resampler still holds (its filter's tail), at the end of the stream, and
        a live encoder's last frames and trailer."""
        data = b""
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            data = self._encode(tail)
        return data + (self._live.close() if self._live is not None else b"")

    def whole(self, pieces) -> bytes:
        data = b"".join(self.feed(piece) for piece in pieces) + self.flush()
        if self.fmt in ("wav", "mulaw"):
            pad = b"\0" * (len(data) % 2)  # RIFF chunks are word-aligned
            return wav_header(self.fmt, self.rate, self.frames) + data + pad
        if self.fmt == "pcm" or self._live is not None:
            return data
        container, subtype = _WHOLE[self.fmt]
        samples = np.concatenate(self._kept) if self._kept else np.zeros(0, "<i2")
        buffer = io.BytesIO()
        sf.write(buffer, samples, self.rate, format=container, subtype=subtype)
        return buffer.getvalue()
