"""Measure a bundle through exactly the service's code path.

    python -m training evaluate models/default [--variants]

Generation: `app.synth.Synthesizer.generate` (a voice per clip, sampling, decoding,
un-scaling, the vocoder, peak normalisation), then features recomputed from the waveform
with the contract, then the judge. Reconstruction: the held-out speakers' recordings
through `Synthesizer.reconstruct` (digit inferred by the bundle's classifier for a
conditional model). Real held-out clips give the ceiling. Beside recognition (the judge,
training/metrics.py, and an unrelated MFCC + SVM recogniser), naturalness: voicing, pitch
and DNSMOS (training/naturalness.py); `--variants` adds other inversions
(training/variants.py). Results go into bundle.json's `evaluation` and a report under
reports/<bundle>/; `compare` makes the table (training/comparison.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.bundle import write_meta
from app.config import Settings
from app.contract import (
    Contract,
    fix_length,
    image_to_magnitude,
    load_waveform,
    magnitude_to_waveform,
    peak_normalise,
    unscale,
)
from app.synth import GRIFFIN_LIM, Synthesizer
from training.comparison import summary
from training.data import Dataset, list_clips, load_dataset
from training.metrics import (
    Judge,
    features,
    frechet_distance,
    inception_score,
    level_align,
    log_spectral_distance,
    softmax,
    spectral_convergence,
    spread,
)
from training.naturalness import naturalness, pitch_spread, range_coverage, voicing_of
from training.second_opinion import SecondOpinion
from training.variants import evenly, measure_variants

log = logging.getLogger(__name__)

DIGITS = range(10)
SERVICE_DEFAULTS = Settings.model_fields


@dataclass
class EvalConfig:
    bundle: Path
    data: Path = Path("../shared/data/fsdd")
    layout: str = "fsdd"
    judge: Path = Path("models/judge")
    per_digit: int = 100
    # The service's defaults (app/config.py), so figures describe what /generate returns.
    gl_iters: int = SERVICE_DEFAULTS["gl_iters"].default
    gl_hop: int | None = SERVICE_DEFAULTS["gl_hop"].default
    temperature: float = SERVICE_DEFAULTS["temperature"].default
    sharpen: float = SERVICE_DEFAULTS["sharpen"].default
    seed: int = 0
    variants: bool = False
    report: bool = True
    reports: Path = Path("reports")
    cache_dir: Path = Path(".cache/features")
    batch: int = 100
    # Naturalness is slower to measure (pyin ~0.1 s, DNSMOS ~1.5 s a clip): on subsets.
    voiced_clips: int = 200
    mos_clips: int = 50
    numbers: int = 10  # 10-digit numbers read out for the pitch spread across digits
    variant_clips: int = 200  # generated and real clips per inversion variant


# ---------------------------------------------------------------- the evaluation


def recordings(config: EvalConfig, index: np.ndarray, contract: Contract) -> list[np.ndarray]:
    """Clips `index` of the data set as recorded (at the contract's rate, any length)."""
    clips = list_clips(config.data, config.layout)
    return [load_waveform(clips[i].path, contract) for i in index]


def waveforms(config: EvalConfig, index: np.ndarray, contract: Contract) -> np.ndarray:
    """Clips `index` of the data set as the contract's clip-length waveforms."""
    return np.stack([fix_length(y, contract.clip_samples)
                     for y in recordings(config, index, contract)])  # fmt: skip


def held_out(config: EvalConfig, data: Dataset, speakers: list[str], contract: Contract):
    """The held-out speakers' features (from `data`) and their waveforms, clip length."""
    index = np.flatnonzero(np.isin(data.speakers, speakers))
    return data.subset(index), waveforms(config, index, contract)


def training_speakers_voicing(
    config: EvalConfig, data: Dataset, held: list[str], contract: Contract
) -> dict:
    """Voicing and clip pitch of the other (training) speakers' real clips, spread evenly."""
    index = np.flatnonzero(~np.isin(data.speakers, held))
    index = index[evenly(len(index), config.voiced_clips)]
    return voicing_of(recordings(config, index, contract), contract.sample_rate)


def fit_second_opinion(
    data: Dataset, held_out_speakers: list[str], contract: Contract, seed: int
) -> SecondOpinion:
    """The MFCC + SVM recogniser, fitted on the judge's training speakers' real clips."""
    train = ~np.isin(data.speakers, held_out_speakers)
    db = unscale(data.images[train], data.db_min[train, None, None], data.db_max[train, None, None])
    return SecondOpinion(contract, seed=seed).fit(db, data.digits[train])


def vae_renditions(synth: Synthesizer, real: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The model's decodings of real clips' images, batched, before any inversion: (decoded
    images, un-scaled magnitudes). A conditional model gets the digit from the bundle's
    classifier, as the service does when the client names none."""
    digits = list(synth.classify(real.images).argmax(axis=1)) if synth.conditional else None
    z_mean, _ = synth.encode(real.images, digits)
    decoded = synth.decode(z_mean, digits)
    lo, hi = real.db_min[:, None, None], real.db_max[:, None, None]
    return decoded, image_to_magnitude(decoded, lo, hi)


def reconstructions(
    synth: Synthesizer, waves: np.ndarray, phase: str, config: EvalConfig
) -> np.ndarray:
    """Each clip through `Synthesizer.reconstruct`, the service's /reconstruct."""
    return np.stack(
        [synth.reconstruct(w, phase, config.seed, config.gl_iters, None, config.sharpen)
         for w in waves]
    )  # fmt: skip


def numbers_pitch_spread(synth: Synthesizer, config: EvalConfig) -> dict:
    """std/mean of the per-digit median pitch of `config.numbers` random 10-digit numbers,
    each read as /generate?digits= reads it (one seed, one voice)."""
    rng = np.random.default_rng(config.seed)
    spreads = []
    for n in range(config.numbers):
        digits = rng.integers(0, 10, 10).tolist()
        clips = synth.generate(digits, config.seed + n, config.temperature, config.gl_iters,
                               config.sharpen)  # fmt: skip
        spreads.append(pitch_spread(list(clips), synth.contract.sample_rate))
    return {"numbers": config.numbers, "mean": float(np.nanmean(spreads)),
            "max": float(np.nanmax(spreads)), "values": spreads}  # fmt: skip


def evaluate_bundle(config: EvalConfig) -> dict:
    synth = Synthesizer(config.bundle, threads=2, gl_hop=config.gl_hop)
    meta, contract = synth.meta, synth.contract
    judge = Judge(config.judge)
    speakers = judge.meta["test_speakers"]
    trained_on = meta.training.get("test_speakers") or []
    unseen = meta.training.get("split") == "speaker" and set(speakers) <= set(trained_on)
    if not unseen:
        log.warning(
            "%s may have trained on %s: held-out figures are optimistic", meta.name, speakers
        )
    data = load_dataset(config.data, config.layout, contract, config.cache_dir)
    real, real_waves = held_out(config, data, speakers, contract)
    rdigits = real.digits
    real_mag = image_to_magnitude(
        real.images, real.db_min[:, None, None], real.db_max[:, None, None]
    )
    real_db = unscale(real.images, real.db_min[:, None, None], real.db_max[:, None, None])

    # Ceiling: real held-out clips as recorded, and through the contract + Griffin-Lim only.
    real_logits, real_emb = judge(real.images)
    rng = np.random.default_rng(config.seed)
    inverted = magnitude_to_waveform(real_mag, contract, None, config.gl_iters, rng)
    inv_images, inv_db = features(np.stack([peak_normalise(w) for w in inverted]), contract)
    inv_logits, _ = judge(inv_images)
    inv_mag = 10.0 ** (inv_db / 20.0)

    # Generation through the service's own code path: one seed, so one voice, per clip.
    digits = np.repeat(np.arange(10), config.per_digit)
    log.info("generating %d clips", len(digits))
    waves = np.concatenate(
        [
            synth.generate(
                [int(d)], config.seed + i, config.temperature, config.gl_iters, config.sharpen
            )  # fmt: skip
            for i, d in enumerate(digits)
        ]
    )
    gen_images, gen_db = features(waves, contract)
    gen_logits, gen_emb = judge(gen_images)
    gen_pred = gen_logits.argmax(axis=1)

    # Reconstruction of the held-out speakers through the service's /reconstruct.
    log.info("reconstructing %d held-out clips", len(real_waves))
    decoded, vae_mag = vae_renditions(synth, real)
    vae_db = unscale(decoded, real.db_min[:, None, None], real.db_max[:, None, None])
    rec_waves = reconstructions(synth, real_waves, "vocoder", config)
    rec_images, rec_db = features(rec_waves, contract)
    rec_logits, _ = judge(rec_images)
    rec_mag = 10.0 ** (rec_db / 20.0)

    # Naturalness: voicing, pitch and MOS, on subsets spread evenly over the digits.
    log.info("naturalness: pyin and DNSMOS")
    sr, few = contract.sample_rate, evenly(len(real_waves), config.voiced_clips)
    # Real clips as recorded, not cut to the contract's 0.8 s: the fair reference.
    held_index = np.flatnonzero(np.isin(data.speakers, speakers))[few]
    real_nat = naturalness(recordings(config, held_index, contract), sr, config.mos_clips)
    gen_nat = naturalness(list(waves[evenly(len(waves), config.voiced_clips)]), sr,
                          config.mos_clips)  # fmt: skip
    trained_nat = training_speakers_voicing(config, data, speakers, contract)
    rec_nat = {
        "vocoder": naturalness(list(rec_waves[few]), sr, config.mos_clips // 2),
        "original_phase": voicing_of(
            list(reconstructions(synth, real_waves[few], "original", config)), sr
        ),
        "griffinlim": voicing_of(
            list(reconstructions(synth, real_waves[few], GRIFFIN_LIM, config)), sr
        ),
    }

    # A second opinion from an unrelated recogniser (MFCC + SVM) on the same clips.
    second = fit_second_opinion(data, speakers, contract, config.seed)

    def acc(logits, truth):
        return float(np.mean(logits.argmax(axis=1) == truth))

    per_digit = {}
    for d in DIGITS:
        g, r = gen_emb[digits == d], real_emb[rdigits == d]
        per_digit[str(d)] = {
            "accuracy": float(np.mean(gen_pred[digits == d] == d)),
            "frechet": frechet_distance(g, r),
            "spread_generated": spread(g),
            "spread_real": spread(r),
        }
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (digits, gen_pred), 1)
    evaluation = {
        "judge": {"sha256": judge.meta["sha256"], "test_speakers": speakers},
        "unseen_speakers": bool(unseen),
        "vocoder": synth.vocoder_for(None),
        "gl_iters": config.gl_iters,
        "gl_hop": synth.gl_hop,
        "temperature": config.temperature,
        "sharpen": config.sharpen,
        "seed": config.seed,
        "generated": {
            "clips": int(len(digits)),
            "accuracy": float(np.mean(gen_pred == digits)),
            "min_digit_accuracy": min(v["accuracy"] for v in per_digit.values()),
            "inception_score": inception_score(softmax(gen_logits)),
            "frechet_mean": float(np.mean([v["frechet"] for v in per_digit.values()])),
            "spread_ratio": float(
                np.mean([v["spread_generated"] / v["spread_real"] for v in per_digit.values()])
            ),
            "per_digit": per_digit,
            "confusion": confusion.tolist(),
        },
        "real": {
            "clips": int(len(rdigits)),
            "accuracy": acc(real_logits, rdigits),
            "inception_score": inception_score(softmax(real_logits)),
            "inverted_accuracy": acc(inv_logits, rdigits),
            "inverted_lsd": float(log_spectral_distance(real_db, inv_db).mean()),
            "inverted_sc": float(
                spectral_convergence(real_mag, level_align(real_mag, inv_mag)).mean()
            ),
        },
        "reconstruction": {
            "accuracy": acc(rec_logits, rdigits),
            "accuracy_ratio": acc(rec_logits, rdigits) / acc(real_logits, rdigits),
            "vae_lsd": float(log_spectral_distance(real_db, vae_db).mean()),
            "vae_sc": float(spectral_convergence(real_mag, vae_mag).mean()),
            "inverted_lsd": float(log_spectral_distance(real_db, rec_db).mean()),
            "inverted_sc": float(
                spectral_convergence(real_mag, level_align(real_mag, rec_mag)).mean()
            ),
        },
    }
    evaluation["naturalness"] = {
        "real": real_nat,
        "real_training_speakers": trained_nat,
        "generated": gen_nat,
        "pitch_range_coverage": range_coverage(gen_nat, trained_nat),
        "numbers": numbers_pitch_spread(synth, config),
        "reconstruction": rec_nat,
    }
    evaluation["second_opinion"] = {
        "recogniser": "MFCC summary + RBF SVM (training/second_opinion.py)",
        "real": second.accuracy(real_db, rdigits),
        "generated": second.accuracy(gen_db, digits),
        "reconstruction": second.accuracy(rec_db, rdigits),
    }
    if config.variants:
        evaluation["variants"] = measure_variants(
            synth, judge, real, real_waves, config.temperature, config.seed,
            clips=config.variant_clips, voiced_clips=config.voiced_clips // 2,
            mos_clips=config.mos_clips // 2,
        )  # fmt: skip
    meta.evaluation = evaluation
    write_meta(config.bundle, meta)
    log.info("evaluation written to %s", config.bundle / "bundle.json")
    print(summary(meta.name, evaluation))
    if config.report:
        from training.report import write_report

        path = write_report(
            config.reports / config.bundle.name,
            meta,
            synth,
            evaluation,
            real=(real.images, rdigits),
            generated=(gen_images, digits),
            waves=(real_waves, waves),
        )
        print(f"report: {path}")
    return evaluation
