"""The clarity post-filter: what it keeps and what it changes."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.postfilter import sharpen


def magnitudes(seed: int = 0) -> np.ndarray:
    """[2, bins, frames] positive magnitudes with one all-silent frame."""
    mags = np.random.default_rng(seed).uniform(1e-4, 2.0, (2, 257, 69)).astype(np.float32)
    mags[1, :, 5] = 0.0
    return mags


def db_re_peak(mags: np.ndarray) -> np.ndarray:
    return 20 * np.log10(mags / mags.max(axis=0, keepdims=True))


def test_power_one_leaves_the_magnitudes_alone():
    mags = magnitudes()
    assert sharpen(mags, 1.0) is mags


@pytest.mark.parametrize("power", [1.3, 1.5, 2.2])
def test_each_frame_keeps_its_peak_and_its_db_contrast_is_multiplied(power):
    mags = magnitudes()
    out = sharpen(mags, power)
    assert out.dtype == np.float32 and out.shape == mags.shape
    np.testing.assert_allclose(out.max(axis=1), mags.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(db_re_peak(out[0]), power * db_re_peak(mags[0]), atol=1e-3)


def test_silent_frames_stay_silent_and_finite():
    out = sharpen(magnitudes(), 1.5)
    assert np.all(np.isfinite(out))
    assert np.all(out[1, :, 5] == 0.0)


def test_a_single_image_works_too():
    mags = magnitudes()[0]
    np.testing.assert_array_equal(sharpen(mags, 1.5), sharpen(mags[None], 1.5)[0])
