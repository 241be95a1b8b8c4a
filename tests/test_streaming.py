"""stream=true against a real uvicorn process: the bytes decode to what the same request
gives unstreamed, the first digit arrives long before the last, and a client that hangs up
stops the synthesis."""

from __future__ import annotations

import io
import socket
import struct
import time

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.audio_checks import assert_problem, ffmpeg_decode
from tests.conftest import DEFAULT_BUNDLE, Server
from tests.scrape import sample

HEADER = {"wav": 44, "mulaw": 58, "pcm": 0}
NUMBER = {"digits": "4155551234", "seed": 5}


def streamed(client: httpx.Client, **params) -> tuple[httpx.Response, list[tuple[float, int]]]:
    """POST /generate with stream=true; the response and (seconds, bytes so far) per chunk."""
    arrivals, body = [], bytearray()
    start = time.perf_counter()
    with client.stream("POST", "/generate", params={**params, "stream": "true"}) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            body += chunk
            arrivals.append((time.perf_counter() - start, len(body)))
    response._content = bytes(body)
    return response, arrivals


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mulaw"])
@pytest.mark.parametrize("rate", [None, 16_000])
def test_streamed_bytes_are_the_unstreamed_audio(client, fmt, rate):
    params = {**NUMBER, "format": fmt, **({"sample_rate": rate} if rate else {})}
    whole = client.post("/generate", params=params)
    stream, _ = streamed(client, **params)
    assert "content-length" not in stream.headers
    assert stream.headers["transfer-encoding"] == "chunked"
    assert stream.headers["content-type"] == whole.headers["content-type"]
    for name in ("x-seed", "x-digits", "x-sample-rate"):
        assert stream.headers[name] == whole.headers[name]
    size = HEADER[fmt]
    data = whole.content[size:]
    if size:  # a whole RIFF chunk is word-aligned (a pad byte); a stream has no end to pad
        data = data[: struct.unpack("<I", whole.content[size - 4 : size])[0]]
    # The very samples, after a header that differs only in its sizes.
    assert stream.content[size:] == data
    if fmt == "pcm":
        return
    riff, data_size = struct.unpack("<I", stream.content[4:8]), stream.content[size - 4 : size]
    assert riff == (0xFFFFFFFF,) and data_size == b"\xff\xff\xff\xff"
    a, a_rate = sf.read(io.BytesIO(stream.content), dtype="int16")
    b, b_rate = sf.read(io.BytesIO(whole.content), dtype="int16")
    assert a_rate == b_rate == int(whole.headers["x-sample-rate"])
    np.testing.assert_array_equal(a, b)
    by_ffmpeg, ffmpeg_rate = ffmpeg_decode(stream.content)
    assert ffmpeg_rate == a_rate
    np.testing.assert_array_equal(by_ffmpeg, a)


def test_stream_from_a_json_body_and_a_single_digit(client):
    stream = client.post("/generate", json={"digit": 7, "seed": 3, "stream": True})
    whole = client.post("/generate", json={"digit": 7, "seed": 3})
    assert stream.headers["transfer-encoding"] == "chunked"
    assert stream.content[44:] == whole.content[44:]


def test_first_digit_arrives_long_before_the_last(client):
    """32 digits: the first audio bytes (past the header) come within 25 % of the whole
    response's time, and the stream holds the unstreamed duration."""
    params = {"digits": "4155551234" * 3 + "12", "seed": 9}
    response, arrivals = streamed(client, **params)
    first_audio = next(t for t, size in arrivals if size > HEADER["wav"])
    total = arrivals[-1][0]
    assert first_audio < 0.25 * total, (first_audio, total)
    assert len(arrivals) > 32  # a chunk per digit and per gap, not one blob
    whole = client.post("/generate", params=params)
    audio, rate = sf.read(io.BytesIO(response.content))
    assert len(audio) / rate == pytest.approx(float(whole.headers["x-duration-seconds"]), abs=1e-3)


def test_whole_file_formats_do_not_stream(client):
    for fmt in ("flac", "mp3", "ogg"):
        answer = client.post("/generate", params={"digits": "12", "format": fmt, "stream": "true"})
        assert_problem(answer, 422, "sent whole")


def _wait_for(client: httpx.Client, name: str, above: float, **labels: str) -> str:
    """Scrape /metrics until a sample passes `above` (bounded: 60 s); the last scrape."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = client.get("/metrics").text
        if sample(text, name, **labels) > above:
            return text
    raise AssertionError(f"{name}{labels} never passed {above}")


def test_a_client_that_hangs_up_stops_the_synthesis(server, client):
    """32 slow digits (Griffin-Lim 128); the client reads the first audio and hangs up. The
    server notices, ends the stream, and makes only the digits under way by then."""
    before = client.get("/metrics").text
    gone = sample(before, "audiovae_streams_total", outcome="disconnected")
    decoded = sample(before, "audiovae_stage_duration_seconds_count", stage="decode")
    query = "digits=" + "1" * 32 + "&gl_iters=128&seed=1&stream=true&format=pcm"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(
            f"POST /generate?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < 64:
            more = sock.recv(65536)
            assert more, "the server closed the connection"
            received += more
        assert received.startswith(b"HTTP/1.1 200")
    after = _wait_for(client, "audiovae_streams_total", gone, outcome="disconnected")
    made = sample(after, "audiovae_stage_duration_seconds_count", stage="decode") - decoded
    # The stream has ended: no digit after these is ever made. The one heard, the one under
    # way when the hang-up was seen, and at most one more on a busy machine.
    print(f"digits made before the hang-up was seen: {made}")
    assert 1 <= made <= 3, made
    text = client.get("/metrics").text
    assert sample(text, "audiovae_stage_duration_seconds_count", stage="decode") - decoded == made
    assert client.post("/generate", params={"digit": 1}).status_code == 200


def test_a_stream_holds_a_synthesis_slot_until_it_ends():
    """Streams count against the capacity bound: with one slot and no queue, a request made
    while a stream runs is refused, and one made after it ends is served."""
    env = {
        "AUDIOVAE_MAX_CONCURRENCY": "1",
        "AUDIOVAE_MAX_QUEUE": "0",
        "AUDIOVAE_REJECT_DELAY_SECONDS": "0",
    }
    server = Server(DEFAULT_BUNDLE, env)
    try:
        server.wait_ready()
        with (
            httpx.Client(base_url=server.url, timeout=60) as c,
            httpx.Client(base_url=server.url, timeout=60) as other,
        ):
            params = {"digits": "1" * 32, "gl_iters": 128, "seed": 1, "stream": "true"}
            with c.stream("POST", "/generate", params=params) as stream:
                chunks = stream.iter_raw()
                assert next(chunks).startswith(b"RIFF")  # under way, holding the one slot
                assert_problem(other.post("/generate", params={"digit": 1}), 503, "capacity")
                rest = b"".join(chunks)
            assert len(rest) > 32 * 0.15 * 22_050 * 2  # it went on to the end regardless
            assert other.post("/generate", params={"digit": 1}).status_code == 200
    finally:
        server.stop()
