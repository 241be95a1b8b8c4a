"""Voices from a reference clip, and the voice a request names.

A made voice is the upload's encoder z_mean as a latent *style*: per digit k its mean is
the built-in voices' average mean for k plus the style, where the style is the upload's
z_mean minus that average for the digit it said. The conditional encoder still moves
digits apart in the latent space, so a "three"'s z_mean used as is for a "seven" puts the
seven where sevens are never found; the offsets keep the voice's place relative to each
digit (docs and figures: README, training/transfer.py). Its spread is a fraction of the
built-in voices' (`voice_spread`), so the seed varies a rendition but not the voice, and
its pitch is the upload's median YIN pitch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.contract import waveform_to_features
from app.pitch import SILENCE, track
from app.synth import InputError, Synthesizer
from app.voice_ids import VoiceIdError, VoiceSigner, VoiceToken
from app.voices import Voice, latent_scale

# Pitch movement between requests in a made voice (std of log f0); FSDD speakers' own
# clip-to-clip spread is 0.04-0.15, a reference is one recording of one moment.
MADE_F0_SPREAD = 0.03
MAX_WORDS = 10  # words of an upload used; a 30 s upload may hold many more
FRAME_S, HOP_S = 0.02, 0.01  # the word splitter's RMS frames
GAP_S, MIN_WORD_S, MARGIN_S = 0.2, 0.08, 0.05
# Voiced time needed to take a pitch: a lone "voiced" frame is usually an edge artefact
# (a DC step, a click), not a voice.
MIN_VOICED_S = 0.05


@dataclass(frozen=True)
class Heard:
    """What the service heard in an upload."""

    digits: list[int]
    digit_given: bool
    f0_hz: float
    voiced_seconds: float


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
    """The built-in voices, and voices made from uploads under one signer."""

    def __init__(
        self, synth: Synthesizer, signer: VoiceSigner, spread: float, offsets: bool = True
    ) -> None:
        """offsets=False takes the upload's z_mean as every digit's mean (measured against
        offsets in training/transfer.py)."""
        self.synth, self.signer = synth, signer
        self.builtin = {v.id: v for v in synth.voices}
        dim = synth.latent_dim
        if synth.voices:
            specs = synth.meta.voices
            self.centres = np.mean([v.means for v in synth.voices], axis=0)
            covs = [[v.latent[str(d)].cov for v in specs] for d in range(10)]
            self.scales = np.stack([spread * latent_scale(np.mean(c, axis=0)) for c in covs])
        else:  # a bundle without voices: its prior
            self.centres = np.zeros((10, dim), np.float32)
            self.scales = np.broadcast_to(spread * np.eye(dim, dtype=np.float32), (10, dim, dim))
        if not offsets:
            self.centres = np.zeros_like(self.centres)

    def resolve(self, voice_id: str) -> Voice:
        """A built-in voice by id, or the voice a signed id carries; VoiceIdError else."""
        if voice_id in self.builtin:
            return self.builtin[voice_id]
        if "." not in voice_id:
            known = ", ".join(self.builtin) or "none"
            raise VoiceIdError(f"no built-in voice '{voice_id}' (built-in: {known})")
        return self.voice(voice_id, self.signer.verify(voice_id))

    def voice(self, voice_id: str, token: VoiceToken) -> Voice:
        return Voice(
            id=voice_id,
            name="made from an upload",
            f0_hz=token.f0_hz,
            f0_spread=MADE_F0_SPREAD,
            means=(self.centres + token.style[None]).astype(np.float32),
            scales=np.asarray(self.scales, dtype=np.float32),
        )

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
        z_mean, _ = synth.encode(images, digits)
        style = np.mean(z_mean - self.centres[digits], axis=0)
        tracks = [track(w, contract) for w in words]
        f0 = np.concatenate([t.f0[t.voiced] for t in tracks])
        seconds = f0.size * contract.hop_length / contract.sample_rate
        if seconds < MIN_VOICED_S:
            raise InputError(
                f"{seconds * 1000:.0f} ms voiced: the upload has no pitch to take from (at "
                f"least {MIN_VOICED_S * 1000:.0f} ms of voiced speech is needed; speak a digit)"
            )
        f0_hz = float(np.median(f0))
        voice_id = self.signer.sign(VoiceToken(f0_hz=f0_hz, style=style))
        return voice_id, Heard(digits, digit is not None, f0_hz, seconds)
