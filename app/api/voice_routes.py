"""Voices as an API: the built-in voices, and voices made from an uploaded clip.

A made voice is not stored: its id carries it, signed (app/synthesis/voice_ids.py), so any replica
sharing AUDIOVAE_VOICE_SECRET speaks in it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field

from app.api import metrics
from app.api.deps import read_upload, synth_of, upload_work
from app.api.errors import problem_responses
from app.audio.codec import upload_to_waveform
from app.core.config import Settings
from app.synthesis.custom_voices import Heard, VoiceBook

router = APIRouter(tags=["voices"])


class BuiltInVoice(BaseModel):
    id: str = Field(description="use as `voice` on POST /generate")
    name: str
    f0_hz: float = Field(description="median pitch of the speaker's training clips (Hz)")
    f0_spread: float = Field(description="std of log pitch between their clips")
    clips: int = Field(description="training clips the voice was fitted to")
    description: str = Field("", description="what it sounds like, and whose voice it is")


class VoiceList(BaseModel):
    model: str = Field(description="the model these voices belong to (X-Model-Id)")
    voices: list[BuiltInVoice]
    credit: str = Field(description="the recordings the voices come from, and their licences")


class HeardOut(BaseModel):
    digits: list[int] = Field(description="the digit of each word heard in the upload")
    digit_from: str = Field(description="'given' (the `digit` field) or 'classifier'")
    f0_hz: float = Field(description="median pitch of the upload's voiced frames (YIN)")
    voiced_seconds: float = Field(description="how much of the upload was voiced")


class MadeVoice(BaseModel):
    id: str = Field(description="signed, self-contained voice id: use as `voice` on /generate")
    model: str = Field(description="the model the id belongs to; other models refuse it")
    f0_hz: float = Field(description="the voice's pitch (Hz)")
    nearest: str | None = Field(
        description="the built-in voice nearest the upload: in the model's latent space, or "
        "by speaker embedding for a speaker-conditioned model (null without built-in voices)"
    )
    heard: HeardOut


@router.get("/v1/voices", responses=problem_responses({503: "model loading"}))
async def list_voices(request: Request) -> VoiceList:
    """The built-in voices: the speakers the model was trained on."""
    synth = synth_of(request)
    voices = [
        BuiltInVoice(
            id=v.id,
            name=v.name,
            f0_hz=v.f0_hz,
            f0_spread=v.f0_spread,
            clips=v.clips,
            description=v.description,
        )  # fmt: skip
        for v in synth.meta.voices
    ]
    return VoiceList(model=synth.model_id, voices=voices, credit=synth.meta.data_credit)


def _made(voice_id: str, model: str, heard: Heard) -> MadeVoice:
    return MadeVoice(
        id=voice_id,
        model=model,
        f0_hz=round(heard.f0_hz, 2),
        nearest=heard.nearest,
        heard=HeardOut(
            digits=heard.digits,
            digit_from="given" if heard.digit_given else "classifier",
            f0_hz=round(heard.f0_hz, 2),
            voiced_seconds=round(heard.voiced_seconds, 3),
        ),
    )


@router.post(
    "/v1/voices",
    status_code=201,
    responses=problem_responses(
        {
            400: "malformed body: not decodable as multipart form data",
            413: "upload over the configured byte or second limit",
            415: "the upload is not decodable audio",
            422: "audio that gives no voice: silent, unvoiced, not finite, too short",
            503: "model loading, or over capacity (see Retry-After)",
        }
    ),
)
async def make_voice(
    request: Request,
    file: Annotated[UploadFile, File(description="one spoken digit, or a few (WAV, FLAC, OGG)")],
    digit: Annotated[
        int | None,
        Form(
            ge=0,
            le=9,
            description="the digit spoken; without it the model's classifier names each word",
        ),  # fmt: skip
    ] = None,
) -> MadeVoice:
    """A voice from a reference clip: the built-in voice nearest it in the latent space
    (plus AUDIOVAE_VOICE_RESIDUAL of its own offset) at its median pitch, as a signed id.
    Nothing is stored: the id is the voice. An upload with no voiced frame is refused (422)."""
    synth = synth_of(request)
    settings: Settings = request.app.state.settings
    book: VoiceBook = request.app.state.voices
    data = await read_upload(file, settings)

    def work() -> tuple[str, Heard]:
        with metrics.timed("resample"):
            waveform = upload_to_waveform(data, synth.contract, settings.max_upload_seconds)
        return book.make(waveform, digit)

    voice_id, heard = await upload_work(request, work)
    return _made(voice_id, synth.model_id, heard)
