"""Quality measures on known inputs: the metrics, the judge's front end and augmentation,
and the second-opinion recogniser."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import Contract
from training.evaluation.metrics import (
    frechet_distance,
    inception_score,
    level_align,
    log_spectral_distance,
    spectral_convergence,
    spread,
)
from training.evaluation.second_opinion import SecondOpinion
from training.models.classifier import _mel_matrix, _resample, augment, build_classifier


def test_inception_score_bounds():
    confident = np.eye(10)[np.repeat(np.arange(10), 5)]
    assert inception_score(confident) == pytest.approx(10.0, rel=1e-6)
    assert inception_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    one_class = np.eye(10)[np.zeros(50, int)]
    assert inception_score(one_class) == pytest.approx(1.0)


def test_frechet_distance_and_spread():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + np.array([3.0, 0.0, 4.0])
    assert frechet_distance(a, shifted) == pytest.approx(25.0, abs=1e-6)
    wider = 2.0 * a  # same mean, covariance x4: trace(C + 4C - 2*2C) = trace(C) ~ 3
    assert frechet_distance(a, wider) == pytest.approx(3.0, rel=0.1)
    assert spread(np.ones((10, 3))) == 0.0
    assert spread(wider) == pytest.approx(2 * spread(a))


def test_log_spectral_distance_and_spectral_convergence():
    db = np.random.default_rng(1).uniform(-80, 0, (2, 257, 69))
    assert np.allclose(log_spectral_distance(db, db), 0.0)
    assert np.allclose(log_spectral_distance(db, db - 6.0), 6.0)
    mag = 10.0 ** (db / 20.0)
    assert np.allclose(spectral_convergence(mag, mag), 0.0)
    assert np.allclose(spectral_convergence(mag, 1.1 * mag), 0.1)
    assert np.allclose(spectral_convergence(mag, level_align(mag, 0.2 * mag)), 0.0)


def test_resample_stretches_frequency_and_time():
    images = np.zeros((2, 10, 8), np.float32)
    images[:, 4, :] = 1.0  # a tone in bin 4
    warped = _resample(images, np.array([1.0, 1.25]), axis=1)
    np.testing.assert_allclose(warped[0], images[0])  # factor 1: unchanged
    assert warped[1, :, 0].argmax() == 5  # bin 4 x 1.25
    onset = np.zeros((1, 3, 8), np.float32)
    onset[0, :, 2] = 1.0
    slow = _resample(onset, np.array([2.0]), axis=2)
    np.testing.assert_allclose(slow[0, 0], [0, 0, 0, 0.5, 1.0, 0.5, 0, 0])  # frame 2 -> 4


def test_augment_keeps_the_image_range_and_shape():
    images = np.random.default_rng(4).uniform(0, 1, (3, 257, 69)).astype(np.float32)
    out = augment(images, np.random.default_rng(5), warp=0.2, stretch=0.2)
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_mel_bands_are_weighted_means_of_the_judged_bins():
    bands = _mel_matrix(257, 22050)
    np.testing.assert_allclose(bands.sum(axis=0), 1.0, rtol=1e-5)  # every band a mean
    assert (bands >= 0).all() and not bands[128:].any()  # nothing above 5.5 kHz


@pytest.mark.parametrize("frontend", ["linear", "mel"])
def test_utterance_mean_removes_a_fixed_spectral_tilt(frontend):
    rng = np.random.default_rng(6)
    images = rng.uniform(0.2, 0.8, (2, 257, 69)).astype(np.float32)
    tilted = images + rng.uniform(-0.2, 0.2, (1, 257, 1)).astype(np.float32)  # per bin, all time
    for norm, invariant in (("cmn", True), ("none", False)):
        model = build_classifier((257, 69), norm=norm, frontend=frontend)
        a, b = (np.asarray(model(x)[0]) for x in (images, tilted))
        assert np.allclose(a, b, atol=1e-4) is invariant, norm


def test_second_opinion_tells_tones_apart_and_not_noise():
    contract = Contract()
    rng = np.random.default_rng(0)
    bins, frames = contract.image_shape

    def clips(n: int, digits: np.ndarray) -> np.ndarray:
        db = np.full((n, bins, frames), -80.0) + 3.0 * rng.standard_normal((n, bins, frames))
        for i, d in enumerate(digits):
            db[i, 10 + 20 * d : 14 + 20 * d] = 0.0  # each digit a band of its own
        return db

    digits = np.repeat(np.arange(10), 8)
    recogniser = SecondOpinion(contract).fit(clips(80, digits), digits)
    assert recogniser.accuracy(clips(80, digits), digits) >= 0.95
    noise = np.full((80, bins, frames), -80.0) + 3.0 * rng.standard_normal((80, bins, frames))
    assert recogniser.accuracy(noise, digits) <= 0.3  # no band: no better than a guess
