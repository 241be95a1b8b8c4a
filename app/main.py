"""The FastAPI application factory. Run with:

uvicorn app.main:create_app --factory --port 8000
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from app.api import metrics
from app.api.auth import ApiKeyMiddleware
from app.api.errors import install_handlers
from app.api.limits import Capacity
from app.api.middleware import AccessMiddleware, BodyLimitMiddleware
from app.api.openai_routes import router as openai_router
from app.api.pages import router as pages_router
from app.api.routes import router
from app.api.voice_routes import router as voices_router
from app.core.config import Settings
from app.synthesis.custom_voices import VoiceBook
from app.synthesis.synthesizer import Synthesizer

log = logging.getLogger("app")

# Multipart framing around an upload: boundaries, part headers, small form fields.
MULTIPART_OVERHEAD = 64 * 1024
# A speech request at its fields' longest (input and instructions 4,096 characters each),
# every character escaped as a JSON surrogate pair (12 bytes): within its own limit, a
# body that is too long for its fields is a 400 naming the field, not a 413.
SPEECH_JSON_BYTES = 128 * 1024
EXPOSED_HEADERS = [
    "X-Model-Id", "X-Digits", "X-Seed", "X-Sample-Rate", "X-Duration-Seconds",
    "X-Temperature", "X-GL-Iters", "X-Sharpen", "X-Phase", "X-Vocoder", "X-Voice",
    "X-Request-Id", "Retry-After",
]  # fmt: skip


def _configure_logging(level: str) -> None:
    """Our loggers print plain lines (access lines are JSON) beside uvicorn's own."""
    logger = logging.getLogger("app")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())


def voice_secret(settings: Settings) -> bytes:
    """The key that signs voice ids: the setting, else a random one for this process."""
    if settings.voice_secret is not None:
        return settings.voice_secret.get_secret_value().encode()
    log.warning(
        "AUDIOVAE_VOICE_SECRET is unset: voice ids made by this process are signed with a "
        "random key, valid in this process only and only until it stops"
    )
    return secrets.token_bytes(32)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    _configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # A missing or broken bundle raises here, so uvicorn exits before binding the port.
        try:
            synth = await run_in_threadpool(
                Synthesizer,
                settings.bundle_path,
                settings.intra_op_threads,
                metrics.observe_stage,
                settings.gl_hop,
            )
        except Exception as exc:
            log.error("cannot start: %s", exc)
            raise
        await run_in_threadpool(synth.warm_up)
        metrics.worker_started()
        app.state.synth = synth
        app.state.voices = VoiceBook(
            synth, voice_secret(settings), settings.voice_spread, settings.voice_residual
        )
        app.state.capacity = Capacity(settings.max_concurrency, settings.max_queue)
        app.state.ready = True
        log.info("serving bundle %s (%s)", settings.bundle_path, synth.model_id)
        yield
        app.state.ready = False
        metrics.worker_stopping()

    app = FastAPI(
        title="audio-vae",
        summary="Spoken digits from a variational autoencoder: generate and reconstruct.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ready = False
    install_handlers(app)
    app.include_router(router)
    app.include_router(voices_router)
    app.include_router(openai_router)
    app.include_router(pages_router)
    # Outermost last: access logging sees every response, including 413s from the limiter.
    app.add_middleware(
        BodyLimitMiddleware,
        limits={
            **{
                path: settings.max_upload_bytes + MULTIPART_OVERHEAD
                for path in ("/reconstruct", "/v1/voices")
            },
            "/v1/audio/speech": max(settings.max_json_bytes, SPEECH_JSON_BYTES),
        },
        default=settings.max_json_bytes,
    )
    if settings.api_keys:
        # Inside CORS (a browser's preflight carries no key) and access logging (401s logged).
        keys = [key.get_secret_value() for key in settings.api_keys]
        app.add_middleware(ApiKeyMiddleware, keys=keys)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(AccessMiddleware)
    return app
