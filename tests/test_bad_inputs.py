"""The bad-input corpus: whatever a client sends, the service answers with a clear status
(a problem+json 4xx for what it cannot use) and stays healthy for the next client."""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import numpy as np
import pytest

from tests.audio_checks import assert_good_clip, assert_problem, audio_bytes
from tests.factory import digit_clip, tone

RATE_IN = 8_000
CLIP = digit_clip(3, 0, RATE_IN)


def corrupt_middle(data: bytes, length: int = 200) -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, length, dtype=np.uint8).tobytes()
    middle = len(data) // 2
    return data[:middle] + noise + data[middle + length :]


def wav_claiming_frames(frames: int) -> bytes:
    data = bytearray(audio_bytes(CLIP, RATE_IN))
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", min(frames * 2, 2**32 - 2))
    return bytes(data)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)

# name -> (file bytes, expected status, what the detail must say; "" for a 200)
UPLOADS: dict[str, tuple[bytes, int, str]] = {
    "zero-length file": (b"", 422, "empty"),
    "random bytes named .wav": (os.urandom(4096), 415, "could not decode"),
    "text file": (b"hello, this is not audio\n" * 40, 415, "could not decode"),
    "png image": (PNG, 415, "could not decode"),
    "wav header promising more data (truncated)": (audio_bytes(CLIP, RATE_IN)[:3000], 200, ""),
    "wav claiming 2^31 frames": (wav_claiming_frames(2**31), 200, ""),
    "flac corrupt mid-stream": (corrupt_middle(audio_bytes(CLIP, RATE_IN, fmt="FLAC")), 415, "decode"),
    "ogg corrupt mid-stream": (
        corrupt_middle(audio_bytes(CLIP, RATE_IN, subtype="VORBIS", fmt="OGG")), 415, "decode",
    ),
    "nan samples in float wav": (
        audio_bytes(np.where(np.arange(len(CLIP)) == 99, np.nan, CLIP), RATE_IN, "FLOAT"), 422, "nan",
    ),
    "inf samples in float wav": (
        audio_bytes(np.where(np.arange(len(CLIP)) % 50 == 0, np.inf, CLIP), RATE_IN, "FLOAT"), 422,
        "infinite",
    ),
    "all-zero audio (silence)": (audio_bytes(np.zeros(4000, np.float32), RATE_IN), 422, "silent"),
    "full-scale clipping": (audio_bytes(np.sign(tone(200, 0.5, RATE_IN)), RATE_IN), 200, ""),
    "dc offset only": (audio_bytes(np.full(4000, 0.5, np.float32), RATE_IN), 200, ""),
    "1 sample long": (audio_bytes(np.array([0.5], np.float32), RATE_IN), 422, "too short"),
    "100 ms long": (audio_bytes(CLIP[:800], RATE_IN), 200, ""),
    "longer than the limit (31 s)": (audio_bytes(tone(300, 31.0, RATE_IN), RATE_IN), 413, "30 s"),
    "8 kHz": (audio_bytes(CLIP, 8_000), 200, ""),
    "11,025 Hz": (audio_bytes(digit_clip(3, 0, 11_025), 11_025), 200, ""),
    "192 kHz": (audio_bytes(digit_clip(3, 0, 192_000), 192_000), 200, ""),
    "6 channels": (audio_bytes(np.stack([CLIP] * 6, axis=1), RATE_IN), 200, ""),
    "8-bit": (audio_bytes(CLIP, RATE_IN, "PCM_U8"), 200, ""),
    "24-bit": (audio_bytes(CLIP, RATE_IN, "PCM_24"), 200, ""),
    "32-bit float": (audio_bytes(CLIP, RATE_IN, "FLOAT"), 200, ""),
    "sample rate 500 Hz": (audio_bytes(tone(100, 1.0, 500), 500), 422, "sample rate"),
}  # fmt: skip

