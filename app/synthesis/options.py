"""What a request asks of synthesis, in one object: passed down whole from the route to
the digit, instead of the same seven parameters through every function between."""

from __future__ import annotations

from dataclasses import dataclass

from app.synthesis.voices import Voice


@dataclass(frozen=True)
class SynthesisOptions:
    temperature: float = 1.0  # latent spread: 0 draws each Gaussian's mean
    gl_iters: int = 32  # Griffin-Lim iterations (when that is the vocoder)
    sharpen: float = 1.0  # the post-filter's strength (app/audio/postfilter.py); 1 = off
    vocoder: str | None = None  # None: the best the bundle has
    voice: Voice | None = None  # None: the one the seed picks
    gap_ms: float = 80.0  # silence between the digits of a number
    speed: float = 1.0  # tempo: 2 speaks twice as fast at the same pitch (gaps shrink too)
    # Boundaries after digit i where the client typed a separator ("415-555"): those gaps
    # are twice gap_ms, a short pause (app/synthesis/text.py).
    pauses: frozenset[int] = frozenset()
