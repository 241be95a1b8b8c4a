"""The service's limits against real uvicorn processes: oversized uploads refused early,
and a capacity bound that answers 503."""

from __future__ import annotations

import asyncio
import socket

import httpx

from tests.audio_checks import assert_problem
from tests.conftest import DEFAULT_BUNDLE, Server


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
