"""Who speaks, at what pitch, and which frames are voiced: the source's controls.

A voice is a training speaker: per digit, the Gaussian of where the encoder put that
speaker's clips of it, and the pitch of their recordings. A request draws one voice and
one base pitch for all its digits, so a number is read by one person; each digit then
follows its own learned pitch contour around that base. Voicing comes from the generated
frame itself (a logistic regression fitted on the training set), so the model's "s" of
"six" is noise and its vowels are pitched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.synthesis.bundle import DIGITS, LatentGaussian, VocoderSpec, VoiceSpec


def latent_scale(cov: list[list[float]] | np.ndarray) -> np.ndarray:
    """A matrix square root of a covariance (eigen-decomposition: safe when singular)."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    return (vectors * np.sqrt(np.clip(values, 0.0, None))).astype(np.float32)


def unit(vector: list[float] | np.ndarray) -> np.ndarray:
    """A speaker embedding at unit length, as the decoder learned them."""
    v = np.asarray(vector, dtype=np.float32)
    return (v / max(float(np.linalg.norm(v)), 1e-8)).astype(np.float32)


class Mixture:
    """A digit's pooled latent mixture (bundle `latent`) as arrays: weights [K], means
    [K, D], scales [K, D, D]. Sampled for bundles without voices."""

    def __init__(self, components: list[LatentGaussian]) -> None:
        weights = np.array([c.weight for c in components], dtype=np.float64)
        self.cumulative = np.cumsum(weights / weights.sum())
        self.means = np.stack([np.asarray(c.mean, dtype=np.float32) for c in components])
        self.scales = np.stack([latent_scale(c.cov) for c in components])

    def pick(self, u: float) -> int:
        """The component a uniform draw u in [0, 1) falls into."""
        return min(int(np.searchsorted(self.cumulative, u, side="right")), len(self.means) - 1)


@dataclass(frozen=True)
class Voice:
    """A voice's latent Gaussians as arrays: means [10, D], scales [10, D, D]; for a
    speaker-conditioned bundle, its speaker embedding [E] (who speaks), the latents then
    drawn from the pooled per-digit mixtures (what is said)."""

    id: str
    name: str
    f0_hz: float
    f0_spread: float
    means: np.ndarray = field(repr=False)
    scales: np.ndarray = field(repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    description: str = ""
    speaker: str = ""  # the training speaker it was fitted on (empty: its id)

    @classmethod
    def from_spec(cls, spec: VoiceSpec) -> Voice:
        gaussians = [spec.latent[str(d)] for d in DIGITS]
        return cls(
            id=spec.id,
            name=spec.name,
            f0_hz=spec.f0_hz,
            f0_spread=spec.f0_spread,
            means=np.stack([np.asarray(g.mean, dtype=np.float32) for g in gaussians]),
            scales=np.stack([latent_scale(g.cov) for g in gaussians]),
            embedding=None if spec.embedding is None else unit(spec.embedding),
            description=spec.description,
            speaker=spec.speaker or spec.id,
        )

    def sample(self, digit: int, rng: np.random.Generator, temperature: float) -> np.ndarray:
        """z [latent] for a digit in this voice; temperature scales the spread."""
        eps = rng.standard_normal(self.means.shape[1]).astype(np.float32)
        return self.means[digit] + temperature * self.scales[digit] @ eps


@dataclass(frozen=True)
class Speaker:
    """A voice as drawn for one request: the voice and the base pitch it speaks at."""

    voice: Voice
    f0_hz: float


def draw_speaker(voices: list[Voice], rng: np.random.Generator) -> Speaker:
    """A voice uniformly, then a base pitch from that voice's distribution of clip pitches."""
    voice = voices[int(rng.integers(len(voices)))]
    return Speaker(voice, voice.f0_hz * float(np.exp(voice.f0_spread * rng.standard_normal())))


class SourceModel:
    """The bundle's voicing classifier and per-digit pitch contours (VocoderSpec)."""

    def __init__(self, spec: VocoderSpec) -> None:
        self.spec = spec
        self.weights = np.asarray(spec.voicing.weights, dtype=np.float32)
        self.contours = np.stack([np.asarray(spec.contours[str(d)], np.float32) for d in DIGITS])

    def voicing(self, image: np.ndarray) -> np.ndarray:
        """A generated [0, 1] image [bins, frames] -> voicing per frame in [0, 1]."""
        logits = frame_features(image) @ self.weights + self.spec.voicing.bias
        probability = 1.0 / (1.0 + np.exp(-logits))
        steep = (probability - self.spec.voicing.threshold) * self.spec.voicing.steepness
        return np.clip(steep + 0.5, 0.0, 1.0).astype(np.float32)

    def pitch(self, digit: int, base_hz: float, rng: np.random.Generator) -> np.ndarray:
        """f0 per frame: the digit's mean contour about a base pitch, the base moved a
        little per digit (`digit_f0_spread`), as a reader's pitch moves between words, and
        a slow random wander within it (`flutter`, as in Klatt's synthesiser: a perfectly
        steady pulse train sounds mechanical)."""
        shift = self.spec.digit_f0_spread * rng.standard_normal()
        contour = self.contours[digit] + shift
        if self.spec.flutter > 0:
            contour = contour + self.spec.flutter * wander(len(contour), rng)
        return (base_hz * np.exp(contour)).astype(np.float32)


def wander(n: int, rng: np.random.Generator, width: int = 7) -> np.ndarray:
    """Unit-variance noise over n frames, smoothed by a moving sum of `width` frames (81 ms
    at the contract's 86 frames a second): changes of a few hertz, no frame-to-frame jitter."""
    return np.convolve(rng.standard_normal(n + width - 1), np.ones(width), "valid") / np.sqrt(width)


def frame_features(image: np.ndarray) -> np.ndarray:
    """Per frame of a [0, 1] image [..., bins, frames]: its column and the column relative to
    the frame's peak -> [..., frames, 2 x bins]. The voicing classifier's input."""
    columns = np.swapaxes(image, -1, -2)
    return np.concatenate([columns, columns - columns.max(axis=-1, keepdims=True)], axis=-1)
