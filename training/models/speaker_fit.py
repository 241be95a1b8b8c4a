"""Train the speaker-conditioned VAE (training/models/speaker_model.py) on FSDD plus the
many-speaker set's training split, and export it as a bundle:

    python -m training.models.speaker_fit --fsdd ../shared/data/fsdd \\
        --many ../shared/data/speech-commands-digits --out models/speaker --minutes 40

What it trains on: FSDD's takes 5-49 of every speaker but the held-out ones (theo), minus a
digit-stratified 10 % kept for validation (the best epoch), and every trimmed clip of the
many-speaker set's training split (never its 28 held-out speakers). FSDD's takes 0-4 and
theo stay unseen for evaluation.

The bundle: encoder.onnx (image, digit) -> z_mean, z_log_var; decoder.onnx (z, digit,
speaker) -> image; speaker.onnx image -> embedding; bundle.json with per-digit latent
mixtures pooled over all speakers, and a voice library: each voice a speaker's mean
embedding (re-normalised), median pitch, id, name and description.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from pathlib import Path

import numpy as np

from app.audio.contract import Contract
from app.synthesis.bundle import (
    CLASSIFIER_FILE,
    DECODER_FILE,
    DIGITS,
    ENCODER_FILE,
    SPEAKER_FILE,
    BundleMeta,
    DigitScale,
    ModelInfo,
    file_entry,
    write_meta,
)
from training.data.dataset import Dataset, length_filter, load_dataset
from training.data.speech_commands import load_trimmed
from training.models.speaker_losses import bundle_test_loss, split_losses
from training.models.speaker_voices import (
    choose_voice_speakers,
    make_voices,
    pooled_gaussians,
)

log = logging.getLogger(__name__)

FSDD_CREDIT = (
    "Trained on the Free Spoken Digit Dataset (Zohar Jackson et al.), CC BY-SA 4.0, "
    "https://github.com/Jakobovski/free-spoken-digit-dataset; and on Speech Commands digits "
    "(Warden, P., Speech Commands: A public dataset for single-word speech recognition, "
    "2017/2018), CC BY 4.0."
)


def assemble(
    fsdd: Path,
    many: Path | None,
    contract: Contract,
    cache_dir: Path,
    held_out: tuple[str, ...] = ("theo",),
    test_takes: int = 5,
    seed: int = 42,
):
    """(train, val): FSDD takes >= test_takes of the non-held-out speakers, 10 % of them
    (digit-stratified) for validation; plus the many-speaker training split (trimmed)."""
    from sklearn.model_selection import train_test_split

    data = load_dataset(fsdd, "fsdd", contract, cache_dir)
    data = data.subset(length_filter(data.lengths))
    pool = np.flatnonzero(~np.isin(data.speakers, list(held_out)) & (data.takes >= test_takes))
    train, val = train_test_split(pool, test_size=0.1, stratify=data.digits[pool],
                                  random_state=seed)  # fmt: skip
    parts = [data.subset(np.sort(train))]
    if many is not None:
        parts.append(load_trimmed(many, contract, "train", cache_dir))
    return Dataset.concat(parts), data.subset(np.sort(val))


def run(args: argparse.Namespace) -> dict:
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already running in this process (tests): keep its
        log.warning("TensorFlow threads already set; --threads ignored")
    keras.utils.set_random_seed(args.seed)
    from training.models.export import to_onnx
    from training.models.latents import fit_mixtures
    from training.models.speaker_training import train
    from training.models.speaker_vae import SpeakerModelConfig, band_rows, build
    from training.models.voices import fit_vocoder

    contract = Contract(band_hz=args.band_hz or None)
    train_data, val_data = assemble(args.fsdd, args.many, contract, args.cache_dir,
                                    tuple(args.held_out), seed=args.seed)  # fmt: skip
    log.info("training on %d clips of %d speakers; val %d", len(train_data),
             len(set(train_data.speakers.tolist())), len(val_data))  # fmt: skip
    config = SpeakerModelConfig(
        latent_dim=args.latent_dim, embedding_dim=args.embedding_dim, beta=args.beta,
        gamma=args.gamma, epochs=args.epochs, minutes=args.minutes, seed=args.seed,
        decoder_widths=tuple(args.decoder_widths), batch_size=args.batch_size,
        band_rows=None if contract.band_hz is None else band_rows(contract.band_bins, 8),
        adversary=args.adversary,
    )  # fmt: skip
    names = np.unique(train_data.speakers)
    model = build(contract.image_shape, len(names), config)
    if args.init is not None:  # start from saved weights (with --epochs 0: export only)
        for m in (model.encoder, model.speaker_encoder, model.decoder):
            m.load_weights(f"{args.init}.{m.name}.weights.h5")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    run_dir = args.run_dir / out.name
    run_dir.mkdir(parents=True, exist_ok=True)
    result = train(model, train_data.images, train_data.digits, train_data.speakers,
                   (val_data.images, val_data.digits, val_data.speakers),
                   checkpoint=str(run_dir / "best"))  # fmt: skip

    # Export the three networks.
    shape = contract.image_shape
    to_onnx(model.encoder, {"image": shape, "digit": (10,)}, out / ENCODER_FILE)
    to_onnx(model.decoder, {"z": (config.latent_dim,), "digit": (10,),
                            "speaker": (config.embedding_dim,)}, out / DECODER_FILE)  # fmt: skip
    to_onnx(model.speaker_encoder, {"image": shape}, out / SPEAKER_FILE)

    # Encodings, embeddings and reconstructions of the training clips.
    one_hot = np.eye(10, dtype=np.float32)[train_data.digits]
    z, _ = model.encoder.predict((train_data.images, one_hot), batch_size=128, verbose=0)
    emb = model.speaker_encoder.predict(train_data.images, batch_size=128, verbose=0)
    decoded = model.decoder.predict((z, one_hot, emb), batch_size=128, verbose=0)
    z, emb, decoded = np.asarray(z), np.asarray(emb), np.asarray(decoded)
    # The per-digit prior /generate samples z from: every training clip's encoding, or
    # FSDD's only (--prior fsdd: studio-clean words; the crowd-sourced clips are noisy and
    # say mostly 0, 1, 5 and 8); identity comes from the voice's embedding either way.
    prior = (
        np.ones(len(z), bool)
        if args.prior == "all"
        else ~np.char.startswith(train_data.speakers.astype(str), "sc")
    )
    pooled = pooled_gaussians(z[prior], train_data.digits[prior])
    speakers = choose_voice_speakers(train_data, args.voices)
    voices, voice_clips = make_voices(train_data, emb, pooled, speakers)
    (out / "voice_clips.json").write_text(json.dumps(voice_clips, indent=1))
    scaling = {str(d): DigitScale(db_min=float(train_data.db_min[train_data.digits == d].mean()),
                                  db_max=float(train_data.db_max[train_data.digits == d].mean()))
               for d in DIGITS}  # fmt: skip
    files = [ENCODER_FILE, DECODER_FILE, SPEAKER_FILE]
    classifier = None
    if args.classifier is not None:  # the digit classifier /reconstruct and made voices use
        from training.models.classifier import JUDGE_FILE, logits_only, read_judge

        judge = read_judge(args.classifier)
        logits_only(args.classifier / JUDGE_FILE, out / CLASSIFIER_FILE)
        files.append(CLASSIFIER_FILE)
        classifier = {
            "from": args.classifier.as_posix(),
            "sha256": judge["sha256"],
            "recipe": judge.get("recipe"),
            "test_accuracy": judge["accuracy"]["test"],
        }
    meta = BundleMeta(
        name=out.name,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        model=ModelInfo(
            kind="svae",
            conditional=True,
            latent_dim=config.latent_dim,
            parameters=model.count_params(),
            config={
                "embedding_dim": config.embedding_dim,
                "beta": config.beta,
                "gamma": config.gamma,
                "adversary": config.adversary,
                "encoder_widths": list(config.encoder_widths),
                "speaker_widths": list(config.speaker_widths),
                "decoder_widths": list(config.decoder_widths),
                "latent_components": args.latent_components,
                "prior": args.prior,
            },
        ),  # fmt: skip
        contract=contract.to_dict(),
        scaling=scaling,
        latent=fit_mixtures(z[prior], train_data.digits[prior], args.latent_components),
        voices=voices,
        vocoder=fit_vocoder(train_data, decoded, seed=args.seed),
        training={
            "dataset": "fsdd+speechcommands",
            "data_path": str(args.fsdd),
            "extra_data": [
                {
                    "path": str(args.many),
                    "layout": "speechcommands",
                    "split": "train",
                    "trim_db": 30,
                }
            ]
            if args.many
            else [],
            "split": "takes",
            "test_takes": 5,
            "test_speakers": list(args.held_out),
            "clips": {"train": len(train_data), "val": len(val_data)},
            "speakers": len(names),
            "epochs": config.epochs,
            "epochs_run": len(result["history"]["loss"]),
            "best_epoch": result["best_epoch"],
            "minutes_budget": config.minutes,
            "seconds": result["seconds"],
            "seed": args.seed,
            "threads": args.threads,
            "history": result["history"],
            "classifier": classifier,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        },  # fmt: skip
        files={name: file_entry(out / name) for name in files},
        data_credit=FSDD_CREDIT,
    )
    write_meta(out, meta)  # the networks' ELBO on FSDD's test takes needs the bundle written
    test = load_dataset(args.fsdd, "fsdd", contract, args.cache_dir)
    test = test.subset(np.flatnonzero(test.takes < 5))
    loss = bundle_test_loss(out, test.images, test.digits, test.speakers)
    meta.training["losses"] = split_losses(result["history"], result["best_epoch"], loss)
    write_meta(out, meta)
    log.info("bundle written to %s (%d voices)", out, len(voices))
    return {"best_epoch": result["best_epoch"], "seconds": result["seconds"]}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.models.speaker_fit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--fsdd", type=Path, default=Path("../shared/data/fsdd"))
    p.add_argument(
        "--many",
        type=Path,
        default=Path("../shared/data/speech-commands-digits"),
        help="the many-speaker set (its split.json's training speakers); '' = none",
    )
    p.add_argument("--out", type=Path, default=Path("models/speaker"))
    p.add_argument("--held-out", nargs="*", default=["theo"])
    p.add_argument("--latent-dim", type=int, default=32)
    p.add_argument("--embedding-dim", type=int, default=64)
    p.add_argument("--decoder-widths", type=int, nargs="+", default=[32, 64, 128])
    p.add_argument("--beta", type=float, default=0.3)
    p.add_argument("--gamma", type=float, default=20.0)
    p.add_argument(
        "--adversary",
        type=float,
        default=0.0,
        help="weight of the speaker adversary on z (gradient reversal); 0 = none",
    )
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--minutes", type=float, default=40.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-components", type=int, default=3)
    p.add_argument("--voices", type=int, default=24)
    p.add_argument("--band-hz", type=float, default=4000.0)
    p.add_argument(
        "--classifier",
        type=Path,
        default=Path("models/digits"),
        help="judge folder whose digit classifier ships in the bundle ('' = none)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--prior",
        choices=["all", "fsdd"],
        default="all",
        help="clips whose encodings make the per-digit latent prior",
    )
    p.add_argument(
        "--init", type=str, default=None, help="checkpoint prefix (RUN_DIR/NAME/best) to start from"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache-dir", type=Path, default=Path(".cache/features"))
    p.add_argument("--run-dir", type=Path, default=Path("runs"))
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    args = build_parser().parse_args(argv)
    if args.many is not None and str(args.many) in ("", "."):
        args.many = None
    if args.classifier is not None and str(args.classifier) in ("", "."):
        args.classifier = None
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
