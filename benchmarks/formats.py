"""The encode cost of each output format: a 10-digit number, already synthesised, written
whole by the service's own writer (resampling included where the format needs it)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from app.audio.formats import FORMATS, AudioWriter, output_rate
from app.synthesis.synthesizer import Synthesizer


def encode_costs(bundle: Path, repeats: int = 20) -> dict[str, dict[str, float]]:
    synth = Synthesizer(bundle)
    pieces = list(synth.speak_chunks(list(range(10)), seed=1, gl_iters=16, sharpen=1.5))
    model_rate = synth.contract.sample_rate
    seconds = sum(len(p) for p in pieces) / model_rate
    rows = {}
    for fmt in FORMATS:
        rate = output_rate(fmt, None, model_rate)
        times, size = [], 0
        for _ in range(repeats + 1):  # the first warms the encoder
            start = time.perf_counter()
            size = len(AudioWriter(fmt, model_rate, rate).whole(pieces))
            times.append(time.perf_counter() - start)
        median = statistics.median(times[1:])
        rows[fmt] = {
            "rate": rate,
            "audio_s": round(seconds, 2),
            "encode_ms": round(1000 * median, 2),
            "kbit_s": round(8 * size / seconds / 1000, 1),
            "x_realtime": round(seconds / median),
        }
    return rows
