"""Compressed audio encoded while it is made: int16 pieces in, container bytes out as soon
as the muxer writes them, through PyAV (FFmpeg's encoders and muxers, shipped inside its
wheel: no system FFmpeg needed).

libsndfile (app/audio/formats.py) writes MP3, Ogg Opus and FLAC whole, and has no AAC at
all; the OpenAI-compatible route streams every format, so it encodes here. The output is
written to a sink that cannot seek, so each muxer writes a streamable file: MP3 without a
Xing length frame, FLAC with 0 total samples in its STREAMINFO ("unknown", as the format
allows), ADTS AAC and Ogg pages as they fill (a page every packet or so: the first page
must not wait for a second of audio)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LiveCodec:
    container: str  # FFmpeg's muxer
    codec: str  # FFmpeg's encoder
    options: tuple[tuple[str, str], ...] = ()  # muxer options


LIVE: dict[str, LiveCodec] = {
    "mp3": LiveCodec("mp3", "libmp3lame"),
    # page_duration (µs): Ogg pages are flushed after this much audio (FFmpeg's default: 1 s).
    "ogg": LiveCodec("ogg", "libopus", (("page_duration", "60000"),)),
    "aac": LiveCodec("adts", "aac"),
    "flac": LiveCodec("flac", "flac"),
}


class _Sink:
    """A write-only file for the muxer: what it writes, kept until taken. Without `seek`,
    FFmpeg treats it as a pipe and never goes back to patch a header."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class LiveEncoder:
    """Mono int16 samples at `rate` -> `fmt` (a LIVE key), piece by piece."""

    def __init__(self, fmt: str, rate: int) -> None:
        import av  # here: only the serving path needs it, not the feature contract's users

        spec = LIVE[fmt]
        self._av, self.rate, self._pts = av, rate, 0
        self._sink = _Sink()
        self._out = av.open(self._sink, "w", format=spec.container, options=dict(spec.options))
        self._stream = self._out.add_stream(spec.codec, rate=rate, layout="mono")
        self._closed = False

    def _mux(self, frame) -> bytes:
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        return self._sink.take()

    def feed(self, pcm: np.ndarray) -> bytes:
        if not len(pcm):
            return b""
        frame = self._av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm, dtype="<i2")[None, :], format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = self.rate, self._pts
        self._pts += len(pcm)
        return self._mux(frame)

    def close(self) -> bytes:
        """The encoder's held-back frames and the container's trailer."""
        if self._closed:
            return b""
        self._closed = True
        data = self._mux(None)
        self._out.close()
        return data + self._sink.take()
