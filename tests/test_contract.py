"""The feature contract and its building blocks (app/audio/decoding.py,
app/audio/stft.py): the study's
pipeline, checked against librosa itself."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from app.audio import contract as fc
from app.audio.codec import upload_to_waveform
from app.audio.contract import Contract, load_waveform, unscale, waveform_to_features
from app.audio.decoding import resample
from app.audio.stft import griffin_lim, istft, stft
from tests.factory import digit_clip, tone, write

C = Contract()


def spectral_convergence(magnitude: np.ndarray, waveform: np.ndarray) -> float:
    rebuilt = np.abs(stft(waveform, C))
    return float(np.linalg.norm(rebuilt - magnitude) / np.linalg.norm(magnitude))


def test_study_shape_and_dict_round_trip():
    assert C.image_shape == (257, 69)
    assert C.image_shape[0] * C.image_shape[1] == 17_733
    assert Contract.from_dict(C.to_dict()) == C
    assert Contract(sample_rate=16_000).digest() != C.digest()


def test_sine_peaks_at_expected_bin():
    freq = 1_000.0
    features = fc.waveform_to_features(tone(freq, 0.8, C.sample_rate), C)
    peak_bin = int(features.image.mean(axis=1).argmax())
    assert peak_bin == round(freq * C.n_fft / C.sample_rate)  # bin 23 at 22,050 Hz
    assert features.image.max() == pytest.approx(1.0) and features.image.min() == 0.0
    assert features.db_max == pytest.approx(0.0, abs=1e-4)
    assert features.db_min == pytest.approx(-80.0)


@pytest.mark.parametrize(("excess", "front"), [(10, 5), (11, 5), (1, 0)])
def test_trim_takes_floor_from_front_ceil_from_back(excess, front):
    y = np.arange(100 + excess, dtype=np.float32)
    trimmed = fc.fix_length(y, 100)
    assert len(trimmed) == 100
    assert trimmed[0] == front and trimmed[-1] == front + 99


def test_pad_appends_zeros_at_end():
    y = np.ones(7, dtype=np.float32)
    padded = fc.fix_length(y, 10)
    np.testing.assert_array_equal(padded, [1] * 7 + [0] * 3)
    np.testing.assert_array_equal(fc.fix_length(y, 7), y)


def test_stft_and_db_equal_librosa():
    y = fc.fix_length(digit_clip(4, 1, C.sample_rate), C.clip_samples)
    ours = stft(y, C)
    theirs = librosa.stft(y, n_fft=C.n_fft, hop_length=C.hop_length)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    magnitude = np.abs(theirs)
    np.testing.assert_allclose(
        fc.amplitude_to_db(magnitude, C.top_db),
        librosa.amplitude_to_db(magnitude, ref=np.max, top_db=C.top_db),
        atol=1e-3,
    )
    np.testing.assert_allclose(
        istft(ours, C, C.clip_samples),
        librosa.istft(theirs, n_fft=C.n_fft, hop_length=C.hop_length, length=C.clip_samples),
        atol=1e-5,
    )


def test_load_equals_librosa_load(tmp_path):
    left = digit_clip(2, 0, 8_000)
    stereo = np.stack([left, 0.3 * tone(700.0, len(left) / 8_000, 8_000)], axis=1)
    path = write(tmp_path / "stereo.wav", stereo, 8_000)
    ours = load_waveform(path, C)
    theirs, _ = librosa.load(path, sr=C.sample_rate)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_griffin_lim_matches_librosa_quality():
    y = fc.fix_length(digit_clip(7, 2, C.sample_rate), C.clip_samples)
    magnitude = np.abs(stft(y, C))
    ours = griffin_lim(magnitude, C, C.clip_samples, n_iter=32, rng=np.random.default_rng(0))
    theirs = librosa.griffinlim(
        magnitude,
        n_iter=32,
        hop_length=C.hop_length,
        n_fft=C.n_fft,
        length=C.clip_samples,
        random_state=0,
    )
    ours_sc, theirs_sc = (
        spectral_convergence(magnitude, ours),
        spectral_convergence(magnitude, theirs),
    )
    assert ours_sc < 0.2
    assert ours_sc <= theirs_sc * 1.1


def test_griffin_lim_is_seeded():
    magnitude = np.abs(stft(fc.fix_length(digit_clip(1, 0, C.sample_rate), C.clip_samples), C))
    a, b, c = (
        griffin_lim(magnitude, C, C.clip_samples, 4, rng=np.random.default_rng(s))
        for s in (5, 5, 6)
    )
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("with_phase", [True, False])
def test_image_waveform_image_round_trip(with_phase):
    y = fc.fix_length(digit_clip(5, 3, C.sample_rate), C.clip_samples)
    first = fc.waveform_to_features(y, C)
    magnitude = fc.image_to_magnitude(first.image, first.db_min, first.db_max)
    phase = first.phase if with_phase else None
    rng = np.random.default_rng(0)
    waveform = fc.magnitude_to_waveform(magnitude, C, phase, n_iter=64, rng=rng)
    second = fc.waveform_to_features(waveform, C)
    error = np.abs(second.image - first.image)
    # An exact inverse with the original phase; Griffin-Lim leaves small errors.
    assert error.mean() < (1e-3 if with_phase else 0.05)


def test_silence_scales_to_zeros_not_nan():
    features = fc.waveform_to_features(np.zeros(C.clip_samples, np.float32), C)
    assert features.db_min == features.db_max
    assert np.all(features.image == 0)


def test_training_and_serving_features_are_identical(fsdd):
    """The training loader reads a path; the service decodes uploaded bytes. Same numbers,
    the pitch track the vocoder is fitted to and driven by included."""
    from app.audio.pitch import track
    from training.data.dataset import _featurise

    path = fsdd / "recordings" / "6_theo_12.wav"
    image, db_min, db_max, _, f0, voiced = _featurise(path, C)
    waveform = upload_to_waveform(path.read_bytes(), C, 30.0)
    served = fc.waveform_to_features(waveform, C)
    np.testing.assert_array_equal(image, served.image)
    assert (db_min, db_max) == (served.db_min, served.db_max)
    heard = track(waveform, C)
    np.testing.assert_array_equal(f0, heard.f0)
    np.testing.assert_array_equal(voiced, heard.voiced)
    assert voiced.any()


def test_peak_normalise():
    y = fc.peak_normalise(np.array([0.1, -0.2, 0.05], np.float32))
    assert np.max(np.abs(y)) == pytest.approx(0.9)
    assert np.all(fc.peak_normalise(np.zeros(3, np.float32)) == 0)


def test_band_limit_drops_content_above_the_training_band_only():
    """band_hz = 4000 (FSDD's 8 kHz recordings): a wideband upload's image above 4 kHz is at
    the floor, as an FSDD clip's is, and below it the image is the full-band one."""
    rng = np.random.default_rng(0)
    wide = Contract()
    band = Contract(band_hz=4000.0)
    y = (0.1 * rng.standard_normal(wide.clip_samples)).astype(np.float32)
    full, limited = waveform_to_features(y, wide), waveform_to_features(y, band)
    cut = band.band_bins
    assert cut == 93  # bins 0-92: up to 3,962 Hz at 43 Hz per bin
    assert np.all(limited.image[cut:] == 0.0) and full.image[cut:].mean() > 0.5
    # Below the band the dB image is the full-band one, up to the constant that ref=max
    # sets (the peak is now the band's).
    offset = unscale(limited.image[:cut], limited.db_min, limited.db_max) - unscale(
        full.image[:cut], full.db_min, full.db_max
    )
    assert offset.std() < 1e-3 and 0 <= offset.mean() < 6
    assert np.array_equal(limited.phase, full.phase)
    # Recorded at 8 kHz, the band limit changes nothing.
    low = resample(resample(y, 22_050, 8_000), 8_000, 22_050)[: wide.clip_samples]
    a, b = waveform_to_features(low, wide), waveform_to_features(low, band)
    assert np.abs(a.image - b.image).mean() < 0.01  # (a real FSDD clip: 2e-5)


def test_band_limit_travels_in_the_bundle_only_when_set():
    assert "band_hz" not in Contract().to_dict()  # older bundles and caches keep their digest
    assert Contract.from_dict(Contract().to_dict()) == Contract()
    band = Contract(band_hz=4000.0)
    assert Contract.from_dict(band.to_dict()) == band and band.digest() != Contract().digest()
