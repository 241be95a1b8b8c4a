"""Data sets on disk -> cached feature arrays -> the study's filter and splits.

Two layouts are understood:
- FSDD:       ROOT/recordings/{digit}_{speaker}_{take}.wav
- AudioMNIST: ROOT/data/{NN}/{digit}_{NN}_{take}.wav (+ ROOT/data/audioMNIST_meta.txt);
              ROOT may also be the `data` folder itself.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from sklearn.model_selection import train_test_split

from app.audio.contract import Contract, load_waveform, waveform_to_features
from app.audio.pitch import track
from training.data.augment import AugmentConfig, augment

log = logging.getLogger(__name__)

LAYOUTS = ("fsdd", "audiomnist")
CACHE_VERSION = 4  # 2: pitch and voicing per frame; 3, 4: YIN low-passes first
_NAME = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)\.wav$")


@dataclass(frozen=True)
class Clip:
    path: Path
    digit: int
    speaker: str
    take: int


def list_clips(root: str | Path, layout: str) -> list[Clip]:
    """Every clip of a data set, sorted by path so runs are reproducible."""
    root = Path(root)
    if layout == "fsdd":
        folder = root / "recordings" if (root / "recordings").is_dir() else root
        paths = folder.glob("*.wav")
    elif layout == "audiomnist":
        folder = root / "data" if (root / "data").is_dir() else root
        paths = folder.glob("[0-9][0-9]/*.wav")
    else:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    clips = []
    for path in sorted(paths):
        match = _NAME.match(path.name)
        if match:
            digit, speaker, take = match.groups()
            clips.append(Clip(path, int(digit), speaker, int(take)))
    if not clips:
        raise FileNotFoundError(f"no {layout} clips found under {root}")
    return clips


@dataclass
class Dataset:
    """Features of every clip, aligned arrays (index i is one clip)."""

    images: np.ndarray  # float32 [N, bins, frames] in [0, 1]
    db_min: np.ndarray  # float32 [N]
    db_max: np.ndarray  # float32 [N]
    lengths: np.ndarray  # int64 [N], samples at the contract's rate before trim/pad
    digits: np.ndarray  # int64 [N]
    speakers: np.ndarray  # str [N]
    takes: np.ndarray  # int64 [N]
    f0: np.ndarray  # float32 [N, frames]: YIN pitch per frame (app/audio/pitch.py), 0 unvoiced
    voiced: np.ndarray  # bool [N, frames]

    def __len__(self) -> int:
        return len(self.digits)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(**{k: v[index] for k, v in vars(self).items()})

    @staticmethod
    def concat(parts: list[Dataset]) -> Dataset:
        return Dataset(**{k: np.concatenate([vars(p)[k] for p in parts]) for k in vars(parts[0])})


def data_band_hz(clips: list[Clip], contract: Contract) -> float | None:
    """Half the lowest native sample rate of the clips (their bandwidth) when it is below the
    contract's Nyquist frequency, else None: FSDD's 8 kHz recordings give 4,000 Hz."""
    lowest = min(sf.info(str(c.path)).samplerate for c in clips)
    return lowest / 2 if lowest < contract.sample_rate else None


def _features_of(waveform: np.ndarray, contract: Contract) -> tuple:
    features = waveform_to_features(waveform, contract)
    pitch = track(waveform, contract)
    return (features.image, features.db_min, features.db_max, len(waveform), pitch.f0,
            pitch.voiced)  # fmt: skip


def _featurise(path: Path, contract: Contract) -> tuple:
    return _features_of(load_waveform(path, contract), contract)


def _dataset(clips: list[Clip], results: list[tuple]) -> Dataset:
    """Aligned arrays from per-clip feature tuples (clips[i] made results[i])."""
    return Dataset(
        images=np.stack([r[0] for r in results]),
        db_min=np.array([r[1] for r in results], dtype=np.float32),
        db_max=np.array([r[2] for r in results], dtype=np.float32),
        lengths=np.array([r[3] for r in results], dtype=np.int64),
        digits=np.array([c.digit for c in clips], dtype=np.int64),
        speakers=np.array([c.speaker for c in clips]),
        takes=np.array([c.take for c in clips], dtype=np.int64),
        f0=np.stack([r[4] for r in results]),
        voiced=np.stack([r[5] for r in results]),
    )


def _listing_key(clips: list[Clip]) -> str:
    listing = "\n".join(f"{c.path.name}:{c.path.stat().st_size}" for c in clips)
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def _cache_path(clips: list[Clip], contract: Contract, cache_dir: Path) -> Path:
    """Keyed by the contract's hash and the exact file list (names and sizes)."""
    return cache_dir / contract.digest() / f"{_listing_key(clips)}-{CACHE_VERSION}.npz"


