"""Reconstruction of held-out speakers through the service's /reconstruct code
(`Synthesizer.reconstruct`): how close the model's envelope is to the original (LSD, SC,
before and after inversion), whether the digit survives (the judge), and whether the voice
does (voicing with each source: the vocoder, the upload's own phase, Griffin-Lim)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.audio.contract import image_to_magnitude, unscale
from app.synthesis.synthesizer import GRIFFIN_LIM, Synthesizer
from training.data.dataset import Dataset
from training.evaluation.metrics import Judge, features, level_align, log_spectral_distance
from training.evaluation.metrics import spectral_convergence as sc
from training.evaluation.naturalness import naturalness, voicing_of


@dataclass(frozen=True)
class ReconstructAt:
    """The /reconstruct parameters the figures are measured at (the service's defaults)."""

    seed: int
    gl_iters: int
    sharpen: float


def vae_renditions(synth: Synthesizer, real: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The model's decodings of real clips' images, batched, before any inversion: (decoded
    images, un-scaled magnitudes). A conditional model gets the digit from the bundle's
    classifier, as the service does when the client names none."""
    digits = list(synth.classify(real.images).argmax(axis=1)) if synth.conditional else None
    z_mean, _ = synth.encode(real.images, digits)
    own = synth.embeddings(real.images) if synth.speaker_encoder is not None else None
    decoded = synth.decode(z_mean, digits, own)
    lo, hi = real.db_min[:, None, None], real.db_max[:, None, None]
    return decoded, image_to_magnitude(decoded, lo, hi)


def reconstructions(
    synth: Synthesizer,
    waves: np.ndarray,
    phase: str,
    settings: ReconstructAt,
    digits: np.ndarray | None = None,
) -> np.ndarray:
    """Each clip through `Synthesizer.reconstruct`, the service's /reconstruct; with
    `digits`, each clip's digit given (else the bundle's classifier infers it)."""
    given = [None] * len(waves) if digits is None else [int(d) for d in digits]
    return np.stack(
        [synth.reconstruct(w, phase, settings.seed, settings.gl_iters, d, settings.sharpen)
         for w, d in zip(waves, given, strict=True)]
    )  # fmt: skip


def measure_reconstruction(
    synth: Synthesizer,
    judge: Judge,
    real: Dataset,
    real_waves: np.ndarray,
    rec_waves: np.ndarray,
    settings: ReconstructAt,
    few: np.ndarray,
    mos_clips: int,
) -> tuple[dict, dict, np.ndarray]:
    """(the `reconstruction` figures, the reconstructions' naturalness on clips `few`, the
    reconstructions' dB images for the second opinion). `rec_waves`: `real_waves` through
    the default /reconstruct, `reconstructions(synth, real_waves, "vocoder", settings)`,
    made by the caller so that training/evaluation/unseen.py can measure the same renditions."""
    real_logits, _ = judge(real.images)
    real_mag = image_to_magnitude(real.images, real.db_min[:, None, None],
                                  real.db_max[:, None, None])  # fmt: skip
    real_db = unscale(real.images, real.db_min[:, None, None], real.db_max[:, None, None])
    decoded, vae_mag = vae_renditions(synth, real)
    vae_db = unscale(decoded, real.db_min[:, None, None], real.db_max[:, None, None])
    rec_images, rec_db = features(rec_waves, synth.contract)
    rec_logits, _ = judge(rec_images)
    rec_mag = 10.0 ** (rec_db / 20.0)
    accuracy = float(np.mean(rec_logits.argmax(axis=1) == real.digits))
    figures = {
        "accuracy": accuracy,
        "accuracy_ratio": accuracy / float(np.mean(real_logits.argmax(axis=1) == real.digits)),
        "vae_lsd": float(log_spectral_distance(real_db, vae_db).mean()),
        "vae_sc": float(sc(real_mag, vae_mag).mean()),
        "inverted_lsd": float(log_spectral_distance(real_db, rec_db).mean()),
        "inverted_sc": float(sc(real_mag, level_align(real_mag, rec_mag)).mean()),
    }
    sr = synth.contract.sample_rate
    voiced = {
        "vocoder": naturalness(list(rec_waves[few]), sr, mos_clips),
        "original_phase": voicing_of(
            list(reconstructions(synth, real_waves[few], "original", settings)), sr
        ),
        "griffinlim": voicing_of(
            list(reconstructions(synth, real_waves[few], GRIFFIN_LIM, settings)), sr
        ),
    }
    return figures, voiced, rec_db
