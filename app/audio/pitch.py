"""Pitch and voicing of an uploaded clip, per frame of a contract's STFT: YIN.

The source-filter vocoder (app/audio/vocoder.py) lays harmonics at the upload's own pitch on the
model's envelope, so /reconstruct keeps the speaker's intonation. YIN (de Cheveigné and
Kawahara, 2002) is written here with NumPy rather than imported from librosa: librosa
would bring numba, llvmlite and scikit-learn into the serving image and seconds of
start-up; tests/test_pitch.py checks this tracker against librosa.pyin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from app.audio.contract import Contract, fix_length

SILENCE = 1e-5  # frame RMS below this (-100 dBFS) is silence, whatever the clip's peak


def lowpass(y: np.ndarray, sample_rate: int, cutoff_hz: float = 1000.0) -> np.ndarray:
    """Zero-phase low-pass (a linear taper over cutoff..cutoff + 250 Hz), as YIN's authors
    filter first: a peaky source (a glottal pulse, a click train) whose period falls
    between samples otherwise matches better at twice its period. By FFT rather than
    scipy.signal, whose import costs each worker ~50 MB."""
    freqs = scipy.fft.rfftfreq(len(y), 1.0 / sample_rate)
    gain = np.clip((cutoff_hz + 250.0 - freqs) / 250.0, 0.0, 1.0)
    return scipy.fft.irfft(scipy.fft.rfft(y) * gain, n=len(y)).astype(np.float32)


@dataclass(frozen=True)
class PitchTrack:
    """Per contract frame: f0 in Hz (0 where unvoiced) and a voicing flag."""

    f0: np.ndarray  # float32 [frames]
    voiced: np.ndarray  # bool [frames]

    def median_f0(self) -> float | None:
        """Median pitch of the voiced frames, or None when nothing is voiced."""
        return float(np.median(self.f0[self.voiced])) if self.voiced.any() else None


def _frames(y: np.ndarray, length: int, hop: int, n_frames: int) -> np.ndarray:
    """Frames [n_frames, length] centred on sample i * hop (zero padding outside)."""
    padded = np.pad(y, (length // 2, length // 2 + hop * n_frames))
    return np.lib.stride_tricks.sliding_window_view(padded, length)[: hop * n_frames : hop]


def cmnd(frames: np.ndarray, window: int, tau_max: int) -> np.ndarray:
    """YIN's cumulative mean normalised difference d'(tau) [frames, tau_max + 1] of each
    frame's first `window` samples against the same window `tau` later (d'(0) = 1)."""
    n = frames.shape[-1]
    spec = scipy.fft.rfft(frames, n=2 * n, axis=-1)
    head = scipy.fft.rfft(frames[:, :window], n=2 * n, axis=-1)
    # Cross-correlation of the first window with the frame, lags 0..tau_max.
    cross = scipy.fft.irfft(spec * np.conj(head), axis=-1)[:, : tau_max + 1]
    energy = np.cumsum(np.pad(frames**2, ((0, 0), (1, 0))), axis=-1)
    lags = np.arange(tau_max + 1)
    shifted = energy[:, lags + window] - energy[:, lags]  # energy of the lagged window
    diff = np.maximum(shifted[:, :1] + shifted - 2.0 * cross, 0.0)
    running = np.cumsum(diff[:, 1:], axis=-1)
    out = np.ones_like(diff)
    out[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(running, 1e-12)
    return out


def track(
    y: np.ndarray,
    contract: Contract,
    fmin: float = 60.0,
    fmax: float = 400.0,
    threshold: float = 0.15,
    voicing_threshold: float = 0.35,
    loud_db: float = -40.0,
) -> PitchTrack:
    """YIN pitch and voicing of a mono clip at the contract's rate, on the contract's frame
    grid (its clip length and hop): the first dip of d' below `threshold` (else its
    minimum), refined by a parabola; voiced where that dip is below `voicing_threshold`
    and the frame is within `loud_db` of the clip's loudest."""
    sr, hop = contract.sample_rate, contract.hop_length
    y = fix_length(np.asarray(y, dtype=np.float32), contract.clip_samples)
    y = lowpass(y, sr)
    tau_min, tau_max = int(sr / fmax), int(np.ceil(sr / fmin))
    window = 2 * tau_max
    frames = _frames(y, window + tau_max + 1, hop, contract.n_frames).astype(np.float64)
    d = cmnd(frames, window, tau_max)
    search = d[:, tau_min:tau_max]
    below = search < threshold
    # First local dip under the threshold: walk from its first crossing to the valley floor.
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    tau = first.copy()
    for i in range(len(tau)):
        while tau[i] + 1 < search.shape[1] and search[i, tau[i] + 1] < search[i, tau[i]]:
            tau[i] += 1
    best = search[np.arange(len(tau)), tau]
    lag = (tau + tau_min).astype(np.float64)
    inner = (tau > 0) & (tau < search.shape[1] - 1)
    rows = np.flatnonzero(inner)
    a, b, c = (search[rows, tau[rows] + k] for k in (-1, 0, 1))
    curvature = a - 2 * b + c
    lag[rows] += np.where(curvature > 0, 0.5 * (a - c) / np.where(curvature > 0, curvature, 1), 0)
    energy = np.sqrt(np.mean(frames[:, :window] ** 2, axis=-1))
    peak = energy.max()
    loud = (energy > SILENCE) & (20 * np.log10(np.maximum(energy, SILENCE) / max(peak, SILENCE))
                                 > loud_db)  # fmt: skip
    voiced = (best < voicing_threshold) & loud
    f0 = np.where(voiced, sr / lag, 0.0).astype(np.float32)
    return PitchTrack(f0=f0, voiced=voiced)
