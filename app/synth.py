"""Synthesis: the bundle's ONNX sessions plus the feature contract's inverse.

All methods are CPU-bound and synchronous; the web layer runs them off the event loop.

Bundle interface the service relies on (see app/bundle.py):
- decoder.onnx  input "z" [N, latent] (+ "digit" [N, 10] one-hot, if conditional)
                -> image [N, bins, frames] in [0, 1]
- encoder.onnx  input "image" [N, bins, frames] (+ "digit" [N, 10], if conditional)
                -> z_mean, z_log_var [N, latent]
- classifier.onnx (optional) input "image" -> logits [N, 10]; a conditional model uses it
                to infer the digit of an upload when the client does not name one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.bundle import (
    CLASSIFIER_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    BundleError,
    BundleMeta,
    LatentGaussian,
    read_meta,
)
from app.contract import (
    Contract,
    image_to_magnitude,
    magnitude_to_waveform,
    peak_normalise,
    waveform_to_features,
)
from app.postfilter import sharpen as sharpen_frames

log = logging.getLogger(__name__)

N_DIGITS = 10


class InputError(ValueError):
    """The client's audio cannot be used (silent, not finite, ...); maps to a 4xx."""


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise BundleError(f"{path}: not a loadable ONNX model ({exc})") from exc


def _check_shape(path: Path, what: str, actual: list, expected: tuple[int, ...]) -> None:
    """Compare an ONNX tensor shape with the contract's, ignoring the dynamic batch axis."""
    if len(actual) != len(expected) + 1 or tuple(actual[1:]) != expected:
        raise BundleError(f"{path}: {what} has shape {actual}, the contract needs [N, {expected}]")


def _latent_scale(cov: list[list[float]]) -> np.ndarray:
    """A matrix square root of a covariance (eigen-decomposition: safe when singular)."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    return (vectors * np.sqrt(np.clip(values, 0.0, None))).astype(np.float32)


class _Mixture:
    """A digit's latent mixture as arrays: weights [K], means [K, D], scales [K, D, D]."""

    def __init__(self, components: list[LatentGaussian]) -> None:
        weights = np.array([c.weight for c in components], dtype=np.float64)
        self.cumulative = np.cumsum(weights / weights.sum())
        self.means = np.stack([np.asarray(c.mean, dtype=np.float32) for c in components])
        self.scales = np.stack([_latent_scale(c.cov) for c in components])

    def pick(self, u: float) -> int:
        """The component a uniform draw u in [0, 1) falls into."""
        return min(int(np.searchsorted(self.cumulative, u, side="right")), len(self.means) - 1)


def one_hot(digits: list[int] | np.ndarray) -> np.ndarray:
    return np.eye(N_DIGITS, dtype=np.float32)[np.asarray(digits, dtype=np.int64)]


def trim_silence(
    y: np.ndarray, top_db: float = 40.0, frame: int = 512, hop: int = 128
) -> np.ndarray:
    """Drop leading and trailing frames quieter than `top_db` below the clip's loudest."""
    if len(y) < frame:
        return y
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -top_db)
    return y[loud[0] * hop : min(len(y), loud[-1] * hop + frame)]


def _digit_seed(seed: int, index: int) -> int:
    """The seed of a sequence's digit `index`: the request's seed for the first, then 64 bits
    from NumPy's SeedSequence spawned for (seed, index), independent of the other digits."""
    if index == 0:
        return seed
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(2, np.uint32)
    return int(state[0]) | int(state[1]) << 32


