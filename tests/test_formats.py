"""Output formats and Accept negotiation: the writer against libsndfile's own files, and
every format over HTTP from a real uvicorn process, decoded by soundfile and ffmpeg."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from app.audio.formats import FORMATS, AudioWriter, negotiate, output_rate, wav_header
from app.synthesis.bundle import read_meta
from tests.audio_checks import assert_problem, ffmpeg_decode
from tests.conftest import DEFAULT_BUNDLE

RATE = read_meta(DEFAULT_BUNDLE).contract["sample_rate"]
NUMBER = {"digits": "4155551234", "seed": 5}


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (None, "wav"), ("", "wav"), ("*/*", "wav"), ("audio/*", "wav"),
        ("audio/mpeg", "mp3"), ("audio/ogg; codecs=opus", "ogg"), ("audio/opus", "ogg"),
        ("audio/wav; codecs=7", "mulaw"), ('audio/wav;codecs="1"', "wav"), ("audio/x-flac", "flac"),
        ("audio/pcm", "pcm"), ("text/html, audio/flac;q=0.5, */*;q=0.1", "flac"),
        ("audio/wav;q=0, */*", "flac"), ("audio/pcm;q=0.9, audio/mpeg", "mp3"),
        ("application/json", None), ("audio/ogg; codecs=vorbis", None), ("audio/*;q=0", None),
    ],
)  # fmt: skip
def test_accept_negotiation(accept, fmt):
    assert negotiate(accept) == fmt


def test_output_rates():
    assert output_rate("wav", None, RATE) == RATE
    assert output_rate("mulaw", None, RATE) == 8_000  # telephony unless asked otherwise
    assert output_rate("mulaw", 16_000, RATE) == 16_000
    assert output_rate("ogg", None, 22_050) == 24_000  # Opus takes 8/12/16/24/48 kHz only
    assert output_rate("ogg", 44_100, RATE) == 48_000
    assert output_rate("mp3", 10_000, RATE) == 11_025


@pytest.mark.parametrize(("fmt", "subtype"), [("wav", "PCM_16"), ("mulaw", "ULAW")])
@pytest.mark.parametrize("frames", [0, 1, 2, 1001])
def test_whole_wav_is_byte_for_byte_libsndfiles(fmt, subtype, frames):
    """Our RIFF writer (which can also stream) makes exactly the file libsndfile makes."""
    y = np.sin(np.arange(frames) / 7).astype(np.float32) * 0.8
    ours = AudioWriter(fmt, 8_000, 8_000).whole([y[: frames // 2], y[frames // 2 :]])
    reference = io.BytesIO()
    pcm = np.round(y * 32767).astype(np.int16)
    sf.write(reference, pcm, 8_000, format="WAV", subtype=subtype)
    assert ours == reference.getvalue()
    assert len(wav_header(fmt, 8_000, None)) == len(wav_header(fmt, 8_000, frames))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_decodes_to_the_same_audio(client, fmt):
    response = client.post("/generate", params={**NUMBER, "format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FORMATS[fmt].media_type
    rate = int(response.headers["x-sample-rate"])
    reference = client.post("/generate", params={**NUMBER, "sample_rate": rate}).content
    expected, _ = sf.read(io.BytesIO(reference), dtype="int16")
    seconds = float(response.headers["x-duration-seconds"])
    assert seconds == pytest.approx(len(expected) / rate, abs=1e-3)
    if fmt == "pcm":
        samples = np.frombuffer(response.content, "<i2")
    else:
        samples, actual = sf.read(io.BytesIO(response.content), dtype="int16")
        assert actual == rate
        by_ffmpeg, ffmpeg_rate = ffmpeg_decode(response.content)
        # ffmpeg decodes Opus at 48 kHz whatever the input rate, and may keep an encoder's
        # priming samples: the same duration within 50 ms
        assert ffmpeg_rate == (48_000 if fmt == "ogg" else rate)
        assert len(by_ffmpeg) / ffmpeg_rate == pytest.approx(len(expected) / rate, abs=0.05)
    assert len(samples) == len(expected)
    if fmt in ("wav", "flac", "pcm"):  # lossless: the very samples
        np.testing.assert_array_equal(samples, expected)
    else:  # lossy: the same sound
        assert np.corrcoef(samples.astype(float), expected.astype(float))[0, 1] > 0.9


def test_mulaw_is_8khz_g711_in_wav(client):
    response = client.post("/generate", params={**NUMBER, "format": "mulaw"})
    info = sf.info(io.BytesIO(response.content))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "ULAW", 8000, 1)
    assert response.content[20:22] == (7).to_bytes(2, "little")  # WAVE_FORMAT_MULAW
    assert response.headers["x-sample-rate"] == "8000"
    wide = client.post("/generate", params={**NUMBER, "format": "mulaw", "sample_rate": 16000})
    assert sf.info(io.BytesIO(wide.content)).samplerate == 16000


def test_accept_header_chooses_when_format_is_absent(client):
    asked = client.post("/generate", params=NUMBER, headers={"Accept": "audio/mpeg"})
    assert asked.status_code == 200 and asked.headers["content-type"] == "audio/mpeg"
    assert "accept" in asked.headers["vary"].lower()
    by_param = client.post("/generate", params={**NUMBER, "format": "mp3"})
    assert asked.content == by_param.content
    # `format` wins over Accept
    both = client.post(
        "/generate", params={**NUMBER, "format": "flac"}, headers={"Accept": "audio/mpeg"}
    )
    assert both.headers["content-type"] == "audio/flac"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert (
        client.post("/generate", params=NUMBER, headers={"Accept": browser}).headers["content-type"]
        == "audio/wav"
    )


def test_bad_format_and_unsatisfiable_accept_are_problems(client):
    assert_problem(client.post("/generate", params={"digit": 1, "format": "aac"}), 422, "format")
    assert_problem(client.post("/generate", json={"digit": 1, "format": "MP3"}), 422, "format")
    refused = client.post("/generate", params={"digit": 1}, headers={"Accept": "application/json"})
    assert_problem(refused, 406, "audio/mpeg")
    refused = client.post("/generate", params={"digit": 1}, headers={"Accept": "audio/aac"})
    assert_problem(refused, 406, "Accept")
    assert client.post("/generate", params={"digit": 1}).status_code == 200  # still healthy


def test_reconstruct_speaks_every_format(client):
    upload = client.post("/generate", params={"digit": 4, "seed": 2}).content
    files = {"file": ("four.wav", upload, "audio/wav")}
    mp3 = client.post("/reconstruct", params={"format": "mp3"}, files=files)
    assert mp3.status_code == 200 and mp3.headers["content-type"] == "audio/mpeg"
    assert sf.info(io.BytesIO(mp3.content)).format == "MP3"
    ulaw = client.post("/reconstruct", files=files, headers={"Accept": "audio/wav; codecs=7"})
    assert ulaw.headers["content-type"] == "audio/wav; codecs=7"
    assert sf.info(io.BytesIO(ulaw.content)).subtype == "ULAW"
    assert_problem(
        client.post("/reconstruct", files=files, headers={"Accept": "video/mp4"}), 406, "Accept"
    )


def test_openapi_lists_every_content_type(client):
    spec = client.get("/openapi.json").json()
    for path in ("/generate", "/reconstruct"):
        responses = spec["paths"][path]["post"]["responses"]
        assert set(responses["200"]["content"]) == {f.media_type for f in FORMATS.values()}
        assert "406" in responses
    names = {p["name"] for p in spec["paths"]["/generate"]["post"]["parameters"]}
    assert {"format", "stream"} <= names
