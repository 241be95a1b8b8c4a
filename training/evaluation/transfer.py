"""Voice transfer on held-out references, as POST /v1/voices then /generate?voice= do it:

    python -m training.evaluation.transfer --data ../shared/data/fsdd [--speaker theo] \
        [--per-digit 5]

Each of the speaker's first `per-digit` takes of every digit is a reference; a voice is made
from it (app/synthesis/custom_voices.py, in process) and the nine other digits are generated in that
voice with the service's defaults. Reported for each way of making the voice (WAYS: the
service's, anchored to the nearest built-in voice, and the previous one, the upload's
offset from the voices' average):
- judge accuracy of the asked digits (models/judge; the speaker is one it never trained on),
  beside the judge's accuracy on the speaker's real clips and on seed-picked voices;
- per reference, whether the median YIN pitch of its generated clips is within 20 % of the
  reference's own median pitch (only references with a pitch).

    python -m training.evaluation.transfer --data ../shared/data/fsdd --all-speakers

takes the references from every FSDD speaker's held-out takes (0 to per-digit - 1, so 0-4)
instead, and adds whether the transferred clips
sound like their reference's speaker: the share a speaker classifier
(training/evaluation/speakers.py,
fitted on takes 5-49) assigns to it, beside its share on the real references and on clips
in seed-picked built-in voices (whose speakers the model trained on); and the same from
the vocoder-robust classifier, a second opinion that hears past fine spectral detail.
Five of the six speakers are the model's and the judge's training speakers, so their judge
figures are optimistic; theo's are not.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.audio.contract import fix_length, load_waveform
from app.audio.pitch import track
from app.core.config import Settings
from app.synthesis.custom_voices import MEAN, NEAREST, VoiceBook
from app.synthesis.synthesizer import InputError, Synthesizer
from training.data.dataset import Dataset, list_clips, load_dataset
from training.evaluation.metrics import Judge, features
from training.evaluation.speakers import (
    HELD_OUT_TAKES,
    SpeakerClassifier,
    fit_on_takes,
    fit_vocoder_robust,
    shares,
)

log = logging.getLogger(__name__)
PITCH_TOLERANCE = 0.2
# name -> (anchor, residual): the service's way and the previous one.
WAYS = {"nearest": (NEAREST, Settings().voice_residual), "mean_offset": (MEAN, 1.0)}


@dataclass(frozen=True)
class Reference:
    digit: int
    path: Path
    waveform: np.ndarray
    f0_hz: float | None
    speaker: str = ""


@dataclass
class Made:
    """Clips made in references' voices: the digit asked and whose reference for each."""

    clips: list[np.ndarray] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    followed: list[bool] = field(default_factory=list)
    refused: int = 0


def references(data: Path, speaker: str, per_digit: int, synth: Synthesizer) -> list[Reference]:
    found = []
    for digit in range(10):
        for take in range(per_digit):
            path = data / "recordings" / f"{digit}_{speaker}_{take}.wav"
            if not path.is_file():
                continue
            waveform = load_waveform(path, synth.contract)
            f0 = track(waveform, synth.contract).median_f0()
            found.append(Reference(digit, path, waveform, f0, speaker))
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


def make_in_voices(
    synth: Synthesizer, book: VoiceBook, refs: list[Reference], settings: Settings, seed: int
) -> Made:
    """A voice from each reference (as POST /v1/voices), then the nine other digits in it."""
    made = Made()
    for n, ref in enumerate(refs):
        try:
            voice_id, _ = book.make(ref.waveform)
        except InputError:
            made.refused += 1  # no voiced frame: the service answers 422
            continue
        digits = [d for d in range(10) if d != ref.digit]
        clips = synth.generate(digits, seed + n, settings.temperature, settings.gl_iters,
                               settings.sharpen, None, book.resolve(voice_id))  # fmt: skip
        made.clips.append(clips)
        made.asked += digits
        made.owners += [ref.speaker] * len(digits)
        pitch = clip_pitch(clips, synth)
        if ref.f0_hz is not None and pitch is not None:
            made.followed.append(abs(pitch / ref.f0_hz - 1) <= PITCH_TOLERANCE)
    return made


def transfer(
    synth: Synthesizer,
    book: VoiceBook,
    judge: Judge,
    refs: list[Reference],
    settings: Settings,
    seed: int,
) -> tuple[dict, Made]:
    """Judge accuracy and pitch following of clips made in each reference's voice."""
    made = make_in_voices(synth, book, refs, settings, seed)
    report = {
        "references": len(refs),
        "refused": made.refused,
        "accuracy": accuracy(judge, np.concatenate(made.clips), made.asked, synth),
        "pitch_within_20pct": float(np.mean(made.followed)) if made.followed else None,
        "voiced_references": len(made.followed),
    }
    return report, made


def seed_voices(
    synth: Synthesizer, judge: Judge, settings: Settings, seeds: int
) -> tuple[float, np.ndarray, list[str]]:
    """Judge accuracy of the ten digits read with seed-picked (built-in) voices; the clips
    and the voice each was read in."""
    clips = [synth.generate(list(range(10)), s, settings.temperature, settings.gl_iters,
                            settings.sharpen) for s in range(seeds)]  # fmt: skip
    voices = [synth.draw_speaker(s).voice.name for s in range(seeds) for _ in range(10)]
    clips = np.concatenate(clips)
    return accuracy(judge, clips, list(range(10)) * seeds, synth), clips, voices


