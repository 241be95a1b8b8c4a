"""The model bundle: one self-describing folder per trained model.

    decoder.onnx  z [N, latent] -> image [N, bins, frames] in [0, 1]
    encoder.onnx  image [N, bins, frames] -> z_mean, z_log_var [N, latent]
    bundle.json   BundleMeta below

Training writes `BundleMeta`; the service reads and verifies it. Nothing here imports
TensorFlow, and nothing is unpickled: the bundle is JSON and ONNX only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from app.audio.contract import Contract

FORMAT_VERSION = 1
META_FILE = "bundle.json"
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
SPEAKER_FILE = "speaker.onnx"  # optional: image -> speaker embedding (who speaks)
CLASSIFIER_FILE = "classifier.onnx"  # optional
DIGITS = tuple(range(10))


class BundleError(RuntimeError):
    """The bundle is missing, malformed or inconsistent; the message names the file."""


class ModelInfo(BaseModel):
    kind: str = Field(description="architecture, e.g. 'mlp'")
    conditional: bool = False
    latent_dim: int = Field(gt=0)
    parameters: int = Field(ge=0, description="trainable parameters (encoder + decoder)")
    config: dict = Field(default_factory=dict, description="architecture hyper-parameters")


class DigitScale(BaseModel):
    """dB range used to un-scale a generated [0, 1] image of this digit."""

    db_min: float
    db_max: float


class LatentGaussian(BaseModel):
    """One component of a digit's mixture over its training encodings (z_mean)."""

    weight: float = Field(1.0, gt=0, description="mixture weight (a digit's weights sum to 1)")
    mean: list[float]
    cov: list[list[float]]


class VoiceSpec(BaseModel):
    """A voice the model can speak in: a training speaker's region of the latent space and
    the pitch of their recordings (app/synthesis/voices.py)."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: str
    clips: int = Field(ge=0, description="training clips it was fitted to")
    f0_hz: float = Field(gt=0, description="median of the per-clip median pitch")
    f0_spread: float = Field(ge=0, description="robust std of log per-clip median pitch")
    latent: dict[str, LatentGaussian] = Field(description="per digit, its encodings' Gaussian")
    # A speaker-conditioned bundle (speaker.onnx): the voice is its speaker embedding, fed
    # to the decoder beside the digit (latents then come from the pooled per-digit mixtures).
    embedding: list[float] | None = None
    description: str = ""
    speaker: str = ""  # the training speaker it was fitted on, when that is not its id


class VoicingSpec(BaseModel):
    """A logistic regression from a generated frame (its [0, 1] column and the same
    relative to the frame's peak) to the probability that the frame is voiced."""

    weights: list[float]
    bias: float
    threshold: float = Field(0.5, gt=0, lt=1, description="probability that counts as voiced")
    steepness: float = Field(4.0, gt=0, description="voicing = clip((p - threshold) x this + 0.5)")


class VocoderSpec(BaseModel):
    """Parameters of the source-filter vocoder (app/audio/vocoder.py) fitted to the training set."""

    hop_length: int = Field(128, gt=0, description="synthesis hop in samples")
    voiced_max_hz: float = Field(4000.0, gt=0, description="pulses below, noise above")
    digit_f0_spread: float = Field(
        0.02, ge=0, description="std of log base pitch between the digits of one reading"
    )
    flutter: float = Field(
        0.0, ge=0, le=0.2, description="std of a slow random wander of log pitch within a digit"
    )
    voicing: VoicingSpec
    contours: dict[str, list[float]] = Field(
        description="per digit and contract frame: mean log pitch relative to the clip's median"
    )


class FileEntry(BaseModel):
    sha256: str
    bytes: int


class BundleMeta(BaseModel):
    format_version: int = FORMAT_VERSION
    name: str
    created: str
    model: ModelInfo
    contract: dict
    scaling: dict[str, DigitScale]
    # Per digit, a Gaussian mixture fitted to where the encoder put that digit's training
    # clips. Optional for a conditional model (it then samples z ~ N(0, I)).
    latent: dict[str, list[LatentGaussian]] = Field(default_factory=dict)
    # The training speakers as voices, and the vocoder's voicing and pitch models; bundles
    # without them are inverted with Griffin-Lim only.
    voices: list[VoiceSpec] = Field(default_factory=list)
    vocoder: VocoderSpec | None = None
    training: dict = Field(default_factory=dict)
    evaluation: dict = Field(default_factory=dict)
    files: dict[str, FileEntry]
    data_credit: str = ""

    @field_validator("latent", mode="before")
    @classmethod
    def _single_gaussian_is_a_mixture(cls, value: dict) -> dict:
        """Earlier bundles hold one Gaussian per digit: a mixture of one."""
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, dict) else v for k, v in value.items()}
        return value

    def contract_params(self) -> Contract:
        return Contract.from_dict(self.contract)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: Path) -> FileEntry:
    return FileEntry(sha256=sha256_file(path), bytes=path.stat().st_size)


