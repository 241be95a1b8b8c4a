"""The many-speaker digit set (Speech Commands digits, ../shared/data/speech-commands-digits).

FSDD's layout (`recordings/{digit}_{speaker}_{take}.wav`), 16 kHz, and most clips padded to
1 s with the recording's own background. Untrimmed, the study's length filter keeps 166 of
2,023 clips (the padding makes them all about 1 s long); trimmed at 30 dB below the peak
first (as uploads are before /reconstruct), it keeps about 1,580. So this loader trims
every clip before the contract's length normalisation, and honours the set's `split.json`
(28 held-out speakers that no model may train on).

    data = load_trimmed(root, contract, split="train")   # a training.data.dataset.Dataset
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import librosa
import numpy as np

from app.audio.contract import Contract, load_waveform
from training.data.dataset import (
    CACHE_VERSION,
    Clip,
    Dataset,
    _cached,
    _dataset,
    _features_of,
    _listing_key,
    length_filter,
    list_clips,
)

log = logging.getLogger(__name__)

LAYOUT = "speechcommands"  # FSDD's file layout, trimmed; split.json names held-out speakers
TRIM_DB = 30.0
SPLITS = ("train", "test", "all")


def trim(waveform: np.ndarray, top_db: float = TRIM_DB) -> np.ndarray:
    """The waveform without its leading and trailing stretches quieter than `top_db` below
    its peak (librosa.effects.trim); a clip with nothing above that is returned whole."""
    if waveform.size == 0 or not np.any(waveform):
        return waveform
    trimmed, _ = librosa.effects.trim(waveform, top_db=top_db)
    return trimmed if trimmed.size else waveform


def _featurise_trimmed(path: Path, contract: Contract, top_db: float) -> tuple:
    return _features_of(trim(load_waveform(path, contract), top_db), contract)


def held_out_speakers(root: str | Path) -> list[str]:
    """The speakers `split.json` keeps for testing (none when the file is missing)."""
    path = Path(root) / "split.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["test"])


def split_clips(clips: list[Clip], root: str | Path, split: str) -> list[Clip]:
    """The clips of one side of split.json: 'train' (never a held-out speaker), 'test'
    (only those), or 'all'."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    test = set(held_out_speakers(root))
    if split == "all":
        return clips
    return [c for c in clips if (c.speaker in test) == (split == "test")]


def load_trimmed(
    root: str | Path,
    contract: Contract,
    split: str = "train",
    cache_dir: str | Path = ".cache/features",
    top_db: float = TRIM_DB,
    filter_lengths: bool = True,
    workers: int = 2,
) -> Dataset:
    """Features of one split of the set, each clip trimmed at `top_db` first; then the
    study's length filter (on the trimmed lengths) unless `filter_lengths` is off.
    Cached by the contract, the file list and the trim level."""
    clips = split_clips(list_clips(root, "fsdd"), root, split)
    if not clips:
        raise FileNotFoundError(f"no clips of split {split!r} under {root}")
    name = f"trim{top_db:g}-{_listing_key(clips)}-{CACHE_VERSION}.npz"

    def make() -> Dataset:
        log.info("featurising %d trimmed clips from %s", len(clips), root)
        paths = [c.path for c in clips]
        n = len(paths)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(
                pool.map(_featurise_trimmed, paths, [contract] * n, [top_db] * n, chunksize=32)
            )
        return _dataset(clips, results)

    data = _cached(Path(cache_dir) / contract.digest() / name, make)
    if filter_lengths:
        data = data.subset(length_filter(data.lengths))
    return data