class Synthesizer:
    """Loads and verifies one bundle; generates and reconstructs waveforms."""

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
        self.decoder = _session(folder / DECODER_FILE, threads)
        self.encoder = _session(folder / ENCODER_FILE, threads)
        has_classifier = CLASSIFIER_FILE in self.meta.files
        self.classifier = _session(folder / CLASSIFIER_FILE, threads) if has_classifier else None
        self._verify_shapes()
        self._latent = {int(d): _Mixture(m) for d, m in self.meta.latent.items()}

    @property
    def model_id(self) -> str:
        return f"{self.meta.name}@{self.meta.files[DECODER_FILE].sha256[:12]}"

    def _verify_shapes(self) -> None:
        image, latent = self.contract.image_shape, (self.latent_dim,)
        decoder, encoder = self.folder / DECODER_FILE, self.folder / ENCODER_FILE
        _check_shape(decoder, "input z", self.decoder.get_inputs()[0].shape, latent)
        _check_shape(decoder, "output", self.decoder.get_outputs()[0].shape, image)
        _check_shape(encoder, "input image", self.encoder.get_inputs()[0].shape, image)
        for output in self.encoder.get_outputs():
            _check_shape(encoder, f"output {output.name}", output.shape, latent)
        if self.conditional:
            for path, session in ((decoder, self.decoder), (encoder, self.encoder)):
                inputs = session.get_inputs()
                if len(inputs) != 2:
                    raise BundleError(f"{path}: a conditional model needs a 'digit' input")
                _check_shape(path, "input digit", inputs[1].shape, (N_DIGITS,))
        if self.classifier is not None:
            path = self.folder / CLASSIFIER_FILE
            _check_shape(path, "input", self.classifier.get_inputs()[0].shape, image)
            _check_shape(path, "output", self.classifier.get_outputs()[0].shape, (N_DIGITS,))

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe(name, time.perf_counter() - start)

    def warm_up(self) -> None:
        """Run every path once so the first request does not pay for lazy initialisation."""
        self.generate([0], seed=0, gl_iters=2)
        silence_free = np.sin(np.linspace(0, 400, self.contract.clip_samples)).astype(np.float32)
        self.reconstruct(silence_free, gl_iters=2, digit=0 if self.conditional else None)

    def _feed(self, session: ort.InferenceSession, first: np.ndarray, digits) -> dict:
        inputs = session.get_inputs()
        feed = {inputs[0].name: first}
        if self.conditional:
            feed[inputs[1].name] = one_hot(digits)
        return feed

    def decode(self, z: np.ndarray, digits: list[int] | None = None) -> np.ndarray:
        with self._stage("decode"):
            (images,) = self.decoder.run(None, self._feed(self.decoder, z, digits))
        return images

    def encode(self, images: np.ndarray, digits: list[int] | None = None):
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

    def generate_magnitudes(
        self, digits: list[int], rng: np.random.Generator, temperature: float = 1.0
    ) -> np.ndarray:
        """Sample, decode and un-scale: linear magnitudes [N, bins, frames]."""
        images = self.decode(self.sample_latents(digits, rng, temperature), digits)
        scales = [self.meta.scaling[str(d)] for d in digits]
        db_min = np.array([s.db_min for s in scales], np.float32)[:, None, None]
        db_max = np.array([s.db_max for s in scales], np.float32)[:, None, None]
        return image_to_magnitude(images, db_min, db_max)

    def invert(
        self,
        magnitudes: np.ndarray,
        gl_iters: int,
        rng: np.random.Generator,
        sharpen: float = 1.0,
        phase: np.ndarray | None = None,
    ) -> np.ndarray:
        """VAE magnitudes [..., bins, frames] -> waveforms: the post-filter, then Griffin-Lim
        (or the given phase). Every path to audio goes through here."""
        with self._stage("inversion"):
            target = sharpen_frames(magnitudes, sharpen)
            return magnitude_to_waveform(target, self.contract, phase, gl_iters, rng)

    def generate(
        self,
        digits: list[int],
        seed: int,
        temperature: float = 1.0,
        gl_iters: int = 32,
        sharpen: float = 1.0,
    ) -> np.ndarray:
        """New clips [N, clip_samples], one per digit, decoded, post-filtered (`sharpen`,
        app/postfilter.py) and inverted as one batch. The same digits and seed give the
        same samples."""
        rng = np.random.default_rng(seed)
        magnitudes = self.generate_magnitudes(digits, rng, temperature)
        waveforms = self.invert(magnitudes, gl_iters, rng, sharpen)
        return np.stack([peak_normalise(w) for w in waveforms])

    def speak_chunks(
        self,
        digits: list[int],
        seed: int,
        temperature: float = 1.0,
        gl_iters: int = 32,
        gap_ms: float = 80.0,
        sharpen: float = 1.0,
    ) -> Iterator[np.ndarray]:
        """The waveform of `speak`, in order, as float32 pieces made one digit at a time:
        a single digit is the contract's full clip; a sequence is each digit trimmed of its
        silence, with a `gap_ms` silence piece between digits. Lazy: a consumer that stops
        early (a client that hung up) spends no CPU on the digits after.

        Digit i uses its own seed, derived from (seed, i) alone and equal to `seed` for the
        first, so a number's digits do not depend on the digits after them and a one-digit
        request gives what `generate` gives."""
        gap = np.zeros(int(round(gap_ms * self.contract.sample_rate / 1000)), np.float32)
        for i, digit in enumerate(digits):
            clip = self.generate([digit], _digit_seed(seed, i), temperature, gl_iters, sharpen)[0]
            if len(digits) == 1:
                yield clip
                return
            if i:
                yield gap
            yield trim_silence(clip)

    def speak(
        self,
        digits: list[int],
        seed: int,
        temperature: float = 1.0,
        gl_iters: int = 32,
        gap_ms: float = 80.0,
        sharpen: float = 1.0,
    ) -> np.ndarray:
        """One waveform: a single digit as the contract's full clip, or a sequence read out
        like a number (each digit trimmed of silence, joined by `gap_ms` of silence). The
        concatenation of `speak_chunks`, so streamed and whole responses hold the same audio."""
        pieces = self.speak_chunks(digits, seed, temperature, gl_iters, gap_ms, sharpen)
        return np.concatenate(list(pieces))

    def reconstruct(
        self,
        waveform: np.ndarray,
        phase: str = "griffinlim",
        seed: int = 0,
        gl_iters: int = 32,
        digit: int | None = None,
        sharpen: float = 1.0,
    ) -> np.ndarray:
        """The model's rendition of a mono clip at the contract's rate (deterministic: z_mean),
        post-filtered like generated clips. A conditional model needs the digit: given, or
        inferred by the bundle's classifier."""
        if not np.all(np.isfinite(waveform)):
            raise InputError("audio contains NaN or infinite samples")
        with self._stage("features"):
            features = waveform_to_features(waveform, self.contract)
        if features.db_max == features.db_min:
            raise InputError("audio is silent: there is nothing to reconstruct")
        image = features.image[None]
        digits = None
        if self.conditional:
            if digit is None and self.classifier is None:
                raise InputError("this model is digit-conditional: say which digit (digit=0-9)")
            digits = [int(self.classify(image).argmax()) if digit is None else digit]
        z_mean, _ = self.encode(image, digits)
        decoded = self.decode(z_mean, digits)[0]
        magnitude = image_to_magnitude(decoded, features.db_min, features.db_max)
        original = features.phase if phase == "original" else None
        rng = np.random.default_rng(seed)
        return peak_normalise(self.invert(magnitude, gl_iters, rng, sharpen, original))
