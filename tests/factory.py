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


def vowel(f0: float, seconds: float, rate: int, formants=(700.0, 1220.0, 2600.0)) -> np.ndarray:
    """A synthetic voiced vowel: a pulse train at f0 (falling 10 % over the clip, as speech
    does) through two-pole formant resonators, under a word-like envelope, with silence
    either side."""
    from scipy.signal import lfilter

    from app.audio.vocoder import pulse_train

    n = int(round(seconds * rate))
    y = pulse_train(f0 * np.linspace(1.05, 0.95, n), rate)
    for centre in formants:
        radius = np.exp(-np.pi * 90.0 / rate)  # 90 Hz bandwidth
        poles = [1.0, -2 * radius * np.cos(2 * np.pi * centre / rate), radius**2]
        y = lfilter([1.0 - radius], poles, y)
    y = 0.5 * y / np.abs(y).max() * np.hanning(n)
    pad = np.zeros(int(0.15 * rate))
    return np.concatenate([pad, y, pad]).astype(np.float32)
