"""The evaluation report: reports/<bundle>/index.md plus PNGs (matplotlib, Agg backend).

Written by `python -m training evaluate BUNDLE`; not committed (reports/ is ignored).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from app.audio.contract import Contract  # noqa: E402
from app.audio.stft import stft  # noqa: E402
from app.synthesis.bundle import BundleMeta  # noqa: E402
from app.synthesis.synthesizer import Synthesizer  # noqa: E402

BINS = 128  # 0-5.5 kHz at 22,050 Hz: FSDD has nothing above 4 kHz


def spectrogram_grid(
    real: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray],
    path: Path,
    per_digit: int = 3,
) -> Path:
    """Rows: digits; columns: `per_digit` real held-out clips, then as many generated ones."""
    fig, axes = plt.subplots(10, 2 * per_digit, figsize=(2 * per_digit * 1.1, 10 * 0.95))
    for d in range(10):
        picks = [real[0][real[1] == d][:per_digit], generated[0][generated[1] == d][:per_digit]]
        for c, image in enumerate(np.concatenate(picks)):
            ax = axes[d, c]
            ax.imshow(image[:BINS], origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(str(d), rotation=0, labelpad=10, fontsize=11)
            if d == 0:
                ax.set_title("real" if c < per_digit else "generated", fontsize=9)
    fig.suptitle("held-out speakers' clips vs generated (0-5.5 kHz, 0.8 s)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def harmonics_figure(
    real: np.ndarray, generated: np.ndarray, sample_rate: int, path: Path, digits=(3, 5, 8)
) -> Path:
    """Real and generated waveforms side by side at a resolution that shows pitch
    harmonics (46 ms windows, 5.8 ms hop, 0-4 kHz); `real` and `generated` are [10, samples]
    clips indexed by digit. The contract's own 23 ms frames blur harmonics together."""
    fine = Contract(sample_rate=sample_rate, clip_samples=real.shape[-1], n_fft=1024,
                    hop_length=128)  # fmt: skip
    top = int(4000 / sample_rate * fine.n_fft)
    fig, axes = plt.subplots(2, len(digits), figsize=(3.2 * len(digits), 5.2), sharey=True)
    for row, (label, clips) in enumerate((("real held-out", real), ("generated", generated))):
        for col, digit in enumerate(digits):
            db = 20 * np.log10(np.maximum(np.abs(stft(clips[digit], fine))[:top], 1e-5))
            ax = axes[row, col]
            ax.imshow(db - db.max(), origin="lower", aspect="auto", cmap="magma", vmin=-70,
                      vmax=0, extent=(0, fine.clip_seconds, 0, 4))  # fmt: skip
            ax.set_title(f"{label} {digit}", fontsize=9)
            ax.set_xlabel("s", fontsize=8) if row else None
            ax.set_ylabel("kHz", fontsize=8) if col == 0 else None
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def latent_plot(synth: Synthesizer, images: np.ndarray, digits: np.ndarray, path: Path) -> Path:
    """z_mean of the held-out clips, coloured by digit; PCA to 2-D when latent > 2."""
    z, _ = synth.encode(images, digits.tolist() if synth.conditional else None)
    z = z - z.mean(axis=0)
    if z.shape[1] > 2:
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        z = z @ vt[:2].T
    elif z.shape[1] == 1:
        z = np.concatenate([z, np.zeros_like(z)], axis=1)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    scatter = ax.scatter(z[:, 0], z[:, 1], c=digits, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="digit")
    title = "latent space of held-out clips"
    title += " (PCA)" if synth.latent_dim > 2 else ""
    title += "\n(conditional: z should not encode the digit)" if synth.conditional else ""
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def curves(history: dict, path: Path) -> Path | None:
    key = "elbo" if "elbo" in history else "loss"
    if key not in history:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in (key, f"val_{key}"):
        if name in history:
            ax.plot(range(1, len(history[name]) + 1), history[name], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("per-clip loss (pixels x BCE + KL)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def confusion_plot(confusion: np.ndarray, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if confusion[i, j]:
                ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("judge's digit")
    ax.set_ylabel("asked digit")
    ax.set_title("generated clips", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(
    folder: Path,
    meta: BundleMeta,
    synth: Synthesizer,
    ev: dict,
    real: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray],
    waves: tuple[np.ndarray, np.ndarray],
) -> Path:
    """index.md and its figures; `waves` are the real and generated waveforms, aligned
    with the digits in `real` and `generated`."""
    folder.mkdir(parents=True, exist_ok=True)
    spectrogram_grid(real, generated, folder / "spectrograms.png")
    first = [
        np.stack([w[digits == d][0] for d in range(10)])
        for w, digits in ((waves[0], real[1]), (waves[1], generated[1]))
    ]
    harmonics_figure(*first, synth.contract.sample_rate, folder / "harmonics.png")
    latent_plot(synth, real[0], real[1], folder / "latent.png")
    has_curves = curves(meta.training.get("history", {}), folder / "curves.png")
    confusion_plot(np.array(ev["generated"]["confusion"]), folder / "confusion.png")
    g, r, rec = ev["generated"], ev["real"], ev["reconstruction"]
    lines = [
        f"# {meta.name}: evaluation",
        "",
        f"Model {meta.model.kind}, conditional {meta.model.conditional}, latent "
        f"{meta.model.latent_dim}, {meta.model.parameters:,} parameters. Judge held-out speakers "
        f"{ev['judge']['test_speakers']} (never heard by this model: {ev['unseen_speakers']}); "
        f"{g['clips']} generated clips, vocoder {ev.get('vocoder', 'griffinlim')}.",
        "",
        "| figure | generated | real held-out (ceiling) |",
        "|---|---|---|",
        f"| judge accuracy | {g['accuracy']:.3f} (worst digit {g['min_digit_accuracy']:.3f}) "
        f"| {r['accuracy']:.3f} (after Griffin-Lim only: {r['inverted_accuracy']:.3f}) |",
        f"| Inception Score | {g['inception_score']:.2f} | {r['inception_score']:.2f} |",
        f"| Frechet distance, mean over digits | {g['frechet_mean']:.1f} | 0 |",
        f"| within-digit spread, generated / real | {g['spread_ratio']:.2f} | 1 |",
        "",
        "| reconstruction of held-out speakers | VAE magnitudes | after Griffin-Lim |",
        "|---|---|---|",
        f"| log-spectral distance (dB) | {rec['vae_lsd']:.2f} | {rec['inverted_lsd']:.2f} "
        f"(Griffin-Lim alone: {r['inverted_lsd']:.2f}) |",
        f"| spectral convergence | {rec['vae_sc']:.3f} | {rec['inverted_sc']:.3f} "
        f"(Griffin-Lim alone: {r['inverted_sc']:.3f}) |",
        f"| judge accuracy | | {rec['accuracy']:.3f} = {rec['accuracy_ratio']:.2f} x originals |",
        "",
        "| digit | accuracy | Frechet | spread generated | spread real |",
        "|---|---|---|---|---|",
    ]
    for d, v in g["per_digit"].items():
        lines.append(
            f"| {d} | {v['accuracy']:.3f} | {v['frechet']:.1f} | {v['spread_generated']:.2f} "
            f"| {v['spread_real']:.2f} |"
        )
    lines += _naturalness_lines(ev.get("naturalness"))
    lines += ["", "![harmonics](harmonics.png)", "", "![spectrograms](spectrograms.png)", ""]
    lines += ["![confusion](confusion.png)", ""]
    lines += ["![latent](latent.png)", ""]
    if has_curves:
        lines += ["![training curves](curves.png)", ""]
    path = folder / "index.md"
    path.write_text("\n".join(lines))
    return path


def _naturalness_lines(nat: dict | None) -> list[str]:
    if not nat:
        return []
    real, gen, rec = nat["real"], nat["generated"], nat["reconstruction"]

    def mos(block: dict, key: str) -> str:
        return f"{block['dnsmos'][key]:.2f}" if block.get("dnsmos") else "n/a"

    return [
        "",
        "| naturalness | generated | real held-out |",
        "|---|---|---|",
        f"| voiced share of loud frames (pyin) | {gen['voiced_share']:.3f} "
        f"| {real['voiced_share']:.3f} |",
        f"| clip pitch 5th-95th percentile (Hz) | {gen['median_f0_p5']:.0f}-"
        f"{gen['median_f0_p95']:.0f} | training speakers "
        f"{nat['real_training_speakers']['median_f0_p5']:.0f}-"
        f"{nat['real_training_speakers']['median_f0_p95']:.0f} "
        f"(covered {nat['pitch_range_coverage']:.2f}) |",
        f"| pitch spread across a number's digits (std/mean) | {nat['numbers']['mean']:.3f} "
        f"(max {nat['numbers']['max']:.3f}) | |",
        f"| DNSMOS SIG / OVRL | {mos(gen, 'sig')} / {mos(gen, 'ovrl')} "
        f"| {mos(real, 'sig')} / {mos(real, 'ovrl')} |",
        f"| reconstructions' voiced share: vocoder / original phase / Griffin-Lim "
        f"| {rec['vocoder']['voiced_share']:.3f} / {rec['original_phase']['voiced_share']:.3f}"
        f" / {rec['griffinlim']['voiced_share']:.3f} | {real['voiced_share']:.3f} |",
    ]
