"""Where a speaker's identity is lost between a recording and the model's rendition of it:

    python -m training.evaluation.identity --data ../shared/data/fsdd [--takes 3]

For each FSDD speaker's held-out takes (0 to takes - 1 of every digit), the speaker
classifiers (training/evaluation/speakers.py, fitted on takes 5 and later: on the recordings, and on
them plus their blurred vocoded renditions) are asked who speaks in:
- `real`: the recording itself;
- `vocoded`: the recording's own magnitudes through the source-filter vocoder at its own
  pitch, no model (what the vocoder keeps);
- `blurred`: the same, with the magnitudes first smoothed across frequency by a Gaussian of
  `--blur-bins` bins (what detail finer than a VAE's envelope carries);
- `reconstruct`: the model's rendition, as POST /reconstruct makes it (service defaults).
A speaker whose `vocoded` share is high and whose `reconstruct` share is low is lost by the
model's envelope, not by the vocoder; `blurred` says whether fine spectral detail is where
the classifier hears them (the vocoder-robust one is trained to hear past it). docs/voices.md,
"Voices", reports the figures for the default model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from app.audio.contract import fix_length, load_waveform
from app.core.config import Settings
from app.synthesis.synthesizer import Synthesizer
from training.data.dataset import list_clips, load_dataset
from training.evaluation.reconstruction import ReconstructAt, reconstructions
from training.evaluation.speakers import (
    HELD_OUT_TAKES,
    SpeakerClassifier,
    fit_on_takes,
    fit_vocoder_robust,
    shares,
    vocoded,
)

RENDITIONS = ("real", "vocoded", "blurred", "reconstruct")


def measure_identity(
    synth: Synthesizer,
    classifiers: dict[str, SpeakerClassifier],
    data: Path,
    speakers: list[str],
    takes: int,
    blur_bins: float = 3.0,
) -> dict:
    """Per classifier, speaker and rendition, how often the speaker is heard (`shares`)."""
    settings = Settings()
    at = ReconstructAt(0, settings.gl_iters, settings.sharpen)
    clips = [c for c in list_clips(data, "fsdd") if c.take < takes]
    tables: dict[str, dict] = {name: {} for name in classifiers}
    report = {"takes": f"0-{takes - 1}", "blur_bins": blur_bins, "classifiers": tables}
    for speaker in speakers:
        paths = [c.path for c in clips if c.speaker == speaker]
        if not paths:
            continue
        real = np.stack(
            [fix_length(load_waveform(p, synth.contract), synth.contract.clip_samples)
             for p in paths]
        )  # fmt: skip
        made = {
            "real": real,
            "vocoded": np.stack([vocoded(synth, w, settings.gl_iters) for w in real]),
            "blurred": np.stack([vocoded(synth, w, settings.gl_iters, blur_bins) for w in real]),
            "reconstruct": reconstructions(synth, real, "vocoder", at),
        }
        owners = [speaker] * len(real)
        for name, classifier in classifiers.items():
            tables[name][speaker] = {"clips": len(real)} | {
                kind: shares(classifier.predict_waves(waves), owners)["per_speaker"][speaker]
                for kind, waves in made.items()
            }
    return report


def summary(report: dict) -> str:
    """Per classifier, one line per speaker: the share heard as themselves in each rendition."""
    lines = []
    for name, table in report["classifiers"].items():
        lines.append(f"{name + ':':18s}" + "".join(f"{kind:>13s}" for kind in RENDITIONS))
        for speaker, row in table.items():
            shares_ = "".join(f"{row[kind]['share']:13.2f}" for kind in RENDITIONS)
            lines.append(f"  {speaker:16s}" + shares_)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluation.identity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, required=True, help="FSDD root folder")
    parser.add_argument("--bundle", type=Path, default=Path("models/default"))
    parser.add_argument("--takes", type=int, default=3, help="held-out takes per digit used")
    parser.add_argument("--blur-bins", type=float, default=3.0)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/features"))
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.takes <= HELD_OUT_TAKES:
        parser.error(f"--takes: 1 to {HELD_OUT_TAKES} (the classifier trains on the later ones)")

    synth = Synthesizer(args.bundle, threads=2)
    dataset = load_dataset(args.data, "fsdd", synth.contract, args.cache_dir)
    classifiers = {
        "recordings": fit_on_takes(dataset, synth.contract)[0],
        "vocoder_robust": fit_vocoder_robust(dataset, synth, Settings().gl_iters)[0],
    }
    speakers = sorted({clip.speaker for clip in list_clips(args.data, "fsdd")})
    report = measure_identity(synth, classifiers, args.data, speakers, args.takes, args.blur_bins)
    print(summary(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
