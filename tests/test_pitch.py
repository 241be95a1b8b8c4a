"""The service's YIN pitch tracker (app/audio/pitch.py) against known signals and librosa.pyin."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import Contract, fix_length, load_waveform
from app.audio.pitch import track
from app.audio.vocoder import pulse_train

CONTRACT = Contract()
RATE = CONTRACT.sample_rate


def glide(start_hz: float, end_hz: float) -> np.ndarray:
    """A band-limited pulse train gliding over the clip: voiced everywhere."""
    f0 = np.geomspace(start_hz, end_hz, CONTRACT.clip_samples).astype(np.float32)
    return 0.5 * pulse_train(f0, RATE) / 3.0, f0


@pytest.mark.parametrize("hz", [70.0, 110.0, 180.0, 300.0])
def test_steady_pitch_is_found_within_one_percent(hz):
    y, _ = glide(hz, hz)
    found = track(y, CONTRACT)
    inner = found.voiced[3:-3]
    assert inner.all()
    assert np.allclose(found.f0[3:-3], hz, rtol=0.01)


def test_a_glide_is_followed_frame_by_frame():
    y, f0 = glide(90.0, 220.0)
    found = track(y, CONTRACT)
    truth = f0[np.minimum(np.arange(CONTRACT.n_frames) * CONTRACT.hop_length, len(f0) - 1)]
    middle = slice(3, -3)
    assert np.all(np.abs(found.f0[middle] / truth[middle] - 1) < 0.03)


def test_noise_and_silence_are_unvoiced():
    rng = np.random.default_rng(0)
    noise = track(0.3 * rng.standard_normal(CONTRACT.clip_samples).astype(np.float32), CONTRACT)
    assert noise.voiced.mean() < 0.1
    silence = track(np.zeros(CONTRACT.clip_samples, np.float32), CONTRACT)
    assert not silence.voiced.any() and silence.median_f0() is None


def test_agrees_with_librosa_pyin_on_real_speech(fsdd):
    """On FSDD clips: the same pitch where both hear one, and mostly the same voicing."""
    librosa = pytest.importorskip("librosa")
    paths = sorted((fsdd / "recordings").glob("*.wav"))[::150]
    agree, errors = [], []
    for path in paths:
        y = fix_length(load_waveform(path, CONTRACT), CONTRACT.clip_samples)
        ours = track(y, CONTRACT)
        f0, voiced, _ = librosa.pyin(y, fmin=60, fmax=400, sr=RATE, frame_length=2048,
                                     hop_length=CONTRACT.hop_length)  # fmt: skip
        rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=CONTRACT.hop_length)[0]
        loud = rms > 0.1 * rms.max()
        agree.append(np.mean(ours.voiced[loud] == voiced[loud]))
        both = ours.voiced & voiced
        errors += list(np.abs(ours.f0[both] / f0[both] - 1))
    assert np.mean(agree) > 0.7
    errors = np.array(errors)
    assert np.median(errors) < 0.02 and np.mean(errors < 0.05) > 0.85