def load_dataset(
    root: str | Path,
    layout: str,
    contract: Contract,
    cache_dir: str | Path = ".cache/features",
    workers: int = 2,
) -> Dataset:
    """Featurise a data set once; later calls read the cached arrays."""
    clips = list_clips(root, layout)

    def make() -> Dataset:
        log.info("featurising %d clips from %s", len(clips), root)
        paths = [c.path for c in clips]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_featurise, paths, [contract] * len(paths), chunksize=32))
        return _dataset(clips, results)

    return _cached(_cache_path(clips, contract, Path(cache_dir)), make)


def _cached(cache: Path, make: Callable[[], Dataset]) -> Dataset:
    """The arrays saved at `cache` (no pickles), else `make()`'s, saved there."""
    if cache.exists():
        log.info("features from cache %s", cache)
        with np.load(cache, allow_pickle=False) as saved:
            return Dataset(**{k: saved[k] for k in saved.files})
    dataset = make()
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **vars(dataset))
    return dataset


def _featurise_augmented(
    path: Path, contract: Contract, config: AugmentConfig, copies: int, seed: int
) -> list[tuple]:
    """`copies` augmented copies of one clip. The generator is seeded by the clip's name,
    so a clip's copies do not depend on which other clips are in the list, or on workers."""
    waveform = load_waveform(path, contract)
    rng = np.random.default_rng([seed, zlib.crc32(path.name.encode())])
    return [
        _features_of(augment(waveform, rng, config, contract.sample_rate), contract)
        for _ in range(copies)
    ]


def load_augmented(
    clips: list[Clip],
    contract: Contract,
    config: AugmentConfig,
    copies: int,
    seed: int,
    cache_dir: str | Path = ".cache/features",
    workers: int = 2,
) -> Dataset:
    """Features of `copies` augmented copies of each clip (training augmentation, see
    training/data/augment.py), clip-major: row i * copies + k is copy k of clips[i]. Cached
    like load_dataset, keyed also by the augmentation's ranges, copies and seed."""
    name = f"aug-{_listing_key(clips)}-{config.digest()}-{copies}x{seed}-{CACHE_VERSION}.npz"

    def make() -> Dataset:
        log.info("augmenting %d clips x %d copies", len(clips), copies)
        paths = [c.path for c in clips]
        n = len(paths)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            per_clip = pool.map(
                _featurise_augmented, paths, [contract] * n, [config] * n, [copies] * n,
                [seed] * n, chunksize=16,
            )  # fmt: skip
            results = [r for copies_of_clip in per_clip for r in copies_of_clip]
        return _dataset([c for c in clips for _ in range(copies)], results)

    return _cached(Path(cache_dir) / contract.digest() / name, make)


def length_filter(lengths: np.ndarray, low_pct: float = 1.0, high_pct: float = 97.0) -> np.ndarray:
    """The study's filter: keep clips strictly longer than the low percentile of lengths
    and strictly shorter than the high one. Returns a boolean mask."""
    low, high = np.percentile(lengths, [low_pct, high_pct])
    return (lengths > low) & (lengths < high)


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def stratified_split(
    digits: np.ndarray, test_size: float = 0.1, val_size: float = 0.1, seed: int = 42
) -> Split:
    """The study's split: 10 % test stratified by digit, then 10 % of the rest validation."""
    index = np.arange(len(digits))
    rest, test = train_test_split(index, test_size=test_size, stratify=digits, random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_size, stratify=digits[rest], random_state=seed
    )
    return Split(np.sort(train), np.sort(val), np.sort(test))


def take_split(
    takes: np.ndarray,
    digits: np.ndarray,
    test_takes: int = 5,
    val_size: float = 0.1,
    seed: int = 42,
) -> Split:
    """FSDD's own split: every speaker's takes below `test_takes` for test (0-4: FSDD's test
    set), so each test speaker is one the model heard, in recordings it did not; validation
    is a digit-stratified 10 % of the other takes."""
    return hold_out(takes < test_takes, digits, val_size, seed)


def speaker_split(
    speakers: np.ndarray,
    digits: np.ndarray,
    test_speakers: list[str],
    val_size: float = 0.1,
    seed: int = 42,
) -> Split:
    """Held-out speakers for test (the honest test for a generator); validation is a
    digit-stratified 10 % of the remaining speakers' clips."""
    unknown = set(test_speakers) - set(speakers.tolist())
    if unknown:
        raise ValueError(f"test speakers not in the data: {sorted(unknown)}")
    return hold_out(np.isin(speakers, test_speakers), digits, val_size, seed)


def hold_out(test: np.ndarray, digits: np.ndarray, val_size: float, seed: int) -> Split:
    """The clips where `test` is set for test; validation a digit-stratified `val_size` of
    the others, the rest training."""
    rest = np.flatnonzero(~test)
    train, val = train_test_split(
        rest, test_size=val_size, stratify=digits[rest], random_state=seed
    )
    return Split(np.sort(train), np.sort(val), np.flatnonzero(test))
