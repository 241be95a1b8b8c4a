"""How natural clips sound, beyond whether the digit is recognised: voicing, pitch, MOS.

- voicing: the share of loud frames (RMS above 0.1 of the clip's loudest) that
  `librosa.pyin` (60-400 Hz) calls voiced; real FSDD speech is about 0.75, a whisper ~0;
- pitch: each clip's median pitch over its voiced frames, and how much of the real
  training speakers' 5th-95th percentile range the generated clips' range covers;
- one voice per number: std/mean of the per-digit median pitch across a read-out number;
- DNSMOS P.835 (Reddy et al. 2022; its ONNX models ship in the `speechmos` wheel, installed
  with `pip install --no-deps speechmos`): a MOS predictor trained on human ratings, on clips
  trimmed at 40 dB and peak-normalised.

pyin, not the service's YIN (app/audio/pitch.py), so the service is not marking its own work.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import librosa
import numpy as np

log = logging.getLogger(__name__)

FMIN, FMAX = 60.0, 400.0
FRAME, HOP = 2048, 256
LOUD = 0.1  # of the clip's loudest frame RMS
MOS_RATE = 16_000
MOS_KEYS = ("sig", "bak", "ovrl", "p808")


def voicing(y: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """(voiced share of loud frames, median pitch of loud voiced frames in Hz or NaN)."""
    f0, voiced, _ = librosa.pyin(
        y, fmin=FMIN, fmax=FMAX, sr=sample_rate, frame_length=FRAME, hop_length=HOP
    )
    rms = librosa.feature.rms(y=y, frame_length=FRAME, hop_length=HOP)[0][: len(voiced)]
    loud = rms > LOUD * rms.max() if rms.max() > 0 else np.zeros(len(voiced), bool)
    share = float(voiced[loud].mean()) if loud.any() else 0.0
    # Pitch where the clip is loud, as the share: pyin finds spurious low "pitch" in quiet
    # tails of noise.
    pitched = voiced & loud
    median = float(np.median(f0[pitched])) if pitched.any() else float("nan")
    return share, median


def voicing_of(clips: Sequence[np.ndarray], sample_rate: int) -> dict:
    """Voiced share (mean) and per-clip median pitches of a set of clips."""
    results = [voicing(y, sample_rate) for y in clips]
    medians = np.array([m for _, m in results])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a set with no voiced clip
        p5, p95 = np.nanpercentile(medians, [5, 95]) if np.isfinite(medians).any() else (0, 0)
    return {
        "clips": len(results),
        "voiced_share": float(np.mean([s for s, _ in results])),
        "median_f0_p5": float(p5),
        "median_f0_p95": float(p95),
        "median_f0": medians.tolist(),
    }


def range_coverage(generated: dict, real: dict) -> float:
    """Share of the real 5th-95th percentile range of clip pitch that the generated range
    covers (1 = all of it; one pitch for everyone covers ~0)."""
    low = max(generated["median_f0_p5"], real["median_f0_p5"])
    high = min(generated["median_f0_p95"], real["median_f0_p95"])
    span = real["median_f0_p95"] - real["median_f0_p5"]
    return float(max(0.0, high - low) / span) if span > 0 else 0.0


def pitch_spread(clips: Sequence[np.ndarray], sample_rate: int) -> float:
    """std/mean of the per-digit median pitch of one number's digits (NaN if < 2 voiced)."""
    medians = np.array([voicing(y, sample_rate)[1] for y in clips])
    medians = medians[np.isfinite(medians)]
    return float(np.std(medians) / np.mean(medians)) if len(medians) >= 2 else float("nan")


def mos_ready(y: np.ndarray, sample_rate: int) -> np.ndarray:
    """Trimmed at 40 dB, peak-normalised to 0.9 and at 16 kHz, as DNSMOS takes it."""
    trimmed, _ = librosa.effects.trim(y, top_db=40)
    peak = float(np.max(np.abs(trimmed))) if trimmed.size else 0.0
    trimmed = trimmed * (0.9 / peak) if peak > 0 else trimmed
    return librosa.resample(trimmed, orig_sr=sample_rate, target_sr=MOS_RATE).clip(-1, 1)


def dnsmos(clips: Sequence[np.ndarray], sample_rate: int) -> dict | None:
    """Mean DNSMOS P.835 SIG, BAK, OVRL and P.808 of the clips; None without speechmos."""
    try:
        from speechmos import dnsmos as predictor
    except ImportError:
        log.warning("speechmos is not installed (pip install --no-deps speechmos): no DNSMOS")
        return None
    scores = [predictor.run(mos_ready(y, sample_rate), MOS_RATE) for y in clips]
    means = {key: float(np.mean([s[f"{key}_mos"] for s in scores])) for key in MOS_KEYS}
    return {"clips": len(scores), **means}


def naturalness(clips: Sequence[np.ndarray], sample_rate: int, mos_clips: int) -> dict:
    """Voicing and pitch of every clip, DNSMOS of the first `mos_clips` (spread evenly)."""
    step = max(1, len(clips) // max(mos_clips, 1))
    mos = dnsmos(clips[::step][:mos_clips], sample_rate)
    return {**voicing_of(clips, sample_rate), "dnsmos": mos}
