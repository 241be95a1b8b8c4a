"""Speaker-encoder cosine similarity (SECS): does a rendition sound like the same person?

    python -m training.evaluation.speaker_similarity ../shared/data/fsdd/recordings

Why: the project's speaker classifiers learned from FSDD's six voices and can only say which
of those six speaks. Resemblyzer's GE2E encoder (its weights ship in the `resemblyzer` wheel)
learned from thousands of other speakers and never from the project's data; nothing here may
train or condition a model, so its cosine measures identity from outside, for any voice.

Method (the calibrated one): each side is several clips of one speaker (8 is the reference
count) joined with 0.1 s of silence into one utterance, resampled to 16 kHz, passed through
resemblyzer's `preprocess_wav` (loudness to -30 dBFS, long silences cut by a VAD), embedded,
and the two unit-length embeddings compared by cosine. Calibration (DESIGN "What is known
now"): a speaker's clips vs more of their own clips about 0.87-0.89, vs a different real
speaker about 0.61-0.65.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soxr

SAMPLE_RATE = 16_000
GAP_SECONDS = 0.1
CLIPS_PER_SIDE = 8


def join(waves: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
    """The clips as one 16 kHz float32 utterance, 0.1 s of silence between them."""
    if not waves:
        raise ValueError("no clips")
    gap = np.zeros(round(GAP_SECONDS * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for w in waves:
        x = np.asarray(w, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if x.ndim != 1:
            raise ValueError(f"expected (samples,) or (samples, channels), got shape {x.shape}")
        if sample_rate != SAMPLE_RATE:
            x = soxr.resample(x, sample_rate, SAMPLE_RATE).astype(np.float32)
        if parts:
            parts.append(gap)
        parts.append(np.clip(np.nan_to_num(x), -1.0, 1.0))
    return np.concatenate(parts)


class SpeakerEncoder:
    """Resemblyzer's voice encoder on the CPU, loaded once and reused."""

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, waves: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
        """One unit-length 256-number embedding of the speaker of `waves` (all one rate).

        Raises ValueError when the clips hold no sound the encoder can use.
        """
        from resemblyzer import preprocess_wav

        wav = join(waves, sample_rate)
        if float(np.max(np.abs(wav))) < 1e-6:
            raise ValueError("the clips are silent")
        wav = preprocess_wav(wav)
        if wav.size < SAMPLE_RATE // 10:
            raise ValueError("the voice activity detector found no speech in the clips")
        return np.asarray(self._encoder.embed_utterance(wav), dtype=np.float32)


def secs(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine between two speaker embeddings (1 = the same voice to the encoder)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main(argv: Sequence[str] | None = None) -> None:
    """Same- vs different-speaker SECS on folders of `{digit}_{speaker}_{take}.wav` clips."""
    import soundfile as sf
    import torch

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("recordings", type=Path, nargs="+", help="one or more folders")
    p.add_argument("--speakers", nargs="*", help="only these speakers")
    p.add_argument("--min-clips", type=int, default=2 * CLIPS_PER_SIDE)
    p.add_argument("--max-speakers", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    by_speaker: dict[str, list[Path]] = defaultdict(list)
    for folder in a.recordings:
        for f in sorted(folder.glob("*.wav")):
            by_speaker[f.stem.split("_")[1]].append(f)
    names = [
        s
        for s in sorted(by_speaker)
        if len(by_speaker[s]) >= a.min_clips and (not a.speakers or s in a.speakers)
    ][: a.max_speakers]
    if len(names) < 2:
        raise SystemExit("need two speakers with enough clips")
    rng = random.Random(a.seed)
    encoder = SpeakerEncoder()
    sides: dict[str, list[np.ndarray]] = {}
    seconds, n_clips = 0.0, 0
    for s in names:
        files = rng.sample(by_speaker[s], 2 * CLIPS_PER_SIDE)
        sides[s] = []
        for half in (files[:CLIPS_PER_SIDE], files[CLIPS_PER_SIDE:]):
            clips = [sf.read(f, dtype="float32") for f in half]
            t0 = time.perf_counter()
            sides[s].append(encoder.embed([c for c, _ in clips], clips[0][1]))
            seconds += time.perf_counter() - t0
            n_clips += len(half)
    same = {s: secs(*sides[s]) for s in names}
    other = [secs(sides[x][0], sides[y][1]) for x in names for y in names if x != y]
    print(
        f"{len(names)} speakers, {CLIPS_PER_SIDE} clips a side, "
        f"{1000 * seconds / n_clips:.0f} ms/clip on {a.threads} thread(s)"
    )
    print("same speaker:", {s: round(v, 3) for s, v in same.items()})
    print(
        f"same mean {np.mean(list(same.values())):.3f} (min {min(same.values()):.3f}); "
        f"different mean {np.mean(other):.3f} (max {max(other):.3f})"
    )


if __name__ == "__main__":
    main()
