"""Service configuration: one settings class, read from AUDIOVAE_* environment variables
(or a .env file); see .env.example."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIOVAE_", env_file=".env", extra="ignore")

    bundle_path: Path = Field(Path("models/default"), description="model bundle folder to serve")
    intra_op_threads: int = Field(1, ge=1, description="onnxruntime threads per session")
    gl_iters: int = Field(32, ge=1, le=256, description="default Griffin-Lim iterations")
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="largest upload accepted")
    max_upload_seconds: float = Field(30.0, gt=0, description="longest upload accepted")
