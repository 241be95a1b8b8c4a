"""The independent measurements (training/evaluation/heard.py, likeness.py) on a little
real data and the shipped bundle: the figures are computed from what the instruments hear,
beside the real speech they are judged against. Needs the eval extra and FSDD."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DEFAULT_BUNDLE

pytest.importorskip("pocketsphinx", reason="the eval extra is not installed")
pytest.importorskip("resemblyzer", reason="the eval extra is not installed")

from app.synthesis.custom_voices import VoiceBook  # noqa: E402
from app.synthesis.synthesizer import Synthesizer  # noqa: E402
from training.evaluation.ear import DigitEar  # noqa: E402
from training.evaluation.heard import (  # noqa: E402
    Defaults,
    measure_generated,
    measure_reconstructed,
)
from training.evaluation.likeness import halves, measure_likeness  # noqa: E402
from training.evaluation.people import load_people  # noqa: E402

AT = Defaults(temperature=0.6, gl_iters=16, sharpen=1.4)


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return Synthesizer(DEFAULT_BUNDLE, threads=1)


@pytest.fixture(scope="module")
def ear() -> DigitEar:
    return DigitEar()


def test_generated_digits_are_judged_against_the_real_takes_of_the_same_run(fsdd, synth, ear):
    real = load_people(fsdd, speakers={"lucas", "george"}, takes_below=2)
    out = measure_generated(synth, ear, real, AT, per_voice_digit=1)
    gen, heard = out["generated"], out["real"]
    assert heard["clips"] == 40 and set(heard["per_speaker"]) == {"george", "lucas"}
    assert heard["accuracy"] >= 0.5  # lucas alone is heard at ~0.9
    assert gen["clips"] == 10 * len(synth.voices)
    assert gen["ratio"] == pytest.approx(gen["accuracy"] / heard["accuracy"])
    lucas = gen["per_voice"]["lucas"]
    assert lucas["speaker"] == "lucas"
    assert lucas["reference"] == heard["per_speaker"]["lucas"]
    # A voice whose speaker has no takes here is judged against everyone's.
    assert gen["per_voice"]["nicolas"]["reference"] == heard["accuracy"]
    ratios = [r for r in gen["per_digit_ratio"].values() if r is not None]
    assert gen["min_digit_ratio"] == min(ratios)


def test_reconstructions_are_judged_against_their_originals(fsdd, synth, ear):
    theo = load_people(fsdd, speakers={"theo"}, takes_below=1)
    out = measure_reconstructed(synth, ear, {"theo": theo}, AT)["theo"]
    assert out["clips"] == 10 and out["speakers"] == 1
    assert 0.5 <= out["originals"] <= 1.0
    assert out["ratio"] == pytest.approx(out["reconstructed"] / out["originals"])


def test_the_speaker_encoder_tells_the_held_out_people_apart(fsdd, synth):
    people = load_people(fsdd, speakers={"theo", "lucas"}, takes_below=2)
    a, b = halves(people.of("theo"))
    assert len(a) == len(b) == 8 and not set(a.digits) - set(range(10))
    assert np.array_equal(
        np.sort(np.r_[a.digits, b.digits]), np.sort(people.of("theo").digits[:16])
    )
    book = VoiceBook(synth, b"test", 0.5)
    out = measure_likeness(synth, book, {"two": people}, people, AT)
    row = out["held_out"]["two"]
    assert row["speakers"] == 2
    assert row["real_same"] > row["real_other"] + 0.1
    assert 0.0 < row["reconstruct"] < 1.0 and 0.0 < row["made_voice"] < 1.0
    assert row["reconstruct_vs_no_model"] == pytest.approx(row["reconstruct"] / row["no_model"])
    assert out["builtin_voices"]["voices"] == 1  # only lucas has takes here
    assert set(out["criteria"]) >= {"/reconstruct >= 0.75", "made voices >= 0.72"}
