"""Measure a bundle through exactly the service's code path.

    python -m training evaluate models/default [--variants]

Generation: `app.synthesis.synthesizer.Synthesizer.generate` (a voice per clip, sampling, decoding,
un-scaling, the vocoder, peak normalisation), then features recomputed from the waveform
with the contract, then the judge. Reconstruction: the held-out speakers' recordings
through `Synthesizer.reconstruct` (digit inferred by the bundle's classifier for a
conditional model). Real held-out clips give the ceiling. Beside recognition (the judge,
training/evaluation/metrics.py, and an unrelated MFCC + SVM recogniser), naturalness: voicing, pitch
and DNSMOS (training/evaluation/naturalness.py); `--variants` adds other inversions
(training/evaluation/variants.py). Voices no model heard
(training/evaluation/unseen.py): the held-out speakers
and the espeak-ng EVAL_VOICES, originals against /reconstruct renditions, and the bundle's
digit inference on them. Results go into bundle.json's `evaluation` and a report under
reports/<bundle>/; `compare` makes the table (training/evaluation/comparison.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.audio.contract import image_to_magnitude, magnitude_to_waveform, peak_normalise, unscale
from app.core.config import Settings
from app.synthesis.bundle import write_meta
from app.synthesis.synthesizer import Synthesizer
from training.data.dataset import Dataset, load_dataset
from training.evaluation import independent
from training.evaluation.comparison import summary
from training.evaluation.metrics import (
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
from training.evaluation.naturalness import naturalness, pitch_spread, range_coverage
from training.evaluation.reconstruction import (
    ReconstructAt,
    measure_reconstruction,
    reconstructions,
)
from training.evaluation.references import (
    fit_second_opinion,
    held_out,
    recordings,
    training_speakers_voicing,
)
from training.evaluation.speakers import HELD_OUT_TAKES
from training.evaluation.transfer import WAYS, measure_transfer
from training.evaluation.unseen import VoiceSet, espeak_sets, measure_unseen
from training.evaluation.variants import evenly, measure_variants

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
    # The service's defaults (app/core/config.py), so figures describe what /generate returns.
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
    # Voices no model heard (training/evaluation/unseen.py): theo and the espeak-ng
    # EVAL_VOICES, made
    # here when espeak-ng is installed; None = theo only.
    espeak: Path | None = Path(".cache/espeak")
    # Voice transfer (training/evaluation/transfer.py): each FSDD speaker's takes below this are the
    # references; 0 = not measured.
    transfer_takes: int = HELD_OUT_TAKES
    # Independent instruments (the eval extra; training/evaluation/independent.py) on theo
    # and this many-speaker set's held-out speakers (None: theo only).
    independent: bool = True
    many: Path | None = Path("../shared/data/speech-commands-digits")


# ---------------------------------------------------------------- the evaluation


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


def real_waves_set(real: Dataset, waves: np.ndarray) -> VoiceSet:
    """The held-out speakers' clips as a VoiceSet for training/evaluation/unseen.py."""
    return VoiceSet(waves=waves, digits=real.digits, speakers=real.speakers)


def evaluate_bundle(config: EvalConfig) -> dict:
    synth = Synthesizer(config.bundle, threads=2, gl_hop=config.gl_hop)
    meta, contract = synth.meta, synth.contract
    judge = Judge(config.judge)
    speakers = judge.meta["test_speakers"]
    kept_out = meta.training.get("test_speakers") or []
    unseen = bool(speakers) and set(speakers) <= set(kept_out)  # held out by name
    if not unseen:
        log.warning(
            "%s may have trained on %s: held-out figures are optimistic", meta.name, speakers
        )
    data = load_dataset(config.data, config.layout, contract, config.cache_dir)
    real, real_waves = held_out(config.data, config.layout, data, speakers, contract)
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

    # Reconstruction of the held-out speakers through the service's /reconstruct, and
    # naturalness (voicing, pitch and MOS) on subsets spread evenly over the digits.
    log.info("reconstructing %d held-out clips; naturalness: pyin and DNSMOS", len(real_waves))
    sr, few = contract.sample_rate, evenly(len(real_waves), config.voiced_clips)
    at = ReconstructAt(config.seed, config.gl_iters, config.sharpen)
    # Made once: measured here and, below, as the renditions of a voice no model heard.
    rec_waves = reconstructions(synth, real_waves, "vocoder", at)
    reconstruction, rec_nat, rec_db = measure_reconstruction(
        synth, judge, real, real_waves, rec_waves, at, few, config.mos_clips // 2
    )
    # Real clips as recorded, not cut to the contract's 0.8 s: the fair reference.
    held_index = np.flatnonzero(np.isin(data.speakers, speakers))[few]
    real_nat = naturalness(
        recordings(config.data, config.layout, held_index, contract), sr, config.mos_clips
    )
    gen_nat = naturalness(list(waves[evenly(len(waves), config.voiced_clips)]), sr,
                          config.mos_clips)  # fmt: skip
    trained_nat = training_speakers_voicing(
        config.data, config.layout, data, speakers, contract, config.voiced_clips
    )

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
        "reconstruction": reconstruction,
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
        "recogniser": "MFCC summary + RBF SVM (training/evaluation/second_opinion.py)",
        "real": second.accuracy(real_db, rdigits),
        "generated": second.accuracy(gen_db, digits),
        "reconstruction": second.accuracy(rec_db, rdigits),
    }
    log.info("voices no model heard: theo%s", " and espeak-ng" if config.espeak else "")
    held_name = "+".join(speakers)
    unseen_sets = {held_name: real_waves_set(real, real_waves)}
    if config.espeak is not None:
        unseen_sets.update(espeak_sets(config.espeak, contract))
    # The same settings as `at`, so the held-out speakers' default renditions are rec_waves.
    evaluation["unseen_voices"] = measure_unseen(
        synth, judge, unseen_sets, second, config.sharpen, config.gl_iters, config.seed,
        made={held_name: {"vocoder": rec_waves}},
    )  # fmt: skip
    if config.layout == "fsdd" and config.transfer_takes:  # speaker id needs FSDD's takes
        log.info(
            "voice transfer: each speaker's takes 0-%d as references", config.transfer_takes - 1
        )
        evaluation["voice_transfer"] = measure_transfer(
            synth, judge, config.data, sorted(set(data.speakers.tolist())),
            config.transfer_takes, {"nearest": WAYS["nearest"]}, seed=config.seed,
            dataset=data,
        )  # fmt: skip
    if config.independent and config.layout == "fsdd" and independent.available():
        log.info("independent instruments: pocketsphinx and Resemblyzer")
        evaluation["independent"] = independent.measure_independent(
            synth, config.data, config.many, config.seed
        )
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
        from training.evaluation.report import write_report

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
