"""The feature contract: everything between a waveform and the model's [0, 1] image, and back.

Training (`training/`) and serving (`app/`) both import this module, and the contract's
parameters travel inside every model bundle, so the two sides can never drift apart.
It needs only NumPy, scipy.fft, soundfile and soxr (no TensorFlow, FastAPI or librosa):
importing librosa costs seconds of start-up, so the study's librosa pipeline is
reimplemented here and checked against librosa itself in `tests/test_contract.py`.
scipy.fft rather than numpy.fft: on batches of float32 frames it is 2x faster here
(Griffin-Lim of a 10-digit sequence: 184 vs 404 ms of CPU).

Pipeline (the study's):
    load -> mono float32 at `sample_rate` -> centre-trim / end-pad to `clip_samples`
    -> |STFT| (Hann, n_fft, hop, centred, zero padding) -> dB with ref=max, floor -top_db
    -> per-sample min-max to [0, 1], keeping (min, max).
Inverse: image + (min, max) -> dB -> magnitude -> waveform (Griffin-Lim, or a given phase).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.fft
import soundfile as sf
import soxr

# Smallest amplitude librosa's amplitude_to_db lets through (its `amin`).
AMIN = 1e-5


class AudioDecodeError(ValueError):
    """The bytes or file could not be decoded as audio."""


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


# ---------------------------------------------------------------- waveform in


def _with_soundfile(read, source: str | Path | bytes | BinaryIO):
    """Call a soundfile reader, turning its several failure types into AudioDecodeError."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return read(source)
    except sf.LibsndfileError as exc:
        raise AudioDecodeError(f"not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioDecodeError(f"not a readable audio file ({exc})") from exc


def audio_info(source: str | Path | bytes | BinaryIO):
    """The header only (rate, channels, frames): no sample is decoded."""
    return _with_soundfile(sf.info, source)


def decode_audio(source: str | Path | bytes | BinaryIO) -> tuple[np.ndarray, int]:
    """Decode a file path or in-memory bytes into float32 [frames, channels] and its rate."""
    data, rate = _with_soundfile(lambda s: sf.read(s, dtype="float32", always_2d=True), source)
    return data, int(rate)


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average channels, as librosa.to_mono does: [frames, channels] -> [frames]."""
    return data.mean(axis=1, dtype=np.float32) if data.ndim == 2 else data.astype(np.float32)


def resample(y: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample with soxr HQ, the resampler librosa.load uses by default."""
    if orig_rate == target_rate:
        return y.astype(np.float32, copy=False)
    return soxr.resample(y, orig_rate, target_rate, quality="HQ").astype(np.float32)


def load_waveform(source: str | Path | bytes | BinaryIO, contract: Contract) -> np.ndarray:
    """Decode any readable audio and return mono float32 at the contract's rate."""
    data, rate = decode_audio(source)
    return resample(to_mono(data), rate, contract.sample_rate)


def fix_length(y: np.ndarray, length: int) -> np.ndarray:
    """Centre-trim a longer clip (floor of the excess from the front, ceil from the back)
    or zero-pad a shorter one at the end."""
    excess = len(y) - length
    if excess > 0:
        front = excess // 2
        return y[front : front + length]
    return np.pad(y, (0, -excess))


# ---------------------------------------------------------------- STFT, NumPy only


@functools.lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window, as scipy.signal.get_window('hann', n_fft) gives librosa."""
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _inverse_window_sum(n_fft: int, hop: int, n_frames: int) -> np.ndarray:
    """1 / (sum of squared windows) over the overlap-added signal, 1 where it vanishes."""
    total = n_fft + hop * (n_frames - 1)
    norm = np.zeros(total, dtype=np.float32)
    square = _hann(n_fft) ** 2
    for i in range(n_frames):
        norm[i * hop : i * hop + n_fft] += square
    tiny = np.finfo(np.float32).tiny
    return np.where(norm > tiny, 1.0 / np.maximum(norm, tiny), 1.0).astype(np.float32)


def stft(y: np.ndarray, contract: Contract) -> np.ndarray:
    """Complex STFT of [..., samples] -> [..., bins, frames], equal to librosa.stft with
    center=True and pad_mode='constant'."""
    n_fft, hop = contract.n_fft, contract.hop_length
    pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
    padded = np.pad(y.astype(np.float32, copy=False), pad)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., ::hop, :]
    spec = scipy.fft.rfft(frames * _hann(n_fft), axis=-1)  # float32 in -> complex64 out
    return np.swapaxes(spec, -1, -2)


def _overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """Sum frames [..., F, n_fft] placed `hop` apart. When hop divides n_fft (the usual
    case) this is n_fft/hop vectorised adds rather than a loop over frames."""
    *lead, n_frames, n_fft = frames.shape
    out = np.zeros((*lead, n_fft + hop * (n_frames - 1)), dtype=np.float32)
    if n_fft % hop == 0:
        for r in range(n_fft // hop):
            block = frames[..., r * hop : (r + 1) * hop].reshape(*lead, n_frames * hop)
            out[..., r * hop : r * hop + n_frames * hop] += block
    else:
        for i in range(n_frames):
            out[..., i * hop : i * hop + n_fft] += frames[..., i, :]
    return out


def _synthesise(frames_spec: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Spectra [..., frames, bins] -> windowed, overlap-added, window-normalised signal in
    the STFT's padded coordinates (sample n_fft // 2 is the clip's first)."""
    frames = scipy.fft.irfft(frames_spec, n=n_fft, axis=-1)  # complex64 in -> float32 out
    frames *= _hann(n_fft)
    signal = _overlap_add(frames, hop)
    signal *= _inverse_window_sum(n_fft, hop, frames.shape[-2])
    return signal


def istft(spec: np.ndarray, contract: Contract, length: int) -> np.ndarray:
    """Inverse of `stft` by windowed overlap-add ([..., bins, frames] -> [..., length]),
    equal to librosa.istft with center=True."""
    n_fft, hop = contract.n_fft, contract.hop_length
    out = _synthesise(np.swapaxes(spec, -1, -2), n_fft, hop)[..., n_fft // 2 :]
    if out.shape[-1] >= length:
        return out[..., :length]
    return np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])])


