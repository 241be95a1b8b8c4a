"""Noise above a band-limited contract's band for unvoiced, fricative-like frames
(app/audio/vocoder.py `high_band`): where it goes, how loud, and where it must not go."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import Contract
from app.audio.stft import stft
from app.audio.vocoder import HIGH_BAND_DB, Excitation, high_band, render

BANDED = Contract(band_hz=4000.0)
FULL = Contract()
FREQS = np.arange(BANDED.n_bins) * BANDED.sample_rate / BANDED.n_fft
EDGE = BANDED.band_bins


def frames(kind: str, n: int = 8) -> np.ndarray:
    """Magnitudes [bins, n] empty above the band: 'fricative' rises to the band's edge (an
    "s" cut at 4 kHz), 'vowel' falls 40 dB from 500 Hz to the edge."""
    if kind == "fricative":
        shape = 10 ** ((FREQS / 1000.0 - 4.0) * 6.0 / 20.0)
    else:
        shape = 10 ** (-np.clip(FREQS - 500.0, 0.0, None) / 3500.0 * 40.0 / 20.0)
    shape[EDGE:] = 1e-4
    return np.repeat(shape[:, None], n, axis=1).astype(np.float32)


def test_unvoiced_fricative_frames_get_noise_up_to_8_khz_at_the_set_level():
    magnitude = frames("fricative")
    out = high_band(magnitude, np.zeros(8, np.float32), BANDED, -6.0)
    assert np.array_equal(out[:EDGE], magnitude[:EDGE])  # the band is the model's, untouched
    top = magnitude[(FREQS >= 2500) & (np.arange(len(FREQS)) < EDGE)]
    level = np.sqrt(np.mean(top**2, axis=0))
    flat = out[(FREQS > 4100) & (FREQS < 7000)]
    assert np.allclose(flat, level * 10 ** (-6 / 20), rtol=1e-4)
    assert out[FREQS > 9000].max() <= 1e-4  # faded out above ~8 kHz, the floor kept


def test_voiced_frames_vowels_and_full_band_contracts_are_left_alone():
    fricative, vowel = frames("fricative"), frames("vowel")
    assert np.array_equal(high_band(fricative, np.ones(8), BANDED, -6.0), fricative)
    assert np.array_equal(high_band(vowel, np.zeros(8), BANDED, -6.0), vowel)
    assert high_band(fricative, np.zeros(8), FULL, -6.0) is fricative
    assert high_band(fricative, np.zeros(8), BANDED, None) is fricative
    # Half-voiced: half the amplitude of the unvoiced fill.
    half = high_band(fricative, np.full(8, 0.5), BANDED, -6.0)
    full = high_band(fricative, np.zeros(8), BANDED, -6.0)
    assert half[EDGE + 20, 0] == pytest.approx(0.5 * full[EDGE + 20, 0], rel=1e-4)


@pytest.mark.parametrize("voiced", [0.0, 1.0])
def test_render_puts_energy_between_4_and_8_khz_only_in_unvoiced_fricatives(voiced: float):
    n = BANDED.n_frames
    magnitude = frames("fricative", n)
    source = Excitation(f0=np.full(n, 120.0, np.float32), voicing=np.full(n, voiced, np.float32))
    y = render(magnitude, source, BANDED, np.random.default_rng(0))
    power = np.mean(np.abs(stft(y, BANDED)) ** 2, axis=1)
    high = power[(FREQS > 4500) & (FREQS < 7500)].mean()
    near = power[(FREQS > 3000) & (FREQS < 3900)].mean()
    if voiced:
        assert high < 1e-3 * near
    else:
        assert HIGH_BAND_DB is not None
        assert 0.05 * near < high < near
