"""HTTP endpoints. CPU work (ONNX, Griffin-Lim, resampling, encoding) runs in the thread
pool, inside a bounded capacity, so the event loop keeps answering."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError

from app.api import metrics
from app.api.deps import read_upload, run_cpu, synth_of, upload_work
from app.api.errors import ProblemError, problem_responses, validation_detail
from app.api.schemas import (
    MAX_SEED,
    GenerateFields,
    GenerateParams,
    OutputOptions,
    ReconstructParams,
)
from app.api.streaming import stream_audio
from app.audio.codec import upload_to_waveform
from app.audio.formats import FORMATS, AudioWriter, negotiate, output_rate
from app.core.config import Settings
from app.synthesis.custom_voices import VoiceBook
from app.synthesis.options import SynthesisOptions
from app.synthesis.synthesizer import GRIFFIN_LIM, InputError, Synthesizer
from app.synthesis.voice_ids import VoiceIdError
from app.synthesis.voices import Voice

router = APIRouter()

AUDIO = {"type": "string", "format": "binary"}
AUDIO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {spec.media_type: {"schema": AUDIO} for spec in FORMATS.values()},
        "description": "audio in the asked `format` (or the one the Accept header prefers): "
        "audio/wav (PCM16), audio/flac, audio/mpeg (MP3), audio/ogg (Opus), "
        "audio/wav; codecs=7 (G.711 u-law), audio/pcm (raw s16le mono, rate in X-Sample-Rate)",
    },
    **problem_responses(
        {
            400: "malformed body: not decodable as JSON or as multipart form data",
            406: "the Accept header names no format the service makes (and `format` is absent)",
            413: "request body, upload or clip over the configured limit",
            415: "the upload is not decodable audio",
            422: "invalid parameters, or audio that cannot be used",
            503: "model loading, or over capacity (see Retry-After)",
        }
    ),
}


def _format(fmt: str | None, request: Request) -> str:
    """The asked format, or the one the Accept header prefers (406 if it names none)."""
    if fmt is not None:
        return fmt
    chosen = negotiate(request.headers.get("accept"))
    if chosen is None:
        names = ", ".join(sorted({spec.media_type for spec in FORMATS.values()}))
        raise ProblemError(
            406, f"the Accept header names no format this service makes; it makes {names}"
        )
    return chosen


def _gl_iters(options: OutputOptions, settings: Settings) -> int:
    iters = options.gl_iters or settings.gl_iters
    if iters > settings.max_gl_iters:
        raise ProblemError(422, f"gl_iters: at most {settings.max_gl_iters} iterations")
    return iters


def _sharpen(options: OutputOptions, settings: Settings) -> float:
    return settings.sharpen if options.sharpen is None else options.sharpen


def _vocoder(options: OutputOptions, settings: Settings, synth: Synthesizer) -> str:
    try:
        return synth.vocoder_for(options.vocoder or settings.vocoder)
    except InputError as exc:
        raise ProblemError(422, f"vocoder: {exc}") from exc


def resolve_voice(request: Request, voice_id: str | None) -> Voice | None:
    if voice_id is None:
        return None
    book: VoiceBook = request.app.state.voices
    try:
        return book.resolve(voice_id)
    except VoiceIdError as exc:
        raise ProblemError(422, f"voice: {exc}", param="voice") from exc


def _writer(synth: Synthesizer, fmt: str, options: OutputOptions) -> AudioWriter:
    model_rate = synth.contract.sample_rate
    return AudioWriter(fmt, model_rate, output_rate(fmt, options.sample_rate, model_rate))


def audio_headers(synth: Synthesizer, writer: AudioWriter, extra: dict[str, str]) -> dict[str, str]:
    rate = str(writer.rate)
    return {"X-Model-Id": synth.model_id, "X-Sample-Rate": rate, "Vary": "Accept", **extra}


def whole_audio(
    synth: Synthesizer, writer: AudioWriter, pieces, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """Synthesise every piece, then encode them as one file."""
    pieces = list(pieces)
    with metrics.timed("encoding"):
        data = writer.whole(pieces)
    seconds = f"{writer.frames / writer.rate:.3f}"
    return data, {**audio_headers(synth, writer, headers), "X-Duration-Seconds": seconds}


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


@router.get("/metrics", tags=["ops"], response_class=Response)
async def prometheus_metrics() -> Response:
    """Prometheus text format: requests, latencies, stage timings, in-flight, rejections,
    streams; with several workers (python -m app.serve), all of them added up."""
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/model", tags=["model"], responses=problem_responses({503: "model loading"}))
async def model_info(request: Request) -> dict[str, Any]:
    """The loaded bundle's metadata: model, contract, training facts and evaluation (not
    the fitted latent statistics and vocoder weights: ~300 KB of numbers no client reads;
    the voices are listed by /v1/voices)."""
    synth = synth_of(request)
    numbers = {"latent": True, "voices": {"__all__": {"latent"}},
               "vocoder": {"voicing": {"weights"}, "contours": True}}  # fmt: skip
    meta = synth.meta.model_dump(exclude=numbers)
    meta["training"] = {k: v for k, v in meta["training"].items() if k != "history"}
    return {"id": synth.model_id, **meta}


def _merge(query: GenerateFields, body: GenerateFields | None) -> GenerateParams:
    """Query parameters and JSON body are two spellings of the same request."""
    fields = query.model_dump(exclude_unset=True)
    if body is not None:
        from_body = body.model_dump(exclude_unset=True)
        twice = sorted(set(fields) & set(from_body))
        if twice:
            raise ProblemError(422, f"given both as query parameter and in the body: {twice}")
        fields |= from_body
    try:
        return GenerateParams.model_validate(fields)
    except ValidationError as exc:
        raise ProblemError(422, validation_detail(exc.errors())) from exc


@router.post("/generate", tags=["audio"], response_class=Response, responses=AUDIO_RESPONSES)
async def generate(
    request: Request,
    query: Annotated[GenerateFields, Query()],
    body: Annotated[
        GenerateFields | None, Body(examples=[{"digits": "4155551234", "seed": 7}])
    ] = None,
) -> Response:
    """A new, never recorded spoken digit (`digit`), or a number read out (`digits`).

    Parameters come as query parameters (`POST /generate?digit=3`) or as the same fields
    in a JSON body. The response headers say what was done, including the seed used.
    """
    params = _merge(query, body)
    synth = synth_of(request)
    settings: Settings = request.app.state.settings
    digits = params.digit_list()
    seed = secrets.randbelow(MAX_SEED + 1) if params.seed is None else params.seed
    temperature = settings.temperature if params.temperature is None else params.temperature
    gap_ms = settings.default_gap_ms if params.gap_ms is None else params.gap_ms
    iters = _gl_iters(params, settings)
    sharpen = _sharpen(params, settings)
    vocoder = _vocoder(params, settings, synth)
    voice = resolve_voice(request, params.voice)

    fmt = _format(params.format, request)
    if params.stream and not FORMATS[fmt].streams:
        streamable = ", ".join(name for name, spec in FORMATS.items() if spec.streams)
        raise ProblemError(422, f"stream: {fmt} is sent whole; streaming is for {streamable}")
    writer = _writer(synth, fmt, params)
    said = {
        "X-Digits": "".join(map(str, digits)),
        "X-Seed": str(seed),
        "X-Temperature": f"{temperature:g}",
        "X-GL-Iters": str(iters),
        "X-Sharpen": f"{sharpen:g}",
        "X-Vocoder": vocoder,
    }
    speaker = synth.draw_speaker(seed, voice)
    if speaker is not None:
        said["X-Voice"] = speaker.voice.id
    options = SynthesisOptions(temperature, iters, sharpen, vocoder, voice, gap_ms)
    pieces = synth.speak_chunks(digits, seed, options)
    if params.stream:
        return await stream_audio(request, writer, pieces, audio_headers(synth, writer, said))
    data, headers = await run_cpu(request, whole_audio, synth, writer, pieces, said)
    return Response(data, media_type=writer.media_type, headers=headers)


@router.post("/reconstruct", tags=["audio"], response_class=Response, responses=AUDIO_RESPONSES)
async def reconstruct(
    request: Request,
    file: Annotated[UploadFile, File(description="a WAV, FLAC or OGG clip of one spoken digit")],
    params: Annotated[ReconstructParams, Query()],
) -> Response:
    """The model's rendition of an uploaded clip: features, encoder, decoder, waveform.

    Any sample rate (1-384 kHz), mono or multi-channel, PCM or float; up to the configured
    byte and second limits (413 beyond them)."""
    synth = synth_of(request)
    settings: Settings = request.app.state.settings
    data = await read_upload(file, settings)
    iters = _gl_iters(params, settings)
    sharpen = _sharpen(params, settings)
    vocoder = GRIFFIN_LIM if params.phase == "griffinlim" else _vocoder(params, settings, synth)
    writer = _writer(synth, _format(params.format, request), params)

    def work():
        with metrics.timed("resample"):
            waveform = upload_to_waveform(data, synth.contract, settings.max_upload_seconds)
        result = synth.reconstruct(waveform, params.phase, 0, iters, params.digit, sharpen, vocoder)
        headers = {"X-Phase": params.phase, "X-Sharpen": f"{sharpen:g}", "X-Vocoder": vocoder}
        return whole_audio(synth, writer, [result], headers)

    payload, headers = await upload_work(request, work)
    return Response(payload, media_type=writer.media_type, headers=headers)
