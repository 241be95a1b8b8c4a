"""The per-split losses a bundle records (bundle.json `training.losses`), for the
speaker-conditioned VAE: train and validation as training last reported them at the best
epoch, and test (clips it never trained on) computed here through the exported ONNX
networks, as the service runs them. ELBO per clip: pixels x binary cross-entropy + KL,
each clip rebuilt in the embedding of another clip of its speaker, as in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.synthesis.model import BundleModel
from training.models.speaker_training import reference_pairs

EPS = 1e-7  # Keras's clip for binary cross-entropy


def elbo(model: BundleModel, images: np.ndarray, digits: np.ndarray, speakers: np.ndarray,
         seed: int = 0, batch: int = 128) -> float:  # fmt: skip
    """Mean ELBO per clip of images [N, bins, frames] with their digits and speakers."""
    refs = reference_pairs(speakers, np.random.default_rng(seed))
    totals = []
    for i in range(0, len(images), batch):
        part = slice(i, i + batch)
        x, d = images[part].astype(np.float32), digits[part].tolist()
        z_mean, z_log_var = model.encode(x, d)
        speaker = model.embeddings(images[refs[part]])
        y = np.clip(model.decode(z_mean, d, speaker), EPS, 1 - EPS)
        bce = -(x * np.log(y) + (1 - x) * np.log(1 - y)).sum(axis=(1, 2))
        kl = -0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var)).sum(axis=1)
        totals.append(bce + kl)
    return float(np.concatenate(totals).mean())


def split_losses(history: dict, best_epoch: int, test: float) -> dict[str, float]:
    """{"train", "val", "test"}: training's own figures at the best epoch, and `test`."""
    at = best_epoch - 1
    train = history["reconstruction"][at] + history["kl"][at]
    return {"train": float(train), "val": float(history["val_elbo"][at]), "test": test}


def bundle_test_loss(bundle: Path, images: np.ndarray, digits: np.ndarray,
                     speakers: np.ndarray) -> float:  # fmt: skip
    return elbo(BundleModel(bundle, threads=2), images, digits, speakers)
