"""Voices from a reference clip, and the voice a request names.

A made voice is anchored to the built-in voice nearest the upload in the latent space:
the words' encoder z_mean against each voice's Gaussian for the digit said, by
Mahalanobis distance under the voices' pooled covariance (their own covariances let a
tight voice lose to a broad one it is not). Per digit k its mean is that voice's mean for
k, plus `residual` times the upload's own offset from it. The conditional encoder moves
digits apart in the latent space and a voice's place differs from digit to digit, so an
upload's offset, taken from the digit it said, carries the speaker to other digits
poorly: on FSDD references a speaker classifier heard the speaker in 0.63 of clips made
with the offset from the voices' average (the previous way, `anchor="mean"`), 0.74
anchored (docs/voices.md, training/evaluation/transfer.py). Its spread is a fraction of the anchor's
(`voice_spread`), so the seed varies a rendition but not the voice, and its pitch is the
upload's median YIN pitch.

A speaker-conditioned bundle (speaker.onnx) needs none of that: a made voice is the
upload's own speaker embedding (its words' mean), signed into the id in place of the
latent offset, and "nearest" is the built-in voice whose embedding is most alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.audio.contract import waveform_to_features
from app.audio.pitch import SILENCE, track
from app.synthesis.synthesizer import InputError, Synthesizer
from app.synthesis.voice_ids import VoiceIdError, VoiceSigner, VoiceToken
from app.synthesis.voices import Voice, latent_scale, unit

# Pitch movement between requests in a made voice (std of log f0); FSDD speakers' own
# clip-to-clip spread is 0.04-0.15, a reference is one recording of one moment.
MADE_F0_SPREAD = 0.03
MAX_WORDS = 10  # words of an upload used; a 30 s upload may hold many more
FRAME_S, HOP_S = 0.02, 0.01  # the word splitter's RMS frames
GAP_S, MIN_WORD_S, MARGIN_S = 0.2, 0.08, 0.05
# Voiced time needed to take a pitch: a lone "voiced" frame is usually an edge artefact
# (a DC step, a click), not a voice.
MIN_VOICED_S = 0.05
MADE_CACHE = 1024  # made voices resolved, kept by id (a few kB each)
NEAREST, MEAN = "nearest", "mean"  # anchors: the nearest built-in voice, or their average


@dataclass(frozen=True)
class Heard:
    """What the service heard in an upload, and the built-in voice it is nearest."""

    digits: list[int]
    digit_given: bool
    f0_hz: float
    voiced_seconds: float
    nearest: str | None = None


def split_words(y: np.ndarray, rate: int, top_db: float = 30.0) -> list[np.ndarray]:
    """Runs of frames within `top_db` of the loudest, joined across gaps under GAP_S and
    kept from MIN_WORD_S, each with MARGIN_S of context: the words of a clip."""
    frame, hop = int(FRAME_S * rate), int(HOP_S * rate)
    if len(y) < frame:
        return [y] if np.abs(y).max(initial=0.0) > SILENCE else []
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    peak = rms.max()
    if peak <= SILENCE:
        return []
    loud = np.flatnonzero(rms > peak * 10 ** (-top_db / 20))
    runs, start = [], loud[0]
    for before, after in zip(loud[:-1], loud[1:], strict=True):
        if (after - before) * HOP_S > GAP_S:
            runs.append((start, before))
            start = after
    runs.append((start, loud[-1]))
    margin = int(MARGIN_S * rate)
    return [
        y[max(0, a * hop - margin) : b * hop + frame + margin]
        for a, b in runs
        if (b - a + 1) * HOP_S >= MIN_WORD_S
    ][:MAX_WORDS]


class VoiceBook:
    """The built-in voices, and voices made from uploads under one secret."""

    def __init__(
        self,
        synth: Synthesizer,
        secret: bytes,
        spread: float,
        residual: float = 0.0,
        anchor: str = NEAREST,
    ) -> None:
        """anchor=MEAN with residual=1 is the previous way (measured in
        training/evaluation/transfer.py)."""
        if anchor not in (NEAREST, MEAN):
            raise ValueError(f"anchor is {NEAREST!r} or {MEAN!r}, not {anchor!r}")
        self.synth, self.spread, self.residual, self.anchor = synth, spread, residual, anchor
        self.builtin = {v.id: v for v in synth.voices}
        self.order = list(synth.voices)
        self.speaking = synth.speaker_encoder is not None
        if self.speaking:  # the id carries the embedding itself, no blend of voices
            size = synth.speaker_encoder.get_outputs()[0].shape[-1]
            self.signer = VoiceSigner(secret, synth.model_id, size, 0)
            self.embeddings = np.stack([v.embedding for v in self.order])  # [voices, E]
            return
        self.signer = VoiceSigner(secret, synth.model_id, synth.latent_dim, len(self.order))
        dim = synth.latent_dim
        if self.order:
            self.means = np.stack([v.means for v in self.order])  # [voices, 10, D]
            self.covs = np.array(
                [[v.latent[str(d)].cov for d in range(10)] for v in synth.meta.voices],
                dtype=np.float64,
            )  # [voices, 10, D, D]
            pooled = self.covs.mean(axis=0) + 1e-6 * np.eye(dim)
            self.precision = np.linalg.inv(pooled)  # [10, D, D]
        else:  # a bundle without voices: the prior, and the upload's z_mean as the style
            self.means = np.zeros((0, 10, dim), np.float32)
            self.covs = np.broadcast_to(np.eye(dim), (1, 10, dim, dim))

    def resolve(self, voice_id: str) -> Voice:
        """A built-in voice by id, or the voice a signed id carries; VoiceIdError else."""
        if voice_id in self.builtin:
            return self.builtin[voice_id]
        if "." not in voice_id:
            known = ", ".join(self.builtin) or "none"
            raise VoiceIdError(f"no built-in voice '{voice_id}' (built-in: {known})")
        return self._made(voice_id)

    @lru_cache(maxsize=MADE_CACHE)  # noqa: B019 - one book per app: it lives as long as that
    def _made(self, voice_id: str) -> Voice:
        """A signed id's voice, verified once: blending its covariances takes ten eigen-
        decompositions, a tenth of a digit's synthesis. A refused id raises: never cached."""
        return self.voice(voice_id, self.signer.verify(voice_id))

    def voice(self, voice_id: str, token: VoiceToken) -> Voice:
        """The voice a token describes: its blend of built-in voices plus its style (for a
        speaker-conditioned bundle, its embedding)."""
        if self.speaking:
            pooled = self.order[0]  # latents come from the pooled mixtures: means unused
            return Voice(id=voice_id, name="made from an upload", f0_hz=token.f0_hz,
                         f0_spread=MADE_F0_SPREAD, means=pooled.means, scales=pooled.scales,
                         embedding=unit(token.style))  # fmt: skip
        weights = token.weights.astype(np.float64)
        means = self.blend(weights) + token.style[None]
        blend = weights if weights.sum() > 0 else np.ones(len(self.covs))  # no voices: prior
        covs = np.einsum("v,vkij->kij", blend / blend.sum(), self.covs)
        return Voice(
            id=voice_id,
            name="made from an upload",
            f0_hz=token.f0_hz,
            f0_spread=MADE_F0_SPREAD,
            means=means.astype(np.float32),
            scales=np.stack([self.spread * latent_scale(c) for c in covs]),
        )

    def blend(self, weights: np.ndarray) -> np.ndarray:
        """The built-in voices' per-digit means [10, D] mixed by `weights` [voices]."""
        return np.einsum("v,vkd->kd", weights, self.means)

    def weights_for(self, z_mean: np.ndarray, digits: list[int]) -> np.ndarray:
        """The anchor's weights over the built-in voices for words encoded at z_mean."""
        if not self.order:
            return np.zeros(0, np.float32)
        if self.anchor == MEAN:
            return np.full(len(self.order), 1.0 / len(self.order), np.float32)
        gaps = z_mean[None] - self.means[:, digits]  # [voices, words, D]
        distance = np.einsum("vwi,wij,vwj->v", gaps, self.precision[digits], gaps)
        return np.eye(len(self.order), dtype=np.float32)[int(np.argmin(distance))]

    def make(self, waveform: np.ndarray, digit: int | None = None) -> tuple[str, Heard]:
        """A signed voice id from a clip of one or a few spoken digits at the contract's
        rate, and what was heard; InputError when the clip cannot give a voice."""
        synth, contract = self.synth, self.synth.contract
        if not np.all(np.isfinite(waveform)):
            raise InputError("audio contains NaN or infinite samples")
        # Without its DC offset: YIN hears a constant as periodic at every lag.
        words = split_words(waveform - waveform.mean(), contract.sample_rate)
        features = [waveform_to_features(w, contract) for w in words]
        features = [f for f in features if f.db_max > f.db_min]
        if not features:
            raise InputError("audio is silent: there is no voice to take")
        images = np.stack([f.image for f in features])
        if digit is not None:
            digits = [digit] * len(images)
        elif synth.classifier is not None:
            digits = [int(d) for d in synth.classify(images).argmax(axis=1)]
        else:
            raise InputError("this model has no classifier: say which digit (digit=0-9)")
        if self.speaking:
            style = synth.embed(images)
            weights = np.zeros(0, np.float32)
        else:
            z_mean, _ = synth.encode(images, digits)
            weights = self.weights_for(z_mean, digits)
            anchor = self.blend(weights)[digits]
            residual = self.residual if self.order else 1.0  # without voices: z_mean is it
            style = residual * np.mean(z_mean - anchor, axis=0)
        tracks = [track(w, contract) for w in words]
        f0 = np.concatenate([t.f0[t.voiced] for t in tracks])
        seconds = f0.size * contract.hop_length / contract.sample_rate
        if seconds < MIN_VOICED_S:
            raise InputError(
                f"{seconds * 1000:.0f} ms voiced: the upload has no pitch to take from (at "
                f"least {MIN_VOICED_S * 1000:.0f} ms of voiced speech is needed; speak a digit)"
            )
        f0_hz = float(np.median(f0))
        voice_id = self.signer.sign(VoiceToken(f0_hz=f0_hz, weights=weights, style=style))
        nearest = None
        if self.speaking:
            nearest = self.order[int(np.argmax(self.embeddings @ style))].id
        elif self.anchor == NEAREST and self.order:
            nearest = self.order[int(np.argmax(weights))].id
        return voice_id, Heard(digits, digit is not None, f0_hz, seconds, nearest)
