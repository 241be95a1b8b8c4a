"""Fit a VAE: load features, filter and split as the study did, train, keep the best epoch."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import keras
import numpy as np

from training.config import TrainConfig
from training.data import (
    Dataset,
    Split,
    length_filter,
    load_dataset,
    speaker_split,
    stratified_split,
)
from training.models import BUILDERS, VAE

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    vae: VAE
    data: Dataset  # after the length filter
    split: Split
    history: dict[str, list[float]]
    best_epoch: int
    losses: dict[str, float]  # train / val / test, evaluated with the best weights


def split_data(data: Dataset, config: TrainConfig) -> Split:
    if config.split == "speaker":
        return speaker_split(
            data.speakers, data.digits, list(config.test_speakers), seed=config.seed
        )
    if config.split == "stratified":
        return stratified_split(data.digits, seed=config.seed)
    raise ValueError(f"unknown split {config.split!r}")


def fit(config: TrainConfig) -> FitResult:
    keras.utils.set_random_seed(config.seed)
    data = load_dataset(config.data, config.layout, config.contract, config.cache_dir)
    if config.length_filter:
        data = data.subset(length_filter(data.lengths))
    split = split_data(data, config)
    x_train, x_val, x_test = (data.images[i] for i in (split.train, split.val, split.test))
    log.info("clips: %d train, %d val, %d test", len(x_train), len(x_val), len(x_test))

    vae = BUILDERS[config.model](
        config.contract.image_shape, config.latent_dim, config.widths, seed=config.seed
    )
    vae.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    checkpoint = config.run_dir / config.name / "best.weights.h5"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            checkpoint, monitor="val_loss", save_best_only=True, save_weights_only=True
        )
    ]
    history = vae.fit(
        x_train,
        x_train,
        validation_data=(x_val, x_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=1
        if sys.stdout.isatty()
        else 2,  # a progress bar on a terminal, a line per epoch in logs
    ).history
    vae.load_weights(checkpoint)
    best_epoch = int(np.argmin(history["val_loss"])) + 1

    def loss_on(x: np.ndarray) -> float:
        return float(
            vae.evaluate(x, x, batch_size=config.batch_size, verbose=0, return_dict=True)["loss"]
        )

    losses = {"train": loss_on(x_train), "val": loss_on(x_val), "test": loss_on(x_test)}
    log.info("best epoch %d; loss train %.2f, val %.2f, test %.2f", best_epoch, *losses.values())
    history = {k: [float(v) for v in values] for k, values in history.items()}
    return FitResult(vae, data, split, history, best_epoch, losses)
