"""Voices, voicing and pitch contours: fitted from a training split, used by the service so
that a number is read in one voice, voiced, at that voice's pitch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from app.audio.contract import Contract, image_to_magnitude, waveform_to_features
from app.audio.pitch import track
from app.audio.vocoder import pulse_train
from app.synthesis.bundle import DECODER_FILE, ENCODER_FILE, read_meta
from app.synthesis.synthesizer import GRIFFIN_LIM, SOURCE_FILTER, Synthesizer
from app.synthesis.voices import SourceModel, Voice, draw_speaker
from tests.conftest import DEFAULT_BUNDLE
from training.__main__ import main as cli
from training.data.dataset import Dataset
from training.evaluation.naturalness import voicing
from training.models.voices import (
    clip_median_f0,
    fit_contours,
    fit_vocoder,
    fit_voices,
    fit_voicing,
)

CONTRACT = Contract()
BINS, FRAMES = CONTRACT.image_shape


def dataset(speakers: dict[str, float], per_digit: int = 4, seed: int = 0) -> Dataset:
    """Per speaker a fixed pitch (Hz); voiced where the image is loud in its low bins."""
    rng = np.random.default_rng(seed)
    rows = [(s, d) for s in speakers for d in range(10) for _ in range(per_digit)]
    n = len(rows)
    images = rng.uniform(0.0, 0.3, (n, BINS, FRAMES)).astype(np.float32)
    voiced = np.zeros((n, FRAMES), bool)
    for i, (_, d) in enumerate(rows):
        voiced[i, 10 + d : 40 + d] = True
        images[i, :40, 10 + d : 40 + d] = 0.9  # a loud, low "vowel"
        images[i, 150:, 45:55] = 0.8  # a loud, high "fricative"
    f0 = np.array([[speakers[s]] * FRAMES for s, _ in rows], np.float32)
    f0 *= np.exp(0.1 * np.linspace(-1, 1, FRAMES))[None]  # every clip falls 0.2 in log pitch
    return Dataset(
        images=images,
        db_min=np.full(n, -80.0, np.float32),
        db_max=np.zeros(n, np.float32),
        lengths=np.full(n, CONTRACT.clip_samples),
        digits=np.array([d for _, d in rows]),
        speakers=np.array([s for s, _ in rows]),
        takes=np.zeros(n, np.int64),
        f0=np.where(voiced, f0, 0.0).astype(np.float32),
        voiced=voiced,
    )


def test_fit_voices_gives_each_speaker_their_latents_and_pitch():
    data = dataset({"low": 95.0, "high": 160.0})
    z = np.where(data.speakers[:, None] == "low", -2.0, 2.0) + data.digits[:, None] * 0.1
    z = (z + 0.01 * np.random.default_rng(1).standard_normal((len(z), 3))).astype(np.float32)
    voices = {v.id: v for v in fit_voices(data, z)}
    assert sorted(voices) == ["high", "low"]
    assert voices["low"].f0_hz == pytest.approx(95.0, rel=0.05)  # the clips fall in pitch
    assert voices["high"].f0_hz == pytest.approx(160.0, rel=0.05)
    assert voices["low"].latent["3"].mean == pytest.approx([-1.7] * 3, abs=0.02)
    assert voices["high"].latent["9"].mean == pytest.approx([2.9] * 3, abs=0.02)
    assert voices["low"].clips == 40


def test_clip_median_f0_is_nan_for_unvoiced_clips():
    data = dataset({"a": 120.0}, per_digit=1)
    data.voiced[0] = False
    medians = clip_median_f0(data)
    assert np.isnan(medians[0])
    assert medians[1] == pytest.approx(np.median(data.f0[1][data.voiced[1]]))
    assert 110 < medians[1] < 120  # the clip falls in pitch about 120 Hz


def test_voicing_classifier_learns_vowels_from_fricatives():
    data = dataset({"a": 120.0, "b": 140.0})
    spec = fit_voicing(data.images, data.voiced)
    model = SourceModel(fit_vocoder(data, data.images))
    assert len(spec.weights) == 2 * BINS
    voicing = model.voicing(data.images[5])
    assert voicing[20:35].min() > 0.9 and voicing[46:54].max() < 0.1


def test_voicing_of_a_single_class_is_a_constant():
    data = dataset({"a": 120.0}, per_digit=1)
    data.voiced[:] = True
    spec = fit_voicing(data.images, data.voiced)
    assert not any(spec.weights) and spec.bias > 5


def test_contours_follow_the_training_clips_relative_pitch():
    data = dataset({"a": 100.0, "b": 150.0}, per_digit=6)
    contours = fit_contours(data)
    for d in range(10):
        contour = np.array(contours[str(d)])
        inside = contour[12 + d : 38 + d]
        assert np.all(np.diff(inside) > 0)  # the clips' rise, relative to their median
        assert abs(np.median(inside)) < 0.01
        assert np.all(contour[:10] == 0.0)  # nowhere voiced: no contour


def test_a_voice_and_pitch_per_seed():
    meta = read_meta(DEFAULT_BUNDLE)
    voices = [Voice.from_spec(v) for v in meta.voices]
    picks = [draw_speaker(voices, np.random.default_rng(s)) for s in range(200)]
    assert {p.voice.id for p in picks} == {v.id for v in voices}
    pitches = np.array([p.f0_hz for p in picks])
    assert pitches.max() / pitches.min() > 1.4  # not one pitch for everyone
    again = draw_speaker(voices, np.random.default_rng(7))
    assert again.voice.id == picks[7].voice.id and again.f0_hz == picks[7].f0_hz


@pytest.fixture(scope="module")
def default_synth() -> Synthesizer:
    return Synthesizer(DEFAULT_BUNDLE)


def test_default_bundle_has_voices_and_a_vocoder(default_synth):
    assert len(default_synth.voices) >= 4 and default_synth.source is not None
    assert default_synth.vocoder_for(None) == SOURCE_FILTER
    # Speaker-conditioned: every voice is an embedding, and the held-out speaker is none.
    assert default_synth.speaker_encoder is not None and len(default_synth.voices) >= 20
    assert all(v.embedding is not None for v in default_synth.voices)
    assert "theo" not in {v.id for v in default_synth.voices}


def test_generated_digits_are_voiced_and_griffin_lim_is_not(default_synth):
    digits = [0, 2, 3, 4, 5, 7, 8, 9]
    voiced = default_synth.generate(digits, seed=3, temperature=0.6, sharpen=1.5)
    whispered = default_synth.generate(digits, seed=3, temperature=0.6, gl_iters=16,
                                       sharpen=1.5, vocoder=GRIFFIN_LIM)  # fmt: skip
    share = [track(y, CONTRACT).voiced.mean() for y in voiced]
    share_gl = [track(y, CONTRACT).voiced.mean() for y in whispered]
    assert np.mean(share) > 0.2 and np.mean(share) > 3 * np.mean(share_gl)


def test_a_number_is_read_in_one_voice(default_synth):
    """Per-digit median pitch of a 10-digit number (pyin, as `training evaluate` measures
    it) varies as one reader's does (FSDD speakers: std/mean 0.02-0.08), and two seeds are
    two different readers."""
    medians = {}
    for seed in (11, 12, 13, 14):
        clips = default_synth.generate([4, 1, 5, 5, 5, 5, 1, 2, 3, 4], seed, 0.6, sharpen=1.5)
        found = np.array([voicing(c, CONTRACT.sample_rate)[1] for c in clips])
        medians[seed] = found[np.isfinite(found)]
        assert len(medians[seed]) >= 8
        assert np.std(medians[seed]) / np.mean(medians[seed]) < 0.08
    levels = sorted(np.median(m) for m in medians.values())
    assert levels[-1] / levels[0] > 1.05  # the seed picks the voice


def test_the_same_digit_sounds_the_same_batched_or_alone(default_synth):
    number = default_synth.generate([6, 0, 6], seed=21, temperature=0.6)
    alone = default_synth.generate([6], seed=21, temperature=0.6)
    assert np.array_equal(number[0], alone[0])


def test_cli_refits_voices_without_touching_the_models(trained, tmp_path):
    config = trained[0]
    folder = tmp_path / "voices"
    shutil.copytree(config.out, folder)
    before = read_meta(folder)
    meta = before.model_copy(update={"voices": [], "vocoder": None})
    (folder / "bundle.json").write_text(meta.model_dump_json())
    assert Synthesizer(folder).vocoder_for(None) == GRIFFIN_LIM  # no vocoder: Griffin-Lim
    cli(["voices", str(folder), "--data", str(config.data), "--cache-dir",
         str(config.cache_dir)])  # fmt: skip
    after = read_meta(folder)
    assert [v.id for v in after.voices] == [v.id for v in before.voices]
    assert after.vocoder is not None
    for name in (ENCODER_FILE, DECODER_FILE):
        assert after.files[name] == before.files[name]
    synth = Synthesizer(folder)
    assert synth.vocoder_for(None) == SOURCE_FILTER
    assert synth.generate([3, 4], seed=1).shape == (2, CONTRACT.clip_samples)


def voiced_vowel(hz: float = 140.0) -> np.ndarray:
    """A sustained vowel-like clip: a pulse train at `hz` through two formant resonances."""
    from scipy.signal import lfilter

    y = pulse_train(np.full(CONTRACT.clip_samples, hz, np.float32), CONTRACT.sample_rate)
    for formant in (700.0, 1200.0):
        r, theta = 0.97, 2 * np.pi * formant / CONTRACT.sample_rate
        y = lfilter([1.0], [1.0, -2 * r * np.cos(theta), r * r], y)
    fade = np.minimum(1.0, np.minimum(np.arange(len(y)), np.arange(len(y))[::-1]) / 2000)
    return (0.5 * y * fade / np.abs(y).max()).astype(np.float32)


def test_griffin_lim_reconstruction_keeps_the_uploads_voice():
    """/reconstruct with Griffin-Lim (at hop 128) lays the upload's harmonics under the
    model's envelope, so it stays voiced at the upload's pitch; the model's envelope alone
    through the same Griffin-Lim has no pitch to find (DESIGN.md, 'What is known now')."""
    upload = voiced_vowel(140.0)
    synth = Synthesizer(DEFAULT_BUNDLE, gl_hop=128)
    heard = track(synth.reconstruct(upload, digit=0, gl_iters=16, vocoder=GRIFFIN_LIM), CONTRACT)
    assert heard.voiced[8:60].mean() > 0.9
    assert heard.median_f0() == pytest.approx(140.0, rel=0.05)
    features = waveform_to_features(upload, CONTRACT)
    z, _ = synth.encode(features.image[None], [0])
    own = synth.embed(features.image[None]) if synth.speaker_encoder is not None else None
    decoded = synth.decode(z, [0], own)[0]
    envelope = image_to_magnitude(decoded, features.db_min, features.db_max)
    alone = synth.invert(envelope, np.random.default_rng(0), GRIFFIN_LIM, 16)
    assert track(alone, CONTRACT).voiced[8:60].mean() < heard.voiced[8:60].mean() - 0.3


def test_gl_hop_must_overlap_frames():
    with pytest.raises(ValueError, match="gl_hop"):
        Synthesizer(DEFAULT_BUNDLE, gl_hop=CONTRACT.n_fft)
