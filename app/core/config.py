"""Service configuration: one settings class, read from AUDIOVAE_* environment variables
(or a .env file); see .env.example for every setting and its default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.audio.vocoder import Vocoder


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIOVAE_", env_file=".env", extra="ignore")

    bundle_path: Path = Field(Path("models/default"), description="model bundle folder to serve")

    # Worker processes for `python -m app.serve` (uvicorn's WEB_CONCURRENCY, as the image
    # and compose set it); unset: one per available core. Each loads the bundle (~130 MB).
    workers: int | None = Field(
        None, ge=1, le=256, validation_alias=AliasChoices("AUDIOVAE_WORKERS", "WEB_CONCURRENCY")
    )

    # CPU: onnxruntime threads per session, and threads doing request work (ONNX, Griffin-Lim,
    # resampling, encoding). On 2 cores, 1 intra-op thread and 2 workers keeps both busy.
    intra_op_threads: int = Field(1, ge=1, le=64)
    worker_threads: int = Field(2, ge=1, le=64, description="threads for CPU-bound request work")
    max_concurrency: int = Field(4, ge=1, description="requests synthesised at once")
    max_queue: int = Field(16, ge=0, description="requests waiting beyond that; more get 503")
    retry_after_seconds: int = Field(1, ge=1)
    reject_delay_seconds: float = Field(
        0.25, ge=0, le=5, description="how long a refused request waits for its 503 (tarpit)"
    )

    # Synthesis defaults and bounds.
    # None: the source-filter vocoder where the bundle has one (voiced, natural speech;
    # docs/results.md), else Griffin-Lim.
    vocoder: Vocoder | None = Field(
        None, description="default vocoder; empty = the best the bundle has"
    )
    # 16: with the post-filter, 16 iterations are recognised as well as 32 (docs/results.md)
    # at half the CPU.
    gl_iters: int = Field(16, ge=1, le=256, description="default Griffin-Lim iterations")
    # 0.6: on the default model, generated digits are still more varied than real ones
    # (spread ratio 1.08) and the judge recognises more of them (docs/results.md).
    temperature: float = Field(0.6, ge=0, le=10, description="default sampling temperature")
    # 1.4: with the source-filter vocoder the post-filter still helps recognition (0.93
    # without it), and less of it sounds more natural. On 1,000 digits of the default model
    # 1.25 / 1.4 / 1.5 gave judge 0.983 / 0.985 / 0.980, worst digit 0.87 / 0.91 / 0.92 and
    # DNSMOS SIG (50 clips) 2.92 / 2.89 / 2.87: 1.4 keeps every digit above 0.9 (README).
    sharpen: float = Field(1.4, ge=1, le=4, description="default post-filter power; 1 = off")
    max_gl_iters: int = Field(128, ge=1, le=1024)
    # 128: Griffin-Lim at the contract's hop (256, 50 % overlap) finds no coherent phase;
    # at 128 a reconstruction keeps most of the upload's voicing (docs/results.md).
    gl_hop: int | None = Field(
        128, ge=16, le=512, description="Griffin-Lim synthesis hop; empty = the contract's"
    )
    default_gap_ms: float = Field(80.0, ge=0, le=1000)

    # Uploads: enforced while the body is read.
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="largest upload accepted")
    max_upload_seconds: float = Field(30.0, gt=0, description="longest upload accepted")
    max_json_bytes: int = Field(16 * 1024, ge=256, description="largest JSON body accepted")

    # Voices made from uploads (POST /v1/voices) travel as ids signed with this key
    # (HMAC-SHA256): every replica sharing it accepts them. Unset: `python -m app.serve`
    # makes one random key for all its workers, a bare uvicorn process one for itself, and
    # their ids stop working when it stops.
    voice_secret: SecretStr | None = Field(
        None, min_length=16, description="key that signs voice ids; share it between replicas"
    )
    # A made voice's latent spread: this fraction of the built-in voices' (per digit), so
    # the seed varies a rendition but stays within the voice.
    voice_spread: float = Field(0.5, ge=0, le=2, description="made voices' latent spread")
    # How much of an upload's own latent offset from its nearest built-in voice a made
    # voice keeps: 0 speaks as that voice at the upload's pitch, which a speaker classifier
    # recognises best (0.25 cost 0.02 of it, README); above 0 blends in the upload's timbre.
    voice_residual: float = Field(0.0, ge=0, le=1, description="made voices' own offset kept")

    # API keys (comma- or space-separated): set, every request but /healthz, /readyz and
    # the demo page's files needs `Authorization: Bearer <one of them>` (docs/openai.md).
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="API keys; empty = open"
    )
    cors_origins: list[str] = Field(default_factory=list, description="CORS origins; empty = off")
    log_level: str = "INFO"

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key for key in value.replace(",", " ").split() if key]
        return value

    @field_validator("voice_secret", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value
