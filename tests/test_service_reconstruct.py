"""`/reconstruct` against a real uvicorn process serving the default bundle."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_checks import assert_good_clip, assert_problem, audio_bytes
from tests.factory import digit_clip, tone
from tests.service import RATE, SAMPLES


def test_reconstruct_real_fsdd_clip(client, fsdd):
    data = (fsdd / "recordings" / "3_jackson_7.wav").read_bytes()
    response = client.post("/reconstruct", files={"file": ("3.wav", data, "audio/wav")})
    assert response.status_code == 200
    assert_good_clip(response.content, RATE, SAMPLES)


def test_reconstruct_stereo_44k_float(client):
    left = digit_clip(5, 0, 44_100, seconds=0.6)
    stereo = np.stack([left, 0.5 * tone(440.0, 0.6, 44_100)], axis=1)
    data = audio_bytes(stereo, 44_100, subtype="FLOAT")
    response = client.post("/reconstruct", files={"file": ("s.wav", data, "audio/wav")})
    assert response.status_code == 200
    assert_good_clip(response.content, RATE, SAMPLES)


@pytest.mark.parametrize(("fmt", "subtype"), [("FLAC", "PCM_24"), ("OGG", "VORBIS")])
def test_reconstruct_flac_and_ogg(client, fmt, subtype):
    data = audio_bytes(digit_clip(2, 1, 16_000), 16_000, subtype=subtype, fmt=fmt)
    response = client.post("/reconstruct", files={"file": ("c", data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert_good_clip(response.content, RATE, SAMPLES)


def test_reconstruct_original_phase_is_deterministic_and_differs(client):
    data = audio_bytes(digit_clip(9, 2, 8_000), 8_000)
    files = {"file": ("c.wav", data, "audio/wav")}
    original = client.post("/reconstruct", params={"phase": "original"}, files=files)
    again = client.post("/reconstruct", params={"phase": "original"}, files=files)
    vocoder = client.post("/reconstruct", files=files)
    assert original.headers["x-phase"] == "original" and vocoder.headers["x-phase"] == "vocoder"
    assert vocoder.headers["x-vocoder"] == "source-filter"
    assert original.content == again.content != vocoder.content
    assert_good_clip(original.content, RATE, SAMPLES)
    assert original.headers["x-sharpen"] == "1.4"
    plain = client.post("/reconstruct", params={"phase": "original", "sharpen": 1}, files=files)
    assert plain.headers["x-sharpen"] == "1" and plain.content != original.content


def test_reconstruct_output_options(client):
    data = audio_bytes(digit_clip(1, 1, 8_000), 8_000)
    response = client.post(
        "/reconstruct",
        params={"format": "flac", "sample_rate": 16_000, "gl_iters": 8},
        files={"file": ("c.wav", data, "audio/wav")},
    )
    assert response.status_code == 200
    assert_good_clip(response.content, 16_000, SAMPLES * 16_000 // RATE, fmt="FLAC")


def test_missing_file_field(client):
    assert_problem(client.post("/reconstruct"), 422, "file: field required")