# name -> (query parameters, expected status, what the detail must say)
GENERATE_QUERIES: dict[str, tuple[str, int, str]] = {
    "digit -1": ("digit=-1", 422, "greater than or equal to 0"),
    "digit 10": ("digit=10", 422, "less than or equal to 9"),
    "digit 3.5": ("digit=3.5", 422, "valid integer"),
    "digit 'three'": ("digit=three", 422, "valid integer"),
    "digit %00": ("digit=%00", 422, "valid integer"),
    "neither digit nor digits": ("", 422, "exactly one of"),
    "both digit and digits": ("digit=1&digits=12", 422, "exactly one of"),
    "digits with letters": ("digits=12a4", 422, "pattern"),
    "digits empty": ("digits=", 422, "pattern"),
    "33 digits": ("digits=" + "1" * 33, 422, "pattern"),
    "unicode digits": ("digits=%D9%A3", 422, "pattern"),
    "seed beyond 64 bits": (f"digit=1&seed={2**64}", 422, "seed"),
    "seed negative": ("digit=1&seed=-1", 422, "seed"),
    "temperature negative": ("digit=1&temperature=-0.5", 422, "temperature"),
    "temperature nan": ("digit=1&temperature=nan", 422, "temperature"),
    "temperature huge": ("digit=1&temperature=1e308", 422, "temperature"),
    "sample_rate 0": ("digit=1&sample_rate=0", 422, "sample_rate"),
    "sample_rate 1": ("digit=1&sample_rate=1", 422, "sample_rate"),
    "sample_rate 10^9": ("digit=1&sample_rate=1000000000", 422, "sample_rate"),
    "gl_iters 0": ("digit=1&gl_iters=0", 422, "gl_iters"),
    "gl_iters huge": ("digit=1&gl_iters=99999999999", 422, "gl_iters"),
    "unknown format": ("digit=1&format=aac", 422, "format"),
    "format in capitals": ("digit=1&format=WAV", 422, "format"),
    "stream not a boolean": ("digit=1&stream=maybe", 422, "stream"),
    "stream of a whole-file format": ("digits=12&stream=true&format=mp3", 422, "stream"),
    "unknown vocoder": ("digit=1&vocoder=wavenet", 422, "vocoder"),
    "sharpen below 1": ("digit=1&sharpen=0.5", 422, "sharpen"),
    "sharpen nan": ("digit=1&sharpen=nan", 422, "sharpen"),
    "sharpen huge": ("digit=1&sharpen=1e9", 422, "sharpen"),
    "gap_ms negative": ("digit=1&gap_ms=-5", 422, "gap_ms"),
    "unknown parameter": ("digit=1&speaker=robot", 422, "speaker"),
    "unknown voice": ("digit=1&voice=robot", 422, "no built-in voice 'robot'"),
    "voice id not base64url": ("digit=1&voice=v2.%24%24", 422, "base64url"),
    "voice id of an older server": ("digit=1&voice=v1.AAAA", 422, "make the voice again"),
    "voice id too long": ("digit=1&voice=" + "v" * 300, 422, "voice"),
    "voice empty": ("digit=1&voice=", 422, "voice"),
}

# What POST /v1/voices cannot make a voice from: name -> (file bytes, status, what it says)
VOICE_UPLOADS: dict[str, tuple[bytes, int, str]] = {
    "zero-length file": (b"", 422, "empty"),
    "random bytes named .wav": (os.urandom(4096), 415, "could not decode"),
    "text file": (b"hello, this is not audio\n" * 40, 415, "could not decode"),
    "png image": (PNG, 415, "could not decode"),
    "all-zero audio (silence)": (audio_bytes(np.zeros(4000, np.float32), RATE_IN), 422, "silent"),
    "nan samples in float wav": UPLOADS["nan samples in float wav"][:2] + ("nan",),
    "inf samples in float wav": UPLOADS["inf samples in float wav"][:2] + ("infinite",),
    "white noise (nothing voiced)": (
        audio_bytes(0.1 * np.random.default_rng(0).standard_normal(8000), RATE_IN),
        422,
        "voiced",
    ),
    "dc offset only": (audio_bytes(np.full(4000, 0.5, np.float32), RATE_IN), 422, "silent"),
    "1 sample long": (audio_bytes(np.array([0.5], np.float32), RATE_IN), 422, "too short"),
    "longer than the limit (31 s)": (audio_bytes(tone(300, 31.0, RATE_IN), RATE_IN), 413, "30 s"),
    "over the byte limit": (os.urandom(6 * 1024 * 1024), 413, "limit of"),
    "sample rate 500 Hz": (audio_bytes(tone(100, 1.0, 500), 500), 422, "sample rate"),
}


@dataclass
class Healthy:
    client: httpx.Client

    def check(self) -> None:
        response = self.client.post("/generate", params={"digit": 1, "seed": 3})
        assert response.status_code == 200
        assert_good_clip(response.content, 22_050, 17_640)


@pytest.fixture()
def healthy(client) -> Healthy:
    return Healthy(client)


