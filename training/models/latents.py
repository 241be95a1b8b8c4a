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

from app.synthesis.bundle import DIGITS, BundleMeta, LatentGaussian, read_meta, write_meta
from app.synthesis.synthesizer import Synthesizer
from training.data.dataset import Dataset, length_filter, load_dataset
from training.models.config import TrainConfig
from training.models.fit import split_data

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


def training_split(bundle: Path, data: Path, cache_dir: Path) -> tuple[BundleMeta, Dataset]:
    """A bundle's metadata and the features of its own training split, re-derived from the
    data and the split recorded in the bundle (refused if the split sizes differ)."""
    meta = read_meta(bundle)
    facts = meta.training
    config = TrainConfig(
        data=data,
        layout=facts.get("dataset", "fsdd"),
        split=facts.get("split", "stratified"),
        test_speakers=tuple(facts.get("test_speakers") or ()),
        test_takes=facts.get("test_takes") or TrainConfig.test_takes,
        seed=facts.get("seed", TrainConfig.seed),
        contract=meta.contract_params(),
        cache_dir=cache_dir,
    )
    dataset = load_dataset(config.data, config.layout, config.contract, config.cache_dir)
    dataset = dataset.subset(length_filter(dataset.lengths))
    train = split_data(dataset, config).train
    if len(train) != facts.get("clips", {}).get("train", len(train)):
        raise RuntimeError(f"{data}: not the data {bundle} was trained on (split sizes differ)")
    return meta, dataset.subset(train)


def reconstruct_all(synth: Synthesizer, data: Dataset, batch: int = 256):
    """The bundle's encodings z_mean [N, latent] of a data set and their decodings [N, bins,
    frames] (a conditional model is given each clip's true digit)."""
    z, decoded = [], []
    for i in range(0, len(data), batch):
        digits = data.digits[i : i + batch].tolist()
        images = data.images[i : i + batch]
        z.append(synth.encode(images, digits)[0])
        own = synth.embeddings(images) if synth.speaker_encoder is not None else None
        decoded.append(synth.decode(z[-1], digits, own))
    return np.concatenate(z), np.concatenate(decoded)


def refit_bundle(
    bundle: Path, data: Path, components: int, cache_dir: Path = TrainConfig.cache_dir
) -> None:
    """Re-encode the bundle's own training split with its ONNX encoder and store new mixtures
    in bundle.json (the ONNX files, and so their hashes, are unchanged)."""
    meta, train = training_split(bundle, data, cache_dir)
    z, _ = reconstruct_all(Synthesizer(bundle, threads=2), train)
    meta.latent = fit_mixtures(
        z, train.digits, components, seed=meta.training.get("seed", TrainConfig.seed)
    )
    meta.model.config["latent_components"] = components
    write_meta(bundle, meta)
