"""The independent ear (training/evaluation/ear.py): it must hear real and synthetic digits at
its calibrated rate and must not hear digits in noise, or every figure measured with it lies."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training.evaluation.ear import (
    PAD_SECONDS,
    SAMPLE_RATE,
    DigitEar,
    accuracy,
    accuracy_by,
    per_digit_accuracy,
    prepare,
)

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def ear() -> DigitEar:
    pytest.importorskip("pocketsphinx", reason="the `eval` extra (pocketsphinx) is not installed")
    return DigitEar()


def test_prepare_resamples_peaks_and_pads() -> None:
    t = np.arange(8000) / 8000
    stereo = np.stack([0.1 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1)
    pcm = prepare(stereo, 8000)
    assert pcm is not None and pcm.dtype == np.int16
    pad = round(PAD_SECONDS * SAMPLE_RATE)
    assert len(pcm) == 2 * 8000 + 2 * pad  # one second at 16 kHz plus the two pads
    assert not pcm[:pad].any() and not pcm[-pad:].any()
    assert abs(int(np.abs(pcm).max()) - round(0.9 * 32767)) <= 2
    assert prepare(np.zeros(8000), 8000) is None
    assert prepare(np.zeros(0), 8000) is None


def test_accuracy_helpers() -> None:
    heard, truth = [1, 2, None, 4], [1, 3, 3, 4]
    assert accuracy(heard, truth) == 0.5
    assert per_digit_accuracy(heard, truth) == {1: 1.0, 3: 0.0, 4: 1.0}
    assert accuracy_by(heard, truth, ["a", "b", "a", "b"]) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError):
        accuracy([1], [1, 2])
    with pytest.raises(ValueError):
        accuracy([], [])


def test_silence_and_noise_are_not_digits(ear: DigitEar) -> None:
    assert ear.hear(np.zeros(8000, dtype=np.float32), 8000) is None
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 0.1, 8000) for _ in range(30)]
    heard = ear.hear_all(noise, 8000)
    # Against balanced labels, noise must score at chance (it is heard as one word, "oh").
    assert accuracy(heard, [i % 10 for i in range(30)]) <= 0.2


def test_real_fsdd_takes_at_the_calibrated_rate(ear: DigitEar, fsdd: Path) -> None:
    """Takes 0-4 of all six speakers: 0.720 measured (DESIGN: 0.727)."""
    files = sorted(f for f in (fsdd / "recordings").glob("*.wav") if int(f.stem.split("_")[2]) < 5)
    assert len(files) == 300
    waves = [sf.read(f, dtype="float32") for f in files]
    assert {sr for _, sr in waves} == {8000}
    heard = ear.hear_all([w for w, _ in waves], 8000)
    truth = [int(f.stem.split("_")[0]) for f in files]
    speakers = [f.stem.split("_")[1] for f in files]
    # Deterministic; the window allows a little drift across pocketsphinx/soxr releases but
    # not the lattice rescoring left on (0.687) or a lost 16 kHz resampling.
    assert 0.70 <= accuracy(heard, truth) <= 0.75
    by_speaker = accuracy_by(heard, truth, speakers)
    # The ear's known ranking: lucas and theo clear, george and nicolas hard.
    assert min(by_speaker["lucas"], by_speaker["theo"]) > max(
        by_speaker["george"], by_speaker["nicolas"]
    )
    # Reusing the decoder must not change what a clip is heard as.
    assert DigitEar().hear_all([w for w, _ in waves[:8]], 8000) == heard[:8]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_digits(ear: DigitEar) -> None:
    heard = []
    for word in WORDS:
        wav = subprocess.run(
            ["espeak-ng", "-v", "en-us", "--stdout", word], capture_output=True, check=True
        ).stdout
        wave, sr = sf.read(io.BytesIO(wav), dtype="float32")
        heard.append(ear.hear(wave, sr))
    assert heard[7] == 7  # "seven"
    assert accuracy(heard, list(range(10))) >= 0.7  # 0.8 measured (six and eight are missed)
