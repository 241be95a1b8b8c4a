"""The service as a real uvicorn process on a loopback port, serving the default bundle."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf

from app.bundle import read_meta
from tests.conftest import DEFAULT_BUNDLE, Server
from tests.factory import digit_clip, tone

META = read_meta(DEFAULT_BUNDLE)
RATE = META.contract["sample_rate"]
SAMPLES = META.contract["clip_samples"]


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


def read_wav(content: bytes) -> tuple[np.ndarray, int, str]:
    info = sf.info(io.BytesIO(content))
    samples, rate = sf.read(io.BytesIO(content), dtype="float32")
    return samples, rate, info.subtype


def assert_good_clip(content: bytes) -> np.ndarray:
    samples, rate, subtype = read_wav(content)
    assert (rate, subtype, samples.ndim) == (RATE, "PCM_16", 1)
    assert len(samples) == SAMPLES  # 0.8 s
    peak = np.abs(samples).max()
    assert 0.5 < peak < 0.99, "silent or clipped"
    assert np.sqrt(np.mean(samples**2)) > 0.01
    return samples


def assert_problem(response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    assert says.lower() in body["detail"].lower(), body["detail"]


@pytest.fixture()
def healthy_after(client):
    """Every bad input must leave the service answering normally."""
    yield
    response = client.post("/generate", params={"digit": 1, "seed": 3})
    assert response.status_code == 200
    assert_good_clip(response.content)


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


@pytest.mark.parametrize("digit", range(10))
def test_generate_every_digit(client, digit):
    response = client.post(f"/generate?digit={digit}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-digit"] == str(digit)
    assert int(response.headers["x-seed"]) >= 0
    assert response.headers["x-model-id"].startswith(META.name)
    assert_good_clip(response.content)


def test_same_seed_same_bytes_other_seed_other_audio(client):
    first = client.post("/generate", params={"digit": 3, "seed": 42})
    second = client.post("/generate", params={"digit": 3, "seed": 42})
    other = client.post("/generate", params={"digit": 3, "seed": 43})
    assert first.content == second.content
    assert first.content != other.content


def test_unseeded_requests_report_a_seed_that_reproduces_them(client):
    first = client.post("/generate", params={"digit": 8})
    again = client.post("/generate", params={"digit": 8, "seed": first.headers["x-seed"]})
    assert first.content == again.content


def test_reconstruct_real_fsdd_clip(client, fsdd):
    data = (fsdd / "recordings" / "3_jackson_7.wav").read_bytes()
    response = client.post("/reconstruct", files={"file": ("3.wav", data, "audio/wav")})
    assert response.status_code == 200
    assert_good_clip(response.content)


def test_reconstruct_stereo_44k_float(client):
    left = digit_clip(5, 0, 44_100, seconds=0.6)
    stereo = np.stack([left, 0.5 * tone(440.0, 0.6, 44_100)], axis=1)
    data = wav_bytes(stereo, 44_100, subtype="FLOAT")
    response = client.post("/reconstruct", files={"file": ("s.wav", data, "audio/wav")})
    assert response.status_code == 200
    assert_good_clip(response.content)


def test_reconstruct_with_original_phase_and_flac(client):
    data = wav_bytes(digit_clip(2, 1, 16_000), 16_000, fmt="FLAC")
    response = client.post(
        "/reconstruct", params={"phase": "original"}, files={"file": ("c.flac", data, "audio/flac")}
    )
    assert response.status_code == 200
    assert response.headers["x-phase"] == "original"
    assert_good_clip(response.content)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("digit=-1", "greater than or equal to 0"),
        ("digit=10", "less than or equal to 9"),
        ("digit=three", "valid integer"),
        ("digit=3.5", "valid integer"),
        ("", "digit: field required"),
        ("digit=3&seed=-5", "seed"),
    ],
)
def test_bad_generate_parameters(client, healthy_after, query, says):
    assert_problem(client.post(f"/generate?{query}"), 422, says)


@pytest.mark.parametrize(
    ("content", "status", "says"),
    [
        (b"", 422, "empty"),
        (b"this is plain text, not a sound file\n" * 10, 415, "could not decode"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40), 415, "could not decode"),
        (wav_bytes(np.zeros(8000, np.float32), 8000), 422, "silent"),
        (wav_bytes(np.full(800, np.nan, np.float32), 8000, subtype="FLOAT"), 422, "nan"),
        (wav_bytes(np.zeros((0,), np.float32), 8000), 422, "no samples"),
    ],
    ids=["empty", "text", "bad-header", "silence", "nan", "zero-frames"],
)
def test_bad_uploads(client, healthy_after, content, status, says):
    response = client.post("/reconstruct", files={"file": ("x.wav", content, "audio/wav")})
    assert_problem(response, status, says)


def test_missing_file_field(client, healthy_after):
    assert_problem(client.post("/reconstruct"), 422, "file: field required")


def test_upload_over_the_byte_limit(client, healthy_after):
    big = b"\0" * (6 * 1024 * 1024)
    response = client.post("/reconstruct", files={"file": ("big.wav", big, "audio/wav")})
    assert_problem(response, 413, "limit")


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/nowhere"), 404, "not found")
    assert_problem(client.get("/generate"), 405, "method not allowed")


def test_missing_bundle_stops_start_up(tmp_path):
    server = Server(tmp_path / "no-such-bundle")
    code = server.process.wait(timeout=60)
    output = server.stop()
    assert code != 0
    assert "no-such-bundle" in output and "does not exist" in output


def test_hash_mismatch_stops_start_up(tmp_path):
    bundle = tmp_path / "tampered"
    bundle.mkdir()
    for path in DEFAULT_BUNDLE.iterdir():
        (bundle / path.name).write_bytes(path.read_bytes())
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["files"]["decoder.onnx"]["sha256"] = "0" * 64
    (bundle / "bundle.json").write_text(json.dumps(meta))
    server = Server(bundle)
    assert server.process.wait(timeout=60) != 0
    assert "decoder.onnx: SHA-256 does not match" in server.stop()
