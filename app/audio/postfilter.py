"""The clarity post-filter between the VAE's magnitudes and Griffin-Lim.

A VAE's spectrograms are over-smoothed: formant peaks sit too close to the valleys and the
high-frequency floor, which is what blurs "seven" towards "nine". Raising each frame's
magnitudes, relative to that frame's peak, to a power above 1 multiplies the frame's dB
contrast by that power while keeping its loudest bin (so the loudness contour over time is
kept). This is the classic formant-enhancing post-filter of speech coders and statistical
speech synthesis, applied in the magnitude domain; docs/results.md measures its effect.
"""

from __future__ import annotations

import numpy as np

# The quietest peak treated as sound; below it a frame is left as it is (avoids 0/0).
_TINY = np.float32(1e-10)


def sharpen(magnitude: np.ndarray, power: float) -> np.ndarray:
    """Linear magnitudes [..., bins, frames] with each frame's dB range about its peak
    scaled by `power` (1 = unchanged)."""
    if power == 1.0:
        return magnitude
    peak = np.maximum(magnitude.max(axis=-2, keepdims=True), _TINY)
    return (peak * (magnitude / peak) ** np.float32(power)).astype(np.float32)