def _reanalyse(frames_spec: np.ndarray, contract: Contract, length: int) -> np.ndarray:
    """stft(istft(spec, length)) on spectra [..., frames, bins], without transposes,
    trims, pads or intermediate copies: Griffin-Lim's inner step."""
    n_fft, hop = contract.n_fft, contract.hop_length
    signal = _synthesise(frames_spec, n_fft, hop)
    # What istft's crop and stft's zero padding would do: silence outside the clip.
    signal[..., : n_fft // 2] = 0.0
    signal[..., n_fft // 2 + length :] = 0.0
    windows = np.lib.stride_tricks.sliding_window_view(signal, n_fft, axis=-1)[..., ::hop, :]
    return scipy.fft.rfft(windows * _hann(n_fft), axis=-1)


def griffin_lim(
    magnitude: np.ndarray,
    contract: Contract,
    length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    rng: np.random.Generator | None = None,
    init: str | None = "random",
) -> np.ndarray:
    """Fast Griffin-Lim (librosa's algorithm: momentum 0.99, and like librosa's `init`,
    a random initial phase or, with init=None, zero phase), vectorised over any leading
    batch axes. Internally spectra are [..., frames, bins] so every FFT runs on
    contiguous rows."""
    target = np.ascontiguousarray(np.swapaxes(magnitude, -1, -2), dtype=np.float32)
    if init == "random":
        rng = rng or np.random.default_rng()
        turns = np.swapaxes(rng.random(magnitude.shape), -1, -2)  # drawn as [bins, frames]
        spec = target * np.exp(2j * np.pi * turns).astype(np.complex64)
    elif init is None:
        spec = target.astype(np.complex64)
    else:
        raise ValueError(f"init must be 'random' or None, not {init!r}")
    tiny = np.finfo(np.float32).tiny
    keep = np.float32(momentum / (1.0 + momentum))
    rebuilt = None
    for _ in range(n_iter):
        previous, rebuilt = rebuilt, _reanalyse(spec, contract, length)
        spec = rebuilt.copy() if previous is None else rebuilt - keep * previous
        spec *= target / (np.abs(spec) + tiny)  # the target magnitude with the new phase
    return istft(np.swapaxes(spec, -1, -2), contract, length)


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
