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
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from app.config import Settings
from app.contract import fix_length, image_to_magnitude, load_waveform, waveform_to_features
from app.synth import Synthesizer
from app.vocoder import SOURCE_FILTER
from training.data import list_clips, load_dataset
from training.speakers import HELD_OUT_TAKES, SpeakerClassifier, fit_on_takes

RENDITIONS = ("real", "vocoded", "blurred", "reconstruct")


def renditions(
    synth: Synthesizer, waveform: np.ndarray, settings: Settings, blur_bins: float
) -> dict[str, np.ndarray]:
    """A clip [samples] as each of RENDITIONS, clip-length."""
    contract = synth.contract
    clip = fix_length(waveform, contract.clip_samples)
    feats = waveform_to_features(clip, contract)
    source = synth.excitation_of(clip)

    def vocode(image: np.ndarray) -> np.ndarray:
        magnitude = image_to_magnitude(image, feats.db_min, feats.db_max)
        rng = np.random.default_rng(0)
        return synth.invert(magnitude, rng, SOURCE_FILTER, settings.gl_iters, 1.0, source)

    blurred = np.clip(gaussian_filter1d(feats.image, blur_bins, axis=0), 0.0, 1.0)
    rendition = synth.reconstruct(clip, "vocoder", 0, settings.gl_iters, None, settings.sharpen)
    made = {"real": clip, "vocoded": vocode(feats.image),
            "blurred": vocode(blurred.astype(np.float32)), "reconstruct": rendition}  # fmt: skip
    return {name: fix_length(wave, contract.clip_samples) for name, wave in made.items()}


def heard(classifier: SpeakerClassifier, clips: list[np.ndarray], speaker: str) -> dict:
    """The share of clips the classifier assigns to `speaker`, and where they went."""
    predicted = classifier.predict_waves(np.stack(clips))
    return {
        "share": float(np.mean(predicted == speaker)),
        "assigned": dict(Counter(predicted.astype(str).tolist()).most_common()),
    }


def measure_identity(
    synth: Synthesizer,
    classifier: SpeakerClassifier,
    data: Path,
    speakers: list[str],
    takes: int,
    blur_bins: float = 3.0,
) -> dict:
    """Per speaker and rendition, how often the classifier hears the speaker."""
    settings = Settings()
    report: dict = {"takes": f"0-{takes - 1}", "blur_bins": blur_bins, "speakers": {}}
    for speaker in speakers:
        clips: dict[str, list[np.ndarray]] = {name: [] for name in RENDITIONS}
        for digit in range(10):
            for take in range(takes):
                path = data / "recordings" / f"{digit}_{speaker}_{take}.wav"
                if not path.is_file():
                    continue
                made = renditions(synth, load_waveform(path, synth.contract), settings, blur_bins)
                for name, wave in made.items():
                    clips[name].append(wave)
        if clips["real"]:
            report["speakers"][speaker] = {
                "clips": len(clips["real"]),
                **{name: heard(classifier, waves, speaker) for name, waves in clips.items()},
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
