"""The comparison table (docs/results.md): one row per evaluated bundle, recognition and
naturalness side by side, then the inversion variants of the last bundle."""

from __future__ import annotations

from pathlib import Path

from app.synthesis.bundle import read_meta


def summary(name: str, ev: dict) -> str:
    g, r, rec = ev["generated"], ev["real"], ev["reconstruction"]
    return (
        f"{name}: generated accuracy {g['accuracy']:.3f} "
        f"(worst digit {g['min_digit_accuracy']:.3f}), "
        f"IS {g['inception_score']:.2f} (real {r['inception_score']:.2f}), "
        f"Frechet {g['frechet_mean']:.1f}, spread ratio {g['spread_ratio']:.2f}; "
        f"reconstructions {rec['accuracy']:.3f} vs originals {r['accuracy']:.3f}"
        + _second_summary(ev.get("second_opinion"))
        + _natural_summary(ev.get("naturalness"))
        + _transfer_summary(ev.get("voice_transfer"))
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _transfer_summary(transfer: dict | None) -> str:
    if not transfer:
        return ""
    made = transfer["nearest"]
    text = (
        f"; voice transfer: judge {made['accuracy']:.3f} ({made['relative_accuracy']:.2f}x), "
        f"pitch within 20 % {_share(made['pitch_within_20pct'])}"
    )
    if "speaker_id" in made:
        per = made["speaker_id"]["per_speaker"]
        text += f", speaker heard {made['speaker_id']['share']:.3f} (" + ", ".join(
            f"{name} {p['share']:.2f}" for name, p in per.items()
        ) + ")"  # fmt: skip
    if "speaker_id_vocoder_robust" in made:
        text += f" (vocoder-robust classifier {made['speaker_id_vocoder_robust']['share']:.3f})"
    return text


def _natural_summary(nat: dict | None) -> str:
    if not nat:
        return ""
    real, gen = nat["real"], nat["generated"]
    rec = nat["reconstruction"]
    text = (
        f"; voiced share generated {gen['voiced_share']:.3f} vs real {real['voiced_share']:.3f}"
        f", pitch range covered {nat['pitch_range_coverage']:.2f}"
        f", pitch spread in a number {nat['numbers']['mean']:.3f} (max {nat['numbers']['max']:.3f})"
        f", reconstructions voiced {rec['vocoder']['voiced_share']:.3f}"
        f" (original phase {rec['original_phase']['voiced_share']:.3f})"
    )
    if gen.get("dnsmos") and real.get("dnsmos"):
        g, r = gen["dnsmos"], real["dnsmos"]
        text += f", DNSMOS SIG/OVRL {g['sig']:.2f}/{g['ovrl']:.2f}"
        text += f" vs real {r['sig']:.2f}/{r['ovrl']:.2f}"
    return text


def _second_summary(second: dict | None) -> str:
    if not second:
        return ""
    return (
        f"; second opinion (MFCC + SVM): generated {second['generated']:.3f}, "
        f"reconstructions {second['reconstruction']:.3f}, real {second['real']:.3f}"
    )


def _mb(folder: Path, meta) -> float:
    return sum(f.bytes for name, f in meta.files.items() if name != "classifier.onnx") / 1e6


def _budget(training: dict) -> str:
    minutes = training.get("minutes_budget")
    return f"{training.get('epochs')} epochs" if minutes is None else f"{minutes:g} min"


def write_comparison(bundles: list[Path], out: Path) -> Path:
    """docs/results.md: one row per evaluated bundle, plus the inversion variants."""
    rows, variants, ceiling, natural, unseen = [], None, None, None, None
    for folder in bundles:
        meta = read_meta(folder)
        ev = meta.evaluation
        if not ev:
            raise SystemExit(f"{folder}: not evaluated yet (python -m training evaluate {folder})")
        g, r, rec, t = ev["generated"], ev["real"], ev["reconstruction"], meta.training
        ceiling, natural = r, ev.get("naturalness") or natural
        variants = ev.get("variants") or variants
        unseen = ev.get("unseen_voices") or unseen
        kind = meta.model.kind + (" (conditional)" if meta.model.conditional else "")
        minutes = t.get("seconds", float("nan")) / 60
        second = ev.get("second_opinion", {}).get("generated")
        second_text = _share(second)
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
            f" | {rec['inverted_lsd']:.2f} | {rec['inverted_sc']:.3f}"
            f" | {ev.get('vocoder', 'griffinlim')} | {_natural_cells(ev.get('naturalness'))} |"
        )
    lines = [
        "# Results",
        "",
        "Regenerate: `make results` (evaluates each bundle with the judge, then "
        f"`python -m training compare {' '.join(str(b) for b in bundles)}`).",
        "",
        f"Judge: `models/judge/classifier.onnx`, held-out speakers {ev['judge']['test_speakers']}; "
        "every figure is on those speakers' clips, inverted by each bundle's vocoder (column "
        f"'vocoder'; Griffin-Lim with {ev['gl_iters']} iterations where it is griffinlim) "
        f"after the post-filter ({ev.get('sharpen', 1.0):g}, app/audio/postfilter.py), "
        "generated clips through `app.synthesis.synthesizer.Synthesizer.generate` and "
        "re-featurised. Each "
        "row's training budget is a number of epochs or of minutes (`fit --minutes`: no epoch "
        "starts that would overrun it); `train min` is wall-clock on 2 cores that other jobs "
        "may have shared. Frechet distances are between judge "
        "embeddings (32-D) of generated and real held-out clips of the same digit; spread is "
        "the mean distance to the digit's centroid, generated over real (1 = as varied). The "
        "MFCC + SVM column is a second, unrelated recogniser "
        "(training/evaluation/second_opinion.py) "
        "fitted on the same training speakers.",
        "",
        "| bundle | model | latent | params | MB (VAE) | budget | best/epochs | train min "
        "| temperature "
        "| post-filter | gen. accuracy | worst digit | gen. accuracy, MFCC + SVM | IS "
        "| Frechet (mean over digits) | spread gen/real | recon. accuracy "
        "| LSD VAE (dB) | SC VAE | LSD after inversion | SC after inversion (level-aligned) "
        "| vocoder | voiced share | pitch range covered | pitch spread in a number "
        "| DNSMOS SIG | DNSMOS OVRL | recon. voiced share |",
        "|" + "---|" * 28,
        *rows,
        "",
        f"Real held-out clips (ceiling): judge accuracy {ceiling['accuracy']:.3f}, "
        f"IS {ceiling['inception_score']:.2f}; after contract + Griffin-Lim only: accuracy "
        f"{ceiling['inverted_accuracy']:.3f}, LSD {ceiling['inverted_lsd']:.2f} dB, "
        f"SC {ceiling['inverted_sc']:.3f}." + _natural_ceiling(natural),
        "",
    ]
    if variants:
        lines += _variant_lines(variants)
    if unseen:
        lines += _unseen_lines(unseen)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    return out


