"""Waveform augmentation that moves a voice around while keeping the digit.

FSDD has six adult male speakers (five heard in training); uploads in other voices come back
as the wrong digit. Each training clip can be given augmented copies that change what makes
a voice a voice (vocal-tract length, pitch, speaking rate) and what makes a recording a
recording (level, noise, a small room), never the words. `augment(y, rng, config)` draws
every parameter from the ranges in an `AugmentConfig`; a fixed seed gives a fixed result.

The choices, all measured on 0.5-0.8 s clips at 22,050 Hz (4-7 ms per augmented clip, about
half the YIN pitch track the feature cache also computes):
- Pitch by speed perturbation (Ko et al., 2015): one soxr resample (already the contract's
  resampler, ~0.3 ms) scales every frequency by the factor. librosa.effects.pitch_shift
  costs ~35 ms a clip and still moves the formants with the pitch.
- Tempo by librosa's phase vocoder on one STFT (n_fft 1024, hop 256, ~2 ms): it undoes
  the duration change of the resample and applies the drawn rate in the same pass.
- Formants (vocal-tract length perturbation, Jaitly & Hinton 2013) on that same STFT: each
  frame's cepstrally smoothed log envelope is warped along frequency and the ratio of the
  warped to the original envelope applied as a gain. The harmonics stay where the pitch
  put them, so pitch and formants move independently (a male voice with a female vocal
  tract, and the reverse); VTLP on filter banks would move both together. No phase is
  invented: a smooth gain per frame is a time-varying filter, so the original phase fits.
- Room: an exponentially decaying Gaussian-noise impulse response with a direct path
  (the standard statistical model of a diffuse late field), applied with
  scipy.signal.fftconvolve (~0.5 ms); no room simulator needed for RT60 0.1-0.4 s.
- Noise: white to pink (a power-law tilt in the rFFT domain), scaled to an SNR over the
  clip's power. It also puts energy above FSDD's 4 kHz band edge, where uploads at higher
  rates have it and FSDD never does.
- Gain, then a hard clip to [-1, 1]: the contract's ref=max dB makes level itself
  invisible; what is left of it is clipping of loud uploads.
The output has the input's length (a slower tempo is centre-trimmed, a faster one padded
at the end, as the contract does), so a copy lines up with the clip it came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import librosa
import numpy as np
import soxr
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import fftconvolve

from app.audio.contract import fix_length

N_FFT = 1024  # 46 ms at 22,050 Hz: harmonics of a 100 Hz voice resolved for the vocoder
HOP = 256
# Envelope smoothing width: 11 bins of 21.5 Hz, one harmonic spacing of the highest voice
# the pitch range makes of FSDD's (~140 Hz x 1.6).
ENVELOPE_BINS = 11
GAIN_LIMIT_DB = 30.0  # the envelope ratio, bounded where one of the two envelopes is silence
FLOOR = 1e-4  # log magnitudes floored at -80 dB under the clip's peak


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges each transform's parameter is drawn from: factors log-uniformly (so 0.8 and
    1.25 are as likely), dB uniformly. A range (a, a) fixes the parameter; a probability of
    0 turns a transform off."""

    formant: tuple[float, float] = (0.9, 1.2)  # vocal tract: adult male -> female spans ~1.2
    pitch: tuple[float, float] = (0.8, 1.6)  # FSDD's ~100-140 Hz -> 80-220 Hz
    tempo: tuple[float, float] = (0.85, 1.2)  # > 1 is faster
    gain_db: tuple[float, float] = (-10.0, 6.0)
    snr_db: tuple[float, float] = (20.0, 40.0)
    noise_tilt: tuple[float, float] = (0.0, 1.0)  # power ~ 1/f^tilt: 0 white, 1 pink
    noise_p: float = 0.5
    rt60: tuple[float, float] = (0.1, 0.4)  # seconds
    drr_db: tuple[float, float] = (0.0, 10.0)  # direct-to-reverberant energy ratio
    reverb_p: float = 0.5

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def digest(self) -> str:
        """A short stable hash of the ranges, to key caches of augmented features."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    low, high = np.log(bounds[0]), np.log(bounds[1])
    return float(np.exp(rng.uniform(low, high))) if high > low else float(bounds[0])


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds)) if bounds[1] > bounds[0] else float(bounds[0])


def envelope_gain(magnitude: np.ndarray, warp: float) -> np.ndarray:
    """Per-bin gain [bins, frames] that moves each frame's spectral envelope of `magnitude`
    [bins, frames] up in frequency by `warp` (> 1) or down (< 1), leaving the fine
    structure (the harmonics) in place."""
    bins = magnitude.shape[0]
    # The envelope through the harmonics' peaks: a running maximum over a harmonic spacing,
    # then a running mean of the log. A cepstral lifter on the raw log spectrum follows the
    # deep valleys between harmonics as much as the peaks, and a mean of the power is too
    # wide to move a formant by its full factor.
    log = np.log(np.maximum(magnitude, FLOOR * max(float(magnitude.max()), 1e-12)))
    envelope = uniform_filter1d(maximum_filter1d(log, ENVELOPE_BINS, axis=0), ENVELOPE_BINS,
                                axis=0)  # fmt: skip
    source = np.arange(bins) / warp  # new bin k shows what the envelope had at k / warp
    low = np.clip(np.floor(source).astype(np.int64), 0, bins - 2)
    frac = np.clip(source - low, 0.0, 1.0)[:, None]
    warped = envelope[low] * (1 - frac) + envelope[low + 1] * frac
    limit = GAIN_LIMIT_DB / 20 * np.log(10)
    return np.exp(np.clip(warped - envelope, -limit, limit))


def change_voice(
    y: np.ndarray, rate: int, pitch: float = 1.0, tempo: float = 1.0, formant: float = 1.0
) -> np.ndarray:
    """Pitch x `pitch`, speaking rate x `tempo`, formants x `formant`, each independent of
    the others. The output is len(y) / tempo samples long."""
    if pitch != 1.0:  # speed perturbation: all frequencies x pitch, duration / pitch
        y = soxr.resample(y, rate * pitch, rate, quality="HQ").astype(np.float32)
    stretch, warp = tempo / pitch, formant / pitch  # what the resample did not already do
    if abs(stretch - 1) < 1e-3 and abs(warp - 1) < 1e-3:
        return y
    spec = librosa.stft(y, n_fft=N_FFT, hop_length=HOP)
    if abs(stretch - 1) >= 1e-3:
        spec = librosa.phase_vocoder(spec, rate=stretch, hop_length=HOP)
    if abs(warp - 1) >= 1e-3:
        spec = spec * envelope_gain(np.abs(spec), warp)
    return librosa.istft(spec, hop_length=HOP, length=int(round(len(y) / stretch)))


def room_impulse(
    rt60: float, rate: int, rng: np.random.Generator, drr_db: float = 5.0
) -> np.ndarray:
    """A unit direct path, then Gaussian noise decaying 60 dB over `rt60` seconds, scaled so
    the direct path has `drr_db` more energy than the tail."""
    n = max(2, int(rt60 * rate))
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * np.arange(n) / (rt60 * rate))
    tail[0] = 0.0
    tail *= np.sqrt(10.0 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail.astype(np.float32)


def coloured_noise(n: int, tilt: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power falls as 1 / f^tilt (0 white, 1 pink), unit power."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum * freqs ** (-tilt / 2), n=n)
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


def add_noise(y: np.ndarray, snr_db: float, noise: np.ndarray) -> np.ndarray:
    """y plus `noise` scaled to `snr_db` under y's mean power."""
    power = float(np.mean(y.astype(np.float64) ** 2))
    scale = np.sqrt(power / 10.0 ** (snr_db / 10) / max(float(np.mean(noise**2)), 1e-20))
    return y + scale * noise


