"""Digits read out as one waveform, like a number: each clip trimmed of its silence, with a
silence between them; a single digit stays the contract's full clip."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


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


def silence(ms: float, sample_rate: int) -> np.ndarray:
    """`ms` milliseconds of float32 zeros."""
    return np.zeros(int(round(ms * sample_rate / 1000)), np.float32)


def read_out(
    clips: Iterator[np.ndarray], count: int, gap: np.ndarray | Sequence[np.ndarray]
) -> Iterator[np.ndarray]:
    """The pieces of `count` clips in order: a single clip whole; a sequence as each clip
    trimmed of silence, with `gap` between (one silence for every boundary, or one per
    boundary). Lazy: a clip is drawn from `clips` only when its piece is wanted."""
    if count == 1:
        yield next(clips)
        return
    for i, clip in enumerate(clips):
        if i:
            yield gap if isinstance(gap, np.ndarray) else gap[i - 1]
        yield trim_silence(clip)
