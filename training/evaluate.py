"""Measure a bundle with the judge, through exactly the service's code path.

    python -m training evaluate models/default [--variants]

Generation: `app.synth.Synthesizer.generate` (sampling, decoding, un-scaling, Griffin-Lim,
peak normalisation), then features recomputed from the waveform with the contract, then
the judge. Reconstruction: the held-out speakers' recordings through the service's
reconstruct chain (features, digit inferred by the bundle's classifier for a conditional
model, encoder, decoder, un-scaling, Griffin-Lim), batched. Real held-out clips give the
ceiling. Results go into bundle.json's `evaluation` and a report under reports/<bundle>/.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from scipy import linalg

from app.bundle import read_meta, write_meta
from app.config import Settings
from app.contract import (
    Contract,
    fix_length,
    griffin_lim,
    image_to_magnitude,
    load_waveform,
    magnitude_to_waveform,
    peak_normalise,
    stft,
    unscale,
    waveform_to_features,
)
from app.postfilter import sharpen as sharpen_frames
from app.synth import Synthesizer
from training.classifier import JUDGE_FILE, read_judge
from training.data import Dataset, list_clips, load_dataset
from training.second_opinion import SecondOpinion

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
    temperature: float = SERVICE_DEFAULTS["temperature"].default
    sharpen: float = SERVICE_DEFAULTS["sharpen"].default
    seed: int = 0
    variants: bool = False
    report: bool = True
    reports: Path = Path("reports")
    cache_dir: Path = Path(".cache/features")
    batch: int = 100


# ---------------------------------------------------------------- the judge


class Judge:
    """The committed classifier: logits and penultimate-layer embedding of [0, 1] images."""

    def __init__(self, folder: Path) -> None:
        self.meta = read_judge(folder)
        self.session = ort.InferenceSession(
            str(folder / JUDGE_FILE), providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
        outs = [
            self.session.run(None, {"image": images[i : i + batch]})
            for i in range(0, len(images), batch)
        ]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


# ---------------------------------------------------------------- metrics


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def inception_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))): 1 for one class or uniform guesses, 10 at best."""
    p = np.clip(probs, 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of embeddings [N, D]."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))


def spread(embeddings: np.ndarray) -> float:
    """Mean distance to the centroid: how varied a set of clips is (0 = one sound)."""
    return float(np.mean(np.linalg.norm(embeddings - embeddings.mean(axis=0), axis=1)))


def log_spectral_distance(db_ref: np.ndarray, db: np.ndarray) -> np.ndarray:
    """Per clip: mean over frames of the RMS over bins of the dB difference [..., bins, frames]."""
    return np.mean(np.sqrt(np.mean((db_ref - db) ** 2, axis=-2)), axis=-1)


def spectral_convergence(mag_ref: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Per clip: ||ref - mag||_F / ||ref||_F over [..., bins, frames]."""
    return np.linalg.norm(mag_ref - mag, axis=(-2, -1)) / np.linalg.norm(mag_ref, axis=(-2, -1))


def level_align(ref: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Scale each clip of `mag` to the Frobenius norm of `ref`'s: a waveform's features keep
    no absolute level (dB re the clip's max), so inverted clips are compared level-free."""
    norm = np.linalg.norm(mag, axis=(-2, -1), keepdims=True)
    return mag * np.linalg.norm(ref, axis=(-2, -1), keepdims=True) / np.maximum(norm, 1e-12)


def features(waveforms: np.ndarray, contract: Contract) -> tuple[np.ndarray, np.ndarray]:
    """Contract images [N, bins, frames] and dB images of waveforms (the service's features)."""
    feats = [waveform_to_features(w, contract) for w in waveforms]
    images = np.stack([f.image for f in feats])
    db = np.stack([unscale(f.image, f.db_min, f.db_max) for f in feats])
    return images, db


# ---------------------------------------------------------------- inversion variants


def invert(
    magnitude: np.ndarray,
    contract: Contract,
    n_iter: int,
    momentum: float,
    rng: np.random.Generator,
    init: str = "random",
) -> np.ndarray:
    """The service's Griffin-Lim, with a choice of initial phase ('random' or 'zero')."""
    return griffin_lim(
        magnitude, contract, contract.clip_samples, n_iter, momentum, rng,
        init="random" if init == "random" else None,
    )  # fmt: skip


def gate(magnitude: np.ndarray, floor_db: float) -> np.ndarray:
    """dB-domain gate: bins quieter than floor_db (re the clip's peak) become silence."""
    peak = magnitude.max(axis=(-2, -1), keepdims=True)
    return np.where(magnitude >= peak * 10.0 ** (floor_db / 20.0), magnitude, 0.0).astype(
        np.float32
    )


@dataclass(frozen=True)
class Inversion:
    """One way from magnitudes to a waveform: post-filter, gate, then Griffin-Lim."""

    iters: int = 32
    momentum: float = 0.99
    init: str = "random"  # or "zero" initial phase
    gate_db: float | None = None
    sharpen: float = 1.0  # app/postfilter.py; 1 = off


VARIANTS = {
    "GL 32, momentum 0.99": Inversion(),
    "GL 100, momentum 0.99": Inversion(iters=100),
    "GL 16, momentum 0.99": Inversion(iters=16),
    "GL 8, momentum 0.99": Inversion(iters=8),
    "GL 32, momentum 0 (classic)": Inversion(momentum=0.0),
    "GL 32, zero initial phase": Inversion(init="zero"),
    "GL 32 + gate at -60 dB": Inversion(gate_db=-60.0),
    "GL 32 + gate at -70 dB": Inversion(gate_db=-70.0),
    "GL 32 + post-filter 1.3": Inversion(sharpen=1.3),
    "GL 32 + post-filter 1.5": Inversion(sharpen=1.5),
    "GL 32 + post-filter 1.8": Inversion(sharpen=1.8),
    "GL 32 + post-filter 2.2": Inversion(sharpen=2.2),
    "GL 16 + post-filter 1.5": Inversion(iters=16, sharpen=1.5),
}


def measure_variants(
    magnitudes: np.ndarray, digits: np.ndarray, contract: Contract, judge: Judge, seed: int
) -> dict:
    """Each inversion of the same magnitudes: spectral convergence of the result's magnitude
    to the magnitudes before any post-processing, and the judge's accuracy on the result."""
    rows = {}
    for name, way in VARIANTS.items():
        rng = np.random.default_rng(seed)
        target = sharpen_frames(magnitudes, way.sharpen)
        if way.gate_db is not None:
            target = gate(target, way.gate_db)
        waves = np.concatenate(
            [
                invert(target[i : i + 100], contract, way.iters, way.momentum, rng, way.init)
                for i in range(0, len(target), 100)
            ]
        )
        sc = spectral_convergence(magnitudes, np.abs(stft(waves, contract)))
        images, _ = features(np.stack([peak_normalise(w) for w in waves]), contract)
        logits, _ = judge(images)
        rows[name] = {
            "spectral_convergence": float(sc.mean()),
            "accuracy": float(np.mean(logits.argmax(axis=1) == digits)),
        }
        log.info("variant %s: %s", name, rows[name])
    return rows


# ---------------------------------------------------------------- the evaluation


def held_out(config: EvalConfig, data: Dataset, speakers: list[str], contract: Contract):
    """The held-out speakers' features (from `data`) and their waveforms, clip length."""
    clips = list_clips(config.data, config.layout)
    index = np.flatnonzero(np.isin(data.speakers, speakers))
    waves = np.stack(
        [fix_length(load_waveform(clips[i].path, contract), contract.clip_samples) for i in index]
    )
    return data.subset(index), waves


def fit_second_opinion(
    data: Dataset, held_out_speakers: list[str], contract: Contract, seed: int
) -> SecondOpinion:
    """The MFCC + SVM recogniser, fitted on the judge's training speakers' real clips."""
    train = ~np.isin(data.speakers, held_out_speakers)
    db = unscale(data.images[train], data.db_min[train, None, None], data.db_max[train, None, None])
    return SecondOpinion(contract, seed=seed).fit(db, data.digits[train])


def reconstruct_batch(
    synth: Synthesizer, waves: np.ndarray, gl_iters: int, sharpen: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthesizer.reconstruct's chain, batched: (decoded images, un-scaled VAE magnitudes
    before the post-filter, waveforms). A conditional model gets the digit from the
    bundle's classifier, as the service does when the client names none."""
    contract = synth.contract
    feats = [waveform_to_features(w, contract) for w in waves]
    images = np.stack([f.image for f in feats])
    lo = np.array([f.db_min for f in feats], np.float32)[:, None, None]
    hi = np.array([f.db_max for f in feats], np.float32)[:, None, None]
    digits = None
    if synth.conditional:
        digits = list(synth.classify(images).argmax(axis=1))
    z_mean, _ = synth.encode(images, digits)
    decoded = synth.decode(z_mean, digits)
    magnitude = image_to_magnitude(decoded, lo, hi)
    result = synth.invert(magnitude, gl_iters, np.random.default_rng(seed), sharpen)
    return decoded, magnitude, np.stack([peak_normalise(w) for w in result])


def evaluate_bundle(config: EvalConfig) -> dict:
    synth = Synthesizer(config.bundle, threads=2)
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

    # Generation through the service's own code path.
    digits = np.repeat(np.arange(10), config.per_digit)
    log.info("generating %d clips", len(digits))
    waves = np.concatenate(
        [
            synth.generate(
                digits[i : i + config.batch].tolist(),
                config.seed + i,
                config.temperature,
                config.gl_iters,
                config.sharpen,
            )
            for i in range(0, len(digits), config.batch)
        ]
    )
    gen_images, gen_db = features(waves, contract)
    gen_logits, gen_emb = judge(gen_images)
    gen_pred = gen_logits.argmax(axis=1)

    # Reconstruction of the held-out speakers through the service's chain.
    log.info("reconstructing %d held-out clips", len(real_waves))
    decoded, vae_mag, rec_waves = reconstruct_batch(
        synth, real_waves, config.gl_iters, config.sharpen, config.seed
    )
    vae_db = unscale(decoded, real.db_min[:, None, None], real.db_max[:, None, None])
    rec_images, rec_db = features(rec_waves, contract)
    rec_logits, _ = judge(rec_images)
    rec_mag = 10.0 ** (rec_db / 20.0)

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
        "gl_iters": config.gl_iters,
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
    evaluation["second_opinion"] = {
        "recogniser": "MFCC summary + RBF SVM (training/second_opinion.py)",
        "real": second.accuracy(real_db, rdigits),
        "generated": second.accuracy(gen_db, digits),
        "reconstruction": second.accuracy(rec_db, rdigits),
    }
    if config.variants:
        rng = np.random.default_rng(config.seed)
        gen_mag = np.concatenate(
            [
                synth.generate_magnitudes(
                    digits[i : i + config.batch].tolist(), rng, config.temperature
                )
                for i in range(0, len(digits), config.batch)
            ]
        )
        evaluation["variants"] = {
            "generated": measure_variants(gen_mag, digits, contract, judge, config.seed),
            "real": measure_variants(real_mag, rdigits, contract, judge, config.seed),
        }
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
        )
        print(f"report: {path}")
    return evaluation


def summary(name: str, ev: dict) -> str:
    g, r, rec = ev["generated"], ev["real"], ev["reconstruction"]
    return (
        f"{name}: generated accuracy {g['accuracy']:.3f} "
        f"(worst digit {g['min_digit_accuracy']:.3f}), "
        f"IS {g['inception_score']:.2f} (real {r['inception_score']:.2f}), "
        f"Frechet {g['frechet_mean']:.1f}, spread ratio {g['spread_ratio']:.2f}; "
        f"reconstructions {rec['accuracy']:.3f} vs originals {r['accuracy']:.3f}"
        + _second_summary(ev.get("second_opinion"))
    )


def _second_summary(second: dict | None) -> str:
    if not second:
        return ""
    return (
        f"; second opinion (MFCC + SVM): generated {second['generated']:.3f}, "
        f"reconstructions {second['reconstruction']:.3f}, real {second['real']:.3f}"
    )


# ---------------------------------------------------------------- the comparison table


def _mb(folder: Path, meta) -> float:
    return sum(f.bytes for name, f in meta.files.items() if name != "classifier.onnx") / 1e6


def _budget(training: dict) -> str:
    minutes = training.get("minutes_budget")
    return f"{training.get('epochs')} epochs" if minutes is None else f"{minutes:g} min"


def write_comparison(bundles: list[Path], out: Path) -> Path:
    """docs/results.md: one row per evaluated bundle, plus the inversion variants."""
    rows, variants, ceiling = [], None, None
    for folder in bundles:
        meta = read_meta(folder)
        ev = meta.evaluation
        if not ev:
            raise SystemExit(f"{folder}: not evaluated yet (python -m training evaluate {folder})")
        g, r, rec, t = ev["generated"], ev["real"], ev["reconstruction"], meta.training
        ceiling = r
        variants = ev.get("variants") or variants
        kind = meta.model.kind + (" (conditional)" if meta.model.conditional else "")
        minutes = t.get("seconds", float("nan")) / 60
        second = ev.get("second_opinion", {}).get("generated")
        second_text = "n/a" if second is None else f"{second:.3f}"
        rows.append(
            f"| {meta.name} | {kind} | {meta.model.latent_dim}"
            f" | {meta.model.parameters / 1e6:.2f} M | {_mb(folder, meta):.1f}"
            f" | {_budget(t)} | {t.get('best_epoch')}/{t.get('epochs_run', t.get('epochs'))}"
            f" | {minutes:.1f}"
            f" | {ev.get('temperature', 1.0):g} | {ev.get('sharpen', 1.0):g}"
            f" | **{g['accuracy']:.3f}**"
            f" | {g['min_digit_accuracy']:.3f} | {second_text}"
            f" | {g['inception_score']:.2f} | {g['frechet_mean']:.1f} | {g['spread_ratio']:.2f}"
            f" | {rec['accuracy']:.3f} | {rec['vae_lsd']:.2f} | {rec['vae_sc']:.3f}"
            f" | {rec['inverted_lsd']:.2f} | {rec['inverted_sc']:.3f} |"
        )
    lines = [
        "# Results",
        "",
        "Regenerate: `make results` (evaluates each bundle with the judge, then "
        f"`python -m training compare {' '.join(str(b) for b in bundles)}`).",
        "",
        f"Judge: `models/judge/classifier.onnx`, held-out speakers {ev['judge']['test_speakers']}; "
        f"every figure is on those speakers' clips, {ev['gl_iters']} Griffin-Lim iterations "
        f"after the post-filter ({ev.get('sharpen', 1.0):g}, app/postfilter.py), "
        "generated clips through `app.synth.Synthesizer.generate` and re-featurised. Each "
        "row's training budget is a number of epochs or of minutes (`fit --minutes`: no epoch "
        "starts that would overrun it); `train min` is wall-clock on 2 cores that other jobs "
        "may have shared. Frechet distances are between judge "
        "embeddings (32-D) of generated and real held-out clips of the same digit; spread is "
        "the mean distance to the digit's centroid, generated over real (1 = as varied). The "
        "MFCC + SVM column is a second, unrelated recogniser (training/second_opinion.py) "
        "fitted on the same training speakers.",
        "",
        "| bundle | model | latent | params | MB (VAE) | budget | best/epochs | train min "
        "| temperature "
        "| post-filter | gen. accuracy | worst digit | gen. accuracy, MFCC + SVM | IS "
        "| Frechet (mean over digits) | spread gen/real | recon. accuracy "
        "| LSD VAE (dB) | SC VAE | LSD after GL | SC after GL (level-aligned) |",
        "|" + "---|" * 21,
        *rows,
        "",
        f"Real held-out clips (ceiling): judge accuracy {ceiling['accuracy']:.3f}, "
        f"IS {ceiling['inception_score']:.2f}; after contract + Griffin-Lim only: accuracy "
        f"{ceiling['inverted_accuracy']:.3f}, LSD {ceiling['inverted_lsd']:.2f} dB, "
        f"SC {ceiling['inverted_sc']:.3f}.",
        "",
    ]
    if variants:
        lines += [
            "## Better sound from the same magnitudes",
            "",
            "Inversions of the same magnitudes (last bundle above with `--variants`): SC is the "
            "spectral convergence of the result's |STFT| to the VAE's magnitudes before any "
            "post-processing (lower is closer; a post-filter moves away from them on purpose); "
            "accuracy is the judge's on the re-featurised result. 'real' inverts the held-out "
            "clips' own magnitudes: a post-processing step that does not hurt them is not "
            "merely exploiting the judge. The generated magnitudes are a second draw of 1,000 "
            "clips, so the service's row differs from the table above by sampling noise.",
            "",
            "| inversion | generated: SC | generated: accuracy | real: SC | real: accuracy |",
            "|---|---|---|---|---|",
        ]
        for name, gen in variants["generated"].items():
            real = variants["real"][name]
            lines.append(
                f"| {name} | {gen['spectral_convergence']:.3f} | {gen['accuracy']:.3f} "
                f"| {real['spectral_convergence']:.3f} | {real['accuracy']:.3f} |"
            )
        lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    return out
