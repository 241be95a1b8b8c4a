"""OpenAI-compatible speech: `POST /v1/audio/speech` and `GET /v1/models`, so products that
call OpenAI's speech API (voice agents, Home Assistant, Open WebUI, ...) can point their
base URL here. The audio streams as it is made, in every format (docs/openai.md)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deps import run_cpu, synth_of
from app.api.errors import ProblemError, openai_responses
from app.api.openai_schemas import (
    FORMAT_OF,
    MODEL_ALIASES,
    RATE,
    ModelCard,
    ModelList,
    SpeechRequest,
)
from app.api.routes import AUDIO, audio_headers, resolve_voice, whole_audio
from app.api.schemas import MAX_DIGITS, MAX_SEED
from app.api.streaming import stream_audio
from app.audio.formats import ALL_FORMATS, AudioWriter
from app.core.config import Settings
from app.synthesis.options import SynthesisOptions
from app.synthesis.synthesizer import Synthesizer
from app.synthesis.text import TextError, parse
from app.synthesis.voice_aliases import OPENAI_VOICES, alias_voice
from app.synthesis.voices import Voice

router = APIRouter(tags=["openai"])

SPEECH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {ALL_FORMATS[f].media_type: {"schema": AUDIO} for f in FORMAT_OF.values()},
        "description": "the audio in `response_format` at 24 kHz mono, sent as it is made "
        "(chunked): audio/mpeg, audio/ogg (Opus), audio/aac (ADTS), audio/flac, audio/wav "
        "(sizes 0xFFFFFFFF: unknown length) or audio/pcm (s16le, no header)",
    },
    **openai_responses(
        {
            400: "invalid body or parameters: what cannot be spoken, an unknown voice or model",
            401: "AUDIOVAE_API_KEYS is set and the request has no valid Bearer key",
            404: "`model` is not served here (model_not_found)",
            413: "request body over the configured limit",
            503: "model loading, or over capacity (see Retry-After)",
        }
    ),
}


def _model_ids(synth: Synthesizer) -> list[str]:
    return [synth.model_id, synth.meta.name, *MODEL_ALIASES]


def _created(synth: Synthesizer) -> int:
    try:
        return int(datetime.fromisoformat(synth.meta.created).timestamp())
    except ValueError:
        return 0


def _check_model(synth: Synthesizer, model: str) -> None:
    if model not in _model_ids(synth):
        known = ", ".join(_model_ids(synth))
        raise ProblemError(
            404, f"model '{model}' is not served here; models: {known}", param="model",
            code="model_not_found",
        )  # fmt: skip


def speech_voice(request: Request, synth: Synthesizer, name: str) -> Voice | None:
    """A built-in or made voice id, else an OpenAI voice name's built-in voice (None for a
    bundle without voices: the seed picks), else 400 naming the voices there are."""
    if name not in request.app.state.voices.builtin and name.lower() in OPENAI_VOICES:
        return alias_voice(name, synth.voices)
    return resolve_voice(request, name)


@router.post("/v1/audio/speech", responses=SPEECH_RESPONSES, response_class=Response)
async def speech(request: Request, body: SpeechRequest) -> Response:
    """OpenAI's `audio.speech.create`: digits in `input` read out in `voice`, streamed as
    each digit is made (a single digit, one piece, is sent whole).

    `instructions` is accepted and ignored. Errors come in OpenAI's shape."""
    synth = synth_of(request)
    settings: Settings = request.app.state.settings
    _check_model(synth, body.model)
    try:
        spoken = parse(body.input, MAX_DIGITS)
    except TextError as exc:
        raise ProblemError(400, f"input: {exc}", param="input", code="invalid_value") from exc
    voice = speech_voice(request, synth, body.voice)
    seed = secrets.randbelow(MAX_SEED + 1)
    options = SynthesisOptions(
        settings.temperature, settings.gl_iters, settings.sharpen,
        synth.vocoder_for(settings.vocoder), voice, settings.default_gap_ms, body.speed,
        spoken.pauses,
    )  # fmt: skip
    # One digit is one piece, made and sent whole (libsndfile, as /generate); more stream,
    # encoded as they come (PyAV).
    live = len(spoken.digits) > 1
    writer = AudioWriter(FORMAT_OF[body.response_format], synth.contract.sample_rate, RATE, live)
    said = {"X-Digits": "".join(map(str, spoken.digits)), "X-Seed": str(seed)}
    speaker = synth.draw_speaker(seed, voice)
    if speaker is not None:
        said["X-Voice"] = speaker.voice.id
    pieces = synth.speak_chunks(spoken.digits, seed, options)
    if not live:
        data, headers = await run_cpu(request, whole_audio, synth, writer, pieces, said)
        return Response(data, media_type=writer.media_type, headers=headers)
    return await stream_audio(request, writer, pieces, audio_headers(synth, writer, said))


@router.get(
    "/v1/models", responses=openai_responses({401: "no valid Bearer key", 503: "model loading"})
)
async def list_models(request: Request) -> ModelList:
    """OpenAI's `models.list`: the loaded bundle, and OpenAI's speech model names that
    stand for it."""
    synth = synth_of(request)
    created = _created(synth)
    return ModelList(data=[ModelCard(id=name, created=created) for name in _model_ids(synth)])


@router.get(
    "/v1/models/{model}",
    responses=openai_responses({401: "no valid key", 404: "no such model", 503: "model loading"}),
)
async def get_model(request: Request, model: str) -> ModelCard:
    """OpenAI's `models.retrieve`."""
    synth = synth_of(request)
    _check_model(synth, model)
    return ModelCard(id=model, created=_created(synth))
