"""Does a bundle's decoder draw pitch harmonics? (issue 14, training/models/adversarial.py)

- harmonic detail: mean absolute dB step between neighbouring STFT bins over 130-1000 Hz
  on loud frames of the decoder's un-scaled images (real FSDD speech ~2.5 dB; a smooth
  envelope ~0.9);
- the judge's accuracy on `/generate` digits (overall and the worst digit);
- pyin's voiced share of loud frames of the Griffin-Lim renditions at hop 128 (harmonics in
  the magnitudes are the only way Griffin-Lim can voice them);
- DNSMOS SIG / OVRL of source-filter renditions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.audio.contract import Contract, unscale
from app.audio.vocoder import GRIFFIN_LIM, SOURCE_FILTER
from app.synthesis.synthesizer import Synthesizer
from training.evaluation.metrics import Judge, features
from training.evaluation.naturalness import dnsmos, voicing_of

LOW_HZ, HIGH_HZ = 130.0, 1000.0
LOUD_DB = 20.0  # frames within this of the clip's loudest frame energy
TEMPERATURE, GL_ITERS, SHARPEN = 0.6, 16, 1.5


def harmonic_detail(db: np.ndarray, contract: Contract) -> float:
    """Mean |dB step| between neighbouring bins in 130-1000 Hz over loud frames of dB
    images [N, bins, frames]."""
    hz = np.arange(db.shape[1]) * contract.sample_rate / contract.n_fft
    band = (hz >= LOW_HZ) & (hz <= HIGH_HZ)
    steps = np.abs(np.diff(db[:, band], axis=1)).mean(axis=1)  # [N, frames]
    energy = 10 * np.log10(np.sum(10 ** (db / 10), axis=1) + 1e-12)  # [N, frames]
    loud = energy > energy.max(axis=1, keepdims=True) - LOUD_DB
    return float(steps[loud].mean())


class RecordingSynthesizer(Synthesizer):
    """A Synthesizer that keeps every image its decoder made, so the images measured are
    exactly those `generate` inverted."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.decoded: list[np.ndarray] = []

    def decode(
        self, z: np.ndarray, digits: list[int] | None = None, speaker: np.ndarray | None = None
    ) -> np.ndarray:
        images = super().decode(z, digits, speaker)
        self.decoded.append(images)
        return images


def db_of(synth: Synthesizer, images: np.ndarray, digits: list[int]) -> np.ndarray:
    """Decoded [0, 1] images -> dB with each digit's scaling (Synthesizer.unscale)."""
    return 20 * np.log10(np.maximum(synth.unscale(images, digits), 1e-12))


