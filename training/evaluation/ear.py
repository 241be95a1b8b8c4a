"""An independent ear for spoken digits: pocketsphinx held to a grammar of the ten digit words.

    python -m training.evaluation.ear ../shared/data/fsdd/recordings --takes 5

Why: the project's own digit classifiers (models/judge, models/digits) learned from FSDD and
share its blind spots. This recogniser is CMU's US-English acoustic model (it ships in the
`pocketsphinx` wheel) and learned from none of the project's data; nothing here may train or
condition a model, so what it hears measures intelligibility from outside.

Preparation (the calibrated recipe): mono, resampled to 16 kHz (soxr), peaked at 0.9, 0.2 s
of digital silence on both ends, batch cepstral mean normalisation (the model's own setting),
and the whole clip decoded as one utterance. Lattice best-path rescoring is off: with a
one-word grammar it cost about 3 points (FSDD 0.69 -> 0.72, many-speaker set 0.84 -> 0.89).
Noise statistics are reset before every clip, so what a clip is heard as does not depend on
the clips heard before it. Calibration (docs: DESIGN "What is known now"): real FSDD takes
0-4 of the six speakers 0.72; the 28 held-out many-speaker-set speakers at 16 kHz 0.89.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import soxr

SAMPLE_RATE = 16_000
PEAK = 0.9
PAD_SECONDS = 0.2

K = TypeVar("K")

# "oh" is how many people say zero in a string of digits; it is heard as 0.
WORDS: dict[str, int] = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
GRAMMAR = "#JSGF V1.0;\ngrammar digits;\npublic <digit> = " + " | ".join(WORDS) + ";\n"


def prepare(wave: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """16 kHz 16-bit PCM as the ear takes it, or None for a silent or empty clip.

    `wave` is float audio in [-1, 1], shape (samples,) or (samples, channels).
    """
    x = np.asarray(wave, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.ndim != 1:
        raise ValueError(f"expected (samples,) or (samples, channels), got shape {x.shape}")
    if x.size == 0 or not np.all(np.isfinite(x)):
        return None
    if sample_rate != SAMPLE_RATE:
        x = soxr.resample(x, sample_rate, SAMPLE_RATE)
    peak = float(np.max(np.abs(x)))
    if peak < 1e-6:
        return None
    pad = np.zeros(round(PAD_SECONDS * SAMPLE_RATE))
    x = np.concatenate([pad, x * (PEAK / peak), pad])
    return np.round(np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)


class DigitEar:
    """A reusable pocketsphinx decoder that names the digit in a clip (one per thread)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder, get_model_path

        self._decoder = Decoder(
            hmm=get_model_path("en-us/en-us"),
            dict=get_model_path("en-us/cmudict-en-us.dict"),
            lm=None,
            bestpath=False,
            loglevel="FATAL",
        )
        self._decoder.add_jsgf_string("digits", GRAMMAR)
        self._decoder.activate_search("digits")

    def hear(self, wave: np.ndarray, sample_rate: int) -> int | None:
        """The digit heard in `wave`, or None when the clip is silent or nothing was heard.

        The grammar forces a digit: white noise is heard as "oh" (0), so score noise-like
        output against balanced labels, where it sits at chance.
        """
        pcm = prepare(wave, sample_rate)
        if pcm is None:
            return None
        d = self._decoder
        # Deprecated, but it is what resets the noise estimate that otherwise carries over
        # from clip to clip (measured: 32 of 40 scores differed from a fresh decoder's).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if hasattr(d, "start_stream"):
                d.start_stream()
        d.start_utt()
        d.process_raw(pcm.tobytes(), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        words = hyp.hypstr.split() if hyp is not None else []
        return WORDS.get(words[0]) if words else None

    def hear_all(self, waves: Iterable[np.ndarray], sample_rate: int) -> list[int | None]:
        """`hear` for each clip, all at one sample rate."""
        return [self.hear(w, sample_rate) for w in waves]


def accuracy(heard: Sequence[int | None], truth: Sequence[int]) -> float:
    """Share of clips heard as their true digit (None counts as wrong)."""
    if len(heard) != len(truth):
        raise ValueError(f"{len(heard)} heard but {len(truth)} truths")
    if len(truth) == 0:
        raise ValueError("no clips")
    return sum(h == t for h, t in zip(heard, truth, strict=True)) / len(truth)


def accuracy_by(
    heard: Sequence[int | None], truth: Sequence[int], groups: Sequence[K]
) -> dict[K, float]:
    """Accuracy within each group (a speaker, a voice, a model), keys sorted."""
    if not len(heard) == len(truth) == len(groups):
        raise ValueError(f"{len(heard)} heard, {len(truth)} truths, {len(groups)} groups")
    hits: dict[K, list[bool]] = defaultdict(list)
    for k, h, t in zip(groups, heard, truth, strict=True):
        hits[k].append(h == t)
    return {k: sum(v) / len(v) for k, v in sorted(hits.items())}  # type: ignore[type-var]


def per_digit_accuracy(heard: Sequence[int | None], truth: Sequence[int]) -> dict[int, float]:
    """Accuracy for each true digit present: which words the ear (or a model) loses."""
    return accuracy_by(heard, truth, truth)


def main(argv: Sequence[str] | None = None) -> None:
    """Hear a folder of `{digit}_{speaker}_{take}.wav` clips; print accuracy and speed."""
    import soundfile as sf

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("recordings", type=Path)
    p.add_argument("--takes", type=int, default=None, help="only takes below this number")
    p.add_argument("--speakers", nargs="*", help="only these speakers")
    p.add_argument("--split", type=Path, help="only the 'test' speakers of this split.json")
    a = p.parse_args(argv)
    wanted = set(a.speakers or [])
    if a.split is not None:
        wanted |= set(json.loads(a.split.read_text())["test"])
    files = []
    for f in sorted(a.recordings.glob("*.wav")):
        digit, speaker, take = f.stem.split("_")
        if a.takes is not None and int(take) >= a.takes:
            continue
        if wanted and speaker not in wanted:
            continue
        files.append((f, int(digit), speaker))
    if not files:
        raise SystemExit(f"no clips in {a.recordings}")
    ear = DigitEar()
    heard: list[int | None] = []
    seconds = 0.0
    for f, _, _ in files:
        wave, sr = sf.read(f, dtype="float32")
        t0 = time.perf_counter()
        heard.append(ear.hear(wave, sr))
        seconds += time.perf_counter() - t0
    truth = [d for _, d, _ in files]
    speakers = [s for _, _, s in files]
    print(
        f"{len(files)} clips, accuracy {accuracy(heard, truth):.3f}, "
        f"{len(files) / seconds:.0f} clips/s"
    )
    if len(set(speakers)) <= 12:
        print(
            "per speaker:", {k: round(v, 2) for k, v in accuracy_by(heard, truth, speakers).items()}
        )
    print("per digit:", {k: round(v, 2) for k, v in per_digit_accuracy(heard, truth).items()})


if __name__ == "__main__":
    main()
