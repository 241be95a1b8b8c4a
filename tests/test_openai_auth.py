"""AUDIOVAE_API_KEYS: with keys set, everything but the probes and the demo page's files
needs a Bearer key; 401 in OpenAI's shape on its routes, problem+json elsewhere."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.audio_checks import assert_problem
from tests.conftest import DEFAULT_BUNDLE, Server

KEYS = "first-key-0123456789, second-key-0123456789"


@pytest.fixture(scope="module")
def locked():
    server = Server(DEFAULT_BUNDLE, {"AUDIOVAE_API_KEYS": KEYS})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def client(server: Server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def test_openai_client_needs_a_valid_key(locked: Server):
    for key in ("wrong-key", "first-key-012345678"):  # unknown; a prefix of a real one
        with pytest.raises(openai.AuthenticationError) as caught:
            client(locked, key).audio.speech.create(model="tts-1", input="1", voice="onyx")
        assert caught.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client(locked, key="wrong-key").models.list()
    for key in ("first-key-0123456789", "second-key-0123456789"):
        speech = client(locked, key).audio.speech.create(
            model="tts-1", input="1", voice="onyx", response_format="wav"
        )
        assert speech.content[:4] == b"RIFF"


def test_no_key_is_401_in_each_routes_shape(locked: Server):
    with httpx.Client(base_url=locked.url, timeout=30) as c:
        body = {"model": "tts-1", "input": "1", "voice": "onyx"}
        r = c.post("/v1/audio/speech", json=body)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["type"] == "authentication_error"
        assert c.get("/v1/models").json()["error"]["code"] == "invalid_api_key"
        closed = [("POST", "/generate?digit=1"), ("GET", "/v1/voices"), ("GET", "/v1/model"),
                  ("GET", "/metrics"), ("GET", "/openapi.json")]  # fmt: skip
        for method, path in closed:
            assert_problem(c.request(method, path), 401, "API key")
        wrong = c.post("/generate?digit=1", headers={"Authorization": "Basic Zm9vOmJhcg=="})
        assert_problem(wrong, 401, "missing API key")
        # Open: the probes and the demo page with its files (the page asks for the key).
        for path in ("/healthz", "/readyz", "/", "/static/app.js"):
            assert c.get(path).status_code == 200, path
        key = {"Authorization": "Bearer second-key-0123456789"}
        assert c.post("/generate?digit=1", headers=key).status_code == 200