def measure_bundle(folder: Path, judge: Judge, per_digit: int = 20, mos_clips: int = 40) -> dict:
    """The four measures on `per_digit` clips of each digit, seeds 0..per_digit-1."""
    digits = [d for d in range(10) for _ in range(per_digit)]
    seeds = [k for _ in range(10) for k in range(per_digit)]
    row: dict = {}
    for vocoder, gl_hop in ((SOURCE_FILTER, None), (GRIFFIN_LIM, 128)):
        synth = RecordingSynthesizer(folder, gl_hop=gl_hop)
        waves = np.stack([
            synth.generate([d], s, TEMPERATURE, GL_ITERS, SHARPEN, vocoder)[0]
            for d, s in zip(digits, seeds, strict=True)
        ])  # fmt: skip
        images = np.concatenate(synth.decoded)
        logits, _ = judge(features(waves, synth.contract)[0])
        right = np.argmax(logits, axis=1) == np.array(digits)
        per = right.reshape(10, per_digit).mean(axis=1)
        row[vocoder] = {"judge": float(right.mean()), "worst_digit": int(per.argmin()),
                        "worst": float(per.min())}  # fmt: skip
        rate = synth.contract.sample_rate
        if vocoder == GRIFFIN_LIM:
            row[vocoder]["voiced_share"] = voicing_of(list(waves), rate)["voiced_share"]
        else:
            row["harmonic_detail_db"] = harmonic_detail(db_of(synth, images, digits),
                                                        synth.contract)  # fmt: skip
            step = max(1, len(waves) // mos_clips)
            mos = dnsmos(list(waves[::step][:mos_clips]), rate)
            row[vocoder]["dnsmos"] = None if mos is None else {
                "sig": mos["sig"], "ovrl": mos["ovrl"]}  # fmt: skip
            row["images"] = images  # for the picture
    return row


def real_detail(images: np.ndarray, db_min: np.ndarray, db_max: np.ndarray,
                contract: Contract) -> float:  # fmt: skip
    """Harmonic detail of real clips' contract images (their own dB ranges)."""
    return harmonic_detail(unscale(images, db_min[:, None, None], db_max[:, None, None]), contract)


def picture(rows: list[list[tuple[str, np.ndarray]]], contract: Contract, path: Path) -> None:
    """One row per digit: each (title, dB image [bins, frames]) below 4 kHz, then the
    spectrum of each at its loudest frame below 1.5 kHz overlaid (where harmonics show)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hz = np.arange(contract.n_bins) * contract.sample_rate / contract.n_fft
    top, low = int(np.searchsorted(hz, 4000)) + 1, hz < 1500
    width = len(rows[0]) + 1
    fig, axes = plt.subplots(len(rows), width, figsize=(3.2 * width, 2.8 * len(rows)))
    for axes_row, row in zip(axes, rows, strict=True):
        for ax, (title, db) in zip(axes_row, row, strict=False):
            frame = int(np.argmax(np.sum(10 ** (db / 10), axis=0)))
            ax.imshow(db[:top], origin="lower", aspect="auto", vmin=-80, vmax=0, cmap="magma",
                      extent=(0, db.shape[1], 0, hz[top - 1]))  # fmt: skip
            ax.axvline(frame, color="cyan", lw=0.5)
            ax.set_title(title, fontsize=9)
            axes_row[-1].plot(hz[low], db[low, frame], label=f"{title} (frame {frame})", lw=1)
        axes_row[-1].set_ylim(-80, 0)
        axes_row[-1].set_title("loudest frame, dB", fontsize=9)
        axes_row[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def compare(bundles: list[Path], data: Path, judge_folder: Path, cache_dir: Path,
            picture_path: Path | None = None, per_digit: int = 20) -> dict:  # fmt: skip
    """Measure each bundle and the first bundle's held-out speakers' real clips; write the
    picture of digits 0, 3 and 6 (seed 0): each bundle's decoding and a real clip."""
    from app.synthesis.bundle import read_meta
    from training.data.dataset import load_dataset

    meta = read_meta(bundles[0])
    contract = meta.contract_params()
    data_set = load_dataset(data, "fsdd", contract, cache_dir)
    held_out = data_set.subset(np.isin(data_set.speakers, meta.training["test_speakers"]))
    judge = Judge(judge_folder)
    rows = {"real held-out": {"harmonic_detail_db": real_detail(
        held_out.images, held_out.db_min, held_out.db_max, contract)}}  # fmt: skip
    for folder in bundles:
        rows[str(folder)] = measure_bundle(folder, judge, per_digit)
    if picture_path is not None:
        lines = []
        for digit in (0, 3, 6):
            k = int(np.flatnonzero(held_out.digits == digit)[0])
            real = unscale(held_out.images[k], held_out.db_min[k], held_out.db_max[k])
            line = [(f"{folder.name}: {digit}, seed 0", db_of(
                Synthesizer(folder), rows[str(folder)]["images"][digit * per_digit][None],
                [digit])[0]) for folder in bundles]  # fmt: skip
            lines.append([*line, (f"real held-out {digit}", real)])
        picture(lines, contract, picture_path)
    for row in rows.values():
        row.pop("images", None)
    return rows
