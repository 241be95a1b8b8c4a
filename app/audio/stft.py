"""STFT, inverse STFT and fast Griffin-Lim, equal to librosa's (checked against librosa in
`tests/test_contract.py`) without importing it: librosa costs seconds of start-up.
scipy.fft rather than numpy.fft: on batches of float32 frames it is 2x faster here
(Griffin-Lim of a 10-digit sequence: 184 vs 404 ms of CPU). Each function reads n_fft and
the hop from the contract it is given.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import scipy.fft


class Contract(Protocol):
    """What these functions read of the feature contract (app/audio/contract.py), which
    builds on this module: typed structurally so the two do not import each other."""

    n_fft: int
    hop_length: int


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
