"""The FastAPI application factory. Run with:

uvicorn app.main:create_app --factory --port 8000
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import install_handlers
from app.routes import router
from app.synth import Synthesizer

log = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A missing or broken bundle raises here, so uvicorn exits before binding the port.
        synth = await run_in_threadpool(
            Synthesizer, settings.bundle_path, settings.intra_op_threads
        )
        await run_in_threadpool(synth.warm_up)
        app.state.synth = synth
        app.state.ready = True
        log.info("serving bundle %s (%s)", settings.bundle_path, synth.model_id)
        yield
        app.state.ready = False

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
    return app
