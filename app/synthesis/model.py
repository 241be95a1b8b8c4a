"""One bundle's model, loaded and verified: its encoder, decoder and optional classifier run
on ONNX Runtime (app/synthesis/sessions.py), latents drawn from its per-digit mixtures, and decoded
images un-scaled with its per-digit dB ranges. Synthesis builds on it
(app/synthesis/synthesizer.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.audio.contract import Contract, image_to_magnitude
from app.synthesis.bundle import DECODER_FILE, BundleMeta, read_meta
from app.synthesis.sessions import N_DIGITS, load_sessions, load_speaker
from app.synthesis.voices import Mixture, unit


def one_hot(digits: list[int] | np.ndarray) -> np.ndarray:
    return np.eye(N_DIGITS, dtype=np.float32)[np.asarray(digits, dtype=np.int64)]


class BundleModel:
    """Loads and verifies one bundle and runs its networks; `observe` gets stage timings."""

    def __init__(
        self,
        folder: Path,
        threads: int = 1,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.folder = folder
        self.observe = observe or (lambda stage, seconds: None)  # stage timings, e.g. metrics
        self.meta: BundleMeta = read_meta(folder)
        self.contract: Contract = self.meta.contract_params()
        self.latent_dim = self.meta.model.latent_dim
        self.conditional = self.meta.model.conditional
        self.decoder, self.encoder, self.classifier = load_sessions(folder, self.meta, threads)
        # Who speaks, for a speaker-conditioned bundle: image -> embedding (else None).
        self.speaker_encoder = load_speaker(folder, self.meta, threads)
        # The decoder's "speaker" input (name and size), looked up once: decode is the hot path.
        speaking = self.speaker_encoder is not None
        self._speaker_input = self.decoder.get_inputs()[2] if speaking else None
        self._latent = {int(d): Mixture(m) for d, m in self.meta.latent.items()}

    @property
    def model_id(self) -> str:
        return f"{self.meta.name}@{self.meta.files[DECODER_FILE].sha256[:12]}"

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe(name, time.perf_counter() - start)

    def _feed(self, session: ort.InferenceSession, first: np.ndarray, digits) -> dict:
        inputs = session.get_inputs()
        feed = {inputs[0].name: first}
        if self.conditional:
            feed[inputs[1].name] = one_hot(digits)
        return feed

    def decode(
        self, z: np.ndarray, digits: list[int] | None = None, speaker: np.ndarray | None = None
    ) -> np.ndarray:
        """Latents [N, latent] (and, if conditional, their digits; with a speaker encoder,
        speaker embeddings [N, E] or one [E] for all) -> images [N, bins, frames] in [0, 1]."""
        feed = self._feed(self.decoder, z, digits)
        if self._speaker_input is not None:
            if speaker is None:
                raise ValueError("a speaker-conditioned model decodes in a voice: no embedding")
            size = self._speaker_input.shape[-1]
            feed[self._speaker_input.name] = np.broadcast_to(
                np.asarray(speaker, np.float32), (len(z), size)
            ).copy()
        with self._stage("decode"):
            (images,) = self.decoder.run(None, feed)
        return images

    def embeddings(self, images: np.ndarray) -> np.ndarray:
        """Who speaks in each of images [N, bins, frames]: speaker embeddings [N, E], each
        at unit length (the decoder learned on unit embeddings)."""
        with self._stage("speaker"):
            (e,) = self.speaker_encoder.run(None, {self.speaker_encoder.get_inputs()[0].name:
                                                   images.astype(np.float32)})  # fmt: skip
        return (e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)).astype(np.float32)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """One voice from images [N, bins, frames] of one speaker: their embeddings' mean
        [E], at unit length."""
        return unit(self.embeddings(images).mean(axis=0))

    def encode(
        self, images: np.ndarray, digits: list[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Images [N, bins, frames] (and, if conditional, their digits) -> (z_mean,
        z_log_var), each [N, latent]."""
        with self._stage("encode"):
            z_mean, z_log_var = self.encoder.run(None, self._feed(self.encoder, images, digits))
        return z_mean, z_log_var

    def classify(self, images: np.ndarray) -> np.ndarray:
        """Digit logits [N, 10] from the bundle's classifier."""
        if self.classifier is None:
            raise RuntimeError("this bundle has no classifier")
        (logits,) = self.classifier.run(None, {self.classifier.get_inputs()[0].name: images})
        return logits

    def sample_latents(
        self, digits: list[int], rng: np.random.Generator, temperature: float
    ) -> np.ndarray:
        """z for each digit, from the mixture fitted to that digit's training encodings:
        a component by weight, then its Gaussian with the spread scaled by temperature
        (0 = the component's mean). A conditional bundle without one samples N(0, I)."""
        eps = rng.standard_normal((len(digits), self.latent_dim)).astype(np.float32)
        if not self._latent:
            return temperature * eps
        mixtures = [self._latent[d] for d in digits]
        picks = [m.pick(u) for m, u in zip(mixtures, rng.random(len(digits)), strict=True)]
        means = np.stack([m.means[k] for m, k in zip(mixtures, picks, strict=True)])
        scales = np.stack([m.scales[k] for m, k in zip(mixtures, picks, strict=True)])
        return (means + temperature * np.einsum("nij,nj->ni", scales, eps)).astype(np.float32)

    def unscale(self, images: np.ndarray, digits: list[int]) -> np.ndarray:
        """Decoded [0, 1] images [N, bins, frames] -> linear magnitudes, with each digit's
        dB range from the bundle."""
        scales = [self.meta.scaling[str(d)] for d in digits]
        db_min = np.array([s.db_min for s in scales], np.float32)[:, None, None]
        db_max = np.array([s.db_max for s in scales], np.float32)[:, None, None]
        return image_to_magnitude(images, db_min, db_max)