@pytest.mark.parametrize("name", list(UPLOADS))
def test_upload_corpus(client, healthy, name):
    content, status, says = UPLOADS[name]
    response = client.post("/reconstruct", files={"file": ("upload.wav", content, "audio/wav")})
    if status == 200:
        assert response.status_code == 200, response.text
        assert_good_clip(response.content, 22_050, 17_640)
    else:
        assert_problem(response, status, says)
    healthy.check()


@pytest.mark.parametrize("name", list(VOICE_UPLOADS))
def test_voice_upload_corpus(client, healthy, name):
    content, status, says = VOICE_UPLOADS[name]
    response = client.post("/v1/voices", files={"file": ("upload.wav", content, "audio/wav")})
    assert_problem(response, status, says)
    healthy.check()


def test_voice_upload_with_a_bad_digit(client, healthy):
    upload = {"file": ("a.wav", audio_bytes(CLIP, RATE_IN))}
    for digit, says in (("10", "less than or equal to 9"), ("three", "valid integer")):
        assert_problem(client.post("/v1/voices", files=upload, data={"digit": digit}), 422, says)
    assert_problem(client.post("/v1/voices"), 422, "file")
    healthy.check()


@pytest.mark.parametrize("name", list(GENERATE_QUERIES))
def test_generate_corpus(client, healthy, name):
    query, status, says = GENERATE_QUERIES[name]
    assert_problem(client.post(f"/generate?{query}"), status, says)
    healthy.check()


REQUESTS: dict[str, tuple[Callable[[httpx.Client], httpx.Response], int, str]] = {
    "reconstruct with an empty body": (lambda c: c.post("/reconstruct"), 422, "file"),
    "multipart without a file": (
        lambda c: c.post("/reconstruct", data={"note": "no file here"}, files={"x": ("", b"")}),
        422, "file",
    ),
    "reconstruct with a bad phase": (
        lambda c: c.post("/reconstruct?phase=magic", files={"file": ("a.wav", audio_bytes(CLIP, 8000))}),
        422, "phase",
    ),
    "json body that is not an object": (lambda c: c.post("/generate", json=[1, 2, 3]), 422, "object"),
    "json body that is a string": (lambda c: c.post("/generate", json="3"), 422, "object"),
    "json body that is not json": (
        lambda c: c.post("/generate", content=b"{digit:", headers={"content-type": "application/json"}),
        422, "json",
    ),
    "body 10x the limit on /generate": (
        lambda c: c.post("/generate", json={"digit": 1, "pad": "x" * 160_000}), 413, "limit of 16384",
    ),
    "field both in query and body": (
        lambda c: c.post("/generate?digit=1", json={"digit": 2}), 422, "both",
    ),
    "accept no audio format": (
        lambda c: c.post("/generate?digit=1", headers={"accept": "application/json"}), 406, "accept",
    ),
    "accept garbage": (lambda c: c.post("/generate?digit=1", headers={"accept": ";;q=x,/"}), 406, "accept"),
    "accept a codec not made": (
        lambda c: c.post("/generate?digit=1", headers={"accept": "audio/ogg; codecs=vorbis"}), 406, "accept",
    ),
    "stream in the body of a whole-file format": (
        lambda c: c.post("/generate", json={"digits": "12", "stream": True, "format": "flac"}), 422, "stream",
    ),
    "unknown route": (lambda c: c.get("/admin"), 404, "not found"),
    "wrong method": (lambda c: c.delete("/generate"), 405, "method not allowed"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REQUESTS))
def test_request_corpus(client, healthy, name):
    send, status, says = REQUESTS[name]
    assert_problem(send(client), status, says)
    healthy.check()


def test_upload_over_the_byte_limit_states_it(client, healthy):
    big = os.urandom(6 * 1024 * 1024)
    response = client.post("/reconstruct", files={"file": ("big.wav", big, "audio/wav")})
    assert_problem(response, 413, "limit of")
    healthy.check()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_abandoned_uploads_leak_nothing(server, client, healthy):
    """Clients that hang up mid-upload: no file descriptors or temp files left behind."""
    healthy.check()
    before = _open_fds(server.process.pid)
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.wav"\r\n\r\n'
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /reconstruct HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 3000000\r\n\r\n" + part + os.urandom(1_500_000)
            )
    healthy.check()  # a full request after the abandoned ones still works
    # The server notices each hang-up on its own schedule (later on a loaded machine), so
    # wait for the descriptors to be released, up to a deadline; a leak never releases them.
    deadline = time.monotonic() + 15
    while _open_fds(server.process.pid) > before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling interval
    assert _open_fds(server.process.pid) <= before + 2
