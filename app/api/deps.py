"""What a request needs before its work: the loaded model, a slot within the service's
capacity, the CPU (the thread pool), and an upload's bytes; shared by every router."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request, UploadFile
from starlette.concurrency import run_in_threadpool

from app.api import metrics
from app.api.errors import ProblemError
from app.api.limits import Capacity, Overloaded
from app.audio.codec import AudioDecodeError, UploadTooLarge
from app.core.config import Settings
from app.synthesis.synthesizer import InputError, Synthesizer


def synth_of(request: Request) -> Synthesizer:
    """The loaded model, or 503 + Retry-After while it loads."""
    if not request.app.state.ready:
        raise ProblemError(503, "the model is still loading", {"Retry-After": "1"})
    return request.app.state.synth


@asynccontextmanager
async def capacity_slot(request: Request) -> AsyncIterator[None]:
    """A synthesis slot within the service's capacity, or 503 + Retry-After."""
    capacity: Capacity = request.app.state.capacity
    settings: Settings = request.app.state.settings
    try:
        async with capacity.slot():
            yield
    except Overloaded:
        metrics.REJECTED.labels("capacity").inc()
        # Hold the refusal back a little: a client that retries at once (ignoring
        # Retry-After) would otherwise keep the event loop, and the GIL, busy answering 503s
        # and starve the requests already admitted. Waiting here costs no CPU.
        await asyncio.sleep(settings.reject_delay_seconds)
        retry = str(settings.retry_after_seconds)
        raise ProblemError(
            503, "the service is at capacity; retry shortly", {"Retry-After": retry}
        ) from None


async def run_cpu(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """Run CPU-bound work in the thread pool within the service's capacity."""
    async with capacity_slot(request):
        return await run_in_threadpool(fn, *args)


async def read_upload(file: UploadFile, settings: Settings) -> bytes:
    """An upload's bytes, or 413 past the configured limit (read no further than that)."""
    data = await file.read(settings.max_upload_bytes + 1)
    await file.close()
    if len(data) > settings.max_upload_bytes:
        raise ProblemError(
            413, f"the upload exceeds the limit of {settings.max_upload_bytes} bytes"
        )
    return data


async def upload_work(request: Request, fn: Callable[[], Any]) -> Any:
    """Run work on an upload within capacity, mapping what the upload can do wrong to the
    client's 4xx: not audio (415), too long (413), unusable (422)."""
    try:
        return await run_cpu(request, fn)
    except AudioDecodeError as exc:
        raise ProblemError(415, f"could not decode the upload as audio: {exc}") from exc
    except UploadTooLarge as exc:
        raise ProblemError(413, str(exc)) from exc
    except (InputError, ValueError) as exc:
        raise ProblemError(422, str(exc)) from exc
