"""Ways from magnitudes to sound, measured side by side (`evaluate --variants`).

Generated: the same latents (the same seeds) through each vocoder and post-filter, via
`Synthesizer.generate`, so only the inversion differs. Real: the held-out clips' own
contract magnitudes, no model at all, through the same inversion stage
(`Synthesizer.invert`): the ceiling each inversion allows. Every row gets the judge's
accuracy, the voiced share and pitch (pyin) and DNSMOS (training/evaluation/naturalness.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.audio.contract import image_to_magnitude, peak_normalise
from app.synthesis.synthesizer import GRIFFIN_LIM, SOURCE_FILTER, Synthesizer
from training.data.dataset import Dataset
from training.evaluation.metrics import Judge, features
from training.evaluation.naturalness import naturalness

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inversion:
    vocoder: str = SOURCE_FILTER
    gl_iters: int = 16
    sharpen: float = 1.0  # app/audio/postfilter.py; 1 = off
    gl_hop: int | None = None  # Griffin-Lim's synthesis hop; None = the contract's


GENERATED = {
    "source-filter + post-filter 1.25": Inversion(SOURCE_FILTER, sharpen=1.25),
    "source-filter + post-filter 1.5": Inversion(SOURCE_FILTER, sharpen=1.5),
    "source-filter": Inversion(SOURCE_FILTER),
    "GL 16 + post-filter 1.5": Inversion(GRIFFIN_LIM, 16, 1.5),
    "GL 16 at hop 128 + post-filter 1.5": Inversion(GRIFFIN_LIM, 16, 1.5, 128),
    "GL 32": Inversion(GRIFFIN_LIM, 32),
    "GL 100": Inversion(GRIFFIN_LIM, 100),
}
REAL = {
    "source-filter (the clip's own pitch)": Inversion(SOURCE_FILTER),
    "GL 16": Inversion(GRIFFIN_LIM, 16),
    "GL 32": Inversion(GRIFFIN_LIM, 32),
    "GL 100": Inversion(GRIFFIN_LIM, 100),
    "GL 16 at hop 128 (dB-interpolated)": Inversion(GRIFFIN_LIM, 16, gl_hop=128),
    "GL 16 at hop 64 (dB-interpolated)": Inversion(GRIFFIN_LIM, 16, gl_hop=64),
}


def at_hops(synth: Synthesizer) -> Callable[[Inversion], Synthesizer]:
    """Which synthesizer runs an inversion: the same bundle at the inversion's Griffin-Lim
    hop (the contract's when it names none), each hop's loaded once."""
    loaded = {synth.gl_hop: synth}

    def at_hop(way: Inversion) -> Synthesizer:
        if way.vocoder != GRIFFIN_LIM:
            return synth
        hop = way.gl_hop or synth.contract.hop_length
        if hop not in loaded:
            loaded[hop] = Synthesizer(synth.folder, gl_hop=hop)
        return loaded[hop]

    return at_hop


def evenly(n: int, count: int) -> np.ndarray:
    """`count` indices spread evenly over range(n) (all of them if count >= n)."""
    return np.unique(np.linspace(0, n - 1, min(n, count)).astype(int))


def measure_clips(
    waves: np.ndarray,
    digits: np.ndarray,
    synth: Synthesizer,
    judge: Judge,
    voiced_clips: int,
    mos_clips: int,
) -> dict:
    """Judge accuracy on every clip; voicing, pitch and DNSMOS on subsets spread evenly."""
    images, _ = features(waves, synth.contract)
    logits, _ = judge(images)
    picks = evenly(len(waves), voiced_clips)
    found = naturalness(list(waves[picks]), synth.contract.sample_rate, mos_clips)
    return {"accuracy": float(np.mean(logits.argmax(axis=1) == digits)), **found}


def invert_real(
    synth: Synthesizer,
    magnitude: np.ndarray,
    wave: np.ndarray,
    way: Inversion,
    rng: np.random.Generator,
) -> np.ndarray:
    """A real clip's contract magnitudes back to sound; the source-filter takes the clip's
    own pitch and voicing."""
    source = synth.excitation_of(wave) if way.vocoder == SOURCE_FILTER else None
    return peak_normalise(synth.invert(magnitude, rng, way.vocoder, way.gl_iters, way.sharpen,
                                       source))  # fmt: skip


def measure_variants(
    synth: Synthesizer,
    judge: Judge,
    real: Dataset,
    real_waves: np.ndarray,
    temperature: float,
    seed: int,
    clips: int = 200,
    voiced_clips: int = 100,
    mos_clips: int = 30,
) -> dict:
    """Every inversion of GENERATED on `clips` generated digits (same seeds for each) and
    of REAL on as many held-out clips."""
    digits = np.arange(clips) % 10
    rows: dict[str, dict] = {"generated": {}, "real": {}}
    at_hop = at_hops(synth)
    for name, way in GENERATED.items():
        if way.vocoder == SOURCE_FILTER and synth.source is None:
            continue
        inverter = at_hop(way)
        waves = np.concatenate(
            [
                inverter.generate(
                    [int(d)], seed + i, temperature, way.gl_iters, way.sharpen, way.vocoder
                )  # fmt: skip
                for i, d in enumerate(digits)
            ]
        )
        rows["generated"][name] = measure_clips(waves, digits, synth, judge, voiced_clips,
                                                mos_clips)  # fmt: skip
        log.info("variant generated / %s: %s", name, _brief(rows["generated"][name]))
    picks = evenly(len(real), clips)
    magnitudes = image_to_magnitude(
        real.images[picks], real.db_min[picks, None, None], real.db_max[picks, None, None]
    )
    for name, way in REAL.items():
        rng, inverter = np.random.default_rng(seed), at_hop(way)
        waves = np.stack(
            [
                invert_real(inverter, magnitude, real_waves[i], way, rng)
                for magnitude, i in zip(magnitudes, picks, strict=True)
            ]
        )
        rows["real"][name] = measure_clips(waves, real.digits[picks], synth, judge,
                                           voiced_clips, mos_clips)  # fmt: skip
        log.info("variant real / %s: %s", name, _brief(rows["real"][name]))
    return rows


def _brief(row: dict) -> str:
    mos = row.get("dnsmos") or {}
    return (
        f"accuracy {row['accuracy']:.3f}, voiced {row['voiced_share']:.3f}, "
        f"SIG {mos.get('sig', float('nan')):.2f}, OVRL {mos.get('ovrl', float('nan')):.2f}"
    )
