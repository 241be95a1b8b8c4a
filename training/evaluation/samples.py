"""Listening samples for the README (docs/samples/): a few generated digits in different
voices, a number read in one voice, and the same digit through the previous default
(Griffin-Lim) for comparison. Short WAVs at 16 kHz, a few hundred KB in all.

    python -m training samples models/default --out docs/samples
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from app.audio.codec import encode
from app.synthesis.synthesizer import GRIFFIN_LIM, Synthesizer

RATE = 16_000
NUMBER = "4155551234"
# (file stem, digits, seed, voice): low and high built-in voices (the seed picks one when
# the bundle has no voice of that id).
CLIPS = [("three-a", "3", 1, "george"), ("three-b", "3", 6, "birch"), ("seven", "7", 2, "lucas"),
         ("six", "6", 4, "aspen")]  # fmt: skip
NUMBER_VOICE = "alder"


def write_samples(bundle: Path, out: Path, temperature: float, sharpen: float) -> list[Path]:
    synth = Synthesizer(bundle)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    voices = {v.id: v for v in synth.voices}

    def save(stem: str, digits: str, seed: int, voice: str, **options) -> None:
        waveform = synth.speak([int(c) for c in digits], seed, temperature=temperature,
                               sharpen=sharpen, voice=voices.get(voice), **options)  # fmt: skip
        path = out / f"{stem}.wav"
        path.write_bytes(encode(waveform, synth.contract.sample_rate, "wav", RATE))
        written.append(path)

    for stem, digits, seed, voice in CLIPS:
        save(stem, digits, seed, voice)
    save("number", NUMBER, 3, NUMBER_VOICE)
    save("three-a-griffinlim", "3", 1, CLIPS[0][3], vocoder=GRIFFIN_LIM, gl_iters=16)
    for path in written:
        info = sf.info(path)
        print(f"{path}: {info.duration:.2f} s, {path.stat().st_size / 1000:.0f} KB")
    return written
