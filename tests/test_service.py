"""The API against a real uvicorn process serving the default bundle."""

from __future__ import annotations

import asyncio
import socket

import httpx
import numpy as np
import pytest

from app.synthesis.bundle import read_meta
from tests.audio_checks import assert_good_clip, assert_problem, audio_bytes, read_audio
from tests.conftest import DEFAULT_BUNDLE, Server
from tests.factory import digit_clip, tone

META = read_meta(DEFAULT_BUNDLE)
RATE = META.contract["sample_rate"]
SAMPLES = META.contract["clip_samples"]


def generate(client: httpx.Client, **params) -> httpx.Response:
    response = client.post("/generate", params=params)
    assert response.status_code == 200, response.text
    return response


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


def test_model_metadata(client):
    meta = client.get("/v1/model").json()
    assert meta["id"].startswith("default@")
    assert meta["model"]["kind"] == META.model.kind
    assert meta["model"]["latent_dim"] == META.model.latent_dim
    assert meta["contract"] == META.contract
    assert set(meta["training"]["losses"]) == {"train", "val", "test"}
    assert "evaluation" in meta and "history" not in meta["training"]


def _counter(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.split()[-1])
    return 0.0


def test_metrics_move_with_requests(client):
    before = client.get("/metrics").text
    generate(client, digit=1, seed=1)
    client.post("/generate", params={"digit": 11})
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    ok = {"method": "POST", "route": "/generate", "status": "200"}
    bad = {**ok, "status": "422"}
    name = "audiovae_requests_total"
    assert _counter(text, name, **ok) == _counter(before, name, **ok) + 1
    assert _counter(text, name, **bad) == _counter(before, name, **bad) + 1
    stage = "audiovae_stage_duration_seconds_count"
    for which in ("decode", "inversion", "encoding"):
        assert _counter(text, stage, stage=which) > _counter(before, stage, stage=which)
    assert "audiovae_request_duration_seconds_bucket" in text
    assert "audiovae_requests_in_flight" in text


def test_missing_file_field(client):
    assert_problem(client.post("/reconstruct"), 422, "file: field required")


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/nowhere"), 404, "not found")
    assert_problem(client.get("/generate"), 405, "method not allowed")


