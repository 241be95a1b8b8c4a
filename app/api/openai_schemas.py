"""OpenAI's speech and model-list bodies (https://platform.openai.com/docs/api-reference/audio/createSpeech),
as this service takes and gives them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
# OpenAI's names -> this service's formats (app/audio/formats.py): its `opus` is Ogg Opus.
FORMAT_OF = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav", "pcm": "pcm"}
RATE = 24_000  # every format at OpenAI's rate; `pcm` is 24 kHz mono s16le without a header
MAX_INPUT_CHARS = 4096  # OpenAI's limit; the digits it may say are limited apart (MAX_DIGITS)
# OpenAI's speech model names, accepted as aliases of the loaded bundle.
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


class SpeechRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"model": "tts-1", "input": "415-555-1234", "voice": "alloy"}]
        },
    )

    model: str = Field(
        min_length=1,
        max_length=256,
        description="the loaded bundle's id (GET /v1/models), its name, or one of OpenAI's "
        f"speech model names as an alias of it: {', '.join(MODEL_ALIASES)}",
    )
    input: str = Field(
        min_length=1,
        max_length=MAX_INPUT_CHARS,
        description="what to say: digits with the separators people type (space - . ( ) + / ,"
        " each run of them a short pause) and digit words (zero or oh, one ... nine; any case)",
        examples=["415-555-1234", "one two three"],
    )
    voice: str = Field(
        min_length=1,
        max_length=256,
        description="a built-in voice id (GET /v1/voices), a made voice id (POST /v1/voices), "
        "or an OpenAI voice name (alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, "
        "shimmer, verse) mapped to a built-in voice (docs/openai.md)",
    )
    response_format: SpeechFormat = Field(
        "mp3", description="mp3, opus (Ogg), aac (ADTS), flac, wav or pcm; all at 24 kHz mono"
    )
    speed: float = Field(
        1.0,
        ge=0.25,
        le=4.0,
        allow_inf_nan=False,
        description="tempo, 0.25-4.0; the pitch does not change",
    )
    instructions: str | None = Field(
        None,
        max_length=MAX_INPUT_CHARS,
        description="accepted for compatibility and ignored: this model has no style control",
    )
    stream_format: Literal["audio"] | None = Field(
        None, description="only 'audio' (the default): the bytes are streamed as they are made"
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="Unix time the bundle was made")
    owned_by: str = "audio-vae"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
