"""Export a trained VAE to a bundle folder: encoder.onnx, decoder.onnx, bundle.json."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import tf2onnx

from app.synthesis.bundle import (
    CLASSIFIER_FILE,
    DECODER_FILE,
    DIGITS,
    ENCODER_FILE,
    BundleMeta,
    DigitScale,
    ModelInfo,
    file_entry,
    write_meta,
)
from training.data.dataset import Dataset
from training.models.architectures import N_DIGITS, one_hot
from training.models.classifier import JUDGE_FILE, logits_only, read_judge
from training.models.config import TrainConfig
from training.models.fit import FitResult
from training.models.latents import fit_mixtures
from training.models.voices import fit_vocoder, fit_voices

log = logging.getLogger(__name__)

OPSET = 17
FSDD_CREDIT = (
    "Trained on the Free Spoken Digit Dataset (Zohar Jackson et al.), CC BY-SA 4.0: "
    "https://github.com/Jakobovski/free-spoken-digit-dataset"
)
AUDIOMNIST_CREDIT = (
    "Trained on AudioMNIST (Becker et al.), MIT licence: https://github.com/soerenab/AudioMNIST"
)


def to_onnx(model: keras.Model, inputs: dict[str, tuple[int, ...]], path: Path) -> None:
    """Convert with an explicit signature (input name -> shape without the batch axis):
    batch axis dynamic, everything else fixed."""
    signature = tuple(
        tf.TensorSpec((None, *shape), tf.float32, name=name) for name, shape in inputs.items()
    )
    tf2onnx.convert.from_keras(model, input_signature=signature, opset=OPSET, output_path=str(path))


def training_encodings(result: FitResult) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """The training split, its encodings z_mean and their decodings (the model's own
    reconstructions), from which the latent mixtures, voices and vocoder are fitted."""
    train = result.data.subset(result.split.train)
    vae = result.vae
    digit = one_hot(train.digits)
    z_mean, _ = vae.encoder.predict((train.images, digit) if vae.conditional else train.images,
                                    verbose=0)  # fmt: skip
    z_mean = np.asarray(z_mean)
    decoded = vae.decoder.predict((z_mean, digit) if vae.conditional else z_mean, verbose=0)
    return train, z_mean, np.asarray(decoded)


def scaling_statistics(result: FitResult) -> dict[str, DigitScale]:
    """Per-digit mean (min, max) dB of the training clips, to un-scale generated images."""
    train = result.split.train
    digits = result.data.digits[train]
    return {
        str(d): DigitScale(
            db_min=float(result.data.db_min[train][digits == d].mean()),
            db_max=float(result.data.db_max[train][digits == d].mean()),
        )
        for d in DIGITS
    }


def export_bundle(result: FitResult, config: TrainConfig) -> BundleMeta:
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    contract = config.contract
    conditional = result.vae.conditional
    extra = {"digit": (N_DIGITS,)} if conditional else {}
    to_onnx(result.vae.encoder, {"image": contract.image_shape, **extra}, out / ENCODER_FILE)
    to_onnx(result.vae.decoder, {"z": (config.latent_dim,), **extra}, out / DECODER_FILE)
    files = [ENCODER_FILE, DECODER_FILE]
    judge = None
    if config.judge is not None:
        judge = read_judge(config.judge)
        logits_only(config.judge / JUDGE_FILE, out / CLASSIFIER_FILE)
        files.append(CLASSIFIER_FILE)
    split = result.split
    train, z_mean, decoded = training_encodings(result)
    meta = BundleMeta(
        name=config.name,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        model=ModelInfo(
            kind=config.model,
            conditional=conditional,
            latent_dim=config.latent_dim,
            parameters=int(result.vae.encoder.count_params() + result.vae.decoder.count_params()),
            config={
                "widths": list(config.widths),
                "beta": config.beta,
                "latent_components": config.latent_components,
            },
        ),
        contract=contract.to_dict(),
        scaling=scaling_statistics(result),
        latent=fit_mixtures(z_mean, train.digits, config.latent_components),
        voices=fit_voices(train, z_mean),
        vocoder=fit_vocoder(train, decoded, seed=config.seed),
        training={
            "dataset": config.layout,
            "data_path": str(config.data),
            "split": config.split,
            "test_speakers": list(config.test_speakers),
            "test_takes": config.test_takes if config.split == "takes" else None,
            "clips": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
            # Training only, on top of clips.train; voices, latents and scaling use the real
            # training split alone (so `latents` and `voices` can re-derive it from the data).
            "extra_data": result.added.get("extra_data", []),
            "augment": result.added.get("augment"),
            "epochs": config.epochs,
            "epochs_run": len(result.history["loss"]),
            "minutes_budget": config.minutes,
            "best_epoch": result.best_epoch,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "kl_warmup": config.kl_warmup,
            "seconds": round(result.seconds, 1),
            "seed": config.seed,
            "losses": result.losses,  # ELBO per clip: pixels x BCE + KL
            # The digit classifier shipped with the bundle: which folder, its recipe and its
            # accuracy on the held-out speakers.
            "classifier": None
            if judge is None
            else {
                "from": config.judge.as_posix(),
                "sha256": judge["sha256"],
                "recipe": judge.get("recipe"),
                "test_accuracy": judge["accuracy"]["test"],
            },
            "history": result.history,
            "versions": {
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "tf2onnx": tf2onnx.__version__,
            },
        },
        files={name: file_entry(out / name) for name in files},
        data_credit=FSDD_CREDIT if config.layout == "fsdd" else AUDIOMNIST_CREDIT,
    )
    write_meta(out, meta)
    log.info("bundle written to %s", out)
    return meta