def _read_response(sock: socket.socket, first: bytes = b"") -> str:
    """Read one whole HTTP response (head and Content-Length body) from the socket."""
    data = first
    while b"\r\n\r\n" not in data or len(data) < _response_length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def _response_length(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(data)


def _raw_request(server: Server, head: str, body_chunks=()) -> tuple[str, int]:
    """Send a request by hand, checking for an answer after each body chunk and stopping
    as soon as there is one. Returns (the response, body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode())
        for chunk in body_chunks:
            sock.settimeout(0.2)  # a short look for an early answer between chunks
            try:
                first = sock.recv(65536)
                sock.settimeout(30)
                return _read_response(sock, first), sent
            except TimeoutError:
                pass
            sock.settimeout(30)
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(30)
        return _read_response(sock), sent


def test_oversized_upload_refused_from_its_content_length(server):
    head = (
        "POST /reconstruct HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {500 * 1024 * 1024}\r\n\r\n"
    )
    answer, sent = _raw_request(server, head)
    assert answer.startswith("HTTP/1.1 413") and "limit of" in answer
    assert sent == 0


def test_oversized_chunked_upload_refused_while_reading(server):
    head = (
        "POST /reconstruct HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.wav"\r\n\r\n'
    mb = 1024 * 1024
    chunk = f"{mb:x}\r\n".encode() + b"\0" * mb + b"\r\n"
    first = f"{len(part):x}\r\n".encode() + part + b"\r\n"
    answer, sent = _raw_request(server, head, [first] + [chunk] * 200)  # would be 200 MB
    assert answer.startswith("HTTP/1.1 413")
    assert sent < 40 * mb  # refused long before the end


def test_capacity_bound_gives_503_with_retry_after():
    env = {"AUDIOVAE_MAX_CONCURRENCY": "1", "AUDIOVAE_MAX_QUEUE": "0",
           "AUDIOVAE_REJECT_DELAY_SECONDS": "0.3"}  # fmt: skip
    server = Server(DEFAULT_BUNDLE, env)
    try:
        server.wait_ready()

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
                params = {"digits": "12345678901234567890", "gl_iters": 128, "seed": 1,
                          "vocoder": "griffinlim"}  # fmt: skip
                return await asyncio.gather(*(c.post("/generate", params=params) for _ in range(6)))

        responses = asyncio.run(burst())
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
        refused = next(r for r in responses if r.status_code == 503)
        assert_problem(refused, 503, "capacity")
        assert refused.headers["retry-after"] == "1"
        assert refused.elapsed.total_seconds() >= 0.3  # held back, so retry storms stay slow
        with httpx.Client(base_url=server.url) as c:  # and it recovers
            assert c.post("/generate", params={"digit": 0}).status_code == 200
            assert 'audiovae_rejected_total{reason="capacity"}' in c.get("/metrics").text
    finally:
        server.stop()


def test_synthesis_defaults_come_from_settings():
    env = {"AUDIOVAE_TEMPERATURE": "0.5", "AUDIOVAE_GL_ITERS": "8", "AUDIOVAE_SHARPEN": "1.2"}
    server = Server(DEFAULT_BUNDLE, env)
    try:
        server.wait_ready()
        response = httpx.post(f"{server.url}/generate?digit=1")
        assert response.status_code == 200
        assert response.headers["x-temperature"] == "0.5"
        assert response.headers["x-gl-iters"] == "8"
        assert response.headers["x-sharpen"] == "1.2"
        asked = httpx.post(f"{server.url}/generate", params={"digit": 1, "temperature": 1})
        assert asked.headers["x-temperature"] == "1"
    finally:
        server.stop()


def test_cors_is_off_by_default_and_configurable(client):
    origin = {"Origin": "https://example.org"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    server = Server(DEFAULT_BUNDLE, {"AUDIOVAE_CORS_ORIGINS": '["https://example.org"]'})
    try:
        server.wait_ready()
        response = httpx.post(f"{server.url}/generate?digit=1", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        assert "x-seed" in response.headers["access-control-expose-headers"].lower()
    finally:
        server.stop()


def test_one_json_access_line_per_request(server, client):
    generate(client, digit=0, seed=123)
    lines = [line for line in server.output().splitlines() if "app.access" in line]
    assert any('"path": "/generate"' in line and '"status": 200' in line for line in lines)
    assert all('"ms": ' in line for line in lines)


def test_openapi_documents_both_spellings(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/generate"]["post"]
    names = {p["name"] for p in operation["parameters"]}
    fields = {"digit", "digits", "seed", "temperature", "format", "sample_rate", "gl_iters"}
    assert fields | {"sharpen", "vocoder"} <= names
    assert "requestBody" in operation
    _, rate, _ = read_audio(client.post("/generate?digit=0").content)
    assert rate == RATE


def test_cpu_work_does_not_block_the_event_loop(server):
    """While a long synthesis runs in the thread pool, the loop still answers /healthz."""

    async def race() -> tuple[bool, int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as c:
            long = asyncio.create_task(
                c.post(
                    "/generate",
                    params={
                        "digits": "1" * 32,
                        "gl_iters": 128,
                        "seed": 1,
                        "vocoder": "griffinlim",
                    },
                )  # fmt: skip
            )
            for _ in range(1000):  # until the server is working on it (this request is 1)
                metrics = (await c.get("/metrics")).text
                if _counter(metrics, "audiovae_requests_in_flight") >= 2:
                    break
            health = await c.get("/healthz")
            still_running = not long.done()
            await long
            return still_running, health.status_code

    still_running, status = asyncio.run(race())
    assert status == 200 and still_running
