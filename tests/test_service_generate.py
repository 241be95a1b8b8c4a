"""`/generate` (and the model's description) against a real uvicorn process serving the
default bundle."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_checks import assert_good_clip, read_audio
from tests.service import META, RATE, SAMPLES, generate


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


@pytest.mark.parametrize("digit", range(10))
def test_generate_every_digit(client, digit):
    response = client.post(f"/generate?digit={digit}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-digits"] == str(digit)
    assert int(response.headers["x-seed"]) >= 0
    assert response.headers["x-model-id"].startswith(META.name)
    assert response.headers["x-sample-rate"] == str(RATE)
    assert float(response.headers["x-duration-seconds"]) == pytest.approx(SAMPLES / RATE, abs=1e-3)
    assert_good_clip(response.content, RATE, SAMPLES)


def test_same_seed_same_bytes_other_seed_other_audio(client):
    first = generate(client, digit=3, seed=42)
    assert first.content == generate(client, digit=3, seed=42).content
    assert first.content != generate(client, digit=3, seed=43).content


def test_unseeded_requests_report_a_seed_that_reproduces_them(client):
    first = generate(client, digit=8)
    assert first.content != generate(client, digit=8).content
    assert first.content == generate(client, digit=8, seed=first.headers["x-seed"]).content


def test_temperature_zero_is_the_digits_mean(client):
    """At temperature 0 the latent is the mean of a mixture component (picked by the seed),
    so the same seed gives the same bytes."""
    a = generate(client, digit=2, temperature=0, seed=1)
    b = generate(client, digit=2, temperature=0, seed=1)
    assert a.content == b.content
    assert a.headers["x-temperature"] == "0"


def test_sequence_is_one_clip_read_out(client):
    response = generate(client, digits="4155551234", seed=5)
    assert response.headers["x-digits"] == "4155551234"
    audio = assert_good_clip(response.content, RATE)
    seconds = len(audio) / RATE
    # Ten trimmed digits and nine 80 ms gaps: longer than one clip, shorter than ten.
    assert 10 * 0.15 + 9 * 0.08 < seconds < 10 * SAMPLES / RATE + 9 * 0.08
    assert float(response.headers["x-duration-seconds"]) == pytest.approx(seconds, abs=1e-3)
    assert response.content == generate(client, digits="4155551234", seed=5).content


def test_sequence_length_grows_with_digits_and_gap(client):
    def seconds(**params) -> float:
        return float(generate(client, seed=9, **params).headers["x-duration-seconds"])

    assert seconds(digits="12") < seconds(digits="1212") < seconds(digits="12121212")
    assert seconds(digits="1212", gap_ms=300) == pytest.approx(
        seconds(digits="1212", gap_ms=0) + 0.9, abs=0.01
    )


def test_json_body_equals_query_parameters(client):
    by_query = client.post("/generate", params={"digits": "907", "seed": 11, "gap_ms": 50})
    by_body = client.post("/generate", json={"digits": "907", "seed": 11, "gap_ms": 50})
    mixed = client.post("/generate", params={"seed": 11}, json={"digits": "907", "gap_ms": 50})
    assert by_query.status_code == by_body.status_code == mixed.status_code == 200
    assert by_query.content == by_body.content == mixed.content


@pytest.mark.parametrize("rate", [8_000, 16_000, 44_100, 48_000])
def test_resampled_output_has_the_asked_rate(client, rate):
    response = generate(client, digit=6, seed=2, sample_rate=rate)
    assert response.headers["x-sample-rate"] == str(rate)
    audio = assert_good_clip(response.content, rate)
    assert len(audio) == pytest.approx(SAMPLES * rate / RATE, abs=2)


def test_flac_output_decodes_to_the_same_audio(client):
    wav = generate(client, digit=4, seed=3)
    flac = generate(client, digit=4, seed=3, format="flac")
    assert flac.headers["content-type"] == "audio/flac"
    a = assert_good_clip(wav.content, RATE, SAMPLES)
    b = assert_good_clip(flac.content, RATE, SAMPLES, fmt="FLAC")
    np.testing.assert_array_equal(a, b)  # both PCM16 of the same samples


def test_gl_iters_changes_the_audio(client):
    a = generate(client, digit=7, seed=4, gl_iters=4, vocoder="griffinlim")
    b = generate(client, digit=7, seed=4, gl_iters=64, vocoder="griffinlim")
    assert a.headers["x-gl-iters"] == "4" and b.headers["x-gl-iters"] == "64"
    assert a.content != b.content


def test_sharpen_is_the_default_post_filter_and_can_be_turned_off(client):
    default = generate(client, digit=7, seed=4)
    assert default.headers["x-sharpen"] == "1.4"
    assert default.content == generate(client, digit=7, seed=4, sharpen=1.4).content
    off = generate(client, digit=7, seed=4, sharpen=1)
    assert off.headers["x-sharpen"] == "1" and off.content != default.content
    assert_good_clip(off.content, RATE, SAMPLES)


def test_model_metadata(client):
    meta = client.get("/v1/model").json()
    assert meta["id"].startswith("default@")
    assert meta["model"]["kind"] == META.model.kind
    assert meta["model"]["latent_dim"] == META.model.latent_dim
    assert meta["contract"] == META.contract
    assert set(meta["training"]["losses"]) == {"train", "val", "test"}
    assert "evaluation" in meta and "history" not in meta["training"]


def test_openapi_documents_both_spellings(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/generate"]["post"]
    names = {p["name"] for p in operation["parameters"]}
    fields = {"digit", "digits", "seed", "temperature", "format", "sample_rate", "gl_iters"}
    assert fields | {"sharpen", "vocoder"} <= names
    assert "requestBody" in operation
    _, rate, _ = read_audio(client.post("/generate?digit=0").content)
    assert rate == RATE
