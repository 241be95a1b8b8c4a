"""Request parameters: one model per endpoint, accepted as query parameters or JSON."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.audio.vocoder import Vocoder

MAX_SEED = 2**64 - 1
MAX_DIGITS = 32
AudioFormat = Literal["wav", "flac", "mp3", "ogg", "mulaw", "pcm"]
Phase = Literal["vocoder", "original", "griffinlim"]


class OutputOptions(BaseModel):
    format: AudioFormat | None = Field(
        None,
        description="wav (PCM16), flac, mp3, ogg (Opus), mulaw (G.711 u-law WAV, 8 kHz unless "
        "sample_rate says otherwise) or pcm (raw s16le, rate in X-Sample-Rate); without it the "
        "Accept header chooses, WAV for */*",
    )
    sample_rate: int | None = Field(
        None, ge=8_000, le=48_000, description="resample the output (Hz); default: the model's"
    )
    vocoder: Vocoder | None = Field(
        None,
        description="source-filter (pitched, voiced speech; the default when the model has "
        "one) or griffinlim (the study's phase reconstruction: whispered)",
    )
    gl_iters: int | None = Field(
        None, ge=1, description="Griffin-Lim iterations (bounded by the server's max_gl_iters)"
    )
    sharpen: float | None = Field(
        None,
        ge=1.0,
        le=4.0,
        allow_inf_nan=False,
        description="clarity post-filter: each frame's dB contrast times this; 1 = off "
        "(server default 1.4)",
    )


class GenerateFields(OutputOptions):
    """What to say. The same fields come as query parameters or as a JSON body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"digit": 3}, {"digits": "4155551234", "seed": 7, "format": "flac"}]
        },
    )

    digit: int | None = Field(None, ge=0, le=9, description="one digit, 0-9", examples=[3])
    digits: str | None = Field(
        None,
        pattern=rf"^[0-9]{{1,{MAX_DIGITS}}}$",
        description=f"a sequence of 1-{MAX_DIGITS} ASCII digits, read out as one clip",
        examples=["4155551234"],
    )
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="same request + same seed -> identical bytes"
    )
    temperature: float | None = Field(
        None,
        ge=0.0,
        le=10.0,
        allow_inf_nan=False,
        description="scales the latent spread; 0 = a mode's mean (server default 0.6)",
    )
    gap_ms: float | None = Field(
        None,
        ge=0.0,
        le=1000.0,
        allow_inf_nan=False,
        description="silence between digits of a sequence (ms)",
    )
    voice: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="speak in this voice: a built-in id (GET /v1/voices) or an id made by POST "
        "/v1/voices; without it the seed picks a built-in voice",
        examples=["george"],
    )
    stream: bool | None = Field(
        None,
        description="send each digit as soon as it is made (chunked; wav, pcm or mulaw): a WAV "
        "header with sizes 0xFFFFFFFF ('unknown length'), then the samples",
    )


class GenerateParams(GenerateFields):
    """Query and body fields merged: exactly one of `digit` and `digits`."""

    @model_validator(mode="after")
    def one_of_digit_or_digits(self) -> Self:
        if (self.digit is None) == (self.digits is None):
            raise ValueError("give exactly one of 'digit' (0-9) and 'digits' (e.g. '4155551234')")
        return self

    def digit_list(self) -> list[int]:
        return [self.digit] if self.digit is not None else [int(c) for c in self.digits]


class ReconstructParams(OutputOptions):
    model_config = ConfigDict(extra="forbid")

    phase: Phase = Field(
        "vocoder",
        description="vocoder: the source-filter vocoder at the upload's own pitch (or "
        "Griffin-Lim, per `vocoder`); original: the upload's own phase and harmonics under "
        "the model's envelope; griffinlim: the same as vocoder=griffinlim",
    )
    digit: int | None = Field(
        None,
        ge=0,
        le=9,
        description="the spoken digit, for a digit-conditional model (empty or absent: the "
        "model's classifier hears it)",
    )

    @field_validator("digit", mode="before")
    @classmethod
    def empty_is_not_given(cls, value: object) -> object:
        """An HTML form's empty menu choice ("let the model hear it") submits `digit=`."""
        return None if value == "" else value
