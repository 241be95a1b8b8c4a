"""HTTP endpoints. CPU work (ONNX, Griffin-Lim, resampling, encoding) runs in the thread
pool so the event loop keeps answering."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.audio import AudioDecodeError, encode_wav, upload_to_waveform
from app.errors import ProblemError
from app.synth import InputError, Synthesizer

router = APIRouter()

WAV = "audio/wav"
MAX_SEED = 2**63 - 1
AUDIO_RESPONSE = {200: {"content": {WAV: {}}, "description": "a PCM16 WAV file"}}


def _synth(request: Request) -> Synthesizer:
    if not request.app.state.ready:
        raise ProblemError(503, "the model is still loading", {"Retry-After": "1"})
    return request.app.state.synth


def _wav_response(synth: Synthesizer, wav: bytes, headers: dict[str, str]) -> Response:
    headers = {
        "X-Model-Id": synth.model_id,
        "X-Sample-Rate": str(synth.contract.sample_rate),
        **headers,
    }
    return Response(wav, media_type=WAV, headers=headers)


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"], responses={503: {"description": "still loading"}})
async def readyz(request: Request) -> JSONResponse:
    """The bundle is loaded, verified and warm."""
    if request.app.state.ready:
        return JSONResponse({"ready": True, "model": request.app.state.synth.model_id})
    return JSONResponse({"ready": False}, status_code=503)


@router.post("/generate", tags=["audio"], response_class=Response, responses=AUDIO_RESPONSE)
async def generate(
    request: Request,
    digit: Annotated[int, Query(ge=0, le=9, description="the digit to say", examples=[3])],
    seed: Annotated[
        int | None, Query(ge=0, le=MAX_SEED, description="same seed, same audio")
    ] = None,
) -> Response:
    """A new, never recorded spoken `digit` as WAV."""
    synth = _synth(request)
    seed = secrets.randbelow(MAX_SEED) if seed is None else seed
    iters = request.app.state.settings.gl_iters
    waveform = await run_in_threadpool(synth.speak, [digit], seed, 1.0, iters)
    wav = await run_in_threadpool(encode_wav, waveform, synth.contract.sample_rate)
    return _wav_response(synth, wav, {"X-Digit": str(digit), "X-Seed": str(seed)})


@router.post("/reconstruct", tags=["audio"], response_class=Response, responses=AUDIO_RESPONSE)
async def reconstruct(
    request: Request,
    file: Annotated[UploadFile, File(description="a WAV, FLAC or OGG clip of one spoken digit")],
    phase: Annotated[Literal["griffinlim", "original"], Query()] = "griffinlim",
    digit: Annotated[
        int | None,
        Query(
            ge=0,
            le=9,
            description="the spoken digit, for a digit-conditional model (otherwise the "
            "bundle's classifier infers it); ignored by an unconditional model",
        ),
    ] = None,
) -> Response:
    """The model's rendition of an uploaded clip: encode, decode, invert."""
    synth = _synth(request)
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise ProblemError(
            413, f"the upload exceeds the limit of {settings.max_upload_bytes} bytes"
        )
    try:
        waveform = await run_in_threadpool(
            upload_to_waveform, data, synth.contract, settings.max_upload_seconds
        )
        result = await run_in_threadpool(
            synth.reconstruct, waveform, phase, 0, settings.gl_iters, digit
        )
    except AudioDecodeError as exc:
        raise ProblemError(415, f"could not decode the upload as audio: {exc}") from exc
    except (ValueError, InputError) as exc:
        raise ProblemError(422, str(exc)) from exc
    wav = await run_in_threadpool(encode_wav, result, synth.contract.sample_rate)
    return _wav_response(synth, wav, {"X-Phase": phase})