def _mos(block: dict | None, key: str) -> str:
    mos = (block or {}).get("dnsmos")
    return f"{mos[key]:.2f}" if mos else "n/a"


def _natural_cells(nat: dict | None) -> str:
    if not nat:
        return " | ".join(["n/a"] * 6)
    gen = nat["generated"]
    return (
        f"{gen['voiced_share']:.3f} | {nat['pitch_range_coverage']:.2f}"
        f" | {nat['numbers']['mean']:.3f} | {_mos(gen, 'sig')} | {_mos(gen, 'ovrl')}"
        f" | {nat['reconstruction']['vocoder']['voiced_share']:.3f}"
    )


def _natural_ceiling(nat: dict | None) -> str:
    if not nat:
        return ""
    real, trained = nat["real"], nat["real_training_speakers"]
    return (
        f" Real held-out clips: voiced share {real['voiced_share']:.3f}, DNSMOS SIG "
        f"{_mos(real, 'sig')}, OVRL {_mos(real, 'ovrl')}; the training speakers' clip pitch "
        f"spans {trained['median_f0_p5']:.0f}-{trained['median_f0_p95']:.0f} Hz (5th-95th "
        "percentile), which 'pitch range covered' compares the generated clips' span with."
    )


def _variant_lines(variants: dict) -> list[str]:
    lines = [
        "## From magnitudes to sound",
        "",
        "Inversions compared on the last bundle above (`evaluate --variants`): 'generated' "
        "runs the same seeds (so the same latents) through each vocoder; 'real' inverts the "
        "held-out clips' own contract magnitudes with no model at all, the ceiling of each "
        "inversion. Accuracy is the judge's; voiced share and pitch are pyin's; DNSMOS P.835 "
        "on a subset (training/evaluation/naturalness.py).",
        "",
        "| clips | inversion | accuracy | voiced share | DNSMOS SIG | DNSMOS OVRL |",
        "|---|---|---|---|---|---|",
    ]
    for group in ("generated", "real"):
        for name, row in variants[group].items():
            lines.append(
                f"| {group} | {name} | {row['accuracy']:.3f} | {row['voiced_share']:.3f}"
                f" | {_mos(row, 'sig')} | {_mos(row, 'ovrl')} |"
            )
    return [*lines, ""]


def _unseen_lines(unseen: dict) -> list[str]:
    from training.evaluation.unseen import (
        table,  # here: unseen imports the service, this module not
    )

    return [
        "## Voices no model heard",
        "",
        "The last bundle above on held-out voices (training/evaluation/unseen.py): "
        "the held-out FSDD "
        "speakers and the espeak-ng EVAL_VOICES (training/data/espeak.py, never trained on), "
        "originals against their /reconstruct renditions: the default (source-filter, digit "
        "inferred by the bundle's classifier), the upload's own phase, and the true digit "
        "given; 'digit inferred' is the bundle's classifier naming the originals' digits.",
        "",
        table(unseen),
        "",
    ]
