"""Command line: `python -m training fit ...` and `python -m training fetch ...`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from training.config import TrainConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="train a VAE and export it as a bundle")
    fit.add_argument("--data", type=Path, required=True, help="data set root folder")
    fit.add_argument("--layout", choices=["fsdd", "audiomnist"], default="fsdd")
    fit.add_argument("--out", type=Path, default=TrainConfig.out, help="bundle folder to write")
    fit.add_argument("--model", choices=["mlp"], default=TrainConfig.model)
    fit.add_argument("--latent-dim", type=int, default=TrainConfig.latent_dim)
    fit.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=list(TrainConfig.widths),
        help="hidden layer widths, encoder order (decoder mirrors them)",
    )
    fit.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    fit.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    fit.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
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

    fetch = commands.add_parser("fetch", help="download a public data set (needs network)")
    fetch.add_argument("dataset", choices=["audiomnist", "fsdd"])
    fetch.add_argument("--dest", type=Path, default=Path("data"))
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    if args.command == "fetch":
        from training.fetch import fetch

        print(fetch(args.dataset, args.dest))
        return
    config = TrainConfig(
        data=args.data,
        layout=args.layout,
        out=args.out,
        model=args.model,
        latent_dim=args.latent_dim,
        widths=tuple(args.widths),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        split=args.split,
        test_speakers=tuple(args.test_speakers),
        length_filter=not args.no_length_filter,
        cache_dir=args.cache_dir,
    )
    from training.export import export_bundle
    from training.fit import fit

    result = fit(config)
    meta = export_bundle(result, config)
    losses = meta.training["losses"]
    print(
        f"{config.out}: loss train {losses['train']:.2f}, val {losses['val']:.2f}, "
        f"test {losses['test']:.2f} (best epoch {result.best_epoch})"
    )


if __name__ == "__main__":
    main()
