"""Whose voice is it? Speaker-encoder cosine similarity (SECS) by an encoder none of our
models learned from or is conditioned on (Resemblyzer, training/evaluation/
speaker_similarity.py), on people no model heard. Each side is up to 8 clips joined; a
speaker's clips are halved: A is what the service is given, B what it is judged against.

- real same / real other: A against B of the same / of the next speaker: the scale.
- no model: A's own contract magnitudes through the service's inversion at A's own pitch.
- /reconstruct: A through the service's /reconstruct.
- made voice: a voice made from A's first clip (POST /v1/voices), then other digits.
- built-in voices: clips generated in a voice against its speaker's clips that no voice was
  fitted on (FSDD's takes 0-4; the many-speaker voices' held-back halves), and against the
  other voices' speakers'.
"""

from __future__ import annotations

import logging

import numpy as np

from app.synthesis.custom_voices import VoiceBook
from app.synthesis.synthesizer import InputError, Synthesizer
from training.evaluation.heard import (
    Defaults,
    at_contract_rate,
    reconstruct_people,
    voice_speaker,
)
from training.evaluation.people import People
from training.evaluation.speaker_similarity import SpeakerEncoder, secs
from training.evaluation.speakers import vocoded

log = logging.getLogger(__name__)

SIDE = 8  # clips per side, as voice-cloning papers report SECS


def halves(people: People) -> tuple[People, People]:
    """A speaker's clips dealt alternately into two sides of at most SIDE clips each, so
    both hold the same mix of words (clips come sorted by digit)."""
    half = min(SIDE, len(people) // 2)
    index = np.arange(2 * half)
    return people.subset(index[0::2]), people.subset(index[1::2])


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def measure_people(
    synth: Synthesizer,
    encoder: SpeakerEncoder,
    book: VoiceBook,
    people: People,
    at: Defaults,
    judged: dict[str, np.ndarray],
    rendered: People,
) -> dict:
    """The five rows for every speaker of `people` with at least 4 clips; `judged` holds
    every held-out speaker's side B embedding (real other: the next speaker in it);
    `rendered`, their /reconstruct renditions, aligned with `people`."""
    rate = synth.contract.sample_rate
    rows: dict[str, list[float]] = {k: [] for k in
                                    ("real_same", "real_other", "no_model", "reconstruct",
                                     "made_voice")}  # fmt: skip
    everyone = sorted(judged)
    names = [s for s in people.names() if s in judged]
    for i, s in enumerate(names):
        a, _ = halves(people.of(s))
        given = at_contract_rate(a, synth.contract)
        real = encoder.embed(a.waves, a.rates[0])
        rows["real_same"].append(secs(real, judged[s]))
        other = everyone[(everyone.index(s) + 1) % len(everyone)]
        rows["real_other"].append(secs(real, judged[other]))
        plain = [vocoded(synth, w, at.gl_iters) for w in given]
        rows["no_model"].append(secs(encoder.embed(plain, rate), judged[s]))
        mine, _ = halves(rendered.of(s))  # dealt as `a`: the same clips' renditions
        rows["reconstruct"].append(secs(encoder.embed(mine.waves, rate), judged[s]))
        try:
            voice_id, _ = book.make(given[0])
        except InputError as exc:  # a reference the service refuses is not a made voice
            log.info("made voice: %s refused (%s)", s, exc)
            continue
        voice = book.resolve(voice_id)
        digits = [d for d in range(10) if d != int(a.digits[0])][:SIDE]
        made = synth.generate(digits, at.seed + i, at.temperature, at.gl_iters, at.sharpen,
                              None, voice)  # fmt: skip
        rows["made_voice"].append(secs(encoder.embed(list(made), rate), judged[s]))
    out = {k: _mean(v) for k, v in rows.items()}
    out["speakers"] = len(names)
    out["reconstruct_vs_no_model"] = (
        out["reconstruct"] / out["no_model"] if out["reconstruct"] and out["no_model"] else None
    )
    return out


def measure_builtin(
    synth: Synthesizer, encoder: SpeakerEncoder, real: People, at: Defaults
) -> dict:
    """Each built-in voice whose speaker has held-back takes in `real`: SECS against them,
    and against the other voices' speakers (the voices should be told apart)."""
    rate = synth.contract.sample_rate
    owned = {v.id: voice_speaker(v, real.names()) for v in synth.voices}
    owned = {vid: s for vid, s in owned.items() if s}
    if not owned:
        return {"voices": 0}
    theirs = {s: encoder.embed(real.of(s).waves[:SIDE], real.of(s).rates[0])
              for s in set(owned.values())}  # fmt: skip
    own, others, per_voice = [], [], {}
    for n, voice in enumerate(v for v in synth.voices if v.id in owned):
        clips = synth.generate(list(range(SIDE)), at.seed + n, at.temperature, at.gl_iters,
                               at.sharpen, None, voice)  # fmt: skip
        made = encoder.embed(list(clips), rate)
        mine = secs(made, theirs[owned[voice.id]])
        rest = [secs(made, e) for s, e in theirs.items() if s != owned[voice.id]]
        own.append(mine)
        others.extend(rest)
        per_voice[voice.id] = {"own": mine, "others_max": max(rest) if rest else None}
    return {"voices": len(per_voice), "own": _mean(own), "others": _mean(others),
            "others_max": max(others) if others else None, "per_voice": per_voice}  # fmt: skip


def criteria(people: dict, builtin: dict) -> dict[str, bool]:
    """Issue 24's bars on this run's figures (every held-out set must meet each)."""
    sets = list(people.values())
    return {
        "/reconstruct >= 0.75": all((p["reconstruct"] or 0) >= 0.75 for p in sets),
        "/reconstruct >= 0.95x no model": all(
            (p["reconstruct_vs_no_model"] or 0) >= 0.95 for p in sets
        ),
        "made voices >= 0.72": all((p["made_voice"] or 0) >= 0.72 for p in sets),
        "built-in >= 0.78 own speaker": (builtin.get("own") or 0) >= 0.78,
        "built-in <= 0.72 other speakers": (builtin.get("others") or 1) <= 0.72,
    }


def measure_likeness(
    synth: Synthesizer,
    book: VoiceBook,
    held_out: dict[str, People],
    unfitted: People,
    at: Defaults,
    rendered: dict[str, People] | None = None,
) -> dict:
    """SECS on the held-out people, and of the built-in voices against `unfitted`: their
    speakers' clips that no voice was fitted on."""
    encoder = SpeakerEncoder()
    judged = {}
    for group in held_out.values():
        for s in group.names():
            if len(group.of(s)) >= 4:
                _, b = halves(group.of(s))
                judged[s] = encoder.embed(b.waves, b.rates[0])
    people = {}
    for name, group in held_out.items():
        log.info("speaker encoder: %s (%d clips)", name, len(group))
        made = rendered[name] if rendered else reconstruct_people(synth, group, at)
        people[name] = measure_people(synth, encoder, book, group, at, judged, made)
    builtin = measure_builtin(synth, encoder, unfitted, at)
    return {
        "instrument": "Resemblyzer GE2E speaker encoder, cosine of embeddings "
        "(speaker_similarity.py)",
        "held_out": people,
        "builtin_voices": builtin,
        "criteria": criteria(people, builtin),
    }
