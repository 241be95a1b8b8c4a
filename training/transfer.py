"""Voice transfer on held-out references, as POST /v1/voices then /generate?voice= do it:

    python -m training.transfer --data ../shared/data/fsdd [--speaker theo] [--per-digit 5]

Each of the speaker's first `per-digit` takes of every digit is a reference; a voice is made
from it (app/custom_voices.py, in process) and the nine other digits are generated in that
voice with the service's defaults. Reported, for the voice latent with the per-digit
offsets (the service's) and without them (the upload's z_mean for every digit):
- judge accuracy of the asked digits (models/judge; the speaker is one it never trained on),
  beside the judge's accuracy on the speaker's real clips and on seed-picked voices;
- per reference, whether the median YIN pitch of its generated clips is within 20 % of the
  reference's own median pitch (only references with a pitch).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.config import Settings
from app.contract import fix_length, load_waveform
from app.custom_voices import VoiceBook
from app.pitch import track
from app.synth import InputError, Synthesizer
from app.voice_ids import VoiceSigner
from training.metrics import Judge, features

log = logging.getLogger(__name__)
PITCH_TOLERANCE = 0.2


@dataclass(frozen=True)
class Reference:
    digit: int
    path: Path
    waveform: np.ndarray
    f0_hz: float | None


def references(data: Path, speaker: str, per_digit: int, synth: Synthesizer) -> list[Reference]:
    found = []
    for digit in range(10):
        for take in range(per_digit):
            path = data / "recordings" / f"{digit}_{speaker}_{take}.wav"
            if not path.is_file():
                continue
            waveform = load_waveform(path, synth.contract)
            f0 = track(waveform, synth.contract).median_f0()
            found.append(Reference(digit, path, waveform, f0))
    if not found:
        raise SystemExit(f"no clips of speaker {speaker!r} under {data / 'recordings'}")
    return found


def accuracy(judge: Judge, clips: np.ndarray, digits: list[int], synth: Synthesizer) -> float:
    images, _ = features(clips, synth.contract)
    logits, _ = judge(images)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(digits)))


def clip_pitch(clips: np.ndarray, synth: Synthesizer) -> float | None:
    """Median over clips of each clip's median YIN pitch (None when none is voiced)."""
    medians = [track(c, synth.contract).median_f0() for c in clips]
    medians = [m for m in medians if m is not None]
    return float(np.median(medians)) if medians else None


def transfer(
    synth: Synthesizer,
    book: VoiceBook,
    judge: Judge,
    refs: list[Reference],
    settings: Settings,
    seed: int,
) -> dict:
    """Judge accuracy and pitch following of clips made in each reference's voice."""
    clips, asked, followed, refused = [], [], [], 0
    for n, ref in enumerate(refs):
        try:
            voice_id, _ = book.make(ref.waveform)
        except InputError:
            refused += 1  # no voiced frame: the service answers 422
            continue
        digits = [d for d in range(10) if d != ref.digit]
        made = synth.generate(digits, seed + n, settings.temperature, settings.gl_iters,
                              settings.sharpen, None, book.resolve(voice_id))  # fmt: skip
        clips.append(made)
        asked += digits
        pitch = clip_pitch(made, synth)
        if ref.f0_hz is not None and pitch is not None:
            followed.append(abs(pitch / ref.f0_hz - 1) <= PITCH_TOLERANCE)
    return {
        "references": len(refs),
        "refused": refused,
        "accuracy": accuracy(judge, np.concatenate(clips), asked, synth),
        "pitch_within_20pct": float(np.mean(followed)) if followed else None,
        "voiced_references": len(followed),
    }


def seed_voices(synth: Synthesizer, judge: Judge, settings: Settings, seeds: int) -> float:
    """Judge accuracy of the ten digits read with seed-picked (built-in) voices."""
    clips = [synth.generate(list(range(10)), s, settings.temperature, settings.gl_iters,
                            settings.sharpen) for s in range(seeds)]  # fmt: skip
    return accuracy(judge, np.concatenate(clips), list(range(10)) * seeds, synth)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.transfer", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="FSDD root folder")
    parser.add_argument("--speaker", default="theo", help="a speaker no model trained on")
    parser.add_argument("--per-digit", type=int, default=5, help="reference takes per digit")
    parser.add_argument("--bundle", type=Path, default=Path("models/default"))
    parser.add_argument("--judge", type=Path, default=Path("models/judge"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    settings = Settings()
    synth = Synthesizer(args.bundle, threads=2)
    judge = Judge(args.judge)
    if args.speaker not in judge.meta.get("test_speakers", []):
        log.warning("the judge may have trained on %s: accuracies are optimistic", args.speaker)
    refs = references(args.data, args.speaker, args.per_digit, synth)
    signer = VoiceSigner(b"transfer-measurement", synth.model_id, synth.latent_dim)
    real = np.stack([fix_length(r.waveform, synth.contract.clip_samples) for r in refs])
    report = {
        "bundle": synth.model_id,
        "speaker": args.speaker,
        "settings": {
            "temperature": settings.temperature,
            "sharpen": settings.sharpen,
            "voice_spread": settings.voice_spread,
        },  # fmt: skip
        "real_accuracy": accuracy(judge, real, [r.digit for r in refs], synth),
        "seed_voice_accuracy": seed_voices(synth, judge, settings, seeds=len(refs) // 10 or 1),
    }
    for name, offsets in (("with_offsets", True), ("without_offsets", False)):
        book = VoiceBook(synth, signer, settings.voice_spread, offsets=offsets)
        report[name] = transfer(synth, book, judge, refs, settings, args.seed)
        log.info("%s: %s", name, report[name])
    for name in ("with_offsets", "without_offsets"):
        report[name]["relative_accuracy"] = report[name]["accuracy"] / report["real_accuracy"]
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
