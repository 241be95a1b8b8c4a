"""Command line: `python -m training COMMAND ...` (fit, latents, voices, samples, classifier,
evaluate, compare, fetch, espeak, unseen, adversarial, harmonics)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

from app.contract import Contract
from training.config import TrainConfig

BAND_HELP = (
    "drop content above this frequency (the contract's band_hz); default: the data's own "
    "bandwidth (half its lowest sample rate: 4000 for FSDD); 0 = the full band"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
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
    fit.add_argument("--split", choices=["stratified", "speaker"], default=TrainConfig.split)
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
    fit.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    fit.add_argument(
        "--band-hz",
        type=float,
        default=None,
        help=BAND_HELP,
    )
    fit.add_argument(
        "--augment",
        type=int,
        default=0,
        help="augmented copies of each training clip (training/augment.py); val/test stay real",
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
        choices=["fsdd", "audiomnist"],
        action="append",
        default=[],
        help="layout of --extra-data: one for all of them, or one each (default fsdd)",
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
    judge.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)
    judge.add_argument(
        "--band-hz",
        type=float,
        default=None,
        help=BAND_HELP,
    )
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
    evaluate.add_argument("--cache-dir", type=Path, default=TrainConfig.cache_dir)

    compare = commands.add_parser("compare", help="write the comparison table of bundles")
    compare.add_argument("bundles", type=Path, nargs="+")
    compare.add_argument("--out", type=Path, default=Path("docs/results.md"))

    fetch = commands.add_parser("fetch", help="download a public data set (needs network)")
    fetch.add_argument("dataset", choices=["audiomnist", "fsdd"])
    fetch.add_argument("--dest", type=Path, default=Path("data"))

    # Voices no model heard (issue 15): training/espeak.py and training/unseen.py.
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
    # Adversarial fine-tuning of a cvae's decoder (issue 14): training/adversarial.py.
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


def _adversarial(args: argparse.Namespace) -> None:
    import json

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.command == "harmonics":
        from training.harmonic_eval import compare

        rows = compare(args.bundles, args.data, args.judge, args.cache_dir, args.picture)
        print(json.dumps(rows, indent=1))
        return
    from training.adversarial import AdversarialConfig, run

    config = AdversarialConfig(lambda_adv=args.lambda_adv, lambda_fm=args.lambda_fm,
                               rec_weight=args.rec_weight, minutes=args.minutes)  # fmt: skip
    print(json.dumps(run(args.bundle, args.weights, args.data, args.out, config,
                         args.cache_dir), indent=1))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    if args.command in ("adversarial", "harmonics"):
        _adversarial(args)
        return
    if args.command == "fetch":
        from training.fetch import fetch

        print(fetch(args.dataset, args.dest))
        return
    if args.command == "espeak":
        from training.espeak import make_set

        print(make_set(args.dest, args.group, args.force))
        return
    if args.command == "unseen":
        from training.unseen import run

        run(args.bundle, args.fsdd, args.espeak, args.judge, args.write, args.takes,
            args.cache_dir)  # fmt: skip
        return
    if args.command == "samples":
        from app.config import Settings
        from training.samples import write_samples

        defaults = Settings()
        write_samples(args.bundle, args.out, defaults.temperature, defaults.sharpen)
        return
    if args.command == "voices":
        from training.voices import refit_bundle as refit_voices

        refit_voices(args.bundle, args.data, args.cache_dir)
        return
    if args.command == "latents":
        from training.latents import refit_bundle

        refit_bundle(args.bundle, args.data, args.components, args.cache_dir)
        return
    if args.command == "classifier":
        _classifier(args)
        return
    if args.command == "evaluate":
        from training.evaluate import EvalConfig, evaluate_bundle

        given = {
            "gl_iters": args.gl_iters,
            "temperature": args.temperature,
            "sharpen": args.sharpen,
        }
        overrides = {k: v for k, v in given.items() if v is not None}
        evaluate_bundle(
            EvalConfig(
                bundle=args.bundle,
                **overrides,
                data=args.data,
                layout=args.layout,
                judge=args.judge,
                per_digit=args.per_digit,
                seed=args.seed,
                variants=args.variants,
                report=not args.no_report,
                reports=args.reports,
                cache_dir=args.cache_dir,
                espeak=None if args.no_espeak else args.espeak,
            )
        )
        return
    if args.command == "compare":
        from training.comparison import write_comparison

        print(write_comparison(args.bundles, args.out))
        return
    from training.models import DEFAULT_WIDTHS

    layouts = args.extra_layout or ["fsdd"]
    if len(layouts) not in (1, len(args.extra_data)):
        raise SystemExit("--extra-layout: give one for all --extra-data, or one for each")
    config = TrainConfig(
        data=args.data,
        layout=args.layout,
        out=args.out,
        model=args.model,
        latent_dim=args.latent_dim,
        widths=tuple(args.widths or DEFAULT_WIDTHS[args.model]),
        epochs=args.epochs,
        minutes=args.minutes,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        beta=args.beta,
        kl_warmup=args.kl_warmup,
        latent_components=args.latent_components,
        judge=args.judge,
        seed=args.seed,
        split=args.split,
        test_speakers=tuple(args.test_speakers),
        length_filter=not args.no_length_filter,
        cache_dir=args.cache_dir,
        augment=args.augment,
        extra_data=tuple(
            (path, layouts[i if len(layouts) > 1 else 0]) for i, path in enumerate(args.extra_data)
        ),
        contract=_contract(args),
    )
    from training.export import export_bundle
    from training.fit import fit

    result = fit(config)
    meta = export_bundle(result, config)
    losses = meta.training["losses"]
    print(
        f"{config.out}: loss train {losses['train']:.2f}, val {losses['val']:.2f}, "
        f"test {losses['test']:.2f} (best epoch {result.best_epoch}, {result.seconds:.0f} s)"
    )


def _contract(args: argparse.Namespace) -> Contract:
    """The study's contract, band-limited to --band-hz (default: the data's bandwidth)."""
    from training.data import data_band_hz, list_clips

    contract = Contract()
    if args.band_hz is None:
        band = data_band_hz(list_clips(args.data, args.layout), contract)
    else:
        band = args.band_hz or None
    return replace(contract, band_hz=band)


def _classifier(args: argparse.Namespace) -> None:
    from training.classifier import JudgeConfig, export_classifier, train_classifier

    config = JudgeConfig(
        data=args.data,
        layout=args.layout,
        out=args.out,
        test_speakers=tuple(args.test_speakers),
        epochs=args.epochs,
        seed=args.seed,
        norm=args.norm,
        frontend=args.frontend,
        warp=args.warp,
        stretch=args.stretch,
        cache_dir=args.cache_dir,
        augment=args.augment,
        extra_data=tuple((path, "fsdd") for path in args.extra_data),
        contract=_contract(args),
    )
    model, facts = train_classifier(config)
    path = export_classifier(model, facts, config)
    accuracy = facts["accuracy"]
    print(
        f"{path}: accuracy train {accuracy['train']:.3f}, val {accuracy['val']:.3f}, "
        f"held-out speakers {config.test_speakers} {accuracy['test']:.3f}"
    )


if __name__ == "__main__":
    main()
