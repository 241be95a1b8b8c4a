"""Command line: `python -m training COMMAND ...` (fit, latents, voices, samples, classifier,
evaluate, compare, fetch, espeak, unseen, adversarial, harmonics)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from app.audio.contract import Contract
from training.cli import build_parser as _parser
from training.models.config import TrainConfig


def _adversarial(args: argparse.Namespace) -> None:
    import json

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.command == "harmonics":
        from training.evaluation.harmonic_eval import compare

        rows = compare(args.bundles, args.data, args.judge, args.cache_dir, args.picture)
        print(json.dumps(rows, indent=1))
        return
    from training.models.adversarial import AdversarialConfig, run

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
        from training.data.fetch import fetch

        print(fetch(args.dataset, args.dest))
        return
    if args.command == "espeak":
        from training.data.espeak import make_set

        print(make_set(args.dest, args.group, args.force))
        return
    if args.command == "unseen":
        from training.evaluation.unseen import run

        run(args.bundle, args.fsdd, args.espeak, args.judge, args.write, args.takes,
            args.cache_dir)  # fmt: skip
        return
    if args.command == "samples":
        from app.core.config import Settings
        from training.evaluation.samples import write_samples

        defaults = Settings()
        write_samples(args.bundle, args.out, defaults.temperature, defaults.sharpen)
        return
    if args.command == "voices":
        from training.models.voices import refit_bundle as refit_voices

        refit_voices(args.bundle, args.data, args.cache_dir)
        return
    if args.command == "latents":
        from training.models.latents import refit_bundle

        refit_bundle(args.bundle, args.data, args.components, args.cache_dir)
        return
    if args.command == "classifier":
        _classifier(args)
        return
    if args.command == "evaluate":
        from training.evaluation.evaluate import EvalConfig, evaluate_bundle

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
                many=None if args.no_many else args.many,
            )
        )
        return
    if args.command == "compare":
        from training.evaluation.comparison import write_comparison

        print(write_comparison(args.bundles, args.out))
        return
    from training.models.architectures import DEFAULT_WIDTHS

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
        test_takes=args.test_takes,
        length_filter=not args.no_length_filter,
        cache_dir=args.cache_dir,
        augment=args.augment,
        extra_data=tuple(
            (path, layouts[i if len(layouts) > 1 else 0]) for i, path in enumerate(args.extra_data)
        ),
        contract=_contract(args),
    )
    from training.models.export import export_bundle
    from training.models.fit import fit

    result = fit(config)
    meta = export_bundle(result, config)
    losses = meta.training["losses"]
    print(
        f"{config.out}: loss train {losses['train']:.2f}, val {losses['val']:.2f}, "
        f"test {losses['test']:.2f} (best epoch {result.best_epoch}, {result.seconds:.0f} s)"
    )


def _contract(args: argparse.Namespace) -> Contract:
    """The study's contract, band-limited to --band-hz (default: the data's bandwidth)."""
    from training.data.dataset import data_band_hz, list_clips

    contract = Contract()
    if args.band_hz is None:
        band = data_band_hz(list_clips(args.data, args.layout), contract)
    else:
        band = args.band_hz or None
    return replace(contract, band_hz=band)


def _classifier(args: argparse.Namespace) -> None:
    from training.models.classifier import JudgeConfig, export_classifier, train_classifier

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
