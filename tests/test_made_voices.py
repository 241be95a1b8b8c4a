"""Made voices in process: anchored to the nearest built-in voice, the residual kept as
asked, the previous (mean-offset) way still reproducible, and ids that carry it all."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.contract import waveform_to_features
from app.synthesis.custom_voices import MEAN, VoiceBook, split_words
from app.synthesis.synthesizer import Synthesizer
from app.synthesis.voice_ids import VoiceIdError, VoiceSigner, VoiceToken
from tests.conftest import CVAE_BUNDLE

SECRET = b"test-secret-for-made-voices"


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return Synthesizer(CVAE_BUNDLE, threads=1)


@pytest.fixture(scope="module")
def clips(synth) -> dict[str, np.ndarray]:
    """A "three" and a "seven" read in each built-in voice."""
    return {
        v.id: np.concatenate(synth.generate([3, 7], 11, 0.3, 32, 1.4, None, v))
        for v in synth.voices
    }


def test_words_at_a_voices_means_are_anchored_to_it(synth):
    book = VoiceBook(synth, SECRET, 0.5)
    for k, voice in enumerate(synth.voices):
        digits = [3, 7, 7]
        weights = book.weights_for(voice.means[digits], digits)
        np.testing.assert_array_equal(weights, np.eye(len(synth.voices))[k])


def test_clips_in_a_voice_are_mostly_anchored_to_it(synth, clips):
    """Through the vocoder and back: nicolas's and yweweler's regions overlap (docs/voices.md)."""
    book = VoiceBook(synth, SECRET, 0.5)
    nearest = {vid: book.make(clip)[1].nearest for vid, clip in clips.items()}
    assert sum(n == vid for vid, n in nearest.items()) >= len(clips) - 1, nearest


def test_without_residual_a_made_voice_is_its_anchor_at_the_uploads_pitch(synth, clips):
    book = VoiceBook(synth, SECRET, 0.5)
    voice_id, heard = book.make(clips["lucas"])
    voice = book.resolve(voice_id)
    np.testing.assert_array_equal(voice.means, book.builtin["lucas"].means)
    np.testing.assert_allclose(voice.scales, 0.5 * book.builtin["lucas"].scales, atol=1e-4)
    assert voice.f0_hz == pytest.approx(heard.f0_hz, rel=1e-3)


def test_the_residual_moves_the_said_digits_mean_onto_the_upload(synth, clips):
    """residual=1: for the digits said, the voice's mean is the words' z_mean (float16)."""
    book = VoiceBook(synth, SECRET, 0.5, residual=1.0)
    three = clips["george"][: synth.contract.clip_samples]
    voice_id, heard = book.make(three, digit=3)
    words = split_words(three - three.mean(), synth.contract.sample_rate)
    images = np.stack([waveform_to_features(w, synth.contract).image for w in words])
    z_mean, _ = synth.encode(images, [3] * len(images))
    voice = book.resolve(voice_id)
    assert heard.digits == [3]
    np.testing.assert_allclose(voice.means[3], z_mean.mean(axis=0), atol=2e-2)
    assert not np.allclose(voice.means[3], book.builtin["george"].means[3], atol=2e-2)


def test_the_mean_anchor_is_the_previous_offset_from_the_voices_average(synth, clips):
    book = VoiceBook(synth, SECRET, 0.5, residual=1.0, anchor=MEAN)
    voice_id, heard = book.make(clips["nicolas"])
    assert heard.nearest is None
    centres = np.mean([v.means for v in synth.voices], axis=0)
    voice = book.resolve(voice_id)
    offsets = voice.means - centres  # one style for every digit
    np.testing.assert_allclose(offsets, np.broadcast_to(offsets[0], offsets.shape), atol=2e-3)


def test_an_id_round_trips_its_weights_and_style_and_v1_ids_are_refused(synth):
    signer = VoiceSigner(SECRET, synth.model_id, synth.latent_dim, voices=5)
    token = VoiceToken(123.5, np.array([0, 0.25, 0.75, 0, 0], np.float32),
                       np.linspace(-1, 1, synth.latent_dim, dtype=np.float32))  # fmt: skip
    back = signer.verify(signer.sign(token))
    np.testing.assert_array_equal(back.weights, token.weights)
    np.testing.assert_allclose(back.style, token.style, atol=1e-3)
    assert back.f0_hz == pytest.approx(123.5)
    with pytest.raises(VoiceIdError, match="older server"):
        signer.verify("v1.AAAA")
    with pytest.raises(ValueError, match="weights"):
        signer.sign(VoiceToken(123.5, np.ones(4, np.float32), token.style))


def test_a_resolved_id_is_cached_and_a_refused_one_is_refused_every_time(synth, clips):
    book = VoiceBook(synth, SECRET, 0.5)
    voice_id, _ = book.make(clips["george"])
    assert book.resolve(voice_id) is book.resolve(voice_id)
    forged = voice_id[:-4] + ("AAAA" if voice_id[-4:] != "AAAA" else "BBBB")
    for _ in range(2):
        with pytest.raises(VoiceIdError, match="signature"):
            book.resolve(forged)
