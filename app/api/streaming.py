"""A chunked audio response made while it is sent: each step of a synchronous iterator
(one digit or one gap, encoded) runs in the thread pool, and its bytes go out at once.

When the client hangs up, no further step is taken: the step already running finishes
(a thread cannot be interrupted), and the digits after it are never made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable
from contextlib import AsyncExitStack, suppress

import anyio
import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.api import metrics
from app.api.deps import capacity_slot
from app.audio.formats import AudioWriter


def _body(data: bytes, more: bool = True) -> dict:
    return {"type": "http.response.body", "body": data, "more_body": more}


class AudioStream(Response):
    def __init__(
        self,
        header: bytes,
        steps: Generator[bytes, None, None],
        media_type: str,
        headers: dict[str, str],
        release: Callable[[], Awaitable[object]],
    ) -> None:
        # No `body`: Starlette then sends no Content-Length, and uvicorn uses chunked encoding.
        self.status_code, self.media_type, self.background = 200, media_type, None
        self.header, self.steps, self.release = header, steps, release
        self.finished = False
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = "disconnected"
        try:
            gone = anyio.Event()

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.set()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(watch)
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                if self.header:
                    await send(_body(self.header))
                while not gone.is_set():
                    chunk = await run_in_threadpool(next, self.steps, None)
                    if chunk is None:
                        outcome = "completed"
                        # Free the slot before the client hears the end, so its next request
                        # finds it free.
                        await self._done(outcome)
                        await send(_body(b"", more=False))
                        break
                    if chunk:
                        await send(_body(chunk))
                tasks.cancel_scope.cancel()
        finally:
            await self._done(outcome)

    async def _done(self, outcome: str) -> None:
        """Once: count the stream, close its steps, give its synthesis slot back."""
        if self.finished:
            return
        self.finished = True
        metrics.STREAMS.labels(outcome).inc()
        # ValueError: the step is still running in its thread (the server is stopping).
        with suppress(ValueError):
            self.steps.close()
        await self.release()


def encoded_steps(
    writer: AudioWriter, pieces: Iterable[np.ndarray]
) -> Generator[bytes, None, None]:
    """Encoded bytes of each piece as it is made; the same writer calls as a whole file."""
    for piece in pieces:
        with metrics.timed("encoding"):
            data = writer.feed(piece)
        yield data
    with metrics.timed("encoding"):
        yield writer.flush()


async def stream_audio(
    request: Request, writer: AudioWriter, pieces: Iterable[np.ndarray], headers: dict[str, str]
) -> AudioStream:
    """A chunked response of `pieces` as `writer` encodes them. A synthesis slot is taken
    now (503 if there is none) and held until the stream ends, so streamed synthesis counts
    against the same capacity bound as whole responses."""
    slot = AsyncExitStack()
    await slot.enter_async_context(capacity_slot(request))
    steps = encoded_steps(writer, pieces)
    return AudioStream(writer.stream_header(), steps, writer.media_type, headers, slot.aclose)
