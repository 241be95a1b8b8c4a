"""The source's pitch wander (app/synthesis/voices.py `wander`, VocoderSpec.flutter)."""

from __future__ import annotations

import numpy as np

from app.synthesis.bundle import read_meta
from app.synthesis.voices import SourceModel, wander
from tests.conftest import DEFAULT_BUNDLE


def test_wander_is_slow_unit_variance_noise():
    w = wander(100_000, np.random.default_rng(0))
    assert abs(w.std() - 1.0) < 0.02
    steps = np.diff(w)
    assert steps.std() < 0.6  # smooth: white noise of unit variance steps by 1.41


def test_flutter_moves_pitch_about_the_contour_and_zero_keeps_it_steady():
    spec = read_meta(DEFAULT_BUNDLE).vocoder
    steady = SourceModel(spec.model_copy(update={"flutter": 0.0, "digit_f0_spread": 0.0}))
    moving = SourceModel(spec.model_copy(update={"flutter": 0.02, "digit_f0_spread": 0.0}))
    base = steady.pitch(3, 120.0, np.random.default_rng(1))
    f0 = moving.pitch(3, 120.0, np.random.default_rng(1))
    ratio = np.log(f0 / base)
    assert 0.01 < ratio.std() < 0.04 and abs(ratio.mean()) < 0.02
    assert np.array_equal(base, steady.pitch(3, 120.0, np.random.default_rng(2)))
