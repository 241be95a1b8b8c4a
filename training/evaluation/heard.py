"""What an ear none of our models learned from hears (pocketsphinx, training/evaluation/
ear.py): real FSDD test takes, generated digits at the service's defaults (overall, per
digit, per built-in voice against its own speaker's real takes) and /reconstruct of
people no model heard against their originals. Every figure beside the real speech it is
judged against, measured in the same run, as issue 23 states its criteria."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.audio.contract import Contract
from app.audio.decoding import resample
from app.synthesis.synthesizer import Synthesizer
from app.synthesis.voices import Voice
from training.evaluation.ear import DigitEar, accuracy, accuracy_by, per_digit_accuracy
from training.evaluation.people import People

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defaults:
    """The service's settings the figures are measured at (app/core/config.py)."""

    temperature: float
    gl_iters: int
    sharpen: float
    seed: int = 0


def hear_people(ear: DigitEar, people: People) -> list[int | None]:
    return [ear.hear(w, r) for w, r in zip(people.waves, people.rates, strict=True)]


def at_contract_rate(people: People, contract: Contract) -> list[np.ndarray]:
    """Each recording as an upload reaches /reconstruct: mono at the contract's rate."""
    return [resample(w, r, contract.sample_rate) for w, r in zip(people.waves, people.rates,
                                                                 strict=True)]  # fmt: skip


def reconstruct_people(synth: Synthesizer, people: People, at: Defaults) -> People:
    """Each recording through the service's /reconstruct (the digit heard by the bundle's
    classifier, as when a client names none): the renditions, aligned with `people`."""
    rate = synth.contract.sample_rate
    waves = [synth.reconstruct(w, "vocoder", at.seed, at.gl_iters, None, at.sharpen)
             for w in at_contract_rate(people, synth.contract)]  # fmt: skip
    return People(waves, [rate] * len(waves), people.digits, people.speakers)


def _ratio(made: float, real: float) -> float | None:
    return made / real if real > 0 else None


def voice_speaker(voice: Voice, speakers: Sequence[str]) -> str | None:
    """The real speaker a built-in voice was fitted on, when their takes are at hand."""
    for key in (voice.speaker, voice.id, voice.name):
        if key in speakers:
            return key
    return None


def measure_generated(
    synth: Synthesizer, ear: DigitEar, real: People, at: Defaults, per_voice_digit: int
) -> dict:
    """`per_voice_digit` clips of each digit in each built-in voice (one seed each, as
    /generate?digit=&voice=&seed=), heard by the ear, against the real test takes."""
    heard_real, real_digits = hear_people(ear, real), real.digits.tolist()
    real_by_digit = per_digit_accuracy(heard_real, real_digits)
    real_by_speaker = accuracy_by(heard_real, real_digits, real.speakers.tolist())
    voices: list[Voice | None] = list(synth.voices) or [None]
    truth, heard, owner = [], [], []
    rate = synth.contract.sample_rate
    for v, voice in enumerate(voices):
        for d in range(10):
            for k in range(per_voice_digit):
                seed = at.seed + 1000 * v + 10 * k + d
                clip = synth.generate([d], seed, at.temperature, at.gl_iters, at.sharpen,
                                      None, voice)[0]  # fmt: skip
                truth.append(d)
                heard.append(ear.hear(clip, rate))
                owner.append(voice.id if voice is not None else "pooled")
    overall_real = accuracy(heard_real, real_digits)
    by_digit = per_digit_accuracy(heard, truth)
    per_voice = {}
    for voice in voices:
        vid = voice.id if voice is not None else "pooled"
        mine = [o == vid for o in owner]
        speaker = voice_speaker(voice, real.names()) if voice is not None else None
        # A voice whose speaker is not among the test takes (or recorded few digits) is
        # judged against real speech of every digit, pooled over speakers.
        reference = real_by_speaker[speaker] if speaker else overall_real
        acc = accuracy([h for h, m in zip(heard, mine, strict=True) if m],
                       [t for t, m in zip(truth, mine, strict=True) if m])  # fmt: skip
        per_voice[vid] = {"accuracy": acc, "reference": reference, "speaker": speaker,
                          "ratio": _ratio(acc, reference)}  # fmt: skip
    overall = accuracy(heard, truth)
    digit_ratios = {d: _ratio(by_digit[d], real_by_digit[d]) for d in by_digit}
    voice_ratios = [v["ratio"] for v in per_voice.values() if v["ratio"] is not None]
    return {
        "real": {
            "clips": len(real),
            "accuracy": overall_real,
            "per_digit": real_by_digit,
            "per_speaker": real_by_speaker,
        },  # fmt: skip
        "generated": {
            "clips": len(truth),
            "accuracy": overall,
            "ratio": _ratio(overall, overall_real),
            "per_digit": by_digit,
            "per_digit_ratio": digit_ratios,
            "min_digit_ratio": min(r for r in digit_ratios.values() if r is not None),
            "per_voice": per_voice,
            "min_voice_ratio": min(voice_ratios) if voice_ratios else None,
        },
    }


def measure_reconstructed(
    synth: Synthesizer,
    ear: DigitEar,
    sets: dict[str, People],
    at: Defaults,
    rendered: dict[str, People] | None = None,
) -> dict:
    """Each set's /reconstruct renditions (`rendered`, made here when not given) heard
    against the originals."""
    out = {}
    for name, people in sets.items():
        log.info("independent ear: /reconstruct of %s (%d clips)", name, len(people))
        made = rendered[name] if rendered else reconstruct_people(synth, people, at)
        truth = people.digits.tolist()
        real_acc = accuracy(hear_people(ear, people), truth)
        made_acc = accuracy(hear_people(ear, made), truth)
        out[name] = {"clips": len(people), "speakers": len(people.names()),
                     "originals": real_acc, "reconstructed": made_acc,
                     "ratio": _ratio(made_acc, real_acc)}  # fmt: skip
    return out


def criteria(generated: dict, reconstructed: dict) -> dict[str, bool]:
    """Issue 23's bars, each a yes or no on this run's own figures."""
    gen = generated["generated"]
    return {
        "generated >= 0.95x real": (gen["ratio"] or 0) >= 0.95,
        "every voice >= 0.9x its speaker": (gen["min_voice_ratio"] or 0) >= 0.9,
        "every digit >= 0.8x real": gen["min_digit_ratio"] >= 0.8,
        "/reconstruct of held-out >= 0.8x originals": all(
            (r["ratio"] or 0) >= 0.8 for r in reconstructed.values()
        ),
    }


def measure_heard(
    synth: Synthesizer,
    real: People,
    held_out: dict[str, People],
    at: Defaults,
    clips: int = 400,
    rendered: dict[str, People] | None = None,
) -> dict:
    """The ear's figures on `clips` generated digits at least (2 of each digit a voice)."""
    ear = DigitEar()
    per_voice_digit = max(2, -(-clips // (10 * max(1, len(synth.voices)))))
    log.info("independent ear: real takes and generated digits")
    generated = measure_generated(synth, ear, real, at, per_voice_digit)
    reconstructed = measure_reconstructed(synth, ear, held_out, at, rendered)
    return {
        "instrument": "pocketsphinx 5, US-English model, JSGF digit grammar (ear.py)",
        **generated,
        "reconstruction": reconstructed,
        "criteria": criteria(generated, reconstructed),
    }
