"""Real people's recordings for the independent measurements: FSDD's test takes, and the
held-out speakers of the many-speaker set (its split.json), as recorded (native rate, not
cut to the contract), grouped the ways the measures need them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.audio.decoding import decode_audio, to_mono
from training.data.dataset import Clip, list_clips

FSDD_TEST_TAKES = 5  # FSDD's own convention: takes 0-4 are test


@dataclass
class People:
    """Clips as recorded: waves (float32 mono, each at `rates[i]`), digits, speakers."""

    waves: list[np.ndarray]
    rates: list[int]
    digits: np.ndarray
    speakers: np.ndarray

    def __len__(self) -> int:
        return len(self.waves)

    def of(self, speaker: str) -> People:
        keep = np.flatnonzero(self.speakers == speaker)
        return self.subset(keep)

    def subset(self, index: np.ndarray) -> People:
        return People(
            [self.waves[i] for i in index],
            [self.rates[i] for i in index],
            self.digits[index],
            self.speakers[index],
        )

    def names(self) -> list[str]:
        return sorted(set(self.speakers.tolist()))


def load_people(
    root: Path, speakers: set[str] | None = None, takes_below: int | None = None
) -> People:
    """The clips of an FSDD-layout folder (`recordings/{digit}_{speaker}_{take}.wav`), of
    `speakers` only and takes below `takes_below` when given."""
    return _recorded(
        c for c in list_clips(root, "fsdd")
        if (speakers is None or c.speaker in speakers)
        and (takes_below is None or c.take < takes_below)
    )  # fmt: skip


def _recorded(clips: Iterable[Clip]) -> People:
    """Clips decoded as recorded: mono float32 at their own rates."""
    waves, rates, digits, names = [], [], [], []
    for clip in clips:
        data, rate = decode_audio(clip.path)
        waves.append(to_mono(data).astype(np.float32))
        rates.append(int(rate))
        digits.append(clip.digit)
        names.append(clip.speaker)
    return People(waves, rates, np.array(digits, int), np.array(names, dtype=str))


def concat(parts: list[People]) -> People:
    return People([w for p in parts for w in p.waves], [r for p in parts for r in p.rates],
                  np.concatenate([p.digits for p in parts]),
                  np.concatenate([p.speakers for p in parts]))  # fmt: skip


def held_back(bundle: Path, many: Path) -> People:
    """The many-speaker voices' clips that no voice was fitted on: the bundle's
    voice_clips.json "held" lists (clip stems among `many`'s recordings); empty without it."""
    path = Path(bundle) / "voice_clips.json"
    stems = set()
    if path.is_file():
        stems = {s for clips in json.loads(path.read_text()).values() for s in clips["held"]}
    return _recorded(c for c in (list_clips(many, "fsdd") if stems else []) if c.path.stem in stems)


def fsdd_test_takes(fsdd: Path) -> People:
    """Every FSDD speaker's takes 0-4 (the ones no model or voice here is fitted on)."""
    return load_people(fsdd, takes_below=FSDD_TEST_TAKES)


def held_out_speakers(many: Path) -> People:
    """The many-speaker set's held-out speakers (split.json "test"): never trained on."""
    split = json.loads((Path(many) / "split.json").read_text())
    return load_people(many, speakers=set(split["test"]))
