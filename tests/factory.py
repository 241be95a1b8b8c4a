"""Small audio the tests make themselves: tones, data-set trees, odd files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def digit_clip(digit: int, take: int, rate: int, seconds: float | None = None) -> np.ndarray:
    """A distinct, speech-length sound per digit: two harmonics under an envelope."""
    seconds = seconds or 0.35 + 0.05 * ((digit + take) % 7)
    base = 200.0 + 60.0 * digit
    y = tone(base, seconds, rate) + 0.5 * tone(2.5 * base, seconds, rate)
    envelope = np.hanning(len(y)).astype(np.float32)
    rng = np.random.default_rng(digit * 100 + take)
    return (0.6 * y * envelope + 0.01 * rng.standard_normal(len(y))).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int, subtype: str = "PCM_16", **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, rate, subtype=subtype, **kw)
    return path


def make_fsdd_tree(
    root: Path, speakers=("ann", "bob", "cy"), takes: int = 4, rate: int = 8000
) -> Path:
    for digit in range(10):
        for speaker in speakers:
            for take in range(takes):
                write(
                    root / "recordings" / f"{digit}_{speaker}_{take}.wav",
                    digit_clip(digit, take, rate),
                    rate,
                )
    return root


def make_audiomnist_tree(root: Path, speakers: int = 3, takes: int = 4, rate: int = 48000) -> Path:
    data = root / "data"
    for n in range(1, speakers + 1):
        for digit in range(10):
            for take in range(takes):
                write(
                    data / f"{n:02d}" / f"{digit}_{n:02d}_{take}.wav",
                    digit_clip(digit, take, rate),
                    rate,
                )
    (data / "audioMNIST_meta.txt").write_text(
        "{" + ", ".join(f'"{n:02d}": {{"gender": "x"}}' for n in range(1, speakers + 1)) + "}"
    )
    return root
