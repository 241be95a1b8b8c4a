"""OpenAI's voice names as this model's built-in voices, so clients with a hard-coded
voice ("alloy") work.

The table is data: per OpenAI voice, the built-in voice ids it prefers (first present in
the bundle wins) and, when none of them is in the bundle, its place on a pitch scale from
0 (the lowest built-in voice) to 1 (the highest). A bundle with other speakers thus still
maps every name, low voices to low ones and high to high; when the library grows (more
speakers, higher-pitched ones), put the new ids first in the tuples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.synthesis.voices import Voice


@dataclass(frozen=True)
class Alias:
    prefer: tuple[str, ...]  # built-in voice ids, best first
    pitch_rank: float  # 0 = the lowest built-in voice ... 1 = the highest
    character: str  # how OpenAI's voice sounds, for the docs


# The default bundle's library, low to high (GET /v1/voices): juniper 80 Hz ... lucas 95,
# olive 108, jackson 111, nicolas and yweweler 120, linden 131, willow 137, george 158,
# aspen 176, birch 195, fern 207, elm 211 ... laurel 248. The FSDD ids after each first
# choice serve the previous default (models/cvae), whose five voices are all FSDD's men.
OPENAI_VOICES: dict[str, Alias] = {
    "onyx": Alias(("lucas",), 0.0, "deep, male"),
    "echo": Alias(("jackson",), 0.2, "low, male"),
    "ash": Alias(("olive", "jackson"), 0.3, "low, male"),
    "fable": Alias(("nicolas",), 0.45, "middle, male"),
    "verse": Alias(("linden", "nicolas"), 0.5, "middle, male"),
    "alloy": Alias(("yweweler",), 0.5, "middle, neutral"),
    "ballad": Alias(("willow", "yweweler"), 0.6, "middle, male"),
    "sage": Alias(("aspen", "george"), 0.8, "higher, female"),
    "coral": Alias(("birch", "george"), 0.9, "high, female"),
    "shimmer": Alias(("elm", "george"), 0.95, "high, female"),
    "nova": Alias(("fern", "george"), 1.0, "high, female"),
}


def alias_voice(name: str, voices: Sequence[Voice]) -> Voice | None:
    """The built-in voice an OpenAI voice name stands for (None: not such a name, or a
    bundle without voices)."""
    alias = OPENAI_VOICES.get(name.lower())
    if alias is None or not voices:
        return None
    by_id = {voice.id: voice for voice in voices}
    for voice_id in alias.prefer:
        if voice_id in by_id:
            return by_id[voice_id]
    by_pitch = sorted(voices, key=lambda v: (v.f0_hz, v.id))
    return by_pitch[round(alias.pitch_rank * (len(by_pitch) - 1))]
