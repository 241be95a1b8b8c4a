"""What the evaluation measures on spectrograms and recogniser outputs: the judge, its
scores (accuracy, inception score, Frechet distance, spread) and spectral distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from scipy import linalg

from app.audio.contract import Contract, unscale, waveform_to_features
from training.models.classifier import JUDGE_FILE, read_judge


class Judge:
    """The committed classifier: logits and penultimate-layer embedding of [0, 1] images."""

    def __init__(self, folder: Path) -> None:
        self.meta = read_judge(folder)
        self.session = ort.InferenceSession(
            str(folder / JUDGE_FILE), providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
        outs = [
            self.session.run(None, {"image": images[i : i + batch]})
            for i in range(0, len(images), batch)
        ]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def inception_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))): 1 for one class or uniform guesses, 10 at best."""
    p = np.clip(probs, 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of embeddings [N, D]."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))


def spread(embeddings: np.ndarray) -> float:
    """Mean distance to the centroid: how varied a set of clips is (0 = one sound)."""
    return float(np.mean(np.linalg.norm(embeddings - embeddings.mean(axis=0), axis=1)))


def log_spectral_distance(db_ref: np.ndarray, db: np.ndarray) -> np.ndarray:
    """Per clip: mean over frames of the RMS over bins of the dB difference [..., bins, frames]."""
    return np.mean(np.sqrt(np.mean((db_ref - db) ** 2, axis=-2)), axis=-1)


def spectral_convergence(mag_ref: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Per clip: ||ref - mag||_F / ||ref||_F over [..., bins, frames]."""
    return np.linalg.norm(mag_ref - mag, axis=(-2, -1)) / np.linalg.norm(mag_ref, axis=(-2, -1))


def level_align(ref: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Scale each clip of `mag` to the Frobenius norm of `ref`'s: a waveform's features keep
    no absolute level (dB re the clip's max), so inverted clips are compared level-free."""
    norm = np.linalg.norm(mag, axis=(-2, -1), keepdims=True)
    return mag * np.linalg.norm(ref, axis=(-2, -1), keepdims=True) / np.maximum(norm, 1e-12)


def features(waveforms: np.ndarray, contract: Contract) -> tuple[np.ndarray, np.ndarray]:
    """Contract images [N, bins, frames] and dB images of waveforms (the service's features)."""
    feats = [waveform_to_features(w, contract) for w in waveforms]
    images = np.stack([f.image for f in feats])
    db = np.stack([unscale(f.image, f.db_min, f.db_max) for f in feats])
    return images, db
