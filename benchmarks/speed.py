"""The speed benchmark: the study's stack vs this project's, in process and over HTTP.

python -m benchmarks run [--requests N] [--concurrency 1 4 16 64] [--workers 0 1 2]
                         [--out reports/bench.json]

HTTP runs use the serve command (python -m app.serve); workers 0 is its default, one per
core. The first server also measures the time to the first audio byte and to the last
(benchmarks/streams.py); the encode cost of each format is measured in process
(benchmarks/formats.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx
import numpy as np

from app.audio.contract import db_to_amplitude, unscale
from app.core.config import Settings
from app.synthesis.synthesizer import GRIFFIN_LIM, Synthesizer
from benchmarks import wrk
from benchmarks.formats import encode_costs
from benchmarks.load import closed_loop, summarise
from benchmarks.openai_speech import speech_rows
from benchmarks.server import REPO, Server
from benchmarks.soak import UPLOAD
from benchmarks.streams import first_and_last_byte

DIGIT = 3
SEED_GL_ITERS = 32  # librosa.griffinlim's default, which the study used
PACKAGES = ["numpy", "onnxruntime", "fastapi", "uvicorn", "tensorflow-cpu", "keras", "librosa"]


def machine() -> dict:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "versions": versions,
    }


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def seed_stack(bundle: Path, repeats: int) -> dict:
    """The study's way: its Keras MLP decoder's `predict` on a latent, un-scale,
    librosa.griffinlim with its defaults (32 iterations). Weights do not change the timing,
    so the decoder is built fresh with the study's architecture."""
    try:
        import keras
        import librosa

        from training.models.architectures import STUDY_WIDTHS, build_mlp_decoder
    except ImportError as exc:
        return {"skipped": f"needs the train extra ({exc.name} is not installed)"}
    synth = Synthesizer(bundle)
    contract, scale = synth.contract, synth.meta.scaling[str(DIGIT)]
    keras.utils.set_random_seed(0)
    decoder = build_mlp_decoder(contract.image_shape, 2, STUDY_WIDTHS)
    z = np.zeros((1, 2), np.float32)

    def once() -> np.ndarray:
        image = decoder.predict(z, verbose=0)[0]
        magnitude = db_to_amplitude(unscale(image, scale.db_min, scale.db_max))
        return librosa.griffinlim(
            magnitude, hop_length=contract.hop_length, n_fft=contract.n_fft,
            length=contract.clip_samples,
        )  # fmt: skip

    return {"digit_ms": _median_ms(once, repeats), "model": "study MLP, latent 2 (Keras)"}


def in_process(bundle: Path, repeats: int, gl_iters: int, sharpen: float) -> dict:
    """This project's synthesis without HTTP, decode / inversion (post-filter included) /
    encoding split: one digit and a 10-digit sequence with the service's default vocoder,
    one digit with Griffin-Lim at the service's iterations (the previous default), and one
    at the seed stack's 32 (the like-for-like comparison)."""
    from app.audio.codec import encode

    stages: dict[str, list[float]] = {}
    synth = Synthesizer(bundle, observe=lambda s, t: stages.setdefault(s, []).append(t))
    synth.warm_up()
    default = synth.vocoder_for(None)
    result = {}
    runs = [
        ("digit", [DIGIT], default, gl_iters),
        ("sequence10", list(range(10)), default, gl_iters),
        (f"digit_gl{gl_iters}", [DIGIT], GRIFFIN_LIM, gl_iters),
        (f"digit_gl{SEED_GL_ITERS}", [DIGIT], GRIFFIN_LIM, SEED_GL_ITERS),
    ]
    for name, digits, vocoder, iters in dict((r[0], r) for r in runs).values():
        stages.clear()
        encode_times = []

        def once(digits=digits, iters=iters, vocoder=vocoder, encode_times=encode_times) -> None:
            waveform = synth.speak(digits, seed=1, gl_iters=iters, sharpen=sharpen,
                                   vocoder=vocoder)  # fmt: skip
            start = time.perf_counter()
            encode(waveform, synth.contract.sample_rate)
            encode_times.append(time.perf_counter() - start)

        total = _median_ms(once, repeats)
        result[name] = {
            "vocoder": vocoder,
            "gl_iters": iters,
            "total_ms": total,
            # per request: one digit at a time, so a sequence's stages add up its digits'
            "decode_ms": round(1000 * sum(stages["decode"]) / (repeats + 1), 3),
            "inversion_ms": round(1000 * sum(stages["inversion"]) / (repeats + 1), 2),
            "encoding_ms": round(1000 * statistics.median(encode_times), 3),
        }
    return result