def augment(
    y: np.ndarray, rng: np.random.Generator, config: AugmentConfig, rate: int = 22_050
) -> np.ndarray:
    """One augmented copy of the mono float32 clip `y` at `rate` (the contract's 22,050 Hz):
    voice (pitch, tempo, formants), then room, noise and gain; same length as `y`."""
    y = np.asarray(y, dtype=np.float32)
    # Every parameter is drawn, used or not, so one transform's switch does not reshuffle
    # the others' draws for the same seed.
    pitch, tempo = _log_uniform(rng, config.pitch), _log_uniform(rng, config.tempo)
    formant = _log_uniform(rng, config.formant)
    reverb, rt60 = rng.random() < config.reverb_p, _uniform(rng, config.rt60)
    drr = _uniform(rng, config.drr_db)
    noisy, snr = rng.random() < config.noise_p, _uniform(rng, config.snr_db)
    tilt, gain_db = _uniform(rng, config.noise_tilt), _uniform(rng, config.gain_db)
    room_seed, noise_seed = rng.integers(2**32, size=2)

    out = change_voice(y, rate, pitch, tempo, formant)
    if reverb:
        peak = float(np.abs(out).max())
        h = room_impulse(rt60, rate, np.random.default_rng(room_seed), drr)
        out = fftconvolve(out, h)[: len(out)]
        out *= peak / max(float(np.abs(out).max()), 1e-12)  # the same peak as before the room
    if noisy:
        out = add_noise(out, snr, coloured_noise(len(out), tilt, np.random.default_rng(noise_seed)))
    out = np.clip(out * 10.0 ** (gain_db / 20), -1.0, 1.0)
    return fix_length(out.astype(np.float32), len(y))
