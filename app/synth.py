"""Synthesis: the bundle's ONNX sessions plus the feature contract's inverse.

All methods are CPU-bound and synchronous; the web layer runs them off the event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.bundle import DECODER_FILE, ENCODER_FILE, BundleError, BundleMeta, read_meta
from app.contract import (
    Contract,
    image_to_magnitude,
    magnitude_to_waveform,
    peak_normalise,
    waveform_to_features,
)

log = logging.getLogger(__name__)


class InputError(ValueError):
    """The client's audio cannot be used (silent, not finite, ...); maps to a 4xx."""


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise BundleError(f"{path}: not a loadable ONNX model ({exc})") from exc


def _check_shape(path: Path, what: str, actual: list, expected: tuple[int, ...]) -> None:
    """Compare an ONNX tensor shape with the contract's, ignoring the dynamic batch axis."""
    fixed = tuple(actual[1:])
    if len(actual) != len(expected) + 1 or fixed != expected:
        raise BundleError(f"{path}: {what} has shape {actual}, the contract needs [N, {expected}]")


def _latent_scale(cov: list[list[float]]) -> np.ndarray:
    """A matrix square root of a covariance (eigen-decomposition: safe when singular)."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    return (vectors * np.sqrt(np.clip(values, 0.0, None))).astype(np.float32)


class Synthesizer:
    """Loads and verifies one bundle; generates and reconstructs waveforms."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        self.folder = folder
        self.meta: BundleMeta = read_meta(folder)
        self.contract: Contract = self.meta.contract_params()
        self.latent_dim = self.meta.model.latent_dim
        self.decoder = _session(folder / DECODER_FILE, threads)
        self.encoder = _session(folder / ENCODER_FILE, threads)
        self._verify_shapes()
        self._latent = {
            int(d): (np.asarray(g.mean, dtype=np.float32), _latent_scale(g.cov))
            for d, g in self.meta.latent.items()
        }

    @property
    def model_id(self) -> str:
        return f"{self.meta.name}@{self.meta.files[DECODER_FILE].sha256[:12]}"

    def _verify_shapes(self) -> None:
        image, latent = self.contract.image_shape, (self.latent_dim,)
        dec_in, dec_out = self.decoder.get_inputs()[0], self.decoder.get_outputs()[0]
        _check_shape(self.folder / DECODER_FILE, "input", dec_in.shape, latent)
        _check_shape(self.folder / DECODER_FILE, "output", dec_out.shape, image)
        enc_in = self.encoder.get_inputs()[0]
        _check_shape(self.folder / ENCODER_FILE, "input", enc_in.shape, image)
        for output in self.encoder.get_outputs():
            _check_shape(self.folder / ENCODER_FILE, f"output {output.name}", output.shape, latent)

    def warm_up(self) -> None:
        """Run every path once so the first request does not pay for lazy initialisation."""
        self.generate(0, seed=0, gl_iters=2)

    def decode(self, z: np.ndarray) -> np.ndarray:
        (image,) = self.decoder.run(None, {self.decoder.get_inputs()[0].name: z})
        return image

    def encode(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z_mean, z_log_var = self.encoder.run(None, {self.encoder.get_inputs()[0].name: image})
        return z_mean, z_log_var

    def sample_latent(self, digit: int, rng: np.random.Generator, temperature: float) -> np.ndarray:
        """z from the digit's Gaussian of training encodings; temperature scales its spread."""
        mean, scale = self._latent[digit]
        eps = rng.standard_normal(self.latent_dim).astype(np.float32)
        return (mean + temperature * scale @ eps)[None, :]

    def generate(
        self, digit: int, seed: int, temperature: float = 1.0, gl_iters: int = 32
    ) -> np.ndarray:
        """A new clip of `digit`: sample, decode, un-scale, invert. Same seed, same samples."""
        rng = np.random.default_rng(seed)
        image = self.decode(self.sample_latent(digit, rng, temperature))[0]
        scale = self.meta.scaling[str(digit)]
        magnitude = image_to_magnitude(image, scale.db_min, scale.db_max)
        waveform = magnitude_to_waveform(magnitude, self.contract, n_iter=gl_iters, rng=rng)
        return peak_normalise(waveform)

    def reconstruct(
        self, waveform: np.ndarray, phase: str = "griffinlim", seed: int = 0, gl_iters: int = 32
    ) -> np.ndarray:
        """The model's rendition of a mono clip at the contract's rate (deterministic: z_mean)."""
        if not np.all(np.isfinite(waveform)):
            raise InputError("audio contains NaN or infinite samples")
        features = waveform_to_features(waveform, self.contract)
        if features.db_max == features.db_min:
            raise InputError("audio is silent: there is nothing to reconstruct")
        z_mean, _ = self.encode(features.image[None])
        image = self.decode(z_mean)[0]
        magnitude = image_to_magnitude(image, features.db_min, features.db_max)
        original = features.phase if phase == "original" else None
        rng = np.random.default_rng(seed)
        result = magnitude_to_waveform(magnitude, self.contract, original, gl_iters, rng)
        return peak_normalise(result)
