"""The real clips every figure is measured against: a data set's recordings by index, the
held-out speakers' clips, the training speakers' voicing, and the MFCC + SVM second opinion
fitted on the judge's training speakers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.audio.contract import Contract, fix_length, load_waveform, unscale
from training.data.dataset import Dataset, list_clips
from training.evaluation.naturalness import voicing_of
from training.evaluation.second_opinion import SecondOpinion
from training.evaluation.variants import evenly


def recordings(root: Path, layout: str, index: np.ndarray, contract: Contract) -> list[np.ndarray]:
    """Clips `index` of the data set as recorded (at the contract's rate, any length)."""
    clips = list_clips(root, layout)
    return [load_waveform(clips[i].path, contract) for i in index]


def waveforms(root: Path, layout: str, index: np.ndarray, contract: Contract) -> np.ndarray:
    """Clips `index` of the data set as the contract's clip-length waveforms."""
    return np.stack([fix_length(y, contract.clip_samples)
                     for y in recordings(root, layout, index, contract)])  # fmt: skip


def held_out(
    root: Path, layout: str, data: Dataset, speakers: list[str], contract: Contract
) -> tuple[Dataset, np.ndarray]:
    """The held-out speakers' features (from `data`) and their waveforms, clip length."""
    index = np.flatnonzero(np.isin(data.speakers, speakers))
    return data.subset(index), waveforms(root, layout, index, contract)


def training_speakers_voicing(
    root: Path, layout: str, data: Dataset, held: list[str], contract: Contract, clips: int
) -> dict:
    """Voicing and clip pitch of `clips` of the other (training) speakers' real clips."""
    index = np.flatnonzero(~np.isin(data.speakers, held))
    index = index[evenly(len(index), clips)]
    return voicing_of(recordings(root, layout, index, contract), contract.sample_rate)


def fit_second_opinion(
    data: Dataset, held_out_speakers: list[str], contract: Contract, seed: int
) -> SecondOpinion:
    """The MFCC + SVM recogniser, fitted on the judge's training speakers' real clips."""
    train = ~np.isin(data.speakers, held_out_speakers)
    db = unscale(data.images[train], data.db_min[train, None, None], data.db_max[train, None, None])
    return SecondOpinion(contract, seed=seed).fit(db, data.digits[train])