def write_meta(folder: Path, meta: BundleMeta) -> Path:
    path = folder / META_FILE
    path.write_text(json.dumps(meta.model_dump(), indent=2) + "\n")
    return path


def read_meta(folder: Path) -> BundleMeta:
    """Read and validate `bundle.json`, and check every ONNX file against its hash."""
    path = folder / META_FILE
    if not folder.is_dir():
        raise BundleError(f"{folder}: bundle folder does not exist")
    if not path.is_file():
        raise BundleError(f"{path}: missing")
    try:
        meta = BundleMeta.model_validate(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from exc
    except ValidationError as exc:
        raise BundleError(f"{path}: {_first_error(exc)}") from exc
    if meta.format_version != FORMAT_VERSION:
        raise BundleError(
            f"{path}: format_version {meta.format_version}, expected {FORMAT_VERSION}"
        )
    try:
        meta.contract_params()
    except (KeyError, TypeError) as exc:
        raise BundleError(f"{path}: contract is incomplete ({exc})") from exc
    _check_digits(path, meta)
    _check_voices(path, meta)
    for name in (DECODER_FILE, ENCODER_FILE):
        _check_file(folder, meta, name)
    for name in (CLASSIFIER_FILE, SPEAKER_FILE):
        if name in meta.files:
            _check_file(folder, meta, name)
    return meta


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"field '{where}': {error['msg']}"


def _check_digits(path: Path, meta: BundleMeta) -> None:
    missing = [d for d in DIGITS if str(d) not in meta.scaling]
    if missing:
        raise BundleError(f"{path}: scaling lacks digits {missing}")
    missing = [d for d in DIGITS if str(d) not in meta.latent]
    if missing and not (meta.model.conditional and not meta.latent):
        raise BundleError(f"{path}: latent statistics lack digits {missing}")
    size = meta.model.latent_dim
    for digit, mixture in meta.latent.items():
        if not mixture:
            raise BundleError(f"{path}: latent statistics of digit {digit} are empty")
        for gaussian in mixture:
            if len(gaussian.mean) != size or any(len(row) != size for row in gaussian.cov):
                raise BundleError(
                    f"{path}: latent statistics of digit {digit} are not of size {size}"
                )


def _check_voices(path: Path, meta: BundleMeta) -> None:
    size, bins, frames = meta.model.latent_dim, *meta.contract_params().image_shape
    for voice in meta.voices:
        if sorted(voice.latent) != [str(d) for d in DIGITS]:
            raise BundleError(f"{path}: voice {voice.id} lacks digits")
        for gaussian in voice.latent.values():
            if len(gaussian.mean) != size or any(len(row) != size for row in gaussian.cov):
                raise BundleError(f"{path}: voice {voice.id}'s latents are not of size {size}")
        if (voice.embedding is None) != (SPEAKER_FILE not in meta.files):
            raise BundleError(f"{path}: voice {voice.id}: an embedding if and only if the "
                              f"bundle has {SPEAKER_FILE}")  # fmt: skip
    if meta.vocoder is not None:
        if len(meta.vocoder.voicing.weights) != 2 * bins:
            raise BundleError(f"{path}: vocoder voicing weights are not 2 x {bins}")
        if any(len(meta.vocoder.contours.get(str(d), [])) != frames for d in DIGITS):
            raise BundleError(f"{path}: vocoder pitch contours need {frames} frames per digit")


def _check_file(folder: Path, meta: BundleMeta, name: str) -> None:
    path = folder / name
    entry = meta.files.get(name)
    if entry is None:
        raise BundleError(f"{folder / META_FILE}: no hash recorded for {name}")
    if not path.is_file():
        raise BundleError(f"{path}: missing")
    if sha256_file(path) != entry.sha256:
        raise BundleError(f"{path}: SHA-256 does not match bundle.json (corrupt or replaced)")
