"""The command line's arguments: one sub-parser per `python -m training` command
(training/__main__.py runs them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from training.models.config import TrainConfig

DESCRIPTION = (
    "fit, latents, voices, samples, classifier, evaluate, compare, fetch, espeak, unseen, "
    "adversarial, harmonics: see docs/measurements.md"
)
BAND_HELP = (
    "drop content above this frequency (the contract's band_hz); default: the data's own "
    "bandwidth (half its lowest sample rate: 4000 for FSDD); 0 = the full band"
)


def feature_options(command: argparse.ArgumentParser) -> None:
    """Where features are cached, and the band they keep (the contract's band_hz)."""
    command.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    command.add_argument("--band-hz", type=float, default=None, help=BAND_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="train a VAE and export it as a bundle")
    fit.add_argument("--data", type=Path, required=True, help="data set root folder")
    fit.add_argument("--layout", choices=["fsdd", "audiomnist"], default="fsdd")
    fit.add_argument("--out", type=Path, default=TrainConfig.out, help="bundle folder to write")
    fit.add_argument("--model", choices=["mlp", "conv", "cvae"], default=TrainConfig.model)
    fit.add_argument("--latent-dim", type=int, default=TrainConfig.latent_dim)
    fit.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=None,
        help="hidden widths, encoder order (decoder mirrors them): dense units for mlp "
        "(default 1024 512 256), filters per stride-2 convolution for conv/cvae (16 32 64)",
    )
    fit.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    fit.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="wall-clock training budget: stop before an epoch that would overrun it "
        "(--epochs stays the cap)",
    )
    fit.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    fit.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
    fit.add_argument("--beta", type=float, default=TrainConfig.beta, help="KL weight")
    fit.add_argument("--kl-warmup", type=int, default=0, help="epochs over which beta rises from 0")
    fit.add_argument(
        "--latent-components",
        type=int,
        default=TrainConfig.latent_components,
        help="Gaussians per digit fitted to the training encodings; /generate samples them",
    )
    fit.add_argument(
        "--judge", type=Path, default=None, help="judge folder: ship its classifier in the bundle"
    )
    fit.add_argument("--seed", type=int, default=TrainConfig.seed)
    fit.add_argument(
        "--split", choices=["stratified", "speaker", "takes"], default=TrainConfig.split
    )
    fit.add_argument(
        "--test-takes",
        type=int,
        default=TrainConfig.test_takes,
        help="with --split takes: every speaker's takes below this are test (FSDD's: 5)",
    )
    fit.add_argument(
        "--test-speakers",
        nargs="*",
        default=[],
        help="speakers held out for test with --split speaker",
    )
    fit.add_argument(
        "--no-length-filter",
        action="store_true",
        help="keep every clip instead of the study's 1st-97th percentile filter",
    )
    feature_options(fit)
    fit.add_argument(
        "--augment",
        type=int,
        default=0,
        help="augmented copies of each training clip (training/data/augment.py); "
        "val/test stay real",
    )
    fit.add_argument(
        "--extra-data",
        type=Path,
        action="append",
        default=[],
        help="another data set root whose clips are added to training only (repeatable)",
    )
    fit.add_argument(
        "--extra-layout",
        choices=["fsdd", "audiomnist", "speechcommands"],
        action="append",
        default=[],
        help="layout of --extra-data: one for all of them, or one each (default fsdd); "
        "speechcommands = FSDD's layout, each clip trimmed at 30 dB, split.json's "
        "training speakers only",
    )

    latents = commands.add_parser(
        "latents", help="refit a bundle's per-digit latent mixtures from its encoder"
    )
    latents.add_argument("bundle", type=Path)
    latents.add_argument("--data", type=Path, required=True, help="the data it was trained on")
    latents.add_argument("--components", type=int, default=TrainConfig.latent_components)
    latents.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)

    voices = commands.add_parser(
        "voices", help="refit a bundle's voices and source-filter vocoder models from its data"
    )
    voices.add_argument("bundle", type=Path)
    voices.add_argument("--data", type=Path, required=True, help="the data it was trained on")
    voices.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)

    samples = commands.add_parser("samples", help="write the README's listening samples")
    samples.add_argument("bundle", type=Path)
    samples.add_argument("--out", type=Path, default=Path("docs/samples"))

    judge = commands.add_parser("classifier", help="train and export the judge classifier")
    judge.add_argument("--data", type=Path, required=True)
    judge.add_argument("--layout", choices=["fsdd", "audiomnist"], default="fsdd")
    judge.add_argument("--out", type=Path, default=Path("models/judge"))
    judge.add_argument("--test-speakers", nargs="+", default=["theo"])
    judge.add_argument("--epochs", type=int, default=25)
    judge.add_argument("--seed", type=int, default=7)
    judge.add_argument("--norm", choices=["none", "cmn", "cmvn"], default="none")
    judge.add_argument("--frontend", choices=["linear", "mel"], default="mel")
    judge.add_argument("--warp", type=float, default=0.1, help="frequency warp +-")
    judge.add_argument("--stretch", type=float, default=0.15, help="time +-")
    judge.add_argument(
        "--extra-data", type=Path, action="append", default=[],
        help="another FSDD-layout data set whose clips are added to training only (repeatable)",
    )  # fmt: skip
    feature_options(judge)
    judge.add_argument(
        "--augment", type=int, default=0, help="waveform-augmented copies of each training clip"
    )

    evaluate = commands.add_parser("evaluate", help="measure a bundle with the judge")
    evaluate.add_argument("bundle", type=Path)
    evaluate.add_argument("--data", type=Path, default=Path("../shared/data/fsdd"))
    evaluate.add_argument("--layout", choices=["fsdd", "audiomnist"], default="fsdd")
    evaluate.add_argument("--judge", type=Path, default=Path("models/judge"))
    evaluate.add_argument("--per-digit", type=int, default=100, help="generated clips per digit")
    evaluate.add_argument(
        "--gl-iters", type=int, default=None, help="default: the service's (AUDIOVAE_GL_ITERS)"
    )
    evaluate.add_argument("--temperature", type=float, default=None, help="default: the service's")
    evaluate.add_argument(
        "--sharpen", type=float, default=None, help="post-filter power; default: the service's"
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--variants", action="store_true", help="also measure inversions")
    evaluate.add_argument("--no-report", action="store_true")
    evaluate.add_argument(
        "--espeak", type=Path, default=Path(".cache/espeak"), help="espeak-ng EVAL_VOICES folder"
    )
    evaluate.add_argument(
        "--no-espeak", action="store_true", help="unseen voices: the held-out speakers only"
    )
    evaluate.add_argument("--reports", type=Path, default=Path("reports"))
    evaluate.add_argument(
        "--many",
        type=Path,
        default=Path("../shared/data/speech-commands-digits"),
        help="the many-speaker set: its held-out speakers for the independent measurements",
    )
    evaluate.add_argument("--no-many", action="store_true", help="theo only")
    evaluate.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)

    compare = commands.add_parser("compare", help="write the comparison table of bundles")
    compare.add_argument("bundles", type=Path, nargs="+")
    compare.add_argument("--out", type=Path, default=Path("docs/results.md"))

    fetch = commands.add_parser("fetch", help="download a public data set (needs network)")
    fetch.add_argument("dataset", choices=["audiomnist", "fsdd"])
    fetch.add_argument("--dest", type=Path, default=Path("data"))

    # Voices no model heard (issue 15): training/data/espeak.py and training/evaluation/unseen.py.
    espeak = commands.add_parser("espeak", help="make the espeak-ng synthetic-voice digit set")
    espeak.add_argument("--dest", type=Path, default=Path(".cache/espeak"))
    espeak.add_argument("--group", choices=["eval", "train", "all"], default="all")
    espeak.add_argument("--force", action="store_true", help="remake clips already there")
    unseen = commands.add_parser("unseen", help="measure /reconstruct on held-out voices")
    unseen.add_argument("bundle", type=Path)
    unseen.add_argument("--fsdd", type=Path, default=Path("../shared/data/fsdd"))
    unseen.add_argument("--espeak", type=Path, default=Path(".cache/espeak"))
    unseen.add_argument("--judge", type=Path, default=Path("models/judge"))
    unseen.add_argument("--takes", type=int, default=None, help="only takes below this")
    unseen.add_argument("--write", action="store_true", help="into evaluation.unseen_voices")
    unseen.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    # Adversarial fine-tuning of a cvae's decoder (issue 14): training/models/adversarial.py.
    adv = commands.add_parser("adversarial", help="fine-tune a cvae bundle's decoder with a GAN")
    adv.add_argument("bundle", type=Path, help="the base bundle (copied, never written)")
    adv.add_argument("--weights", type=Path, required=True, help="its fit's best.weights.h5")
    adv.add_argument("--data", type=Path, default=Path("../shared/data/fsdd"))
    adv.add_argument("--out", type=Path, required=True, help="the fine-tuned bundle's folder")
    adv.add_argument("--minutes", type=float, default=9.0, help="training loop wall clock")
    adv.add_argument("--lambda-adv", type=float, default=0.1)
    adv.add_argument("--lambda-fm", type=float, default=10.0)
    adv.add_argument("--rec-weight", type=float, default=0.01, help="x the VAE's BCE sum")
    adv.add_argument("--threads", type=int, default=1, help="TensorFlow threads")
    adv.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    harmonics = commands.add_parser("harmonics", help="measure harmonics, judge, voicing, MOS")
    harmonics.add_argument("bundles", type=Path, nargs="+")
    harmonics.add_argument("--data", type=Path, default=Path("../shared/data/fsdd"))
    harmonics.add_argument("--judge", type=Path, default=Path("models/judge"))
    harmonics.add_argument("--picture", type=Path, default=None, help="PNG of decoded images")
    harmonics.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    harmonics.add_argument("--threads", type=int, default=1, help="TensorFlow threads")
    return parser
