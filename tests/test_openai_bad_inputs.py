"""The bad-input corpus of the OpenAI-compatible routes: every case gets a 4xx in OpenAI's
error shape (never a 5xx), and the service stays healthy for the next client."""

from __future__ import annotations

import httpx
import pytest

GOOD = {"model": "tts-1", "input": "123", "voice": "alloy", "response_format": "wav"}
LONG = "1" * 33  # one digit over the limit (MAX_DIGITS, as /generate)
JSON = {"content-type": "application/json"}

# name -> (request keyword arguments for httpx, expected status, param or None)
CORPUS: dict[str, tuple[dict, int, str | None]] = {
    "words that are not digits": ({"json": {**GOOD, "input": "hello world"}}, 400, "input"),
    "a digit word among others": ({"json": {**GOOD, "input": "one two tree"}}, 400, "input"),
    "symbol in a number": ({"json": {**GOOD, "input": "555*1234"}}, 400, "input"),
    "non-ASCII digit": ({"json": {**GOOD, "input": "١٢٣"}}, 400, "input"),
    "emoji": ({"json": {**GOOD, "input": "1 2 🙂"}}, 400, "input"),
    "only separators": ({"json": {**GOOD, "input": " - ( ) , "}}, 400, "input"),
    "empty input": ({"json": {**GOOD, "input": ""}}, 400, "input"),
    "too many digits": ({"json": {**GOOD, "input": LONG}}, 400, "input"),
    "too many digit words": ({"json": {**GOOD, "input": "oh " * 33}}, 400, "input"),
    "input over 4096 characters": ({"json": {**GOOD, "input": "1" + " " * 4096}}, 400, "input"),
    "input not a string": ({"json": {**GOOD, "input": 123}}, 400, "input"),
    "unknown voice": ({"json": {**GOOD, "voice": "darth"}}, 400, "voice"),
    "forged made-voice id": ({"json": {**GOOD, "voice": "v2.AAAA"}}, 400, "voice"),
    "empty voice": ({"json": {**GOOD, "voice": ""}}, 400, "voice"),
    "unknown format": ({"json": {**GOOD, "response_format": "ogg"}}, 400, "response_format"),
    "speed too slow": ({"json": {**GOOD, "speed": 0.1}}, 400, "speed"),
    "speed too fast": ({"json": {**GOOD, "speed": 4.01}}, 400, "speed"),
    "speed not a number": ({"json": {**GOOD, "speed": "fast"}}, 400, "speed"),
    "unknown model": ({"json": {**GOOD, "model": "tts-9"}}, 404, "model"),
    "missing model": ({"json": {k: v for k, v in GOOD.items() if k != "model"}}, 400, "model"),
    "missing input": ({"json": {k: v for k, v in GOOD.items() if k != "input"}}, 400, "input"),
    "unknown field": ({"json": {**GOOD, "seed": 7}}, 400, "seed"),
    "sse streaming": ({"json": {**GOOD, "stream_format": "sse"}}, 400, "stream_format"),
    "body a JSON list": ({"json": [GOOD]}, 400, None),
    "body not JSON": ({"content": b"{input: 1", "headers": JSON}, 400, None),
    "body empty": ({"content": b"", "headers": JSON}, 400, None),
    "instructions too long": ({"json": {**GOOD, "instructions": "x" * 5000}}, 400, "instructions"),
    "body over the limit": ({"json": {**GOOD, "instructions": "x" * 200_000}}, 413, None),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_speech_request_gets_openai_4xx(client: httpx.Client, name: str):
    kwargs, status, param = CORPUS[name]
    response = client.post("/v1/audio/speech", **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param, error


def test_the_first_unspeakable_thing_is_named(client: httpx.Client):
    for text, named in [("415 five five x 7", "'x'"), ("call 555", "'call'"), ("12;3", "';'")]:
        response = client.post("/v1/audio/speech", json={**GOOD, "input": text})
        assert named in response.json()["error"]["message"], text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/audio/speech", 405), ("POST", "/v1/models", 405),
     ("GET", "/v1/models/no-such-model", 404), ("GET", "/v1/audio/nothing", 404)],
)  # fmt: skip
def test_wrong_method_or_path_is_openai_shaped(client: httpx.Client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_service_healthy_after_the_corpus(client: httpx.Client):
    for kwargs, _, _ in CORPUS.values():
        assert client.post("/v1/audio/speech", **kwargs).status_code < 500
    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/audio/speech", json=GOOD).content[:4] == b"RIFF"
