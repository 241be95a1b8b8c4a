"""A synthetic-voice digit set made with espeak-ng, in FSDD's layout:

    python -m training espeak [--dest .cache/espeak] [--group eval|train|all]

writes `<dest>/recordings/{digit}_{voice}_{take}.wav` ("zero" ... "nine"), so
`training.data.dataset.list_clips(dest, "fsdd")` loads it, and `<dest>/voices.json` (what made
each voice). The voices are espeak-ng accents with voice variants (+m1 ... +f5); each take
is one (speed, pitch) pair. They fall in two disjoint groups that share neither an accent
nor a variant (they do share espeak-ng's synthesiser and phoneme set: a model trained on
TRAIN_VOICES has heard espeak-ng, not these accents or vocal tracts):

- EVAL_VOICES: held out from any training; what `training unseen` reports.
- TRAIN_VOICES: a model may train on them (augmentation).

Clips are written at FSDD's 8 kHz, trimmed of silence as FSDD's are, so that the set
differs from FSDD in its voices and not in its bandwidth. espeak-ng's output is
deterministic for one install; voices.json records its version.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from app.audio.sequences import trim_silence

log = logging.getLogger(__name__)

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
RATE = 8000  # FSDD's
DEFAULT_DEST = Path(".cache/espeak")
MANIFEST = "voices.json"
# (words per minute, pitch 0-99) of each take: a reader's range, the same for every voice.
TAKES = ((140, 40), (160, 55), (180, 70), (150, 30), (170, 50))


class EspeakMissing(RuntimeError):
    """espeak-ng is not installed."""


@dataclass(frozen=True)
class EspeakVoice:
    accent: str
    variant: str

    @property
    def name(self) -> str:
        """The speaker field of the file name ([A-Za-z0-9]+, as FSDD's): "es" + accent +
        variant with the punctuation dropped, e.g. en-gb-scotland+f2 -> esengbscotlandf2."""
        return "es" + re.sub(r"[^A-Za-z0-9]", "", self.accent + self.variant)

    @property
    def espeak(self) -> str:
        return f"{self.accent}+{self.variant}"


def _voices(spec: dict[str, str]) -> tuple[EspeakVoice, ...]:
    return tuple(EspeakVoice(accent, v) for accent, vs in spec.items() for v in vs.split())


# The two groups share neither an accent nor a variant (tests/test_unseen.py checks it);
# each accent has male (m) and female (f) variants.
EVAL_VOICES = _voices({"en-029": "m2 f2", "en-gb-scotland": "m5 f4", "en-us-nyc": "m8 f4"})
TRAIN_VOICES = _voices(
    {
        "en-us": "m1 f1 m3",
        "en-gb": "f3 m4 f5",
        "en-gb-x-rp": "m6 m7 f1",
        "en-gb-x-gbclan": "m3 f3 m4",
        "en-gb-x-gbcwmd": "f5 m6 m1",
    }
)
GROUPS = {"eval": EVAL_VOICES, "train": TRAIN_VOICES, "all": EVAL_VOICES + TRAIN_VOICES}


def espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise EspeakMissing("espeak-ng not found on PATH: install it (apt-get install espeak-ng)")
    return found


def espeak_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split("Data at")[0].strip()


def speak(
    binary: str, voice: EspeakVoice, word: str, speed: int, pitch: int, rate: int = RATE
) -> np.ndarray:
    """One word from espeak-ng at `rate`, trimmed of leading and trailing silence."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(
            [binary, "-v", voice.espeak, "-s", str(speed), "-p", str(pitch), "-w", tmp.name, word],
            check=True,
            capture_output=True,
        )
        y, native = sf.read(tmp.name, dtype="float32")
    y = soxr.resample(y, native, rate, quality="HQ").astype(np.float32)
    return trim_silence(y)


def expected(voices: tuple[EspeakVoice, ...]) -> list[str]:
    return [f"{d}_{v.name}_{t}.wav" for v in voices for d in range(10) for t in range(len(TAKES))]


def _manifest(binary: str, voices: tuple[EspeakVoice, ...], rate: int) -> dict:
    return {
        "espeak": espeak_version(binary),
        "rate": rate,
        "takes": [list(t) for t in TAKES],
        "voices": {
            v.name: {**asdict(v), "group": "eval" if v in EVAL_VOICES else "train"} for v in voices
        },
    }


def make_set(
    dest: Path = DEFAULT_DEST,
    group: str = "all",
    force: bool = False,
    voices: tuple[EspeakVoice, ...] | None = None,
    rate: int = RATE,
) -> Path:
    """Write the group's clips (or just `voices`') under `dest/recordings` at `rate` (FSDD's
    8 kHz, or espeak-ng's own 22,050 Hz for wideband uploads), kept when all are there
    already and made the same way, unless `force`; returns `dest`."""
    voices = GROUPS[group] if voices is None else voices
    binary = espeak_binary()
    recordings = dest / "recordings"
    manifest_path = dest / MANIFEST
    manifest = _manifest(binary, voices, rate)
    old = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    if all(old.get(k) == manifest[k] for k in ("espeak", "rate", "takes")):
        # Made the same way: keep the other voices' entries; nothing to do if all are there.
        manifest["voices"] = {**old["voices"], **manifest["voices"]}
        if not force and all((recordings / name).is_file() for name in expected(voices)):
            log.info("espeak set already in %s", dest)
            return dest
    recordings.mkdir(parents=True, exist_ok=True)
    log.info("speaking %d clips with %s", len(expected(voices)), manifest["espeak"])
    for voice in voices:
        for digit, word in enumerate(WORDS):
            for take, (speed, pitch) in enumerate(TAKES):
                y = speak(binary, voice, word, speed, pitch, rate)
                sf.write(recordings / f"{digit}_{voice.name}_{take}.wav", y, rate, "PCM_16")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return dest


def voice_names(group: str) -> list[str]:
    return [v.name for v in GROUPS[group]]
