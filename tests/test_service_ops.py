"""Running the service: metrics, access logs, settings, CORS, routing problems and a
responsive event loop, against real uvicorn processes."""

from __future__ import annotations

import asyncio

import httpx

from tests.audio_checks import assert_problem
from tests.conftest import DEFAULT_BUNDLE, Server
from tests.service import generate


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


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/nowhere"), 404, "not found")
    assert_problem(client.get("/generate"), 405, "method not allowed")


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
