"""What a model trains on beyond its data set's training split: extra data sets and
augmented copies (training/data/augment.py). Validation and test stay the data's real clips;
`fit` (the VAE) and `classifier` (the digit classifier) widen their training sets alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.audio.contract import Contract
from training.data.augment import AugmentConfig
from training.data.dataset import (
    Clip,
    Dataset,
    length_filter,
    list_clips,
    load_augmented,
    load_dataset,
)


@dataclass(frozen=True)
class Widening:
    """Extra data sets as (root, layout), and augmented copies of every training clip."""

    extra_data: tuple[tuple[Path, str], ...] = ()
    augment: int = 0
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 42


def added_training(
    train_clips: list[Clip],
    known: set[str],
    widening: Widening,
    contract: Contract,
    cache_dir: Path,
    held_out: tuple[str, ...],
    length_filter_on: bool = True,
) -> tuple[Dataset | None, dict]:
    """Training-only clips beyond the data's training split: each extra data set's clips
    (length-filtered on their own; minus held-out speakers and any recording of the main
    data by file name, so nothing of val or test comes back in), then `widening.augment`
    augmented copies of the training and extra clips. Returns them and their facts."""
    parts, facts, to_augment = [], {"extra_data": [], "augment": None}, list(train_clips)
    for root, layout in widening.extra_data:
        # speechcommands: trimmed, its own held-out speakers never included (augmented copies
        # of its clips, below, are made from the untrimmed files)
        if layout == "speechcommands":
            from training.data.speech_commands import load_trimmed, split_clips

            clips = split_clips(list_clips(root, "fsdd"), root, "train")
            extra = load_trimmed(root, contract, "train", cache_dir, filter_lengths=False)
        else:
            clips = list_clips(root, layout)
            extra = load_dataset(root, layout, contract, cache_dir)
        keep = length_filter(extra.lengths) if length_filter_on else np.ones(len(clips), bool)
        keep &= ~np.isin(extra.speakers, list(held_out))
        keep &= np.array([c.path.name not in known for c in clips])
        parts.append(extra.subset(keep))
        to_augment += [clips[i] for i in np.flatnonzero(keep)]
        facts["extra_data"].append(
            {"path": str(root), "layout": layout, "clips": int(keep.sum()), "found": len(clips)}
        )
    if widening.augment > 0:
        augmented = load_augmented(
            to_augment, contract, widening.augment_config, widening.augment, widening.seed,
            cache_dir,
        )  # fmt: skip
        parts.append(augmented)
        facts["augment"] = {
            "copies": widening.augment,
            "clips": len(augmented),
            "seed": widening.seed,
            "ranges": widening.augment_config.to_dict(),
        }
    return (Dataset.concat(parts) if parts else None), facts
