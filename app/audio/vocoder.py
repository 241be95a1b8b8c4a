"""Source-filter synthesis: the VAE's magnitudes as the filter, a pitched source under them.

Griffin-Lim on the contract's 50 %-overlap frames finds no coherent phase, and the VAE's
magnitudes have no harmonics to find one for, so its output is whispered (DESIGN.md,
"What is known now"). Speech coders have long split the job instead: the model gives the
spectral envelope per frame; a source gives the fine structure and the phase. Here the
source is a band-limited pulse train at a given pitch contour where a frame is voiced and
white noise where it is not (a mixed-excitation vocoder, as in MELP or the harmonic plus
noise model of DDSP). Its STFT, at `hop` samples (a higher frame rate than the contract's,
so the envelope's interpolation is smooth), is multiplied by the envelope and inverted
by overlap-add: two forward FFTs and one inverse per frame, no iterations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from app.audio.contract import Contract
from app.audio.stft import istft, stft

# The two ways from magnitudes to sound: this module's, and the study's Griffin-Lim.
Vocoder = Literal["source-filter", "griffinlim"]
SOURCE_FILTER: Vocoder = "source-filter"
GRIFFIN_LIM: Vocoder = "griffinlim"

_FLOOR = np.float32(1e-5)  # -100 dB: below the contract's floor, avoids log(0)

# The noise laid above a band-limited contract's band in unvoiced frames (`high_band`), in
# dB against the frame's level over the top of the band. Fricatives ("s", "f", "th") carry
# most of their energy above the 4 kHz of FSDD's recordings; without it an outside ear
# (pocketsphinx) hears "six" and "seven" as "two". On 600 generated digits of the default
# model at the service's defaults it lifted that ear's accuracy 0.62 -> 0.74 (six 0 ->
# 0.48), /reconstruct of real FSDD takes 0.62 -> 0.67 (0 dB and -12 dB did no better).
# None: off.
HIGH_BAND_DB: float | None = -6.0
HIGH_BAND_FROM_HZ = 2500.0  # the band's top, from here to its edge, sets the level
# Only frames whose top of the band is within about this many dB of the whole band's
# level (a fricative's rising spectrum; a vowel's falls 20-30 dB): full at 5 dB above, none
# at 5 dB below. Without it the pitch tracker's unvoiced frames inside an upload's vowels
# hissed ("five" 0.67 -> 0.17 by the ear on /reconstruct). None: every unvoiced frame.
HIGH_BAND_TILT_DB: float | None = -12.0
HIGH_BAND_TO_HZ = 8000.0  # the noise fades out over the kHz either side of this


@dataclass(frozen=True)
class Excitation:
    """What the source does per contract frame: pitch in Hz and voicing in [0, 1]."""

    f0: np.ndarray  # float [frames]; only read where voiced
    voicing: np.ndarray  # float [frames]: 1 = pulse train, 0 = noise


def resample_frames(values: np.ndarray, hop_in: int, hop_out: int, n_out: int) -> np.ndarray:
    """Linear interpolation along the last (frame) axis from one hop to another."""
    position = np.minimum(np.arange(n_out) * hop_out / hop_in, values.shape[-1] - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, values.shape[-1] - 1)
    weight = (position - low).astype(np.float32)
    return values[..., low] * (1 - weight) + values[..., high] * weight


def pulse_train(f0: np.ndarray, sample_rate: int, phase0: float = 0.0) -> np.ndarray:
    """A band-limited pulse train with unit mean power following f0 [samples] (Hz): the
    closed-form sum of its harmonics up to Nyquist (a Dirichlet kernel), so no aliasing
    and O(samples) rather than O(samples x harmonics)."""
    # float64: a float32 running sum drifts by whole degrees of phase within a second.
    phase = 2.0 * np.pi * np.cumsum(f0 / sample_rate, dtype=np.float64) + phase0
    harmonics = max(1, int(sample_rate / 2 // max(float(f0.max()), 1.0)))
    half = np.sin(phase / 2)
    near_zero = np.abs(half) < 1e-6  # the kernel's peak: its limit is harmonics + 1/2
    kernel = np.sin((harmonics + 0.5) * phase) / np.where(near_zero, 1.0, 2.0 * half)
    kernel = np.where(near_zero, harmonics + 0.5, kernel) - 0.5
    return (kernel * np.sqrt(2.0 / harmonics)).astype(np.float32)


def fill_unvoiced(f0: np.ndarray, voiced: np.ndarray, default: float) -> np.ndarray:
    """f0 with unvoiced frames filled by interpolating their voiced neighbours, so the
    pulse train glides through them rather than jumping."""
    if not voiced.any():
        return np.full(len(f0), default, dtype=np.float32)
    frames = np.arange(len(f0))
    return np.interp(frames, frames[voiced], f0[voiced]).astype(np.float32)


def stretched(contract: Contract, hop: int, speed: float = 1.0) -> Contract:
    """The synthesis frame grid at `hop` for a clip spoken `speed` times as fast: the
    contract's clip length divided by `speed` (tempo; the pitch is the source's)."""
    return replace(contract, hop_length=hop, clip_samples=int(round(contract.clip_samples / speed)))


def source_spectrum(
    source: Excitation,
    contract: Contract,
    hop: int,
    rng: np.random.Generator,
    voiced_max_hz: float = 4000.0,
    speed: float = 1.0,
) -> np.ndarray:
    """Complex STFT [bins, frames at `hop`] of the mixed excitation: pulses in voiced frames
    below `voiced_max_hz` (tapering to noise over the next kHz, as voiced speech is noisy
    up there), noise elsewhere, with the same expected power everywhere. The pitch contour
    and voicing are read `speed` times as fast; the pulses keep their rate in Hz."""
    fine = stretched(contract, hop, speed)
    samples = np.arange(fine.clip_samples) * speed / contract.hop_length
    frames = np.arange(len(source.f0))
    f0 = np.interp(samples, frames, source.f0).astype(np.float32)
    pulses = stft(pulse_train(f0, contract.sample_rate, rng.uniform(0, 2 * np.pi)), fine)
    noise = stft(rng.standard_normal(fine.clip_samples).astype(np.float32), fine)
    voicing = resample_frames(source.voicing.astype(np.float32), contract.hop_length,
                              hop * speed, fine.n_frames)  # fmt: skip
    freqs = np.arange(fine.n_bins) * contract.sample_rate / fine.n_fft
    band = np.clip((voiced_max_hz + 1000.0 - freqs) / 1000.0, 0.0, 1.0).astype(np.float32)
    share = np.sqrt(band[:, None] * voicing[None, :])
    return share * pulses + np.sqrt(1.0 - share**2) * noise


def envelope_at(
    magnitude: np.ndarray, contract: Contract, hop: int, speed: float = 1.0
) -> np.ndarray:
    """Magnitudes [bins, frames] at the contract's hop -> at `hop`, interpolated in dB (a
    linear interpolation of amplitudes would smear onsets), read `speed` times as fast."""
    n_out = stretched(contract, hop, speed).n_frames
    db = 20.0 * np.log10(np.maximum(magnitude, _FLOOR))
    return np.power(
        10.0, resample_frames(db, contract.hop_length, hop * speed, n_out) / 20.0
    ).astype(np.float32)


def high_band(
    magnitude: np.ndarray, voicing: np.ndarray, contract: Contract, level_db: float | None
) -> np.ndarray:
    """Bandwidth extension for fricatives: magnitudes [bins, frames] of a band-limited
    contract (`band_hz`) with the empty bins above the band raised, in proportion to each
    frame's unvoicing (1 - `voicing` [frames]), to a flat floor `level_db` below that
    frame's RMS level from HIGH_BAND_FROM_HZ to the band's edge, fading out around
    HIGH_BAND_TO_HZ, where that top is near the whole band's level (HIGH_BAND_TILT_DB).
    Voiced frames, vowels and full-band contracts are left as they are; bins already
    louder keep their value."""
    band = contract.band_bins
    if level_db is None or band >= contract.n_bins:
        return magnitude
    freqs = np.arange(contract.n_bins) * contract.sample_rate / contract.n_fft
    top = magnitude[int(np.ceil(HIGH_BAND_FROM_HZ * contract.n_fft / contract.sample_rate)) : band]
    level = np.sqrt(np.mean(np.square(top, dtype=np.float32), axis=0))
    unvoiced = np.clip(1.0 - np.asarray(voicing, np.float32), 0.0, 1.0)
    if HIGH_BAND_TILT_DB is not None:
        whole = np.sqrt(np.mean(np.square(magnitude[:band], dtype=np.float32), axis=0))
        tilt = 20.0 * np.log10(np.maximum(level, _FLOOR) / np.maximum(whole, _FLOOR))
        unvoiced = unvoiced * np.clip((tilt - HIGH_BAND_TILT_DB) / 10.0 + 0.5, 0.0, 1.0)
    fade = np.clip((HIGH_BAND_TO_HZ + 1000.0 - freqs[band:]) / 2000.0, 0.0, 1.0)
    floor = fade[:, None].astype(np.float32) * (level * unvoiced * 10.0 ** (level_db / 20.0))
    out = magnitude.copy()
    out[band:] = np.maximum(out[band:], floor)
    return out


def render(
    magnitude: np.ndarray,
    source: Excitation,
    contract: Contract,
    rng: np.random.Generator,
    hop: int = 128,
    voiced_max_hz: float = 4000.0,
    speed: float = 1.0,
    high_band_db: float | None = HIGH_BAND_DB,
) -> np.ndarray:
    """Magnitudes [bins, frames] (the envelope) and an excitation -> a waveform of the
    contract's clip length over `speed`: the envelope and the excitation's contours are read
    at that rate (tempo), the pulses keep their pitch. Unvoiced frames get noise above a
    band-limited contract's band (`high_band`)."""
    fine = stretched(contract, hop, speed)
    spectrum = source_spectrum(source, contract, hop, rng, voiced_max_hz, speed)
    magnitude = high_band(magnitude, source.voicing, contract, high_band_db)
    envelope = envelope_at(magnitude, contract, hop, speed)
    return istft(spectrum * envelope, fine, fine.clip_samples)


@dataclass(frozen=True)
class Harmonics:
    """A real clip's fine structure (`fine_structure` of its STFT at `hop`), laid under a
    model's envelope before Griffin-Lim: the harmonics come from the clip, the phase from
    the iterations."""

    magnitude: np.ndarray  # [bins, frames at hop]
    hop: int


def fine_structure(magnitude: np.ndarray, width: int = 7, limit: float = 4.0) -> np.ndarray:
    """A real clip's magnitudes [bins, frames] over their own envelope (a moving average of
    `width` bins across frequency, wider than the harmonic spacing; edges repeated): the
    harmonics alone, capped at `limit` so that a near-silent bin cannot explode."""
    pad = [(0, 0)] * (magnitude.ndim - 2) + [(width // 2, width // 2), (0, 0)]
    running = np.cumsum(np.pad(magnitude, pad, mode="edge"), axis=-2, dtype=np.float64)
    running = np.concatenate([np.zeros_like(running[..., :1, :]), running], axis=-2)
    smooth = ((running[..., width:, :] - running[..., :-width, :]) / width).astype(np.float32)
    return np.minimum(magnitude / np.maximum(smooth, _FLOOR), limit).astype(np.float32)
