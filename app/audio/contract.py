"""The feature contract: everything between a waveform and the model's [0, 1] image, and back.

Training (`training/`) and serving (`app/`) both import this module, and the contract's
parameters travel inside every model bundle, so the two sides can never drift apart.
Like its building blocks, app/audio/decoding.py (audio in) and app/audio/stft.py (STFT,
Griffin-Lim),
it needs no TensorFlow, FastAPI or librosa; `tests/test_contract.py` checks the pipeline
against librosa itself.

Pipeline (the study's):
    load -> mono float32 at `sample_rate` -> centre-trim / end-pad to `clip_samples`
    -> |STFT| (Hann, n_fft, hop, centred, zero padding) -> dB with ref=max, floor -top_db
    -> per-sample min-max to [0, 1], keeping (min, max).
Inverse: image + (min, max) -> dB -> magnitude -> waveform (Griffin-Lim, or a given phase).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.audio.decoding import decode_audio, resample, to_mono
from app.audio.stft import griffin_lim, istft, stft

# Smallest amplitude librosa's amplitude_to_db lets through (its `amin`).
AMIN = 1e-5


@dataclass(frozen=True)
class Contract:
    """Parameters of the feature contract; written into and read from `bundle.json`."""

    sample_rate: int = 22_050
    clip_samples: int = 17_640  # 0.8 s at 22,050 Hz
    n_fft: int = 512
    hop_length: int = 256
    top_db: float = 80.0
    # The training data's bandwidth: STFT content above it is dropped (to the dB floor), so
    # an upload recorded at 16 or 44.1 kHz looks like the 8 kHz recordings the model learned
    # from rather than carrying fricative energy it has never seen. None: the full band.
    band_hz: float | None = None

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def n_frames(self) -> int:
        return 1 + self.clip_samples // self.hop_length

    @property
    def image_shape(self) -> tuple[int, int]:
        """(frequency bins, frames): 257 x 69 under the study's parameters."""
        return (self.n_bins, self.n_frames)

    @property
    def clip_seconds(self) -> float:
        return self.clip_samples / self.sample_rate

    @property
    def band_bins(self) -> int:
        """STFT bins kept: those at or below `band_hz` (all of them without one)."""
        if self.band_hz is None:
            return self.n_bins
        return min(self.n_bins, int(self.band_hz * self.n_fft / self.sample_rate) + 1)

    def to_dict(self) -> dict:
        """The parameters; `band_hz` only when set, so full-band contracts (and bundles and
        feature caches made before it existed) keep their digest."""
        params = asdict(self)
        if params["band_hz"] is None:
            del params["band_hz"]
        return params

    @classmethod
    def from_dict(cls, data: dict) -> Contract:
        """Every field is required (a KeyError names a missing one) but `band_hz`, which
        bundles made before it lack."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k != "band_hz" or k in data})

    def digest(self) -> str:
        """A short stable hash of the parameters, used to key feature caches."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Features:
    """A clip's [0, 1] image and the dB range that maps it back."""

    image: np.ndarray  # float32 [bins, frames] in [0, 1]
    db_min: float
    db_max: float
    phase: np.ndarray | None = None  # complex64 [bins, frames], unit modulus


# ---------------------------------------------------------------- clip length


def fix_length(y: np.ndarray, length: int) -> np.ndarray:
    """Centre-trim a longer clip (floor of the excess from the front, ceil from the back)
    or zero-pad a shorter one at the end."""
    excess = len(y) - length
    if excess > 0:
        front = excess // 2
        return y[front : front + length]
    return np.pad(y, (0, -excess))


# ---------------------------------------------------------------- dB and scaling


def amplitude_to_db(magnitude: np.ndarray, top_db: float) -> np.ndarray:
    """librosa.amplitude_to_db(S, ref=np.max, top_db=top_db) for one clip."""
    power_db = 20.0 * np.log10(np.maximum(AMIN, magnitude))
    power_db -= 20.0 * np.log10(max(AMIN, float(magnitude.max())))
    return np.maximum(power_db, power_db.max() - top_db).astype(np.float32)


def db_to_amplitude(db: np.ndarray) -> np.ndarray:
    """librosa.db_to_amplitude with ref 1.0 (the peak comes back at amplitude 1)."""
    return np.power(np.float32(10.0), np.float32(0.05) * db).astype(np.float32)


def minmax_scale(db: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Scale a dB image to [0, 1], returning the (min, max) that undo it.
    A flat image (silence) maps to zeros rather than dividing by zero."""
    lo, hi = float(db.min()), float(db.max())
    span = hi - lo
    image = (db - lo) / span if span > 0 else np.zeros_like(db)
    return image.astype(np.float32), lo, hi


def unscale(
    image: np.ndarray, db_min: float | np.ndarray, db_max: float | np.ndarray
) -> np.ndarray:
    """Inverse of `minmax_scale`: a [0, 1] image back to dB."""
    return (image * (db_max - db_min) + db_min).astype(np.float32)


# ---------------------------------------------------------------- the two directions


def waveform_to_features(y: np.ndarray, contract: Contract) -> Features:
    """Mono waveform at the contract's rate -> the model's [0, 1] image (and its phase)."""
    spec = stft(fix_length(y, contract.clip_samples), contract)
    magnitude = np.abs(spec)
    phase = (spec / np.maximum(magnitude, np.finfo(np.float32).tiny)).astype(np.complex64)
    magnitude[contract.band_bins :] = 0.0  # out of the training data's band: to the floor
    image, lo, hi = minmax_scale(amplitude_to_db(magnitude, contract.top_db))
    return Features(image=image, db_min=lo, db_max=hi, phase=phase)


def image_to_magnitude(
    image: np.ndarray, db_min: float | np.ndarray, db_max: float | np.ndarray
) -> np.ndarray:
    """[0, 1] image(s) and dB range(s) (scalars, or arrays that broadcast) -> linear STFT
    magnitude (peak 1)."""
    return db_to_amplitude(unscale(np.clip(image, 0.0, 1.0), db_min, db_max))


def magnitude_to_waveform(
    magnitude: np.ndarray,
    contract: Contract,
    phase: np.ndarray | None = None,
    n_iter: int = 32,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Magnitude [..., bins, frames] -> waveform [..., clip_samples]: with the given phase
    when there is one (an exact inverse), otherwise by Griffin-Lim."""
    if phase is not None:
        return istft(magnitude * phase, contract, contract.clip_samples)
    return griffin_lim(magnitude, contract, contract.clip_samples, n_iter=n_iter, rng=rng)


def peak_normalise(y: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scale so the loudest sample is `peak` (ref=max dB throws absolute level away, so
    the inverse has none; this gives a consistent, unclipped output level)."""
    top = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (peak / top)).astype(np.float32) if top > 0 else y.astype(np.float32)


def load_waveform(source: str | Path | bytes | BinaryIO, contract: Contract) -> np.ndarray:
    """Decode any readable audio and return mono float32 at the contract's rate."""
    data, rate = decode_audio(source)
    return resample(to_mono(data), rate, contract.sample_rate)