async def _generate(client: httpx.AsyncClient, rng: random.Random):
    return await client.post("/generate", params={"digit": rng.randrange(10)}), {200, 503}


async def _reconstruct(client: httpx.AsyncClient, rng: random.Random):
    files = {"file": ("clip.wav", UPLOAD, "audio/wav")}
    return await client.post("/reconstruct", files=files), {200}


def over_http(
    bundle: Path,
    concurrencies: list[int],
    requests: int,
    env: dict[str, str],
    workers: int,
    load: str = "httpx",
    seconds: float = 10.0,
    streams: int = 0,
) -> dict:
    """/generate at each concurrency (wrk for `seconds`, or httpx for `requests`), then
    /reconstruct of a 1 s upload (httpx), against a fresh serve command with `workers`
    workers (0: its default, one per core); with `streams` > 0, first and last byte times
    (the median of that many requests each)."""
    extra = ["--workers", str(workers)] if workers else []
    server = Server(bundle, env, extra, serve_command=True)
    try:
        cold_start = server.wait_ready()
        started = len(server.workers())
        server.wait_workers(started)
        asyncio.run(closed_loop(server.url, _generate, 2, 20))  # warm every worker
        rss_warm = _tree_rss(server)
        first_bytes = first_and_last_byte(server.url, streams) if streams else None
        speech = speech_rows(server.url, streams) if streams else None
        rows = {}
        for concurrency in concurrencies:
            if load == "wrk":
                rows[f"generate_c{concurrency}"] = wrk.generate_load(
                    server.url, concurrency, seconds
                )
                continue
            count = max(requests, 4 * concurrency)
            samples, wall = asyncio.run(closed_loop(server.url, _generate, concurrency, count))
            rows[f"generate_c{concurrency}"] = summarise(samples, wall)
        samples, wall = asyncio.run(closed_loop(server.url, _reconstruct, 1, max(requests // 2, 4)))
        rows["reconstruct_1s_c1"] = summarise(samples, wall)
        rss_after = _tree_rss(server)
    finally:
        server.stop()
    return {
        "workers": started,
        "serve_default": not workers,
        "first_and_last_byte": first_bytes,
        "openai_speech": speech,
        "load_generator": load,
        "cold_start_s": round(cold_start, 2),
        "rss_mb_per_worker_warm": rss_warm,
        "rss_mb_per_worker_after_load": rss_after,
        "runs": rows,
    }


def _tree_rss(server: Server) -> float:
    """Largest resident memory among the server's processes (the workers, if any)."""
    from benchmarks.server import rss_mb

    pids = [server.process.pid]
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return round(max(rss_mb(p) for p in pids), 1)


def run(
    bundle: Path = REPO / "models" / "default",
    concurrencies: list[int] | None = None,
    requests: int = 200,
    repeats: int = 20,
    workers: list[int] | None = None,
    out: Path | None = None,
    load: str = "auto",
    seconds: float = 10.0,
) -> dict:
    concurrencies = concurrencies or [1, 4, 16, 64]
    workers = workers or [0]
    first = max(1, min(repeats, 5))  # requests per first-byte figure
    if load == "auto":
        load = "wrk" if wrk.available() else "httpx"
    env = {"AUDIOVAE_MAX_CONCURRENCY": "4", "AUDIOVAE_MAX_QUEUE": "32"}
    defaults = Settings()
    result = {
        "machine": machine(),
        "bundle": str(bundle),
        "seed_stack": seed_stack(bundle, repeats),
        "in_process": in_process(bundle, repeats, defaults.gl_iters, defaults.sharpen),
        "encode": encode_costs(bundle, repeats),
        "http": [
            over_http(bundle, concurrencies, requests, env, w, load, seconds, 0 if i else first)
            for i, w in enumerate(workers)
        ],
    }
    ours = result["in_process"]
    same = ours.get(f"digit_gl{SEED_GL_ITERS}", ours["digit"])["total_ms"]
    seed_ms = result["seed_stack"].get("digit_ms")
    result["speedup_vs_seed_stack"] = round(seed_ms / same, 1) if seed_ms else None
    result["speedup_at_service_default"] = (
        round(seed_ms / ours["digit"]["total_ms"], 1) if seed_ms else None
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    return result
