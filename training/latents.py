"""Ex-post latent density: where the trained encoder actually puts each digit.

A VAE's encodings do not fill its N(0, I) prior (some dimensions are wider than 1, a
conditional model still shifts digits apart), so sampling the prior decodes many latents
the decoder never learned. Fitting a small Gaussian mixture per digit to the training
encodings (z_mean) and sampling that instead is the "ex-post density estimation" of
Ghosh et al. (2020, "From Variational to Deterministic Autoencoders"); on FSDD it lifts
the judge's accuracy on generated digits a lot (docs/results.md).

    python -m training latents models/default --data ../shared/data/fsdd

refits a bundle's mixtures from its ONNX encoder, without retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture

from app.bundle import DIGITS, LatentGaussian, read_meta, write_meta
from app.synth import Synthesizer
from training.config import TrainConfig
from training.data import length_filter, load_dataset
from training.fit import split_data

log = logging.getLogger(__name__)


def fit_mixtures(
    z: np.ndarray, digits: np.ndarray, components: int, seed: int = 0
) -> dict[str, list[LatentGaussian]]:
    """Per digit, a full-covariance Gaussian mixture of its encodings z [N, latent]."""
    stats = {}
    for digit in DIGITS:
        points = z[digits == digit].astype(np.float64)
        k = max(1, min(components, len(points) // (2 * z.shape[1])))  # enough points each
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-5, random_state=seed)
        gmm.fit(points)
        stats[str(digit)] = [
            LatentGaussian(weight=float(w), mean=m.tolist(), cov=c.tolist())
            for w, m, c in zip(gmm.weights_, gmm.means_, gmm.covariances_, strict=True)
        ]
    return stats


def refit_bundle(
    bundle: Path, data: Path, components: int, cache_dir: Path = TrainConfig.cache_dir
) -> None:
    """Re-encode the bundle's own training split with its ONNX encoder and store new mixtures
    in bundle.json (the ONNX files, and so their hashes, are unchanged)."""
    meta = read_meta(bundle)
    facts = meta.training
    config = TrainConfig(
        data=data,
        layout=facts.get("dataset", "fsdd"),
        split=facts.get("split", "stratified"),
        test_speakers=tuple(facts.get("test_speakers") or ()),
        seed=facts.get("seed", TrainConfig.seed),
        contract=meta.contract_params(),
        cache_dir=cache_dir,
    )
    dataset = load_dataset(config.data, config.layout, config.contract, config.cache_dir)
    dataset = dataset.subset(length_filter(dataset.lengths))
    train = split_data(dataset, config).train
    if len(train) != facts.get("clips", {}).get("train", len(train)):
        raise RuntimeError(f"{data}: not the data {bundle} was trained on (split sizes differ)")
    synth = Synthesizer(bundle, threads=2)
    images, digits = dataset.images[train], dataset.digits[train]
    z = np.concatenate(
        [
            synth.encode(images[i : i + 256], digits[i : i + 256].tolist())[0]
            for i in range(0, len(train), 256)
        ]
    )
    meta.latent = fit_mixtures(z, digits, components, seed=config.seed)
    meta.model.config["latent_components"] = components
    write_meta(bundle, meta)
    log.info("%s: %d-component latent mixtures refitted on %d clips", bundle, components, len(z))
