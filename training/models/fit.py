"""Fit a VAE: load features, filter and split as the study did, train, keep the best epoch."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from training.data.dataset import (
    Dataset,
    Split,
    length_filter,
    list_clips,
    load_dataset,
    speaker_split,
    stratified_split,
    take_split,
)
from training.data.widen import Widening, added_training
from training.models.architectures import BUILDERS, VAE, KLWarmUp, one_hot
from training.models.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    vae: VAE
    data: Dataset  # after the length filter: the real clips, which the latent mixtures,
    split: Split  # voices and scaling are fitted to (the training split only)
    history: dict[str, list[float]]
    best_epoch: int
    losses: dict[str, float]  # train / val / test ELBO, evaluated with the best weights
    seconds: float = 0.0  # wall-clock training time
    added: dict = field(default_factory=dict)  # extra and augmented training clips (facts)


class TimeBudget(keras.callbacks.Callback):
    """Stops training before an epoch that would overrun `minutes` of wall-clock time, so
    models of very different cost can be compared at the same budget."""

    def __init__(self, minutes: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds, self.clock = 60 * minutes, clock
        self.started = self.epoch_started = self.longest = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = self.epoch_started = self.clock()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_started = self.clock()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = self.clock()
        self.longest = max(self.longest, now - self.epoch_started)
        if now - self.started + self.longest > self.seconds:
            log.info("time budget: stopping after epoch %d", epoch + 1)
            self.model.stop_training = True


def split_data(data: Dataset, config: TrainConfig) -> Split:
    if config.split == "speaker":
        return speaker_split(
            data.speakers, data.digits, list(config.test_speakers), seed=config.seed
        )
    if config.split == "stratified":
        return stratified_split(data.digits, seed=config.seed)
    if config.split == "takes":
        return take_split(data.takes, data.digits, config.test_takes, seed=config.seed)
    raise ValueError(f"unknown split {config.split!r}")


def fit(config: TrainConfig) -> FitResult:
    keras.utils.set_random_seed(config.seed)
    data = load_dataset(config.data, config.layout, config.contract, config.cache_dir)
    clips = list_clips(config.data, config.layout)  # the order load_dataset featurised them
    keep = length_filter(data.lengths) if config.length_filter else np.ones(len(data), bool)
    data, clips = data.subset(keep), [clips[i] for i in np.flatnonzero(keep)]
    split = split_data(data, config)
    log.info("clips: %d train, %d val, %d test", *map(len, (split.train, split.val, split.test)))
    added, facts = added_training(
        [clips[i] for i in split.train],
        {c.path.name for c in clips},
        Widening(config.extra_data, config.augment, config.augment_config, config.seed),
        config.contract,
        config.cache_dir,
        config.test_speakers,
        config.length_filter,
    )
    if added is not None:
        log.info("training also on %d extra and augmented clips", len(added))

    vae = BUILDERS[config.model](
        config.contract.image_shape,
        config.latent_dim,
        config.widths,
        seed=config.seed,
        beta=config.beta,
    )

    def inputs(images: np.ndarray, digits: np.ndarray):
        """Model inputs: images, plus the digits one-hot for a conditional VAE."""
        return (images, one_hot(digits)) if vae.conditional else images

    x_train, x_val, x_test = (
        inputs(data.images[i], data.digits[i]) for i in (split.train, split.val, split.test)
    )
    y_train, y_val, y_test = (data.images[i] for i in (split.train, split.val, split.test))
    # What the weights see: the real training clips and the added ones; x_train stays real.
    seen = data.subset(split.train)
    if added is not None:
        seen = Dataset.concat([seen, added])
    x_fit, y_fit = inputs(seen.images, seen.digits), seen.images
    vae.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    checkpoint = config.run_dir / config.name / "best.weights.h5"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        # The ELBO (beta 1) picks the best epoch, so a KL warm-up cannot favour early epochs.
        keras.callbacks.ModelCheckpoint(
            checkpoint,
            monitor="val_elbo",
            mode="min",
            save_best_only=True,
            save_weights_only=True,
        )
    ]
    if config.kl_warmup > 0:
        callbacks.append(KLWarmUp(config.beta, config.kl_warmup))
    if config.minutes is not None:
        callbacks.append(TimeBudget(config.minutes))
    started = time.monotonic()
    history = vae.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=1
        if sys.stdout.isatty()
        else 2,  # a progress bar on a terminal, a line per epoch in logs
    ).history
    seconds = time.monotonic() - started
    vae.load_weights(checkpoint)
    best_epoch = int(np.argmin(history["val_elbo"])) + 1

    def loss_on(x, y: np.ndarray) -> float:
        scores = vae.evaluate(x, y, batch_size=config.batch_size, verbose=0, return_dict=True)
        return float(scores["elbo"])

    losses = {
        "train": loss_on(x_train, y_train),  # the real training clips, comparable across runs
        "val": loss_on(x_val, y_val),
        "test": loss_on(x_test, y_test),
    }
    log.info("best epoch %d; loss train %.2f, val %.2f, test %.2f", best_epoch, *losses.values())
    history = {k: [float(v) for v in values] for k, values in history.items()}
    return FitResult(vae, data, split, history, best_epoch, losses, seconds, facts)
