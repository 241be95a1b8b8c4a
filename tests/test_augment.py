"""Waveform augmentation (training/data/augment.py): each transform does what it claims, the
augmented feature cache, and a real fit with --augment and --extra-data."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.signal import welch

from app.audio.contract import Contract
from app.audio.pitch import track
from tests.factory import make_fsdd_tree, tone, vowel
from training.data import dataset as data
from training.data.augment import AugmentConfig, augment, change_voice, room_impulse

C = Contract()
SR = C.sample_rate
# Every transform off: each test turns on the one it checks.
OFF = AugmentConfig(
    formant=(1.0, 1.0), pitch=(1.0, 1.0), tempo=(1.0, 1.0), gain_db=(0.0, 0.0),
    noise_p=0.0, reverb_p=0.0,
)  # fmt: skip


def median_f0(y: np.ndarray) -> float:
    pitch = track(y, C)
    assert pitch.voiced.sum() > 5
    return float(np.median(pitch.f0[pitch.voiced]))


def centroid(y: np.ndarray, low: float = 300.0, high: float = 3500.0) -> float:
    """Power-weighted mean frequency in the formant region."""
    freqs, power = welch(y, SR, nperseg=2048)
    band = (freqs > low) & (freqs < high)
    return float((freqs[band] * power[band]).sum() / power[band].sum())


def active_seconds(y: np.ndarray, below_db: float = 20.0) -> float:
    """Duration of the frames within `below_db` of the loudest 10 ms frame."""
    frames = y[: len(y) // 220 * 220].reshape(-1, 220)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    return float(np.sum(level > level.max() - below_db) * 220 / SR)


def harmonic(f0: float = 150.0, seconds: float = 0.6) -> np.ndarray:
    y = sum(tone(k * f0, seconds, SR, 0.5 / k) for k in range(1, 12))
    return (y * np.hanning(len(y))).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.3, 0.7])
def test_same_length_finite_and_seeded(seconds):
    y = vowel(120.0, seconds, SR)
    for seed in range(12):
        out = augment(y, np.random.default_rng(seed), AugmentConfig())
        assert out.shape == y.shape and out.dtype == np.float32
        assert np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
        assert np.abs(out).max() > 0.01  # still a sound, not silence
    again = [augment(y, np.random.default_rng(3), AugmentConfig()) for _ in range(2)]
    np.testing.assert_array_equal(*again)
    other = augment(y, np.random.default_rng(4), AugmentConfig())
    assert not np.allclose(again[0], other)


def test_off_is_the_identity():
    y = vowel(120.0, 0.5, SR)
    np.testing.assert_allclose(augment(y, np.random.default_rng(0), OFF), y, atol=1e-6)


@pytest.mark.parametrize("factor", [0.8, 1.25, 1.5])
def test_pitch_moves_by_the_factor_and_keeps_formants(factor):
    y = vowel(120.0, 0.6, SR)
    config = replace(OFF, pitch=(factor, factor))
    out = augment(y, np.random.default_rng(0), config)
    assert median_f0(out) / median_f0(y) == pytest.approx(factor, rel=0.02)
    # The formants stay: plain resampling would move the centroid by the factor too.
    assert centroid(out) / centroid(y) == pytest.approx(1.0, abs=0.05)
    assert active_seconds(out) == pytest.approx(active_seconds(y), abs=0.03)


def test_pitch_of_a_harmonic_tone():
    y = harmonic(150.0)
    out = change_voice(y, SR, pitch=1.25)
    assert median_f0(out) == pytest.approx(187.5, rel=0.02)


@pytest.mark.parametrize("factor", [0.85, 1.2])
def test_formant_warp_moves_the_envelope_not_the_pitch(factor):
    y = vowel(110.0, 0.6, SR)
    out = augment(y, np.random.default_rng(0), replace(OFF, formant=(factor, factor)))
    assert median_f0(out) / median_f0(y) == pytest.approx(1.0, rel=0.02)
    moved = centroid(out) / centroid(y)
    # The centroid follows the formants most of the way (the band ends blunt it a little).
    assert abs(moved - factor) < 0.45 * abs(factor - 1)
    assert (moved - 1) * (factor - 1) > 0


@pytest.mark.parametrize("factor", [0.85, 1.25])
def test_tempo_changes_duration_not_pitch(factor):
    y = np.concatenate([np.zeros(SR // 5), vowel(120.0, 0.4, SR), np.zeros(SR // 5)])
    out = augment(y, np.random.default_rng(0), replace(OFF, tempo=(factor, factor)))
    assert active_seconds(out) == pytest.approx(active_seconds(y) / factor, rel=0.08)
    assert median_f0(out) / median_f0(y) == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("snr", [20.0, 31.0, 40.0])
def test_noise_lands_at_the_asked_snr(snr):
    y = vowel(120.0, 0.5, SR)
    config = replace(OFF, noise_p=1.0, snr_db=(snr, snr), noise_tilt=(0.5, 0.5))
    noise = augment(y, np.random.default_rng(1), config) - y
    measured = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean(noise**2))
    assert measured == pytest.approx(snr, abs=1.0)


def test_noise_tilt_colours_the_noise():
    y = vowel(120.0, 0.5, SR)

    def high_share(tilt: float) -> float:
        config = replace(OFF, noise_p=1.0, snr_db=(20, 20), noise_tilt=(tilt, tilt))
        freqs, power = welch(augment(y, np.random.default_rng(1), config) - y, SR)
        return float(power[freqs > 5000].sum() / power.sum())

    assert high_share(0.0) > 0.5 > 2 * high_share(1.0)  # white: half above 5 kHz; pink: few


@pytest.mark.parametrize("rt60", [0.1, 0.4])
def test_room_impulse_decays_60_db_in_rt60(rt60):
    h = room_impulse(rt60, SR, np.random.default_rng(0), drr_db=-10.0)  # tail-dominated
    # Schroeder backward integral; T20 (-5 to -25 dB) extrapolated to 60 dB.
    energy = np.cumsum(h[::-1].astype(np.float64) ** 2)[::-1]
    decay = 10 * np.log10(energy / energy[0])
    t5, t25 = np.argmax(decay < -5), np.argmax(decay < -25)
    assert 3 * (t25 - t5) / SR == pytest.approx(rt60, rel=0.15)


def test_reverb_lengthens_the_decay():
    burst = vowel(120.0, 0.2, SR)[: int(0.35 * SR)]
    y = np.concatenate([burst, np.zeros(SR // 2, dtype=np.float32)])
    end = len(burst)

    def tail_db(rt60: float) -> float:
        config = replace(OFF, reverb_p=1.0, rt60=(rt60, rt60), drr_db=(0.0, 0.0))
        out = augment(y, np.random.default_rng(2), config)
        tail = out[end + SR // 20 : end + SR // 5]  # 50-200 ms after the burst
        return 10 * np.log10(np.mean(tail**2) / np.mean(out[:end] ** 2) + 1e-30)

    assert tail_db(0.1) > -70 and tail_db(0.4) > tail_db(0.1) + 10
    assert np.all(augment(y, np.random.default_rng(2), OFF)[end:] == 0)  # dry: nothing after


def test_gain_scales_then_clips():
    y = vowel(120.0, 0.5, SR) * 0.6  # peak 0.3
    up = augment(y, np.random.default_rng(0), replace(OFF, gain_db=(6.0, 6.0)))
    np.testing.assert_allclose(up, y * 10 ** (6 / 20), atol=1e-6)
    loud = augment(y, np.random.default_rng(0), replace(OFF, gain_db=(18.0, 18.0)))
    assert loud.max() == 1.0 and np.mean(np.abs(loud) == 1.0) > 0.01


def test_augmented_features_are_cached(tmp_path, monkeypatch):
    root = make_fsdd_tree(tmp_path / "fsdd", speakers=("ann", "bob"), takes=2)
    clips = data.list_clips(root, "fsdd")[:6]
    cfg = AugmentConfig()
    first = data.load_augmented(clips, C, cfg, copies=2, seed=5, cache_dir=tmp_path / "c")
    assert first.images.shape == (12, *C.image_shape)
    assert first.images.min() >= 0 and first.images.max() <= 1
    assert first.digits.tolist() == [c.digit for c in clips for _ in range(2)]
    assert first.speakers.tolist() == [c.speaker for c in clips for _ in range(2)]
    real = data.load_dataset(root, "fsdd", C, cache_dir=tmp_path / "c").images[:6]
    assert not np.allclose(first.images[::2], real) and not np.allclose(*first.images[:2])
    # A clip's copies depend on its name and the seed, not on the other clips in the list.
    part = data.load_augmented(clips[2:4], C, cfg, copies=2, seed=5, cache_dir=tmp_path / "p")
    np.testing.assert_array_equal(part.images, first.images[4:8])
    reseeded = data.load_augmented(clips, C, cfg, copies=2, seed=6, cache_dir=tmp_path / "p")
    assert not np.allclose(reseeded.images, first.images)

    def no_featurising(*args, **kwargs):
        raise AssertionError("augmented features were recomputed despite the cache")

    monkeypatch.setattr(data, "ProcessPoolExecutor", no_featurising)
    second = data.load_augmented(clips, C, cfg, copies=2, seed=5, cache_dir=tmp_path / "c")
    for key, values in vars(first).items():
        np.testing.assert_array_equal(values, vars(second)[key])
    # Another seed, copy count or range is another entry.
    for args in [(cfg, 2, 6), (cfg, 3, 5), (replace(cfg, noise_p=1.0), 2, 5)]:
        with pytest.raises(AssertionError, match="recomputed"):
            data.load_augmented(clips, C, *args, cache_dir=tmp_path / "c")


def test_fit_with_augment_and_extra_data(tmp_path):
    from training.__main__ import main as cli

    root = make_fsdd_tree(tmp_path / "fsdd", speakers=("ann", "bob", "cy"), takes=6)
    # Extra data: a new speaker, the held-out one (dropped) and a copy of a main clip (dropped).
    extra = make_fsdd_tree(tmp_path / "extra", speakers=("dot", "bob"), takes=2)
    (extra / "recordings" / "3_ann_1.wav").write_bytes(
        (root / "recordings" / "3_ann_1.wav").read_bytes()
    )
    out = tmp_path / "bundle"
    args = ["fit", "--data", str(root), "--model", "cvae", "--latent-dim", "2"]
    args += ["--widths", "4", "8", "--epochs", "1", "--batch-size", "16", "--split", "speaker"]
    args += ["--test-speakers", "bob", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    cli([*args, "--augment", "1", "--extra-data", str(extra), "--no-length-filter"])
    facts = json.loads((out / "bundle.json").read_text())["training"]
    clips = facts["clips"]
    assert clips["train"] + clips["val"] == 2 * 10 * 6 and clips["test"] == 10 * 6
    assert facts["extra_data"] == [
        {"path": str(extra), "layout": "fsdd", "clips": 10 * 2, "found": 10 * 2 * 2 + 1}
    ]
    assert facts["augment"]["copies"] == 1
    assert facts["augment"]["clips"] == clips["train"] + 10 * 2
    assert facts["augment"]["ranges"] == AugmentConfig().to_dict()
    # Voices come from the real training split only: no voice for the extra speaker.
    voices = json.loads((out / "bundle.json").read_text())["voices"]
    assert sorted(v["name"] for v in voices) == ["ann", "cy"]
    assert sum(v["clips"] for v in voices) == clips["train"]


def test_classifier_trains_on_augmented_copies(tmp_path, monkeypatch):
    from training.models import classifier

    root = make_fsdd_tree(tmp_path / "fsdd", speakers=("ann", "bob", "cy"), takes=6)
    seen, image_augment = [], classifier.augment

    def recording(images, *args, **kwargs):
        seen.append(len(images))
        return image_augment(images, *args, **kwargs)

    monkeypatch.setattr(classifier, "augment", recording)
    config = classifier.JudgeConfig(
        data=root, test_speakers=("bob",), epochs=1, augment=2, cache_dir=tmp_path / "c"
    )
    _, facts = classifier.train_classifier(config)
    assert seen == [3 * facts["clips"]["train"]]  # the real clips and two copies of each
    assert facts["recipe"]["augment"] == 2
    assert facts["augment_ranges"] == AugmentConfig().to_dict()
