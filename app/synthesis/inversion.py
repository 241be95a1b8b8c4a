"""The one inversion stage: the VAE's magnitudes [bins, frames] -> a waveform, through the
post-filter (app/audio/postfilter.py) and then the source-filter vocoder (app/audio/vocoder.py),
Griffin-Lim at its own hop, or a given complex source spectrum (an upload's own phase)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

import numpy as np

from app.audio.contract import Contract, fix_length, magnitude_to_waveform
from app.audio.postfilter import sharpen as sharpen_frames
from app.audio.stft import griffin_lim, stft
from app.audio.vocoder import (
    SOURCE_FILTER,
    Excitation,
    Harmonics,
    envelope_at,
    fine_structure,
    render,
    stretched,
)
from app.synthesis.options import SynthesisOptions
from app.synthesis.voices import SourceModel


class Inverter:
    """One bundle's inversion: its contract, its source model (None: Griffin-Lim only) and
    Griffin-Lim's synthesis hop."""

    def __init__(
        self,
        contract: Contract,
        source: SourceModel | None,
        gl_hop: int | None = None,
        stage: Callable[[str], AbstractContextManager] = lambda name: nullcontext(),
    ) -> None:
        self.contract = contract
        self.source = source
        self.stage = stage  # times the "inversion" stage (the model's metrics hook)
        # Griffin-Lim's synthesis hop: the contract's 50 % overlap is too little redundancy
        # to find a coherent phase (DESIGN.md); a smaller hop, magnitudes interpolated in dB,
        # keeps a voice. None: the contract's hop (the study's inversion).
        self.gl_hop = gl_hop or contract.hop_length
        if self.gl_hop > contract.n_fft // 2:
            raise ValueError(f"gl_hop {self.gl_hop}: at most half the contract's n_fft")

    def invert(
        self,
        magnitude: np.ndarray,
        rng: np.random.Generator,
        options: SynthesisOptions,
        source: Excitation | Harmonics | np.ndarray | None = None,
    ) -> np.ndarray:
        """VAE magnitudes [bins, frames] -> a waveform, timed as the "inversion" stage (every
        path to audio goes through here): the post-filter (`options.sharpen`),
        then the vocoder (`options.vocoder`, None: Griffin-Lim), the envelope read at
        `options.speed` (a generated clip's tempo; not for a given spectrum). `source` is the
        source-filter's excitation, a clip's harmonics for Griffin-Lim at their hop, or a
        complex source spectrum at the contract's hop (an upload's own phase and harmonics)
        to lay the magnitudes on."""
        with self.stage("inversion"):
            envelope = sharpen_frames(magnitude, options.sharpen)
            if isinstance(source, np.ndarray):
                return magnitude_to_waveform(envelope, self.contract, source)
            if options.vocoder == SOURCE_FILTER and source is not None:
                spec = self.source.spec
                return render(envelope, source, self.contract, rng, spec.hop_length,
                              spec.voiced_max_hz, options.speed)  # fmt: skip
            harmonics = source if isinstance(source, Harmonics) else None
            return self._griffin_lim(envelope, rng, options.gl_iters, harmonics, options.speed)

    def _griffin_lim(
        self,
        envelope: np.ndarray,
        rng: np.random.Generator,
        gl_iters: int,
        harmonics: Harmonics | None,
        speed: float = 1.0,
    ) -> np.ndarray:
        """Griffin-Lim at `gl_hop` (harmonics' own hop when given), the envelope
        interpolated to it in dB, read at `speed`, and the harmonics laid under it."""
        plain = harmonics is None and speed == 1.0
        if plain and self.gl_hop == self.contract.hop_length:
            return magnitude_to_waveform(envelope, self.contract, None, gl_iters, rng)
        hop = self.gl_hop if harmonics is None else harmonics.hop
        speed = 1.0 if harmonics is not None else speed
        target = envelope_at(envelope, self.contract, hop, speed)
        if harmonics is not None:
            target = target * harmonics.magnitude
        fine = stretched(self.contract, hop, speed)
        return griffin_lim(target, fine, fine.clip_samples, gl_iters, rng=rng)

    def harmonics_of(self, waveform: np.ndarray) -> Harmonics:
        """A clip's harmonics over its own envelope at Griffin-Lim's hop."""
        fine = replace(self.contract, hop_length=self.gl_hop)
        own = np.abs(stft(fix_length(waveform, self.contract.clip_samples), fine))
        return Harmonics(fine_structure(own), self.gl_hop)