# Report keys of the speaker classifiers (training/evaluation/speakers.py): on the
# recordings, and on
# them plus their blurred vocoded renditions (the second opinion).
PLAIN, ROBUST = "speaker_id", "speaker_id_vocoder_robust"


def speaker_figures(
    dataset: Dataset,
    synth: Synthesizer,
    seeded: tuple[np.ndarray, list[str]],
    held_out_takes: int,
) -> tuple[dict[str, SpeakerClassifier], dict]:
    """The speaker classifiers fitted on FSDD's takes from `held_out_takes` on (of the
    featurised `dataset`), by report key, and the verdicts of each on the real references
    (the takes below) and on clips in seed-picked voices."""
    plain = fit_on_takes(dataset, synth.contract, held_out_takes)
    robust = fit_vocoder_robust(dataset, synth, Settings().gl_iters, held_out_takes)
    described = {
        PLAIN: (plain, "MFCC statistics below 4 kHz + RBF SVM (training/evaluation/speakers.py)"),
        ROBUST: (robust, "the same, also trained on the takes vocoded with a blurred envelope"),
    }
    classifiers, figures = {}, {}
    for key, ((classifier, real), text) in described.items():
        classifiers[key] = classifier
        figures[key] = {
            "classifier": text,
            "trained_on_takes": f"{held_out_takes}-{int(dataset.takes.max())}",
            "real_references": real,
            "seed_voices": shares(classifier.predict_waves(seeded[0]), seeded[1]),
        }
    return classifiers, figures


def speakers_heard(classifier: SpeakerClassifier, made: Made) -> dict:
    """Whether clips made in each reference's voice sound like the reference's speaker."""
    return shares(classifier.predict_waves(np.concatenate(made.clips)), made.owners)


def measure_transfer(
    synth: Synthesizer,
    judge: Judge,
    data: Path,
    speakers: list[str],
    per_digit: int = HELD_OUT_TAKES,
    ways: dict[str, tuple[str, float]] = WAYS,
    speaker_id: bool = True,
    seed: int = 0,
    cache_dir: Path = Path(".cache/features"),
    dataset: Dataset | None = None,
) -> dict:
    """Voices made from each speaker's first `per_digit` takes of every digit, each way in
    `ways`: the judge's accuracy of the asked digits (and on the references and on
    seed-picked voices), pitch following, and with `speaker_id` the speaker classifier's
    verdicts (fitted on the takes from per_digit on, of `dataset`: `data` featurised, loaded
    from `cache_dir` when not given)."""
    settings = Settings()
    refs = [r for sp in speakers for r in references(data, sp, per_digit, synth)]
    real = np.stack([fix_length(r.waveform, synth.contract.clip_samples) for r in refs])
    seed_accuracy, *seeded = seed_voices(synth, judge, settings, seeds=len(refs) // 10 or 1)
    report = {
        "bundle": synth.model_id,
        "speakers": speakers,
        "settings": {
            "temperature": settings.temperature,
            "sharpen": settings.sharpen,
            "voice_spread": settings.voice_spread,
        },  # fmt: skip
        "real_accuracy": accuracy(judge, real, [r.digit for r in refs], synth),
        "seed_voice_accuracy": seed_accuracy,
    }
    if speaker_id:
        held_out_takes = per_digit  # the classifier never trains on a reference
        if dataset is None:
            dataset = load_dataset(data, "fsdd", synth.contract, cache_dir)
        classifiers, figures = speaker_figures(dataset, synth, tuple(seeded), held_out_takes)
        report.update(figures)
    for name, (anchor, residual) in ways.items():
        book = VoiceBook(synth, b"transfer-measurement", settings.voice_spread, residual, anchor)
        report[name], made = transfer(synth, book, judge, refs, settings, seed)
        report[name]["relative_accuracy"] = report[name]["accuracy"] / report["real_accuracy"]
        if speaker_id:
            for key, classifier in classifiers.items():
                report[name][key] = speakers_heard(classifier, made)
        log.info("%s: %s", name, report[name])
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluation.transfer", description=__doc__
    )
    parser.add_argument("--data", type=Path, required=True, help="FSDD root folder")
    parser.add_argument("--speaker", default="theo", help="a speaker no model trained on")
    parser.add_argument(
        "--all-speakers", action="store_true", help="every FSDD speaker's references + speaker id"
    )
    parser.add_argument("--per-digit", type=int, default=5, help="reference takes per digit")
    parser.add_argument("--bundle", type=Path, default=Path("models/default"))
    parser.add_argument("--judge", type=Path, default=Path("models/judge"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/features"))
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    synth = Synthesizer(args.bundle, threads=2)
    judge = Judge(args.judge)
    speakers = [args.speaker]
    if args.all_speakers:
        speakers = sorted({c.speaker for c in list_clips(args.data, "fsdd")})
    for speaker in speakers:
        if speaker not in judge.meta.get("test_speakers", []):
            log.warning("the judge may have trained on %s: accuracies are optimistic", speaker)
    report = measure_transfer(synth, judge, args.data, speakers, args.per_digit,
                              speaker_id=args.all_speakers, seed=args.seed,
                              cache_dir=args.cache_dir)  # fmt: skip
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
