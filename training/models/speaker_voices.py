"""The speaker-conditioned bundle's voice library (training/models/speaker_fit.py): which
training speakers become built-in voices, each voice's mean speaker embedding, median pitch,
name and description, and the pooled per-digit latent Gaussians."""

from __future__ import annotations

import logging

import numpy as np

from app.synthesis.bundle import (
    DIGITS,
    LatentGaussian,
    VoiceSpec,
)
from training.data.dataset import Dataset

log = logging.getLogger(__name__)

HIGH_HZ = 165.0
LOW_HZ, HIGH_END_HZ = 85.0, 220.0  # the library's median pitches span at least this
# Names for the many-speaker set's voices (its speakers are anonymous hashes), in the
# order they are chosen; none is an OpenAI voice name (those map to voices by pitch).
NAMES = ("alder", "aspen", "birch", "cedar", "elm", "fern", "hazel", "iris", "juniper",
         "laurel", "linden", "maple", "olive", "rowan", "willow", "yarrow", "briar", "clover",
         "heather", "ivy", "moss", "reed", "sorrel", "thyme", "poppy", "tansy", "holly",
         "larch", "myrtle", "bryony")  # fmt: skip


def clip_medians(data: Dataset) -> np.ndarray:
    from training.models.voices import clip_median_f0

    return clip_median_f0(data)


def _pitch_word(f0: float) -> str:
    if f0 < 110:
        return "low"
    if f0 < 165:
        return "mid"
    if f0 < 220:
        return "high"
    return "very high"


def choose_voice_speakers(
    data: Dataset, n_voices: int = 24, n_high: int = 8, min_clips: int = 6
) -> list[str]:
    """Speakers for the built-in library: every FSDD speaker (their takes), then of the
    many-speaker set the speakers with the most clips, making sure that `n_high` of them
    speak at >= 165 Hz and that the lowest- and highest-pitched well-recorded speakers are
    in (so the library spans the pitch range)."""
    medians = clip_medians(data)
    speakers, counts = np.unique(data.speakers, return_counts=True)
    fsdd = [s for s in speakers if not s.startswith("sc")]
    stats = []
    for s, n in zip(speakers, counts, strict=True):
        if s in fsdd or n < min_clips:
            continue
        m = medians[data.speakers == s]
        m = m[~np.isnan(m)]
        if len(m) >= 3:
            stats.append((s, int(n), float(np.median(m))))
    stats.sort(key=lambda t: (-t[1], t[0]))
    chosen = list(fsdd)
    high = [t for t in stats if t[2] >= HIGH_HZ][:n_high]
    chosen += [t[0] for t in high]
    # The pitch range's ends: from the better-recorded speakers (2 x min_clips) when one of
    # them reaches past LOW_HZ / HIGH_END_HZ, else from all (a median of 3 clips can be a
    # YIN octave slip).
    well = [t for t in stats if t[1] >= 2 * min_clips]
    low = min(well, key=lambda t: t[2], default=None)
    if low is None or low[2] > LOW_HZ:
        low = min(stats, key=lambda t: t[2], default=None)
    high_end = max(well, key=lambda t: t[2], default=None)
    if high_end is None or high_end[2] < HIGH_END_HZ:
        high_end = max(stats, key=lambda t: t[2], default=None)
    for t in (low, high_end):
        if t is not None and t[0] not in chosen:
            chosen.append(t[0])
    for t in stats:
        if len(chosen) >= n_voices:
            break
        if t[0] not in chosen:
            chosen.append(t[0])
    return chosen


def voice_split(data: Dataset, speaker: str) -> tuple[np.ndarray, np.ndarray]:
    """(fit, held) indices of a voice's clips: FSDD speakers fit on all their training takes
    (their takes 0-4 were never trained on); a many-speaker voice fits on every other clip
    (sorted by digit and take) and keeps the rest apart for measuring it."""
    idx = np.flatnonzero(data.speakers == speaker)
    if not speaker.startswith("sc"):
        return idx, np.array([], dtype=np.int64)
    idx = idx[np.lexsort((data.takes[idx], data.digits[idx]))]
    return idx[0::2], idx[1::2]


def make_voices(
    data: Dataset, embeddings: np.ndarray, pooled: dict[str, LatentGaussian], speakers: list[str]
) -> tuple[list[VoiceSpec], dict]:
    medians = clip_medians(data)
    voices, held = [], {}
    names = iter(NAMES)
    for s in speakers:
        fit, rest = voice_split(data, s)
        e = embeddings[fit].mean(axis=0)
        e = e / max(float(np.linalg.norm(e)), 1e-8)
        logs = np.log(medians[fit][~np.isnan(medians[fit])])
        q25, q50, q75 = np.percentile(logs, [25, 50, 75])
        f0, spread = float(np.exp(q50)), float((q75 - q25) / 1.349)
        many = s.startswith("sc")
        name = next(names, s) if many else s
        source = f"Speech Commands speaker {s}" if many else "FSDD speaker"
        digits = sorted(set(data.digits[fit].tolist()))
        voices.append(VoiceSpec(
            id=name.lower()[:32], name=name, clips=len(fit), f0_hz=f0, f0_spread=spread,
            latent=pooled, embedding=e.tolist(), speaker=s,
            description=f"{_pitch_word(f0)} voice, median pitch {f0:.0f} Hz; {source}, "
                        f"fitted on {len(fit)} clips of digits {''.join(map(str, digits))}",
        ))  # fmt: skip
        held[s] = {
            "fit": [f"{data.digits[i]}_{s}_{data.takes[i]}" for i in fit],
            "held": [f"{data.digits[i]}_{s}_{data.takes[i]}" for i in rest],
        }
    return voices, held


def pooled_gaussians(z: np.ndarray, digits: np.ndarray) -> dict[str, LatentGaussian]:
    out = {}
    for d in DIGITS:
        p = z[digits == d].astype(np.float64)
        cov = np.cov(p, rowvar=False) + 1e-5 * np.eye(z.shape[1])
        # rounded: every voice repeats them in bundle.json
        out[str(d)] = LatentGaussian(
            weight=1.0, mean=np.round(p.mean(0), 5).tolist(), cov=np.round(cov, 6).tolist()
        )
    return out
