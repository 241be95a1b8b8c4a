"""The OpenAI-compatible routes driven by the official `openai` package against a real
uvicorn server: every response_format, the streaming response, the model list, and
errors raised as the client's own exception types."""

from __future__ import annotations

import time

import numpy as np
import openai
import pytest

from tests.audio_checks import ffmpeg_decode
from tests.conftest import Server

RATE = 24_000
NUMBER = "415-555-1234"  # 10 digits: each about 0.3-0.6 s trimmed, 80-160 ms between


@pytest.fixture(scope="module")
def api(server: Server) -> openai.OpenAI:
    # max_retries=0: a failure shows at once, not after the client's back-off.
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def decoded(fmt: str, content: bytes) -> tuple[np.ndarray, int]:
    if fmt == "pcm":
        return np.frombuffer(content, "<i2"), RATE
    return ffmpeg_decode(content)


@pytest.mark.parametrize(
    ("fmt", "media_type", "rate"),
    [
        ("mp3", "audio/mpeg", RATE),
        ("opus", "audio/ogg", 48_000),  # Opus always decodes at 48 kHz (RFC 7845)
        ("aac", "audio/aac", RATE),
        ("flac", "audio/flac", RATE),
        ("wav", "audio/wav", RATE),
        ("pcm", "audio/pcm", RATE),
    ],
)
def test_every_response_format_decodes(api: openai.OpenAI, fmt: str, media_type: str, rate: int):
    response = api.audio.speech.create(
        model="tts-1", input=NUMBER, voice="alloy", response_format=fmt
    )
    assert response.response.headers["content-type"] == media_type
    assert response.response.headers["x-digits"] == "4155551234"
    samples, actual_rate = decoded(fmt, response.content)
    assert actual_rate == rate
    seconds = len(samples) / actual_rate
    assert 2.5 < seconds < 8.0, seconds  # ten spoken digits, not one, not silence
    assert np.abs(samples).max() > 3000  # audible
    if fmt == "opus":  # the stream's own rate, in the OpusHead packet: 24 kHz in
        head = response.content.index(b"OpusHead")
        assert int.from_bytes(response.content[head + 12 : head + 16], "little") == RATE


def test_streaming_response_writes_a_file(api: openai.OpenAI, tmp_path):
    out = tmp_path / "number.mp3"
    with api.audio.speech.with_streaming_response.create(
        model="tts-1", input="one two three", voice="nova", instructions="Speak cheerfully."
    ) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        response.stream_to_file(out)
    samples, rate = ffmpeg_decode(out.read_bytes())
    assert rate == RATE and 0.8 < len(samples) / rate < 3.0


def test_first_bytes_arrive_before_the_last_digit_is_made(server: Server):
    """Chunked as it is made: a chunk per digit and gap, and the first audio bytes of 10
    digits come well before the end (the best of three tries: the CPU is shared)."""
    import httpx

    body = {"model": "tts-1", "input": NUMBER, "voice": "echo", "response_format": "pcm"}
    ratios = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for _ in range(4):  # the first warms the path
            start = time.perf_counter()
            arrivals = []
            with client.stream("POST", "/v1/audio/speech", json=body) as r:
                assert r.status_code == 200
                for chunk in r.iter_raw():
                    if chunk:
                        arrivals.append(time.perf_counter() - start)
            assert len(arrivals) >= 3  # not one body: chunks as digits are made
            ratios.append(arrivals[0] / (time.perf_counter() - start))
    assert min(ratios[1:]) < 0.5, ratios


def test_models_list_and_retrieve(api: openai.OpenAI, server: Server):
    import httpx

    ready = httpx.get(f"{server.url}/readyz").json()
    models = api.models.list()
    ids = [m.id for m in models.data]
    assert ids[0] == ready["model"] and "tts-1" in ids
    assert all(m.object == "model" and m.owned_by == "audio-vae" and m.created > 0
               for m in models.data)  # fmt: skip
    assert api.models.retrieve("tts-1").id == "tts-1"
    with pytest.raises(openai.NotFoundError):
        api.models.retrieve("whisper-1")


@pytest.mark.parametrize(
    ("changes", "param", "says"),
    [
        ({"input": "call me at 555"}, "input", "'call'"),
        ({"input": "12#4"}, "input", "'#'"),
        ({"voice": "no-such-voice"}, "voice", "no built-in voice"),
        ({"speed": 4.5}, "speed", "less than or equal to 4"),
        ({"response_format": "ogg"}, "response_format", "mp3"),
    ],
)
def test_errors_are_the_clients_bad_request(api: openai.OpenAI, changes, param, says):
    args = {"model": "tts-1", "input": "123", "voice": "alloy", **changes}
    with pytest.raises(openai.BadRequestError) as caught:
        api.audio.speech.create(**args)
    error = caught.value.body
    assert caught.value.status_code == 400
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert says in error["message"], error["message"]


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_a_single_digit_is_sent_whole_in_every_format(api: openai.OpenAI, fmt: str):
    response = api.audio.speech.create(model="tts-1", input="seven", voice="sage",
                                       response_format=fmt, speed=2.0)  # fmt: skip
    samples, rate = decoded(fmt, response.content)
    assert rate in (RATE, 48_000) and 0.3 < len(samples) / rate < 0.5  # 0.8 s at speed 2
    assert response.response.headers["x-voice"] == "aspen"  # sage: the library's 176 Hz voice
