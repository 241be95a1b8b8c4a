"""Where a speaker's identity is lost between a recording and the model's rendition of it:

    python -m training.identity --data ../shared/data/fsdd [--takes 3]

For each FSDD speaker's held-out takes (0 to takes - 1 of every digit), the speaker
classifier (training/speakers.py, fitted on takes 5 and later) is asked who speaks in:
- `real`: the recording itself;
- `vocoded`: the recording's own magnitudes through the source-filter vocoder at its own
  pitch, no model (what the vocoder keeps);
- `blurred`: the same, with the magnitudes first smoothed across frequency by a Gaussian of
  `--blur-bins` bins (what detail finer than a VAE's envelope carries);
- `reconstruct`: the model's rendition, as POST /reconstruct makes it (service defaults).
A speaker whose `vocoded` share is high and whose `reconstruct` share is low is lost by the
model's envelope, not by the vocoder; `blurred` says whether fine spectral detail is where
the classifier hears them. README, "Voices", reports the figures for the default model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from app.config import Settings
from app.contract import fix_length, image_to_magnitude, load_waveform, waveform_to_features
from app.synth import Synthesizer
from app.vocoder import SOURCE_FILTER
from training.data import list_clips, load_dataset
from training.reconstruction import ReconstructAt, reconstructions
from training.speakers import HELD_OUT_TAKES, SpeakerClassifier, fit_on_takes, shares

RENDITIONS = ("real", "vocoded", "blurred", "reconstruct")


def vocoded(
    synth: Synthesizer, clip: np.ndarray, gl_iters: int, blur_bins: float | None = None
) -> np.ndarray:
    """A clip's own magnitudes (blurred across frequency by a Gaussian of `blur_bins` when
    given) through the source-filter vocoder at its own pitch, no model and no post-filter."""
    feats = waveform_to_features(clip, synth.contract)
    image = feats.image
    if blur_bins is not None:
        image = np.clip(gaussian_filter1d(image, blur_bins, axis=0), 0.0, 1.0)
    magnitude = image_to_magnitude(image.astype(np.float32), feats.db_min, feats.db_max)
    rng = np.random.default_rng(0)
    wave = synth.invert(magnitude, rng, SOURCE_FILTER, gl_iters, 1.0, synth.excitation_of(clip))
    return fix_length(wave, synth.contract.clip_samples)


def measure_identity(
    synth: Synthesizer,
    classifier: SpeakerClassifier,
    data: Path,
    speakers: list[str],
    takes: int,
    blur_bins: float = 3.0,
) -> dict:
    """Per speaker and rendition, how often the classifier hears the speaker (`shares`)."""
    settings = Settings()
    at = ReconstructAt(0, settings.gl_iters, settings.sharpen)
    clips = [c for c in list_clips(data, "fsdd") if c.take < takes]
    report: dict = {"takes": f"0-{takes - 1}", "blur_bins": blur_bins, "speakers": {}}
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
        report["speakers"][speaker] = {"clips": len(real)} | {
            name: shares(classifier.predict_waves(waves), owners)["per_speaker"][speaker]
            for name, waves in made.items()
        }
    return report


def summary(report: dict) -> str:
    """One line per speaker: the share heard as themselves in each rendition."""
    lines = [f"{'speaker':10s}" + "".join(f"{name:>13s}" for name in RENDITIONS)]
    for speaker, row in report["speakers"].items():
        lines.append(f"{speaker:10s}" + "".join(f"{row[n]['share']:13.2f}" for n in RENDITIONS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m training.identity",
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
    classifier, _ = fit_on_takes(dataset, synth.contract)
    speakers = sorted({clip.speaker for clip in list_clips(args.data, "fsdd")})
    report = measure_identity(synth, classifier, args.data, speakers, args.takes, args.blur_bins)
    print(summary(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
