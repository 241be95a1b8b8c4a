"""Voices no model heard: the espeak-ng set, the unseen-voice measurement, the speaker
classifier and voice transfer's bookkeeping of whose voice each clip is in."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import soundfile as sf

from app.audio.contract import fix_length, load_waveform
from app.core.config import Settings
from app.synthesis.bundle import read_meta
from app.synthesis.custom_voices import VoiceBook
from app.synthesis.synthesizer import Synthesizer
from tests.conftest import DEFAULT_BUNDLE, REPO
from tests.factory import vowel, write
from training.data import espeak
from training.data.dataset import list_clips, load_dataset
from training.evaluation.second_opinion import SecondOpinion
from training.evaluation.speakers import (
    SpeakerClassifier,
    fit_on_takes,
    fit_vocoder_robust,
    shares,
    vocoded,
)
from training.evaluation.transfer import Reference, make_in_voices
from training.evaluation.unseen import load_set, measure_unseen, table, write_result

JUDGE = REPO / "models" / "judge"
EVAL, TRAIN = espeak.EVAL_VOICES[0], espeak.TRAIN_VOICES[0]


# ---------------------------------------------------------------- the espeak-ng set


def test_voice_groups_are_disjoint_in_names_accents_and_variants():
    for part in ("name", "accent", "variant"):
        held = {getattr(v, part) for v in espeak.EVAL_VOICES}
        trained = {getattr(v, part) for v in espeak.TRAIN_VOICES}
        assert held and trained and not held & trained, part
    names = espeak.voice_names("all")
    assert len(set(names)) == len(names) == len(espeak.EVAL_VOICES) + len(espeak.TRAIN_VOICES)
    assert all(re.fullmatch(r"[A-Za-z0-9]+", n) for n in names)  # FSDD's speaker field
    # both sexes among the held-out voices, and no FSDD speaker's name
    assert {v.variant[0] for v in espeak.EVAL_VOICES} == {"m", "f"}
    assert not set(names) & {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}


def test_a_missing_espeak_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(espeak.EspeakMissing, match="apt-get install espeak-ng"):
        espeak.make_set(tmp_path / "set", voices=(EVAL,))


@pytest.fixture(scope="module")
def espeak_set(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    return espeak.make_set(tmp_path_factory.mktemp("espeak"), voices=(EVAL, TRAIN))


def test_espeak_set_loads_in_fsdd_layout(espeak_set):
    clips = list_clips(espeak_set, "fsdd")
    assert len(clips) == 2 * 10 * len(espeak.TAKES)
    assert {c.speaker for c in clips} == {EVAL.name, TRAIN.name}
    assert {c.digit for c in clips} == set(range(10))
    assert {c.take for c in clips} == set(range(len(espeak.TAKES)))
    for clip in clips[:: len(espeak.TAKES) * 3]:
        y, rate = sf.read(clip.path, dtype="float32")
        assert rate == espeak.RATE
        # a word, trimmed: well under espeak's own ~1 s file with its trailing silence
        assert 0.15 < len(y) / rate < 0.9 and np.abs(y).max() > 0.1
        loud = np.flatnonzero(np.abs(y) > 0.01 * np.abs(y).max()) / rate
        assert loud[0] < 0.08 and len(y) / rate - loud[-1] < 0.1  # silence either side trimmed
    manifest = json.loads((espeak_set / espeak.MANIFEST).read_text())
    assert manifest["voices"][EVAL.name]["group"] == "eval"
    entry = {"accent": TRAIN.accent, "variant": TRAIN.variant, "group": "train"}
    assert manifest["voices"][TRAIN.name] == entry


def test_espeak_is_deterministic_and_voices_differ(espeak_set):
    binary = espeak.espeak_binary()
    again = espeak.speak(binary, EVAL, "seven", *espeak.TAKES[0])
    written, _ = sf.read(espeak_set / "recordings" / f"7_{EVAL.name}_0.wav", dtype="float32")
    assert len(again) == len(written)
    np.testing.assert_allclose(again, written, atol=1.0 / 2**15)  # up to 16-bit rounding
    other = espeak.speak(binary, TRAIN, "seven", *espeak.TAKES[0])
    assert len(other) != len(again) or not np.allclose(other, again, atol=0.01)
    # a second call finds the set made and leaves it alone
    path = espeak_set / "recordings" / f"7_{EVAL.name}_0.wav"
    before = path.stat().st_mtime_ns
    espeak.make_set(espeak_set, voices=(EVAL,))
    assert path.stat().st_mtime_ns == before


# ---------------------------------------------------------------- the unseen measurement


@pytest.fixture(scope="module")
def default_synth():
    return Synthesizer(DEFAULT_BUNDLE, threads=1)


def test_measure_unseen_on_a_small_set(espeak_set, default_synth, tmp_path):
    from training.evaluation.metrics import Judge, features

    synth, judge = default_synth, Judge(JUDGE)
    contract = synth.contract
    held = load_set(espeak_set, [EVAL.name], contract, takes=2)
    assert len(held) == 20 and set(held.speakers) == {EVAL.name}
    # A second opinion fitted on the other espeak voice: small, but real speech.
    trained = load_set(espeak_set, [TRAIN.name], contract)
    second = SecondOpinion(contract).fit(features(trained.waves, contract)[1], trained.digits)
    result = measure_unseen(synth, judge, {"espeak": held}, second)
    assert json.loads(json.dumps(result)) == result
    s = result["sets"]["espeak"]
    assert s["clips"] == 20 and s["voices"] == [EVAL.name]
    assert set(s["renditions"]) == {"vocoder", "original_phase", "true_digit"}
    for name, r in s["renditions"].items():
        assert 0.0 <= r["judge"] <= 1.0 and 0.0 <= r["second_opinion"] <= 1.0, name
        assert r["judge_ratio"] == pytest.approx(r["judge"] / s["originals"]["judge"])
    # Where the bundle named the digit right, "vocoder" and "true digit" are the same request
    # (deterministic), so they can disagree on at most the clips it named wrong.
    wrong = 1.0 - s["digit_inference"]
    vocoder, true = s["renditions"]["vocoder"]["judge"], s["renditions"]["true_digit"]["judge"]
    assert abs(vocoder - true) <= wrong + 1e-9
    assert s["per_voice"][EVAL.name]["vocoder"] == pytest.approx(vocoder)
    assert s["originals"]["judge"] >= 0.5  # espeak's digits are clear speech to the judge
    assert f"| espeak | 20 | {s['originals']['judge']:.3f}" in table(result)

    bundle = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, bundle)
    write_result(bundle, result)
    meta = read_meta(bundle)  # hashes still verify
    assert meta.evaluation["unseen_voices"] == result
    assert "generated" in meta.evaluation  # the rest of the evaluation is kept


def test_theo_is_heard_and_named_as_the_real_speaker(fsdd, default_synth):
    from training.evaluation.metrics import Judge

    held = load_set(fsdd, ["theo"], default_synth.contract, takes=2)
    result = measure_unseen(default_synth, Judge(JUDGE), {"theo": held}, gl_iters=4)
    theo = result["sets"]["theo"]
    assert theo["clips"] == 20 and theo["originals"]["second_opinion"] is None
    # The judge hears 0.92 of all theo's clips; the bundle's classifier names them as well.
    assert theo["originals"]["judge"] >= 0.7 and theo["digit_inference"] >= 0.7


def test_renditions_already_made_are_measured_not_remade(fsdd, default_synth, monkeypatch):
    from training.evaluation.metrics import Judge
    from training.evaluation.reconstruction import ReconstructAt, reconstructions

    synth, judge = default_synth, Judge(JUDGE)
    held = load_set(fsdd, ["theo"], synth.contract, takes=1)
    fresh = measure_unseen(synth, judge, {"theo": held}, gl_iters=4)
    at = ReconstructAt(seed=0, gl_iters=4, sharpen=Settings().sharpen)
    made = reconstructions(synth, held.waves, "vocoder", at)  # as training evaluate does
    calls, real = [], Synthesizer.reconstruct

    def counted(self, *args):
        calls.append(args)
        return real(self, *args)

    monkeypatch.setattr(Synthesizer, "reconstruct", counted)
    shared = measure_unseen(synth, judge, {"theo": held}, gl_iters=4,
                            made={"theo": {"vocoder": made}})  # fmt: skip
    assert shared == fresh
    assert len(calls) == len(held) * (len(shared["sets"]["theo"]["renditions"]) - 1)


# ---------------------------------------------------------------- speakers


def _speaker_tree(root, takes: int = 6):
    """Three synthetic "speakers" that differ only in vocal-tract length (formants scaled),
    each saying ten "digits" (vowels), every clip at a random pitch from one shared range:
    pitch cannot tell them apart, timbre can."""
    vowels = [(300, 870, 2240), (530, 1840, 2480), (730, 1090, 2440), (270, 2290, 3010),
              (640, 1190, 2390), (440, 1020, 2240), (660, 1720, 2410), (490, 1350, 1690),
              (570, 840, 2410), (300, 1500, 2500)]  # fmt: skip
    rng = np.random.default_rng(3)
    for n, scale in enumerate((0.8, 1.0, 1.25)):
        for digit, formants in enumerate(vowels):
            for take in range(takes):
                f0 = rng.uniform(100.0, 180.0)
                wobble = rng.uniform(0.97, 1.03, 3)
                y = vowel(f0, 0.35, 8000, tuple(np.array(formants) * scale * wobble))
                write(root / "recordings" / f"{digit}_spk{n}_{take}.wav", y, 8000)
    return root


def test_speaker_classifier_tells_vocal_tracts_apart(tmp_path):
    contract = read_meta(DEFAULT_BUNDLE).contract_params()
    root = _speaker_tree(tmp_path / "speakers")
    data = load_dataset(root, "fsdd", contract, tmp_path / "cache", workers=1)
    classifier, facts = fit_on_takes(data, contract, held_out_takes=2)
    assert facts["train_clips"] == 3 * 10 * 4 and facts["clips"] == 3 * 10 * 2
    assert facts["share"] >= 0.8  # chance is 1/3
    assert set(facts["per_speaker"]) == {"spk0", "spk1", "spk2"}
    # From waveforms (the transfer path) as from the cached features.
    clips = [c for c in list_clips(root, "fsdd") if c.take < 2]
    waves = np.stack(
        [fix_length(load_waveform(c.path, contract), contract.clip_samples) for c in clips]
    )
    assert np.mean(classifier.predict_waves(waves) == [c.speaker for c in clips]) >= 0.8
    assert isinstance(classifier, SpeakerClassifier) and classifier.speakers == [
        "spk0",
        "spk1",
        "spk2",
    ]


def test_shares_counts_where_each_speakers_clips_went():
    got = shares(["a", "b", "b", "b", "a"], ["a", "a", "b", "b", "c"])
    assert got["clips"] == 5 and got["share"] == pytest.approx(0.6)
    assert got["per_speaker"]["a"] == {"clips": 2, "share": 0.5, "assigned": {"a": 1, "b": 1}}
    assert got["per_speaker"]["c"]["share"] == 0.0


def test_transfer_keeps_whose_voice_each_clip_is_in(default_synth):
    synth, contract = default_synth, default_synth.contract
    book = VoiceBook(synth, b"test-secret-0123456789", Settings().voice_spread)
    refs = [
        Reference(3, REPO, vowel(110.0, 0.5, contract.sample_rate), 110.0, "low"),
        Reference(5, REPO, vowel(200.0, 0.5, contract.sample_rate), 200.0, "high"),
        Reference(1, REPO, np.zeros(4000, np.float32), None, "silent"),  # refused, as a 422
    ]
    made = make_in_voices(synth, book, refs, Settings(), seed=0)
    assert made.refused == 1 and len(made.clips) == 2
    assert made.owners == ["low"] * 9 + ["high"] * 9
    assert made.asked == [d for d in range(10) if d != 3] + [d for d in range(10) if d != 5]
    assert made.followed == [True, True]  # the vocoder lays each reference's pitch


def test_a_wideband_set_is_made_at_its_rate(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = espeak.make_set(tmp_path / "wide", voices=(EVAL,), rate=22_050)
    info = sf.info(folder / "recordings" / f"3_{EVAL.name}_0.wav")
    assert info.samplerate == 22_050
    y, _ = sf.read(folder / "recordings" / f"3_{EVAL.name}_0.wav", dtype="float32")
    spectrum = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / 22_050)
    assert spectrum[freqs > 4500].sum() > 0.01 * spectrum.sum()  # energy above FSDD's band


def test_identity_probe_hears_vocal_tracts_through_the_vocoder(tmp_path, default_synth):
    from training.evaluation.identity import RENDITIONS, measure_identity, summary

    synth, contract = default_synth, default_synth.contract
    root = _speaker_tree(tmp_path / "speakers", takes=4)
    data = load_dataset(root, "fsdd", contract, tmp_path / "cache", workers=1)
    classifiers = {
        "recordings": fit_on_takes(data, contract, held_out_takes=2)[0],
        "vocoder_robust": fit_vocoder_robust(data, synth, 8, held_out_takes=2)[0],
    }
    speakers = ["spk0", "spk1", "spk2"]
    report = measure_identity(synth, classifiers, root, speakers, takes=2)
    assert report["takes"] == "0-1" and set(report["classifiers"]) == set(classifiers)
    for name, heard in report["classifiers"].items():
        assert set(heard) == set(speakers)
        for row in heard.values():
            assert row["clips"] == 20 and set(RENDITIONS) <= set(row)
            assert all(sum(row[n]["assigned"].values()) == 20 for n in RENDITIONS)
        shares_of = {n: np.mean([r[n]["share"] for r in heard.values()]) for n in RENDITIONS}
        # The vocoder alone keeps a vocal tract (chance is 1/3); formants 20 % apart survive it.
        assert shares_of["real"] >= 0.8 and shares_of["vocoded"] >= 0.6, (name, shares_of)
    lines = summary(report).splitlines()
    assert lines[0].split() == ["recordings:", *RENDITIONS] and len(lines) == 2 * (1 + 3)


def test_the_vocoder_robust_classifier_also_learns_from_blurred_renditions(tmp_path, default_synth):
    synth, contract = default_synth, default_synth.contract
    root = _speaker_tree(tmp_path / "speakers", takes=4)
    data = load_dataset(root, "fsdd", contract, tmp_path / "cache", workers=1)
    _, plain = fit_on_takes(data, contract, held_out_takes=2)
    classifier, facts = fit_vocoder_robust(data, synth, 8, held_out_takes=2)
    assert plain["train_clips"] == 3 * 10 * 2 and facts["train_clips"] == 2 * 3 * 10 * 2
    assert facts["clips"] == 3 * 10 * 2 and facts["share"] >= 0.8  # still hears recordings
    # Renditions blurred more than its copies ever were are still heard (chance is 1/3).
    clips = [c for c in list_clips(root, "fsdd") if c.take < 2]
    waves = [fix_length(load_waveform(c.path, contract), contract.clip_samples) for c in clips]
    blurred = np.stack([vocoded(synth, w, 8, blur_bins=3.0) for w in waves])
    assert np.mean(classifier.predict_waves(blurred) == [c.speaker for c in clips]) >= 0.6
