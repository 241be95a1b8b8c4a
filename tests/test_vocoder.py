"""The source-filter vocoder (app/audio/vocoder.py): its source, its filter and what comes out."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import Contract
from app.audio.pitch import track
from app.audio.stft import stft
from app.audio.vocoder import (
    Excitation,
    envelope_at,
    fill_unvoiced,
    fine_structure,
    pulse_train,
    render,
    resample_frames,
)

CONTRACT = Contract()
RATE = CONTRACT.sample_rate


def test_pulse_train_has_unit_power_and_harmonics_only_at_f0_multiples():
    y = pulse_train(np.full(RATE, 130.0, np.float32), RATE)
    assert np.mean(y**2) == pytest.approx(1.0, rel=0.02)
    spectrum = np.abs(np.fft.rfft(y)) / len(y)  # 1 Hz bins over one second
    harmonics = spectrum[130:10_921:130]  # 84 harmonics below Nyquist, all equally strong
    between = spectrum[65:10_921:130]
    assert harmonics.min() > 0.99 * harmonics.max()
    assert harmonics.min() > 1000 * between.max()  # lines at k x 130 Hz, nothing between
    # Harmonic 85 (11,050 Hz) would fold back to 11,000 Hz: it is not there.
    assert spectrum[10_921:].max() < 1e-3 * harmonics.max()


def test_resample_frames_keeps_values_at_shared_times_and_interpolates_between():
    values = np.array([[0.0, 10.0, 20.0]])
    out = resample_frames(values, hop_in=256, hop_out=128, n_out=5)
    assert np.allclose(out, [[0, 5, 10, 15, 20]])


def test_envelope_at_a_finer_hop_matches_the_coarse_frames():
    rng = np.random.default_rng(0)
    magnitude = rng.uniform(0.01, 1.0, CONTRACT.image_shape).astype(np.float32)
    fine = envelope_at(magnitude, CONTRACT, 128)
    assert np.allclose(fine[:, ::2][:, : magnitude.shape[1]], magnitude, rtol=1e-4)


def test_fill_unvoiced_glides_between_voiced_neighbours():
    f0 = np.array([0, 100, 0, 0, 130, 0], np.float32)
    voiced = f0 > 0
    assert np.allclose(fill_unvoiced(f0, voiced, 120.0), [100, 100, 110, 120, 130, 130])
    assert np.all(fill_unvoiced(f0, np.zeros(6, bool), 120.0) == 120.0)


def flat(level: float = 0.5) -> np.ndarray:
    """A flat spectral envelope with speech-like loudness: loud middle, silent edges."""
    magnitude = np.full(CONTRACT.image_shape, 1e-4, np.float32)
    magnitude[:93, 10:55] = level  # 0-4 kHz, 0.12-0.64 s
    return magnitude


@pytest.mark.parametrize("hz", [95.0, 150.0, 230.0])
def test_voiced_frames_come_out_at_the_asked_pitch(hz):
    source = Excitation(f0=np.full(CONTRACT.n_frames, hz), voicing=np.ones(CONTRACT.n_frames))
    y = render(flat(), source, CONTRACT, np.random.default_rng(0))
    assert y.shape == (CONTRACT.clip_samples,) and np.all(np.isfinite(y))
    heard = track(y, CONTRACT)
    middle = slice(14, 50)
    assert heard.voiced[middle].mean() > 0.9
    assert np.median(heard.f0[middle][heard.voiced[middle]]) == pytest.approx(hz, rel=0.02)


def test_unvoiced_frames_are_noise_and_the_envelope_shapes_both():
    n = CONTRACT.n_frames
    voicing = np.zeros(n)
    voicing[10:30] = 1.0  # voiced first half, a "fricative" after
    y = render(flat(), Excitation(np.full(n, 120.0), voicing), CONTRACT, np.random.default_rng(1))
    heard = track(y, CONTRACT)
    assert heard.voiced[14:27].mean() > 0.9 and heard.voiced[34:52].mean() < 0.2
    spectrum = np.abs(stft(y, CONTRACT))
    inside, outside = spectrum[:, 12:53].mean(), spectrum[:, 60:].mean()
    assert inside > 100 * outside  # silent where the envelope is silent
    assert spectrum[:80, 35:50].mean() > 30 * spectrum[120:, 35:50].mean()  # 0-3.4 kHz only


def test_same_generator_state_same_waveform():
    source = Excitation(np.full(CONTRACT.n_frames, 110.0), np.ones(CONTRACT.n_frames))
    a = render(flat(), source, CONTRACT, np.random.default_rng(5))
    b = render(flat(), source, CONTRACT, np.random.default_rng(5))
    assert np.array_equal(a, b)


def test_fine_structure_keeps_harmonics_and_drops_the_envelope():
    y = pulse_train(np.full(CONTRACT.clip_samples, 172.27, np.float32), RATE)  # 4 bins apart
    magnitude = np.abs(stft(y, CONTRACT)) * np.linspace(2, 0.1, CONTRACT.n_bins)[:, None]
    fine = fine_structure(magnitude)
    column = fine[8:200, 30]
    assert column.max() <= 4.0
    peaks, troughs = column[::4], column[2::4]  # harmonic bins 8, 12, ... and between
    assert np.median(peaks) > 3 * np.median(troughs)
    # No tilt left: low and high harmonics stand equally high over their surroundings.
    assert np.median(peaks[:20]) == pytest.approx(np.median(peaks[-20:]), rel=0.2)
